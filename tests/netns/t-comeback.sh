#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A client that gave up waiting for its login's answer and came back (vpnc
# reconnects after 10 s without one, then RESUMEs: under a login storm the
# check may still be queued). With one check thread busy with three of
# bob's wrong passwords, alice's right login waits in the queue; alice comes back with
# a new handshake and RESUME meanwhile. vpnd answers that RESUME once her
# check is done, from what it decided: OK. Before, it answered
# AUTH_REQUIRED at once, and her code, spent by the first check, was
# refused as reused when vpnc sent it again.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-attack.sh"

setup_topology
write_vpnd_conf "auth-workers = 1" "auth-per-source = 8"
secret=$(enrol alice)
enrol bob >/dev/null
start_vpnd

attack "$ns_cli" "$tmp/comeback.log" comeback --bind "$CLI_ADDR" \
	--user alice --password "$PASSWORD" --code "$(totp "$secret")" \
	--user2 bob
log_has "$tmp/comeback.log" "^comeback: .* answered OK"
# One check each, in that order; no second check of alice's code.
[ "$(grep -o 'login user=[a-z]* [^ ]* result=[a-z]*' "$tmp/vpnd.log" |
	sed 's/ src=[^ ]*//' | paste -sd' ')" = \
	"login user=bob result=failed login user=bob result=failed login user=bob result=failed login user=alice result=ok" ]
