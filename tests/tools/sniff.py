#!/usr/bin/python3
# SPDX-License-Identifier: MIT
#
# sniff.py IFACE SECONDS [MAX_LINES [REGEX]]: a tiny packet observer for
# the netns tests (tcpdump is not installed). Prints one line per IP
# packet seen on IFACE, in or out (only the lines REGEX matches, if
# given), for at most SECONDS and MAX_LINES (default 100000), then exits:
#
#   in  udp 198.51.100.2:40001 > 192.0.2.1:51900 len=148 type=1 mac2=0
#   out icmp 10.99.0.2 > 10.20.0.2 type=8
#
# For UDP, type is the first payload byte, and for a handshake message of
# its exact length (PROTOCOL.md 4.1, 4.2) mac2=1 says its mac2 is not all
# zero: the sender held a cookie. The first line, on stderr, says it is
# listening. Needs root (AF_PACKET); reads only, sends nothing.
import ipaddress
import re
import socket
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
MAC2 = {(1, 148): 132, (2, 92): 76}  # (type, length): offset of mac2


def describe(pkt):
    if not pkt:
        return None
    version = pkt[0] >> 4
    if version == 4 and len(pkt) >= 20:
        hlen = (pkt[0] & 0x0F) * 4
        proto = pkt[9]
        src = str(ipaddress.IPv4Address(pkt[12:16]))
        dst = str(ipaddress.IPv4Address(pkt[16:20]))
        icmp = 1
    elif version == 6 and len(pkt) >= 40:
        hlen = 40
        proto = pkt[6]
        src = str(ipaddress.IPv6Address(pkt[8:24]))
        dst = str(ipaddress.IPv6Address(pkt[24:40]))
        icmp = 58
    else:
        return None
    body = pkt[hlen:]
    if proto == 17 and len(body) >= 8:
        sport = int.from_bytes(body[0:2], "big")
        dport = int.from_bytes(body[2:4], "big")
        data = body[8:]
        fmt = "[%s]:%d" if version == 6 else "%s:%d"
        line = "udp %s > %s len=%d" % (fmt % (src, sport), fmt % (dst, dport),
                                       len(data))
        if data:
            line += " type=%d" % data[0]
            off = MAC2.get((data[0], len(data)))
            if off is not None:
                line += " mac2=%d" % (any(data[off:off + 16]))
        return line
    if proto == icmp and body:
        return "%s %s > %s type=%d" % ("icmp" if version == 4 else "icmp6",
                                       src, dst, body[0])
    return "ip %s > %s proto=%d" % (src, dst, proto)


def main():
    if len(sys.argv) not in (3, 4, 5):
        sys.stderr.write("usage: sniff.py IFACE SECONDS [MAX_LINES [REGEX]]\n")
        return 2
    iface = sys.argv[1]
    deadline = time.monotonic() + float(sys.argv[2])
    left = int(sys.argv[3]) if len(sys.argv) >= 4 else 100000
    match = re.compile(sys.argv[4]) if len(sys.argv) == 5 else None
    s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM,
                      socket.htons(ETH_P_ALL))
    s.bind((iface, 0))
    sys.stderr.write("sniff: listening on %s\n" % iface)
    sys.stderr.flush()
    while left > 0:
        wait = deadline - time.monotonic()
        if wait <= 0:
            break
        s.settimeout(wait)
        try:
            pkt, addr = s.recvfrom(65535)
        except socket.timeout:
            break
        line = describe(pkt)
        if line is None:
            continue
        line = ("out " if addr[2] == PACKET_OUTGOING else "in ") + line
        if match and not match.search(line):
            continue
        left -= 1
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
