#!/usr/bin/python3
# SPDX-License-Identifier: MIT
#
# Writes the seed inputs of tests/fuzz/corpus/netconf/seed-* (the input
# format is described at the top of tests/fuzz/fuzz_netconf.c): pushes
# written by hand to reach every rule of vpnc/policy.h, under the default
# rules, a full tunnel, narrow and empty accept-routes, and an IPv6
# server. Kept apart from seeds.py only until its owner folds this in as
# seeds_netconf() (u16, tlv and ctl here are copies of seeds.py's). Run
# from the top of the repository: /usr/bin/python3 tests/fuzz/seeds_netconf.py
import ipaddress
import os
import struct

CORPUS = "tests/fuzz/corpus/netconf"


def u16(v):
    return struct.pack("<H", v)


def tlv(t, v):
    return bytes([t, len(v)]) + v


def ctl(t, *attrs):
    body = b"".join(attrs)
    return bytes([t, 0]) + u16(len(body)) + body


def pfx(t4, t6, text):
    n = ipaddress.ip_interface(text)
    return tlv(t4 if n.version == 4 else t6,
               n.ip.packed + bytes([n.network.prefixlen]))


def addr(t4, t6, text):
    a = ipaddress.ip_address(text)
    return tlv(t4 if a.version == 4 else t6, a.packed)


def address(text):
    return pfx(0x20, 0x21, text)


def route(text):
    return pfx(0x22, 0x23, text)


def gw(text):
    return addr(0x2a, 0x2b, text)


def dns(text):
    return addr(0x24, 0x25, text)


def search(b):
    return tlv(0x26, b)


def result(*attrs, status=0):
    return ctl(2, tlv(1, struct.pack("<I", 7)), tlv(0x10, bytes([status])),
               *attrs)


def setup(full=False, server="192.0.2.1", accept=None):
    s = ipaddress.ip_address(server)
    flags = int(full) | (s.version == 6) << 1 | (accept is not None) << 2
    out = bytes([flags]) + s.packed.ljust(16, b"\0")
    if accept is not None:
        out += bytes([len(accept)])
        for a in accept:
            n = ipaddress.ip_network(a)
            out += bytes([n.version == 6]) + \
                n.network_address.packed.ljust(16, b"\0") + \
                bytes([n.prefixlen])
    return out


def seed(name, st, msg, cap=800, sources=()):
    data = st + u16(len(msg)) + msg + u16(cap)
    for src in sources:
        a = ipaddress.ip_address(src)
        data += bytes([a.version == 6]) + a.packed.ljust(16, b"\0")
    with open(os.path.join(CORPUS, "seed-" + name), "wb") as f:
        f.write(data)


USUAL = [address("10.99.0.7/24"), address("fd00:99::7/64"),
         gw("10.99.0.1"), gw("fd00:99::1"),
         tlv(0x27, u16(1380)), tlv(0x28, u16(2)),
         tlv(0x29, struct.pack("<I", 3600))]
OFFICE = [route("10.20.0.0/24"), route("10.30.0.0/16"),
          route("fd00:20::/64"), dns("10.20.0.53"), dns("fd00:20::53"),
          search(b"office.test")]
HOSTILE = [route("0.0.0.0/0"), route("::/0"), route("192.0.2.0/24"),
           search(b"a\tb")]
SOURCES = ["10.99.0.1", "10.99.0.55", "10.20.0.2", "10.21.0.1", "8.8.8.8",
           "192.0.2.1", "fd00:99::1", "fd00:20::2", "2001:db8::1"]

if not os.path.isdir("tests/fuzz/corpus"):
    raise SystemExit("run me from the top of the repository")
os.makedirs(CORPUS, exist_ok=True)
seed("interop", setup(), result(*USUAL, *OFFICE), sources=SOURCES)
seed("hostile", setup(), result(*USUAL, *OFFICE, *HOSTILE), sources=SOURCES)
seed("hostile-full", setup(full=True),
     result(*USUAL, *OFFICE, *HOSTILE, route("128.0.0.0/1")),
     sources=SOURCES)
seed("narrow", setup(accept=["10.20.0.0/16", "fd00::/8"]),
     result(*USUAL, *OFFICE, route("172.16.0.0/12")), sources=SOURCES)
seed("empty-accept", setup(full=True, accept=[]),
     result(*USUAL, *OFFICE, route("0.0.0.0/0")), sources=SOURCES)
seed("address-0", setup(), result(address("10.99.0.7/0"), *OFFICE))
seed("address6-48", setup(), result(address("10.99.0.7/24"),
                                    address("fd00:99::7/48")))
seed("address-server", setup(), result(address("192.0.2.1/32")))
seed("subnet-server", setup(), result(address("192.0.2.77/24"),
                                      gw("192.0.2.1"), gw("fd00:99::1")),
     sources=["192.0.2.5", "192.0.2.77"])
seed("no-address", setup(), result(*OFFICE))
seed("gateways", setup(), result(address("10.99.0.7/24"), gw("10.99.1.1"),
                                 address("fd00:99::7/64"), gw("fd00:99::7")))
seed("gateway-multicast", setup(), result(address("10.99.0.7/24"),
                                          gw("224.0.0.1"), gw("ff02::1")))
seed("dns-odd", setup(), result(
    address("10.99.0.7/24"), dns("127.0.0.53"), dns("::ffff:127.0.0.1"),
    dns("224.0.0.251"), dns("0.0.0.0"), dns("ff02::fb"),
    dns("255.255.255.255"), dns("::")))
seed("search-odd", setup(), result(
    address("10.99.0.7/24"), search(b"a..b"), search(b"-a"),
    search(b"x" * 64), search("\u00e9.example".encode()),
    search(b"a\0b"), search(b"a b"), search(b"a\nnameserver 1.2.3.4"),
    *[search(b"ok%d.example" % i) for i in range(9)]))
seed("many", setup(), result(
    address("10.99.0.7/24"),
    *[route("10.%d.0.0/16" % (100 + i)) for i in range(70)],
    *[dns("10.20.0.%d" % (10 + i)) for i in range(9)]), cap=200)
seed("mtu-small", setup(), result(address("10.99.0.7/24"),
                                  tlv(0x27, u16(100))))
seed("mtu-large", setup(), result(address("10.99.0.7/24"),
                                  tlv(0x27, u16(65535))))
seed("server6", setup(server="2001:db8::1"),
     result(*USUAL, route("2001:db8::/32"), route("192.0.2.0/24")),
     sources=SOURCES)
seed("host-bits", setup(), result(*USUAL,
                                  tlv(0x22, bytes([10, 20, 0, 1, 24]))))
seed("small-cap", setup(), result(*USUAL, *OFFICE, *HOSTILE), cap=30)
seed("refused-status", setup(), result(*USUAL, status=1))
with open(os.path.join(CORPUS, "seed-short"), "wb") as f:
    f.write(b"\x00\x01")
