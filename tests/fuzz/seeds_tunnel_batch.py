#!/usr/bin/python3
# SPDX-License-Identifier: MIT
#
# Writes the seed inputs of tests/fuzz/corpus/tunnel_batch/seed-*: runs of
# operations (see the top of fuzz_tunnel_batch.c) that reach every part of
# tunnel_receive_batch at least once: batches past TUNNEL_SPREAD_MIN_BYTES
# (the pool's threads) and past TUNNEL_RX_JOBS, handshake messages inside a
# batch, data under the previous keypair after a rekey, replays, garbage,
# truncated datagrams, a host that stops a batch or ends the session in
# the middle of one, OpenSSL's AEAD in the batched runs. Run from the top of the
# repository: /usr/bin/python3 tests/fuzz/seeds_tunnel_batch.py
import os
import struct

DIR = "tests/fuzz/corpus/tunnel_batch"

R_IS_CLIENT, PSK, SESSION, UNDER_LOAD, REKEYED = 1, 2, 4, 8, 16
HOST_ENDS, OPENSSL = 32, 64


def u16(v):
    return struct.pack("<H", v)


def send_ip(n):
    return bytes([0x00]) + u16(n - 20)


def burst(k, n):
    return bytes([0x01, k - 1]) + u16(n - 20)


def control(data):
    return bytes([0x02]) + u16(len(data)) + data


O_INITIATES, R_REKEYS, PUMP = b"\x03", b"\x04", b"\x05"


def consume(chunk=0, stop=0):
    return bytes([0x06, chunk, stop])


def garbage(data, fix=False):
    return bytes([0x17 if fix else 0x07]) + u16(len(data)) + data


def mutate(idx, off, flip):
    return bytes([0x08, idx]) + u16(off) + bytes([flip])


def dup(idx):
    return bytes([0x09, idx])


def history(k):
    return bytes([0x0a, k])


def reorder(idx):
    return bytes([0x0b, idx])


def advance(seconds):
    return bytes([0x0c]) + u16(seconds * 100)


def roam(which):
    return bytes([0x0d, which])


def r_sends_ip(n):
    return bytes([0x1e]) + u16(n - 20)


def r_sends_control(data):
    return bytes([0x0e]) + u16(len(data)) + data


EMPTY, RESET_R, RESET_O = b"\x0f", b"\x3f", b"\x2f"

LOGOUT = bytes([5, 0]) + u16(0)  # a control message: ctl_type, length

SEEDS = {
    # 288 full-sized packets: the pool wakes, the jobs fill at 256.
    "jobs-full": [SESSION] + [burst(48, 1420)] * 6 + [consume()],
    "jobs-full-openssl": [SESSION | OPENSSL] + [burst(48, 1420)] * 6 +
                         [consume()],
    # The host ends the session on a control message: the jobs gathered
    # after it find no keypair.
    "host-ends": [SESSION | HOST_ENDS, burst(10, 1420), control(LOGOUT),
                  burst(10, 1420), consume(), PUMP, burst(3, 100),
                  consume(), PUMP, consume()],
    "chunks-dups": [SESSION, burst(20, 1400), dup(3), dup(19), reorder(5),
                    send_ip(60), consume(7), burst(30, 900), dup(0),
                    consume(0)],
    # Data under the old keys, the response to R's rekey, more old data.
    "rekey-inside": [SESSION, send_ip(100), R_REKEYS, send_ip(1400),
                     burst(15, 1420), consume(), PUMP, burst(15, 1420),
                     history(3), consume()],
    # Data under the current keypair drops the previous one while later
    # data under it waits in the same run.
    "previous-dropped": [SESSION | REKEYED, advance(36), history(10),
                         history(1), burst(27, 1420), history(13),
                         consume()],
    "initiation-inside": [SESSION, burst(12, 1420), O_INITIATES,
                          burst(12, 1420), consume(), PUMP, burst(12, 1420),
                          consume()],
    "no-session": [0, send_ip(300), control(b"\x01\x00\x00\x00"),
                   consume(), PUMP, consume(), burst(14, 1420), consume()],
    "host-stops": [SESSION, burst(20, 1420), garbage(b"\x04" + bytes(40)),
                   burst(20, 1420), dup(2), consume(0, 0x80 | 4),
                   burst(20, 1420), consume()],
    "client-receives": [SESSION | R_IS_CLIENT | PSK, control(LOGOUT),
                        burst(16, 1300), mutate(4, 100, 1), EMPTY,
                        send_ip(40), EMPTY, consume(3), r_sends_ip(500),
                        r_sends_control(LOGOUT), PUMP, consume()],
    "under-load": [UNDER_LOAD, O_INITIATES,
                   garbage(bytes([1, 0, 0, 0]) + bytes(144), fix=True),
                   consume(), PUMP, consume(), send_ip(80), consume()],
    "roaming": [SESSION, roam(1), burst(10, 1420), roam(0x84),
                burst(10, 1420), roam(6), send_ip(64), consume(), PUMP,
                consume()],
    "reset": [SESSION, burst(14, 1420), RESET_R, burst(14, 1420),
              consume(), PUMP, consume(), RESET_O, burst(3, 200),
              consume()],
    # Past REKEY_AFTER_TIME: data received asks for a new handshake.
    "rekey-due": [SESSION | R_IS_CLIENT, advance(130), burst(14, 1420),
                  consume(), PUMP, burst(14, 1420), consume(), PUMP,
                  consume()],
}


def main():
    os.makedirs(DIR, exist_ok=True)
    for name, ops in SEEDS.items():
        data = bytes([ops[0]]) + b"".join(ops[1:])
        with open(os.path.join(DIR, "seed-" + name), "wb") as f:
            f.write(data)


main()
