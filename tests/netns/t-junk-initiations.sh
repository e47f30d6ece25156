#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Junk initiations from the open internet cannot push a client out of its
# login. vpnd has room for MAX_PENDING peers that have not logged in
# (max-pending). Alice's vpnc has finished its handshake (its RESUME
# confirmed it) and waits for her to type her code; a scripted client at
# another address (halfopen.py) has had its initiation answered but has not
# confirmed it. Then a botnet ($BOT_NET, lib-flood.sh) floods vpnd with
# initiations of three kinds: a valid mac1 and garbage inside; a real
# static key and a garbage timestamp; and real initiations from fresh keys,
# each verified whole and given a pending peer, many times MAX_PENDING of
# them. While the flood goes on Alice types her code: she is logged in on
# the session she had, without a new handshake, and her traffic flows. The
# half-open client, the oldest unconfirmed peer, was pushed out: its late
# confirmation gets no answer, and a new handshake of its own is served.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-flood.sh"

MAX_PENDING=8
# At most FLOOD_RATE a second for FLOOD_SECONDS (past vpnd's default
# handshake-rate of 1000/s, so part of it draws cookie replies).
FLOOD_RATE=1500
FLOOD_SECONDS=6
# Pending peers the flood must have made before Alice types her code, and
# by its end (each a response, type 2, to a bot).
FRESH_BEFORE_CODE=$((MAX_PENDING * 4))
FRESH_MIN=$((MAX_PENDING * 16))
require_flood
setup_topology
setup_client2
setup_bots
wire_counters wan3
write_vpnd_conf "max-pending = $MAX_PENDING"
write_vpnc_conf alice alice
secret=$(enrol alice)
start_vpnd

# vpnc's initiations, on its own link.
sniff_start "$ns_cli" cli0 120 "$tmp/cli0.pkts" 1000 "out udp .* type=1 "
# Alice's password and code go in later, through a FIFO that this script
# holds open (fd 7) and vpnc reads when the server asks it to log in.
mkfifo "$tmp/alice.fifo"
exec 7<>"$tmp/alice.fifo"
ip netns exec "$ns_cli" "$VPNC" -c "$tmp/alice.conf" <"$tmp/alice.fifo" \
	>>"$tmp/alice.log" 2>&1 7>&- &
alice_pid=$!
pids+=("$alice_pid")
wait_log "$tmp/alice.log" "the server asks us to log in"
alice_inits=$(count_log "$tmp/cli0.pkts" "type=1")
echo "alice waits for her code after $alice_inits initiation(s)"

ip netns exec "$ns_cli2" /usr/bin/python3 "$HALFOPEN" \
	--server $SRV_ADDR:51900 --server-pub "$SERVER_PUB" \
	--ready "$tmp/half.ready" --go "$tmp/half.go" >"$tmp/half.log" 2>&1 &
half_pid=$!
pids+=("$half_pid")
wait_for 20 test -e "$tmp/half.ready"

ip netns exec "$ns_bot" "$FLOOD" -K init-mac1,init-static,init-fresh \
	-k "$SERVER_PUB" -R $BOT_NET -r $FLOOD_RATE \
	-n $((FLOOD_RATE * FLOOD_SECONDS)) -t 60 $SRV_ADDR 51900 \
	>"$tmp/flood.log" 2>&1 &
flood_pid=$!
pids+=("$flood_pid")
fresh_at_least() { [ "$(wire_count wan3 2)" -ge "$1" ]; }
wait_for 30 fresh_at_least $FRESH_BEFORE_CODE

printf '%s\n%s\n' "$PASSWORD" "$(totp "$secret")" >&7
wait_log "$tmp/alice.log" "connected as alice" 30
# Admitted for vpnd too: her key, from her address.
[ "$(session_field alice session)" = "$(client_key alice)" ]
[ "$(endpoint_host "$(session_field alice endpoint)")" = "$CLI_ADDR" ]
if kill -0 "$flood_pid" 2>/dev/null; then
	echo "alice logged in while the flood went on"
fi
n_cli ping -c 3 -i 0.2 -W 2 $LAN_HOST

wait "$flood_pid"
cat "$tmp/flood.log"
wait_for 20 count_settled wan3 2
fresh=$(wire_count wan3 2)
echo "vpnd answered the bots: $fresh responses, $(wire_count wan3 3)" \
	"cookie replies"
(( fresh >= FRESH_MIN ))
(( $(flood_field "$tmp/flood.log" init-static) > 0 ))
(( $(flood_field "$tmp/flood.log" init-mac1) > 0 ))

# Alice: one login, on the handshake she had before the flood.
[ "$(count_log "$tmp/alice.log" "connected as")" -eq 1 ]
[ "$(count_log "$tmp/cli0.pkts" "type=1")" -eq "$alice_inits" ]
n_cli ping -c 3 -i 0.2 -W 2 $LAN_HOST

# The half-open client was pushed out by the flood; it can come back.
touch "$tmp/half.go"
wait "$half_pid"
cat "$tmp/half.log"
grep -q "halfopen: result old=silent new=AUTH_REQUIRED" "$tmp/half.log"

kill -TERM "$alice_pid"
wait "$alice_pid"
exec 7>&-
stop_vpnd
no_device "$ns_srv"
sanitizers_quiet "$tmp/vpnd.log" "$tmp/alice.log"
echo "ok"
