#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The systemd units in contrib/systemd: `systemd-analyze verify` finds
# nothing wrong with either (programs named by Exec*= pointed at this
# build, the man pages of Documentation= built from doc/ when scdoc is
# there), and `systemd-analyze security --offline` rates vpnd.service and
# vpnc@.service at 3.0 or better. vpnd.service is Type=notify with a
# watchdog, and reloads through `vpnctl reload`, which waits for vpnd's
# answer.
set -e
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
command -v systemd-analyze >/dev/null ||
	{ echo "skipped: no systemd-analyze"; exit 77; }

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

for prog in vpnd vpnc vpnctl; do
	[ -x "$BUILD/$prog" ] || { echo "skipped: no $BUILD/$prog yet"; exit 77; }
done
bindir=$(cd "$BUILD" && pwd)
tmp=$(mktemp -d /tmp/t-units.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# The units as `make install` would leave them, with this build's
# programs in place of the installed ones.
for unit in contrib/systemd/vpnd.service contrib/systemd/vpnc@.service; do
	sed -e "s|/usr/local/sbin/|$bindir/|g" -e "s|/usr/local/bin/|$bindir/|g" \
		"$unit" >"$tmp/$(basename "$unit")"
done

# verify runs man(1) for each man: link of Documentation=.
man_opt=--man=no
if command -v scdoc >/dev/null && command -v man >/dev/null &&
	ls doc/*.scd >/dev/null 2>&1; then
	for src in doc/*.scd; do
		page=$(basename "$src" .scd)
		mkdir -p "$tmp/man/man${page##*.}"
		scdoc <"$src" >"$tmp/man/man${page##*.}/$page"
	done
	export MANPATH=$tmp/man
	man_opt=--man=yes
fi

cd "$tmp"
for unit in vpnd.service vpnc@.service; do
	if ! systemd-analyze verify "$man_opt" "./$unit" >verify.out 2>&1; then
		cat verify.out >&2
		fail "systemd-analyze verify $unit"
	fi
	# Warnings do not change the exit status: there must be none.
	[ ! -s verify.out ] || { cat verify.out >&2; fail "$unit: warnings"; }
	echo "verify $unit: ok ($man_opt)"
done

# The exposure score, 0 (best) to 10: 3.0 or better.
for unit in vpnd.service vpnc@.service; do
	systemd-analyze security --offline=yes "./$unit" >security.out 2>&1 ||
		{ cat security.out >&2; fail "systemd-analyze security $unit"; }
	score=$(sed -n 's/.*Overall exposure level for [^ ]*: \([0-9.]*\) .*/\1/p' \
		security.out)
	echo "security $unit: $score"
	[ -n "$score" ] || { cat security.out >&2; fail "$unit: no score"; }
	awk -v s="$score" 'BEGIN { exit !(s <= 3.0) }' ||
		{ grep '✗' security.out >&2; fail "$unit: exposure $score > 3.0"; }
	# systemd's own threshold says the same (it counts tenths).
	systemd-analyze security --offline=yes --threshold=30 "./$unit" \
		>/dev/null 2>&1 || fail "$unit: over --threshold=30"
done

# What vpnd.service promises beyond syntax.
grep -q '^Type=notify$' vpnd.service || fail "vpnd.service is not Type=notify"
grep -q '^WatchdogSec=[1-9]' vpnd.service || fail "vpnd.service: no watchdog"
grep -q "^ExecReload=$bindir/vpnctl .*reload$" vpnd.service ||
	fail "vpnd.service: ExecReload is not vpnctl reload"
grep -q '^DeviceAllow=/dev/net/tun rw$' vpnd.service ||
	fail "vpnd.service: no /dev/net/tun"
echo "ok"
