#!/usr/bin/python3
# SPDX-License-Identifier: MIT
#
# record-offload.py OUTDIR: records the super-packets Linux hands to a TUN
# device with IFF_VNET_HDR and offloads on, and how the kernel itself cuts
# each of them into packets, as test vectors for tests/unit/test_offload.c
# (tests/vectors/offload/README says what the files hold). Needs root and
# `ip netns`; everything happens in two throwaway namespaces, removed at
# the end.
#
# Recording (namespace offrec-PID): TUN ofa0 (10.77.0.1/24, fd77::1/64)
# opened with IFF_VNET_HDR and TUNSETOFFLOAD(CSUM|TSO4|TSO6|USO4|USO6, or
# without USO where refused). A TCP connection to 10.77.0.2 (then
# [fd77::2]) is answered by a tiny TCP peer in this script that ACKs every
# byte at once, so the sender's window opens and its segments grow to
# 64 KiB; the sender writes a fixed pseudo-random stream and closes. A UDP
# socket with UDP_SEGMENT sends one buffer of uneven size to each family.
# What ofa0 reads (header + packet) is kept.
#
# Replay (namespace offrep-PID, forwarding on, rp_filter off): each kept
# read is written into TUN in0 with its header; the route to 10.77.0.0/24
# and fd77::/64 goes out of TUN out0, opened without IFF_VNET_HDR and so
# without offloads, so the kernel segments the packet and completes its
# checksums itself (validate_xmit_skb); what out0 reads is the kernel's
# answer, with TTL / hop limit one lower for the forwarding.
#
# Every wait is bounded (20 s for the recording, 2 s per replay).
import fcntl
import os
import random
import select
import socket
import struct
import subprocess
import sys
import threading
import time

TUNSETIFF = 0x400454CA
TUNSETOFFLOAD = 0x400454D0
TUNSETVNETHDRSZ = 0x400454D8
IFF_TUN, IFF_NO_PI, IFF_VNET_HDR = 0x0001, 0x1000, 0x4000
TUN_F_CSUM, TUN_F_TSO4, TUN_F_TSO6 = 0x01, 0x02, 0x04
TUN_F_USO4, TUN_F_USO6 = 0x20, 0x40
UDP_SEGMENT = 103
VNET_LEN = 10
GSO_NONE, GSO_TCPV4, GSO_TCPV6, GSO_UDP_L4 = 0, 1, 4, 5
PEER4, PEER6 = "10.77.0.2", "fd77::2"
TCP_PORT, UDP_PORT = 5001, 5002
UDP_GSO_SIZE = 1001  # odd on purpose: odd segment lengths
STREAM_LEN = 3 * 1024 * 1024


def sh(*args):
    subprocess.run(args, check=True)


def tun_open(name, vnet):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    flags = IFF_TUN | IFF_NO_PI | (IFF_VNET_HDR if vnet else 0)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH22x", name.encode(), flags))
    if vnet:
        fcntl.ioctl(fd, TUNSETVNETHDRSZ, struct.pack("i", VNET_LEN))
        base = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6
        try:
            fcntl.ioctl(fd, TUNSETOFFLOAD, base | TUN_F_USO4 | TUN_F_USO6)
        except OSError:
            fcntl.ioctl(fd, TUNSETOFFLOAD, base)
            print("# no USO on this kernel", file=sys.stderr)
    return fd


def csum(data):
    if len(data) & 1:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip_parts(pkt):
    """(version, src, dst, header length, protocol)"""
    if pkt[0] >> 4 == 4:
        return 4, pkt[12:16], pkt[16:20], (pkt[0] & 15) * 4, pkt[9]
    return 6, pkt[8:24], pkt[24:40], 40, pkt[6]


def build(version, src, dst, proto, l4):
    """An IP packet around a transport segment whose checksum is 0."""
    pseudo = src + dst + struct.pack("!HH", proto, len(l4)) if version == 6 \
        else src + dst + struct.pack("!BBH", 0, proto, len(l4))
    at = 16 if proto == socket.IPPROTO_TCP else 6
    l4 = l4[:at] + struct.pack("!H", csum(pseudo + l4)) + l4[at + 2:]
    if version == 4:
        h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0, 0x4000,
                        64, proto, 0, src, dst)
        return h[:10] + struct.pack("!H", csum(h)) + h[12:] + l4
    return struct.pack("!IHBB16s16s", 6 << 28, len(l4), proto, 64, src,
                       dst) + l4


def ts_option(opts):
    """The peer's TSval from its TCP options, or 0."""
    i = 0
    while i < len(opts):
        kind = opts[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        if i + 1 >= len(opts) or opts[i + 1] < 2:
            break
        if kind == 8 and opts[i + 1] == 10:
            return struct.unpack("!I", opts[i + 2:i + 6])[0]
        i += opts[i + 1]
    return 0


class Peer:
    """Just enough of a TCP receiver: SYN-ACK, then ACK everything."""

    def __init__(self, fd):
        self.fd = fd
        self.isn = 0x10000000
        self.tsval = 1000

    def send(self, version, src, dst, l4):
        os.write(self.fd, bytes(VNET_LEN) + build(version, src, dst,
                                                  socket.IPPROTO_TCP, l4))

    def answer(self, pkt):
        version, src, dst, ihl, proto = ip_parts(pkt)
        if proto != socket.IPPROTO_TCP:
            return
        th = pkt[ihl:]
        sport, dport, seq = struct.unpack("!HHI", th[:8])
        doff = (th[12] >> 4) * 4
        flags = th[13]
        tsecr = ts_option(th[20:doff])
        self.tsval += 1
        data = len(th) - doff
        if flags & 0x02:  # SYN
            opts = struct.pack("!BBH", 2, 4, 1460) + struct.pack(
                "!BBBBII", 1, 1, 8, 10, self.tsval, tsecr) + \
                struct.pack("!BBBB", 1, 3, 3, 7)
            l4 = struct.pack("!HHIIBBHHH", dport, sport, self.isn, seq + 1,
                             (20 + len(opts)) // 4 << 4, 0x12, 65535, 0, 0)
            self.send(version, dst, src, l4 + opts)
            return
        if not data and not flags & 0x01:
            return
        ack = (seq + data + (1 if flags & 0x01 else 0)) & 0xFFFFFFFF
        opts = struct.pack("!BBBBII", 1, 1, 8, 10, self.tsval, tsecr)
        out_flags = 0x10 | (0x01 if flags & 0x01 else 0)
        l4 = struct.pack("!HHIIBBHHH", dport, sport, self.isn + 1, ack,
                         (20 + len(opts)) // 4 << 4, out_flags, 65535, 0, 0)
        self.send(version, dst, src, l4 + opts)


def stream_bytes(seed):
    return random.Random(seed).randbytes(STREAM_LEN)


def tcp_sender(family, addr, seed, done):
    try:
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(15)
        s.connect((addr, TCP_PORT))
        s.sendall(stream_bytes(seed))
        s.shutdown(socket.SHUT_WR)
        time.sleep(0.5)
        s.close()
    except OSError as e:
        print("# sender %s: %s" % (addr, e), file=sys.stderr)
    done.set()


def gso_type(read):
    return read[1] & 0x7F


def tcp_flags(read):
    pkt = read[VNET_LEN:]
    _, _, _, ihl, _ = ip_parts(pkt)
    return pkt[ihl + 13]


def record_tcp(fd, family, addr, seed):
    """Reads until the sender is done; returns every read of the flow."""
    peer = Peer(fd)
    done = threading.Event()
    t = threading.Thread(target=tcp_sender, args=(family, addr, seed, done))
    t.start()
    reads = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if done.is_set() and reads and tcp_flags(reads[-1]) & 0x01:
            break
        r, _, _ = select.select([fd], [], [], 0.2)
        if not r:
            continue
        buf = os.read(fd, 70000)
        pkt = buf[VNET_LEN:]
        if not pkt or ip_parts(pkt)[4] != socket.IPPROTO_TCP:
            continue
        reads.append(buf)
        peer.answer(pkt)
    t.join(20)
    return reads


def record_udp(fd, family, addr, total):
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_UDP, UDP_SEGMENT, UDP_GSO_SIZE)
    s.sendto(random.Random(total).randbytes(total), (addr, UDP_PORT))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.2)
        if not r:
            continue
        buf = os.read(fd, 70000)
        pkt = buf[VNET_LEN:]
        if pkt and ip_parts(pkt)[4] == socket.IPPROTO_UDP:
            return buf
    raise SystemExit("no UDP super-packet for %s" % addr)


def pick_tcp(reads, tag):
    """The first and the largest super-packet, the last one of the
    stream (PSH or FIN), and a single packet left for us to checksum."""
    gso = [r for r in reads if gso_type(r) != GSO_NONE]
    if not gso:
        raise SystemExit("no TCP super-packet recorded for " + tag)
    out = {tag + "-first": gso[0], tag + "-large": max(gso, key=len)}
    tail = [r for r in gso if tcp_flags(r) & 0x09]
    if tail:
        out[tag + "-push"] = tail[-1]
    single = [r for r in reads if gso_type(r) == GSO_NONE and r[0] & 1]
    if single:
        out[tag + "-csum"] = single[0]
    return out


def inner_record(tmp):
    fd = tun_open("ofa0", True)
    sh("ip", "addr", "add", "10.77.0.1/24", "dev", "ofa0")
    sh("ip", "addr", "add", "fd77::1/64", "dev", "ofa0", "nodad")
    sh("ip", "link", "set", "ofa0", "up")
    picked = {}
    picked.update(pick_tcp(record_tcp(fd, socket.AF_INET, PEER4, 4), "tcp4"))
    picked.update(pick_tcp(record_tcp(fd, socket.AF_INET6, PEER6, 6),
                           "tcp6"))
    picked["udp4"] = record_udp(fd, socket.AF_INET, PEER4,
                                UDP_GSO_SIZE * 9 + 333)
    picked["udp6"] = record_udp(fd, socket.AF_INET6, PEER6,
                                UDP_GSO_SIZE * 12 + 1)
    for name, buf in picked.items():
        with open(os.path.join(tmp, name + ".read"), "wb") as f:
            f.write(buf)


def expected_segments(buf):
    pkt = buf[VNET_LEN:]
    gso_size = struct.unpack("<H", buf[4:6])[0]
    if gso_type(buf) == GSO_NONE:
        return 1
    _, _, _, ihl, proto = ip_parts(pkt)
    hdr = ihl + ((pkt[ihl + 12] >> 4) * 4 if proto == socket.IPPROTO_TCP
                 else 8)
    return (len(pkt) - hdr + gso_size - 1) // gso_size


def inner_replay(tmp):
    for k, v in (("net.ipv4.ip_forward", "1"),
                 ("net.ipv6.conf.all.forwarding", "1"),
                 ("net.ipv4.conf.all.rp_filter", "0"),
                 ("net.ipv4.conf.default.rp_filter", "0")):
        sh("sysctl", "-qw", "%s=%s" % (k, v))
    fin = tun_open("in0", True)
    fout = tun_open("out0", False)
    sh("ip", "addr", "add", "10.88.0.1/24", "dev", "in0")
    sh("ip", "addr", "add", "fd88::1/64", "dev", "in0", "nodad")
    sh("ip", "addr", "add", "10.99.0.1/24", "dev", "out0")
    sh("ip", "addr", "add", "fd99::1/64", "dev", "out0", "nodad")
    for dev in ("in0", "out0"):
        sh("ip", "link", "set", dev, "mtu", "1500", "up")
    sh("ip", "route", "add", "10.77.0.0/24", "dev", "out0")
    sh("ip", "-6", "route", "add", "fd77::/64", "dev", "out0")
    for name in sorted(os.listdir(tmp)):
        if not name.endswith(".read"):
            continue
        with open(os.path.join(tmp, name), "rb") as f:
            buf = f.read()
        want = expected_segments(buf)
        dst = ip_parts(buf[VNET_LEN:])[2]
        os.write(fin, buf)
        segs = []
        deadline = time.monotonic() + 2
        while len(segs) < want and time.monotonic() < deadline:
            r, _, _ = select.select([fout], [], [], 0.1)
            if r:
                pkt = os.read(fout, 70000)
                if pkt and ip_parts(pkt)[2] == dst:
                    segs.append(pkt)
        if len(segs) != want:
            raise SystemExit("%s: the kernel gave %d of %d packets" %
                             (name, len(segs), want))
        out = name[:-len(".read")] + ".bin"
        with open(os.path.join(tmp, out), "wb") as f:
            for rec in [buf] + segs:
                f.write(struct.pack("!I", len(rec)) + rec)


def main():
    if len(sys.argv) == 3 and sys.argv[1] in ("--record", "--replay"):
        (inner_record if sys.argv[1] == "--record" else inner_replay)(
            sys.argv[2])
        return
    if len(sys.argv) != 2:
        raise SystemExit("usage: record-offload.py OUTDIR")
    outdir = sys.argv[1]
    tmp = "/tmp/record-offload-%d" % os.getpid()
    rec, rep = "offrec-%d" % os.getpid(), "offrep-%d" % os.getpid()
    os.makedirs(tmp)
    try:
        for ns, mode in ((rec, "--record"), (rep, "--replay")):
            sh("ip", "netns", "add", ns)
            sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
            sh("ip", "netns", "exec", ns, sys.executable,
               os.path.abspath(__file__), mode, tmp)
        os.makedirs(outdir, exist_ok=True)
        for name in sorted(os.listdir(tmp)):
            if name.endswith(".bin"):
                with open(os.path.join(tmp, name), "rb") as f:
                    data = f.read()
                with open(os.path.join(outdir, name), "wb") as f:
                    f.write(data)
                print("%s: %d bytes" % (name, len(data)))
    finally:
        for ns in (rec, rep):
            subprocess.run(["ip", "netns", "del", ns],
                           stderr=subprocess.DEVNULL)
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
