#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Roaming (PROTOCOL.md section 5: a peer's endpoint is the source of its
# latest authenticated message). The client's source address changes
# twice in one session while pings run both ways, with the protocol's own
# timers (no divisor: nothing here may wait for the 15-s handshake timer):
#
#                 ┌──────────────── $ns_wan ────────────────┐
#                 │ wan0 192.0.2.254     wan1 198.51.100.254 │
#                 │                      wan2 203.0.113.254  │
#                 └────┬───────────────────┬───────────┬─────┘
#   ┌──── $ns_srv ─────┴──┐         ┌──────┴───────────┴─── $ns_cli ─┐
#   │ srv0 192.0.2.1      │         │ cli0 198.51.100.2   cli1       │
#   │ vpnd, lan0 → $ns_lan│         │  1: → .3            203.0.113.2│
#   └─────────────────────┘         │  2: down, default via cli1     │
#                                   │  3: up again (.3), unused      │
#                                   │ vpnc                           │
#                                   └────────────────────────────────┘
#
#  1. A new address on the same link (a new DHCP lease): 198.51.100.2 is
#     removed, 198.51.100.3 added.
#  2. Another network: cli0 goes down; the default route left is the one
#     through cli1 (metric 100), so the client now sends from 203.0.113.2.
#  3. cli0 comes back up with 198.51.100.3, reachable again, but the
#     session stays where the client now talks from: the server sends
#     nothing to the old path (counted on the wire leaving wan1) and
#     everything to the new one (wan2).
#
# Old addresses are gone or idle after each move, so the replies that
# keep arriving can only have gone to the new endpoint. The pings lose at
# most 5 packets of 200 each way (a few in flight at each move), and the
# client never logs in again. vpnd's own view of the endpoint (vpnctl
# sessions) follows each move.
source "$(dirname "$0")/lib.sh"

PINGS=200

ping_received() {
	sed -n 's/.* \([0-9]*\) received.*/\1/p' "$1"
}

# endpoint_is ADDRESS: vpnd holds alice's session at ADDRESS.
endpoint_is() {
	[ "$(endpoint_host "$(session_field alice endpoint)")" = "$1" ]
}

# count_above DEV TYPE N: more than N datagrams of TYPE have left DEV.
count_above() {
	(($(wire_count "$1" "$2") > $3))
}

setup_topology
ip link add cli1 netns "$ns_cli" type veth peer name wan2 netns "$ns_wan"
ip -n "$ns_wan" addr add 203.0.113.254/24 dev wan2
ip -n "$ns_cli" addr add 203.0.113.2/24 dev cli1
ip -n "$ns_wan" link set wan2 up
ip -n "$ns_cli" link set cli1 up
ip -n "$ns_cli" route add default via 203.0.113.254 metric 100
wire_counters wan1 wan2

write_vpnd_conf
write_vpnc_conf alice alice
secret=$(enrol alice)
start_vpnd
start_vpnc alice "$PASSWORD" "$(totp "$secret")" -v
wait_log "$tmp/alice.log" "connected as alice"
addr=$(client_addr "$tmp/alice.log")
[ -n "$addr" ]
endpoint_is 198.51.100.2
login_time=$(session_field alice login_time)
n_cli ping -c 2 -i 0.2 -W 2 $LAN_HOST
[ "$(wire_count wan2 4)" -eq 0 ]

q_cli ping -c $PINGS -i 0.1 -W 1 $LAN_HOST >"$tmp/ping-out.txt" &
ping_out=$!
q_lan ping -c $PINGS -i 0.1 -W 1 "$addr" >"$tmp/ping-in.txt" &
ping_in=$!
sleep 2

# 1. A new address on the same link.
n_cli ip addr del 198.51.100.2/24 dev cli0
n_cli ip addr add 198.51.100.3/24 dev cli0
n_cli ip route replace default via 198.51.100.254 dev cli0
wait_for 5 endpoint_is 198.51.100.3
sleep 2

# 2. Another network: the server's data soon goes out through wan2.
n_cli ip link set cli0 down
wait_for 5 count_above wan2 4 0
endpoint_is 203.0.113.2
sleep 2

# 3. The old link is back, reachable, and unused: while the server sends
# 60 data datagrams to the new path (20 a second, echoes and replies: about
# 3 s), it sends none to the old.
n_cli ip link set cli0 up
sleep 1
old=$(wire_count wan1 4)
new=$(wire_count wan2 4)
wait_for 10 count_above wan2 4 $((new + 59))
old2=$(wire_count wan1 4)
new2=$(wire_count wan2 4)
echo "data datagrams meanwhile: $((old2 - old)) to the old path," \
	"$((new2 - new)) to the new"
[ "$old2" -eq "$old" ]
endpoint_is 203.0.113.2
# The pings outlasted the moves, so the counts above include all of them.
kill -0 $ping_out $ping_in

wait $ping_out || true
wait $ping_in || true
out=$(ping_received "$tmp/ping-out.txt")
in=$(ping_received "$tmp/ping-in.txt")
echo "replies $out/$PINGS out, $in/$PINGS in"
((out >= PINGS - 5 && in >= PINGS - 5))

# One login for the whole trip.
kill -0 "$VPNC_PID"
[ "$(count_log "$tmp/alice.log" "connected as")" -eq 1 ]
[ "$(count_log "$tmp/alice.log" "asks us to log in")" -eq 1 ]
[ "$(count_log "$tmp/vpnd.log" "result=ok")" -eq 1 ]
[ "$(session_field alice login_time)" = "$login_time" ]

kill -TERM "$VPNC_PID"
wait "$VPNC_PID"
stop_vpnd
echo "ok"
