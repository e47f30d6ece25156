#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The source-address rule (PROTOCOL.md section 6, rule 10): an admitted
# session may send only from the addresses it was given. alice (in
# $ns_cli) and bob (in $ns_cli2, a second home on wan2 203.0.113.0/24, as
# in t-two-clients.sh) are logged in. alice then puts other addresses on
# her vpn0 and pings the office host from them: an unassigned pool
# address, bob's address, an office LAN address and an unassigned IPv6
# pool address. Her packets enter the tunnel (seen on her vpn0) but never
# reach the office host (nothing from them on lan1), and vpnd counts
# them as dropped for their source on her session (vpnctl sessions),
# while her own addresses and bob's keep working both ways.
source "$(dirname "$0")/lib.sh"

setup_topology
setup_client2

write_vpnd_conf
write_vpnc_conf alice alice
write_vpnc_conf bob bob
secret_a=$(enrol alice)
secret_b=$(enrol bob)
start_vpnd
start_vpnc alice "$PASSWORD" "$(totp "$secret_a")"
pid_a=$VPNC_PID
VPNC_NS=$ns_cli2 start_vpnc bob "$PASSWORD" "$(totp "$secret_b")"
pid_b=$VPNC_PID
wait_log "$tmp/alice.log" "connected as alice" 30
wait_log "$tmp/bob.log" "connected as bob" 30
addr_a=$(client_addr "$tmp/alice.log")
addr_b=$(client_addr "$tmp/bob.log")
[ -n "$addr_a" ]
[ -n "$addr_b" ]
[ "$addr_a" != "$addr_b" ]
[ "$(session_field alice address4)" = "$addr_a" ]
[ "$(session_field bob address4)" = "$addr_b" ]

sniff_start "$ns_lan" lan1 60 "$tmp/lan1.pkts"
sniff_start "$ns_cli" vpn0 60 "$tmp/vpn0.pkts"
n_cli ping -c 2 -i 0.2 -W 2 $LAN_HOST
drops_a=$(session_field alice drop_source)

# Each spoofed source in turn: the ping must get no answer.
spoofs4="10.99.0.200 $addr_b 10.20.0.77"
spoof6=fd00:99::99
for a in $spoofs4; do
	n_cli ip addr add "$a/32" dev vpn0
done
n_cli ip -6 addr add "$spoof6/128" dev vpn0 nodad
for a in $spoofs4; do
	if n_cli ping -c 2 -i 0.2 -W 1 -I "$a" $LAN_HOST; then
		echo "FAIL: a ping from $a was answered" >&2
		exit 1
	fi
done
if n_cli ping -6 -c 2 -i 0.2 -W 1 -I $spoof6 fd00:20::2; then
	echo "FAIL: a ping from $spoof6 was answered" >&2
	exit 1
fi

# What reached the office while alice spoofed (bob's own traffic from
# his address comes later).
head -n "$(wc -l <"$tmp/lan1.pkts")" "$tmp/lan1.pkts" >"$tmp/lan1-spoof.pkts"
# vpnd dropped them as alice's, for their source: at least the 8 pings
# (the kernel may send more from those addresses).
drops=$(($(session_field alice drop_source) - drops_a))
echo "vpnd dropped $drops packet(s) of alice's for their source"
((drops >= 8))
for a in $spoofs4; do
	n_cli ip addr del "$a/32" dev vpn0
done
n_cli ip -6 addr del "$spoof6/128" dev vpn0

# What is left works: alice from her own addresses, bob from his, and
# the office host reaches both.
n_cli ping -c 2 -i 0.2 -W 2 $LAN_HOST
n_cli ping -6 -c 2 -i 0.2 -W 2 fd00:20::2
q_cli2 ping -c 2 -i 0.2 -W 2 $LAN_HOST
n_lan ping -c 2 -i 0.2 -W 2 "$addr_a"
n_lan ping -c 2 -i 0.2 -W 2 "$addr_b"

# The spoofed pings went into alice's tunnel, and none came out at the
# office; her own did.
for a in $spoofs4 $spoof6; do
	sent=$(count_log "$tmp/vpn0.pkts" "^out icmp6\? $a > ")
	seen=$(count_log "$tmp/lan1-spoof.pkts" " $a > ")
	echo "from $a: $sent into the tunnel, $seen at the office host"
	(( sent >= 2 && seen == 0 ))
done
(( $(count_log "$tmp/lan1.pkts" "^in icmp $addr_a > $LAN_HOST type=8") >= 4 ))
(( $(count_log "$tmp/lan1.pkts" "^in icmp $addr_b > $LAN_HOST type=8") >= 2 ))

kill -TERM "$pid_a" "$pid_b"
wait "$pid_a"
wait "$pid_b"
stop_vpnd
no_device "$ns_srv"
if grep -E "AddressSanitizer|LeakSanitizer|runtime error" "$tmp/vpnd.log"; then
	exit 1
fi
echo "ok"
