/* SPDX-License-Identifier: MIT */
/*
 * vpnd's least privilege: what it gives up once it runs, and in which
 * order (the mechanics are shared/sandbox.c's).
 *
 * 1. privs_start, before vpnd opens anything and before any thread: the
 *    `user` of vpnd.conf is looked up (a clear error if there is none),
 *    the capability bounding set drops to CAP_NET_ADMIN (threads started
 *    later inherit it), and the monitor is forked (monitor.h): the one
 *    process that stays root, for what vpnd's user cannot do.
 * 2. server_start, as root: the TUN device and its rtnetlink socket, the
 *    UDP sockets, the control socket (its group and mode), the user store
 *    (SQLite creates its -wal and -shm files), the worker threads.
 * 3. privs_drop: the store's files, and its directory when it holds
 *    nothing else, are given to the user (SQLite creates and removes the
 *    -wal and -shm files beside the store as connections come and go, and
 *    vpnctl, as root, creates them owned by the store's owner); memory is
 *    locked where RLIMIT_MEMLOCK allows; core dumps are off; then
 *    setgroups, setresgid and setresuid to the user, keeping CAP_NET_ADMIN
 *    in the loop's thread only; then the allow-list (syscalls.c), in
 *    every thread at once, with no_new_privs.
 * 4. privs_stop, after server_stop: the monitor removes the control
 *    socket (whose directory, /run, is root's) and ends.
 *
 * What each part ends with (/proc/PID/task/TID/status):
 *   vpnd's loop thread: Uid/Gid the user's, Groups its group only, CapEff
 *     and CapPrm 0x1000 (CAP_NET_ADMIN), CapBnd 0x1000, CapInh and CapAmb
 *     0, NoNewPrivs 1, Seccomp 2; not dumpable.
 *   the worker threads (store, Argon2id), started as root before the
 *     drop: the same, but CapEff and CapPrm 0: threads switch uid without
 *     keeping capabilities, and need none.
 *   the monitor: Uid 0, every capability 0 (bounding set too, securebits
 *     locked), NoNewPrivs 1, Seccomp 2.
 *
 * CAP_NET_ADMIN stays because vpnd changes the network while it runs:
 * rtnetlink on the socket it opened (addresses, routes, and later proxy
 * ARP and NAT) and net sysctls (restored at stop), which the kernel lets
 * CAP_NET_ADMIN write. Reading root's files and removing root's socket
 * go through the monitor. With user = "root" nothing is dropped (no
 * monitor: its requests are done in place); core dumps are off and
 * memory locked all the same.
 */
#ifndef VPND_PRIVS_H
#define VPND_PRIVS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"
#include "monitor.h"

struct privs {
	bool is_dropping; /* the user is not root */
	uid_t uid;
	gid_t gid;
	char user[VPND_USER_LEN + 1];
	struct monitor monitor;
};

/*
 * Step 1. `detached`: vpnd is a daemon (the monitor logs to syslog). The
 * caller has no other thread. 0 or -errno, after logging why.
 */
int privs_start(struct privs *p, struct vpnd_config *cfg, bool detached)
	__attribute__((warn_unused_result));
/* Step 3. 0 or -errno, after logging why; vpnd must then stop. */
int privs_drop(struct privs *p, const struct vpnd_config *cfg)
	__attribute__((warn_unused_result));
/* Step 4. */
void privs_stop(struct privs *p);

/*
 * The text of the configuration file at `path`, for a reload: through
 * the monitor once vpnd runs confined (it reads only the file vpnd
 * started with: another path is -EPERM), else read here. malloc'd,
 * NUL-terminated; *len excludes the NUL. 0 or -errno.
 */
int privs_read_config(const char *path, char **text, size_t *len)
	__attribute__((warn_unused_result));

#endif
