#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Nobody can lock out someone else's address (PROTOCOL.md section 6, rule
# 4; issue 11). Login failures are charged to where the session's
# handshake came from and was answered (the verified source), never to
# the source of the datagram that carried the AUTH_REQUEST: a session
# roams, so that source can be anything, even forged.
#
#   $ns_cli  198.51.100.2  the attacker: a handshake from its real
#                          address, then wrong logins inside the session
#                          sent from forged sources (the victim's address
#                          and random ones in 100.64.0.0/10), through an
#                          internet that forwards them ($ns_wan, no
#                          reverse-path check)
#   $ns_cli2 203.0.113.2   the victim: alice, with vpnc
#
# The forged failures neither lock the victim's address (alice then logs
# in from it: OK, not LOCKED) nor escape the count: after
# lockout-failures of them the attacker is answered LOCKED, and every
# audit line names its real address. Then, from the victim's address:
# another account's success does not clear a source's failures (N-1
# failures, bob logs in, and the next failure locks the source).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-attack.sh"

LIMIT=4

setup_topology
setup_client2
internet_forwards_forged
write_vpnd_conf "lockout-failures = $LIMIT" "lockout-time = 1m" \
	"lockout-max-time = 5m"
write_vpnc_conf alice alice
alice=$(enrol alice)
bob=$(enrol bob)
[ ${#alice} -eq 32 ]
[ ${#bob} -eq 32 ]
start_vpnd

# Every transport datagram reaching vpnd, to see the forged sources
# arrive there.
sniff_start "$ns_srv" srv0 100 "$tmp/wire.txt" 100000 \
	"^in udp .* > $SRV_ADDR:51900 .* type=4"

# ---- the attack: 4 x LIMIT wrong logins from forged sources -------------
TRIES=$((4 * LIMIT))
attack "$ns_cli" "$tmp/forged.log" forged --bind "$CLI_ADDR" \
	--victim "$CLI2_ADDR" --count $TRIES --user-prefix guess
real=$(sed -n 's/^session from \(.*\)$/\1/p' "$tmp/forged.log")
[[ $real == "$CLI_ADDR":* ]]

# The forged datagrams did arrive at vpnd from the forged sources: every
# one the attacker sent, the victim's address among them.
sed -n 's/^forged //p' "$tmp/forged.log" | sort -u >"$tmp/forged.src"
while read -r src; do
	wait_log "$tmp/wire.txt" "^in udp $src > " 5
done <"$tmp/forged.src"
victim_forged=$(lines "$tmp/forged.log" "^forged $CLI2_ADDR:")
random_forged=$(lines "$tmp/forged.log" "^forged 100\.")
echo "forged datagrams, each seen at vpnd: $victim_forged from the victim," \
	"$random_forged random"
((victim_forged >= TRIES / 2 && random_forged >= TRIES / 2))

# The first LIMIT were checked and failed; from then on LOCKED for the
# attacker's source (a minute's lock: the answer says at most 60 s).
for ((i = 1; i <= TRIES; i++)); do
	if ((i <= LIMIT)); then
		want="AUTH_FAILED"
	else
		want="LOCKED retry_after=\([1-9]\|[1-5][0-9]\|60\)"
	fi
	grep -q "^attempt $i user=guess-$i from .*: $want$" "$tmp/forged.log"
done

# The audit names the attacker's real address and port, every time: as
# many lines as attempts, none with any other source.
[ "$(audit_count "user=guess-[0-9]* src=$real result=failed \
reason=unknown-user ")" -eq $LIMIT ]
[ "$(audit_count "user=guess-[0-9]* src=$real result=locked \
reason=locked-source ")" -eq $((TRIES - LIMIT)) ]
[ "$(audit_count "")" -eq $TRIES ]

# The store holds one source counter: the attacker's, at the limit.
[ "$(sources)" = "$CLI_ADDR" ]
[ "$(source_count "$CLI_ADDR")" -eq $LIMIT ]

# ---- the victim logs in from the address the attacker forged ------------
VPNC_NS=$ns_cli2 start_vpnc alice "$PASSWORD" "$(totp "$alice")"
wait_log "$tmp/alice.log" "connected as alice"
refute grep -q "locked" "$tmp/alice.log"
[ "$(endpoint_host "$(session_field alice endpoint)")" = "$CLI2_ADDR" ]
[ "$(audit_count "user=alice src=$CLI2_ADDR:[0-9]* result=ok ")" -eq 1 ]
q_cli2 ping -c 2 -i 0.2 -W 2 $LAN_HOST
kill -TERM "$VPNC_PID"
wait "$VPNC_PID"
[ "$(source_count "$CLI2_ADDR")" -eq 0 ]

# ---- another account's success does not clear a source -----------------
# LIMIT - 1 failures under unknown names from the victim's address ...
steps=()
for ((i = 1; i < LIMIT; i++)); do
	steps+=(--step "nobody-$i:$PASSWORD:$(totp "$alice")")
done
attack "$ns_cli2" "$tmp/fail1.log" try --bind "$CLI2_ADDR" "${steps[@]}"
[ "$(lines "$tmp/fail1.log" "^step [0-9]* user=nobody-[0-9]*: AUTH_FAILED ")" \
	-eq $((LIMIT - 1)) ]
[ "$(source_count "$CLI2_ADDR")" -eq $((LIMIT - 1)) ]

# ... bob logs in from it ...
attack "$ns_cli2" "$tmp/bob.log" try --bind "$CLI2_ADDR" \
	--step "bob:$PASSWORD:$(totp "$bob")"
grep -q "^step 1 user=bob: OK " "$tmp/bob.log"
[ "$(audit_count "user=bob src=$CLI2_ADDR:[0-9]* result=ok ")" -eq 1 ]
# ... which gave back its own attempt and cleared nothing else ...
[ "$(source_count "$CLI2_ADDR")" -eq $((LIMIT - 1)) ]

# ... so one more failure reaches the limit: checked, and it locks.
attack "$ns_cli2" "$tmp/fail2.log" try --bind "$CLI2_ADDR" \
	--step "nobody-$LIMIT:$PASSWORD:000000" \
	--step "nobody-$((LIMIT + 1)):$PASSWORD:000000"
grep -q "^step 1 user=nobody-$LIMIT: AUTH_FAILED " "$tmp/fail2.log"
grep -q "^step 2 user=nobody-$((LIMIT + 1)): LOCKED retry_after=" \
	"$tmp/fail2.log"
[ "$(audit_count "user=nobody-$((LIMIT + 1)) src=$CLI2_ADDR:[0-9]* \
result=locked reason=locked-source ")" -eq 1 ]
[ "$(audit_count "user=nobody-[0-9]* src=$CLI2_ADDR:[0-9]* result=failed \
reason=unknown-user ")" -eq "$LIMIT" ]

stop_vpnd
echo "ok"
