#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The garbage benchmark: what a flood of datagrams that are not from any
# client costs vpnd, and what its configured room for clients costs it
# idle, at max-peers 1024 and at 65536 in one run. Run by hand, as root,
# after `make bench test-bins` (vpnd is the release build, build/vpnd; the
# flooder is tests/tools/udpflood, build/asan/tools/udpflood):
#
#	contrib/bench/garbage.sh [--quick] [--time SECONDS] [--rounds N]
#				 [--only "KIND..."]
#
#   ┌──── $ns_srv ─────────┐     ┌──── $ns_atk ──────────────────┐
#   │ srv0 192.0.2.1/24    ├─────┤ atk0 192.0.2.2/24             │
#   │ vpnd                 │     │ udpflood, from 10.66.0.0/16   │
#   └──────────────────────┘     │ (each datagram from another   │
#                                │ address; routed back here)    │
#                                └───────────────────────────────┘
#
# Nothing leaves these namespaces; vpnd is killed by PID on exit and the
# namespaces are deleted.
#
# For each kind of garbage below, the same number of datagrams at the same
# fixed rate goes to vpnd at max-peers 1024 and at 65536 (max-pending stays
# 1024), ROUNDS times, the two taking turns; vpnd starts afresh each time.
# Its CPU time (user + system, all threads, from /proc/PID/stat), from
# the start of the flood until it has read everything sent, is divided by
# the datagrams it read (the network namespace's Udp InDatagrams, which
# counts reads; RcvbufErrors are datagrams the kernel dropped for want of
# room in its socket buffer, reported apart). The medians of the rounds and
# their ratio (65536 / 1024) are printed: anything that scanned every
# configured slot, or grew with the tables, would show in the ratio.
#   data       transport data (type 4) for random receiver indices
#   init       initiations with a valid mac1 and bad contents (garbage
#              inside, or a real static key and a garbage timestamp)
#   fresh      not garbage: real initiations, each from a new key, which
#              vpnd answers and gives a pending peer (the oldest
#              unconfirmed one giving way once max-pending are held)
# vpnd's handshake-rate is set past the flood and its per-source limit is
# off, so every initiation goes on to Noise (one or two X25519 each)
# rather than getting a cookie reply; the sources vary anyway.
#
# Idle memory: VmRSS a second after vpnd says it listens, VmHWM (the peak
# so far) then, and VmData (what it has allocated, touched or not), at
# each max-peers; their difference over the 64512 more configured slots is
# the memory a configured slot costs.

set -eu
umask 077

BUILD=${BUILD:-build}
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VPND=$top/$BUILD/vpnd
FLOOD=${FLOOD:-$top/$BUILD/asan/tools/udpflood}
duration=10
rounds=3
# Datagrams a second, by kind of garbage.
declare -A RATE=([data]=50000 [init]=5000 [fresh]=2000)
declare -A KINDS=([data]=data [init]=init-mac1,init-static [fresh]=init-fresh)
KIND_NAMES="data init fresh"
SIZES="1024 65536"

usage() {
	sed -n '8,11p' "$0" | sed 's/^#\t*//' >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--quick) duration=3; rounds=1 ;;
	--time) duration=$2; shift ;;
	--rounds) rounds=$2; shift ;;
	--only) KIND_NAMES=$2; shift ;;
	*) usage ;;
	esac
	shift
done
[[ $duration =~ ^[1-9][0-9]*$ && $rounds =~ ^[1-9][0-9]*$ ]] || usage
((duration <= 300 && rounds <= 20)) || usage
for kind in $KIND_NAMES; do
	[ -n "${KINDS[$kind]:-}" ] || usage
done

[ "$(id -u)" -eq 0 ] || { echo "garbage: run as root" >&2; exit 1; }
for b in "$VPND" "$FLOOD"; do
	[ -x "$b" ] || { echo "garbage: $b missing: run make bench test-bins" >&2; exit 1; }
done

ns_srv=gb-srv-$$
ns_atk=gb-atk-$$
tmp=$(mktemp -d /tmp/garbage.XXXXXX)
VPND_PID=

cleanup() {
	local rc=$? i
	set +e
	if [ -n "$VPND_PID" ]; then
		kill -TERM "$VPND_PID" 2>/dev/null
		for ((i = 0; i < 50; i++)); do
			kill -0 "$VPND_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$VPND_PID" 2>/dev/null
	fi
	ip netns del "$ns_srv" 2>/dev/null
	ip netns del "$ns_atk" 2>/dev/null
	[ "$rc" -eq 0 ] || tail -n 20 "$tmp"/*.log 2>/dev/null
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT

# wait_for SECONDS COMMAND...
wait_for() {
	local i limit=$(($1 * 10))
	shift
	for ((i = 0; i < limit; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "garbage: timed out waiting for: $*" >&2
	return 1
}

topology() {
	local ns
	for ns in "$ns_srv" "$ns_atk"; do
		ip netns add "$ns"
		ip -n "$ns" link set lo up
	done
	ip link add srv0 netns "$ns_srv" type veth peer name atk0 netns "$ns_atk"
	ip -n "$ns_srv" addr add 192.0.2.1/24 dev srv0
	ip -n "$ns_atk" addr add 192.0.2.2/24 dev atk0
	ip -n "$ns_srv" link set srv0 up
	ip -n "$ns_atk" link set atk0 up
	ip -n "$ns_srv" route add 10.66.0.0/16 via 192.0.2.2
	ip -n "$ns_atk" route add local 10.66.0.0/16 dev lo
}

start_vpnd() {
	rm -f "$tmp/server.key"
	"$VPND" genkey "$tmp/server.key"
	# vpnd drops to an unprivileged user that must be able to write
	# beside its store (as in tests/netns/lib.sh).
	chown nobody: "$tmp"
	chmod 0711 "$tmp"
	cat >"$tmp/vpnd.conf" <<-EOF
	user = "nobody"
	interface = "vgb0"
	listen-port = 51900
	private-key-file = "$tmp/server.key"
	address-pool4 = "10.128.0.0/9"
	user-db = "$tmp/users.db"
	control-socket = "$tmp/vpnd.sock"
	log-level = "notice"
	max-peers = $1
	handshake-rate = 1000000
	source-handshake-rate = 0
	EOF
	rm -f "$tmp/users.db"
	: >"$tmp/vpnd.log"
	ip netns exec "$ns_srv" "$VPND" -f -c "$tmp/vpnd.conf" >>"$tmp/vpnd.log" 2>&1 &
	VPND_PID=$!
	wait_for 20 grep -q "listening on UDP port" "$tmp/vpnd.log"
	SERVER_PUB=$("$VPND" pubkey <"$tmp/server.key")
}

stop_vpnd() {
	kill -TERM "$VPND_PID"
	wait "$VPND_PID" || { echo "garbage: vpnd did not exit cleanly" >&2; exit 1; }
	VPND_PID=
}

cpu_ticks() {
	local f
	read -r -a f <"/proc/$1/stat"
	# utime and stime, fields 14 and 15 (the command name has no spaces).
	echo $((f[13] + f[14]))
}

# status_kb PID FIELD: a field of /proc/PID/status, in kB.
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

# udp_counter NAME: a field of the server namespace's Udp line.
udp_counter() {
	ip netns exec "$ns_srv" awk -v k="$1" '$1 == "Udp:" && !h {
		for (i = 2; i <= NF; i++) n[$i] = i; h = 1; next }
		$1 == "Udp:" { print $n[k] }' /proc/net/snmp
}

# drained IN0 DROP0 SENT: vpnd has read or lost SENT datagrams since the
# counters read IN0 and DROP0.
drained() {
	(($(udp_counter InDatagrams) - $1 + $(udp_counter RcvbufErrors) - $2 >= $3))
}

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

declare -A CPU RSS HWM DATA DROPS
hz=$(getconf CLK_TCK)
topology
echo "garbage: ${duration} s per flood, $rounds round(s), vpnd $VPND" >&2
for ((round = 1; round <= rounds; round++)); do
	for size in $SIZES; do
		for kind in $KIND_NAMES; do
			start_vpnd "$size"
			sleep 1
			RSS[$size]+="$(status_kb "$VPND_PID" VmRSS) "
			HWM[$size]+="$(status_kb "$VPND_PID" VmHWM) "
			DATA[$size]+="$(status_kb "$VPND_PID" VmData) "
			n=$((RATE[$kind] * duration))
			in0=$(udp_counter InDatagrams)
			drop0=$(udp_counter RcvbufErrors)
			t0=$(cpu_ticks "$VPND_PID")
			ip netns exec "$ns_atk" "$FLOOD" -K "${KINDS[$kind]}" \
				-k "$SERVER_PUB" -R 10.66.0.0/16 -r "${RATE[$kind]}" \
				-n "$n" -t $((duration * 3)) 192.0.2.1 51900 \
				>"$tmp/flood.log" 2>&1
			sent=$(sed -n 's/^udpflood: \([0-9]*\) datagrams.*/\1/p' "$tmp/flood.log")
			# vpnd may be behind: wait until it has read or lost
			# every datagram sent.
			wait_for 60 drained "$in0" "$drop0" "$sent" || true
			t1=$(cpu_ticks "$VPND_PID")
			got=$(($(udp_counter InDatagrams) - in0))
			dropped=$(($(udp_counter RcvbufErrors) - drop0))
			stop_vpnd
			us=$(awk -v t=$((t1 - t0)) -v hz="$hz" -v n="$got" \
				'BEGIN { printf "%.3f", (n > 0 ? t / hz * 1e6 / n : 0) }')
			CPU[$kind.$size]+="$us "
			DROPS[$kind.$size]+="$dropped "
			echo "garbage: round $round, max-peers $size, $kind: sent $sent," \
				"vpnd read $got ($dropped dropped, buffer full)," \
				"$((t1 - t0)) ticks: $us us each" >&2
		done
	done
done

med() { tr ' ' '\n' <<<"$1" | sed '/^$/d' | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

{
	printf '%-44s %12s %12s %8s\n' "median of $rounds round(s)" \
		"1024" "65536" "ratio"
	for kind in $KIND_NAMES; do
		a=$(med "${CPU[$kind.1024]}")
		b=$(med "${CPU[$kind.65536]}")
		printf '%-44s %12s %12s %8s\n' \
			"CPU us per datagram, $kind (${RATE[$kind]}/s)" "$a" "$b" \
			"$(ratio "$b" "$a")"
	done
	for kind in $KIND_NAMES; do
		printf '%-44s %12s %12s\n' "datagrams dropped (buffer full), $kind" \
			"$(med "${DROPS[$kind.1024]}")" "$(med "${DROPS[$kind.65536]}")"
	done
	for m in "RSS:idle VmRSS" "HWM:VmHWM at start" "DATA:idle VmData"; do
		declare -n v=${m%%:*}
		a=$(med "${v[1024]}")
		b=$(med "${v[65536]}")
		printf '%-44s %12s %12s %8s\n' "${m#*:}, kB" "$a" "$b" \
			"$(ratio "$b" "$a")"
		unset -n v
	done
	for m in "RSS:VmRSS" "HWM:VmHWM" "DATA:VmData"; do
		declare -n v=${m%%:*}
		printf '%-44s %12s\n' "${m#*:} per configured slot, bytes" \
			"$(awk -v a="$(med "${v[1024]}")" -v b="$(med "${v[65536]}")" \
				'BEGIN { printf "%.1f", (b - a) * 1024 / 64512 }')"
		unset -n v
	done
}
