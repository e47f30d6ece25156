#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# vpnctl as an administrator runs it, on a store in a temporary directory:
# usage and exit codes; `user add` (URI and base32 secret, store modes),
# with the secret it shows checked against what it stored and against
# oathtool through an independent RFC 6238 in Python; `list` (both forms,
# no secrets), `passwd`, `totp-reset` (a new secret, shown once),
# `disable`/`enable`, `recovery` (hashes only), `del`, each change that
# must end a user's sessions writing one event per admission it ended;
# `locks` (table and JSON, decayed counts, escaped keys) and `unlock`
# (names, IPv4, IPv6 /64); and a configuration's issuer and pool checks.
# Then the user lifecycle: the password policy (weak passwords refused
# with the reason), enrolment and totp-reset confirmed by the app's code
# (a wrong one stores nothing), --json, `list --json`, `show` (lock, last
# login, recovery codes, devices), `devices`, `device revoke` (an event,
# the lease forgotten), `import-oath` (every bad line named, nothing half
# imported; secrets, digits, steps and PINs kept), and every mistake an
# administrator can make answered with one line and a non-zero exit.
set -e
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
VPNCTL=$BUILD/asan/vpnctl
[ -x "$VPNCTL" ] || { echo "skipped: no $VPNCTL yet"; exit 77; }
command -v oathtool >/dev/null || { echo "skipped: no oathtool"; exit 77; }
command -v python3 >/dev/null || { echo "skipped: no python3"; exit 77; }

tmp=$(mktemp -d /tmp/t-vpnctl.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
db=$tmp/store/users.db
# Passwords the default policy (12 characters, zxcvbn score 3) accepts.
PW='correct horse battery staple'
PW2='purple monkey dishwasher lamp'

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

ctl() {
	"$VPNCTL" -d "$db" "$@"
}

# Runs vpnctl expecting exit status $1; its stderr goes to $tmp/err.
expect_exit() {
	local want=$1 rc=0
	shift
	"$VPNCTL" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
	[ "$rc" -eq "$want" ] || fail "vpnctl $*: exit $rc, wanted $want"
}

# SQL against the store, through Python's sqlite3 (not our code).
sql() {
	python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
for row in c.execute(sys.argv[2]):
	print("|".join(str(v) for v in row))
c.commit()' "$db" "$1"
}

# admit USER BYTE: an admission of USER for the client key of 32 x BYTE
# (hex), as vpnd's grant stores one.
admit() {
	sql "INSERT INTO admissions (client_key, user, created, expires)
	     VALUES (x'$(printf "$2%.0s" {1..32})', '$1', 1, 4000000000)"
}

# events: "user|first byte of the key|reason" per event, in order.
events() {
	sql "SELECT user, hex(substr(client_key, 1, 1)), reason FROM events
	     WHERE kind = 'admission-end' ORDER BY seq"
}

# RFC 6238 straight from the RFC: no code shared with vpnd or oathtool.
py_totp() { # BASE32 UNIX_TIME [ALGO DIGITS PERIOD]
	python3 - "$@" <<-'EOF'
	import base64, hashlib, hmac, struct, sys
	secret = base64.b32decode(sys.argv[1] + "=" * (-len(sys.argv[1]) % 8))
	t = int(sys.argv[2])
	algo = sys.argv[3] if len(sys.argv) > 3 else "sha1"
	digits = int(sys.argv[4]) if len(sys.argv) > 4 else 6
	period = int(sys.argv[5]) if len(sys.argv) > 5 else 30
	mac = hmac.new(secret, struct.pack(">Q", t // period), algo).digest()
	off = mac[-1] & 15
	code = (struct.unpack(">I", mac[off:off + 4])[0] & 0x7fffffff) % 10 ** digits
	print(str(code).zfill(digits))
	EOF
}

# ---- usage -------------------------------------------------------------------

expect_exit 0 --version
grep -q '^vpnctl ' "$tmp/out" || fail "--version prints no version"
expect_exit 0 --help
grep -q 'user add NAME' "$tmp/out" || fail "--help lacks 'user add'"
grep -q 'user totp-reset NAME' "$tmp/out" || fail "--help lacks 'user totp-reset'"
grep -q '^  locks \[--json\]$' "$tmp/out" || fail "--help lacks 'locks'"
grep -q '^  unlock USER|ADDRESS$' "$tmp/out" || fail "--help lacks 'unlock'"
expect_exit 2
expect_exit 2 frobnicate
grep -q "unknown command 'frobnicate'" "$tmp/err" || fail "unknown command"
[ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "unknown command: not one line"
expect_exit 2 -d "$db" user
expect_exit 2 -d "$db" user frob
expect_exit 2 -d "$db" user add
expect_exit 2 -d "$db" user add bob --no-such-option

# ---- add ---------------------------------------------------------------------

out=$(printf '%s\n' "$PW" | ctl user add --no-confirm alice)
uri=$(grep '^otpauth://' <<<"$out") || fail "no URI in: $out"
re='^otpauth://totp/vpnd:alice\?secret=([A-Z2-7]{32})&issuer=vpnd&algorithm=SHA1&digits=6&period=30$'
[[ $uri =~ $re ]] || fail "URI format: $uri"
secret=${BASH_REMATCH[1]}
grep -qx "secret: $secret" <<<"$out" || fail "no base32 secret line"
# No QR code when stdout is not a terminal.
! grep -q $'\e\[' <<<"$out" || fail "escape sequences on a pipe"

[ "$(stat -c %a "$tmp/store")" = 700 ] || fail "store directory not 0700"
[ "$(stat -c %a "$db")" = 600 ] || fail "store file not 0600"

# What was shown is what was stored.
stored=$(sql "SELECT hex(totp_secret) FROM users WHERE name = 'alice'")
shown=$(python3 -c 'import base64, sys; print(base64.b32decode(sys.argv[1]).hex().upper())' "$secret")
[ "$stored" = "$shown" ] || fail "stored secret differs from the URI's"
# The password hash is Argon2id at the INTERACTIVE cost vpnd's dummy uses.
hash=$(sql "SELECT pw_hash FROM users WHERE name = 'alice'")
[[ $hash == '$argon2id$v=19$m=65536,t=2,p=1$'* ]] || fail "hash: $hash"
! cat "$db"* | grep -qaF "$PW" || fail "the password is in the store"

# oathtool and an independent RFC 6238 agree on the secret's codes.
for t in 1577836800 1700000015 2000000000; do
	a=$(oathtool --totp -b "$secret" -N "@$t")
	b=$(py_totp "$secret" "$t")
	[ "$a" = "$b" ] || fail "at $t: oathtool $a, python $b"
done
[ "$(oathtool --totp -b "$secret" -N '2020-01-01 00:00:00 UTC')" = \
  "$(py_totp "$secret" 1577836800)" ] || fail "oathtool with a date"

expect_exit 1 -d "$db" user add alice
grep -q "user 'alice' already exists" "$tmp/err" || fail "duplicate add"
expect_exit 1 -d "$db" user add 'bad name'
grep -q "not a valid user name" "$tmp/err" || fail "bad name accepted"
expect_exit 1 -d "$db" user add carol --digits 9
expect_exit 1 -d "$db" user add carol --role root
expect_exit 1 -d "$db" user add carol --lifetime soon
expect_exit 1 -d "$db" user add carol --address4 fd00::1
expect_exit 1 -d "$db" user add carol # no password on stdin
grep -q "no password" "$tmp/err" || fail "empty stdin"

out=$(printf '%s\n' "$PW" | ctl user add bob --no-confirm --role admin --algorithm sha256 \
	--digits 8 --period 60 --address4 10.99.0.9 --address6 fd00:99::9 \
	--lifetime 90m 2>"$tmp/err")
grep -q 'some authenticator apps' "$tmp/err" || fail "no note on SHA256"
re='^otpauth://totp/vpnd:bob\?secret=([A-Z2-7]{32})&issuer=vpnd&algorithm=SHA256&digits=8&period=60$'
[[ $(grep '^otpauth://' <<<"$out") =~ $re ]] || fail "bob's URI: $out"
bob_secret=${BASH_REMATCH[1]}
[ "$(oathtool --totp=sha256 --digits=8 --time-step-size=60 -b "$bob_secret" -N @1700000015)" = \
  "$(py_totp "$bob_secret" 1700000015 sha256 8 60)" ] || fail "bob's codes"
# The same fixed address for someone else is refused.
printf '%s\n' "$PW" | "$VPNCTL" -d "$db" user add carol --no-confirm --address4 10.99.0.9 \
	>/dev/null 2>"$tmp/err" && fail "a fixed address given twice"
grep -q 'already belongs to another user' "$tmp/err" || fail "address clash"

# ---- list --------------------------------------------------------------------

ctl user list >"$tmp/list"
[ "$(wc -l <"$tmp/list")" -eq 3 ] || fail "list: $(cat "$tmp/list")"
head -n 1 "$tmp/list" | grep -q '^NAME  *ROLE  *ENABLED' || fail "list header"
grep -q '^alice  *user  *yes  *SHA1  *6  *30s  *-  *-  *default$' \
	"$tmp/list" || fail "alice's row: $(cat "$tmp/list")"
ctl user list --script >"$tmp/script"
[ "$(head -n 1 "$tmp/script")" = \
  "$(printf 'name\trole\tenabled\talgorithm\tdigits\tperiod_s\taddress4\taddress6\tlifetime_s')" ] ||
	fail "script header"
grep -qx "$(printf 'bob\tadmin\tyes\tSHA256\t8\t60\t10.99.0.9\tfd00:99::9\t5400')" \
	"$tmp/script" || fail "bob's script row: $(cat "$tmp/script")"
! grep -q -e "$secret" -e "$bob_secret" -e argon2 "$tmp/list" "$tmp/script" ||
	fail "list shows a secret"

# ---- passwd, disable, enable -------------------------------------------------

# Each change ends alice's admissions (not bob's), with one event each.
admit alice 01
admit alice 02
admit bob 03
out=$(printf '%s\n' "$PW2" | ctl user passwd alice)
[ "$out" = "user 'alice' has a new password; its sessions have ended" ] ||
	fail "passwd said: $out"
[ "$(sql "SELECT pw_hash FROM users WHERE name = 'alice'")" != "$hash" ] ||
	fail "passwd changed nothing"
[ "$(events)" = "$(printf 'alice|01|password changed\nalice|02|password changed')" ] ||
	fail "events after passwd: $(events)"
[ "$(sql "SELECT user FROM admissions")" = bob ] || fail "admissions after passwd"
expect_exit 1 -d "$db" user passwd nobody
grep -qx "vpnctl: user 'nobody' does not exist" "$tmp/err" || fail "passwd nobody"

admit alice 01
ctl user disable alice >/dev/null
[ "$(sql "SELECT enabled FROM users WHERE name = 'alice'")" = 0 ] || fail "disable"
grep -q '^alice	user	no	' <(ctl user list --script) || fail "list after disable"
ctl user enable alice >/dev/null
[ "$(sql "SELECT enabled FROM users WHERE name = 'alice'")" = 1 ] || fail "enable"
expect_exit 1 -d "$db" user disable nobody
[ "$(events | tail -n 1)" = "alice|01|account disabled" ] ||
	fail "events after disable: $(events)"
[ "$(events | wc -l)" -eq 3 ] || fail "enable wrote an event: $(events)"

# ---- totp-reset ----------------------------------------------------------------

admit alice 01
old=$(sql "SELECT hex(totp_secret) FROM users WHERE name = 'alice'")
ctl user totp-reset --no-confirm alice >"$tmp/reset"
[ "$(head -n 1 "$tmp/reset")" = \
  "user 'alice' has a new authenticator secret; its sessions have ended" ] ||
	fail "totp-reset said: $(cat "$tmp/reset")"
re='^otpauth://totp/vpnd:alice\?secret=([A-Z2-7]{32})&issuer=vpnd&algorithm=SHA1&digits=6&period=30$'
[[ $(grep '^otpauth://' "$tmp/reset") =~ $re ]] || fail "reset URI: $(cat "$tmp/reset")"
new_secret=${BASH_REMATCH[1]}
grep -qx "secret: $new_secret" "$tmp/reset" || fail "no base32 secret after reset"
[ "$new_secret" != "$secret" ] || fail "totp-reset kept the secret"
stored=$(sql "SELECT hex(totp_secret) FROM users WHERE name = 'alice'")
[ "$stored" != "$old" ] || fail "totp-reset stored nothing"
shown=$(python3 -c 'import base64, sys; print(base64.b32decode(sys.argv[1]).hex().upper())' "$new_secret")
[ "$stored" = "$shown" ] || fail "stored secret differs from the reset URI's"
[ "$(events | tail -n 1)" = "alice|01|authenticator reset" ] ||
	fail "events after totp-reset: $(events)"
! grep -q $'\e\[' "$tmp/reset" || fail "a QR code on a pipe"
expect_exit 1 -d "$db" user totp-reset nobody
grep -qx "vpnctl: user 'nobody' does not exist" "$tmp/err" || fail "reset nobody"
expect_exit 2 -d "$db" user totp-reset

# ---- recovery codes ------------------------------------------------------------

ctl user recovery alice >"$tmp/codes"
grep -E '^[2-9a-z]{4}-[2-9a-z]{4}-[2-9a-z]{4}$' "$tmp/codes" >"$tmp/only"
[ "$(wc -l <"$tmp/only")" -eq 10 ] || fail "codes: $(cat "$tmp/codes")"
! grep -vq '[a-z]' "$tmp/only" || fail "a recovery code without a letter"
[ "$(sort -u "$tmp/only" | wc -l)" -eq 10 ] || fail "repeated recovery codes"
[ "$(sql "SELECT count(*) FROM recovery_codes WHERE user = 'alice' AND used = 0")" = 10 ] ||
	fail "stored codes"
while read -r code; do
	! cat "$db"* | grep -qa "$code" || fail "a recovery code is stored in clear"
done <"$tmp/only"
ctl user recovery alice >/dev/null
[ "$(sql "SELECT count(*) FROM recovery_codes WHERE user = 'alice'")" = 10 ] ||
	fail "recovery did not replace the old codes"
expect_exit 1 -d "$db" user recovery nobody

# ---- del -----------------------------------------------------------------------

admit alice 01
ctl user del alice >/dev/null
[ "$(events | tail -n 1)" = "alice|01|account deleted" ] ||
	fail "events after del: $(events)"
! grep -q '^alice' <(ctl user list --script) || fail "alice still listed"
[ "$(sql "SELECT count(*) FROM recovery_codes WHERE user = 'alice'")" = 0 ] ||
	fail "alice's recovery codes survived"
expect_exit 1 -d "$db" user del alice
grep -qx "vpnctl: user 'alice' does not exist" "$tmp/err" || fail "del twice"

# ---- locks, unlock ---------------------------------------------------------------

ctl locks >"$tmp/locks"
[ "$(cat "$tmp/locks")" = "KIND    KEY  FAILURES  LOCKED" ] ||
	fail "locks on no counters: $(cat "$tmp/locks")"
[ "$(ctl locks --json)" = "[]" ] || fail "locks --json on no counters"
expect_exit 2 -d "$db" locks --frob
expect_exit 2 -d "$db" unlock
expect_exit 2 -d "$db" unlock a b

# Counters as vpnd leaves them, at times relative to now with margins far
# wider than a run of this script. A source's count drops by one per
# lockout-source-decay (600 s by default); a user's is forgotten once
# unlocked and idle for longer than lockout-max-time (900 s).
now=$(date +%s)
python3 - "$db" "$now" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
now = int(sys.argv[2])
rows = [
	("user", "alice", 5, now - 10, now + 3000),   # locked
	("user", "carol", 2, now - 20, 0),
	("user", "idle", 4, now - 2000, 0),           # forgotten
	("user", 'x"y\\z\x01\u00e9', 1, now - 30, 0), # what a stranger typed
	("user", "192.0.2.66", 1, now - 30, 0),       # a name like an address
	("source", "192.0.2.7", 3, now - 650, 0),     # decayed to 2
	("source", "192.0.2.8", 1, now - 700, 0),     # decayed to 0
	("source", "2001:db8:1:2::/64", 5, now - 10, now + 3000),
]
c.executemany("INSERT INTO failures VALUES (?, ?, ?, ?, ?)", rows)
c.commit()
EOF
ctl locks >"$tmp/locks"
[ "$(wc -l <"$tmp/locks")" -eq 7 ] || fail "locks: $(cat "$tmp/locks")"
head -n 1 "$tmp/locks" | grep -q '^KIND  *KEY  *FAILURES  *LOCKED$' || fail "locks header"
grep -q '^user  *alice  *5  *until [0-9T:-]*Z ([0-9]* s left)$' "$tmp/locks" ||
	fail "alice's lock: $(cat "$tmp/locks")"
grep -q '^user  *carol  *2  *no$' "$tmp/locks" || fail "carol: $(cat "$tmp/locks")"
grep -qF 'x"y\z???' "$tmp/locks" || fail "a stranger's name not sanitized: $(cat "$tmp/locks")"
grep -q '^source  *192.0.2.7  *2  *no$' "$tmp/locks" ||
	fail "a decayed source: $(cat "$tmp/locks")"
! grep -q -e idle -e 192.0.2.8 "$tmp/locks" || fail "counters worth nothing listed"
ctl locks --json >"$tmp/locks.json"
python3 - "$tmp/locks.json" "$now" <<'EOF' || fail "locks --json: $(cat "$tmp/locks.json")"
import json, sys
rows = json.load(open(sys.argv[1], encoding="utf-8"))
now = int(sys.argv[2])
by = {(r["kind"], r["key"]): r for r in rows}
assert len(rows) == 6, rows
assert [r["kind"] for r in rows] == ["user"] * 4 + ["source"] * 2, rows
assert set(rows[0]) == {"kind", "key", "count", "last_failure",
			"locked_until", "seconds_left"}, rows[0]
a = by[("user", "alice")]
assert a["count"] == 5 and a["last_failure"] == now - 10, a
assert a["locked_until"] == now + 3000, a
assert 2900 < a["seconds_left"] <= 3000, a
assert by[("user", "carol")]["locked_until"] == 0
assert by[("user", "carol")]["seconds_left"] == 0
assert by[("user", 'x"y\\z\x01\u00e9')]["count"] == 1
assert by[("source", "192.0.2.7")]["count"] == 2
assert by[("source", "2001:db8:1:2::/64")]["locked_until"] == now + 3000
EOF

# unlock: a name, an IPv6 address (its /64), an IPv4-mapped address, a
# name that looks like an address; an unknown key says so, changing nothing.
out=$(ctl unlock alice)
[ "$out" = "user 'alice' unlocked: its failures are cleared" ] || fail "unlock alice: $out"
[ -z "$(sql "SELECT 1 FROM failures WHERE key = 'alice'")" ] || fail "alice still counted"
out=$(ctl unlock 2001:db8:1:2:aaaa::9)
[ "$out" = "source 2001:db8:1:2::/64 unlocked: its failures are cleared" ] ||
	fail "unlock an IPv6 address: $out"
ctl unlock ::ffff:192.0.2.7 >/dev/null
[ -z "$(sql "SELECT 1 FROM failures WHERE kind = 'source' AND key IN
	('192.0.2.7', '2001:db8:1:2::/64')")" ] || fail "sources still counted"
out=$(ctl unlock 192.0.2.66)
[ "$out" = "user '192.0.2.66' unlocked: its failures are cleared" ] ||
	fail "unlock a name like an address: $out"
before=$(sql "SELECT count(*) FROM failures")
expect_exit 1 -d "$db" unlock 198.51.100.1
[ "$(cat "$tmp/err")" = "vpnctl: no failures recorded for source '198.51.100.1'" ] ||
	fail "unlock an unknown source: $(cat "$tmp/err")"
expect_exit 1 -d "$db" unlock nobody
[ "$(cat "$tmp/err")" = "vpnctl: no failures recorded for user name 'nobody'" ] ||
	fail "unlock an unknown name: $(cat "$tmp/err")"
[ "$(sql "SELECT count(*) FROM failures")" = "$before" ] || fail "unknown keys changed something"

# The decay and the cap come from the configuration.
sql "INSERT INTO failures VALUES ('source', '192.0.2.9', 3, $now - 650, 0)" >/dev/null
cat >"$tmp/decay.conf" <<EOF
private-key-file = "$tmp/server.key"
address-pool4 = "10.77.0.0/24"
user-db = "$db"
lockout-source-decay = "5m"
lockout-max-time = "1h"
EOF
"$VPNCTL" -c "$tmp/decay.conf" locks >"$tmp/locks"
grep -q '^source  *192.0.2.9  *1  *no$' "$tmp/locks" || fail "5m decay: $(cat "$tmp/locks")"
grep -q '^user  *idle  *4  *no$' "$tmp/locks" || fail "1h cap: $(cat "$tmp/locks")"

# ---- with a configuration --------------------------------------------------------

cat >"$tmp/vpnd.conf" <<EOF
private-key-file = "$tmp/server.key"
address-pool4 = "10.77.0.0/24"
user-db = "$tmp/conf.db"
totp-issuer = "ACME VPN"
EOF
out=$(printf '%s\n' "$PW" | "$VPNCTL" -c "$tmp/vpnd.conf" user add --no-confirm dave@example.org)
grep -q '^otpauth://totp/ACME%20VPN:dave%40example.org?secret=[A-Z2-7]\{32\}&issuer=ACME%20VPN&' \
	<<<"$out" || fail "issuer from the configuration: $out"
[ -f "$tmp/conf.db" ] || fail "the configuration's user-db was not used"
for bad in 10.77.0.0 10.77.0.1 10.77.0.255 10.78.0.5; do
	expect_exit 1 -c "$tmp/vpnd.conf" user add erin --address4 "$bad"
	grep -q 'not an address the pool 10.77.0.0/24 gives' "$tmp/err" ||
		fail "--address4 $bad: $(cat "$tmp/err")"
done
expect_exit 1 -c "$tmp/vpnd.conf" user add erin --address6 fd00::5
grep -q 'has no address-pool6' "$tmp/err" || fail "address6 without a pool"
expect_exit 1 -c "$tmp/nonexistent.conf" user list

# ---- the user lifecycle: a store of its own -------------------------------------

db=$tmp/life.db

# one_line: the last vpnctl's stderr is exactly one line.
one_line() {
	[ "$(wc -l <"$tmp/err")" -eq 1 ] ||
		fail "more than one line for '$1': $(cat "$tmp/err")"
}

# talk CODE PASSWORD VPNCTL-ARGS...: vpnctl as a script drives it, over
# two fifos: PASSWORD first (none if empty), then, once the secret is
# printed, CODE: "-" for the code oathtool computes from it, "wrong" for
# one that is none of the codes near now, else CODE itself. Sets secret
# and rc; vpnctl's stdout in $tmp/out, its stderr in $tmp/err.
talk() {
	local code=$1 pw=$2 line w r pid
	shift 2
	rm -f "$tmp/in" "$tmp/outp"
	mkfifo "$tmp/in" "$tmp/outp"
	"$VPNCTL" -d "$db" "$@" <"$tmp/in" >"$tmp/outp" 2>"$tmp/err" &
	pid=$!
	exec {w}>"$tmp/in" {r}<"$tmp/outp"
	[ -z "$pw" ] || printf '%s\n' "$pw" >&$w
	secret=
	: >"$tmp/out"
	while read -r -t 20 -u $r line; do
		echo "$line" >>"$tmp/out"
		if [[ $line =~ [?\&]secret=([A-Z2-7]+) ]]; then
			secret=${BASH_REMATCH[1]}
			break
		fi
	done
	if [ -n "$secret" ]; then
		[ "$code" = - ] && code=$(oathtool --totp -b "$secret")
		[ "$code" = wrong ] && code=$(wrong_code "$secret")
		printf '%s\n' "$code" >&$w
	fi
	exec {w}>&-
	cat <&$r >>"$tmp/out"
	exec {r}<&-
	rc=0
	wait "$pid" || rc=$?
	[ -n "$secret" ] || fail "vpnctl $*: no secret: $(cat "$tmp/out" "$tmp/err")"
}

# confirm_add USER CODE [ARGS...]: `user add USER ARGS` answered by talk.
confirm_add() {
	local user=$1 code=$2
	shift 2
	talk "$code" "$PW" user add "$user" "$@"
}

# wrong_code SECRET: a code that is none of the codes near now.
wrong_code() {
	local near c
	near=$(for k in -90 -60 -30 0 30 60 90; do
		oathtool --totp -b "$1" -N "@$(($(date +%s) + k))"; done)
	for c in 000000 000001 000002 000003 000004 000005 000006 000007; do
		grep -qx "$c" <<<"$near" || { echo "$c"; return; }
	done
}

# ---- the password policy -------------------------------------------------------------

for weak in 'Tr0ub4dor&3|too short: 11 characters, at least 12' \
	    'a new password|too easy to guess (zxcvbn score 2 of 4, at least 3): it is mostly common words or names; add more words, and uncommon ones' \
	    'anna2024anna|too easy to guess (zxcvbn score' \
	    'qwertyuiopasdf|too easy to guess (zxcvbn score'; do
	rc=0
	printf '%s\n' "${weak%%|*}" | "$VPNCTL" -d "$db" user add anna \
		>"$tmp/out" 2>"$tmp/err" || rc=$?
	[ "$rc" -eq 1 ] || fail "weak password '${weak%%|*}': exit $rc"
	one_line "a weak password"
	grep -qF "vpnctl: the password of 'anna' is refused: ${weak#*|}" "$tmp/err" ||
		fail "weak password '${weak%%|*}' said: $(cat "$tmp/err")"
	! grep -qF "${weak%%|*}" "$tmp/err" || fail "the refusal quotes the password"
	[ ! -s "$tmp/out" ] || fail "a refused add printed: $(cat "$tmp/out")"
done
[ "$(sql "SELECT count(*) FROM users")" = 0 ] || fail "a weak password stored a user"
# The name itself counts against a password built on it.
printf 'annabelle2024!\n' | "$VPNCTL" -d "$db" user add annabelle >/dev/null \
	2>"$tmp/err" && fail "a password of the user's name was accepted"
grep -q "the user's or the service's name" "$tmp/err" || fail "name: $(cat "$tmp/err")"
# The configuration sets the policy.
cat >"$tmp/policy.conf" <<EOF
private-key-file = "$tmp/server.key"
address-pool4 = "10.77.0.0/24"
user-db = "$db"
password-min-length = 30
password-min-score = 0
EOF
printf '%s\n' "$PW" | "$VPNCTL" -c "$tmp/policy.conf" user add anna \
	>/dev/null 2>"$tmp/err" && fail "password-min-length = 30 not applied"
grep -qF "too short: 28 characters, at least 30" "$tmp/err" || fail "policy: $(cat "$tmp/err")"

# ---- enrolment confirmed by the app's code ------------------------------------------

confirm_add anna -
[ "$rc" -eq 0 ] || fail "a right code: exit $rc: $(cat "$tmp/err")"
grep -qx "user 'anna' added: the app's code matched" "$tmp/out" ||
	fail "a confirmed add said: $(cat "$tmp/out")"
[ "$(sql "SELECT count(*) FROM users WHERE name = 'anna'")" = 1 ] || fail "anna not stored"
# The confirming code's step is consumed: it cannot log in as well.
step=$(sql "SELECT totp_last_step FROM users WHERE name = 'anna'")
now_step=$(($(date +%s) / 30))
((step >= now_step - 1 && step <= now_step + 1)) || fail "step $step, now $now_step"

confirm_add bert x
[ "$rc" -eq 1 ] || fail "not a code: exit $rc"
grep -qx "vpnctl: that is not a code of 6 digits: user 'bert' was not added" "$tmp/err" ||
	fail "not a code said: $(cat "$tmp/err")"
confirm_add bert wrong
[ "$rc" -eq 1 ] || fail "a wrong code: exit $rc"
one_line "a wrong code"
grep -qx "vpnctl: the code does not match (is the phone's clock right?): user 'bert' was not added" \
	"$tmp/err" || fail "a wrong code said: $(cat "$tmp/err")"
[ "$(sql "SELECT count(*) FROM users WHERE name = 'bert'")" = 0 ] ||
	fail "a wrong code stored bert"
# A script that gives no code is told about --no-confirm.
rc=0
printf '%s\n' "$PW" | "$VPNCTL" -d "$db" user add bert >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" -eq 1 ] || fail "no code: exit $rc"
grep -qx "vpnctl: no code given on standard input (or use --no-confirm): user 'bert' was not added" \
	"$tmp/err" || fail "no code said: $(cat "$tmp/err")"
[ "$(sql "SELECT count(*) FROM users WHERE name = 'bert'")" = 0 ] || fail "bert stored"

# --json: one object on stdout, before the code is asked for.
confirm_add bert - --json
[ "$rc" -eq 0 ] || fail "add --json: exit $rc: $(cat "$tmp/err")"
python3 - "$tmp/out" "$secret" <<'EOF' || fail "add --json: $(cat "$tmp/out")"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
j = json.loads(lines[0])
assert set(j) == {"name", "issuer", "uri", "secret", "algorithm", "digits",
		  "period_s", "confirm"}, j
assert j["name"] == "bert" and j["secret"] == sys.argv[2], j
assert j["uri"].startswith("otpauth://totp/vpnd:bert?secret=" + sys.argv[2]), j
assert (j["algorithm"], j["digits"], j["period_s"]) == ("SHA1", 6, 30), j
assert j["confirm"] is True
EOF
printf '%s\n' "$PW" | ctl user add cleo --no-confirm --json --digits 8 \
	>"$tmp/out" 2>/dev/null
python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))
assert j["confirm"] is False and j["digits"] == 8, j' "$tmp/out" ||
	fail "add --no-confirm --json: $(cat "$tmp/out")"
[ "$(sql "SELECT totp_last_step FROM users WHERE name = 'cleo'")" = -1 ] ||
	fail "an unconfirmed add consumed a step"

# totp-reset confirms the same way; a wrong code keeps the old secret and
# ends no session.
admit anna 0a
old=$(sql "SELECT hex(totp_secret) FROM users WHERE name = 'anna'")
n_events=$(events | wc -l)
talk wrong "" user totp-reset anna
[ "$rc" -eq 1 ] || fail "totp-reset with a wrong code: exit $rc"
grep -qx "vpnctl: the code does not match (is the phone's clock right?): the old secret of 'anna' stays" \
	"$tmp/err" || fail "totp-reset wrong code said: $(cat "$tmp/err")"
[ "$(sql "SELECT hex(totp_secret) FROM users WHERE name = 'anna'")" = "$old" ] ||
	fail "a wrong code changed the secret"
[ "$(events | wc -l)" -eq "$n_events" ] || fail "a wrong code ended sessions"
talk - "" user totp-reset anna
[ "$rc" -eq 0 ] || fail "totp-reset confirmed: exit $rc: $(cat "$tmp/err")"
grep -qx "user 'anna' has a new authenticator secret; its sessions have ended" "$tmp/out" ||
	fail "totp-reset said: $(cat "$tmp/out")"
[ "$(events | tail -n 1)" = "anna|0A|authenticator reset" ] || fail "reset events: $(events)"
[ "$(sql "SELECT hex(totp_secret) FROM users WHERE name = 'anna'")" = \
  "$(python3 -c 'import base64, sys; print(base64.b32decode(sys.argv[1]).hex().upper())' "$secret")" ] ||
	fail "the confirmed secret was not stored"

# ---- list --json, show, devices ----------------------------------------------------------

ctl user list --json >"$tmp/list.json"
python3 - "$tmp/list.json" <<'EOF' || fail "list --json: $(cat "$tmp/list.json")"
import json, sys
rows = json.load(open(sys.argv[1]))
assert [r["name"] for r in rows] == ["anna", "bert", "cleo"], rows
assert set(rows[0]) == {"name", "role", "enabled", "algorithm", "digits",
			"period_s", "address4", "address6", "lifetime_s",
			"created", "last_login"}, rows[0]
assert rows[2]["digits"] == 8 and rows[0]["last_login"] is None, rows
assert rows[0]["address4"] is None and rows[0]["lifetime_s"] is None
EOF
! grep -q -e argon2 -e "$secret" "$tmp/list.json" || fail "list --json shows a secret"

# Devices as vpnd's logins leave them: key 0a admitted now (it logged in
# at now-100), key 0b only leased (logged out, at now-5000); a failure
# counter that locks the name; recovery codes.
now=$(date +%s)
sql "INSERT INTO admissions (client_key, user, created, expires, addr4)
     VALUES (x'$(printf '0a%.0s' {1..32})', 'anna', $now - 100, $now + 3600,
	     x'0a4d0005')" >/dev/null
sql "INSERT INTO leases (user, client_key, addr4, addr6, updated, last_login)
     VALUES ('anna', x'$(printf '0a%.0s' {1..32})', x'0a4d0005', NULL,
	     $now - 100, $now - 100),
	    ('anna', x'$(printf '0b%.0s' {1..32})', x'0a4d0007',
	     x'fd000099000000000000000000000007', $now - 5000, $now - 5000)" >/dev/null
sql "UPDATE users SET last_login = $now - 100 WHERE name = 'anna'" >/dev/null
sql "INSERT INTO failures VALUES ('user', 'anna', 5, $now - 10, $now + 600)" >/dev/null
ctl user recovery anna >/dev/null
key_a=$(python3 -c 'import base64; print(base64.b64encode(bytes([10] * 32)).decode())')
key_b=$(python3 -c 'import base64; print(base64.b64encode(bytes([11] * 32)).decode())')

ctl user show anna >"$tmp/show"
for want in '^name: *anna$' '^role: *user$' '^enabled: *yes$' \
	    '^authenticator: *SHA1, 6 digits, every 30 s$' \
	    '^address4: *from the pool$' '^recovery codes: *10 unused$' \
	    '^last login: *[0-9T:-]*Z$' \
	    '^lock: *locked until [0-9T:-]*Z ([0-9]* s left), 5 failures$' \
	    '^devices:$' "^  $key_a  [0-9T:-]*Z  10.77.0.5 .* until [0-9T:-]*Z$" \
	    "^  $key_b  [0-9T:-]*Z  10.77.0.7  *fd00:99::7  *no$"; do
	grep -q "$want" "$tmp/show" || fail "show lacks /$want/: $(cat "$tmp/show")"
done
[ "$(grep -n "$key_a" "$tmp/show" | cut -d: -f1)" -lt \
  "$(grep -n "$key_b" "$tmp/show" | cut -d: -f1)" ] || fail "devices not newest first"
ctl user show anna --json >"$tmp/show.json"
python3 - "$tmp/show.json" "$now" "$key_a" "$key_b" <<'EOF' || fail "show --json: $(cat "$tmp/show.json")"
import json, sys
j = json.load(open(sys.argv[1]))
now, ka, kb = int(sys.argv[2]), sys.argv[3], sys.argv[4]
assert j["name"] == "anna" and j["last_login"] == now - 100, j
assert j["recovery_codes_unused"] == 10, j
assert j["lock"]["locked"] is True and j["lock"]["failures"] == 5, j
assert j["lock"]["locked_until"] == now + 600, j
assert 500 < j["lock"]["seconds_left"] <= 600, j
d = j["devices"]
assert [x["key"] for x in d] == [ka, kb], d
assert d[0] == {"key": ka, "last_login": now - 100, "address4": "10.77.0.5",
		"address6": None, "admitted": True, "expires": now + 3600}, d[0]
assert d[1]["admitted"] is False and d[1]["expires"] == 0, d[1]
assert d[1]["address6"] == "fd00:99::7", d[1]
EOF
ctl user show cleo >"$tmp/show"
grep -q '^last login: *never$' "$tmp/show" || fail "cleo's last login"
grep -q '^lock: *not locked, no failures$' "$tmp/show" || fail "cleo's lock"
grep -q '^devices: *none$' "$tmp/show" || fail "cleo's devices"

ctl user devices anna >"$tmp/devices"
[ "$(wc -l <"$tmp/devices")" -eq 3 ] || fail "devices: $(cat "$tmp/devices")"
head -n 1 "$tmp/devices" | grep -q '^KEY  *LAST LOGIN  *ADDRESS4  *ADDRESS6  *LOGGED IN$' ||
	fail "devices header: $(cat "$tmp/devices")"
[ "$(ctl user devices cleo --json)" = "[]" ] || fail "cleo's devices --json"
ctl user devices anna --json | python3 -c 'import json, sys
d = json.load(sys.stdin)
assert len(d) == 2 and d[0]["admitted"] and not d[1]["admitted"], d' ||
	fail "devices --json"

# ---- device revoke ------------------------------------------------------------------------

out=$(ctl device revoke "$key_a")
[ "$out" = "device $key_a of 'anna' revoked: its session has ended; it must log in again" ] ||
	fail "revoke said: $out"
[ "$(events | tail -n 1)" = "anna|0A|device revoked" ] || fail "revoke events: $(events)"
[ -z "$(sql "SELECT 1 FROM leases WHERE client_key = x'$(printf '0a%.0s' {1..32})'")" ] ||
	fail "the revoked key's lease stayed"
out=$(ctl device revoke "$key_b")
[ "$out" = "device $key_b of 'anna' revoked: it had no session; it must log in again" ] ||
	fail "revoke of a leased key said: $out"
[ "$(ctl user devices anna --json)" = "[]" ] || fail "devices after revoke"
expect_exit 1 -d "$db" device revoke "$key_a"
[ "$(cat "$tmp/err")" = "vpnctl: no device has the key $key_a" ] || fail "revoke twice: $(cat "$tmp/err")"
expect_exit 1 -d "$db" device revoke not-a-key
one_line "revoke not-a-key"
grep -q "'not-a-key' is not a key (44 characters of base64" "$tmp/err" || fail "bad key: $(cat "$tmp/err")"

# ---- import-oath ----------------------------------------------------------------------------

before=$(sql "SELECT count(*) FROM users")
expect_exit 1 -d "$db" user import-oath tests/data/bad.oath
cat >"$tmp/want" <<'EOF'
vpnctl: tests/data/bad.oath:3: HOTP is a counter-based (HOTP) token: vpnd checks time-based codes only (HOTP/T30, HOTP/T60/8...)
vpnctl: tests/data/bad.oath:4: the secret is 4 bytes: at least 10 (80 bits)
vpnctl: tests/data/bad.oath:5: user 'rita' is also on line 2 (one token per user)
vpnctl: tests/data/bad.oath:6: 'bad/name' is not a valid user name: use 1 to 64 letters, digits and . _ @ + -
vpnctl: tests/data/bad.oath:7: the PIN of 'vic' cannot be its password: too short: 4 characters, at least 12 (or import with --ignore-pins)
vpnctl: tests/data/bad.oath:8: 'HOTP/T30/9' is not a token type (HOTP/T30, HOTP/T60/8: a step of 1-3600 s, 6-8 digits)
vpnctl: tests/data/bad.oath: nothing imported
EOF
diff -u "$tmp/want" "$tmp/err" || fail "import-oath of a bad file"
[ "$(sql "SELECT count(*) FROM users")" = "$before" ] || fail "a bad file imported something"
# The same lines, each alone, also name the user that exists already.
grep '^HOTP/T30 rita' tests/data/bad.oath | head -n 1 >"$tmp/one.oath"
sed 's/rita/anna/' "$tmp/one.oath" >>"$tmp/one.oath"
expect_exit 1 -d "$db" user import-oath "$tmp/one.oath"
grep -qx "vpnctl: $tmp/one.oath:2: user 'anna' already exists" "$tmp/err" ||
	fail "an existing user: $(cat "$tmp/err")"
[ "$(sql "SELECT count(*) FROM users WHERE name = 'rita'")" = 0 ] || fail "rita half imported"
printf '# nothing\n\n' >"$tmp/empty.oath"
expect_exit 1 -d "$db" user import-oath "$tmp/empty.oath"
grep -qx "vpnctl: $tmp/empty.oath: no time-based token in it: nothing imported" "$tmp/err" ||
	fail "an empty file: $(cat "$tmp/err")"
expect_exit 1 -d "$db" user import-oath "$tmp/missing.oath"
grep -qx "vpnctl: cannot read $tmp/missing.oath: No such file or directory" "$tmp/err" ||
	fail "a missing file: $(cat "$tmp/err")"

ctl user import-oath tests/data/users.oath >"$tmp/out"
cat >"$tmp/want" <<'EOF'
imported 3 users from tests/data/users.oath:
  olga: disabled until it has a password (vpnctl user passwd olga, then vpnctl user enable olga)
  pavel: disabled until it has a password (vpnctl user passwd pavel, then vpnctl user enable pavel)
  quinn: enabled, its PIN is its password
EOF
diff -u "$tmp/want" "$tmp/out" || fail "import-oath said other things"
[ "$(sql "SELECT name, hex(totp_secret), totp_digits, totp_period, totp_algorithm,
	  enabled FROM users WHERE name IN ('olga', 'pavel', 'quinn') ORDER BY name")" = \
  "$(printf '%s\n' \
	'olga|3132333435363738393031323334353637383930|6|30|SHA1|0' \
	'pavel|00112233445566778899AABBCCDDEEFF00112233|6|30|SHA1|0' \
	'quinn|0123456789ABCDEF0123456789ABCDEF01234567|8|60|SHA1|1')" ] ||
	fail "imported accounts: $(sql "SELECT name, hex(totp_secret), enabled FROM users")"
# The secret kept: oathtool from the file's hex, an independent RFC 6238
# from the store's base32, the same code.
b32=$(python3 -c 'import base64, sys; print(base64.b32encode(bytes.fromhex(sys.argv[1])).decode())' \
	"$(sql "SELECT hex(totp_secret) FROM users WHERE name = 'quinn'")")
[ "$(oathtool --totp --digits=8 --time-step-size=60s 0123456789abcdef0123456789abcdef01234567 -N @1700000000)" = \
  "$(py_totp "$b32" 1700000000 sha1 8 60)" ] || fail "quinn's secret"
# liboath's last time becomes the last step used.
[ "$(sql "SELECT totp_last_step FROM users WHERE name = 'quinn'")" = \
  "$(python3 -c 'import time
print(int(time.mktime(time.strptime("2023-11-14T22:13:20", "%Y-%m-%dT%H:%M:%S"))) // 60)')" ] ||
	fail "quinn's last step"
hash=$(sql "SELECT pw_hash FROM users WHERE name = 'quinn'")
[[ $hash == '$argon2id$'* ]] || fail "quinn's hash: $hash"
! cat "$db"* | grep -qa 'tangerine-kayak' || fail "a PIN is in the store"
/usr/bin/python3 -c 'import nacl.pwhash, sys
assert nacl.pwhash.verify(sys.argv[1].encode(), b"tangerine-kayak-violin-orbit")' "$hash" ||
	fail "quinn's password is not its PIN"
# Again: all of them exist now, and nothing changes.
expect_exit 1 -d "$db" user import-oath tests/data/users.oath
[ "$(grep -c "already exists" "$tmp/err")" -eq 3 ] || fail "import twice: $(cat "$tmp/err")"
# --ignore-pins: a weak PIN is no obstacle, the user waits for a password.
printf 'HOTP/T30 vic 1234 3132333435363738393031323334353637383930\n' >"$tmp/vic.oath"
expect_exit 1 -d "$db" user import-oath "$tmp/vic.oath"
ctl user import-oath --ignore-pins "$tmp/vic.oath" >/dev/null
[ "$(sql "SELECT enabled FROM users WHERE name = 'vic'")" = 0 ] || fail "vic enabled"

# ---- every mistake: one line, a non-zero exit --------------------------------------------

for args in "user show" "user show a b" "user show --frob a" "user devices" \
	    "user devices --frob a" "user list --frob" "user del" "user del a b" \
	    "user passwd --frob" "user totp-reset" "user totp-reset --frob a" \
	    "user add --frob a" "user add" "user import-oath" \
	    "user import-oath --frob f" "user import-oath a b" "user frob" "user" \
	    "device" "device frob" "device revoke" "device revoke a b"; do
	# shellcheck disable=SC2086
	expect_exit 2 -d "$db" $args
	one_line "$args"
	grep -q '^vpnctl: ' "$tmp/err" || fail "$args: $(cat "$tmp/err")"
done
for cmd in show devices del passwd totp-reset enable disable recovery; do
	expect_exit 1 -d "$db" user $cmd nobody
	[ "$(cat "$tmp/err")" = "vpnctl: user 'nobody' does not exist" ] ||
		fail "user $cmd nobody: $(cat "$tmp/err")"
done
# vpnd not running, and a socket vpnctl may not use.
cat >"$tmp/live.conf" <<EOF
private-key-file = "$tmp/server.key"
address-pool4 = "10.77.0.0/24"
user-db = "$db"
control-socket = "$tmp/vpnd.sock"
EOF
expect_exit 1 -c "$tmp/live.conf" status
one_line "status without vpnd"
grep -q "vpnd is not running" "$tmp/err" || fail "status without vpnd: $(cat "$tmp/err")"
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])' "$tmp/vpnd.sock"
	chmod 600 "$tmp/vpnd.sock"
	chmod 755 "$tmp"
	rc=0
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$VPNCTL" -c "$tmp/live.conf" status >/dev/null 2>"$tmp/err" || rc=$?
	[ "$rc" -eq 1 ] || fail "status without permission: exit $rc"
	one_line "status without permission"
	grep -q "no permission to use $tmp/vpnd.sock" "$tmp/err" ||
		fail "status without permission: $(cat "$tmp/err")"
	chmod 700 "$tmp"
fi
echo "ok"
