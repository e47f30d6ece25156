#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Two vpnd nodes sharing one PostgreSQL store agree on every login
# decision (issue 15, item 2; PROTOCOL.md section 6, rules 3 and 4): node
# A in $ns_srv, node B in $ns_srv2 (lib.sh ns-node2: the same server key),
# the store a real PostgreSQL server the test starts in $ns_db (lib.sh
# ns-pg), reached over the network with a password from a file.
#
#  1. A TOTP code alice used on A is refused on B (reused-code); B admits
#     her next code.
#  2. Two logins of carol with one code, from two keys, on A and B at the
#     same moment: exactly one is admitted; the other is refused as
#     reused-code. The step is consumed by one conditional UPDATE, so
#     neither node can admit on a check the other's grant made stale.
#  3. Three wrong passwords for bob on A lock his name and his address;
#     his right password on B, from another address, is answered LOCKED
#     (locked-user), and B's vpnctl sees the same counter; dave's right
#     login on B from bob's address is answered LOCKED (locked-source).
source "$(dirname "$0")/lib.sh"

# vpnc_on NODE NAME USER NS PASSWORD CODE: a vpnc for USER with the key of
# $tmp/NAME.key (made here) against NODE (a or b), in NS; logs to
# $tmp/NAME.log, sets VPNC_PID.
vpnc_on() {
	local node=$1 name=$2 user=$3 ns=$4 addr=$SRV_ADDR
	[ "$node" = a ] || addr=$SRV2_ADDR
	write_vpnc_conf "$name" "$user"
	# One server line, this node's (several would be tried in turn).
	sed -i "s|^server = .*|server = \"$addr:51900\"|" "$tmp/$name.conf"
	[ "$(grep -c '^server = ' "$tmp/$name.conf")" -eq 1 ]
	VPNC_NS=$ns start_vpnc "$name" "$5" "$6"
}

# ended NAME PID: waits (at most 20 s) for the vpnc of NAME to exit; sets
# rc to its status.
ended() {
	wait_gone "$2" 200
	rc=0
	wait "$2" || rc=$?
	echo "$1: exit $rc"
}

# refused NAME: the vpnc of NAME was refused as a wrong login (exit 3),
# and no device is left in its namespace.
refused() {
	[ "$rc" -eq 3 ]
	grep -q 'error: login failed: wrong user name, password or code' \
		"$tmp/$1.log"
}

# audit NODE_LOG USER RESULT REASON: vpnd's audit lines for USER.
audit() {
	count_log "$1" "login user=$2 src=[0-9.:]* result=$3 reason=$4 "
}

# connected_or_ended NAME PID: the vpnc of NAME is admitted, or has exited.
connected_or_ended() {
	log_has "$tmp/$1.log" "connected as" || ! kill -0 "$2" 2>/dev/null
}

setup_topology
setup_client2
setup_pg
write_vpnd_conf "user-db = \"$PG_CONNINFO\"" 'node-name = "node-a"' \
	"lockout-failures = 3" "lockout-time = 1m" "lockout-max-time = 5m"
setup_node2
sed -i 's/^node-name = .*/node-name = "node-b"/' "$tmp/vpnd2.conf"
grep -qx 'node-name = "node-b"' "$tmp/vpnd2.conf"
alice=$(enrol alice)
bob=$(enrol bob)
carol=$(enrol carol)
dave=$(enrol dave)
[ ${#alice} -eq 32 ] && [ ${#bob} -eq 32 ] && [ ${#carol} -eq 32 ] &&
	[ ${#dave} -eq 32 ]
start_vpnd
start_vpnd2
# Both nodes run on the store the test started, under their own names.
[ "$(status_field store)" = ok ]
[ "$(vpnctl2_json status | json_select store | single)" = ok ]
[ "$(status_field node)" = node-a ]
[ "$(vpnctl2_json status | json_select node | single)" = node-b ]
pg_sql "SELECT 1" | grep -qx 1

# ---- 1. a code used on A is refused on B -----------------------------------
code=$(totp "$alice")
vpnc_on a alice-a alice "$ns_cli" "$PASSWORD" "$code"
ALICE_A=$VPNC_PID
wait_log "$tmp/alice-a.log" "connected as alice"
n_cli ping -c 1 -W 2 $TUN_SRV
vpnc_on b alice-b alice "$ns_cli2" "$PASSWORD" "$code"
ended alice-b "$VPNC_PID"
refused alice-b
no_device "$ns_cli2"
[ "$(audit "$tmp/vpnd2.log" alice failed reused-code)" -eq 1 ]
[ "$(audit "$tmp/vpnd2.log" alice ok '[a-z]*')" -eq 0 ]
# B admits her next code: B works, it only refused the spent one.
vpnc_on b alice-b2 alice "$ns_cli2" "$PASSWORD" "$(totp "$alice" 1)"
ALICE_B=$VPNC_PID
wait_log "$tmp/alice-b2.log" "connected as alice"
q_cli2 ping -c 1 -W 2 $TUN_SRV >/dev/null
# Each node holds its own session, and the store both admissions.
[ "$(vpnctl2_json sessions | json_select user state=admitted | single)" = alice ]
[ "$(session_count alice)" -eq 1 ]
[ "$(admitted_devices alice)" -eq 2 ]
kill -TERM "$ALICE_A" "$ALICE_B"
wait "$ALICE_A"
wait "$ALICE_B"

# ---- 2. one code, two nodes, at the same moment: at most one login ----------
code=$(totp "$carol")
vpnc_on a carol-a carol "$ns_cli" "$PASSWORD" "$code"
CAROL_A=$VPNC_PID
vpnc_on b carol-b carol "$ns_cli2" "$PASSWORD" "$code"
CAROL_B=$VPNC_PID
wait_for 20 connected_or_ended carol-a "$CAROL_A"
wait_for 20 connected_or_ended carol-b "$CAROL_B"
ok_a=$(audit "$tmp/vpnd.log" carol ok totp)
ok_b=$(audit "$tmp/vpnd2.log" carol ok totp)
echo "carol admitted: $ok_a on node A, $ok_b on node B"
[ $((ok_a + ok_b)) -eq 1 ]
if [ "$ok_a" -eq 1 ]; then
	winner=carol-a winner_pid=$CAROL_A
	loser=carol-b loser_pid=$CAROL_B loser_log=$tmp/vpnd2.log
else
	winner=carol-b winner_pid=$CAROL_B
	loser=carol-a loser_pid=$CAROL_A loser_log=$tmp/vpnd.log
fi
log_has "$tmp/$winner.log" "connected as carol"
ended "$loser" "$loser_pid"
refused "$loser"
[ "$(audit "$loser_log" carol failed reused-code)" -eq 1 ]
[ "$(admitted_devices carol)" -eq 1 ]
kill -TERM "$winner_pid"
wait "$winner_pid"

# ---- 3. a lockout earned on A holds on B -----------------------------------
# (Last: bob's failures lock $CLI_ADDR too, which would answer carol's
# login from there LOCKED.) The refused logins above each counted a
# failure on their source address: cleared (with vpnctl on B), so that
# only bob's own failures count on his.
for src in "$CLI_ADDR" "$CLI2_ADDR"; do
	[ "$(lock_count source "$src")" -eq 0 ] ||
		ip netns exec "$ns_srv2" "$VPNCTL" -c "$tmp/vpnd2.conf" \
			unlock "$src"
	[ "$(lock_count source "$src")" -eq 0 ]
done
for i in 1 2 3; do
	vpnc_on a "bob-wrong$i" bob "$ns_cli" "wrong password $i" "$(totp "$bob")"
	ended "bob-wrong$i" "$VPNC_PID"
	refused "bob-wrong$i"
done
[ "$(audit "$tmp/vpnd.log" bob failed bad-password)" -eq 3 ]
# B reads the counter A wrote.
[ "$(vpnctl2_json locks | json_select count kind=user key=bob | single)" -eq 3 ]
vpnc_on b bob-b bob "$ns_cli2" "$PASSWORD" "$(totp "$bob")"
ended bob-b "$VPNC_PID"
[ "$rc" -eq 3 ]
grep -q 'error: login locked after too many failures; try again in [0-9]* s' \
	"$tmp/bob-b.log"
no_device "$ns_cli2"
[ "$(audit "$tmp/vpnd2.log" bob locked locked-user)" -eq 1 ]
refute grep -q 'login user=bob .*result=ok' "$tmp/vpnd.log" "$tmp/vpnd2.log"
# The source counter A wrote holds on B too, whoever logs in from there.
[ "$(vpnctl2_json locks | json_select count kind=source "key=$CLI_ADDR" |
	single)" -eq 3 ]
vpnc_on b dave-b dave "$ns_cli" "$PASSWORD" "$(totp "$dave")"
ended dave-b "$VPNC_PID"
[ "$rc" -eq 3 ]
grep -q 'error: login locked after too many failures; try again in [0-9]* s' \
	"$tmp/dave-b.log"
no_device "$ns_cli"
[ "$(audit "$tmp/vpnd2.log" dave locked locked-source)" -eq 1 ]

stop_vpnd
kill -TERM "$VPND2_PID"
wait "$VPND2_PID"
