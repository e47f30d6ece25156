#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The man pages: `make doc` builds every doc/*.scd with scdoc, and each
# page renders with `man -l` at 80 columns without a single warning from
# groff. Then the pages against what they document, so they cannot rot:
# every option of conf/vpnd.conf and conf/vpnc.conf is a term of
# vpnd.conf(5) and vpnc.conf(5); every command of `vpnctl -h` (with its
# subcommands: "user add"...) is a term of vpnctl(8), and every flag it
# shows appears there; and the options and commands of `vpnd -h` and
# `vpnc -h` are terms of vpnd(8) and vpnc(8).
set -e
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
command -v scdoc >/dev/null || { echo "skipped: no scdoc (make deps)"; exit 77; }
command -v man >/dev/null || { echo "skipped: no man (make deps)"; exit 77; }

# The sanitizer build if there is one, else the release build.
pick() {
	local b
	for b in "$BUILD/asan/$1" "$BUILD/$1"; do
		if [ -f "$b" ] && [ -x "$b" ]; then
			echo "$b"
			return 0
		fi
	done
	echo "skipped: no $1 binary in $BUILD yet"
	exit 77
}
VPND=$(pick vpnd)
VPNC=$(pick vpnc)
VPNCTL=$(pick vpnctl)

tmp=$(mktemp -d /tmp/t-man.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

pages="vpnd.8 vpnc.8 vpnctl.8 vpnd.conf.5 vpnc.conf.5"
make --no-print-directory BUILD="$tmp/build" doc >"$tmp/make.out" 2>&1 ||
	fail "make doc: $(tail -n 5 "$tmp/make.out")"
for page in $pages; do
	[ -f doc/$page.scd ] || fail "no doc/$page.scd"
	[ -s "$tmp/build/man/$page" ] || fail "make doc did not build $page"
done

# Rendered as a person reads them, with man's warnings on, and through
# groff with all of its warnings: any warning is an error. Without
# hyphenation, so that the checks below find every word whole.
for page in $pages; do
	MANWIDTH=80 man --nh --warnings -l "$tmp/build/man/$page" \
		>"$tmp/$page.txt" 2>"$tmp/$page.err" ||
		fail "man -l $page failed: $(head -n 3 "$tmp/$page.err")"
	groff -ww -man -Tutf8 -z "$tmp/build/man/$page" 2>>"$tmp/$page.err"
	[ ! -s "$tmp/$page.err" ] ||
		fail "$page: warnings: $(head -n 5 "$tmp/$page.err")"
	grep -q '^NAME' "$tmp/$page.txt" || fail "$page has no NAME section"
	awk 'length > 80 { bad = 1 } END { exit bad }' "$tmp/$page.txt" ||
		fail "$page has lines past 80 columns"
	echo "$page renders ($(wc -l <"$tmp/$page.txt") lines)"
done

# is_term PAGE WORDS: WORDS begin a line of the rendered PAGE (a term
# being defined, as in "listen-port = port" or "user add name").
is_term() {
	grep -qE "^ +$(printf '%s' "$2" | sed 's/[.[\*^$]/\\&/g')( |,|$)" \
		"$tmp/$1.txt"
}

# Options of a sample configuration: "name = value" lines, commented out
# or not ("#name = default"); comments in prose have a space after '#'.
options_of() {
	sed -n 's/^#\{0,1\}\([a-z][a-z0-9-]*\) *=.*/\1/p' "$1" | sort -u
}

for conf in vpnd vpnc; do
	n=0
	for opt in $(options_of conf/$conf.conf); do
		is_term $conf.conf.5 "$opt" ||
			fail "$conf.conf(5) does not document option $opt"
		n=$((n + 1))
	done
	[ "$n" -ge 10 ] || fail "only $n options found in conf/$conf.conf"
	echo "$conf.conf(5): all $n options of conf/$conf.conf"
done

# vpnctl's commands: the lines of its usage that start with two spaces
# and a lower-case word, with the next word when it is one too ("user
# add", but "kick" of "kick USER|KEY|ADDRESS").
"$VPNCTL" -h >"$tmp/vpnctl.usage"
sed -n 's/^  \([a-z][a-z-]*\)\( [a-z][a-z-]*\)\{0,1\}\( .*\)\{0,1\}$/\1\2/p' \
	"$tmp/vpnctl.usage" | sort -u >"$tmp/vpnctl.commands"
for cmd in status sessions kick "user add" locks unlock; do
	grep -qx "$cmd" "$tmp/vpnctl.commands" ||
		fail "could not read '$cmd' from vpnctl -h"
done
n=0
while read -r cmd; do
	# "user add" must be a term itself; "user", from the table, is
	# one through its subcommands.
	is_term vpnctl.8 "$cmd" ||
		fail "vpnctl(8) does not document command '$cmd'"
	n=$((n + 1))
done <"$tmp/vpnctl.commands"
echo "vpnctl(8): all $n commands of vpnctl -h"

# Flags: every --long and -x a program's usage shows, in its page.
flags_of() {
	grep -oE '(^|[ [|])--?[a-z][a-z0-9-]*' "$1" | sed 's/^[ [|]//' | sort -u
}
"$VPND" -h >"$tmp/vpnd.usage"
"$VPNC" -h >"$tmp/vpnc.usage"
for prog in vpnd vpnc vpnctl; do
	n=0
	for flag in $(flags_of "$tmp/$prog.usage"); do
		grep -qE -- "(^|[ [|,])$flag([] ,|]|$)" "$tmp/$prog.8.txt" ||
			fail "$prog(8) does not mention $flag"
		n=$((n + 1))
	done
	[ "$n" -ge 3 ] || fail "only $n flags read from $prog -h"
	echo "$prog(8): all $n flags of $prog -h"
done
for prog in vpnd vpnc; do
	for cmd in genkey pubkey; do
		grep -q "$prog $cmd" "$tmp/$prog.usage" || continue
		is_term $prog.8 "$cmd" ||
			fail "$prog(8) does not document $prog $cmd"
	done
done

echo "man pages ok"
