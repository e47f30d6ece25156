#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# One source cannot take more than its share of handshakes, even one that
# proves its address. vpnd takes 5 handshakes a second without cookies
# (handshake-rate = 5) and each source (IPv4 address, IPv6 /64) 20 a second
# with bursts of 5 (source-handshake-rate, its default). An attacker at
# $CLI2_ADDR sends real initiations, each from a new static key, as fast
# as it can, and answers vpnd's cookie replies as a client would: its
# initiations then carry a valid mac2 and pass the load rule, so only the
# per-source limit stands in its way. The responses (type 2) vpnd sends it
# are counted on the wire: no more than the limit allows over the time the
# attack lasted (burst + rate x seconds, the seconds measured from before
# the attack starts to after vpnd has answered everything it queued), and
# at least half of what the rate allows over its length, so the limit
# slows the source down rather than shutting it out. Meanwhile Alice, at
# another address, connects, logs in and pings. The attacker's peers stay
# pending (none logs in), and each address holds at most
# max-pending-per-source of those: raised here so that only the rate, which
# this test measures, holds the attacker back (t-pending-source tests the
# share).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-flood.sh"

RATE=20 # source-handshake-rate's default
BURST=5 # vpnd's SOURCE_HANDSHAKE_BURST
# The attack goes on for AFTER_LOGIN_S once Alice pings (and stops within
# ATTACK_MAX_S whatever happens).
AFTER_LOGIN_S=3
ATTACK_MAX_S=60
require_flood
setup_topology
setup_client2
wire_counters wan1 wan2
write_vpnd_conf "handshake-rate = 5" "max-pending-per-source = 65536"
write_vpnc_conf alice alice
secret=$(enrol alice)
start_vpnd

t0=$(now_ms)
ip netns exec "$ns_cli2" "$FLOOD" -K init-fresh -c -k "$SERVER_PUB" \
	-n 100000000 -t $ATTACK_MAX_S $SRV_ADDR 51900 >"$tmp/attack.log" 2>&1 &
attack_pid=$!
pids+=("$attack_pid")
# vpnd is past handshake-rate once it sends the attacker cookie replies.
cookie_to_attacker() { (($(wire_count wan2 3) > 0)); }
wait_for 10 cookie_to_attacker

start_vpnc alice "$PASSWORD" "$(totp "$secret")"
wait_log "$tmp/alice.log" "connected as alice" 40
[ "$(endpoint_host "$(session_field alice endpoint)")" = "$CLI_ADDR" ]
n_cli ping -c 3 -i 0.2 -W 2 $LAN_HOST
attack_seconds_min=$((($(now_ms) - t0) / 1000 + AFTER_LOGIN_S))
sleep $AFTER_LOGIN_S
kill -0 "$attack_pid"
kill -TERM "$attack_pid"
wait "$attack_pid"
cat "$tmp/attack.log"
wait_for 20 count_settled wan2 2
t1=$(now_ms)

responses=$(wire_count wan2 2)
sent=$(flood_field "$tmp/attack.log" datagrams)
most=$((BURST + (RATE * (t1 - t0) + 999) / 1000))
least=$((RATE * attack_seconds_min / 2))
echo "attack: $sent initiations from fresh keys in $(((t1 - t0) / 1000))" \
	"s, $responses responses (allowed: $least to $most)," \
	"$(wire_count wan2 3) cookie replies"
# It took a cookie and used it: its initiations were under the load rule.
(( $(flood_field "$tmp/attack.log" taken) >= 1 ))
# It tried far more than the limit lets through...
(( sent >= 4 * most ))
# ... and the limit held, without shutting it out.
(( responses <= most ))
(( responses >= least ))
# Alice, who connected meanwhile, is still served.
n_cli ping -c 3 -i 0.2 -W 2 $LAN_HOST

kill -TERM "$VPNC_PID"
wait "$VPNC_PID"
stop_vpnd
no_device "$ns_srv"
sanitizers_quiet "$tmp/vpnd.log" "$tmp/alice.log"
echo "ok"
