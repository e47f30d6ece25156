#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The cluster's listing on a PostgreSQL store (issue 15, items 3 and 6):
# t-cluster-sessions shows it on one SQLite file; here node A ($ns_srv,
# node-a) and node B ($ns_srv2, node-b) share a real PostgreSQL server
# (lib.sh ns-node2, ns-pg), where each node records its heartbeat and its
# live sessions.
#
# alice is admitted on A, bob on B. `vpnctl status --cluster` asked of
# either node names both nodes; `vpnctl sessions --cluster` asked of
# either node, or read from the store itself (-d CONNINFO --store), lists
# alice's session on node-a and bob's on node-b. Node A killed (SIGKILL:
# no goodbye) stops beating and ages out of the listing with alice's
# session (10 s of silence: polled, bound 30 s); node-b and bob stay.
source "$(dirname "$0")/lib.sh"

# cluster_json ASKED status|sessions: `vpnctl ... --cluster --json` asked of
# node ASKED (a or b), or read from the store (store).
cluster_json() {
	case $1 in
	a) vpnctl_json "$2" --cluster ;;
	b) vpnctl2_json "$2" --cluster ;;
	store) q_srv2 "$VPNCTL" -d "$PG_CONNINFO" "$2" --cluster --store \
		--json ;;
	esac
}

# nodes_are ASKED NAMES: the nodes listed (status --cluster), by name.
nodes_are() {
	local json names
	json=$(cluster_json "$1" status) || return 1
	names=$(/usr/bin/python3 -c '
import json, sys
print(" ".join(sorted(n["name"] for n in json.load(sys.stdin)["nodes"])))' \
		<<<"$json") || return 1
	[ "$names" = "$2" ]
}

# on_node ASKED USER NODE: the listing asked of ASKED has USER's session,
# on NODE, once.
on_node() {
	[ "$(cluster_json "$1" sessions | json_select node "user=$2" |
		single)" = "$3" ]
}

# not_listed ASKED USER: the listing asked of ASKED has no session of USER.
not_listed() {
	local json
	json=$(cluster_json "$1" sessions) || return 1
	[ -z "$(json_select node "user=$2" <<<"$json")" ]
}

setup_topology
setup_client2
setup_pg
write_vpnd_conf "user-db = \"$PG_CONNINFO\"" 'node-name = "node-a"'
setup_node2
sed -i 's/^node-name = .*/node-name = "node-b"/' "$tmp/vpnd2.conf"
grep -qx 'node-name = "node-b"' "$tmp/vpnd2.conf"
alice=$(enrol alice)
bob=$(enrol bob)
[ ${#alice} -eq 32 ] && [ ${#bob} -eq 32 ]
write_vpnc_conf alice alice
write_vpnc_conf bob bob
sed -i "s|^server = .*|server = \"$SRV2_ADDR:51900\"|" "$tmp/bob.conf"
grep -qx "server = \"$SRV2_ADDR:51900\"" "$tmp/bob.conf"
start_vpnd
start_vpnd2

start_vpnc alice "$PASSWORD" "$(totp "$alice")"
wait_log "$tmp/alice.log" "connected as alice"
VPNC_NS=$ns_cli2 start_vpnc bob "$PASSWORD" "$(totp "$bob")"
wait_log "$tmp/bob.log" "connected as bob"
# Beats and sessions reach the store by batched store jobs: polled.
for asked in a b store; do
	wait_for 10 nodes_are "$asked" "node-a node-b"
	wait_for 10 on_node "$asked" alice node-a
	wait_for 10 on_node "$asked" bob node-b
done

kill -KILL "$VPND_PID"
wait "$VPND_PID" 2>/dev/null || true
for asked in b store; do
	wait_for 30 nodes_are "$asked" node-b
	not_listed "$asked" alice
	on_node "$asked" bob node-b
done
