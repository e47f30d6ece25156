#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Lockout (PROTOCOL.md section 6, rules 3 and 4). After lockout-failures
# wrong passwords the next attempt, a correct one included, is answered
# LOCKED with RETRY_AFTER; once that time has passed a correct login
# succeeds. Failures are counted for the source address too, and a
# success gives back only its own attempt there: the user's three
# failures stay on the address (they decay, lockout-source-decay), so
# one more failure from it locks it again. Failures under unknown user
# names from one source address lock that address too, for every name.
source "$(dirname "$0")/lib.sh"

# Long enough that the next vpnc run, on a loaded machine, still meets the
# lock.
LOCK_S=10

# try NAME CONF PASSWORD CODE: one vpnc run with its own log, to its end
# (at most 20 s). Sets rc.
try() {
	local name=$1 conf=$2
	cp "$tmp/$conf.conf" "$tmp/$name.conf"
	start_vpnc "$name" "$3" "$4"
	wait_gone "$VPNC_PID" 200
	rc=0
	wait "$VPNC_PID" || rc=$?
}

# failed NAME: refused with AUTH_FAILED (not LOCKED), no device left.
failed() {
	[ "$rc" -eq 3 ]
	grep -q 'error: login failed: wrong user name' "$tmp/$1.log"
	no_device "$ns_cli"
}

# locked NAME: refused with LOCKED; sets wait_s to the seconds vpnc was
# told to wait, which must be within the lock time.
locked() {
	[ "$rc" -eq 3 ]
	# The server's MESSAGE may follow in parentheses.
	wait_s=$(sed -n 's/.*error: login locked after too many failures; '\
'try again in \([0-9]*\) s\( (.*)\)\{0,1\}$/\1/p' "$tmp/$1.log")
	[ -n "$wait_s" ]
	echo "$1: told to retry in $wait_s s"
	((wait_s >= 1 && wait_s <= LOCK_S))
	no_device "$ns_cli"
}

setup_topology
write_vpnd_conf "lockout-failures = 3" "lockout-time = ${LOCK_S}s" \
	"lockout-max-time = 1m"
write_vpnc_conf alice alice
write_vpnc_conf laptop2 alice
secret=$(enrol alice)
[ ${#secret} -eq 32 ]
start_vpnd

# Three wrong passwords are each plain failures; the third sets the lock.
for i in 1 2 3; do
	try "wrong$i" alice "wrong password $i" "$(totp "$secret")"
	failed "wrong$i"
done
audit="login user=alice src=$CLI_ADDR:[0-9]* result"
[ "$(count_log "$tmp/vpnd.log" "$audit=failed reason=bad-password ")" -eq 3 ]
# The store counted them, and alice's name is locked now.
[ "$(lock_count user alice)" -eq 3 ]
(($(lock_left user alice) > 0))

# The fourth attempt is right, and still answered LOCKED (rule 4).
code=$(totp "$secret")
try locked-user alice "$PASSWORD" "$code"
locked locked-user
grep -q "$audit=locked reason=locked-user " "$tmp/vpnd.log"
refute grep -q 'result=ok' "$tmp/vpnd.log"

# Once RETRY_AFTER has passed, the same right login is let in: the LOCKED
# answer verified and consumed nothing.
sleep "$wait_s"
start_vpnc alice "$PASSWORD" "$code"
wait_log "$tmp/alice.log" "connected as alice" 20
n_cli ping -c 2 -i 0.2 -W 2 $TUN_SRV
kill -TERM "$VPNC_PID"
wait "$VPNC_PID"
no_device "$ns_cli"

# Per source address: the success cleared alice's counter, not the
# address's, which still holds her three failures (the lock on it has
# run out); one more failure, under any name, locks it again (a lock
# twice as long: lockout-time doubles per failure past the limit), and
# alice from a key with no admission, so she must log in, is answered
# LOCKED too.
sources_failures() {
	"$VPNCTL" -c "$tmp/vpnd.conf" locks --json | /usr/bin/python3 -c '
import json, sys
for r in json.load(sys.stdin):
	print(r["kind"], r["key"], r["count"])'
}
[ "$(sources_failures)" = "source $CLI_ADDR 3" ]
write_vpnc_conf nobody0 nobody0
try guess0 nobody0 "$PASSWORD" "$(totp "$secret")"
failed guess0
try locked-again laptop2 "$PASSWORD" "$(totp "$secret" 1)"
LOCK_S=$((2 * LOCK_S)) locked locked-again
grep -q "$audit=locked reason=locked-source " "$tmp/vpnd.log"

# Unknown names alone: with the address unlocked (vpnctl unlock), three
# of them from it lock it, and alice is answered LOCKED there.
"$VPNCTL" -c "$tmp/vpnd.conf" unlock "$CLI_ADDR"
[ -z "$(sources_failures | grep '^source')" ]
for i in 1 2 3; do
	write_vpnc_conf "nobody$i" "nobody$i"
	try "guess$i" "nobody$i" "$PASSWORD" "$(totp "$secret")"
	failed "guess$i"
	grep -q "login user=nobody$i src=$CLI_ADDR:[0-9]* "\
"result=failed reason=unknown-user " "$tmp/vpnd.log"
done
try locked-source laptop2 "$PASSWORD" "$(totp "$secret" 1)"
locked locked-source
[ "$(count_log "$tmp/vpnd.log" "$audit=locked reason=locked-source ")" -eq 2 ]
# An unknown name is refused in the same words as a wrong password.
cmp "$tmp/wrong1.log" "$tmp/guess1.log"

stop_vpnd
echo "ok"
