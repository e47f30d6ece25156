#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vpnc over two nodes of one service (issue 15, item 5; PROTOCOL.md section
# 6, rules 6 and 8): two vpnd in two namespaces share the server key and
# one store (lib.sh, ns-node2).
#
# alice names both nodes with two `server` lines (short test timers). The
# node she uses is killed (SIGKILL: no goodbye); her pings make her notice,
# and she moves to the other node: RESUME there, the same tunnel address
# and login time, no new code (her stdin held one: a second prompt would
# make her exit 4), and no password check on that node; traffic passes.
#
# bob names one DNS name that /etc/hosts in his mount namespace resolves
# to both nodes (default timers). The node he uses stops (SIGTERM): it
# sends DISCONNECT "server shutdown", and bob moves to the other node at
# once: within 10 s, where the handshake timeout alone (an idle client
# never even notices a dead node) would take over 30 s; the same address,
# no new code. Then a kick (another DISCONNECT reason) ends his login as
# it does with one server: no move, the login asked for again, exit 4.
# Last, with one node still down, `vpnc --logout` ends alice's login on
# the live one, whichever its shuffled order tries first.
#
# The store is one SQLite file; with FAILOVER_STORE=postgresql
# (t-failover-pg.sh) a PostgreSQL server of its own (lib.sh ns-pg).
source "$(dirname "$0")/lib.sh"

# in_use LOG: the address of the server the client of LOG was last
# admitted through (its "server ... (i of n)" line).
in_use() {
	grep -E ' server .*\([0-9]+ of [0-9]+\)$' "$1" | tail -n 1 |
		grep -oE '[0-9]+(\.[0-9]+){3}:51900' | cut -d: -f1
}

other() {
	if [ "$1" = "$SRV_ADDR" ]; then echo "$SRV2_ADDR"; else echo "$SRV_ADDR"; fi
}

node_pid() {
	if [ "$1" = "$SRV_ADDR" ]; then echo "$VPND_PID"; else echo "$VPND2_PID"; fi
}

node_log() {
	if [ "$1" = "$SRV_ADDR" ]; then echo "$tmp/vpnd.log"; else echo "$tmp/vpnd2.log"; fi
}

start_node() {
	if [ "$1" = "$SRV_ADDR" ]; then start_vpnd; else start_vpnd2; fi
}

# node_session NODE USER FIELD: FIELD of USER's admitted session on NODE.
node_session() {
	local ctl=vpnctl_json
	[ "$1" = "$SRV_ADDR" ] || ctl=vpnctl2_json
	$ctl sessions | json_select "$3" state=admitted "user=$2" | single
}

# connected_times LOG N: the client of LOG has been admitted N times or
# more.
connected_times() { [ "$(count_log "$1" "connected as")" -ge "$2" ]; }

# ping_through NS SECONDS: pings the node's tunnel address from NS until
# one answers, for at most SECONDS (each try at most 1 s).
ping_through() {
	local deadline=$((SECONDS + $2))
	until ip netns exec "$1" ping -c 1 -W 1 $TUN_SRV >/dev/null 2>&1; do
		if ((SECONDS >= deadline)); then
			echo "no answer through the tunnel from $1 in $2 s" >&2
			return 1
		fi
	done
}

setup_topology
setup_client2
if [ "${FAILOVER_STORE:-sqlite}" = postgresql ]; then
	setup_pg
	write_vpnd_conf "user-db = \"$PG_CONNINFO\""
else
	write_vpnd_conf
fi
setup_node2
write_vpnc_conf alice alice "server = \"$SRV2_ADDR:51900\"" \
	"test-timer-divisor = 5"
alice_secret=$(enrol alice)
bob_secret=$(enrol bob)
start_vpnd
start_vpnd2
# The store is the one asked for: no SQLite file with PostgreSQL.
if [ "${FAILOVER_STORE:-sqlite}" = postgresql ]; then
	[ ! -e "$tmp/users.db" ]
else
	[ -s "$tmp/users.db" ]
fi

# ---- alice: two server lines; her node is killed ----------------------------
start_vpnc alice "$PASSWORD" "$(totp "$alice_secret")" -v
wait_log "$tmp/alice.log" "connected as alice" 30
log_has "$tmp/alice.log" "server 2 of 2: "
addr=$(client_addr "$tmp/alice.log")
first=$(in_use "$tmp/alice.log")
second=$(other "$first")
echo "alice: $addr on $first"
[ -n "$addr" ] && [ -n "$first" ]
[ "$(node_session "$first" alice address4)" = "$addr" ]
login_time=$(node_session "$first" alice login_time)
n_cli ping -c 2 -i 0.2 -W 2 $TUN_SRV

kill -KILL "$(node_pid "$first")"
wait "$(node_pid "$first")" 2>/dev/null || true
# Her pings are what make her notice: data sent, nothing back.
ping_through "$ns_cli" 60
wait_for 20 connected_times "$tmp/alice.log" 2
log_has "$tmp/alice.log" "moving from $first:51900 to $second:51900"
[ "$(in_use "$tmp/alice.log")" = "$second" ]
[ "$(client_addr "$tmp/alice.log")" = "$addr" ]
[ "$(node_session "$second" alice address4)" = "$addr" ]
[ "$(node_session "$second" alice login_time)" = "$login_time" ]
refute grep -q "login user=alice" "$(node_log "$second")"
[ "$(count_log "$tmp/alice.log" "asks us to log in")" -eq 1 ]
kill -0 "$VPNC_PID"
alice_pid=$VPNC_PID
n_cli ping -c 3 -i 0.2 -W 2 $TUN_SRV

# The killed node comes back, for bob.
start_node "$first"

# ---- bob: one name for both nodes; his node stops -----------------------------
write_vpnc_conf bob bob
sed -i 's|^server = .*|server = "vpn.office.test:51900"|' "$tmp/bob.conf"
grep -q '^server = "vpn.office.test:51900"$' "$tmp/bob.conf"
printf '127.0.0.1 localhost\n%s vpn.office.test\n%s vpn.office.test\n' \
	"$SRV_ADDR" "$SRV2_ADDR" >"$tmp/hosts"
printf '%s\n%s\n' "$PASSWORD" "$(totp "$bob_secret")" >"$tmp/bob.input"
# The name is resolved through /etc/hosts of bob's own mount namespace;
# sh execs vpnc, so $! is vpnc.
ip netns exec "$ns_cli2" unshare -m sh -c \
	'mount --bind "$1" /etc/hosts && exec "$2" -c "$3" -v' \
	sh "$tmp/hosts" "$VPNC" "$tmp/bob.conf" <"$tmp/bob.input" \
	>>"$tmp/bob.log" 2>&1 &
bob_pid=$!
pids+=("$bob_pid")
wait_log "$tmp/bob.log" "connected as bob" 30
log_has "$tmp/bob.log" "server 2 of 2: vpn.office.test ("
bob_addr=$(client_addr "$tmp/bob.log")
bob_first=$(in_use "$tmp/bob.log")
bob_second=$(other "$bob_first")
echo "bob: $bob_addr on $bob_first"
[ -n "$bob_addr" ] && [ -n "$bob_first" ]
q_cli2 ping -c 2 -i 0.2 -W 2 $TUN_SRV

kill -TERM "$(node_pid "$bob_first")"
wait "$(node_pid "$bob_first")"
wait_for 10 connected_times "$tmp/bob.log" 2
log_has "$tmp/bob.log" "server shutdown; moving from vpn.office.test ($bob_first:51900) to vpn.office.test ($bob_second:51900)"
[ "$(in_use "$tmp/bob.log")" = "$bob_second" ]
[ "$(client_addr "$tmp/bob.log")" = "$bob_addr" ]
[ "$(node_session "$bob_second" bob address4)" = "$bob_addr" ]
[ "$(count_log "$tmp/bob.log" "asks us to log in")" -eq 1 ]
q_cli2 ping -c 3 -i 0.2 -W 2 $TUN_SRV
# alice, wherever she was, is still in and passes traffic.
kill -0 "$alice_pid"
ping_through "$ns_cli" 30

# ---- a kick is not a shutdown: no move, the login is over ---------------------
moves=$(count_log "$tmp/bob.log" "moving from")
ctl=("$VPNCTL" -c "$tmp/vpnd.conf")
[ "$bob_second" = "$SRV_ADDR" ] || ctl=("$VPNCTL" -c "$tmp/vpnd2.conf")
ip netns exec "$ns_srv" "${ctl[@]}" kick bob
wait_gone "$bob_pid" 300
set +e
wait "$bob_pid"
status=$?
set -e
echo "bob exited $status after the kick"
[ "$status" -eq 4 ]
grep "the server ended the session" "$tmp/bob.log" | grep -v "server shutdown" |
	grep -q "reconnecting in"
[ "$(count_log "$tmp/bob.log" "moving from")" -eq "$moves" ]

# ---- --logout reaches a live node, whichever comes first --------------------------
# bob's first node is still down. alice stops (her login stays), then
# --logout tries the nodes in its shuffled order, each for one handshake,
# and ends the login on the live one; the shared store holds it no more.
kill -TERM "$alice_pid"
wait "$alice_pid"
[ "$(admitted_devices alice)" = 1 ]
timeout 60 ip netns exec "$ns_cli" "$VPNC" -c "$tmp/alice.conf" --logout -v \
	</dev/null >>"$tmp/alice-logout.log" 2>&1
log_has "$tmp/alice-logout.log" "logged out: the server confirmed it"
grep "moving from" "$tmp/alice-logout.log" || echo "(the live node came first)"
[ "$(admitted_devices alice)" = 0 ]
