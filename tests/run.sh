#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Runs every test and ends with one line: "N passed, N failed".
#   unit:  build/asan/tests/test_* (cmocka, TAP output: one count per case)
#   cli:   tests/cli/t-*.sh   (key tools, config checks; no root needed)
#   netns: tests/netns/t-*.sh (root, network namespaces; exit 77 = skipped)
# A test's output goes to build/test-logs/; a failure shows its tail.
# TESTS="pattern" runs only the tests whose name matches.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
LOGS=$BUILD/test-logs
mkdir -p "$LOGS"
pass=0 fail=0 skip=0
failed=()
pattern=${TESTS:-}

selected() {
	[ -z "$pattern" ] || [[ $1 == *$pattern* ]]
}

report_failure() {
	local name=$1 log=$2
	failed+=("$name")
	echo "---- $name (last lines of $log)"
	tail -n 25 "$log" | sed 's/^/    /'
}

run_unit() {
	local bin=$1 name log rc p f s
	name=unit/$(basename "$bin")
	log=$LOGS/$(basename "$bin").log
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

run_script() {
	local script=$1 limit=$2 name log rc start
	name=${script#tests/}
	log=$LOGS/$(echo "$name" | tr / _).log
	start=$(date +%s)
	timeout --kill-after=10 "$limit" bash "$script" >"$log" 2>&1
	rc=$?
	case $rc in
	0)
		pass=$((pass + 1))
		printf '%-40s ok (%ds)\n' "$name" $(($(date +%s) - start))
		;;
	77)
		skip=$((skip + 1))
		printf '%-40s skipped: %s\n' "$name" "$(tail -n 1 "$log")"
		;;
	*)
		fail=$((fail + 1))
		printf '%-40s FAILED (exit %d, %ds)\n' "$name" "$rc" \
			$(($(date +%s) - start))
		report_failure "$name" "$log"
		;;
	esac
}

for bin in "$BUILD"/asan/tests/test_*; do
	[ -x "$bin" ] || continue
	selected "unit/$(basename "$bin")" && run_unit "$bin"
done
for script in tests/cli/t-*.sh; do
	[ -f "$script" ] || continue
	selected "$script" && run_script "$script" 120
done
for script in tests/netns/t-*.sh; do
	[ -f "$script" ] || continue
	selected "$script" && run_script "$script" 240
done

[ "$skip" -eq 0 ] || echo "$skip skipped"
[ ${#failed[@]} -eq 0 ] || echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
