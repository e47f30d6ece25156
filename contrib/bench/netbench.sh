#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The network benchmark: the same measurements through vpnd/vpnc,
# wireguard-go and OpenVPN 2.6, one VPN up at a time, on one topology, in
# one run, printed as one table with ratios to the peers. Run by hand, as
# root (make bench builds the binaries; this script installs iperf3,
# wireguard-go, wireguard-tools and openvpn from Debian if missing):
#
#	contrib/bench/netbench.sh [--quick] [--time SECONDS] [--only NAMES]
#
# NAMES: vpnd wg openvpn (the default), and vpnd10k: vpnd with an access
# rule of 10,000 prefixes for the client, so that every packet from it is
# looked up in a table of that size (its ratio to vpnd is the cost).
#
#   ┌──── $ns_srv ─────────┐     ┌──── $ns_wan ────┐     ┌──── $ns_cli ─────────┐
#   │ srv0 192.0.2.1/24    ├─────┤ forwards        ├─────┤ cli0 198.51.100.2/24 │
#   │ iperf3 -s            │     │ between the two │     │ iperf3 -c, ping      │
#   │ vpnd    10.99.0.1    │     └─────────────────┘     │ vpnc    10.99.0.x    │
#   │ wg-go   10.98.0.1    │                             │ wg-go   10.98.0.2    │
#   │ openvpn 10.97.0.1    │                             │ openvpn 10.97.0.2    │
#   └──────────────────────┘                             └──────────────────────┘
#
# Every packet of a measurement crosses two veth hops and both VPN daemons.
# Nothing leaves these namespaces. Each daemon started here is killed by
# PID on exit, and the namespaces are deleted.
#
# What is measured, for each VPN, from the client towards the server's
# tunnel address:
#   tcp1    iperf3 TCP, 1 stream, Mbit/s received
#   tcp4    iperf3 TCP, 4 streams, Mbit/s received
#   udp64   iperf3 UDP, 64-byte payloads, unlimited rate: packets/s received
#   rtt     ping, 0.05 s apart: average round trip, ms
#   cpu     CPU time of both VPN daemons during tcp1, in seconds per GB
#           carried (user + system, from /proc/PID/stat)
# The machine's other load shows in every figure alike; the ratios, taken
# within one run, are what to compare.

set -eu
umask 077

BUILD=${BUILD:-build}
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bin=$top/$BUILD
duration=10
only="vpnd wg openvpn"

usage() {
	sed -n '8,10p' "$0" | sed 's/^#\t*//' >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--quick) duration=3 ;;
	--time) duration=$2; shift ;;
	--only) only=$2; shift ;;
	-h | --help) usage ;;
	*) usage ;;
	esac
	shift
done

[ "$(id -u)" -eq 0 ] || { echo "netbench: run as root" >&2; exit 1; }
for b in vpnd vpnc vpnctl; do
	[ -x "$bin/$b" ] || { echo "netbench: $bin/$b missing: run make bench" >&2; exit 1; }
done

need=()
for pkg in iperf3 wireguard-go wireguard-tools openvpn oathtool openssl; do
	dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null |
		grep -q '^install ok installed$' || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
	echo "netbench: installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null ||
		{ apt-get update -q >/dev/null &&
		  apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null; }
fi

ns_srv=nb-srv-$$
ns_wan=nb-wan-$$
ns_cli=nb-cli-$$
tmp=$(mktemp -d /tmp/netbench.XXXXXX)
pids=()
SRV=192.0.2.1
MTU=1420

cleanup() {
	local rc=$? pid i
	set +e
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${pids[@]}"; do
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
	done
	for ns in "$ns_srv" "$ns_wan" "$ns_cli"; do
		ip netns del "$ns" 2>/dev/null
	done
	[ "$rc" -eq 0 ] || tail -n 20 "$tmp"/*.log 2>/dev/null
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT

# For commands run to completion. Daemons start with `ip netns exec` itself,
# not through these functions, so that $! is the daemon (ip execs it in
# place) and its CPU time and its end are the daemon's.
s() { ip netns exec "$ns_srv" "$@"; }
c() { ip netns exec "$ns_cli" "$@"; }

# wait_for SECONDS COMMAND...
wait_for() {
	local i limit=$(($1 * 10))
	shift
	for ((i = 0; i < limit; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "netbench: timed out waiting for: $*" >&2
	return 1
}

stop_pids() {
	local pid i
	for pid in "$@"; do
		kill -TERM "$pid" 2>/dev/null || continue
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}

topology() {
	local ns
	for ns in "$ns_srv" "$ns_wan" "$ns_cli"; do
		ip netns add "$ns"
		ip -n "$ns" link set lo up
	done
	ip link add srv0 netns "$ns_srv" type veth peer name wan0 netns "$ns_wan"
	ip link add cli0 netns "$ns_cli" type veth peer name wan1 netns "$ns_wan"
	ip -n "$ns_srv" addr add $SRV/24 dev srv0
	ip -n "$ns_wan" addr add 192.0.2.254/24 dev wan0
	ip -n "$ns_wan" addr add 198.51.100.254/24 dev wan1
	ip -n "$ns_cli" addr add 198.51.100.2/24 dev cli0
	ip -n "$ns_srv" link set srv0 up
	ip -n "$ns_wan" link set wan0 up
	ip -n "$ns_wan" link set wan1 up
	ip -n "$ns_cli" link set cli0 up
	ip -n "$ns_srv" route add default via 192.0.2.254
	ip -n "$ns_cli" route add default via 198.51.100.254
	ip netns exec "$ns_wan" sysctl -qw net.ipv4.ip_forward=1
}

# ---- the VPNs: each up_* sets SRV_PID, CLI_PID and PEER (the server's
# tunnel address); down_* stops them.

# An access rule for the client of 10,000 prefixes: the server's tunnel
# address (what iperf3 and ping reach) and 9,999 others (a /24 each in
# 100.64.0.0/10 and beyond, /32s in fd00:77::/64).
access_10k() {
	local i
	echo 'access "bench10k" {'
	echo '	users = {"bench"}'
	printf '\tallow = {"10.99.0.1"'
	for ((i = 0; i < 5000; i++)); do
		printf ', "100.%u.%u.0/24"' $((64 + i / 256)) $((i % 256))
	done
	for ((i = 1; i < 5000; i++)); do
		printf ', "fd00:77::%x"' "$i"
	done
	echo '}'
	echo '}'
}

up_vpnd10k() {
	up_vpnd 10k
}

up_vpnd() {
	local secret pw='correct horse battery staple' code
	rm -f "$tmp/server.key" "$tmp/client.key" "$tmp/users.db"
	"$bin/vpnd" genkey "$tmp/server.key"
	"$bin/vpnc" genkey "$tmp/client.key"
	# vpnd drops to an unprivileged user that must be able to write
	# beside its store.
	chown nobody: "$tmp"
	chmod 0711 "$tmp"
	cat >"$tmp/vpnd.conf" <<-EOF
	user = "nobody"
	interface = "vpnb0"
	listen-port = 51900
	private-key-file = "$tmp/server.key"
	address-pool4 = "10.99.0.0/24"
	mtu = $MTU
	user-db = "$tmp/users.db"
	control-socket = "$tmp/vpnd.sock"
	log-level = "notice"
	EOF
	if [ "${1:-}" = 10k ]; then
		access_10k >>"$tmp/vpnd.conf"
	fi
	cat >"$tmp/vpnc.conf" <<-EOF
	server = "$SRV:51900"
	server-public-key = "$("$bin/vpnd" pubkey <"$tmp/server.key")"
	private-key-file = "$tmp/client.key"
	user = "bench"
	interface = "vpnb0"
	dns = "none"
	log-level = "notice"
	EOF
	secret=$(printf '%s\n' "$pw" |
		"$bin/vpnctl" -c "$tmp/vpnd.conf" user add --no-confirm bench |
		sed -n 's/.*[?&]secret=\([A-Z2-7]*\).*/\1/p' | head -n 1)
	ip netns exec "$ns_srv" "$bin/vpnd" -f -c "$tmp/vpnd.conf" >"$tmp/vpnd.log" 2>&1 &
	SRV_PID=$!
	pids+=("$SRV_PID")
	wait_for 20 grep -q "listening on UDP port" "$tmp/vpnd.log"
	code=$(oathtool --totp -b "$secret")
	printf '%s\n%s\n' "$pw" "$code" >"$tmp/vpnc.input"
	ip netns exec "$ns_cli" "$bin/vpnc" -c "$tmp/vpnc.conf" <"$tmp/vpnc.input" \
		>"$tmp/vpnc.log" 2>&1 &
	CLI_PID=$!
	pids+=("$CLI_PID")
	wait_for 30 grep -q "connected as" "$tmp/vpnc.log"
	PEER=10.99.0.1
}

up_wg() {
	local k
	for k in srv cli; do
		wg genkey >"$tmp/wg-$k.key"
		wg pubkey <"$tmp/wg-$k.key" >"$tmp/wg-$k.pub"
	done
	# Distinct device names: the UAPI sockets share /var/run/wireguard.
	ip netns exec "$ns_srv" env WG_PROCESS_FOREGROUND=1 wireguard-go wgbs$$ >"$tmp/wg-srv.log" 2>&1 &
	SRV_PID=$!
	pids+=("$SRV_PID")
	ip netns exec "$ns_cli" env WG_PROCESS_FOREGROUND=1 wireguard-go wgbc$$ >"$tmp/wg-cli.log" 2>&1 &
	CLI_PID=$!
	pids+=("$CLI_PID")
	wait_for 10 s wg show wgbs$$
	wait_for 10 c wg show wgbc$$
	s wg set wgbs$$ listen-port 51820 private-key "$tmp/wg-srv.key" \
		peer "$(cat "$tmp/wg-cli.pub")" allowed-ips 10.98.0.2/32
	c wg set wgbc$$ private-key "$tmp/wg-cli.key" \
		peer "$(cat "$tmp/wg-srv.pub")" allowed-ips 10.98.0.0/24 \
		endpoint $SRV:51820
	s ip addr add 10.98.0.1/24 dev wgbs$$
	c ip addr add 10.98.0.2/24 dev wgbc$$
	s ip link set wgbs$$ mtu $MTU up
	c ip link set wgbc$$ mtu $MTU up
	PEER=10.98.0.1
}

# OpenVPN 2.6 in TLS mode, point to point, each side pinning the other's
# self-signed certificate by fingerprint; data channel AES-256-GCM (its
# default), UDP, in user space (no DCO module here).
up_openvpn() {
	local k
	for k in srv cli; do
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
			-nodes -days 2 -subj "/CN=nb-$k" -keyout "$tmp/ovpn-$k.key" \
			-out "$tmp/ovpn-$k.crt" 2>/dev/null
	done
	fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2; }
	common="--dev-type tun --proto udp --dh none --disable-dco --verb 1
		--data-ciphers AES-256-GCM --tun-mtu $MTU --ping 10"
	# shellcheck disable=SC2086
	ip netns exec "$ns_srv" openvpn --dev ovpnbs$$ $common --tls-server \
		--lport 1194 --cert "$tmp/ovpn-srv.crt" --key "$tmp/ovpn-srv.key" \
		--peer-fingerprint "$(fp "$tmp/ovpn-cli.crt")" \
		--ifconfig 10.97.0.1 10.97.0.2 >"$tmp/ovpn-srv.log" 2>&1 &
	SRV_PID=$!
	pids+=("$SRV_PID")
	# shellcheck disable=SC2086
	ip netns exec "$ns_cli" openvpn --dev ovpnbc$$ $common --tls-client --remote $SRV 1194 \
		--nobind --cert "$tmp/ovpn-cli.crt" --key "$tmp/ovpn-cli.key" \
		--peer-fingerprint "$(fp "$tmp/ovpn-srv.crt")" \
		--ifconfig 10.97.0.2 10.97.0.1 >"$tmp/ovpn-cli.log" 2>&1 &
	CLI_PID=$!
	pids+=("$CLI_PID")
	wait_for 30 grep -q "Initialization Sequence Completed" "$tmp/ovpn-cli.log"
	PEER=10.97.0.1
}

# ---- measurements ------------------------------------------------------------

cpu_ticks() {
	local pid total=0 f
	for pid in "$@"; do
		read -r -a f <"/proc/$pid/stat"
		# utime and stime are fields 14 and 15 (1-based): after the
		# command name, which has no spaces for these daemons.
		total=$((total + f[13] + f[14]))
	done
	echo "$total"
}

json() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# One iperf3 server per measurement (-1: it exits after one client).
iperf_server() {
	ip netns exec "$ns_srv" iperf3 -s -1 -B "$PEER" >/dev/null 2>&1 &
	IPERF_PID=$!
	pids+=("$IPERF_PID")
	wait_for 10 listening 5201
}

# True once something listens on TCP port $1 in the server namespace (a
# probe connection would use up iperf3's one client).
listening() {
	[ -n "$(s ss -Hltn "sport = :$1")" ]
}

measure() {
	local name=$1 out t0 t1 bytes hz
	hz=$(getconf CLK_TCK)
	wait_for 20 c ping -c 1 -W 1 "$PEER"
	iperf_server
	t0=$(cpu_ticks "$SRV_PID" "$CLI_PID")
	out=$(c iperf3 -c "$PEER" -t "$duration" -J)
	t1=$(cpu_ticks "$SRV_PID" "$CLI_PID")
	R[$name.tcp1]=$(json 'round(d["end"]["sum_received"]["bits_per_second"]/1e6)' <<<"$out")
	bytes=$(json 'd["end"]["sum_received"]["bytes"]' <<<"$out")
	R[$name.cpu]=$(awk -v t=$((t1 - t0)) -v hz="$hz" -v b="$bytes" \
		'BEGIN { printf "%.2f", (b > 0 ? t / hz / (b / 1e9) : 0) }')
	wait "$IPERF_PID" || true
	iperf_server
	out=$(c iperf3 -c "$PEER" -t "$duration" -P 4 -J)
	R[$name.tcp4]=$(json 'round(d["end"]["sum_received"]["bits_per_second"]/1e6)' <<<"$out")
	wait "$IPERF_PID" || true
	iperf_server
	out=$(c iperf3 -c "$PEER" -t "$duration" -u -l 64 -b 0 -J)
	R[$name.udp64]=$(json 'round((d["end"]["sum"]["packets"]-d["end"]["sum"]["lost_packets"])/d["end"]["sum"]["seconds"])' <<<"$out")
	wait "$IPERF_PID" || true
	out=$(c ping -q -c 40 -i 0.05 "$PEER" | sed -n 's/^rtt[^=]*= [0-9.]*\/\([0-9.]*\)\/.*/\1/p')
	R[$name.rtt]=$out
}

declare -A R
topology
names=()
for vpn in $only; do
	case $vpn in
	vpnd) label="vpnd/vpnc" ;;
	vpnd10k) label="vpnd/vpnc, 10,000 prefixes" ;;
	wg) label="wireguard-go" ;;
	openvpn) label="OpenVPN" ;;
	*) echo "netbench: unknown VPN $vpn" >&2; exit 2 ;;
	esac
	echo "netbench: $label, ${duration} s per measurement" >&2
	"up_$vpn"
	measure "$vpn"
	stop_pids "$CLI_PID" "$SRV_PID"
	names+=("$vpn")
done

ratio() {
	local a=${R[$1]:-} b=${R[$2]:-}
	[ -n "$a" ] && [ -n "$b" ] || { echo "-"; return; }
	awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'
}

{
	printf '%-26s' "metric"
	for vpn in "${names[@]}"; do printf '%14s' "$vpn"; done
	[[ " ${names[*]} " == *" vpnd "* && " ${names[*]} " == *" wg "* ]] &&
		printf '%14s' "vpnd/wg"
	[[ " ${names[*]} " == *" vpnd "* && " ${names[*]} " == *" openvpn "* ]] &&
		printf '%14s' "vpnd/openvpn"
	[[ " ${names[*]} " == *" vpnd "* && " ${names[*]} " == *" vpnd10k "* ]] &&
		printf '%14s' "vpnd10k/vpnd"
	echo
	for m in "tcp1:TCP 1 stream, Mbit/s" "tcp4:TCP 4 streams, Mbit/s" \
		"udp64:UDP 64 B, packets/s" "rtt:ping RTT, ms" \
		"cpu:CPU s per GB (tcp1)"; do
		key=${m%%:*}
		printf '%-26s' "${m#*:}"
		for vpn in "${names[@]}"; do printf '%14s' "${R[$vpn.$key]:--}"; done
		[[ " ${names[*]} " == *" vpnd "* && " ${names[*]} " == *" wg "* ]] &&
			printf '%14s' "$(ratio vpnd.$key wg.$key)"
		[[ " ${names[*]} " == *" vpnd "* && " ${names[*]} " == *" openvpn "* ]] &&
			printf '%14s' "$(ratio vpnd.$key openvpn.$key)"
		[[ " ${names[*]} " == *" vpnd "* && " ${names[*]} " == *" vpnd10k "* ]] &&
			printf '%14s' "$(ratio vpnd10k.$key vpnd.$key)"
		echo
	done
}
