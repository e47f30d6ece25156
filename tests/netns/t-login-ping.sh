#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A person logs in with password + TOTP; then IPv4 and IPv6 cross the
# tunnel both ways, the office LAN answers, and stopping both daemons
# leaves no device behind.
source "$(dirname "$0")/lib.sh"

setup_topology
write_vpnd_conf
write_vpnc_conf alice alice
secret=$(enrol alice)
[ ${#secret} -eq 32 ]
start_vpnd
start_vpnc alice "$PASSWORD" "$(totp "$secret")"
wait_log "$tmp/alice.log" "connected as alice"
addr=$(client_addr "$tmp/alice.log")
[ -n "$addr" ]
# vpnd's view: one session, alice's, from the client's address, with the
# addresses vpnc was given (IPv6 from the IPv6 pool).
[ "$(status_field sessions)" -eq 1 ]
[ "$(session_field alice address4)" = "$addr" ]
[[ $(session_field alice address6) == fd00:99::* ]]
[ "$(endpoint_host "$(session_field alice endpoint)")" = "$CLI_ADDR" ]

# IPv4: client -> server's tunnel address, client -> office host, and
# office host -> client.
n_cli ping -c 3 -i 0.2 -W 2 $TUN_SRV
n_cli ping -c 3 -i 0.2 -W 2 $LAN_HOST
n_lan ping -c 3 -i 0.2 -W 2 "$addr"
# IPv6 inside the tunnel, to the server and to the office host.
n_cli ping -6 -c 3 -i 0.2 -W 2 fd00:99::1
n_cli ping -6 -c 3 -i 0.2 -W 2 fd00:20::2

# The pushed routes are on the client's device, the office LAN's among them.
q_cli ip route show dev vpn0 | grep -q '^10.20.0.0/24'
q_cli ip -6 route show dev vpn0 | grep -q '^fd00:20::/64'
# One audit line for the login, with no secret in it.
grep -q 'login user=alice src=198.51.100.2:[0-9]* result=ok' "$tmp/vpnd.log"
refute grep -q "$PASSWORD" "$tmp/vpnd.log"

# The traffic was counted on alice's session, both ways (15 echo
# requests and replies each way above; the login alone is 3 and 2).
(($(session_field alice rx_packets) >= 10 &&
	$(session_field alice tx_packets) >= 10))

kill -TERM "$VPNC_PID"
wait "$VPNC_PID"
no_device "$ns_cli"
# vpnc said goodbye: vpnd has no session left.
wait_no_session alice 5
[ "$(status_field sessions)" -eq 0 ]
stop_vpnd
no_device "$ns_srv"
echo "ok"
