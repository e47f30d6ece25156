#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vpnc against a hostile server (issue 11): the server side of
# tests/tools/pyvpn.py (see t-interop-client.sh) pushes what vpnc must not
# take, and vpnc keeps to its own policy (vpnc/policy.h; accept-routes and
# full-tunnel in vpnc.conf). The routes are read from the client
# namespace, the packets from vpnc's device:
#   strict    the default vpnc.conf: pushed 0.0.0.0/0 and ::/0, a route
#             over the server's own address (192.0.2.0/24) and a search
#             domain with a tab are refused, all named in one log line,
#             and the session comes up with exactly the acceptable routes;
#             echo requests the server injects from inner sources vpnc does
#             not route into the tunnel never reach vpn0 (counted, logged
#             at debug), while ones from the gateway and a pushed route do
#             and are answered through the tunnel
#   narrow    accept-routes = {10.20.0.0/16, fd00::/8}: a route outside is
#             refused, and so is the tunnel subnet 10.99.0.0/24: the
#             address is used alone (/32), the gateway reached by a host
#             route, and a packet from elsewhere in that subnet is dropped
#   full      full-tunnel = yes: the default routes go in as two halves
#             per family, the server's address is pinned outside the
#             tunnel through cli0 (and unpinned at the end), the tunnel
#             works, the route over the server is still refused, and a
#             packet from anywhere reaches the stack and is answered
#             through the tunnel
#   unusable  an address with prefix length 0: vpnc says the login cannot
#             be used, names the address, sends DISCONNECT and exits 1
#             without a device
# Packets are sent and taken in order, so once the last injected packet
# shows on vpn0, every earlier one that was going to has shown too.
source "$(dirname "$0")/lib.sh"

source "$(dirname "$0")/lib-interop-client.sh"

setup_topology
interop_client_setup

base=(--addr4 10.99.0.7/24 --addr6 fd00:99::7/64 --gw4 10.99.0.1
	--gw6 fd00:99::1 --mtu 1380 --keepalive 2 --expires 3600
	--answer 10.20.0.2 --dns 10.20.0.53)
hostile=(--route 10.20.0.0/24 --route fd00:20::/64 --route 0.0.0.0/0
	--route ::/0 --route 192.0.2.0/24 --search office.test
	--search $'a\tb')

# Routes through vpn0 other than the kernel's own, sorted bytewise.
routes_on_vpn0() {
	{
		ip -n "$ns_cli" -4 route show dev vpn0
		ip -n "$ns_cli" -6 route show dev vpn0
	} | grep -v 'proto kernel' | awk '{print $1}' | LC_ALL=C sort |
		paste -sd' '
}

# The device the client namespace uses for ADDRESS.
dev_for() {
	ip -n "$ns_cli" route get "$1" | sed -n 's/.* dev \([^ ]*\).*/\1/p'
}

# refusal_line LOG TEXT: the one "refused from the server" line is TEXT.
refusal_line() {
	[ "$(count_log "$1" "refused from the server")" -eq 1 ]
	grep -qxF "vpnc: refused from the server: $2" "$1"
}

# Echo requests that reached the client's device (sniff.py lines).
sniff_requests() {
	sniff_start "$ns_cli" vpn0 60 "$tmp/$1.pkts" 100 \
		'^in icmp6? .* type=(8|128)$'
}

# ---- strict ----------------------------------------------------------------
cp "$tmp/cli.conf" "$tmp/strict.conf"
pysrv strict hostile "${base[@]}" "${hostile[@]}" \
	--inject 203.0.113.77 --inject 192.0.2.99 --inject fd00:21::5 \
	--inject 10.20.0.9 --inject 10.99.0.1 --inject fd00:20::9
start_vpnc strict "$PASSWORD" "$CODE" -v
at up
[ "$(dev_addrs)" = "10.99.0.7/24 fd00:99::7/64" ]
[ "$(routes_on_vpn0)" = "10.20.0.0/24 fd00:20::/64" ]
[ "$(dev_for 8.8.8.8)" = cli0 ]
[ "$(dev_for 192.0.2.99)" = cli0 ]
[ "$(dev_for 10.20.0.2)" = vpn0 ]
[ -z "$(ip -n "$ns_cli" -6 route show ::/0)" ]
refusal_line "$tmp/strict.log" 'route 0.0.0.0/0 (no full-tunnel), route 192.0.2.0/24 (covers the server 192.0.2.1), route ::/0 (no full-tunnel), search domain "a\tb" (not a DNS name)'
log_has "$tmp/strict.log" "connected as alice on vpn0"
n_cli ping -c 2 -i 0.3 -W 3 10.99.0.1
n_cli ping -c 2 -i 0.3 -W 3 10.20.0.2
n_cli ping -c 2 -i 0.3 -W 3 fd00:99::1
sniff_requests strict
past up
at injected
wait_for 10 log_has "$tmp/strict.pkts" "in icmp6 fd00:20::9 > fd00:99::7 "
log_has "$tmp/strict.pkts" "in icmp 10.20.0.9 > 10.99.0.7 "
log_has "$tmp/strict.pkts" "in icmp 10.99.0.1 > 10.99.0.7 "
for src in 203.0.113.77 192.0.2.99 fd00:21::5; do
	refute log_has "$tmp/strict.pkts" " $src > "
	log_has "$tmp/strict.log" "dropped a packet from $src to "
done
past injected
at bye
kill -TERM "$VPNC_PID"
vpnc_exited
[ "$VPNC_RC" -eq 0 ]
wait "$PYSRV_PID"
cat "$PYSRV_LOG"
log_has "$tmp/strict.log" "dropped 3 packet(s) from the tunnel"
for src in 10.20.0.9 10.99.0.1 fd00:20::9; do
	log_has "$PYSRV_LOG" "^echo reply through the tunnel to $src$"
done
refute log_has "$PYSRV_LOG" "through the tunnel to 203.0.113.77"
refute log_has "$tmp/strict.log" "internal error"
no_device "$ns_cli"
no_sanitizer "$tmp/strict.log"

# ---- narrow ----------------------------------------------------------------
cp "$tmp/cli.conf" "$tmp/narrow.conf"
echo 'accept-routes = {"10.20.0.0/16", "fd00::/8"}' >>"$tmp/narrow.conf"
pysrv narrow hostile "${base[@]}" --route 10.20.0.0/24 \
	--route 10.30.0.0/16 --route fd00:20::/64 \
	--inject 10.99.0.55 --inject 10.99.0.1
start_vpnc narrow "$PASSWORD" "$CODE"
at up
[ "$(dev_addrs)" = "10.99.0.7/32 fd00:99::7/64" ]
[ "$(routes_on_vpn0)" = "10.20.0.0/24 10.99.0.1 fd00:20::/64" ]
[ "$(dev_for 10.99.0.55)" = cli0 ]
[ "$(dev_for 10.30.0.1)" = cli0 ]
refusal_line "$tmp/narrow.log" 'subnet 10.99.0.0/24 (outside accept-routes; the address is used alone), route 10.30.0.0/16 (outside accept-routes)'
n_cli ping -c 2 -i 0.3 -W 3 10.99.0.1
n_cli ping -c 2 -i 0.3 -W 3 10.20.0.2
sniff_requests narrow
past up
at injected
wait_for 10 log_has "$tmp/narrow.pkts" "in icmp 10.99.0.1 > 10.99.0.7 "
refute log_has "$tmp/narrow.pkts" " 10.99.0.55 > "
past injected
at bye
kill -TERM "$VPNC_PID"
vpnc_exited
[ "$VPNC_RC" -eq 0 ]
wait "$PYSRV_PID"
cat "$PYSRV_LOG"
log_has "$tmp/narrow.log" "dropped 1 packet(s) from the tunnel"
no_device "$ns_cli"
no_sanitizer "$tmp/narrow.log"

# ---- full ------------------------------------------------------------------
cp "$tmp/cli.conf" "$tmp/full.conf"
echo 'full-tunnel = yes' >>"$tmp/full.conf"
pysrv full hostile "${base[@]}" "${hostile[@]}" \
	--inject 203.0.113.77 --inject 2001:db8:77::1
start_vpnc full "$PASSWORD" "$CODE"
at up
[ "$(routes_on_vpn0)" = \
	"0.0.0.0/1 10.20.0.0/24 128.0.0.0/1 8000::/1 ::/1 fd00:20::/64" ]
# The way to the server is pinned where it was (vpnc's own route, protocol
# 86, removed at exit); everything else is tunnelled,
# the server's neighbours too (the route over them was refused, the
# default route takes them).
[ "$(ip -n "$ns_cli" route show 192.0.2.1 | sed 's/ *$//')" = \
	"192.0.2.1 via 198.51.100.254 dev cli0 proto 86" ]
[ "$(dev_for 192.0.2.1)" = cli0 ]
[ "$(dev_for 192.0.2.99)" = vpn0 ]
[ "$(dev_for 8.8.8.8)" = vpn0 ]
refusal_line "$tmp/full.log" 'route 192.0.2.0/24 (covers the server 192.0.2.1), search domain "a\tb" (not a DNS name)'
n_cli ping -c 2 -i 0.3 -W 3 10.99.0.1
n_cli ping -c 2 -i 0.3 -W 3 10.20.0.2
sniff_requests full
past up
at injected
wait_for 10 log_has "$tmp/full.pkts" "in icmp6 2001:db8:77::1 > fd00:99::7 "
log_has "$tmp/full.pkts" "in icmp 203.0.113.77 > 10.99.0.7 "
past injected
at bye
kill -TERM "$VPNC_PID"
vpnc_exited
[ "$VPNC_RC" -eq 0 ]
wait "$PYSRV_PID"
cat "$PYSRV_LOG"
for src in 203.0.113.77 2001:db8:77::1; do
	log_has "$PYSRV_LOG" "^echo reply through the tunnel to $src$"
done
refute log_has "$tmp/full.log" "dropped"
no_device "$ns_cli"
[ -z "$(ip -n "$ns_cli" route show 192.0.2.1)" ]
[ "$(dev_for 192.0.2.1)" = cli0 ]
no_sanitizer "$tmp/full.log"

# ---- unusable --------------------------------------------------------------
cp "$tmp/cli.conf" "$tmp/unusable.conf"
pysrv unusable hostile "${base[@]}" --addr4 10.99.0.7/0 \
	--route 10.20.0.0/24 --expect-disconnect
start_vpnc unusable "$PASSWORD" "$CODE"
vpnc_exited
[ "$VPNC_RC" -eq 1 ]
wait "$PYSRV_PID"
cat "$PYSRV_LOG"
refusal_line "$tmp/unusable.log" 'address 10.99.0.7/0 (prefix length not /8-/32)'
log_has "$tmp/unusable.log" \
	"this login cannot be used: the server gave an address vpnc refuses"
log_has "$PYSRV_LOG" "sent DISCONNECT (REASON b'pushed configuration refused')"
refute log_has "$tmp/unusable.log" "connected as"
no_device "$ns_cli"
no_sanitizer "$tmp/unusable.log"
echo "ok"
