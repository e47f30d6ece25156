/* SPDX-License-Identifier: MIT */
/*
 * Reading a secret line from a person: a password or a code, on the
 * terminal with echo off, or one line of a file or pipe for scripts. Used
 * by vpnc (its login prompts) and vpnctl (new passwords). Only stdin,
 * stderr and the descriptors given are touched; nothing is buffered by
 * stdio, so no copy of a secret is left in a FILE buffer, and nothing past
 * the newline is consumed (a script's next line stays for the next
 * prompt). The caller wipes what it is given.
 */
#ifndef VPN_TTY_H
#define VPN_TTY_H

#include <stdbool.h>
#include <stddef.h>

enum tty_result {
	TTY_OK,
	TTY_EOF,         /* end of input before any byte of a line */
	TTY_TOO_LONG,    /* the line does not fit `cap`: refused (not cut),
			  * the rest of it consumed, `out` wiped; tell the
			  * person the limit and ask again, or give up */
	TTY_INTERRUPTED, /* signal_fd became readable, or a signal that
			  * ends the prompt arrived (see tty_read_hidden) */
	TTY_ERROR,       /* a read failed; errno says why */
};

/*
 * One line from `fd` into `out` (at most cap - 1 bytes and a NUL; *len
 * without the NUL), without the newline or a "\r" right before it. An
 * empty line is TTY_OK with *len 0; a last line without a newline is
 * TTY_OK too. Waits in poll(); if `signal_fd` (a signalfd, or -1) becomes
 * readable first, gives up with TTY_INTERRUPTED and leaves the signal
 * unread for its owner. `out` is wiped on anything but TTY_OK.
 */
enum tty_result tty_read_line(int fd, int signal_fd, char *out, size_t cap,
			      size_t *len) __attribute__((warn_unused_result));

/*
 * Writes `prompt` to stderr and reads a line (as tty_read_line) from
 * stdin with echo off when stdin is a terminal; a newline goes to stderr
 * after the answer, since the person's Enter was not echoed. Echo is
 * restored on every path:
 *  - SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGALRM and SIGPIPE, unless
 *    blocked or ignored by the caller, are caught while the prompt waits;
 *    the terminal is restored, the caller's handlers and mask are put
 *    back, and the signal is raised again, so its usual action happens
 *    (a program that would have died, dies, with echo on); if that returns,
 *    the result is TTY_INTERRUPTED;
 *  - SIGTSTP, SIGTTIN and SIGTTOU (Ctrl-Z) restore the terminal before
 *    the process stops, and on SIGCONT echo goes off again and the prompt
 *    is shown again (as OpenBSD's readpassphrase does);
 *  - signals the caller blocks for its `signal_fd` stay blocked: they end
 *    the prompt through signal_fd.
 * Not for use by a process with more than one thread.
 */
enum tty_result tty_read_hidden(const char *prompt, int signal_fd, char *out,
				size_t cap, size_t *len)
	__attribute__((warn_unused_result));

/* True if standard input is a terminal. */
bool tty_is_interactive(void);

#endif
