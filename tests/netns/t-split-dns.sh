#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# DNS per link through systemd-resolved's D-Bus API (issue 13;
# vpnc/resolved.h, vpnc/state.h). A private dbus-daemon stands for the
# system bus (DBUS_SYSTEM_BUS_ADDRESS, which sd-bus honours) and
# tests/tools/fake-resolved.py for resolved, in the client namespace; it
# records each link's settings and every call, and forgets a link's
# settings when the link goes, as resolved does. No real bus or resolved
# is touched. vpnc runs in a mount namespace of its own where
# /etc/resolv.conf is a file of the test's, which must stay untouched
# whenever resolved takes the DNS. (dns = "file", set, restored at exit,
# after kill -9 at the next start and by --cleanup, is t-full-tunnel.sh's.)
#   split     dns = "resolved": vpn0 gets the pushed server and office.test
#             as a search (and so routing) domain, not the default route:
#             office names to the office server, the rest where it went;
#             the state file says "resolved"; vpnc's exit reverts the link
#   crash     kill -9: the device goes and resolved forgets its link; the
#             state file still names it; the next start says it undoes
#             it, reverts no link that is not there, and sets the new one
#   full      full-tunnel = yes, vpnd pushing 0.0.0.0/0: the link also gets
#             "~." and the default route, so every name goes to the pushed
#             server; while vpnc reconnects the device and its link are
#             gone (what resolved sends elsewhere meanwhile, the fence
#             refuses: t-full-tunnel.sh), and the new device's link gets
#             them again
#   cleanup   kill -9, then a device vpn0 there again (a persistent TUN
#             device) carrying the settings: `vpnc --cleanup` reverts that
#             link, takes the fence's routes out and removes the state file
#   elsewhere resolved in another network namespace (a host's resolved
#             seen from a container): dns = "resolved" is refused with a
#             clear error, nothing set and nothing left; dns = "auto"
#             leaves it alone and writes resolv.conf, put back at exit
source "$(dirname "$0")/lib.sh"

python3=/usr/bin/python3
"$python3" -c 'import dbus, gi' 2>/dev/null ||
	skip "needs python3-dbus and python3-gi (make deps)"
command -v dbus-daemon >/dev/null || skip "needs dbus-daemon (make deps)"

setup_topology
printf 'nameserver 192.0.2.53\n' >"$tmp/resolv.conf"
cp "$tmp/resolv.conf" "$tmp/resolv.before"

# The bus: root's, reachable by path from every namespace.
cat >"$tmp/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$tmp/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="root"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
EOF
dbus-daemon --config-file="$tmp/bus.conf" --nofork --nopidfile \
	>"$tmp/bus.log" 2>&1 &
pids+=("$!")
wait_for 10 test -S "$tmp/bus"
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$tmp/bus

# start_resolved NS: the stand-in in NS; its state in $tmp/resolved.json.
start_resolved() {
	rm -f "$tmp/resolved.json"
	ip netns exec "$1" "$python3" "$top/tests/tools/fake-resolved.py" \
		"$tmp/resolved.json" 2>"$tmp/resolved.log" &
	RESOLVED_PID=$!
	pids+=("$RESOLVED_PID")
	wait_log "$tmp/resolved.log" "ready as org.freedesktop.resolve1" 10
}
stop_resolved() {
	kill "$RESOLVED_PID"
	wait "$RESOLVED_PID" || true
}
# link FIELD: vpn0's FIELD in the stand-in, as JSON ("null": no such
# link).
link() {
	"$python3" -c '
import json, sys
links = json.load(open(sys.argv[1]))["links"]
print(json.dumps(links.get("vpn0", {}).get(sys.argv[2]) if "vpn0" in links
                 else None))' "$tmp/resolved.json" "$1"
}
link_is() { [ "$(link "$1")" = "$2" ]; }
# calls_since N: the calls the stand-in took after its first N, as
# "Method ifname" words; ncalls: how many it took.
calls_since() {
	"$python3" -c 'import json, sys
print(" ".join(json.load(open(sys.argv[1]))["calls"][int(sys.argv[2]):]))' \
		"$tmp/resolved.json" "$1"
}
ncalls() {
	"$python3" -c 'import json, sys
print(len(json.load(open(sys.argv[1]))["calls"]))' "$tmp/resolved.json"
}
SET_CALLS="SetLinkDNS vpn0 SetLinkDomains vpn0 SetLinkDefaultRoute vpn0"

# As t-full-tunnel.sh: vpnc where /etc/resolv.conf is $tmp/resolv.conf.
mount_resolv='mount --bind "$1" /etc/resolv.conf && shift && exec "$@"'
in_mount_ns() {
	ip netns exec "$ns_cli" /bin/sh -c "$mount_resolv" sh \
		"$tmp/resolv.conf" "$@"
}
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
stop_vpnc() {
	kill -TERM "$VPNC_PID"
	wait "$VPNC_PID"
}
crash_vpnc() {
	kill -KILL "$VPNC_PID"
	wait_gone "$VPNC_PID" 50
}
# connected N: vpnc has said it is connected more than N times.
connected() { log_count_above "$tmp/cli.log" "connected as alice" "$1"; }
state_says() { grep -qx "$1" "$tmp/run/cli.state"; }
fence_routes() {
	{
		ip -n "$ns_cli" -4 route show proto 86
		ip -n "$ns_cli" -6 route show proto 86
	}
}

write_vpnd_conf
secret=$(enrol alice)
start_vpnd
mkdir -p "$tmp/run"

# ---- split -------------------------------------------------------------------
start_resolved "$ns_cli"
write_vpnc_conf cli alice 'dns = "resolved"' \
	"state-file = \"$tmp/run/cli.state\""
start_vpnc_dns cli "$(totp "$secret")" -v
wait_for 30 connected 0
# vpnc says it is connected once its DNS calls are answered.
link_is dns '["10.20.0.53"]'
link_is domains '[["office.test", false]]'
link_is default_route false
[ "$(calls_since 0)" = "$SET_CALLS" ]
log_has "$tmp/cli.log" "DNS for vpn0 set through resolved"
state_says "dns vpn0 resolved"
cmp "$tmp/resolv.conf" "$tmp/resolv.before"
n=$(ncalls)
stop_vpnc
[ "$(calls_since "$n")" = "RevertLink vpn0" ]
link_is dns null
[ ! -e "$tmp/run/cli.state" ]
cmp "$tmp/resolv.conf" "$tmp/resolv.before"

# ---- crash -------------------------------------------------------------------
start_vpnc_dns cli "" -v
wait_for 30 connected 1
link_is dns '["10.20.0.53"]'
crash_vpnc
wait_for 10 no_device "$ns_cli"
wait_for 10 link_is dns null
state_says "dns vpn0 resolved"
n=$(ncalls)
start_vpnc_dns cli "" -v
wait_for 30 connected 2
log_has "$tmp/cli.log" \
	"did not stop cleanly: taking out what it left (0 route(s), DNS for vpn0)"
refute log_has "$tmp/cli.log" "resolved: RevertLink"
refute log_has "$tmp/cli.log" "not taken back"
[ "$(calls_since "$n")" = "$SET_CALLS" ]
link_is dns '["10.20.0.53"]'
link_is domains '[["office.test", false]]'
n=$(ncalls)
stop_vpnc
[ "$(calls_since "$n")" = "RevertLink vpn0" ]
link_is dns null
[ ! -e "$tmp/run/cli.state" ]
cmp "$tmp/resolv.conf" "$tmp/resolv.before"

# ---- full --------------------------------------------------------------------
stop_vpnd
sed -i 's|^routes = .*|routes = {"0.0.0.0/0", "::/0"}|' "$tmp/vpnd.conf"
start_vpnd
echo 'full-tunnel = yes' >>"$tmp/cli.conf"
n=$(ncalls)
start_vpnc_dns cli "" -v
wait_for 30 connected 3
link_is default_route true
link_is dns '["10.20.0.53"]'
link_is domains '[["office.test", false], [".", true]]'
[ "$(calls_since "$n")" = "$SET_CALLS" ]
cmp "$tmp/resolv.conf" "$tmp/resolv.before"
# Reconnecting: the device and so its link go; vpnc still counts the DNS
# as its own (the state file says so) and sets it on the new device.
n=$(ncalls)
stop_vpnd
wait_log "$tmp/cli.log" "server shutdown; reconnecting"
wait_for 10 no_device "$ns_cli"
wait_for 10 link_is dns null
state_says "dns vpn0 resolved"
[ "$(calls_since "$n")" = "" ]
start_vpnd
wait_for 30 connected 4
[ "$(calls_since "$n")" = "$SET_CALLS" ]
link_is default_route true
link_is dns '["10.20.0.53"]'
link_is domains '[["office.test", false], [".", true]]'
cmp "$tmp/resolv.conf" "$tmp/resolv.before"

# ---- cleanup -----------------------------------------------------------------
crash_vpnc
wait_for 10 no_device "$ns_cli"
[ -n "$(fence_routes)" ]
state_says "dns vpn0 resolved"
# A vpn0 that outlived its vpnc (a persistent TUN device), with the
# settings on its link.
ip -n "$ns_cli" tuntap add dev vpn0 mode tun
ifindex=$(ip -n "$ns_cli" -o link show vpn0 | cut -d: -f1)
q_cli "$python3" -c '
import socket, sys, dbus
dbus.Interface(dbus.SystemBus().get_object("org.freedesktop.resolve1",
                                           "/org/freedesktop/resolve1"),
               "org.freedesktop.resolve1.Manager").SetLinkDNS(
    dbus.Int32(int(sys.argv[1])),
    [(dbus.Int32(socket.AF_INET), dbus.ByteArray(bytes([10, 20, 0, 53])))],
    signature="ia(iay)")' "$ifindex"
link_is dns '["10.20.0.53"]'
n=$(ncalls)
in_mount_ns "$VPNC" --cleanup -c "$tmp/cli.conf" >"$tmp/cleanup.log" 2>&1
cat "$tmp/cleanup.log"
log_has "$tmp/cleanup.log" "did not stop cleanly.*DNS for vpn0"
[ "$(calls_since "$n")" = "RevertLink vpn0" ]
link_is dns null
[ -z "$(fence_routes)" ]
[ ! -e "$tmp/run/cli.state" ]
cmp "$tmp/resolv.conf" "$tmp/resolv.before"
ip -n "$ns_cli" tuntap del dev vpn0 mode tun

# ---- elsewhere ---------------------------------------------------------------
stop_resolved
start_resolved "$ns_srv"
start_vpnc_dns cli "" -v
rc=0
wait "$VPNC_PID" || rc=$?
[ "$rc" -ne 0 ]
log_has "$tmp/cli.log" 'dns = "resolved" but systemd-resolved does not run here'
[ "$(calls_since 0)" = "" ]
no_device "$ns_cli"
[ -z "$(fence_routes)" ]
[ ! -e "$tmp/run/cli.state" ]
cmp "$tmp/resolv.conf" "$tmp/resolv.before"
# "auto" would take resolvconf before the file, and resolvconf writes the
# host's /run/resolvconf: only where it is not installed.
if [ -x /sbin/resolvconf ] || [ -x /usr/sbin/resolvconf ]; then
	echo "resolvconf installed: dns = \"auto\" not tried"
else
	sed -i 's|^dns = "resolved"|dns = "auto"|' "$tmp/cli.conf"
	start_vpnc_dns cli "" -v
	wait_for 20 grep -q "^# vpnc: DNS for vpn0" "$tmp/resolv.conf"
	grep -qx "nameserver 10.20.0.53" "$tmp/resolv.conf"
	log_has "$tmp/cli.log" "DNS for vpn0 set through file"
	stop_vpnc
	cmp "$tmp/resolv.conf" "$tmp/resolv.before"
	[ "$(calls_since 0)" = "" ]
fi
refute grep -q 'Sanitizer\|runtime error' "$tmp/cli.log"
echo "ok"
