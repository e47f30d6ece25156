/* SPDX-License-Identifier: MIT */
/*
 * Asking the person for the password and the authenticator code: on the
 * terminal without echo (shared/tty.c), or one line each from a file or
 * standard input for scripts. A signal arriving on `signal_fd` abandons a
 * prompt, so Ctrl-C works while vpnc waits for a code. A line longer than
 * PROMPT_MAX - 1 bytes is refused with a message, never cut.
 */
#ifndef VPNC_PROMPT_H
#define VPNC_PROMPT_H

#include <stdbool.h>
#include <stddef.h>

#define PROMPT_MAX 256

struct credentials {
	char password[PROMPT_MAX];
	size_t password_len;
	char code[PROMPT_MAX];
	size_t code_len;
};

enum prompt_result {
	PROMPT_OK,
	PROMPT_NO_INPUT,   /* no terminal and standard input is at its end */
	PROMPT_INTERRUPTED,/* a signal arrived */
	PROMPT_ERROR,
};

/* True if standard input is a terminal (prompts), else scripts feed lines. */
bool prompt_is_interactive(void);

/*
 * Password (from password_file if not NULL, else prompt or stdin line),
 * then the code (prompt or stdin line; spaces removed). Wipes on failure.
 */
enum prompt_result prompt_credentials(struct credentials *c, const char *user,
				      const char *password_file,
				      int signal_fd);

void prompt_wipe(struct credentials *c);

#endif
