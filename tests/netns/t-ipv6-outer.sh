#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The tunnel itself over IPv6. The wan carries IPv6 only between the
# homes and the office (2001:db8::/32, the documentation prefix); the
# client's link has no IPv4 address at all, so vpnc can reach vpnd only
# at "[2001:db8:1::1]:51900":
#
#   $ns_srv srv0 2001:db8:1::1/64 -- wan0 2001:db8:1::fe/64 $ns_wan
#   $ns_cli cli0 2001:db8:2::2/64 -- wan1 2001:db8:2::fe/64 (forwarding)
#
# The person logs in; IPv4 and IPv6 cross the tunnel both ways, full-size
# packets included (1420 inside is 1500 outside over IPv6); the datagrams
# on the client's link are UDP over IPv6; vpnd holds the session at the
# IPv6 endpoint and writes it in the audit line.
source "$(dirname "$0")/lib.sh"

SRV6=2001:db8:1::1
CLI6=2001:db8:2::2

setup_topology
ip -n "$ns_srv" -6 addr add $SRV6/64 dev srv0 nodad
ip -n "$ns_wan" -6 addr add 2001:db8:1::fe/64 dev wan0 nodad
ip -n "$ns_wan" -6 addr add 2001:db8:2::fe/64 dev wan1 nodad
ip -n "$ns_cli" -6 addr add $CLI6/64 dev cli0 nodad
ip netns exec "$ns_wan" sysctl -qw net.ipv6.conf.all.forwarding=1
ip -n "$ns_srv" -6 route add default via 2001:db8:1::fe
ip -n "$ns_cli" -6 route add default via 2001:db8:2::fe
ip -n "$ns_cli" addr del $CLI_ADDR/24 dev cli0
[ -z "$(ip -n "$ns_cli" -4 addr show dev cli0)" ]
q_cli ping -6 -c 1 -W 5 $SRV6 >/dev/null

write_vpnd_conf
write_vpnc_conf alice alice
sed -i "s/^server = .*/server = \"[$SRV6]:51900\"/" "$tmp/alice.conf"
grep -q "^server = \"\[$SRV6\]:51900\"" "$tmp/alice.conf"
secret=$(enrol alice)
start_vpnd
sniff_start "$ns_cli" cli0 60 "$tmp/cli0.pkts"
start_vpnc alice "$PASSWORD" "$(totp "$secret")"
wait_log "$tmp/alice.log" "connected as alice"
addr=$(client_addr "$tmp/alice.log")
[ -n "$addr" ]
grep -q "login user=alice src=\[$CLI6\]:[0-9]* result=ok" "$tmp/vpnd.log"
[[ $(session_field alice endpoint) == "[$CLI6]:"[0-9]* ]]
[ "$(session_field alice address4)" = "$addr" ]

n_cli ping -c 3 -i 0.2 -W 2 $TUN_SRV
n_cli ping -c 3 -i 0.2 -W 2 $LAN_HOST
n_lan ping -c 3 -i 0.2 -W 2 "$addr"
n_cli ping -6 -c 3 -i 0.2 -W 2 fd00:99::1
n_cli ping -6 -c 3 -i 0.2 -W 2 fd00:20::2
# A full-size inner packet, not fragmented: 1392 + 8 + 20 = 1420.
n_cli ping -M do -s 1392 -c 2 -i 0.2 -W 2 $LAN_HOST
start_web
q_cli curl -s --max-time 10 http://$LAN_HOST:8080/ |
	grep -q "hello from the office"

# The tunnel's datagrams, both ways, were UDP over IPv6.
up="udp \[$CLI6\]:[0-9]* > \[$SRV6\]:51900"
down="udp \[$SRV6\]:51900 > \[$CLI6\]:[0-9]*"
data_out=$(count_log "$tmp/cli0.pkts" "^out $up .*type=4")
data_in=$(count_log "$tmp/cli0.pkts" "^in $down .*type=4")
big=$(count_log "$tmp/cli0.pkts" "^out $up len=1452 type=4")
echo "on cli0: $data_out data datagrams out, $data_in in, $big full-size"
(( data_out >= 15 && data_in >= 15 && big >= 2 ))
[ "$(count_log "$tmp/cli0.pkts" "^[a-z]* udp [0-9.]*:")" -eq 0 ]

kill -TERM "$VPNC_PID"
wait "$VPNC_PID"
no_device "$ns_cli"
stop_vpnd
no_device "$ns_srv"
echo "ok"
