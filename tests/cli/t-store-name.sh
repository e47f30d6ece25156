#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The user store's name, as vpnctl -d and vpnd.conf's user-db take it: a
# file by its path or as sqlite:PATH is one and the same SQLite store
# (created 0600 in a 0700 directory either way); a name carrying a
# password (libpq's password= key, user:password@ in a URI, a password
# URI parameter) is refused with one line that points to a password file
# and never repeats the password, from the command line (exit 2) and
# from vpnd.conf (the line named); a URI of another kind is refused.
set -e
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
VPNCTL=$(realpath -m "$BUILD/asan/vpnctl")
[ -x "$VPNCTL" ] || { echo "skipped: no $VPNCTL yet"; exit 77; }

tmp=$(mktemp -d /tmp/t-store-name.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
PW='correct horse battery staple'

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# Runs vpnctl expecting exit status $1; its stderr goes to $tmp/err.
expect_exit() {
	local want=$1 rc=0
	shift
	"$VPNCTL" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
	[ "$rc" -eq "$want" ] || fail "vpnctl $*: exit $rc, wanted $want: $(cat "$tmp/err")"
}

# ---- sqlite:PATH and PATH name one store ----------------------------------------

printf '%s\n' "$PW" |
	"$VPNCTL" -d "sqlite:$tmp/a/users.db" user add --no-confirm alice >/dev/null
[ -f "$tmp/a/users.db" ] || fail "sqlite:PATH did not create PATH"
[ "$(stat -c %a "$tmp/a")" = 700 ] || fail "store directory not 0700"
[ "$(stat -c %a "$tmp/a/users.db")" = 600 ] || fail "store file not 0600"
[ ! -e sqlite: ] || fail "a directory named sqlite: was made"
expect_exit 0 -d "$tmp/a/users.db" user list
grep -q '^alice\b' "$tmp/out" || fail "the file by its path lacks alice: $(cat "$tmp/out")"
(cd "$tmp" && "$VPNCTL" -d a/users.db user list) | grep -q '^alice\b' ||
	fail "a relative file name is not the same store"

cat >"$tmp/vpnd.conf" <<EOF
address-pool4 = "10.77.0.0/24"
user-db = "sqlite:$tmp/a/users.db"
EOF
expect_exit 0 -c "$tmp/vpnd.conf" user list
grep -q '^alice\b' "$tmp/out" || fail "user-db = sqlite:PATH: $(cat "$tmp/out")"

# ---- no password in a name ---------------------------------------------------------

for name in "host=db.example password=s3cret" \
	"host=db.example dbname='user=vpnd password=s3cret'" \
	"postgresql://vpnd:s3cret@db.example/vpnd" \
	"postgres://db.example/vpnd?password=s3cret"; do
	expect_exit 2 -d "$name" user list
	grep -q 'password file' "$tmp/err" || fail "-d $name: $(cat "$tmp/err")"
	[ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "-d $name: not one line"
	! grep -q s3cret "$tmp/err" || fail "-d $name: the password was shown"

	printf 'address-pool4 = "10.77.0.0/24"\nuser-db = "%s"\n' \
		"$name" >"$tmp/pw.conf"
	expect_exit 1 -c "$tmp/pw.conf" user list
	grep -q 'pw.conf:2: user-db: .*password file' "$tmp/err" ||
		fail "user-db = $name: $(cat "$tmp/err")"
	! grep -q s3cret "$tmp/err" || fail "user-db = $name: the password was shown"
done

expect_exit 2 -d "mysql://db.example/vpnd" user list
grep -q "not a store's name" "$tmp/err" || fail "mysql://: $(cat "$tmp/err")"
expect_exit 2 -d "sqlite:" user list
grep -q 'no file name' "$tmp/err" || fail "sqlite:: $(cat "$tmp/err")"

echo "ok"
