// SPDX-License-Identifier: MIT
/*
 * monitor.c, as root, with a real monitor process: it runs as uid 0 with
 * no capability, no_new_privs and seccomp mode 2, reads a configuration
 * file that only root may read for a process that became nobody, refuses
 * an unknown request and one with a payload (and goes on serving),
 * removes a stale control socket but neither a live one nor a file that
 * is no socket, ignores SIGTERM and exits once vpnd's end is closed; once
 * it is dead, requests fail. Without a process, the same calls work in
 * place. The framing is test_privsep's.
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
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../vpnd/monitor.h"
#include "sandbox.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NOBODY 65534
#define CONFIG_TEXT "# only root reads this\nlisten-port = 51900\n"

/* ---- a real monitor ---------------------------------------------------------- */

struct fixture {
	char dir[64];
	char sock[96];
	struct vpnd_config cfg;
	struct monitor m;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	FILE *fp;

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test-monitor.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->cfg.path, sizeof(f->cfg.path), "%s/vpnd.conf", f->dir);
	snprintf(f->sock, sizeof(f->sock), "%s/vpnd.sock", f->dir);
	snprintf(f->cfg.control_socket, sizeof(f->cfg.control_socket), "%s",
		 f->sock);
	fp = fopen(f->cfg.path, "w");
	assert_non_null(fp);
	fputs(CONFIG_TEXT, fp);
	fclose(fp);
	/* Only root may read it, as /etc/vpnd/vpnd.conf. */
	assert_int_equal(chmod(f->cfg.path, 0600), 0);
	assert_int_equal(chmod(f->dir, 0700), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	unlink(f->cfg.path);
	unlink(f->sock);
	rmdir(f->dir);
	free(f);
	return 0;
}

static bool
status_has(pid_t pid, const char *line)
{
	char path[64], buf[4096];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return strstr(buf, line) != NULL;
}

static void
test_process_is_confined(void **state)
{
	struct fixture *f = *state;
	static const char *const lines[] = {
		"Uid:\t0\t0\t0\t0",         "CapEff:\t0000000000000000",
		"CapPrm:\t0000000000000000", "CapBnd:\t0000000000000000",
		"CapAmb:\t0000000000000000", "NoNewPrivs:\t1",
		"Seccomp:\t2",
	};
	char *text = NULL;
	size_t len, i;

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(monitor_start(&f->m, &f->cfg, true, false), 0);
	assert_true(f->m.helper.pid > 0);
	/* It is confined once it has answered. */
	assert_int_equal(monitor_read_config(&f->m, &text, &len), 0);
	free(text);
	for (i = 0; i < ARRAY_SIZE(lines); i++)
		if (!status_has(f->m.helper.pid, lines[i]))
			fail_msg("the monitor's status lacks \"%s\"", lines[i]);
	monitor_stop(&f->m);
}

/* Becomes nobody, then reads the file through the monitor. */
static int
read_as_nobody(struct monitor *m, const char *path)
{
	char *text = NULL;
	size_t len = 0;
	int ret;

	if (sandbox_set_user(NOBODY, NOBODY, 0) < 0)
		return 2;
	if (open(path, O_RDONLY) >= 0 || errno != EACCES)
		return 3;
	ret = monitor_read_config(m, &text, &len);
	if (ret < 0)
		return 4;
	if (len != strlen(CONFIG_TEXT) || strcmp(text, CONFIG_TEXT) != 0)
		return 5;
	free(text);
	return 0;
}

static void
test_reads_config_for_nobody(void **state)
{
	struct fixture *f = *state;
	int status;
	pid_t pid;

	if (geteuid() != 0)
		skip();
	assert_int_equal(monitor_start(&f->m, &f->cfg, true, false), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(read_as_nobody(&f->m, f->cfg.path));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	monitor_stop(&f->m);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail_msg("wait status %#x", status);
}

static void
test_unknown_requests_refused(void **state)
{
	struct fixture *f = *state;
	static const uint8_t junk[] = { 1, MONITOR_READ_CONFIG, 1, 0 };
	const uint8_t *payload;
	uint8_t ans[64];
	size_t plen;
	ssize_t n;
	int err, fd = -1;

	if (geteuid() != 0)
		skip();
	assert_int_equal(monitor_start(&f->m, &f->cfg, true, false), 0);
	/* An op it does not know, and a known one with a payload. */
	assert_int_equal(privsep_call(&f->m.helper, 9, NULL, 0, NULL, 0, NULL,
				      NULL),
			 -EPROTO);
	assert_int_equal(privsep_call(&f->m.helper, MONITOR_READ_CONFIG, "x",
				      1, NULL, 0, NULL, &fd),
			 -EPROTO);
	assert_int_equal(fd, -1);
	/* Broken framing: a payload length past the datagram. */
	assert_int_equal(send(f->m.helper.fd, junk, sizeof(junk), 0),
			 (ssize_t)sizeof(junk));
	n = recv(f->m.helper.fd, ans, sizeof(ans), 0);
	assert_int_equal(n, PRIVSEP_ANSWER_HEADER_LEN);
	assert_int_equal(privsep_answer_decode(ans, (size_t)n, 0, &err,
					       &payload, &plen),
			 0);
	assert_int_equal(err, EPROTO);
	/* It goes on serving. */
	assert_int_equal(monitor_remove_socket(&f->m), 0);
	monitor_stop(&f->m);
}

static int
bind_socket(const char *path, bool listening)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	if (listening)
		assert_int_equal(listen(fd, 1), 0);
	return fd;
}

static void
check_remove_socket(struct fixture *f)
{
	struct stat st;
	int fd;

	/* Nothing there: nothing to do. */
	assert_int_equal(monitor_remove_socket(&f->m), 0);
	/* A live vpnd's socket stays. */
	fd = bind_socket(f->sock, true);
	assert_int_equal(monitor_remove_socket(&f->m), -EADDRINUSE);
	assert_int_equal(lstat(f->sock, &st), 0);
	close(fd);
	/* Once nobody answers on it, it goes. */
	assert_int_equal(monitor_remove_socket(&f->m), 0);
	assert_int_equal(lstat(f->sock, &st), -1);
	/* A file that is no socket is someone else's. */
	fd = open(f->sock, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(monitor_remove_socket(&f->m), -EEXIST);
	assert_int_equal(lstat(f->sock, &st), 0);
	unlink(f->sock);
}

static void
test_removes_only_a_stale_socket(void **state)
{
	struct fixture *f = *state;

	if (geteuid() != 0)
		skip();
	assert_int_equal(monitor_start(&f->m, &f->cfg, true, false), 0);
	check_remove_socket(f);
	monitor_stop(&f->m);
}

static void
test_exits_when_closed(void **state)
{
	struct fixture *f = *state;
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	pid_t pid;
	int i;

	if (geteuid() != 0)
		skip();
	assert_int_equal(monitor_start(&f->m, &f->cfg, true, false), 0);
	pid = f->m.helper.pid;
	/* SIGTERM is vpnd's: the monitor waits for its end to close. */
	assert_int_equal(kill(pid, SIGTERM), 0);
	for (i = 0; i < 20; i++)
		nanosleep(&tick, NULL);
	assert_int_equal(kill(pid, 0), 0);
	monitor_stop(&f->m);
	assert_int_equal(kill(pid, 0), -1);
	assert_int_equal(errno, ESRCH);
	assert_false(f->m.has_process);
}

static void
test_dead_monitor_fails(void **state)
{
	struct fixture *f = *state;
	char *text = NULL;
	size_t len;
	int status;
	pid_t pid;

	if (geteuid() != 0)
		skip();
	assert_int_equal(monitor_start(&f->m, &f->cfg, true, false), 0);
	pid = f->m.helper.pid;
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(monitor_read_config(&f->m, &text, &len), -EPIPE);
	/* Given up: later requests fail at once, never in place. */
	assert_int_equal(monitor_remove_socket(&f->m), -EPIPE);
	f->m.helper.pid = 0;
	monitor_stop(&f->m);
}

static void
test_in_place_without_process(void **state)
{
	struct fixture *f = *state;
	char *text = NULL;
	size_t len = 0;

	assert_int_equal(monitor_start(&f->m, &f->cfg, false, false), 0);
	assert_false(f->m.has_process);
	assert_int_equal(monitor_read_config(&f->m, &text, &len), 0);
	assert_string_equal(text, CONFIG_TEXT);
	free(text);
	check_remove_socket(f);
	monitor_stop(&f->m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_process_is_confined, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reads_config_for_nobody,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_requests_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_removes_only_a_stale_socket,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_exits_when_closed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dead_monitor_fails, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_in_place_without_process,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
