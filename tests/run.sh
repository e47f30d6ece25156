#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Runs every test and ends with one line: "N passed, N failed".
#   unit:  build/asan/tests/test_* (cmocka, TAP output: one count per case)
#          and test_userdb again against a throwaway PostgreSQL server
#   cli:   tests/cli/t-*.sh   (key tools, config checks; no root needed)
#   netns: tests/netns/t-*.sh (root, network namespaces; exit 77 = skipped)
# A test's output goes to build/test-logs/; a failure shows its tail.
# TESTS="pattern" runs only the tests whose name matches; JOBS=N runs N
# netns scripts at once (default 2). The netns tests that carry traffic
# through the tunnel (OFFLOAD_OFF below) run a second time with every
# offload forced off (VPN_TEST_OFFLOAD=no: offload = no in each vpnd.conf
# and vpnc.conf lib.sh writes), shown as "netns/t-x.sh (offload = no)".
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
LOGS=$BUILD/test-logs
mkdir -p "$LOGS"
pass=0 fail=0 skip=0
failed=()
pattern=${TESTS:-}
# netns scripts run at once (JOBS=1: one at a time).
JOBS=${JOBS:-2}

selected() {
	[ -z "$pattern" ] || [[ $1 == *$pattern* ]]
}

report_failure() {
	local name=$1 log=$2
	failed+=("$name")
	echo "---- $name (last lines of $log)"
	tail -n 25 "$log" | sed 's/^/    /'
}

# run_unit BIN [NAME LOG]
run_unit() {
	local bin=$1 name=${2:-unit/$(basename "$1")} rc p f s
	local log=${3:-$LOGS/$(basename "$1").log}
	CMOCKA_MESSAGE_OUTPUT=TAP timeout 300 "$bin" >"$log" 2>&1
	rc=$?
	p=$(grep -c '^ok ' "$log")
	f=$(grep '^not ok ' "$log" | grep -vc '# SKIP')
	s=$(grep -c '^not ok .*# SKIP' "$log")
	skip=$((skip + s))
	# A crash (sanitizer abort, timeout) loses the cases after it: count
	# the binary itself as one more failure.
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	pass=$((pass + p))
	fail=$((fail + f))
	printf '%-40s %3d passed, %d failed\n' "$name" "$p" "$f"
	[ "$f" -eq 0 ] || report_failure "$name" "$log"
}

# The user store's cases again, against PostgreSQL: a throwaway server
# (tests/tools/pgserver.sh) in a temporary directory, its conninfo in
# VPN_TEST_USERDB_PG. Without PostgreSQL this fails, saying so: make check
# installs it (make deps). run_unit_pg TEST: test_userdb, test_userdb_nodes.
run_unit_pg() {
	local name="unit/$1 (postgresql)" dir conninfo
	local log=$LOGS/$1-postgresql.log
	dir=$(mktemp -d /tmp/vpn-pgtest.XXXXXX)
	chmod 0711 "$dir"
	if conninfo=$(tests/tools/pgserver.sh start "$dir/pg" 2>"$log"); then
		VPN_TEST_USERDB_PG=$conninfo run_unit \
			"$BUILD/asan/tests/$1" "$name" "$log"
	else
		fail=$((fail + 1))
		printf '%-40s FAILED (no PostgreSQL server)\n' "$name"
		report_failure "$name" "$log"
	fi
	tests/tools/pgserver.sh stop "$dir/pg"
	rm -rf "$dir"
}

# The second pass: every data path but the default one (vpnd's and
# vpnc's plain TUN reads and writes, UDP without GSO/GRO), under the tests
# whose packets cross it: every shape of traffic, both families inside and
# out, the independent implementation's packets, MTU and MSS, the LAN
# modes, access rules, sites and full tunnels. The rest (logins, stores,
# configuration, and the long rekey and roaming runs, whose keys and
# endpoints the offloads do not touch) take the same path whatever the
# offloads, and keep make check well under ten minutes.
OFFLOAD_OFF="t-login-ping t-two-clients t-ipv6-outer t-interop t-mtu
	t-access t-site t-lan-nat t-lan-proxyarp t-lan-routed t-full-tunnel
	t-offload t-source-check t-hostile-server t-privileges"

# A script is its path, or "nooffload:" and its path for the second pass.
script_path() {
	echo "${1#nooffload:}"
}

# exec_script SCRIPT LIMIT: runs one script; its exit status and seconds
# go to LOG.rc beside its log.
exec_script() {
	local script=$1 limit=$2 log start rc offload=
	log=$(script_log "$script")
	[[ $script != nooffload:* ]] || offload=no
	start=$(date +%s)
	VPN_TEST_OFFLOAD=$offload timeout --kill-after=10 "$limit" \
		bash "$(script_path "$script")" >"$log" 2>&1
	rc=$?
	echo "$rc $(($(date +%s) - start))" >"$log.rc"
}

script_log() {
	local path
	path=$(script_path "$1")
	path=$(echo "${path#tests/}" | tr / _)
	[[ $1 != nooffload:* ]] || path=${path%.sh}-nooffload.sh
	echo "$LOGS/$path.log"
}

script_name() {
	local path
	path=$(script_path "$1")
	path=${path#tests/}
	[[ $1 != nooffload:* ]] || path="$path (offload = no)"
	echo "$path"
}

# report_script SCRIPT: counts and prints the outcome exec_script left.
report_script() {
	local script=$1 name log rc secs
	name=$(script_name "$script")
	log=$(script_log "$script")
	read -r rc secs <"$log.rc"
	case $rc in
	0)
		pass=$((pass + 1))
		printf '%-40s ok (%ds)\n' "$name" "$secs"
		;;
	77)
		skip=$((skip + 1))
		printf '%-40s skipped: %s\n' "$name" "$(tail -n 1 "$log")"
		;;
	*)
		fail=$((fail + 1))
		printf '%-40s FAILED (exit %d, %ds)\n' "$name" "$rc" "$secs"
		report_failure "$name" "$log"
		;;
	esac
}

run_script() {
	exec_script "$@"
	report_script "$1"
}

# run_parallel LIMIT SCRIPT...: up to $JOBS scripts at once (they share
# nothing: each builds its own namespaces), reported in the order given
# as soon as each and those before it are done. Most of a netns test's
# time is spent waiting on timers, so two at a time nearly halve the run.
run_parallel() {
	local limit=$1 queue=() running=0 script log
	shift
	for script in "$@"; do
		rm -f "$(script_log "$script").rc"
	done
	for script in "$@"; do
		while [ "$running" -ge "$JOBS" ]; do
			wait -n
			running=$((running - 1))
			report_done queue
		done
		exec_script "$script" "$limit" &
		queue+=("$script")
		running=$((running + 1))
	done
	wait
	report_done queue
}

# report_done QUEUE_NAME: reports finished scripts from the head of the
# queue, stopping at the first one still running.
report_done() {
	local -n q=$1
	while [ ${#q[@]} -gt 0 ] && [ -f "$(script_log "${q[0]}").rc" ]; do
		report_script "${q[0]}"
		q=("${q[@]:1}")
	done
}

for bin in "$BUILD"/asan/tests/test_*; do
	[ -x "$bin" ] || continue
	selected "unit/$(basename "$bin")" && run_unit "$bin"
done
for t in test_userdb test_userdb_nodes; do
	selected "unit/$t (postgresql)" && run_unit_pg "$t"
done
for script in tests/cli/t-*.sh; do
	[ -f "$script" ] || continue
	selected "$script" && run_script "$script" 120
done
netns=()
for script in tests/netns/t-*.sh; do
	[ -f "$script" ] || continue
	selected "$script" && netns+=("$script")
done
for t in $OFFLOAD_OFF; do
	script=tests/netns/$t.sh
	[ -f "$script" ] || { echo "run.sh: OFFLOAD_OFF names $t, not a test" >&2; exit 1; }
	selected "$script (offload = no)" && netns+=("nooffload:$script")
done
[ ${#netns[@]} -eq 0 ] || run_parallel 240 "${netns[@]}"

[ "$skip" -eq 0 ] || echo "$skip skipped"
[ ${#failed[@]} -eq 0 ] || echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
