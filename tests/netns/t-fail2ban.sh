#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The audit lines of a live vpnd, through the fail2ban filter. vpnc logs
# in from the client's IPv4 and IPv6 addresses (the wan carries both):
#
#   $ns_srv srv0 192.0.2.1, 2001:db8:1::1 -- $ns_wan -- cli0 198.51.100.2,
#                                                      2001:db8:2::2 $ns_cli
#
# with a right code and a recovery code (ok), a wrong password, a wrong
# code, a reused code, an unknown user
# whose name poses as another address ("x src=203.0.113.66:4444
# result=failed ..."), and on past lockout-failures (locked, for the
# source and for the user). Then tests/cli/t-fail2ban.sh checks what vpnd
# wrote: the failed and locked lines, and only they, match, each with its
# real source. AUDIT_SAMPLE=FILE keeps the lines (tests/data/audit/vpnd.log
# was made so).
source "$(dirname "$0")/lib.sh"

command -v fail2ban-regex >/dev/null || skip "needs fail2ban-regex (make deps)"

SRV6=2001:db8:1::1
CLI6=2001:db8:2::2
FAKE='x src=203.0.113.66:4444 result=failed reason=bad-code'

# try NAME PASSWORD CODE: one vpnc run of $tmp/NAME.conf to its end (at
# most 20 s); sets rc.
try() {
	start_vpnc "$1" "$2" "$3"
	wait_gone "$VPNC_PID" 200
	rc=0
	wait "$VPNC_PID" || rc=$?
}

# wrong_code SECRET: a well-formed code that matches no step near now.
wrong_code() {
	local near code o i
	near=$(for o in -2 -1 0 1 2; do totp "$1" "$o"; done)
	for ((i = 1; i < 20; i++)); do
		code=$(printf '%06d' $(((10#$(totp "$1") + i * 99991) % 1000000)))
		grep -qx "$code" <<<"$near" || break
	done
	echo "$code"
}

# audited PATTERN: vpnd wrote one more audit line matching PATTERN.
audited() {
	wait_log "$tmp/vpnd.log" "$1" 5
}

# connect_ok NAME CODE: logs in, then disconnects (the login stays).
connect_ok() {
	start_vpnc "$1" "$PASSWORD" "$2"
	wait_log "$tmp/$1.log" "connected as alice"
	kill -TERM "$VPNC_PID"
	wait "$VPNC_PID"
}

setup_topology
ip -n "$ns_srv" -6 addr add $SRV6/64 dev srv0 nodad
ip -n "$ns_wan" -6 addr add 2001:db8:1::fe/64 dev wan0 nodad
ip -n "$ns_wan" -6 addr add 2001:db8:2::fe/64 dev wan1 nodad
ip -n "$ns_cli" -6 addr add $CLI6/64 dev cli0 nodad
ip netns exec "$ns_wan" sysctl -qw net.ipv6.conf.all.forwarding=1
ip -n "$ns_srv" -6 route add default via 2001:db8:1::fe
ip -n "$ns_cli" -6 route add default via 2001:db8:2::fe
wait_for 5 q_cli ping -6 -c 1 -W 1 $SRV6

write_vpnd_conf "lockout-failures = 3" "lockout-time = 1m"
alice=$(enrol alice)
bob=$(enrol bob)
[ -n "$alice" ] && [ -n "$bob" ]
for who in alice bob; do
	write_vpnc_conf "$who" "$who"
	write_vpnc_conf "$who-6" "$who"
	sed -i "s/^server = .*/server = \"[$SRV6]:51900\"/" "$tmp/$who-6.conf"
done
# alice again from a laptop of her own: no login to resume.
write_vpnc_conf laptop alice
for who in laptop recovery; do
	write_vpnc_conf "$who-6" alice
	sed -i "s/^server = .*/server = \"[$SRV6]:51900\"/" "$tmp/$who-6.conf"
done
write_vpnc_conf fake "$FAKE"
start_vpnd

# From 198.51.100.2: a login, then three failures lock the address.
connect_ok alice "$(totp "$alice")"
audited "login user=alice src=$CLI_ADDR:[0-9]* result=ok reason=totp "
try bob wrong-password "$(totp "$bob")"
[ "$rc" -eq 3 ]
audited "login user=bob src=$CLI_ADDR:[0-9]* result=failed reason=bad-password "
try fake "$PASSWORD" 123456
[ "$rc" -eq 3 ]
audited "login user=x?src=203.0.113.66:4444?result=failed?reason=bad-code src=$CLI_ADDR:[0-9]* result=failed reason=unknown-user "
try bob wrong-password "$(totp "$bob")"
[ "$rc" -eq 3 ]
try laptop "$PASSWORD" "$(totp "$alice" 1)"
[ "$rc" -eq 3 ]
audited "login user=alice src=$CLI_ADDR:[0-9]* result=locked reason=locked-source "

# From 2001:db8:2::2: bob's third failure locks bob; alice still gets in.
try bob-6 "$PASSWORD" "$(wrong_code "$bob")"
[ "$rc" -eq 3 ]
audited "login user=bob src=\[$CLI6\]:[0-9]* result=failed reason=bad-code "
try bob-6 "$PASSWORD" "$(totp "$bob")"
[ "$rc" -eq 3 ]
audited "login user=bob src=\[$CLI6\]:[0-9]* result=locked reason=locked-user "
# Not the first login's code: a later step, as a phone shows it next.
code=$(totp "$alice" 1)
connect_ok alice-6 "$code"
audited "login user=alice src=\[$CLI6\]:[0-9]* result=ok reason=totp "
# The same code again, from another laptop; then a recovery code.
try laptop-6 "$PASSWORD" "$code"
[ "$rc" -eq 3 ]
audited "login user=alice src=\[$CLI6\]:[0-9]* result=failed reason=reused-code "
recovery=$("$VPNCTL" -c "$tmp/vpnd.conf" user recovery alice | tail -n 1)
connect_ok recovery-6 "$recovery"
audited "login user=alice src=\[$CLI6\]:[0-9]* result=ok reason=recovery-code "

stop_vpnd
grep 'login user=' "$tmp/vpnd.log" >"$tmp/audit.log"
[ -z "${AUDIT_SAMPLE:-}" ] || cp "$tmp/audit.log" "$AUDIT_SAMPLE"
bash "$top/tests/cli/t-fail2ban.sh" "$tmp/audit.log"
