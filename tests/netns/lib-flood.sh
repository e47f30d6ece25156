# SPDX-License-Identifier: MIT
#
# For the scenarios of an attacker on the open internet (t-junk-initiations,
# t-source-rate, t-replay-overflow), sourced after lib.sh. After
# setup_topology, setup_bots adds a namespace that owns a whole prefix, $BOT_NET, as a
# botnet would: a flood from there comes from thousands of addresses, each
# with the full per-source handshake budget of a newcomer, and the server's
# answers to them come back (so the flooder counts them) through wan3,
# where wire_counters can count them too.
#
#                 ┌─────────── $ns_wan ───────────┐
#                 │  wan3 10.65.0.1/30            │
#                 │  10.66.0.0/16 via 10.65.0.2   │
#                 └───────────────┬───────────────┘
#                 ┌──── $ns_bot ──┴───────────────┐
#                 │  bot0 10.65.0.2/30            │
#                 │  local 10.66.0.0/16: every    │
#                 │  address of it is its own     │
#                 └───────────────────────────────┘
#
# It also names the tools these scenarios drive (udpflood, replay.py,
# halfopen.py), and gives helpers to read a clock in milliseconds, to wait
# until a wire count stops moving and to read udpflood's summary line.

FLOOD=$bin/tools/udpflood
REPLAY=$top/tests/tools/replay.py
HALFOPEN=$top/tests/tools/halfopen.py
ns_bot=vpn-bot-$$
BOT_NET=10.66.0.0/16

q_bot() { ip netns exec "$ns_bot" "$@"; }
q_wan() { ip netns exec "$ns_wan" "$@"; }

require_flood() {
	[ -x "$FLOOD" ] || skip "$FLOOD is not built"
}

setup_bots() {
	ip netns add "$ns_bot"
	namespaces+=("$ns_bot")
	ip -n "$ns_bot" link set lo up
	ip link add bot0 netns "$ns_bot" type veth peer name wan3 \
		netns "$ns_wan"
	ip -n "$ns_wan" addr add 10.65.0.1/30 dev wan3
	ip -n "$ns_bot" addr add 10.65.0.2/30 dev bot0
	ip -n "$ns_wan" link set wan3 up
	ip -n "$ns_bot" link set bot0 up
	ip -n "$ns_bot" route add default via 10.65.0.1
	ip -n "$ns_bot" route add local $BOT_NET dev lo
	ip -n "$ns_wan" route add $BOT_NET via 10.65.0.2
}

# now_ms: the monotonic clock, in milliseconds.
now_ms() {
	local up
	read -r up _ </proc/uptime
	echo $((${up%.*} * 1000 + 10#${up#*.} * 10))
}

# count_settled DEV TYPE: true once wire_count DEV TYPE has not changed
# for half a second (the server has answered everything queued for it).
count_settled() {
	local a b
	a=$(wire_count "$1" "$2")
	sleep 0.5
	b=$(wire_count "$1" "$2")
	[ "$a" = "$b" ]
}

# flood_field LOG NAME: a count from udpflood's summary line (NAME=N), or
# the number of datagrams sent for NAME "datagrams".
flood_field() {
	if [ "$2" = datagrams ]; then
		sed -n 's/^udpflood: \([0-9]*\) datagrams.*/\1/p' "$1"
	else
		sed -n "s/.*[ ;]$2=\([0-9]*\).*/\1/p" "$1"
	fi
}

# sanitizers_quiet FILE...: fails if a sanitizer reported in any of them.
sanitizers_quiet() {
	! grep -E "AddressSanitizer|LeakSanitizer|runtime error" "$@"
}
