#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A wrong password, a wrong code and a reused code (PROTOCOL.md section 6,
# rules 3 and 4) are each refused with AUTH_FAILED: vpnc exits 3 with the
# same words every time, no sooner than the failure delay, and leaves no
# device; the real reason is only in the server's audit line; nothing
# reaches the office host. Then a correct login succeeds and traffic flows.
# Last, a reused recovery code and a disabled account are refused alike,
# and every refusal is the same size on the wire.
source "$(dirname "$0")/lib.sh"

# try NAME CONF PASSWORD CODE: one vpnc run with its own log, to its end
# (at most 20 s). Sets rc and elapsed_ms.
try() {
	local name=$1 conf=$2 start
	cp "$tmp/$conf.conf" "$tmp/$name.conf"
	start=$(date +%s%N)
	start_vpnc "$name" "$3" "$4"
	wait_gone "$VPNC_PID" 200
	rc=0
	wait "$VPNC_PID" || rc=$?
	elapsed_ms=$((($(date +%s%N) - start) / 1000000))
}

# IPv4 packets the office host has received (its namespace's own count).
lan_rx() {
	q_lan awk '$1 == "Ip:" && !h { for (i = 1; i <= NF; i++) n[$i] = i
		h = 1; next } $1 == "Ip:" { print $n["InReceives"] }' /proc/net/snmp
}

# refused NAME REASON: the run was refused with AUTH_FAILED, as it should.
refused() {
	[ "$rc" -eq 3 ]
	grep -q 'error: login failed: wrong user name, password or code' \
		"$tmp/$1.log"
	refute grep -q 'connected as' "$tmp/$1.log"
	# Rule 3: the answer waits for the failure delay whatever the reason.
	((elapsed_ms >= 1000))
	no_device "$ns_cli"
	wait_log "$tmp/vpnd.log" \
		"login user=alice src=$CLI_ADDR:[0-9]* result=failed reason=$2 " 5
	# The reason is for the log only.
	refute grep -q "$2" "$tmp/$1.log"
	refute q_cli ping -c 1 -W 1 $LAN_HOST
}

# answers NAME REASON: the kinds of datagram (length, message type) the
# server sent to the vpnc run refused for REASON, found by its port in the
# audit line; a retransmitted request may be answered twice, so each kind
# once.
answers() {
	local port
	port=$(sed -n "s/.*login user=alice src=$CLI_ADDR:\([0-9]*\) "\
"result=failed reason=$2 .*/\1/p" "$tmp/vpnd.log")
	[ -n "$port" ]
	grep " > $CLI_ADDR:$port len=" "$tmp/cli0.pkts" |
		sed 's/.* \(len=.*\)/\1/' | sort -u >"$tmp/$1.wire"
	# A handshake response, then AUTH_REQUIRED and AUTH_RESULT as data.
	grep -q 'len=92 type=2' "$tmp/$1.wire"
	grep -q 'type=4' "$tmp/$1.wire"
}

setup_topology
# Three failures must not lock the account; a long delay makes "no sooner
# than the delay" measurable.
write_vpnd_conf "lockout-failures = 10" "failure-delay = 1s"
write_vpnc_conf alice alice
write_vpnc_conf laptop2 alice
secret=$(enrol alice)
[ ${#secret} -eq 32 ]
start_vpnd
sniff_start "$ns_cli" cli0 120 "$tmp/cli0.pkts"
rx0=$(lan_rx)

code=$(totp "$secret")
# A well-formed code that matches no step near now.
near=$(for o in -2 -1 0 1 2; do totp "$secret" "$o"; done)
wrong=$(printf '%06d' $(((10#$code + 500000) % 1000000)))
for ((i = 0; i < 20; i++)); do
	grep -qx "$wrong" <<<"$near" || break
	wrong=$(printf '%06d' $(((10#$wrong + 1) % 1000000)))
done
refute grep -qx "$wrong" <<<"$near"

# 1. Wrong password, right code: the code is not consumed by it.
try bad-password alice "not the password" "$code"
refused bad-password bad-password

# 2. Right password, wrong code.
try bad-code alice "$PASSWORD" "$wrong"
refused bad-code bad-code

# Nothing crossed to the office host for any of it.
[ "$(lan_rx)" -eq "$rx0" ]

# 3. The code is accepted once (rule 4): log in with it, disconnect, then
# the same code from another key of the same person is refused.
start_vpnc alice "$PASSWORD" "$code"
wait_log "$tmp/alice.log" "connected as alice"
grep -q "login user=alice src=$CLI_ADDR:[0-9]* result=ok reason=totp " \
	"$tmp/vpnd.log"
kill -TERM "$VPNC_PID"
wait "$VPNC_PID"
no_device "$ns_cli"
rx1=$(lan_rx)
try reused-code laptop2 "$PASSWORD" "$code"
refused reused-code reused-code
[ "$(lan_rx)" -eq "$rx1" ]

# The three refusals look the same from the client's side.
cmp "$tmp/bad-password.log" "$tmp/bad-code.log"
cmp "$tmp/bad-password.log" "$tmp/reused-code.log"
[ "$(count_log "$tmp/vpnd.log" 'result=failed')" -eq 3 ]

# A correct login with the next step's code succeeds, and traffic flows.
start_vpnc laptop2 "$PASSWORD" "$(totp "$secret" 1)"
wait_log "$tmp/laptop2.log" "connected as alice"
n_cli ping -c 3 -i 0.2 -W 2 $LAN_HOST
(($(lan_rx) > rx1))
refute grep -q "$PASSWORD" "$tmp/vpnd.log"

kill -TERM "$VPNC_PID"
wait "$VPNC_PID"
no_device "$ns_cli"

# A recovery code is accepted once too (rule 7), whatever its case; its
# second use, from another key, is refused in the same words.
"$VPNCTL" -c "$tmp/vpnd.conf" user recovery alice >"$tmp/codes"
rcode=$(grep -E '^[2-9a-z]{4}-[2-9a-z]{4}-[2-9a-z]{4}$' "$tmp/codes" |
	head -n 1)
[ -n "$rcode" ]
write_vpnc_conf laptop3 alice
start_vpnc laptop3 "$PASSWORD" "${rcode^^}"
wait_log "$tmp/laptop3.log" "connected as alice"
grep -q "login user=alice src=$CLI_ADDR:[0-9]* result=ok "\
"reason=recovery-code " "$tmp/vpnd.log"
kill -TERM "$VPNC_PID"
wait "$VPNC_PID"
write_vpnc_conf laptop4 alice
try reused-recovery laptop4 "$PASSWORD" "$rcode"
refused reused-recovery bad-recovery-code
cmp "$tmp/bad-password.log" "$tmp/reused-recovery.log"
refute grep -q "$rcode" "$tmp/vpnd.log"

# A disabled account is refused in the same words (rule 3).
"$VPNCTL" -c "$tmp/vpnd.conf" user disable alice >/dev/null
try disabled laptop4 "$PASSWORD" "$(totp "$secret" 1)"
refused disabled disabled
cmp "$tmp/bad-password.log" "$tmp/disabled.log"

# On the wire too, every refusal is the same size (the bytes themselves
# are encrypted).
answers bad-password bad-password
cat "$tmp/bad-password.wire"
for kind in bad-code reused-code bad-recovery-code disabled; do
	answers "$kind" "$kind"
	cmp "$tmp/bad-password.wire" "$tmp/$kind.wire"
done

stop_vpnd
echo "ok"
