#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The office LAN reaches a client that moved to another node (issue 15,
# item 5): two vpnd nodes (lib.sh ns-node2: one server key, one SQLite
# store) with a leg each on one office LAN, a bridge in $ns_office that
# the office host's leg joins too.
#
#   $ns_srv  lan0 10.20.0.1/24  fd00:20::1/64 ── oa ┐
#   $ns_srv2 lan0 10.20.0.3/24  fd00:20::3/64 ── ob ├ br0 ($ns_office)
#   $ns_lan  lan1 10.20.0.2/24  fd00:20::2/64 ── oh ┘
#
# lan-mode proxy-arp (the pools ranges of the LAN's subnets, the office
# host with no route but its on-link /24 and /64, forwarding off on both
# nodes until vpnd turns it on). alice names both nodes (two server
# lines, short test timers). The office host pings her LAN addresses
# through her node, so its neighbour caches hold that node's MAC address.
# - Her node is lost (vpnd killed -9, its LAN leg cut: a kernel still
#   forwarding would otherwise carry the LAN's packets on to the other
#   node itself). She moves to the other node (same addresses, no new
#   code), which announces her addresses as it answers for them (a
#   gratuitous ARP, an unsolicited neighbour advertisement): within
#   BOUND_S of her admission there, the office host reaches her again
#   (IPv4 and IPv6), through that node's MAC address. Without the
#   announcements its caches hold the lost node's MAC for 15-45 s, then
#   probe it for 8 s more: over BOUND_S, always.
# - The node she is on now stops (SIGTERM: it removes its proxy entries,
#   puts forwarding back off, tells her to move): the same, back to the
#   first node, started again meanwhile.
# Then lan-mode nat (the default pools, lan-interface lan0): bob, on one
# node, fetches a page from the office host, seen at that node's LAN
# address; the node is lost, bob moves, and at once a new connection
# works through the other node, seen at its address (connections through
# the lost node died with its conntrack state: nat gives the LAN no way to
# reach a client but its answers).
source "$(dirname "$0")/lib.sh"

BOUND_S=5
C4=10.20.0.130
C6=fd00:20::102
TUN_PA=10.20.0.129 # the nodes' tunnel address in proxy-arp
ns_office=vpn-office-$$
q_office() { ip netns exec "$ns_office" "$@"; }

# The LAN as drawn above, in place of setup_topology's lan0-lan1 pair.
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
	for l in "$ns_srv" "$ns_srv2"; do
		ip netns exec "$l" sysctl -qw net.ipv4.ip_forward=0 \
			net.ipv6.conf.all.forwarding=0
	done
}

# in_use LOG: the address of the node the client of LOG was last admitted
# through (its "server ... (i of n)" line).
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
node_ns() {
	if [ "$1" = "$SRV_ADDR" ]; then echo "$ns_srv"; else echo "$ns_srv2"; fi
}
# node_port NODE: its leg's port on the office bridge.
node_port() {
	if [ "$1" = "$SRV_ADDR" ]; then echo oa; else echo ob; fi
}
node_lan_addr() {
	if [ "$1" = "$SRV_ADDR" ]; then echo 10.20.0.1; else echo 10.20.0.3; fi
}
node_mac() { ip netns exec "$(node_ns "$1")" cat /sys/class/net/lan0/address; }
start_node() {
	if [ "$1" = "$SRV_ADDR" ]; then start_vpnd -v; else start_vpnd2 -v; fi
}
# node_session NODE USER FIELD: FIELD of USER's admitted session on NODE.
node_session() {
	local ctl=vpnctl_json
	[ "$1" = "$SRV_ADDR" ] || ctl=vpnctl2_json
	$ctl sessions | json_select "$3" state=admitted "user=$2" | single
}
admitted_on() { [ "$(node_session "$1" "$2" address4)" = "$3" ]; } 2>/dev/null
connected_times() { [ "$(count_log "$1" "connected as")" -ge "$2" ]; }

# lose NODE: the node's vpnd killed (no goodbye) and its LAN leg cut, as
# when its host dies.
lose() {
	kill -KILL "$(node_pid "$1")"
	wait "$(node_pid "$1")" 2>/dev/null || true
	ip -n "$ns_office" link set "$(node_port "$1")" down
}

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

# lan_reaches_within START_MS ADDR: the office host's ping to ADDR (one
# try at a time, each waiting at most 1 s) is answered before BOUND_S
# have passed since START_MS.
lan_reaches_within() {
	local start=$1 addr=$2 family=-4 took
	[[ $addr != *:* ]] || family=-6
	until q_lan ping "$family" -c 1 -W 1 "$addr" >/dev/null 2>&1; do
		took=$(($(now_ms) - start))
		if ((took >= BOUND_S * 1000)); then
			echo "the office host did not reach $addr within" \
				"$BOUND_S s of the move" >&2
			q_lan ip neigh show "$addr" >&2
			return 1
		fi
	done
	took=$(($(now_ms) - start))
	echo "the office host reaches $addr $took ms after the move"
	((took < BOUND_S * 1000))
}

# lan_holds NODE: the office host's caches give the node's MAC address
# for alice's addresses.
lan_holds() {
	local mac
	mac=$(node_mac "$1")
	q_lan ip neigh show $C4 dev lan1 | grep -q "lladdr $mac"
	q_lan ip -6 neigh show $C6 dev lan1 | grep -q "lladdr $mac"
}

# moved_lan_reaches NODE LOG: alice is admitted on NODE (her addresses);
# the office host reaches both within BOUND_S of that, through NODE, and
# NODE announced them.
moved_lan_reaches() {
	local start
	wait_for 20 admitted_on "$1" alice $C4
	start=$(now_ms)
	[ "$(node_session "$1" alice address6)" = $C6 ]
	lan_reaches_within "$start" $C4
	lan_reaches_within "$start" $C6
	lan_holds "$1"
	log_has "$2" "$C4 announced on lan0 (gratuitous ARP)"
	log_has "$2" "$C6 announced on lan0 (unsolicited neighbour advertisement)"
}

setup_topology
setup_client2
write_vpnd_conf 'lan-mode = "proxy-arp"' \
	'address-pool4 = "10.20.0.128/25"' 'address-pool6 = "fd00:20::100/120"'
setup_node2
setup_office
start_web
write_vpnc_conf alice alice "server = \"$SRV2_ADDR:51900\"" \
	"test-timer-divisor = 5"
alice_secret=$(enrol alice)
start_vpnd -v
start_vpnd2 -v
[ "$(q_srv sysctl -n net.ipv4.ip_forward)" = 1 ]
[ "$(q_srv2 sysctl -n net.ipv4.ip_forward)" = 1 ]
refute grep -q "cannot announce" "$tmp/vpnd.log" "$tmp/vpnd2.log"

# ---- alice on one node: the office host reaches her through it --------------------
start_vpnc alice "$PASSWORD" "$(totp "$alice_secret")" -v
wait_log "$tmp/alice.log" "connected as alice" 30
[ "$(client_addr "$tmp/alice.log")" = $C4 ]
first=$(in_use "$tmp/alice.log")
second=$(other "$first")
echo "alice: $C4 on $first"
wait_for 5 admitted_on "$first" alice $C4
n_lan ping -c 2 -i 0.2 -W 2 $C4
n_lan ping -6 -c 2 -i 0.2 -W 2 $C6
lan_holds "$first"
refute lan_holds "$second"

# ---- her node is lost: the LAN reaches her on the other at once -----------------
lose "$first"
ping_through "$ns_cli" $TUN_PA 60
wait_for 20 connected_times "$tmp/alice.log" 2
log_has "$tmp/alice.log" "moving from $first:51900 to $second:51900"
[ "$(client_addr "$tmp/alice.log")" = $C4 ]
[ "$(count_log "$tmp/alice.log" "asks us to log in")" -eq 1 ]
moved_lan_reaches "$second" "$(node_log "$second")"
# The client, for its part, reaches the office host through it.
n_cli ping -c 2 -i 0.2 -W 2 $LAN_HOST

# ---- the node she is on stops: back to the first, reached at once --------------
ip -n "$ns_office" link set "$(node_port "$first")" up
start_node "$first"
log_has "$(node_log "$first")" "2 proxy entries on lan0 removed (left by an earlier run)"
kill -TERM "$(node_pid "$second")"
wait "$(node_pid "$second")"
log_has "$(node_log "$second")" "2 proxy entries on lan0 removed at stop"
[ "$(ip netns exec "$(node_ns "$second")" sysctl -n net.ipv4.ip_forward)" = 0 ]
wait_for 10 connected_times "$tmp/alice.log" 3
log_has "$tmp/alice.log" "server shutdown; moving from $second:51900 to $first:51900"
[ "$(client_addr "$tmp/alice.log")" = $C4 ]
moved_lan_reaches "$first" "$(node_log "$first")"
[ "$(count_log "$tmp/alice.log" "asks us to log in")" -eq 1 ]
kill -TERM "$VPNC_PID"
wait "$VPNC_PID" || true
kill -TERM "$(node_pid "$first")"
wait "$(node_pid "$first")"

# ---- lan-mode nat: a new connection through the other node at once -------------
for f in vpnd.conf vpnd2.conf; do
	printf '%s\n' 'lan-mode = "nat"' 'lan-interface = "lan0"' \
		'address-pool4 = "10.99.0.0/24"' 'address-pool6 = "fd00:99::/64"' \
		>>"$tmp/$f"
done
start_vpnd
start_vpnd2
[ "$(status_field lan_mode)" = nat ]
[ "$(vpnctl2_json status | json_select lan_mode | single)" = nat ]
write_vpnc_conf bob bob "server = \"$SRV2_ADDR:51900\"" "test-timer-divisor = 5"
bob_secret=$(enrol bob)
VPNC_NS=$ns_cli2 start_vpnc bob "$PASSWORD" "$(totp "$bob_secret")" -v
bob_pid=$VPNC_PID
wait_log "$tmp/bob.log" "connected as bob" 30
bob_addr=$(client_addr "$tmp/bob.log")
bob_first=$(in_use "$tmp/bob.log")
bob_second=$(other "$bob_first")
echo "bob: $bob_addr on $bob_first"
[ -n "$bob_addr" ]
# fetch NODE: bob fetches the page, and the office host sees NODE's LAN
# address (masqueraded), on one more line of its log.
fetch() {
	local seen
	seen=$(count_log "$tmp/web.log" "^$(node_lan_addr "$1") - - .*\"GET / HTTP")
	q_cli2 curl -s --max-time "$BOUND_S" "http://$LAN_HOST:8080/" |
		grep -q "hello from the office"
	[ "$(count_log "$tmp/web.log" "^$(node_lan_addr "$1") - - .*\"GET / HTTP")" \
		-eq $((seen + 1)) ]
}
fetch "$bob_first"
q_cli2 ping -6 -c 1 -W 2 fd00:20::2 >/dev/null

lose "$bob_first"
ping_through "$ns_cli2" $TUN_SRV 60
wait_for 20 connected_times "$tmp/bob.log" 2
log_has "$tmp/bob.log" "moving from $bob_first:51900 to $bob_second:51900"
wait_for 20 admitted_on "$bob_second" bob "$bob_addr"
# At once: the first new connection, within BOUND_S.
fetch "$bob_second"
q_cli2 ping -6 -c 1 -W "$BOUND_S" fd00:20::2 >/dev/null
q_cli2 ping -c 1 -W "$BOUND_S" $LAN_HOST >/dev/null
kill -TERM "$bob_pid"
wait "$bob_pid" || true
echo "ok"
