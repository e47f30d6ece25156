#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# `vpnd -t -c FILE` and `vpnc -t -c FILE` on the shipped samples (with
# generated keys in place of /etc/..., and with every commented default
# switched on, so the samples cannot rot), then on broken copies: each must
# exit 1 and name "FILE:LINE:" and the option on stderr.
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

tmp=$(mktemp -d /tmp/t-config.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

"$VPND" genkey "$tmp/private.key"
"$VPND" genkey "$tmp/psk.key"
"$VPNC" genkey "$tmp/client.key"
server_pub=$("$VPND" pubkey < "$tmp/private.key")

# The sample with our keys; with "all", every "#option = default" line on.
vpnd_conf() {
	local uncomment='s/^#\([a-z]\)/#\1/'
	[ "$1" = all ] && uncomment='s/^#\([a-z][a-z0-9-]* = \)/\1/'
	sed -e "$uncomment" \
	    -e "s|/etc/vpnd/private.key|$tmp/private.key|" \
	    -e "s|/etc/vpnd/psk.key|$tmp/psk.key|" conf/vpnd.conf
}

vpnc_conf() {
	local uncomment='s/^#\([a-z]\)/#\1/'
	[ "$1" = all ] && uncomment='s/^#\([a-z][a-z0-9-]* = \)/\1/'
	sed -e "$uncomment" \
	    -e "s|/etc/vpnc/private.key|$tmp/client.key|" \
	    -e "s|/etc/vpnc/psk.key|$tmp/psk.key|" \
	    -e "s|^\(server-public-key = \).*|\1\"$server_pub\"|" \
	    conf/vpnc.conf
}

# check PROG FILE: must pass.
check_ok() {
	"$1" -t -c "$2" >"$tmp/out" 2>"$tmp/err" ||
		fail "$(basename "$1") -t refused $2: $(cat "$tmp/err")"
	[ ! -s "$tmp/err" ] || fail "warnings for $2: $(cat "$tmp/err")"
	grep -q "configuration ok" "$tmp/out" || fail "no 'ok' for $2"
}

# check_bad PROG FILE WHAT: exit 1, and WHAT (e.g. "f.conf:12: mtu") on
# stderr.
check_bad() {
	local rc=0
	"$1" -t -c "$2" >"$tmp/out" 2>"$tmp/err" || rc=$?
	[ "$rc" = 1 ] || fail "$(basename "$1") -t exited $rc for $2, wanted 1"
	grep -qF -- "$3" "$tmp/err" ||
		fail "wanted '$3' for $2, got: $(cat "$tmp/err")"
}

# broken PROG BASE LINE WHAT...: BASE with LINE appended must fail with
# "FILE:N: WHAT", N being the appended line.
broken() {
	local prog=$1 base=$2 line=$3 what=$4 n
	cp "$base" "$tmp/broken.conf"
	printf '%s\n' "$line" >> "$tmp/broken.conf"
	n=$(wc -l < "$tmp/broken.conf")
	check_bad "$prog" "$tmp/broken.conf" "broken.conf:$n: $what"
}

# ---- vpnd ---------------------------------------------------------------

vpnd_conf plain > "$tmp/vpnd.conf"
vpnd_conf all > "$tmp/vpnd-all.conf"
grep -q "^listen-port = " "$tmp/vpnd-all.conf" || fail "nothing uncommented"
check_ok "$VPND" "$tmp/vpnd.conf"
check_ok "$VPND" "$tmp/vpnd-all.conf"

# One broken line a case: the line, then what stderr must say about it.
while IFS='|' read -r line what; do
	broken "$VPND" "$tmp/vpnd-all.conf" "$line" "$what"
done <<'CASES'
listen-port = 70000|listen-port: 70000 is out of range
frobnicate = yes|no such option 'frobnicate'
keepalive = 25 seconds|no such option 'seconds'
session-lifetime = 12y|session-lifetime: 12y
mtu = 576   # too small|mtu: 576 is out of range
address-pool4 = "10.99.0.1/24"|address-pool4: 10.99.0.1/24 has host bits
address-pool6 = "fd00:99::/200"|address-pool6: fd00:99::/200
routes = {"10.99.0.0/25"}|routes: 10.99.0.0/25 overlaps
dns = {"dns.example"}|dns: dns.example
lockout-max-time = 10s|lockout-max-time: 10s is shorter
private-key-file = "nowhere.key"|private-key-file:
CASES

chmod 644 "$tmp/private.key"
check_bad "$VPND" "$tmp/vpnd.conf" "chmod 600 $tmp/private.key"
chmod 600 "$tmp/private.key"

check_bad "$VPND" "$tmp/absent.conf" "$tmp/absent.conf"

# ---- vpnc ---------------------------------------------------------------

vpnc_conf plain > "$tmp/vpnc.conf"
vpnc_conf all > "$tmp/vpnc-all.conf"
check_ok "$VPNC" "$tmp/vpnc.conf"
check_ok "$VPNC" "$tmp/vpnc-all.conf"

while IFS='|' read -r line what; do
	broken "$VPNC" "$tmp/vpnc-all.conf" "$line" "$what"
done <<'CASES'
server = "vpn.example.com:99999"|server: vpn.example.com:99999
server = "[2001:db8::1:51900"|server: [2001:db8::1:51900
server-public-key = "not-a-key"|server-public-key: not-a-key
user = ""|user: the user name is empty
dns = "maybe"|dns: maybe
servre = "typo"|no such option 'servre'
private-key-file = "nowhere.key"|private-key-file:
full-tunnel = maybe|full-tunnel: maybe is not yes or no
accept-routes = {"10.20.0.1/16"}|accept-routes: 10.20.0.1/16 has host bits set
accept-routes = {"office"}|accept-routes: office is not an address prefix
exclude = {"192.0.2.1/24"}|exclude: 192.0.2.1/24 has host bits set
exclude = {"0.0.0.0/1"}|exclude: 0.0.0.0/1 is too wide
exclude = {"lan"}|exclude: lan is not an address prefix
allow-lan = maybe|allow-lan: maybe is not yes or no
dns = "systemd"|dns: systemd is not auto, resolved, resolvconf, file or none
CASES

# The sample's policy lines are on in the "all" copy.
for option in accept-routes full-tunnel exclude allow-lan state-file; do
	grep -q "^$option = " "$tmp/vpnc-all.conf" ||
		fail "$option is not in conf/vpnc.conf"
done

# A key that decodes to text is a placeholder, named with its text.
text_key=cmVwbGFjZSBtZSB3aXRoIHRoZSBzZXJ2ZXIga2V5ISE=
broken "$VPNC" "$tmp/vpnc-all.conf" "server-public-key = \"$text_key\"" \
	"server-public-key: $text_key is a placeholder, not a key (it decodes \
to the text \"replace me with the server key!!\")"

# The sample as shipped, but for the key file: its server key is a
# placeholder, which -t and a real start refuse, naming the line.
sed -e "s|/etc/vpnc/private.key|$tmp/client.key|" conf/vpnc.conf \
	>"$tmp/sample.conf"
n=$(grep -n '^server-public-key = ' "$tmp/sample.conf" | cut -d: -f1)
placeholder=$(sed -n 's/^server-public-key = "\(.*\)"$/\1/p' \
	"$tmp/sample.conf")
[ -n "$n" ] && [ -n "$placeholder" ] ||
	fail "no server-public-key in the sample"
want="sample.conf:$n: server-public-key: $placeholder is a placeholder"
check_bad "$VPNC" "$tmp/sample.conf" "$want"
grep -qF "'vpnd pubkey < /etc/vpnd/private.key' on the server" "$tmp/err" ||
	fail "the refusal does not say what to put there: $(cat "$tmp/err")"
rc=0
"$VPNC" -c "$tmp/sample.conf" </dev/null >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" = 1 ] || fail "vpnc started with the placeholder key (exit $rc)"
grep -qF -- "$want" "$tmp/err" ||
	fail "a start with the placeholder key: $(cat "$tmp/err")"

chmod 640 "$tmp/client.key"
check_bad "$VPNC" "$tmp/vpnc.conf" "chmod 600 $tmp/client.key"
chmod 600 "$tmp/client.key"

echo "config checks ok"
