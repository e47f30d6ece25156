#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# One answer per request (PROTOCOL.md section 6, rule 2). A client sends
# AUTH_REQUEST A (a wrong password; three copies at once), then B (wrong
# too), then A again: the answer to the resent A is the first answer to
# A byte for byte, and no second check happened. With lockout-failures =
# 2, B's failure locks alice, so a second check of A would have been
# answered LOCKED: the AUTH_FAILED that comes back can only be the kept
# answer. Then C, answered LOCKED with RETRY_AFTER, resent more than a
# second later, comes back with the same bytes (a new check would have
# counted a smaller RETRY_AFTER and written an audit line); and A once
# more after a new handshake with the same key (rule 2: a rekey in
# between included). vpnd's audit shows exactly the three checks: A, B
# and C.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-attack.sh"

setup_topology
write_vpnd_conf "lockout-failures = 2" "lockout-time = 1m" \
	"lockout-max-time = 5m"
secret=$(enrol alice)
[ ${#secret} -eq 32 ]
start_vpnd

attack "$ns_cli" "$tmp/cache.log" cache --bind "$CLI_ADDR" --user alice \
	--password "wrong password" --code "$(totp "$secret")"
for what in "A resent" "C resent" "A after a new handshake"; do
	log_has "$tmp/cache.log" "^$what: byte for byte its first answer"
done

# Three checks: A and B failed (B setting the lock), C locked; nothing
# for the copies of A, the resent A and C, or A after the new handshake.
audit="user=alice src=$CLI_ADDR:[0-9]* result"
[ "$(audit_count "$audit=failed reason=bad-password ")" -eq 2 ]
[ "$(audit_count "$audit=locked reason=locked-user ")" -eq 1 ]
[ "$(audit_count "")" -eq 3 ]
# In that order.
[ "$(grep -o 'result=[a-z]*' "$tmp/vpnd.log" | paste -sd' ')" = \
	"result=failed result=failed result=locked" ]
# The store counted the two failures, and alice is locked.
[ "$(lock_count user alice)" -eq 2 ]
(($(lock_left user alice) > 0))

stop_vpnd
echo "ok"
