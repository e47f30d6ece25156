#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The fail2ban filter (contrib/fail2ban/filter.d/vpnd.conf) against vpnd's
# real audit lines, through Debian's fail2ban-regex: every line whose
# result is failed or locked matches, with the address of its src field
# (IPv6 ones written [addr]:port), except a failure that was not the
# client's (reason=credentials-changed); ok, busy and pool-exhausted lines
# never match; and a user name made to look like "src=ADDRESS" (vpnd
# writes its spaces as '?') never gets that address banned.
#
# The lines are vpnd's standard error as it writes them: tests/data/audit/
# vpnd.log (from real runs, see its README), or the file given as $1 (the
# netns test t-fail2ban.sh passes what its live vpnd wrote). Each is
# checked in the three forms fail2ban meets: the journal with log =
# "stderr" (the message keeps "vpnd: "), the journal with log = "syslog",
# and a syslog file. Last, fail2ban-client reads the jail, enabled, with
# its filter: the journal, UDP port 51900.
set -e
cd "$(dirname "$0")/../.."
command -v fail2ban-regex >/dev/null ||
	{ echo "skipped: no fail2ban-regex (make deps)"; exit 77; }
common=/etc/fail2ban/filter.d/common.conf
[ -f "$common" ] || { echo "skipped: no $common"; exit 77; }
log=${1:-tests/data/audit/vpnd.log}

tmp=$(mktemp -d /tmp/t-fail2ban.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# fail2ban reads filter.d/vpnd.conf beside the common.conf it includes.
mkdir -p "$tmp/fail2ban/filter.d"
cp "$common" contrib/fail2ban/filter.d/vpnd.conf "$tmp/fail2ban/filter.d/"
filter=$tmp/fail2ban/filter.d/vpnd.conf

grep -a 'login user=' "$log" >"$tmp/audit" || true
[ -s "$tmp/audit" ] || fail "no audit line in $log"

# The fields of each line, by position: a name holds no space, so what
# follows "login " splits into user=, src=, result=, reason=, totp_offset=.
# Prints "RESULT REASON ADDRESS FAKE" per line, FAKE being an address a
# user name pretends to come from, or "-".
fields() {
	awk '{
		sub(/^.*login user=/, "user=")
		split($0, f, " ")
		src = substr(f[2], 5); sub(/:[0-9]+$/, "", src)
		gsub(/[][]/, "", src)
		fake = "-"
		if (match(f[1], /src=[0-9a-fA-F.:[\]]+/)) {
			fake = substr(f[1], RSTART + 4, RLENGTH - 4)
			sub(/:[0-9]+$/, "", fake); gsub(/[][]/, "", fake)
		}
		print substr(f[3], 8), substr(f[4], 8), src, fake
	}' "$1"
}
fields "$tmp/audit" >"$tmp/fields"
[ "$(wc -l <"$tmp/fields")" -eq "$(wc -l <"$tmp/audit")" ]

# The lines a ban must count, and their addresses, in order.
awk '($1 == "failed" || $1 == "locked") &&
	$2 != "credentials-changed" { print NR }' "$tmp/fields" >"$tmp/rows"
awk 'NR == FNR { want[$1] = 1; next } FNR in want' "$tmp/rows" \
	"$tmp/audit" >"$tmp/want.lines"
awk 'NR == FNR { want[$1] = 1; next } FNR in want { print $3 }' \
	"$tmp/rows" "$tmp/fields" >"$tmp/want.ips"

# The sample must hold each kind the filter must tell apart.
for result in ok failed locked; do
	grep -q "^$result " "$tmp/fields" || fail "no result=$result line in $log"
done
grep -q 'src=\[[0-9a-f:]*\]:[0-9]* result=\(failed\|locked\)' "$tmp/audit" ||
	fail "no IPv6 failure in $log"
awk '$4 != "-"' "$tmp/fields" | grep -q . ||
	fail "no user name posing as an address in $log"

# render FORM: the lines as fail2ban would read them, with a date.
render() {
	awk -v form="$1" '{
		t = sprintf("%02d:%02d:%02d", int(NR / 3600) % 24,
			    int(NR / 60) % 60, NR % 60)
		line = $0
		if (form != "journal-stderr")
			sub(/^vpnd: /, "", line)
		if (form == "syslog-file")
			print "May  1 " t " office vpnd[812]: " line
		else
			print "2024-05-01T" t "+0000 office vpnd[812]: " line
	}' "$tmp/audit"
}

for form in journal-stderr journal-syslog syslog-file; do
	render "$form" >"$tmp/$form.log"
	# Each rendered line keeps its audit line whole.
	[ "$(wc -l <"$tmp/$form.log")" -eq "$(wc -l <"$tmp/audit")" ]
	(cd "$tmp" && fail2ban-regex -o ip "$form.log" "$filter") \
		>"$tmp/$form.ips" 2>"$tmp/err" ||
		fail "fail2ban-regex failed on $form: $(tail -n 3 "$tmp/err")"
	(cd "$tmp" && fail2ban-regex -o msg "$form.log" "$filter") \
		>"$tmp/$form.msg" 2>"$tmp/err" || fail "fail2ban-regex -o msg"
	# The matched lines, with the date and prefix taken off again.
	sed 's/^.* vpnd\[812\]: //; s/^vpnd: //' "$tmp/$form.msg" \
		>"$tmp/$form.got"
	sed 's/^vpnd: //' "$tmp/want.lines" >"$tmp/want.cmp"
	diff -u "$tmp/want.cmp" "$tmp/$form.got" >&2 ||
		fail "$form: the lines matched are not the failures"
	diff -u "$tmp/want.ips" "$tmp/$form.ips" >&2 ||
		fail "$form: the addresses found are not the failures' sources"
	# A name that poses as an address never names it.
	awk '$4 != "-" { print $4 }' "$tmp/fields" | sort -u |
		while read -r fake; do
			grep -qxF "$fake" "$tmp/want.ips" && continue
			! grep -qxF "$fake" "$tmp/$form.ips" ||
				fail "$form: the address $fake in a user name was found"
		done
	echo "$form: $(wc -l <"$tmp/$form.ips") of $(wc -l <"$tmp/audit")" \
		"lines matched, as expected"
done

# The same lines as the filter sees them with nothing around them: no
# line other than vpnd's audit matches, whatever follows "vpnd: ".
printf '%s\n' \
	"2024-05-01T00:00:01+0000 office vpnd[812]: vpnd: alice (198.51.100.9:1) disconnected login user=a src=203.0.113.1:1 result=failed reason=bad-code totp_offset=-" \
	"2024-05-01T00:00:02+0000 office sshd[9]: login user=a src=203.0.113.2:1 result=failed reason=bad-code totp_offset=-" \
	>"$tmp/other.log"
(cd "$tmp" && fail2ban-regex -o ip other.log "$filter") >"$tmp/other.ips"
[ ! -s "$tmp/other.ips" ] ||
	fail "lines that are not vpnd's audit matched: $(cat "$tmp/other.ips")"

# The jail, enabled, as fail2ban itself reads it beside its own
# configuration (without Debian's default jails): the journal, vpnd's
# filter, its UDP port.
cp -a /etc/fail2ban "$tmp/conf"
rm -f "$tmp/conf/jail.d/"*
cp contrib/fail2ban/filter.d/vpnd.conf "$tmp/conf/filter.d/"
sed 's/^enabled = false$/enabled = true/' contrib/fail2ban/jail.d/vpnd.conf \
	>"$tmp/conf/jail.d/vpnd.conf"
grep -q '^enabled = true$' "$tmp/conf/jail.d/vpnd.conf" ||
	fail "the jail has no 'enabled = false' line to turn on"
fail2ban-client -c "$tmp/conf" -d >"$tmp/jail" 2>"$tmp/err" ||
	fail "fail2ban-client cannot read the jail: $(tail -n 3 "$tmp/err")"
for want in "['add', 'vpnd', 'systemd']" \
	"['set', 'vpnd', 'addjournalmatch', 'SYSLOG_IDENTIFIER=vpnd']" \
	"['port', '51900'], ['protocol', 'udp']" \
	"['set', 'vpnd', 'maxretry', 10]"; do
	grep -qF "$want" "$tmp/jail" || fail "the jail lacks $want"
done
grep -qF "['set', 'vpnd', 'addfailregex'" "$tmp/jail" ||
	fail "the jail has no failregex"
! grep -q "'add', '[^v]" "$tmp/jail" || fail "jails other than vpnd's"
echo "jail: read by fail2ban-client, the journal, UDP 51900"

echo "fail2ban filter ok"
