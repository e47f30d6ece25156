// SPDX-License-Identifier: MIT
/*
 * Credential prompts (see prompt.h). The terminal, its echo and its
 * signals are shared/tty.c's; this file decides what is asked, from where,
 * and what the person is told. The code is only ever held in memory, for
 * one login, and wiped after.
 */
#include "prompt.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "login.h"
#include "tty.h"

bool
prompt_is_interactive(void)
{
	return tty_is_interactive();
}

/* What tty_read_*() gave, as a prompt result; `what` names the line in
 * the messages ("the password", "the code"). */
static enum prompt_result
outcome(enum tty_result r, const char *what, const char *where)
{
	switch (r) {
	case TTY_OK:
		return PROMPT_OK;
	case TTY_EOF:
		return PROMPT_NO_INPUT;
	case TTY_INTERRUPTED:
		return PROMPT_INTERRUPTED;
	case TTY_TOO_LONG:
		log_err("%s%s is longer than %d bytes, the protocol's limit; "
			"nothing was sent", where, what, PROMPT_MAX - 1);
		return PROMPT_ERROR;
	default:
		log_err("%scannot read %s: %s", where, what, strerror(errno));
		return PROMPT_ERROR;
	}
}

/* One line: on the terminal with echo off, else from standard input. */
static enum prompt_result
ask(bool tty, const char *question, const char *what, int signal_fd,
    char *out, size_t cap, size_t *len)
{
	enum tty_result r;

	if (tty)
		r = tty_read_hidden(question, signal_fd, out, cap, len);
	else
		r = tty_read_line(STDIN_FILENO, signal_fd, out, cap, len);
	return outcome(r, what, "");
}

static enum prompt_result
read_password_file(const char *path, char *out, size_t cap, size_t *len)
{
	char where[PATH_MAX + 16];
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
	snprintf(where, sizeof(where), "%s: ", path);
	r = outcome(tty_read_line(fd, -1, out, cap, len), "the password",
		    where);
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
	else
		r = ask(tty, question, "the password", signal_fd, c->password,
			sizeof(c->password), &c->password_len);
	if (r == PROMPT_OK)
		r = ask(tty, "Authenticator code: ", "the code", signal_fd, raw,
			sizeof(raw), &raw_len);
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
