#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# RESUME names its user (PROTOCOL.md section 6, rule 6): from a key whose
# admission belongs to another user it is answered AUTH_REQUIRED, also
# when it arrives while vpnd is still looking the new session's key up in
# the store (the RESUME then waits for that lookup, and must keep its
# USERNAME while it waits). To make the wait certain, another program
# holds the store's write lock for a few seconds, so the store thread is
# stuck behind a periodic prune when the client connects.
# alice logs in from a key; the same key then comes back configured as
# bob, with nothing on stdin: it must be asked to log in (exit 4), never
# be "connected as bob" on alice's admission. Then the same key as alice
# resumes without a password, so the wait itself refuses nothing.
source "$(dirname "$0")/lib.sh"

# hold_write_lock SECONDS: a write transaction on the store, as a second
# vpnctl or a backup would take; returns once it holds the lock.
hold_write_lock() {
	/usr/bin/python3 - "$tmp/users.db" "$1" >"$tmp/lock.log" 2>&1 <<'EOF' &
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
db.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
db.execute("COMMIT")
print("released", flush=True)
EOF
	LOCK_PID=$!
	pids+=("$LOCK_PID")
	wait_log "$tmp/lock.log" "locked" 10
}

# run_vpnc CONF LOG: vpnc with nothing on stdin, to its end (at most 30 s);
# sets rc.
run_vpnc() {
	ip netns exec "$ns_cli" "$VPNC" -c "$tmp/$1.conf" </dev/null \
		>"$tmp/$2.log" 2>&1 &
	VPNC_PID=$!
	pids+=("$VPNC_PID")
	wait_gone "$VPNC_PID" 300
	rc=0
	wait "$VPNC_PID" || rc=$?
}

setup_topology
# Housekeeping, whose prune job writes to the store, every 10 s / 10 = 1 s.
write_vpnd_conf "test-timer-divisor = 10"
write_vpnc_conf alice alice
secret=$(enrol alice)
enrol bob >/dev/null
start_vpnd
start_vpnc alice "$PASSWORD" "$(totp "$secret")"
wait_log "$tmp/alice.log" "connected as alice"
addr=$(client_addr "$tmp/alice.log")
[ "$(session_field alice address4)" = "$addr" ]
login_time=$(session_field alice login_time)
kill -TERM "$VPNC_PID"
wait "$VPNC_PID"

# The same key, configured as bob.
sed 's/^user = .*/user = "bob"/' "$tmp/alice.conf" >"$tmp/bob.conf"
hold_write_lock 4
# A prune is now stuck behind the lock, and the new session's lookup
# behind the prune.
sleep 1.5
run_vpnc bob bob
cat "$tmp/bob.log"
wait_log "$tmp/lock.log" "released" 10
[ "$rc" -eq 4 ]
log_has "$tmp/bob.log" "the server asks us to log in"
refute log_has "$tmp/bob.log" "connected as"
no_device "$ns_cli"
no_session bob

# The same wait, the key's own user: resumed, same address, no login.
hold_write_lock 4
sleep 1.5
ip netns exec "$ns_cli" "$VPNC" -c "$tmp/alice.conf" </dev/null \
	>"$tmp/alice-2.log" 2>&1 &
VPNC_PID=$!
pids+=("$VPNC_PID")
wait_log "$tmp/alice-2.log" "connected as alice" 20
[ "$(client_addr "$tmp/alice-2.log")" = "$addr" ]
[ "$(session_field alice address4)" = "$addr" ]
[ "$(session_field alice login_time)" = "$login_time" ]
[ "$(count_log "$tmp/vpnd.log" "login user=")" -eq 1 ]
n_cli ping -c 2 -i 0.2 -W 2 $LAN_HOST
kill -TERM "$VPNC_PID"
wait "$VPNC_PID"

stop_vpnd
echo "ok"
