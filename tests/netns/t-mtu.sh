#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Tunnel MTUs and what follows from them (vpnd/pmtu.h, vpnc/mtu.h). The
# office's uplink carries 1400 bytes (srv0 and wan0); alice comes over
# IPv4 from $ns_cli, bob over IPv6 from $ns_cli2:
#
#   $ns_srv srv0 192.0.2.1, 2001:db8:1::1   mtu 1400 -- wan0 (mtu 1400)
#   $ns_cli cli0 198.51.100.2               mtu 1500 -- wan1
#   $ns_cli2 cli0 203.0.113.2, 2001:db8:3::2 mtu 1500 -- wan2
#
# With mtu = "auto" vpnd takes its default routes' MTU, 1400: a client's
# tunnel carries 1340 bytes over IPv4 (60 bytes of outer headers) and
# 1320 over IPv6 (80), and its device the larger. bob's vpnc takes the
# 1320 it is pushed (its own path allows 1420). alice forces mtu = 1400,
# more than her tunnel carries, so her SYNs announce an MSS vpnd must
# lower; the office host's SYNs (MSS 1460 and 1440 from its 1500-byte
# link) are lowered towards both clients: the MSS seen on the far side,
# by tcpdump, is the tunnel's MTU less 40 (IPv4) or 60 (IPv6). A packet
# with DF from the office host that the device takes but bob's tunnel
# cannot carry is answered by vpnd from its tunnel address with the MTU
# of bob's tunnel (ICMP Fragmentation Needed, ICMPv6 Packet Too Big), and
# counted; one too big for the device, by the server's kernel, with the
# device's MTU.
source "$(dirname "$0")/lib.sh"

command -v tcpdump >/dev/null || skip "needs tcpdump (make deps)"

SRV6=2001:db8:1::1
CLI2_6=2001:db8:3::2

# dev_mtu NS: the MTU of vpn0 in NS.
dev_mtu() {
	ip -n "$1" link show vpn0 | sed -n 's/.* mtu \([0-9]*\) .*/\1/p'
}

# syn_watch NS DEV FILE FILTER: tcpdump prints the first packet FILTER
# matches on DEV, with its TCP options, into FILE; returns once it
# listens. Stopped by cleanup if it never sees one.
syn_watch() {
	ip netns exec "$1" tcpdump -n -v -l -i "$2" -c 1 "$4" \
		>"$3" 2>"$3.err" &
	pids+=("$!")
	wait_log "$3.err" "listening on" 10
}

# syn4 FILTER, syn6 FILTER: SYNs over IPv4, and over IPv6 without
# extension headers (tcpdump's tcp[] reads IPv4 only: byte 13 of the TCP
# header is 53 of the packet).
syn4() { echo "tcp[tcpflags] & tcp-syn != 0 and $1"; }
syn6() { echo "ip6 and ip6[6] = 6 and ip6[53] & 2 != 0 and $1"; }

# tcp_try NS ADDR PORT: a connection attempt; refused is as good as
# accepted here (the SYN is what is watched).
tcp_try() {
	ip netns exec "$1" timeout 5 bash -c "exec 3<>/dev/tcp/$2/$3" \
		2>/dev/null || true
}

# wait_syn FILE: the SYN's line, with its options, is in FILE (tcpdump -l
# writes each line whole).
wait_syn() { wait_log "$1" "options \[mss [0-9]" 10; }

# An MSS read back from a syn_watch file: "mss N" (IPv4 or IPv6).
mss_in() { sed -n 's/.*mss \([0-9]*\).*/\1/p' "$1" | head -n 1; }
# clamped FILE MSS: the SYN in FILE, received after vpnd lowered its MSS,
# announces MSS, and tcpdump found its TCP checksum right.
clamped() {
	[ "$(mss_in "$1")" = "$2" ] && grep -q "cksum 0x[0-9a-f]* (correct)" "$1"
}

oversize_drops() {
	"$VPNCTL" -c "$tmp/vpnd.conf" metrics |
		sed -n 's/^vpnd_dropped_packets_total{reason="oversize"} //p'
}

setup_topology
setup_client2
ip -n "$ns_srv" link set srv0 mtu 1400
ip -n "$ns_wan" link set wan0 mtu 1400
ip -n "$ns_srv" -6 addr add $SRV6/64 dev srv0 nodad
ip -n "$ns_wan" -6 addr add 2001:db8:1::fe/64 dev wan0 nodad
ip -n "$ns_wan" -6 addr add 2001:db8:3::fe/64 dev wan2 nodad
ip -n "$ns_cli2" -6 addr add $CLI2_6/64 dev cli0 nodad
ip netns exec "$ns_wan" sysctl -qw net.ipv6.conf.all.forwarding=1
ip -n "$ns_srv" -6 route add default via 2001:db8:1::fe
ip -n "$ns_cli2" -6 route add default via 2001:db8:3::fe
q_cli2 ping -6 -c 1 -W 5 $SRV6 >/dev/null

write_vpnd_conf
write_vpnc_conf alice alice 'mtu = 1400'
write_vpnc_conf bob bob
sed -i "s/^server = .*/server = \"[$SRV6]:51900\"/" "$tmp/bob.conf"
secret_a=$(enrol alice)
secret_b=$(enrol bob)
start_vpnd
[ "$(status_field mtu)" = 1340 ]
[ "$(dev_mtu "$ns_srv")" = 1340 ]

start_vpnc alice "$PASSWORD" "$(totp "$secret_a")"
VPNC_NS=$ns_cli2 start_vpnc bob "$PASSWORD" "$(totp "$secret_b")"
wait_log "$tmp/alice.log" "connected as alice"
wait_log "$tmp/bob.log" "connected as bob"
addr_a=$(client_addr "$tmp/alice.log")
addr_b=$(client_addr "$tmp/bob.log")
addr6_b=$(session_field bob address6)
[ -n "$addr_a" ] && [ -n "$addr_b" ] && [ -n "$addr6_b" ]
# vpnd's tunnel to each, by the family it comes over; their devices.
[ "$(session_field alice mtu)" = 1340 ]
[ "$(session_field bob mtu)" = 1320 ]
[ "$(dev_mtu "$ns_cli")" = 1400 ]
[ "$(dev_mtu "$ns_cli2")" = 1320 ]
grep -q "mtu 1320: the server's 1320, the path to it 1500 less 80 bytes over IPv6" \
	"$tmp/bob.log"

# alice to the office: her SYN leaves with MSS 1360 (her 1400 less 40),
# reaches the office host with 1300.
start_web
syn_watch "$ns_cli" vpn0 "$tmp/a-out" "$(syn4 "dst port 8080")"
syn_watch "$ns_lan" lan1 "$tmp/a-lan" "$(syn4 "dst port 8080")"
q_cli curl -s --max-time 10 http://$LAN_HOST:8080/ |
	grep -q "hello from the office"
wait_syn "$tmp/a-lan"
wait_syn "$tmp/a-out"
cat "$tmp/a-out" "$tmp/a-lan"
[ "$(mss_in "$tmp/a-out")" = 1360 ]
clamped "$tmp/a-lan" 1300

# The office host to alice and to bob, IPv4 and IPv6: its SYNs leave with
# 1460 and 1440, and arrive lowered to each tunnel.
syn_watch "$ns_lan" lan1 "$tmp/l-out" "$(syn4 "dst port 9000")"
syn_watch "$ns_cli" vpn0 "$tmp/l-a" "$(syn4 "dst port 9000")"
tcp_try "$ns_lan" "$addr_a" 9000
wait_syn "$tmp/l-out"
wait_syn "$tmp/l-a"
cat "$tmp/l-out" "$tmp/l-a"
[ "$(mss_in "$tmp/l-out")" = 1460 ]
clamped "$tmp/l-a" 1300
syn_watch "$ns_cli2" vpn0 "$tmp/l-b" "$(syn4 "dst port 9001")"
tcp_try "$ns_lan" "$addr_b" 9001
wait_syn "$tmp/l-b"
cat "$tmp/l-b"
clamped "$tmp/l-b" 1280
syn_watch "$ns_cli2" vpn0 "$tmp/l-b6" "$(syn6 "dst port 9002")"
tcp_try "$ns_lan" "$addr6_b" 9002
wait_syn "$tmp/l-b6"
cat "$tmp/l-b6"
clamped "$tmp/l-b6" 1260

# What bob's tunnel carries crosses whole, with DF: 1292 + 28 = 1320.
n_lan ping -M do -s 1292 -c 1 -W 5 "$addr_b"
n_lan ping -6 -M do -s 1272 -c 1 -W 5 "$addr6_b"
# 1328 bytes with DF: the device takes them, bob's tunnel does not. vpnd
# answers from its tunnel address with bob's MTU, and counts the drop.
before=$(oversize_drops)
out=$(q_lan ping -M do -s 1300 -c 1 -W 5 "$addr_b" 2>&1 || true)
echo "$out"
grep -q "From $TUN_SRV icmp_seq=1 Frag needed and DF set (mtu = 1320)" <<<"$out"
out=$(q_lan ping -6 -M do -s 1285 -c 1 -W 5 "$addr6_b" 2>&1 || true)
echo "$out"
grep -q "From fd00:99::1 icmp_seq=1 Packet too big: mtu=1320" <<<"$out"
[ "$(oversize_drops)" -ge $((before + 2)) ]
# The office host learnt it: its next attempt fails at home.
out=$(q_lan ping -M do -s 1300 -c 1 -W 5 "$addr_b" 2>&1 || true)
echo "$out"
grep -q "mtu=1320\|mtu = 1320" <<<"$out"
# Too big for the device itself: the kernel answers, with 1340.
out=$(q_lan ping -M do -s 1400 -c 1 -W 5 "$addr_a" 2>&1 || true)
echo "$out"
grep -q "Frag needed and DF set (mtu = 1340)" <<<"$out"
# Without DF, what the device takes is sent whole, and arrives.
n_lan ping -M dont -s 1300 -c 1 -W 5 "$addr_b"

stop_vpnd
