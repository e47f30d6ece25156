#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# `make demo`: the VPN at work on one machine, as root, in four network
# namespaces. The office runs vpnd and has a host on its LAN; a laptop at
# home runs vpnc; the two meet only through the internet namespace, which
# knows no route to the office LAN. Alice is enrolled, a wrong code is
# refused, she logs in with her password and the code her phone shows,
# reaches the office host through the tunnel, and disconnects. Every step
# says what it does, then shows the commands and their output.
#
#                  ┌──────────── internet ────────────┐
#                  │ office0 192.0.2.254/24           │
#                  │ home0   198.51.100.254/24        │
#                  └─────┬────────────────────┬───────┘
#   ┌─────── office ─────┴─────┐        ┌─────┴──────── home ───────┐
#   │ wan0 192.0.2.1/24        │        │ wan0 198.51.100.2/24      │
#   │ vpnd: vpn0 10.99.0.1/24  │        │ vpnc: vpn0 10.99.0.x/24   │
#   │ lan0 10.20.0.1/24        │        └───────────────────────────┘
#   └─────┬────────────────────┘
#   ┌─────┴─── office-lan ─────┐
#   │ eth0 10.20.0.2/24        │  the office host: a web server on :8080
#   └──────────────────────────┘
#
# Everything the demo makes is recorded in $STATE before it is made: the
# namespaces, the temporary directory and the processes (PID and start
# time). A demo that was killed outright leaves that record behind, and
# the next run removes exactly what it lists; namespaces with these names
# that the record does not list belong to someone else, and the demo
# refuses to touch them.

set -eEuo pipefail

BUILD=${BUILD:-build}
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
case $BUILD in
/*) bindir=$BUILD ;;
*) bindir=$top/$BUILD ;;
esac
# The commands shown read as a person would type them: the binaries just
# built come first in PATH, and the demo works in its temporary directory.
export PATH=$bindir:$PATH

STATE=/run/vpn-demo
NS_OFFICE=office
NS_LAN=office-lan
NS_INTERNET=internet
NS_HOME=home
ALL_NS=("$NS_OFFICE" "$NS_LAN" "$NS_INTERNET" "$NS_HOME")

OFFICE_WAN=192.0.2.1
HOME_WAN=198.51.100.2
OFFICE_HOST=10.20.0.2
PORT=51900
USER_NAME=alice
PASSWORD='correct horse battery staple'

# What this run made, for teardown.
namespaces=()
procs=() # "PID STARTTIME"
tmp=
owns_state=0
started=$SECONDS

# ---- output -----------------------------------------------------------------

step_no=0
step() {
	step_no=$((step_no + 1))
	printf '\n%2d. %s\n' "$step_no" "$*" | fold -s -w 76 |
		sed '3,$s/^/    /; s/ *$//'
}

say() { printf '    %s\n' "$*"; }

# Output of a command, indented under it.
indent() { sed -u '/./s/^/      /'; }

# show NS COMMAND...: prints the command as typed in NS, runs it there.
show() {
	local ns=$1
	shift
	printf '    %s# %s\n' "$ns" "$*"
	ip netns exec "$ns" "$@" 2>&1 | indent
}

# Like show, for a command that runs on the machine itself.
show_here() {
	printf '    $ %s\n' "$*"
	"$@" 2>&1 | indent
}

die() {
	printf '\ndemo: FAILED: %s\n' "$*" >&2
	exit 1
}

on_err() {
	printf '\ndemo: FAILED: line %s: %s (status %s)\n' "$2" "$3" "$1" >&2
}
trap 'on_err $? $LINENO "$BASH_COMMAND"' ERR

# ---- what the demo owns -----------------------------------------------------

# Field 22 of /proc/PID/stat: tells a process from a later one that was
# given the same PID.
starttime() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	set -- $stat
	echo "${20}"
}

# alive PID STARTTIME: the very process recorded is still running.
alive() {
	[ "$(starttime "$1" 2>/dev/null)" = "$2" ]
}

record() { echo "$*" >>"$STATE/made"; }

# spawn NS INPUT LOG COMMAND...: starts COMMAND in NS in the background,
# stdin from INPUT, output to LOG; sets PID. The child records itself
# before it execs, so even a demo killed in between leaves no process
# unrecorded; `ip netns exec` execs in turn, so the PID is the command's.
spawn() {
	local ns=$1 input=$2 log=$3 st
	shift 3
	(
		# Inside $(...), BASHPID would be that of the substitution.
		me=$BASHPID
		record pid "$me" "$(starttime "$me")"
		exec ip netns exec "$ns" "$@"
	) <"$input" >>"$log" 2>&1 &
	PID=$!
	st=$(starttime "$PID") || st=gone
	procs+=("$PID $st")
}

# stop_proc PID STARTTIME: SIGTERM, up to 5 s to exit, then SIGKILL.
stop_proc() {
	local i
	alive "$1" "$2" || return 0
	kill -TERM "$1" 2>/dev/null || return 0
	for ((i = 0; i < 50; i++)); do
		alive "$1" "$2" || return 0
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null || true
}

# Removes what `namespaces`, `procs` and `tmp` list; safe to repeat.
teardown() {
	local p ns
	for p in "${procs[@]}"; do
		stop_proc $p
	done
	for p in "${procs[@]}"; do
		set -- $p
		wait "$1" 2>/dev/null || true
	done
	procs=()
	for ns in "${namespaces[@]}"; do
		if [ -e "/run/netns/$ns" ]; then
			ip netns del "$ns" 2>/dev/null || true
		fi
	done
	namespaces=()
	cd /
	case $tmp in
	/tmp/vpn-demo.*) rm -rf "$tmp" ;;
	esac
	tmp=
}

# An earlier demo that was killed left $STATE behind: remove what it made.
recover() {
	local kind a b owner_pid owner_st
	read -r owner_pid owner_st 2>/dev/null <"$STATE/owner" || true
	if [ -n "${owner_pid:-}" ] && alive "$owner_pid" "$owner_st"; then
		echo "demo: another demo (PID $owner_pid) is running;" \
			"wait for it to finish" >&2
		exit 1
	fi
	echo "Removing what an earlier, interrupted demo left behind."
	while read -r kind a b; do
		case $kind in
		ns) namespaces+=("$a") ;;
		pid) procs+=("$a $b") ;;
		tmp) tmp=$a ;;
		esac
	done 2>/dev/null <"$STATE/made" || true
	teardown
	rm -rf "$STATE"
}

# Takes $STATE for this run (mkdir is atomic: two demos cannot both win).
claim_state() {
	if ! mkdir "$STATE" 2>/dev/null; then
		recover
		mkdir "$STATE" 2>/dev/null ||
			die "$STATE appeared meanwhile: is another demo" \
				"starting?"
	fi
	owns_state=1
	echo "$$ $(starttime $$)" >"$STATE/owner"
	: >"$STATE/made"
}

finish() {
	local rc=$?
	set +eE
	trap - ERR
	if [ "$rc" -ne 0 ] && [ -n "$tmp" ]; then
		for f in "$tmp"/*.log; do
			[ -s "$f" ] || continue
			echo "---- last lines of $(basename "$f")" >&2
			tail -n 15 "$f" >&2
		done
	fi
	teardown
	[ "$owns_state" -eq 1 ] && rm -rf "$STATE"
	exit "$rc"
}

# ---- checks -----------------------------------------------------------------

[ "$(id -u)" -eq 0 ] ||
	die "the demo creates network namespaces: run it as root" \
		"(sudo make demo)"
[ -c /dev/net/tun ] || die "/dev/net/tun is missing (modprobe tun)"
for t in ip ping curl oathtool sed; do
	command -v "$t" >/dev/null || die "$t is missing: run make deps"
done
# Debian's python3, with http.server; any other will do.
PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || PYTHON=$(command -v python3) ||
	die "python3 is missing: run make deps"
for b in vpnd vpnc vpnctl; do
	[ -x "$bindir/$b" ] || die "$bindir/$b is not built: run make demo"
done

trap finish EXIT
trap 'echo; echo "demo: interrupted" >&2; exit 130' INT
trap 'exit 143' TERM HUP

claim_state
for ns in "${ALL_NS[@]}"; do
	if [ -e "/run/netns/$ns" ]; then
		die "a network namespace named '$ns' exists and this demo" \
			"did not make it; remove it (ip netns del $ns) and" \
			"try again"
	fi
done

# ---- the story --------------------------------------------------------------

echo "vpnd/vpnc demo: an office, a home, and the internet between them."

step "Build the network: an office with a host on its LAN, a home," \
	"and an internet between them."
tmp=$(mktemp -d /tmp/vpn-demo.XXXXXX)
record tmp "$tmp"
cd "$tmp"
for ns in "${ALL_NS[@]}"; do
	record ns "$ns"
	ip netns add "$ns"
	namespaces+=("$ns")
	ip -n "$ns" link set lo up
done
ip link add wan0 netns $NS_OFFICE type veth peer name office0 netns $NS_INTERNET
ip link add wan0 netns $NS_HOME type veth peer name home0 netns $NS_INTERNET
ip link add lan0 netns $NS_OFFICE type veth peer name eth0 netns $NS_LAN
ip -n $NS_OFFICE addr add $OFFICE_WAN/24 dev wan0
ip -n $NS_OFFICE addr add 10.20.0.1/24 dev lan0
ip -n $NS_INTERNET addr add 192.0.2.254/24 dev office0
ip -n $NS_INTERNET addr add 198.51.100.254/24 dev home0
ip -n $NS_HOME addr add $HOME_WAN/24 dev wan0
ip -n $NS_LAN addr add $OFFICE_HOST/24 dev eth0
for l in "$NS_OFFICE wan0" "$NS_OFFICE lan0" "$NS_INTERNET office0" \
	"$NS_INTERNET home0" "$NS_HOME wan0" "$NS_LAN eth0"; do
	set -- $l
	ip -n "$1" link set "$2" up
done
ip -n $NS_OFFICE route add default via 192.0.2.254
ip -n $NS_HOME route add default via 198.51.100.254
ip -n $NS_LAN route add default via 10.20.0.1
ip netns exec $NS_INTERNET sysctl -qw net.ipv4.ip_forward=1
# The VPN server routes between the tunnel and the office LAN.
ip netns exec $NS_OFFICE sysctl -qw net.ipv4.ip_forward=1
say "office      wan0 $OFFICE_WAN, lan0 10.20.0.1 (the VPN server)"
say "office-lan  eth0 $OFFICE_HOST (the office host)"
say "internet    192.0.2.254 and 198.51.100.254 (a router)"
say "home        wan0 $HOME_WAN (alice's laptop)"

step "Start a web server on the office host. Without the VPN, home" \
	"cannot reach it: the internet has no route to the office LAN."
mkdir -p "$tmp/www"
echo "Hello from the office host ($OFFICE_HOST)." >"$tmp/www/index.html"
printf '    %s# %s\n' $NS_LAN \
	"python3 -m http.server 8080 --bind $OFFICE_HOST --directory www &"
spawn $NS_LAN /dev/null "$tmp/web.log" "$PYTHON" -m http.server 8080 \
	--bind $OFFICE_HOST --directory "$tmp/www"
web_up() { ip netns exec $NS_LAN bash -c \
	"exec 3<>/dev/tcp/$OFFICE_HOST/8080" 2>/dev/null; }
for ((i = 0; i < 100; i++)); do
	web_up && break
	sleep 0.1
done
web_up || die "the office web server did not start"
if show $NS_HOME ping -c 1 -W 2 $OFFICE_HOST; then
	die "home reaches the office host without the VPN: the topology" \
		"is wrong"
fi
say "(unreachable, as it should be)"

step "Create the server's key and configuration, and check it."
show_here vpnd genkey server.key
SERVER_PUB=$(vpnd pubkey <server.key)
printf '    $ vpnd pubkey < server.key\n'
say "  $SERVER_PUB"
cat >"$tmp/vpnd.conf" <<EOF
listen-port = $PORT
private-key-file = "$tmp/server.key"
address-pool4 = "10.99.0.0/24"
routes = {"10.20.0.0/24"}
user-db = "$tmp/users.db"
control-socket = "$tmp/vpnd.sock"
user = "nobody"
EOF
printf '    $ cat vpnd.conf\n'
indent <"$tmp/vpnd.conf"
show_here vpnd -t -c vpnd.conf

step "Enrol user '$USER_NAME': a password, and a TOTP secret for her" \
	"phone's authenticator app."
printf '    $ echo "%s" | vpnctl user add %s\n' "$PASSWORD" "$USER_NAME"
out=$(printf '%s\n' "$PASSWORD" |
	vpnctl -c vpnd.conf user add --no-confirm "$USER_NAME" 2>&1) ||
	die "vpnctl user add failed: $out"
indent <<<"$out"
say "(on a terminal, vpnctl also draws the URI as a QR code to scan)"
SECRET=$(sed -n 's/.*[?&]secret=\([A-Z2-7]*\).*/\1/p; T; q' <<<"$out")
[ -n "$SECRET" ] || die "no TOTP secret in vpnctl's output"

step "Start vpnd in the office."
printf '    %s# vpnd -f -c vpnd.conf &\n' $NS_OFFICE
spawn $NS_OFFICE /dev/null "$tmp/vpnd.log" vpnd -f -c "$tmp/vpnd.conf"
VPND_PID=$PID
for ((i = 0; i < 100; i++)); do
	grep -q "listening on UDP port" "$tmp/vpnd.log" && break
	kill -0 $VPND_PID 2>/dev/null || die "vpnd exited"
	sleep 0.1
done
grep -q "listening on UDP port" "$tmp/vpnd.log" || die "vpnd did not start"
indent <"$tmp/vpnd.log"

step "Give alice's laptop a key and a configuration naming the server."
show_here vpnc genkey alice.key
cat >"$tmp/vpnc.conf" <<EOF
server = "$OFFICE_WAN:$PORT"
server-public-key = "$SERVER_PUB"
private-key-file = "$tmp/alice.key"
user = "$USER_NAME"
dns = "none"
EOF
printf '    $ cat vpnc.conf\n'
indent <"$tmp/vpnc.conf"

# The code a phone shows now (or OFFSET steps of 30 s from now).
totp() {
	oathtool --totp -b "$SECRET" -N "@$(($(date +%s) + ${1:-0} * 30))"
}

# run_vpnc LOG PASSWORD CODE: vpnc in home, reading the password and the
# code as two lines of stdin, as it does without a terminal.
run_vpnc() {
	printf '%s\n%s\n' "$2" "$3" >"$tmp/vpnc.input"
	spawn $NS_HOME "$tmp/vpnc.input" "$1" vpnc -c "$tmp/vpnc.conf"
}

step "Try to log in with the right password but a wrong code: refused."
# Any code but those the server would accept around now.
good=" $(totp -1) $(totp 0) $(totp 1) "
wrong=$(( (10#$(totp 0) + 314159) % 1000000 ))
for ((i = 0; i < 10; i++)); do
	[[ $good == *" $(printf '%06d' $wrong) "* ]] || break
	wrong=$(( (wrong + 1) % 1000000 ))
done
wrong=$(printf '%06d' $wrong)
printf '    home# printf "%%s\\n%%s\\n" "%s" %s | vpnc -c vpnc.conf\n' \
	"$PASSWORD" "$wrong"
run_vpnc "$tmp/vpnc-wrong.log" "$PASSWORD" "$wrong"
for ((i = 0; i < 200; i++)); do
	kill -0 $PID 2>/dev/null || break
	sleep 0.1
done
rc=0
wait $PID || rc=$?
indent <"$tmp/vpnc-wrong.log"
say "(vpnc exit status $rc: 3 means the login was refused)"
[ "$rc" -eq 3 ] || die "vpnc with a wrong code exited $rc, not 3"
grep -q "login failed" "$tmp/vpnc-wrong.log" ||
	die "vpnc did not report the refusal"
say "The server's audit line; vpnc was only told 'wrong user name," \
	"password or code':"
grep "login user=$USER_NAME .*result=failed" "$tmp/vpnd.log" | indent ||
	die "no audit line for the refused login"

step "Log in with the password and the code alice's phone shows now."
code=$(totp 0)
printf "    alice's phone: oathtool --totp -b %s\n" "$SECRET"
say "  $code"
printf '    home# printf "%%s\\n%%s\\n" "%s" %s | vpnc -c vpnc.conf &\n' \
	"$PASSWORD" "$code"
run_vpnc "$tmp/vpnc.log" "$PASSWORD" "$code"
VPNC_PID=$PID
for ((i = 0; i < 200; i++)); do
	grep -q "connected as $USER_NAME" "$tmp/vpnc.log" && break
	kill -0 $VPNC_PID 2>/dev/null || break
	sleep 0.1
done
indent <"$tmp/vpnc.log"
grep -q "connected as $USER_NAME" "$tmp/vpnc.log" || die "vpnc did not connect"
grep "login user=$USER_NAME .*result=ok" "$tmp/vpnd.log" | indent ||
	die "no audit line for the login"

step "The server pushed an address and the office LAN's route to" \
	"the laptop."
show $NS_HOME ip -4 -brief address show dev vpn0
show $NS_HOME ip route show dev vpn0
# (grep -q on a pipe would stop reading early: under pipefail, a SIGPIPE.)
routes=$(ip -n $NS_HOME route show dev vpn0)
grep -q '^10\.20\.0\.0/24' <<<"$routes" ||
	die "the office LAN's route was not pushed"

step "Ping the office host from home, through the tunnel."
show $NS_HOME ping -c 3 -i 0.2 -W 2 $OFFICE_HOST ||
	die "the office host does not answer through the tunnel"

step "Fetch a page from the office host's web server."
show $NS_HOME curl -sS --max-time 10 http://$OFFICE_HOST:8080/ ||
	die "could not fetch the page through the tunnel"
say "The office host saw the request come from alice's tunnel address:"
grep '"GET / ' "$tmp/web.log" | indent

step "Disconnect: vpnc removes its device and routes."
printf '    home# kill -TERM %s      (what Ctrl-C does at a terminal)\n' \
	$VPNC_PID
lines=$(wc -l <"$tmp/vpnc.log")
kill -TERM $VPNC_PID
for ((i = 0; i < 100; i++)); do
	kill -0 $VPNC_PID 2>/dev/null || break
	sleep 0.1
done
rc=0
wait $VPNC_PID || rc=$?
tail -n +$((lines + 1)) "$tmp/vpnc.log" | indent
[ "$rc" -eq 0 ] || die "vpnc exited $rc on SIGTERM"
if ip -n $NS_HOME link show vpn0 >/dev/null 2>&1; then
	die "vpn0 is still there after vpnc exited"
fi
if show $NS_HOME ping -c 1 -W 1 $OFFICE_HOST; then
	die "the office host is still reachable after disconnecting"
fi
say "(unreachable again)"

step "Clean up: stop vpnd (it removes its device) and the web server," \
	"delete the namespaces and the files."
printf '    office# kill -TERM %s\n' $VPND_PID
lines=$(wc -l <"$tmp/vpnd.log")
stop_proc $VPND_PID "$(starttime $VPND_PID)"
rc=0
wait $VPND_PID || rc=$?
tail -n +$((lines + 1)) "$tmp/vpnd.log" | indent
[ "$rc" -eq 0 ] || die "vpnd exited $rc on SIGTERM"
if ip -n $NS_OFFICE link show vpn0 >/dev/null 2>&1; then
	die "vpn0 is still there after vpnd exited"
fi
say "(vpn0 is gone from office, as it is from home)"
teardown
for ns in "${ALL_NS[@]}"; do
	[ ! -e "/run/netns/$ns" ] || die "namespace $ns is still there"
done
rm -rf "$STATE"
owns_state=0
say "No namespace, device, process or file of the demo is left."

printf '\nDemo finished in %d s.\n' $((SECONDS - started))
