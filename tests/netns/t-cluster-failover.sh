#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A client fails over between two nodes sharing a PostgreSQL store (issue
# 15, items 5 and the acceptance; PROTOCOL.md section 6, rule 6): t-failover
# with the store a real PostgreSQL server in its own namespace (lib.sh
# ns-pg) instead of one SQLite file.
#
# alice names both nodes (two server lines, short test timers). The node
# she uses is killed (SIGKILL: no goodbye, its store connections cut);
# her pings make her notice and she moves to the other node, which finds
# her admission in the store: RESUME, the same tunnel address and login
# time, no new code (her stdin held one: a second prompt would make her
# exit 4), no password check there; traffic passes again, and the store
# still holds her one admission.
source "$(dirname "$0")/lib.sh"

# in_use LOG: the address of the node the client of LOG was last admitted
# through (its "server ... (i of n)" line).
in_use() {
	grep -E ' server .*\([0-9]+ of [0-9]+\)$' "$1" | tail -n 1 |
		grep -oE '[0-9]+(\.[0-9]+){3}:51900' | cut -d: -f1
}

# node_session NODE USER FIELD: FIELD of USER's admitted session on the
# node at address NODE.
node_session() {
	local ctl=vpnctl_json
	[ "$1" = "$SRV_ADDR" ] || ctl=vpnctl2_json
	$ctl sessions | json_select "$3" state=admitted "user=$2" | single
}

# connected_times LOG N: the client of LOG has been admitted N times.
connected_times() { [ "$(count_log "$1" "connected as")" -eq "$2" ]; }

# ping_through SECONDS: pings the node's tunnel address from $ns_cli until
# one answers, for at most SECONDS (each try at most 1 s).
ping_through() {
	local deadline=$((SECONDS + $1))
	until q_cli ping -c 1 -W 1 $TUN_SRV >/dev/null 2>&1; do
		if ((SECONDS >= deadline)); then
			echo "no answer through the tunnel in $1 s" >&2
			return 1
		fi
	done
}

setup_topology
setup_pg
write_vpnd_conf "user-db = \"$PG_CONNINFO\""
setup_node2
write_vpnc_conf alice alice "server = \"$SRV2_ADDR:51900\"" \
	"test-timer-divisor = 5"
[ "$(grep -c '^server = ' "$tmp/alice.conf")" -eq 2 ]
alice=$(enrol alice)
[ ${#alice} -eq 32 ]
start_vpnd
start_vpnd2

start_vpnc alice "$PASSWORD" "$(totp "$alice")" -v
wait_log "$tmp/alice.log" "connected as alice" 30
addr=$(client_addr "$tmp/alice.log")
first=$(in_use "$tmp/alice.log")
if [ "$first" = "$SRV_ADDR" ]; then
	second=$SRV2_ADDR first_pid=$VPND_PID second_log=$tmp/vpnd2.log
else
	second=$SRV_ADDR first_pid=$VPND2_PID second_log=$tmp/vpnd.log
fi
echo "alice: $addr on $first"
[ -n "$addr" ] && [ -n "$first" ]
[ "$(node_session "$first" alice address4)" = "$addr" ]
login_time=$(node_session "$first" alice login_time)
n_cli ping -c 2 -i 0.2 -W 2 $TUN_SRV

kill -KILL "$first_pid"
wait "$first_pid" 2>/dev/null || true
ping_through 60
wait_for 20 connected_times "$tmp/alice.log" 2
log_has "$tmp/alice.log" "moving from $first:51900 to $second:51900"
[ "$(in_use "$tmp/alice.log")" = "$second" ]
[ "$(client_addr "$tmp/alice.log")" = "$addr" ]
[ "$(node_session "$second" alice address4)" = "$addr" ]
[ "$(node_session "$second" alice login_time)" = "$login_time" ]
refute grep -q "login user=alice" "$second_log"
[ "$(count_log "$tmp/alice.log" "asks us to log in")" -eq 1 ]
kill -0 "$VPNC_PID"
n_cli ping -c 3 -i 0.2 -W 2 $TUN_SRV
# The store holds her one admission, with that address.
[ "$(admitted_devices alice)" -eq 1 ]
[ "$(device_field alice "$(client_key alice)" address4)" = "$addr" ]
