#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Rekeying under traffic (PROTOCOL.md section 7) with every timer divided
# by 40: REKEY_AFTER_TIME 3 s, REJECT_AFTER_TIME 4.5 s, KEEPALIVE_TIMEOUT
# 0.25 s, REKEY_TIMEOUT 0.125 s. Pings both ways run for 15 s, through
# about five rekeys and past REJECT_AFTER_TIME three times over, and lose
# nothing (bound: 1 of 150 each way, for a loaded machine). The login is
# never asked for again: vpnc's stdin held the password and code once, so
# a second prompt would make it exit 4. The handshakes are counted on the
# wire, in the wan namespace. After an idle spell longer than
# REJECT_AFTER_TIME every key has expired; then the office host pings the
# client first, so vpnd itself must start the handshake towards it.
source "$(dirname "$0")/lib.sh"

DIV=40
PINGS=150

# ping_received LOG: the replies a finished ping counted.
ping_received() {
	sed -n 's/.* \([0-9]*\) received.*/\1/p' "$1"
}

setup_topology
write_vpnd_conf "test-timer-divisor = $DIV"
write_vpnc_conf alice alice "test-timer-divisor = $DIV"
secret=$(enrol alice)
# wan0 leads to the server, wan1 to the client.
wire_counters wan0 wan1
# The client's kernel would send IPv6 router solicitations through vpn0
# (at about 4, 11 and 27 s after it is up), and one of those could make
# the client, not the server, end the idle spell below.
ip netns exec "$ns_cli" sysctl -qw net.ipv6.conf.default.router_solicitations=0
start_vpnd
start_vpnc alice "$PASSWORD" "$(totp "$secret")" -v
wait_log "$tmp/alice.log" "connected as alice"
addr=$(client_addr "$tmp/alice.log")
[ -n "$addr" ]
n_cli ping -c 2 -i 0.2 -W 2 $LAN_HOST
# vpnd's clock of the session: its login, and its latest handshake.
login_time=$(session_field alice login_time)
hs_time=$(session_field alice handshake)

# Responses answer initiations: one per handshake, whoever started it.
hs_before=$(($(wire_count wan0 2) + $(wire_count wan1 2)))
# Replies are counted by the namespaces that asked (lib.sh, ns-ping).
reps_out0=$(echo_replies "$ns_cli")
reps_in0=$(echo_replies "$ns_lan")
start=$(date +%s)
q_cli ping -c $PINGS -i 0.1 -W 1 $LAN_HOST >"$tmp/ping-out.txt" &
ping_out=$!
q_lan ping -c $PINGS -i 0.1 -W 1 "$addr" >"$tmp/ping-in.txt" &
ping_in=$!
wait $ping_out || true
wait $ping_in || true
elapsed=$(($(date +%s) - start))
hs=$(($(wire_count wan0 2) + $(wire_count wan1 2) - hs_before))
grep -q "^$PINGS packets transmitted" "$tmp/ping-out.txt"
grep -q "^$PINGS packets transmitted" "$tmp/ping-in.txt"
# A late last reply is waited for (a lost one in vain, at most 2 s: the
# idle spell below must stay short of 3 * REJECT_AFTER_TIME).
all_replied() {
	replies_since "$ns_cli" "$reps_out0" $PINGS &&
		replies_since "$ns_lan" "$reps_in0" $PINGS
}
wait_for 2 all_replied || true
out=$(($(echo_replies "$ns_cli") - reps_out0))
in=$(($(echo_replies "$ns_lan") - reps_in0))
echo "over ${elapsed} s: $hs handshakes;" \
	"replies $out/$PINGS out, $in/$PINGS in" \
	"($(ping_received "$tmp/ping-out.txt") and" \
	"$(ping_received "$tmp/ping-in.txt") in time for ping)"
# 15 s at one rekey per 3 s: about 5. Fewer than 3 means no rekeying; more
# than 15 means a handshake storm rather than a rekey per REKEY_AFTER_TIME.
((hs >= 3 && hs <= 15))
((out >= PINGS - 1 && in >= PINGS - 1 && out <= PINGS && in <= PINGS))
# vpnd saw the rekeys on alice's session: its latest handshake is newer.
(($(session_field alice handshake) > hs_time))

# Idle for longer than REJECT_AFTER_TIME (4.5 s) but well short of
# 3 * REJECT_AFTER_TIME, when vpnd forgets the peer: nobody may send with
# the old keys, and the first packet needs a fresh handshake. The office
# host speaks first, so the server initiates; the client's responses
# travel towards the server (wan0).
from_cli=$(wire_count wan0 2)
sleep 6
n_lan ping -c 3 -i 0.2 -W 2 "$addr"
(($(wire_count wan0 2) > from_cli))
n_cli ping -c 3 -i 0.2 -W 2 $LAN_HOST

# One login, never asked for again, and still running.
kill -0 "$VPNC_PID"
[ "$(count_log "$tmp/alice.log" "connected as")" -eq 1 ]
# The first RESUME was answered AUTH_REQUIRED; nothing asked again.
[ "$(count_log "$tmp/alice.log" "asks us to log in")" -eq 1 ]
[ "$(count_log "$tmp/vpnd.log" "result=ok")" -eq 1 ]
[ "$(session_field alice login_time)" = "$login_time" ]

kill -TERM "$VPNC_PID"
wait "$VPNC_PID"
stop_vpnd
no_device "$ns_srv"
echo "ok"
