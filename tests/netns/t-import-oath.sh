#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Users moved from pam_oath / ocserv keep their authenticators:
# `vpnctl user import-oath` reads tests/data/users.oath into vpnd's store
# while vpnd runs, and codes oathtool computes from the file's hex
# secrets log in. quinn (HOTP/T60/8, a PIN) logs in at once with the PIN
# as the password and an 8-digit code of a 60 s step; olga (no PIN) is
# imported disabled and refused, then logs in once `vpnctl user passwd`
# and `user enable` gave her a password. `user show --json` tells the
# same story: enabled or not, last login, the device.
source "$(dirname "$0")/lib.sh"

OATH=$top/tests/data/users.oath
QUINN_PIN=tangerine-kayak-violin-orbit
QUINN_HEX=0123456789abcdef0123456789abcdef01234567
OLGA_HEX=3132333435363738393031323334353637383930

# login NAME PASSWORD CODE: one vpnc as NAME; sets rc once it has either
# connected (rc 0, still running) or exited.
login() {
	start_vpnc "$1" "$2" "$3"
	wait_for 20 vpnc_settled "$1"
	rc=0
	if ! grep -q "connected as $1" "$tmp/$1.log"; then
		wait "$VPNC_PID" || rc=$?
	fi
}
vpnc_settled() {
	grep -q "connected as $1" "$tmp/$1.log" || ! kill -0 "$VPNC_PID"
}

# show NAME PYTHON-EXPRESSION: true if the expression holds of `user
# show NAME --json` (as j).
show() {
	"$VPNCTL" -c "$tmp/vpnd.conf" user show "$1" --json |
		python3 -c "import json, sys; j = json.load(sys.stdin); assert ($2), j"
}

setup_topology
write_vpnd_conf
start_vpnd
n_srv "$VPNCTL" -c "$tmp/vpnd.conf" user import-oath "$OATH" | tee "$tmp/import"
grep -qx 'imported 3 users from .*users.oath:' "$tmp/import"
show quinn 'j["enabled"] and j["digits"] == 8 and j["period_s"] == 60'
show olga 'not j["enabled"] and j["last_login"] is None'

# quinn: the PIN is the password, the code as pam_oath's token made it.
write_vpnc_conf quinn quinn
login quinn "$QUINN_PIN" \
	"$(oathtool --totp --digits=8 --time-step-size=60s "$QUINN_HEX")"
[ "$rc" -eq 0 ]
n_cli ping -c 2 -i 0.2 -W 2 $LAN_HOST
show quinn 'j["last_login"] and len(j["devices"]) == 1 and
	j["devices"][0]["admitted"] and j["devices"][0]["address4"]'
kill -TERM "$VPNC_PID"
wait "$VPNC_PID"

# olga: no password yet, so no login, whatever she types.
write_vpnc_conf olga olga
login olga "$PASSWORD" "$(oathtool --totp "$OLGA_HEX")"
[ "$rc" -eq 3 ]
wait_log "$tmp/vpnd.log" "login user=olga src=$CLI_ADDR:[0-9]* result=failed reason=disabled " 5
no_device "$ns_cli"
printf '%s\n' "$PASSWORD" | "$VPNCTL" -c "$tmp/vpnd.conf" user passwd olga
"$VPNCTL" -c "$tmp/vpnd.conf" user enable olga
login olga "$PASSWORD" "$(oathtool --totp "$OLGA_HEX")"
[ "$rc" -eq 0 ]
n_cli ping -c 2 -i 0.2 -W 2 $LAN_HOST
show olga 'j["enabled"] and j["last_login"] and j["devices"][0]["admitted"]'
kill -TERM "$VPNC_PID"
wait "$VPNC_PID"
stop_vpnd
echo "ok"
