#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# lan-mode routed (said, though it is the default): lib.sh's topology,
# where the office host routes the pools to the server (its default
# route), as an office router would.
#
#   cli 10.99.0.2 ── tunnel ── srv vpn0 10.99.0.1/24 │ lan0 10.20.0.1
#                                                    └── lan 10.20.0.2
#                                                        (default via srv)
#
# The client reaches the office host by ping (IPv4, IPv6) and TCP, and the
# office host sees the client's own address; the office host reaches the
# client at its tunnel address through its router. vpnd writes no
# nftables table (nft list ruleset: empty before, while it runs, after
# SIGTERM, after kill -9 and a new start) and leaves forwarding as it
# found it. (t-forwarding: routed refuses to start without forwarding.)
source "$(dirname "$0")/lib.sh"

V4=net.ipv4.ip_forward
V6=net.ipv6.conf.all.forwarding

ruleset_empty() { [ -z "$(q_srv nft list ruleset)" ]; }

setup_topology
write_vpnd_conf 'lan-mode = "routed"'
write_vpnc_conf alice alice
secret=$(enrol alice)
start_web

ruleset_empty
start_vpnd
[ "$(status_field lan_mode)" = routed ]
# No LAN interface: routed neither needs nor looks for one.
refute status_field lan_interface
[ "$(status_field address4)" = 10.99.0.1/24 ]
ruleset_empty

start_vpnc alice "$PASSWORD" "$(totp "$secret")"
wait_log "$tmp/alice.log" "connected as alice"
c4=$(session_field alice address4)
c6=$(session_field alice address6)
[ "$c4" = 10.99.0.2 ]
n_cli ping -c 3 -i 0.2 -W 2 $LAN_HOST >/dev/null
n_cli ping -6 -c 2 -i 0.2 -W 2 fd00:20::2 >/dev/null
n_cli curl -s --max-time 10 "http://$LAN_HOST:8080/" |
	grep -q "hello from the office"
# The office host saw the client's own address, not the server's.
grep -q "^$c4 - - .*\"GET / HTTP" "$tmp/web.log"
refute grep -q '^10\.20\.0\.1 ' "$tmp/web.log"
# The office host reaches the client through its router.
before=$(echo_replies "$ns_lan")
n_lan ping -c 3 -i 0.2 -W 2 "$c4" >/dev/null || true
wait_for 10 replies_since "$ns_lan" "$before" 3
n_lan ping -6 -c 2 -i 0.2 -W 2 "$c6" >/dev/null
ruleset_empty

stop_vpnd
ruleset_empty
[ "$(q_srv sysctl -n $V4)" = 1 ]
[ "$(q_srv sysctl -n $V6)" = 1 ]

# kill -9 and a new start: nothing to replace, nothing left.
start_vpnd
kill -KILL "$VPND_PID"
wait "$VPND_PID" || true
ruleset_empty
# (A vpnc left running would notice only at its next keepalive.)
kill -TERM "$VPNC_PID"
wait "$VPNC_PID" || true
start_vpnd
ruleset_empty
# Nothing to type: its admission resumes.
start_vpnc alice "" ""
wait_session alice 20
n_cli ping -c 2 -i 0.2 -W 2 $LAN_HOST >/dev/null
stop_vpnd
ruleset_empty
no_device "$ns_srv"
echo "ok"
