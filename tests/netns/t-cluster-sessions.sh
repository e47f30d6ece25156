#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Nodes that know each other (issue 15, items 3 and 6): two vpnd nodes in
# two namespaces share the server key and one store (one SQLite file: safe
# across processes on one host; lib.sh, ns-node2; with
# CLUSTER_STORE=postgresql, t-cluster-sessions-pg.sh, a PostgreSQL server
# of its own, lib.sh ns-pg), named node-a and node-b (node-name). alice
# logs in on node-a, bob on node-b.
#
# - `vpnctl sessions --cluster --json` asked of either node, and read
#   from the store itself (--store, no vpnd asked), lists both sessions
#   with the right node names; `status --cluster` lists both nodes; plain
#   `sessions` and the metrics name the node asked.
# - A kick of alice issued on node-b ends her session on node-a within
#   about a second (polled, bound 3 s), and she leaves the listing.
# - The store forgetting node-b while it lives (as an outage longer than
#   the bound leaves it: given up by the listings): its next beat learns
#   it and records bob again (polled, bound 10 s).
# - PostgreSQL only: the database server stopped a moment; node-b's beats
#   fail, nothing else stops, and once it is back the nodes record
#   themselves and their sessions again.
# - node-b killed with -9 (no goodbye) ages out of the listing, with bob's
#   session, within the bound vpnd keeps (a beat every 2 s, given up after
#   10 s of silence: polled, bound 20 s), node-a staying.
# - node-b started again: bob, resuming there, is listed on it again; a
#   graceful stop of node-b removes it and bob from the listing at once.
source "$(dirname "$0")/lib.sh"

# cluster_sessions NODE: `vpnctl sessions --cluster --json` asked of NODE
# (a or b), or read from the store (store).
cluster_sessions() {
	case $1 in
	a) vpnctl_json sessions --cluster ;;
	b) vpnctl2_json sessions --cluster ;;
	store) q_srv "$VPNCTL" -d "$store" sessions --cluster --store --json ;;
	esac
}

# cluster_nodes NODE: the node names of `vpnctl status --cluster --json`.
cluster_nodes() {
	local json
	if [ "$1" = a ]; then
		json=$(vpnctl_json status --cluster) || return 1
	else
		json=$(vpnctl2_json status --cluster) || return 1
	fi
	/usr/bin/python3 -c '
import json, sys
print(" ".join(n["name"] for n in json.load(sys.stdin)["nodes"]))' <<<"$json"
}

# on_node ASKED USER NODE: the listing asked of ASKED has USER's session,
# on NODE, once.
on_node() {
	[ "$(cluster_sessions "$1" | json_select node "user=$2" | single)" = "$3" ]
}

# not_listed ASKED USER: the listing asked of ASKED has no session of USER.
not_listed() {
	local json
	json=$(cluster_sessions "$1") || return 1
	[ -z "$(json_select node "user=$2" <<<"$json")" ]
}

nodes_are() { [ "$(cluster_nodes "$1")" = "$2" ]; }

# store_sql STATEMENT: runs STATEMENT on the store, beside the nodes.
store_sql() {
	if [ "${CLUSTER_STORE:-sqlite}" = postgresql ]; then
		pg_sql "$1"
		return
	fi
	/usr/bin/python3 -c '
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=10)
db.execute("PRAGMA foreign_keys = ON")
db.execute(sys.argv[2])
db.commit()' "$tmp/users.db" "$1"
}

# ping_through NS SECONDS: pings the nodes' tunnel address from NS until
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
if [ "${CLUSTER_STORE:-sqlite}" = postgresql ]; then
	setup_pg
	store=$PG_CONNINFO
	write_vpnd_conf 'node-name = "node-a"' "user-db = \"$PG_CONNINFO\""
else
	store=$tmp/users.db
	write_vpnd_conf 'node-name = "node-a"'
fi
setup_node2
sed -i 's|^node-name = .*|node-name = "node-b"|' "$tmp/vpnd2.conf"
grep -q '^node-name = "node-b"$' "$tmp/vpnd2.conf"
write_vpnc_conf alice alice
write_vpnc_conf bob bob 'reconnect-max-backoff = "1s"' \
	'test-timer-divisor = 5'
sed -i "s|^server = .*|server = \"$SRV2_ADDR:51900\"|" "$tmp/bob.conf"
alice_secret=$(enrol alice)
bob_secret=$(enrol bob)
start_vpnd
start_vpnd2
if [ "${CLUSTER_STORE:-sqlite}" = postgresql ]; then
	[ ! -e "$tmp/users.db" ]
else
	[ -s "$tmp/users.db" ]
fi
[ "$(status_field node)" = node-a ]
wait_for 5 nodes_are a "node-a node-b"
wait_for 5 nodes_are b "node-a node-b"

# ---- both sessions, from either node and from the store ------------------------
start_vpnc alice "$PASSWORD" "$(totp "$alice_secret")"
alice_pid=$VPNC_PID
VPNC_NS=$ns_cli2 start_vpnc bob "$PASSWORD" "$(totp "$bob_secret")"
bob_pid=$VPNC_PID
wait_log "$tmp/alice.log" "connected as alice" 30
wait_log "$tmp/bob.log" "connected as bob" 30
for asked in a b store; do
	wait_for 5 on_node $asked alice node-a
	wait_for 5 on_node $asked bob node-b
done
cluster_sessions a | tee "$tmp/cluster.json"
alice_key=$(client_key alice)
[ "$(json_select session user=alice <"$tmp/cluster.json" | single)" = "$alice_key" ]
[ "$(json_select address4 user=alice <"$tmp/cluster.json" | single)" = \
	"$(client_addr "$tmp/alice.log")" ]
[ "$(json_select address4 user=bob <"$tmp/cluster.json" | single)" = \
	"$(client_addr "$tmp/bob.log")" ]
[ "$(endpoint_host "$(json_select endpoint user=bob <"$tmp/cluster.json" |
	single)")" = "$CLI2_ADDR" ]
# Plain sessions and the metrics name the node asked.
[ "$(session_field alice node)" = node-a ]
n_srv "$VPNCTL" -c "$tmp/vpnd.conf" metrics | grep -q '^vpnd_node_info{node="node-a"} 1$'
# The text forms, for people.
n_srv "$VPNCTL" -c "$tmp/vpnd.conf" sessions --cluster | tee "$tmp/cluster.txt"
head -n 1 "$tmp/cluster.txt" | grep -q "^NODE  *USER  *ENDPOINT"
grep -q "^node-b  *bob " "$tmp/cluster.txt"
n_srv "$VPNCTL" -c "$tmp/vpnd.conf" status --cluster | tee "$tmp/nodes.txt"
grep -q "^node-a .* 1$" "$tmp/nodes.txt"

# ---- a kick on node-b ends alice's session on node-a ---------------------------
q_srv2 "$VPNCTL" -c "$tmp/vpnd2.conf" kick alice
wait_for 3 no_session alice
wait_for 3 not_listed b alice
wait_gone "$alice_pid" 100
on_node a bob node-b

# ---- the store forgets node-b: it records bob again ---------------------------
store_sql "DELETE FROM nodes WHERE name = 'node-b'"
wait_log "$tmp/vpnd2.log" "no longer knew node node-b" 10
wait_for 10 on_node a bob node-b

# ---- PostgreSQL down a moment: the nodes catch up ------------------------------
store_down() { [ "$(status_field store)" != ok ]; }
# no_node_error: node-b's status has no node_error (its beat went through).
no_node_error() {
	local json
	json=$(vpnctl2_json status) || return 1
	! json_select node_error <<<"$json" >/dev/null 2>&1
}
if [ "${CLUSTER_STORE:-sqlite}" = postgresql ]; then
	stop_pg
	wait_for 15 store_down
	wait_log "$tmp/vpnd2.log" "did not take node node-b's beat" 15
	kill -0 "$VPND2_PID"
	vpnctl2_json status | json_select node_error | single
	q_cli2 ping -c 1 -W 2 $TUN_SRV
	start_pg
	wait_log "$tmp/vpnd2.log" "node node-b is recorded in the store again" 20
	no_node_error
	wait_for 10 on_node a bob node-b
	wait_for 10 nodes_are a "node-a node-b"
fi

# ---- node-b killed: it ages out, with bob's session ----------------------------
kill -KILL "$VPND2_PID"
wait "$VPND2_PID" 2>/dev/null || true
wait_for 20 nodes_are a node-a
not_listed a bob
not_listed store bob

# ---- node-b again: bob resumes there; a graceful stop removes it at once -------
start_vpnd2
wait_for 5 nodes_are a "node-a node-b"
# bob notices the new node by his pings going unanswered.
ping_through "$ns_cli2" 60
wait_for 5 on_node a bob node-b
kill -TERM "$VPND2_PID"
wait "$VPND2_PID"
nodes_are a node-a
not_listed a bob
not_listed store bob
kill -0 "$bob_pid"

stop_vpnd
echo "ok"
