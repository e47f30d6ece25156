/* SPDX-License-Identifier: MIT */
/*
 * Least privilege, the mechanics: becoming an unprivileged user while
 * keeping named capabilities, keeping capabilities as uid 0 without root's
 * powers, no new privileges, no core dumps, memory kept out of swap, and a
 * seccomp allow-list installed through libseccomp. Which user, which
 * capabilities and which system calls are each program's decision
 * (vpnd/privs.c, vpnd/syscalls.c, vpnc/jail.c); nothing here reads a
 * configuration or logs.
 *
 * Linux keeps credentials per thread. setgroups/setresgid/setresuid go to
 * every thread (glibc signals each one to make the same call), but
 * capabilities, the bounding set, securebits and no_new_privs change only
 * in the calling thread, and a thread inherits its creator's. So a program
 * drops the bounding set before it starts threads, and the threads it
 * started before the user switch end up with no capability at all (they
 * switch uid without PR_SET_KEEPCAPS). A seccomp filter installed with
 * all_threads set reaches every thread, with no_new_privs.
 *
 * Refused system calls kill the whole process (SECCOMP_RET_KILL_PROCESS),
 * never return an error: a refused call means either an allow-list that
 * missed a path (a bug every test run finds, since the process dies) or
 * someone running code of their own in the process; in neither case may
 * the process go on half working. The kernel logs the kill with the
 * call's number (an audit record in dmesg or the journal:
 * "type=1326 ... syscall=N"). A rule may instead name an errno, for calls
 * libc tries and has a fallback for (clone3: glibc falls back to clone,
 * whose flags a rule can see).
 */
#ifndef VPN_SANDBOX_H
#define VPN_SANDBOX_H

#include <seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A capability's bit in the masks below (CAP_* from linux/capability.h). */
#define SANDBOX_CAP(cap) (UINT64_C(1) << (cap))

/*
 * One allow-list entry: the system call (libseccomp's name for it), and
 * up to two conditions on its arguments, all of which must hold. Several
 * entries for one call allow it when any of them matches. err_no 0
 * allows; anything else makes the call fail with that errno.
 */
struct sandbox_rule {
	const char *name;
	int err_no;
	unsigned int n_args;
	struct scmp_arg_cmp args[2];
};

#define SANDBOX_ALLOW(call) { (call), 0, 0, { { 0 } } }
/* Allowed when argument `i` equals `v`. */
#define SANDBOX_ALLOW_EQ(call, i, v)                                         \
	{ (call), 0, 1, { { (i), SCMP_CMP_EQ, (v), 0 } } }
/* Allowed when argument `i` equals `v` and argument `j` equals `w`. */
#define SANDBOX_ALLOW_EQ2(call, i, v, j, w)                                  \
	{ (call), 0, 2, { { (i), SCMP_CMP_EQ, (v), 0 },                      \
			  { (j), SCMP_CMP_EQ, (w), 0 } } }
/* Allowed when argument `i` masked with `m` equals `v`. */
#define SANDBOX_ALLOW_MASKED(call, i, m, v)                                  \
	{ (call), 0, 1, { { (i), SCMP_CMP_MASKED_EQ, (m), (v) } } }
/* Fails with errno `e` instead of killing. */
#define SANDBOX_FAIL(call, e) { (call), (e), 0, { { 0 } } }

struct sandbox_rules {
	const struct sandbox_rule *rule;
	size_t n;
};

#define SANDBOX_RULES(table)                                                 \
	((struct sandbox_rules){ (table), sizeof(table) / sizeof((table)[0]) })

/* Looks a user up by name: 0, -ENOENT if there is no such user, or
 * -errno. */
int sandbox_user_lookup(const char *name, uid_t *uid, gid_t *gid)
	__attribute__((warn_unused_result));

/*
 * Drops every capability but `keep` from the calling thread's bounding
 * set. Only execve reads that set, so what the thread holds now is
 * unchanged; threads created afterwards inherit it. Needs CAP_SETPCAP.
 * 0 or -errno.
 */
int sandbox_bound_caps(uint64_t keep) __attribute__((warn_unused_result));

/*
 * Becomes uid:gid with gid as the only group, keeping `keep` permitted
 * and effective in the calling thread (nothing inheritable or ambient);
 * other threads switch too, with no capability left. Checks that uid 0
 * cannot be taken back. Needs root. 0 or -errno.
 */
int sandbox_set_user(uid_t uid, gid_t gid, uint64_t keep)
	__attribute__((warn_unused_result));

/*
 * For a thread that stays uid 0: keeps only `keep` (permitted and
 * effective; nothing inheritable or ambient), and locks the securebits
 * so that uid 0 regains nothing through execve or a uid change. Needs
 * CAP_SETPCAP. 0 or -errno.
 */
int sandbox_keep_caps(uint64_t keep) __attribute__((warn_unused_result));

/* The calling thread's effective capabilities, as a mask (0 on error). */
uint64_t sandbox_caps_effective(void);

/* No core dumps (RLIMIT_CORE 0), and not dumpable: no core, and no
 * ptrace or /proc/PID/mem for processes of the same user. 0 or -errno. */
int sandbox_no_dumps(void) __attribute__((warn_unused_result));

/*
 * Keeps the process's memory out of swap, each page as it is touched
 * (mlockall with MCL_ONFAULT). Future mappings too (*is_all) only where
 * RLIMIT_MEMLOCK is unlimited or can be raised so (CAP_SYS_RESOURCE):
 * under a limit, a process that dropped CAP_IPC_LOCK would see its
 * allocations fail once it held that much. Else only what is mapped now
 * (keys, tables, buffers allocated at start), which a caller with
 * CAP_IPC_LOCK may lock whatever the limit. 0 or -errno (nothing locked).
 * ASan builds ignore mlockall.
 */
int sandbox_lock_memory(bool *is_all) __attribute__((warn_unused_result));

/*
 * Both of the above, as vpnd and vpnc take them once set up: memory locked
 * as far as the kernel allows (what it does not is only logged, at debug:
 * a daemon is no less usable without), and no core dumps, which must hold.
 * 0, or -errno after logging why core dumps stay on.
 */
int sandbox_guard_memory(void) __attribute__((warn_unused_result));

/*
 * Installs a filter allowing the common rules (memory, time, threads,
 * signals to this process, the loop, logging: see sandbox.c) and `extra`,
 * killing the process on any other call; with all_threads, in every
 * thread at once (else new threads inherit it). Sets no_new_privs.
 * -EINVAL if a rule names an unknown call. 0 or -errno.
 */
int sandbox_filter_install(struct sandbox_rules extra, bool all_threads)
	__attribute__((warn_unused_result));

/* Checks that every rule of `rules` names a system call libseccomp knows:
 * 0, or -EINVAL after writing the unknown name to *bad. */
int sandbox_rules_check(struct sandbox_rules rules, const char **bad);

#endif
