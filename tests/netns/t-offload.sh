#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The TUN offloads (shared/tunio.h) carry a bulk TCP transfer right. With
# offload = yes, TCP streams of random bytes cross the tunnel both ways,
# over IPv4 and IPv6, to and from the server's own stack (whose TSO
# super-packets vpnd cuts, and into which vpnd writes coalesced segments)
# and from the client to the office host (coalesced, then forwarded):
# every byte arrives, the receiver's SHA-256 is the sender's. vpnd's
# counters (vpnctl status) and vpnc's (its log at exit) show super-packets
# read and cut and writes coalesced, and vpnd's UDP socket has GSO. Then
# again with offload = no on both sides: the same bytes arrive, every
# counter stays at 0, and the UDP offloads are off too.
source "$(dirname "$0")/lib.sh"

# metric NAME: a series' value in vpnctl metrics (NAME may carry labels).
metric() {
	q_srv "$VPNCTL" -c "$tmp/vpnd.conf" metrics |
		awk -v n="$1" '$1 == n { print $2 }'
}

BYTES=$((4 * 1024 * 1024))

# bulk.py recv ADDR PORT READY | send ADDR PORT BYTES: a receiver that
# prints the count and SHA-256 of what one connection brought, and a
# sender of BYTES random bytes that prints the same of what it sent once
# the receiver has closed (so every byte was taken). Each gives up after
# 30 s without progress.
write_bulk() {
	cat >"$tmp/bulk.py" <<-'EOF'
	import hashlib, os, socket, sys
	mode, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
	fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
	h, n = hashlib.sha256(), 0
	if mode == "recv":
	    s = socket.socket(fam, socket.SOCK_STREAM)
	    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	    s.bind((addr, port))
	    s.listen(1)
	    open(sys.argv[4], "w").close()
	    s.settimeout(30)
	    c, _ = s.accept()
	    c.settimeout(30)
	    while True:
	        d = c.recv(1 << 20)
	        if not d:
	            break
	        h.update(d)
	        n += len(d)
	    c.close()
	else:
	    data = os.urandom(int(sys.argv[4]))
	    s = socket.create_connection((addr, port), timeout=30)
	    s.sendall(data)
	    s.shutdown(socket.SHUT_WR)
	    s.recv(1)
	    s.close()
	    h.update(data)
	    n = len(data)
	print(n, h.hexdigest())
	EOF
}

# transfer FROM_NS TO_NS ADDR: BYTES from FROM_NS to ADDR:5201 in TO_NS;
# the two digests must match.
transfer() {
	local from=$1 to=$2 addr=$3 got sent
	rm -f "$tmp/ready"
	ip netns exec "$to" /usr/bin/python3 "$tmp/bulk.py" recv "$addr" 5201 \
		"$tmp/ready" >"$tmp/recv.out" 2>&1 &
	local rpid=$!
	pids+=("$rpid")
	wait_for 10 test -e "$tmp/ready"
	sent=$(ip netns exec "$from" /usr/bin/python3 "$tmp/bulk.py" send \
		"$addr" 5201 "$BYTES")
	wait "$rpid"
	got=$(cat "$tmp/recv.out")
	echo "sent $sent, received $got"
	[ "$sent" = "$got" ]
	[ "${sent%% *}" -eq "$BYTES" ]
}

# run_transfers: the four streams, with alice connected.
run_transfers() {
	local addr4 addr6
	addr4=$(client_addr "$tmp/alice.log")
	addr6=$(session_field alice address6)
	addr6=${addr6%/*}
	transfer "$ns_cli" "$ns_srv" "$TUN_SRV"
	transfer "$ns_srv" "$ns_cli" "$addr4"
	transfer "$ns_cli" "$ns_lan" fd00:20::2
	transfer "$ns_srv" "$ns_cli" "$addr6"
}

# vpnc_offloads FIELD: from vpnc's exit line "offloads: A super-packets
# read, cut into B packets; C coalesced writes of D packets; E reads
# refused", the number named by FIELD (1-5).
vpnc_offloads() {
	sed -n 's/.*offloads: \([0-9]*\) super-packets read, cut into \([0-9]*\) packets; \([0-9]*\) coalesced writes of \([0-9]*\) packets; \([0-9]*\) reads refused.*/\1 \2 \3 \4 \5/p' \
		"$tmp/alice.log" | tail -n 1 | cut -d' ' -f"$1"
}

# session OFFLOAD: vpnd and alice's vpnc with offload = OFFLOAD, alice
# connected.
session() {
	write_vpnd_conf "offload = $1"
	write_vpnc_conf alice alice "offload = $1"
	secret=$(enrol alice)
	: >"$tmp/alice.log"
	start_vpnd
	start_vpnc alice "$PASSWORD" "$(totp "$secret")"
	wait_log "$tmp/alice.log" "connected as alice"
}

finish() {
	kill -TERM "$VPNC_PID"
	wait "$VPNC_PID"
	stop_vpnd
	rm -f "$tmp/users.db"* "$tmp/server.key" "$tmp/alice.key"
}

setup_topology
write_bulk

# ---- offload = yes -------------------------------------------------------
session yes
[[ $(status_field tun_offload) == *tso4*tso6* ]]
[ "$(status_field tun_coalescing)" = yes ]
[[ $(status_field udp_offload) == gso* ]]
grep -q 'vpn0: offloads csum tso4 tso6' "$tmp/alice.log"
run_transfers
# vpnd cut the server's super-packets into more segments than it read,
# and wrote the clients' segments coalesced, several to a write.
super=$(status_field tun_super_read)
segs=$(status_field tun_segments)
writes=$(status_field tun_coalesced_writes)
pkts=$(status_field tun_coalesced_packets)
echo "vpnd: $super super-packets read, cut into $segs; $writes coalesced writes of $pkts packets"
((super > 0 && segs > super && writes > 0 && pkts > writes))
[ "$(status_field tun_refused)" -eq 0 ]
# The same counts in vpnctl metrics (Prometheus).
metric vpnd_tun_super_packets_total >"$tmp/m"
[ "$(cat "$tmp/m")" -ge "$super" ]
[ "$(metric 'vpnd_offload_enabled{offload="tun"}')" = 1 ]
[ "$(metric 'vpnd_offload_enabled{offload="udp-gso"}')" = 1 ]
finish
# vpnc likewise, both ways.
((vpnc_super = $(vpnc_offloads 1), vpnc_segs = $(vpnc_offloads 2)))
((vpnc_writes = $(vpnc_offloads 3), vpnc_pkts = $(vpnc_offloads 4)))
((vpnc_super > 0 && vpnc_segs > vpnc_super))
((vpnc_writes > 0 && vpnc_pkts > vpnc_writes))
[ "$(vpnc_offloads 5)" -eq 0 ]

# ---- offload = no --------------------------------------------------------
session no
[ "$(status_field tun_offload)" = off ]
[ "$(status_field tun_coalescing)" = no ]
[ "$(status_field udp_offload)" = off ]
grep -q 'vpn0: offloads off' "$tmp/alice.log"
run_transfers
for f in tun_super_read tun_segments tun_csum_completed \
	tun_coalesced_writes tun_coalesced_packets tun_refused; do
	[ "$(status_field "$f")" -eq 0 ]
done
[ "$(metric 'vpnd_offload_enabled{offload="tun"}')" = 0 ]
[ "$(metric vpnd_tun_super_packets_total)" = 0 ]
finish
for i in 1 2 3 4 5; do
	[ "$(vpnc_offloads "$i")" -eq 0 ]
done
echo "ok"
