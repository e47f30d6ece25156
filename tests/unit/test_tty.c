// SPDX-License-Identifier: MIT
/*
 * tty.c: lines from pipes and files by vector table (CR LF, empty lines, a
 * last line without a newline, lines that do not fit: refused, wiped and
 * consumed to their end), a signal_fd that ends the wait, and the hidden
 * prompt on a real pseudo-terminal: nothing typed is echoed, echo comes
 * back after a line, a line too long, Ctrl-C (the program still dies of
 * SIGINT), a signal taken through a signalfd, and Ctrl-Z (echo on while
 * stopped, off again and the prompt shown again after SIGCONT).
 *
 * Each terminal case runs a session leader on the terminal's slave side
 * with the prompting process in a foreground process group of its own, as
 * a shell would (an orphaned group would never stop on Ctrl-Z); the test
 * plays the person on the master side. Every wait is bounded.
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
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "tty.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define WAIT_MS 10000
#define PROMPT "Secret: "

/* ---- pipes and files ---------------------------------------------------- */

static int
pipe_with(const char *text, size_t len, bool close_writer, int *writer)
{
	int fds[2];

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], text, len), (ssize_t)len);
	if (close_writer) {
		close(fds[1]);
		fds[1] = -1;
	}
	if (writer)
		*writer = fds[1];
	return fds[0];
}

static void
test_line_vectors(void **state)
{
	static const char input[] = "abc\nde\r\n\nx\ry\nab\r\r\nlast";
	static const struct {
		enum tty_result r;
		const char *text;
	} v[] = {
		{ TTY_OK, "abc" },     { TTY_OK, "de" },  { TTY_OK, "" },
		{ TTY_OK, "x\ry" },    { TTY_OK, "ab\r" },
		{ TTY_OK, "last" },    /* no newline at the end */
		{ TTY_EOF, "" },       { TTY_EOF, "" },
	};
	char out[16];
	size_t i, len;
	int fd;

	(void)state;
	fd = pipe_with(input, sizeof(input) - 1, true, NULL);
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		memset(out, 'Z', sizeof(out));
		len = 99;
		assert_int_equal(tty_read_line(fd, -1, out, sizeof(out), &len),
				 v[i].r);
		if (v[i].r == TTY_OK) {
			assert_string_equal(out, v[i].text);
			assert_int_equal(len, strlen(v[i].text));
		} else {
			assert_int_equal(len, 0);
		}
	}
	close(fd);
}

/* cap 4: three bytes fit; a fourth is refused, and the refused line is
 * read to its end so the next line is intact. */
static void
test_line_too_long(void **state)
{
	static const char input[] = "abc\nabcd\nxy\nabc\r\n"
				    "abcdefghijklmnopqrstuvwxyz\nz\nabcde";
	static const struct {
		enum tty_result r;
		const char *text;
	} v[] = {
		{ TTY_OK, "abc" },       { TTY_TOO_LONG, NULL },
		{ TTY_OK, "xy" },        { TTY_OK, "abc" }, /* \r dropped */
		{ TTY_TOO_LONG, NULL },  { TTY_OK, "z" },
		{ TTY_TOO_LONG, NULL },  { TTY_EOF, NULL },
	};
	char out[4];
	size_t i, j, len;
	int fd;

	(void)state;
	fd = pipe_with(input, sizeof(input) - 1, true, NULL);
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		len = 99;
		assert_int_equal(tty_read_line(fd, -1, out, sizeof(out), &len),
				 v[i].r);
		if (v[i].text) {
			assert_string_equal(out, v[i].text);
			continue;
		}
		assert_int_equal(len, 0);
		for (j = 0; j < sizeof(out); j++)
			assert_int_equal(out[j], 0); /* nothing of it kept */
	}
	close(fd);
	errno = 0;
	assert_int_equal(tty_read_line(0, -1, out, 0, &len), TTY_ERROR);
	assert_int_equal(errno, EINVAL);
}

/* Nothing past the newline is taken: the rest is still in the pipe. */
static void
test_line_leaves_the_rest(void **state)
{
	static const char input[] = "first\nsecond\nthird";
	char out[64], rest[64];
	size_t len;
	ssize_t n;
	int fd;

	(void)state;
	fd = pipe_with(input, sizeof(input) - 1, true, NULL);
	assert_int_equal(tty_read_line(fd, -1, out, sizeof(out), &len), TTY_OK);
	assert_string_equal(out, "first");
	n = read(fd, rest, sizeof(rest) - 1);
	assert_true(n >= 0);
	rest[n] = '\0';
	assert_string_equal(rest, "second\nthird");
	close(fd);
}

/* A readable signal_fd ends the wait and is left for its owner. */
static void
test_line_signal_fd(void **state)
{
	char out[16], b;
	size_t len;
	int fd, writer, sig;

	(void)state;
	fd = pipe_with("par", 3, false, &writer);
	sig = pipe_with("S", 1, true, NULL);
	assert_int_equal(tty_read_line(fd, sig, out, sizeof(out), &len),
			 TTY_INTERRUPTED);
	assert_int_equal(out[0], 0);
	assert_int_equal(read(sig, &b, 1), 1);
	close(sig);
	close(writer);
	close(fd);
}

static void
test_line_file(void **state)
{
	char path[] = "/tmp/test_tty.XXXXXX", out[16];
	size_t len;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "pw\r\nnext\n", 9), 9);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(tty_read_line(fd, -1, out, sizeof(out), &len), TTY_OK);
	assert_string_equal(out, "pw");
	assert_int_equal(tty_read_line(fd, -1, out, sizeof(out), &len), TTY_OK);
	assert_string_equal(out, "next");
	assert_int_equal(tty_read_line(fd, -1, out, sizeof(out), &len),
			 TTY_EOF);
	close(fd);
	unlink(path);
}

/* ---- a pseudo-terminal --------------------------------------------------- */

enum mode {
	MODE_TWICE,    /* two prompts, each reported */
	MODE_SIGNALFD, /* SIGTERM blocked and taken through a signalfd */
};

struct term {
	int master, slave;
	pid_t leader;  /* the session leader, our child */
	int results;   /* the prompting process reports here, one line each */
	pid_t prompter;
	char seen[8192]; /* everything the terminal showed */
	size_t seen_len;
	char unread[512]; /* results left when the leader ended */
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
report(int fd, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (write(fd, line, (size_t)n) != n)
		_exit(90);
}

static const char *
result_name(enum tty_result r)
{
	static const char *const names[] = { "ok", "eof", "too-long",
					     "interrupted", "error" };

	return (unsigned int)r < ARRAY_SIZE(names) ? names[r] : "?";
}

/* The prompting process: its own process group, in the foreground. */
static void
prompter(enum mode mode, int results)
{
	char out[256];
	size_t len;
	enum tty_result r;
	int i, sfd = -1;

	if (mode == MODE_SIGNALFD) {
		sigset_t set;

		sigemptyset(&set);
		sigaddset(&set, SIGTERM);
		sigprocmask(SIG_BLOCK, &set, NULL);
		sfd = signalfd(-1, &set, 0);
		if (sfd < 0)
			_exit(91);
	}
	/* A background process group may not read the terminal. */
	for (i = 0; i < 1000 && tcgetpgrp(STDIN_FILENO) != getpgrp(); i++)
		usleep(1000);
	report(results, "pid %d\n", (int)getpid());
	for (i = 0; i < 2; i++) {
		r = tty_read_hidden(PROMPT, sfd, out, sizeof(out), &len);
		report(results, "%s %zu %s\n", result_name(r), len, out);
		if (r != TTY_OK && r != TTY_TOO_LONG)
			break;
	}
	if (sfd >= 0) {
		struct signalfd_siginfo si;

		if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			report(results, "signalfd %u\n", si.ssi_signo);
	}
	_exit(0);
}

/* The session leader: takes the terminal, puts the prompter in the
 * foreground, and exits as it did (128 + signal if it died of one). */
static void
leader(const char *slave_name, enum mode mode, int results)
{
	pid_t pid;
	int fd, st;

	setsid();
	fd = open(slave_name, O_RDWR);
	if (fd < 0)
		_exit(92);
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDERR_FILENO);
	pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		prompter(mode, results);
	}
	setpgid(pid, pid);
	signal(SIGTTOU, SIG_IGN);
	tcsetpgrp(fd, pid);
	if (waitpid(pid, &st, 0) != pid)
		_exit(93);
	_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

static void
term_start(struct term *t, enum mode mode)
{
	int fds[2];

	memset(t, 0, sizeof(*t));
	assert_int_equal(openpty(&t->master, &t->slave, NULL, NULL, NULL), 0);
	assert_int_equal(pipe(fds), 0);
	t->leader = fork();
	assert_true(t->leader >= 0);
	if (t->leader == 0) {
		close(fds[0]);
		close(t->master);
		leader(ttyname(t->slave), mode, fds[1]);
	}
	close(fds[1]);
	t->results = fds[0];
}

/* Reads what the terminal shows until `text` has appeared `count` times. */
static void
term_wait(struct term *t, const char *text, int count)
{
	uint64_t deadline = now_ms() + WAIT_MS;
	struct pollfd pfd = { .fd = t->master, .events = POLLIN };

	for (;;) {
		const char *p = t->seen;
		int n = 0;
		ssize_t got;

		t->seen[t->seen_len] = '\0';
		while ((p = strstr(p, text)) && ++n < count)
			p += strlen(text);
		if (n >= count)
			return;
		if (now_ms() >= deadline)
			fail_msg("the terminal did not show \"%s\" %d times: "
				 "\"%s\"", text, count, t->seen);
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		got = read(t->master, t->seen + t->seen_len,
			   sizeof(t->seen) - 1 - t->seen_len);
		if (got > 0)
			t->seen_len += (size_t)got;
	}
}

static void
term_type(struct term *t, const char *text)
{
	assert_int_equal(write(t->master, text, strlen(text)),
			 (ssize_t)strlen(text));
}

static bool
term_echo(struct term *t)
{
	struct termios tio;

	if (tcgetattr(t->slave, &tio) != 0)
		fail_msg("tcgetattr: %s", strerror(errno));
	return (tio.c_lflag & ECHO) != 0;
}

/* The next line the prompter reported, within the deadline. */
static void
term_result(struct term *t, char *out, size_t cap)
{
	uint64_t deadline = now_ms() + WAIT_MS;
	struct pollfd pfd = { .fd = t->results, .events = POLLIN };
	size_t n = 0;
	char ch;

	while (n + 1 < cap) {
		if (now_ms() >= deadline)
			fail_msg("no result line from the prompter");
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if (read(t->results, &ch, 1) != 1)
			break;
		if (ch == '\n')
			break;
		out[n++] = ch;
	}
	out[n] = '\0';
}

/* The session leader's exit status (see leader()). */
static int
term_end(struct term *t)
{
	uint64_t deadline = now_ms() + WAIT_MS;
	int st;

	while (waitpid(t->leader, &st, WNOHANG) == 0) {
		struct pollfd pfd = { .fd = t->master, .events = POLLIN };

		if (now_ms() >= deadline) {
			kill(t->leader, SIGKILL);
			fail_msg("the prompt did not end");
		}
		/* Keep reading, or the terminal's buffer could fill. */
		if (poll(&pfd, 1, 50) > 0) {
			ssize_t got = read(t->master, t->seen + t->seen_len,
					   sizeof(t->seen) - 1 - t->seen_len);

			if (got > 0)
				t->seen_len += (size_t)got;
		}
	}
	/* The leader is gone, so all it wrote is there: read it all. */
	for (;;) {
		struct pollfd pfd = { .fd = t->master, .events = POLLIN };
		ssize_t got;

		if (poll(&pfd, 1, 0) <= 0)
			break;
		got = read(t->master, t->seen + t->seen_len,
			   sizeof(t->seen) - 1 - t->seen_len);
		if (got <= 0)
			break;
		t->seen_len += (size_t)got;
	}
	t->seen[t->seen_len] = '\0';
	/* Both writers are gone: this reads to the end at once. */
	{
		ssize_t got = read(t->results, t->unread,
				   sizeof(t->unread) - 1);

		t->unread[got > 0 ? got : 0] = '\0';
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void
term_free(struct term *t)
{
	close(t->results);
	close(t->master);
	close(t->slave);
}

static pid_t
term_prompter(struct term *t)
{
	char line[64];
	int pid = 0;

	term_result(t, line, sizeof(line));
	assert_int_equal(sscanf(line, "pid %d", &pid), 1);
	t->prompter = pid;
	return pid;
}

/* The state letter of /proc/PID/stat: 'T' once stopped. */
static char
proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return '?';
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return '?';
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

static void
test_hidden_no_echo(void **state)
{
	struct term t;
	char line[512];

	(void)state;
	term_start(&t, MODE_TWICE);
	term_prompter(&t);
	term_wait(&t, PROMPT, 1);
	assert_false(term_echo(&t));
	term_type(&t, "hunter2\n");
	term_result(&t, line, sizeof(line));
	assert_string_equal(line, "ok 7 hunter2");
	term_wait(&t, PROMPT, 2);
	assert_false(term_echo(&t));
	term_type(&t, "  sp ace\n");
	term_result(&t, line, sizeof(line));
	assert_string_equal(line, "ok 8   sp ace");
	assert_int_equal(term_end(&t), 0);
	assert_true(term_echo(&t));
	assert_null(strstr(t.seen, "hunter2"));
	assert_null(strstr(t.seen, "sp ace"));
	/* The Enter that was not echoed, as a newline after each prompt. */
	assert_non_null(strstr(t.seen, PROMPT "\r\n" PROMPT "\r\n"));
	term_free(&t);
}

static void
test_hidden_too_long(void **state)
{
	char line[512], typed[302];
	struct term t;

	(void)state;
	memset(typed, 'x', 300);
	typed[300] = '\n';
	typed[301] = '\0';
	term_start(&t, MODE_TWICE);
	term_prompter(&t);
	term_wait(&t, PROMPT, 1);
	term_type(&t, typed);
	term_result(&t, line, sizeof(line));
	assert_string_equal(line, "too-long 0 ");
	term_wait(&t, PROMPT, 2);
	term_type(&t, "fits\n");
	term_result(&t, line, sizeof(line));
	assert_string_equal(line, "ok 4 fits");
	assert_int_equal(term_end(&t), 0);
	assert_true(term_echo(&t));
	assert_null(strstr(t.seen, "xxx"));
	term_free(&t);
}

/* Ctrl-C: echo back on, and the program dies of SIGINT as it would have. */
static void
test_hidden_ctrl_c(void **state)
{
	struct term t;

	(void)state;
	term_start(&t, MODE_TWICE);
	term_prompter(&t);
	term_wait(&t, PROMPT, 1);
	assert_false(term_echo(&t));
	term_type(&t, "part\x03");
	assert_int_equal(term_end(&t), 128 + SIGINT);
	assert_true(term_echo(&t));
	assert_string_equal(t.unread, ""); /* no result: it died there */
	assert_null(strstr(t.seen, "part"));
	term_free(&t);
}

/* A signal the program takes through a signalfd ends the prompt there. */
static void
test_hidden_signal_fd(void **state)
{
	struct term t;
	char line[512];
	pid_t pid;

	(void)state;
	term_start(&t, MODE_SIGNALFD);
	pid = term_prompter(&t);
	term_wait(&t, PROMPT, 1);
	assert_false(term_echo(&t));
	assert_int_equal(kill(pid, SIGTERM), 0);
	term_result(&t, line, sizeof(line));
	assert_string_equal(line, "interrupted 0 ");
	term_result(&t, line, sizeof(line));
	assert_string_equal(line, "signalfd 15");
	assert_int_equal(term_end(&t), 0);
	assert_true(term_echo(&t));
	term_free(&t);
}

/* Ctrl-Z: stopped with echo on; continued, echo off and the prompt again. */
static void
test_hidden_ctrl_z(void **state)
{
	uint64_t deadline;
	struct term t;
	char line[512];
	pid_t pid;

	(void)state;
	term_start(&t, MODE_TWICE);
	pid = term_prompter(&t);
	term_wait(&t, PROMPT, 1);
	term_type(&t, "\x1a");
	deadline = now_ms() + WAIT_MS;
	while (proc_state(pid) != 'T') {
		if (now_ms() >= deadline)
			fail_msg("Ctrl-Z did not stop the prompter");
		usleep(10000);
	}
	assert_true(term_echo(&t));
	assert_int_equal(kill(pid, SIGCONT), 0);
	term_wait(&t, PROMPT, 2);
	assert_false(term_echo(&t));
	term_type(&t, "after\n");
	term_result(&t, line, sizeof(line));
	assert_string_equal(line, "ok 5 after");
	term_wait(&t, PROMPT, 3);
	term_type(&t, "\x04"); /* Ctrl-D: end of input */
	term_result(&t, line, sizeof(line));
	assert_string_equal(line, "eof 0 ");
	assert_int_equal(term_end(&t), 0);
	assert_true(term_echo(&t));
	assert_null(strstr(t.seen, "after"));
	term_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_vectors),
		cmocka_unit_test(test_line_too_long),
		cmocka_unit_test(test_line_leaves_the_rest),
		cmocka_unit_test(test_line_signal_fd),
		cmocka_unit_test(test_line_file),
		cmocka_unit_test(test_hidden_no_echo),
		cmocka_unit_test(test_hidden_too_long),
		cmocka_unit_test(test_hidden_ctrl_c),
		cmocka_unit_test(test_hidden_signal_fd),
		cmocka_unit_test(test_hidden_ctrl_z),
	};

	/* A closed results pipe must not kill us when read. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
