#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Packet workers (packet-workers, shared/cryptopool.h): with 3 on both
# sides, vpnd says so (vpnctl status), vpnd and vpnc each run 2 threads
# named cryptopool beside their loop, and bulk TCP streams of random bytes
# cross the tunnel both ways, over IPv4 and IPv6, every byte in order (the
# receiver's SHA-256 is the sender's) and vpnd drops nothing as a replay
# or a forgery: batches sealed and opened on several threads keep their
# order, nonces and replay windows. A ping gets through too. Then with 1:
# no such thread, the same again.
source "$(dirname "$0")/lib.sh"

BYTES=$((8 * 1024 * 1024))

# bulk.py recv ADDR PORT READY | send ADDR PORT BYTES: a receiver that
# prints the count and SHA-256 of what one connection brought, and a
# sender of BYTES random bytes that prints the same of what it sent once
# the receiver has closed. Each gives up after 30 s without progress.
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
	local from=$1 to=$2 addr=$3 got sent rpid
	rm -f "$tmp/ready"
	ip netns exec "$to" /usr/bin/python3 "$tmp/bulk.py" recv "$addr" 5201 \
		"$tmp/ready" >"$tmp/recv.out" 2>&1 &
	rpid=$!
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

# dropped REASON: vpnd's count of packets dropped for REASON (metrics).
dropped() {
	q_srv "$VPNCTL" -c "$tmp/vpnd.conf" metrics |
		sed -n "s/^vpnd_dropped_packets_total{reason=\"$1\"} //p"
}

# pool_threads PID: how many of PID's threads are packet workers.
pool_threads() {
	local n=0 comm
	for comm in /proc/"$1"/task/*/comm; do
		[ "$(cat "$comm" 2>/dev/null)" != cryptopool ] || n=$((n + 1))
	done
	echo "$n"
}

# session N: vpnd and alice's vpnc with packet-workers = N, alice
# connected.
session() {
	write_vpnd_conf "packet-workers = $1"
	write_vpnc_conf alice alice "packet-workers = $1"
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

# check N: the threads of a session with packet-workers = N, and the
# streams.
check() {
	local want=$1 addr4 addr6 vpnd_pid
	[ "$(status_field packet_workers)" -eq "$want" ]
	vpnd_pid=$(status_field pid)
	[ "$(pool_threads "$vpnd_pid")" -eq $((want - 1)) ]
	[ "$(pool_threads "$VPNC_PID")" -eq $((want - 1)) ]
	n_cli ping -c 3 -i 0.2 -W 2 "$TUN_SRV"
	addr4=$(client_addr "$tmp/alice.log")
	addr6=$(session_field alice address6)
	addr6=${addr6%/*}
	transfer "$ns_cli" "$ns_srv" "$TUN_SRV"
	transfer "$ns_srv" "$ns_cli" "$addr4"
	transfer "$ns_srv" "$ns_cli" "$addr6"
	# vpnd took nothing for a replay or a forgery.
	[ "$(dropped replay)" -eq 0 ]
	[ "$(dropped data-invalid)" -eq 0 ]
}

setup_topology
write_bulk

session 3
check 3
finish

session 1
check 1
finish
echo "packet workers: ok"
