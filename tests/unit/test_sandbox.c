// SPDX-License-Identifier: MIT
/*
 * sandbox.c and vpnd's allow-lists, each case in a child process: the
 * lists name only calls libseccomp knows; under vpnd's filter a table of
 * calls an intruder would want (a program, a process, a TCP or netlink
 * socket, a uid, executable memory, another process's signals, mounts,
 * namespaces...) kills the process with SIGSYS, while what vpnd does once
 * it runs (descriptors, randomness, a Unix socket for syslog, memory,
 * threads: clone3 fails so that glibc uses clone) works; installed for
 * all threads, a thread started before is confined too (Seccomp 2,
 * NoNewPrivs 1 in its /proc status) and dies with the process when it
 * calls what is refused. As root: the user switch keeps exactly the
 * capabilities asked for (CapEff, CapPrm, CapBnd 0x1000) in the calling
 * thread, none in another thread, and uid 0 cannot be taken back;
 * keeping capabilities as uid 0 locks root out of regaining them, even
 * through execve; no core dumps and not dumpable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox.h"
#include "../../vpnd/syscalls.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define WAIT_MS 10000
#define NOBODY 65534
#define NET_ADMIN SANDBOX_CAP(CAP_NET_ADMIN)

/* ---- children ------------------------------------------------------------ */

typedef int (*child_fn)(const void *arg);

/* Runs fn in a child; its wait status. The child never returns here. */
static int
in_child(child_fn fn, const void *arg)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	int status = -1, i;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn(arg));
	for (i = 0; i < WAIT_MS / 10; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		nanosleep(&tick, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	fail_msg("child %d did not end within %d ms", (int)pid, WAIT_MS);
	return status;
}

static bool
killed_by_seccomp(int status)
{
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS;
}

static bool
exited_ok(int status)
{
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* The value of `field` in a /proc status file, as text. */
static bool
status_field(const char *path, const char *field, char *out, size_t cap)
{
	char line[256];
	size_t len = strlen(field), n;
	bool found = false;
	FILE *f = fopen(path, "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		if (strncmp(line, field, len) == 0 && line[len] == ':') {
			snprintf(out, cap, "%s", line + len + 1 +
					 strspn(line + len + 1, " \t"));
			n = strcspn(out, "\n");
			while (n > 0 && out[n - 1] == ' ')
				n--;
			out[n] = '\0';
			found = true;
		}
	fclose(f);
	return found;
}

static bool
status_is(const char *path, const char *field, const char *want)
{
	char got[128];

	return status_field(path, field, got, sizeof(got)) &&
	       strcmp(got, want) == 0;
}

/* ---- the lists ------------------------------------------------------------ */

static void
test_lists_name_known_calls(void **state)
{
	static const struct sandbox_rule typo[] = {
		SANDBOX_ALLOW("read"),
		SANDBOX_ALLOW("no_such_call"),
	};
	const char *bad = NULL;

	(void)state;
	assert_int_equal(sandbox_rules_check(syscalls_vpnd(), &bad), 0);
	assert_int_equal(sandbox_rules_check(syscalls_monitor(), &bad), 0);
	assert_int_equal(sandbox_rules_check(SANDBOX_RULES(typo), &bad),
			 -EINVAL);
	assert_string_equal(bad, "no_such_call");
}

/* ---- what vpnd's filter refuses -------------------------------------------- */

struct call {
	const char *what;
	long nr;
	long a[6];
};

static const struct call refused[] = {
	{ "execve", SYS_execve, { (long)"/bin/true", 0, 0 } },
	{ "fork", SYS_clone, { SIGCHLD, 0, 0, 0, 0 } },
	{ "a TCP socket", SYS_socket, { AF_INET, SOCK_STREAM, 0 } },
	{ "an IPv6 socket", SYS_socket, { AF_INET6, SOCK_DGRAM, 0 } },
	{ "a netlink socket", SYS_socket, { AF_NETLINK, SOCK_RAW, 0 } },
	{ "a raw socket", SYS_socket, { AF_PACKET, SOCK_RAW, 0 } },
	{ "bind", SYS_bind, { -1, 0, 0 } },
	{ "listen", SYS_listen, { -1, 1 } },
	{ "setsockopt", SYS_setsockopt, { -1, 0, 0, 0, 0 } },
	{ "ioctl", SYS_ioctl, { 0, 0, 0 } },
	{ "setresuid", SYS_setresuid, { 0, 0, 0 } },
	{ "setgroups", SYS_setgroups, { 0, 0 } },
	{ "capset", SYS_capset, { 0, 0 } },
	{ "executable memory", SYS_mmap,
	  { 0, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1,
	    0 } },
	{ "memory made executable", SYS_mprotect,
	  { 0, 4096, PROT_READ | PROT_EXEC } },
	{ "a signal to init", SYS_kill, { 1, 0 } },
	{ "a thread of init", SYS_tgkill, { 1, 1, 0 } },
	{ "mount", SYS_mount, { 0, 0, 0, 0, 0 } },
	{ "unshare", SYS_unshare, { CLONE_NEWUSER } },
	{ "setns", SYS_setns, { -1, 0 } },
	{ "chmod", SYS_chmod, { (long)"/", 0777 } },
	{ "chown", SYS_fchown, { 0, 0, 0 } },
	{ "link", SYS_link, { 0, 0 } },
	{ "symlink", SYS_symlink, { 0, 0 } },
	{ "memfd_create", SYS_memfd_create, { (long)"x", 0 } },
	{ "bpf", SYS_bpf, { 0, 0, 0 } },
	{ "init_module", SYS_init_module, { 0, 0, 0 } },
	{ "keyctl", SYS_keyctl, { 0, 0 } },
	{ "open_by_handle_at", SYS_open_by_handle_at, { -1, 0, 0 } },
	{ "prctl(PR_SET_NAME)", SYS_prctl, { PR_SET_NAME, (long)"x" } },
	{ "kexec_load", SYS_kexec_load, { 0, 0, 0, 0 } },
	{ "reboot", SYS_reboot, { 0, 0, 0, 0 } },
#if !defined(__SANITIZE_ADDRESS__)
	/* LeakSanitizer's at exit: allowed in ASan builds only. */
	{ "ptrace", SYS_ptrace, { PTRACE_TRACEME, 0, 0, 0 } },
	{ "open", SYS_open, { (long)"/", O_RDONLY } },
	{ "getdents64", SYS_getdents64, { -1, 0, 0 } },
	{ "a process sharing memory", SYS_clone,
	  { CLONE_VM | SIGCHLD, 0, 0, 0, 0 } },
#endif
};

static int
call_refused(const void *arg)
{
	const struct call *c = arg;

	if (sandbox_filter_install(syscalls_vpnd(), false) < 0)
		return 2;
	syscall(c->nr, c->a[0], c->a[1], c->a[2], c->a[3], c->a[4], c->a[5]);
	/* Still here: the call was let through (or failed). */
	return 3;
}

static void
test_vpnd_filter_refuses(void **state)
{
	size_t i;
	int st;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(refused); i++) {
		st = in_child(call_refused, &refused[i]);
		if (!killed_by_seccomp(st))
			fail_msg("%s: not refused (wait status %#x)",
				 refused[i].what, st);
	}
}

/* ---- what it lets through --------------------------------------------------- */

static void *
thread_main(void *arg)
{
	return arg;
}

static int
calls_allowed(const void *arg)
{
	uint8_t buf[16];
	int fds[2], fd;
	pthread_t t;
	void *p, *ret = NULL;

	(void)arg;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return 2;
	if (sandbox_filter_install(syscalls_vpnd(), false) < 0)
		return 3;
	if (write(fds[1], "x", 1) != 1 || read(fds[0], buf, 1) != 1)
		return 4;
	if (getrandom(buf, sizeof(buf), 0) != sizeof(buf))
		return 5;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 6;
	close(fd);
	p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || munmap(p, 1 << 20) < 0)
		return 7;
	if (kill(getpid(), 0) < 0)
		return 8;
	/* clone3 is refused with an error glibc falls back from. */
	if (syscall(SYS_clone3, NULL, 0) != -1 || errno != ENOSYS)
		return 9;
	if (pthread_create(&t, NULL, thread_main, buf) ||
	    pthread_join(t, &ret) || ret != buf)
		return 10;
	fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, buf, sizeof(buf)) <= 0)
		return 11;
	close(fd);
	return 0;
}

static void
test_vpnd_filter_allows(void **state)
{
	int st;

	(void)state;
	st = in_child(calls_allowed, NULL);
	if (!exited_ok(st))
		fail_msg("wait status %#x (exit %d)", st,
			 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/* ---- every thread ------------------------------------------------------------- */

struct waiter {
	int fd;     /* read: a byte says "make the refused call" */
	pid_t tid;
};

static void *
waiter_main(void *arg)
{
	struct waiter *w = arg;
	char c;

	__atomic_store_n(&w->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_SEQ_CST);
	if (read(w->fd, &c, 1) == 1)
		syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	return NULL;
}

static int
other_thread_confined(const void *arg)
{
	struct waiter w = { -1, 0 };
	char path[64];
	int fds[2];
	pthread_t t;

	(void)arg;
	if (pipe(fds) < 0)
		return 2;
	w.fd = fds[0];
	if (pthread_create(&t, NULL, waiter_main, &w))
		return 3;
	while (!__atomic_load_n(&w.tid, __ATOMIC_SEQ_CST))
		sched_yield();
	snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)w.tid);
	if (!status_is(path, "Seccomp", "0"))
		return 4;
	if (sandbox_filter_install(syscalls_vpnd(), true) < 0)
		return 5;
	if (!status_is(path, "Seccomp", "2") ||
	    !status_is(path, "NoNewPrivs", "1"))
		return 6;
	/* The thread's refused call ends the whole process. */
	if (write(fds[1], "x", 1) != 1)
		return 7;
	pthread_join(t, NULL);
	return 8;
}

static void
test_filter_reaches_every_thread(void **state)
{
	int st;

	(void)state;
	st = in_child(other_thread_confined, NULL);
	if (!killed_by_seccomp(st))
		fail_msg("wait status %#x (exit %d)", st,
			 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/* ---- users and capabilities (root) --------------------------------------------- */

static void
test_user_lookup(void **state)
{
	uid_t uid = 1;
	gid_t gid = 1;

	(void)state;
	assert_int_equal(sandbox_user_lookup("root", &uid, &gid), 0);
	assert_int_equal(uid, 0);
	assert_int_equal(gid, 0);
	assert_int_equal(sandbox_user_lookup("no-such-user-here", &uid, &gid),
			 -ENOENT);
}

static void *
idle_main(void *arg)
{
	struct waiter *w = arg;
	char c;

	__atomic_store_n(&w->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_SEQ_CST);
	/* Until the pipe closes. */
	while (read(w->fd, &c, 1) > 0)
		;
	return NULL;
}

static int
becomes_nobody(const void *arg)
{
	const char *self = "/proc/self/status";
	struct waiter w = { -1, 0 };
	char other[64];
	int fds[2];
	pthread_t t;

	(void)arg;
	/* A thread started as root, as vpnd's workers are. */
	if (pipe(fds) < 0)
		return 2;
	w.fd = fds[0];
	if (pthread_create(&t, NULL, idle_main, &w))
		return 2;
	while (!__atomic_load_n(&w.tid, __ATOMIC_SEQ_CST))
		sched_yield();
	if (sandbox_bound_caps(NET_ADMIN) < 0 ||
	    sandbox_set_user(NOBODY, NOBODY, NET_ADMIN) < 0)
		return 3;
	if (!status_is(self, "Uid", "65534\t65534\t65534\t65534") ||
	    !status_is(self, "Gid", "65534\t65534\t65534\t65534") ||
	    !status_is(self, "Groups", "65534"))
		return 4;
	if (!status_is(self, "CapEff", "0000000000001000") ||
	    !status_is(self, "CapPrm", "0000000000001000") ||
	    !status_is(self, "CapBnd", "0000000000001000") ||
	    !status_is(self, "CapInh", "0000000000000000") ||
	    !status_is(self, "CapAmb", "0000000000000000"))
		return 5;
	if (sandbox_caps_effective() != NET_ADMIN)
		return 6;
	/* No way back. */
	if (setresuid(0, 0, 0) == 0 || setresgid(0, 0, 0) == 0)
		return 7;
	/* The other thread switched too, and holds nothing. */
	snprintf(other, sizeof(other), "/proc/self/task/%d/status",
		 (int)w.tid);
	if (!status_is(other, "Uid", "65534\t65534\t65534\t65534") ||
	    !status_is(other, "CapEff", "0000000000000000") ||
	    !status_is(other, "CapPrm", "0000000000000000"))
		return 8;
	close(fds[1]);
	pthread_join(t, NULL);
	return 0;
}

static void
test_set_user_keeps_what_is_asked(void **state)
{
	int st;

	(void)state;
	if (geteuid() != 0)
		skip();
	st = in_child(becomes_nobody, NULL);
	if (!exited_ok(st))
		fail_msg("wait status %#x (exit %d)", st,
			 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/* uid 0 without capabilities runs a program: it must not get them back. */
static int
root_without_caps(const void *arg)
{
	const int *out = arg;

	if (sandbox_bound_caps(0) < 0 || sandbox_keep_caps(0) < 0)
		return 2;
	if (!status_is("/proc/self/status", "CapEff", "0000000000000000") ||
	    !status_is("/proc/self/status", "Uid", "0\t0\t0\t0"))
		return 3;
	if (dup2(*out, STDOUT_FILENO) < 0)
		return 4;
	execl("/bin/grep", "grep", "-E", "^(CapEff|CapPrm|Uid):",
	      "/proc/self/status", (char *)NULL);
	return 5;
}

static void
test_keep_caps_locks_root_out(void **state)
{
	char text[512] = "";
	ssize_t n;
	int fds[2], st;

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(pipe(fds), 0);
	st = in_child(root_without_caps, &fds[1]);
	close(fds[1]);
	n = read(fds[0], text, sizeof(text) - 1);
	close(fds[0]);
	if (!exited_ok(st))
		fail_msg("wait status %#x (exit %d)", st,
			 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	assert_true(n > 0);
	assert_non_null(strstr(text, "Uid:\t0\t0\t0\t0"));
	assert_non_null(strstr(text, "CapPrm:\t0000000000000000"));
	assert_non_null(strstr(text, "CapEff:\t0000000000000000"));
}

static int
no_dumps(const void *arg)
{
	struct rlimit rl;

	(void)arg;
	if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 1)
		return 2;
	if (sandbox_no_dumps() < 0)
		return 3;
	if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
		return 4;
	if (getrlimit(RLIMIT_CORE, &rl) < 0 || rl.rlim_cur || rl.rlim_max)
		return 5;
	return 0;
}

static void
test_no_dumps(void **state)
{
	int st;

	(void)state;
	st = in_child(no_dumps, NULL);
	if (!exited_ok(st))
		fail_msg("wait status %#x (exit %d)", st,
			 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lists_name_known_calls),
		cmocka_unit_test(test_vpnd_filter_refuses),
		cmocka_unit_test(test_vpnd_filter_allows),
		cmocka_unit_test(test_filter_reaches_every_thread),
		cmocka_unit_test(test_user_lookup),
		cmocka_unit_test(test_set_user_keeps_what_is_asked),
		cmocka_unit_test(test_keep_caps_locks_root_out),
		cmocka_unit_test(test_no_dumps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
