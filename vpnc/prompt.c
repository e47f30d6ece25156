// SPDX-License-Identifier: MIT
/*
 * Credential prompts (see prompt.h). The code is only ever held in memory,
 * for one login, and wiped after.
 */
#include "prompt.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "log.h"
#include "login.h"

bool
prompt_is_interactive(void)
{
	return isatty(STDIN_FILENO) == 1;
}

/*
 * Reads one line from fd byte by byte (so nothing past the line is
 * consumed: a script's next line stays for the next prompt), giving up if
 * signal_fd becomes readable.
 */
static enum prompt_result
read_line(int fd, int signal_fd, char *out, size_t cap, size_t *len)
{
	struct pollfd pfd[2] = {
		{ .fd = fd, .events = POLLIN },
		{ .fd = signal_fd, .events = POLLIN },
	};
	size_t n = 0;

	for (;;) {
		char ch;
		ssize_t r;

		if (poll(pfd, signal_fd >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return PROMPT_ERROR;
		}
		if (signal_fd >= 0 && (pfd[1].revents & POLLIN))
			return PROMPT_INTERRUPTED;
		r = read(fd, &ch, 1);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0)
			return PROMPT_ERROR;
		if (r == 0) {
			if (n == 0)
				return PROMPT_NO_INPUT;
			break;
		}
		if (ch == '\n')
			break;
		if (ch != '\r' && n + 1 < cap)
			out[n++] = ch;
	}
	out[n] = '\0';
	*len = n;
	return PROMPT_OK;
}

/*
 * Prompts on the terminal with echo off, restoring it whatever happens.
 * Echo goes off before the question is shown, as in OpenSSH's
 * readpassphrase: someone who starts typing as soon as they see it would
 * otherwise have the first characters echoed, or thrown away by the
 * TCSAFLUSH.
 */
static enum prompt_result
ask_tty(const char *question, int signal_fd, char *out, size_t cap,
	size_t *len)
{
	struct termios saved, quiet;
	enum prompt_result r = PROMPT_ERROR;
	bool restore;

	restore = tcgetattr(STDIN_FILENO, &saved) == 0;
	if (restore) {
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	if (write(STDERR_FILENO, question, strlen(question)) >= 0)
		r = read_line(STDIN_FILENO, signal_fd, out, cap, len);
	if (restore)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
	if (write(STDERR_FILENO, "\n", 1) < 0)
		r = PROMPT_ERROR;
	return r;
}

static enum prompt_result
read_password_file(const char *path, char *out, size_t cap, size_t *len)
{
	struct stat st;
	enum prompt_result r;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		log_err("cannot open password file %s: %s", path,
			strerror(errno));
		return PROMPT_ERROR;
	}
	if (fstat(fd, &st) == 0 && (st.st_mode & 077))
		log_warn("password file %s is readable by others; "
			 "chmod 600 it", path);
	r = read_line(fd, -1, out, cap, len);
	close(fd);
	if (r == PROMPT_NO_INPUT)
		log_err("password file %s is empty", path);
	return r == PROMPT_OK ? r : PROMPT_ERROR;
}

enum prompt_result
prompt_credentials(struct credentials *c, const char *user,
		   const char *password_file, int signal_fd)
{
	bool tty = prompt_is_interactive();
	char question[128], raw[PROMPT_MAX];
	enum prompt_result r;
	size_t raw_len = 0;

	memset(c, 0, sizeof(*c));
	snprintf(question, sizeof(question), "Password for %s: ", user);
	if (password_file)
		r = read_password_file(password_file, c->password,
				       sizeof(c->password), &c->password_len);
	else if (tty)
		r = ask_tty(question, signal_fd, c->password,
			    sizeof(c->password), &c->password_len);
	else
		r = read_line(STDIN_FILENO, signal_fd, c->password,
			      sizeof(c->password), &c->password_len);
	if (r == PROMPT_OK && tty)
		r = ask_tty("Authenticator code: ", signal_fd, raw, sizeof(raw),
			    &raw_len);
	else if (r == PROMPT_OK)
		r = read_line(STDIN_FILENO, signal_fd, raw, sizeof(raw),
			      &raw_len);
	if (r == PROMPT_OK) {
		/* Rule 7: people type "123 456". */
		c->code_len = login_code_strip_spaces(c->code, sizeof(c->code),
						      raw);
		if (!c->password_len || !c->code_len)
			r = PROMPT_NO_INPUT;
	}
	sodium_memzero(raw, sizeof(raw));
	if (r != PROMPT_OK)
		prompt_wipe(c);
	return r;
}

void
prompt_wipe(struct credentials *c)
{
	sodium_memzero(c, sizeof(*c));
}
