#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# In lan-mode routed (the default) vpnd refuses to start when it pushes
# routes its host does not forward:
#  - forwarding off for both families, routes of both pushed: one error
#    for each, naming the sysctl, the routes and the command to run, and
#    vpnd exits non-zero with no device left;
#  - only IPv4 routes pushed, IPv6 forwarding off: it starts, silent;
#  - IPv4 routes pushed, IPv4 forwarding off: it refuses again;
#  - forwarding on for both: it starts, silent.
# vpnd only reads these settings: each is as the test left it after a run.
source "$(dirname "$0")/lib.sh"

V4=net.ipv4.ip_forward
V6=net.ipv6.conf.all.forwarding

# run_vpnd NAME V4 V6: vpnd started and stopped with forwarding as given;
# its log is $tmp/NAME.log.
run_vpnd() {
	q_srv sysctl -qw "$V4=$2" "$V6=$3"
	rm -f "$tmp/vpnd.log"
	start_vpnd
	stop_vpnd
	mv "$tmp/vpnd.log" "$tmp/$1.log"
	[ "$(q_srv sysctl -n $V4)" = "$2" ]
	[ "$(q_srv sysctl -n $V6)" = "$3" ]
}

# refused NAME V4 V6: vpnd, started with forwarding as given, exits with
# an error by itself, leaving no device; its log is $tmp/NAME.log.
refused() {
	local rc=0
	q_srv sysctl -qw "$V4=$2" "$V6=$3"
	timeout 20 ip netns exec "$ns_srv" "$VPND" -f -c "$tmp/vpnd.conf" \
		>"$tmp/$1.log" 2>&1 || rc=$?
	cat "$tmp/$1.log"
	# 124: timeout's own, had vpnd kept running.
	[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]
	has "$tmp/$1.log" "lan-mode routed: vpnd does not start on a host"
	no_device "$ns_srv"
	[ "$(q_srv sysctl -n $V4)" = "$2" ]
	[ "$(q_srv sysctl -n $V6)" = "$3" ]
}

has() { grep -qF -- "$2" "$1"; }

setup_topology
write_vpnd_conf

# warned NAME SYSCTL ROUTES: NAME's log warns that SYSCTL is off for
# ROUTES, with the command that turns it on.
warned() {
	local text="$2 is 0, so what clients send to the routes they are"
	text+=" given ($3) stops at this host: turn it on with"
	text+=" 'sysctl -w $2=1', and in /etc/sysctl.d/ to keep it"
	has "$tmp/$1.log" "$text"
}
warnings() { count_log "$tmp/$1.log" "is 0, so what clients send"; }

refused both-off 0 0
warned both-off $V4 10.20.0.0/24
warned both-off $V6 fd00:20::/64
[ "$(warnings both-off)" -eq 2 ]

sed -i 's|^routes = .*|routes = {"10.20.0.0/24", "10.30.0.0/16", '\
'"10.40.0.0/16", "10.50.0.0/16"}|' "$tmp/vpnd.conf"
run_vpnd v4-routes 1 0
[ "$(warnings v4-routes)" -eq 0 ]

refused v4-routes-off 0 0
warned v4-routes-off $V4 \
	"10.20.0.0/24, 10.30.0.0/16, 10.40.0.0/16 and 1 more"
[ "$(warnings v4-routes-off)" -eq 1 ]

sed -i 's|^routes = .*|routes = {"10.20.0.0/24", "fd00:20::/64"}|' \
	"$tmp/vpnd.conf"
run_vpnd both-on 1 1
[ "$(warnings both-on)" -eq 0 ]
echo "ok"
