#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Stands in for systemd's notification socket (sd_notify(3)).

    notify-listen.py SOCKET SECONDS [--check-ready UDP_PORT CTL_SOCKET]

Binds a Unix datagram socket at SOCKET and writes one line per message
received on stdout: "PID<tab>FIELD=VALUE<tab>...", the sender's PID
from its credentials (SO_PASSCRED, as systemd reads it). Prints
"listening" on stderr once bound; exits after SECONDS.

With --check-ready, a message carrying READY=1 stops its sender (SIGSTOP)
before anything else, so that the daemon cannot go on setting up after
saying it is ready, then checks what READY=1 promises and prints
"ready-check udp=0|1 ctl=0|1": UDP_PORT bound in the sender's network
namespace (/proc/PID/net/udp and udp6), and a connection to CTL_SOCKET
accepted (a stopped process's listening socket still takes one into its
backlog). Then SIGCONT. Each READY=1 is checked; a daemon that said it
too early is caught, whatever the timing.
"""
import os
import signal
import socket
import struct
import sys
import time


def port_bound(pid, port):
    want = ":%04X " % port
    for name in ("udp", "udp6"):
        try:
            with open("/proc/%d/net/%s" % (pid, name)) as f:
                lines = f.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            local = line.split()[1]
            if (local + " ").endswith(want):
                return True
    return False


def ctl_accepts(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def check_ready(pid, port, ctl):
    os.kill(pid, signal.SIGSTOP)
    try:
        udp = port_bound(pid, port)
        accepts = ctl_accepts(ctl)
    finally:
        os.kill(pid, signal.SIGCONT)
    print("ready-check udp=%d ctl=%d" % (udp, accepts), flush=True)


def main():
    path, seconds = sys.argv[1], float(sys.argv[2])
    check = None
    if len(sys.argv) == 6 and sys.argv[3] == "--check-ready":
        check = (int(sys.argv[4]), sys.argv[5])
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    s.bind(path)
    # As systemd's own: whoever the daemon has become may send to it.
    os.chmod(path, 0o777)
    print("listening", file=sys.stderr, flush=True)
    end = time.monotonic() + seconds
    cred_len = struct.calcsize("iII")
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return
        s.settimeout(left)
        try:
            data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(cred_len))
        except socket.timeout:
            return
        pid = 0
        for level, kind, value in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid = struct.unpack("iII", value[:cred_len])[0]
        fields = data.decode("utf-8", "replace").strip("\n").split("\n")
        if check and "READY=1" in fields and pid:
            check_ready(pid, *check)
        print("%d\t%s" % (pid, "\t".join(fields)), flush=True)


if __name__ == "__main__":
    main()
