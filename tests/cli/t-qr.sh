#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The QR code `vpnctl user add` draws on a terminal, read back as a phone
# would: vpnctl runs with its stdout on a pseudo-terminal (so it draws
# the code) and its stdin on a pipe (a script's password and code); the
# half-block characters it printed become a PNG, zbarimg (Debian's
# zbar-tools) decodes it, and the text must be exactly the otpauth:// URI
# printed above it. The code the app would then show (oathtool, from the
# decoded secret) confirms the enrolment and the user is stored; a wrong
# code stores nothing. `user totp-reset` draws its code the same way.
set -e
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
VPNCTL=$BUILD/asan/vpnctl
[ -x "$VPNCTL" ] || { echo "skipped: no $VPNCTL yet"; exit 77; }
for t in zbarimg oathtool python3; do
	command -v $t >/dev/null || { echo "skipped: no $t (make deps)"; exit 77; }
done

tmp=$(mktemp -d /tmp/t-qr.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
db=$tmp/users.db
PASSWORD='correct horse battery staple'

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# enrol_on_tty PNG CODE VPNCTL-ARGS...: runs vpnctl with stdout on a
# pty, gives the password (for `user add`), reads what it printed up to
# the end of the QR code, writes the code as PNG, then answers with
# CODE: "-" for the code oathtool computes from the URI's secret now,
# "wrong" for one that is none of the codes near now. Prints the URI; vpnctl's exit status goes to $tmp/rc,
# its stderr to $tmp/err.
enrol_on_tty() {
	python3 - "$@" <<-'EOF'
	import os, pty, re, select, struct, subprocess, sys, time, zlib

	png, code, args = sys.argv[1], sys.argv[2], sys.argv[3:]
	tmp = os.path.dirname(png)
	master, slave = pty.openpty()
	p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=slave,
			     stderr=open(tmp + "/err", "w"))
	os.close(slave)
	if "totp-reset" not in args:
	    p.stdin.write(b"correct horse battery staple\n")
	    p.stdin.flush()

	# Read until the QR code has ended, within 20 s: it is square, two
	# modules to a line, so it has half as many whole lines (rounded up)
	# as a line has cells.
	out, deadline = b"", time.monotonic() + 20
	def qr_done(text):
	    rows = [l for l in text.split("\n")[:-1] if "\x1b[40;97m" in l]
	    if not rows or not rows[0].endswith("\x1b[0m"):
	        return False
	    width = len(rows[0].split("\x1b[40;97m", 1)[1]) - len("\x1b[0m")
	    return len(rows) == (width + 1) // 2
	while not qr_done(out.decode("utf-8", "replace").replace("\r", "")):
	    left = deadline - time.monotonic()
	    if left <= 0 or not select.select([master], [], [], left)[0]:
	        sys.exit("no QR code within 20 s: %r" % out)
	    try:
	        chunk = os.read(master, 4096)
	    except OSError:
	        chunk = b""
	    if not chunk:
	        sys.exit("vpnctl ended before its QR code: %r" % out)
	    out += chunk
	text = out.decode("utf-8").replace("\r", "")
	uri = re.search(r"^otpauth://\S+$", text, re.M).group(0)

	# Each cell holds two modules: full block both light, upper half the
	# top one, lower half the bottom one, space neither.
	cells = {"\u2588": (1, 1), "\u2580": (1, 0), "\u2584": (0, 1),
		 " ": (0, 0)}
	rows = []
	for line in text.split("\n"):
	    if "\x1b[40;97m" not in line:
	        continue
	    body = line.split("\x1b[40;97m", 1)[1].split("\x1b[0m", 1)[0]
	    rows.append([cells[ch][0] for ch in body])
	    rows.append([cells[ch][1] for ch in body])
	width = len(rows[0])
	assert all(len(r) == width for r in rows), "ragged QR code"

	# A grey PNG, 4 pixels a module, light modules white.
	scale = 4
	raw = b"".join(
	    b"\0" + bytes(255 * m for m in r for _ in range(scale))
	    for r in rows for _ in range(scale))
	def chunk(kind, data):
	    c = kind + data
	    return struct.pack(">I", len(data)) + c + \
	        struct.pack(">I", zlib.crc32(c) & 0xffffffff)
	with open(png, "wb") as f:
	    f.write(b"\x89PNG\r\n\x1a\n")
	    f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width * scale,
	                                       len(rows) * scale, 8, 0, 0,
	                                       0, 0)))
	    f.write(chunk(b"IDAT", zlib.compress(raw)))
	    f.write(chunk(b"IEND", b""))

	q = dict(kv.split("=", 1) for kv in uri.split("?", 1)[1].split("&"))
	def app_code(at):
	    return subprocess.run(
	        ["oathtool", "--totp=" + q["algorithm"].lower(),
	         "--digits=" + q["digits"],
	         "--time-step-size=" + q["period"] + "s", "-b", q["secret"],
	         "-N", "@%d" % at],
	        capture_output=True, text=True, check=True).stdout.strip()
	now = int(time.time())
	if code == "-":
	    code = app_code(now)
	elif code == "wrong":
	    # Wrong for certain: none of the codes of the steps around now.
	    step = int(q["period"])
	    near = {app_code(now + k * step) for k in range(-3, 4)}
	    code = next(c for c in ("000000", "000001", "000002", "000003",
	                            "000004", "000005", "000006", "000007")
	                if c not in near)
	p.stdin.write(code.encode() + b"\n")
	p.stdin.close()
	try:
	    rc = p.wait(timeout=20)
	except subprocess.TimeoutExpired:
	    p.kill()
	    sys.exit("vpnctl did not end within 20 s of the code")
	# What came after the code (the outcome), for the caller.
	while select.select([master], [], [], 0)[0]:
	    try:
	        more = os.read(master, 4096)
	    except OSError:
	        break
	    if not more:
	        break
	    out += more
	open(tmp + "/out", "wb").write(out)
	open(tmp + "/rc", "w").write(str(rc))
	print(uri)
	EOF
}

# decode PNG: what zbarimg reads in it (the QR code's text); its stderr
# (ImageMagick may complain of a missing D-Bus) in $tmp/zbar.err.
decode() {
	zbarimg --raw -q "$1" 2>"$tmp/zbar.err"
}

stored() {
	python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print(c.execute("SELECT count(*) FROM users WHERE name = ?",
		(sys.argv[2],)).fetchone()[0])' "$db" "$1"
}

# ---- a confirmed enrolment -------------------------------------------------------

uri=$(enrol_on_tty "$tmp/alice.png" - "$VPNCTL" -d "$db" user add alice)
[ "$(cat "$tmp/rc")" = 0 ] || fail "user add alice: exit $(cat "$tmp/rc"): $(cat "$tmp/err")"
re='^otpauth://totp/vpnd:alice\?secret=[A-Z2-7]{32}&issuer=vpnd&algorithm=SHA1&digits=6&period=30$'
[[ $uri =~ $re ]] || fail "URI: $uri"
got=$(decode "$tmp/alice.png") ||
	fail "zbarimg read no QR code in what vpnctl drew: $(cat "$tmp/zbar.err")"
[ "$got" = "$uri" ] || fail "the QR code says '$got', the URI is '$uri'"
grep -q "user 'alice' added: the app's code matched" "$tmp/out" ||
	fail "no confirmation: $(cat "$tmp/out")"
[ "$(stored alice)" = 1 ] || fail "alice was not stored"

# A longer URI (another issuer, SHA512, 8 digits) needs a bigger code.
cat >"$tmp/vpnd.conf" <<CONF
private-key-file = "$tmp/none.key"
address-pool4 = "10.77.0.0/24"
user-db = "$db"
totp-issuer = "ACME Corp VPN (Paris office)"
CONF
uri=$(enrol_on_tty "$tmp/bob.png" - "$VPNCTL" -c "$tmp/vpnd.conf" user add \
	bob.smith@example.org --algorithm sha512 --digits 8 --period 60)
[ "$(cat "$tmp/rc")" = 0 ] || fail "user add bob: $(cat "$tmp/err")"
[[ $uri == otpauth://totp/ACME%20Corp%20VPN%20%28Paris%20office%29:bob.smith%40example.org\?* ]] ||
	fail "bob's URI: $uri"
[ "$(decode "$tmp/bob.png")" = "$uri" ] || fail "bob's QR code differs from $uri"

# ---- a wrong code stores nothing -----------------------------------------------------

uri=$(enrol_on_tty "$tmp/carol.png" wrong "$VPNCTL" -d "$db" user add carol)
[ "$(cat "$tmp/rc")" = 1 ] || fail "a wrong code: exit $(cat "$tmp/rc")"
[ "$(decode "$tmp/carol.png")" = "$uri" ] || fail "carol's QR code"
grep -qx "vpnctl: the code does not match (is the phone's clock right?): user 'carol' was not added" \
	"$tmp/err" || fail "a wrong code said: $(cat "$tmp/err")"
[ "$(stored carol)" = 0 ] || fail "carol was stored with a wrong code"

# ---- totp-reset draws its new secret the same way -----------------------------------

before=$(python3 -c 'import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute(
	"SELECT hex(totp_secret) FROM users WHERE name = ?", ("alice",)).fetchone()[0])' "$db")
uri=$(enrol_on_tty "$tmp/reset.png" - "$VPNCTL" -d "$db" user totp-reset alice)
[ "$(cat "$tmp/rc")" = 0 ] || fail "totp-reset: $(cat "$tmp/err")"
[ "$(decode "$tmp/reset.png")" = "$uri" ] || fail "the reset's QR code"
after=$(python3 -c 'import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute(
	"SELECT hex(totp_secret) FROM users WHERE name = ?", ("alice",)).fetchone()[0])' "$db")
[ "$before" != "$after" ] || fail "totp-reset kept the old secret"
shown=$(python3 -c 'import base64, re, sys
s = re.search(r"secret=([A-Z2-7]+)", sys.argv[1]).group(1)
print(base64.b32decode(s + "=" * (-len(s) % 8)).hex().upper())' "$uri")
[ "$after" = "$shown" ] || fail "the stored secret is not the one in the QR code"
echo "ok"
