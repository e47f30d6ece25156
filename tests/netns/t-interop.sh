#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vpnd against an independent client written from PROTOCOL.md alone
# (tests/tools/pyvpn.py, which first checks itself against the published
# Noise vector). Each pyvpn scenario prints what it checks:
#   handshake  responses verified byte by byte, keys confirmed; bad,
#              replayed and stale initiations unanswered
#   preauth    IP before login dropped, AUTH_REQUIRED at most once a second
#   login      every pushed attribute as in vpnd.conf; retransmissions
#              answered byte for byte (across a rekey) without a second
#              check; pings both ways, none from an unassigned address;
#              roaming, and no roaming on forged or replayed messages
#   malformed  control, transport and IP forms dropped unanswered; the
#              replay window, REJECT_AFTER_MESSAGES, no padding past MTU
#   resume     RESUME keeps the addresses; keypair rotation; other keys
#              and other user names get AUTH_REQUIRED
#   refused    a used code and an unknown user: the same AUTH_FAILED
#   shutdown   DISCONNECT when vpnd stops
# then, with vpnd restarted at a handshake rate of 1 and a pre-shared key:
#   cookie, wrongpsk, resume (admissions survive restarts), logout.
source "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
PYVPN=$top/tests/tools/pyvpn.py
if ! "$PY" -c 'import nacl.bindings' 2>/dev/null; then
	skip "needs /usr/bin/python3 with python3-nacl (make deps)"
fi

setup_topology
write_vpnd_conf 'mtu = 1400' 'keepalive = 15' 'session-lifetime = 1h'
secret=$(enrol alice)
[ ${#secret} -eq 32 ]
start_vpnd

srv_rx="ip netns exec $ns_srv cat /sys/class/net/vpn0/statistics/rx_packets"
srv_ping="ip netns exec $ns_srv ping -c 1 -W 2 {addr}"
common=(--server "$SRV_ADDR:51900" --server-pub "$SERVER_PUB"
	--srv-rx-cmd "$srv_rx" --srv-ping "$srv_ping")
# What write_vpnd_conf and the lines above put in vpnd.conf.
expect=(--expect pool4=10.99.0.0/24 --expect pool6=fd00:99::/64
	--expect gw4=10.99.0.1 --expect gw6=fd00:99::1
	--expect mtu=1400 --expect keepalive=15 --expect lifetime=3600
	--expect route4=10.20.0.0/24 --expect route6=fd00:20::/64
	--expect dns4=10.20.0.53 --expect search=office.test)

# pyvpn SCENARIO [options...]: one scenario in the client namespace,
# bounded in time; its output goes to the test log.
pyvpn() {
	timeout 90 ip netns exec "$ns_cli" "$PY" "$PYVPN" "$1" \
		"${common[@]}" "${@:2}"
}

# write_vpnd_conf, keeping the server's key (clients pin it).
write_vpnd_conf_keep() {
	mv "$tmp/server.key" "$tmp/server.key.keep"
	write_vpnd_conf "$@"
	mv "$tmp/server.key.keep" "$tmp/server.key"
	SERVER_PUB=$("$VPND" pubkey <"$tmp/server.key")
}

"$PY" "$PYVPN" selftest
pyvpn handshake
pyvpn preauth

code=$(totp "$secret")
pyvpn login --key "$tmp/py.key" --state "$tmp/py.state" "${expect[@]}" \
	--user alice --password "$PASSWORD" --totp "$code"
# The retransmissions were answered from the cache: one check, one line.
[ "$(count_log "$tmp/vpnd.log" 'login user=alice .*result=ok')" -eq 1 ]

pyvpn malformed --key "$tmp/py.key" --state "$tmp/py.state" "${expect[@]}"
pyvpn resume --key "$tmp/py.key" --state "$tmp/py.state" "${expect[@]}" \
	--user alice
# The code just used, from a key without admission: refused.
pyvpn refused --user alice --password "$PASSWORD" --totp "$code" \
	--failure-delay 0.2
[ "$(count_log "$tmp/vpnd.log" 'login user=alice .*result=ok')" -eq 1 ]

# An admitted client is told of the shutdown.
timeout 60 ip netns exec "$ns_cli" "$PY" "$PYVPN" shutdown "${common[@]}" \
	--key "$tmp/py.key" >"$tmp/pyvpn-shutdown.log" 2>&1 &
shutdown_pid=$!
pids+=("$shutdown_pid")
wait_log "$tmp/pyvpn-shutdown.log" "waiting for DISCONNECT" 30
stop_vpnd
wait "$shutdown_pid"
cat "$tmp/pyvpn-shutdown.log"

# Admissions survive a restart; at a handshake rate of 1 a second, the
# initiations past it are answered with a cookie reply. From here on a
# pre-shared key is mixed in (the psk token of 4.2).
"$VPND" genkey "$tmp/psk.key"
write_vpnd_conf_keep 'mtu = 1400' 'keepalive = 15' 'session-lifetime = 1h' \
	'handshake-rate = 1' "preshared-key-file = \"$tmp/psk.key\""
common=(--server "$SRV_ADDR:51900" --server-pub "$SERVER_PUB"
	--psk-file "$tmp/psk.key" --srv-rx-cmd "$srv_rx" --srv-ping "$srv_ping")
# The second run has a log of its own.
mv "$tmp/vpnd.log" "$tmp/vpnd-1.log"
start_vpnd
pyvpn cookie
pyvpn wrongpsk
pyvpn resume --key "$tmp/py.key" --state "$tmp/py.state" "${expect[@]}"
pyvpn logout --key "$tmp/py.key" --state "$tmp/py.state"

stop_vpnd
echo "ok"
