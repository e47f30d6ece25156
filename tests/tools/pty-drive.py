#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Runs a command on a fresh pseudo-terminal and plays a person at it.

For the netns tests of vpnc's prompts (tests/netns/t-terminal.sh). The
command gets the pty's slave side as its controlling terminal, standard
input, output and error; this driver holds the master side, reads all
that the command writes (copied to --transcript as it comes, so a shell can
wait on it), and walks the steps given on its command line in order:

  expect=REGEX        wait for REGEX in the output after the last match
  absent=REGEX        REGEX is nowhere in the output read so far
  noecho / echo       the terminal's ECHO flag is off / on right now
  type=TEXT           type TEXT and Enter
  intr                type the interrupt character (Ctrl-C)
  code=SECRET:OFFSET  type the TOTP code a phone shows now + OFFSET steps
                      (oathtool), with a space in the middle: "123 456"
  exit=STATUS         wait for the command to end with STATUS (up to
                      --timeout: the end is often the caller's to decide)

Nothing typed (a TEXT, or a code with or without its space) may ever show
in the output. The first failed step ends the run with status 1 and a
message naming it; the command, if still running, is then stopped by its
PID. Every wait is bounded: each step but exit by --step-timeout, all of
it by --timeout. Standard library only (pty, termios, select).
"""

import argparse
import os
import pty
import re
import select
import signal
import subprocess
import sys
import termios
import time


class Failure(Exception):
    pass


class Terminal:
    def __init__(self, argv, transcript):
        self.out = b""
        self.mark = 0  # where the next expect starts looking
        self.eof = False
        self.status = None
        self.log = open(transcript, "ab", buffering=0) if transcript else None
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                os.execvp(argv[0], argv)
            finally:
                os._exit(127)

    def pump(self, wait_s):
        """Reads what is there, waiting at most wait_s for something."""
        if self.eof:
            self.reap()
            if self.status is None:
                time.sleep(min(wait_s, 0.05))
            return
        ready, _, _ = select.select([self.fd], [], [], wait_s)
        if not ready:
            self.reap()
            return
        try:
            data = os.read(self.fd, 4096)
        except OSError:  # EIO: every slave descriptor is closed
            data = b""
        if not data:
            self.eof = True
        self.out += data
        if self.log and data:
            self.log.write(data)
        self.reap()

    def drain(self):
        """Reads everything already written, without waiting for more."""
        while not self.eof and select.select([self.fd], [], [], 0)[0]:
            self.pump(0)

    def reap(self):
        if self.status is not None:
            return
        pid, st = os.waitpid(self.pid, os.WNOHANG)
        if pid == self.pid:
            self.status = os.waitstatus_to_exitcode(st)

    def echo_on(self):
        # On Linux the master side reads the slave's termios.
        return bool(termios.tcgetattr(self.fd)[3] & termios.ECHO)

    def type(self, text):
        os.write(self.fd, text.encode() + b"\r")

    def interrupt(self):
        os.write(self.fd, termios.tcgetattr(self.fd)[6][termios.VINTR])

    def stop(self):
        if self.status is not None:
            return
        self.reap()
        for sig, tenths in ((signal.SIGTERM, 30), (signal.SIGKILL, 30)):
            if self.status is not None:
                return
            os.kill(self.pid, sig)
            for _ in range(tenths):
                self.pump(0.1)
                if self.status is not None:
                    return


def totp_code(secret, offset):
    now = int(time.time()) + 30 * offset
    code = subprocess.run(["oathtool", "--totp", "-b", secret, "-N",
                           "@%d" % now], capture_output=True, text=True,
                          check=True, timeout=10).stdout.strip()
    if not re.fullmatch(r"[0-9]{6}", code):
        raise Failure("oathtool gave %r" % code)
    return code[:3] + " " + code[3:]


def step_expect(t, arg, deadline):
    rx = re.compile(arg.encode())
    while True:
        m = rx.search(t.out, t.mark)
        if m:
            t.mark = m.end()
            return
        if t.eof and t.status is not None:
            raise Failure("the command ended (status %s) first" % t.status)
        left = deadline - time.monotonic()
        if left <= 0:
            raise Failure("timed out")
        t.pump(min(left, 0.5))


def step_exit(t, arg, deadline):
    while t.status is None:
        left = deadline - time.monotonic()
        if left <= 0:
            raise Failure("timed out; the command still runs")
        t.pump(min(left, 0.5))
    t.drain()
    if t.status != int(arg):
        raise Failure("the command ended with status %d" % t.status)


def run(t, steps, step_timeout_s, end):
    typed = []
    for i, step in enumerate(steps, 1):
        name, _, arg = step.partition("=")
        deadline = min(end, time.monotonic() + step_timeout_s)
        try:
            if name == "expect":
                step_expect(t, arg, deadline)
            elif name == "absent":
                t.drain()
                if re.search(arg.encode(), t.out):
                    raise Failure("it is there")
            elif name in ("echo", "noecho"):
                if t.echo_on() != (name == "echo"):
                    raise Failure("ECHO is %s" %
                                  ("on" if t.echo_on() else "off"))
            elif name == "type":
                typed.append(arg)
                t.type(arg)
            elif name == "code":
                secret, _, offset = arg.partition(":")
                code = totp_code(secret, int(offset or 0))
                typed += [code, code.replace(" ", "")]
                t.type(code)
            elif name == "intr":
                t.interrupt()
            elif name == "exit":
                step_exit(t, arg, end)
            else:
                raise Failure("unknown step")
            t.drain()
            for text in typed:
                if text.encode() in t.out:
                    raise Failure("typed text %r shows in the output" % text)
        except (Failure, OSError, subprocess.SubprocessError) as e:
            raise Failure("step %d (%s): %s" % (i, step, e)) from e
        print("pty-drive: ok %s" % step, file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--transcript", help="append the output here")
    ap.add_argument("--pid-file", help="write the command's PID here")
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--step-timeout", type=float, default=20)
    ap.add_argument("steps", nargs="*", metavar="STEP")
    if "--" not in sys.argv:
        ap.error("usage: pty-drive.py [OPTIONS] STEP... -- COMMAND [ARG...]")
    cut = sys.argv.index("--")
    args = ap.parse_intermixed_args(sys.argv[1:cut])
    command = sys.argv[cut + 1:]
    if not command:
        ap.error("no command after --")

    end = time.monotonic() + args.timeout
    t = Terminal(command, args.transcript)
    if args.pid_file:
        with open(args.pid_file + ".new", "w") as f:
            f.write("%d\n" % t.pid)
        os.rename(args.pid_file + ".new", args.pid_file)
    rc = 0
    try:
        run(t, args.steps, args.step_timeout, end)
    except Failure as e:
        print("pty-drive: %s" % e, file=sys.stderr)
        print("pty-drive: output so far: %r" % t.out[-2000:].decode(
            errors="replace"), file=sys.stderr)
        rc = 1
    finally:
        t.stop()
    return rc


if __name__ == "__main__":
    sys.exit(main())
