# SPDX-License-Identifier: MIT
# shellcheck shell=bash disable=SC2034,SC2154
#
# What storm.sh and idle.sh share, sourced by both: two network namespaces
# (vpnd's, and the load generator's, whose clients each send from their own
# address of 198.18.0.0/15, the range RFC 2544 sets aside for benchmarks,
# routed back to it), a vpnd running as nobody on a store of our own, the
# load generator's options, and vpnd's memory from /proc. Nothing leaves
# the namespaces; every process started here is killed by PID on exit
# (the caller's trap runs lg_cleanup) and the namespaces are deleted.
#
#   ┌──── $ns_srv ─────────┐     ┌──── $ns_cli ──────────────────────┐
#   │ srv0 192.0.2.1/24    ├─────┤ cli0 192.0.2.2/24                 │
#   │ vpnd, port 51900     │     │ loadgen: one UDP socket a client, │
#   │ tunnel 10.99.0.1/16  │     │ each from its own address of      │
#   └──────────────────────┘     │ 198.18.0.0/15 (a local route)     │
#                                └───────────────────────────────────┘
#
# The caller sets `name` (for messages) before sourcing this file.

set -eu
umask 077

BUILD=${BUILD:-build}
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bin=$top/$BUILD
LOADGEN=$bin/bench/loadgen
SRV=192.0.2.1
PORT=51900
# Every key and TOTP secret of a run comes from this (loadgen derives them).
SEED="lg-$$-$RANDOM"
# The users' password: the PIN field of users.oath, so no blanks; vpnctl's
# policy (12 characters, zxcvbn score 3) accepts it.
PASSWORD=Quartz-Meadow-Lantern-Ferry-42

ns_srv=lg-srv-$$
ns_cli=lg-cli-$$
tmp=$(mktemp -d "/tmp/$name.XXXXXX")
pids=()
VPND_PID=

lg_cleanup() {
	local rc=$? pid i
	set +e
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${pids[@]}"; do
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
	done
	ip netns del "$ns_srv" 2>/dev/null
	ip netns del "$ns_cli" 2>/dev/null
	[ "$rc" -eq 0 ] || tail -n 20 "$tmp"/*.log 2>/dev/null
	rm -rf "$tmp"
	exit "$rc"
}

lg_checks() {
	local b
	[ "$(id -u)" -eq 0 ] || { echo "$name: run as root" >&2; exit 1; }
	for b in "$bin/vpnd" "$bin/vpnctl" "$LOADGEN"; do
		[ -x "$b" ] || { echo "$name: $b missing: run make bench" >&2; exit 1; }
	done
	[ -x /usr/bin/python3 ] || { echo "$name: /usr/bin/python3 missing" >&2; exit 1; }
}

# wait_for SECONDS COMMAND...
wait_for() {
	local i limit=$(($1 * 10))
	shift
	for ((i = 0; i < limit; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "$name: timed out waiting for: $*" >&2
	return 1
}

lg_topology() {
	local ns
	for ns in "$ns_srv" "$ns_cli"; do
		ip netns add "$ns"
		ip -n "$ns" link set lo up
	done
	ip link add srv0 netns "$ns_srv" type veth peer name cli0 netns "$ns_cli"
	ip -n "$ns_srv" addr add $SRV/24 dev srv0
	ip -n "$ns_cli" addr add 192.0.2.2/24 dev cli0
	ip -n "$ns_srv" link set srv0 up
	ip -n "$ns_cli" link set cli0 up
	ip -n "$ns_srv" route add 198.18.0.0/15 via 192.0.2.2
	ip -n "$ns_cli" route add local 198.18.0.0/15 dev lo
}

# lg_config MAX_PEERS: the server key and vpnd.conf. vpnd drops to nobody,
# which must be able to write beside its store.
lg_config() {
	"$bin/vpnd" genkey "$tmp/server.key"
	SERVER_PUB=$("$bin/vpnd" pubkey <"$tmp/server.key")
	chown nobody: "$tmp"
	chmod 0711 "$tmp"
	cat >"$tmp/vpnd.conf" <<-EOF
	user = "nobody"
	interface = "lgb0"
	listen-port = $PORT
	private-key-file = "$tmp/server.key"
	address-pool4 = "10.99.0.0/16"
	mtu = 1420
	max-peers = $1
	user-db = "$tmp/users.db"
	control-socket = "$tmp/vpnd.sock"
	log-level = "notice"
	EOF
}

vpnctl() { "$bin/vpnctl" -c "$tmp/vpnd.conf" "$@"; }

lg_start_vpnd() {
	ip netns exec "$ns_srv" "$bin/vpnd" -f -c "$tmp/vpnd.conf" >"$tmp/vpnd.log" 2>&1 &
	VPND_PID=$!
	pids+=("$VPND_PID")
	wait_for 30 grep -q "listening on UDP port" "$tmp/vpnd.log"
}

# loadgen run in the clients' namespace, with the server's options
# (LG_SERVER: another server address than $SRV); stdout to $1 (key=value
# lines), stderr to $1.log. Sets LG_PID.
lg_run_bg() {
	local out=$1
	shift
	ip netns exec "$ns_cli" "$LOADGEN" run --server "${LG_SERVER:-$SRV}:$PORT" \
		--server-key "$SERVER_PUB" --seed "$SEED" "$@" \
		>"$out" 2>"$out.log" &
	LG_PID=$!
	pids+=("$LG_PID")
}

# The value of KEY in a file of key=value lines.
kv() { sed -n "s/^$2=//p" "$1" | tail -n 1; }

# lg_pct FILE FROM TO: "p50_ms p99_ms answered lost" of the pings of FILE
# (loadgen --ping-out: send time, round trip, both ns) sent in [FROM, TO)
# (BOOTTIME ns); a lost ping (no echo by the end) is counted apart, not
# ranked.
lg_pct() {
	local lost
	lost=$(awk -v a="$2" -v b="$3" '$1 >= a && $1 < b && $2 < 0 { n++ }
		END { print n + 0 }' "$1")
	awk -v a="$2" -v b="$3" '$1 >= a && $1 < b && $2 >= 0 { print $2 / 1e6 }' \
		"$1" | sort -g | awk -v lost="$lost" '
		{ v[NR] = $1 }
		END {
			if (NR == 0) { print "-", "-", 0, lost; exit }
			i50 = int(0.50 * NR + 0.999999); i99 = int(0.99 * NR + 0.999999)
			printf "%.3f %.3f %d %d\n", v[i50], v[i99], NR, lost
		}'
}

# vpnd's memory in kB: VmRSS and VmHWM from status, Pss from smaps_rollup
# (resident pages, each shared one divided among its sharers).
mem_rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$VPND_PID/status"; }
mem_hwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$VPND_PID/status"; }
mem_pss() { awk '/^Pss:/ { print $2 }' "/proc/$VPND_PID/smaps_rollup"; }
# Where the resident memory is, from /proc/PID/smaps: "HEAP ANON FILE"
# in kB (the brk heap, anonymous mappings: the threads' malloc arenas,
# large allocations and stacks; and mapped files: code, libraries, the
# store's shared memory).
mem_split() {
	awk '/^[0-9a-f]+-[0-9a-f]+ / {
			if ($6 == "[heap]") kind = "heap"
			else if ($6 == "" || $6 ~ /^\[/) kind = "anon"
			else kind = "file"
		}
		/^Rss:/ { kb[kind] += $2 }
		END { print kb["heap"] + 0, kb["anon"] + 0, kb["file"] + 0 }' \
		"/proc/$VPND_PID/smaps"
}

# vpnd's CPU time so far, all threads (user + system), in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$VPND_PID/stat"; }

# stop PID: TERM, then KILL after 5 s; waits for it.
stop_pid() {
	local i
	kill -TERM "$1" 2>/dev/null || return 0
	for ((i = 0; i < 50; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}
