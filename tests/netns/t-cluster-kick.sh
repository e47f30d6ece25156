#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A change made through one node, or straight in the store, ends a live
# session held by another node within a second (issue 15, item 3): node A
# in $ns_srv and node B in $ns_srv2 share one PostgreSQL store (lib.sh
# ns-node2, ns-pg), and each learns of the other's changes by the store's
# notification, not by polling on the packet path.
#
#  1. alice, admitted on A, is kicked with vpnctl against B's control
#     socket: B has no session of hers, ends her admission in the store,
#     and A ends her session (DISCONNECT "ended by an administrator")
#     within a second of vpnctl's answer; her vpnc, with no code left to
#     give, exits 4.
#  2. bob, admitted on A, is disabled with `vpnctl user disable` against
#     the store from B's namespace: A ends his session ("account
#     disabled") within a second, and the store holds no admission of his.
source "$(dirname "$0")/lib.sh"

# ms: the time in milliseconds.
ms() { echo $(($(date +%s%N) / 1000000)); }

# ended_within LOG PATTERN SINCE_MS LIMIT_MS: LOG gets a line matching
# PATTERN no later than LIMIT_MS after SINCE_MS (polled every 50 ms for
# at most 5 s, so a miss shows how late it was).
ended_within() {
	local i late
	for ((i = 0; i < 100; i++)); do
		log_has "$1" "$2" && break
		sleep 0.05
	done
	log_has "$1" "$2"
	late=$(($(ms) - $3))
	echo "'$2' in $(basename "$1") $late ms after the change"
	((late <= $4))
}

# vpnc_exit NAME PID STATUS: the vpnc of NAME exits (at most 20 s) with
# STATUS.
vpnc_exit() {
	local rc=0
	wait_gone "$2" 200
	wait "$2" || rc=$?
	echo "$1: exit $rc"
	[ "$rc" -eq "$3" ]
}

setup_topology
setup_pg
write_vpnd_conf "user-db = \"$PG_CONNINFO\""
setup_node2
alice=$(enrol alice)
bob=$(enrol bob)
[ ${#alice} -eq 32 ] && [ ${#bob} -eq 32 ]
write_vpnc_conf alice alice
write_vpnc_conf bob bob
start_vpnd
start_vpnd2

# ---- 1. a kick on B ends a session on A ------------------------------------
start_vpnc alice "$PASSWORD" "$(totp "$alice")"
ALICE_PID=$VPNC_PID
wait_log "$tmp/alice.log" "connected as alice"
wait_session alice
n_cli ping -c 2 -i 0.2 -W 2 $LAN_HOST
key=$(client_key alice)
# B holds no session of hers; the store holds her admission.
[ "$(vpnctl2_json sessions | json_select user state=admitted user=alice |
	wc -l)" -eq 0 ]
[ "$(vpnctl2_json user devices alice | json_select admitted "key=$key" |
	single)" = true ]
n_srv2() { pretty srv2 "$@"; ip netns exec "$ns_srv2" "$@"; }
n_srv2 "$VPNCTL" -c "$tmp/vpnd2.conf" kick alice | tee "$tmp/kick.out"
since=$(ms)
ended_within "$tmp/vpnd.log" "admission ended: ended by an administrator" \
	"$since" 1000
no_session alice
[ "$(device_field alice "$key" admitted)" = false ]
wait_log "$tmp/alice.log" "ended by an administrator" 5
vpnc_exit alice "$ALICE_PID" 4
no_device "$ns_cli"

# ---- 2. a disable in the store ends a session on A -------------------------
start_vpnc bob "$PASSWORD" "$(totp "$bob")"
BOB_PID=$VPNC_PID
wait_log "$tmp/bob.log" "connected as bob"
wait_session bob
n_cli ping -c 2 -i 0.2 -W 2 $LAN_HOST
key=$(client_key bob)
n_srv2 "$VPNCTL" -c "$tmp/vpnd2.conf" user disable bob
since=$(ms)
ended_within "$tmp/vpnd.log" "admission ended: account disabled" \
	"$since" 1000
no_session bob
[ "$(device_field bob "$key" admitted)" = false ]
wait_log "$tmp/bob.log" "account disabled" 5
vpnc_exit bob "$BOB_PID" 4
no_device "$ns_cli"
# Each login was checked once, on A; B checked none.
[ "$(count_log "$tmp/vpnd.log" "login user=.* result=ok")" -eq 2 ]
[ "$(count_log "$tmp/vpnd2.log" "login user=")" -eq 0 ]

stop_vpnd
kill -TERM "$VPND2_PID"
wait "$VPND2_PID"
