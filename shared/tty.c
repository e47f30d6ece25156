// SPDX-License-Identifier: MIT
/*
 * Secret lines from a person (see tty.h). Echo goes off before the prompt
 * is shown, as in OpenSSH's readpassphrase: someone who starts typing as
 * soon as they see it would otherwise have the first characters echoed.
 * While the prompt waits, the signals that would end or stop the program
 * are blocked except inside ppoll(), so a signal can only arrive where
 * the loop looks for it, and the terminal is always put back before the
 * signal takes its usual course. Bytes are read one at a time: no stdio
 * buffer keeps a copy of a secret, and nothing past the newline is taken.
 */
#include "tty.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Signals that end a prompt (and then get their usual action), and the
 * ones that stop the program until SIGCONT. */
static const int end_signals[] = { SIGINT, SIGTERM, SIGHUP,
				   SIGQUIT, SIGALRM, SIGPIPE };
static const int stop_signals[] = { SIGTSTP, SIGTTIN, SIGTTOU };
#define N_SIGNALS (ARRAY_SIZE(end_signals) + ARRAY_SIZE(stop_signals))

/* Set by on_signal while a hidden prompt waits; one prompt at a time. */
static volatile sig_atomic_t caught_end, caught_stop;

/* What one wait for input ended with. */
enum step {
	STEP_READY,     /* fd can be read (or read() will say why not) */
	STEP_LINE,      /* a newline, or end of input after some bytes */
	STEP_EOF,       /* end of input before any byte */
	STEP_SIGNAL_FD, /* the caller's signal_fd is readable */
	STEP_CAUGHT,    /* on_signal ran (hidden prompts only) */
	STEP_ERROR,     /* errno says why */
};

struct line {
	char *out;
	size_t cap, n;
	bool has_bytes; /* anything read, even a lone newline */
	bool has_cr;    /* a '\r' held back: dropped if a newline follows */
	bool too_long;
};

/* The caller's state a hidden prompt changes, to put back. */
struct guard {
	sigset_t caller_mask; /* also ppoll's mask while waiting */
	struct sigaction old[N_SIGNALS];
	bool is_ours[N_SIGNALS];
	struct termios saved;
	bool has_termios;
};

static void
on_signal(int signo)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(stop_signals); i++)
		if (signo == stop_signals[i]) {
			caught_stop = signo;
			return;
		}
	caught_end = signo;
}

/* No SA_RESTART: ppoll must return. */
static int
catch_signal(int signo, struct sigaction *old)
{
	struct sigaction ours;

	memset(&ours, 0, sizeof(ours));
	ours.sa_handler = on_signal;
	sigemptyset(&ours.sa_mask);
	return sigaction(signo, &ours, old);
}

static int
signal_at(size_t i)
{
	return i < ARRAY_SIZE(end_signals)
		       ? end_signals[i]
		       : stop_signals[i - ARRAY_SIZE(end_signals)];
}

/* ---- reading a line ---------------------------------------------------- */

static void
line_put(struct line *l, char ch)
{
	if (l->n + 1 < l->cap)
		l->out[l->n++] = ch;
	else
		l->too_long = true;
}

static void
line_add(struct line *l, char ch)
{
	if (l->has_cr) {
		l->has_cr = false;
		line_put(l, '\r');
	}
	if (ch == '\r')
		l->has_cr = true;
	else
		line_put(l, ch);
}

/*
 * Waits until fd can be read. With a wait_mask (a hidden prompt), the
 * prompt's signals are unblocked only inside ppoll, so EINTR there means
 * on_signal ran; without one, EINTR is some other handler's and the wait
 * goes on.
 */
static enum step
wait_input(int fd, int signal_fd, const sigset_t *wait_mask)
{
	struct pollfd pfd[2] = {
		{ .fd = fd, .events = POLLIN },
		{ .fd = signal_fd, .events = POLLIN },
	};
	nfds_t n = signal_fd >= 0 ? 2 : 1;
	int r;

	for (;;) {
		r = wait_mask ? ppoll(pfd, n, NULL, wait_mask)
			      : poll(pfd, n, -1);
		if (r < 0 && errno == EINTR) {
			if (wait_mask && (caught_end || caught_stop))
				return STEP_CAUGHT;
			continue;
		}
		if (r < 0)
			return STEP_ERROR;
		if (n == 2 && (pfd[1].revents & POLLIN))
			return STEP_SIGNAL_FD;
		if (pfd[0].revents)
			return STEP_READY;
	}
}

/* Reads into l up to the end of a line; a line too long is read to its
 * end all the same, keeping nothing past the room. */
static enum step
read_rest(int fd, int signal_fd, const sigset_t *wait_mask, struct line *l)
{
	enum step s;
	ssize_t r;
	char ch;

	for (;;) {
		s = wait_input(fd, signal_fd, wait_mask);
		if (s != STEP_READY)
			return s;
		r = read(fd, &ch, 1);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0)
			return STEP_ERROR;
		if (r == 0)
			return l->has_bytes ? STEP_LINE : STEP_EOF;
		l->has_bytes = true;
		if (ch == '\n')
			return STEP_LINE;
		line_add(l, ch);
	}
}

static enum tty_result
line_finish(struct line *l, enum step s, size_t *len)
{
	int saved_errno = errno;
	enum tty_result r;

	switch (s) {
	case STEP_LINE:
		r = l->too_long ? TTY_TOO_LONG : TTY_OK;
		break;
	case STEP_EOF:
		r = TTY_EOF;
		break;
	case STEP_SIGNAL_FD:
	case STEP_CAUGHT:
		r = TTY_INTERRUPTED;
		break;
	default:
		r = TTY_ERROR;
		break;
	}
	*len = 0;
	if (r == TTY_OK) {
		l->out[l->n] = '\0';
		*len = l->n;
	} else {
		sodium_memzero(l->out, l->cap);
	}
	errno = saved_errno;
	return r;
}

static bool
line_init(struct line *l, char *out, size_t cap, size_t *len)
{
	memset(l, 0, sizeof(*l));
	l->out = out;
	l->cap = cap;
	*len = 0;
	if (cap == 0) {
		errno = EINVAL;
		return false;
	}
	out[0] = '\0';
	return true;
}

enum tty_result
tty_read_line(int fd, int signal_fd, char *out, size_t cap, size_t *len)
{
	struct line l;

	if (!line_init(&l, out, cap, len))
		return TTY_ERROR;
	return line_finish(&l, read_rest(fd, signal_fd, NULL, &l), len);
}

/* ---- the terminal and the signals around a hidden prompt --------------- */

static void
terminal_quiet(struct guard *g)
{
	struct termios quiet;

	if (!g->has_termios)
		return;
	quiet = g->saved;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
}

static void
terminal_restore(struct guard *g)
{
	if (g->has_termios)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &g->saved);
}

/*
 * Blocks the prompt's signals and catches those the caller neither blocks
 * nor ignores; then echo off. Blocking comes first, so no signal can find
 * the terminal changed and our handler not yet there.
 */
static void
guard_begin(struct guard *g)
{
	sigset_t set;
	size_t i;

	memset(g, 0, sizeof(*g));
	sigemptyset(&set);
	for (i = 0; i < N_SIGNALS; i++)
		sigaddset(&set, signal_at(i));
	sigprocmask(SIG_BLOCK, &set, &g->caller_mask);
	caught_end = caught_stop = 0;
	for (i = 0; i < N_SIGNALS; i++) {
		int signo = signal_at(i);

		if (sigismember(&g->caller_mask, signo) == 1 ||
		    sigaction(signo, NULL, &g->old[i]) < 0 ||
		    g->old[i].sa_handler == SIG_IGN)
			continue;
		g->is_ours[i] = catch_signal(signo, NULL) == 0;
	}
	g->has_termios = tcgetattr(STDIN_FILENO, &g->saved) == 0;
	terminal_quiet(g);
}

/* The caller's handlers, then its mask: a signal that came meanwhile
 * (pending, since blocked) goes to the caller's handler. */
static void
guard_end(struct guard *g)
{
	size_t i;

	for (i = 0; i < N_SIGNALS; i++)
		if (g->is_ours[i])
			sigaction(signal_at(i), &g->old[i], NULL);
	sigprocmask(SIG_SETMASK, &g->caller_mask, NULL);
}

/* Ctrl-Z at the prompt: echo back on, stop as the caller would have, and
 * echo off again once continued. */
static void
stop_here(struct guard *g)
{
	int signo = caught_stop;
	sigset_t one;
	size_t i;

	caught_stop = 0;
	for (i = 0; i < N_SIGNALS && signal_at(i) != signo; i++)
		;
	if (i == N_SIGNALS || !g->is_ours[i])
		return;
	terminal_restore(g);
	sigaction(signo, &g->old[i], NULL);
	sigemptyset(&one);
	sigaddset(&one, signo);
	raise(signo); /* pending until unblocked: it stops us right there */
	sigprocmask(SIG_UNBLOCK, &one, NULL);
	sigprocmask(SIG_BLOCK, &one, NULL);
	catch_signal(signo, NULL);
	terminal_quiet(g);
}

static bool
show(const char *text)
{
	size_t len = strlen(text), done = 0;
	ssize_t n;

	while (done < len) {
		n = write(STDERR_FILENO, text + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		done += (size_t)n;
	}
	return true;
}

enum tty_result
tty_read_hidden(const char *prompt, int signal_fd, char *out, size_t cap,
		size_t *len)
{
	struct guard g;
	struct line l;
	enum step s;
	int saved_errno, end_signo;

	if (!line_init(&l, out, cap, len))
		return TTY_ERROR;
	guard_begin(&g);
	for (;;) {
		if (!show(prompt)) {
			s = STEP_ERROR;
			break;
		}
		s = read_rest(STDIN_FILENO, signal_fd, &g.caller_mask, &l);
		if (s != STEP_CAUGHT || caught_end || !caught_stop)
			break;
		stop_here(&g);
	}
	saved_errno = errno;
	terminal_restore(&g);
	/* The person's Enter was not echoed. */
	if (!show("\n") && s == STEP_LINE) {
		saved_errno = errno;
		s = STEP_ERROR;
	}
	end_signo = caught_end;
	caught_end = caught_stop = 0;
	guard_end(&g);
	if (end_signo)
		raise(end_signo); /* its usual action, now echo is back */
	errno = saved_errno;
	return line_finish(&l, s, len);
}

bool
tty_is_interactive(void)
{
	return isatty(STDIN_FILENO) == 1;
}
