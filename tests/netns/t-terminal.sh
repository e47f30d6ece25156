#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vpnc with a person at a terminal (issue 3 item 2; PROTOCOL.md section 6,
# rules 7 and 8, and the client's duties after the rule list). vpnc runs on
# a real pseudo-terminal in the client namespace, played by
# tests/tools/pty-drive.py, which reads the terminal's ECHO flag from the
# master side and fails if anything typed ever shows in the output:
#  1. alice: "Password for alice:", then, once the password is in, a
#     separate "Authenticator code:", each read with echo off; the code
#     typed as "123 456" is accepted; connected; echo back on. SIGTERM
#     leaves no device and the client's routes as they were.
#  2. bob: a wrong code is refused, and vpnc asks for both again; the
#     right one connects.
#  3. carol, --password-file: only the code is asked.
#  4. dave, with the server's 10-s session-lifetime (the others have an
#     hour of their own): his pings meet the expiry, the server ends the
#     session, his vpnc's RESUME is answered AUTH_REQUIRED, and at a
#     terminal it asks again instead of exiting; a new login (the next
#     step's code, rule 4) continues with the same vpnc and address.
#  5. alice, still logged in, resumes without a terminal; `vpnc --logout`
#     ends her admission, after which a start without a terminal exits 4
#     saying why, and one at a terminal asks for the password again;
#     Ctrl-C there ends it (status 0) with echo back on.
source "$(dirname "$0")/lib.sh"

DRIVE=$top/tests/tools/pty-drive.py
[ -x /usr/bin/python3 ] || skip "needs /usr/bin/python3"

# tty_vpnc NAME STEP...: vpnc -c $tmp/NAME.conf "${vpnc_opts[@]}" on a new
# terminal in the client namespace, in the background, played through
# STEPs; the terminal's output goes to $tmp/NAME.log. Sets DRIVER_PID
# and VPNC_PID.
vpnc_opts=()
tty_vpnc() {
	local name=$1
	shift
	rm -f "$tmp/$name.pid"
	/usr/bin/python3 "$DRIVE" --timeout 60 --step-timeout 20 \
		--transcript "$tmp/$name.log" --pid-file "$tmp/$name.pid" \
		"$@" -- ip netns exec "$ns_cli" \
		"$VPNC" -c "$tmp/$name.conf" "${vpnc_opts[@]}" \
		2>>"$tmp/$name.drive.log" &
	DRIVER_PID=$!
	pids+=("$DRIVER_PID")
	wait_for 10 test -s "$tmp/$name.pid"
	VPNC_PID=$(cat "$tmp/$name.pid")
	pids+=("$VPNC_PID")
}

# driver_ok: the driver played every step, the last being vpnc's exit.
driver_ok() {
	wait_gone "$DRIVER_PID" 300
	wait "$DRIVER_PID"
}

# The client namespace's routes, both families.
routes() { q_cli ip route show; q_cli ip -6 route show; }

# A code well-formed but for no step near now (for SECRET).
wrong_code() {
	local near code i
	near=$(for o in -2 -1 0 1 2; do totp "$1" "$o"; done)
	code=$(printf '%06d' $(((10#$(totp "$1") + 500000) % 1000000)))
	for ((i = 0; i < 20; i++)); do
		grep -qx "$code" <<<"$near" || break
		code=$(printf '%06d' $(((10#$code + 1) % 1000000)))
	done
	if grep -qx "$code" <<<"$near"; then
		return 1
	fi
	echo "${code:0:3} ${code:3}"
}

setup_topology
write_vpnd_conf "session-lifetime = 10s"
for u in alice bob carol dave; do
	write_vpnc_conf $u $u
done
alice_secret=$(enrol alice --lifetime 1h)
bob_secret=$(enrol bob --lifetime 1h)
carol_secret=$(enrol carol --lifetime 1h)
dave_secret=$(enrol dave)
[ ${#dave_secret} -eq 32 ]
start_vpnd
routes0=$(routes)

# 1. Two prompts, echo off for each, the spaced code, then connected.
tty_vpnc alice \
	"expect=Password for alice: " noecho "absent=Authenticator" \
	"type=$PASSWORD" \
	"expect=\r\nAuthenticator code: " noecho "code=$alice_secret:0" \
	"expect=connected as alice on vpn0, address 10\.99\.0\.[0-9]+/24" echo \
	exit=0
wait_log "$tmp/alice.log" "connected as alice"
addr=$(client_addr "$tmp/alice.log")
[ -n "$addr" ]
n_cli ping -c 2 -i 0.2 -W 2 $LAN_HOST
grep -q "login user=alice src=$CLI_ADDR:[0-9]* result=ok" "$tmp/vpnd.log"
q_cli ip route show dev vpn0 | grep -q '^10.20.0.0/24'
kill -TERM "$VPNC_PID"
driver_ok
no_device "$ns_cli"
[ "$(routes)" = "$routes0" ]

# 2. A wrong code: refused, asked again (both), then the right one.
bob_wrong=$(wrong_code "$bob_secret")
tty_vpnc bob \
	"expect=Password for bob: " noecho "type=$PASSWORD" \
	"expect=Authenticator code: " noecho "type=$bob_wrong" \
	"expect=login failed: wrong user name, password or code" \
	"expect=Password for bob: " noecho "type=$PASSWORD" \
	"expect=Authenticator code: " noecho "code=$bob_secret:0" \
	"expect=connected as bob on vpn0" echo exit=0
wait_log "$tmp/bob.log" "connected as bob"
n_cli ping -c 2 -i 0.2 -W 2 $LAN_HOST
[ "$(count_log "$tmp/vpnd.log" 'login user=bob .*result=failed')" -eq 1 ]
[ "$(count_log "$tmp/vpnd.log" 'login user=bob .*result=ok')" -eq 1 ]
kill -TERM "$VPNC_PID"
driver_ok
no_device "$ns_cli"

# 3. --password-file: the terminal is asked for the code alone.
printf '%s\n' "$PASSWORD" >"$tmp/carol.pw"
chmod 600 "$tmp/carol.pw"
vpnc_opts=(--password-file "$tmp/carol.pw")
tty_vpnc carol \
	"expect=Authenticator code: " noecho "code=$carol_secret:0" \
	"expect=connected as carol on vpn0" echo "absent=Password" exit=0
vpnc_opts=()
wait_log "$tmp/carol.log" "connected as carol"
n_cli ping -c 2 -i 0.2 -W 2 $LAN_HOST
kill -TERM "$VPNC_PID"
driver_ok
! grep -q "Password" "$tmp/carol.log"
no_device "$ns_cli"

# 4. The login expires under traffic: AUTH_REQUIRED, asked again, and the
# same vpnc carries on.
tty_vpnc dave \
	"expect=Password for dave: " noecho "type=$PASSWORD" \
	"expect=Authenticator code: " noecho "code=$dave_secret:0" \
	"expect=connected as dave on vpn0" echo \
	"expect=session expired" "expect=the server asks us to log in" \
	"expect=Password for dave: " noecho "type=$PASSWORD" \
	"expect=Authenticator code: " noecho "code=$dave_secret:1" \
	"expect=connected as dave on vpn0" echo exit=0
wait_log "$tmp/dave.log" "connected as dave"
dave_addr=$(client_addr "$tmp/dave.log")
# Pings (at most 30 s of them) meet the expiry at once; ping may end by
# itself when the device goes.
q_cli ping -i 0.2 -c 150 $LAN_HOST >"$tmp/dave-ping.log" 2>&1 &
ping_pid=$!
pids+=("$ping_pid")
wait_log "$tmp/dave.log" "session expired" 20
kill -TERM "$ping_pid" 2>/dev/null || true
wait_for 20 bash -c "[ \$(grep -c 'connected as dave' '$tmp/dave.log') -eq 2 ]"
kill -0 "$VPNC_PID"
[ "$(client_addr "$tmp/dave.log")" = "$dave_addr" ]
grep -q "dave ($CLI_ADDR:[0-9]*): admission ended: session expired" \
	"$tmp/vpnd.log"
[ "$(count_log "$tmp/vpnd.log" 'login user=dave .*result=ok')" -eq 2 ]
n_cli ping -c 2 -i 0.2 -W 2 $LAN_HOST
kill -TERM "$VPNC_PID"
driver_ok
no_device "$ns_cli"

# 5. alice is still logged in: a start without a terminal resumes.
ip netns exec "$ns_cli" "$VPNC" -c "$tmp/alice.conf" </dev/null \
	>"$tmp/alice-resume.log" 2>&1 &
VPNC_PID=$!
pids+=("$VPNC_PID")
wait_log "$tmp/alice-resume.log" "connected as alice"
n_cli ping -c 2 -i 0.2 -W 2 $LAN_HOST
kill -TERM "$VPNC_PID"
wait "$VPNC_PID"
no_device "$ns_cli"
[ "$(routes)" = "$routes0" ]
n_cli "$VPNC" -c "$tmp/alice.conf" --logout </dev/null >"$tmp/logout.log" 2>&1
grep -q "logged out" "$tmp/logout.log"
wait_log "$tmp/vpnd.log" "$CLI_ADDR:[0-9]* disconnected and logged out" 5
rc=0
n_cli "$VPNC" -c "$tmp/alice.conf" </dev/null >"$tmp/alice-nologin.log" 2>&1 ||
	rc=$?
[ "$rc" -eq 4 ]
grep -q "error: login required, but there is no terminal" \
	"$tmp/alice-nologin.log"
! grep -q "connected as" "$tmp/alice-nologin.log"
no_device "$ns_cli"
# At a terminal the login is asked for again; Ctrl-C there ends vpnc,
# with echo back on.
cp "$tmp/alice.conf" "$tmp/alice-again.conf"
tty_vpnc alice-again "expect=Password for alice: " noecho intr exit=0 echo
driver_ok
no_device "$ns_cli"
[ "$(routes)" = "$routes0" ]

stop_vpnd
echo "ok"
