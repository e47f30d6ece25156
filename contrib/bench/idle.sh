#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Idle sessions: what N logged-in clients that send nothing but keepalives
# cost vpnd in memory (10,000 by default; target of issue 14: at most
# 2 KiB per idle session at 10,000). Run by hand, as root, after `make
# bench`:
#
#	contrib/bench/idle.sh [--sessions N] [--hold SECONDS] [--rate R]
#
# N logins would be N Argon2id hashes (about 20 minutes here), so the
# clients come back on admissions instead (PROTOCOL.md section 6, rule 6:
# a RESUME from a key that holds a valid admission is admitted without a
# password or code). One user, "idle", is enrolled with vpnctl; once vpnd
# has started and its memory has been read, N admissions of that user
# (one per client key, each with its own address of the pool) are written
# into the store, as vpnd's own login would store them (vpnd/userdb.c,
# table admissions), by a short Python/sqlite3 program running as vpnd's
# user. vpnd reads them only when a client asks: each client does the
# real handshake, sends RESUME, is admitted by vpnd's store lookup, and
# then keeps its session with the keepalives vpnd pushes (25 s) and
# rekeys (120 s) as vpnc would, for --hold seconds (60). Nothing in vpnd
# knows it is a benchmark.
#
# Memory: VmRSS and VmHWM (/proc/PID/status) and Pss (/proc/PID/
# smaps_rollup), read before (vpnd idle, no session, no admission) and
# every 5 s while the N sessions are held; per session = (held - before)
# / N, from the last reading (and the largest). See README.md beside this
# file. Topology: loadlib.sh.

name=idle
# shellcheck source=contrib/bench/loadlib.sh
. "$(dirname "${BASH_SOURCE[0]}")/loadlib.sh"
trap lg_cleanup EXIT

sessions=10000
hold_s=60
rate=500

usage() {
	sed -n '9p' "$0" | sed 's/^#\t*//' >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--sessions) sessions=$2; shift ;;
	--hold) hold_s=$2; shift ;;
	--rate) rate=$2; shift ;;
	*) usage ;;
	esac
	shift
done
[[ $sessions =~ ^[1-9][0-9]*$ && $hold_s =~ ^[1-9][0-9]*$ && $rate =~ ^[1-9][0-9]*$ ]] || usage
((sessions <= 60000 && hold_s >= 5 && hold_s <= 3600 && rate <= 5000)) || usage

lg_checks
lg_topology
lg_config $((sessions + 64))

"$LOADGEN" oath --seed "$SEED" --password "$PASSWORD" --user idle >"$tmp/users.oath"
vpnctl user import-oath "$tmp/users.oath" >"$tmp/import.log" 2>&1

lg_start_vpnd
# Settled: three readings a second apart, the last kept.
for _ in 1 2 3; do
	sleep 1
	rss0=$(mem_rss)
	pss0=$(mem_pss)
done
read -r heap0 anon0 file0 < <(mem_split)
hwm0=$(mem_hwm)

# ---- N admissions of "idle", one per client key, addresses 10.99.0.2 on.
echo "idle: storing $sessions admissions..."
t0=$(date +%s.%N)
"$LOADGEN" keys --seed "$SEED" --count "$sessions" |
	setpriv --reuid=nobody --regid=nogroup --clear-groups /usr/bin/python3 -c '
import base64, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=30)
now = int(time.time())
rows = []
for i, line in enumerate(sys.stdin):
    host = i + 2
    rows.append((base64.b64decode(line.strip()), sys.argv[2], now,
                 now + 86400, bytes([10, 99, host >> 8, host & 255])))
with db:
    db.executemany("INSERT INTO admissions (client_key, user, created, "
                   "expires, addr4) VALUES (?, ?, ?, ?, ?)", rows)
print(len(rows))
' "$tmp/users.db" idle >"$tmp/stored"
t1=$(date +%s.%N)
[ "$(cat "$tmp/stored")" -eq "$sessions" ] || { echo "idle: admissions not stored" >&2; exit 1; }
store_s=$(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }")

# ---- the clients
echo "idle: $sessions clients resume, $rate a second..."
ramp_limit=$((sessions / rate + 120))
lg_run_bg "$tmp/idle.out" --count "$sessions" --user idle --resume \
	--src 198.18.0.1 --rate "$rate" --max-pending 256 \
	--timeout "$ramp_limit" --hold $((hold_s + 5)) --progress 10
IDLE_PID=$LG_PID
wait_for $((ramp_limit + 10)) grep -q '^ready=1' "$tmp/idle.out"
up_s=$(sed -n 's/^loadgen: all [0-9]* admitted in \([0-9.]*\) s$/\1/p' "$tmp/idle.out.log")
echo "idle: all $sessions admitted in ${up_s} s; holding them ${hold_s} s..."

# ---- held: a reading every 5 s; the generator holds 5 s more than that.
rss_max=0
pss_max=0
readings=0
for ((i = 0; i < hold_s / 5; i++)); do
	sleep 5
	kill -0 "$IDLE_PID" 2>/dev/null || break
	rss=$(mem_rss)
	pss=$(mem_pss)
	readings=$((readings + 1))
	((rss > rss_max)) && rss_max=$rss
	((pss > pss_max)) && pss_max=$pss
	rss1=$rss
	pss1=$pss
	read -r heap1 anon1 file1 < <(mem_split)
	vpnd_sessions=$(vpnctl status --json | sed -n 's/.*"sessions": *\([0-9]*\).*/\1/p')
done
[ "$readings" -gt 0 ] || { echo "idle: the generator ended before any reading" >&2; exit 1; }
hwm1=$(mem_hwm)
wait "$IDLE_PID" || { echo "idle: the generator failed" >&2; exit 1; }

per() { awk "BEGIN { printf \"%.0f\", ($1 - $2) * 1024 / $sessions }"; }
echo
echo "Idle sessions: $sessions clients holding sessions with keepalives only"
printf '  %-46s %s s\n' "admissions written into the store" "$store_s"
printf '  %-46s %s s\n' "all resumed (handshake + RESUME)" "$up_s"
printf '  %-46s %s of %s\n' "sessions vpnd counted at the last reading" "${vpnd_sessions:-?}" "$sessions"
printf '  %-46s %s of %s\n' "sessions alive in the generator at the end" "$(kv "$tmp/idle.out" alive_at_end)" "$sessions"
printf '  %-46s %s, %s, %s\n' "disconnects, handshakes given up, rekeys" \
	"$(kv "$tmp/idle.out" disconnects)" "$(kv "$tmp/idle.out" handshake_gave_up)" "$(kv "$tmp/idle.out" rekeys)"
printf '  %-30s %10s %10s %10s %12s\n' "vpnd, kB" before held "held max" "per session"
printf '  %-30s %10s %10s %10s %10s B\n' VmRSS "$rss0" "$rss1" "$rss_max" "$(per "$rss1" "$rss0")"
printf '  %-30s %10s %10s %10s %10s B\n' Pss "$pss0" "$pss1" "$pss_max" "$(per "$pss1" "$pss0")"
printf '  %-30s %10s %10s %10s %10s B\n' "  of it, brk heap" "$heap0" "$heap1" "" "$(per "$heap1" "$heap0")"
printf '  %-30s %10s %10s %10s %10s B\n' "  anonymous mappings" "$anon0" "$anon1" "" "$(per "$anon1" "$anon0")"
printf '  %-30s %10s %10s %10s %10s B\n' "  mapped files" "$file0" "$file1" "" "$(per "$file1" "$file0")"
printf '  %-30s %10s %10s\n' "VmHWM (peak so far)" "$hwm0" "$hwm1"
printf '  %-30s %10s B   target <= 2048\n' "VmRSS per session, largest" "$(per "$rss_max" "$rss0")"
