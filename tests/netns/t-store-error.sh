#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A user store that fails is not "this client has no admission"
# (PROTOCOL.md section 6, rule 1: expiry, a kick or a disabled account end
# one). While vpnd's periodic refresh cannot read the admissions (another
# program has renamed their table away), the admitted client keeps its
# session and its traffic: no DISCONNECT, no second login (it has nothing
# more on stdin: a second login would make it exit 4). A new client's
# RESUME meanwhile goes unanswered rather than refused, and succeeds once
# the store answers again. A kick still works afterwards, so the refresh
# was not simply switched off.
source "$(dirname "$0")/lib.sh"

# sql STATEMENT: runs one statement on the store beside vpnd.
sql() {
	/usr/bin/python3 - "$tmp/users.db" "$1" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
db.execute(sys.argv[2])
db.close()
EOF
}

setup_topology
# Housekeeping (the admission refresh) every 10 s / 10 = 1 s.
write_vpnd_conf "test-timer-divisor = 10"
write_vpnc_conf alice alice
write_vpnc_conf laptop2 alice 'interface = "vpn1"'
secret=$(enrol alice)
start_vpnd
start_vpnc alice "$PASSWORD" "$(totp "$secret")"
wait_log "$tmp/alice.log" "connected as alice"
ALICE_PID=$VPNC_PID
addr=$(client_addr "$tmp/alice.log")
key=$(client_key alice)
[ "$(session_field alice address4 "$key")" = "$addr" ]
login_time=$(session_field alice login_time "$key")
# A second device logs in too, then stops: its admission stays for later.
start_vpnc laptop2 "$PASSWORD" "$(totp "$secret" 1)"
wait_log "$tmp/laptop2.log" "connected as alice"
kill -TERM "$VPNC_PID"
wait "$VPNC_PID"

sql "ALTER TABLE admissions RENAME TO admissions_away"
# The store's jobs fail (housekeeping's prune at least, every 10 s):
# vpnd counts them in its status.
store_failed() { [ "$(status_field store_failures)" -gt 0 ]; }
wait_for 15 store_failed
sleep 3
n_cli ping -c 2 -i 0.2 -W 2 $LAN_HOST
# The second device comes back meanwhile: its RESUME waits.
ip netns exec "$ns_cli" "$VPNC" -c "$tmp/laptop2.conf" </dev/null \
	>"$tmp/laptop2-2.log" 2>&1 &
VPNC_PID=$!
pids+=("$VPNC_PID")
sleep 3
refute log_has "$tmp/laptop2-2.log" "log in"
kill -0 "$VPNC_PID"
sql "ALTER TABLE admissions_away RENAME TO admissions"
wait_log "$tmp/laptop2-2.log" "connected as alice" 20
refute log_has "$tmp/laptop2-2.log" "log in"
kill -TERM "$VPNC_PID"
wait "$VPNC_PID"

# The first client never noticed.
sleep 2
refute log_has "$tmp/alice.log" "reconnecting"
[ "$(count_log "$tmp/alice.log" "log in")" -eq 1 ]
kill -0 "$ALICE_PID"
# For vpnd too: the session it had, from the same login.
[ "$(session_field alice login_time "$key")" = "$login_time" ]
[ "$(session_field alice address4 "$key")" = "$addr" ]
[ "$(device_field alice "$key" admitted)" = true ]
n_cli ping -c 3 -i 0.2 -W 2 $LAN_HOST
n_lan ping -c 2 -i 0.2 -W 2 "$addr"
[ "$(count_log "$tmp/vpnd.log" "login user=")" -eq 2 ]

# A kick still ends the admission at the next refresh; with nobody to
# ask, the client exits 4.
"$VPNCTL" -c "$tmp/vpnd.conf" user disable alice >/dev/null
wait_no_session alice 10
[ "$(device_field alice "$key" admitted)" = false ]
rc=0
wait_gone "$ALICE_PID" 200
wait "$ALICE_PID" || rc=$?
[ "$rc" -eq 4 ]
no_device "$ns_cli"

stop_vpnd
echo "ok"
