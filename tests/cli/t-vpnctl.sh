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
grep -q '^usage:' "$tmp/err" || fail "no usage on stderr"
expect_exit 2 -d "$db" user
expect_exit 2 -d "$db" user frob
expect_exit 2 -d "$db" user add
expect_exit 2 -d "$db" user add bob --no-such-option

# ---- add ---------------------------------------------------------------------

out=$(printf 'first password\n' | ctl user add alice)
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
! cat "$db"* | grep -qa 'first password' || fail "the password is in the store"

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

out=$(printf 'pw\n' | ctl user add bob --role admin --algorithm sha256 \
	--digits 8 --period 60 --address4 10.99.0.9 --address6 fd00:99::9 \
	--lifetime 90m 2>"$tmp/err")
grep -q 'some authenticator apps' "$tmp/err" || fail "no note on SHA256"
re='^otpauth://totp/vpnd:bob\?secret=([A-Z2-7]{32})&issuer=vpnd&algorithm=SHA256&digits=8&period=60$'
[[ $(grep '^otpauth://' <<<"$out") =~ $re ]] || fail "bob's URI: $out"
bob_secret=${BASH_REMATCH[1]}
[ "$(oathtool --totp=sha256 --digits=8 --time-step-size=60 -b "$bob_secret" -N @1700000015)" = \
  "$(py_totp "$bob_secret" 1700000015 sha256 8 60)" ] || fail "bob's codes"
# The same fixed address for someone else is refused.
printf 'pw\n' | "$VPNCTL" -d "$db" user add carol --address4 10.99.0.9 \
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
out=$(printf 'second password\n' | ctl user passwd alice)
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
ctl user totp-reset alice >"$tmp/reset"
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
out=$(printf 'pw\n' | "$VPNCTL" -c "$tmp/vpnd.conf" user add dave@example.org)
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
echo "ok"
