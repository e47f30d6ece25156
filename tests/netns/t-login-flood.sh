#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Nobody can starve a real user of password checks (PROTOCOL.md section
# 6, rules 5 and 10; issue 11). Two hostile addresses of $ns_cli
# (198.51.100.2 and .3), three sessions each, ask to log in without
# pause, each request under a new user name (so no user is locked, and
# with lockout-failures = 100 their addresses are not locked for a good
# while either), and failure-delay = 0, so the checks follow each other
# as fast as the two check threads (auth-workers = 2) can run them.
# Six sessions could fill the six places of auth-queue, but each address
# may hold only auth-per-source = 2 of them, and the threads take the
# addresses in turn. Meanwhile people log in from a fresh address
# ($ns_cli2, 203.0.113.2): alice with attack.py's plain client, whose
# request is timed, then bob with vpnc. Both get OK at once, never BUSY.
#
# The bound on alice's wait, independent of the machine's speed: when
# her request is queued, both threads are running hostile checks and at
# most one more is queued in each hostile lane (two per address in
# flight); taken in turn, at most those four go before hers, and while
# hers runs the other thread finishes about one more. So at most about
# five hostile checks end between her request and her answer; the test
# allows 2 x 5, since a check's duration varies on a loaded machine. In
# wall-clock time only the client's own limit is asserted (an answer
# within the 10 s it retransmits for, section 6); the time is logged.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-attack.sh"

HOSTILE_MAX=10

setup_topology
setup_client2
ip -n "$ns_cli" addr add 198.51.100.3/24 dev cli0
write_vpnd_conf "auth-workers = 2" "auth-queue = 6" "auth-per-source = 2" \
	"lockout-failures = 100" "failure-delay = 0"
write_vpnc_conf bob bob
alice=$(enrol alice)
bob=$(enrol bob)
[ ${#alice} -eq 32 ]
[ ${#bob} -eq 32 ]
start_vpnd

# The flood, until $tmp/stop exists (at most 90 s).
ip netns exec "$ns_cli" "$PY" -B "$ATTACK" flood --server "$SRV_ADDR:51900" \
	--server-pub "$SERVER_PUB" --bind "$CLI_ADDR" --bind 198.51.100.3 \
	--sessions 3 --until "$tmp/stop" --max-seconds 90 \
	>"$tmp/flood.log" 2>&1 &
FLOOD_PID=$!
pids+=("$FLOOD_PID")

# In full swing: checks refused, and sessions told BUSY because their
# address has its two checks in flight.
in_swing() {
	(($(lines "$tmp/flood.log" "^answer .* AUTH_FAILED$") >= 4 &&
		$(lines "$tmp/flood.log" "^answer .* BUSY$") >= 2))
}
wait_for 30 in_swing

# alice, from a fresh address: one request, answered OK.
attack "$ns_cli2" "$tmp/alice.log" try --bind "$CLI2_ADDR" \
	--step "alice:$PASSWORD:$(totp "$alice")"
grep -q "^step 1 user=alice: OK " "$tmp/alice.log"
read -r sent answered < <(sed -n \
	's/^step 1 .* sent=\([0-9.]*\) answered=\([0-9.]*\) .*/\1 \2/p' \
	"$tmp/alice.log")

# bob, with vpnc, from the same address: connected, never told BUSY.
VPNC_NS=$ns_cli2 start_vpnc bob "$PASSWORD" "$(totp "$bob")"
wait_log "$tmp/bob.log" "connected as bob" 10
q_cli2 ping -c 2 -i 0.2 -W 2 $LAN_HOST
touch "$tmp/stop"
wait_gone "$FLOOD_PID" 100
wait "$FLOOD_PID"
grep "^flood: " "$tmp/flood.log"
refute log_has "$tmp/bob.log" "busy"

# Neither was ever answered BUSY, and each was checked once.
[ "$(audit_count "user=\(alice\|bob\) .*result=busy")" -eq 0 ]
[ "$(audit_count "user=alice src=$CLI2_ADDR:[0-9]* result=ok ")" -eq 1 ]
[ "$(audit_count "user=bob src=$CLI2_ADDR:[0-9]* result=ok ")" -eq 1 ]
[ "$(audit_count "user=\(alice\|bob\) ")" -eq 2 ]

# The flood was real: checks ran for the hostile addresses, and their
# sessions were told BUSY (source-queue-full: their own cap, never the
# server's) while alice waited, so the threads were busy with them then.
[ "$(audit_count "user=flood[0-9-]* src=198.51.100.[23]:[0-9]* \
result=failed reason=unknown-user ")" -ge 10 ]
[ "$(audit_count "src=.* reason=queue-full ")" -eq 0 ]
[ "$(audit_count "user=flood[0-9-]* src=198.51.100.[23]:[0-9]* \
result=busy reason=source-queue-full ")" -ge 1 ]
"$PY" - "$tmp/flood.log" "$sent" "$answered" "$HOSTILE_MAX" <<'EOF'
import sys
log, sent, answered, most = sys.argv[1], float(sys.argv[2]), \
    float(sys.argv[3]), int(sys.argv[4])
during = [l.split() for l in open(log) if l.startswith("answer ")]
during = [a for a in during if sent <= float(a[1]) <= answered]
busy = sum(1 for a in during if a[3] == "BUSY")
done = sum(1 for a in during if a[3] == "AUTH_FAILED")
print("alice waited %.3f s; meanwhile %d hostile checks ended and %d "
      "hostile requests were told BUSY" % (answered - sent, done, busy))
assert answered - sent <= 10.0, "alice waited more than 10 s"
assert busy >= 1, "no hostile request was told BUSY while alice waited"
assert done <= most, "%d hostile checks ended while alice waited" % done
EOF

kill -TERM "$VPNC_PID"
wait "$VPNC_PID"
stop_vpnd
echo "ok"
