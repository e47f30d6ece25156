#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Cookies under load (PROTOCOL.md 4.4, 4.5). vpnd takes one handshake a
# second (handshake-rate = 1) and a flood from the wan keeps it past that
# with initiations that carry a valid mac1 and no mac2. A real vpnc's first
# initiation then gets a cookie reply instead of a response; vpnc must keep
# the cookie and retry with it as mac2, which vpnd lets through despite the
# load: the client connects, logs in and pings. The packets on the client's
# link show that path in that order.
source "$(dirname "$0")/lib.sh"

FLOOD=$bin/tools/udpflood
[ -x "$FLOOD" ] || skip "$FLOOD is not built"

setup_topology
write_vpnd_conf "handshake-rate = 1"
write_vpnc_conf alice alice
secret=$(enrol alice)
start_vpnd
sniff_start "$ns_wan" wan0 60 "$tmp/wan0.pkts" 100000 "len=64 type=3"
sniff_start "$ns_cli" cli0 60 "$tmp/cli0.pkts"

# 2000 initiations a second, each with a valid mac1 and no mac2: vpnc's
# first one is very unlikely to come first after a token is refilled.
ip netns exec "$ns_wan" "$FLOOD" -K init-mac1 -k "$SERVER_PUB" -r 2000 \
	-n 120000 -t 60 $SRV_ADDR 51900 >"$tmp/flood.log" 2>&1 &
flood_pid=$!
pids+=("$flood_pid")
# vpnd is under load once it answers the flood with cookie replies.
cookie_to_wan="in udp $SRV_ADDR:51900 > 192.0.2.254:[0-9]* len=64 type=3"
wait_log "$tmp/wan0.pkts" "$cookie_to_wan" 10

start_vpnc alice "$PASSWORD" "$(totp "$secret")"
wait_log "$tmp/alice.log" "connected as alice" 40
[ "$(endpoint_host "$(session_field alice endpoint)")" = "$CLI_ADDR" ]
n_cli ping -c 3 -i 0.2 -W 2 $LAN_HOST
kill -0 "$flood_pid"
# vpnd is still under load: the flood is still answered with cookies.
n=$(count_log "$tmp/wan0.pkts" "$cookie_to_wan")
wait_for 10 eval '[ "$(count_log "$tmp/wan0.pkts" "$cookie_to_wan")" -gt $n ]'
kill -TERM "$flood_pid"

# On the client's link, in this order: an initiation without mac2, a
# cookie reply, an initiation with mac2, the response.
first() { grep -n -m 1 -- "$1" "$tmp/cli0.pkts" | cut -d: -f1; }
cli="udp $CLI_ADDR:[0-9]* > $SRV_ADDR:51900 len=148 type=1"
srv="udp $SRV_ADDR:51900 > $CLI_ADDR:[0-9]*"
plain=$(first "out $cli mac2=0")
cookie=$(first "in $srv len=64 type=3")
with_mac2=$(first "out $cli mac2=1")
[ -n "$plain" ]
[ -n "$cookie" ]
[ -n "$with_mac2" ]
(( plain < cookie && cookie < with_mac2 ))
response=$(sed -n "$with_mac2,\$p" "$tmp/cli0.pkts" |
	grep -c -- "in $srv len=92 type=2")
(( response >= 1 ))
echo "client link: initiation at $plain, cookie at $cookie," \
	"initiation with mac2 at $with_mac2, then $response response(s)"

kill -TERM "$VPNC_PID"
wait "$VPNC_PID"
stop_vpnd
no_device "$ns_srv"
if grep -E "AddressSanitizer|LeakSanitizer|runtime error" \
	"$tmp/vpnd.log" "$tmp/alice.log"; then
	exit 1
fi
echo "ok"
