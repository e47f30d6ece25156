#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vpnc against an independent server written from PROTOCOL.md alone: the
# server side of tests/tools/pyvpn.py, TUN-less (it answers the login and
# ICMP echo requests to its addresses itself), on UDP 51900 in the server
# namespace with its own key, which vpnc's configuration pins. pyvpn holds
# every datagram vpnc sends against the specification and prints each
# check; this script checks what vpnc does to its namespace.
#   main    the initiation (mac1, TAI64N, static key) and key confirmation;
#           RESUME, then AUTH_REQUEST byte by byte (code typed "123 456"),
#           the first one dropped and sent again a second later; answers
#           vpnc must drop (wrong REQUEST_ID, malformed) before the OK,
#           and ones it must take (bytes after body_len, an unknown
#           attribute, any order); the device gets exactly the pushed
#           addresses, MTU and routes; pings answered through the tunnel,
#           one of exactly the MTU; persistent keepalives;
#           malformed, misdirected, replayed and forged server messages
#           ignored; a server-initiated rekey (other keys unanswered);
#           a server DISCONNECT removes the device, is logged with its
#           REASON, and vpnc reconnects with RESUME; SIGTERM sends
#           DISCONNECT and leaves nothing behind
#   giveup  with the key used before, RESUME first; an AUTH_REQUEST never
#           answered is sent about ten times a second apart, the failure
#           is logged, and once the input is used up vpnc exits 4
# The refusals (STATUS values) and the cookie path are in
# t-interop-client-refused.sh.
source "$(dirname "$0")/lib.sh"

source "$(dirname "$0")/lib-interop-client.sh"

setup_topology
interop_client_setup

# ---- main ------------------------------------------------------------------
pysrv main main "${push[@]}"
start_vpnc cli "$PASSWORD" "$CODE"

at up
# Exactly what the server pushed: addresses with their prefix lengths, the
# MTU, and the routes through the device; the decoys left no trace.
[ "$(dev_addrs)" = "10.99.0.7/24 fd00:99::7/64" ]
[ "$(dev_mtu)" = 1380 ]
[ "$(dev_routes)" = "10.20.0.0/24 10.30.0.0/16 fd00:20::/64" ]
log_has "$tmp/cli.log" \
	"connected as alice on vpn0, address 10.99.0.7/24, session expires in 3600 s"
log_has "$tmp/cli.log" "the server says: welcome, says pyvpn$"
refute log_has "$tmp/cli.log" "10.99.0.66"
n_cli ping -c 2 -i 0.3 -W 3 10.99.0.1
n_cli ping -c 2 -i 0.3 -W 3 fd00:99::1
n_cli ping -c 2 -i 0.3 -W 3 10.20.0.2
# A packet of exactly the pushed MTU goes through unfragmented.
n_cli ping -c 1 -W 3 -s 1352 -M do 10.99.0.1
past up

at malformed 40
kill -0 "$VPNC_PID"
[ "$(dev_addrs)" = "10.99.0.7/24 fd00:99::7/64" ]
# Only the first login's line: no forged AUTH_REQUIRED or DISCONNECT taken.
[ "$(count_log "$tmp/cli.log" "log in")" -eq 1 ]
refute log_has "$tmp/cli.log" "forged goodbye"
n_cli ping -c 2 -i 0.3 -W 3 10.99.0.1
past malformed

at rekeyed
n_cli ping -c 2 -i 0.3 -W 3 10.99.0.1
past rekeyed

# The server's DISCONNECT: device and routes gone, the person told why;
# vpnc is already back with a RESUME, which the server holds meanwhile.
at down
no_device "$ns_cli"
[ -z "$(ip -n "$ns_cli" route show 10.20.0.0/24)" ]
log_has "$tmp/cli.log" \
	"interop: kicked by the test server; reconnecting in 1 s"
log_has "$tmp/cli.log" "vpn0 removed"
past down

at back
wait_for 5 q_cli ip link show vpn0
[ "$(dev_addrs)" = "10.99.0.7/24 fd00:99::7/64" ]
[ "$(dev_routes)" = "10.20.0.0/24 10.30.0.0/16 fd00:20::/64" ]
n_cli ping -c 2 -i 0.3 -W 3 10.99.0.1
past back

at bye
kill -TERM "$VPNC_PID"
vpnc_exited
[ "$VPNC_RC" -eq 0 ]
wait "$PYSRV_PID"
cat "$PYSRV_LOG"
no_device "$ns_cli"
[ -z "$(ip -n "$ns_cli" route show 10.20.0.0/24)" ]
no_sanitizer "$tmp/cli.log"

# ---- giveup ----------------------------------------------------------------
cp "$tmp/cli.conf" "$tmp/cli2.conf"
pysrv giveup giveup
start_vpnc cli2 "$PASSWORD" "$CODE"
vpnc_exited
[ "$VPNC_RC" -eq 4 ]
wait "$PYSRV_PID"
cat "$PYSRV_LOG"
log_has "$tmp/cli2.log" "no answer to the login"
log_has "$tmp/cli2.log" "no terminal to ask"
no_sanitizer "$tmp/cli2.log"
echo "ok"
