#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Two clients at once, in two homes:
#
#                  ┌──────────────── $ns_wan ─────────────────┐
#                  │ wan0 192.0.2.254    wan1 198.51.100.254   │
#                  │                     wan2 203.0.113.254    │
#                  └───┬────────────────────┬─────────────┬────┘
#   ┌─── $ns_srv ──────┴─┐   ┌─── $ns_cli ──┴─────┐  ┌────┴──── $ns_cli2 ──┐
#   │ srv0 192.0.2.1     │   │ cli0 198.51.100.2  │  │ cli0 203.0.113.2    │
#   │ vpnd, lan0 → $ns_lan   │ vpnc: alice        │  │ vpnc: bob; later    │
#   └────────────────────┘   └────────────────────┘  │ alice's 2nd device  │
#                                                    └─────────────────────┘
#
# alice and bob log in at the same time and get different addresses; both
# reach the office host, and it reaches both. With client-to-client = yes
# (off by default: t-access.sh) they also reach each other: vpnd hands
# their packets to its TUN device, and the server's kernel (forwarding on,
# as the office set-up requires) routes the pool back into vpn0, where
# vpnd delivers it to the owner of the destination. Then bob disconnects
# while alice pings without a loss, and his address is gone from the
# tunnel (vpnd holds no session of his). Last, alice logs in from a
# second device (a second key):
# admissions are per static key (PROTOCOL.md section 6, rule 1) and
# addresses per user and key, so both devices work side by side with
# different addresses, and the first is not disturbed. Her second login
# uses the next TOTP step, since a step is accepted once per user
# (rule 4) and the skew window allows one step ahead.
source "$(dirname "$0")/lib.sh"

ping_received() {
	sed -n 's/.* \([0-9]*\) received.*/\1/p' "$1"
}

# The server namespace's count of ICMP redirects sent (/proc/net/snmp).
srv_redirects() {
	n_srv awk '$1 == "Icmp:" {
		if (!seen++) { for (i = 1; i <= NF; i++) k[i] = $i; next }
		for (i = 1; i <= NF; i++) if (k[i] == "OutRedirects") print $i
	}' /proc/net/snmp
}

setup_topology
setup_client2

# vpnd busy-polls (busy-poll), which must change nothing but latency.
write_vpnd_conf 'client-to-client = yes' 'busy-poll = 100'
write_vpnc_conf alice alice
write_vpnc_conf bob bob
write_vpnc_conf alice2 alice
secret_a=$(enrol alice)
secret_b=$(enrol bob)
start_vpnd

# Both at once.
start_vpnc alice "$PASSWORD" "$(totp "$secret_a")"
pid_a=$VPNC_PID
VPNC_NS=$ns_cli2 start_vpnc bob "$PASSWORD" "$(totp "$secret_b")"
pid_b=$VPNC_PID
wait_log "$tmp/alice.log" "connected as alice"
wait_log "$tmp/bob.log" "connected as bob"
addr_a=$(client_addr "$tmp/alice.log")
addr_b=$(client_addr "$tmp/bob.log")
echo "alice $addr_a, bob $addr_b"
[ -n "$addr_a" ]
[ -n "$addr_b" ]
[ "$addr_a" != "$addr_b" ]
# vpnd's view: the same addresses, each from its own home.
[ "$(session_field alice address4)" = "$addr_a" ]
[ "$(session_field bob address4)" = "$addr_b" ]
[ "$(endpoint_host "$(session_field alice endpoint)")" = "$CLI_ADDR" ]
[ "$(endpoint_host "$(session_field bob endpoint)")" = "$CLI2_ADDR" ]

n_cli ping -c 2 -i 0.2 -W 2 $LAN_HOST
q_cli2 ping -c 2 -i 0.2 -W 2 $LAN_HOST
n_lan ping -c 2 -i 0.2 -W 2 "$addr_a"
n_lan ping -c 2 -i 0.2 -W 2 "$addr_b"
# Client to client, through the server, whose kernel sends them no ICMP
# redirect: vpnd turned them off on vpn0 (and in "all", which the kernel
# ORs with each device's value), the server's other devices keep theirs.
[ "$(n_srv cat /proc/sys/net/ipv4/conf/vpn0/send_redirects)" = 0 ]
[ "$(n_srv cat /proc/sys/net/ipv4/conf/srv0/send_redirects)" = 1 ]
n_cli ping -c 2 -i 0.2 -W 2 "$addr_b"
q_cli2 ping -c 2 -i 0.2 -W 2 "$addr_a"
echo "server's ICMP redirects sent: $(srv_redirects)"
[ "$(srv_redirects)" -eq 0 ]

# bob leaves; alice does not notice: every one of her 30 pings is
# answered (counted by her namespace, so a late last reply counts too).
reps0=$(echo_replies "$ns_cli")
q_cli ping -c 30 -i 0.1 -W 1 $LAN_HOST >"$tmp/ping-a.txt" &
ping_a=$!
sleep 1
kill -TERM "$pid_b"
wait "$pid_b"
no_device "$ns_cli2"
wait_no_session bob
wait $ping_a || true
grep -q '^30 packets transmitted' "$tmp/ping-a.txt"
wait_for 5 replies_since "$ns_cli" "$reps0" 30
echo "alice during bob's exit: $(($(echo_replies "$ns_cli") - reps0))/30" \
	"($(ping_received "$tmp/ping-a.txt") in time for ping)"
[ "$(($(echo_replies "$ns_cli") - reps0))" -eq 30 ]
refute n_cli ping -c 1 -W 1 "$addr_b"
n_lan ping -c 2 -i 0.2 -W 2 "$addr_a"

# alice's second device, from the other home, with the next TOTP step.
VPNC_NS=$ns_cli2 start_vpnc alice2 "$PASSWORD" "$(totp "$secret_a" 1)"
wait_log "$tmp/alice2.log" "connected as alice"
addr_a2=$(client_addr "$tmp/alice2.log")
echo "alice's second device: $addr_a2"
[ -n "$addr_a2" ]
[ "$addr_a2" != "$addr_a" ]
[ "$(count_log "$tmp/vpnd.log" "login user=alice .*result=ok")" -eq 2 ]
log_has "$tmp/vpnd.log" "busy polling for 100 us before sleeping$"
# Two sessions of alice's in vpnd, one a key, each with its address.
[ "$(session_count alice)" -eq 2 ]
[ "$(session_field alice address4 "$(client_key alice)")" = "$addr_a" ]
[ "$(session_field alice address4 "$(client_key alice2)")" = "$addr_a2" ]
q_cli2 ping -c 2 -i 0.2 -W 2 $LAN_HOST
n_cli ping -c 2 -i 0.2 -W 2 $LAN_HOST
n_lan ping -c 2 -i 0.2 -W 2 "$addr_a"
n_lan ping -c 2 -i 0.2 -W 2 "$addr_a2"
# The first device kept its session all along.
kill -0 "$pid_a"
[ "$(count_log "$tmp/alice.log" "connected as")" -eq 1 ]
refute log_has "$tmp/alice.log" "reconnecting"

kill -TERM "$VPNC_PID" "$pid_a"
wait "$VPNC_PID"
wait "$pid_a"
stop_vpnd
no_device "$ns_srv"
echo "ok"
