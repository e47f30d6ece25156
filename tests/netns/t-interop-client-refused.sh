#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vpnc against the independent server of tests/tools/pyvpn.py (see
# t-interop-client.sh), for the answers that are not a plain OK:
#   status  an unknown STATUS, AUTH_FAILED, LOCKED with RETRY_AFTER and
#           POOL_EXHAUSTED: vpnc gives up at once, says why (with the
#           server's MESSAGE), and exits
#           with its refusal status 3 (no terminal); BUSY with
#           RETRY_AFTER: a new AUTH_REQUEST (new REQUEST_ID) that much
#           later, then connected
#   required  AUTH_REQUIRED on an admitted session: device removed, and
#           with no input left vpnc exits 4 with a clear message
#   logout  vpnc --logout sends DISCONNECT with an empty LOGOUT, checks
#           it with a RESUME on a new session and sends it again when
#           that is answered OK
#   timers  with its timers divided by 20, vpnc (the initiator) rekeys
#           once its keypair is REKEY_AFTER_TIME old and sends nothing on
#           keys older than REJECT_AFTER_TIME; data in and nothing to send
#           gives a keepalive after KEEPALIVE_TIMEOUT, data out and nothing
#           back a new handshake after KEEPALIVE_TIMEOUT + REKEY_TIMEOUT
#   cookie  under "load" the server answers initiations with cookie
#           replies: bogus ones (another key, another receiver_index,
#           another mac1) are ignored, a valid one makes vpnc retry with
#           mac2 = MAC(cookie, msg[0:132]), the cookie bound to its source
#           address and port; then it logs in
source "$(dirname "$0")/lib.sh"

source "$(dirname "$0")/lib-interop-client.sh"

setup_topology
interop_client_setup

# refused LABEL STATUS RETRY_AFTER MESSAGE: vpnc is answered STATUS (with
# RETRY_AFTER unless empty) and must exit 3, having logged MESSAGE.
refused() {
	local label=$1 status=$2 retry=$3 message=$4 extra=()
	[ -z "$retry" ] || extra=(--retry-after "$retry")
	cp "$tmp/cli.conf" "$tmp/$label.conf"
	pysrv "$label" status --status "$status" "${extra[@]}" "${push[@]}"
	start_vpnc "$label" "$PASSWORD" "$CODE"
	vpnc_exited
	[ "$VPNC_RC" -eq 3 ]
	wait "$PYSRV_PID"
	cat "$PYSRV_LOG"
	log_has "$tmp/$label.log" "$message"
	# The server's MESSAGE shown to the person, on the same line.
	log_has "$tmp/$label.log" \
		"$message.* (the server says \"pyvpn says status $status\")$"
	no_device "$ns_cli"
	no_sanitizer "$tmp/$label.log"
}

refused unknown 9 "" "login refused (status 9)"
refused failed 1 "" "login failed: wrong user name, password or code"
refused locked 2 300 \
	"login locked after too many failures; try again in 300 s"
refused pool 4 "" "the server has no free tunnel address"

# AUTH_REQUIRED on an admitted session: the device goes, and without a
# terminal or input left vpnc says so and exits 4.
cp "$tmp/cli.conf" "$tmp/required.conf"
pysrv required required "${push[@]}"
start_vpnc required "$PASSWORD" "$CODE"
at up
[ "$(dev_addrs)" = "10.99.0.7/24 fd00:99::7/64" ]
past up
vpnc_exited
[ "$VPNC_RC" -eq 4 ]
wait "$PYSRV_PID"
cat "$PYSRV_LOG"
log_has "$tmp/required.log" \
	"the server asks us to log in again (the server says \"log in again\")$"
log_has "$tmp/required.log" "no terminal to ask"
no_device "$ns_cli"
no_sanitizer "$tmp/required.log"

# BUSY, RETRY_AFTER 2: the same login again two seconds later.
cp "$tmp/cli.conf" "$tmp/busy.conf"
pysrv busy status --status 3 --retry-after 2 "${push[@]}"
start_vpnc busy "$PASSWORD" "$CODE"
at bye 30
log_has "$tmp/busy.log" "the server is busy; trying again in 2 s"
log_has "$tmp/busy.log" "connected as alice on vpn0, address 10.99.0.7/24"
[ "$(dev_addrs)" = "10.99.0.7/24 fd00:99::7/64" ]
kill -TERM "$VPNC_PID"
vpnc_exited
[ "$VPNC_RC" -eq 0 ]
wait "$PYSRV_PID"
cat "$PYSRV_LOG"
no_sanitizer "$tmp/busy.log"

# vpnc --logout: DISCONNECT with LOGOUT, checked with a RESUME on a new
# session; answered OK (the logout "lost"), it sends the logout again,
# answered AUTH_REQUIRED it reports the logout confirmed and exits 0.
cp "$tmp/cli.conf" "$tmp/logout.conf"
pysrv logout logout "${push[@]}"
start_vpnc logout "$PASSWORD" "$CODE" --logout
vpnc_exited
[ "$VPNC_RC" -eq 0 ]
wait "$PYSRV_PID"
cat "$PYSRV_LOG"
log_has "$tmp/logout.log" "still holds the login .*sending it again"
log_has "$tmp/logout.log" "logged out: the server confirmed it"
refute log_has "$tmp/logout.log" "connected as"
no_device "$ns_cli"
no_sanitizer "$tmp/logout.log"

# vpnc's own timers, every protocol timer divided by 20: REKEY_AFTER_TIME
# 6 s, REJECT_AFTER_TIME 9 s (the pings keep it sending past both),
# KEEPALIVE_TIMEOUT 0.5 s, REKEY_TIMEOUT 0.25 s.
cp "$tmp/cli.conf" "$tmp/timers.conf"
echo 'test-timer-divisor = 20' >>"$tmp/timers.conf"
pysrv timers timers --rekey-after 6 --reject-after 9 --rekey-timeout 0.25 \
	--keepalive-timeout 0.5 "${push[@]}"
start_vpnc timers "$PASSWORD" "$CODE"
at up
n_cli ping -q -c 50 -i 0.2 -W 1 10.99.0.1
past up
at bye
kill -TERM "$VPNC_PID"
vpnc_exited
[ "$VPNC_RC" -eq 0 ]
wait "$PYSRV_PID"
cat "$PYSRV_LOG"
no_sanitizer "$tmp/timers.log"

# The cookie path, with REKEY_TIMEOUT shortened to 1 s.
cp "$tmp/cli.conf" "$tmp/cookie.conf"
echo 'test-timer-divisor = 5' >>"$tmp/cookie.conf"
pysrv cookie cookie --rekey-timeout 1 "${push[@]}"
start_vpnc cookie "$PASSWORD" "$CODE"
at up 30
log_has "$tmp/cookie.log" "connected as alice on vpn0"
n_cli ping -c 2 -i 0.3 -W 3 10.99.0.1
past up
at bye
kill -TERM "$VPNC_PID"
vpnc_exited
[ "$VPNC_RC" -eq 0 ]
wait "$PYSRV_PID"
cat "$PYSRV_LOG"
no_sanitizer "$tmp/cookie.log"
echo "ok"
