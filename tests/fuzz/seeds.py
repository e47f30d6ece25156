#!/usr/bin/python3
# SPDX-License-Identifier: MIT
#
# Writes the seed inputs of tests/fuzz/corpus/<harness>/seed-*: the start
# of each harness's regression corpus, written by hand from PROTOCOL.md and
# the sample configurations so that every operation and mode of a harness
# is reached at least once. Beside them: cov-*, inputs kept from fuzzing
# runs (libFuzzer -merge=1 -use_counters=0: each adds coverage), and
# regress-*, inputs that once broke a check (a crasher found in the code
# would be crash-*); this script rewrites only the seeds. Run from the top of the repository, with
# Debian's python3 (it needs python3-nacl for the servers' public key):
#     /usr/bin/python3 tests/fuzz/seeds.py
import os
import struct
import sys

from nacl.bindings import crypto_scalarmult_base

CORPUS = "tests/fuzz/corpus"


def write(harness, name, data):
    path = os.path.join(CORPUS, harness)
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "seed-" + name), "wb") as f:
        f.write(data)


def u16(v):
    return struct.pack("<H", v)


def u32(v):
    return struct.pack("<I", v)


def tlv(t, v):
    return bytes([t, len(v)]) + v


def ctl(ctl_type, *attrs, reserved=0):
    body = b"".join(attrs)
    return bytes([ctl_type, reserved]) + u16(len(body)) + body


def ipv4(total, src=(10, 99, 0, 2), dst=(10, 20, 0, 1), length=None):
    length = total if length is None else length
    hdr = bytes([0x45, 0]) + struct.pack(">H", total) + bytes(8)
    pkt = hdr + bytes(src) + bytes(dst)
    return pkt + bytes(max(0, length - len(pkt)))


def ipv6(payload, src=b"\xfd\x00\x00\x99" + bytes(11) + b"\x02"):
    return (bytes([0x60, 0, 0, 0]) + struct.pack(">H", payload) +
            bytes([17, 64]) + src + bytes(16) + bytes(payload))


# Control messages of every ctl_type, from both sides.
REQUEST = ctl(1, tlv(1, u32(0x01020304)), tlv(2, b"alice"),
              tlv(3, b"correct horse"), tlv(4, b"123456"),
              tlv(5, b"vpnc 1.0"))
RESUME = ctl(5, tlv(1, u32(7)), tlv(2, b"alice"))
LOGOUT = ctl(4, tlv(0x30, b"bye"), tlv(0x31, b""))
RESULT_OK = ctl(2, tlv(1, u32(0x01020304)), tlv(0x10, b"\x00"),
                tlv(0x11, b"welcome"),
                tlv(0x20, bytes([10, 99, 0, 2, 24])),
                tlv(0x21, b"\xfd\x00\x00\x99" + bytes(11) + b"\x02" +
                    bytes([64])),
                tlv(0x2a, bytes([10, 99, 0, 1])),
                tlv(0x22, bytes([10, 20, 0, 0, 24])),
                tlv(0x22, bytes([0, 0, 0, 0, 0])),
                tlv(0x23, bytes(16) + bytes([0])),
                tlv(0x24, bytes([10, 20, 0, 53])), tlv(0x25, bytes(16)),
                tlv(0x26, b"corp.example"), tlv(0x26, b"bad name"),
                tlv(0x27, u16(1420)), tlv(0x28, u16(25)),
                tlv(0x29, u32(43200)), tlv(0x7f, b"unknown"))
RESULT_LOCKED = ctl(2, tlv(1, u32(9)), tlv(0x10, b"\x02"),
                    tlv(0x12, u32(60)))
REQUIRED = ctl(3, tlv(1, u32(7)), tlv(0x11, b"login required"))
DISCONNECT = ctl(4, tlv(0x30, b"server shutdown"))
BAD = [
    ctl(1, tlv(1, u32(1)), reserved=1),                # reserved byte
    ctl(1, tlv(1, u32(1)))[:-2],                       # overrun
    ctl(1, tlv(1, u32(1)), tlv(2, b"a")),              # missing attributes
    ctl(5, tlv(1, u32(1)), tlv(1, u32(2))),            # duplicate
    ctl(5, tlv(1, b"\x01\x02")),                       # wrong length
    ctl(5, tlv(1, u32(1)), tlv(2, b"\xc0\xaf")),       # overlong UTF-8
    ctl(9, tlv(1, u32(1))),                            # later revision
    ctl(2, tlv(1, u32(1)), tlv(0x10, b"\x00")),        # wrong direction
    ctl(2, tlv(1, u32(1)), tlv(0x10, b"\x00"), tlv(0x20, bytes(4) + b"\x21")),
]


def seeds_login():
    write("login", "request", b"\x00" + REQUEST)
    write("login", "resume", b"\x00" + RESUME)
    write("login", "logout", b"\x00" + LOGOUT)
    write("login", "result-ok", b"\x01" + RESULT_OK)
    write("login", "result-locked", b"\x01" + RESULT_LOCKED)
    write("login", "required", b"\x01" + REQUIRED)
    write("login", "disconnect", b"\x01" + DISCONNECT)
    write("login", "padded", b"\x01" + DISCONNECT + bytes(13))
    for i, m in enumerate(BAD):
        write("login", "bad-%02d-client" % i, b"\x00" + m)
        write("login", "bad-%02d-server" % i, b"\x01" + m)
    write("login", "write-ok", b"\x02" + u32(42) + u16(200) +
          bytes([5]) + b"alice" + u16(2) + b"pw" + u16(6) + b"123456")
    write("login", "write-full", b"\x02" + u32(42) + u16(20) +
          bytes([5]) + b"alice" + u16(2) + b"pw" + u16(6) + b"123456")
    write("login", "write-long", b"\x02" + u32(1) + u16(1500) +
          bytes([70]) + b"u" * 70 + u16(256) + b"p" * 256 + u16(0))


def totp(offset, digits=6, algo="sha1"):
    # RFC 6238 for the fixed secret and time of fuzz_text.c's parse_totp.
    import hashlib
    import hmac
    step = 1700000000 // 30 + offset
    mac = hmac.new(b"12345678901234567890", struct.pack(">Q", step),
                   getattr(hashlib, algo)).digest()
    off = mac[-1] & 0x0f
    v = struct.unpack(">I", mac[off:off + 4])[0] & 0x7fffffff
    return "%0*d" % (digits, v % 10 ** digits)


def seeds_text():
    key = b"YHBgYGBgYGBgYGBgYGBgYGBgYGBgYGBgYGBgYGBgYGA="
    texts = [
        (0, key), (0, b"  " + key + b"\n"), (0, key[:-2] + b"B="),
        (0, key.replace(b"Y", b"\xd9", 1)), (0, b""),
        (1, b"192.0.2.0/24"), (1, b"2001:db8::/32"), (1, b"10.0.0.1"),
        (1, b"10.0.0.0/033"), (1, b"::ffff:1.2.3.4/128"), (1, b"fe80::1%1"),
        (2, b"192.0.2.1"), (2, b"2001:db8::1"), (2, b"1.2.3"),
        (3, b"90"), (3, b"12h"), (3, b"500ms"), (3, b"1d"),
        (3, b"4294967296"), (3, b"18446744073709551616s"), (3, b"0"),
        (4, "älice".encode()), (4, b"\xed\xa0\x80"), (4, b"\xf4\x90\x80\x80"),
        (4, b"\xe0\x80\xaf"), (4, b"\xf0\x9f\x98\x80"),
        (5, b"123 456"), (5, b"12345678"), (5, b"abcd-efgh"),
        (6, b"line\nbreak\x1b[31m"), (6 + 9 * 3, b"short"),
        (7, b"abcd-efgh-ijkl"), (7, b"ABCD EFGH\tijkl"), (7, b"x" * 300),
        (8, totp(0).encode()), (8 + 9 * 9, totp(-1).encode()),
        (8 + 9 * 4, totp(0, 7, "sha256").encode()), (8, b"12345"),
        (8, b"123456789"), (8, b"12345\x00")
    ]
    for i, (which, text) in enumerate(texts):
        write("text", "%02d" % i, bytes([which]) + text)


def pub_of(seed):
    priv = bytearray((seed + i) & 0xff for i in range(32))
    priv[0] &= 248
    priv[31] = (priv[31] & 127) | 64
    return crypto_scalarmult_base(bytes(priv))


def uncommented(path):
    out = []
    for line in open(path, encoding="utf-8"):
        if line.startswith("#") and len(line) > 1 and line[1].islower() \
                and " = " in line:
            line = line[1:]
        out.append(line)
    return "".join(out)


def seeds_config():
    import base64
    server_pub = base64.b64encode(pub_of(100)).decode()
    vpnd = open("conf/vpnd.conf", encoding="utf-8").read()
    vpnd = vpnd.replace("/etc/vpnd/private.key", "server.key")
    vpnd_all = uncommented("conf/vpnd.conf")
    vpnd_all = vpnd_all.replace("/etc/vpnd/private.key", "server.key")
    vpnd_all = vpnd_all.replace("/etc/vpnd/psk.key", "psk.key")
    vpnc = open("conf/vpnc.conf", encoding="utf-8").read()
    vpnc_all = uncommented("conf/vpnc.conf")
    for name in ("vpnc", "vpnc_all"):
        text = vpnc if name == "vpnc" else vpnc_all
        text = text.replace("/etc/vpnc/private.key", "client.key")
        text = text.replace("/etc/vpnc/psk.key", "psk.key")
        lines = [("server-public-key = \"%s\"" % server_pub)
                 if line.startswith("server-public-key") else line
                 for line in text.split("\n")]
        if name == "vpnc":
            vpnc = "\n".join(lines)
        else:
            vpnc_all = "\n".join(lines)
    write("config", "vpnd", b"\x00" + vpnd.encode())
    write("config", "vpnd-all", b"\x00" + vpnd_all.encode())
    write("config", "vpnc", b"\x01" + vpnc.encode())
    write("config", "vpnc-all", b"\x01" + vpnc_all.encode())
    vpnd_min = ('private-key-file = "server.key"\n'
                'address-pool4 = "10.99.0.0/24"\n')
    broken = [
        "listen-port = 70000", "frobnicate = yes", "keepalive = 25 seconds",
        "session-lifetime = 12y", "mtu = 576   # too small",
        'address-pool4 = "10.99.0.1/24"', 'address-pool6 = "fd00:99::/200"',
        'routes = {"10.99.0.0/25"}', 'dns = {"dns.example"}',
        "lockout-max-time = 10s", 'private-key-file = "nowhere.key"',
        'private-key-file = "open.key"', 'preshared-key-file = "psk.key"',
        'routes = {"10.20.0.0/24", "2001:db8::/32", "0.0.0.0/0"}',
        'routes += {"10.30.0.0/16"}', 'dns-search = {"corp.example", "a..b"}',
        'interface = "vpn%d"', 'log = "syslog"\nlog-level = "debug"',
        '/* block\n comment */ mtu = 1280 // line\n',
        'totp-issuer = "Example \\"Corp\\"\\n"', "mtu = 0x500",
        "failure-delay = 500ms", "handshake-rate = 1000000",
        'control-socket = "' + "s" * 120 + '"', "address-pool4 = '10.0.0.0/8'",
        'dns = {"10.20.0.53", "fd00::53"}', "peer alice {}",
        'routes = {"10.20.0.0/24", "10.20.0.0/24"}', '"unterminated',
        "/* unterminated", "mtu = 1280\nmtu = 1400", "mtu = {1280}",
    ]
    for i, line in enumerate(broken):
        write("config", "vpnd-%02d" % i, b"\x00" + (vpnd_min + line +
                                                    "\n").encode())
    vpnc_min = ('server = "vpn.example.com"\nserver-public-key = "%s"\n'
                'private-key-file = "client.key"\nuser = "alice"\n'
                % server_pub)
    vpnc_broken = [
        'server = "[2001:db8::1]:51900"', 'server = "2001:db8::1"',
        'server = "192.0.2.1:0"', 'server = "[2001:db8::1"',
        'server = "-bad.example"', 'server = "1.2.3"',
        'server-public-key = "%s"' % server_pub.replace("A", "B"),
        'private-key-file = "server.key"', 'user = ""',
        'user = "' + "u" * 65 + '"', 'user = "al\\tice"',
        'dns = "resolvconf"', 'dns = "sometimes"',
        "reconnect-max-backoff = 2h", 'preshared-key-file = "open.key"',
        'interface = "a/b"', 'interface = "' + "i" * 16 + '"',
    ]
    for i, line in enumerate(vpnc_broken):
        write("config", "vpnc-%02d" % i, b"\x01" + (vpnc_min + line +
                                                    "\n").encode())


# fuzz_tunnel: a flags byte, then operations (see fuzz_tunnel.c); bit 4
# of an operation picks the server's side where it matters.
SRV = 0x10


def datagram(data, to_client=False):
    return (b"\x0b" if to_client else b"\x00") + u16(len(data)) + data


def plain(data, server=False, op=0x00):
    return bytes([op | (SRV if server else 0)]) + u16(len(data)) + data


def raw_plain(data, server=False):
    return plain(data, server, 0x06)


def seeds_tunnel():
    init = u32(1) + bytes(144)
    resp = u32(2) + bytes(88)
    cookie = u32(3) + bytes(60)
    data = u32(4) + bytes(28)
    wait = b"\x01" + u16(600)
    write("tunnel", "raw-types", b"\x00" + datagram(init) + datagram(resp) +
          datagram(cookie) + datagram(data) + datagram(b"\x04") +
          datagram(u32(5) + bytes(40)) + datagram(u32(0x101) + bytes(144)))
    write("tunnel", "raw-fixmacs", bytes([0x08]) + datagram(init) +
          datagram(resp) + datagram(resp, True) + datagram(cookie, True))
    write("tunnel", "raw-handshake", bytes([0x01]) + b"\x02" +
          raw_plain(ipv4(28)) + b"\x02" + b"\x07" + b"\x01" + u16(13000) +
          b"\x02" + b"\x01" + u16(20000) + b"\x02")
    write("tunnel", "raw-mutate", bytes([0x08]) + b"\x04" + b"\x05" +
          u16(8) + b"\x01" + wait + b"\x04" + b"\x05" + u16(140) + b"\x80" +
          wait + b"\x04" + b"\x05" + u16(60) + b"\x01" + wait + b"\x04" +
          b"\x02" + raw_plain(ipv4(28)) + b"\x05" + u16(30) + b"\x01")
    write("tunnel", "raw-server-initiates", bytes([0x02 | 0x08]) + b"\x02" +
          raw_plain(ipv4(28), True) + b"\x02" + b"\x19" + b"\x02" +
          raw_plain(ipv4(28), True) + b"\x02")
    write("tunnel", "raw-load", bytes([0x04 | 0x08]) + datagram(init) * 2 +
          b"\x04" + b"\x02" + wait + b"\x02" + b"\x03\x81" +
          datagram(init) + b"\x02")
    write("tunnel", "raw-cookie-to-server", bytes([0x07]) + b"\x02" + wait +
          b"\x02" + raw_plain(ipv4(28), True) + b"\x02")
    write("tunnel", "raw-stranger", b"\x00" + b"\x08" + b"\x02" + wait +
          b"\x08" + b"\x05" + u16(40) + b"\x02")
    write("tunnel", "raw-psk-roam", bytes([0x11]) + b"\x03\x02" +
          raw_plain(ipv4(60)) + b"\x02" + b"\x03\x83" + b"\x07" +
          datagram(data) + b"\x09" + b"\x0a\x05" + b"\x01" + u16(1000))
    write("tunnel", "raw-expiry", bytes([0x03]) + raw_plain(ipv4(28)) +
          b"\x02" + (b"\x01" + u16(65535)) * 3 + b"\x02")
    write("tunnel", "session-ip", b"\x80" + plain(ipv4(84)) +
          plain(ipv4(84), True) + plain(ipv6(20)) + plain(b"") +
          plain(ipv4(20, length=28)) + plain(b"\x45\x00\x00\x10" +
                                             bytes(20)) + plain(b"\xff\x00"))
    write("tunnel", "session-control", b"\x80" + plain(REQUEST) +
          plain(RESUME) + plain(LOGOUT) + plain(RESULT_OK, True) +
          plain(REQUIRED, True) + plain(DISCONNECT, True) +
          plain(BAD[1]) + plain(bytes([9, 0, 0, 0])))
    write("tunnel", "session-tamper", b"\x81" + b"\x02" + u16(40) +
          ipv4(40) + u16(20) + b"\x01" + b"\x02" + u16(40) + ipv4(40) +
          u16(0) + b"\x04" + b"\x03" + plain(ipv4(40)) + b"\x03")
    write("tunnel", "session-rekey", b"\x82" + b"\x05" + b"\x15" +
          b"\x01" + u16(12500) + plain(ipv4(40)) + b"\x01" + u16(6000) +
          plain(ipv4(40), True) + b"\x01" + u16(60000) + b"\x01" +
          u16(60000) + plain(ipv4(40)))
    write("tunnel", "session-mtu-roam", b"\x80" + b"\x06" + u16(0) +
          plain(ipv4(1400)) + b"\x16" + u16(700) + plain(ipv4(1000), True) +
          b"\x04\x02" + plain(ipv4(28)) + b"\x04\x03" + plain(ipv4(28)))
    write("tunnel", "session-reorder", b"\x80" + plain(ipv4(40), op=0x0b) +
          plain(ipv4(41), op=0x0b) + b"\x07" + b"\x08" +
          b"\x03" + b"\x09" + plain(ipv4(30)) + b"\x1a\x02" +
          b"\x01" + u16(300) + b"\x19" + plain(ipv4(30), True))


# fuzz_admit: a configuration byte, the keys admitted at start, then
# operations (see fuzz_admit.c): the client in the high four bits.
def a_op(k, op, *rest):
    return bytes([k << 4 | op]) + b"".join(rest)


def a_hs(k):
    return a_op(k, 5)


def a_ka(k):
    return a_op(k, 7)


def a_req(k, arg=0):
    return a_op(k, 2, bytes([arg]))


def a_resume(k, arg=0):
    return a_op(k, 3, bytes([arg]))


def a_bye(k, logout=False):
    return a_op(k, 4, bytes([1 if logout else 0]))


def a_ctl(k, msg):
    return a_op(k, 0, u16(len(msg)), msg)


def a_ip(k, pkt):
    return a_op(k, 1, u16(len(pkt)), pkt)


def a_deaf(k, deaf=True, mute=False):
    return a_op(k, 8, bytes([(1 if deaf else 0) | (2 if mute else 0)]))


def a_store(n, results=b""):
    return bytes([10, n]) + results


def a_logins(n, results=b""):
    return bytes([11, n]) + results


def a_time(deci):
    return bytes([12]) + u16(deci)


LOOKUP_NO = b"\x00"
LOGIN_OK = b"\x00" + u16(0) + u16(3600)
LOGIN_FAILED = b"\x01" + u16(0)
HOUSEKEEPING = b"\x1e"
POLL = b"\x0e"


def lookup_yes(choice=0x80, expires=3600):
    return bytes([choice]) + u16(expires)


def seeds_admit():
    up = a_hs(0) + a_ka(0) + a_store(1, LOOKUP_NO)
    from_two = ipv4(40, src=(10, 99, 0, 2))
    write("admit", "login", b"\x04\x00" + up + a_req(0) +
          a_logins(1, LOGIN_OK) + a_req(0) + a_ip(0, from_two) +
          a_ip(0, ipv4(40, src=(10, 99, 0, 9))) + a_time(20) +
          HOUSEKEEPING + a_store(2, b"\x00\x00") + a_time(36001) +
          a_ip(0, from_two))
    # Delayed refusals, a retransmission while one waits, and after.
    write("admit", "retransmit", b"\x00\x00" + up + a_req(0, 1) +
          a_logins(1, LOGIN_FAILED) + a_req(0, 1) + a_time(11) +
          a_req(0, 1) + a_req(0, 2) + a_logins(1, LOGIN_FAILED) +
          a_time(11) + a_time(600) + a_req(0, 1) + a_req(0, 3) +
          a_req(0, 5) + a_req(0, 6) + a_logins(4, LOGIN_FAILED * 4) +
          a_time(11))
    # Three newcomers for two pending places: the oldest unconfirmed
    # goes; one in its login exchange stays; reconnecting after.
    deaf = b"".join(a_deaf(k) for k in range(6))
    write("admit", "evict", b"\x00\x00" + deaf + a_hs(0) + a_hs(1) +
          a_hs(2) + a_deaf(1, False) + a_time(60) + a_hs(3) + a_hs(4) +
          a_deaf(0, False) + a_ka(0) + a_ka(2) + a_op(0, 6) +
          a_store(6, LOOKUP_NO * 6) + a_ka(0) + a_time(1900) + a_hs(5) +
          a_deaf(5, False) + a_op(5, 6))
    # Keys the store admitted at start come back unpushable, up to
    # max-peers; lookups confirm or refuse them.
    write("admit", "admitted", b"\x01\x0f" + a_deaf(2) + a_hs(0) +
          a_hs(1) + a_hs(2) + a_hs(3) + a_ka(0) + a_ka(1) +
          a_store(3, lookup_yes() + lookup_yes(0x83) + b"\x00") +
          a_hs(4) + a_hs(5) + a_ka(4) + a_resume(0) + a_store(1, b"\x40") +
          a_resume(4, 4) + a_store(2, lookup_yes(0x81) + LOOKUP_NO))
    # A change in the store ends an admission: DISCONNECT, peer freed.
    write("admit", "events", b"\x00\x01" + a_hs(0) + a_ka(0) + a_hs(1) +
          a_ka(1) + a_store(2, lookup_yes() + LOOKUP_NO) + POLL +
          a_store(1, b"\x09\x00\x01") + POLL + a_store(1, b"\x01\x01") +
          POLL + a_store(1, b"\x10"))
    # One check at a time, two clients behind one address: BUSY, kept.
    write("admit", "busy", b"\x0c\x00" + a_hs(0) + a_ka(0) + a_hs(3) +
          a_ka(3) + a_store(2, LOOKUP_NO * 2) + a_req(0) + a_req(3) +
          a_req(3) + a_logins(1, LOGIN_OK) + a_req(3) + a_time(30) +
          a_req(3, 1) + a_logins(1, b"\x02" + u16(60)))
    # RESUME while the peer's first lookup runs, with a user name.
    write("admit", "resume", b"\x01\x00" + a_hs(0) + a_ka(0) +
          a_resume(0) + a_store(1, lookup_yes()) + a_resume(0, 4) +
          a_store(1, lookup_yes(0x82)) + a_ip(0, ipv6(16)) +
          a_resume(0, 8) + a_store(1, b"\x00"))
    # Two clients given the same address: the older loses it.
    write("admit", "reassign", b"\x05\x00" + up + a_hs(1) + a_ka(1) +
          a_store(1, LOOKUP_NO) + a_req(0) + a_req(1) +
          a_logins(2, LOGIN_OK * 2) + a_ip(0, from_two) + a_ip(1, from_two))
    # LOGOUT ends the admission in the store too; a plain DISCONNECT not.
    write("admit", "logout", b"\x04\x00" + up + a_req(0) +
          a_logins(1, LOGIN_OK) + a_bye(0, True) + a_store(1) + a_hs(0) +
          a_ka(0) + a_bye(0) + a_hs(0) + a_ka(0) + a_store(2, b"\x00\x00"))
    # Timestamps of admitted keys saved: after handshakes, failing once.
    write("admit", "stamps", b"\x00\x03" + a_hs(0) + a_ka(0) + a_hs(1) +
          a_ka(1) + a_time(60) + a_op(0, 6) + a_ka(0) + HOUSEKEEPING +
          a_store(2, b"\x00\x01") + HOUSEKEEPING + a_store(2, b"\x00\x00") +
          bytes([15]))
    # The client moves, goes off line, its session dies of idleness.
    write("admit", "roam", b"\x00\x00" + up + a_op(0, 9, b"\x31") + a_ka(0) +
          a_deaf(0, True, True) + a_req(0) + a_deaf(0, False) +
          a_time(2000) + a_ka(0) + a_time(2000) + a_req(0))
    # The wall clock jumps back and forth around an admission's expiry.
    write("admit", "wall", b"\x04\x00" + up + a_req(0) +
          a_logins(1, b"\x00" + u16(0) + u16(100)) + bytes([13, 0x7f]) +
          a_ip(0, from_two) + bytes([13, 0x80]) + a_time(1100) +
          a_ip(0, from_two))
    write("admit", "huge-answer", b"\x13\x00" + up + a_req(0) +
          a_logins(1, LOGIN_OK) + a_req(0) + a_resume(0) +
          a_store(1, lookup_yes()))
    write("admit", "garbage", b"\x00\x00" + up + a_ctl(0, BAD[0]) +
          a_ctl(0, BAD[3]) + a_ctl(0, bytes([9, 0, 0, 0])) +
          a_ctl(0, RESULT_OK) + a_ctl(0, REQUEST) + a_ctl(0, RESUME) +
          a_ctl(0, LOGOUT) + a_ip(0, b"\x45\x00\x00\x10" + bytes(20)) +
          a_ip(0, b"\xff\x00"))
    # AUTH_REQUIRED once a second, and again at once in a new session.
    write("admit", "required", b"\x00\x00" + up + a_ip(0, from_two) +
          a_ip(0, from_two) + a_time(5) + a_ip(0, from_two) + a_time(6) +
          a_ip(0, from_two) + a_op(0, 6) + a_ka(0) + a_ip(0, from_two))


# fuzz_lanes: max, per_source, sources, then operations (see fuzz_lanes.c).
def lanes_push(s):
    return bytes([s << 2])


LANES_POP = b"\x01"


def lanes_done(k=0):
    return bytes([k << 2 | 2])


def seeds_lanes():
    # Two busy sources and a newcomer, as test_lanes' test_in_turn.
    write("lanes", "in-turn", bytes([15, 3, 4]) + lanes_push(1) * 4 +
          lanes_push(2) * 4 + LANES_POP + lanes_push(3) + LANES_POP * 6)
    # The limits: per source, then in all, then room again.
    write("lanes", "limits", bytes([3, 1, 4]) + lanes_push(0) * 2 +
          lanes_push(1) + lanes_push(2) + lanes_push(3) + LANES_POP +
          lanes_done() + lanes_push(3) + LANES_POP * 3 + lanes_done() * 3)
    # Lanes freed and taken again by other sources; stray completions.
    write("lanes", "churn", bytes([7, 2, 5]) +
          b"".join(lanes_push(s) + lanes_push(s) + LANES_POP + LANES_POP +
                   lanes_done() + lanes_done() for s in (0, 1, 2, 3, 4, 0)) +
          b"\x0f\x1f\x2f")


# fuzz_lockout: a policy, then operations (see fuzz_lockout.c).
def attempt(name, src=0, key=0, wrong=False, code=0x0c):
    return b"\x00" + bytes([name | src << 3 | (0x40 if wrong else 0), key,
                            code])


def finish_w(w):
    return bytes([2 | w << 3])


def wait_s(s):
    return b"\x0c" + u16(s)


def seeds_lockout():
    alice, bob, carol, mallory = 0, 1, 2, 3
    fail = attempt(alice, wrong=True)
    # The limit exactly, the lock, its end, and a success after it.
    write("lockout", "limit", b"\x00" + (fail + finish_w(0)) * 4 +
          wait_s(61) + fail + finish_w(0) + wait_s(300) +
          attempt(alice) + finish_w(0))
    # Three counted at once: the third locks, none more is verified.
    write("lockout", "concurrent", b"\x00" + fail * 3 + finish_w(2) +
          finish_w(0) + attempt(alice, src=2) + finish_w(1) + fail)
    # A success while failures of others are in flight on its source.
    write("lockout", "refund", b"\x00" + attempt(bob, wrong=True) +
          attempt(alice) + attempt(mallory) + finish_w(1) + finish_w(0) +
          finish_w(2) + attempt(carol, wrong=True) + finish_w(0))
    # Decay, one source over IPv6 addresses of one /64 and a mapped one.
    write("lockout", "decay", b"\x04" +
          (attempt(mallory, src=3) + finish_w(0) +
           attempt(mallory, src=4) + finish_w(0) + b"\x04" +
           attempt(mallory, src=1) + finish_w(0)) * 3 + wait_s(20) +
          attempt(bob, src=4) + finish_w(0) + b"\x06" + wait_s(3600) +
          b"\x06")
    # Addresses run out: the sixth key gets POOL_EXHAUSTED, logouts free.
    ok = b"".join(attempt(u, src=u, key=u) + finish_w(0)
                  for u in (alice, bob, carol))
    more = b"".join(attempt(u, src=u, key=u + 3) + finish_w(0)
                    for u in (alice, bob, carol))
    write("lockout", "pool", b"\x01" + ok + wait_s(30) + more +
          b"\x07" + wait_s(30) + attempt(alice, key=5) + finish_w(0))
    # An account disabled mid-attempt, counters cleared, pruning.
    write("lockout", "admin", b"\x02" + attempt(bob, src=5) +
          bytes([5 | 8 | bob << 4]) + finish_w(0) +
          bytes([5 | 8 | bob << 4]) + attempt(carol, src=6, wrong=True) +
          finish_w(0) + bytes([5 | 4 << 4]) + bytes([5 | 9 << 4]) +
          wait_s(1000) + b"\x06" + attempt(carol, code=0x01) +
          attempt(alice, code=0x02) + attempt(bob, code=0xc3))
    # A password changed while right logins are checked: refused, and
    # not counted; the next one, checked against it, admits.
    write("lockout", "password", b"\x00" + attempt(alice, key=1) +
          attempt(alice, src=2, key=2) + bytes([6 | 8 | alice << 4]) +
          finish_w(0) + finish_w(1) + wait_s(30) + attempt(alice, key=1) +
          finish_w(0))


def main():
    if not os.path.isdir(CORPUS):
        sys.exit("run me from the top of the repository")
    seeds_login()
    seeds_text()
    seeds_config()
    seeds_tunnel()
    seeds_admit()
    seeds_lanes()
    seeds_lockout()


main()
