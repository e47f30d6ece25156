#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vpnctl against a live vpnd (issue 12: vpnctl, live): `status` and
# `sessions` as text for people and --json for scripts, saying what vpnd
# holds (addresses, key, the client's endpoint, address and traffic);
# `kick` by user, by key and by tunnel address ends the live session at
# once (the client is told: "ended by an administrator") and its login
# (a restarted client must log in again); `locks` shows a locked user and
# `unlock` lifts it; and every mistake an admin can make is one clear
# line and a non-zero exit: an unknown command or flag, a kick of nobody,
# vpnd not running, no permission on the control socket.
source "$(dirname "$0")/lib.sh"

setup_topology
setup_client2
CTL=("$VPNCTL" -c "$tmp/vpnd.conf")
write_vpnd_conf "lockout-failures = 3" "lockout-time = 1h" \
	"lockout-max-time = 1h"
write_vpnc_conf alice alice
write_vpnc_conf bob bob
write_vpnc_conf carol carol
alice_secret=$(enrol alice)
bob_secret=$(enrol bob)
carol_secret=$(enrol carol)
start_vpnd

# ---- status -----------------------------------------------------------------
n_srv "${CTL[@]}" status >"$tmp/status.txt"
cat "$tmp/status.txt"
grep -q "^vpnd [0-9.]*, pid $VPND_PID, up " "$tmp/status.txt"
grep -q "device:  *vpn0, 10.99.0.1/24, fd00:99::1/64" "$tmp/status.txt"
grep -q "public key:  *$SERVER_PUB" "$tmp/status.txt"
grep -q "sessions:  *0 logged in" "$tmp/status.txt"
[ "$(status_field public_key)" = "$SERVER_PUB" ]
[ "$(status_field address4)" = 10.99.0.1/24 ]
[ "$(status_field listen_port)" = 51900 ]
[ "$(status_field store)" = ok ]
[ "$(status_field sessions)" = 0 ]

# ---- sessions, with a client sending traffic ---------------------------------
start_vpnc alice "$PASSWORD" "$(totp "$alice_secret")"
wait_session alice
n_cli ping -c 3 -i 0.2 -W 2 $LAN_HOST
n_srv "${CTL[@]}" sessions >"$tmp/sessions.txt"
cat "$tmp/sessions.txt"
head -n 1 "$tmp/sessions.txt" | grep -q "^USER  *STATE  *ENDPOINT  *ADDRESS"
grep -q "^alice  *admitted  *$CLI_ADDR:[0-9]*  *10.99.0.2,fd00:99::2 " \
	"$tmp/sessions.txt"
alice_key=$(client_key alice)
grep -q "$alice_key\$" "$tmp/sessions.txt"
[ "$(session_field alice session)" = "$alice_key" ]
[ "$(endpoint_host "$(session_field alice endpoint)")" = "$CLI_ADDR" ]
[ "$(session_field alice address4)" = 10.99.0.2 ]
(($(session_field alice rx_packets) >= 3))
(($(session_field alice tx_packets) >= 3))
(($(session_field alice expires) > $(session_field alice login_time)))
[ "$(status_field sessions)" = 1 ]

# ---- kick, three ways ----------------------------------------------------------
# kick_and_time USER TARGET: kicks TARGET, then polls until USER has no
# session; the time it took goes to the log (the bound is generous for a
# loaded machine: the store's events are read every 200 ms).
kick_and_time() {
	local t0 ms
	t0=$(date +%s%N)
	n_srv "${CTL[@]}" kick "$2" | tee "$tmp/kick.out"
	grep -q "^ended 1 session of " "$tmp/kick.out"
	wait_no_session "$1" 3
	ms=$((($(date +%s%N) - t0) / 1000000))
	echo "kick $2: $1's session gone after $ms ms"
}
kick_and_time alice alice
wait_log "$tmp/alice.log" "ended by an administrator" 5
# The login is over too: the client, restarted, is asked to log in.
wait_gone "$VPNC_PID" 200 || true
start_vpnc alice "" "" # no password or code to give
wait_log "$tmp/alice.log" "login required, but there is no terminal" 20

start_vpnc alice "$PASSWORD" "$(totp "$alice_secret" 1)"
wait_session alice
kick_and_time alice "$(client_key alice)"
# Without a person to ask, it gives up; stop it rather than wait.
kill -TERM "$VPNC_PID" 2>/dev/null || true
wait_gone "$VPNC_PID" 200 || true

start_vpnc carol "$PASSWORD" "$(totp "$carol_secret")"
wait_session carol
kick_and_time carol "$(session_field carol address4)"
wait_log "$tmp/carol.log" "ended by an administrator" 5

# Nobody to kick: one line, exit 1; the sessions are untouched.
rc=0
q_srv "${CTL[@]}" kick nobody-here 2>"$tmp/err" || rc=$?
[ "$rc" -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ]
grep -q "has no session to end" "$tmp/err"

# ---- locks and unlock -------------------------------------------------------------
# Bob fails three times from the second client's address: his name and
# that address are both locked; unlock lifts each, and he gets in.
for i in 1 2 3; do
	VPNC_NS=$ns_cli2 start_vpnc bob "wrong password $i" "000000"
	wait_log "$tmp/bob.log" "login failed" 20
	wait_gone "$VPNC_PID" 200 || true
	: >"$tmp/bob.log"
done
n_srv "${CTL[@]}" locks | tee "$tmp/locks.txt"
grep -q "bob" "$tmp/locks.txt"
grep -q "$CLI2_ADDR" "$tmp/locks.txt"
(($(lock_left user bob) > 0))
(($(lock_left source "$CLI2_ADDR") > 0))
VPNC_NS=$ns_cli2 start_vpnc bob "$PASSWORD" "$(totp "$bob_secret")"
wait_log "$tmp/bob.log" "login locked" 20
wait_gone "$VPNC_PID" 200 || true
n_srv "${CTL[@]}" unlock bob
[ "$(lock_count user bob)" = 0 ]
(($(lock_left source "$CLI2_ADDR") > 0))
n_srv "${CTL[@]}" unlock "$CLI2_ADDR"
[ "$(lock_count source "$CLI2_ADDR")" = 0 ]
VPNC_NS=$ns_cli2 start_vpnc bob "$PASSWORD" "$(totp "$bob_secret" 1)"
wait_session bob

# ---- mistakes: one line, non-zero -----------------------------------------------
# one_line_error STATUS COMMAND...: COMMAND exits STATUS and says one line.
one_line_error() {
	local want=$1 rc=0
	shift
	"$@" >/dev/null 2>"$tmp/err" || rc=$?
	cat "$tmp/err"
	[ "$rc" -eq "$want" ] && [ "$(wc -l <"$tmp/err")" -eq 1 ]
}
one_line_error 2 q_srv "${CTL[@]}" frobnicate
one_line_error 2 q_srv "${CTL[@]}" status --frob
one_line_error 2 q_srv "${CTL[@]}" sessions extra
one_line_error 2 q_srv "${CTL[@]}" kick
# No permission: a user who is neither root, nor vpnd's user (nobody
# here), nor in control-group.
one_line_error 1 q_srv setpriv --reuid=daemon --regid=daemon \
	--clear-groups "${CTL[@]}" status
grep -q "no permission" "$tmp/err"
# vpnd not running.
stop_vpnd
one_line_error 1 q_srv "${CTL[@]}" status
grep -q "vpnd is not running" "$tmp/err"
one_line_error 1 q_srv "${CTL[@]}" sessions --json
echo OK
