#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Access rules and client-to-client (issue 13), two clients in two homes
# (t-two-clients.sh's topology), the office host serving TCP on 8080 and
# 2222:
#
#   access "web" { users = {"alice"}  allow = {"10.20.0.2 tcp/8080"} }
#
# alice reaches 8080; her connect() to 2222 fails at once with a reset
# (ECONNREFUSED, well inside the timeout, while bob, whom no rule names,
# connects to 2222: the host listens, vpnd refused), and the rule "web"
# counts it in `vpnctl status --json` and `vpnctl metrics`. Her ping to
# the host (under "web": no icmp) and to the host's IPv6 address (pushed,
# but none of her rules holds it: "no-rule") are answered with ICMP
# "administratively prohibited", which ping shows. Clients cannot reach
# each other by default (counted under "client-to-client"). Then a SIGHUP
# with client-to-client = yes and 2222 allowed: bob reaches alice, alice
# reaches 2222, on the sessions admitted before, and "web" keeps its
# count; alice, whose rules do not hold bob's address, still cannot ping
# him.
source "$(dirname "$0")/lib.sh"

# A TCP listener on the office host at PORT.
start_listener() {
	ip netns exec "$ns_lan" /usr/bin/python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.20.0.2", int(sys.argv[1])))
s.listen(8)
while True:
    c, _ = s.accept()
    c.sendall(b"office\n")
    c.close()
' "$1" >"$tmp/listener-$1.log" 2>&1 &
	pids+=("$!")
	wait_for 10 q_lan bash -c "exec 3<>/dev/tcp/10.20.0.2/$1"
}

# tcp_try NS PORT: "connected", "refused SECONDS" or "error WHAT", for a
# connect() from NS to the office host at PORT (3 s at most).
tcp_try() {
	ip netns exec "$1" /usr/bin/python3 -c '
import socket, sys, time
s = socket.socket()
s.settimeout(3)
t = time.monotonic()
try:
    s.connect(("10.20.0.2", int(sys.argv[1])))
    print("connected")
except ConnectionRefusedError:
    print("refused %.2f" % (time.monotonic() - t))
except OSError as e:
    print("error", e)
' "$2"
}

# refused RULE: what vpnd counts as refused under RULE (status --json).
refused() {
	vpnctl_json status | /usr/bin/python3 -c '
import json, sys
rows = [r for r in json.load(sys.stdin)["refused"] if r["rule"] == sys.argv[1]]
assert len(rows) == 1, rows
print(rows[0]["refused"])' "$1"
}

# metric RULE: the same in `vpnctl metrics`.
metric() {
	q_srv "$VPNCTL" -c "$tmp/vpnd.conf" metrics |
		sed -n "s/^vpnd_access_refused_packets_total{rule=\"$1\"} //p"
}

# reload_sighup: SIGHUP, and waits until vpnd says how it ended.
reload_sighup() {
	local before
	before=$(count_log "$tmp/vpnd.log" "reload: \(applied\|nothing to\|.* refused\)")
	kill -HUP "$VPND_PID"
	wait_for 10 log_count_above "$tmp/vpnd.log" \
		"reload: \(applied\|nothing to\|.* refused\)" "$before"
}

setup_topology
setup_client2

# alice also has a rule of 400 prefixes nobody reaches: building her
# policy sorts an array large enough that glibc's qsort asks the kernel
# for the memory size (sysinfo), which vpnd's sandbox must allow.
bulk=$(for i in $(seq 0 399); do
	printf '"100.%u.%u.0/24", ' $((64 + i / 256)) $((i % 256))
done)
write_vpnd_conf 'access "web" {' '	users = {"alice"}' \
	'	allow = {"10.20.0.2 tcp/8080"}' '}' \
	'access "bulk" {' '	users = {"alice"}' \
	"	allow = {${bulk%, }}" '}'
write_vpnc_conf alice alice
write_vpnc_conf bob bob
secret_a=$(enrol alice)
secret_b=$(enrol bob)
start_vpnd
start_listener 8080
start_listener 2222

start_vpnc alice "$PASSWORD" "$(totp "$secret_a")"
pid_a=$VPNC_PID
VPNC_NS=$ns_cli2 start_vpnc bob "$PASSWORD" "$(totp "$secret_b")"
pid_b=$VPNC_PID
wait_log "$tmp/alice.log" "connected as alice"
wait_log "$tmp/bob.log" "connected as bob"
addr_a=$(client_addr "$tmp/alice.log")
addr_b=$(client_addr "$tmp/bob.log")
echo "alice $addr_a, bob $addr_b"
[ "$(status_field client_to_client)" = no ]
[ "$(refused web)" = 0 ]
[ "$(metric web)" = 0 ]

# The allowed port; the forbidden one, reset by vpnd (bob reaches it).
[ "$(tcp_try "$ns_cli" 8080)" = connected ]
[ "$(tcp_try "$ns_cli2" 2222)" = connected ]
out=$(tcp_try "$ns_cli" 2222)
echo "alice to 2222: $out"
[ "${out%% *}" = refused ]
web=$(refused web)
[ "$web" -ge 1 ] && [ "$web" -le 3 ]
[ "$(metric web)" -ge "$web" ]

# ICMP: under "web" (its prefix, no icmp), and where no rule of hers is.
q_cli ping -c 1 -W 2 10.20.0.2 >"$tmp/ping4.txt" 2>&1 || true
cat "$tmp/ping4.txt"
grep -q "From $TUN_SRV .*Packet filtered" "$tmp/ping4.txt"
[ "$(refused web)" -gt "$web" ]
no_rule=$(refused no-rule)
q_cli ping -6 -c 1 -W 2 fd00:20::2 >"$tmp/ping6.txt" 2>&1 || true
cat "$tmp/ping6.txt"
grep -q "Administratively prohibited" "$tmp/ping6.txt"
[ "$(refused no-rule)" -gt "$no_rule" ]
# bob, whom no rule names, reaches everything pushed.
q_cli2 ping -c 1 -W 2 10.20.0.2 >/dev/null
q_cli2 ping -6 -c 1 -W 2 fd00:20::2 >/dev/null

# Client to client: refused both ways by default, and counted.
[ "$(refused client-to-client)" = 0 ]
q_cli2 ping -c 1 -W 2 "$addr_a" >"$tmp/c2c.txt" 2>&1 || true
cat "$tmp/c2c.txt"
grep -q "Packet filtered" "$tmp/c2c.txt"
refute q_cli ping -c 1 -W 2 "$addr_b"
[ "$(refused client-to-client)" -ge 2 ]
[ "$(metric client-to-client)" -ge 2 ]

# Live: client-to-client on, 2222 allowed, for the sessions there are.
web=$(refused web)
sed -i 's|"10.20.0.2 tcp/8080"|"10.20.0.2 tcp/8080,2222"|' "$tmp/vpnd.conf"
echo 'client-to-client = yes' >>"$tmp/vpnd.conf"
reload_sighup
log_has "$tmp/vpnd.log" "reload: applied .*client-to-client"
[ "$(status_field client_to_client)" = yes ]
[ "$(tcp_try "$ns_cli" 2222)" = connected ]
[ "$(refused web)" = "$web" ]
q_cli2 ping -c 2 -i 0.2 -W 2 "$addr_a"
# alice's rules hold nothing of bob's.
no_rule=$(refused no-rule)
refute q_cli ping -c 1 -W 2 "$addr_b"
[ "$(refused no-rule)" -gt "$no_rule" ]
# The same sessions throughout.
[ "$(count_log "$tmp/alice.log" "connected as")" -eq 1 ]
[ "$(count_log "$tmp/bob.log" "connected as")" -eq 1 ]

kill -TERM "$pid_a" "$pid_b"
wait "$pid_a"
wait "$pid_b"
stop_vpnd
echo "ok"
