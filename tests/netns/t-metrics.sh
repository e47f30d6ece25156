#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Metrics (issue 12): `vpnctl metrics`, GET /metrics on metrics-listen
# (from inside the server's namespace) and the node_exporter textfile each
# pass `promtool check metrics`, and the counters move with traffic: a
# wrong password counts a failed login; a right login and pings count a
# login ok, one admitted session and bytes and packets both ways. Another
# path is 404, another method 405; the textfile goes when vpnd stops; an
# IPv6 metrics-listen serves the same.
source "$(dirname "$0")/lib.sh"

command -v promtool >/dev/null || skip "needs promtool (make deps)"
command -v curl >/dev/null || skip "needs curl (make deps)"

URL=http://127.0.0.1:9108/metrics

setup_topology
mkdir "$tmp/textfile"
mkfifo "$tmp/hold.fifo"
textfile=$tmp/textfile/vpnd.prom
write_vpnd_conf 'metrics-listen = "9108"' \
	"metrics-textfile = \"$textfile\"" 'metrics-interval = 1s'
# vpnd writes the textfile as the user it runs as (`user` in vpnd.conf).
run_as=$(sed -n 's/^user = "\(.*\)"$/\1/p' "$tmp/vpnd.conf" | tail -n 1)
chown "${run_as:-root}:" "$tmp/textfile"
write_vpnc_conf alice alice
write_vpnc_conf wrong alice
secret=$(enrol alice)
start_vpnd

# The three ways out, each into FILE.
by_vpnctl() { "$VPNCTL" -c "$tmp/vpnd.conf" metrics >"$1"; }
by_http() { q_srv curl -sS --fail --max-time 5 "$URL" >"$1"; }
by_textfile() { cp "$textfile" "$1"; }

# checked HOW FILE: fetched one way and accepted by promtool, which exits
# non-zero on a parse error or a lint problem.
checked() {
	"by_$1" "$2"
	promtool check metrics <"$2"
}

# value SERIES FILE: its value (the series as printed, labels included);
# sum PREFIX FILE: the sum of the series that begin with PREFIX. 0 for
# none.
value() { awk -v k="$1" '$1 == k { v = $2 } END { print v + 0 }' "$2"; }
sum() {
	awk -v p="$1" 'index($1, p) == 1 { s += $2 } END { print s + 0 }' "$2"
}

# admitted_is HOW N: fetched HOW, it passes promtool and counts N
# admitted sessions (the HTTP text may be a second old, the textfile a
# metrics-interval: poll these).
admitted_is() {
	checked "$1" "$tmp/poll.$1" &&
		(($(value 'vpnd_sessions{state="admitted"}' "$tmp/poll.$1") == $2))
}

for how in vpnctl http; do
	checked "$how" "$tmp/before.$how"
done
wait_for 10 test -s "$textfile"
checked textfile "$tmp/before.textfile"
for how in vpnctl http textfile; do
	f=$tmp/before.$how
	grep -q '^# TYPE vpnd_logins_total counter$' "$f"
	grep -q '^vpnd_info{version="[0-9.]*"} 1$' "$f"
	(($(value 'vpnd_sessions{state="admitted"}' "$f") == 0))
	(($(sum 'vpnd_logins_total{' "$f") == 0))
	(($(value vpnd_store_up "$f") == 1))
done
b=$tmp/before.vpnctl

# A wrong password: one failed login, nothing admitted.
start_vpnc wrong "not the password" "$(totp "$secret")"
wait_gone "$VPNC_PID" 200
rc=0
wait "$VPNC_PID" || rc=$?
[ "$rc" -eq 3 ]
checked vpnctl "$tmp/wrong"
(($(value 'vpnd_logins_total{result="failed",reason="bad-password"}' \
	"$tmp/wrong") == 1))
(($(sum 'vpnd_logins_total{result="ok"' "$tmp/wrong") == 0))
(($(value 'vpnd_sessions{state="admitted"}' "$tmp/wrong") == 0))

# The right one, then traffic both ways.
start_vpnc alice "$PASSWORD" "$(totp "$secret")"
wait_log "$tmp/alice.log" "connected as alice"
n_cli ping -c 3 -i 0.2 -W 2 $TUN_SRV
addr=$(client_addr "$tmp/alice.log")
n_srv ping -c 3 -i 0.2 -W 2 "$addr"
checked vpnctl "$tmp/after"
a=$tmp/after
(($(sum 'vpnd_logins_total{result="ok"' "$a") == 1))
(($(value 'vpnd_logins_total{result="failed",reason="bad-password"}' \
	"$a") == 1))
(($(value 'vpnd_sessions{state="admitted"}' "$a") == 1))
(($(value vpnd_login_latency_seconds_count "$a") == 2))
(($(value vpnd_handshakes_total "$a") > $(value vpnd_handshakes_total "$b")))
for c in received_bytes sent_bytes received_packets sent_packets; do
	before=$(value "vpnd_${c}_total" "$b")
	after=$(value "vpnd_${c}_total" "$a")
	echo "vpnd_${c}_total: $before -> $after"
	((after >= before + 6))
done
# The endpoint and the textfile follow within their bounds.
wait_for 10 admitted_is http 1
wait_for 10 admitted_is textfile 1
(($(sum 'vpnd_logins_total{result="ok"' "$tmp/poll.http") == 1))
(($(sum 'vpnd_logins_total{result="ok"' "$tmp/poll.textfile") == 1))

# Only GET (or HEAD) /metrics.
code() {
	q_srv curl -s -o /dev/null --max-time 5 -w '%{http_code}' "$@"
}
[ "$(code http://127.0.0.1:9108/)" = 404 ]
[ "$(code http://127.0.0.1:9108/metricsx)" = 404 ]
[ "$(code -X POST -d x=1 "$URL")" = 405 ]
[ "$(code -I "$URL")" = 200 ]
# Loopback only: not on the server's other addresses.
refute q_srv curl -s -o /dev/null --max-time 2 "http://$SRV_ADDR:9108/metrics"

# Idle connections beyond the bound (16) hold the HTTP thread's room, never
# the loop: while they are open the tunnel and vpnctl answer; once they
# are gone, so does the endpoint.
q_srv python3 -c '
import socket, sys, time
held = [socket.create_connection(("127.0.0.1", 9108)) for _ in range(24)]
print("held", flush=True)
sys.stdin.read()
' <"$tmp/hold.fifo" >"$tmp/hold.log" 2>&1 &
holder=$!
pids+=("$holder")
exec 7>"$tmp/hold.fifo"
wait_log "$tmp/hold.log" held 10
n_cli ping -c 2 -i 0.2 -W 2 $TUN_SRV
checked vpnctl "$tmp/held"
exec 7>&-
wait "$holder"
wait_for 15 admitted_is http 1

kill -TERM "$VPNC_PID"
wait "$VPNC_PID"
stop_vpnd
# A stopped vpnd leaves no numbers for node_exporter to report.
[ ! -e "$textfile" ]
[ -z "$(ls -A "$tmp/textfile")" ]

# IPv6, without a textfile.
sed -i -e 's/^metrics-listen = .*/metrics-listen = "[::1]:9109"/' \
	-e '/^metrics-textfile/d' "$tmp/vpnd.conf"
start_vpnd
q_srv curl -sS --fail --max-time 5 -g 'http://[::1]:9109/metrics' \
	>"$tmp/v6"
promtool check metrics <"$tmp/v6"
grep -q '^vpnd_sessions{state="admitted"} 0$' "$tmp/v6"
stop_vpnd
echo "ok"
