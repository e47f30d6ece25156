#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Account changes take effect on live sessions (PROTOCOL.md section 6,
# rules 1 and 8; issue 11). For each of `vpnctl user passwd`, `user
# totp-reset`, `user disable` and `user del`, a user logs in with vpnc
# and pings the office host through the tunnel (a ping still running when
# the change is made); the change ends the session: vpnc logs that the
# server ended it with exactly the REASON of rule 8 ("password changed",
# "authenticator reset", "account disabled", "account deleted") and
# removes its device. The admission is over too: the running vpnc, whose
# RESUME is now refused, is asked to log in (nothing left on its stdin:
# exit 4), and so is a restarted vpnc with the same key. vpnd is asked
# (vpnctl sessions and user devices) for the session and the admission,
# before and after.
#
# Timing: vpnd reads the store's events every 200 ms, so the session
# should end well within a second of the change. The test does not
# assert that (a loaded 2-core machine running other tests, ASan builds
# and Argon2id checks can stall any process for a while); it asserts the
# end comes within END_MAX_MS of vpnctl's return, generous enough for
# such a machine, and logs the latency it measured.
source "$(dirname "$0")/lib.sh"

END_MAX_MS=3000
# Strong enough for vpnctl's password policy.
NEW_PASSWORD='plover quartz gimbal sprocket'

# ms: milliseconds on the wall clock.
ms() { echo $(($(date +%s%N) / 1000000)); }

# wait_ended LOG REASON: polls LOG every 20 ms until vpnc says the server
# ended the session with REASON, for at most END_MAX_MS after now; sets
# ended_ms to when it saw it.
wait_ended() {
	local deadline=$(($(ms) + END_MAX_MS))
	while (($(ms) <= deadline)); do
		if grep -qF "the server ended the session: $2; " "$1"; then
			ended_ms=$(ms)
			return 0
		fi
		sleep 0.02
	done
	echo "no 'ended the session: $2' within $END_MAX_MS ms" >&2
	return 1
}

# change USER REASON VPNCTL-ARGS...: USER logs in, pings, and is ended by
# `vpnctl VPNCTL-ARGS` (stdin: a new password, for passwd).
change() {
	local user=$1 reason=$2 secret addr key ping_pid before after rc
	shift 2
	write_vpnc_conf "$user" "$user"
	secret=$(enrol "$user")
	[ ${#secret} -eq 32 ]
	start_vpnc "$user" "$PASSWORD" "$(totp "$secret")"
	wait_log "$tmp/$user.log" "connected as $user"
	addr=$(client_addr "$tmp/$user.log")
	# vpnd holds the session vpnc reports: this key, from the client's
	# address, with the address vpnc was given; the store, its admission.
	key=$(client_key "$user")
	[ "$(session_field "$user" address4 "$key")" = "$addr" ]
	[ "$(endpoint_host "$(session_field "$user" endpoint)")" = "$CLI_ADDR" ]
	[ "$(device_field "$user" "$key" admitted)" = true ]
	n_cli ping -c 2 -i 0.2 -W 2 $LAN_HOST
	q_cli ping -i 0.2 -w 20 $LAN_HOST >"$tmp/$user.ping" 2>&1 &
	ping_pid=$!
	pids+=("$ping_pid")
	wait_log "$tmp/$user.ping" "bytes from $LAN_HOST" 5

	before=$(ms)
	printf '%s\n' "$NEW_PASSWORD" | "$VPNCTL" -c "$tmp/vpnd.conf" "$@"
	after=$(ms)
	wait_ended "$tmp/$user.log" "$reason"
	echo "$user: '$reason' reached vpnc $((ended_ms - after)) ms after" \
		"vpnctl returned ($((ended_ms - before)) ms after it started)"
	# vpnd ended it before it told vpnc: the session is gone there, and
	# the store holds no admission for the key (the account itself is
	# gone after `user del`).
	no_session "$user"
	if [ "$reason" != "account deleted" ]; then
		[ "$(device_field "$user" "$key" admitted)" = false ]
	fi
	wait_for 5 no_device "$ns_cli"
	# (The ping may have ended by itself, its route gone.)
	kill "$ping_pid" 2>/dev/null || true
	wait "$ping_pid" || true

	# The admission ended with it: the running vpnc's RESUME is refused
	# and it is asked to log in, which it cannot (exit 4) ...
	rc=0
	wait_gone "$VPNC_PID" 200
	wait "$VPNC_PID" || rc=$?
	[ "$rc" -eq 4 ]
	grep -q "the server asks us to log in" "$tmp/$user.log"
	no_device "$ns_cli"
	# ... and so is a new vpnc with the same key.
	rc=0
	n_cli "$VPNC" -c "$tmp/$user.conf" </dev/null \
		>"$tmp/$user-again.log" 2>&1 || rc=$?
	cat "$tmp/$user-again.log"
	[ "$rc" -eq 4 ]
	grep -q "the server asks us to log in" "$tmp/$user-again.log"
	refute grep -q "connected as" "$tmp/$user-again.log"
	no_device "$ns_cli"
	no_session "$user"
	# Each was checked once, at its first login.
	[ "$(count_log "$tmp/vpnd.log" "login user=$user ")" -eq 1 ]
}

setup_topology
write_vpnd_conf
start_vpnd

change alice "password changed" user passwd alice
change bob "authenticator reset" user totp-reset --no-confirm bob
change carol "account disabled" user disable carol
change dave "account deleted" user del dave

stop_vpnd
echo "ok"
