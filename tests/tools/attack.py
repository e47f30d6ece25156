#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""attack.py: clients of vpnd as a person on the internet would write them,
for the netns tests of the login layer (t-forged-lockout.sh,
t-lockout-exact.sh, t-login-flood.sh, t-answer-cache.sh).

It owns the attacks, not the protocol: handshakes, sealing and the control
codec come from pyvpn.py (the independent implementation written from
PROTOCOL.md), imported as a module and never changed here. Each
subcommand is one attack or one plain client; it prints a line per answer
it gets, which the test script counts, and exits non-zero (with a line
"FAIL: ...") only when something did not answer or answered out of the
specification. What the server should have decided is asserted by the
scripts, against these lines and vpnd's audit log.

Every wait is bounded by a deadline, every loop by a count. Sources are
only the addresses the test gives (its own namespaces): --bind picks the
real source of a session; forged sources (`forged`) are sent with
IP_TRANSPARENT, which needs root.

  forged  handshake from our real address, then wrong logins from forged
          sources (a victim's address, random ones) inside that session
  try     one login per step, each from a new key, one after another
  burst   N sessions established first, then one wrong login from each
          released at once
  flood   sessions that keep vpnd's password checks busy until told to
          stop
  cache   rule 2: a retransmitted request gets the first answer, unchecked
  race    an account change made while a right login is being checked
"""

import argparse
import ipaddress
import os
import random
import select
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pyvpn as v  # noqa: E402

IP_TRANSPARENT = getattr(socket, "IP_TRANSPARENT", 19)
RETRANSMIT_S = 1.0   # PROTOCOL.md section 6: every second ...
REQUEST_WAIT_S = 10.0  # ... for up to 10 seconds


def out(msg):
    print(msg, flush=True)


def now():
    return time.monotonic()


# ---- a session from a chosen source --------------------------------------

class Session:
    """One client static key's session over pyvpn.Peer, its socket bound
    to `bind` (our real source) when given."""

    def __init__(self, args, bind=None, priv=None):
        priv = priv or v.dh_generate()[0]
        self.peer = v.Peer(args.server, v.b64key(args.server_pub), priv,
                           bytes(32))
        self.bind = bind
        if bind:
            self.peer.sock.close()
            self.peer.sock = self.socket()

    def socket(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        if self.bind:
            s.bind((self.bind, 0))
        s.connect(self.peer.addr)
        return s

    def connect(self):
        self.peer.handshake()
        # Key confirmation (4.3): the initiator sends first.
        self.peer.send_plain(b"")
        return self

    def local(self):
        return "%s:%d" % self.peer.sock.getsockname()

    def seal(self, plain):
        """The transport message Peer.send_plain would send, not sent."""
        p = self.peer
        plain = plain + bytes(-len(plain) % 16)
        n = p.send_counter
        p.send_counter += 1
        return struct.pack("<IIQ", v.MSG_DATA, p.remote_index, n) + \
            v.aead_seal(p.send_key, n, plain, b"")

    def answer(self, rid, deadline):
        """The next AUTH_RESULT echoing rid: (Ctl, its control bytes), or
        None at the deadline. Everything else is passed over."""
        while True:
            r = self.peer.recv_data(deadline)
            if r is None:
                return None
            kind, val = r
            if kind == "ctl" and val[0].type == v.CTL_AUTH_RESULT and \
                    v.answers(val[0], rid):
                return val[0], val[1][:val[0].end]

    def fileno(self):
        return self.peer.sock.fileno()


def auth_request(rid, user, password, code):
    return v.ctl_encode(v.CTL_AUTH_REQUEST, [
        v.rid_attr(rid), (v.A_USERNAME, user.encode()),
        (v.A_PASSWORD, password.encode()), (v.A_TOTP, code.encode())])


def describe(c):
    """'AUTH_FAILED', or 'LOCKED retry_after=N', 'BUSY retry_after=N'."""
    text = v.result_status(c)
    ra = c.get(v.A_RETRY_AFTER)
    if ra is not None:
        text += " retry_after=%d" % struct.unpack("<I", ra)[0]
    return text


def send_forged(src, msg, server):
    """One UDP datagram to server whose IP source is src (not ours)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.setsockopt(socket.SOL_IP, IP_TRANSPARENT, 1)
        s.bind(src)
        s.sendto(msg, server)
    finally:
        s.close()


# ---- forged: failures sent from addresses that are not ours --------------

def random_source(rng, net):
    hosts = net.num_addresses - 2
    return str(net.network_address + 1 + rng.randrange(hosts))


def cmd_forged(args):
    """The session is ours (its handshake came from our real address and
    was answered there); each wrong login inside it goes out from a forged
    source: the victim's address on even attempts, a random address of
    --random-net on odd ones. A keepalive from our real address follows
    each, so the session's endpoint (which roaming moved to the forged
    source) comes back to us and we read the answer. Retransmissions keep
    the REQUEST_ID and the forged source, as a client's would."""
    rng = random.Random()
    net = ipaddress.ip_network(args.random_net)
    s = Session(args, bind=args.bind).connect()
    out("session from %s" % s.local())
    server = s.peer.addr
    for i in range(1, args.count + 1):
        if i % 2 == 0 and args.victim:
            src = (args.victim, rng.randrange(1024, 65536))
        else:
            src = (random_source(rng, net), rng.randrange(1024, 65536))
        user = "%s-%d" % (args.user_prefix, i)
        rid = v.new_rid()
        msg = auth_request(rid, user, args.password, args.code)
        got = None
        deadline = now() + REQUEST_WAIT_S
        while got is None and now() < deadline:
            send_forged(src, s.seal(msg), server)
            out("forged %s:%d" % src)
            s.peer.send_plain(b"")
            got = s.answer(rid, min(deadline, now() + RETRANSMIT_S))
        v.expect(got is not None, "attempt %d (%s) got no answer in %.0f s"
                 % (i, user, REQUEST_WAIT_S))
        out("attempt %d user=%s from %s:%d: %s"
            % (i, user, src[0], src[1], describe(got[0])))


# ---- try: plain logins, each from a new key -------------------------------

def login_once(args, user, password, code):
    """One client: a new key, a handshake, one AUTH_REQUEST retransmitted
    every second until answered. Returns (Ctl, sent, answered)."""
    s = Session(args, bind=args.bind).connect()
    rid = v.new_rid()
    msg = auth_request(rid, user, password, code)
    t_sent = now()
    deadline = t_sent + REQUEST_WAIT_S
    got = None
    while got is None and now() < deadline:
        s.peer.send_plain(msg)
        got = s.answer(rid, min(deadline, now() + RETRANSMIT_S))
    v.expect(got is not None, "login as %s got no answer in %.0f s"
             % (user, REQUEST_WAIT_S))
    return got[0], t_sent, now()


def cmd_try(args):
    """Each --step USER:PASSWORD:CODE is a client of its own, in order;
    prints its answer and when it was sent and answered (monotonic
    seconds, comparable with `flood`'s)."""
    for i, step in enumerate(args.step, 1):
        user, password, code = step.split(":", 2)
        c, t0, t1 = login_once(args, user, password, code)
        out("step %d user=%s: %s sent=%.3f answered=%.3f (%.3f s)"
            % (i, user, describe(c), t0, t1, t1 - t0))


# ---- burst: logins released together ---------------------------------------

def cmd_burst(args):
    """One session per --bind address (a key each), all established before
    any login is sent; then one wrong AUTH_REQUEST from each, sealed in
    advance and sent back to back. Then every answer is collected."""
    sessions = [Session(args, bind=b).connect() for b in args.bind]
    out("%d sessions established" % len(sessions))
    rids = [v.new_rid() for _ in sessions]
    msgs = [s.seal(auth_request(rid, args.user, args.password, args.code))
            for s, rid in zip(sessions, rids)]
    t0 = now()
    for s, m in zip(sessions, msgs):
        s.peer.send_raw(m)
    t1 = now()
    out("released %d requests in %.1f ms" % (len(msgs), (t1 - t0) * 1000))
    pending = dict(zip(rids, sessions))
    results = {}
    deadline = now() + args.wait
    while pending and now() < deadline:
        ready, _, _ = select.select(list(pending.values()), [], [],
                                    max(0.0, deadline - now()))
        for s in ready:
            rid = [r for r, x in pending.items() if x is s][0]
            got = s.answer(rid, now() + 0.05)
            if got is not None:
                results[rid] = (now(), got[0])
                del pending[rid]
    v.expect(not pending, "%d of %d requests got no answer in %.0f s"
             % (len(pending), len(rids), args.wait))
    first = min(t for t, _ in results.values())
    # Together means every request was out before anything was decided.
    v.expect(first > t1, "an answer came before the last request was out")
    out("first answer %.0f ms after the last request was sent"
        % ((first - t1) * 1000))
    for i, rid in enumerate(rids, 1):
        t, c = results[rid]
        out("session %d from %s: %s (%.0f ms)"
            % (i, sessions[i - 1].local(), describe(c), (t - t0) * 1000))


# ---- flood: keeping the password checks busy --------------------------------

FORGED_GIVE_UP_S = 0.25  # a forged request's answer may have gone astray


class FloodSession(Session):
    def __init__(self, args, bind, n):
        super().__init__(args, bind=bind)
        self.n = n
        self.rid = None
        self.rids = set()
        self.sent_at = 0.0
        self.next_at = 0.0
        self.count = 0


class Flood:
    """--active addresses at a time out of --bind, --sessions sessions
    each. An address whose session is answered LOCKED is done with (its
    failures reached the limit): its sessions close and the next address
    takes its place, as an attacker with a few addresses would do."""

    def __init__(self, args):
        self.args = args
        self.spare = list(args.bind)
        self.sessions = []
        self.n = 0
        self.rng = random.Random()
        self.forge = ipaddress.ip_network(args.forge) if args.forge \
            else None
        for _ in range(min(args.active, len(self.spare))):
            self.add_address()

    def add_address(self):
        bind = self.spare.pop(0)
        for _ in range(self.args.sessions):
            self.sessions.append(FloodSession(self.args, bind,
                                              self.n).connect())
            self.n += 1
        out("flood: %d sessions from %s" % (self.args.sessions, bind))

    def retire(self, bind):
        if not self.spare:
            return
        for s in [x for x in self.sessions if x.bind == bind]:
            s.peer.close()
            self.sessions.remove(s)
        out("flood: %s is locked out" % bind)
        self.add_address()

    def send(self, s, t):
        """A new request when the last is answered (or, forging, when its
        answer may have gone to the forged source); the same one again
        after a second, as a client retransmits."""
        give_up = FORGED_GIVE_UP_S if self.forge else RETRANSMIT_S
        if s.rid is None and t >= s.next_at or \
                self.forge and s.rid is not None and t - s.sent_at >= give_up:
            s.rid = v.new_rid()
            s.rids.add(s.rid)
            s.count += 1
            s.user = "flood%d-%d" % (s.n, s.count)
        elif s.rid is None or t - s.sent_at < RETRANSMIT_S:
            return
        msg = s.seal(auth_request(s.rid, s.user, "guess", "000000"))
        if self.forge:
            # From anywhere, to be charged anywhere but here; our
            # keepalive brings the endpoint back for the answer. (A BUSY,
            # answered at once, goes to the forged source.)
            send_forged((random_source(self.rng, self.forge),
                         self.rng.randrange(1024, 65536)), msg,
                        s.peer.addr)
            s.peer.send_plain(b"")
        else:
            s.peer.send_raw(msg)
        s.sent_at = t

    def receive(self, s, totals):
        r = s.peer.recv_data(now() + 0.01)
        if r is None or r[0] != "ctl":
            return
        c = r[1][0]
        rid = c.get(v.A_REQUEST_ID)
        rid = struct.unpack("<I", rid)[0] if rid else None
        if c.type != v.CTL_AUTH_RESULT or rid not in s.rids:
            return
        s.rids.discard(rid)
        status = v.result_status(c)
        totals[status] = totals.get(status, 0) + 1
        out("answer %.3f %s %s" % (now(), s.bind, status))
        if rid == s.rid:
            s.rid = None
            s.next_at = now() + (0.0 if status == "AUTH_FAILED"
                                 else self.args.busy_pause)
        if status == "LOCKED":
            self.retire(s.bind)


def cmd_flood(args):
    """Sessions that ask to log in without pause, each request under a
    user name of its own so no user is ever locked: a new REQUEST_ID as
    soon as the last one is answered (after BUSY or LOCKED, --busy-pause
    later: RETRY_AFTER is ignored). Runs until the file --until exists (or
    --max-seconds). Prints every answer as 'answer T SOURCE STATUS' (T
    monotonic), then totals. With --forge NET every request goes out from
    a random address of NET, as `forged` sends them, as if to be queued
    and counted as many sources."""
    f = Flood(args)
    totals = {}
    t_end = now() + args.max_seconds
    while now() < t_end and not os.path.exists(args.until):
        t = now()
        for s in f.sessions:
            f.send(s, t)
        ready, _, _ = select.select(f.sessions, [], [], 0.01)
        for s in ready:
            if s in f.sessions:
                f.receive(s, totals)
    out("flood: totals %s" % " ".join("%s=%d" % kv
                                      for kv in sorted(totals.items())))


# ---- cache: rule 2 --------------------------------------------------------

def cmd_cache(args):
    """Rule 2, with a lockout of 2 (vpnd.conf) so that a second check of a
    request would be answered differently from its first: A (wrong), B
    (wrong: the user is now locked), then A again must be A's first
    answer, AUTH_FAILED byte for byte, not LOCKED. Then C (LOCKED, with
    RETRY_AFTER), resent more than a second later: the same bytes, the
    RETRY_AFTER of then. Then, after a new handshake with the same key,
    A once more: still its first answer. The script counts the checks in
    vpnd's audit log."""
    s = Session(args, bind=args.bind).connect()

    def ask(rid, label, copies=1):
        msg = auth_request(rid, args.user, args.password, args.code)
        for _ in range(copies):
            s.peer.send_plain(msg)
        deadline = now() + REQUEST_WAIT_S
        got = s.answer(rid, deadline)
        while got is None and now() < deadline:
            s.peer.send_plain(msg)
            got = s.answer(rid, min(deadline, now() + RETRANSMIT_S))
        v.expect(got is not None, "%s got no answer" % label)
        out("%s (REQUEST_ID %08x): %s, %s" % (label, rid, describe(got[0]),
                                             got[1].hex()))
        return got

    a, b, c = v.new_rid(), v.new_rid(), v.new_rid()
    # Three copies at once: those arriving while A is checked are
    # ignored, any later ones get the kept answer; either way one check.
    first_a = ask(a, "A", copies=3)
    v.expect(v.result_status(first_a[0]) == "AUTH_FAILED",
             "A: expected AUTH_FAILED")
    # Answers to the other copies, if any, must be the same bytes.
    for _, r in s.peer.collect(0.5):
        if r[0] == "ctl" and v.answers(r[1][0], a):
            v.expect(r[1][1][:r[1][0].end] == first_a[1],
                     "a copy of A answered differently")
    first_b = ask(b, "B")
    v.expect(v.result_status(first_b[0]) == "AUTH_FAILED",
             "B: expected AUTH_FAILED")
    again_a = ask(a, "A resent")
    v.expect(again_a[1] == first_a[1], "A resent answered differently:\n"
             "  first %s\n  again %s" % (first_a[1].hex(), again_a[1].hex()))
    out("A resent: byte for byte its first answer")
    first_c = ask(c, "C")
    v.expect(v.result_status(first_c[0]) == "LOCKED",
             "C: expected LOCKED (the lock B set)")
    time.sleep(1.2)
    again_c = ask(c, "C resent")
    v.expect(again_c[1] == first_c[1], "C resent %.1f s later answered "
             "differently:\n  first %s\n  again %s"
             % (1.2, first_c[1].hex(), again_c[1].hex()))
    out("C resent: byte for byte its first answer (1.2 s later)")
    s.peer.handshake()
    s.peer.send_plain(b"")
    out("new handshake, same key")
    after = ask(a, "A after a rekey")
    v.expect(after[1] == first_a[1], "A after a new handshake answered "
             "differently:\n  first %s\n  again %s"
             % (first_a[1].hex(), after[1].hex()))
    out("A after a new handshake: byte for byte its first answer")


# ---- race: an account change while a login is checked --------------------

def cmd_race(args):
    """A right login of --user, and --command (an account change, run by
    the shell) --delay seconds after its AUTH_REQUEST went out (before it,
    if negative). Then, whatever the order turned out to be, the change
    must have ended the login: an OK answer must be followed by a
    DISCONNECT (within 1.5 s: vpnd reads the store's events every 200 ms)
    and a RESUME from the same key on a new session must be answered
    AUTH_REQUIRED. Prints 'race: ...' with what happened and when; the
    script asserts."""
    s = Session(args, bind=args.bind).connect()
    rid = v.new_rid()
    msg = auth_request(rid, args.user, args.password, args.code)
    t0 = now()
    if args.delay < 0:
        cmd = subprocess.Popen(args.command, shell=True)
        time.sleep(-args.delay)
    t_login = now()
    s.peer.send_plain(msg)
    if args.delay >= 0:
        time.sleep(args.delay)
        cmd = subprocess.Popen(args.command, shell=True)
    got = s.answer(rid, now() + REQUEST_WAIT_S)
    t_answer = now()
    v.expect(cmd.wait(timeout=30) == 0, "the command failed")
    t_done = now()
    v.expect(got is not None, "the login got no answer")
    reason = None
    deadline = now() + 1.5
    while got and v.result_status(got[0]) == "OK" and now() < deadline:
        r = s.peer.recv_data(deadline)
        if r and r[0] == "ctl" and r[1][0].type == v.CTL_DISCONNECT:
            reason = (r[1][0].get(v.A_REASON) or b"").decode()
            break
    again = Session(args, bind=args.bind, priv=s.peer.s_priv).connect()
    _, c, _ = v.resume(again.peer)
    out("race: login sent +%.3f, answered %s at +%.3f; command done by "
        "+%.3f; disconnect %s; resume %s"
        % (t_login - t0, describe(got[0]), t_answer - t0, t_done - t0,
           repr(reason) if reason else "none",
           describe(c) if c.type == v.CTL_AUTH_RESULT else c.name()))


# ---- comeback: a client that gave up on its login's answer -----------------

def cmd_comeback(args):
    """A client whose login is slow to be answered (queued behind three of
    --user2's wrong logins with one check thread) gives up on it and comes back, as
    vpnc does after 10 s: a new handshake with the same key and a RESUME,
    sent while its login is still checked. The RESUME must be answered
    once that check is done, from what it decided: OK (admitted), never
    AUTH_REQUIRED, which would make the client send its code again and
    have it refused as reused. Prints 'comeback: ...'."""
    s = Session(args, bind=args.bind).connect()
    blockers = [Session(args, bind=args.bind).connect() for _ in range(3)]
    for b in blockers:
        b.peer.send_plain(auth_request(v.new_rid(), args.user2,
                                       "wrong password", "000000"))
    rid = v.new_rid()
    t0 = now()
    s.peer.send_plain(auth_request(rid, args.user, args.password, args.code))
    # A new initiation's timestamp must be newer than the last one's,
    # which is rounded down to 2^24 ns (PROTOCOL.md): 50 ms apart.
    time.sleep(0.05)
    again = Session(args, bind=args.bind, priv=s.peer.s_priv).connect()
    t_resume = now()
    rrid, c, _ = v.resume(again.peer)
    t_answer = now()
    v.expect(c is not None, "the RESUME got no answer")
    out("comeback: login sent, RESUME +%.3f, answered %s at +%.3f"
        % (t_resume - t0, describe(c) if c.type == v.CTL_AUTH_RESULT
           else c.name(), t_answer - t0))
    v.expect(c.type == v.CTL_AUTH_RESULT and v.answers(c, rrid) and
             v.result_status(c) == "OK",
             "the RESUME during the check was not admitted")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name, fn in (("forged", cmd_forged), ("try", cmd_try),
                     ("burst", cmd_burst), ("flood", cmd_flood),
                     ("cache", cmd_cache), ("race", cmd_race),
                     ("comeback", cmd_comeback)):
        p = sub.add_parser(name, help=fn.__doc__.split("\n")[0])
        p.set_defaults(run=fn)
        p.add_argument("--server", required=True, help="ADDRESS:PORT")
        p.add_argument("--server-pub", required=True, help="base64")
        p.add_argument("--bind", action="append" if name in
                       ("burst", "flood") else "store",
                       help="our real source address")
        p.add_argument("--user", default="alice")
        p.add_argument("--password", default="wrong password")
        p.add_argument("--code", default="000000")
        p.add_argument("--user2", default="bob")
        if name == "forged":
            p.add_argument("--victim", help="an address to forge")
            p.add_argument("--random-net", default="100.64.0.0/10")
            p.add_argument("--count", type=int, default=8)
            p.add_argument("--user-prefix", default="guess")
        if name == "try":
            p.add_argument("--step", action="append", required=True,
                           help="USER:PASSWORD:CODE")
        if name == "burst":
            p.add_argument("--wait", type=float, default=30.0)
        if name == "race":
            p.add_argument("--delay", type=float, required=True)
            p.add_argument("--command", required=True)
        if name == "flood":
            p.add_argument("--sessions", type=int, default=3,
                           help="per --bind address")
            p.add_argument("--active", type=int, default=1,
                           help="--bind addresses in use at a time")
            p.add_argument("--until", required=True, help="a file")
            p.add_argument("--max-seconds", type=float, default=60.0)
            p.add_argument("--busy-pause", type=float, default=0.02)
            p.add_argument("--forge", help="a network to forge sources "
                           "from")
    args = ap.parse_args()
    if args.cmd in ("burst", "flood") and not args.bind:
        ap.error("--bind is required")
    try:
        args.run(args)
    except v.Mismatch as e:
        out("FAIL: %s: %s" % (args.cmd, e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
