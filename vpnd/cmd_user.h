/* SPDX-License-Identifier: MIT */
/*
 * What vpnctl's account commands share among themselves: `user ...`
 * (cmd_user.c), enrolment (cmd_enrol.c: new passwords under the policy,
 * showing a new TOTP secret once, confirming it with a code), `user show`
 * and `user list` (cmd_show.c), `user import-oath` (cmd_import.c), and
 * devices (cmd_device.c). Functions returning int give a VPNCTL_EXIT_*
 * status, after printing why when it is not VPNCTL_EXIT_OK.
 */
#ifndef VPND_CMD_USER_H
#define VPND_CMD_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "userdb.h"

#define CMD_USER_TIME_LEN 32

/* Names go into otpauth:// labels and logs: 1 to USERDB_NAME_MAX
 * letters, digits and . _ @ + -, not starting with '-'. */
bool cmd_user_name_valid(const char *name);

/* A usage mistake in `vpnctl user CMD`: one line naming what is wrong
 * and where the usage is; returns VPNCTL_EXIT_USAGE. */
int cmd_user_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* "2024-05-01T12:00:00Z": UTC, so output does not depend on TZ. */
void cmd_user_format_time(uint64_t unix_s, char out[CMD_USER_TIME_LEN]);

/* ---- cmd_enrol.c ---- */

/* True if pw (len bytes) meets the configuration's password policy for
 * `name`; else `why` (PASSWORD_REASON_MAX bytes) says why, in one line. */
bool cmd_enrol_acceptable(const char *name, const char *pw, size_t len,
			  char *why);

/*
 * Checks a password for `name` against the configuration's policy
 * (password-min-length, password-min-score) and hashes it as vpnd
 * expects (Argon2id, INTERACTIVE cost). `what` names the password in the
 * refusal ("the password", "line 4: the PIN").
 */
int cmd_enrol_hash(const char *name, const char *what, const char *pw,
		   size_t len, char hash[USERDB_HASH_MAX]);

/* A new password for `name`: asked twice on a terminal, else one line of
 * stdin; checked and hashed as cmd_enrol_hash(). */
int cmd_enrol_password(const char *name, char hash[USERDB_HASH_MAX]);

/*
 * Shows what the person's authenticator app needs, once: with is_json
 * one JSON object (name, issuer, uri, secret, algorithm, digits,
 * period_s, and whether a code is now awaited), else the otpauth:// URI,
 * the secret in base32 and, when stdout is a terminal, the URI as a QR
 * code.
 */
int cmd_enrol_show(const struct userdb_user *u, bool is_json,
		   bool will_confirm);

/*
 * Asks for the code the app shows now ("Code from the app: " on a
 * terminal, up to three tries; else one line of stdin) and checks it for
 * the current step and the configured window around it. *step_out is
 * the step it matched, for the store to consume. A refusal is one line,
 * why and then `outcome` ("user 'alice' was not added").
 */
int cmd_enrol_confirm(const struct userdb_user *u, const char *outcome,
		      int64_t *step_out);

/* ---- cmd_show.c ---- */

int cmd_user_list(int argc, char *argv[]);
int cmd_user_show(int argc, char *argv[]);

/* ---- cmd_import.c ---- */

int cmd_user_import_oath(int argc, char *argv[]);

/* ---- cmd_subnets.c ---- */

int cmd_user_subnets(int argc, char *argv[]);

/* ---- cmd_device.c ---- */

int cmd_user_devices(int argc, char *argv[]);

/* The devices of a user, read from the store before anything is printed. */
struct cmd_devices {
	struct userdb_device *d;
	size_t n, cap;
};

/* Reads the devices of `name`: 0 or -errno from the store (-ENOENT: no
 * such user), printing nothing. */
int cmd_device_collect(struct userdb *db, const char *name,
		       struct cmd_devices *out);

/* As a table with a header, each line after `indent`, or (is_json) as a
 * JSON array. */
void cmd_device_print(const struct cmd_devices *dv, bool is_json,
		      const char *indent);
void cmd_device_free(struct cmd_devices *dv);

#endif
