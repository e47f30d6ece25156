#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A vpnd node started while its PostgreSQL server is down (a node
# rebooted during the database's maintenance): one vpnd on PostgreSQL
# (lib.sh ns-pg).
#
# First, a store that answers but refuses is configuration, not an
# outage: with a conninfo naming a database that does not exist (the
# server up), vpnd refuses to start and says why.
#
# Then a device of alice's logs in once (its admission stays in the
# store), vpnd stops, the server stops, and vpnd starts without it: it is
# ready, status says store = unreachable, vpnd_store_up 0, the log says
# it once; alice's new vpnc is answered BUSY with RETRY_AFTER (it keeps
# her password and code and asks again), so is an AUTH_REQUEST (dave's,
# audited as store-unreachable), and the second device's RESUME too. The server back: vpnd loads the admission it could not at start
# (its log says so), status ok, alice's login succeeds and her pings pass
# the tunnel, and the second device resumes without a code.
source "$(dirname "$0")/lib.sh"

store_is() { [ "$(status_field store)" = "$1" ]; }
metric() {
	ip netns exec "$ns_srv" "$VPNCTL" -c "$tmp/vpnd.conf" metrics |
		awk -v k="$1" '$1 == k { v = $2 } END { print v + 0 }'
}
busy_answers() { [ "$(count_log "$1" "the server is busy")" -ge "$2" ]; }

setup_topology
setup_pg

# ---- a database that does not exist: vpnd refuses to start -------------------
write_vpnd_conf "user-db = \"$PG_CONNINFO dbname=no_such_db\""
rc=0
timeout 30 ip netns exec "$ns_srv" "$VPND" -f -c "$tmp/vpnd.conf" \
	>"$tmp/vpnd-refused.log" 2>&1 || rc=$?
# Not ready, not killed by timeout (124): it exited on its own, failing.
((rc != 0 && rc != 124))
log_has "$tmp/vpnd-refused.log" \
	'refused by PostgreSQL: .*database "no_such_db" does not exist'
refute log_has "$tmp/vpnd-refused.log" "cannot be reached"

# ---- an admission made while the server was up --------------------------------
rm "$tmp/server.key" # write_vpnd_conf makes a new one
write_vpnd_conf "user-db = \"$PG_CONNINFO\""
alice=$(enrol alice)
dave=$(enrol dave)
[ ${#alice} -eq 32 ] && [ ${#dave} -eq 32 ]
write_vpnc_conf alice alice
write_vpnc_conf laptop2 alice 'interface = "vpn1"'
start_vpnd
start_vpnc laptop2 "$PASSWORD" "$(totp "$alice")"
L2_PID=$VPNC_PID
wait_log "$tmp/laptop2.log" "connected as alice"
kill -TERM "$L2_PID"
wait "$L2_PID"
stop_vpnd
[ "$(pg_sql "SELECT count(*) FROM admissions")" -eq 1 ]

# ---- vpnd starts with the server down -------------------------------------------
stop_pg
start_vpnd
[ "$(status_field store)" = unreachable ]
[ "$(metric vpnd_store_up)" -eq 0 ]
[ "$(count_log "$tmp/vpnd.log" "cannot be reached at start")" -eq 1 ]
# A login: vpnc's first RESUME is answered BUSY, and vpnc keeps its
# password and code for the next try.
start_vpnc alice "$PASSWORD" "$(totp "$alice" 1)"
ALICE_PID=$VPNC_PID
wait_for 20 busy_answers "$tmp/alice.log" 1
# An AUTH_REQUEST: BUSY with RETRY_AFTER, from vpnd itself.
q_cli /usr/bin/python3 -B - "$top/tests/tools" "$SRV_ADDR:51900" \
	"$SERVER_PUB" "$PASSWORD" "$(totp "$dave")" >"$tmp/dave.log" 2>&1 \
	<<'EOF' || { cat "$tmp/dave.log"; false; }
import base64, os, struct, sys
sys.path.insert(0, sys.argv[1])
import pyvpn as v

p = v.Peer(sys.argv[2], base64.b64decode(sys.argv[3]), os.urandom(32),
           bytes(32))
p.handshake()
rid = 0x5eed
c, _, _ = p.request(v.ctl_encode(v.CTL_AUTH_REQUEST, [
    (v.A_REQUEST_ID, struct.pack("<I", rid)), (v.A_USERNAME, b"dave"),
    (v.A_PASSWORD, sys.argv[4].encode()), (v.A_TOTP, sys.argv[5].encode())]),
    rid)
v.expect(c.get(v.A_STATUS) == bytes([3]), "status %r, not BUSY"
         % c.get(v.A_STATUS))
retry = c.get(v.A_RETRY_AFTER)
v.expect(retry == struct.pack("<I", 5), "RETRY_AFTER %r, not 5 s" % retry)
EOF
log_has "$tmp/vpnd.log" \
	"login user=dave src=$CLI_ADDR:[0-9]* result=busy reason=store-unreachable "
# The second device: its RESUME is answered BUSY, never "log in".
ip netns exec "$ns_cli" "$VPNC" -c "$tmp/laptop2.conf" </dev/null \
	>"$tmp/laptop2-2.log" 2>&1 &
L2_PID=$!
pids+=("$L2_PID")
wait_for 20 busy_answers "$tmp/laptop2-2.log" 1
refute log_has "$tmp/laptop2-2.log" "log in"
refute log_has "$tmp/alice.log" "connected as alice"
kill -0 "$ALICE_PID"
kill -0 "$L2_PID"
[ "$(status_field store)" = unreachable ]

# ---- the server back ----------------------------------------------------------------
start_pg
wait_for 20 store_is ok
[ "$(metric vpnd_store_up)" -eq 1 ]
log_has "$tmp/vpnd.log" "1 admissions in the store"
wait_log "$tmp/alice.log" "connected as alice" 30
q_cli ping -I vpn0 -c 3 -w 10 $LAN_HOST >"$tmp/alice.ping" 2>&1
wait_log "$tmp/laptop2-2.log" "connected as alice" 30
refute log_has "$tmp/laptop2-2.log" "log in"
[ "$(count_log "$tmp/vpnd.log" "cannot be reached at start")" -eq 1 ]
[ "$(count_log "$tmp/vpnd.log" "the user store can be reached again")" -eq 1 ]
# The store's own lines: absent at start and connected, once each for
# all of vpnd's connections; nothing was lost.
[ "$(count_log "$tmp/vpnd.log" "PostgreSQL cannot be reached")" -eq 1 ]
[ "$(count_log "$tmp/vpnd.log" "connected to PostgreSQL")" -eq 1 ]
refute log_has "$tmp/vpnd.log" "lost the connection"
[ "$(session_count alice)" -eq 2 ]

kill -TERM "$L2_PID" "$ALICE_PID"
wait "$L2_PID"
wait "$ALICE_PID"
stop_vpnd
echo "ok"
