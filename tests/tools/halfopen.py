#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""halfopen.py: a client that stops halfway through its handshake, for
t-junk-initiations.sh.

  halfopen.py --server ADDR:PORT --server-pub B64 --ready FILE --go FILE
              [--probe SECONDS] [--wait SECONDS]

It sends its initiation from a new static key and checks the response
(PROTOCOL.md 4.1, 4.2), but does not confirm the handshake: no transport
message follows (4.3), so the server holds it as an unconfirmed pending
peer. It creates FILE --ready and waits for FILE --go. Then it sends a
RESUME (section 6) with the keys of that handshake every second for
--probe seconds: a server that still holds the handshake takes the RESUME
as its confirmation and answers it (AUTH_REQUIRED: this key has no
admission); a server that let it go says nothing. Then it makes a new
handshake, confirms it at once, and asks again. Its last line is

  halfopen: result old=silent new=AUTH_REQUIRED

(old: the answer on the kept handshake, or "silent"; new: on the new one).
Uses tests/tools/pyvpn.py as a module; every wait is bounded.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pyvpn as pv  # noqa: E402


def wait_file(path, deadline):
    while time.monotonic() < deadline:
        if os.path.exists(path):
            return True
        time.sleep(0.05)
    return False


def ask(peer, seconds):
    """A RESUME every second on peer's current keys, for up to `seconds`:
    the name of the answer echoing it, or None."""
    rid = pv.new_rid()
    msg = pv.ctl_encode(pv.CTL_RESUME, [pv.rid_attr(rid)])
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        peer.send_plain(msg)
        r = peer.wait_for(lambda k, v: k == "ctl" and pv.answers(v[0], rid),
                          min(1.0, left))
        if r is not None:
            return r[1][0].name()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server", required=True)
    ap.add_argument("--server-pub", required=True)
    ap.add_argument("--ready", required=True)
    ap.add_argument("--go", required=True)
    ap.add_argument("--probe", type=float, default=3.0)
    ap.add_argument("--wait", type=float, default=120.0)
    args = ap.parse_args()
    deadline = time.monotonic() + min(args.wait, 600.0)
    peer = pv.Peer(args.server, pv.b64key(args.server_pub),
                   pv.dh_generate()[0], bytes(32))
    try:
        peer.handshake(timeout=15.0)
        print("halfopen: response verified; the handshake is left "
              "unconfirmed", flush=True)
        with open(args.ready, "w"):
            pass
        if not wait_file(args.go, deadline):
            print("halfopen: FAIL: no %s in time" % args.go, flush=True)
            return 1
        old = ask(peer, args.probe)
        print("halfopen: RESUME on the unconfirmed handshake: %s"
              % (old or "no answer in %.0f s" % args.probe), flush=True)
        peer.handshake(timeout=15.0)
        peer.send_plain(b"")
        new = ask(peer, 10.0)
        print("halfopen: RESUME on a new, confirmed handshake: %s"
              % (new or "no answer in 10 s"), flush=True)
    except pv.Mismatch as e:
        print("halfopen: FAIL: %s" % e, flush=True)
        return 1
    finally:
        peer.close()
    print("halfopen: result old=%s new=%s" % (old or "silent",
                                              new or "silent"), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
