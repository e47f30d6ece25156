#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# One address cannot take the whole pending pool (issue 11: pre-login
# state that cannot displace anyone). Peers in their login exchange are
# never pushed out by newcomers, so an address that keeps confirmed,
# idle sessions alive would hold the pool for as long as it likes; each
# address (an IPv4 address, an IPv6 /64) may hold at most
# max-pending-per-source of them. Here max-pending is 8 and the share 4:
# holder.py at 198.51.100.2 makes 8 handshakes from fresh keys, each
# confirmed and kept alive, logging in with none: exactly 4 are answered.
# While it holds them, alice at 203.0.113.2 connects and logs in.
#
#   $ns_cli  cli0 198.51.100.2 (holder.py) ── wan1 ┐
#                                                   ├ $ns_wan ── srv0 (vpnd)
#   $ns_cli2 cli0 203.0.113.2  (alice)     ── wan2 ┘
source "$(dirname "$0")/lib.sh"

HOLDER=$top/tests/tools/holder.py

setup_topology
setup_client2
write_vpnd_conf "max-pending = 8" "max-pending-per-source = 4"
write_vpnc_conf alice alice
secret=$(enrol alice)
start_vpnd

ip netns exec "$ns_cli" /usr/bin/python3 "$HOLDER" --server "$SRV_ADDR:51900" \
	--server-pub "$SERVER_PUB" --sessions 8 --gap 0.1 --hold 60 \
	--ready "$tmp/held" >"$tmp/holder.log" 2>&1 &
pids+=("$!")
wait_for 60 test -e "$tmp/held"
cat "$tmp/holder.log"
grep -q '^holder: 4 of 8 handshakes answered and confirmed$' \
	"$tmp/holder.log"

# The address holds its four; everyone else still gets in.
VPNC_NS=$ns_cli2 start_vpnc alice "$PASSWORD" "$(totp "$secret")"
wait_log "$tmp/alice.log" "connected as alice" 30
[ "$(endpoint_host "$(session_field alice endpoint)")" = "$CLI2_ADDR" ]
q_cli2 ping -c 2 -i 0.2 -W 2 $LAN_HOST
# And the holder's sessions were not pushed out for her: they are still
# there, in their login exchange.
[ "$(status_field logging_in)" = 4 ]
echo "OK"
