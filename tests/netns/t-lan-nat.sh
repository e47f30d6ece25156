#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# lan-mode nat: lib.sh's topology, but the office host has no route back
# to the pools (its default routes removed: only its on-link /24 and /64)
# and the server starts with forwarding off.
#
#   cli 10.99.0.2 ── tunnel ── srv vpn0 │ lan0 10.20.0.1 ── lan 10.20.0.2
#                                       └ masquerade out of lan0
#
# vpnd turns forwarding on and masquerades the pools out of lan0 in a
# table of its own (nft list ruleset: none before, ours while it runs,
# none after SIGTERM, and an admin's table of another name untouched
# throughout). The client reaches the office host by ping (IPv4 and
# IPv6) and TCP, and the office host sees the server's LAN address. A
# branch site (the account "branch", 192.168.2.0/24, its gateway's vpnc in
# $ns_cli2) is routed, not masqueraded: the branch host and the office
# host reach each other and see each other's own addresses (the office
# routes the site's subnet to the server, as its router would). After
# kill -9 the table stays; the next start (finding lan0 itself, this
# time) replaces it (one table, each rule once, no error), and its SIGTERM
# removes it.
source "$(dirname "$0")/lib.sh"

V4=net.ipv4.ip_forward
V6=net.ipv6.conf.all.forwarding

# ours: how many tables named vpnd the server's ruleset holds.
ours() { q_srv nft list tables | grep -c '^table inet vpnd$' || true; }
# rule_count TEXT: how many lines of our table read TEXT.
rule_count() { q_srv nft list table inet vpnd | grep -cF -- "$1" || true; }

ns_br=vpn-br-$$
BR_HOST=192.168.2.2
q_br() { ip netns exec "$ns_br" "$@"; }
n_br() { pretty br "$@"; ip netns exec "$ns_br" "$@"; }

# The branch LAN behind its gateway ($ns_cli2), which forwards for it.
setup_branch() {
	setup_client2
	ip netns add "$ns_br"
	namespaces+=("$ns_br")
	ip -n "$ns_br" link set lo up
	ip link add br0 netns "$ns_cli2" type veth peer name br1 netns "$ns_br"
	ip -n "$ns_cli2" addr add 192.168.2.1/24 dev br0
	ip -n "$ns_br" addr add $BR_HOST/24 dev br1
	ip -n "$ns_cli2" link set br0 up
	ip -n "$ns_br" link set br1 up
	ip -n "$ns_br" route add default via 192.168.2.1
	q_cli2 sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
}

setup_topology
setup_branch
ip -n "$ns_lan" route del default
ip -n "$ns_lan" -6 route del default
q_srv sysctl -qw "$V4=0" "$V6=0"
write_vpnd_conf 'lan-mode = "nat"' 'lan-interface = "lan0"'
write_vpnc_conf alice alice
write_vpnc_conf branch branch "site = yes"
secret=$(enrol alice)
secret_b=$(enrol branch --role site)
q_srv "$VPNCTL" -c "$tmp/vpnd.conf" user subnets branch 192.168.2.0/24
# The office routes the site's subnet to the server; never the pools.
ip -n "$ns_lan" route add 192.168.2.0/24 via 10.20.0.1
start_web
# Nothing routes the pools back from the office host.
refute q_lan ip route get 10.99.0.2
refute q_lan ip -6 route get fd00:99::2
# An admin's table, which vpnd must leave alone.
q_srv nft add table inet admin
q_srv nft add chain inet admin input '{ type filter hook input priority 0; }'

# ---- before, and while running -----------------------------------------------
n_srv nft list ruleset
[ "$(ours)" -eq 0 ]
start_vpnd
n_srv nft list ruleset
[ "$(ours)" -eq 1 ]
[ "$(rule_count 'type nat hook postrouting priority srcnat')" -eq 1 ]
[ "$(rule_count 'oifname "lan0" ip saddr 10.99.0.0/24 masquerade')" -eq 1 ]
[ "$(rule_count 'oifname "lan0" ip6 saddr fd00:99::/64 masquerade')" -eq 1 ]
[ "$(q_srv sysctl -n $V4)" = 1 ]
[ "$(q_srv sysctl -n $V6)" = 1 ]
[ "$(status_field lan_mode)" = nat ]
[ "$(status_field lan_interface)" = lan0 ]

start_vpnc alice "$PASSWORD" "$(totp "$secret")"
wait_log "$tmp/alice.log" "connected as alice"
n_cli ping -c 3 -i 0.2 -W 2 $LAN_HOST
n_cli ping -6 -c 3 -i 0.2 -W 2 fd00:20::2
n_cli curl -s --max-time 10 "http://$LAN_HOST:8080/" >"$tmp/page"
grep -q "hello from the office" "$tmp/page"
# The office host saw the server's LAN address, never a client's.
grep -q '^10\.20\.0\.1 - - .*"GET / HTTP' "$tmp/web.log"
refute grep -q '^10\.99\.' "$tmp/web.log"
kill -TERM "$VPNC_PID"
wait "$VPNC_PID"

# ---- a site is routed, never masqueraded ------------------------------------------
VPNC_NS=$ns_cli2 start_vpnc branch "$PASSWORD" "$(totp "$secret_b")"
wait_log "$tmp/branch.log" "connected as branch" 30
n_br curl -s --max-time 10 "http://$LAN_HOST:8080/" |
	grep -q "hello from the office"
grep -q "^$BR_HOST - - .*\"GET / HTTP" "$tmp/web.log"
before=$(echo_replies "$ns_lan")
n_lan ping -c 3 -i 0.2 -W 2 $BR_HOST >/dev/null || true
wait_for 10 replies_since "$ns_lan" "$before" 3
# Still the pools' two rules, nothing for the site.
[ "$(rule_count ' saddr ')" -eq 2 ]
kill -TERM "$VPNC_PID"
wait "$VPNC_PID"

# ---- SIGTERM: the table goes, forwarding is put back -----------------------------
stop_vpnd
n_srv nft list ruleset
[ "$(ours)" -eq 0 ]
[ "$(q_srv sysctl -n $V4)" = 0 ]
[ "$(q_srv sysctl -n $V6)" = 0 ]
q_srv nft list table inet admin | grep -q 'hook input'

# ---- kill -9, then a new start replaces the table cleanly ----------------------------
start_vpnd
kill -KILL "$VPND_PID"
wait "$VPND_PID" || true
n_srv nft list ruleset
# A crash leaves it: nothing ran to remove it.
[ "$(ours)" -eq 1 ]
# This time vpnd finds lan0 itself: where the pushed routes lead.
sed -i '/^lan-interface/d' "$tmp/vpnd.conf"
start_vpnd
log_has "$tmp/vpnd.log" "lan-mode nat: the office LAN is on lan0 (found at start)"
n_srv nft list ruleset
[ "$(ours)" -eq 1 ]
[ "$(rule_count ' saddr ')" -eq 2 ]
[ "$(rule_count 'oifname "lan0" ip saddr 10.99.0.0/24 masquerade')" -eq 1 ]
[ "$(count_log "$tmp/vpnd.log" 'nftables')" -eq 0 ]
[ "$(count_log "$tmp/vpnd.log" 'masquerades the pools out of lan0')" -eq 3 ]
stop_vpnd
[ "$(ours)" -eq 0 ]
[ "$(count_log "$tmp/vpnd.log" 'table inet vpnd removed')" -eq 2 ]
q_srv nft list table inet admin | grep -q 'hook input'
no_device "$ns_srv"
echo "ok"
