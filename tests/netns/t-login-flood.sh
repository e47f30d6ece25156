#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Nobody can starve a real user of password checks (PROTOCOL.md section
# 6, rules 5 and 10; issue 11). Two hostile addresses of $ns_cli at a
# time, three sessions each, ask to log in without pause: one from
# 198.51.100.2, the other from 198.51.100.3, whose sessions send each
# request from a forged random source (so as to be queued as many
# sources, would vpnd take the datagram's source for the session's),
# through an internet that forwards them. Each request is under a new
# user name, so no user is locked; an address is locked after
# lockout-failures = 100, and then the attacker goes on from another of
# its addresses (198.51.100.10-17 and .20-27), so the pressure lasts
# however fast the machine checks. failure-delay = 0: the checks follow
# each other as fast as the two check threads (auth-workers = 2) can run
# them.
# Six sessions could fill the six places of auth-queue, but each address
# (where its session's handshake came from) may hold only
# auth-per-source = 2 of them, and the threads take the addresses in
# turn. Meanwhile people log in from a fresh address
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
internet_forwards_forged
plain=(--bind "$CLI_ADDR")
forged=(--bind 198.51.100.3)
for i in $(seq 10 17); do
	plain+=(--bind "198.51.100.$i")
	forged+=(--bind "198.51.100.$((i + 10))")
done
for a in 3 $(seq 10 17) $(seq 20 27); do
	ip -n "$ns_cli" addr add "198.51.100.$a/24" dev cli0
done
write_vpnd_conf "auth-workers = 2" "auth-queue = 6" "auth-per-source = 2" \
	"lockout-failures = 100" "failure-delay = 0"
write_vpnc_conf bob bob
alice=$(enrol alice)
bob=$(enrol bob)
[ ${#alice} -eq 32 ]
[ ${#bob} -eq 32 ]
start_vpnd

# flood NAME [options...]: three sessions from one address at a time
# until $tmp/stop exists (at most 90 s), logging to $tmp/NAME.log.
flood_pids=()
flood() {
	ip netns exec "$ns_cli" "$PY" -B "$ATTACK" flood \
		--server "$SRV_ADDR:51900" --server-pub "$SERVER_PUB" \
		--sessions 3 --active 1 --until "$tmp/stop" \
		--max-seconds 90 "${@:2}" >"$tmp/$1.log" 2>&1 &
	flood_pids+=("$!")
	pids+=("$!")
}
flood flood-plain "${plain[@]}"
flood flood-forged "${forged[@]}" --forge 100.64.0.0/10

# In full swing: checks refused for both, and sessions told BUSY because
# their address has its two checks in flight (a forged request's BUSY,
# answered at once, goes to the forged source: only the plain flood sees
# them).
in_swing() {
	local plain=$tmp/flood-plain.log forged=$tmp/flood-forged.log
	(($(lines "$plain" "^answer .* AUTH_FAILED$") >= 2 &&
		$(lines "$plain" "^answer .* BUSY$") >= 1 &&
		$(lines "$forged" "^answer .* AUTH_FAILED$") >= 2))
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
[ "$(endpoint_host "$(session_field bob endpoint)")" = "$CLI2_ADDR" ]
q_cli2 ping -c 2 -i 0.2 -W 2 $LAN_HOST
touch "$tmp/stop"
for pid in "${flood_pids[@]}"; do
	wait_gone "$pid" 100
	wait "$pid"
done
cat "$tmp/flood-plain.log" "$tmp/flood-forged.log" >"$tmp/flood.log"
grep "^flood: " "$tmp/flood.log"
refute log_has "$tmp/bob.log" "busy"
kill -TERM "$VPNC_PID"
wait "$VPNC_PID"
# vpnd stops, so that its log is whole: hostile checks under way when the
# flood stopped are still being written.
stop_vpnd

# Neither was ever answered BUSY, and each was checked once.
[ "$(audit_count "user=\(alice\|bob\) .*result=busy")" -eq 0 ]
[ "$(audit_count "user=alice src=$CLI2_ADDR:[0-9]* result=ok ")" -eq 1 ]
[ "$(audit_count "user=bob src=$CLI2_ADDR:[0-9]* result=ok ")" -eq 1 ]
[ "$(audit_count "user=\(alice\|bob\) ")" -eq 2 ]

# The flood was real: checks ran for the hostile addresses, and their
# sessions were told BUSY (source-queue-full: their own cap, never the
# server's) while alice waited, so the threads were busy with them then.
# Forged sources made no difference: every check and every BUSY is of
# one of the attacker's real addresses, and checks ran for the forging
# sessions' address like for the others.
[ "$(audit_count "user=flood[0-9-]* ")" -eq \
	"$(audit_count "user=flood[0-9-]* src=198.51.100.[0-9]*:[0-9]* ")" ]
[ "$(audit_count "user=flood[0-9-]* src=198.51.100.\(3\|2[0-7]\):[0-9]* \
result=failed ")" -ge 2 ]
[ "$(audit_count "user=flood[0-9-]* src=198.51.100.[0-9]*:[0-9]* \
result=failed reason=unknown-user ")" -ge 10 ]
[ "$(audit_count "user=.* reason=queue-full ")" -eq 0 ]
[ "$(audit_count "user=flood[0-9-]* src=198.51.100.[0-9]*:[0-9]* \
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
echo "ok"
