#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Daemons that cannot start must say why and leave nothing behind.
# tests/cli/t-config.sh checks `-t` on broken lines; here the daemons are
# started for real (vpnd -f, vpnc), in the namespaces, so a wrong start
# would show: each must exit 1 at once, name file:line, option and value,
# and leave no device. Then failures after the configuration is read: a
# missing file, a user store that is not one, a port already taken (by a
# running vpnd, then by another program on IPv4 only), a device name
# taken by a device that is not ours, a server key no handshake can use.
# The running vpnd is not disturbed by any of it.
source "$(dirname "$0")/lib.sh"

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# refused NS WHAT PROGRAM ARGS...: must exit 1 within 20 s, with WHAT (a
# fixed string) in its output, and leave no vpn0/vpn1 in NS.
refused() {
	local ns=$1 what=$2 rc=0
	shift 2
	timeout 20 ip netns exec "$ns" "$@" </dev/null >"$tmp/out.txt" 2>&1 ||
		rc=$?
	sed 's/^/    /' "$tmp/out.txt"
	[ "$rc" -eq 1 ] || fail "$* exited $rc, wanted 1"
	grep -qF -- "$what" "$tmp/out.txt" || fail "wanted '$what' from $*"
	! ip -n "$ns" link show vpn1 >/dev/null 2>&1 ||
		fail "$* left vpn1 behind"
	[ -n "${keep_vpn0:-}" ] || no_device "$ns" || fail "$* left vpn0"
	if grep -E "AddressSanitizer|LeakSanitizer|runtime error" \
		"$tmp/out.txt"; then
		fail "sanitizer report from $*"
	fi
}

# broken NS BASE LINE WHAT PROGRAM ARGS...: BASE with LINE appended, as
# $tmp/broken.conf, must be refused with "broken.conf:N: WHAT", N being
# the appended line.
broken() {
	local ns=$1 base=$2 line=$3 what=$4 n
	shift 4
	cp "$base" "$tmp/broken.conf"
	printf '%s\n' "$line" >>"$tmp/broken.conf"
	n=$(wc -l <"$tmp/broken.conf")
	echo "-- $line"
	refused "$ns" "broken.conf:$n: $what" "$@" -c "$tmp/broken.conf"
}

setup_topology
write_vpnd_conf
write_vpnc_conf alice alice
secret=$(enrol alice)

# ---- vpnd: syntax, unknown options, bad values --------------------------
while IFS='|' read -r line what; do
	broken "$ns_srv" "$tmp/vpnd.conf" "$line" "$what" "$VPND" -f
done <<'CASES'
mtu == 1400|unexpected token '='
dns-search = {"office.test}|a quoted string that never ends
frobnicate = yes|no such option 'frobnicate'
listen-port = 70000|listen-port: 70000 is out of range
handshake-rate = 0|handshake-rate: 0 is out of range
failure-delay = "fast"|failure-delay: fast
address-pool4 = "10.99.0.1/24"|address-pool4: 10.99.0.1/24 has host bits
routes = {"10.99.0.0/25"}|routes: 10.99.0.0/25 overlaps
CASES

# ---- vpnd: what only a start finds --------------------------------------
refused "$ns_srv" "$tmp/absent.conf" "$VPND" -f -c "$tmp/absent.conf"
# A user store that is not one.
head -c 4096 /dev/urandom >"$tmp/junk.db"
sed "s|^user-db = .*|user-db = \"$tmp/junk.db\"|" "$tmp/vpnd.conf" \
	>"$tmp/junkdb.conf"
refused "$ns_srv" "$tmp/junk.db" "$VPND" -f -c "$tmp/junkdb.conf"

# vpn0 taken by a device that is not a TUN device: refused, and that
# device is left alone.
ip -n "$ns_srv" link add vpn0 type veth peer name vpn0peer
keep_vpn0=1 refused "$ns_srv" "vpn0" "$VPND" -f -c "$tmp/vpnd.conf"
ip -n "$ns_srv" -d link show vpn0 | grep -q veth
ip -n "$ns_srv" link del vpn0

# The port taken by a running vpnd: a second one on vpn1 must give up,
# remove its vpn1, and leave the first serving.
start_vpnd
sed 's/^interface = .*/interface = "vpn1"/' "$tmp/vpnd.conf" >"$tmp/vpn1.conf"
keep_vpn0=1 refused "$ns_srv" "UDP port 51900" "$VPND" -f -c "$tmp/vpn1.conf"
# Taken on IPv4 only, by another program: a vpnd that IPv4 clients
# cannot reach is no use, so it must not start either.
ip netns exec "$ns_srv" /usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 51901))
print("bound", flush=True)
time.sleep(60)' >"$tmp/holder.log" 2>&1 &
pids+=("$!")
holder_pid=$!
wait_log "$tmp/holder.log" bound 10
sed 's/^listen-port = .*/listen-port = 51901/' "$tmp/vpn1.conf" \
	>"$tmp/port4.conf"
keep_vpn0=1 refused "$ns_srv" "UDP port 51901" "$VPND" -f -c "$tmp/port4.conf"
kill "$holder_pid"
# The control socket, which the ones refused were configured with too, is
# still the first vpnd's.
[ "$(status_field pid)" = "$VPND_PID" ]

start_vpnc alice "$PASSWORD" "$(totp "$secret")"
wait_log "$tmp/alice.log" "connected as alice"
n_cli ping -c 2 -i 0.2 -W 2 $LAN_HOST
kill -TERM "$VPNC_PID"
wait "$VPNC_PID"

# ---- vpnc ----------------------------------------------------------------
while IFS='|' read -r line what; do
	broken "$ns_cli" "$tmp/alice.conf" "$line" "$what" "$VPNC"
done <<'CASES'
server == "x"|unexpected token '='
user = "bob|a quoted string that never ends
servre = "typo"|no such option 'servre'
server = "[2001:db8::1:51900"|server: [2001:db8::1:51900
server-public-key = "not-a-key"|server-public-key: not-a-key
dns = "maybe"|dns: maybe
CASES
refused "$ns_cli" "$tmp/absent.conf" "$VPNC" -c "$tmp/absent.conf"
# A key of small order: every DH with it is zero, no handshake can work.
weak=AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
sed "s|^server-public-key = .*|server-public-key = \"$weak\"|" \
	"$tmp/alice.conf" >"$tmp/weak.conf"
refused "$ns_cli" "public key is unusable" "$VPNC" -c "$tmp/weak.conf"

stop_vpnd
no_device "$ns_srv"
echo "ok"
