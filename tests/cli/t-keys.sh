#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The key subcommands as a person runs them: `genkey` to stdout, to a file
# and through a shell redirect (always mode 600), `pubkey` from stdin, the
# same answers from vpnd and vpnc, a fixed key pair, an independent X25519
# in Python for fresh keys, and a clear refusal of garbage.
set -e
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}

# The sanitizer build if there is one, else the release build.
pick() {
	local b
	for b in "$BUILD/asan/$1" "$BUILD/$1"; do
		if [ -f "$b" ] && [ -x "$b" ]; then
			echo "$b"
			return 0
		fi
	done
	return 1
}
skip() {
	echo "skipped: $*"
	exit 77
}
VPND=$(pick vpnd) || skip "no vpnd binary in $BUILD yet"
VPNC=$(pick vpnc) || skip "no vpnc binary in $BUILD yet"
echo "using $VPND and $VPNC"

tmp=$(mktemp -d /tmp/t-keys.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# Bytes 0x01..0x20 clamped, and its public key (libsodium, checked against
# the RFC 7748 ladder below).
FIXED_PRIV=AAIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eH2A=
FIXED_PUB=B6N8vBQgk8i3VdwbEOhstCY3StFqqFPtC9/AsrhtHHw=

# X25519(k, 9) straight from RFC 7748 section 5, sharing no code with us.
x25519_public() {
	python3 - "$1" <<'PY'
import base64, sys
p = 2**255 - 19
k = bytearray(base64.b64decode(sys.argv[1]))
k[0] &= 248; k[31] &= 127; k[31] |= 64
k = int.from_bytes(k, 'little')
x1, x2, z2, x3, z3, swap = 9, 1, 0, 9, 1, 0
for t in reversed(range(255)):
    kt = (k >> t) & 1
    swap ^= kt
    if swap:
        x2, x3, z2, z3 = x3, x2, z3, z2
    swap = kt
    a, b = x2 + z2, x2 - z2
    aa, bb = a * a % p, b * b % p
    e = aa - bb
    c, d = x3 + z3, x3 - z3
    da, cb = d * a % p, c * b % p
    x3, z3 = (da + cb) ** 2 % p, x1 * (da - cb) ** 2 % p
    x2, z2 = aa * bb % p, e * (aa + 121665 * e) % p
if swap:
    x2, z2 = x3, z3
u = x2 * pow(z2, p - 2, p) % p
print(base64.b64encode(u.to_bytes(32, 'little')).decode())
PY
}

is_key() {
	[[ $1 =~ ^[A-Za-z0-9+/]{43}=$ ]]
}

mode_of() {
	stat -c %a "$1"
}

# The fixed pair, through both programs.
for prog in "$VPND" "$VPNC"; do
	got=$(echo "$FIXED_PRIV" | "$prog" pubkey)
	[ "$got" = "$FIXED_PUB" ] ||
		fail "$prog pubkey gave $got for the fixed key"
done
if command -v python3 >/dev/null; then
	[ "$(x25519_public "$FIXED_PRIV")" = "$FIXED_PUB" ] ||
		fail "the fixed pair disagrees with RFC 7748"
fi

# genkey | pubkey: vpnd and vpnc agree, and so does RFC 7748.
for gen in "$VPND" "$VPNC"; do
	priv=$("$gen" genkey)
	is_key "$priv" || fail "$gen genkey printed '$priv'"
	pub_d=$(echo "$priv" | "$VPND" pubkey)
	pub_c=$(echo "$priv" | "$VPNC" pubkey)
	is_key "$pub_d" || fail "vpnd pubkey printed '$pub_d'"
	[ "$pub_d" = "$pub_c" ] || fail "vpnd and vpnc disagree: $pub_d $pub_c"
	[ "$pub_d" != "$priv" ] || fail "the public key is the private key"
	if command -v python3 >/dev/null; then
		[ "$(x25519_public "$priv")" = "$pub_d" ] ||
			fail "pubkey disagrees with RFC 7748 for a fresh key"
	fi
done
[ "$("$VPND" genkey)" != "$("$VPND" genkey)" ] || fail "genkey repeated itself"

# Files are 600, whatever the umask and however they were made.
umask 022
"$VPND" genkey > "$tmp/redirect.key"
[ "$(mode_of "$tmp/redirect.key")" = 600 ] ||
	fail "vpnd genkey > file left mode $(mode_of "$tmp/redirect.key")"
"$VPNC" genkey > "$tmp/redirect-c.key"
[ "$(mode_of "$tmp/redirect-c.key")" = 600 ] || fail "vpnc genkey > file"
"$VPND" genkey "$tmp/named.key"
[ "$(mode_of "$tmp/named.key")" = 600 ] || fail "vpnd genkey FILE"
is_key "$(cat "$tmp/named.key")" || fail "vpnd genkey FILE wrote no key"
"$VPND" pubkey < "$tmp/named.key" >/dev/null

# genkey never replaces a key, nor writes through a symlink.
rc=0
"$VPND" genkey "$tmp/named.key" 2>"$tmp/err" || rc=$?
[ "$rc" = 1 ] || fail "genkey over an existing key exited $rc"
grep -q "already exists" "$tmp/err" || fail "no message: $(cat "$tmp/err")"
ln -s "$tmp/elsewhere" "$tmp/link.key"
rc=0
"$VPNC" genkey "$tmp/link.key" 2>/dev/null || rc=$?
[ "$rc" = 1 ] && [ ! -e "$tmp/elsewhere" ] || fail "genkey followed a symlink"

# Garbage into pubkey: exit 1, a clear message, nothing on stdout.
for input in "garbage" "" "${FIXED_PRIV}x" "${FIXED_PRIV%=}" \
	"$FIXED_PRIV $FIXED_PRIV"; do
	for prog in "$VPND" "$VPNC"; do
		name=$(basename "$prog")
		rc=0
		printf '%s\n' "$input" |
			"$prog" pubkey >"$tmp/out" 2>"$tmp/err" || rc=$?
		[ "$rc" = 1 ] || fail "$name pubkey took '$input' (exit $rc)"
		[ ! -s "$tmp/out" ] || fail "$name pubkey printed something"
		grep -q "^$name: invalid private key" "$tmp/err" ||
			fail "$name pubkey said: $(cat "$tmp/err")"
	done
done
rc=0
"$VPNC" pubkey </dev/null 2>/dev/null || rc=$?
[ "$rc" = 1 ] || fail "vpnc pubkey took empty input"

echo "keys ok"
