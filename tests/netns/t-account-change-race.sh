#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# An account change made while a login is being checked still ends it
# (PROTOCOL.md section 6, rules 1 and 8; issue 11). A right login of a
# user is sent, and `vpnctl user passwd` or `user totp-reset` of that user
# runs at a moment spread over the check (before the request, during the
# check, about when it ends). Whatever the order turns out to be, once
# vpnctl has returned no admission may be left that the change should
# have ended: the login is refused (the change came first), or it is
# answered OK and then ended with the change's REASON; in both cases a
# RESUME from the same key is answered AUTH_REQUIRED, and vpnd (vpnctl
# sessions) and the store (vpnctl user devices) hold no admission of the
# user. The invariant holds
# for every interleaving, so the test cannot fail on a correct vpnd
# however fast the machine; the spread of moments is measured in the run
# (how long a login and a vpnctl passwd take here).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-attack.sh"

TRIES=8
# Strong enough for vpnctl's password policy.
NEW_PASSWORD='plover quartz gimbal sprocket'

setup_topology
write_vpnd_conf "lockout-failures = 100"
start_vpnd

# How long a right login takes here (request to answer), and vpnctl
# passwd (its own Argon2id hash comes before its change), in ms.
secret=$(enrol calib)
attack "$ns_cli" "$tmp/calib.log" try --step "calib:$PASSWORD:$(totp "$secret")"
login_ms=$(sed -n 's/^step 1 .* (\([0-9.]*\) s)$/\1/p' "$tmp/calib.log" |
	awk '{ printf "%d", $1 * 1000 }')
t0=$(date +%s%N)
printf '%s\n' "$NEW_PASSWORD" |
	"$VPNCTL" -c "$tmp/vpnd.conf" user passwd calib >/dev/null
passwd_ms=$((($(date +%s%N) - t0) / 1000000))
echo "a login takes $login_ms ms, vpnctl passwd $passwd_ms ms"

n=0
for kind in passwd totp-reset; do
	if [ "$kind" = passwd ]; then
		lead=$passwd_ms
		change="printf '%s\n' '$NEW_PASSWORD' | '$VPNCTL' \
-c '$tmp/vpnd.conf' user passwd"
	else
		lead=0
		change="'$VPNCTL' -c '$tmp/vpnd.conf' user totp-reset --no-confirm"
	fi
	for ((i = 0; i < TRIES; i++)); do
		n=$((n + 1))
		user=race$n
		secret=$(enrol "$user")
		# From `lead` before the request to the end of the check.
		delay_ms=$((i * (login_ms + lead) / (TRIES - 1) - lead))
		delay=$(awk -v d="$delay_ms" \
			'BEGIN { printf "%.3f", d / 1000 }')
		attack "$ns_cli" "$tmp/$user.log" race --user "$user" \
			--password "$PASSWORD" --code "$(totp "$secret")" \
			--delay "$delay" --command "$change $user >/dev/null"
		grep -q "^race: .* resume AUTH_REQUIRED$" "$tmp/$user.log"
		if grep -q "^race: .* answered OK " "$tmp/$user.log"; then
			want="password changed"
			[ "$kind" = passwd ] || want="authenticator reset"
			grep -q "disconnect '$want'" "$tmp/$user.log"
		fi
		no_session "$user"
		[ "$(admitted_devices "$user")" -eq 0 ]
	done
done

stop_vpnd
echo "ok"
