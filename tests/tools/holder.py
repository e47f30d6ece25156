#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""holder.py: one address holding as many pending sessions as it can, for
t-pending-source.sh.

  holder.py --server ADDR:PORT --server-pub B64 --sessions N
            [--gap SECONDS] [--hold SECONDS] [--ready FILE]

Makes N handshakes from N fresh static keys (PROTOCOL.md 4.1, 4.2), one
every --gap seconds (within the per-source handshake limit), and confirms
each with a keepalive (4.3), so the server holds each as a peer in its
login exchange; then keeps them alive (a keepalive on each every second)
for --hold seconds, logging in with none. It prints how many handshakes
were answered, writes FILE --ready once all were tried, and ends with

  holder: answered=M of N

Uses tests/tools/pyvpn.py as a module; every wait is bounded.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pyvpn as pv  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server", required=True)
    ap.add_argument("--server-pub", required=True)
    ap.add_argument("--sessions", type=int, required=True)
    ap.add_argument("--gap", type=float, default=0.1)
    ap.add_argument("--hold", type=float, default=20.0)
    ap.add_argument("--ready")
    args = ap.parse_args()
    peers, answered = [], 0
    try:
        for _ in range(min(args.sessions, 256)):
            peer = pv.Peer(args.server, pv.b64key(args.server_pub),
                           pv.dh_generate()[0], bytes(32))
            try:
                peer.handshake(timeout=2.0, attempt_wait=2.0)
                peer.send_plain(b"")
                answered += 1
                peers.append(peer)
            except pv.Mismatch:
                peer.close()
            time.sleep(args.gap)
        print("holder: %d of %d handshakes answered and confirmed"
              % (answered, args.sessions), flush=True)
        if args.ready:
            with open(args.ready, "w"):
                pass
        end = time.monotonic() + min(args.hold, 600.0)
        while time.monotonic() < end:
            for peer in peers:
                peer.send_plain(b"")
            time.sleep(1.0)
    finally:
        for peer in peers:
            peer.close()
    print("holder: answered=%d of %d" % (answered, args.sessions),
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
