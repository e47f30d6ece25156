#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Logins past the server's limit of checks in flight (PROTOCOL.md section
# 6, rule 10). With one check allowed (auth-queue = 1), a session whose
# login is being checked holds the only place; 100 AUTH_REQUESTs from a
# second session, each with its own REQUEST_ID, arrive meanwhile and are
# each answered BUSY with RETRY_AFTER at once. That answer is cheap for
# the sender to provoke, so vpnd's audit of it is rate-limited: a handful
# of lines naming the user, never one line per datagram. Once the check
# ends, the second session's next request is checked like any other
# (AUTH_FAILED, counted in the audit as usual).
# Both sessions are driven by tests/tools/pyvpn.py's Peer (an independent
# implementation of the protocol), so the flood is exact and fast.
source "$(dirname "$0")/lib.sh"

setup_topology
write_vpnd_conf "auth-workers = 1" "auth-queue = 1" \
	"lockout-failures = 100"
secret=$(enrol alice)
[ -n "$secret" ]
start_vpnd

ip netns exec "$ns_cli" /usr/bin/python3 -B - "$top/tests/tools" \
	"$SRV_ADDR:51900" "$SERVER_PUB" >"$tmp/flood.log" 2>&1 <<'EOF'
import base64, os, struct, sys, time
sys.path.insert(0, sys.argv[1])
import pyvpn as v

server, pub = sys.argv[2], base64.b64decode(sys.argv[3])

def request(rid, password):
    return v.ctl_encode(v.CTL_AUTH_REQUEST, [
        (v.A_REQUEST_ID, struct.pack("<I", rid)),
        (v.A_USERNAME, b"alice"), (v.A_PASSWORD, password),
        (v.A_TOTP, b"000000")])

def sealed(peer, plain):
    """What Peer.send_plain would send, built ahead of time."""
    plain += bytes(((len(plain) + 15) & ~15) - len(plain))
    n = peer.send_counter
    peer.send_counter += 1
    return struct.pack("<IIQ", v.MSG_DATA, peer.remote_index, n) + \
        v.aead_seal(peer.send_key, n, plain, b"")

a = v.Peer(server, pub, os.urandom(32), bytes(32))
b = v.Peer(server, pub, os.urandom(32), bytes(32))
a.handshake()
b.handshake()
flood = [sealed(b, request(0x10000 + i, b"wrong")) for i in range(100)]
a.send_plain(request(1, b"wrong"))
for msg in flood:
    b.send_raw(msg)

busy = other = 0
deadline = time.monotonic() + 5
while busy + other < len(flood):
    r = b.recv_data(deadline)
    if r is None:
        break
    kind, val = r
    if kind != "ctl" or val[0].type != v.CTL_AUTH_RESULT:
        continue
    c = val[0]
    if c.get(v.A_STATUS) == bytes([3]):
        v.expect(c.get(v.A_RETRY_AFTER) is not None, "BUSY without "
                 "RETRY_AFTER")
        busy += 1
    else:
        other += 1
print("busy answers: %d, other answers: %d" % (busy, other))
v.expect(busy >= 50, "only %d of 100 requests answered BUSY" % busy)

# The first session's check ends with AUTH_FAILED ...
c, _, _ = a.request(request(1, b"wrong"), 1)
v.expect(c.get(v.A_STATUS) == bytes([1]), "first session: status %r"
         % c.get(v.A_STATUS))
# ... and then the second session is checked again.
c, _, _ = b.request(request(2, b"wrong"), 2)
v.expect(c.get(v.A_STATUS) == bytes([1]), "second session after the "
         "check: status %r" % c.get(v.A_STATUS))
print("flood ok")
EOF
cat "$tmp/flood.log"
log_has "$tmp/flood.log" "flood ok"

# A handful of audit lines for the BUSY answers, each naming the user.
busy_lines=$(count_log "$tmp/vpnd.log" "result=busy")
echo "busy audit lines: $busy_lines"
((busy_lines >= 1 && busy_lines <= 10))
grep "result=busy" "$tmp/vpnd.log"
[ "$(count_log "$tmp/vpnd.log" \
	"login user=alice src=$CLI_ADDR:[0-9]* result=busy reason=queue-full ")" \
	-eq "$busy_lines" ]
# The two real checks are audited as usual.
[ "$(count_log "$tmp/vpnd.log" "login user=alice .*result=failed")" -eq 2 ]

stop_vpnd
echo "ok"
