#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A node still alive lets go of a client that moved to another node (issue
# 15, items 3 and 5): two vpnd nodes, node-a and node-b (lib.sh ns-node2:
# one server key, one SQLite store), each with a leg on one office LAN (a
# bridge in $ns_office, as t-failover-lan.sh), in lan-mode proxy-arp.
# alice names both nodes (two server lines, short test timers).
#
# Her path to the node she is on is cut (nft in her namespace drops her
# UDP to and from it; the node itself lives on, its links up). Her pings
# make her move to the other node, where she resumes (same address, no
# new code). That node records her session, taking it from the first
# node in the store, which appends a session-moved event: the first node,
# reading it, drops its peer of her within BOUND_S of her admission on
# the other (polled through `vpnctl sessions --json`), and its proxy
# entries for her addresses go with it (`ip neigh show proxy`), so only
# the node she is on answers for them. Without the event the stale peer
# stays until it idles out (about 9 minutes). Her admission stays in the
# store, she is sent no DISCONNECT, and the office host reaches her
# through the other node.
#
# Then she roams on that node (a new address on her link): the node
# records her session again at its next beat, and the cluster's listing
# (`vpnctl sessions --cluster`, asked of the first node) shows her new
# endpoint within 6 s, where it kept the one of her admission before.
#
# The store is one SQLite file; with MOVED_STORE=postgresql
# (t-cluster-moved-pg.sh) a PostgreSQL server of its own (lib.sh ns-pg).
source "$(dirname "$0")/lib.sh"

BOUND_S=5
C4=10.20.0.130
C6=fd00:20::102
TUN_PA=10.20.0.129 # the nodes' tunnel address in proxy-arp
ns_office=vpn-office-$$
q_office() { ip netns exec "$ns_office" "$@"; }

# The LAN of t-failover-lan.sh: both nodes' lan0 and the office host's
# lan1 on one bridge.
setup_office() {
	local l
	ip -n "$ns_srv" link del lan0
	ip netns add "$ns_office"
	namespaces+=("$ns_office")
	ip -n "$ns_office" link set lo up
	ip -n "$ns_office" link add br0 type bridge stp_state 0
	ip link add lan0 netns "$ns_srv" type veth peer name oa netns "$ns_office"
	ip link add lan0 netns "$ns_srv2" type veth peer name ob netns "$ns_office"
	ip link add lan1 netns "$ns_lan" type veth peer name oh netns "$ns_office"
	ip -n "$ns_srv" addr add 10.20.0.1/24 dev lan0
	ip -n "$ns_srv" -6 addr add fd00:20::1/64 dev lan0 nodad
	ip -n "$ns_srv2" addr add 10.20.0.3/24 dev lan0
	ip -n "$ns_srv2" -6 addr add fd00:20::3/64 dev lan0 nodad
	ip -n "$ns_lan" addr add $LAN_HOST/24 dev lan1
	ip -n "$ns_lan" -6 addr add fd00:20::2/64 dev lan1 nodad
	for l in oa ob oh; do
		ip -n "$ns_office" link set "$l" master br0 up
	done
	ip -n "$ns_office" link set br0 up
	for l in "$ns_srv lan0" "$ns_srv2 lan0" "$ns_lan lan1"; do
		set -- $l
		ip -n "$1" link set "$2" up
	done
	# The office host reaches the pools only as LAN addresses.
	ip -n "$ns_lan" route del default 2>/dev/null || true
	ip -n "$ns_lan" -6 route del default 2>/dev/null || true
}

in_use() {
	grep -E ' server .*\([0-9]+ of [0-9]+\)$' "$1" | tail -n 1 |
		grep -oE '[0-9]+(\.[0-9]+){3}:51900' | cut -d: -f1
}
other() {
	if [ "$1" = "$SRV_ADDR" ]; then echo "$SRV2_ADDR"; else echo "$SRV_ADDR"; fi
}
node_log() {
	if [ "$1" = "$SRV_ADDR" ]; then echo "$tmp/vpnd.log"; else echo "$tmp/vpnd2.log"; fi
}
node_ns() {
	if [ "$1" = "$SRV_ADDR" ]; then echo "$ns_srv"; else echo "$ns_srv2"; fi
}
node_name() {
	if [ "$1" = "$SRV_ADDR" ]; then echo node-a; else echo node-b; fi
}
node_sessions() {
	if [ "$1" = "$SRV_ADDR" ]; then vpnctl_json sessions; else vpnctl2_json sessions; fi
}
# node_session NODE USER FIELD: FIELD of USER's admitted session on NODE.
node_session() {
	node_sessions "$1" | json_select "$3" state=admitted "user=$2" | single
}
admitted_on() { [ "$(node_session "$1" "$2" address4)" = "$3" ]; } 2>/dev/null
# no_peer_on NODE USER: NODE answers and holds no session of USER at all
# (admitted or not).
no_peer_on() {
	local json
	json=$(node_sessions "$1") || return 1
	[ -z "$(json_select session "user=$2" <<<"$json")" ]
}
# proxied NODE ADDR: NODE's lan0 answers for ADDR (a proxy entry).
proxied() {
	ip -n "$(node_ns "$1")" neigh show proxy dev lan0 | grep -qw -- "$2"
}
no_proxy() { ! proxied "$@"; }
connected_times() { [ "$(count_log "$1" "connected as")" -ge "$2" ]; }

# ping_through NS ADDR SECONDS: pings ADDR from NS until one answers, for
# at most SECONDS (each try at most 1 s): what makes a client notice.
ping_through() {
	local deadline=$((SECONDS + $3))
	until ip netns exec "$1" ping -c 1 -W 1 "$2" >/dev/null 2>&1; do
		if ((SECONDS >= deadline)); then
			echo "no answer from $2 in $1 in $3 s" >&2
			return 1
		fi
	done
}

now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

# cut_path NODE: alice's UDP to and from NODE dropped in her namespace;
# the node and its links are untouched.
cut_path() {
	q_cli nft add table inet cut
	q_cli nft add chain inet cut out '{ type filter hook output priority 0; }'
	q_cli nft add chain inet cut in '{ type filter hook input priority 0; }'
	q_cli nft add rule inet cut out ip daddr "$1" udp dport 51900 drop
	q_cli nft add rule inet cut in ip saddr "$1" udp sport 51900 drop
}

setup_topology
store_line=()
if [ "${MOVED_STORE:-sqlite}" = postgresql ]; then
	setup_pg
	store_line=("user-db = \"$PG_CONNINFO\"")
fi
write_vpnd_conf 'node-name = "node-a"' 'lan-mode = "proxy-arp"' \
	'address-pool4 = "10.20.0.128/25"' 'address-pool6 = "fd00:20::100/120"' \
	"${store_line[@]}"
setup_node2
sed -i 's|^node-name = .*|node-name = "node-b"|' "$tmp/vpnd2.conf"
grep -q '^node-name = "node-b"$' "$tmp/vpnd2.conf"
setup_office
write_vpnc_conf alice alice "server = \"$SRV2_ADDR:51900\"" \
	"test-timer-divisor = 5"
alice_secret=$(enrol alice)
start_vpnd -v
start_vpnd2 -v
# The store is the one asked for: no SQLite file with PostgreSQL.
if [ "${MOVED_STORE:-sqlite}" = postgresql ]; then
	[ ! -e "$tmp/users.db" ]
else
	[ -s "$tmp/users.db" ]
fi

# ---- alice on one node, proxied there only ------------------------------------
start_vpnc alice "$PASSWORD" "$(totp "$alice_secret")" -v
wait_log "$tmp/alice.log" "connected as alice" 30
[ "$(client_addr "$tmp/alice.log")" = $C4 ]
first=$(in_use "$tmp/alice.log")
second=$(other "$first")
echo "alice: $C4 on $first ($(node_name "$first"))"
wait_for 5 admitted_on "$first" alice $C4
wait_for 5 proxied "$first" $C4
wait_for 5 proxied "$first" $C6
no_proxy "$second" $C4
n_cli ping -c 2 -i 0.2 -W 2 $TUN_PA
refute grep -q "let go here" "$tmp/vpnd.log" "$tmp/vpnd2.log"

# ---- her path to it is cut: she moves, and the first node lets her go ----------
cut_path "$first"
ping_through "$ns_cli" $TUN_PA 60
wait_for 20 connected_times "$tmp/alice.log" 2
log_has "$tmp/alice.log" "moving from $first:51900 to $second:51900"
wait_for 20 admitted_on "$second" alice $C4
start=$(now_ms)
[ "$(count_log "$tmp/alice.log" "asks us to log in")" -eq 1 ]
# The first node is alive and answers all along.
kill -0 "$VPND_PID"
kill -0 "$VPND2_PID"
wait_for $BOUND_S no_peer_on "$first" alice
wait_for $BOUND_S no_proxy "$first" $C4
wait_for $BOUND_S no_proxy "$first" $C6
took=$(($(now_ms) - start))
echo "$(node_name "$first") let alice go $took ms after her admission on $(node_name "$second")"
((took < BOUND_S * 1000))
log_has "$(node_log "$first")" "moved to node $(node_name "$second"); let go here"
refute grep -q "let go here" "$(node_log "$second")"
# Only the node she is on answers for her; her admission stays; no
# DISCONNECT was sent her (her login is not over, she did not move for it).
proxied "$second" $C4
proxied "$second" $C6
admitted_on "$second" alice $C4
[ "$(admitted_devices alice)" = 1 ]
refute grep -q "the server ended the session" "$tmp/alice.log"
[ "$(count_log "$tmp/alice.log" "moving from")" -eq 1 ]
# She passes traffic through the other node, and the office host reaches
# her through it.
n_cli ping -c 2 -i 0.2 -W 2 $TUN_PA
wait_for $BOUND_S q_lan ping -c 1 -W 1 $C4

# ---- she roams on that node: the cluster's listing follows --------------------
# Her session as the store lists it, asked of the first node: her
# endpoint's address and her node.
listed() {
	local json ep
	json=$(vpnctl_json sessions --cluster) || return 1
	ep=$(json_select endpoint user=alice <<<"$json" | single) || return 1
	[ "$(endpoint_host "$ep")" = "$1" ] &&
		[ "$(json_select node user=alice <<<"$json" | single)" = "$2" ]
}
wait_for 5 listed $CLI_ADDR "$(node_name "$second")"
n_cli ip addr del $CLI_ADDR/24 dev cli0
n_cli ip addr add 198.51.100.3/24 dev cli0
n_cli ip route replace default via 198.51.100.254 dev cli0
ping_through "$ns_cli" $TUN_PA 10
[ "$(endpoint_host "$(node_session "$second" alice endpoint)")" = 198.51.100.3 ]
# Recorded again at the node's next beat (every 2 s).
wait_for 6 listed 198.51.100.3 "$(node_name "$second")"
n_cli ping -c 2 -i 0.2 -W 2 $TUN_PA

kill -0 "$VPNC_PID"
kill -TERM "$VPNC_PID"
wait "$VPNC_PID" || true
echo "ok"
