#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The pools are respected after they change (PROTOCOL.md section 6, rule
# 6; issue 11). alice logs in with address-pool4 10.99.0.0/24; vpnd stops,
# its pool becomes 10.98.0.0/24 (the office host's way back is its
# default route through the server, so any pool is routed), and vpnd
# starts again on the same store. The vpnc still running reconnects and
# resumes by itself, without a new code, and is given an address inside
# the new pool, since an admission keeps no address its pool would not
# give; vpnd says so in one line, and traffic flows again both ways. The
# IPv6 pool did not change, nor does alice's IPv6 address. vpnd is asked
# (vpnctl status, sessions, user devices) for its own address, the
# session's, and the store's lease.
source "$(dirname "$0")/lib.sh"

setup_topology
write_vpnd_conf
write_vpnc_conf alice alice
secret=$(enrol alice)
[ ${#secret} -eq 32 ]
start_vpnd
start_vpnc alice "$PASSWORD" "$(totp "$secret")"
wait_log "$tmp/alice.log" "connected as alice"
old=$(client_addr "$tmp/alice.log")
[[ $old == 10.99.0.* ]]
old6=$(ip -n "$ns_cli" -6 -o addr show dev vpn0 scope global |
	awk '{print $4}')
[[ $old6 == fd00:99::*/64 ]]
[ "$(session_field alice address4)" = "$old" ]
key=$(client_key alice)
login_time=$(session_field alice login_time)
n_cli ping -c 2 -i 0.2 -W 2 $LAN_HOST

# vpnd stops; the pool changes; vpnd comes back (its own log from here).
stop_vpnd
wait_log "$tmp/alice.log" "server shutdown"
sed -i 's|^address-pool4 = "10.99.0.0/24"$|address-pool4 = "10.98.0.0/24"|' \
	"$tmp/vpnd.conf"
grep -q '^address-pool4 = "10.98.0.0/24"$' "$tmp/vpnd.conf"
mv "$tmp/vpnd.log" "$tmp/vpnd-1.log"
start_vpnd
[ "$(status_field address4)" = 10.98.0.1/24 ]

# The running vpnc resumes (its stdin is spent: a login prompt would make
# it exit 4) and is given an address in the new pool.
wait_for 30 bash -c "[ \$(grep -c 'connected as alice' '$tmp/alice.log') \
-eq 2 ]"
kill -0 "$VPNC_PID"
new=$(client_addr "$tmp/alice.log")
echo "alice: $old before, $new after"
[[ $new == 10.98.0.* ]]
[ "$new" != 10.98.0.1 ]
grep -q "user alice: address $old is outside the pool; now $new$" \
	"$tmp/vpnd.log"
# The same admission, resumed (its login time is the first login's), with
# the new address, in vpnd and in the store.
[ "$(session_field alice address4 "$key")" = "$new" ]
[ "$(endpoint_host "$(session_field alice endpoint)")" = "$CLI_ADDR" ]
[ "$(session_field alice login_time)" = "$login_time" ]
[ "$(device_field alice "$key" address4)" = "$new" ]
refute grep -q "login user=" "$tmp/vpnd.log"
[ "$(count_log "$tmp/alice.log" "asks us to log in")" -eq 1 ]

# vpnc's device carries the new address, not the old one; IPv6 is as it
# was.
ip -n "$ns_cli" -4 -o addr show dev vpn0 | grep -q " $new/24 "
refute bash -c "ip -n '$ns_cli' -4 -o addr show dev vpn0 | grep -q ' $old/'"
[ "$(ip -n "$ns_cli" -6 -o addr show dev vpn0 scope global |
	awk '{print $4}')" = "$old6" ]

# Traffic flows again, both ways.
n_cli ping -c 3 -i 0.2 -W 2 $LAN_HOST
n_lan ping -c 3 -i 0.2 -W 2 "$new"

kill -TERM "$VPNC_PID"
wait "$VPNC_PID"
stop_vpnd
echo "ok"
