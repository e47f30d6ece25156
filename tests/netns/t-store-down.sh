#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A user store that cannot be reached, as vpnd shows and answers it: one
# vpnd on PostgreSQL (lib.sh ns-pg), the server stopped while alice's
# session passes pings.
#
# While it is down: vpnctl status says store = unreachable, since when
# and for how long (text and JSON); the metrics say vpnd_store_up 0 and
# count store errors; an AUTH_REQUEST is answered BUSY with RETRY_AFTER
# at once (audit reason store-unreachable), and a RESUME from a second
# device of alice's is answered BUSY too (its vpnc waits and asks again),
# never AUTH_REQUIRED; alice's pings and her session go on. The log says
# it once, however many polls, logins and resumes fail. Once the server
# is back: status ok, vpnd_store_up 1, one line saying so, and the second
# device's RESUME, retried, gets its admission without a code.
source "$(dirname "$0")/lib.sh"

store_is() { [ "$(status_field store)" = "$1" ]; }
metric() {
	ip netns exec "$ns_srv" "$VPNCTL" -c "$tmp/vpnd.conf" metrics |
		awk -v k="$1" '$1 == k { v = $2 } END { print v + 0 }'
}
busy_answers() { [ "$(count_log "$1" "the server is busy")" -ge "$2" ]; }

setup_topology
setup_pg
write_vpnd_conf "user-db = \"$PG_CONNINFO\""
alice=$(enrol alice)
dave=$(enrol dave)
[ ${#alice} -eq 32 ] && [ ${#dave} -eq 32 ]
write_vpnc_conf alice alice
write_vpnc_conf laptop2 alice 'interface = "vpn1"'
start_vpnd
# The second device logs in, then stops: its admission stays for later.
start_vpnc laptop2 "$PASSWORD" "$(totp "$alice")"
wait_log "$tmp/laptop2.log" "connected as alice"
kill -TERM "$VPNC_PID"
wait "$VPNC_PID"
start_vpnc alice "$PASSWORD" "$(totp "$alice" 1)"
ALICE_PID=$VPNC_PID
wait_log "$tmp/alice.log" "connected as alice"
key=$(client_key alice)
login_time=$(session_field alice login_time "$key")
q_cli ping -i 0.2 -w 90 $LAN_HOST >"$tmp/alice.ping" 2>&1 &
pids+=("$!")
wait_log "$tmp/alice.ping" "bytes from $LAN_HOST" 5
[ "$(metric vpnd_store_up)" -eq 1 ]

# ---- PostgreSQL down ---------------------------------------------------------
stop_pg
wait_for 10 store_is unreachable
since=$(status_field store_unreachable_since)
now=$(date +%s)
((since <= now && since > now - 60))
[ "$(status_field store_unreachable_for)" -ge 0 ]
ip netns exec "$ns_srv" "$VPNCTL" -c "$tmp/vpnd.conf" status >"$tmp/status"
grep -q '^  user store:   unreachable for .* (since [0-9-]*T[0-9:]*Z)' \
	"$tmp/status"
[ "$(metric vpnd_store_up)" -eq 0 ]
[ "$(metric vpnd_store_errors_total)" -gt 0 ]
before=$(echo_replies "$ns_cli")
wait_for 10 replies_since "$ns_cli" "$before" 10
# A login: BUSY with RETRY_AFTER, from vpnd itself (no check queued).
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
# The second device comes back: its RESUME is answered BUSY, twice.
ip netns exec "$ns_cli" "$VPNC" -c "$tmp/laptop2.conf" </dev/null \
	>"$tmp/laptop2-2.log" 2>&1 &
L2_PID=$!
pids+=("$L2_PID")
wait_for 20 busy_answers "$tmp/laptop2-2.log" 2
refute log_has "$tmp/laptop2-2.log" "log in"
kill -0 "$L2_PID"
# Said once, for every poll, login and resume that failed meanwhile.
[ "$(count_log "$tmp/vpnd.log" "the user store cannot be reached")" -eq 1 ]
before=$(echo_replies "$ns_cli")
wait_for 10 replies_since "$ns_cli" "$before" 5

# ---- PostgreSQL back -----------------------------------------------------------
start_pg
wait_for 20 store_is ok
[ "$(metric vpnd_store_up)" -eq 1 ]
refute status_field store_unreachable_since 2>/dev/null
wait_log "$tmp/laptop2-2.log" "connected as alice" 30
refute log_has "$tmp/laptop2-2.log" "log in"
[ "$(count_log "$tmp/vpnd.log" "the user store cannot be reached")" -eq 1 ]
[ "$(count_log "$tmp/vpnd.log" "the user store can be reached again")" -eq 1 ]
# alice never noticed: the same session, from her one login.
kill -0 "$ALICE_PID"
[ "$(session_field alice login_time "$key")" = "$login_time" ]
[ "$(count_log "$tmp/alice.log" "log in")" -eq 1 ]
refute log_has "$tmp/alice.log" "reconnecting"
before=$(echo_replies "$ns_cli")
wait_for 10 replies_since "$ns_cli" "$before" 5

kill -TERM "$L2_PID"
wait "$L2_PID"
stop_vpnd
echo "ok"
