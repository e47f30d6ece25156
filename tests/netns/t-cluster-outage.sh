#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A database outage is not a VPN outage (issue 15, item 4): node A in
# $ns_srv and node B in $ns_srv2 share one PostgreSQL store (lib.sh
# ns-node2, ns-pg), which the test stops (pg_ctl -m fast: every
# connection cut) while alice's session on A carries pings.
#
# While it is down: alice's pings keep crossing A; both nodes say so in
# their status (store = unreachable), metrics (vpnd_store_up 0) and log; a
# new login on B (dave's AUTH_REQUEST, right password and code, sent by
# tests/tools/pyvpn.py) is answered BUSY with RETRY_AFTER, never admitted
# without its check; bob's new vpnc on B is answered BUSY too (its RESUME)
# and waits to try again. Once the server is back (same data): both nodes
# say the store can be reached again, bob's same vpnc, retrying, logs in
# on B with the code it was given, and nothing was lost: alice's session
# and admission are the ones from before, and the failure carol earned
# before the outage is still counted.
source "$(dirname "$0")/lib.sh"

# store_is NODE STATE: the node's (a or b) status reads store = STATE.
store_is() {
	local ctl=vpnctl_json
	[ "$1" = a ] || ctl=vpnctl2_json
	[ "$($ctl status | json_select store | single)" = "$2" ]
}

# store_up NODE VALUE: the node's (a or b) metrics read vpnd_store_up VALUE.
store_up() {
	local ns=$ns_srv conf=$tmp/vpnd.conf
	[ "$1" = a ] || ns=$ns_srv2 conf=$tmp/vpnd2.conf
	ip netns exec "$ns" "$VPNCTL" -c "$conf" metrics |
		grep -qx "vpnd_store_up\({[^}]*}\)\{0,1\} $2"
}

setup_topology
setup_client2
setup_pg
write_vpnd_conf "user-db = \"$PG_CONNINFO\""
setup_node2
alice=$(enrol alice)
bob=$(enrol bob)
carol=$(enrol carol)
dave=$(enrol dave)
[ ${#alice} -eq 32 ] && [ ${#bob} -eq 32 ] && [ ${#carol} -eq 32 ] &&
	[ ${#dave} -eq 32 ]
write_vpnc_conf alice alice
write_vpnc_conf carol carol
write_vpnc_conf bob bob
# bob names node B only (several server lines would be tried in turn).
sed -i "s|^server = .*|server = \"$SRV2_ADDR:51900\"|" "$tmp/bob.conf"
grep -qx "server = \"$SRV2_ADDR:51900\"" "$tmp/bob.conf"
start_vpnd
start_vpnd2

# Before: carol fails once on A (a counter to keep), alice is admitted on A.
start_vpnc carol "wrong password" "$(totp "$carol")"
wait_gone "$VPNC_PID" 200
rc=0
wait "$VPNC_PID" || rc=$?
[ "$rc" -eq 3 ]
[ "$(lock_count user carol)" -eq 1 ]
start_vpnc alice "$PASSWORD" "$(totp "$alice")"
ALICE_PID=$VPNC_PID
wait_log "$tmp/alice.log" "connected as alice"
wait_session alice
key=$(client_key alice)
addr=$(session_field alice address4)
login_time=$(session_field alice login_time)
q_cli ping -i 0.2 -w 60 $LAN_HOST >"$tmp/alice.ping" 2>&1 &
pids+=("$!")
wait_log "$tmp/alice.ping" "bytes from $LAN_HOST" 5

# ---- PostgreSQL down ---------------------------------------------------------
stop_pg
wait_for 10 store_is a unreachable
wait_for 10 store_is b unreachable
store_up a 0
store_up b 0
log_has "$tmp/vpnd.log" "the user store cannot be reached"
log_has "$tmp/vpnd2.log" "the user store cannot be reached"
# alice's traffic still crosses A.
before=$(echo_replies "$ns_cli")
wait_for 10 replies_since "$ns_cli" "$before" 10
kill -0 "$ALICE_PID"
# dave's login on B is answered BUSY with RETRY_AFTER.
ip netns exec "$ns_cli2" /usr/bin/python3 -B - "$top/tests/tools" \
	"$SRV2_ADDR:51900" "$SERVER_PUB" "$PASSWORD" "$(totp "$dave")" \
	>"$tmp/dave.log" 2>&1 <<'EOF' || { cat "$tmp/dave.log"; false; }
import base64, os, struct, sys
sys.path.insert(0, sys.argv[1])
import pyvpn as v

server, pub = sys.argv[2], base64.b64decode(sys.argv[3])
p = v.Peer(server, pub, os.urandom(32), bytes(32))
p.handshake()
rid = 0x5eed
c, _, _ = p.request(v.ctl_encode(v.CTL_AUTH_REQUEST, [
    (v.A_REQUEST_ID, struct.pack("<I", rid)), (v.A_USERNAME, b"dave"),
    (v.A_PASSWORD, sys.argv[4].encode()), (v.A_TOTP, sys.argv[5].encode())]),
    rid)
v.expect(c.get(v.A_STATUS) == bytes([3]), "status %r, not BUSY"
         % c.get(v.A_STATUS))
retry = c.get(v.A_RETRY_AFTER)
v.expect(retry is not None, "BUSY without RETRY_AFTER")
print("dave: BUSY, retry after %d s" % struct.unpack("<I", retry)[0])
EOF
cat "$tmp/dave.log"
log_has "$tmp/vpnd2.log" \
	"login user=dave src=$CLI2_ADDR:[0-9]* result=busy reason=store-unreachable "
# bob's vpnc on B is answered BUSY, and waits to try again.
VPNC_NS=$ns_cli2 start_vpnc bob "$PASSWORD" "$(totp "$bob")"
BOB_PID=$VPNC_PID
wait_log "$tmp/bob.log" "the server is busy; trying again in [0-9]* s" 20
refute log_has "$tmp/bob.log" "connected as"
kill -0 "$BOB_PID"
refute grep -q "result=ok" <(grep -v "user=alice" "$tmp/vpnd.log") \
	"$tmp/vpnd2.log"
before=$(echo_replies "$ns_cli")
wait_for 10 replies_since "$ns_cli" "$before" 5

# ---- PostgreSQL back -----------------------------------------------------------
start_pg
wait_for 20 store_is a ok
wait_for 20 store_is b ok
store_up a 1
store_up b 1
log_has "$tmp/vpnd.log" "the user store can be reached again"
log_has "$tmp/vpnd2.log" "the user store can be reached again"
# bob's vpnc, retrying, gets in on B.
wait_log "$tmp/bob.log" "connected as bob" 30
[ "$(vpnctl2_json sessions | json_select user state=admitted | single)" = bob ]
# (Node B has no office LAN behind it: its own tunnel address.)
q_cli2 ping -c 2 -i 0.2 -W 2 $TUN_SRV >/dev/null
# Nothing lost: alice's session is the one from before, with its address
# and login time, and the store still holds her admission; carol's
# failure is still counted.
[ "$(session_field alice address4 "$key")" = "$addr" ]
[ "$(session_field alice login_time "$key")" = "$login_time" ]
[ "$(device_field alice "$key" admitted)" = true ]
[ "$(lock_count user carol)" -eq 1 ]
before=$(echo_replies "$ns_cli")
wait_for 10 replies_since "$ns_cli" "$before" 5
# alice logged in once, bob once (after the outage), dave never.
[ "$(count_log "$tmp/vpnd.log" "login user=alice .*result=ok")" -eq 1 ]
[ "$(count_log "$tmp/vpnd2.log" "login user=bob .*result=ok")" -eq 1 ]
refute grep -q "login user=dave .*result=ok" "$tmp/vpnd.log" "$tmp/vpnd2.log"

stop_vpnd
kill -TERM "$VPND2_PID"
wait "$VPND2_PID"
