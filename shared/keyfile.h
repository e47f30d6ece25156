/* SPDX-License-Identifier: MIT */
/*
 * Key files and the genkey/pubkey subcommands shared by vpnd and vpnc. A
 * key file holds one base64 key (44 characters) and a newline. Private key
 * and PSK files must not be readable by group or others.
 */
#ifndef VPN_KEYFILE_H
#define VPN_KEYFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "keys.h"

/*
 * Reads one key from `path`. With `is_secret`, refuses a file readable by
 * group or others. On failure writes a message naming the file into err.
 * 0 or -errno (-EINVAL: not a key; -EPERM: mode too open).
 */
int keyfile_read(const char *path, bool is_secret, uint8_t key[KEY_LEN],
		 char *err, size_t err_len) __attribute__((warn_unused_result));

/* Creates `path` with mode 0600 (never following a symlink) and writes the
 * key. 0 or -errno. */
int keyfile_write(const char *path, const uint8_t key[KEY_LEN]);

/*
 * `genkey [FILE]`: a new private key in base64. With a path, the file is
 * created 0600; on `out`, a regular file behind it (a shell redirect) is
 * made 0600 before the key is written. `pubkey`: reads a private key from
 * `in`, writes its public key to `out`; on bad input prints "prog: ..." to
 * `err` and returns 1. Both return the process exit status.
 */
int keyfile_cmd_genkey(const char *prog, const char *path, FILE *out,
		       FILE *err);
int keyfile_cmd_pubkey(const char *prog, FILE *in, FILE *out, FILE *err);

/*
 * Runs `PROG genkey [FILE]` or `PROG pubkey` when argv[1] names one, with
 * the process's standard streams. True, with the exit status in *status,
 * if it did; false if argv is something else.
 */
bool keyfile_cmd_dispatch(const char *prog, int argc, char *argv[],
			  int *status);

#endif
