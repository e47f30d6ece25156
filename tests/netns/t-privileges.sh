#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vpnd runs with least privilege (vpnd/privs.h), laid out as `make install`
# does: the store in a directory of its own, the control socket in a
# directory that is root's, the configuration readable by root only.
#
#   vpnctl (root) creates the store: root's, mode 0600 in a 0700 directory
#   vpnd starts as root; once its device, sockets and store are open:
#     every thread       uid/gid nobody, CapBnd CAP_NET_ADMIN, nothing
#                        inheritable or ambient, NoNewPrivs 1, Seccomp 2
#     the loop's thread  CapEff = CapPrm = CAP_NET_ADMIN (0x1000)
#     the others         no capability at all
#     the monitor        uid 0, no capability, NoNewPrivs 1, Seccomp 2
#     the process        not dumpable, no core
#
# All of it while a client's pings cross the tunnel. That client, vpnc,
# stays uid 0 with CAP_NET_ADMIN alone (bounding set too), NoNewPrivs 1
# and Seccomp 2, while its DNS helper keeps root for resolvconf: a
# resolvconf of ours (in a mount namespace of the client's own) is given
# the pushed servers with root's capabilities, and takes them back when
# vpnc stops. vpnctl status works
# through the socket (mode 0660, the user's, control-group); vpnctl adding a
# user while vpnd runs leaves every store file nobody's, and vpnd sees the
# change (the user logs in). vpnd stops cleanly: the monitor removes the
# socket from root's directory, SQLite its -wal and -shm files from the
# store's; vpnctl, as root, leaves nothing of root's behind. That the
# filter refuses what it should is tests/unit/test_sandbox.c's.
# user = "root" drops nothing; as a daemon vpnd runs confined just the
# same; a user that does not exist is one clear line.
source "$(dirname "$0")/lib.sh"

RUN_AS=nobody
ctl() { "$VPNCTL" -c "$tmp/vpnd.conf" "$@"; }

# field FILE NAME: a /proc status field, trailing blanks dropped.
field() { sed -n "s/^$2:[[:space:]]*//p" "$1" | sed 's/[[:space:]]*$//'; }

# expect FILE NAME VALUE
expect() {
	local got
	got=$(field "$1" "$2")
	if [ "$got" != "$3" ]; then
		echo "$1: $2 is '$got', not '$3'" >&2
		return 1
	fi
}

# Nothing in the store's directory belongs to anyone but $RUN_AS.
store_is_users() {
	local bad
	bad=$(find "$tmp/state" ! -user "$RUN_AS" -o ! -group "$(id -gn "$RUN_AS")")
	if [ -n "$bad" ]; then
		echo "not $RUN_AS's:" $bad >&2
		ls -la "$tmp/state" >&2
		return 1
	fi
}

setup_topology
uid=$(id -u "$RUN_AS")
gid=$(id -g "$RUN_AS")
mkdir -m 0755 "$tmp/run"
write_vpnd_conf "user = \"$RUN_AS\"" \
	"user-db = \"$tmp/state/users.db\"" \
	"control-socket = \"$tmp/run/vpnd.sock\"" \
	'control-group = "nogroup"'
chmod 0600 "$tmp/vpnd.conf"
write_vpnc_conf alice alice 'dns = "resolvconf"'
write_vpnc_conf bob bob 'interface = "vpn1"'
secret=$(enrol alice)
[ "$(stat -c '%U %a' "$tmp/state")" = "root 700" ]
[ "$(stat -c '%U %a' "$tmp/state/users.db")" = "root 600" ]

start_vpnd
grep -q "running as user $RUN_AS (uid $uid, gid $gid) with CAP_NET_ADMIN only" \
	"$tmp/vpnd.log"
refute grep -q "user store directory" "$tmp/vpnd.log"
# The store's directory held nothing else: both are the user's now.
store_is_users
[ "$(stat -c '%U %a' "$tmp/state")" = "$RUN_AS 700" ]

# alice's vpnc finds a resolvconf of ours over /usr/sbin (and /sbin, its
# link), in a mount namespace of its own: it writes down its arguments,
# who it ran as and its input.
mkdir -m 0755 "$tmp/sbin"
cat >"$tmp/sbin/resolvconf" <<EOF
#!/bin/sh
{ echo "args: \$*"; grep -E '^(Uid|CapEff):' /proc/self/status; cat
  echo --; } >>"$tmp/resolvconf.log"
EOF
chmod 0755 "$tmp/sbin/resolvconf"
printf '%s\n%s\n' "$PASSWORD" "$(totp "$secret")" >"$tmp/alice.input"
ip netns exec "$ns_cli" unshare --mount --propagation private \
	sh -c 'mount --bind "$1" /usr/sbin && exec "$2" -c "$3"' sh \
	"$tmp/sbin" "$VPNC" "$tmp/alice.conf" <"$tmp/alice.input" \
	>>"$tmp/alice.log" 2>&1 &
VPNC_PID=$!
pids+=("$VPNC_PID")
wait_log "$tmp/alice.log" "connected as alice"
before=$(echo_replies "$ns_cli")
q_cli ping -c 25 -i 0.2 -W 2 $LAN_HOST >"$tmp/ping.log" 2>&1 &
PING_PID=$!
pids+=("$PING_PID")
wait_for 5 replies_since "$ns_cli" "$before" 1

# Every thread, while the pings flow.
n=0
for task in /proc/"$VPND_PID"/task/*; do
	s=$task/status
	expect "$s" Uid "$uid	$uid	$uid	$uid"
	expect "$s" Gid "$gid	$gid	$gid	$gid"
	expect "$s" Groups "$gid"
	expect "$s" CapBnd 0000000000001000
	expect "$s" CapInh 0000000000000000
	expect "$s" CapAmb 0000000000000000
	expect "$s" NoNewPrivs 1
	expect "$s" Seccomp 2
	if [ "${task##*/}" = "$VPND_PID" ]; then
		expect "$s" CapEff 0000000000001000
		expect "$s" CapPrm 0000000000001000
	else
		expect "$s" CapEff 0000000000000000
		expect "$s" CapPrm 0000000000000000
	fi
	n=$((n + 1))
done
# The loop's thread, the store's and the two login workers at least.
((n >= 4))
# The workers run below the packet path (nice 19; field 19 of stat, after
# the command name in parentheses), the loop at the default.
nice_of() { sed 's/.*) //' "$1/stat" | awk '{ print $17 }'; }
[ "$(nice_of /proc/"$VPND_PID")" = 0 ]
niced=0
for task in /proc/"$VPND_PID"/task/*; do
	[ "$(nice_of "$task")" != 19 ] || niced=$((niced + 1))
done
((niced >= 3))
kill -0 "$PING_PID"
# Not dumpable: the kernel gives its /proc files to root; no core either.
[ "$(stat -c %U /proc/"$VPND_PID"/environ)" = root ]
grep -q '^Max core file size *0 *0 ' /proc/"$VPND_PID"/limits

monitor=$(pgrep -P "$VPND_PID")
[ "$(echo "$monitor" | wc -w)" -eq 1 ]
m=/proc/$monitor/status
expect "$m" Uid "0	0	0	0"
for c in CapEff CapPrm CapBnd CapInh CapAmb; do
	expect "$m" "$c" 0000000000000000
done
expect "$m" NoNewPrivs 1
expect "$m" Seccomp 2

# vpnc: root's files, CAP_NET_ADMIN alone; its DNS helper keeps root.
c=/proc/$VPNC_PID/status
expect "$c" Uid "0	0	0	0"
for f in CapEff CapPrm CapBnd; do
	expect "$c" "$f" 0000000000001000
done
expect "$c" CapInh 0000000000000000
expect "$c" CapAmb 0000000000000000
expect "$c" NoNewPrivs 1
expect "$c" Seccomp 2
root_caps=$(field /proc/$$/status CapEff)
helper=$(pgrep -P "$VPNC_PID")
[ "$(echo "$helper" | wc -w)" -eq 1 ]
expect /proc/"$helper"/status Uid "0	0	0	0"
expect /proc/"$helper"/status CapEff "$root_caps"
expect /proc/"$helper"/status Seccomp 0
# resolvconf was given the pushed DNS, and ran with root's capabilities.
grep -qx 'args: -a vpn0 -m 0 -x' "$tmp/resolvconf.log"
grep -qx "CapEff:	$root_caps" "$tmp/resolvconf.log"
grep -qx 'nameserver 10.20.0.53' "$tmp/resolvconf.log"
grep -qx 'search office.test' "$tmp/resolvconf.log"

# A reload reads vpnd.conf, root's alone, through the monitor.
kill -HUP "$VPND_PID"
wait_log "$tmp/vpnd.log" "reload: nothing to apply" 10
refute grep -q "cannot read" "$tmp/vpnd.log"

# The traffic went on all along.
wait "$PING_PID"
wait_for 10 replies_since "$ns_cli" "$before" 25

# The control socket, as configured and given to the user; vpnctl talks
# to vpnd through it.
[ "$(stat -c '%a %U %G' "$tmp/run/vpnd.sock")" = "660 $RUN_AS nogroup" ]
[ "$(ctl status --json | /usr/bin/python3 -c \
	'import json, sys; print(json.load(sys.stdin)["pid"])')" = "$VPND_PID" ]

# vpnctl, as root, writes to the store beside vpnd: the files stay the
# user's (SQLite gives new ones the store's owner), vpnd sees the change.
secret_b=$(enrol bob)
store_is_users
[ -e "$tmp/state/users.db-wal" ]
ALICE_PID=$VPNC_PID
start_vpnc bob "$PASSWORD" "$(totp "$secret_b")"
wait_log "$tmp/bob.log" "connected as bob"
n_cli ping -c 2 -i 0.2 -W 2 $LAN_HOST

kill -TERM "$VPNC_PID" "$ALICE_PID"
wait "$VPNC_PID"
wait "$ALICE_PID"
# vpnc took its DNS back on its way out.
grep -qx 'args: -d vpn0 -f' "$tmp/resolvconf.log"
stop_vpnd
wait_gone "$monitor" 50
# The monitor removed the socket from root's directory; SQLite, as the
# user, its companions from the store's.
[ ! -e "$tmp/run/vpnd.sock" ]
[ ! -e "$tmp/state/users.db-wal" ] && [ ! -e "$tmp/state/users.db-shm" ]
# vpnctl without vpnd, as root, leaves nothing of root's.
ctl user list >/dev/null
store_is_users

# user = "root": nothing dropped.
echo 'user = "root"' >>"$tmp/vpnd.conf"
start_vpnd
grep -q 'running as root (user = "root"): no privileges dropped' \
	"$tmp/vpnd.log"
expect /proc/"$VPND_PID"/status Uid "0	0	0	0"
expect /proc/"$VPND_PID"/status Seccomp 0
[ -z "$(pgrep -P "$VPND_PID")" ]
ctl status >/dev/null
stop_vpnd
[ ! -e "$tmp/run/vpnd.sock" ]

# As a daemon: the parent exits 0 once vpnd runs confined, and vpnd goes
# on after its stderr is closed (before its loop answers vpnctl), until
# SIGTERM.
echo "user = \"$RUN_AS\"" >>"$tmp/vpnd.conf"
ip netns exec "$ns_srv" "$VPND" -c "$tmp/vpnd.conf" >"$tmp/daemon.log" 2>&1
daemon=$(ctl status --json | /usr/bin/python3 -c \
	'import json, sys; print(json.load(sys.stdin)["pid"])')
pids+=("$daemon")
expect /proc/"$daemon"/status Seccomp 2
kill -TERM "$daemon"
wait_gone "$daemon" 50
[ ! -e "$tmp/run/vpnd.sock" ]

# A user that does not exist: one line, and vpnd does not start.
echo 'user = "no-such-user-here"' >>"$tmp/vpnd.conf"
rc=0
ip netns exec "$ns_srv" "$VPND" -f -c "$tmp/vpnd.conf" >"$tmp/nouser.log" 2>&1 ||
	rc=$?
[ "$rc" -eq 1 ]
grep -qx "vpnd: error: user no-such-user-here does not exist: create it (make install does) or set user = ... in $tmp/vpnd.conf" \
	"$tmp/nouser.log"
no_device "$ns_srv"
echo "ok"
