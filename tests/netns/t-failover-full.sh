#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A full tunnel moving between two nodes (issue 15, item 5; vpnc/fence.h):
# both nodes push 0.0.0.0/0 and ::/0 and share the key and the store
# (lib.sh, ns-node2). While vpnc is on one node, the way to that node is
# pinned outside the tunnel (a host route through the client's router)
# and the backstop refuses everything else. The node stops (SIGTERM, so
# "server shutdown"): vpnc moves to the other one through the backstop,
# which stays in place meanwhile (nothing in the clear: only the pin
# changes), the pin now names the new node and not the old, and the
# tunnel carries traffic again. At exit, no route of vpnc's is left.
source "$(dirname "$0")/lib.sh"

# in_use LOG: the address of the server the client of LOG was last
# admitted through.
in_use() {
	grep -E ' server .*\([0-9]+ of [0-9]+\)$' "$1" | tail -n 1 |
		grep -oE '[0-9]+(\.[0-9]+){3}:51900' | cut -d: -f1
}

# vpnc's routes outside its device (protocol 86), IPv4 and IPv6.
fence_routes() {
	{
		ip -n "$ns_cli" -4 route show proto 86
		ip -n "$ns_cli" -6 route show proto 86
	} | sed 's/ *$//'
}

# The device the client namespace routes ADDRESS through, or
# "unreachable".
dev_for() {
	local out
	out=$(ip -n "$ns_cli" route get "$1" 2>&1) || { echo unreachable; return; }
	sed -n 's/.* dev \([^ ]*\).*/\1/p' <<<"$out"
}

connected_times() { [ "$(count_log "$1" "connected as")" -eq "$2" ]; }

setup_topology
write_vpnd_conf 'routes = {"0.0.0.0/0", "::/0"}'
setup_node2
write_vpnc_conf cli alice "server = \"$SRV2_ADDR:51900\"" \
	'full-tunnel = yes' "state-file = \"$tmp/run/cli.state\""
secret=$(enrol alice)
start_vpnd
start_vpnd2
routes_before=$(ip -n "$ns_cli" route show table main)

start_vpnc cli "$PASSWORD" "$(totp "$secret")" -v
wait_log "$tmp/cli.log" "connected as alice" 30
addr=$(client_addr "$tmp/cli.log")
first=$(in_use "$tmp/cli.log")
if [ "$first" = "$SRV_ADDR" ]; then
	second=$SRV2_ADDR
	first_pid=$VPND_PID
else
	second=$SRV_ADDR
	first_pid=$VPND2_PID
fi
echo "alice: $addr on $first"
[ -n "$addr" ] && [ -n "$first" ]
fence_routes | tee "$tmp/fence.1"
grep -qx "$first via 198.51.100.254 dev cli0" "$tmp/fence.1"
refute grep -q "^$second " "$tmp/fence.1"
grep -qx "unreachable 0.0.0.0/1 metric 32767" "$tmp/fence.1"
grep -qx "unreachable 128.0.0.0/1 metric 32767" "$tmp/fence.1"
[ "$(dev_for "$first")" = cli0 ]
# The other node is the tunnel's, like the rest of the internet.
[ "$(dev_for "$second")" = vpn0 ]
n_cli ping -c 2 -i 0.2 -W 2 $TUN_SRV

kill -TERM "$first_pid"
wait "$first_pid"
wait_for 10 connected_times "$tmp/cli.log" 2
log_has "$tmp/cli.log" "server shutdown; moving from $first:51900 to $second:51900"
[ "$(in_use "$tmp/cli.log")" = "$second" ]
[ "$(client_addr "$tmp/cli.log")" = "$addr" ]
[ "$(count_log "$tmp/cli.log" "asks us to log in")" -eq 1 ]
# The pin moved; everything else is as it was.
fence_routes | tee "$tmp/fence.2"
grep -qx "$second via 198.51.100.254 dev cli0" "$tmp/fence.2"
refute grep -q "^$first " "$tmp/fence.2"
diff <(grep -v "^$first " "$tmp/fence.1") <(grep -v "^$second " "$tmp/fence.2")
[ "$(dev_for "$second")" = cli0 ]
[ "$(dev_for "$first")" = vpn0 ]
grep -q "^route unicast $second/32 " "$tmp/run/cli.state"
refute grep -q "^route unicast $first/32 " "$tmp/run/cli.state"
n_cli ping -c 3 -i 0.2 -W 2 $TUN_SRV

kill -TERM "$VPNC_PID"
wait "$VPNC_PID"
[ -z "$(fence_routes)" ]
[ "$(ip -n "$ns_cli" route show table main)" = "$routes_before" ]
