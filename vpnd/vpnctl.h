/* SPDX-License-Identifier: MIT */
/*
 * What vpnctl's commands (cmd_*.c) share with its main (vpnctl.c): the
 * configuration and the user store named on the command line, opened on
 * first use, and one way to report an error. Commands print for people on
 * stdout, errors on stderr, and return the exit status.
 */
#ifndef VPND_VPNCTL_H
#define VPND_VPNCTL_H

#include <stdbool.h>
#include <stdio.h>

#include "config.h"
#include "userdb.h"

#define VPNCTL_EXIT_OK 0
#define VPNCTL_EXIT_FAIL 1
#define VPNCTL_EXIT_USAGE 2

/*
 * The configuration: -c FILE, else the default file. With -d and no -c,
 * the default file is read only if it is readable, otherwise the built-in
 * defaults stand. NULL after printing why.
 */
const struct vpnd_config *vpnctl_config(void);
/* True if vpnctl_config() came from a file (its pools can be checked). */
bool vpnctl_config_from_file(void);

/* The user store: -d DB, else the configuration's user-db. Opened once,
 * closed by main. NULL after printing why. */
struct userdb *vpnctl_store(void);

/* Prints "vpnctl: " and the message on stderr; returns VPNCTL_EXIT_FAIL. */
int vpnctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Writes `text` as a JSON string, quotes included: quotes, backslashes
 * and control characters escaped, valid UTF-8 kept, and any byte of
 * invalid UTF-8 written as U+FFFD, so untrusted text (a name an attacker
 * typed) always makes valid JSON.
 */
void vpnctl_json_string(FILE *f, const char *text);

/* `vpnctl user ...` (cmd_user.c). */
int cmd_user(int argc, char *argv[]);
void cmd_user_usage(FILE *f);

/* `vpnctl device revoke KEY` (cmd_device.c). */
int cmd_device(int argc, char *argv[]);
void cmd_device_usage(FILE *f);

/* `vpnctl status`, `sessions` and `kick`: the running vpnd (cmd_live.c). */
int cmd_status(int argc, char *argv[]);
int cmd_sessions(int argc, char *argv[]);
int cmd_kick(int argc, char *argv[]);
/* `vpnctl metrics`: the Prometheus text, as vpnd renders it. */
int cmd_metrics(int argc, char *argv[]);
/* `vpnctl reload`: what vpnd applied, needs a restart for, or refused. */
int cmd_reload(int argc, char *argv[]);
void cmd_live_usage(FILE *f);

/* `vpnctl locks` and `vpnctl unlock` (cmd_locks.c). */
int cmd_locks(int argc, char *argv[]);
int cmd_unlock(int argc, char *argv[]);
void cmd_locks_usage(FILE *f);

#endif
