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
#  4. dave, from a second client namespace while 2 and 3 run, with the
#     server's 10-s session-lifetime (the others have an hour of their
#     own): his pings meet the expiry, the server ends the session, his
#     vpnc's RESUME is answered AUTH_REQUIRED, and at a terminal it asks
#     again instead of exiting; a new login (the next step's code, rule 4)
#     continues in the same vpnc.
#  5. alice, still logged in, resumes without a terminal; `vpnc --logout`
#     ends her admission, after which a start without a terminal exits 4
#     saying why, and one at a terminal asks for the password again;
#     Ctrl-C there ends it (status 0) with echo back on.
source "$(dirname "$0")/lib.sh" || exit 1

DRIVE=$top/tests/tools/pty-drive.py
[ -x /usr/bin/python3 ] || skip "needs /usr/bin/python3"

# tty_vpnc NAME STEP...: vpnc -c $tmp/NAME.conf "${vpnc_opts[@]}" on a new
# terminal in namespace ${tty_ns:-$ns_cli}, in the background, played
# through STEPs; the terminal's output goes to $tmp/NAME.log, the
# driver's to $tmp/NAME.drive.log. Records both PIDs under NAME.
declare -A driver_pid vpnc_pid
vpnc_opts=()
tty_vpnc() {
	local name=$1
	shift
	rm -f "$tmp/$name.pid"
	/usr/bin/python3 "$DRIVE" --timeout 90 --step-timeout 20 \
		--transcript "$tmp/$name.log" --pid-file "$tmp/$name.pid" \
		"$@" -- ip netns exec "${tty_ns:-$ns_cli}" \
		"$VPNC" -c "$tmp/$name.conf" "${vpnc_opts[@]}" \
		2>>"$tmp/$name.drive.log" &
	driver_pid[$name]=$!
	pids+=("$!")
	wait_for 10 test -s "$tmp/$name.pid"
	vpnc_pid[$name]=$(cat "$tmp/$name.pid")
	pids+=("${vpnc_pid[$name]}")
}

# wait_tty NAME PATTERN [COUNT]: the terminal has shown PATTERN COUNT
# times (default 1) within 20 s; gives up at once if the driver has ended
# (a failed step: its reason is in $tmp/NAME.drive.log).
wait_tty() {
	local i
	for ((i = 0; i < 200; i++)); do
		(($(count_log "$tmp/$1.log" "$2") >= ${3:-1})) && return 0
		kill -0 "${driver_pid[$1]}" 2>/dev/null || break
		sleep 0.1
	done
	echo "the terminal of $1 did not show: $2" >&2
	return 1
}

# driver_ok NAME: the driver played every step, the last being vpnc's exit.
driver_ok() {
	wait_gone "${driver_pid[$1]}" 300
	wait "${driver_pid[$1]}"
}

# stop_tty NAME: SIGTERM to a connected vpnc; it exits 0 as its steps say.
stop_tty() {
	kill -TERM "${vpnc_pid[$1]}"
	driver_ok "$1"
}

# routes NS: the namespace's routes, both families.
routes() { ip -n "$1" route show; ip -n "$1" -6 route show; }

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

SECONDS=0
setup_topology
setup_client2

write_vpnd_conf "session-lifetime = 10s"
for u in alice bob carol dave; do
	write_vpnc_conf $u $u
done
# The first enrolment creates the store; the others share it at once.
alice_secret=$(enrol alice --lifetime 1h)
enrolling=()
for u in bob carol dave; do
	[ $u = dave ] && life=() || life=(--lifetime 1h)
	enrol $u "${life[@]}" >"$tmp/$u.secret" &
	enrolling+=("$!")
done
for pid in "${enrolling[@]}"; do
	wait "$pid"
done
bob_secret=$(cat "$tmp/bob.secret")
carol_secret=$(cat "$tmp/carol.secret")
dave_secret=$(cat "$tmp/dave.secret")
for secret in "$alice_secret" "$bob_secret" "$carol_secret" "$dave_secret"; do
	[ ${#secret} -eq 32 ]
done
start_vpnd
routes0=$(routes "$ns_cli")
routes2_0=$(routes "$ns_cli2")
echo "---- set up at ${SECONDS} s" >&2

# 1. Two prompts, echo off for each, the spaced code, then connected.
tty_vpnc alice \
	"expect=Password for alice: " noecho "absent=Authenticator" \
	"type=$PASSWORD" \
	"expect=\r\nAuthenticator code: " noecho "code=$alice_secret:0" \
	"expect=connected as alice on vpn0, address 10\.99\.0\.[0-9]+/24" echo \
	exit=0
wait_tty alice "connected as alice"
n_cli ping -c 2 -i 0.2 -W 2 $LAN_HOST
grep -q "login user=alice src=$CLI_ADDR:[0-9]* result=ok" "$tmp/vpnd.log"
[ "$(endpoint_host "$(session_field alice endpoint)")" = "$CLI_ADDR" ]
q_cli ip route show dev vpn0 | grep -q '^10.20.0.0/24'
stop_tty alice
no_device "$ns_cli"
[ "$(routes "$ns_cli")" = "$routes0" ]
echo "---- scenario 1 done at ${SECONDS} s" >&2

# 4. (begins) dave logs in from the second namespace, and his login will
# expire under pings; the driver answers the prompts that follow.
tty_ns=$ns_cli2 tty_vpnc dave \
	"expect=Password for dave: " noecho "type=$PASSWORD" \
	"expect=Authenticator code: " noecho "code=$dave_secret:0" \
	"expect=connected as dave on vpn0" echo \
	"expect=session expired" "expect=the server asks us to log in" \
	"expect=Password for dave: " noecho "type=$PASSWORD" \
	"expect=Authenticator code: " noecho "code=$dave_secret:1" \
	"expect=connected as dave on vpn0" echo exit=0
wait_tty dave "connected as dave"
# When vpnd will end this admission.
dave_expires=$(session_field dave expires)
# At most 30 s of pings; ping may end by itself when the device goes.
q_cli2 ping -i 0.2 -c 150 $LAN_HOST >"$tmp/dave-ping.log" 2>&1 &
ping_pid=$!
pids+=("$ping_pid")

# 2. A wrong code: refused, asked again (both), then the right one.
bob_wrong=$(wrong_code "$bob_secret")
tty_vpnc bob \
	"expect=Password for bob: " noecho "type=$PASSWORD" \
	"expect=Authenticator code: " noecho "type=$bob_wrong" \
	"expect=login failed: wrong user name, password or code" \
	"expect=Password for bob: " noecho "type=$PASSWORD" \
	"expect=Authenticator code: " noecho "code=$bob_secret:0" \
	"expect=connected as bob on vpn0" echo exit=0
wait_tty bob "connected as bob"
n_cli ping -c 2 -i 0.2 -W 2 $LAN_HOST
[ "$(count_log "$tmp/vpnd.log" 'login user=bob .*result=failed')" -eq 1 ]
[ "$(count_log "$tmp/vpnd.log" 'login user=bob .*result=ok')" -eq 1 ]
stop_tty bob
no_device "$ns_cli"
echo "---- scenario 2 done at ${SECONDS} s" >&2

# 3. --password-file: the terminal is asked for the code alone.
printf '%s\n' "$PASSWORD" >"$tmp/carol.pw"
chmod 600 "$tmp/carol.pw"
vpnc_opts=(--password-file "$tmp/carol.pw")
tty_vpnc carol \
	"expect=Authenticator code: " noecho "code=$carol_secret:0" \
	"expect=connected as carol on vpn0" echo "absent=Password" exit=0
vpnc_opts=()
wait_tty carol "connected as carol"
n_cli ping -c 2 -i 0.2 -W 2 $LAN_HOST
stop_tty carol
refute grep -q "Password" "$tmp/carol.log"
no_device "$ns_cli"
echo "---- scenario 3 done at ${SECONDS} s" >&2

# 4. (ends) dave's login expired under traffic: AUTH_REQUIRED, asked
# again, and the same vpnc carried on.
wait_tty dave "session expired"
kill -TERM "$ping_pid" 2>/dev/null || true
wait_tty dave "connected as dave" 2
kill -0 "${vpnc_pid[dave]}"
# The address is the last one if still free (carol may have taken it).
dave_addr=$(client_addr "$tmp/dave.log")
q_cli2 ip -4 addr show dev vpn0 | grep -q "inet $dave_addr/24"
# vpnd holds his new admission, granted after the first one expired.
[ "$(session_field dave address4)" = "$dave_addr" ]
[ "$(endpoint_host "$(session_field dave endpoint)")" = "$CLI2_ADDR" ]
(($(session_field dave login_time) >= dave_expires))
[ "$(count_log "$tmp/vpnd.log" 'login user=dave .*result=ok')" -eq 2 ]
q_cli2 ping -c 2 -i 0.2 -W 2 $LAN_HOST
stop_tty dave
no_device "$ns_cli2"
[ "$(routes "$ns_cli2")" = "$routes2_0" ]
echo "---- scenario 4 done at ${SECONDS} s" >&2

# 5. alice is still logged in: a start without a terminal resumes.
ip netns exec "$ns_cli" "$VPNC" -c "$tmp/alice.conf" </dev/null \
	>"$tmp/alice-resume.log" 2>&1 &
VPNC_PID=$!
pids+=("$VPNC_PID")
wait_log "$tmp/alice-resume.log" "connected as alice"
alice_key=$(client_key alice)
[ "$(device_field alice "$alice_key" admitted)" = true ]
n_cli ping -c 2 -i 0.2 -W 2 $LAN_HOST
kill -TERM "$VPNC_PID"
wait "$VPNC_PID"
no_device "$ns_cli"
[ "$(routes "$ns_cli")" = "$routes0" ]
# --logout ends the admission...
n_cli "$VPNC" -c "$tmp/alice.conf" --logout </dev/null >"$tmp/logout.log" 2>&1
grep -q "logged out" "$tmp/logout.log"
wait_for 5 device_is alice "$alice_key" admitted false
wait_no_session alice 5
# ... so without a terminal the same start exits 4 and says why...
rc=0
n_cli "$VPNC" -c "$tmp/alice.conf" </dev/null >"$tmp/alice-nologin.log" 2>&1 ||
	rc=$?
[ "$rc" -eq 4 ]
grep -q "error: login required, but there is no terminal" \
	"$tmp/alice-nologin.log"
refute grep -q "connected as" "$tmp/alice-nologin.log"
no_device "$ns_cli"
# ... and at a terminal it asks for the password; Ctrl-C there ends vpnc
# with status 0 and echo back on.
cp "$tmp/alice.conf" "$tmp/alice-again.conf"
tty_vpnc alice-again "expect=Password for alice: " noecho intr exit=0 echo
driver_ok alice-again
no_device "$ns_cli"
[ "$(routes "$ns_cli")" = "$routes0" ]
echo "---- scenario 5 done at ${SECONDS} s" >&2

stop_vpnd
echo "ok"
