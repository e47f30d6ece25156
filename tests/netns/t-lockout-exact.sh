#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The failure limit is exact under concurrency (PROTOCOL.md section 6,
# rule 4; issue 11). With lockout-failures = 5 and four password-check
# threads, twelve sessions (twelve client keys, from twelve addresses of
# $ns_cli: 198.51.100.10-21, so that no source counter or per-source
# queue is involved, only alice's counter) are all established first;
# then one wrong AUTH_REQUEST for alice from each, sealed in advance,
# goes out back to back. Exactly five are checked (result=failed) and
# seven answered LOCKED without a check: the lock check and the count are
# one store transaction before Argon2id, so concurrent checks cannot all
# slip under the limit.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-attack.sh"

N=12
LIMIT=5

setup_topology
binds=()
for ((i = 0; i < N; i++)); do
	ip -n "$ns_cli" addr add "198.51.100.$((10 + i))/24" dev cli0
	binds+=(--bind "198.51.100.$((10 + i))")
done
write_vpnd_conf "auth-workers = 4" "lockout-failures = $LIMIT" \
	"lockout-time = 1m" "lockout-max-time = 5m"
secret=$(enrol alice)
[ ${#secret} -eq 32 ]
start_vpnd

attack "$ns_cli" "$tmp/burst.log" burst "${binds[@]}" --user alice \
	--password "wrong password" --code "$(totp "$secret")"
log_has "$tmp/burst.log" "^$N sessions established$"

# What the twelve were told: five refusals, seven locks (a minute's).
[ "$(lines "$tmp/burst.log" "^session [0-9]* .*: AUTH_FAILED (")" \
	-eq $LIMIT ]
[ "$(lines "$tmp/burst.log" \
	"^session [0-9]* .*: LOCKED retry_after=[1-6][0-9]* (")" \
	-eq $((N - LIMIT)) ]

# What vpnd did: five password checks, seven locks, one line each, each
# from the session's own address.
[ "$(audit_count "user=alice src=198.51.100.[0-9]*:[0-9]* result=failed \
reason=bad-password ")" -eq $LIMIT ]
[ "$(audit_count "user=alice src=198.51.100.[0-9]*:[0-9]* result=locked \
reason=locked-user ")" -eq $((N - LIMIT)) ]
[ "$(audit_count "")" -eq $N ]
for ((i = 0; i < N; i++)); do
	[ "$(audit_count "user=alice src=198.51.100.$((10 + i)):")" -eq 1 ]
done

# The store counted exactly the checks, and no source reached a lock.
locks_json | "$PY" -c '
import json, sys
rows = json.load(sys.stdin)
alice = [r for r in rows if r["kind"] == "user" and r["key"] == "alice"]
assert len(alice) == 1 and alice[0]["count"] == int(sys.argv[1]), rows
assert alice[0]["seconds_left"] > 0, rows
src = [r for r in rows if r["kind"] == "source"]
assert all(r["count"] == 1 and r["seconds_left"] == 0 for r in src), rows
assert len(src) == int(sys.argv[1]), rows' $LIMIT

# Locked for everyone now: the right password and code too.
attack "$ns_cli" "$tmp/right.log" try --bind 198.51.100.10 \
	--step "alice:$PASSWORD:$(totp "$secret")"
grep -q "^step 1 user=alice: LOCKED retry_after=" "$tmp/right.log"
[ "$(audit_count "user=alice .* result=failed ")" -eq $LIMIT ]

stop_vpnd
echo "ok"
