#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Admission expiry (PROTOCOL.md section 6, rules 1, 6 and 8), with
# session-lifetime at its 10-s minimum and two people logged in at once.
# Within the lifetime a restarted vpnc resumes without a login. Then:
#  - the office host keeps pinging alice, who does not answer: the server
#    sends her nothing after the expiry, ends her admission (DISCONNECT),
#    and vpnc, which has nobody to ask for a new login, removes its device
#    and exits 4 saying so; restarted with the same key, its RESUME is
#    answered AUTH_REQUIRED and it exits 4 again;
#  - bob keeps pinging the office host, with the server's packets to him
#    black-holed so that he never hears of the expiry: the office host
#    gets his pings up to the expiry and none after it; once the path is
#    back, the server's AUTH_REQUIRED makes his vpnc exit 4 too.
#
#   $ns_cli  cli0 198.51.100.2 ── wan1 ┐
#                                      ├ $ns_wan ── srv0 (vpnd)
#   $ns_cli2 cli0 203.0.113.2  ── wan2 ┘  (203.0.113.254)
source "$(dirname "$0")/lib.sh"

LIFETIME_S=10

# snmp NS GROUP FIELD: a counter of the namespace's IP stack.
snmp() {
	ip netns exec "$1" awk -v g="$2:" -v f="$3" '
		$1 == g && !h { for (i = 1; i <= NF; i++) n[$i] = i; h = 1; next }
		$1 == g { print $n[f] }' /proc/net/snmp
}

# vpnc_exit PID: waits (at most 20 s) for vpnc to end; sets rc.
vpnc_exit() {
	wait_gone "$1" 200
	rc=0
	wait "$1" || rc=$?
}

# needs_login LOG: vpnc said plainly why it ended with nobody to ask.
needs_login() {
	grep -q 'error: login required, but there is no terminal' "$1"
}

# expires_in LOG: N from vpnc's last "session expires in N s".
expires_in() {
	sed -n 's/.*connected as .* session expires in \([0-9]*\) s$/\1/p' \
		"$1" | tail -n 1
}

# expiry_bound LOG: a time (UNIX s) at or after the expiry, from vpnc's
# "session expires in N s", logged when the answer came: the server counted
# N from a whole second no later than now.
expiry_bound() {
	echo $(($(date +%s) + $(expires_in "$1")))
}

# bob_tx: packets bob's vpnc has taken from his device.
bob_tx() { q_cli2 cat /sys/class/net/vpn0/statistics/tx_packets; }
# bob_sent_since TX N: at least N more since bob_tx read TX.
bob_sent_since() { (($(bob_tx) >= $1 + $2)); }

# after_second S: the clock has passed the whole second S.
after_second() { (($(date +%s) > $1)); }

setup_topology
setup_client2

write_vpnd_conf "session-lifetime = ${LIFETIME_S}s"
write_vpnc_conf alice alice
write_vpnc_conf bob bob
alice_secret=$(enrol alice)
bob_secret=$(enrol bob)
start_vpnd

start_s=$(date +%s)
start_vpnc alice "$PASSWORD" "$(totp "$alice_secret")"
alice_pid=$VPNC_PID
VPNC_NS=$ns_cli2 start_vpnc bob "$PASSWORD" "$(totp "$bob_secret")"
bob_pid=$VPNC_PID
wait_log "$tmp/bob.log" "connected as bob .* expires in [0-9]* s"
wait_log "$tmp/alice.log" "connected as alice .* expires in [0-9]* s"
# The grant's whole second was no later than this one.
granted_s=$(date +%s)
alice_end=$(expiry_bound "$tmp/alice.log")
grep -q "connected as bob .* expires in \([1-9]\|$LIFETIME_S\) s" \
	"$tmp/bob.log"
alice_addr=$(client_addr "$tmp/alice.log")
# vpnd's view: both admitted, from their own addresses, alice with the
# address vpnc reports; the expiries vpnd will keep to.
[ "$(session_field alice address4)" = "$alice_addr" ]
[ "$(endpoint_host "$(session_field alice endpoint)")" = "$CLI_ADDR" ]
[ "$(endpoint_host "$(session_field bob endpoint)")" = "$CLI2_ADDR" ]
alice_expires=$(session_field alice expires)
bob_expires=$(session_field bob expires)

# Before expiry, traffic flows.
n_cli ping -c 2 -i 0.2 -W 2 $LAN_HOST
n_lan ping -c 2 -i 0.2 -W 2 "$alice_addr"
q_cli2 ping -c 2 -i 0.2 -W 2 $LAN_HOST

# Bob hears nothing more from the server, and keeps pinging the office
# host through his tunnel.
ip -n "$ns_wan" route add blackhole $CLI2_ADDR/32
echo0=$(snmp "$ns_lan" Icmp InEchos)
ip netns exec "$ns_cli2" ping -i 0.2 -w 40 $LAN_HOST >/dev/null 2>&1 &
pids+=("$!")

# Rule 6 within the lifetime: alice's vpnc restarts and resumes without a
# login (empty stdin), with what is left of the lifetime. The server counts
# it in whole seconds, from its clock's second to the grant's plus the
# lifetime, so a resume within the grant's second would still read the
# whole lifetime: it starts once the clock has passed that second.
kill -TERM "$alice_pid"
wait "$alice_pid"
wait_for 3 after_second "$granted_s"
resume_s=$(date +%s)
ip netns exec "$ns_cli" "$VPNC" -c "$tmp/alice.conf" </dev/null \
	>"$tmp/alice2.log" 2>&1 &
alice_pid=$!
pids+=("$alice_pid")
wait_log "$tmp/alice2.log" "connected as alice .* expires in [0-9]* s" 8
resumed_s=$(date +%s)
refute grep -q 'asks us to log in' "$tmp/alice2.log"
left=$(expires_in "$tmp/alice2.log")
# Granted in [start_s, granted_s], answered in [resume_s, resumed_s]: less
# than the lifetime, and exactly what was left of it.
echo "alice resumed: session expires in $left s; granted in" \
	"[$start_s, $granted_s], resumed in [$resume_s, $resumed_s]"
((left < LIFETIME_S))
((left >= start_s + LIFETIME_S - resumed_s))
((left <= granted_s + LIFETIME_S - resume_s))
[ "$(client_addr "$tmp/alice2.log")" = "$alice_addr" ]
# The same admission for vpnd: its address and its expiry.
[ "$(session_field alice address4)" = "$alice_addr" ]
[ "$(session_field alice expires)" = "$alice_expires" ]

# The office host pings alice, who neither answers nor sends anything; a
# raw socket notes when each echo request reaches her: the kernel's
# arrival stamp (SO_TIMESTAMPNS), not when this program, on a loaded
# machine perhaps much later, got to read it.
q_cli sysctl -qw net.ipv4.icmp_echo_ignore_all=1
ip netns exec "$ns_cli" /usr/bin/python3 -c '
import socket, struct, sys, time
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
s.settimeout(1)
out = open(sys.argv[1], "w", buffering=1)
end = time.time() + 60
while time.time() < end:
    try:
        pkt, anc, _, (src, _) = s.recvmsg(2048, 64)
    except socket.timeout:
        continue
    t = time.time()
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
            sec, nsec = struct.unpack("qq", data[:16])
            t = sec + nsec / 1e9
    if src == sys.argv[2] and pkt[(pkt[0] & 15) * 4] == 8:
        print("%.3f" % t, file=out)
' "$tmp/alice-rx" $LAN_HOST &
pids+=("$!")
ip netns exec "$ns_lan" ping -i 0.1 -w 40 "$alice_addr" >/dev/null 2>&1 &
pids+=("$!")

# vpnd ends bob's admission though he hears nothing of it.
wait_no_session bob 20
# Not before its time: the grant came after start_s, and vpnd said when.
(($(date +%s) >= start_s + LIFETIME_S))
(($(date +%s) >= bob_expires))
# His pings arrived until the expiry...
echo1=$(snmp "$ns_lan" Icmp InEchos)
((echo1 > echo0 + 3))
# ... and none after it, though he still sends through his device: while
# three more go in, not one arrives.
tx1=$(bob_tx)
wait_for 10 bob_sent_since "$tx1" 3
[ "$(snmp "$ns_lan" Icmp InEchos)" -eq "$echo1" ]

# With the path back, the server's AUTH_REQUIRED reaches bob: his vpnc
# cannot ask for a login, says so, removes its device and exits 4.
ip -n "$ns_wan" route del blackhole $CLI2_ADDR/32
vpnc_exit "$bob_pid"
[ "$rc" -eq 4 ]
grep -q 'the server asks us to log in again' "$tmp/bob.log"
needs_login "$tmp/bob.log"
no_device "$ns_cli2"

# The server told alice (DISCONNECT, rule 8), her device went, her RESUME
# was answered AUTH_REQUIRED, and vpnc exited 4.
vpnc_exit "$alice_pid"
[ "$rc" -eq 4 ]
no_session alice
(($(date +%s) >= alice_expires))
grep -q 'vpn0 removed' "$tmp/alice2.log"
grep -q 'session expired; reconnecting' "$tmp/alice2.log"
grep -q 'the server asks us to log in' "$tmp/alice2.log"
needs_login "$tmp/alice2.log"
no_device "$ns_cli"
refute n_cli ping -c 1 -W 1 $LAN_HOST
# The office host's pings reached her until the expiry, and not after it
# (a datagram already on its way at the expiry is given 0.2 s).
echo "alice's last echo request at $(tail -n 1 "$tmp/alice-rx")," \
	"expiry by $alice_end"
(($(awk -v t="$alice_end" '$1 < t' "$tmp/alice-rx" | wc -l) >= 3))
[ "$(awk -v t="$alice_end" '$1 >= t + 0.2' "$tmp/alice-rx" | wc -l)" -eq 0 ]

# Restarted with the same key after the expiry, vpnc's RESUME is answered
# AUTH_REQUIRED: with an empty stdin it exits 4 and never connects.
ip netns exec "$ns_cli" "$VPNC" -c "$tmp/alice.conf" </dev/null \
	>"$tmp/alice3.log" 2>&1 &
alice_pid=$!
pids+=("$alice_pid")
vpnc_exit "$alice_pid"
[ "$rc" -eq 4 ]
grep -q 'the server asks us to log in' "$tmp/alice3.log"
needs_login "$tmp/alice3.log"
refute grep -q 'connected as' "$tmp/alice3.log"
no_device "$ns_cli"

stop_vpnd
echo "ok"
