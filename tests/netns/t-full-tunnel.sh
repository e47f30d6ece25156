#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A full tunnel that leaks nothing (issue 13; vpnc/fence.h, vpnc.conf's
# full-tunnel, exclude, allow-lan, dns = "file", state-file). vpnd pushes
# 0.0.0.0/0 and ::/0 and no IPv6 address; vpnc, with full-tunnel = yes
# and allow-lan = no, runs in a mount namespace of its own where
# /etc/resolv.conf is $tmp/resolv.conf. Packets are watched on the
# client's cli0 and at the server (tests/tools/sniff.py):
#   up        a ping to an internet host (in $ns_wan, outside the office)
#             goes through the tunnel: seen leaving vpnd's srv0 from the
#             tunnel address, never on cli0; the server's endpoint stays
#             routed outside (cli0); an excluded range goes outside, in
#             the clear, from cli0's address; the home LAN (a host on a
#             second link of the client) is refused (allow-lan = no), and
#             so is an internet IPv6 address the client reached before
#             vpnc (no IPv6 address pushed: blocked, not sent outside);
#             resolv.conf holds the pushed server and domain alone
#   reconnect vpnd stops for a while: vpnc's device goes, the routes
#             outside it stay; pings to the internet and office hosts are
#             refused at once and nothing but the handshakes to the server
#             leaves cli0; DNS stays on the pushed server; vpnd back, the
#             tunnel works again
#   crash     kill -9: the unreachable routes stay (still nothing leaks),
#             the state file says what to undo; the next start undoes it,
#             says so, and connects; SIGTERM puts resolv.conf and the
#             routes back as they were before vpnc
#   cleanup   kill -9 again, then `vpnc --cleanup`: everything back
#   lan       allow-lan = yes: the home LAN host answers directly
source "$(dirname "$0")/lib.sh"

NET_HOST=203.0.113.80      # an internet host, tunnelled
EXCL_HOST=203.0.113.99     # in the excluded 203.0.113.96/28
NET_HOST6=2001:db8:80::1   # an internet IPv6 host
HOME_HOST=192.168.77.2     # on the client's home LAN
ns_home=vpn-home-$$

setup_topology
# The internet hosts live on $ns_wan's loopback; $ns_wan routes the
# tunnel pool back to vpnd (the office router's job in lan-mode routed).
ip -n "$ns_wan" addr add $NET_HOST/32 dev lo
ip -n "$ns_wan" addr add $EXCL_HOST/32 dev lo
ip -n "$ns_wan" -6 addr add $NET_HOST6/128 dev lo
ip -n "$ns_wan" route add 10.99.0.0/24 via $SRV_ADDR
# IPv6 on the client's uplink, so that without vpnc the internet IPv6
# host is reachable (and a leak would be seen on cli0).
ip netns exec "$ns_wan" sysctl -qw net.ipv6.conf.all.forwarding=1
ip -n "$ns_wan" -6 addr add 2001:db8:cc::1/64 dev wan1 nodad
ip -n "$ns_cli" -6 addr add 2001:db8:cc::2/64 dev cli0 nodad
ip -n "$ns_cli" -6 route add default via 2001:db8:cc::1
# The home LAN: a second link of the client, with one host.
ip netns add "$ns_home"
namespaces+=("$ns_home")
ip link add hl0 netns "$ns_cli" type veth peer name hl1 netns "$ns_home"
ip -n "$ns_cli" addr add 192.168.77.1/24 dev hl0
ip -n "$ns_home" addr add $HOME_HOST/24 dev hl1
ip -n "$ns_cli" link set hl0 up
ip -n "$ns_home" link set hl1 up
ip -n "$ns_home" link set lo up

# Before any vpnc: everything answers, directly.
n_cli ping -c 1 -W 3 $NET_HOST
n_cli ping -c 1 -W 3 $NET_HOST6
n_cli ping -c 1 -W 3 $HOME_HOST
printf 'nameserver 192.0.2.53\noptions edns0\n' >"$tmp/resolv.conf"
cp "$tmp/resolv.conf" "$tmp/resolv.before"
routes_before() {
	{
		ip -n "$ns_cli" -4 route show table main
		ip -n "$ns_cli" -6 route show table main
	} | grep -v 'dev vpn0'
}
routes_before >"$tmp/routes.before"

# vpnc is uid 0 without CAP_DAC_OVERRIDE: its state file goes to a
# directory of root's (vpnc makes it), not to $tmp, which is nobody's.
write_vpnd_conf 'routes = {"0.0.0.0/0", "::/0"}'
sed -i '/^address-pool6/d' "$tmp/vpnd.conf"
write_vpnc_conf cli alice 'full-tunnel = yes' \
	'exclude = {"203.0.113.96/28"}' 'dns = "file"' \
	"state-file = \"$tmp/run/cli.state\""
secret=$(enrol alice)
start_vpnd

# in_mount_ns COMMAND...: runs COMMAND in $ns_cli, in a mount namespace
# of its own (ip netns exec makes one) where /etc/resolv.conf is
# $tmp/resolv.conf. ip and sh exec in place: started with &, $! is
# COMMAND itself.
mount_resolv='mount --bind "$1" /etc/resolv.conf && shift && exec "$@"'
in_mount_ns() {
	ip netns exec "$ns_cli" /bin/sh -c "$mount_resolv" sh \
		"$tmp/resolv.conf" "$@"
}
# start_vpnc_dns NAME CODE [vpnc options...]: as start_vpnc, in such a
# namespace (not through in_mount_ns: & would fork a shell for it).
start_vpnc_dns() {
	local name=$1 code=$2
	shift 2
	printf '%s\n%s\n' "$PASSWORD" "$code" >"$tmp/$name.input"
	ip netns exec "$ns_cli" /bin/sh -c "$mount_resolv" sh \
		"$tmp/resolv.conf" "$VPNC" -c "$tmp/$name.conf" "$@" \
		<"$tmp/$name.input" >>"$tmp/$name.log" 2>&1 &
	VPNC_PID=$!
	pids+=("$VPNC_PID")
}

# The device the client namespace routes ADDRESS through, or
# "unreachable".
dev_for() {
	local out
	out=$(ip -n "$ns_cli" route get "$1" 2>&1) || { echo unreachable; return; }
	sed -n 's/.* dev \([^ ]*\).*/\1/p' <<<"$out"
}
# refused ADDRESS: a ping fails at once, the host refusing to send (an
# unreachable route: ENETUNREACH for IPv4, EHOSTUNREACH for IPv6).
refused() {
	local out
	out=$(ip netns exec "$ns_cli" ping -c 1 -W 2 "$1" 2>&1) && return 1
	grep -Eq "Network is unreachable|No route to host" <<<"$out"
}
# vpnc's own routes outside its device (protocol 86), IPv4 and IPv6.
fence_routes() {
	{
		ip -n "$ns_cli" -4 route show proto 86
		ip -n "$ns_cli" -6 route show proto 86
	} | sed 's/ *$//'
}
resolv_is_ours() {
	head -n 1 "$tmp/resolv.conf" | grep -q "^# vpnc: DNS for vpn0"
}

# ---- up --------------------------------------------------------------------
start_vpnc_dns cli "$(totp "$secret")" -v
wait_log "$tmp/cli.log" "connected as alice"
addr=$(client_addr "$tmp/cli.log")
[ -n "$addr" ]
[ "$(dev_for $NET_HOST)" = vpn0 ]
[ "$(dev_for 10.20.0.2)" = vpn0 ]
[ "$(dev_for $SRV_ADDR)" = cli0 ]
[ "$(dev_for $EXCL_HOST)" = cli0 ]
[ "$(dev_for $NET_HOST6)" = unreachable ]
[ "$(dev_for $HOME_HOST)" = unreachable ]
# The backstop is under the device's halves, the LANs are cut in two.
fence_routes >"$tmp/fence.up"
cat "$tmp/fence.up"
grep -qx "unreachable 0.0.0.0/1 metric 32767" "$tmp/fence.up"
grep -qx "unreachable 128.0.0.0/1 metric 32767" "$tmp/fence.up"
grep -q "^unreachable ::/1 dev lo metric 32767" "$tmp/fence.up"
grep -q "^unreachable 8000::/1 dev lo metric 32767" "$tmp/fence.up"
grep -qx "unreachable 192.168.77.0/25 metric 32767" "$tmp/fence.up"
grep -qx "unreachable 192.168.77.128/25 metric 32767" "$tmp/fence.up"
grep -qx "$SRV_ADDR via 198.51.100.254 dev cli0" "$tmp/fence.up"
grep -qx "203.0.113.96/28 via 198.51.100.254 dev cli0" "$tmp/fence.up"

# Neighbour discovery on cli0 is the link's own business, not a leak:
# router solicitations, and the router's neighbour solicitations and our
# advertisements whenever its entry for us goes stale (ICMPv6 133-137,
# whatever the addresses).
ndp='icmp6 .* type=13[3-7]$'
sniff_start "$ns_cli" cli0 60 "$tmp/cli0.up" 1000 '(icmp|udp)'
sniff_start "$ns_srv" srv0 60 "$tmp/srv0.up" 1000 ' icmp '
sniff_start "$ns_home" hl1 60 "$tmp/home.up" 1000 ' icmp '
n_cli ping -c 2 -i 0.3 -W 3 $NET_HOST
n_cli ping -c 2 -i 0.3 -W 3 $LAN_HOST
n_cli ping -c 2 -i 0.3 -W 3 $EXCL_HOST
refused $NET_HOST6
refused $HOME_HOST
# The internet host was reached through vpnd, from the tunnel address;
# on cli0 only the tunnel's datagrams and the excluded host's pings.
wait_log "$tmp/srv0.up" "out icmp $addr > $NET_HOST type=8" 10
wait_log "$tmp/cli0.up" "out icmp 198.51.100.2 > $EXCL_HOST type=8" 10
cat "$tmp/cli0.up" | sort | uniq -c
refute grep -v -e "udp 198.51.100.2:[0-9]* > $SRV_ADDR:51900 " \
	-e "udp $SRV_ADDR:51900 > 198.51.100.2:" \
	-e "icmp 198.51.100.2 > $EXCL_HOST " -e "icmp $EXCL_HOST > 198.51.100.2 " \
	-e "$ndp" "$tmp/cli0.up"
refute log_has "$tmp/home.up" "icmp"
# DNS: the pushed server and domain alone, the old file kept aside.
cat "$tmp/resolv.conf"
resolv_is_ours
[ "$(grep -v '^#' "$tmp/resolv.conf")" = \
	"$(printf 'nameserver 10.20.0.53\nsearch office.test')" ]
cmp "$tmp/run/cli.state.resolv.conf" "$tmp/resolv.before"
grep -qx "dns vpn0 file" "$tmp/run/cli.state"
grep -qx "route unreachable 0.0.0.0/1 32767" "$tmp/run/cli.state"

# ---- reconnect ---------------------------------------------------------------
stop_vpnd
wait_log "$tmp/cli.log" "server shutdown; reconnecting"
wait_for 10 no_device "$ns_cli"
sniff_start "$ns_cli" cli0 60 "$tmp/cli0.down" 1000 '(icmp|udp)'
for host in $NET_HOST $LAN_HOST 10.99.0.1 8.8.8.8; do
	refused $host
done
refused $NET_HOST6
[ "$(dev_for $SRV_ADDR)" = cli0 ]
[ "$(fence_routes)" = "$(cat "$tmp/fence.up")" ]
resolv_is_ours
start_vpnd
wait_for 30 q_cli ip link show vpn0
wait_log "$tmp/cli.log" "connected as alice" 30
wait_for 10 q_cli ping -c 1 -W 1 $NET_HOST
# Only the handshakes and the tunnel's datagrams left cli0 meanwhile;
# the server's host may answer a handshake that found no vpnd with a
# port unreachable (coming in, not a leak).
cat "$tmp/cli0.down" | sort | uniq -c
log_has "$tmp/cli0.down" "> $SRV_ADDR:51900 "
refute grep -v -e "udp 198.51.100.2:[0-9]* > $SRV_ADDR:51900 " \
	-e "udp $SRV_ADDR:51900 > 198.51.100.2:" -e "$ndp" \
	-e "in icmp $SRV_ADDR > 198.51.100.2 type=3$" \
	"$tmp/cli0.down"

# ---- crash --------------------------------------------------------------------
kill -KILL "$VPNC_PID"
wait_gone "$VPNC_PID" 50
wait_for 10 no_device "$ns_cli"
refused $NET_HOST
refused $NET_HOST6
[ "$(fence_routes)" = "$(cat "$tmp/fence.up")" ]
resolv_is_ours
grep -qx "dns vpn0 file" "$tmp/run/cli.state"
start_vpnc_dns cli "" -v
wait_log "$tmp/cli.log" "did not stop cleanly: taking out what it left"
wait_log "$tmp/cli.log" "connected as alice" 30
n_cli ping -c 1 -W 3 $NET_HOST
resolv_is_ours
kill -TERM "$VPNC_PID"
wait "$VPNC_PID"
cmp "$tmp/resolv.conf" "$tmp/resolv.before"
[ -z "$(fence_routes)" ]
[ ! -e "$tmp/run/cli.state" ]
[ ! -e "$tmp/run/cli.state.resolv.conf" ]
routes_before | diff "$tmp/routes.before" -
n_cli ping -c 1 -W 3 $NET_HOST6
n_cli ping -c 1 -W 3 $HOME_HOST

# ---- cleanup -------------------------------------------------------------------
start_vpnc_dns cli "" -v
wait_log "$tmp/cli.log" "connected as alice" 30
wait_for 10 resolv_is_ours
kill -KILL "$VPNC_PID"
wait_gone "$VPNC_PID" 50
[ -n "$(fence_routes)" ]
in_mount_ns "$VPNC" --cleanup -c "$tmp/cli.conf" >"$tmp/cleanup.log" 2>&1
cat "$tmp/cleanup.log"
log_has "$tmp/cleanup.log" "did not stop cleanly"
cmp "$tmp/resolv.conf" "$tmp/resolv.before"
[ -z "$(fence_routes)" ]
[ ! -e "$tmp/run/cli.state" ]
routes_before | diff "$tmp/routes.before" -
# Nothing left to do: a second cleanup says nothing and succeeds.
in_mount_ns "$VPNC" --cleanup -c "$tmp/cli.conf" >"$tmp/cleanup2.log" 2>&1
[ ! -s "$tmp/cleanup2.log" ]

# ---- lan -------------------------------------------------------------------------
echo 'allow-lan = yes' >>"$tmp/cli.conf"
start_vpnc_dns cli "" -v
wait_log "$tmp/cli.log" "connected as alice" 30
wait_for 10 q_cli ip link show vpn0
[ "$(dev_for $HOME_HOST)" = hl0 ]
n_cli ping -c 2 -i 0.3 -W 3 $HOME_HOST
[ -z "$(fence_routes | grep 192.168.77)" ]
refused $NET_HOST6
kill -TERM "$VPNC_PID"
wait "$VPNC_PID"
cmp "$tmp/resolv.conf" "$tmp/resolv.before"
[ -z "$(fence_routes)" ]
refute grep -q 'Sanitizer\|runtime error' "$tmp/cli.log"
echo "ok"
