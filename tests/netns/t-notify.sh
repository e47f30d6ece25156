#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vpnd under systemd's eyes, with a stand-in for its notification socket
# (tests/tools/notify-listen.py) and for the journal's stream:
#
#   - READY=1 comes once, when the UDP port and the control socket are
#     usable: the listener stops vpnd the moment READY=1 arrives and looks;
#     it carries the first STATUS= ("0 sessions, 0 logging in");
#   - STATUS= follows the sessions ("1 session, 0 logging in" after a
#     login), WATCHDOG=1 comes from the loop at half WATCHDOG_USEC, a
#     SIGHUP is framed by RELOADING=1 and READY=1 (a broken file too), and
#     SIGTERM sends STOPPING=1;
#   - with JOURNAL_STREAM naming its stderr, each line starts with its
#     syslog priority (<5> notice, <6> info, <3> error);
#   - a vpnd that cannot start (its port taken) never says READY=1;
#   - one whose NOTIFY_SOCKET nobody listens on runs, and says so once.
source "$(dirname "$0")/lib.sh"

# notify_listen NAME [--check-ready PORT CTL]: $tmp/NAME.sock, its lines
# in $tmp/NAME.txt.
notify_listen() {
	local name=$1
	shift
	/usr/bin/python3 "$top/tests/tools/notify-listen.py" \
		"$tmp/$name.sock" 120 "$@" >"$tmp/$name.txt" \
		2>"$tmp/$name.err" &
	pids+=("$!")
	wait_log "$tmp/$name.err" "listening" 10
}

# count_of NAME PATTERN: lines of $tmp/NAME.txt matching.
count_of() { count_log "$tmp/$1.txt" "$2"; }
more_than() { [ "$(count_of "$1" "$2")" -gt "$3" ]; }

setup_topology
write_vpnd_conf
write_vpnc_conf alice alice
secret_a=$(enrol alice)
notify_listen sd --check-ready 51900 "$tmp/vpnd.sock"

# The log file is vpnd's stderr: JOURNAL_STREAM names it.
: >"$tmp/vpnd.log"
journal=$(stat -c '%d:%i' "$tmp/vpnd.log")
NOTIFY_SOCKET=$tmp/sd.sock WATCHDOG_USEC=400000 JOURNAL_STREAM=$journal \
	start_vpnd
wait_for 10 more_than sd "READY=1" 0
cat "$tmp/sd.txt"
# READY=1 once, from vpnd itself, with everything usable at that moment.
[ "$(count_of sd "READY=1")" -eq 1 ]
grep -q "^ready-check udp=1 ctl=1$" "$tmp/sd.txt"
grep -q "^$VPND_PID	READY=1	STATUS=0 sessions, 0 logging in$" "$tmp/sd.txt"
log_has "$tmp/vpnd.log" "^<5>vpnd: listening on UDP port 51900"

# The watchdog: pings keep coming from the loop (every 200 ms here).
wait_for 10 more_than sd "^$VPND_PID	WATCHDOG=1$" 3

# A session: STATUS= says so.
start_vpnc alice "$PASSWORD" "$(totp "$secret_a")"
pid_a=$VPNC_PID
wait_log "$tmp/alice.log" "connected as alice"
wait_for 10 log_has "$tmp/sd.txt" "	STATUS=1 session, 0 logging in$"
log_has "$tmp/vpnd.log" "^<6>vpnd: alice (.*) admitted"
# Not per packet: a ping's worth of traffic changes no count.
status0=$(count_of sd "STATUS=")
n_cli ping -c 5 -i 0.1 -W 2 $LAN_HOST
[ "$(count_of sd "STATUS=")" -eq "$status0" ]

# A reload, then a broken one: each between RELOADING=1 and READY=1.
kill -HUP "$VPND_PID"
wait_for 10 more_than sd "READY=1" 1
echo 'mtu = 1400 oops' >>"$tmp/vpnd.conf"
kill -HUP "$VPND_PID"
wait_for 10 more_than sd "READY=1" 2
grep -v WATCHDOG "$tmp/sd.txt"
[ "$(count_of sd "^$VPND_PID	RELOADING=1	MONOTONIC_USEC=[0-9]*$")" -eq 2 ]
[ "$(count_of sd "^$VPND_PID	READY=1$")" -eq 2 ]
log_has "$tmp/vpnd.log" "^<3>vpnd: error: reload: $tmp/vpnd.conf:[0-9]*: "
kill -0 "$VPND_PID"
# The watchdog goes on after the reloads.
pings=$(count_of sd "WATCHDOG=1")
wait_for 10 more_than sd "WATCHDOG=1" "$((pings + 2))"

kill -TERM "$pid_a"
wait "$pid_a"
stop_vpnd
grep -q "^$VPND_PID	STOPPING=1	STATUS=stopping$" "$tmp/sd.txt"

# A vpnd whose port is taken: it fails, and never says READY=1.
sed -i -e 's/^interface = .*/interface = "vpn1"/' \
	-e "s|^control-socket = .*|control-socket = \"$tmp/other.sock\"|" \
	-e '/oops/d' "$tmp/vpnd.conf"
notify_listen sd2
ip netns exec "$ns_srv" /usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(("::", 51900))
print("bound", flush=True)
time.sleep(60)' >"$tmp/holder.txt" 2>&1 &
holder=$!
pids+=("$holder")
wait_log "$tmp/holder.txt" "bound" 10
rc=0
ip netns exec "$ns_srv" env NOTIFY_SOCKET="$tmp/sd2.sock" \
	"$VPND" -f -c "$tmp/vpnd.conf" >"$tmp/vpnd2.log" 2>&1 || rc=$?
cat "$tmp/vpnd2.log"
[ "$rc" -ne 0 ]
log_has "$tmp/vpnd2.log" "cannot listen on UDP port 51900"
refute log_has "$tmp/sd2.txt" "READY=1"

# Nobody listening on NOTIFY_SOCKET: vpnd runs, and says so once however
# many watchdog pings fail (two seconds of them, by vpnd's own clock).
kill "$holder"
wait "$holder" || true
: >"$tmp/vpnd.log"
NOTIFY_SOCKET=$tmp/nobody.sock WATCHDOG_USEC=200000 start_vpnd
up_2s() { (($(ip netns exec "$ns_srv" "$VPNCTL" -c "$tmp/vpnd.conf" \
	status --json | json_uptime) >= 2)); }
json_uptime() { /usr/bin/python3 -c 'import json, sys
print(json.load(sys.stdin)["uptime"])'; }
wait_for 20 up_2s
cat "$tmp/vpnd.log"
[ "$(count_log "$tmp/vpnd.log" "cannot tell systemd (NOTIFY_SOCKET): ")" -eq 1 ]
stop_vpnd
echo "ok"
