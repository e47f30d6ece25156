#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A real client's initiation, recorded on the wire, cannot be replayed
# however many strangers have come since (PROTOCOL.md 4.1). An attacker
# in the wan records Alice's initiations as vpnc connects. Then a botnet
# ($BOT_NET, lib-flood.sh) sends real initiations from fresh keys until
# vpnd has answered STRANGERS_MIN of them: more than the 4096 keys its
# table of strangers' timestamps holds, past the MAX_PENDING keys that hold
# a peer. Then Alice's recorded initiations are replayed, from an
# attacker's own address ($CLI2_ADDR) and from Alice's address and port
# (forged, from the wan): vpnd sends no response (type 2) for them, nor a
# cookie reply (so they went past the load and source rules to Noise, which
# refused them: her key's timestamp is pinned while she has a peer and an
# admission). Her session goes on: pings both ways through the tunnel,
# with no new login or handshake. As a control, the same replay of
# strangers' initiations that vpnd once answered is answered again for
# some of them: the table did overflow and forget.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-flood.sh"

MAX_PENDING=64
STRANGERS_MIN=$((4096 + MAX_PENDING + 2048))
# Below vpnd's default handshake-rate (1000/s): no cookies needed.
FLOOD_RATE=900
FLOOD_ROUND=2000
FLOOD_ROUND_MAX_S=15
FLOOD_ROUNDS_MAX=10
require_flood
setup_topology
setup_client2
setup_bots
wire_counters wan1 wan2 wan3
write_vpnd_conf "max-pending = $MAX_PENDING"
write_vpnc_conf alice alice
secret=$(enrol alice)
start_vpnd

# Everything vpnc sends as an initiation, as the wan sees it.
ip netns exec "$ns_wan" /usr/bin/python3 "$REPLAY" capture wan1 120 \
	"$tmp/alice.inits" --src $CLI_ADDR --dport 51900 --type 1 \
	2>"$tmp/capture.err" &
capture_pid=$!
pids+=("$capture_pid")
wait_log "$tmp/capture.err" "listening" 10
start_vpnc alice "$PASSWORD" "$(totp "$secret")"
wait_log "$tmp/alice.log" "connected as alice"
n_cli ping -c 2 -i 0.2 -W 2 $LAN_HOST
wait_for 10 test -s "$tmp/alice.inits"
# What is replayed; the capture goes on, to see any later initiation.
cp "$tmp/alice.inits" "$tmp/alice.recorded"
alice_inits=$(wc -l <"$tmp/alice.recorded")
read -r _ cport _ <"$tmp/alice.recorded"
echo "recorded $alice_inits initiation(s) of alice (from port $cport)"
# vpnd holds her session there, logged in at this time.
[ "$(session_field alice endpoint)" = "$CLI_ADDR:$cport" ]
login_time=$(session_field alice login_time)

# The overflow, in rounds until vpnd has answered enough fresh keys. The
# first round writes strangers' initiations that vpnd answered.
for ((round = 0; round < FLOOD_ROUNDS_MAX; round++)); do
	(($(wire_count wan3 2) < STRANGERS_MIN)) || break
	record=()
	((round > 0)) || record=(-w "$tmp/strangers.inits")
	ip netns exec "$ns_bot" "$FLOOD" -K init-fresh -k "$SERVER_PUB" \
		-R $BOT_NET -r $FLOOD_RATE -n $FLOOD_ROUND -t $FLOOD_ROUND_MAX_S \
		"${record[@]}" $SRV_ADDR 51900
done
wait_for 20 count_settled wan3 2
strangers=$(wire_count wan3 2)
echo "vpnd answered $strangers fresh keys, $(wire_count wan3 3) cookie" \
	"replies"
(( strangers >= STRANGERS_MIN ))
(( $(wc -l <"$tmp/strangers.inits") > 0 ))
# The flood was within handshake-rate: a moment on, vpnd is not under load.
sleep 1.5

# Alice's initiations again, from the attacker's own address...
responses_cli=$(wire_count wan1 2)
cookies_cli=$(wire_count wan1 3)
q_cli2 /usr/bin/python3 "$REPLAY" send "$tmp/alice.recorded" $SRV_ADDR \
	51900 | tee "$tmp/replay-own.log"
grep -q "answers: type1=0 type2=0 type3=0 " "$tmp/replay-own.log"
[ "$(wire_count wan2 2)" -eq 0 ]
[ "$(wire_count wan2 3)" -eq 0 ]
# ... and from hers, forged: vpnd's answers would go to her.
q_wan /usr/bin/python3 "$REPLAY" send "$tmp/alice.recorded" $SRV_ADDR \
	51900 --from $CLI_ADDR:"$cport"
[ "$(wire_count wan1 2)" -eq "$responses_cli" ]
[ "$(wire_count wan1 3)" -eq "$cookies_cli" ]

# Her session is the one it was, and vpnd still sends to where she is.
n_cli ping -c 3 -i 0.2 -W 2 $LAN_HOST
addr=$(client_addr "$tmp/alice.log")
n_lan ping -c 3 -i 0.2 -W 2 "$addr"
[ "$(count_log "$tmp/alice.log" "connected as")" -eq 1 ]
[ "$(wc -l <"$tmp/alice.inits")" -eq "$alice_inits" ]
[ "$(session_field alice endpoint)" = "$CLI_ADDR:$cport" ]
[ "$(session_field alice login_time)" = "$login_time" ]
[ "$(session_field alice address4)" = "$addr" ]

# The control: strangers' answered initiations, each replayed from another
# bot; vpnd has forgotten some of their timestamps.
q_bot /usr/bin/python3 "$REPLAY" send "$tmp/strangers.inits" $SRV_ADDR \
	51900 --from-net $BOT_NET --gap 0.02 | tee "$tmp/replay-strangers.log"
grep -q "answered [1-9][0-9]* of" "$tmp/replay-strangers.log"

kill -TERM "$VPNC_PID"
wait "$VPNC_PID"
stop_vpnd
no_device "$ns_srv"
sanitizers_quiet "$tmp/vpnd.log" "$tmp/alice.log"
echo "ok"
