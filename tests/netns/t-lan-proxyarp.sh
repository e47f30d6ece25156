#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# lan-mode proxy-arp: the pools are ranges of the office LAN's own subnets
# (10.20.0.128/25 of 10.20.0.0/24, fd00:20::100/120 of fd00:20::/64), and
# the office host has no route but its on-link /24 and /64 (its default
# routes removed), so it reaches a client only because vpnd answers ARP
# and NDP for it on lan0.
#
#   cli 10.20.0.130 ── tunnel ── srv vpn0 10.20.0.129/32 │ lan0 10.20.0.1
#                                    proxy entries on lan0 ┘      │
#                                          lan 10.20.0.2/24 ───────┘
#
# A pool holding the LAN's own address, one of no LAN, and a lan-interface
# the pools are no range of stop vpnd at start, changing nothing. Then
# vpnd finds lan0 by itself (no lan-interface), turns forwarding and
# proxy_ndp on, holds its tunnel address as a host prefix. The client
# reaches the office host by ping (IPv4, IPv6) and TCP, seen at its own
# LAN address (no NAT); the office host reaches the client at its LAN
# address by ping and TCP, through the server's MAC address. The proxy
# entries and host routes come with the admission and go with it (a
# kick), come back with a new login, go at SIGTERM (sysctls put back),
# stay after kill -9 and are swept by the next start, then come back,
# once each, when the client resumes its login. nftables is never
# touched.
source "$(dirname "$0")/lib.sh"

V4=net.ipv4.ip_forward
V6=net.ipv6.conf.all.forwarding
NDP=net.ipv6.conf.lan0.proxy_ndp
C4=10.20.0.130
C6=fd00:20::102

# proxies: the proxy entries on the server's lan0, one address a line.
proxies() { q_srv ip neigh show proxy dev lan0 | awk '{ print $1 }'; }
# proxied ADDR: how many proxy entries ADDR has (0 or 1).
proxied() { proxies | grep -cxF "$1" || true; }
both_proxied() { [ "$(proxied $C4)" -eq 1 ] && [ "$(proxied $C6)" -eq 1 ]; }
none_proxied() { [ -z "$(proxies)" ]; }
# host_route ADDR: vpnd's route to ADDR into vpn0.
host_route() {
	local family=-4
	[[ $1 != *:* ]] || family=-6
	q_srv ip "$family" route show "$1" dev vpn0 2>/dev/null | grep -q .
}
# ruleset_empty: no nftables table at all in the server's namespace.
ruleset_empty() { [ -z "$(q_srv nft list ruleset)" ]; }

# lan_reaches: the office host reaches the client at its LAN addresses,
# by ping and TCP, with no route of its own, through the server's lan0.
lan_reaches() {
	local before mac
	before=$(echo_replies "$ns_lan")
	n_lan ping -c 3 -i 0.2 -W 2 $C4 >/dev/null || true
	wait_for 10 replies_since "$ns_lan" "$before" 3
	n_lan ping -6 -c 2 -i 0.2 -W 2 $C6
	[ "$(q_lan timeout 5 bash -c "exec 3<>/dev/tcp/$C4/8082; head -n 1 <&3")" \
		= "client sees $LAN_HOST" ]
	# Answered by the server: the office host has its MAC for the client.
	mac=$(q_srv cat /sys/class/net/lan0/address)
	q_lan ip neigh show $C4 dev lan1 | grep -q "lladdr $mac"
	q_lan ip -6 neigh show $C6 dev lan1 | grep -q "lladdr $mac"
}

# client_reaches: the client reaches the office host by ping and TCP, and
# the office host sees the client's own address.
client_reaches() {
	local seen
	n_cli ping -c 3 -i 0.2 -W 2 $LAN_HOST >/dev/null
	n_cli ping -6 -c 2 -i 0.2 -W 2 fd00:20::2 >/dev/null
	seen=$(count_log "$tmp/web.log" "^$C4 - - .*\"GET / HTTP")
	n_cli curl -s --max-time 10 "http://$LAN_HOST:8080/" |
		grep -q "hello from the office"
	[ "$(count_log "$tmp/web.log" "^$C4 - - .*\"GET / HTTP")" -eq $((seen + 1)) ]
	[ "$(count_log "$tmp/web.log" "GET / HTTP")" = \
		"$(count_log "$tmp/web.log" "^$C4 - - ")" ]
}

# connected N: alice's vpnc has said it is connected N times.
connected() { [ "$(count_log "$tmp/alice.log" "connected as alice")" -eq "$1" ]; }

# refused NAME LINE...: vpnd, started with vpnd.conf and LINEs after it,
# refuses to start with an error naming the problem ($tmp/NAME.log: last
# LINE), leaves no device and no sysctl changed, and exits cleanly
# (sanitizers included).
refused() {
	local name=$1 rc=0 want
	shift
	cp "$tmp/vpnd.conf" "$tmp/$name.conf"
	printf '%s\n' "${@:1:$#-1}" >>"$tmp/$name.conf"
	want=${!#}
	timeout 20 ip netns exec "$ns_srv" "$VPND" -f -c "$tmp/$name.conf" \
		>"$tmp/$name.log" 2>&1 || rc=$?
	cat "$tmp/$name.log"
	# 124: timeout's own, had vpnd kept running.
	[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]
	grep -qF -- "$want" "$tmp/$name.log"
	refute grep -q "Sanitizer" "$tmp/$name.log"
	no_device "$ns_srv"
	[ "$(q_srv sysctl -n $V4)" = 0 ] && [ "$(q_srv sysctl -n $V6)" = 0 ]
	[ "$(q_srv sysctl -n $NDP)" = 0 ]
	none_proxied
}

# A TCP service on the client that names the peer it sees.
start_client_service() {
	ip netns exec "$ns_cli" /usr/bin/python3 -c '
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8082))
s.listen(8)
while True:
    c, peer = s.accept()
    c.sendall(("client sees " + peer[0] + "\n").encode())
    c.close()
' >"$tmp/client-service.log" 2>&1 &
	pids+=("$!")
	wait_for 10 q_cli bash -c 'exec 3<>/dev/tcp/127.0.0.1/8082'
}

setup_topology
ip -n "$ns_lan" route del default
ip -n "$ns_lan" -6 route del default
q_srv sysctl -qw "$V4=0" "$V6=0" "$NDP=0"
write_vpnd_conf 'lan-mode = "proxy-arp"' \
	'address-pool4 = "10.20.0.128/25"' 'address-pool6 = "fd00:20::100/120"'
write_vpnc_conf alice alice
secret=$(enrol alice)
start_web
start_client_service
# The office host has no route to the client but its own subnet.
q_lan ip route get $C4 | grep -q "^$C4 dev lan1 src $LAN_HOST"

# ---- pools that are no range of the LAN: vpnd refuses to start ------------------
refused own 'address-pool4 = "10.20.0.0/25"' \
	"address-pool4 10.20.0.0/25 holds lan0's own address 10.20.0.1"
refused elsewhere 'address-pool4 = "10.30.0.0/24"' \
	"address-pool4 10.30.0.0/24 lies in no subnet of this host's interfaces"
refused wrong-lan 'lan-interface = "srv0"' \
	"address-pool4 10.20.0.128/25 is not a range of a subnet of srv0"

# ---- start: lan0 found, forwarding on, a host address, no proxy yet ------------
ruleset_empty
start_vpnd
log_has "$tmp/vpnd.log" "the office LAN is on lan0 (found at start)"
[ "$(status_field lan_mode)" = proxy-arp ]
[ "$(status_field lan_interface)" = lan0 ]
[ "$(status_field address4)" = 10.20.0.129/32 ]
[ "$(status_field address6)" = fd00:20::101/128 ]
q_srv ip addr show dev vpn0 | grep -q "inet 10.20.0.129/32"
[ "$(q_srv sysctl -n $V4)" = 1 ]
[ "$(q_srv sysctl -n $V6)" = 1 ]
[ "$(q_srv sysctl -n $NDP)" = 1 ]
none_proxied
ruleset_empty

# ---- a client logs in: answered for, both ways ---------------------------------
start_vpnc alice "$PASSWORD" "$(totp "$secret")"
wait_log "$tmp/alice.log" "connected as alice"
[ "$(session_field alice address4)" = $C4 ]
[ "$(session_field alice address6)" = $C6 ]
wait_for 5 both_proxied
[ "$(proxies | wc -l)" -eq 2 ]
host_route $C4
host_route $C6
client_reaches
lan_reaches
ruleset_empty

# ---- its admission ends: the entries and routes go -------------------------------
q_srv "$VPNCTL" -c "$tmp/vpnd.conf" kick alice
wait_no_session alice 5
wait_for 5 none_proxied
refute host_route $C4
refute host_route $C6
kill -TERM "$VPNC_PID" 2>/dev/null || true
wait_gone "$VPNC_PID" 100
# A new login brings them back.
start_vpnc alice "$PASSWORD" "$(totp "$secret" 1)"
wait_for 20 connected 2
wait_for 5 both_proxied
lan_reaches

# ---- SIGTERM: nothing left, sysctls put back -----------------------------------
stop_vpnd
none_proxied
no_device "$ns_srv"
[ "$(q_srv sysctl -n $V4)" = 0 ]
[ "$(q_srv sysctl -n $V6)" = 0 ]
[ "$(q_srv sysctl -n $NDP)" = 0 ]
ruleset_empty

# ---- kill -9: the entries stay; the next start sweeps them, and the
# client, resuming, has each once again ------------------------------------------
start_vpnd
wait_for 30 connected 3
wait_for 5 both_proxied
kill -KILL "$VPND_PID"
wait "$VPND_PID" || true
no_device "$ns_srv"
both_proxied
# (A vpnc left running would notice only at its next keepalive.)
kill -TERM "$VPNC_PID"
wait "$VPNC_PID" || true
start_vpnd
log_has "$tmp/vpnd.log" "2 proxy entries on lan0 removed (left by an earlier run)"
none_proxied
# Nothing to type: its admission resumes.
start_vpnc alice "" ""
wait_for 20 connected 4
wait_for 5 both_proxied
[ "$(proxies | wc -l)" -eq 2 ]
lan_reaches
client_reaches
ruleset_empty
stop_vpnd
none_proxied
ruleset_empty
[ "$(count_log "$tmp/vpnd.log" "proxy entries on lan0 removed at stop")" -eq 2 ]
echo "ok"
