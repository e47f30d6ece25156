#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Reloading vpnd.conf while clients are connected (SIGHUP, vpnctl reload):
#
#   - alice pings the office host through the tunnel while vpnd.conf gains
#     a route (10.30.0.0/24, a second office network) and vpnd gets SIGHUP:
#     every ping is answered, her session is the same one (same key and
#     login time, no DISCONNECT, vpnc never reconnects);
#   - bob logs in afterwards, from a second home: he is pushed the new
#     route and reaches 10.30.0.2 through it; alice, who did not log in
#     again, was not;
#   - a file with a syntax error, then one that parses but breaks a rule
#     (a route inside the pool), are refused with file:line, by SIGHUP and
#     by `vpnctl reload` (exit 1, the problems on stderr and in --json);
#     vpnd keeps the configuration it had: the broken files drop the new
#     route, and carol, logging in after them, still gets it;
#   - a pool growth the device refuses (IPv6 off on it) is undone and the
#     file refused, the IPv4 pool's growth in it put back;
#   - a changed listen-port is named as needing a restart and vpnd goes on
#     on the old port, while the same file's pool growth (10.99.0.0/24 to
#     /23) is applied: the device's address and carol's are /23;
#   - a lower lockout-failures reaches the threads that check passwords:
#     dave's second wrong password locks his name, where the first, under
#     the old policy, did not;
#   - new routes of a family the host does not forward are warned about,
#     as at start.
source "$(dirname "$0")/lib.sh"

ctl() { "$VPNCTL" -c "$tmp/vpnd.conf" "$@"; }

# json_get KEY: reads a JSON object on stdin, prints KEY's value.
json_get() {
	/usr/bin/python3 -c 'import json, sys
v = json.load(sys.stdin)[sys.argv[1]]
print(" ".join(v) if isinstance(v, list) else v)' "$1"
}

# session_of USER: "KEY LOGIN-TIME" of USER's admitted session.
session_of() {
	ctl sessions --json | /usr/bin/python3 -c 'import json, sys
for s in json.load(sys.stdin):
    if s.get("user") == sys.argv[1] and s["state"] == "admitted":
        print(s["session"], s["login_time"])' "$1"
}

# user_lock NAME: "COUNT SECONDS-LEFT" of NAME's failures in the store.
user_lock() {
	ctl locks --json | /usr/bin/python3 -c 'import json, sys
r = [r for r in json.load(sys.stdin)
     if r["kind"] == "user" and r["key"] == sys.argv[1]]
print(r[0]["count"], r[0]["seconds_left"]) if r else print("0 0")' "$1"
}

# fail_login NAME: dave, from the second home, with a wrong password;
# refused (vpnc exits 3) within 20 s.
fail_login() {
	cp "$tmp/dave.conf" "$tmp/$1.conf"
	VPNC_NS=$ns_cli2 start_vpnc "$1" "wrong password" "$(totp "$secret_d")"
	wait_gone "$VPNC_PID" 200
	rc=0
	wait "$VPNC_PID" || rc=$?
	[ "$rc" -eq 3 ]
	grep -q "error: login failed" "$tmp/$1.log"
}

# reload_sighup: SIGHUP, and waits until vpnd says how it ended.
reload_sighup() {
	local before
	before=$(count_log "$tmp/vpnd.log" "reload: \(applied\|nothing to\|.* refused\)")
	kill -HUP "$VPND_PID"
	wait_for 20 log_count_above "$tmp/vpnd.log" \
		"reload: \(applied\|nothing to\|.* refused\)" "$before"
}

# conf LINES...: vpnd.conf as the test wants it now: what lib.sh writes,
# without its pool and routes and whatever LINES set, then LINES (written
# whole, then renamed, as an editor would; the key stays).
conf() {
	local line drop='address-pool4|routes'
	for line in "$@"; do drop="$drop|${line%% =*}"; done
	{
		grep -Ev "^($drop) =" "$tmp/vpnd.conf.base"
		for line in "$@"; do echo "$line"; done
	} >"$tmp/vpnd.conf.new"
	mv "$tmp/vpnd.conf.new" "$tmp/vpnd.conf"
}

setup_topology
setup_client2
# The second office network, behind the server like the first.
ip -n "$ns_srv" addr add 10.30.0.1/24 dev lan0
ip -n "$ns_lan" addr add 10.30.0.2/24 dev lan1

POOL='address-pool4 = "10.99.0.0/24"'
ROUTES='routes = {"10.20.0.0/24", "fd00:20::/64"}'
NEW_ROUTES='routes = {"10.20.0.0/24", "fd00:20::/64", "10.30.0.0/24"}'
write_vpnd_conf
cp "$tmp/vpnd.conf" "$tmp/vpnd.conf.base"
conf "$POOL" "$ROUTES"
write_vpnc_conf alice alice
write_vpnc_conf bob bob
write_vpnc_conf carol carol
write_vpnc_conf dave dave
secret_a=$(enrol alice)
secret_b=$(enrol bob)
secret_c=$(enrol carol)
secret_d=$(enrol dave)
start_vpnd

start_vpnc alice "$PASSWORD" "$(totp "$secret_a")"
pid_a=$VPNC_PID
wait_log "$tmp/alice.log" "connected as alice"
session_a=$(session_of alice)
echo "alice: session $session_a"
[ -n "$session_a" ]
refute q_cli ping -c 1 -W 1 10.30.0.2

# ---- a new route, while alice's traffic flows ----------------------------
reps0=$(echo_replies "$ns_cli")
q_cli ping -c 60 -i 0.1 -W 1 $LAN_HOST >"$tmp/ping-a.txt" &
ping_a=$!
wait_for 10 replies_since "$ns_cli" "$reps0" 5
conf "$POOL" "$NEW_ROUTES"
reload_sighup
log_has "$tmp/vpnd.log" "reload (SIGHUP): reading $tmp/vpnd.conf"
log_has "$tmp/vpnd.log" "reload: applied routes$"
kill -0 "$ping_a" && echo "(the reload finished while alice's ping ran)"
wait "$ping_a" || true
wait_for 10 replies_since "$ns_cli" "$reps0" 60
echo "alice across the reload: $(($(echo_replies "$ns_cli") - reps0))/60"
[ "$(($(echo_replies "$ns_cli") - reps0))" -eq 60 ]
[ "$(session_of alice)" = "$session_a" ]
refute log_has "$tmp/vpnd.log" "admission ended"
refute log_has "$tmp/alice.log" "disconnect\|reconnecting"
[ "$(count_log "$tmp/alice.log" "connected as")" -eq 1 ]
kill -0 "$pid_a"

# ---- the next login gets the route ----------------------------------------
VPNC_NS=$ns_cli2 start_vpnc bob "$PASSWORD" "$(totp "$secret_b")"
pid_b=$VPNC_PID
wait_log "$tmp/bob.log" "connected as bob"
ip -n "$ns_cli2" route show
ip -n "$ns_cli2" route show | grep -q "^10.30.0.0/24 .*dev vpn0"
q_cli2 ping -c 2 -i 0.2 -W 2 10.30.0.2
# alice has not logged in since: her routes are the ones of her login.
[ -z "$(ip -n "$ns_cli" route show 10.30.0.0/24)" ]

# ---- broken files change nothing ------------------------------------------
# A syntax error, in a file that would also drop the new route.
conf "$POOL" "$ROUTES" 'keepalive = 10' 'mtu = 1400 oops'
line=$(grep -n "oops" "$tmp/vpnd.conf" | cut -d: -f1)
reload_sighup
log_has "$tmp/vpnd.log" "reload: $tmp/vpnd.conf:$line: "
log_has "$tmp/vpnd.log" \
	"reload: $tmp/vpnd.conf refused; the running configuration is kept"
kill -0 "$VPND_PID"
# vpnctl reads the file too (it names the socket): it says the same and
# leaves vpnd alone.
rc=0
ctl reload >"$tmp/reload.out" 2>"$tmp/reload.err" || rc=$?
cat "$tmp/reload.err"
[ "$rc" -eq 1 ]
grep -q "^$tmp/vpnd.conf:$line: " "$tmp/reload.err"
grep -q "^vpnctl: reload: vpnd was not asked; it keeps its running" \
	"$tmp/reload.err"
[ ! -s "$tmp/reload.out" ]

# A file that is fine alone but not beside what only a restart changes:
# the pool moves (restart-only), and a route lies inside the pool that
# stays. vpnctl finds nothing wrong; vpnd refuses it, to both.
conf 'address-pool4 = "10.98.0.0/24"' \
	'routes = {"10.20.0.0/24", "10.99.0.128/25"}'
line=$(grep -n "10.99.0.128" "$tmp/vpnd.conf" | cut -d: -f1)
rc=0
ctl reload --json >"$tmp/reload.json" || rc=$?
cat "$tmp/reload.json"
[ "$rc" -eq 1 ]
[ "$(json_get reloaded <"$tmp/reload.json")" = False ]
json_get problems <"$tmp/reload.json" | grep -q \
	"^$tmp/vpnd.conf:$line: routes: 10.99.0.128/25 overlaps address-pool4 10.99.0.0/24"
log_has "$tmp/vpnd.log" "reload (vpnctl, uid 0 pid [0-9]*): reading"
rc=0
ctl reload 2>"$tmp/reload.err" || rc=$?
cat "$tmp/reload.err"
[ "$rc" -eq 1 ]
grep -q "^$tmp/vpnd.conf:$line: routes: " "$tmp/reload.err"
grep -q "^vpnctl: reload: the file has errors; vpnd keeps its running configuration$" \
	"$tmp/reload.err"
reload_sighup
[ "$(count_log "$tmp/vpnd.log" "reload: .* refused; the running")" -eq 4 ]
refute log_has "$tmp/vpnd.log" "address-pool4 changed"

# Still the last good configuration: alice's traffic, and the route.
q_cli ping -c 2 -i 0.2 -W 2 $LAN_HOST
[ "$(session_of alice)" = "$session_a" ]

# ---- a pool the device will not take changes nothing -----------------------
# Both pools grow, but IPv6 is off on the device: the IPv4 prefix it took
# is put back, and the file refused.
q_srv sysctl -qw net.ipv6.conf.vpn0.disable_ipv6=1
conf 'address-pool4 = "10.99.0.0/23"' 'address-pool6 = "fd00:99::/63"' \
	"$NEW_ROUTES" 'keepalive = 10'
rc=0
ctl reload 2>"$tmp/reload.err" || rc=$?
cat "$tmp/reload.err"
[ "$rc" -eq 1 ]
grep -q "^vpn0: cannot add fd00:99::1/63: " "$tmp/reload.err"
ip -n "$ns_srv" -4 addr show dev vpn0 >"$tmp/addr.txt"
grep -q "inet 10.99.0.1/24 " "$tmp/addr.txt"
refute grep -q "inet 10.99.0.1/23 " "$tmp/addr.txt"
[ "$(ctl status --json | json_get address4)" = 10.99.0.1/24 ]
refute log_has "$tmp/vpnd.log" "applied.*keepalive"
q_srv sysctl -qw net.ipv6.conf.vpn0.disable_ipv6=0
q_cli ping -c 2 -i 0.2 -W 2 $LAN_HOST

# ---- a restart-only change beside a live one ------------------------------
conf 'address-pool4 = "10.99.0.0/23"' "$NEW_ROUTES" 'listen-port = 51901'
ctl reload
ctl reload --json >"$tmp/reload.json"
cat "$tmp/reload.json"
[ "$(json_get reloaded <"$tmp/reload.json")" = True ]
[ "$(json_get restart <"$tmp/reload.json")" = "listen-port" ]
log_has "$tmp/vpnd.log" \
	"reload: listen-port changed: restart vpnd to apply it"
log_has "$tmp/vpnd.log" "reload: applied address-pool4"
# Still on the old port (alice's session goes on), and the device took
# the grown pool's prefix.
n_srv ss -Huln >"$tmp/ss.txt"
grep -q ":51900 " "$tmp/ss.txt"
refute grep -q ":51901 " "$tmp/ss.txt"
ip -n "$ns_srv" -4 addr show dev vpn0 >"$tmp/addr.txt"
cat "$tmp/addr.txt"
grep -q "inet 10.99.0.1/23 " "$tmp/addr.txt"
refute grep -q "inet 10.99.0.1/24 " "$tmp/addr.txt"
[ "$(ctl status --json | json_get address4)" = 10.99.0.1/23 ]
q_cli ping -c 2 -i 0.2 -W 2 $LAN_HOST
[ "$(session_of alice)" = "$session_a" ]

# carol logs in after all this: the route from the good reload, and an
# address of the grown pool.
kill -TERM "$pid_b"
wait "$pid_b"
VPNC_NS=$ns_cli2 start_vpnc carol "$PASSWORD" "$(totp "$secret_c")"
pid_c=$VPNC_PID
wait_log "$tmp/carol.log" "connected as carol"
grep "connected as carol" "$tmp/carol.log"
grep -q "connected as carol on vpn0, address 10.99.0.[0-9]*/23" "$tmp/carol.log"
ip -n "$ns_cli2" route show | grep -q "^10.30.0.0/24 .*dev vpn0"
q_cli2 ping -c 2 -i 0.2 -W 2 10.30.0.2

# ---- the lockout policy reaches the threads that check passwords ----------
kill -TERM "$pid_c"
wait "$pid_c"
# One wrong password under the policy vpnd started with (5 failures).
fail_login dave1
[ "$(user_lock dave)" = "1 0" ]
conf 'address-pool4 = "10.99.0.0/23"' "$NEW_ROUTES" 'listen-port = 51901' \
	'lockout-failures = 2'
ctl reload --json >"$tmp/reload.json"
cat "$tmp/reload.json"
[ "$(json_get applied <"$tmp/reload.json")" = lockout-failures ]
# The second one now locks the name.
fail_login dave2
read -r count left <<<"$(user_lock dave)"
echo "dave: $count failures, locked for $left s"
[ "$count" -eq 2 ] && [ "$left" -gt 0 ]

# ---- new routes of a family this host does not forward: said, as at start
q_srv sysctl -qw net.ipv6.conf.all.forwarding=0
conf 'address-pool4 = "10.99.0.0/23"' 'listen-port = 51901' \
	'lockout-failures = 2' \
	'routes = {"10.20.0.0/24", "fd00:20::/64", "10.30.0.0/24", "fd00:30::/64"}'
ctl reload
log_has "$tmp/vpnd.log" \
	"warning: net.ipv6.conf.all.forwarding is 0, so what clients send"

# alice, all along: one session, never told to go.
[ "$(session_of alice)" = "$session_a" ]
[ "$(count_log "$tmp/alice.log" "connected as")" -eq 1 ]
refute log_has "$tmp/alice.log" "disconnect\|reconnecting"

kill -TERM "$pid_a"
wait "$pid_a"
stop_vpnd
no_device "$ns_srv"
echo "ok"
