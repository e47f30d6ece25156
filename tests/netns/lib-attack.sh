# SPDX-License-Identifier: MIT
#
# Shared by the attack scenarios (t-forged-lockout, t-lockout-exact,
# t-login-flood, t-answer-cache), after lib.sh: tests/tools/attack.py
# (hostile clients built on pyvpn.py, the independent implementation of
# the protocol), the store's failure counters as vpnctl shows them, and an
# internet that forwards forged sources.

PY=/usr/bin/python3
ATTACK=$top/tests/tools/attack.py
if ! "$PY" -c 'import nacl.bindings' 2>/dev/null; then
	skip "needs /usr/bin/python3 with python3-nacl (make deps)"
fi

# attack NS LOG SUBCOMMAND [options...]: runs attack.py in namespace NS
# against vpnd, bounded by 120 s, its lines going to LOG (a new file) and
# to the test's output. Fails if attack.py does.
attack() {
	local ns=$1 log=$2 rc=0
	shift 2
	pretty "$ns" attack.py "$@"
	timeout 120 ip netns exec "$ns" "$PY" -B "$ATTACK" "$1" \
		--server "$SRV_ADDR:51900" --server-pub "$SERVER_PUB" \
		"${@:2}" >"$log" 2>&1 || rc=$?
	sed 's/^/    /' "$log" >&2
	return "$rc"
}

# lines LOG PATTERN: how many lines of LOG match (grep -c, 0 if none).
lines() { grep -c -- "$2" "$1" || true; }

# audit_count PATTERN: vpnd's login audit lines matching PATTERN.
audit_count() { lines "$tmp/vpnd.log" "vpnd: login $1"; }

# locks_json: `vpnctl locks --json`, as the store holds them now.
locks_json() { "$VPNCTL" -c "$tmp/vpnd.conf" locks --json; }

# source_count ADDRESS: the failures a source holds now (0 if none).
source_count() {
	locks_json | "$PY" -c '
import json, sys
rows = [r for r in json.load(sys.stdin)
	if r["kind"] == "source" and r["key"] == sys.argv[1]]
print(rows[0]["count"] if rows else 0)' "$1"
}

# sources: the sources holding failures or a lock, one a line, sorted.
sources() {
	locks_json | "$PY" -c '
import json, sys
for k in sorted(r["key"] for r in json.load(sys.stdin)
		if r["kind"] == "source"):
	print(k)'
}

# internet_forwards_forged: the middle namespace forwards whatever source
# a datagram claims, as most of the internet does (no reverse-path check
# in $ns_wan or at the server), so forged sources reach vpnd. The kernel
# applies the larger of "all" and the device's value.
internet_forwards_forged() {
	local ns dev
	for ns in "$ns_wan" "$ns_srv"; do
		ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0
		for dev in $(ip -n "$ns" -o link show |
			awk -F': ' '{ sub(/@.*/, "", $2); print $2 }'); do
			ip netns exec "$ns" sysctl -qw \
				"net.ipv4.conf.$dev.rp_filter=0"
		done
	done
}
