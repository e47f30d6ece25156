# SPDX-License-Identifier: MIT
#
# Shared by t-interop-client*.sh, after lib.sh: vpnc against the server
# side of tests/tools/pyvpn.py. The Python server runs in $ns_srv on UDP
# 51900 with its own key ($tmp/pysrv.key, pinned in $tmp/cli.conf) and
# stops at named sync points: it prints "sync: NAME" and serves (answering
# echo requests, handshakes) until the script has checked what it wants
# and created $tmp/sync-NAME.

PY=/usr/bin/python3
PYVPN=$top/tests/tools/pyvpn.py
if ! "$PY" -c 'import nacl.bindings' 2>/dev/null; then
	skip "needs /usr/bin/python3 with python3-nacl (make deps)"
fi

# What the server pushes in AUTH_RESULT OK; the scripts assert the device
# gets exactly this.
push=(--addr4 10.99.0.7/24 --addr6 fd00:99::7/64 --gw4 10.99.0.1
	--gw6 fd00:99::1 --mtu 1380 --keepalive 2 --expires 3600
	--route 10.20.0.0/24 --route 10.30.0.0/16 --route fd00:20::/64
	--dns 10.20.0.53 --dns fd00:20::53 --search office.test
	--answer 10.20.0.2)
# Typed with a space, as people do: vpnc must send "123456" (rule 7).
CODE='123 456'

# interop_client_setup [vpnc.conf lines...]: keys and $tmp/cli.conf.
interop_client_setup() {
	# The client's kernel would send router solicitations through vpn0:
	# not vpnc's traffic, and not wanted in the server's idle checks.
	ip netns exec "$ns_cli" sysctl -qw \
		net.ipv6.conf.default.router_solicitations=0
	"$PY" "$PYVPN" selftest
	"$VPND" genkey "$tmp/pysrv.key"
	SERVER_PUB=$("$VPND" pubkey <"$tmp/pysrv.key")
	write_vpnc_conf cli alice "$@"
	CLIENT_PUB=$("$VPNC" pubkey <"$tmp/cli.key")
}

# pysrv LABEL SCENARIO [options...]: starts the Python server, logging to
# $tmp/pysrv-LABEL.log; sets PYSRV_PID and PYSRV_LOG. Its own deadline
# (--wait, 90 s) bounds it; cleanup kills it by PID.
pysrv() {
	PYSRV_LOG=$tmp/pysrv-$1.log
	rm -f "$tmp"/sync-*
	ip netns exec "$ns_srv" "$PY" "$PYVPN" server "${@:2}" \
		--key "$tmp/pysrv.key" --client-pub "$CLIENT_PUB" \
		--sync-dir "$tmp" --user alice --password "$PASSWORD" \
		--totp "$CODE" >"$PYSRV_LOG" 2>&1 &
	PYSRV_PID=$!
	pids+=("$PYSRV_PID")
	wait_log "$PYSRV_LOG" "listening on" 10
}

# at NAME [SECONDS]: waits until the server reached sync point NAME.
at() { wait_log "$PYSRV_LOG" "sync: $1" "${2:-30}"; }
# past NAME: lets it go on.
past() { touch "$tmp/sync-$1"; }

# The global addresses of vpn0 in the client namespace, sorted.
dev_addrs() {
	ip -n "$ns_cli" -o addr show dev vpn0 scope global |
		awk '{print $4}' | sort | paste -sd' '
}
dev_mtu() {
	ip -n "$ns_cli" -o link show dev vpn0 |
		sed -n 's/.* mtu \([0-9]*\) .*/\1/p'
}
# Routes through vpn0 other than the kernel's own for its addresses.
dev_routes() {
	{
		ip -n "$ns_cli" -4 route show dev vpn0
		ip -n "$ns_cli" -6 route show dev vpn0
	} | grep -v 'proto kernel' | awk '{print $1}' | sort | paste -sd' '
}

# no_sanitizer LOG: the ASan/UBSan build reported nothing.
no_sanitizer() {
	refute grep -q 'Sanitizer\|runtime error' "$1"
}

# vpnc_exited: waits for $VPNC_PID (at most 30 s) and sets VPNC_RC to its
# exit status. Not in $(...): only this shell can wait for its children.
vpnc_exited() {
	VPNC_RC=0
	wait_gone "$VPNC_PID" 300 || return 1
	wait "$VPNC_PID" || VPNC_RC=$?
}
