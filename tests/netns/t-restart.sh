#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Restarts within a login's lifetime (PROTOCOL.md section 6, rules 1, 6
# and 8). vpnd stops cleanly (SIGTERM: exit 0, its device gone) and comes
# back with the same store; the running vpnc, told "server shutdown",
# removes its device, retries on its own without hammering the dead
# server, and once vpnd is back resumes the login with RESUME: no password
# or code (its stdin held them once; a second prompt would make it exit
# 4), the same tunnel address, traffic both ways. Then vpnc itself
# restarts with nothing at all on stdin and resumes too; and after
# `vpnc --logout` a start without input is refused a resume, which shows
# the resumes above were earned by the stored admission. vpnd is asked
# (vpnctl sessions, user devices) for the session and the admission.
source "$(dirname "$0")/lib.sh"

# start_vpnc_noinput LOG: vpnc with nothing on stdin; sets VPNC_PID.
start_vpnc_noinput() {
	ip netns exec "$ns_cli" "$VPNC" -c "$tmp/alice.conf" -v </dev/null \
		>>"$tmp/$1.log" 2>&1 &
	VPNC_PID=$!
	pids+=("$VPNC_PID")
}

# count_above DEV TYPE N: more than N datagrams of TYPE have left DEV.
count_above() {
	(($(wire_count "$1" "$2") > $3))
}

setup_topology
write_vpnd_conf
write_vpnc_conf alice alice
secret=$(enrol alice)
wire_counters wan0
start_vpnd
start_vpnc alice "$PASSWORD" "$(totp "$secret")" -v
wait_log "$tmp/alice.log" "connected as alice"
addr=$(client_addr "$tmp/alice.log")
[ -n "$addr" ]
[ "$(session_field alice address4)" = "$addr" ]
key=$(client_key alice)
login_time=$(session_field alice login_time)
n_cli ping -c 2 -i 0.2 -W 2 $LAN_HOST

# vpnd stops: a clean exit, nothing left behind; the client is told and
# takes its device down.
stop_vpnd
no_device "$ns_srv"
wait_log "$tmp/alice.log" "server shutdown; reconnecting in 1 s"
wait_for 10 no_device "$ns_cli"
kill -0 "$VPNC_PID"

# While the server is away the client retries its handshake every
# REKEY_TIMEOUT (5 s), not faster: at most 3 initiations in 6 s; and it
# does retry (waited for, should a loaded machine have delayed its timer).
init=$(wire_count wan0 1)
sleep 6
tries=$(($(wire_count wan0 1) - init))
echo "initiations while vpnd was down: $tries"
((tries <= 3))
wait_for 10 count_above wan0 1 "$init"

# vpnd is back with the same store (a fresh log, to read only its lines).
mv "$tmp/vpnd.log" "$tmp/vpnd-1.log"
start_vpnd
wait_for 20 bash -c "[ \$(grep -c 'connected as alice' '$tmp/alice.log') -eq 2 ]"
[ "$(client_addr "$tmp/alice.log")" = "$addr" ]
# The new vpnd holds the admission it found in the store: the same
# address, the same login time, no new check.
[ "$(session_field alice address4 "$key")" = "$addr" ]
[ "$(endpoint_host "$(session_field alice endpoint)")" = "$CLI_ADDR" ]
[ "$(session_field alice login_time)" = "$login_time" ]
refute grep -q "login user=" "$tmp/vpnd.log"
[ "$(count_log "$tmp/alice.log" "asks us to log in")" -eq 1 ]
n_cli ping -c 3 -i 0.2 -W 2 $LAN_HOST
n_lan ping -c 3 -i 0.2 -W 2 "$addr"

# vpnc restarts with the same key and nothing on stdin: RESUME suffices.
kill -TERM "$VPNC_PID"
wait "$VPNC_PID"
no_device "$ns_cli"
start_vpnc_noinput alice-2
wait_log "$tmp/alice-2.log" "connected as alice"
[ "$(client_addr "$tmp/alice-2.log")" = "$addr" ]
[ "$(session_field alice address4 "$key")" = "$addr" ]
[ "$(session_field alice login_time)" = "$login_time" ]
refute log_has "$tmp/alice-2.log" "asks us to log in"
refute grep -q "login user=" "$tmp/vpnd.log"
n_cli ping -c 3 -i 0.2 -W 2 $LAN_HOST
n_lan ping -c 3 -i 0.2 -W 2 "$addr"
kill -TERM "$VPNC_PID"
wait "$VPNC_PID"

# After a logout the same start is refused a resume: exit 4, no device.
n_cli "$VPNC" -c "$tmp/alice.conf" --logout </dev/null >>"$tmp/logout.log" 2>&1
log_has "$tmp/logout.log" "logged out: the server confirmed it"
# The store has ended the admission, and vpnd holds no session.
wait_for 5 device_is alice "$key" admitted false
wait_no_session alice 5
start_vpnc_noinput alice-3
rc=0
wait "$VPNC_PID" || rc=$?
[ "$rc" -eq 4 ]
log_has "$tmp/alice-3.log" "login required"
no_device "$ns_cli"

stop_vpnd
no_device "$ns_srv"
echo "ok"
