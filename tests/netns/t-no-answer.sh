#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vpnc says so when the server does not answer, and when it answers at
# last. vpnd is not running at first:
#  - plain: vpnc at the real pace says within 5 s that 192.0.2.1:51900
#    does not answer yet, naming what to check, the server's key among it;
#  - alice (test-timer-divisor 5: notices at 1, 7, 19... s): the notices
#    go on at a slower pace, each later one saying how long (by vpnc's own
#    clock: at least 7 and 19 s, at least 12 s apart), through the
#    reconnection after the handshake gives up (REKEY_ATTEMPT_TIME / 5):
#    one silence, one "yet". Then vpnd starts: vpnc says the server
#    answered, logs in as usual (the code is written on its stdin only
#    now, so its age never depends on the machine's speed) and says
#    nothing more about answers.
source "$(dirname "$0")/lib.sh"

EP=$SRV_ADDR:51900
has() { grep -qF -- "$2" "$1"; }

# The seconds in alice's Nth "still no answer ... after N s" line.
after_s() {
	sed -n "s/.*still no answer from $EP after \([0-9]*\) s.*/\1/p" \
		"$tmp/alice.log" | sed -n "${1}p"
}
# A notice came after the handshake gave up and vpnc reconnected.
notice_after_reconnect() {
	sed -n '/the server does not answer; reconnecting in/,$p' \
		"$tmp/alice.log" | grep -q "still no answer from"
}

setup_topology
write_vpnd_conf
secret=$(enrol alice)
write_vpnc_conf plain alice
write_vpnc_conf alice alice "test-timer-divisor = 5"

ip netns exec "$ns_cli" "$VPNC" -c "$tmp/plain.conf" </dev/null \
	>"$tmp/plain.log" 2>&1 &
plain_pid=$!
pids+=("$plain_pid")

# alice reads her password and code from a pipe, written once vpnd runs.
mkfifo "$tmp/alice.fifo"
exec 3<>"$tmp/alice.fifo"
ip netns exec "$ns_cli" "$VPNC" -c "$tmp/alice.conf" <&3 \
	>"$tmp/alice.log" 2>&1 &
VPNC_PID=$!
pids+=("$VPNC_PID")

wait_log "$tmp/plain.log" "no answer from $EP yet; still trying" 20
wait_log "$tmp/alice.log" "no answer from $EP yet; still trying" 20
checks="the address and port, that vpnd runs there, the firewalls on the"
checks+=" way, and server-public-key"
has "$tmp/plain.log" "no answer from $EP yet; still trying. Check $checks (a\
 server does not answer a handshake made for another key)"
kill -TERM "$plain_pid"
wait "$plain_pid"

wait_for 60 notice_after_reconnect
n1=$(after_s 1) n2=$(after_s 2)
echo "notices after ${n1} s and ${n2} s"
((n1 >= 7 && n2 >= 19 && n2 - n1 >= 12))
has "$tmp/alice.log" "after $n2 s; still trying (check $checks)"
[ "$(count_log "$tmp/alice.log" "no answer from $EP yet")" -eq 1 ]
refute has "$tmp/alice.log" "answered after"

start_vpnd
printf '%s\n%s\n' "$PASSWORD" "$(totp "$secret")" >&3
wait_log "$tmp/alice.log" "$EP answered after" 30
wait_log "$tmp/alice.log" "connected as alice" 30
n_cli ping -c 2 -i 0.2 -W 2 $LAN_HOST
# Nothing about answers after the answer.
sed -n '/answered after/,$p' "$tmp/alice.log" >"$tmp/after.txt"
refute grep -q "no answer" "$tmp/after.txt"
[ "$(count_log "$tmp/alice.log" "answered after")" -eq 1 ]

kill -TERM "$VPNC_PID"
wait "$VPNC_PID"
exec 3>&-
stop_vpnd
echo "ok"
