#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Site-to-site (issue 13): a branch gateway runs vpnc for its whole LAN.
#
#                  ┌──────────────── $ns_wan ─────────────────┐
#                  │ wan0 192.0.2.254    wan1 198.51.100.254   │
#                  │                     wan2 203.0.113.254    │
#                  └───┬────────────────────┬─────────────┬────┘
#   ┌─── $ns_srv ──────┴─┐   ┌─── $ns_cli ──┴─────┐  ┌────┴── $ns_cli2 ────┐
#   │ vpnd               │   │ the branch gateway │  │ alice at home, who  │
#   │ lan0 10.20.0.1     │   │ vpnc site = yes    │  │ tries to pass for   │
#   └──┬─────────────────┘   │ br0 192.168.2.1    │  │ the branch          │
#   ┌──┴── $ns_lan ──────┐   └──┬─────────────────┘  └─────────────────────┘
#   │ office host        │   ┌──┴── $ns_br ───────┐
#   │ 10.20.0.2          │   │ branch host        │
#   └────────────────────┘   │ 192.168.2.2        │
#                            └────────────────────┘
#
# The site account "branch" carries 192.168.2.0/24 and fd00:2::/64
# (vpnctl user subnets). A person logs it in once at the gateway's vpnc;
# vpnd routes those subnets into that session (its route table and a
# kernel route on its device), so the branch host and the office host
# reach each other both ways, by ping and TCP, over IPv4 and IPv6, with
# no NAT: each sees the other's own address. alice, logged in as an
# ordinary user, sends from a branch address: vpnd drops it, counted on
# her session, and the office host never sees it. The subnets change
# live (a new one routed, no new login). Then vpnd restarts, and the
# gateway's vpnc restarts with nothing on stdin: the link comes back each
# time without a password or code. Last, a site near its end: vpnc warns
# a minute ahead and `vpnctl sessions` marks it, the 30-day site not; its
# vpnc had first refused to start on a host that did not forward.
source "$(dirname "$0")/lib.sh"

ns_br=vpn-br-$$
BR_HOST=192.168.2.2
BR_HOST6=fd00:2::2
q_br() { ip netns exec "$ns_br" "$@"; }
n_br() { pretty br "$@"; ip netns exec "$ns_br" "$@"; }

# The branch LAN behind the gateway ($ns_cli), which forwards for it.
setup_branch() {
	ip netns add "$ns_br"
	namespaces+=("$ns_br")
	ip -n "$ns_br" link set lo up
	ip link add br0 netns "$ns_cli" type veth peer name br1 netns "$ns_br"
	ip -n "$ns_cli" addr add 192.168.2.1/24 dev br0
	ip -n "$ns_cli" -6 addr add fd00:2::1/64 dev br0 nodad
	ip -n "$ns_br" addr add $BR_HOST/24 dev br1
	ip -n "$ns_br" -6 addr add $BR_HOST6/64 dev br1 nodad
	ip -n "$ns_cli" link set br0 up
	ip -n "$ns_br" link set br1 up
	ip -n "$ns_br" route add default via 192.168.2.1
	ip -n "$ns_br" -6 route add default via fd00:2::1
	ip netns exec "$ns_cli" sysctl -qw net.ipv4.ip_forward=1
	ip netns exec "$ns_cli" sysctl -qw net.ipv6.conf.all.forwarding=1
}

# A TCP service on the branch host that names the peer it sees, so the
# test knows no NAT stood between them.
start_branch_service() {
	ip netns exec "$ns_br" /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", 8081))
s.listen(8)
while True:
    c, peer = s.accept()
    c.sendall(("branch sees " + peer[0].removeprefix("::ffff:") + "\n").encode())
    c.close()
' >"$tmp/branch-service.log" 2>&1 &
	pids+=("$!")
	wait_for 10 q_br bash -c 'exec 3<>/dev/tcp/192.168.2.2/8081'
}

# branch_says ADDRESS: what the branch service answers the office host.
branch_says() {
	q_lan timeout 5 bash -c "exec 3<>/dev/tcp/$1/8081; head -n 1 <&3"
}

# route_on_srv PREFIX: vpnd's kernel route to PREFIX goes into vpn0.
route_on_srv() { srv_routes "$1" | grep -q "dev vpn0"; }
no_route_on_srv() { ! srv_routes "$1" | grep -q .; }
srv_routes() {
	local family=-4
	[[ $1 != *:* ]] || family=-6
	ip -n "$ns_srv" "$family" route show "$1"
}

# Both LANs reach each other, by ping and TCP, IPv4 and IPv6, each seeing
# the other's own address.
lans_reach_each_other() {
	local before
	before=$(echo_replies "$ns_br")
	n_br ping -c 3 -i 0.2 -W 2 $LAN_HOST >/dev/null || true
	wait_for 10 replies_since "$ns_br" "$before" 3
	before=$(echo_replies "$ns_lan")
	n_lan ping -c 3 -i 0.2 -W 2 $BR_HOST >/dev/null || true
	wait_for 10 replies_since "$ns_lan" "$before" 3
	n_br ping -6 -c 2 -i 0.2 -W 2 fd00:20::2
	n_lan ping -6 -c 2 -i 0.2 -W 2 $BR_HOST6
	# TCP from the branch to the office's web server, and back.
	q_br timeout 5 bash -c 'exec 3<>/dev/tcp/10.20.0.2/8080;
		printf "GET / HTTP/1.0\r\n\r\n" >&3; cat <&3' |
		grep -q "hello from the office"
	[ "$(branch_says $BR_HOST)" = "branch sees $LAN_HOST" ]
	[ "$(branch_says $BR_HOST6)" = "branch sees fd00:20::2" ]
}

setup_topology
setup_client2
setup_branch
write_vpnd_conf
write_vpnc_conf branch branch "site = yes"
write_vpnc_conf alice alice
vpnctl() { ip netns exec "$ns_srv" "$VPNCTL" -c "$tmp/vpnd.conf" "$@"; }
secret_b=$(enrol branch --role site --lifetime 30d)
secret_a=$(enrol alice)
vpnctl user subnets branch 192.168.2.0/24 fd00:2::/64
[ "$(vpnctl user subnets branch --json)" = '["192.168.2.0/24", "fd00:2::/64"]' ]
# One owner per address: alice is no site, and no site may take a pool.
refute vpnctl user subnets alice 192.168.9.0/24
refute vpnctl user subnets branch 10.99.0.0/25
start_vpnd
start_web
start_branch_service

# A person logs the branch in once at its gateway.
start_vpnc branch "$PASSWORD" "$(totp "$secret_b")"
pid_b=$VPNC_PID
wait_log "$tmp/branch.log" "connected as branch" 30
key_b=$(client_key branch)
[ "$(session_field branch subnets)" = "192.168.2.0/24,fd00:2::/64" ]
login_time=$(session_field branch login_time)
# Its 30 days, from its account (vpnd.conf says 12 hours).
expires=$(session_field branch expires)
now=$(date +%s)
((expires - now > 29 * 86400 && expires - now <= 30 * 86400))
[ "$(session_field branch expires_soon)" = false ]
route_on_srv 192.168.2.0/24
route_on_srv fd00:2::/64
lans_reach_each_other

# alice logs in from home and sends from a branch address: dropped by
# vpnd as hers, never seen at the office.
VPNC_NS=$ns_cli2 start_vpnc alice "$PASSWORD" "$(totp "$secret_a")"
pid_a=$VPNC_PID
wait_log "$tmp/alice.log" "connected as alice" 30
sniff_start "$ns_lan" lan1 60 "$tmp/lan1.pkts"
q_cli2 ip addr add 192.168.2.77/32 dev vpn0
drops_a=$(session_field alice drop_source)
refute q_cli2 ping -c 3 -i 0.2 -W 1 -I 192.168.2.77 $LAN_HOST
drops=$(($(session_field alice drop_source) - drops_a))
echo "vpnd dropped $drops packet(s) of alice's from a branch address"
((drops >= 3))
refute grep -q "192.168.2.77" "$tmp/lan1.pkts"
q_cli2 ip addr del 192.168.2.77/32 dev vpn0
# alice herself still works; the branch was not disturbed.
q_cli2 ping -c 2 -i 0.2 -W 2 $LAN_HOST
[ "$(session_field branch login_time "$key_b")" = "$login_time" ]
kill -TERM "$pid_a"
wait "$pid_a"

# The subnets change live: a new one is routed at once, no new login.
vpnctl user subnets branch 192.168.2.0/24 fd00:2::/64 192.168.3.0/24
wait_for 10 route_on_srv 192.168.3.0/24
[ "$(session_field branch subnets)" = "192.168.2.0/24,192.168.3.0/24,fd00:2::/64" ]
vpnctl user subnets branch 192.168.2.0/24 fd00:2::/64
wait_for 10 no_route_on_srv 192.168.3.0/24
route_on_srv 192.168.2.0/24
[ "$(session_field branch login_time)" = "$login_time" ]
[ "$(count_log "$tmp/branch.log" "connected as branch")" -eq 1 ]
lans_reach_each_other

# vpnd restarts: the gateway resumes with no one typing anything (its
# stdin held one password and one code, both used).
stop_vpnd
no_route_on_srv 192.168.2.0/24
start_vpnd
wait_for 30 bash -c "[ \$(grep -c 'connected as branch' '$tmp/branch.log') -eq 2 ]"
[ "$(session_field branch login_time)" = "$login_time" ]
wait_for 10 route_on_srv 192.168.2.0/24
lans_reach_each_other

# The gateway's vpnc restarts with nothing on stdin: RESUME suffices.
kill -TERM "$pid_b"
wait "$pid_b"
ip netns exec "$ns_cli" "$VPNC" -c "$tmp/branch.conf" </dev/null \
	>>"$tmp/branch-2.log" 2>&1 &
pid_b=$!
pids+=("$pid_b")
wait_log "$tmp/branch-2.log" "connected as branch" 30
refute log_has "$tmp/branch-2.log" "asks us to log in"
[ "$(session_field branch login_time)" = "$login_time" ]
lans_reach_each_other
# A resume with 30 days left is no reason to warn.
refute log_has "$tmp/branch-2.log" "the session ends in"

# A site given 70 s: vpnc warns a minute ahead, and vpnctl sessions marks
# it (its last ten minutes), on stderr in text, in JSON as expires_soon.
secret_d=$(enrol depot --role site --lifetime 70s)
write_vpnc_conf depot depot "site = yes"
# Its gateway does not forward yet: vpnc refuses to start, saying why.
rc=0
q_cli2 "$VPNC" -c "$tmp/depot.conf" </dev/null >"$tmp/depot-0.log" 2>&1 ||
	rc=$?
[ "$rc" -eq 1 ]
log_has "$tmp/depot-0.log" "site = yes, but this host forwards nothing"
q_cli2 sysctl -qw net.ipv4.ip_forward=1
VPNC_NS=$ns_cli2 start_vpnc depot "$PASSWORD" "$(totp "$secret_d")"
wait_log "$tmp/depot.log" "connected as depot" 30
[ "$(session_field depot expires_soon)" = true ]
[ "$(session_field branch expires_soon)" = false ]
vpnctl sessions 2>"$tmp/sessions.err" >"$tmp/sessions.out"
grep -q "the session of 'depot' ends in" "$tmp/sessions.err"
refute grep -q "'branch'" "$tmp/sessions.err"
[ "$(grep -c '^depot .* !' "$tmp/sessions.out")" -eq 1 ]
# At 60 s left, or a few seconds later on a loaded machine.
wait_log "$tmp/depot.log" "the session ends in \(1m 0s\|[0-5]\?[0-9]s\);" 30

stop_vpnd
echo "ok"
