# SPDX-License-Identifier: MIT
#
# Shared by the netns scenarios (tests/netns/t-*.sh), after WireGuard's
# src/tests/netns.sh. Source it, then call setup_topology.
#
#                 ┌─────────── $ns_wan ───────────┐
#                 │  wan0 192.0.2.254/24          │
#                 │  wan1 198.51.100.254/24       │
#                 │  (forwards between the two)   │
#                 └──────┬─────────────────┬──────┘
#   ┌──── $ns_srv ───────┴───┐         ┌───┴──────── $ns_cli ─────┐
#   │ srv0 192.0.2.1/24      │         │ cli0 198.51.100.2/24     │
#   │ vpnd: vpn0 10.99.0.1/24│         │ vpnc: vpn0 10.99.0.N/24  │
#   │       fd00:99::1/64    │         │                          │
#   │ lan0 10.20.0.1/24      │         └──────────────────────────┘
#   └──────┬─────────────────┘
#   ┌──────┴─── $ns_lan ─────┐   the office host: 10.20.0.2/24,
#   │ lan1 10.20.0.2/24      │   fd00:20::2/64, default via the server,
#   │ a web server on :8080  │   reachable from the client only through
#   └────────────────────────┘   the tunnel.
#
# Names carry $$ so runs never collide. Every daemon started here is
# recorded by PID and killed by cleanup (trap EXIT), which also deletes the
# namespaces. No traffic leaves them.

set -eu

BUILD=${BUILD:-build}
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bin=${VPN_BIN:-$top/$BUILD/asan}
VPND=$bin/vpnd
VPNC=$bin/vpnc
VPNCTL=$bin/vpnctl

ns_srv=vpn-srv-$$
ns_wan=vpn-wan-$$
ns_cli=vpn-cli-$$
ns_lan=vpn-lan-$$
namespaces=()
pids=()
tmp=
pg_dir= # a PostgreSQL server's (ns-pg), stopped by cleanup
SRV_ADDR=192.0.2.1
CLI_ADDR=198.51.100.2
LAN_HOST=10.20.0.2
TUN_SRV=10.99.0.1
PASSWORD='correct horse battery staple'

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

skip() {
	echo "SKIP: $*"
	exit 77
}

pretty() { echo "[$1] ${*:2}" >&2; }
n_srv() { pretty srv "$@"; ip netns exec "$ns_srv" "$@"; }
n_wan() { pretty wan "$@"; ip netns exec "$ns_wan" "$@"; }
n_cli() { pretty cli "$@"; ip netns exec "$ns_cli" "$@"; }
n_lan() { pretty lan "$@"; ip netns exec "$ns_lan" "$@"; }
# Quiet forms, for polling.
q_srv() { ip netns exec "$ns_srv" "$@"; }
q_cli() { ip netns exec "$ns_cli" "$@"; }
q_lan() { ip netns exec "$ns_lan" "$@"; }

require() {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	[ -c /dev/net/tun ] || skip "needs /dev/net/tun"
	ip netns list >/dev/null 2>&1 || skip "needs ip netns"
	command -v oathtool >/dev/null || skip "needs oathtool (make deps)"
	for b in "$VPND" "$VPNC" "$VPNCTL"; do
		[ -x "$b" ] || skip "$b is not built"
	done
}

cleanup() {
	local rc=$? pid
	set +e
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${pids[@]}"; do
		wait_gone "$pid" 50 || kill -KILL "$pid" 2>/dev/null
	done
	[ -z "$pg_dir" ] || "$top/tests/tools/pgserver.sh" stop "$pg_dir"
	for ns in "${namespaces[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	if [ -n "$tmp" ] && [ "$rc" -ne 0 ]; then
		for f in "$tmp"/*.log "$tmp"/pg/postgres.log; do
			[ -f "$f" ] || continue
			echo "==== $f"
			tail -n 40 "$f"
		done
	fi
	[ -n "$tmp" ] && rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT

# wait_gone PID TENTHS: true once PID has exited.
wait_gone() {
	local i
	for ((i = 0; i < $2; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	! kill -0 "$1" 2>/dev/null
}

# wait_for SECONDS COMMAND...: polls every 0.1 s until COMMAND succeeds.
wait_for() {
	local limit=$(($1 * 10)) i
	shift
	for ((i = 0; i < limit; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "timed out after $((limit / 10)) s waiting for: $*" >&2
	return 1
}

log_has() { grep -q -- "$2" "$1"; }
# wait_log FILE PATTERN [SECONDS]
wait_log() { wait_for "${3:-20}" log_has "$1" "$2"; }

# Counts lines of FILE matching PATTERN (0 if none).
count_log() { grep -c -- "$2" "$1" || true; }

setup_topology() {
	require
	tmp=$(mktemp -d /tmp/vpn-test.XXXXXX)
	for ns in "$ns_srv" "$ns_wan" "$ns_cli" "$ns_lan"; do
		ip netns add "$ns"
		namespaces+=("$ns")
		ip -n "$ns" link set lo up
	done
	ip link add srv0 netns "$ns_srv" type veth peer name wan0 netns "$ns_wan"
	ip link add cli0 netns "$ns_cli" type veth peer name wan1 netns "$ns_wan"
	ip link add lan0 netns "$ns_srv" type veth peer name lan1 netns "$ns_lan"
	ip -n "$ns_srv" addr add $SRV_ADDR/24 dev srv0
	ip -n "$ns_wan" addr add 192.0.2.254/24 dev wan0
	ip -n "$ns_wan" addr add 198.51.100.254/24 dev wan1
	ip -n "$ns_cli" addr add $CLI_ADDR/24 dev cli0
	ip -n "$ns_srv" addr add 10.20.0.1/24 dev lan0
	ip -n "$ns_lan" addr add $LAN_HOST/24 dev lan1
	ip -n "$ns_srv" -6 addr add fd00:20::1/64 dev lan0 nodad
	ip -n "$ns_lan" -6 addr add fd00:20::2/64 dev lan1 nodad
	for l in "$ns_srv srv0" "$ns_srv lan0" "$ns_wan wan0" "$ns_wan wan1" \
		"$ns_cli cli0" "$ns_lan lan1"; do
		set -- $l
		ip -n "$1" link set "$2" up
	done
	ip -n "$ns_srv" route add default via 192.0.2.254
	ip -n "$ns_cli" route add default via 198.51.100.254
	ip -n "$ns_lan" route add default via 10.20.0.1
	ip -n "$ns_lan" -6 route add default via fd00:20::1
	ip netns exec "$ns_wan" sysctl -qw net.ipv4.ip_forward=1
	ip netns exec "$ns_srv" sysctl -qw net.ipv4.ip_forward=1
	ip netns exec "$ns_srv" sysctl -qw net.ipv6.conf.all.forwarding=1
}

# VPN_TEST_OFFLOAD=no runs a scenario with every offload forced off: the
# configurations written here get `offload = no` (offload_line), unless
# the scenario sets offload itself, and `packet-workers = 1`: that pass
# takes the one-thread path, the first the packet workers' ("auto").
VPN_TEST_OFFLOAD=${VPN_TEST_OFFLOAD:-yes}
[ "$VPN_TEST_OFFLOAD" != no ] || echo "lib.sh: every offload forced off (offload = no)"

# offload_line [option lines...]: prints "offload = no" if the suite runs
# without offloads and none of the lines sets offload.
offload_line() {
	local line
	[ "$VPN_TEST_OFFLOAD" = no ] || return 0
	for line in "$@"; do
		[[ $line == offload* ]] && return 0
	done
	echo "offload = no"
	for line in "$@"; do
		[[ $line == packet-workers* ]] && return 0
	done
	echo "packet-workers = 1"
}

# write_vpnd_conf [extra option lines...]
write_vpnd_conf() {
	"$VPND" genkey "$tmp/server.key"
	SERVER_PUB=$("$VPND" pubkey <"$tmp/server.key")
	# vpnd runs as an unprivileged user once started (vpnd/privs.h),
	# which must be able to write beside its store, as vpnd does in
	# /var/lib/vpnd; its monitor, uid 0 without capabilities, must be
	# able to pass. A later `user = ...` line overrides this one.
	chown nobody: "$tmp"
	chmod 0711 "$tmp"
	{
		cat <<-EOF
		user = "nobody"
		interface = "vpn0"
		listen-port = 51900
		private-key-file = "$tmp/server.key"
		address-pool4 = "10.99.0.0/24"
		address-pool6 = "fd00:99::/64"
		routes = {"10.20.0.0/24", "fd00:20::/64"}
		dns = {"10.20.0.53"}
		dns-search = {"office.test"}
		user-db = "$tmp/users.db"
		control-socket = "$tmp/vpnd.sock"
		failure-delay = "200ms"
		EOF
		for line in "$@"; do echo "$line"; done
		offload_line "$@"
	} >"$tmp/vpnd.conf"
}

# write_vpnc_conf NAME USER [extra option lines...]: $tmp/NAME.conf
write_vpnc_conf() {
	local name=$1 user=$2
	shift 2
	"$VPNC" genkey "$tmp/$name.key"
	{
		cat <<-EOF
		server = "$SRV_ADDR:51900"
		server-public-key = "$SERVER_PUB"
		private-key-file = "$tmp/$name.key"
		user = "$user"
		interface = "vpn0"
		dns = "none"
		EOF
		for line in "$@"; do echo "$line"; done
		offload_line "$@"
	} >"$tmp/$name.conf"
}

# enrol USER [vpnctl options...]: prints the TOTP secret (base32). With
# --no-confirm: no app here to read the code back from.
enrol() {
	local user=$1 out in_ns=()
	shift
	# A PostgreSQL store (ns-pg) is reached from the server's namespace.
	[ -z "$pg_dir" ] || in_ns=(ip netns exec "$ns_srv")
	out=$(printf '%s\n' "$PASSWORD" | "${in_ns[@]}" \
		"$VPNCTL" -c "$tmp/vpnd.conf" user add "$user" --no-confirm "$@")
	sed -n 's/.*[?&]secret=\([A-Z2-7]*\).*/\1/p' <<<"$out" | head -n 1
}

# totp SECRET [STEP_OFFSET]: the code a phone shows (now + offset steps).
totp() {
	local offset=${2:-0}
	oathtool --totp -b "$1" -N "@$(($(date +%s) + offset * 30))"
}

# Daemons start with `ip netns exec` directly (not through a function), so
# that $! is the daemon itself: ip execs it in place.
# vpnd is ready once it answers on its control socket as this process
# (vpnd_ready, ns-ctl), so a restart is never mistaken for the run before.
# Its log is appended to.
start_vpnd() {
	ip netns exec "$ns_srv" "$VPND" -f -c "$tmp/vpnd.conf" "$@" \
		>>"$tmp/vpnd.log" 2>&1 &
	VPND_PID=$!
	pids+=("$VPND_PID")
	wait_for 20 vpnd_ready
}

# log_count_above FILE PATTERN N: more than N lines of FILE match.
log_count_above() { [ "$(count_log "$1" "$2")" -gt "$3" ]; }

# stop_vpnd: SIGTERM, and the exit must be clean (sanitizers included).
stop_vpnd() {
	kill -TERM "$VPND_PID"
	wait "$VPND_PID"
}

# start_vpnc NAME PASSWORD CODE [vpnc options...]: logs to $tmp/NAME.log,
# sets VPNC_PID. The password and code go in as two lines on stdin.
start_vpnc() {
	local name=$1 pw=$2 code=$3
	shift 3
	printf '%s\n%s\n' "$pw" "$code" >"$tmp/$name.input"
	ip netns exec "${VPNC_NS:-$ns_cli}" "$VPNC" -c "$tmp/$name.conf" "$@" \
		<"$tmp/$name.input" >>"$tmp/$name.log" 2>&1 &
	VPNC_PID=$!
	pids+=("$VPNC_PID")
}

# The client's tunnel address once connected (from its log).
client_addr() {
	sed -n 's/.*connected as .* address \([0-9.]*\)\/.*/\1/p' "$1" | tail -n 1
}

# Fails if a device named vpn0 exists in the namespace.
no_device() {
	! ip -n "$1" link show vpn0 >/dev/null 2>&1
}

# The office host serves a page; the client fetches it through the tunnel.
# Started like the daemons, so that $! is the server itself. Not with
# `python3 -m http.server`: before it listens, its HTTPServer looks its
# own address up (socket.getfqdn), and from these namespaces the query
# goes nowhere until the resolver gives up, about 10 s with the defaults.
start_web() {
	mkdir -p "$tmp/www"
	echo "hello from the office" >"$tmp/www/index.html"
	ip netns exec "$ns_lan" /usr/bin/python3 -c '
import functools, http.server, socketserver, sys
handler = functools.partial(http.server.SimpleHTTPRequestHandler,
                            directory=sys.argv[1])
socketserver.TCPServer(("10.20.0.2", 8080), handler).serve_forever()
' "$tmp/www" >"$tmp/web.log" 2>&1 &
	pids+=("$!")
	wait_for 10 q_lan bash -c 'exec 3<>/dev/tcp/10.20.0.2/8080'
}

# ---- Counting the protocol's messages on the wire (ns-session) ----------
#
# wire_counters DEV...: on the egress of each DEV in $ns_wan, sorts the
# datagrams by message type (the first byte of the UDP payload, PROTOCOL.md
# sections 4 and 5: 1 initiation, 2 response, 3 cookie reply, 4 data) into
# htb classes 1:1..1:4, everything else into 1:9, so wire_count can read
# how many of each crossed. Independent of what the daemons log. Assumes
# IPv4 headers without options, as the kernel sends them.
wire_counters() {
	local dev t
	for dev in "$@"; do
		tc -n "$ns_wan" qdisc add dev "$dev" root handle 1: htb default 9
		for t in 1 2 3 4 9; do
			tc -n "$ns_wan" class add dev "$dev" parent 1: \
				classid 1:$t htb rate 10gbit quantum 1514
		done
		for t in 1 2 3 4; do
			tc -n "$ns_wan" filter add dev "$dev" parent 1: \
				protocol ip prio 1 u32 \
				match ip protocol 17 0xff \
				match u32 0x0${t}000000 0xffffffff at 28 \
				flowid 1:$t
		done
	done
}

# wire_count DEV TYPE: datagrams of message TYPE (1-4) that left DEV.
wire_count() {
	tc -n "$ns_wan" -s class show dev "$1" classid "1:$2" |
		sed -n 's/^ *Sent [0-9]* bytes \([0-9]*\) pkt.*/\1/p'
}

# ---- Watching packets (ns-robust) -------------------------------------------
#
# sniff_start NS DEV SECONDS FILE [MAX_LINES [REGEX]]: writes a line for
# every IP packet seen on DEV in NS (tests/tools/sniff.py: direction,
# addresses, and for UDP the message type and whether a handshake carries
# mac2), or only those REGEX matches, into FILE, for at most SECONDS;
# returns once it listens. Stopped by cleanup like the daemons.
sniff_start() {
	ip netns exec "$1" /usr/bin/python3 "$top/tests/tools/sniff.py" \
		"$2" "$3" "${@:5}" >"$4" 2>"$4.err" &
	pids+=("$!")
	wait_log "$4.err" "listening" 10
}

# ---- Negative assertions (ns-login) ---------------------------------------
#
# refute COMMAND...: fails if COMMAND succeeds. A bare `! COMMAND` line can
# never stop a set -e script: bash ignores the status of a negated command.
refute() { ! "$@"; }

# ---- A second client namespace (ns-cli2) ----------------------------------
#
# setup_client2: after setup_topology, $ns_cli2 for a second client at
# another address: its cli0 at $CLI2_ADDR/24 on a third wan network
# (wan2 203.0.113.254/24 in $ns_wan, its default route). cleanup deletes it
# with the others; q_cli2 runs a command in it.
ns_cli2=vpn-cli2-$$
CLI2_ADDR=203.0.113.2
q_cli2() { ip netns exec "$ns_cli2" "$@"; }

setup_client2() {
	ip netns add "$ns_cli2"
	namespaces+=("$ns_cli2")
	ip -n "$ns_cli2" link set lo up
	ip link add cli0 netns "$ns_cli2" type veth peer name wan2 \
		netns "$ns_wan"
	ip -n "$ns_wan" addr add 203.0.113.254/24 dev wan2
	ip -n "$ns_cli2" addr add $CLI2_ADDR/24 dev cli0
	ip -n "$ns_wan" link set wan2 up
	ip -n "$ns_cli2" link set cli0 up
	ip -n "$ns_cli2" route add default via 203.0.113.254
}

# ---- Counting echo replies (ns-ping) -------------------------------------
#
# ping -c N gives up on its last request one interval (or twice the
# slowest round trip so far) after sending it, whatever -W says, once it
# has had replies: a reply that a loaded machine delays past that counts
# as lost in ping's summary. Where every reply matters, count them with
# the namespace's own ICMP counter instead, which also sees a late one,
# and wait for it with a bound.
#
# echo_replies NS: the echo replies NS's stack has received so far.
echo_replies() {
	ip netns exec "$1" awk '$1 == "Icmp:" && !h {
		for (i = 1; i <= NF; i++) n[$i] = i; h = 1; next }
		$1 == "Icmp:" { print $n["InEchoReps"] }' /proc/net/snmp
}

# replies_since NS BEFORE N: NS has received N echo replies since
# echo_replies read BEFORE.
replies_since() { (($(echo_replies "$1") - $2 >= $3)); }

# ---- Asking vpnd (ns-ctl) ---------------------------------------------------
#
# What vpnd holds is asserted by asking it, as WireGuard's netns.sh asks
# `wg show`: its sessions (user, endpoint, addresses, login time, traffic,
# drops), its status (addresses, counts, the store's health), the store's
# admissions and failure counters, all through `vpnctl ... --json`, read
# with /usr/bin/python3's json module (Debian's: a python3 earlier on PATH
# may lack the tests' modules). vpnd's log is still read for its audit
# lines (login user=... src=... result=... reason=...), an interface of
# their own, and vpnc's for what it tells the person.

# vpnctl_json ARGS...: `vpnctl ARGS --json` against this test's vpnd, run
# in $ns_srv.
vpnctl_json() {
	ip netns exec "$ns_srv" "$VPNCTL" -c "$tmp/vpnd.conf" "$@" --json
}

# json_select FIELD [NAME=VALUE...]: reads a JSON array of objects (or one
# object) on stdin and prints FIELD of each object whose NAME fields all
# read VALUE, one a line: a string as it is, anything else as JSON (true,
# null, 12). Fails if a chosen object lacks FIELD, or on no JSON at all.
json_select() {
	/usr/bin/python3 -c '
import json, sys
rows = json.load(sys.stdin)
if isinstance(rows, dict):
    rows = [rows]
want = [w.split("=", 1) for w in sys.argv[2:]]
def text(v):
    return v if isinstance(v, str) else json.dumps(v)
for r in rows:
    if all(k in r and text(r[k]) == v for k, v in want):
        print(text(r[sys.argv[1]]))' "$@"
}

# single: copies its input, which must be exactly one line.
single() {
	local out
	out=$(cat)
	[ -n "$out" ] && [ "$(wc -l <<<"$out")" -eq 1 ] || return 1
	printf '%s\n' "$out"
}

# status_field FIELD: a field of `vpnctl status --json` (pid, address4,
# sessions, logging_in, store, ...).
status_field() { vpnctl_json status | json_select "$1" | single; }

# vpnd_ready: the vpnd started last ($VPND_PID) answers on its control
# socket, which it serves once its device, sockets and store are usable
# and it runs with the privileges it keeps.
vpnd_ready() { [ "$(status_field pid 2>/dev/null)" = "$VPND_PID" ]; }

# client_key NAME: the public key of $tmp/NAME.key (write_vpnc_conf's).
client_key() { "$VPNC" pubkey <"$tmp/$1.key"; }

# session_field USER FIELD [KEY]: FIELD of USER's admitted session (of
# client key KEY if given) in `vpnctl sessions --json`: endpoint,
# address4, address6, login_time, expires, handshake, rx_bytes, tx_bytes,
# rx_packets, tx_packets, drop_source, drop_unadmitted, drop_malformed,
# session (the key). Fails unless there is exactly one such session.
session_field() {
	local sel=(state=admitted "user=$1")
	[ $# -lt 3 ] || sel+=("session=$3")
	vpnctl_json sessions | json_select "$2" "${sel[@]}" | single
}

# session_count USER: how many admitted sessions USER has now. Prints
# nothing and fails if vpnd does not answer.
session_count() {
	local json
	json=$(vpnctl_json sessions) || return 1
	json_select session state=admitted "user=$1" <<<"$json" | wc -l
}

# has_session USER / no_session USER: USER has an admitted session, or
# vpnd answers that USER has none.
has_session() { [ "$(session_count "$1")" -gt 0 ] 2>/dev/null; }
no_session() { [ "$(session_count "$1")" = 0 ]; }

# wait_session USER [SECONDS] / wait_no_session USER [SECONDS]: polls
# vpnd until USER has an admitted session, or has none.
wait_session() { wait_for "${2:-20}" has_session "$1"; }
wait_no_session() { wait_for "${2:-20}" no_session "$1"; }

# endpoint_host ENDPOINT: the address of "ADDR:PORT" or "[ADDR6]:PORT".
endpoint_host() {
	local host=${1%:*}
	host=${host#[}
	echo "${host%]}"
}

# device_field USER KEY FIELD: FIELD of USER's device KEY as the store
# holds it (`vpnctl user devices USER --json`): admitted (true or false),
# address4, address6, last_login, expires.
device_field() {
	vpnctl_json user devices "$1" | json_select "$3" "key=$2" | single
}

# device_is USER KEY FIELD VALUE: device_field USER KEY FIELD reads VALUE.
device_is() { [ "$(device_field "$1" "$2" "$3")" = "$4" ]; }

# admitted_devices USER: how many of USER's devices the store holds an
# admission for now. Prints nothing and fails if vpnctl cannot tell.
admitted_devices() {
	local json
	json=$(vpnctl_json user devices "$1") || return 1
	json_select key admitted=true <<<"$json" | wc -l
}

# lock_count KIND KEY: the failures the counter of KIND (user or source)
# KEY holds as the next login would count them (`vpnctl locks --json`), 0
# if it holds none; lock_left KIND KEY: the seconds its lock has left (0:
# not locked).
lock_count() { lock_field "$1" "$2" count; }
lock_left() { lock_field "$1" "$2" seconds_left; }
lock_field() {
	local json out
	json=$(vpnctl_json locks) || return 1
	out=$(json_select "$3" "kind=$1" "key=$2" <<<"$json") || return 1
	echo "${out:-0}"
}

# ---- A second node of the same service (ns-node2) ----------------------------
#
#   $ns_wan: wan3 198.18.0.254/24 ──── $ns_srv2: srv0 198.18.0.1/24
#                                        vpnd: vpn0 10.99.0.1/24
#
# setup_node2: after setup_topology and write_vpnd_conf, $ns_srv2 for a
# second vpnd node, reached from the clients at $SRV2_ADDR through
# $ns_wan, with $tmp/vpnd2.conf: vpnd.conf with its own control socket and
# nothing else changed, so both nodes share the server key, the store (one
# SQLite file: safe across processes on one host), the pool and the tunnel
# address. start_vpnd2 starts it (VPND2_PID, log $tmp/vpnd2.log),
# vpnctl2_json asks it as vpnctl_json asks the first, vpnd2_ready waits
# for it as vpnd_ready does.
ns_srv2=vpn-srv2-$$
SRV2_ADDR=198.18.0.1
q_srv2() { ip netns exec "$ns_srv2" "$@"; }

setup_node2() {
	ip netns add "$ns_srv2"
	namespaces+=("$ns_srv2")
	ip -n "$ns_srv2" link set lo up
	ip link add srv0 netns "$ns_srv2" type veth peer name wan3 \
		netns "$ns_wan"
	ip -n "$ns_wan" addr add 198.18.0.254/24 dev wan3
	ip -n "$ns_srv2" addr add $SRV2_ADDR/24 dev srv0
	ip -n "$ns_wan" link set wan3 up
	ip -n "$ns_srv2" link set srv0 up
	ip -n "$ns_srv2" route add default via 198.18.0.254
	# vpnd refuses to route the office LAN's prefixes without these.
	ip netns exec "$ns_srv2" sysctl -qw net.ipv4.ip_forward=1
	ip netns exec "$ns_srv2" sysctl -qw net.ipv6.conf.all.forwarding=1
	sed "s|^control-socket = .*|control-socket = \"$tmp/vpnd2.sock\"|" \
		"$tmp/vpnd.conf" >"$tmp/vpnd2.conf"
	grep -q "vpnd2.sock" "$tmp/vpnd2.conf"
}

vpnctl2_json() {
	ip netns exec "$ns_srv2" "$VPNCTL" -c "$tmp/vpnd2.conf" "$@" --json
}

vpnd2_ready() {
	[ "$(vpnctl2_json status | json_select pid | single)" = "$VPND2_PID" ]
} 2>/dev/null

start_vpnd2() {
	ip netns exec "$ns_srv2" "$VPND" -f -c "$tmp/vpnd2.conf" "$@" \
		>>"$tmp/vpnd2.log" 2>&1 &
	VPND2_PID=$!
	pids+=("$VPND2_PID")
	wait_for 20 vpnd2_ready
}

# ---- A PostgreSQL store for the nodes (ns-pg) ----------------------------------
#
#   $ns_wan: wan4 198.19.0.254/24 ──── $ns_db: db0 198.19.0.2/24
#                                        PostgreSQL on 198.19.0.2:5432 only
#
# setup_pg: after setup_topology, $ns_db holding a throwaway PostgreSQL 15
# server (tests/tools/pgserver.sh, its cluster in $tmp/pg), listening on
# $DB_ADDR:5432 and nowhere else, behind $ns_wan like the nodes, so every
# node reaches it through the wan. PG_CONNINFO is what to give user-db: the
# role vpnd with its password in a file (owned by nobody, vpnd's user
# here), never on a command line. stop_pg stops the server (pg_ctl -m
# fast: connections cut); start_pg starts it again on the same data.
# cleanup stops it before the namespaces go.
ns_db=vpn-db-$$
DB_ADDR=198.19.0.2
PG_CONNINFO=

setup_pg() {
	ip netns add "$ns_db"
	namespaces+=("$ns_db")
	ip -n "$ns_db" link set lo up
	ip link add db0 netns "$ns_db" type veth peer name wan4 \
		netns "$ns_wan"
	ip -n "$ns_wan" addr add 198.19.0.254/24 dev wan4
	ip -n "$ns_db" addr add $DB_ADDR/24 dev db0
	ip -n "$ns_wan" link set wan4 up
	ip -n "$ns_db" link set db0 up
	ip -n "$ns_db" route add default via 198.19.0.254
	# The server runs as postgres (or nobody) and must reach its cluster.
	chmod 0711 "$tmp"
	pg_dir=$tmp/pg
	start_pg
}

start_pg() {
	PG_CONNINFO=$(PGSERVER_CLIENT=nobody ip netns exec "$ns_db" \
		"$top/tests/tools/pgserver.sh" start "$pg_dir" "$DB_ADDR")
	[ -n "$PG_CONNINFO" ]
}

stop_pg() {
	"$top/tests/tools/pgserver.sh" stop "$pg_dir"
}

# pg_sql STATEMENT: runs one statement on the store as vpnd does (its
# role, its password file, over the network), printing rows unaligned.
pg_sql() {
	ip netns exec "$ns_db" psql -X -q -A -t -v ON_ERROR_STOP=1 \
		-d "$PG_CONNINFO" -c "$1"
}
