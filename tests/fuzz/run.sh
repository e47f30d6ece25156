#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# `make fuzz`: runs each libFuzzer harness in $BUILD/fuzz/ for FUZZ_TIME
# seconds, one process at a time, seeded with its committed corpus
# (tests/fuzz/corpus/<name>/, only read). What the fuzzer keeps goes to
# $BUILD/fuzz/work/<name>/corpus, crashes, hangs and leaks to
# $BUILD/fuzz/work/<name>/crashes; a finding makes the run fail, and its
# input belongs in tests/fuzz/corpus/<name>/ once the bug is fixed.
# FUZZ="pattern" runs only the harnesses whose name matches.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
FUZZ_TIME=${FUZZ_TIME:-60}
pattern=${FUZZ:-}
found=()
ran=0

for bin in "$BUILD"/fuzz/fuzz_*; do
	[ -x "$bin" ] || continue
	name=${bin##*/fuzz_}
	[ -z "$pattern" ] || [[ $name == *$pattern* ]] || continue
	work=$BUILD/fuzz/work/$name
	mkdir -p "$work/corpus" "$work/crashes"
	extra=()
	# The config loaders explain every refusal on stderr: keep it quiet
	# (sanitizer reports still get through).
	[ "$name" = config ] && extra=(-close_fd_mask=2)
	ran=$((ran + 1))
	# The outer timeout only guards against a fuzzer that will not stop.
	timeout --kill-after=10 $((FUZZ_TIME + 120)) "$bin" \
		-max_total_time="$FUZZ_TIME" -timeout=10 -rss_limit_mb=1024 \
		-max_len=8192 -print_final_stats=1 "${extra[@]}" \
		-artifact_prefix="$work/crashes/" \
		"$work/corpus" "tests/fuzz/corpus/$name" >"$work/log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
	cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$work/log" | tail -n 1)
	if [ "$rc" -eq 0 ]; then
		printf '%-18s ok: %s runs in %ss, %s\n' "fuzz_$name" \
			"${runs:-?}" "$FUZZ_TIME" "${cov:-no coverage line}"
	else
		found+=("$name")
		printf '%-18s FOUND something (exit %d): %s\n' "fuzz_$name" \
			"$rc" "$(ls "$work/crashes" | tr '\n' ' ')"
		grep -m 1 -E '^(==[0-9]+==ERROR|SUMMARY|.*invariant broken)' \
			"$work/log" | sed 's/^/    /'
	fi
done

if [ "$ran" -eq 0 ]; then
	echo "no harness in $BUILD/fuzz/ (make fuzz-bins)"
	exit 1
fi
if [ ${#found[@]} -gt 0 ]; then
	echo "findings: ${found[*]} (logs in $BUILD/fuzz/work/)"
	exit 1
fi
echo "$ran harnesses ran for ${FUZZ_TIME}s each, nothing found"
