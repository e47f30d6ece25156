#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""replay.py: records handshake messages on the wire and sends them again,
as an attacker who can watch a link would (t-replay-overflow.sh).

  replay.py capture IFACE SECONDS FILE --src ADDR [--dport PORT] [--type T]
            [--max N]
      Writes one line per UDP datagram from ADDR (to PORT, if given) whose
      first payload byte is T (default 1, an initiation; PROTOCOL.md 4.1)
      and whose length is that type's: "ADDR PORT HEX", the source and its
      port, then the payload. For at most SECONDS and N datagrams. Says
      "capture: listening" on stderr once it is. Reads only.

  replay.py send FILE ADDR PORT [--from ADDR:PORT | --from-net PREFIX]
            [--last N] [--gap SECONDS] [--wait SECONDS]
      Sends the payload of each line of FILE (its last field, in hex; only
      the last N lines with --last) to ADDR:PORT, GAP apart: from this
      host's own address, or from ADDR:PORT though it is not ours (a
      transparent socket: a forged source, whose answers go elsewhere), or
      each from its own random address of PREFIX (which must route to this
      namespace, as a botnet's addresses would). Then waits WAIT seconds
      and prints what came back to it, by message type:

        replay: sent 2; answers: type1=0 type2=0 type3=0 type4=0 other=0;
        answered 0 of 2

      "answered" counts the datagrams that drew a response (type 2).

Needs root for capture and for --from. Every wait is bounded.
"""

import argparse
import ipaddress
import random
import select
import socket
import sys
import time

ETH_P_ALL = 0x0003
IP_TRANSPARENT = getattr(socket, "IP_TRANSPARENT", 19)
LENGTHS = {1: 148, 2: 92, 3: 64}  # PROTOCOL.md 4.1, 4.2, 4.5


def udp_of(pkt):
    """(src, sport, dst, dport, payload) of an IPv4 UDP packet, or None."""
    if len(pkt) < 28 or pkt[0] >> 4 != 4 or pkt[9] != 17:
        return None
    hlen = (pkt[0] & 0x0F) * 4
    body = pkt[hlen:]
    if len(body) < 8:
        return None
    return (str(ipaddress.IPv4Address(pkt[12:16])),
            int.from_bytes(body[0:2], "big"),
            str(ipaddress.IPv4Address(pkt[16:20])),
            int.from_bytes(body[2:4], "big"), body[8:])


def cmd_capture(args):
    deadline = time.monotonic() + args.seconds
    left = args.max
    want_len = LENGTHS.get(args.type)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM,
                      socket.htons(ETH_P_ALL))
    s.bind((args.iface, 0))
    sys.stderr.write("capture: listening on %s\n" % args.iface)
    sys.stderr.flush()
    with open(args.file, "w") as out:
        while left > 0:
            wait = deadline - time.monotonic()
            if wait <= 0:
                break
            s.settimeout(wait)
            try:
                pkt = s.recv(65535)
            except socket.timeout:
                break
            u = udp_of(pkt)
            if u is None or u[0] != args.src:
                continue
            if args.dport is not None and u[3] != args.dport:
                continue
            data = u[4]
            if not data or data[0] != args.type or \
                    (want_len is not None and len(data) != want_len):
                continue
            out.write("%s %d %s\n" % (u[0], u[1], data.hex()))
            out.flush()
            left -= 1
    return 0


def socket_from(addr, port, transparent):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if transparent:
        s.setsockopt(socket.SOL_IP, IP_TRANSPARENT, 1)
    s.bind((addr, port))
    return s


def cmd_send(args):
    with open(args.file) as f:
        msgs = [bytes.fromhex(line.split()[-1]) for line in f if line.strip()]
    if args.last:
        msgs = msgs[-args.last:]
    if not msgs:
        sys.stderr.write("replay: nothing to send in %s\n" % args.file)
        return 2
    dst = (args.addr, args.port)
    socks = []
    if args.from_addr:
        host, port = args.from_addr.rsplit(":", 1)
        one = socket_from(host, int(port), True)
        socks.append(one)
    elif args.from_net:
        net = ipaddress.ip_network(args.from_net)
        hosts = random.sample(range(1, net.num_addresses - 1), len(msgs))
    else:
        one = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        socks.append(one)
    answered = set()
    counts = [0] * 5
    for i, m in enumerate(msgs):
        if args.from_net:
            s = socket_from(str(net.network_address + hosts[i]), 0, False)
            socks.append(s)
        else:
            s = socks[0]
        s.sendto(m, dst)
        if args.gap:
            time.sleep(args.gap)
    deadline = time.monotonic() + args.wait
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select(socks, [], [], left)
        for s in ready:
            try:
                data = s.recv(65535)
            except OSError:
                continue
            t = data[0] if data and data[1:4] == b"\0\0\0" else 0
            counts[t if 1 <= t <= 4 else 0] += 1
            if t == 2:
                answered.add(s.fileno())
    for s in socks:
        s.close()
    # With one socket for all, "answered" cannot tell them apart: it is
    # then the number of responses, at most the number sent.
    n_answered = len(answered) if args.from_net else min(counts[2],
                                                         len(msgs))
    print("replay: sent %d; answers: type1=%d type2=%d type3=%d type4=%d "
          "other=%d; answered %d of %d"
          % (len(msgs), counts[1], counts[2], counts[3], counts[4],
             counts[0], n_answered, len(msgs)), flush=True)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("capture")
    p.set_defaults(run=cmd_capture)
    p.add_argument("iface")
    p.add_argument("seconds", type=float)
    p.add_argument("file")
    p.add_argument("--src", required=True)
    p.add_argument("--dport", type=int)
    p.add_argument("--type", type=int, default=1)
    p.add_argument("--max", type=int, default=1000)
    p = sub.add_parser("send")
    p.set_defaults(run=cmd_send)
    p.add_argument("file")
    p.add_argument("addr")
    p.add_argument("port", type=int)
    g = p.add_mutually_exclusive_group()
    g.add_argument("--from", dest="from_addr", help="ADDR:PORT, forged")
    g.add_argument("--from-net", help="a prefix routed to us")
    p.add_argument("--last", type=int, default=0)
    p.add_argument("--gap", type=float, default=0.05)
    p.add_argument("--wait", type=float, default=2.0)
    args = ap.parse_args()
    if args.cmd == "capture" and args.seconds > 600:
        ap.error("at most 600 seconds")
    if args.cmd == "send" and not 0 <= args.wait <= 60:
        ap.error("--wait between 0 and 60 seconds")
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
