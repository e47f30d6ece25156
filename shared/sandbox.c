// SPDX-License-Identifier: MIT
/*
 * Least privilege, the mechanics (see sandbox.h). Capabilities go through
 * the capset system call directly (version 3: 64 bits in two words), not
 * libcap: three calls do not need a library. The rules every program here
 * needs once it runs are at the top; each program adds its own.
 */
#include "sandbox.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * What every program here does once it runs, whatever it serves: memory
 * (never executable: no code is loaded after start), clocks and sleeps,
 * threads (new ones only: no fork), signals (to itself only: added in
 * sandbox_filter_install, where the pid is known), the event loop over
 * descriptors it already has, randomness, leaving, and logging (stderr,
 * or syslog and sd_notify over a Unix datagram socket).
 */
static const struct sandbox_rule common_rules[] = {
	/* Memory. glibc's malloc, thread stacks, libsodium's Argon2id. */
	SANDBOX_ALLOW("brk"),
	SANDBOX_ALLOW_MASKED("mmap", 2, PROT_EXEC, 0),
	SANDBOX_ALLOW_MASKED("mprotect", 2, PROT_EXEC, 0),
	SANDBOX_ALLOW("munmap"),
	SANDBOX_ALLOW("mremap"),
	SANDBOX_ALLOW("madvise"),

	/* Time. Mostly the vDSO; the calls are its fallback. */
	SANDBOX_ALLOW("clock_gettime"),
	SANDBOX_ALLOW("clock_getres"),
	SANDBOX_ALLOW("gettimeofday"),
	SANDBOX_ALLOW("time"),
	SANDBOX_ALLOW("clock_nanosleep"),
	SANDBOX_ALLOW("nanosleep"),

	/* Threads: locks, and a new thread's start (glibc registers rseq and
	 * its robust list). clone only with CLONE_THREAD: never a process;
	 * clone3 keeps its flags in memory a filter cannot read, so it fails
	 * and glibc falls back to clone. */
	SANDBOX_ALLOW("futex"),
	SANDBOX_ALLOW("set_robust_list"),
	SANDBOX_ALLOW("rseq"),
	SANDBOX_ALLOW("sched_yield"),
	SANDBOX_ALLOW("gettid"),
	SANDBOX_ALLOW("getpid"),
	SANDBOX_ALLOW_MASKED("clone", 0, CLONE_THREAD, CLONE_THREAD),
	SANDBOX_FAIL("clone3", ENOSYS),

	/* Signals: masks, handlers and their return, abort(). */
	SANDBOX_ALLOW("rt_sigprocmask"),
	SANDBOX_ALLOW("rt_sigaction"),
	SANDBOX_ALLOW("rt_sigreturn"),
	SANDBOX_ALLOW("sigaltstack"),
	SANDBOX_ALLOW("restart_syscall"),

	/* Descriptors the program has: the loop's epoll, timerfd, signalfd
	 * and eventfds, stderr. */
	SANDBOX_ALLOW("read"),
	SANDBOX_ALLOW("write"),
	SANDBOX_ALLOW("readv"),
	SANDBOX_ALLOW("writev"),
	SANDBOX_ALLOW("close"),
	SANDBOX_ALLOW("fstat"),
	SANDBOX_ALLOW("newfstatat"),
	SANDBOX_ALLOW("lseek"),
	SANDBOX_ALLOW("fcntl"),
	SANDBOX_ALLOW("epoll_wait"),
	SANDBOX_ALLOW("epoll_pwait"),
	SANDBOX_ALLOW("epoll_ctl"),
	SANDBOX_ALLOW("timerfd_settime"),
	SANDBOX_ALLOW("timerfd_gettime"),

	/* libsodium's randombytes. */
	SANDBOX_ALLOW("getrandom"),

	/* Who the process runs as: SQLite (it chowns new files as root
	 * only), libsystemd (credentials for sd_notify). */
	SANDBOX_ALLOW("getuid"),
	SANDBOX_ALLOW("geteuid"),
	SANDBOX_ALLOW("getgid"),
	SANDBOX_ALLOW("getegid"),

	/* syslog(3) and sd_notify(3): a Unix datagram socket, connected or
	 * addressed per message. */
	SANDBOX_ALLOW_EQ("socket", 0, AF_UNIX),
	SANDBOX_ALLOW("connect"),
	SANDBOX_ALLOW("sendto"),
	SANDBOX_ALLOW("sendmsg"),

	SANDBOX_ALLOW("exit"),
	SANDBOX_ALLOW("exit_group"),
};

#if defined(__SANITIZE_ADDRESS__)
/*
 * ASan builds only (the tests run them): LeakSanitizer's check at exit
 * stops the world from a tracer task it clones (CLONE_VM without
 * CLONE_THREAD), which ptraces every thread after making the process
 * dumpable again and naming itself the ptracer, and reads the thread list
 * from /proc/self/task. A release build never makes these calls.
 */
static const struct sandbox_rule sanitizer_rules[] = {
	SANDBOX_ALLOW_MASKED("clone", 0, CLONE_THREAD | CLONE_VM, CLONE_VM),
	SANDBOX_ALLOW("ptrace"),
	SANDBOX_ALLOW("wait4"),
	SANDBOX_ALLOW_EQ("prctl", 0, PR_GET_DUMPABLE),
	SANDBOX_ALLOW_EQ("prctl", 0, PR_SET_DUMPABLE),
	SANDBOX_ALLOW_EQ("prctl", 0, PR_SET_PTRACER),
	SANDBOX_ALLOW_EQ("prctl", 0, PR_SET_PDEATHSIG),
	SANDBOX_ALLOW("open"),
	SANDBOX_ALLOW("openat"),
	SANDBOX_ALLOW("getdents"),
	SANDBOX_ALLOW("getdents64"),
	SANDBOX_ALLOW("getppid"),
	/* A thread's start: ASan reads its stack through
	 * pthread_getattr_np, which asks for the thread's CPU set. */
	SANDBOX_ALLOW("sched_getaffinity"),
};
#endif

int
sandbox_user_lookup(const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd pw, *found = NULL;
	char buf[16384];
	int ret;

	ret = getpwnam_r(name, &pw, buf, sizeof(buf), &found);
	if (ret)
		return -ret;
	if (!found)
		return -ENOENT;
	*uid = pw.pw_uid;
	*gid = pw.pw_gid;
	return 0;
}

/* ---- capabilities --------------------------------------------------------- */

static int
caps_set(uint64_t permitted, uint64_t effective)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	data[0].permitted = (uint32_t)permitted;
	data[1].permitted = (uint32_t)(permitted >> 32);
	data[0].effective = (uint32_t)effective;
	data[1].effective = (uint32_t)(effective >> 32);
	return syscall(SYS_capset, &hdr, data) < 0 ? -errno : 0;
}

static int
caps_get(uint64_t *permitted, uint64_t *effective)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) < 0)
		return -errno;
	*permitted = data[0].permitted | (uint64_t)data[1].permitted << 32;
	*effective = data[0].effective | (uint64_t)data[1].effective << 32;
	return 0;
}

uint64_t
sandbox_caps_effective(void)
{
	uint64_t permitted, effective;

	return caps_get(&permitted, &effective) < 0 ? 0 : effective;
}

int
sandbox_bound_caps(uint64_t keep)
{
	unsigned int cap;

	/* PR_CAPBSET_READ fails past the kernel's last capability. */
	for (cap = 0; cap < 64 && prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0;
	     cap++) {
		if (keep & SANDBOX_CAP(cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			return -errno;
	}
	return 0;
}

/* Nothing inheritable, nothing ambient. */
static int
drop_ambient(void)
{
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL)
		return -errno;
	return 0;
}

int
sandbox_set_user(uid_t uid, gid_t gid, uint64_t keep)
{
	uint64_t permitted, effective;
	int ret;

	if (uid == 0)
		return -EINVAL;
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return -errno;
	if (setgroups(1, &gid) < 0 || setresgid(gid, gid, gid) < 0 ||
	    setresuid(uid, uid, uid) < 0) {
		ret = -errno;
		goto out;
	}
	/* Kept permitted through the switch, the effective set is empty. */
	ret = caps_set(keep, keep);
	if (ret == 0)
		ret = drop_ambient();
	if (ret < 0)
		goto out;
	/* As OpenSSH's permanently_set_uid: prove there is no way back. */
	if (setresuid(0, 0, 0) == 0 || setresgid(0, 0, 0) == 0) {
		ret = -EPERM;
		goto out;
	}
	ret = caps_get(&permitted, &effective);
	if (ret == 0 && (permitted != keep || effective != keep))
		ret = -EPERM;
out:
	prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	return ret;
}

int
sandbox_keep_caps(uint64_t keep)
{
	static const unsigned long bits =
		SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
		SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
		SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
	uint64_t permitted, effective;
	int ret;

	if (prctl(PR_SET_SECUREBITS, bits, 0, 0, 0) < 0)
		return -errno;
	ret = drop_ambient();
	if (ret == 0)
		ret = caps_set(keep, keep);
	if (ret == 0)
		ret = caps_get(&permitted, &effective);
	if (ret == 0 && (permitted != keep || effective != keep))
		ret = -EPERM;
	return ret;
}

/* ---- dumps and memory ----------------------------------------------------- */

int
sandbox_no_dumps(void)
{
	const struct rlimit none = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &none) < 0)
		return -errno;
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return -errno;
	return 0;
}

int
sandbox_lock_memory(bool *is_all)
{
	struct rlimit rl;
	int flags = MCL_CURRENT | MCL_ONFAULT;

	*is_all = false;
	if (getrlimit(RLIMIT_MEMLOCK, &rl) < 0)
		return -errno;
	if (rl.rlim_cur != RLIM_INFINITY) {
		rl.rlim_cur = rl.rlim_max = RLIM_INFINITY;
		if (setrlimit(RLIMIT_MEMLOCK, &rl) == 0)
			flags |= MCL_FUTURE;
	} else {
		flags |= MCL_FUTURE;
	}
	if (mlockall(flags) < 0)
		return -errno;
	*is_all = flags & MCL_FUTURE;
	return 0;
}

int
sandbox_guard_memory(void)
{
	bool is_all;
	int ret = sandbox_lock_memory(&is_all);

	if (ret < 0)
		log_debug("memory not locked: %s", strerror(-ret));
	else if (!is_all)
		log_debug("memory allocated so far locked; not what comes "
			  "later (RLIMIT_MEMLOCK is limited)");
	ret = sandbox_no_dumps();
	if (ret < 0)
		log_err("cannot turn core dumps off: %s", strerror(-ret));
	return ret;
}

/* ---- the filter ------------------------------------------------------------ */

int
sandbox_rules_check(struct sandbox_rules rules, const char **bad)
{
	size_t i;

	for (i = 0; i < rules.n; i++)
		if (seccomp_syscall_resolve_name(rules.rule[i].name) ==
		    __NR_SCMP_ERROR) {
			*bad = rules.rule[i].name;
			return -EINVAL;
		}
	return 0;
}

static int
add_rules(scmp_filter_ctx ctx, struct sandbox_rules rules)
{
	size_t i;
	int ret;

	for (i = 0; i < rules.n; i++) {
		const struct sandbox_rule *r = &rules.rule[i];
		int nr = seccomp_syscall_resolve_name(r->name);

		if (nr == __NR_SCMP_ERROR)
			return -EINVAL;
		ret = seccomp_rule_add_array(ctx,
					     r->err_no ? SCMP_ACT_ERRNO(
								 (uint32_t)r->err_no)
						       : SCMP_ACT_ALLOW,
					     nr, r->n_args, r->args);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* Signals to this process only: raise(), abort(), a re-raised signal. */
static int
add_self_signals(scmp_filter_ctx ctx)
{
	scmp_datum_t pid = (scmp_datum_t)getpid();
	int ret;

	ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
			       SCMP_A0(SCMP_CMP_EQ, pid, 0));
	if (ret == 0)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(kill), 1,
				       SCMP_A0(SCMP_CMP_EQ, pid, 0));
	return ret;
}

int
sandbox_filter_install(struct sandbox_rules extra, bool all_threads)
{
	scmp_filter_ctx ctx;
	int ret;

	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return -ENOMEM;
	ret = add_rules(ctx, SANDBOX_RULES(common_rules));
#if defined(__SANITIZE_ADDRESS__)
	if (ret == 0)
		ret = add_rules(ctx, SANDBOX_RULES(sanitizer_rules));
#endif
	if (ret == 0)
		ret = add_rules(ctx, extra);
	if (ret == 0)
		ret = add_self_signals(ctx);
	if (ret == 0 && all_threads)
		ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (ret == 0)
		ret = seccomp_load(ctx);
	seccomp_release(ctx);
	return ret < 0 ? ret : 0;
}
