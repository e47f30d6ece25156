#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""An independent side of the vpnd/vpnc protocol, for interop tests.

Written from PROTOCOL.md (revision 2) alone, without reading the C code of
shared/, so that a misreading of the specification shared by our C sides
shows up as a disagreement here. It owns: HMAC-BLAKE2b and the Noise KDF
(section 1), the IKpsk2 initiator and responder (4.1-4.3), mac1/mac2 and
the cookie reply (4.4, 4.5), TAI64N, transport data with padding (5), the
control-message TLV codec with a strict decoder (6), and minimal ICMP echo
packets (IPv4 and IPv6) to ping through the tunnel.

It plays either part. As a client (most subcommands) it tests vpnd; as a
server (`server SCENARIO`) it tests vpnc: TUN-less, it answers the login
itself and answers echo requests to its own addresses by building the
reply, and it may initiate a rekey (section 7).

Each subcommand is one scenario: it prints every check it makes and exits
non-zero with a message naming the mismatch. Every wait is bounded by a
socket timeout and a deadline. Needs /usr/bin/python3 with Debian's
python3-nacl; nothing else outside the standard library.
"""

import argparse
import base64
import hashlib
import hmac
import ipaddress
import json
import os
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import time

from nacl import bindings as nb
from nacl.exceptions import CryptoError

# Section 2.
CONSTRUCTION = b"Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b"
IDENTIFIER = b"vpnd/vpnc protocol v1"
LABEL_MAC1 = b"mac1----"
LABEL_COOKIE = b"cookie--"

MSG_INITIATION, MSG_RESPONSE, MSG_COOKIE, MSG_DATA = 1, 2, 3, 4
LEN_INITIATION, LEN_RESPONSE, LEN_COOKIE, LEN_DATA_MIN = 148, 92, 64, 32

CTL_AUTH_REQUEST = 0x01
CTL_AUTH_RESULT = 0x02
CTL_AUTH_REQUIRED = 0x03
CTL_DISCONNECT = 0x04
CTL_RESUME = 0x05
CTL_NAMES = {1: "AUTH_REQUEST", 2: "AUTH_RESULT", 3: "AUTH_REQUIRED",
             4: "DISCONNECT", 5: "RESUME"}

A_REQUEST_ID = 0x01
A_USERNAME = 0x02
A_PASSWORD = 0x03
A_TOTP = 0x04
A_CLIENT_INFO = 0x05
A_STATUS = 0x10
A_MESSAGE = 0x11
A_RETRY_AFTER = 0x12
A_ADDRESS4 = 0x20
A_ADDRESS6 = 0x21
A_ROUTE4 = 0x22
A_ROUTE6 = 0x23
A_DNS4 = 0x24
A_DNS6 = 0x25
A_DNS_SEARCH = 0x26
A_MTU = 0x27
A_KEEPALIVE = 0x28
A_SESSION_EXPIRES = 0x29
A_GATEWAY4 = 0x2A
A_GATEWAY6 = 0x2B
A_REASON = 0x30
A_LOGOUT = 0x31

# attr: (name, min length, max length, repeatable), from the table of 6.
ATTRS = {
    A_REQUEST_ID: ("REQUEST_ID", 4, 4, False),
    A_USERNAME: ("USERNAME", 1, 64, False),
    A_PASSWORD: ("PASSWORD", 1, 255, False),
    A_TOTP: ("TOTP", 1, 255, False),
    A_CLIENT_INFO: ("CLIENT_INFO", 0, 255, False),
    A_STATUS: ("STATUS", 1, 1, False),
    A_MESSAGE: ("MESSAGE", 0, 255, False),
    A_RETRY_AFTER: ("RETRY_AFTER", 4, 4, False),
    A_ADDRESS4: ("ADDRESS4", 5, 5, False),
    A_ADDRESS6: ("ADDRESS6", 17, 17, False),
    A_ROUTE4: ("ROUTE4", 5, 5, True),
    A_ROUTE6: ("ROUTE6", 17, 17, True),
    A_DNS4: ("DNS4", 4, 4, True),
    A_DNS6: ("DNS6", 16, 16, True),
    A_DNS_SEARCH: ("DNS_SEARCH", 1, 255, True),
    A_MTU: ("MTU", 2, 2, False),
    A_KEEPALIVE: ("KEEPALIVE", 2, 2, False),
    A_SESSION_EXPIRES: ("SESSION_EXPIRES", 4, 4, False),
    A_GATEWAY4: ("GATEWAY4", 4, 4, False),
    A_GATEWAY6: ("GATEWAY6", 16, 16, False),
    A_REASON: ("REASON", 0, 255, False),
    A_LOGOUT: ("LOGOUT", 0, 0, False),
}
REQUIRED = {
    CTL_AUTH_REQUEST: (A_REQUEST_ID, A_USERNAME, A_PASSWORD, A_TOTP),
    CTL_AUTH_RESULT: (A_REQUEST_ID, A_STATUS),
    CTL_AUTH_REQUIRED: (),
    CTL_DISCONNECT: (),
    CTL_RESUME: (A_REQUEST_ID,),
}
STATUS_NAMES = {0: "OK", 1: "AUTH_FAILED", 2: "LOCKED", 3: "BUSY",
                4: "POOL_EXHAUSTED"}

DEFAULT_MTU = 1420
HERE = os.path.dirname(os.path.abspath(__file__))
VECTOR_FILE = os.path.join(HERE, "..", "vectors", "noise_ikpsk2_blake2b.h")


class Mismatch(Exception):
    """The peer (or a vector) disagrees with the specification."""


def ok(msg):
    print("ok:   " + msg, flush=True)


def info(msg):
    print("      " + msg, flush=True)


def expect(cond, msg):
    if not cond:
        raise Mismatch(msg)


# ---- Section 1: primitives ------------------------------------------------

def hash64(x):
    return hashlib.blake2b(x, digest_size=64).digest()


def hash32(x):
    return hashlib.blake2b(x, digest_size=32).digest()


def mac16(key, x):
    # The cookie used as the mac2 key is 16 bytes, as in WireGuard; BLAKE2b
    # takes any key up to 64 bytes.
    return hashlib.blake2b(x, digest_size=16, key=key).digest()


def hmac_b2b(key, x):
    """HMAC (RFC 2104) over BLAKE2b-512, block 128 bytes, built by hand."""
    if len(key) > 128:
        key = hash64(key)
    key = key.ljust(128, b"\0")
    inner = hash64(bytes(b ^ 0x36 for b in key) + x)
    return hash64(bytes(b ^ 0x5C for b in key) + inner)


def kdf(n, key, data):
    t0 = hmac_b2b(key, data)
    out, prev = [], b""
    for i in range(1, n + 1):
        prev = hmac_b2b(t0, prev + bytes([i]))
        out.append(prev)
    return out


def aead_nonce(n):
    return b"\0" * 4 + struct.pack("<Q", n)


def aead_seal(key, n, plain, ad):
    return nb.crypto_aead_chacha20poly1305_ietf_encrypt(
        plain, ad, aead_nonce(n), key[:32])


def aead_open(key, n, ct, ad):
    """Returns the plaintext, or None when authentication fails."""
    try:
        return nb.crypto_aead_chacha20poly1305_ietf_decrypt(
            ct, ad, aead_nonce(n), key[:32])
    except CryptoError:
        return None


def xaead_open(key, nonce, ct, ad):
    try:
        return nb.crypto_aead_xchacha20poly1305_ietf_decrypt(
            ct, ad, nonce, key)
    except CryptoError:
        return None


def dh(priv, pub):
    try:
        out = nb.crypto_scalarmult(priv, pub)
    except Exception:
        out = bytes(32)
    if out == bytes(32):
        raise Mismatch("DH result is all zero (section 1: an error)")
    return out


def dh_generate():
    pub, priv = nb.crypto_box_keypair()
    return priv, pub


def pubkey(priv):
    return nb.crypto_scalarmult_base(priv)


def tai64n(now_ns):
    secs, ns = divmod(now_ns, 10**9)
    ns &= ~((1 << 24) - 1)
    return struct.pack(">QI", (1 << 62) + secs, ns)


# ---- Section 4: the IKpsk2 initiator --------------------------------------

class Initiator:
    """Noise IKpsk2 from the initiator's side, with arbitrary payloads so the
    published vector (which carries payloads) exercises the same code."""

    def __init__(self, s_priv, r_pub, prologue, psk, e_priv=None):
        self.s_priv, self.s_pub = s_priv, pubkey(s_priv)
        self.r_pub, self.psk = r_pub, psk
        if e_priv is None:
            e_priv, _ = dh_generate()
        self.e_priv, self.e_pub = e_priv, pubkey(e_priv)
        # CONSTRUCTION is shorter than HASHLEN: padded, not hashed.
        self.ck = self.h = CONSTRUCTION.ljust(64, b"\0")
        self.h = hash64(self.h + prologue)
        self.h = hash64(self.h + r_pub)

    def write_first(self, payload):
        # e
        self.ck, = kdf(1, self.ck, self.e_pub)
        self.h = hash64(self.h + self.e_pub)
        # es
        self.ck, k = kdf(2, self.ck, dh(self.e_priv, self.r_pub))
        # s
        enc_s = aead_seal(k, 0, self.s_pub, self.h)
        self.h = hash64(self.h + enc_s)
        # ss
        self.ck, k = kdf(2, self.ck, dh(self.s_priv, self.r_pub))
        enc_p = aead_seal(k, 0, payload, self.h)
        self.h = hash64(self.h + enc_p)
        return self.e_pub, enc_s, enc_p

    def read_second(self, e_r, enc_p):
        """Returns the decrypted payload, or None if the AEAD fails."""
        # e
        self.ck, = kdf(1, self.ck, e_r)
        self.h = hash64(self.h + e_r)
        # ee
        self.ck, = kdf(1, self.ck, dh(self.e_priv, e_r))
        # se
        self.ck, = kdf(1, self.ck, dh(self.s_priv, e_r))
        # psk
        self.ck, t, k = kdf(3, self.ck, self.psk)
        self.h = hash64(self.h + t)
        plain = aead_open(k, 0, enc_p, self.h)
        self.h = hash64(self.h + enc_p)
        return plain

    def split(self):
        t1, t2 = kdf(2, self.ck, b"")
        return t1[:32], t2[:32]


class Responder:
    """Noise IKpsk2 from the responder's side: 4.1 mirrored, then 4.2.
    Arbitrary payloads, so the published vector checks it too."""

    def __init__(self, s_priv, prologue, psk, e_priv=None):
        self.s_priv, self.s_pub = s_priv, pubkey(s_priv)
        self.psk = psk
        if e_priv is None:
            e_priv, _ = dh_generate()
        self.e_priv, self.e_pub = e_priv, pubkey(e_priv)
        self.ck = self.h = CONSTRUCTION.ljust(64, b"\0")
        self.h = hash64(self.h + prologue)
        self.h = hash64(self.h + self.s_pub)
        self.e_i = self.s_i = None

    def read_first(self, e_i, enc_s, enc_p):
        """The initiator's static key and payload, or None if an AEAD
        fails (or a DH gives zero)."""
        try:
            # e
            self.ck, = kdf(1, self.ck, e_i)
            self.h = hash64(self.h + e_i)
            # es
            self.ck, k = kdf(2, self.ck, dh(self.s_priv, e_i))
            # s
            s_i = aead_open(k, 0, enc_s, self.h)
            if s_i is None:
                return None
            self.h = hash64(self.h + enc_s)
            # ss
            self.ck, k = kdf(2, self.ck, dh(self.s_priv, s_i))
        except Mismatch:
            return None
        payload = aead_open(k, 0, enc_p, self.h)
        if payload is None:
            return None
        self.h = hash64(self.h + enc_p)
        self.e_i, self.s_i = e_i, s_i
        return s_i, payload

    def write_second(self, payload):
        # e
        self.ck, = kdf(1, self.ck, self.e_pub)
        self.h = hash64(self.h + self.e_pub)
        # ee
        self.ck, = kdf(1, self.ck, dh(self.e_priv, self.e_i))
        # se
        self.ck, = kdf(1, self.ck, dh(self.e_priv, self.s_i))
        # psk
        self.ck, t, k = kdf(3, self.ck, self.psk)
        self.h = hash64(self.h + t)
        enc_p = aead_seal(k, 0, payload, self.h)
        self.h = hash64(self.h + enc_p)
        return self.e_pub, enc_p

    def split(self):
        """(send, recv): the initiator's T2 and T1 (4.3)."""
        t1, t2 = kdf(2, self.ck, b"")
        return t2[:32], t1[:32]


# ---- Section 4.4/4.5: macs and cookies ------------------------------------

def mac1_key(pub):
    return hash32(LABEL_MAC1 + pub)


def cookie_key(pub):
    return hash32(LABEL_COOKIE + pub)


def initiation_build(ini, index, timestamp, cookie):
    e, enc_s, enc_t = ini.write_first(timestamp)
    msg = struct.pack("<II", MSG_INITIATION, index) + e + enc_s + enc_t
    msg += mac16(mac1_key(ini.r_pub), msg)
    msg += mac16(cookie, msg) if cookie else bytes(16)
    assert len(msg) == LEN_INITIATION
    return msg


# ---- Section 6: control messages ------------------------------------------

def ctl_encode(ctl_type, attrs, reserved=0, body_len=None):
    body = b"".join(bytes([t, len(v)]) + v for t, v in attrs)
    if body_len is None:
        body_len = len(body)
    return struct.pack("<BBH", ctl_type, reserved, body_len) + body


class Ctl:
    def __init__(self, ctl_type, attrs, end):
        self.type, self.attrs, self.end = ctl_type, attrs, end

    def get(self, t):
        for at, v in self.attrs:
            if at == t:
                return v
        return None

    def all(self, t):
        return [v for at, v in self.attrs if at == t]

    def name(self):
        return CTL_NAMES.get(self.type, "ctl 0x%02x" % self.type)


def ctl_decode(p):
    """Strict decoder of section 6. Returns a Ctl, None for a ctl_type this
    revision does not know (ignored), or raises ValueError (malformed)."""
    if len(p) < 4:
        raise ValueError("shorter than the 4-byte control header")
    ctl_type, reserved, body_len = struct.unpack_from("<BBH", p)
    if reserved != 0:
        raise ValueError("reserved byte is 0x%02x" % reserved)
    end = 4 + body_len
    if end > len(p):
        raise ValueError("body_len %d overruns the %d decrypted bytes"
                         % (body_len, len(p)))
    attrs, off, seen = [], 4, set()
    while off < end:
        if off + 2 > end:
            raise ValueError("attribute header overruns body_len")
        t, n = p[off], p[off + 1]
        if off + 2 + n > end:
            raise ValueError("attribute 0x%02x overruns body_len" % t)
        v = bytes(p[off + 2:off + 2 + n])
        off += 2 + n
        if t not in ATTRS:
            continue
        name, lo, hi, rep = ATTRS[t]
        if not lo <= n <= hi:
            raise ValueError("%s has length %d" % (name, n))
        if t in seen and not rep:
            raise ValueError("%s twice" % name)
        seen.add(t)
        attrs.append((t, v))
    if ctl_type not in CTL_NAMES:
        return None
    for t in REQUIRED[ctl_type]:
        if t not in seen:
            raise ValueError("%s lacks %s" % (CTL_NAMES[ctl_type],
                                              ATTRS[t][0]))
    user = [v for t, v in attrs if t == A_USERNAME]
    if user:
        try:
            user[0].decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("USERNAME is not UTF-8")
    return Ctl(ctl_type, attrs, end)


def rid_attr(rid):
    return (A_REQUEST_ID, struct.pack("<I", rid))


# ---- IP packets ------------------------------------------------------------

def inet_csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def icmp4_echo(src, dst, ident, seq, payload, icmp_type=8):
    icmp = struct.pack("!BBHHH", icmp_type, 0, 0, ident, seq) + payload
    icmp = icmp[:2] + struct.pack("!H", inet_csum(icmp)) + icmp[4:]
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), seq, 0x4000,
                      64, 1, 0, src.packed, dst.packed)
    hdr = hdr[:10] + struct.pack("!H", inet_csum(hdr)) + hdr[12:]
    return hdr + icmp


def icmp6_echo(src, dst, ident, seq, payload, icmp_type=128):
    icmp = struct.pack("!BBHHH", icmp_type, 0, 0, ident, seq) + payload
    pseudo = src.packed + dst.packed + struct.pack("!IxxxB", len(icmp), 58)
    icmp = icmp[:2] + struct.pack("!H", inet_csum(pseudo + icmp)) + icmp[4:]
    hdr = struct.pack("!IHBB", 6 << 28, len(icmp), 58, 64)
    return hdr + src.packed + dst.packed + icmp


def echo_parse(pkt, request=False):
    """(src, dst, ident, seq, payload) of a checksum-valid echo reply (or
    request), or None for anything else."""
    if pkt[0] >> 4 == 4:
        ihl = (pkt[0] & 15) * 4
        if ihl < 20 or len(pkt) < ihl + 8 or inet_csum(pkt[:ihl]) != 0:
            return None
        if pkt[9] != 1 or inet_csum(pkt[ihl:]) != 0:
            return None
        src = ipaddress.IPv4Address(pkt[12:16])
        dst = ipaddress.IPv4Address(pkt[16:20])
        icmp = pkt[ihl:]
        want = 8 if request else 0
    else:
        if len(pkt) < 48 or pkt[6] != 58:
            return None
        src = ipaddress.IPv6Address(pkt[8:24])
        dst = ipaddress.IPv6Address(pkt[24:40])
        icmp = pkt[40:]
        pseudo = pkt[8:40] + struct.pack("!IxxxB", len(icmp), 58)
        if inet_csum(pseudo + icmp) != 0:
            return None
        want = 128 if request else 129
    t, code, _, ident, seq = struct.unpack_from("!BBHHH", icmp)
    if t != want or code != 0:
        return None
    return src, dst, ident, seq, icmp[8:]


# ---- Section 5: a session over UDP ----------------------------------------

def plain_classify(p, mtu, who):
    """Section 5 demultiplexing of a decrypted plaintext that `who` sent,
    checking its padding: (kind, payload), kind keepalive, ip or ctl (then
    payload is (Ctl, plaintext)). Anything out of the specification raises
    Mismatch: only the implementation under test talks to us."""
    if p and len(p) % 16 and len(p) < mtu:
        raise Mismatch("plaintext of %d bytes is not padded to a "
                       "multiple of 16: %s" % (len(p), p.hex()))
    if not p:
        return "keepalive", b""
    first = p[0]
    if 0x45 <= first <= 0x4F:
        n = struct.unpack_from("!H", p, 2)[0]
        return "ip", unpad(p, n, mtu)
    if 0x60 <= first <= 0x6F:
        n = 40 + struct.unpack_from("!H", p, 4)[0]
        return "ip", unpad(p, n, mtu)
    if 0x01 <= first <= 0x0F:
        try:
            c = ctl_decode(p)
        except ValueError as e:
            raise Mismatch("%s sent a malformed control message (%s): %s"
                           % (who, e, p.hex()))
        if c is None:
            raise Mismatch("%s sent a reserved ctl_type: %s" % (who, p.hex()))
        unpad(p, c.end, mtu)
        return "ctl", (c, p)
    raise Mismatch("%s plaintext starts with 0x%02x: %s"
                   % (who, first, p.hex()))


def unpad(p, n, mtu):
    expect(n <= len(p), "length field %d past the %d decrypted bytes"
           % (n, len(p)))
    expect(len(p) <= max(mtu, n), "%d bytes padded to %d, past "
           "the tunnel MTU %d" % (n, len(p), mtu))
    expect(p[n:] == bytes(len(p) - n), "padding is not zeros: %s"
           % p[n:].hex())
    return p[:n]


class Keypair:
    """Transport state of one handshake (4.3)."""

    def __init__(self, index, remote_index, send_key, recv_key):
        self.index, self.remote_index = index, remote_index
        self.send_key, self.recv_key = send_key, recv_key
        self.send_counter = 0
        self.seen = set()


class Sender:
    """What both ends here (Peer, the client; Server) do alike: send with
    the current keypair `kp` (receiving accepts any still held) and stamp
    their own initiations, each later than the last (`our_ts`)."""

    send_key = property(lambda self: self.kp.send_key)
    remote_index = property(lambda self: self.kp.remote_index)
    index = property(lambda self: self.kp.index)

    @property
    def send_counter(self):
        return self.kp.send_counter

    @send_counter.setter
    def send_counter(self, n):
        self.kp.send_counter = n

    def next_timestamp(self):
        # Timestamps are 2^24 ns coarse: wait for the next step so that
        # each initiation from this key is greater than the last.
        for _ in range(100):
            ts = tai64n(time.time_ns())
            if ts > self.our_ts:
                self.our_ts = ts
                return ts
            time.sleep(0.005)
        raise Mismatch("the clock does not advance")


class Peer(Sender):
    """One client static key talking to one server over one UDP socket."""

    def __init__(self, server, server_pub, s_priv, psk):
        host, port = server.rsplit(":", 1)
        self.addr = (host, int(port))
        self.server_pub, self.s_priv, self.psk = server_pub, s_priv, psk
        self.s_pub = pubkey(s_priv)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.connect(self.addr)
        self.cookie = None
        self.cookie_replies = 0
        self.our_ts = b""
        self.mtu = DEFAULT_MTU
        self.kp = None
        self.keypairs = {}
        self.rx_kp = None
        self.unexpected = []

    def close(self):
        self.sock.close()

    def recv_raw(self, deadline):
        """The next datagram, or None once deadline (monotonic) passes."""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                return self.sock.recv(65535)
            except socket.timeout:
                return None
            except ConnectionRefusedError:
                # An ICMP port unreachable (vpnd not listening yet, or
                # gone) is no answer: keep waiting until the deadline.
                time.sleep(min(0.1, left))

    def rebind(self):
        """A new socket, so a new source port: the client roams."""
        self.sock.close()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.connect(self.addr)

    def send_raw(self, msg):
        try:
            self.sock.send(msg)
        except ConnectionRefusedError:
            self.sock.send(msg)

    def initiation(self, timestamp=None):
        ini = Initiator(self.s_priv, self.server_pub, IDENTIFIER, self.psk)
        index = struct.unpack("<I", os.urandom(4))[0]
        if timestamp is None:
            timestamp = self.next_timestamp()
        return ini, index, initiation_build(ini, index, timestamp,
                                            self.cookie)

    def handshake(self, timeout=15.0, attempt_wait=2.0):
        """4.1-4.3, retrying like REKEY_TIMEOUT (shortened) and answering
        cookie replies. Verifies every byte of the response."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ini, index, msg = self.initiation()
            self.send_raw(msg)
            self.last_initiation = msg
            wait = min(deadline, time.monotonic() + attempt_wait)
            while True:
                pkt = self.recv_raw(wait)
                if pkt is None:
                    break
                word = struct.unpack_from("<I", pkt)[0] if len(pkt) >= 4 \
                    else None
                if word == MSG_COOKIE and len(pkt) == LEN_COOKIE:
                    if self.cookie_consume(pkt, index, msg[116:132]):
                        break
                    continue
                if word != MSG_RESPONSE:
                    self.unexpected.append(("raw", pkt))
                    continue
                if self.response_consume(ini, index, pkt):
                    return True
        raise Mismatch("no valid handshake response within %.0f s"
                       % timeout)

    def cookie_consume(self, pkt, index, mac1):
        rx_index = struct.unpack_from("<I", pkt, 4)[0]
        expect(rx_index == index, "cookie reply receiver_index %08x, "
               "expected our sender_index %08x" % (rx_index, index))
        cookie = xaead_open(cookie_key(self.server_pub), pkt[8:32],
                            pkt[32:64], mac1)
        expect(cookie is not None and len(cookie) == 16,
               "cookie reply does not decrypt with XAEAD(HASH32(LABEL_COOKIE"
               " || Spub_server), nonce, ., mac1 of our initiation): %s"
               % pkt.hex())
        self.cookie = cookie
        self.cookie_replies += 1
        ok("cookie reply (64 bytes) decrypted per 4.5; retrying with mac2")
        return True

    def response_consume(self, ini, index, pkt):
        expect(len(pkt) == LEN_RESPONSE,
               "response is %d bytes, not 92: %s" % (len(pkt), pkt.hex()))
        expect(pkt[1:4] == b"\0\0\0", "response reserved bytes %s"
               % pkt[1:4].hex())
        sender, receiver = struct.unpack_from("<II", pkt, 4)
        expect(receiver == index, "response receiver_index %08x, our "
               "sender_index is %08x" % (receiver, index))
        expect(mac16(mac1_key(self.s_pub), pkt[:60]) == pkt[60:76],
               "response mac1 is not MAC(HASH32(LABEL_MAC1 || Spub_i), "
               "msg[0:60]): %s" % pkt.hex())
        expect(pkt[76:92] == bytes(16), "response mac2 is not zero though "
               "we sent no cookie: %s" % pkt[76:92].hex())
        plain = ini.read_second(pkt[12:44], pkt[44:60])
        expect(plain == b"", "response 'empty' does not decrypt per 4.2 "
               "(wrong C, H or psk): %s" % pkt.hex())
        self.kp = Keypair(index, sender, *ini.split())
        self.keypairs[index] = self.kp
        return True

    def send_plain(self, p, pad=True):
        """Section 5: pads with zeros to a multiple of 16 (not past MTU)."""
        if pad:
            padded = min((len(p) + 15) & ~15, max(self.mtu, len(p)))
            p = p + bytes(padded - len(p))
        n = self.send_counter
        self.send_counter += 1
        hdr = struct.pack("<IIQ", MSG_DATA, self.remote_index, n)
        self.last_sent = hdr + aead_seal(self.send_key, n, p, b"")
        self.send_raw(self.last_sent)

    def recv_data(self, deadline):
        """The next authenticated transport plaintext, checked against
        section 5 (padding, counter), as (kind, payload); None on timeout."""
        while True:
            pkt = self.recv_raw(deadline)
            if pkt is None:
                return None
            if len(pkt) < LEN_DATA_MIN or pkt[0] != MSG_DATA:
                self.unexpected.append(("raw", pkt))
                continue
            expect(pkt[1:4] == b"\0\0\0", "data reserved bytes %s"
                   % pkt[1:4].hex())
            rx_index, n = struct.unpack_from("<IQ", pkt, 4)
            kp = self.keypairs.get(rx_index)
            if kp is None:
                self.unexpected.append(("raw", pkt))
                continue
            p = aead_open(kp.recv_key, n, pkt[16:], b"")
            expect(p is not None, "transport data (counter %d) does not "
                   "authenticate with recv = T2[0:32]" % n)
            expect(n not in kp.seen, "counter %d repeated" % n)
            kp.seen.add(n)
            self.rx_kp = kp
            return self.classify(p)

    def classify(self, p):
        self.last_plain_len = len(p)
        return plain_classify(p, self.mtu, "server")

    def wait_for(self, pred, timeout):
        """The first (kind, payload) with pred true; others are kept in
        self.unexpected. None on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            r = self.recv_data(deadline)
            if r is None or pred(*r):
                return r
            self.unexpected.append(r)

    def collect(self, duration):
        out, deadline = [], time.monotonic() + duration
        while True:
            r = self.recv_data(deadline)
            if r is None:
                return out
            out.append((time.monotonic(), r))

    def request(self, msg, rid, timeout=15.0):
        """Sends msg every second with the same REQUEST_ID (section 6) until
        an answer echoing rid arrives: (Ctl, plaintext, times sent)."""
        deadline = time.monotonic() + timeout
        sent = 0
        while time.monotonic() < deadline:
            self.send_plain(msg)
            sent += 1
            r = self.wait_for(lambda k, v: k == "ctl" and answers(v[0], rid),
                              min(1.0, deadline - time.monotonic()))
            if r is not None:
                return r[1][0], r[1][1], sent
        raise Mismatch("no answer echoing REQUEST_ID %08x within %.0f s "
                       "(%d sent)" % (rid, timeout, sent))


def answers(c, rid):
    v = c.get(A_REQUEST_ID)
    return v is not None and struct.unpack("<I", v)[0] == rid


def new_rid():
    return struct.unpack("<I", os.urandom(4))[0]


# ---- Expectations from the server's configuration --------------------------

class Expect:
    def __init__(self, items):
        self.v = {}
        for item in items or []:
            k, _, val = item.partition("=")
            self.v.setdefault(k, []).append(val)

    def one(self, k):
        return self.v[k][0] if k in self.v else None

    def many(self, k):
        return self.v.get(k, [])


def check_ok_attrs(c, exp, fresh):
    """Checks every attribute of an OK AUTH_RESULT against the server's
    configuration (rule 6). Returns (address4, address6) as interfaces."""
    seen = set(t for t, _ in c.attrs)
    addrs = []
    for fam, a_addr, a_gw, alen, cls in (
            (4, A_ADDRESS4, A_GATEWAY4, 4, ipaddress.IPv4Address),
            (6, A_ADDRESS6, A_GATEWAY6, 16, ipaddress.IPv6Address)):
        pool = exp.one("pool%d" % fam)
        if pool is None:
            expect(a_addr not in seen and a_gw not in seen,
                   "ADDRESS%d/GATEWAY%d without a pool%d" % (fam, fam, fam))
            addrs.append(None)
            continue
        pool = ipaddress.ip_network(pool)
        v = c.get(a_addr)
        expect(v is not None, "OK lacks ADDRESS%d" % fam)
        a, plen = cls(v[:alen]), v[alen]
        expect(plen == pool.prefixlen, "ADDRESS%d prefix /%d, pool is /%d"
               % (fam, plen, pool.prefixlen))
        gw = cls(exp.one("gw%d" % fam))
        expect(a in pool and a not in (pool.network_address, gw),
               "ADDRESS%d %s is not a client address of %s"
               % (fam, a, pool))
        if fam == 4:
            expect(a != pool.broadcast_address, "ADDRESS4 is broadcast")
        g = c.get(a_gw)
        expect(g is not None and cls(g) == gw, "GATEWAY%d is %s, expected "
               "%s" % (fam, g and cls(g), gw))
        ok("ADDRESS%d %s/%d (len %d), GATEWAY%d %s (len %d)"
           % (fam, a, plen, len(v), fam, gw, len(g)))
        addrs.append(ipaddress.ip_interface("%s/%d" % (a, plen)))
    for a_t, key in ((A_MTU, "mtu"), (A_KEEPALIVE, "keepalive")):
        v = c.get(a_t)
        expect(v is not None, "OK lacks %s" % ATTRS[a_t][0])
        got = struct.unpack("<H", v)[0]
        expect(got == int(exp.one(key)), "%s is %d, vpnd.conf says %s"
               % (ATTRS[a_t][0], got, exp.one(key)))
        ok("%s %d (len 2)" % (ATTRS[a_t][0], got))
    v = c.get(A_SESSION_EXPIRES)
    expect(v is not None, "OK lacks SESSION_EXPIRES")
    got, life = struct.unpack("<I", v)[0], int(exp.one("lifetime"))
    lo = life - 60 if fresh else 1
    expect(lo <= got <= life, "SESSION_EXPIRES %d outside [%d, %d]"
           % (got, lo, life))
    ok("SESSION_EXPIRES %d s (len 4; session-lifetime %d)" % (got, life))
    for a_t, key, conv in (
            (A_ROUTE4, "route4", lambda v: "%s/%d" % (
                ipaddress.IPv4Address(v[:4]), v[4])),
            (A_ROUTE6, "route6", lambda v: "%s/%d" % (
                ipaddress.IPv6Address(v[:16]), v[16])),
            (A_DNS4, "dns4", lambda v: str(ipaddress.IPv4Address(v))),
            (A_DNS6, "dns6", lambda v: str(ipaddress.IPv6Address(v))),
            (A_DNS_SEARCH, "search", lambda v: v.decode())):
        got = sorted(conv(v) for v in c.all(a_t))
        want = sorted(str(ipaddress.ip_network(x)) if "/" in x else x
                      for x in exp.many(key))
        expect(got == want, "%s: got %s, vpnd.conf says %s"
               % (ATTRS[a_t][0], got, want))
        ok("%s %s" % (ATTRS[a_t][0], got or "absent, as configured"))
    known = {A_REQUEST_ID, A_STATUS, A_ADDRESS4, A_ADDRESS6, A_GATEWAY4,
             A_GATEWAY6, A_MTU, A_KEEPALIVE, A_SESSION_EXPIRES, A_ROUTE4,
             A_ROUTE6, A_DNS4, A_DNS6, A_DNS_SEARCH, A_MESSAGE}
    extra = sorted(ATTRS.get(t, ("0x%02x" % t,))[0] for t in seen - known)
    expect(not extra, "OK carries attributes that do not belong: %s" % extra)
    return addrs


def result_status(c):
    expect(c.type == CTL_AUTH_RESULT, "expected AUTH_RESULT, got %s"
           % c.name())
    s = c.get(A_STATUS)[0]
    return STATUS_NAMES.get(s, "unknown %d" % s)


# ---- Helpers shared by scenarios --------------------------------------------

def b64key(s):
    k = base64.b64decode(s.strip(), validate=True)
    if len(k) != 32:
        raise SystemExit("key is not 32 bytes after base64")
    return k


def load_or_create_key(path):
    if path is None:
        return dh_generate()[0]
    if os.path.exists(path):
        with open(path) as f:
            return b64key(f.read())
    priv = dh_generate()[0]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(base64.b64encode(priv).decode() + "\n")
    return priv


def load_psk(args):
    """Q of section 3: 32 zero bytes unless a file is given."""
    if not args.psk_file:
        return bytes(32)
    with open(args.psk_file) as f:
        return b64key(f.read())


def connect(args, priv=None, label="handshake"):
    if priv is None:
        priv = load_or_create_key(getattr(args, "key", None))
    peer = Peer(args.server, b64key(args.server_pub), priv, load_psk(args))
    t0 = time.monotonic()
    peer.handshake()
    ok("%s: response verified (92 bytes, indices, mac1, zero mac2, "
       "AEAD of empty), transport keys derived (%.2f s)"
       % (label, time.monotonic() - t0))
    # Key confirmation (4.3): the initiator sends at once.
    peer.send_plain(b"")
    return peer


def srv_rx(args):
    if not args.srv_rx_cmd:
        return None
    out = subprocess.run(args.srv_rx_cmd, shell=True, check=True,
                         capture_output=True, text=True, timeout=10).stdout
    return int(out.strip())


def ping(peer, src, dst, seq, timeout=3.0, counter=None, payload=None,
         size=None):
    """Sends one echo request through the tunnel (with counter, if given,
    and of size bytes, if given); returns the matching reply or None."""
    ident = os.getpid() & 0xFFFF
    if payload is None:
        payload = b"pyvpn-interop-%02d" % (seq % 100)
    if size is not None:
        payload = payload[:size - (28 if src.version == 4 else 48)]
    if src.version == 4:
        pkt = icmp4_echo(src, dst, ident, seq, payload)
    else:
        pkt = icmp6_echo(src, dst, ident, seq, payload)
    if counter is None:
        peer.send_plain(pkt)
    else:
        peer.send_raw(data_message(peer, pkt, counter))

    def match(kind, v):
        if kind != "ip":
            return False
        r = echo_parse(v)
        return r is not None and r[2:] == (ident, seq, payload) and \
            r[0] == dst and r[1] == src
    return peer.wait_for(match, timeout)


def serve_echo(peer, addrs, cmd, timeout=10.0):
    """Runs cmd (a ping from the server's side, {addr} replaced) for each
    address, answering the echo requests that come through the tunnel.
    Returns [(exit status, requests seen)] per address."""
    out = []
    for a in addrs:
        proc = subprocess.Popen(cmd.replace("{addr}", str(a)), shell=True,
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        seen = 0
        deadline = time.monotonic() + timeout
        while proc.poll() is None and time.monotonic() < deadline:
            r = peer.recv_data(min(deadline, time.monotonic() + 0.1))
            if r is None:
                continue
            req = echo_parse(r[1], request=True) if r[0] == "ip" else None
            if req is None or req[1] != a:
                peer.unexpected.append(r)
                continue
            seen += 1
            src, dst, ident, seq, payload = req
            build = icmp4_echo if a.version == 4 else icmp6_echo
            peer.send_plain(build(dst, src, ident, seq, payload,
                                  icmp_type=0 if a.version == 4 else 129))
        try:
            rc = proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
        out.append((rc, seen))
    return out


def resume(peer, user=None):
    rid = new_rid()
    attrs = [rid_attr(rid)]
    if user:
        attrs.append((A_USERNAME, user.encode()))
    c, p, _ = peer.request(ctl_encode(CTL_RESUME, attrs), rid)
    return rid, c, p


def expect_auth_required(c, rid, what):
    expect(c.type == CTL_AUTH_REQUIRED, "%s answered with %s, expected "
           "AUTH_REQUIRED" % (what, c.name()))
    expect(answers(c, rid), "AUTH_REQUIRED does not echo REQUEST_ID")
    ok("%s: AUTH_REQUIRED echoing REQUEST_ID %08x" % (what, rid))


def load_state(path):
    with open(path) as f:
        st = json.load(f)
    return [ipaddress.ip_interface(a) if a else None
            for a in (st["addr4"], st["addr6"])]


def expect_same_addrs(got, want, what):
    expect([str(a) for a in got] == [str(a) for a in want],
           "%s gave %s, the login gave %s"
           % (what, [str(a) for a in got], [str(a) for a in want]))
    ok("%s: same addresses as the login (%s)"
       % (what, ", ".join(str(a) for a in got if a)))


# ---- Scenarios ------------------------------------------------------------

def vector_bytes(text, name):
    m = re.search(r"\b%s\[\d+\]\s*=\s*\{([^}]*)\}" % re.escape(name), text)
    if not m:
        raise Mismatch("%s not found in %s" % (name, VECTOR_FILE))
    return bytes(int(x, 16) for x in re.findall(r"0x([0-9a-fA-F]{2})",
                                                m.group(1)))


def cmd_selftest(args):
    """The primitives against published vectors and references."""
    # HMAC-BLAKE2b by hand against Python's generic RFC 2104 code.
    for klen, mlen in ((0, 0), (32, 1), (64, 100), (128, 3), (200, 50)):
        k, m = os.urandom(klen), os.urandom(mlen)
        expect(hmac_b2b(k, m) == hmac.new(k, m, hashlib.blake2b).digest(),
               "HMAC-BLAKE2b differs from RFC 2104 (key %d)" % klen)
    ok("HMAC-BLAKE2b matches RFC 2104 (block 128, 64-byte output)")

    # Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b, cacophony's published vector
    # (the project's copy; its provenance is in that file's header).
    with open(VECTOR_FILE) as f:
        text = f.read()
    v = {n: vector_bytes(text, "vec_" + n) for n in (
        "prologue", "psk", "init_static", "init_ephemeral",
        "init_remote_static", "resp_static", "handshake_hash")}
    msgs = [(vector_bytes(text, "vec_msg%d_payload" % i),
             vector_bytes(text, "vec_msg%d_ciphertext" % i))
            for i in range(6)]
    expect(pubkey(v["resp_static"]) == v["init_remote_static"],
           "vector: responder key mismatch")
    ini = Initiator(v["init_static"], v["init_remote_static"],
                    v["prologue"], v["psk"], v["init_ephemeral"])
    e, enc_s, enc_p = ini.write_first(msgs[0][0])
    expect(e + enc_s + enc_p == msgs[0][1], "vector: message 0 differs")
    ok("vector: initiation (e, es, s, ss) byte-identical")
    p = ini.read_second(msgs[1][1][:32], msgs[1][1][32:])
    expect(p == msgs[1][0], "vector: message 1 does not decrypt")
    expect(ini.h == v["handshake_hash"], "vector: handshake hash differs")
    ok("vector: response (e, ee, se, psk) and handshake hash")
    send, recv = ini.split()
    for i in range(2, 6):
        n = (i - 2) // 2
        if i % 2 == 0:
            expect(aead_seal(send, n, msgs[i][0], b"") == msgs[i][1],
                   "vector: transport message %d differs" % i)
        else:
            expect(aead_open(recv, n, msgs[i][1], b"") == msgs[i][0],
                   "vector: transport message %d differs" % i)
    ok("vector: four transport messages (split keys, nonces 0 and 1)")
    v["resp_ephemeral"] = vector_bytes(text, "vec_resp_ephemeral")
    rsp = Responder(v["resp_static"], v["prologue"], v["psk"],
                    v["resp_ephemeral"])
    c0 = msgs[0][1]
    r = rsp.read_first(c0[:32], c0[32:80], c0[80:])
    expect(r == (pubkey(v["init_static"]), msgs[0][0]),
           "vector: the responder does not read message 0")
    e, enc_p = rsp.write_second(msgs[1][0])
    expect(e + enc_p == msgs[1][1], "vector: responder's message 1 differs")
    expect(rsp.h == v["handshake_hash"], "vector: responder's hash differs")
    send, recv = rsp.split()
    for i in range(2, 6):
        n = (i - 2) // 2
        if i % 2 == 1:
            expect(aead_seal(send, n, msgs[i][0], b"") == msgs[i][1],
                   "vector: responder's transport message %d differs" % i)
        else:
            expect(aead_open(recv, n, msgs[i][1], b"") == msgs[i][0],
                   "vector: responder cannot read transport message %d" % i)
    ok("vector: responder reads message 0, writes message 1 and the "
       "transport messages byte-identical")

    expect(tai64n(0) == bytes.fromhex("400000000000000000000000"),
           "TAI64N of the epoch")
    expect(tai64n(1700000000 * 10**9 + 123456789) ==
           bytes.fromhex("400000006553f10007000000"), "TAI64N rounding")
    ok("TAI64N: 2^62 + seconds, nanoseconds rounded down to 2^24")

    expect(inet_csum(bytes.fromhex("0001f203f4f5f6f7")) == 0x220D,
           "RFC 1071 checksum example")
    a, b = ipaddress.ip_address("10.0.0.1"), ipaddress.ip_address("10.0.0.2")
    r = echo_parse(icmp4_echo(b, a, 7, 9, b"xy", icmp_type=0))
    expect(r == (b, a, 7, 9, b"xy"), "ICMPv4 echo round trip")
    a, b = ipaddress.ip_address("fd00::1"), ipaddress.ip_address("fd00::2")
    r = echo_parse(icmp6_echo(b, a, 7, 9, b"xyz", icmp_type=129))
    expect(r == (b, a, 7, 9, b"xyz"), "ICMPv6 echo round trip")
    ok("IPv4/ICMPv6 echo builders and parser (RFC 1071 checksum)")

    good = ctl_encode(CTL_RESUME, [rid_attr(5), (0x7E, b"?")]) + bytes(9)
    c = ctl_decode(good)
    expect(c and c.type == CTL_RESUME and answers(c, 5) and c.end == 13,
           "control decode of a RESUME with an unknown attribute")
    expect(ctl_decode(ctl_encode(0x06, [])) is None, "reserved ctl_type")
    bad = {
        "reserved byte": ctl_encode(CTL_RESUME, [rid_attr(1)], reserved=1),
        "overrun": ctl_encode(CTL_RESUME, [rid_attr(1)], body_len=5),
        "body past end": ctl_encode(CTL_RESUME, [rid_attr(1)], body_len=7),
        "missing REQUEST_ID": ctl_encode(CTL_RESUME, []),
        "short REQUEST_ID": ctl_encode(CTL_RESUME, [(A_REQUEST_ID, b"abc")]),
        "twice": ctl_encode(CTL_RESUME, [rid_attr(1), rid_attr(2)]),
        "utf-8": ctl_encode(CTL_RESUME, [rid_attr(1), (A_USERNAME, b"\xff")]),
        "cut attribute header": struct.pack("<BBHB", CTL_RESUME, 0, 1, 1),
    }
    for what, msg in bad.items():
        try:
            ctl_decode(msg + bytes(16))
        except ValueError:
            continue
        raise Mismatch("control decoder accepted: " + what)
    ok("control codec: strict decoder rejects %d malformed forms, ignores "
       "unknown attributes and ctl_types" % len(bad))


def expect_no_reply(peer, cases, seconds):
    """Sends every (what, datagram), then expects nothing at all back."""
    for _, msg in cases:
        peer.send_raw(msg)
    got = []
    deadline = time.monotonic() + seconds
    while True:
        pkt = peer.recv_raw(deadline)
        if pkt is None:
            break
        got.append(pkt)
    expect(not got, "answered (%s) among: %s" % (
        " ".join(g.hex() for g in got), "; ".join(w for w, _ in cases)))
    for what, _ in cases:
        ok("%s: no answer" % what)
    ok("... none of these %d answered in %.1f s" % (len(cases), seconds))


def cmd_handshake(args):
    """Scenario 1 (and 6b): a new key completes the handshake; a keepalive
    confirms the keys, and a RESUME from this never-admitted key gets
    AUTH_REQUIRED echoing REQUEST_ID, which proves both directions.
    Initiations that are malformed or replayed get no answer."""
    priv = dh_generate()[0]
    probe = Peer(args.server, b64key(args.server_pub), priv, bytes(32))
    cases = []
    bad = bytearray(probe.initiation()[2])
    bad[120] ^= 1
    cases.append(("initiation with a wrong mac1", bytes(bad)))
    bad = bytearray(probe.initiation()[2])
    bad[2] = 1
    bad[116:132] = mac16(mac1_key(probe.server_pub), bytes(bad[:116]))
    cases.append(("initiation with a reserved byte set (valid mac1)",
                  bytes(bad)))
    cases.append(("initiation of 149 bytes", probe.initiation()[2] + b"\0"))
    cases.append(("initiation of 147 bytes", probe.initiation()[2][:147]))
    # Encrypted to another responder key, with a valid mac1 for vpnd's.
    ini = Initiator(priv, dh_generate()[1], IDENTIFIER, bytes(32))
    bad = bytearray(initiation_build(ini, 1, probe.next_timestamp(), None))
    bad[116:132] = mac16(mac1_key(probe.server_pub), bytes(bad[:116]))
    cases.append(("initiation for another responder key (valid mac1)",
                  bytes(bad)))
    expect_no_reply(probe, cases, args.quiet_time)
    probe.close()

    peer = connect(args, priv=priv)
    ok("keepalive sent (counter 0): key confirmation")
    expect_no_reply(peer, [
        ("the accepted initiation replayed", peer.last_initiation),
        ("a new initiation with an equal timestamp",
         peer.initiation(timestamp=peer.our_ts)[2])], args.quiet_time)
    rid, c, _ = resume(peer)
    expect_auth_required(c, rid, "RESUME from a new static key")
    ok("server's answer authenticated with recv = T2, padded to 16")


def cmd_preauth(args):
    """Scenario 2: IP before login is dropped and answered AUTH_REQUIRED, at
    most once a second."""
    peer = connect(args, priv=dh_generate()[0])
    src = ipaddress.ip_address(args.src4)
    dst = ipaddress.ip_address(args.dst4)
    rx0 = srv_rx(args)
    t0 = time.monotonic()
    for seq in range(5):
        peer.send_plain(icmp4_echo(src, dst, 1, seq, b"before-login"))
        time.sleep(0.05)
    span = time.monotonic() - t0
    first = peer.wait_for(lambda k, v: k == "ctl" and
                          v[0].type == CTL_AUTH_REQUIRED, 5.0)
    expect(first is not None, "5 echo requests before login got no "
           "AUTH_REQUIRED")
    got = [first] + [r for _, r in peer.collect(0.5)] + peer.unexpected
    peer.unexpected = []
    elapsed = time.monotonic() - t0
    replies = [r for r in got if r[0] == "ip"]
    req = [r[1][0] for r in got
           if r[0] == "ctl" and r[1][0].type == CTL_AUTH_REQUIRED]
    others = [r[1][0].name() for r in got if r[0] == "ctl" and
              r[1][0].type != CTL_AUTH_REQUIRED]
    expect(not replies, "an IP packet came back before login: %s" % replies)
    expect(not others, "unexpected control answer: %s" % others)
    # The server cannot have seen the first packet before t0, so in
    # `elapsed` seconds it may answer at most 1 + floor(elapsed) times.
    expect(len(req) <= 1 + int(elapsed), "%d AUTH_REQUIRED within %.2f s "
           "(at most one a second)" % (len(req), elapsed))
    ok("5 echo requests in %.2f s: %d AUTH_REQUIRED in %.2f s, no echo "
       "reply" % (span, len(req), elapsed))
    last = time.monotonic()
    for c in req:
        if c.get(A_REQUEST_ID) is not None:
            info("note: AUTH_REQUIRED for an IP packet carries REQUEST_ID")
    # A second later it may be sent again: the limit is a rate, not once.
    time.sleep(max(0.0, t0 + 1.2 - time.monotonic(),
                   last + 1.05 - time.monotonic()))
    peer.send_plain(icmp4_echo(src, dst, 1, 9, b"before-login"))
    r = peer.wait_for(lambda k, v: k == "ctl" and
                      v[0].type == CTL_AUTH_REQUIRED, 3.0)
    expect(r is not None, "no AUTH_REQUIRED for a packet a second later")
    ok("a packet a second later: AUTH_REQUIRED again")
    if rx0 is not None:
        rx1 = srv_rx(args)
        expect(rx1 == rx0, "server tunnel device received %d packets from "
               "a client that has not logged in" % (rx1 - rx0))
        ok("server's tunnel device received nothing (rx_packets %d)" % rx1)


def cmd_login(args):
    """Scenarios 3, 4 and 5."""
    exp = Expect(args.expect)
    peer = connect(args)
    rid = new_rid()
    req = ctl_encode(CTL_AUTH_REQUEST, [
        rid_attr(rid), (A_USERNAME, args.user.encode()),
        (A_PASSWORD, args.password.encode()), (A_TOTP, args.totp.encode()),
        (A_CLIENT_INFO, b"pyvpn interop")])
    # Three copies at once: those arriving while the check runs are
    # ignored (rule 2), so one answer, unless the check beat them.
    t0 = time.monotonic()
    for _ in range(3):
        peer.send_plain(req)
    t_sent = time.monotonic()
    r = peer.wait_for(lambda k, v: k == "ctl" and answers(v[0], rid), 30.0)
    expect(r is not None, "no answer to AUTH_REQUEST within 30 s")
    t_answer = time.monotonic()
    c, p = r[1]
    expect(result_status(c) == "OK", "login refused: %s (%s)"
           % (result_status(c), c.get(A_MESSAGE)))
    ok("AUTH_REQUEST -> AUTH_RESULT OK echoing REQUEST_ID %08x (%.2f s)"
       % (rid, t_answer - t0))
    addrs = check_ok_attrs(c, exp, fresh=True)
    first = p[:c.end]
    peer.mtu = struct.unpack("<H", c.get(A_MTU))[0]
    more = [v[1][:v[0].end] for _, (k, v) in peer.collect(1.0)
            if k == "ctl" and answers(v[0], rid)]
    expect(all(m == first for m in more), "copies answered differently")
    if t_answer - t_sent > 0.2:
        expect(not more, "3 copies sent within %.3f s, answered %.2f s "
               "later, got %d answers: copies arriving during the check "
               "were not ignored" % (t_sent - t0, t_answer - t_sent,
                                     1 + len(more)))
        ok("3 copies sent at once: one answer (the others arrived while "
           "the check ran)")
    else:
        info("the check took %.2f s; %d identical answers to 3 copies"
             % (t_answer - t_sent, 1 + len(more)))

    # 4: same REQUEST_ID again, after the check.
    c2, p2, _ = peer.request(req, rid)
    expect(p2[:c2.end] == first, "retransmission answered differently:\n"
           "  first  %s\n  second %s" % (first.hex(), p2[:c2.end].hex()))
    ok("retransmitted AUTH_REQUEST: byte-identical answer (%d bytes)"
       % len(first))
    # ... and across a rekey (new handshake, same static key).
    peer.handshake()
    peer.send_plain(b"")
    c3, p3, _ = peer.request(req, rid)
    expect(p3[:c3.end] == first, "retransmission after a rekey answered "
           "differently:\n  first  %s\n  second %s"
           % (first.hex(), p3[:c3.end].hex()))
    ok("retransmitted after a new handshake: byte-identical answer")

    # 5: pings from the assigned addresses, and one from another address.
    gw = [ipaddress.ip_address(exp.one(k)) if exp.one(k) else None
          for k in ("gw4", "gw6")]
    for a, g in zip(addrs, gw):
        if a is None:
            continue
        for seq in range(1, 4):
            r = ping(peer, a.ip, g, seq)
            expect(r is not None, "no echo reply from %s to %s (seq %d)"
                   % (g, a.ip, seq))
        ok("ICMP echo %s -> %s through the tunnel: 3 replies" % (a.ip, g))
    if addrs[0] is not None:
        other = addrs[0].ip + 100
        if other not in addrs[0].network or other == addrs[0].network \
                .broadcast_address:
            other = addrs[0].ip - 1
        rx0 = srv_rx(args)
        r = ping(peer, other, gw[0], 77, timeout=2.0)
        expect(r is None, "echo from unassigned %s was answered" % other)
        ok("ICMP echo from unassigned %s: no reply in 2 s" % other)
        if rx0 is not None:
            rx1 = srv_rx(args)
            expect(rx1 == rx0, "server wrote %d packets from unassigned "
                   "%s to its device" % (rx1 - rx0, other))
            ok("server's device did not receive it (rx_packets %d)" % rx1)
        r = ping(peer, addrs[0].ip, gw[0], 78)
        expect(r is not None, "session broken after the spoofed packet")
        ok("session still forwards from %s" % addrs[0].ip)
    # Roaming (section 5): the endpoint is the source of the latest
    # authenticated message, so the reply comes to the new port.
    if addrs[0] is not None:
        peer.rebind()
        r = ping(peer, addrs[0].ip, gw[0], 79)
        expect(r is not None, "no echo reply at the new source port")
        ok("roamed to a new source port: echo reply arrives there")
    # The other way: the server's side pings us and we answer. Before,
    # a forged and a replayed message come from another port: neither may
    # move the endpoint (authenticate, check the counter, then roam), so
    # the server's echo requests still come to our port.
    if args.srv_ping:
        live = [a.ip for a in addrs if a is not None]
        other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        other.connect(peer.addr)
        forged = bytearray(data_message(peer, b"\0" * 16,
                                        peer.send_counter + 5))
        forged[-1] ^= 1
        other.send(bytes(forged))
        other.send(peer.last_sent)
        time.sleep(0.2)
        other.close()
        for a, (rc, seen) in zip(live, serve_echo(peer, live,
                                                  args.srv_ping)):
            expect(rc == 0 and seen > 0, "ping from the server's side to %s"
                   " failed (exit %s, %d requests came through; a forged "
                   "or replayed message from another port moved the "
                   "endpoint?)" % (a, rc, seen))
            ok("ping from the server's side to %s: %d request(s) came "
               "through, answered" % (a, seen))
        ok("so a forged and a replayed message from another port did not "
           "move the endpoint")
    if args.state:
        with open(args.state, "w") as f:
            json.dump({"addr4": addrs[0] and str(addrs[0]),
                       "addr6": addrs[1] and str(addrs[1])}, f)


def keypair_rotation(peer, a4, gw4):
    """4.3 and 7: vpnd, as responder, does not send with a new keypair
    before we confirm it; the old one works meanwhile, and afterwards
    packets still in flight on the previous one are accepted."""
    old = peer.kp
    peer.handshake()
    new = peer.kp
    peer.kp = old
    r = ping(peer, a4, gw4, 11)
    expect(r is not None, "no reply on the current keypair while a new "
           "handshake is unconfirmed")
    expect(peer.rx_kp is old, "vpnd answered with the unconfirmed keypair "
           "(receiver_index %08x) before we sent on it" % new.index)
    ok("new handshake unconfirmed: vpnd still answers on the old keypair")
    peer.kp = new
    r = ping(peer, a4, gw4, 12)
    expect(r is not None and peer.rx_kp is new, "after our first message "
           "on the new keypair, the reply %s" % (
               "is missing" if r is None else "uses the old keypair"))
    ok("first message on the new keypair confirms it: reply on it")
    peer.kp = old
    r = ping(peer, a4, gw4, 13)
    expect(r is not None, "a packet on the previous keypair was dropped")
    expect(peer.rx_kp is new, "vpnd went back to the previous keypair")
    peer.kp = new
    ok("a packet on the previous keypair is still accepted; the reply "
       "uses the new one")


def cmd_resume(args):
    """Scenario 6 (and admissions across a server restart)."""
    exp = Expect(args.expect)
    want = load_state(args.state)
    peer = connect(args)
    rid, c, _ = resume(peer)
    expect(c.type == CTL_AUTH_RESULT and answers(c, rid),
           "RESUME answered with %s" % c.name())
    expect(result_status(c) == "OK", "RESUME: %s" % result_status(c))
    ok("RESUME in a new handshake -> AUTH_RESULT OK echoing REQUEST_ID")
    got = check_ok_attrs(c, exp, fresh=False)
    expect_same_addrs(got, want, "RESUME")
    peer.mtu = struct.unpack("<H", c.get(A_MTU))[0]
    a4, gw4 = got[0].ip, ipaddress.ip_address(exp.one("gw4"))
    r = ping(peer, a4, gw4, 1)
    expect(r is not None, "no echo reply after RESUME")
    ok("ICMP echo after RESUME: reply")
    keypair_rotation(peer, a4, gw4)
    if args.user:
        rid, c, _ = resume(peer, user=args.user)
        expect(c.type == CTL_AUTH_RESULT and result_status(c) == "OK",
               "RESUME naming the admission's user: %s" % c.name())
        ok("RESUME naming the admission's user (%s): OK" % args.user)
        time.sleep(1.1)
        rid, c, _ = resume(peer, user=args.user + "x")
        expect_auth_required(c, rid, "RESUME naming another user")
    other = connect(args, priv=dh_generate()[0], label="new key")
    rid, c, _ = resume(other)
    expect_auth_required(c, rid, "RESUME from a new static key")


def data_message(peer, p, n):
    """A transport message with counter n that does not advance ours."""
    p = p + bytes(-len(p) % 16)
    return struct.pack("<IIQ", MSG_DATA, peer.remote_index, n) + \
        aead_seal(peer.send_key, n, p, b"")


def bytearray_set(b, off, value):
    b = bytearray(b)
    b[off:off + len(value)] = value
    return bytes(b)


def expect_batch_silent(peer, cases, seconds):
    """Sends every (what, datagram) at once, then expects no answer at all;
    the REQUEST_IDs in an answer tell which case it was."""
    for _, pkt in cases:
        peer.send_raw(pkt)
    got = [r for _, r in peer.collect(seconds) if r[0] != "keepalive"]
    desc = ["%s: %s" % (k, v[1][:v[0].end].hex() if k == "ctl" else v.hex())
            for k, v in got]
    expect(not got, "answered (%s) among: %s"
           % ("; ".join(desc), "; ".join(w for w, _ in cases)))
    for what, _ in cases:
        ok("%s: dropped" % what)
    ok("... none of these %d answered in %.1f s" % (len(cases), seconds))


def cmd_malformed(args):
    """Scenario 8: malformed control and transport messages on an admitted
    session are dropped unanswered, and the session goes on; the replay
    window and the counter limit of section 5."""
    exp = Expect(args.expect)
    want = load_state(args.state)
    gw4 = ipaddress.ip_address(exp.one("gw4"))
    peer = connect(args)
    rid, c, _ = resume(peer)
    expect(result_status(c) == "OK", "RESUME: %s" % result_status(c))
    ok("positive control: a well-formed RESUME is answered OK")
    peer.mtu = struct.unpack("<H", c.get(A_MTU))[0]
    replayed = peer.last_sent
    peer.collect(0.5)
    r = [new_rid() for _ in range(13)]
    ctl_cases = [
        ("RESUME with reserved byte 0x01",
         ctl_encode(CTL_RESUME, [rid_attr(r[0])], reserved=1)),
        ("RESUME whose REQUEST_ID overruns body_len",
         ctl_encode(CTL_RESUME, [rid_attr(r[1])], body_len=5)),
        ("RESUME with body_len past the decrypted length",
         ctl_encode(CTL_RESUME, [rid_attr(r[2])], body_len=200)),
        ("RESUME with a 3-byte REQUEST_ID",
         ctl_encode(CTL_RESUME, [(A_REQUEST_ID, b"abc")])),
        ("RESUME with REQUEST_ID twice",
         ctl_encode(CTL_RESUME, [rid_attr(r[3]), rid_attr(r[4])])),
        ("RESUME without REQUEST_ID", ctl_encode(CTL_RESUME, [])),
        ("RESUME with a non-UTF-8 USERNAME",
         ctl_encode(CTL_RESUME, [rid_attr(r[5]), (A_USERNAME, b"al\xffce")])),
        ("unknown ctl_type 0x06",
         ctl_encode(0x06, [rid_attr(r[6])])),
        ("AUTH_RESULT sent by the client",
         ctl_encode(CTL_AUTH_RESULT, [rid_attr(r[7]), (A_STATUS, b"\0")])),
        ("AUTH_REQUIRED sent by the client",
         ctl_encode(CTL_AUTH_REQUIRED, [rid_attr(r[8])])),
        ("plaintext starting with 0x00", b"\0" * 16),
        ("RESUME with a 65-byte USERNAME",
         ctl_encode(CTL_RESUME, [rid_attr(r[10]), (A_USERNAME, b"a" * 65)])),
        ("AUTH_REQUEST with an empty PASSWORD",
         ctl_encode(CTL_AUTH_REQUEST, [
             rid_attr(r[11]), (A_USERNAME, b"alice"), (A_PASSWORD, b""),
             (A_TOTP, b"123456")])),
        ("AUTH_REQUEST without TOTP",
         ctl_encode(CTL_AUTH_REQUEST, [
             rid_attr(r[12]), (A_USERNAME, b"alice"),
             (A_PASSWORD, b"x")])),
        # IP packets from the assigned address that section 5 drops.
        ("IPv4 whose total length passes the decrypted length",
         bytearray_set(icmp4_echo(want[0].ip, gw4, 1, 1, b"x" * 16), 2,
                       struct.pack("!H", 200))),
        ("plaintext starting with 0x44 (IPv4, IHL 4)",
         bytes([0x44]) + icmp4_echo(want[0].ip, gw4, 1, 2, b"y" * 16)[1:]),
    ]
    cases = []
    for what, msg in ctl_cases:
        cases.append((what, data_message(peer, msg, peer.send_counter)))
        peer.send_counter += 1
    # Transport level (section 5): a well-formed RESUME, but replayed,
    # tampered, misaddressed, with a reserved byte set, or too short.
    cases.append(("the answered RESUME's data message replayed", replayed))
    for what, mutate in (
            ("with reserved byte 1 set", lambda b: b.__setitem__(1, 1)),
            ("with a flipped tag bit", lambda b: b.__setitem__(-1,
                                                              b[-1] ^ 1)),
            ("to another receiver_index", lambda b: b.__setitem__(4,
                                                                 b[4] ^ 1)),
            ("cut to 31 bytes", lambda b: b.__delitem__(slice(31, None)))):
        n = peer.send_counter
        peer.send_counter += 1
        b = bytearray(data_message(
            peer, ctl_encode(CTL_RESUME, [rid_attr(new_rid())]), n))
        mutate(b)
        cases.append(("a RESUME data message " + what, bytes(b)))
    rx0 = srv_rx(args)
    expect_batch_silent(peer, cases, args.quiet_time)
    if rx0 is not None:
        rx1 = srv_rx(args)
        expect(rx1 == rx0, "server wrote %d of them to its device"
               % (rx1 - rx0))
        ok("server's device received none of them (rx_packets %d)" % rx1)
    # What follows body_len is padding and ignored, zero or not.
    rid = new_rid()
    c, _, _ = peer.request(ctl_encode(CTL_RESUME, [rid_attr(rid)]) +
                           b"\xa5" * 6, rid)
    expect(result_status(c) == "OK", "RESUME with non-zero padding: %s"
           % result_status(c))
    ok("RESUME followed by non-zero padding: OK")

    # Truncations and extensions of every message type, then random bytes:
    # all dropped, and the session below must still work.
    n = 0
    for t, full in ((1, LEN_INITIATION), (2, LEN_RESPONSE), (3, LEN_COOKIE),
                    (4, LEN_DATA_MIN)):
        for length in range(0, full + 2):
            junk = struct.pack("<I", t) + os.urandom(full + 2)
            peer.send_raw(junk[:length])
            n += 1
    for _ in range(200):
        peer.send_raw(os.urandom(1 + os.urandom(1)[0] % 200))
        n += 1
    got = [r for _, r in peer.collect(args.quiet_time) if r[0] != "keepalive"]
    expect(not got, "junk was answered: %s" % got)
    ok("%d truncated, extended and random datagrams: no answer" % n)

    # The replay window (at least 2048 counters, RFC 6479): a jump ahead,
    # then a counter 2000 behind it, are both delivered; a repeat is not.
    base = peer.send_counter
    for n, what, answered in ((base + 3000, "3000 ahead", True),
                              (base + 1000, "2000 behind the highest", True),
                              (base + 1000, "repeated", False)):
        rep = ping(peer, want[0].ip, gw4, n & 0xFFFF, 3.0 if answered
                   else args.quiet_time, counter=n)
        expect((rep is not None) == answered, "echo with counter %s (%d) "
               "%s" % (what, n, "not answered" if answered else "answered"))
        ok("echo with counter %s: %s" % (what, "reply" if answered
                                         else "dropped"))
    peer.send_counter = base + 3001
    reject = 2**64 - 2**13 - 1
    rep = ping(peer, want[0].ip, gw4, 1, args.quiet_time, counter=reject)
    expect(rep is None, "echo with counter REJECT_AFTER_MESSAGES answered")
    ok("echo with counter REJECT_AFTER_MESSAGES: dropped")

    # A packet of exactly the tunnel MTU is not padded past it (section 5).
    pad = peer.mtu - 28
    rep = ping(peer, want[0].ip, gw4, 2, payload=bytes(range(256)) * 8,
               size=peer.mtu)
    expect(rep is not None, "no reply to an echo of %d bytes" % peer.mtu)
    expect(peer.last_plain_len == peer.mtu, "echo reply of %d bytes came "
           "padded to %d, past the MTU" % (peer.mtu, peer.last_plain_len))
    ok("echo of %d bytes (the MTU, %d payload): reply of %d, not padded "
       "past the MTU" % (peer.mtu, pad, peer.last_plain_len))

    # Unknown attributes are ignored, and attributes come in any order.
    rid = new_rid()
    msg = ctl_encode(CTL_RESUME, [(0x7E, b"future"), rid_attr(rid)])
    c, _, _ = peer.request(msg, rid)
    expect(result_status(c) == "OK", "RESUME with an unknown attribute: %s"
           % result_status(c))
    expect_same_addrs(check_ok_attrs(c, exp, fresh=False), want,
                      "RESUME with an unknown attribute first")
    r = ping(peer, want[0].ip, ipaddress.ip_address(exp.one("gw4")), 5)
    expect(r is not None, "no echo reply after the malformed messages")
    ok("session undisturbed: ICMP echo reply")
    # Last, as it moves the window to the end: the highest counter below
    # the limit is still accepted.
    rep = ping(peer, want[0].ip, gw4, 3, 3.0, counter=reject - 1)
    expect(rep is not None, "echo with counter REJECT_AFTER_MESSAGES - 1 "
           "dropped")
    ok("echo with counter REJECT_AFTER_MESSAGES - 1: reply")


def cmd_logout(args):
    """Scenario 7."""
    peer = connect(args)
    rid, c, _ = resume(peer)
    expect(result_status(c) == "OK", "RESUME before logout: %s"
           % result_status(c))
    ok("RESUME OK before logout")
    peer.send_plain(ctl_encode(CTL_DISCONNECT, [(A_REASON, b"interop")]))
    got = [r for _, r in peer.collect(0.5) if r[0] != "keepalive"]
    ok("DISCONNECT without LOGOUT sent (%d answers)" % len(got))
    peer.close()
    peer = connect(args, label="new handshake after DISCONNECT")
    rid, c, _ = resume(peer)
    expect(result_status(c) == "OK", "RESUME after a DISCONNECT without "
           "LOGOUT: %s (it ends the live session only)" % result_status(c))
    ok("RESUME after DISCONNECT without LOGOUT: OK, the admission stayed")
    if args.srv_ping and args.state:
        addrs = [a.ip for a in load_state(args.state) if a is not None]
        for a, (rc, seen) in zip(addrs, serve_echo(peer, addrs,
                                                   args.srv_ping)):
            expect(rc == 0 and seen > 0, "before LOGOUT, ping from the "
                   "server's side to %s failed" % a)
        ok("before LOGOUT, pings from the server's side are answered")
    peer.send_plain(ctl_encode(CTL_DISCONNECT, [
        (A_REASON, b"interop logout"), (A_LOGOUT, b"")]))
    got = [r for _, r in peer.collect(0.5) if r[0] != "keepalive"]
    expect(not any(k == "ip" for k, _ in got), "IP after DISCONNECT")
    ok("DISCONNECT with LOGOUT sent (%d answers)" % len(got))
    again = connect(args, label="new handshake after logout")
    rid, c, _ = resume(again)
    expect_auth_required(c, rid, "RESUME after LOGOUT")
    if args.state:
        addr = load_state(args.state)[0]
        time.sleep(1.1)
        again.send_plain(icmp4_echo(addr.ip, ipaddress.ip_address(args.dst4),
                                    1, 1, b"after-logout"))
        r = again.wait_for(lambda k, v: k == "ctl" and
                           v[0].type == CTL_AUTH_REQUIRED, 3.0)
        expect(r is not None, "ICMP echo after LOGOUT: no AUTH_REQUIRED")
        got = [r for _, r in again.collect(0.5)] + again.unexpected
        expect(not any(k == "ip" for k, _ in got), "IP answered after "
               "LOGOUT")
        ok("ICMP echo after LOGOUT: not answered, AUTH_REQUIRED instead")
        if args.srv_ping:
            # IPv4 only: a ping that must fail costs its whole timeout.
            addrs = [addr.ip]
            for a, (rc, seen) in zip(addrs, serve_echo(again, addrs,
                                                       args.srv_ping)):
                expect(seen == 0 and rc != 0, "after LOGOUT, the server "
                       "still sent %d echo request(s) to %s" % (seen, a))
                ok("after LOGOUT, a ping from the server's side to %s: "
                   "nothing sent to us" % a)


def cmd_refused(args):
    """Rules 2-4: a reused code from a key without admission gets
    AUTH_FAILED echoing REQUEST_ID, with no configuration, the same bytes
    when retransmitted; an unknown user the same answer."""
    peer = connect(args, priv=dh_generate()[0])
    answers_seen = []
    for user in (args.user, args.user + "-nobody"):
        rid = new_rid()
        req = ctl_encode(CTL_AUTH_REQUEST, [
            rid_attr(rid), (A_USERNAME, user.encode()),
            (A_PASSWORD, args.password.encode()),
            (A_TOTP, args.totp.encode())])
        t0 = time.monotonic()
        c, p, _ = peer.request(req, rid, timeout=30.0)
        took = time.monotonic() - t0
        expect(result_status(c) == "AUTH_FAILED", "user %s with a used "
               "code: %s" % (user, result_status(c)))
        expect(took >= args.failure_delay, "AUTH_FAILED after %.3f s, "
               "before failure-delay %.3f s" % (took, args.failure_delay))
        extra = [ATTRS.get(t, (hex(t),))[0] for t, _ in c.attrs
                 if t not in (A_REQUEST_ID, A_STATUS, A_MESSAGE,
                              A_RETRY_AFTER)]
        expect(not extra, "AUTH_FAILED carries %s" % extra)
        ok("AUTH_REQUEST %s with a used code: AUTH_FAILED echoing "
           "REQUEST_ID, no configuration, after %.2f s" % (user, took))
        peer.collect(0.5)
        c2, p2, _ = peer.request(req, rid)
        expect(p2[:c2.end] == p[:c.end], "retransmitted failure answered "
               "differently: %s / %s" % (p[:c.end].hex(), p2[:c2.end].hex()))
        ok("retransmission: byte-identical AUTH_FAILED")
        # Compare without REQUEST_ID: nothing may tell the cases apart.
        answers_seen.append(sorted((t, v) for t, v in c.attrs
                                   if t != A_REQUEST_ID))
    expect(answers_seen[0] == answers_seen[1], "used code and unknown user "
           "answered differently: %s" % answers_seen)
    ok("used code and unknown user: identical answers")


def cmd_cookie(args):
    """Scenario 9 (needs vpnd with a handshake rate of 1): initiations past
    the rate get a cookie reply; the retry with mac2 completes."""
    for i in range(args.tries):
        peer = Peer(args.server, b64key(args.server_pub), dh_generate()[0],
                    load_psk(args))
        peer.handshake()
        peer.send_plain(b"")
        if peer.cookie_replies:
            ok("handshake %d: cookie reply, then a response to the "
               "initiation with mac2" % (i + 1))
            rid, c, _ = resume(peer)
            expect_auth_required(c, rid, "RESUME after the cookie path")
            # Under load, a cookie reply answers only a valid mac1.
            bad = bytearray(peer.initiation()[2])
            bad[120] ^= 1
            expect_no_reply(peer, [("initiation with a wrong mac1 under "
                                    "load", bytes(bad))], args.quiet_time)
            return
        info("handshake %d answered without a cookie" % (i + 1))
    raise Mismatch("%d handshakes in a row and no cookie reply" % args.tries)


def cmd_shutdown(args):
    """Rule 8: an admitted client is told when vpnd shuts down: a
    DISCONNECT (the caller stops vpnd once we print that we wait)."""
    peer = connect(args)
    rid, c, _ = resume(peer)
    expect(result_status(c) == "OK", "RESUME: %s" % result_status(c))
    ok("RESUME OK; waiting for DISCONNECT")
    r = peer.wait_for(lambda k, v: k == "ctl" and
                      v[0].type == CTL_DISCONNECT, args.wait)
    expect(r is not None, "no DISCONNECT within %.0f s of waiting"
           % args.wait)
    c = r[1][0]
    reason = c.get(A_REASON)
    expect(c.get(A_LOGOUT) is None, "server DISCONNECT carries LOGOUT "
           "(client only)")
    ok("DISCONNECT from vpnd, REASON %r" % (reason.decode("utf-8", "replace")
                                           if reason is not None else None))


def cmd_wrongpsk(args):
    """With a pre-shared key Q other than the server's, the response must
    not decrypt (the psk token of 4.2 takes part)."""
    psk = bytes(32) if args.psk_file else b"\x01" * 32
    peer = Peer(args.server, b64key(args.server_pub), dh_generate()[0], psk)
    try:
        peer.handshake()
    except Mismatch as e:
        expect("does not decrypt" in str(e), str(e))
        ok("handshake with another Q: the response does not decrypt")
        return
    raise Mismatch("a handshake with a wrong pre-shared key succeeded")


# ---- The server side (responder) ------------------------------------------
#
# What follows plays vpnd's part towards vpnc, TUN-less: it answers the
# handshake and the login layer itself, and answers ICMP echo requests to
# the addresses it stands for (its tunnel addresses, the office host) by
# building the echo reply. Every datagram vpnc sends is held against the
# specification; a deviation raises Mismatch.

def tai64n_parse(ts):
    hi, ns = struct.unpack(">QI", ts)
    return hi - (1 << 62), ns


class Event:
    """One thing vpnc did: kind is initiation, response, keepalive, ip,
    echo (an echo request we answered) or ctl."""

    def __init__(self, kind, **kw):
        self.kind, self.t = kind, time.monotonic()
        self.kp = self.counter = self.c = self.p = self.pkt = None
        self.__dict__.update(kw)

    def __repr__(self):
        what = self.c.name() if self.c is not None else ""
        return "<%s %s at %.3f>" % (self.kind, what, self.t)


SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)


class Server(Sender):
    """One UDP socket, one expected client static key, the keypairs of
    every handshake with it, and the answers already given (rule 2)."""

    def __init__(self, args):
        with open(args.key) as f:
            self.s_priv = b64key(f.read())
        self.s_pub = pubkey(self.s_priv)
        self.psk = load_psk(args)
        self.client_pub = b64key(args.client_pub)
        host, port = args.listen.rsplit(":", 1)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, int(port)))
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.socks = [self.sock]
        self.rx_sock = self.sock
        self.sync_dir = args.sync_dir
        self.endpoint = None
        self.keypairs = {}
        self.kp = None
        self.last_ts = b""
        self.our_ts = b""
        self.mtu = DEFAULT_MTU
        self.answer_addrs = set()
        self.answers = {}
        self.initiating = {}
        self.decoys = set()
        self.respond = lambda pkt, src: True
        self.cookie_secret = os.urandom(32)
        self.cookie_src = None
        self.history = []
        self.last_sent = {}
        self.decoy_kps = {}
        self.bogus_responses = False
        print("listening on %s" % args.listen, flush=True)

    # -- sending

    def send_raw(self, msg, sock=None):
        (sock or self.sock).sendto(msg, self.endpoint)

    def add_port(self, port):
        """Another socket, on `port` of the same address: a server whose
        source moves (vpnc roams with it, section 5)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((self.sock.getsockname()[0], port))
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.socks.append(sock)
        return sock

    def drop_port(self, sock):
        self.socks.remove(sock)
        sock.close()

    def seal(self, p, kp=None, counter=None):
        """A transport message of p on kp (default: the current keypair),
        padded to 16 (section 5), with the next counter or `counter`
        (which does not advance ours)."""
        kp = kp or self.kp
        padded = min((len(p) + 15) & ~15, max(self.mtu, len(p)))
        p = p + bytes(padded - len(p))
        n = counter
        if n is None:
            n = kp.send_counter
            kp.send_counter += 1
        return struct.pack("<IIQ", MSG_DATA, kp.remote_index, n) + \
            aead_seal(kp.send_key, n, p, b"")

    def send_plain(self, p, kp=None, sock=None):
        msg = self.seal(p, kp)
        self.send_raw(msg, sock)
        self.last_data = msg
        return msg

    def send_ctl(self, ctl_type, attrs, cache_rid=None, tail=b""):
        """Sends a control message (then `tail`, before the padding); an
        answer is kept so that a retransmission of its request gets it
        again, byte for byte."""
        msg = ctl_encode(ctl_type, attrs) + tail
        if cache_rid is not None:
            self.answers[cache_rid] = msg
        self.last_sent[ctl_type] = self.send_plain(msg)

    # -- receiving

    def recv_raw(self, deadline):
        """(datagram, source), or (None, None) once deadline passes. Sets
        self.rx_t to when the kernel received it, on the monotonic clock:
        a busy machine may run us late, and the timing checks are about
        vpnc."""
        left = deadline - time.monotonic()
        if left <= 0:
            return None, None
        ready = select.select(self.socks, [], [], left)[0]
        if not ready:
            return None, None
        self.rx_sock = ready[0]
        pkt, anc, _, src = self.rx_sock.recvmsg(65535, 64)
        self.rx_t = time.monotonic()
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                sec, nsec = struct.unpack("qq", data[:16])
                self.rx_t -= time.time() - (sec + nsec / 1e9)
        return pkt, src

    def pump(self, deadline):
        """The next event, or None once deadline (monotonic) passes."""
        while True:
            pkt, src = self.recv_raw(deadline)
            if pkt is None:
                return None
            expect(len(pkt) >= 4, "vpnc sent a %d-byte datagram: %s"
                   % (len(pkt), pkt.hex()))
            word = struct.unpack_from("<I", pkt)[0]
            if word == MSG_INITIATION:
                ev = self.on_initiation(pkt, src)
            elif word == MSG_RESPONSE:
                ev = self.on_response(pkt, src)
            elif word == MSG_DATA:
                ev = self.on_data(pkt, src)
            else:
                raise Mismatch("vpnc sent a datagram whose first word is "
                               "0x%08x (%d bytes)" % (word, len(pkt)))
            if ev is not None:
                ev.t = self.rx_t
                ev.port = self.rx_sock.getsockname()[1]
                self.history.append(ev)
                return ev

    def wait(self, pred, timeout, what):
        """The first event with pred true (others are dropped after their
        checks); Mismatch naming `what` on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            ev = self.pump(deadline)
            if ev is None:
                raise Mismatch("no %s from vpnc within %.1f s"
                               % (what, timeout))
            if pred(ev):
                return ev

    def collect(self, seconds):
        out, deadline = [], time.monotonic() + seconds
        while True:
            ev = self.pump(deadline)
            if ev is None:
                return out
            out.append(ev)

    def sync(self, name, timeout=60.0):
        """Tells the test script we reached `name`, and serves (echo
        answers, handshakes) until it creates sync-NAME in the sync
        directory. Returns what happened meanwhile."""
        flag = os.path.join(self.sync_dir, "sync-" + name)
        print("sync: %s" % name, flush=True)
        out, deadline = [], time.monotonic() + timeout
        while not os.path.exists(flag):
            expect(time.monotonic() < deadline, "the test script did not "
                   "get past sync point %s within %.0f s" % (name, timeout))
            ev = self.pump(min(deadline, time.monotonic() + 0.1))
            if ev is not None:
                out.append(ev)
        return out

    # -- handshakes (4.1, 4.2, 4.4, 4.5)

    def cookie_for(self, src):
        """4.5: MAC(Rm, source IPv4 bytes || source port, network order)."""
        ip = ipaddress.ip_address(src[0])
        return mac16(self.cookie_secret, ip.packed + struct.pack("!H",
                                                                   src[1]))

    def cookie_reply(self, pkt, src, key=None, index=None, ad=None):
        """A type 3 answer to the initiation pkt; key, index and ad may be
        replaced to build bogus ones."""
        nonce = os.urandom(24)
        if index is None:
            index = struct.unpack_from("<I", pkt, 4)[0]
        enc = nb.crypto_aead_xchacha20poly1305_ietf_encrypt(
            self.cookie_for(src), ad if ad is not None else pkt[116:132],
            nonce, key or cookie_key(self.s_pub))
        msg = struct.pack("<II", MSG_COOKIE, index) + nonce + enc
        assert len(msg) == LEN_COOKIE
        self.sock.sendto(msg, src)

    def on_initiation(self, pkt, src):
        expect(len(pkt) == LEN_INITIATION, "initiation of %d bytes, not "
               "148: %s" % (len(pkt), pkt.hex()))
        expect(pkt[116:132] == mac16(mac1_key(self.s_pub), pkt[:116]),
               "initiation mac1 is not MAC(HASH32(LABEL_MAC1 || Spub_r), "
               "msg[0:116]) for our key: %s" % pkt.hex())
        mac2 = pkt[132:148]
        ev = Event("initiation", pkt=pkt, src=src, mac2=mac2,
                   index=struct.unpack_from("<I", pkt, 4)[0],
                   answered=False)
        if self.cookie_src is None:
            expect(mac2 == bytes(16), "initiation carries mac2 %s though "
                   "we never sent a cookie" % mac2.hex())
        if not self.respond(pkt, src):
            return ev
        rsp = Responder(self.s_priv, IDENTIFIER, self.psk)
        r = rsp.read_first(pkt[8:40], pkt[40:88], pkt[88:116])
        expect(r is not None, "initiation does not decrypt for our key "
               "(static or timestamp AEAD fails): %s" % pkt.hex())
        s_i, ts = r
        expect(s_i == self.client_pub, "initiation's static key is %s, "
               "vpnc's key file says %s" % (base64.b64encode(s_i).decode(),
                                           base64.b64encode(
                                               self.client_pub).decode()))
        secs, ns = tai64n_parse(ts)
        expect(ns < 10**9 and ns % (1 << 24) == 0, "TAI64N nanoseconds %d "
               "not below 10^9 and rounded down to 2^24" % ns)
        expect(abs(secs + ns / 1e9 - time.time()) < 3.0, "TAI64N is %.3f s "
               "away from our clock" % (secs + ns / 1e9 - time.time()))
        info("initiation's TAI64N is %.0f ms before it arrived (rounded "
             "down to 2^24 ns)" % ((time.time() - (time.monotonic() -
                                                   self.rx_t)
                                    - secs - ns / 1e9) * 1000))
        if ts <= self.last_ts:
            info("initiation with timestamp %s not above %s: dropped"
                 % (ts.hex(), self.last_ts.hex()))
            ev.kind = "stale-initiation"
            return ev
        self.last_ts = ts
        if self.bogus_responses:
            self.bogus_responses = False
            self.send_bogus_responses(pkt, src, ev.index)
        index = struct.unpack("<I", os.urandom(4))[0]
        e, empty = rsp.write_second(b"")
        msg = struct.pack("<III", MSG_RESPONSE, index, ev.index) + e + empty
        msg += mac16(mac1_key(s_i), msg) + bytes(16)
        self.rx_sock.sendto(msg, src)
        self.last_response = msg
        ev.kp = Keypair(index, ev.index, *rsp.split())
        ev.kp.born = self.rx_t
        ev.kp.confirmed = False
        ev.answered = True
        self.keypairs[index] = ev.kp
        self.endpoint = src
        return ev

    def send_bogus_responses(self, pkt, src, ii):
        """Responses vpnc must drop (4.2, 4.4), each a complete one of its
        own: taking one would leave vpnc on keys that are not the real
        response's, which on_data tells apart."""
        for what in ("a wrong mac1", "another receiver_index",
                     "a corrupt 'empty'"):
            rsp = Responder(self.s_priv, IDENTIFIER, self.psk)
            rsp.read_first(pkt[8:40], pkt[40:88], pkt[88:116])
            index = struct.unpack("<I", os.urandom(4))[0]
            e, empty = rsp.write_second(b"")
            if what == "a corrupt 'empty'":
                empty = empty[:-1] + bytes([empty[-1] ^ 1])
            rx = ii ^ 1 if what == "another receiver_index" else ii
            msg = struct.pack("<III", MSG_RESPONSE, index, rx) + e + empty
            mac1 = mac16(mac1_key(self.client_pub), msg)
            if what == "a wrong mac1":
                mac1 = bytes([mac1[0] ^ 1]) + mac1[1:]
            self.rx_sock.sendto(msg + mac1 + bytes(16), src)
            self.decoy_kps[index] = what
            ok("before the real response: one with %s" % what)

    def initiate(self, s_priv=None, mangle=None):
        """Section 7: the server initiates towards vpnc's latest endpoint.
        With another s_priv the initiation is a decoy that must stay
        unanswered. Returns (our index, datagram)."""
        decoy = s_priv is not None
        ini = Initiator(s_priv or self.s_priv, self.client_pub, IDENTIFIER,
                        self.psk)
        index = struct.unpack("<I", os.urandom(4))[0]
        ts = tai64n(time.time_ns()) if decoy else self.next_timestamp()
        msg = initiation_build(ini, index, ts, None)
        if mangle:
            msg = mangle(msg)
        if decoy or mangle:
            self.decoys.add(index)
        else:
            self.initiating[index] = ini
        self.send_raw(msg)
        return index, msg

    def on_response(self, pkt, src):
        expect(len(pkt) == LEN_RESPONSE, "response of %d bytes: %s"
               % (len(pkt), pkt.hex()))
        sender, receiver = struct.unpack_from("<II", pkt, 4)
        expect(receiver not in self.decoys, "vpnc answered an initiation "
               "it must not (another static key, or a bad mac1)")
        ini = self.initiating.pop(receiver, None)
        expect(ini is not None, "response to receiver_index %08x, which is "
               "no initiation of ours" % receiver)
        expect(pkt[60:76] == mac16(mac1_key(self.s_pub), pkt[:60]),
               "response mac1 is not MAC(HASH32(LABEL_MAC1 || Spub_i), "
               "msg[0:60]): %s" % pkt.hex())
        expect(pkt[76:92] == bytes(16), "response mac2 not zero though we "
               "sent vpnc no cookie")
        plain = ini.read_second(pkt[12:44], pkt[44:60])
        expect(plain == b"", "response 'empty' does not decrypt per 4.2: "
               "%s" % pkt.hex())
        kp = Keypair(receiver, sender, *ini.split())
        kp.confirmed = True
        kp.born = self.rx_t
        self.keypairs[receiver] = kp
        self.endpoint = src
        return Event("response", kp=kp, src=src)

    # -- transport data (5) and control messages (6)

    def on_data(self, pkt, src):
        expect(len(pkt) >= LEN_DATA_MIN, "data message of %d bytes"
               % len(pkt))
        rx_index, n = struct.unpack_from("<IQ", pkt, 4)
        expect(rx_index not in self.decoy_kps, "vpnc took the handshake "
               "response with %s: its data uses that response's index"
               % self.decoy_kps.get(rx_index))
        kp = self.keypairs.get(rx_index)
        expect(kp is not None, "data to receiver_index %08x, no keypair "
               "of ours" % rx_index)
        p = aead_open(kp.recv_key, n, pkt[16:], b"")
        expect(p is not None, "data (counter %d) does not authenticate with"
               " the keypair's receive key" % n)
        expect(n not in kp.seen, "counter %d repeated" % n)
        kp.seen.add(n)
        if not kp.confirmed:
            # 4.3: the initiator's first transport message confirms.
            kp.confirmed = True
            self.kp = kp
            ok("keys confirmed by vpnc's first transport message (counter "
               "%d, %d bytes of plaintext)" % (n, len(p)))
        self.endpoint = src
        kind, v = plain_classify(p, self.mtu, "vpnc")
        if kind == "keepalive":
            return Event("keepalive", kp=kp, counter=n)
        if kind == "ctl":
            c, p = v
            expect(c.type in (CTL_AUTH_REQUEST, CTL_RESUME, CTL_DISCONNECT),
                   "vpnc sent %s, which only a server may send (rule 9)"
                   % c.name())
            ev = Event("ctl", kp=kp, counter=n, c=c, p=p[:c.end])
            rid = c.get(A_REQUEST_ID)
            rid = rid and struct.unpack("<I", rid)[0]
            if rid in self.answers:
                self.send_plain(self.answers[rid])
            return ev
        dst = ipaddress.ip_address(v[16:20] if v[0] >> 4 == 4 else v[24:40])
        if dst.is_multicast:
            # The kernel's own (MLD reports and the like): not vpnc's.
            return Event("mcast", kp=kp, counter=n, pkt=v)
        req = echo_parse(v, request=True)
        if req is not None and req[1] in self.answer_addrs:
            src_a, dst_a, ident, seq, payload = req
            build = icmp4_echo if dst_a.version == 4 else icmp6_echo
            self.send_plain(build(dst_a, src_a, ident, seq, payload,
                                  icmp_type=0 if dst_a.version == 4
                                  else 129))
            return Event("echo", kp=kp, counter=n, pkt=v, dst=dst_a)
        return Event("ip", kp=kp, counter=n, pkt=v)


def is_ctl(*types):
    return lambda ev: ev.kind == "ctl" and ev.c.type in types


def tlv_walk(p):
    """The raw (type, value) list of a control message, in order."""
    body_len = struct.unpack_from("<H", p, 2)[0]
    out, off = [], 4
    while off < 4 + body_len:
        out.append((p[off], p[off + 2:off + 2 + p[off + 1]]))
        off += 2 + p[off + 1]
    return out


def check_request(ev, args, want_type):
    """Section 6 for a RESUME, AUTH_REQUEST or DISCONNECT from vpnc: the
    exact TLV encoding and the values the person gave. Returns the
    REQUEST_ID (None for a DISCONNECT)."""
    c, p = ev.c, ev.p
    expect(c.type == want_type, "vpnc sent %s, expected %s"
           % (c.name(), CTL_NAMES[want_type]))
    expect(p[1] == 0, "reserved byte %d" % p[1])
    attrs = tlv_walk(p)
    body_len = struct.unpack_from("<H", p, 2)[0]
    expect(body_len == sum(2 + len(v) for _, v in attrs), "body_len %d does "
           "not end on an attribute" % body_len)
    types = [t for t, _ in attrs]
    allowed = {CTL_RESUME: (A_REQUEST_ID, A_USERNAME),
               CTL_AUTH_REQUEST: (A_REQUEST_ID, A_USERNAME, A_PASSWORD,
                                  A_TOTP, A_CLIENT_INFO),
               CTL_DISCONNECT: (A_REASON, A_LOGOUT)}[want_type]
    expect(all(t in allowed for t in types), "%s carries attributes %s; "
           "allowed are %s" % (c.name(), ["0x%02x" % t for t in types],
                               ["0x%02x" % t for t in allowed]))
    expect(len(set(types)) == len(types), "an attribute twice: %s" % types)
    rid = c.get(A_REQUEST_ID)
    rid = rid and struct.unpack("<I", rid)[0]
    user = c.get(A_USERNAME)
    if want_type == CTL_AUTH_REQUEST or user is not None:
        expect(user == args.user.encode(), "USERNAME %r, configured %r"
               % (user, args.user))
    if want_type == CTL_AUTH_REQUEST:
        expect(c.get(A_PASSWORD) == args.password.encode(),
               "PASSWORD is not what was typed")
        totp = c.get(A_TOTP)
        expect(totp == args.totp.replace(" ", "").encode(), "TOTP %r, typed "
               "%r (rule 7: spaces removed)" % (totp, args.totp))
        expect(re.fullmatch(rb"[0-9]{6,8}", totp) is not None,
               "TOTP %r is not 6-8 ASCII digits" % totp)
    ok("%s: reserved 0, body_len %d exact, attributes %s each once with "
       "their lengths, padded to %d bytes%s%s"
       % (c.name(), body_len, "+".join(ATTRS[t][0] for t in types),
          (len(p) + 15) & ~15,
          "" if rid is None else "; REQUEST_ID %08x" % rid,
          (", USERNAME %s" % args.user) if user else ""))
    return rid


def push_attrs(args, rid, addr4=None):
    """An OK AUTH_RESULT with the configuration given on our command
    line (rule 6)."""
    a4 = ipaddress.ip_interface(addr4 or args.addr4)
    a6 = ipaddress.ip_interface(args.addr6)
    attrs = [rid_attr(rid), (A_STATUS, b"\0"),
             (A_ADDRESS4, a4.ip.packed + bytes([a4.network.prefixlen])),
             (A_ADDRESS6, a6.ip.packed + bytes([a6.network.prefixlen])),
             (A_GATEWAY4, ipaddress.IPv4Address(args.gw4).packed),
             (A_GATEWAY6, ipaddress.IPv6Address(args.gw6).packed),
             (A_MTU, struct.pack("<H", args.mtu)),
             (A_KEEPALIVE, struct.pack("<H", args.keepalive)),
             (A_SESSION_EXPIRES, struct.pack("<I", args.expires))]
    for r in args.route or []:
        n = ipaddress.ip_network(r)
        attrs.append((A_ROUTE4 if n.version == 4 else A_ROUTE6,
                      n.network_address.packed + bytes([n.prefixlen])))
    for d in args.dns or []:
        a = ipaddress.ip_address(d)
        attrs.append((A_DNS4 if a.version == 4 else A_DNS6, a.packed))
    for s in args.search or []:
        attrs.append((A_DNS_SEARCH, s.encode()))
    attrs.append((A_MESSAGE, b"welcome, says pyvpn"))
    return attrs


def serve_handshake(srv, what="handshake", ev=None):
    """4.1-4.3 with vpnc as initiator (ev: its initiation, if already
    received); returns vpnc's first transport message, which must come at
    once on the new keypair (4.3), with .hs set to the initiation."""
    if ev is None:
        ev = srv.wait(lambda e: e.kind == "initiation" and e.answered,
                      30.0, "valid initiation")
    ok("%s: vpnc's initiation verified (148 bytes, reserved 0, mac1 for "
       "our key, mac2 %s, static = its key file, TAI64N within 3 s and "
       "rounded to 2^24 ns); response sent"
       % (what, "zero" if srv.cookie_src is None else "valid"))
    first = srv.wait(lambda e: e.kind not in ("initiation",
                                              "stale-initiation"), 2.0,
                     "transport message after our response")
    expect(first.kp is ev.kp and first.counter == 0, "vpnc's first message"
           " after the handshake is not counter 0 on the new keypair")
    ok("vpnc's first transport message, %.3f s after the response: %s, "
       "counter 0 on the new keypair" % (first.t - ev.t, first.kind))
    first.hs = ev
    return first


def first_ctl(srv, first):
    """vpnc's first control message of a session: first itself, or the
    one after it (a keepalive may confirm the keys before)."""
    if first.kind == "ctl":
        return first
    return srv.wait(lambda e: e.kind == "ctl", 3.0, "RESUME or "
                    "AUTH_REQUEST after the handshake")


def serve_login(srv, args, first, drop_first=False, decoys=False,
                answer=True, odd=False):
    """Section 6 from the server's side: RESUME is answered AUTH_REQUIRED,
    then the AUTH_REQUEST is checked. With odd, the answers take the
    liberties section 6 allows: bytes after body_len that are not zero, an
    unknown attribute, another order. Returns (its event, REQUEST_ID)."""
    ev = first_ctl(srv, first)
    if ev.c.type == CTL_RESUME:
        rid = check_request(ev, args, CTL_RESUME)
        tail = b"\xa5\x5a\xff" if odd else b""
        srv.send_ctl(CTL_AUTH_REQUIRED, [rid_attr(rid),
                                         (A_MESSAGE, b"log in, please")],
                     cache_rid=rid, tail=tail)
        ok("answered AUTH_REQUIRED echoing REQUEST_ID %08x%s" % (
            rid, ", bytes a5 5a ff after body_len" if odd else ""))
        ev = srv.wait(is_ctl(CTL_AUTH_REQUEST), 5.0, "AUTH_REQUEST")
    rid = check_request(ev, args, CTL_AUTH_REQUEST)
    if drop_first:
        again = srv.wait(is_ctl(CTL_AUTH_REQUEST), 3.0,
                         "retransmitted AUTH_REQUEST")
        dt = again.t - ev.t
        expect(again.p == ev.p, "the retransmission differs:\n  %s\n  %s"
               % (ev.p.hex(), again.p.hex()))
        expect(0.7 <= dt <= 2.0, "retransmitted after %.2f s, not about a "
               "second" % dt)
        ok("first AUTH_REQUEST dropped: vpnc sent it again %.2f s later, "
           "same REQUEST_ID, byte for byte" % dt)
    if decoys:
        send_decoy_results(srv, args, rid)
    if answer:
        attrs = push_attrs(args, rid)
        if odd:
            attrs = [(0x7E, b"a later revision's")] + attrs[::-1]
        srv.send_ctl(CTL_AUTH_RESULT, attrs, cache_rid=rid)
        srv.mtu = args.mtu
        ok("answered AUTH_RESULT OK%s: %s, %s, MTU %d, KEEPALIVE %d, "
           "SESSION_EXPIRES %d, routes %s, DNS %s, search %s"
           % (" (unknown attribute 0x7e first, the rest in reverse order)"
              if odd else "", args.addr4, args.addr6, args.mtu,
              args.keepalive, args.expires, args.route, args.dns,
              args.search))
    return ev, rid


def send_decoy_results(srv, args, rid):
    """Scenario 8 during the login: answers vpnc must drop, each with
    another address that would show on its device if it took one."""
    decoy = "10.99.0.66/24"
    good = push_attrs(args, rid, decoy)
    cases = [
        ("AUTH_RESULT OK with a wrong REQUEST_ID",
         ctl_encode(CTL_AUTH_RESULT, [rid_attr(rid ^ 1)] + good[1:])),
        ("AUTH_RESULT OK with reserved byte 1",
         ctl_encode(CTL_AUTH_RESULT, good, reserved=1)),
        ("AUTH_RESULT OK with ADDRESS4 twice",
         ctl_encode(CTL_AUTH_RESULT, good + [good[2]])),
        ("AUTH_RESULT OK whose last attribute overruns body_len",
         ctl_encode(CTL_AUTH_RESULT, good,
                    body_len=sum(2 + len(v) for _, v in good) - 1)),
        ("AUTH_RESULT OK with a 3-byte MTU",
         ctl_encode(CTL_AUTH_RESULT, [a for a in good if a[0] != A_MTU] +
                    [(A_MTU, b"\x64\x05\x00")])),
        ("AUTH_RESULT without STATUS",
         ctl_encode(CTL_AUTH_RESULT, [a for a in good if a[0] != A_STATUS])),
        ("AUTH_RESULT AUTH_FAILED with a wrong REQUEST_ID",
         ctl_encode(CTL_AUTH_RESULT, [rid_attr(rid + 1), (A_STATUS, b"\1")])),
    ]
    for what, msg in cases:
        srv.send_plain(msg)
        ok("sent %s (address %s)" % (what, decoy))


def cmd_server(args):
    srv = Server(args)
    srv.answer_addrs = {ipaddress.ip_address(a) for a in
                        [args.gw4, args.gw6] + (args.answer or [])}

    def too_long(signo, frame):
        raise Mismatch("scenario still running after %.0f s" % args.wait)
    signal.signal(signal.SIGALRM, too_long)
    signal.alarm(int(args.wait))
    {"main": server_main, "giveup": server_giveup,
     "status": server_status, "cookie": server_cookie,
     "required": server_required, "logout": server_logout,
     "timers": server_timers, "hostile": server_hostile}[args.scenario](
        srv, args)


def wait_bye(srv):
    """Waits for vpnc's DISCONNECT when the test script stops it: a client
    DISCONNECT, REASON optional, without LOGOUT."""
    print("sync: bye", flush=True)
    ev = srv.wait(is_ctl(CTL_DISCONNECT), 30.0, "DISCONNECT")
    check_request(ev, None, CTL_DISCONNECT)
    expect(ev.c.get(A_LOGOUT) is None, "DISCONNECT with LOGOUT on a plain "
           "stop")
    reason = ev.c.get(A_REASON)
    ok("vpnc's DISCONNECT on SIGTERM: REASON %r, no LOGOUT"
       % (reason.decode() if reason is not None else None))


def ping_client(srv, args, seq, kp=None, sock=None, v6=False, counter=None,
                timeout=3.0):
    """An echo request from our tunnel address to vpnc's, through its
    device (on keypair kp, from socket sock, with counter if given);
    returns the reply event, which must come within timeout (None: none
    may come)."""
    src = ipaddress.ip_address(args.gw6 if v6 else args.gw4)
    dst = ipaddress.ip_interface(args.addr6 if v6 else args.addr4).ip
    build = icmp6_echo if v6 else icmp4_echo
    payload = b"pyvpn-server-ping-%02d" % (seq % 100)
    pkt = build(src, dst, 0x7E57, seq, payload)
    if counter is None:
        srv.send_plain(pkt, kp=kp, sock=sock)
    else:
        srv.send_raw(srv.seal(pkt, kp, counter=counter), sock)

    def reply(ev):
        r = echo_parse(ev.pkt) if ev.kind == "ip" else None
        return r is not None and r == (dst, src, 0x7E57, seq, payload)
    if timeout is None:
        evs = srv.collect(1.0)
        expect(not any(reply(e) for e in evs), "echo request (seq %d) "
               "answered" % seq)
        return None
    return srv.wait(reply, timeout, "echo reply from %s (seq %d)"
                    % (dst, seq))


QUIET = ("keepalive", "mcast")


def check_keepalives(srv, args):
    """Persistent keepalives every KEEPALIVE seconds (section 7): while we
    send nothing, vpnc is never silent for longer."""
    k = args.keepalive
    t0 = time.monotonic()
    evs = srv.collect(2 * k + 1.0)
    other = [e for e in evs if e.kind not in QUIET]
    expect(not other, "vpnc sent %s while idle" % other)
    keep = [e for e in evs if e.kind == "keepalive"]
    times = [t0] + [e.t for e in evs] + [time.monotonic()]
    gaps = [b - a for a, b in zip(times, times[1:])]
    expect(len(keep) >= 2 and max(gaps) <= k + 1.0, "%d keepalive(s) at "
           "%s s in %.0f s of silence, KEEPALIVE is %d s"
           % (len(keep), ["%.2f" % (e.t - t0) for e in keep], 2 * k + 1.0,
              k))
    ok("idle for %.0f s: %d persistent keepalives (at %s s), never silent "
       "for more than %.2f s (KEEPALIVE %d)"
       % (2 * k + 1.0, len(keep), "/".join("%.2f" % (e.t - t0)
                                            for e in keep), max(gaps), k))


def server_malformed(srv, args):
    """Scenario 8 on the admitted session: malformed, misdirected, stale,
    replayed and forged messages, all to be dropped without effect."""
    kp = srv.kp
    a4 = ipaddress.ip_interface(args.addr4).ip
    gw4 = ipaddress.ip_address(args.gw4)
    a6 = ipaddress.ip_interface(args.addr6).ip
    gw6 = ipaddress.ip_address(args.gw6)
    rid = srv.login_rid
    decoy = push_attrs(args, rid ^ 0x5A5A, "10.99.0.66/24")
    req = [(A_RETRY_AFTER, struct.pack("<I", 1)), (A_MESSAGE, b"again")]
    bye = [(A_REASON, b"forged goodbye")]
    big4 = bytearray(icmp4_echo(gw4, a4, 1, 1, b"x" * 16))
    big4[2:4] = struct.pack("!H", 200)
    big6 = bytearray(icmp6_echo(gw6, a6, 1, 1, b"y" * 16))
    big6[4:6] = struct.pack("!H", 300)
    plains = [
        ("AUTH_REQUIRED with reserved byte 1",
         ctl_encode(CTL_AUTH_REQUIRED, req, reserved=1)),
        ("AUTH_REQUIRED whose body_len passes the decrypted length",
         ctl_encode(CTL_AUTH_REQUIRED, req, body_len=200)),
        ("AUTH_REQUIRED whose MESSAGE overruns body_len",
         ctl_encode(CTL_AUTH_REQUIRED, req, body_len=12)),
        ("AUTH_REQUIRED with a cut attribute header",
         ctl_encode(CTL_AUTH_REQUIRED, [], body_len=1) + b"\x11"),
        ("AUTH_REQUIRED with a 3-byte RETRY_AFTER",
         ctl_encode(CTL_AUTH_REQUIRED, [(A_RETRY_AFTER, b"\1\0\0")])),
        ("AUTH_REQUIRED with MESSAGE twice",
         ctl_encode(CTL_AUTH_REQUIRED, req + req[1:])),
        ("DISCONNECT with reserved byte 1",
         ctl_encode(CTL_DISCONNECT, bye, reserved=1)),
        ("DISCONNECT whose REASON overruns body_len",
         ctl_encode(CTL_DISCONNECT, bye, body_len=5)),
        ("DISCONNECT with REASON twice", ctl_encode(CTL_DISCONNECT,
                                                     bye + bye)),
        ("DISCONNECT with a 1-byte LOGOUT",
         ctl_encode(CTL_DISCONNECT, bye + [(A_LOGOUT, b"\1")])),
        ("AUTH_REQUEST (only a client sends it)",
         ctl_encode(CTL_AUTH_REQUEST, [
             rid_attr(rid), (A_USERNAME, args.user.encode()),
             (A_PASSWORD, b"x"), (A_TOTP, b"123456")])),
        ("RESUME (only a client sends it)",
         ctl_encode(CTL_RESUME, [rid_attr(rid)])),
        ("AUTH_RESULT OK to no request of vpnc's (another address)",
         ctl_encode(CTL_AUTH_RESULT, decoy)),
        ("AUTH_RESULT AUTH_FAILED echoing the answered login's REQUEST_ID",
         ctl_encode(CTL_AUTH_RESULT, [rid_attr(rid), (A_STATUS, b"\1")])),
        ("ctl_type 0x06 (a later revision's) with a REASON",
         ctl_encode(0x06, bye)),
        ("ctl_type 0x0f with a REASON", ctl_encode(0x0F, bye)),
        ("plaintext starting with 0x00", bytes(16)),
        ("plaintext starting with 0x10", b"\x10" + bytes(15)),
        ("plaintext starting with 0x44 (IPv4, IHL 4)",
         b"\x44" + icmp4_echo(gw4, a4, 1, 2, b"z" * 16)[1:]),
        ("plaintext starting with 0xff", b"\xff" * 16),
        ("IPv4 whose total length passes the decrypted length",
         bytes(big4)),
        ("IPv6 whose payload length passes the decrypted length",
         bytes(big6)),
    ]
    cases = []
    for what, p in plains:
        cases.append((what, srv.seal(p)))
    # Transport level: a well-formed DISCONNECT, but forged or stale.
    for what, mutate in (
            ("with reserved byte 1 set", lambda b: b.__setitem__(1, 1)),
            ("with a flipped tag bit", lambda b: b.__setitem__(
                -1, b[-1] ^ 1)),
            ("to another receiver_index", lambda b: b.__setitem__(
                4, b[4] ^ 1)),
            ("cut to 31 bytes", lambda b: b.__delitem__(slice(31, None)))):
        b = bytearray(srv.seal(ctl_encode(CTL_DISCONNECT, bye)))
        mutate(b)
        cases.append(("a DISCONNECT data message " + what, bytes(b)))
    reject = 2**64 - 2**13 - 1
    cases.append(("a DISCONNECT with counter REJECT_AFTER_MESSAGES",
                  srv.seal(ctl_encode(CTL_DISCONNECT, bye), counter=reject)))
    cases.append(("the login's AUTH_REQUIRED replayed",
                  srv.last_sent[CTL_AUTH_REQUIRED]))
    cases.append(("our handshake response replayed", srv.last_response))
    for t, full in ((1, LEN_INITIATION), (2, LEN_RESPONSE),
                    (3, LEN_COOKIE)):
        for length in (full - 1, full, full + 1):
            cases.append(("type %d, %d random bytes" % (t, length),
                          struct.pack("<I", t) + os.urandom(length - 4)))
    cases.append(("one byte", b"\x04"))
    for _, msg in cases:
        srv.send_raw(msg)
    evs = srv.collect(1.5)
    bad = [e for e in evs if e.kind not in QUIET]
    expect(not bad, "vpnc reacted to them: %s" % bad)
    for what, _ in cases:
        ok("%s: no effect" % what)
    ok("... %d messages, and vpnc sent nothing but keepalives in 1.5 s"
       % len(cases))
    ping_client(srv, args, 3)
    ping_client(srv, args, 3, v6=True)
    ok("then echo requests from %s and %s: answered, the session goes on"
       % (gw4, gw6))
    # The replay window (at least 2048 counters, RFC 6479).
    base = kp.send_counter
    ping_client(srv, args, 10, counter=base + 3000)
    ok("echo request with counter 3000 ahead: answered")
    ping_client(srv, args, 11, counter=base + 1000)
    ok("echo request with counter 2000 behind the highest: answered")
    ping_client(srv, args, 12, counter=base + 1000, timeout=None)
    ok("that counter again: dropped")
    kp.send_counter = base + 3001
    expect(srv.kp is kp, "keypair changed")


def server_rekey(srv, args):
    """Scenario 5: we initiate (section 7); vpnc answers only our key,
    only once, and keeps to the old keypair until we confirm."""
    old = srv.kp
    srv.initiate(s_priv=dh_generate()[0])
    srv.initiate(mangle=lambda m: m[:116] + bytes([m[116] ^ 1]) + m[117:])
    evs = srv.collect(1.0)
    expect(all(e.kind in QUIET for e in evs), "unexpected: %s" % evs)
    ok("initiation from another static key (mac1 valid for vpnc's key): "
       "no answer")
    ok("initiation from our key with a wrong mac1: no answer")
    t0 = time.monotonic()
    index, msg = srv.initiate()
    ev = srv.wait(lambda e: e.kind == "response", 5.0, "handshake response")
    new = ev.kp
    ok("vpnc answered our initiation in %.3f s: 92 bytes, receiver_index "
       "ours, mac1 for our key, mac2 zero, empty decrypts; keys split"
       % (ev.t - t0))
    srv.decoys.add(index)
    srv.send_raw(msg)
    evs = srv.collect(1.0)
    expect(all(e.kind in QUIET and e.kp is old for e in evs),
           "before our confirmation: %s (4.3: the responder waits)" % evs)
    ok("our initiation replayed: no answer; and vpnc sent nothing on the "
       "new keypair before our confirmation")
    srv.kp = new
    srv.send_plain(b"")
    r = ping_client(srv, args, 4)
    expect(r.kp is new, "echo reply on the old keypair after confirmation")
    ok("keepalive on the new keypair, then an echo request: reply on the "
       "new keypair")
    r = ping_client(srv, args, 5, kp=old)
    expect(r.kp is new, "echo reply not on the new keypair")
    ok("an echo request still on the previous keypair: accepted, reply on "
       "the new one")


def server_roaming(srv, args):
    """Section 5 from vpnc's side: the server's endpoint is the source of
    the latest authenticated message; a replayed or forged one from
    elsewhere does not move it."""
    main = srv.sock.getsockname()[1]
    other = srv.add_port(main + 1)
    forged = bytearray(srv.seal(b""))
    forged[-1] ^= 1
    srv.send_raw(srv.last_data, other)
    srv.send_raw(bytes(forged), other)
    ev = srv.wait(lambda e: True, args.keepalive + 1.5, "keepalive")
    expect(ev.port == main, "after a replayed and a forged message from "
           "port %d, vpnc sent to it: it moved on unauthenticated input"
           % (main + 1))
    ok("a replayed and a forged message from port %d: vpnc's next message "
       "(%s) still came to port %d" % (main + 1, ev.kind, main))
    r = ping_client(srv, args, 6, sock=other)
    expect(r.port == main + 1, "the echo reply came to port %d, not %d, "
           "where the request came from" % (r.port, main + 1))
    ok("an echo request from port %d: the reply came there (vpnc roamed)"
       % (main + 1))
    r = ping_client(srv, args, 7)
    expect(r.port == main, "back: the reply came to port %d" % r.port)
    ok("and back to port %d" % main)
    srv.drop_port(other)


def server_disconnect(srv, args):
    """Scenario 7: a server DISCONNECT; vpnc removes its device and, as
    its README says, reconnects by itself with RESUME."""
    reason = b"interop: kicked by the test server"
    t0 = time.monotonic()
    srv.send_ctl(CTL_DISCONNECT, [(A_REASON, reason)])
    ok("sent DISCONNECT, REASON %r" % reason.decode())
    first = serve_handshake(srv, "reconnection")
    ok("vpnc initiated again %.2f s after the DISCONNECT"
       % (first.hs.t - t0))
    ev = first_ctl(srv, first)
    rid = check_request(ev, args, CTL_RESUME)
    evs = srv.sync("down")
    again = [e for e in evs if e.kind == "ctl"]
    expect(all(e.p == ev.p for e in again), "RESUME retransmissions differ:"
           " %s" % [e.p.hex() for e in again])
    ok("RESUME kept while the script checked: %d retransmission(s), same "
       "bytes" % len(again))
    srv.send_ctl(CTL_AUTH_RESULT, push_attrs(args, rid), cache_rid=rid)
    ok("answered RESUME with AUTH_RESULT OK, same configuration")
    evs = srv.sync("back")
    dsts = {str(e.dst) for e in evs if e.kind == "echo"}
    expect(args.gw4 in dsts, "no echo request to %s after the "
           "reconnection" % args.gw4)
    ok("echo requests answered after the reconnection: %s" % sorted(dsts))


def server_main(srv, args):
    """Scenarios 1, 2, 3, 8, 5 and 7 on one run of vpnc."""
    srv.bogus_responses = True
    first = serve_handshake(srv)
    if first.kind == "ctl" and first.c.type == CTL_RESUME:
        info("vpnc sends RESUME first with a key it never used (it cannot "
             "tell; a server answers AUTH_REQUIRED)")
    _, srv.login_rid = serve_login(srv, args, first, drop_first=True,
                                   decoys=True, odd=True)
    evs = srv.sync("up")
    dsts = {str(e.dst) for e in evs if e.kind == "echo"}
    full = [e for e in evs if e.kind == "echo" and len(e.pkt) == args.mtu]
    expect(full, "no echo request of %d bytes (the MTU) came" % args.mtu)
    ok("an echo request of %d bytes, the MTU: plaintext not padded past "
       "it" % args.mtu)
    want = {args.gw4, args.gw6} | set(args.answer or [])
    expect(want <= dsts, "echo requests came for %s, expected %s"
           % (sorted(dsts), sorted(want)))
    ok("echo requests from vpnc's device answered: %s" % sorted(dsts))
    check_keepalives(srv, args)
    server_malformed(srv, args)
    evs = srv.sync("malformed")
    expect(any(e.kind == "echo" for e in evs), "no ping after the "
           "malformed messages")
    ok("pings after the malformed messages answered")
    server_rekey(srv, args)
    evs = srv.sync("rekeyed")
    echoes = [e for e in evs if e.kind == "echo"]
    expect(echoes and all(e.kp is srv.kp for e in echoes), "pings after "
           "the rekey: %s" % echoes)
    ok("%d echo requests after the rekey, all on the new keypair"
       % len(echoes))
    server_roaming(srv, args)
    server_disconnect(srv, args)
    wait_bye(srv)


def server_giveup(srv, args):
    """Scenario 2b: vpnc, whose key was used before, sends RESUME first;
    its AUTH_REQUEST is never answered: about ten copies a second apart,
    then it reports the failure and starts over."""
    first = first_ctl(srv, serve_handshake(srv))
    expect(first.c.type == CTL_RESUME, "vpnc, starting with a key it used "
           "before, sent %s first, not RESUME" % first.c.name())
    rid = check_request(first, args, CTL_RESUME)
    srv.send_ctl(CTL_AUTH_REQUIRED, [rid_attr(rid)], cache_rid=rid)
    ok("RESUME first; answered AUTH_REQUIRED")
    reqs = []
    deadline = time.monotonic() + 16.0
    while True:
        ev = srv.pump(deadline)
        expect(ev is not None, "no new handshake within 16 s; %d "
               "AUTH_REQUESTs" % len(reqs))
        if ev.kind == "initiation" and ev.answered:
            break
        if ev.kind == "ctl" and ev.c.type == CTL_AUTH_REQUEST:
            if not reqs:
                check_request(ev, args, CTL_AUTH_REQUEST)
            expect(not reqs or ev.p == reqs[0].p, "retransmission differs")
            reqs.append(ev)
    times = [e.t for e in reqs]
    gaps = [b - a for a, b in zip(times, times[1:])]
    span = times[-1] - times[0]
    expect(9 <= len(reqs) <= 11, "%d copies of the AUTH_REQUEST"
           % len(reqs))
    expect(all(0.7 <= g <= 2.0 for g in gaps), "gaps %s" % gaps)
    expect(8.0 <= span <= 10.5, "copies over %.2f s" % span)
    ok("%d copies of the AUTH_REQUEST, same bytes, %.2f-%.2f s apart, over "
       "%.2f s; then a new handshake %.2f s after the last"
       % (len(reqs), min(gaps), max(gaps), span, ev.t - times[-1]))
    first = first_ctl(srv, serve_handshake(srv, "new handshake", ev))
    rid = check_request(first, args, CTL_RESUME)
    srv.send_ctl(CTL_AUTH_REQUIRED, [rid_attr(rid)], cache_rid=rid)
    ok("RESUME again; answered AUTH_REQUIRED (vpnc has no input left)")
    evs = srv.collect(2.0)
    expect(not [e for e in evs if e.kind == "ctl" and e.c.type ==
                CTL_AUTH_REQUEST], "AUTH_REQUEST without input")


def server_status(srv, args):
    """Scenario 4: AUTH_RESULT with --status (and --retry-after): BUSY is
    retried after RETRY_AFTER with a new REQUEST_ID; anything else ends
    vpnc's attempts."""
    first = serve_handshake(srv)
    ev, rid = serve_login(srv, args, first, answer=False)
    attrs = [rid_attr(rid), (A_STATUS, bytes([args.status]))]
    if args.retry_after is not None:
        attrs.append((A_RETRY_AFTER, struct.pack("<I", args.retry_after)))
    attrs.append((A_MESSAGE, b"pyvpn says status %d" % args.status))
    t0 = time.monotonic()
    srv.send_ctl(CTL_AUTH_RESULT, attrs, cache_rid=rid)
    ok("answered AUTH_RESULT STATUS %d%s" % (
        args.status, "" if args.retry_after is None
        else ", RETRY_AFTER %d" % args.retry_after))
    if args.status != 3:
        evs = srv.collect(2.0)
        more = [e for e in evs if e.kind == "ctl" and e.c.type in
                (CTL_AUTH_REQUEST, CTL_RESUME) and
                struct.unpack("<I", e.c.get(A_REQUEST_ID))[0] != rid]
        expect(not more, "vpnc tried again: %s" % more)
        ok("no new request in 2 s")
        return
    wait_s = args.retry_after or 1
    ev2 = srv.wait(lambda e: is_ctl(CTL_AUTH_REQUEST)(e) and e.p != ev.p,
                   wait_s + 3.0, "AUTH_REQUEST after BUSY")
    dt = ev2.t - t0
    rid2 = check_request(ev2, args, CTL_AUTH_REQUEST)
    expect(rid2 != rid, "the request after BUSY reuses REQUEST_ID %08x: "
           "rule 2 would give it the cached BUSY again" % rid)
    expect(wait_s - 0.1 <= dt <= wait_s + 1.5, "sent again %.2f s after "
           "BUSY with RETRY_AFTER %d" % (dt, wait_s))
    ok("after BUSY: a new AUTH_REQUEST %.2f s later (RETRY_AFTER %d), new "
       "REQUEST_ID, same credentials" % (dt, wait_s))
    srv.send_ctl(CTL_AUTH_RESULT, push_attrs(args, rid2), cache_rid=rid2)
    srv.mtu = args.mtu
    ok("answered AUTH_RESULT OK")
    wait_bye(srv)


def server_required(srv, args):
    """Section 6: an AUTH_REQUIRED on an admitted session asks for a new
    login; vpnc without a terminal or input left must not send one."""
    first = serve_handshake(srv)
    serve_login(srv, args, first)
    srv.sync("up")
    srv.send_ctl(CTL_AUTH_REQUIRED, [(A_MESSAGE, b"log in again")])
    ok("sent AUTH_REQUIRED on the admitted session")
    evs = srv.collect(2.0)
    more = [e for e in evs if is_ctl(CTL_AUTH_REQUEST)(e)]
    expect(not more, "vpnc sent AUTH_REQUEST without input: %s" % more)
    ok("no AUTH_REQUEST in 2 s (vpnc has no input left)")


def server_logout(srv, args):
    """vpnc --logout (rule 8): a handshake, then DISCONNECT with LOGOUT,
    which nothing acknowledges; vpnc checks it took with a RESUME on a new
    session (the DISCONNECT ended the old one). The first check is
    answered OK, as if the DISCONNECT had been lost: vpnc sends it again
    and checks again; the second is answered AUTH_REQUIRED, the proof."""
    ev = first_ctl(srv, serve_handshake(srv))
    for n in (1, 2):
        check_request(ev, args, CTL_DISCONNECT)
        expect(ev.c.get(A_LOGOUT) == b"", "vpnc --logout sent DISCONNECT "
               "without LOGOUT")
        ok("DISCONNECT %d with an empty LOGOUT, REASON %r"
           % (n, ev.c.get(A_REASON).decode()))
        ev = first_ctl(srv, serve_handshake(srv, "logout check %d" % n))
        rid = check_request(ev, args, CTL_RESUME)
        if n == 2:
            break
        srv.send_ctl(CTL_AUTH_RESULT, push_attrs(args, rid), cache_rid=rid)
        ok("RESUME on a new session; answered OK, as if the DISCONNECT "
           "had been lost")
        ev = srv.wait(is_ctl(CTL_DISCONNECT), 3.0, "DISCONNECT again")
    srv.send_ctl(CTL_AUTH_REQUIRED, [rid_attr(rid)], cache_rid=rid)
    ok("RESUME on a new session again; answered AUTH_REQUIRED")


INJECT_IDENT = 0x1DEA


def server_hostile(srv, args):
    """A server that pushes what vpnc must not take (t-hostile-server.sh):
    the login as usual, answered with the configuration of our command
    line. With --expect-disconnect, vpnc must refuse that configuration
    and say goodbye with a DISCONNECT (no LOGOUT). Otherwise, at sync point
    "up" the script looks at vpnc's routes; then we send an echo request
    to vpnc's address from each --inject source, in order, through the
    tunnel, and at "injected" the script looks for them on vpnc's device;
    each echo reply that comes back through the tunnel is printed as
    "echo reply through the tunnel to SRC"."""
    first = serve_handshake(srv)
    serve_login(srv, args, first)
    if args.expect_disconnect:
        ev = srv.wait(is_ctl(CTL_DISCONNECT), 10.0, "DISCONNECT after a "
                      "configuration vpnc cannot use")
        check_request(ev, None, CTL_DISCONNECT)
        expect(ev.c.get(A_LOGOUT) is None, "DISCONNECT with LOGOUT")
        ok("vpnc refused the configuration and sent DISCONNECT (REASON "
           "%r)" % ev.c.get(A_REASON))
        return
    srv.sync("up")
    for seq, text in enumerate(args.inject or []):
        src = ipaddress.ip_address(text)
        dst = ipaddress.ip_interface(args.addr4 if src.version == 4
                                     else args.addr6).ip
        build = icmp4_echo if src.version == 4 else icmp6_echo
        srv.send_plain(build(src, dst, INJECT_IDENT, seq,
                             b"pyvpn-injected-%02d" % seq))
        ok("injected an echo request from %s to %s" % (src, dst))
    for ev in srv.sync("injected"):
        r = echo_parse(ev.pkt) if ev.kind == "ip" else None
        if r is not None and r[2] == INJECT_IDENT:
            print("echo reply through the tunnel to %s" % r[1], flush=True)
    wait_bye(srv)


def server_timers(srv, args):
    """Section 7 with vpnc's timers divided (--keepalive-timeout,
    --rekey-timeout, --rekey-after and --reject-after are vpnc's): data in
    and nothing to send gives a keepalive after KEEPALIVE_TIMEOUT; data
    out and nothing back a new handshake after KEEPALIVE_TIMEOUT +
    REKEY_TIMEOUT; the initiator of the current keypair starts a new
    handshake when it sends with a keypair older than REKEY_AFTER_TIME,
    and nobody sends with keys older than REJECT_AFTER_TIME (the test
    script pings meanwhile)."""
    first = serve_handshake(srv)
    serve_login(srv, args, first)
    # Quiet first: a keepalive timer still pending from the login would
    # not be re-armed by our packet, as in WireGuard.
    ka = args.keepalive_timeout
    for _ in range(10):
        if not srv.collect(ka + 0.3):
            break
    # The kernel drops an echo reply it did not ask for: data in, nothing
    # to send. Receiving also pushes the persistent keepalive KEEPALIVE
    # seconds away.
    t0 = time.monotonic()
    srv.send_plain(icmp4_echo(ipaddress.ip_address(args.gw4),
                              ipaddress.ip_interface(args.addr4).ip,
                              0x7E58, 1, b"unasked", icmp_type=0))
    ev = srv.wait(lambda e: True, 3.0, "keepalive")
    dt = ev.t - t0
    expect(ev.kind == "keepalive" and ka - 0.05 <= dt <= ka + 0.5, "after "
           "data in and nothing to send, vpnc sent %s %.2f s later "
           "(KEEPALIVE_TIMEOUT %.2f s)" % (ev.kind, dt, ka))
    ok("data in, nothing to send: a keepalive %.2f s later "
       "(KEEPALIVE_TIMEOUT %.2f s)" % (dt, ka))
    # vpnc answers our echo request, and we do not answer it: data out,
    # nothing back.
    r = ping_client(srv, args, 20)
    nh = ka + args.rekey_timeout
    ev = srv.wait(lambda e: e.kind == "initiation", nh + 3.0, "initiation")
    dt = ev.t - r.t
    expect(nh - 0.05 <= dt <= nh + 0.5, "data out and nothing back: a new "
           "handshake %.2f s later (KEEPALIVE_TIMEOUT + REKEY_TIMEOUT = "
           "%.2f s)" % (dt, nh))
    ok("data out, nothing back: a new handshake %.2f s later "
       "(KEEPALIVE_TIMEOUT + REKEY_TIMEOUT = %.2f s)" % (dt, nh))
    born = ev.kp.born
    evs = srv.sync("up")
    inits = [e for e in evs if e.kind == "initiation" and e.answered]
    expect(inits, "vpnc sent for %.1f s on its keypair and started no "
           "handshake (REKEY_AFTER_TIME %.2f s)"
           % (evs[-1].t - born if evs else 0, args.rekey_after))
    dt = inits[0].t - born
    expect(args.rekey_after - 0.05 <= dt <= args.rekey_after + 1.0,
           "vpnc started a new handshake %.2f s after the last, "
           "REKEY_AFTER_TIME is %.2f s" % (dt, args.rekey_after))
    ok("pinged through: vpnc, the initiator, started a new handshake %.2f s"
       " after the last (REKEY_AFTER_TIME %.2f s)" % (dt, args.rekey_after))
    data = [e for e in evs if e.kind in ("keepalive", "mcast", "ip", "echo",
                                         "ctl")]
    old = [e for e in data if e.t - e.kp.born > args.reject_after]
    expect(not old, "vpnc sent with keys older than REJECT_AFTER_TIME "
           "(%.2f s): %s" % (args.reject_after, old))
    new = [e for e in data if e.kp is inits[0].kp]
    echoes = [e for e in evs if e.kind == "echo"]
    expect(new, "no traffic on the new keypair")
    ok("%d echo requests answered; %d messages on the new keypair; none "
       "on keys older than REJECT_AFTER_TIME (%.2f s)"
       % (len(echoes), len(new), args.reject_after))
    wait_bye(srv)


def server_cookie(srv, args):
    """Scenario 6: under load we answer initiations with cookie replies;
    bogus ones are ignored, a valid one makes vpnc retry with mac2 =
    MAC(cookie, msg[0:132]), the cookie bound to its address and port."""
    def respond(pkt, src):
        return srv.cookie_src is not None and \
            pkt[132:148] == mac16(srv.cookie_for(src), pkt[:132])
    srv.respond = respond
    ev1 = srv.wait(lambda e: e.kind == "initiation", 30.0, "initiation")
    srv.cookie_reply(ev1.pkt, ev1.src, key=os.urandom(32))
    srv.cookie_reply(ev1.pkt, ev1.src, index=ev1.index ^ 0xFFFF)
    srv.cookie_reply(ev1.pkt, ev1.src, ad=bytes(16))
    ok("initiation 1 (mac2 zero): answered by 3 bogus cookie replies "
       "(another key, another receiver_index, another mac1 as AD)")
    ev2 = srv.wait(lambda e: e.kind == "initiation", 5.0, "retry")
    dt = ev2.t - ev1.t
    expect(args.rekey_timeout - 0.1 <= dt <= args.rekey_timeout + 1.5,
           "retried after %.2f s, REKEY_TIMEOUT is %.2f s"
           % (dt, args.rekey_timeout))
    ok("initiation 2, %.2f s later (REKEY_TIMEOUT), mac2 still zero: the "
       "bogus cookies were dropped" % dt)
    srv.cookie_src = ev2.src
    srv.cookie_reply(ev2.pkt, ev2.src)
    ok("answered initiation 2 with a valid cookie reply (cookie = MAC(Rm, "
       "%s || port %d))" % ev2.src)
    ev3 = srv.wait(lambda e: e.kind == "initiation", 5.0, "retry")
    expect(ev3.src == ev2.src, "the retry comes from %s:%d" % ev3.src)
    expect(ev3.mac2 == mac16(srv.cookie_for(ev3.src), ev3.pkt[:132]),
           "mac2 %s is not MAC(cookie, msg[0:132])" % ev3.mac2.hex())
    expect(ev3.answered, "the retry was not answered")
    ok("initiation 3, %.2f s later: mac2 = MAC(cookie for %s:%d, "
       "msg[0:132]); answered" % ((ev3.t - ev2.t,) + ev3.src))
    first = srv.wait(lambda e: e.kind not in ("initiation",
                                              "stale-initiation"), 2.0,
                     "transport message")
    serve_login(srv, args, first)
    srv.sync("up")
    wait_bye(srv)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("selftest", help="vectors; no network")
    p.set_defaults(run=cmd_selftest)
    for name, fn in (("handshake", cmd_handshake), ("preauth", cmd_preauth),
                     ("login", cmd_login), ("resume", cmd_resume),
                     ("malformed", cmd_malformed), ("logout", cmd_logout),
                     ("refused", cmd_refused), ("wrongpsk", cmd_wrongpsk),
                     ("shutdown", cmd_shutdown),
                     ("cookie", cmd_cookie)):
        p = sub.add_parser(name, help=fn.__doc__.split("\n")[0])
        p.set_defaults(run=fn)
        p.add_argument("--server", required=True, help="ADDRESS:PORT")
        p.add_argument("--server-pub", required=True, help="base64")
        p.add_argument("--psk-file")
        p.add_argument("--key", help="client private key file (created)")
        p.add_argument("--state", help="JSON file: addresses of the login")
        p.add_argument("--user", help="user name")
        p.add_argument("--password")
        p.add_argument("--totp")
        p.add_argument("--expect", action="append",
                       help="KEY=VALUE from vpnd.conf: pool4, pool6, gw4, "
                       "gw6, mtu, keepalive, lifetime, route4, route6, "
                       "dns4, dns6, search (repeatable ones repeat)")
        p.add_argument("--srv-rx-cmd", help="prints the server tunnel "
                       "device's rx_packets")
        p.add_argument("--srv-ping", help="pings {addr} from the server's "
                       "side")
        p.add_argument("--src4", default="10.99.0.123")
        p.add_argument("--dst4", default="10.99.0.1")
        p.add_argument("--quiet-time", type=float, default=1.0)
        p.add_argument("--tries", type=int, default=5)
        p.add_argument("--wait", type=float, default=30.0)
        p.add_argument("--failure-delay", type=float, default=0.0,
                       help="vpnd's failure-delay, seconds")
    p = sub.add_parser("server", help="the server side, against vpnc")
    p.set_defaults(run=cmd_server)
    p.add_argument("scenario", choices=("main", "giveup", "status",
                                        "cookie", "required", "logout",
                                        "timers", "hostile"))
    p.add_argument("--listen", default="0.0.0.0:51900")
    p.add_argument("--key", required=True, help="our private key file")
    p.add_argument("--client-pub", required=True, help="vpnc's, base64")
    p.add_argument("--psk-file")
    p.add_argument("--sync-dir", required=True, help="where the test "
                   "script creates sync-NAME once it is past NAME")
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--totp", required=True, help="as typed; vpnc must "
                   "send it without spaces")
    p.add_argument("--addr4", default="10.99.0.7/24")
    p.add_argument("--addr6", default="fd00:99::7/64")
    p.add_argument("--gw4", default="10.99.0.1")
    p.add_argument("--gw6", default="fd00:99::1")
    p.add_argument("--mtu", type=int, default=1380)
    p.add_argument("--keepalive", type=int, default=2)
    p.add_argument("--expires", type=int, default=3600)
    p.add_argument("--route", action="append", help="repeatable")
    p.add_argument("--dns", action="append", help="repeatable")
    p.add_argument("--search", action="append", help="repeatable")
    p.add_argument("--answer", action="append", help="another address "
                   "whose echo requests we answer (repeatable)")
    p.add_argument("--inject", action="append", help="hostile: send vpnc "
                   "an echo request from this inner source (repeatable)")
    p.add_argument("--expect-disconnect", action="store_true",
                   help="hostile: vpnc must refuse the configuration")
    p.add_argument("--status", type=int, default=1)
    p.add_argument("--retry-after", type=int)
    p.add_argument("--rekey-timeout", type=float, default=5.0,
                   help="vpnc's REKEY_TIMEOUT, seconds")
    p.add_argument("--keepalive-timeout", type=float, default=10.0,
                   help="vpnc's KEEPALIVE_TIMEOUT, seconds")
    p.add_argument("--rekey-after", type=float, default=120.0,
                   help="vpnc's REKEY_AFTER_TIME, seconds")
    p.add_argument("--reject-after", type=float, default=180.0,
                   help="vpnc's REJECT_AFTER_TIME, seconds")
    p.add_argument("--wait", type=float, default=90.0,
                   help="overall deadline, seconds")
    args = ap.parse_args()
    print("== pyvpn %s" % args.cmd, flush=True)
    t0 = time.monotonic()
    try:
        args.run(args)
    except Mismatch as e:
        print("FAIL: %s: %s" % (args.cmd, e), flush=True)
        return 1
    print("== pyvpn %s passed (%.1f s)" % (args.cmd, time.monotonic() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
