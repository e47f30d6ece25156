#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The network benchmark: the same measurements through vpnd/vpnc,
# wireguard-go, OpenVPN 2.6 and ocserv with openconnect, all up at once on
# one topology, measured in rounds that take each VPN in turn (so that the
# machine's other load falls on all of them alike), printed as one table of
# medians with the ratios of vpnd to every peer. Run by hand, as root (make
# bench builds the binaries; this script installs what it needs from Debian):
#
#	contrib/bench/netbench.sh [--quick] [--time S] [--rounds N] [--only NAMES]
#		[--perf] [--perf-on NAMES] [--perf-keep DIR]
#		[--vpnd-conf LINE]... [--vpnc-conf LINE]...
#
# NAMES: vpnd wg openvpn ocserv direct (the default; and vpnd-nooffload
# when vpnd has the `offload` option), vpnd-nooffload: vpnd and vpnc with
# `offload = no`, vpnd-1worker: vpnd and vpnc with `packet-workers = 1`
# (every AEAD on the loop's thread, as before the packet workers), direct:
# no VPN (the rig's ceiling), vpnd10k: vpnd with an access rule of 10,000 prefixes for
# the client, so that every packet from it is looked up in a table of that
# size. --vpnd-conf/--vpnc-conf append a line to every vpnd/vpnc
# configuration of the run. --perf profiles vpnd and vpnc during one more
# TCP single stream (--perf-on: which vpnd contenders) and says where the
# cycles go; --perf-keep saves its perf.data files in DIR. BUILD (default
# build, relative to the checkout or absolute) names the directory holding
# vpnd, vpnc and vpnctl.
#
#   ┌──── $ns_srv ──────────┐     ┌──── $ns_wan ────┐     ┌──── $ns_cli ──────────┐
#   │ srv0 192.0.2.1/24     ├─────┤ forwards        ├─────┤ cli0 198.51.100.2/24  │
#   │ iperf3 -s             │     │ between the two │     │ iperf3 -c, ping       │
#   │ vpnd     10.99.0.1    │     └─────────────────┘     │ vpnc       10.99.0.x  │
#   │ vpnd10k  10.95.0.1    │                             │ vpnc       10.95.0.x  │
#   │ vpnd-noo 10.94.0.1    │                             │ vpnc       10.94.0.x  │
#   │ vpnd-1wk 10.92.0.1    │                             │ vpnc       10.92.0.x  │
#   │ wg-go    10.98.0.1    │                             │ wg-go      10.98.0.2  │
#   │ openvpn  10.97.0.1    │                             │ openvpn    10.97.0.2  │
#   │ ocserv   10.96.0.1    │                             │ openconnect 10.96.0.x │
#   └───────────────────────┘                             └───────────────────────┘
#
# Every packet of a measurement crosses two veth hops and both daemons of
# one VPN; the others sit idle. Nothing leaves these namespaces and nothing
# outside the run's temporary directory is written (openconnect gets a
# script of ours instead of vpnc-script, which would rewrite resolv.conf;
# vpnc's state file is in the temporary directory). Each daemon started here
# is killed by PID on exit, with its children, and the namespaces deleted.
#
# What is measured, for each VPN, from the client towards the server's
# tunnel address, once per round:
#   tcp1    iperf3 TCP, 1 stream, Mbit/s received
#   tcp4    iperf3 TCP, 4 streams, Mbit/s received
#   udp64   iperf3 UDP, 64-byte payloads, unlimited rate: packets/s received
#   rtt     ping, 100 at 0.02 s apart: the median round trip, ms
#   cpu     CPU time of both VPN daemons (with their child processes)
#           during tcp1, in seconds per gigabit carried (user + system)
#   split   (vpnd contenders) that CPU time by thread during tcp1: each
#           daemon's loop thread, its packet workers (threads named
#           cryptopool) and the rest (login workers, the monitor)
# The table gives the median over the rounds, a second one the spread
# (lowest and highest). The ratios, taken within one run, are what to
# compare: the iperf3 ends, the kernel and both daemons share the cores.

set -eu
umask 077

BUILD=${BUILD:-build}
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
case $BUILD in
/*) bin=$BUILD ;;
*) bin=$top/$BUILD ;;
esac
duration=10
rounds=3
only=
perf=0
perf_on=vpnd
perf_keep=
vpnd_extra=()
vpnc_extra=()

usage() {
	sed -n '10,13p' "$0" | sed 's/^#\t*//' >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--quick) duration=3 ;;
	--time) [ $# -ge 2 ] || usage; duration=$2; shift ;;
	--rounds) [ $# -ge 2 ] || usage; rounds=$2; shift ;;
	--only) [ $# -ge 2 ] || usage; only=$2; shift ;;
	--perf) perf=1 ;;
	--perf-on) [ $# -ge 2 ] || usage; perf=1; perf_on=$2; shift ;;
	--perf-keep) [ $# -ge 2 ] || usage; perf=1; perf_keep=$2; shift ;;
	--vpnd-conf) [ $# -ge 2 ] || usage; vpnd_extra+=("$2"); shift ;;
	--vpnc-conf) [ $# -ge 2 ] || usage; vpnc_extra+=("$2"); shift ;;
	-h | --help) usage ;;
	*) usage ;;
	esac
	shift
done
[[ $duration =~ ^[1-9][0-9]*$ ]] || { echo "netbench: --time wants whole seconds" >&2; exit 2; }
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "netbench: --rounds wants a count" >&2; exit 2; }

[ "$(id -u)" -eq 0 ] || { echo "netbench: run as root" >&2; exit 1; }
for b in vpnd vpnc vpnctl; do
	[ -x "$bin/$b" ] || { echo "netbench: $bin/$b missing: run make bench" >&2; exit 1; }
done

# ocserv comes with ocpasswd, gnutls-bin with certtool. The ocserv
# package's service is never started by us (and Debian's policy-rc.d or a
# missing systemd keeps apt from starting it).
pkgs=(iperf3 wireguard-go wireguard-tools openvpn ocserv openconnect gnutls-bin
	oathtool openssl)
[ "$perf" -eq 0 ] || pkgs+=(linux-perf)
need=()
for pkg in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null |
		grep -q '^install ok installed$' || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
	echo "netbench: installing ${need[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null ||
		{ apt-get update -q >/dev/null &&
		  apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null; }
fi

ns_srv=nb-srv-$$
ns_wan=nb-wan-$$
ns_cli=nb-cli-$$
tmp=$(mktemp -d /tmp/netbench.XXXXXX)
chmod 0711 "$tmp"
pids=()
SRV=192.0.2.1
MTU=1420
PW='correct horse battery staple'

# All descendants of the given PIDs, the PIDs included.
tree() {
	ps -e -o pid=,ppid= | awk -v roots="$*" '
		BEGIN { n = split(roots, r, " "); for (i = 1; i <= n; i++) in_[r[i]] = 1 }
		{ parent[$1] = $2 }
		END {
			do {
				more = 0
				for (p in parent)
					if (!(p in in_) && (parent[p] in in_)) { in_[p] = 1; more = 1 }
			} while (more)
			for (p in in_) print p
		}'
}

kill_tree() {
	local sig=$1 all
	shift
	all=$(tree "$@")
	# shellcheck disable=SC2086
	[ -z "$all" ] || kill "-$sig" $all 2>/dev/null || true
}

cleanup() {
	local rc=$? pid i
	set +e
	for pid in "${pids[@]}"; do
		kill_tree TERM "$pid"
	done
	for pid in "${pids[@]}"; do
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill_tree KILL "$pid"
	done
	for ns in "$ns_srv" "$ns_wan" "$ns_cli"; do
		ip netns del "$ns" 2>/dev/null
	done
	if [ "$rc" -ne 0 ]; then
		for f in "$tmp"/*/*.log; do
			[ -s "$f" ] || continue
			echo "== $f" >&2
			tail -n 15 "$f" >&2
		done
	fi
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

# ---- the VPNs: each up_NAME sets SRV_PID[NAME], CLI_PID[NAME], PEER[NAME]
# (the server's tunnel address) and DESC[NAME] (how it ran). They stay up
# until the end.

declare -A SRV_PID CLI_PID PEER DESC

started() {
	SRV_PID[$1]=$2
	CLI_PID[$1]=$3
	pids+=("$2" "$3")
}

# An access rule for the client of 10,000 prefixes: the server's tunnel
# address $1 (what iperf3 and ping reach) and 9,999 others (a /24 each in
# 100.64.0.0/10 and beyond, /32s in fd00:77::/64).
access_10k() {
	local i
	echo 'access "bench10k" {'
	echo '	users = {"bench"}'
	printf '\tallow = {"%s"' "$1"
	for ((i = 0; i < 5000; i++)); do
		printf ', "100.%u.%u.0/24"' $((64 + i / 256)) $((i % 256))
	done
	for ((i = 1; i < 5000; i++)); do
		printf ', "fd00:77::%x"' "$i"
	done
	echo '}'
	echo '}'
}

# up_vpnd_as NAME NET PORT DEV [LINE]: a vpnd and a vpnc with the pool
# 10.NET.0.0/24 on UDP port PORT, devices DEV on both sides; LINE (if any)
# appended to both configurations, then --vpnd-conf/--vpnc-conf lines.
up_vpnd_as() {
	local name=$1 net=$2 port=$3 dev=$4 both=${5:-} d=$tmp/$1 secret code line spid
	mkdir -p "$d"
	"$bin/vpnd" genkey "$d/server.key"
	"$bin/vpnc" genkey "$d/client.key"
	# vpnd drops to an unprivileged user that must be able to write
	# beside its store.
	chown nobody: "$d"
	chmod 0711 "$d"
	cat >"$d/vpnd.conf" <<-EOF
	user = "nobody"
	interface = "$dev"
	listen-port = $port
	private-key-file = "$d/server.key"
	address-pool4 = "10.$net.0.0/24"
	mtu = $MTU
	user-db = "$d/users.db"
	control-socket = "$d/vpnd.sock"
	log-level = "notice"
	EOF
	cat >"$d/vpnc.conf" <<-EOF
	server = "$SRV:$port"
	server-public-key = "$("$bin/vpnd" pubkey <"$d/server.key")"
	private-key-file = "$d/client.key"
	user = "bench"
	interface = "$dev"
	dns = "none"
	state-file = "$d/vpnc.state"
	log-level = "notice"
	EOF
	[ "$name" != vpnd10k ] || access_10k "10.$net.0.1" >>"$d/vpnd.conf"
	if [ -n "$both" ]; then
		echo "$both" >>"$d/vpnd.conf"
		echo "$both" >>"$d/vpnc.conf"
	fi
	for line in "${vpnd_extra[@]}"; do echo "$line" >>"$d/vpnd.conf"; done
	for line in "${vpnc_extra[@]}"; do echo "$line" >>"$d/vpnc.conf"; done
	"$bin/vpnd" -t -c "$d/vpnd.conf" >"$d/check.log" 2>&1 ||
		{ echo "netbench: $name: vpnd refuses its configuration:" >&2; cat "$d/check.log" >&2; exit 1; }
	"$bin/vpnc" -t -c "$d/vpnc.conf" >"$d/check.log" 2>&1 ||
		{ echo "netbench: $name: vpnc refuses its configuration:" >&2; cat "$d/check.log" >&2; exit 1; }
	secret=$(printf '%s\n' "$PW" |
		"$bin/vpnctl" -c "$d/vpnd.conf" user add --no-confirm bench |
		sed -n 's/.*[?&]secret=\([A-Z2-7]*\).*/\1/p' | head -n 1)
	ip netns exec "$ns_srv" "$bin/vpnd" -f -c "$d/vpnd.conf" >"$d/vpnd.log" 2>&1 &
	spid=$!
	pids+=("$spid")
	wait_for 20 grep -q "listening on UDP port" "$d/vpnd.log"
	code=$(oathtool --totp -b "$secret")
	printf '%s\n%s\n' "$PW" "$code" >"$d/vpnc.input"
	ip netns exec "$ns_cli" "$bin/vpnc" -c "$d/vpnc.conf" <"$d/vpnc.input" \
		>"$d/vpnc.log" 2>&1 &
	started "$name" "$spid" $!
	wait_for 30 grep -q "connected as" "$d/vpnc.log"
	PEER[$name]=10.$net.0.1
	DESC[$name]="$("$bin/vpnd" --version | head -n 1), UDP, ${both:-defaults}$(vpnd_offloads "$d")"
}

# What vpnd says its offloads are (when its vpnctl status tells).
vpnd_offloads() {
	"$bin/vpnctl" -c "$1/vpnd.conf" status --json 2>/dev/null | json '
", TUN offload " + d["tun_offload"] + ", UDP offload " + d["udp_offload"]
	if "tun_offload" in d and "udp_offload" in d else ""' 2>/dev/null || true
}

up_vpnd() { up_vpnd_as vpnd 99 51900 vpnb0; }
up_vpnd10k() { up_vpnd_as vpnd10k 95 51901 vpnk0; }
up_vpnd-nooffload() { up_vpnd_as vpnd-nooffload 94 51902 vpnn0 "offload = no"; }
up_vpnd-1worker() { up_vpnd_as vpnd-1worker 92 51903 vpnw0 "packet-workers = 1"; }

# True if this vpnd takes `offload = no` (the option is newer than the
# benchmark).
vpnd_has_offload() {
	local d=$tmp/probe
	mkdir -p "$d"
	"$bin/vpnd" genkey "$d/k"
	printf 'private-key-file = "%s"\naddress-pool4 = "10.93.0.0/24"\noffload = no\n' \
		"$d/k" >"$d/vpnd.conf"
	"$bin/vpnd" -t -c "$d/vpnd.conf" >/dev/null 2>&1
}

up_wg() {
	local k d=$tmp/wg
	mkdir -p "$d"
	for k in srv cli; do
		wg genkey >"$d/$k.key"
		wg pubkey <"$d/$k.key" >"$d/$k.pub"
	done
	# Distinct device names: the UAPI sockets share /var/run/wireguard.
	ip netns exec "$ns_srv" env WG_PROCESS_FOREGROUND=1 wireguard-go wgbs$$ >"$d/srv.log" 2>&1 &
	local spid=$!
	pids+=("$spid")
	ip netns exec "$ns_cli" env WG_PROCESS_FOREGROUND=1 wireguard-go wgbc$$ >"$d/cli.log" 2>&1 &
	started wg "$spid" $!
	wait_for 10 s wg show wgbs$$
	wait_for 10 c wg show wgbc$$
	s wg set wgbs$$ listen-port 51820 private-key "$d/srv.key" \
		peer "$(cat "$d/cli.pub")" allowed-ips 10.98.0.2/32
	c wg set wgbc$$ private-key "$d/cli.key" \
		peer "$(cat "$d/srv.pub")" allowed-ips 10.98.0.0/24 \
		endpoint $SRV:51820
	s ip addr add 10.98.0.1/24 dev wgbs$$
	c ip addr add 10.98.0.2/24 dev wgbc$$
	s ip link set wgbs$$ mtu $MTU up
	c ip link set wgbc$$ mtu $MTU up
	PEER[wg]=10.98.0.1
	DESC[wg]="$(dpkg-query -W -f='${Version}' wireguard-go), UDP, ChaCha20-Poly1305"
}

# OpenVPN 2.6 in TLS mode, point to point, each side pinning the other's
# self-signed certificate by fingerprint; data channel AES-256-GCM (its
# default), UDP, in user space (no DCO module here).
up_openvpn() {
	local k d=$tmp/openvpn common
	mkdir -p "$d"
	for k in srv cli; do
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
			-nodes -days 2 -subj "/CN=nb-$k" -keyout "$d/$k.key" \
			-out "$d/$k.crt" 2>/dev/null
	done
	fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2; }
	common="--dev-type tun --proto udp --dh none --disable-dco --verb 1
		--data-ciphers AES-256-GCM --tun-mtu $MTU --ping 10"
	# shellcheck disable=SC2086
	ip netns exec "$ns_srv" openvpn --dev ovpnbs$$ $common --tls-server \
		--lport 1194 --cert "$d/srv.crt" --key "$d/srv.key" \
		--peer-fingerprint "$(fp "$d/cli.crt")" \
		--ifconfig 10.97.0.1 10.97.0.2 >"$d/srv.log" 2>&1 &
	local spid=$!
	pids+=("$spid")
	# shellcheck disable=SC2086
	ip netns exec "$ns_cli" openvpn --dev ovpnbc$$ $common --tls-client --remote $SRV 1194 \
		--nobind --cert "$d/cli.crt" --key "$d/cli.key" \
		--peer-fingerprint "$(fp "$d/srv.crt")" \
		--ifconfig 10.97.0.2 10.97.0.1 >"$d/cli.log" 2>&1 &
	started openvpn "$spid" $!
	wait_for 30 grep -q "Initialization Sequence Completed" "$d/cli.log"
	PEER[openvpn]=10.97.0.1
	DESC[openvpn]="$(dpkg-query -W -f='${Version}' openvpn), UDP, AES-256-GCM"
}

# ocserv (AnyConnect protocol) with openconnect: TLS on TCP for the login,
# then the data over DTLS on UDP, which is checked (a tunnel left on TLS
# over TCP would not be the same race). A throwaway CA and server
# certificate, openconnect pinning the server's key; a password file made
# by ocpasswd, the password on openconnect's stdin. Debian's sample
# configuration otherwise (its TLS priorities: DTLS 1.2), every path in the
# temporary directory, workers as nobody. ocserv's `mtu` is the link's
# under the tunnel: 66 bytes over the tunnel's MTU (what DTLS 1.2 with
# AES-GCM adds over IPv4) give the same tunnel MTU as the others; the
# table's legend shows the MTU openconnect's device got. openconnect runs
# our script, not vpnc-script: it only sets the address, MTU and the
# pool's route.
up_ocserv() {
	local d=$tmp/ocserv pin dtls
	mkdir -p "$d"
	# Its workers (nobody) read the certificate beside the key.
	chmod 0711 "$d"
	certtool --generate-privkey --key-type=ecdsa --outfile "$d/ca.key" 2>/dev/null
	printf 'cn = "netbench CA"\nca\ncert_signing_key\nexpiration_days = 2\n' >"$d/ca.tmpl"
	certtool --generate-self-signed --load-privkey "$d/ca.key" \
		--template "$d/ca.tmpl" --outfile "$d/ca.crt" 2>/dev/null
	certtool --generate-privkey --key-type=ecdsa --outfile "$d/server.key" 2>/dev/null
	printf 'cn = "%s"\nip_address = "%s"\nsigning_key\nencryption_key\ntls_www_server\nexpiration_days = 2\n' \
		"$SRV" "$SRV" >"$d/server.tmpl"
	certtool --generate-certificate --load-privkey "$d/server.key" \
		--load-ca-certificate "$d/ca.crt" --load-ca-privkey "$d/ca.key" \
		--template "$d/server.tmpl" --outfile "$d/server.crt" 2>/dev/null
	pin=$(certtool --certificate-info --infile "$d/server.crt" |
		sed -n 's/.*\(pin-sha256:[A-Za-z0-9+/=]*\).*/\1/p' | head -n 1)
	[ -n "$pin" ] || { echo "netbench: ocserv: no key pin from certtool" >&2; exit 1; }
	printf '%s\n%s\n' "$PW" "$PW" | ocpasswd -c "$d/ocpasswd" bench
	chmod 0644 "$d/ocpasswd"
	cat >"$d/ocserv.conf" <<-EOF
	auth = "plain[passwd=$d/ocpasswd]"
	listen-host = $SRV
	tcp-port = 4443
	udp-port = 4443
	run-as-user = nobody
	run-as-group = nogroup
	socket-file = $d/ocserv.sock
	use-occtl = false
	occtl-socket-file = $d/occtl.sock
	pid-file = $d/ocserv.pid
	server-cert = $d/server.crt
	server-key = $d/server.key
	isolate-workers = true
	max-clients = 4
	max-same-clients = 0
	keepalive = 32400
	dpd = 90
	mobile-dpd = 1800
	switch-to-tcp-timeout = 25
	try-mtu-discovery = false
	tls-priorities = "NORMAL:%SERVER_PRECEDENCE:%COMPAT:-VERS-SSL3.0:-VERS-TLS1.0:-VERS-TLS1.1:-VERS-TLS1.3"
	auth-timeout = 240
	cookie-timeout = 300
	deny-roaming = false
	rekey-time = 172800
	rekey-method = ssl
	device = ocbs
	predictable-ips = true
	ipv4-network = 10.96.0.0
	ipv4-netmask = 255.255.255.0
	mtu = $((MTU + 66))
	ping-leases = false
	cisco-client-compat = true
	dtls-legacy = true
	EOF
	cat >"$d/oc-script" <<-'EOF'
	#!/bin/sh
	# openconnect's hook, in place of vpnc-script: the tunnel's own address,
	# MTU and the pool's route, nothing else (no DNS, no default route).
	case $reason in
	connect)
		ip link set dev "$TUNDEV" mtu "${INTERNAL_IP4_MTU:-1420}" up
		ip addr add "$INTERNAL_IP4_ADDRESS/32" dev "$TUNDEV"
		ip route replace 10.96.0.0/24 dev "$TUNDEV"
		;;
	esac
	exit 0
	EOF
	chmod 0755 "$d/oc-script"
	ip netns exec "$ns_srv" ocserv -f -c "$d/ocserv.conf" >"$d/srv.log" 2>&1 &
	local spid=$!
	pids+=("$spid")
	wait_for 20 listening 4443
	printf '%s\n' "$PW" >"$d/password"
	ip netns exec "$ns_cli" openconnect --protocol=anyconnect --non-inter \
		--user=bench --passwd-on-stdin --servercert "$pin" \
		--script "$d/oc-script" --interface ocbc0 --base-mtu 1500 \
		"https://$SRV:4443/" <"$d/password" >"$d/cli.log" 2>&1 &
	started ocserv "$spid" $!
	wait_for 30 c ip -4 addr show dev ocbc0 scope global
	# The DTLS channel comes up after the tunnel's TLS one.
	wait_for 20 grep -q "Established DTLS connection" "$d/cli.log" || {
		echo "netbench: ocserv: openconnect did not bring up DTLS:" >&2
		cat "$d/cli.log" >&2
		exit 1
	}
	dtls=$(sed -n 's/.*Established DTLS connection.*Ciphersuite \(.*\)\.$/\1/p' "$d/cli.log" | tail -n 1)
	PEER[ocserv]=10.96.0.1
	DESC[ocserv]="$(dpkg-query -W -f='${Version}' ocserv) + openconnect $(dpkg-query -W -f='${Version}' openconnect), DTLS ${dtls:-?}, tun MTU $(c cat /sys/class/net/ocbc0/mtu)"
}

# No VPN: the same measurements straight over the two veth hops, what the
# rig itself (iperf3, the kernel, two cores) can carry: a ceiling for every
# row, in no ratio.
up_direct() {
	SRV_PID[direct]=
	CLI_PID[direct]=
	PEER[direct]=$SRV
	DESC[direct]="no tunnel: iperf3 and ping over the veths (the rig's ceiling)"
}

# Still DTLS after the measurements: the TLS connection (TCP) carried less
# than 10 MB of the gigabytes the run moved, and openconnect never said
# that DTLS failed.
ocserv_still_dtls() {
	local sent
	sent=$(c ss -Htin state established "dport = :4443" |
		sed -n 's/.*bytes_sent:\([0-9]*\).*/\1/p' | head -n 1)
	echo "netbench: ocserv: ${sent:-?} bytes went over its TLS connection (TCP)" >&2
	[ -n "$sent" ] && [ "$sent" -lt 10000000 ] &&
		! grep -Eq "DTLS.*(Dead Peer|fail|Fall back|closed)" "$tmp/ocserv/cli.log"
}

# ---- measurements ------------------------------------------------------------

# Clock ticks used so far by the given processes' threads, in three sums:
# "loop workers other" (loop: each process's first thread; workers: the
# threads named cryptopool, the packet workers).
thread_ticks() {
	local pid t
	for pid in "$@"; do
		for t in /proc/"$pid"/task/*; do
			[ -r "$t/stat" ] || continue
			printf '%s %s ' "$pid" "${t##*/}"
			cat "$t/stat" 2>/dev/null || echo
		done
	done | awk '{
		pid = $1; tid = $2; line = $0
		comm = line; sub(/^[^(]*\(/, "", comm); sub(/\).*/, "", comm)
		sub(/.*\) /, "", line); split(line, f, " ")
		t = f[12] + f[13]
		if (tid == pid) loop += t
		else if (comm == "cryptopool") w += t
		else o += t
	} END { printf "%d %d %d\n", loop, w, o }'
}

# Clock ticks used so far by the given processes (threads included).
cpu_ticks() {
	local pid total=0 t
	for pid in "$@"; do
		t=$(awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat" 2>/dev/null) || t=0
		total=$((total + ${t:-0}))
	done
	echo "$total"
}

json() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# One iperf3 server per measurement (-1: it exits after one client).
iperf_server() {
	ip netns exec "$ns_srv" iperf3 -s -1 -B "${PEER[$1]}" >/dev/null 2>&1 &
	IPERF_PID=$!
	pids+=("$IPERF_PID")
	wait_for 10 listening 5201
}

# True once something listens on TCP port $1 in the server namespace (a
# probe connection would use up iperf3's one client).
listening() {
	[ -n "$(s ss -Hltn "sport = :$1")" ]
}

# The VPN's daemons still run and its tunnel carries a ping.
healthy() {
	local name=$1 pid
	for pid in ${SRV_PID[$name]} ${CLI_PID[$name]}; do
		kill -0 "$pid" 2>/dev/null ||
			{ echo "netbench: $name: a daemon (PID $pid) has gone" >&2; exit 1; }
	done
	wait_for 20 c ping -c 1 -W 1 "${PEER[$name]}"
}

declare -A V

# add NAME.METRIC VALUE: one round's figure.
add() { V[$1]="${V[$1]:-} $2"; }

# split_add NAME "BEFORE" "AFTER" HZ: one round's CPU seconds by thread
# kind (thread_ticks), summed over the rounds.
declare -A SPLIT
split_add() {
	SPLIT[$1]=$(awk -v a="$2" -v b="$3" -v hz="$4" -v sum="${SPLIT[$1]:-0 0 0}" 'BEGIN {
		split(a, x, " "); split(b, y, " "); split(sum, z, " ")
		for (i = 1; i <= 3; i++) z[i] += (y[i] - x[i]) / hz
		printf "%.2f %.2f %.2f", z[1], z[2], z[3] }')
}

m_tcp1() {
	local name=$1 out t0 t1 s0 bytes hz procs
	hz=$(getconf CLK_TCK)
	iperf_server "$name"
	procs=
	[ -z "${SRV_PID[$name]}" ] || procs=$(tree "${SRV_PID[$name]}" "${CLI_PID[$name]}")
	# shellcheck disable=SC2086
	t0=$(cpu_ticks $procs)
	# shellcheck disable=SC2086
	[[ -z $procs || $name != vpnd* ]] || s0=$(thread_ticks $procs)
	out=$(c iperf3 -c "${PEER[$name]}" -t "$duration" -J)
	# shellcheck disable=SC2086
	t1=$(cpu_ticks $procs)
	# shellcheck disable=SC2086
	[[ -z $procs || $name != vpnd* ]] ||
		split_add "$name" "$s0" "$(thread_ticks $procs)" "$hz"
	wait "$IPERF_PID" || true
	add "$name.tcp1" "$(json 'round(d["end"]["sum_received"]["bits_per_second"]/1e6)' <<<"$out")"
	bytes=$(json 'd["end"]["sum_received"]["bytes"]' <<<"$out")
	[ -n "$procs" ] || { add "$name.cpu" -; return; }
	add "$name.cpu" "$(awk -v t=$((t1 - t0)) -v hz="$hz" -v b="$bytes" \
		'BEGIN { printf "%.2f", (b > 0 ? t / hz / (b * 8 / 1e9) : 0) }')"
}

m_tcp4() {
	local name=$1 out
	iperf_server "$name"
	out=$(c iperf3 -c "${PEER[$name]}" -t "$duration" -P 4 -J)
	wait "$IPERF_PID" || true
	add "$name.tcp4" "$(json 'round(d["end"]["sum_received"]["bits_per_second"]/1e6)' <<<"$out")"
}

m_udp64() {
	local name=$1 out
	iperf_server "$name"
	out=$(c iperf3 -c "${PEER[$name]}" -t "$duration" -u -l 64 -b 0 -J)
	wait "$IPERF_PID" || true
	add "$name.udp64" "$(json 'round((d["end"]["sum"]["packets"]-d["end"]["sum"]["lost_packets"])/d["end"]["sum"]["seconds"])' <<<"$out")"
}

# The median of 100 pings 20 ms apart: one late wake-up of a busy machine
# moves an average, not a median.
m_rtt() {
	local name=$1 out
	out=$(c ping -n -c 100 -i 0.02 "${PEER[$name]}" |
		sed -n 's/.* time=\([0-9.]*\) ms$/\1/p' | median)
	add "$name.rtt" "${out:--}"
}

# ---- the profile (--perf) ------------------------------------------------------

# Where the cycles of NAME's vpnd and vpnc go during one more TCP single
# stream: perf record (cycles, or cpu-clock samples where the machine has
# no hardware counters, as a VM may not; with call chains) and perf stat
# (system calls, context switches) of both, then a short report.
profile() {
	local name=$1 d=$tmp/perf-$1 spids cpid ipid bytes out
	mkdir -p "$d"
	healthy "$name"
	spids=$(tree "${SRV_PID[$name]}" | paste -sd,)
	cpid=${CLI_PID[$name]}
	iperf_server "$name"
	c iperf3 -c "${PEER[$name]}" -t $((duration + 2)) -J >"$d/iperf.json" &
	ipid=$!
	sleep 1
	perf stat -x, -o "$d/stat-vpnd" -e task-clock,context-switches,raw_syscalls:sys_enter \
		-p "$spids" -- sleep "$duration" 2>/dev/null &
	local st1=$!
	perf stat -x, -o "$d/stat-vpnc" -e task-clock,context-switches,raw_syscalls:sys_enter \
		-p "$cpid" -- sleep "$duration" 2>/dev/null &
	local st2=$!
	perf record -q -g -F 1999 -o "$d/perf.data" -p "$spids,$cpid" \
		-- sleep "$duration" >/dev/null 2>&1
	wait "$st1" "$st2" "$ipid" || true
	wait "$IPERF_PID" || true
	out=$(cat "$d/iperf.json")
	bytes=$(json 'd["end"]["sum_received"]["bytes"]' <<<"$out")
	echo
	echo "== perf: $name, $(json 'round(d["end"]["sum_received"]["bits_per_second"]/1e6)' <<<"$out") Mbit/s during the profile (TCP, 1 stream, $((duration + 2)) s; ${duration} s recorded)"
	echo "event: $(perf evlist -i "$d/perf.data" 2>/dev/null | head -n 1)$(perf evlist -i "$d/perf.data" 2>/dev/null |
		grep -q cpu-clock && echo ' (a timer: time with interrupts off lands where they come back on, e.g. _raw_spin_unlock_irqrestore, finish_task_switch)')"
	perf_stats "$d" "$bytes" $((duration + 2))
	perf_report "$d/perf.data"
	if [ -n "$perf_keep" ]; then
		mkdir -p "$perf_keep"
		cp "$d/perf.data" "$perf_keep/perf-$name.data"
		echo "(kept as $perf_keep/perf-$name.data: perf report -i it)"
	fi
}

# System calls and context switches per full-sized packet's worth of TCP
# payload (MTU less 20 for IPv4 and 32 for TCP with timestamps): a figure
# that TUN or UDP offloads, which change the kernel's own packet counts,
# leave comparable.
perf_stats() {
	local d=$1 bytes=$2 secs=$3 who
	for who in vpnd vpnc; do
		awk -F, -v who="$who" -v b="$bytes" -v secs="$secs" -v rec="$duration" \
			-v mss=$((MTU - 52)) '
			$3 == "task-clock" { cpu = $1 / 1000 }
			$3 == "context-switches" { cs = $1 }
			$3 == "raw_syscalls:sys_enter" { sc = $1 }
			END {
				pk = b * rec / secs / mss
				if (pk <= 0) pk = 1
				printf "%s: %.2f CPUs busy, %.2f system calls and %.3f context switches per %d bytes of payload (one full packet)\n",
					who, cpu / rec, sc / pk, cs / pk, mss
			}' "$d/stat-$who"
	done
}

# perf report's self time, summed by process, by kind of work, and the
# symbols on top; then inclusive (children) time of the kernel paths that
# matter to a tunnel.
perf_report() {
	local data=$1 rows
	# Sample counts (-n), not perf's rounded percentages: hundreds of rows
	# of 0.01% would add up to a few percent too many.
	rows=$(perf report -i "$data" --no-children -n --sort comm,dso,sym -g none -q \
		--stdio -t $'\t' --percent-limit 0 2>/dev/null)
	awk -F'\t' '
		function kind(dso, sym) {
			if (sym ~ /^perf_trace|^perf_tp_|^perf_swevent/)
				return "perf stat counting system calls"
			if (sym ~ /[Cc]ha[Cc]ha|[Pp]oly1305|aead|AEAD|gcm_|aesni|_aes_/ ||
			    dso ~ /libsodium|libcrypto/)
				return "AEAD (libsodium, libcrypto)"
			if (sym ~ /memcpy|memmove|copy_user|copy_to_iter|copy_from_iter|copyin|copyout|copy_page|rep_movs|skb_copy|csum_partial_copy/)
				return "copies (memcpy, user<->kernel)"
			if (sym ~ /csum|checksum/)
				return "checksums"
			if (sym ~ /entry_SYSCALL|do_syscall|syscall_exit|exit_to_user_mode|syscall_return|__x64_sys|__do_sys|__fget|fdget|fput|entry_SYSRET|syscall_enter/)
				return "system call entry and exit"
			if (sym ~ /schedule|switch_to|finish_task_switch|try_to_wake_up|ttwu|enqueue_task|dequeue_task|pick_next|update_curr|psi_|switch_mm|select_task_rq|__wake_up|futex/)
				return "scheduling, wake-ups"
			if (dso ~ /kernel/)
				return "kernel: network stack, TUN, other"
			if (dso ~ /^(vpnd|vpnc)$/)
				return "vpnd/vpnc own code"
			return "other user space (libc, ...)"
		}
		BEGIN { rows = 0 }
		{
			for (i = 1; i <= NF; i++) gsub(/^ +| +$/, "", $i)
			row_n[rows] = $2 + 0; row_comm[rows] = $3; row_dso[rows] = $4
			sym = $5; sub(/^\[[k.]\] /, "", sym); row_sym[rows++] = sym
			total += $2
		}
		END {
			if (total <= 0) { print "no samples"; exit }
			for (r = 0; r < rows; r++) {
				pct = 100 * row_n[r] / total
				k = kind(row_dso[r], row_sym[r])
				byproc[row_comm[r]] += pct
				bykind[k] += pct
				bycommkind[row_comm[r] SUBSEP k] += pct
				if (n < 18)
					top[n++] = sprintf("%6.2f%%  %-5s %-18s %s", pct,
						row_comm[r], row_dso[r], row_sym[r])
			}
			printf "%d samples\n", total
			printf "samples by process:"
			for (p in byproc) printf "  %s %.1f%%", p, byproc[p]
			print ""
			print "self time by kind of work (% of all samples; vpnd, vpnc):"
			for (k in bykind)
				printf "  %6.1f%%  %-36s %5.1f%% %5.1f%%\n", bykind[k], k,
					bycommkind["vpnd" SUBSEP k], bycommkind["vpnc" SUBSEP k] | "sort -rn"
			close("sort -rn")
			print "top symbols (self):"
			for (i = 0; i < n; i++) print "  " top[i]
		}' <<<"$rows"
	echo "kernel paths, inclusive (children) time, % of all samples:"
	perf report -i "$data" --children --sort sym -g none -q --stdio -t $'\t' \
		--percent-limit 0 2>/dev/null | awk -F'\t' '
		BEGIN {
			want["tun_chr_write_iter"] = "TUN write (with the inner stack it runs)"
			want["tun_chr_read_iter"] = "TUN read"
			want["__sys_sendmmsg"] = "UDP sendmmsg"
			want["__sys_sendmsg"] = "UDP sendmsg"
			want["__sys_sendto"] = "UDP sendto"
			want["do_recvmmsg"] = "UDP recvmmsg"
			want["__sys_recvmsg"] = "UDP recvmsg"
			want["__sys_recvfrom"] = "UDP recvfrom"
			want["do_epoll_wait"] = "epoll_wait"
			want["do_sys_poll"] = "poll"
			want["perf_trace_sys_enter"] = "perf stat counting system calls (its own cost)"
			want["schedule"] = "schedule (all callers)"
		}
		{
			for (i = 1; i <= NF; i++) gsub(/^ +| +$/, "", $i)
			sym = $3; sub(/^\[[k.]\] /, "", sym)
			if (sym in want) printf "  %6.2f%%  %s (%s)\n", $1 + 0, want[sym], sym
		}' | sort -rn
}

# ---- the run -----------------------------------------------------------------

median() {
	tr ' ' '\n' | grep -v '^-\?$' | sort -g |
		awk '{ v[n++] = $1 } END { if (!n) print "-"; else if (n % 2) print v[(n - 1) / 2]; else print (v[n / 2 - 1] + v[n / 2]) / 2 }'
}

# fmt METRIC: the figure on stdin with the row's precision.
fmt() {
	awk -v m="$1" '{
		if ($1 == "-") print "-"
		else if (m == "rtt") printf "%.3f\n", $1
		else if (m == "cpu") printf "%.2f\n", $1
		else printf "%.0f\n", $1
	}'
}

if [ -z "$only" ]; then
	only="vpnd wg openvpn ocserv direct"
	vpnd_has_offload && only="vpnd vpnd-nooffload wg openvpn ocserv direct"
fi

declare -A LABEL=([vpnd]="vpnd/vpnc" [vpnd10k]="vpnd/vpnc, 10,000 prefixes"
	[vpnd-nooffload]="vpnd/vpnc, offload = no"
	[vpnd-1worker]="vpnd/vpnc, packet-workers = 1" [wg]="wireguard-go"
	[openvpn]="OpenVPN" [ocserv]="ocserv/openconnect" [direct]="no VPN")
names=()
for vpn in $only; do
	[ -n "${LABEL[$vpn]:-}" ] || { echo "netbench: unknown VPN $vpn" >&2; exit 2; }
	names+=("$vpn")
done

topology
for vpn in "${names[@]}"; do
	echo "netbench: starting ${LABEL[$vpn]}" >&2
	"up_$vpn"
done

n=${#names[@]}
for ((r = 0; r < rounds; r++)); do
	for m in tcp1 tcp4 udp64 rtt; do
		# Each measurement takes the VPNs in turn, starting one further
		# along every round.
		for ((i = 0; i < n; i++)); do
			vpn=${names[$(((i + r) % n))]}
			echo "netbench: round $((r + 1))/$rounds, $m, ${LABEL[$vpn]}" >&2
			healthy "$vpn"
			"m_$m" "$vpn"
		done
	done
done
if [[ " ${names[*]} " == *" ocserv "* ]] && ! ocserv_still_dtls; then
	echo "netbench: ocserv: openconnect left DTLS during the run:" >&2
	grep DTLS "$tmp/ocserv/cli.log" >&2
	exit 1
fi

declare -A R LO HI
for vpn in "${names[@]}"; do
	for m in tcp1 tcp4 udp64 rtt cpu; do
		R[$vpn.$m]=$(median <<<"${V[$vpn.$m]:-}" | fmt "$m")
		LO[$vpn.$m]=$(tr ' ' '\n' <<<"${V[$vpn.$m]:-}" | grep -v '^-\?$' | sort -g | head -n 1 | fmt "$m")
		HI[$vpn.$m]=$(tr ' ' '\n' <<<"${V[$vpn.$m]:-}" | grep -v '^-\?$' | sort -g | tail -n 1 | fmt "$m")
	done
done

ratio() {
	local a=${R[$1]:-} b=${R[$2]:-}
	if [ -z "$a" ] || [ -z "$b" ] || [ "$a" = - ] || [ "$b" = - ]; then
		echo "-"
		return
	fi
	awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'
}

has() { [[ " ${names[*]} " == *" $1 "* ]]; }

# The ratio columns: vpnd to each peer, then each vpnd variant to vpnd.
cols=()
if has vpnd; then
	for p in wg openvpn ocserv; do has "$p" && cols+=("vpnd/$p:vpnd:$p"); done
	has vpnd-nooffload && cols+=("nooffload/vpnd:vpnd-nooffload:vpnd")
	has vpnd-1worker && cols+=("vpnd/1worker:vpnd:vpnd-1worker")
	has vpnd10k && cols+=("vpnd10k/vpnd:vpnd10k:vpnd")
fi
rows=("tcp1:TCP 1 stream, Mbit/s" "tcp4:TCP 4 streams, Mbit/s"
	"udp64:UDP 64 B, packets/s" "rtt:ping RTT, ms" "cpu:CPU s per Gbit (tcp1)")
short() {
	case $1 in
	vpnd-nooffload) echo nooffload ;;
	vpnd-1worker) echo 1worker ;;
	*) echo "$1" ;;
	esac
}

echo
echo "netbench: $rounds round(s), ${duration} s per measurement, medians; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg) at the end"
for vpn in "${names[@]}"; do
	printf '  %-10s %s: %s\n' "$(short "$vpn")" "${LABEL[$vpn]}" "${DESC[$vpn]}"
done
printf '%-26s' "metric"
for vpn in "${names[@]}"; do printf '%11s' "$(short "$vpn")"; done
for col in "${cols[@]}"; do printf '%15s' "${col%%:*}"; done
echo
for row in "${rows[@]}"; do
	key=${row%%:*}
	printf '%-26s' "${row#*:}"
	for vpn in "${names[@]}"; do printf '%11s' "${R[$vpn.$key]:--}"; done
	for col in "${cols[@]}"; do
		IFS=: read -r _ a b <<<"$col"
		printf '%15s' "$(ratio "$a.$key" "$b.$key")"
	done
	echo
done
if [ "$rounds" -gt 1 ]; then
	echo
	echo "spread over the rounds (lowest..highest):"
	for row in "${rows[@]}"; do
		key=${row%%:*}
		printf '%-26s' "${row#*:}"
		for vpn in "${names[@]}"; do
			printf '%19s' "${LO[$vpn.$key]:--}..${HI[$vpn.$key]:--}"
		done
		echo
	done
fi

# Where the CPU time of tcp1 went, thread by thread (both daemons).
if [ ${#SPLIT[@]} -gt 0 ]; then
	echo
	echo "CPU seconds during tcp1, all rounds, vpnd and vpnc together, by thread:"
	printf '  %-12s %10s %16s %10s\n' "" "loop" "packet workers" "other"
	for vpn in "${names[@]}"; do
		[ -n "${SPLIT[$vpn]:-}" ] || continue
		read -r a b o <<<"${SPLIT[$vpn]}"
		printf '  %-12s %10s %16s %10s\n' "$(short "$vpn")" "$a" "$b" "$o"
	done
fi

# The issue's targets, where the peers were measured: vpnd against the best
# peer of each row (highest throughput, lowest RTT and CPU).
best() {
	local key=$1 dir=$2 p v b=
	for p in wg openvpn ocserv; do
		has "$p" || continue
		v=${R[$p.$key]:-}
		if [ -z "$v" ] || [ "$v" = - ]; then continue; fi
		if [ -z "$b" ] || awk -v v="$v" -v b="${R[$b.$key]}" -v d="$dir" \
			'BEGIN { exit !(d == "max" ? v > b : v < b) }'; then
			b=$p
		fi
	done
	echo "$b"
}

target() {
	local what=$1 key=$2 peer=$3 op=$4 want=$5 r
	[ -n "$peer" ] || return 0
	r=$(ratio "vpnd.$key" "$peer.$key")
	[ "$r" != - ] || return 0
	printf '  %-44s vpnd/%-8s %6s  target %s %-5s %s\n' "$what" "$peer" "$r" "$op" "$want" \
		"$(awk -v r="$r" -v w="$want" -v op="$op" \
			'BEGIN { print ((op == ">=" ? r >= w : r <= w) ? "met" : "missed") }')"
}

if has vpnd && { has wg || has openvpn || has ocserv; }; then
	echo
	echo "targets (issue 14), medians of this run:"
	target "TCP 1 stream: best peer" tcp1 "$(best tcp1 max)" ">=" 3.5
	has wg && target "TCP 1 stream: wireguard-go" tcp1 wg ">=" 6
	target "UDP 64 B packets/s: best peer" udp64 "$(best udp64 max)" ">=" 3
	target "ping RTT: best peer" rtt "$(best rtt min)" "<=" 1
	has openvpn && target "ping RTT: OpenVPN" rtt openvpn "<=" 0.5
	target "CPU s per Gbit: best peer" cpu "$(best cpu min)" "<=" 0.333
fi

if [ "$perf" -eq 1 ]; then
	for vpn in $perf_on; do
		case $vpn in
		vpnd | vpnd10k | vpnd-nooffload | vpnd-1worker) has "$vpn" && profile "$vpn" ;;
		*) echo "netbench: --perf-on: $vpn is not a vpnd contender" >&2 ;;
		esac
	done
fi
