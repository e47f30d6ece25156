#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The login storm against two vpnd nodes sharing one PostgreSQL store
# (issue 15, item 7): N clients (1000 by default) log in at once, half to
# each node, each with its own key, source address, user, password and TOTP
# code, while a client admitted to node A before the storm pings A's tunnel
# address through its tunnel every 10 ms. Run by hand, as root, after `make
# bench`:
#
#	contrib/bench/storm-cluster.sh [--clients N] [--idle SECONDS]
#
# It prints the time to admit all N, logins per second per node and in
# total, the Argon2id floor (both nodes run on this one machine and share
# its cores, so the pair's floor is one node's: N × one hash ÷ the cores),
# the database round trips per login (counted by the server:
# pg_stat_statements, see below) and the probe's ping p50 and p99 idle and
# during the storm, with the ratios. See README.md beside this file.
#
# What it owns beyond loadlib.sh: node B's namespace and the database's,
# the throwaway PostgreSQL server (tests/tools/pgserver.sh) and its
# statistics. It must not touch anything outside its namespaces and $tmp.
#
#   ┌─ $ns_srv (node A) ──┐        ┌──── $ns_cli ─────────────────────┐
#   │ srv0 192.0.2.1      ├────────┤ cli0 192.0.2.2                   │
#   └─────────────────────┘        │ loadgen: A's clients from        │
#   ┌─ $ns_srv2 (node B) ─┐        │ 198.18.0.1 on, B's from          │
#   │ srv1 198.51.100.1   ├────────┤ 198.19.0.1 on, the probe         │
#   └─────────────────────┘        │ 198.19.255.254 (a local route);  │
#   ┌─ $ns_db ────────────┐        │ routes the nodes' database       │
#   │ db0 203.0.113.1     ├────────┤ traffic (ip_forward)             │
#   │ PostgreSQL 15, :5432│        └──────────────────────────────────┘
#   └─────────────────────┘
#
# Both nodes have the same server key, pool and tunnel address (they are
# one service); each has its own control socket and node name (a, b).

name=storm-cluster
# shellcheck source=contrib/bench/loadlib.sh
. "$(dirname "${BASH_SOURCE[0]}")/loadlib.sh"

SRV2=198.51.100.1
DB_ADDR=203.0.113.1
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PGSERVER=$top/tests/tools/pgserver.sh
ns_srv2=lg-srv2-$$
ns_db=lg-db-$$
pg_dir=$tmp/pg
VPND2_PID=

# shellcheck disable=SC2317 # the EXIT trap's
cl_cleanup() {
	local rc=$?
	set +e
	# The server's processes would outlive its namespace: stop it first.
	[ ! -d "$pg_dir" ] || "$PGSERVER" stop "$pg_dir" >/dev/null 2>&1
	ip netns del "$ns_srv2" 2>/dev/null
	ip netns del "$ns_db" 2>/dev/null
	(exit "$rc")
	lg_cleanup
}
trap cl_cleanup EXIT

clients=1000
idle_s=10
PING_MS=10

usage() {
	sed -n '11p' "$0" | sed 's/^#\t*//' >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--clients) clients=$2; shift ;;
	--idle) idle_s=$2; shift ;;
	*) usage ;;
	esac
	shift
done
[[ $clients =~ ^[1-9][0-9]*$ && $idle_s =~ ^[1-9][0-9]*$ ]] || usage
((clients >= 2 && clients <= 20000 && idle_s <= 300)) || usage

lg_checks
if [ ! -x "$PG_BIN/initdb" ] || [ ! -f "$PG_BIN/../lib/pg_stat_statements.so" ]; then
	echo "$name: PostgreSQL 15 missing: apt-get install postgresql" >&2
	exit 1
fi

# ---- topology: lg_topology's pair, node B and the database beside it
lg_topology
cl_topology() {
	local ns
	for ns in "$ns_srv2" "$ns_db"; do
		ip netns add "$ns"
		ip -n "$ns" link set lo up
	done
	ip link add srv1 netns "$ns_srv2" type veth peer name cli1 netns "$ns_cli"
	ip link add db0 netns "$ns_db" type veth peer name cli2 netns "$ns_cli"
	ip -n "$ns_srv2" addr add $SRV2/24 dev srv1
	ip -n "$ns_cli" addr add 198.51.100.2/24 dev cli1
	ip -n "$ns_db" addr add $DB_ADDR/24 dev db0
	ip -n "$ns_cli" addr add 203.0.113.2/24 dev cli2
	for ns in "$ns_srv2:srv1" "$ns_cli:cli1" "$ns_db:db0" "$ns_cli:cli2"; do
		ip -n "${ns%%:*}" link set "${ns#*:}" up
	done
	ip netns exec "$ns_cli" sysctl -qw net.ipv4.ip_forward=1
	ip -n "$ns_srv2" route add 198.18.0.0/15 via 198.51.100.2
	ip -n "$ns_srv" route add 203.0.113.0/24 via 192.0.2.2
	ip -n "$ns_srv2" route add 203.0.113.0/24 via 198.51.100.2
	ip -n "$ns_db" route add default via 203.0.113.2
}
cl_topology

# ---- the database: a throwaway PostgreSQL 15 in $ns_db, with
# pg_stat_statements loaded (a restart: shared_preload_libraries), so
# that the server itself counts the statements it was sent.
pg_super() {
	runuser -u "$(stat -c %U "$pg_dir/data")" -- "$PG_BIN/psql" -X -q -A -t \
		-v ON_ERROR_STOP=1 -h "$pg_dir" -p 5432 -d vpnd -c "$1"
}
pg_start() {
	PG_CONNINFO=$(PGSERVER_CLIENT=nobody ip netns exec "$ns_db" \
		"$PGSERVER" start "$pg_dir" "$DB_ADDR")
	[ -n "$PG_CONNINFO" ]
}
lg_config $((clients + 64))
pg_start
pg_super "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'"
"$PGSERVER" stop "$pg_dir"
pg_start
pg_super "CREATE EXTENSION pg_stat_statements"
# BEGIN, COMMIT and ROLLBACK are round trips too: counted (the default).
[ "$(pg_super "SHOW pg_stat_statements.track_utility")" = on ]

# Node A's vpnd.conf (lg_config's) on the database, node B's beside it.
sed -i "s|^user-db = .*|user-db = \"$PG_CONNINFO\"|" "$tmp/vpnd.conf"
echo 'node-name = "a"' >>"$tmp/vpnd.conf"
sed -e "s|^control-socket = .*|control-socket = \"$tmp/vpnd2.sock\"|" \
	-e 's|^node-name = .*|node-name = "b"|' "$tmp/vpnd.conf" >"$tmp/vpnd2.conf"
grep -q 'passfile=' "$tmp/vpnd.conf" && grep -q 'vpnd2.sock' "$tmp/vpnd2.conf"

# vpnctl on the store goes over the network, from a node's namespace.
ctl_a() { ip netns exec "$ns_srv" "$bin/vpnctl" -c "$tmp/vpnd.conf" "$@"; }
ctl_b() { ip netns exec "$ns_srv2" "$bin/vpnctl" -c "$tmp/vpnd2.conf" "$@"; }

# ---- enrolment: as storm.sh, into the shared store
cores=$(nproc)
"$LOADGEN" oath --seed "$SEED" --password "$PASSWORD" --prefix storm \
	--count "$clients" >"$tmp/users.oath"
"$LOADGEN" oath --seed "$SEED" --password "$PASSWORD" --user probe \
	>>"$tmp/users.oath"
split -n "l/$cores" -d "$tmp/users.oath" "$tmp/part."
echo "$name: enrolling $((clients + 1)) users ($cores imports in parallel)..."
t0=$(date +%s.%N)
import_pids=()
for part in "$tmp"/part.*; do
	ctl_a user import-oath "$part" >"$part.log" 2>&1 &
	import_pids+=($!)
done
for pid in "${import_pids[@]}"; do
	wait "$pid" || { echo "$name: import failed" >&2; cat "$tmp"/part.*.log >&2; exit 1; }
done
t1=$(date +%s.%N)
enrol_s=$(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }")
n_users=$(ctl_b user list --json | grep -o '"name"' | wc -l)
[ "$n_users" -eq $((clients + 1)) ] ||
	{ echo "$name: $n_users users enrolled, not $((clients + 1))" >&2; exit 1; }

"$LOADGEN" hashtime --count 5 >"$tmp/hash.out"
hash_ms=$(kv "$tmp/hash.out" argon2id_median_ms)

# ---- the nodes
lg_start_vpnd
ip netns exec "$ns_srv2" "$bin/vpnd" -f -c "$tmp/vpnd2.conf" >"$tmp/vpnd2.log" 2>&1 &
VPND2_PID=$!
pids+=("$VPND2_PID")
wait_for 30 grep -q "listening on UDP port" "$tmp/vpnd2.log"
ticks_of() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# ---- the probe, on node A
lg_run_bg "$tmp/probe.out" --count 1 --first 1000000 --user probe \
	--password "$PASSWORD" --src 198.19.255.254 --hold -1 --timeout 60 \
	--ping-interval $PING_MS --ping-out "$tmp/pings.txt" --progress 0
PROBE_PID=$LG_PID
wait_for 60 grep -q '^ready=1' "$tmp/probe.out"

# The database's counters from here: what idle nodes send (their events
# poll, heartbeats) over the idle seconds, then what the storm adds.
# stmts: "queryid calls query" of vpnd's role, counted as each statement
# ends (in shared memory, at once). A statement that fails is not in
# pg_stat_statements; the server logs it (log_min_error_statement =
# error): logline is where that log is, and the errors of the storm are
# read from the lines it added.
stmts() {
	pg_super "SELECT queryid, calls, regexp_replace(left(query, 90), '\s+', ' ', 'g')
		FROM pg_stat_statements WHERE userid = 'vpnd'::regrole" |
		tr '|' ' '
}
logline() { wc -l <"$pg_dir/postgres.log"; }
pg_super "SELECT pg_stat_statements_reset()" >/dev/null
stmts >"$tmp/stmts0"
i0=$(date +%s.%N)
echo "$name: probe admitted on node A; ${idle_s} s of pings with both nodes idle..."
sleep "$idle_s"

# ---- the storm: half the clients to each node, both started at once
n_a=$((clients / 2))
n_b=$((clients - n_a))
timeout_s=$(awk "BEGIN { t = 4 * $clients * $hash_ms / 1000 / $cores + 120; printf \"%d\", t }")
echo "$name: $clients clients log in at once, $n_a to A and $n_b to B (giving up after ${timeout_s} s)..."
stmts >"$tmp/stmts1"
log1=$(logline)
i1=$(date +%s.%N)
load0=$(cut -d' ' -f1 /proc/loadavg)
ticks0=$(($(ticks_of "$VPND_PID") + $(ticks_of "$VPND2_PID")))
lg_run_bg "$tmp/storm-a.out" --count "$n_a" --first 0 --prefix storm \
	--password "$PASSWORD" --src 198.18.0.1 --hold 0 \
	--timeout "$timeout_s" --progress 10
STORM_A=$LG_PID
LG_SERVER=$SRV2 lg_run_bg "$tmp/storm-b.out" --count "$n_b" --first "$n_a" \
	--prefix storm --password "$PASSWORD" --src 198.19.0.1 --hold 0 \
	--timeout "$timeout_s" --progress 10
STORM_B=$LG_PID
storm_rc=0
wait "$STORM_A" || storm_rc=$?
wait "$STORM_B" || storm_rc=$?
i2=$(date +%s.%N)
stmts >"$tmp/stmts2"
log2=$(logline)
ticks1=$(($(ticks_of "$VPND_PID") + $(ticks_of "$VPND2_PID")))
load1=$(cut -d' ' -f1 /proc/loadavg)
sleep 1
stop_pid "$PROBE_PID"
[ -s "$tmp/pings.txt" ] || { echo "$name: the probe recorded no pings" >&2; exit 1; }

ctl_a metrics >"$tmp/metrics-a.txt" 2>/dev/null || true
ctl_b metrics >"$tmp/metrics-b.txt" 2>/dev/null || true
"$LOADGEN" hashtime --count 5 >"$tmp/hash2.out"
hash2_ms=$(kv "$tmp/hash2.out" argon2id_median_ms)

# ---- figures
# t0: the earlier generator's first initiation; end: the later's last
# admission (0 if a generator did not admit all its clients).
ta=$(kv "$tmp/storm-a.out" t0_boottime_ns)
tb=$(kv "$tmp/storm-b.out" t0_boottime_ns)
ea=$(kv "$tmp/storm-a.out" all_up_boottime_ns)
eb=$(kv "$tmp/storm-b.out" all_up_boottime_ns)
s_t0=$((ta < tb ? ta : tb))
admitted=$(($(kv "$tmp/storm-a.out" admitted) + $(kv "$tmp/storm-b.out" admitted)))
admit_note="all $clients admitted"
if [ "$ea" = 0 ] || [ "$eb" = 0 ]; then
	admit_note="ONLY $admitted of $clients admitted"
	s_end=$(awk '{ print $1 }' "$tmp/pings.txt" | tail -n 1)
else
	s_end=$((ea > eb ? ea : eb))
fi
admit_s=$(awk "BEGIN { printf \"%.3f\", ($s_end - $s_t0) / 1e9 }")
probe_up=$(kv "$tmp/probe.out" all_up_boottime_ns)
read -r idle_p50 idle_p99 idle_n idle_lost < \
	<(lg_pct "$tmp/pings.txt" $((probe_up + 1000000000)) "$s_t0")
read -r storm_p50 storm_p99 storm_n storm_lost < \
	<(lg_pct "$tmp/pings.txt" "$s_t0" "$s_end")

floor_s=$(awk "BEGIN { printf \"%.3f\", $clients * $hash_ms / 1000 / $cores }")
floor_node_s=$(awk "BEGIN { printf \"%.3f\", $n_a * $hash_ms / 1000 / $cores }")
ratio() { awk "BEGIN { if ($2 > 0) printf \"%.2f\", $1 / $2; else print \"-\" }"; }
# node_rate OUT: that generator's logins a second, first initiation to
# its last admission.
node_rate() {
	awk -v n="$(kv "$1" admitted)" -v s="$(kv "$1" last_admitted_s)" \
		'BEGIN { if (s > 0) printf "%.1f", n / s; else print "-" }'
}

# Statements: per query, the calls of the idle window (i0..i1) and of the
# storm (i1..i2); the idle rate of each, times the storm's length, is what
# the nodes would have sent anyway.
idle_len=$(awk "BEGIN { print $i1 - $i0 }")
storm_len=$(awk "BEGIN { print $i2 - $i1 }")
awk -v il="$idle_len" -v sl="$storm_len" -v n="$clients" '
	FILENAME == ARGV[1] { c0[$1] = $2; next }
	FILENAME == ARGV[2] { c1[$1] = $2; next }
	{
		id = $1; calls = $2
		$1 = $2 = ""; sub(/^ +/, "")
		idle = c1[id] - c0[id]; storm = calls - c1[id]
		bg = idle / il * sl; net = storm - bg
		if (net < 0) net = 0
		printf "%d %.0f %.0f %.3f %s\n", storm, idle, bg, net / n, $0
	}' "$tmp/stmts0" "$tmp/stmts1" "$tmp/stmts2" | sort -k1,1nr >"$tmp/stmts.delta"
read -r st_gross st_idle st_bg < <(awk '{ s += $1; i += $2; b += $3 }
	END { printf "%d %d %.0f\n", s, i, b }' "$tmp/stmts.delta")
sed -n "$((log1 + 1)),${log2}p" "$pg_dir/postgres.log" |
	sed -n 's/.* ERROR: *//p' | sort | uniq -c | sort -nr >"$tmp/errors"
st_err=$(awk '{ n += $1 } END { print n + 0 }' "$tmp/errors")
per_login() { awk "BEGIN { printf \"%.2f\", $1 / $clients }"; }

echo
echo "Login storm on two nodes sharing PostgreSQL: $clients clients at once ($n_a to A, $n_b to B),"
echo "  each vpnd with auth-workers = 2 (default); both nodes, the database and the clients on one $cores-core machine"
printf '  %-48s %10s\n' "enrolment of $((clients + 1)) users (import-oath x$cores)" "$enrol_s s"
printf '  %-48s %10s ms\n' "one Argon2id hash (INTERACTIVE, median of 5)" "$hash_ms"
printf '  %-48s %10s ms\n' "  the same, measured after the storm" "$hash2_ms"
printf '  %-48s %10s\n' "machine load average, before / after" "$load0 / $load1"
printf '  %-48s %10s s\n' "Argon2id floor of one node ($n_a x hash / $cores cores)" "$floor_node_s"
printf '  %-48s %10s s\n' "  of the pair on these shared cores" "$floor_s"
printf '  %-48s %10s s   (%s)\n' "time to admit all" "$admit_s" "$admit_note"
printf '  %-48s %10s     target <= 2.00\n' "admit time / the pair's floor" "$(ratio "$admit_s" "$floor_s")"
printf '  %-48s %10s /s  (%s s)\n' "logins a second, node A" "$(node_rate "$tmp/storm-a.out")" \
	"$(kv "$tmp/storm-a.out" last_admitted_s)"
printf '  %-48s %10s /s  (%s s)\n' "logins a second, node B" "$(node_rate "$tmp/storm-b.out")" \
	"$(kv "$tmp/storm-b.out" last_admitted_s)"
printf '  %-48s %10s /s\n' "logins a second, both" \
	"$(awk "BEGIN { printf \"%.1f\", $admitted / $admit_s }")"
printf '  %-48s %10s ms\n' "vpnd CPU time per login (both, all threads)" \
	"$(awk "BEGIN { printf \"%.1f\", ($ticks1 - $ticks0) * 1000 / $(getconf CLK_TCK) / $clients }")"
printf '  %-48s %10s\n' "BUSY answers, A + B" \
	"$(kv "$tmp/storm-a.out" busy) + $(kv "$tmp/storm-b.out" busy)"
printf '  %-48s %10s\n' "requests unanswered for 10 s, A + B" \
	"$(kv "$tmp/storm-a.out" request_timeouts) + $(kv "$tmp/storm-b.out" request_timeouts)"
printf '  %-48s %10s\n' "  OKs to requests given up, taken, A + B" \
	"$(kv "$tmp/storm-a.out" late_ok) + $(kv "$tmp/storm-b.out" late_ok)"
printf '  %-48s %10s\n' "handshakes given up, A + B" \
	"$(kv "$tmp/storm-a.out" handshake_gave_up) + $(kv "$tmp/storm-b.out" handshake_gave_up)"
printf '  %-48s %10s\n' "refused (failed, locked, pool, other), A + B" \
	"$(($(kv "$tmp/storm-a.out" auth_failed) + $(kv "$tmp/storm-b.out" auth_failed))),$(($(kv "$tmp/storm-a.out" locked) + $(kv "$tmp/storm-b.out" locked))),$(($(kv "$tmp/storm-a.out" pool_exhausted) + $(kv "$tmp/storm-b.out" pool_exhausted))),$(($(kv "$tmp/storm-a.out" other_refusals) + $(kv "$tmp/storm-b.out" other_refusals)))"
for node in a b; do
	sed -n "s/^vpnd_logins_total{result=\"\([a-z_]*\)\",reason=\"\([a-z-]*\)\"} \([0-9]*\)$/    vpnd $node: \1 \2 \3/p" \
		"$tmp/metrics-$node.txt"
done
# From vpnd's summaries (since it started: the probe's login included).
for node in a b; do
	awk -v node="$node" '
		/^vpnd_store_latency_seconds_sum / { ss = $2 }
		/^vpnd_store_latency_seconds_count / { sn = $2 }
		/^vpnd_store_latency_max_seconds / { sm = $2 }
		/^vpnd_login_latency_seconds_sum / { ls = $2 }
		/^vpnd_login_latency_seconds_count / { ln = $2 }
		/^vpnd_login_latency_max_seconds / { lm = $2 }
		END {
			printf "    vpnd %s: store jobs %d, mean %.1f ms, max %.0f ms;" \
				" password checks %d, mean %.0f ms, max %.0f ms\n", node,
				sn, sn ? ss * 1000 / sn : 0, sm * 1000,
				ln, ln ? ls * 1000 / ln : 0, lm * 1000
		}' "$tmp/metrics-$node.txt"
done
echo "  database statements (pg_stat_statements calls of role vpnd; each one round trip):"
printf '  %-48s %10s\n' "  in the ${idle_len%.*} s idle window (both nodes)" "$st_idle"
printf '  %-48s %10s   (%s s)\n' "  during the storm" "$st_gross" "$(printf '%.1f' "$storm_len")"
printf '  %-48s %10s\n' "    of which the idle rate would have sent" "$st_bg"
printf '  %-48s %10s\n' "  failed during the storm (ERROR lines, not above)" "$st_err"
printf '  %-48s %10s\n' "  round trips per login, gross" "$(per_login "$((st_gross + st_err))")"
printf '  %-48s %10s\n' "  round trips per login, less the idle rate" \
	"$(per_login "$((st_gross + st_err - ${st_bg%.*}))")"
[ ! -s "$tmp/errors" ] || sed 's/^ */      /' "$tmp/errors"
echo "  statements per login, by statement (less the idle rate; 0.05 and over):"
awk '$4 >= 0.05 { q = $0; for (i = 1; i <= 4; i++) sub(/^[^ ]+ /, "", q)
	printf "    %6.2f  %s\n", $4, substr(q, 1, 80) }' "$tmp/stmts.delta"
printf '  ping every %s ms, %-36s %8s %8s %6s %5s\n' "$PING_MS" "the probe's tunnel to node A:" p50 p99 pings lost
printf '  %-48s %8s %8s %6s %5s ms\n' "idle (before the storm)" "$idle_p50" "$idle_p99" "$idle_n" "$idle_lost"
printf '  %-48s %8s %8s %6s %5s ms\n' "during the storm" "$storm_p50" "$storm_p99" "$storm_n" "$storm_lost"
printf '  %-48s %8s %8s            target p99 <= 2.00\n' "storm / idle" \
	"$(ratio "$storm_p50" "$idle_p50")" "$(ratio "$storm_p99" "$idle_p99")"
exit "$storm_rc"
