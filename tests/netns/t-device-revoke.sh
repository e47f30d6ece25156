#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `vpnctl device revoke KEY` against a live session: alice logs in from
# two devices in turn (two client keys); `user devices` lists both, the
# second admitted now; revoking it ends that session within END_MAX_MS
# (vpnc is told "device revoked"), its resume is refused so it must log
# in again, and `user devices` no longer lists it, while the first
# device, not revoked, keeps its admission.
source "$(dirname "$0")/lib.sh"

END_MAX_MS=3000

ms() { echo $(($(date +%s%N) / 1000000)); }

ctl() { "$VPNCTL" -c "$tmp/vpnd.conf" "$@"; }

# devices PYTHON-EXPRESSION: true if it holds of `user devices alice
# --json` (as d), with a and b the two devices' keys.
devices() {
	ctl user devices alice --json |
		python3 -c "import json, sys; d = json.load(sys.stdin)
a, b = sys.argv[1], sys.argv[2]
assert ($1), d" "$key_a" "$key_b"
}

setup_topology
write_vpnd_conf
start_vpnd
secret=$(enrol alice --no-confirm)
[ ${#secret} -eq 32 ]
write_vpnc_conf a alice
write_vpnc_conf b alice
key_a=$("$VPNC" pubkey <"$tmp/a.key")
key_b=$("$VPNC" pubkey <"$tmp/b.key")

# Device a logs in and out; device b logs in with the next step's code
# (a step is good for one login; the window takes the next one).
start_vpnc a "$PASSWORD" "$(totp "$secret")"
wait_log "$tmp/a.log" "connected as alice"
kill -TERM "$VPNC_PID"
wait "$VPNC_PID" || true
start_vpnc b "$PASSWORD" "$(totp "$secret" 1)"
wait_log "$tmp/b.log" "connected as alice"
n_cli ping -c 2 -i 0.2 -W 2 $LAN_HOST
# (vpnc stopping is no logout: a stays admitted until it expires.)
devices 'sorted(x["key"] for x in d) == sorted([a, b]) and
	all(x["admitted"] and x["last_login"] for x in d) and
	{x["key"]: x["address4"] for x in d} == {a: "10.99.0.2",
						 b: "10.99.0.3"}'

before=$(ms)
out=$(ctl device revoke "$key_b")
after=$(ms)
[ "$out" = "device $key_b of 'alice' revoked: its session has ended; it must log in again" ]
deadline=$((after + END_MAX_MS))
until grep -qF "the server ended the session: device revoked; " "$tmp/b.log"; do
	(($(ms) <= deadline)) || {
		echo "no 'device revoked' within $END_MAX_MS ms" >&2
		exit 1
	}
	sleep 0.02
done
echo "the session ended $(($(ms) - after)) ms after vpnctl returned" \
	"($((after - before)) ms in vpnctl)"
grep -q "vpnd: alice ($CLI_ADDR:[0-9]*): admission ended: device revoked$" \
	"$tmp/vpnd.log"
wait_for 5 no_device "$ns_cli"
# Its resume is refused: it must log in again, which nobody types here.
rc=0
wait_gone "$VPNC_PID" 200
wait "$VPNC_PID" || rc=$?
[ "$rc" -eq 4 ]
grep -q "the server asks us to log in" "$tmp/b.log"
devices 'len(d) == 1 and d[0]["key"] == a and d[0]["admitted"]'
ctl user show alice --json | python3 -c 'import json, sys
j = json.load(sys.stdin)
assert j["last_login"] and len(j["devices"]) == 1, j'
stop_vpnd
echo "ok"
