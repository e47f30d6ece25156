/* SPDX-License-Identifier: MIT */
/*
 * Kernel network settings under /proc/sys/net: read one, write one, and
 * remember the ones a program changed, with the value each had, to put
 * them back when it stops. A value is put back only if the program
 * changed it and it is still what the program wrote: a setting someone
 * else changed meanwhile is theirs. Nothing survives the process: after a
 * crash (SIGKILL) the values stay as written until someone resets them.
 *
 * Names are paths under /proc/sys ("net/ipv4/conf/all/send_redirects"),
 * refused unless they stay inside /proc/sys/net, so a privileged process
 * may take them from a less trusted one. Writing needs CAP_NET_ADMIN in
 * the network namespace's user namespace (or root), and a /proc/sys that
 * is not mounted read-only (systemd's ProtectKernelTunables); reading
 * needs nothing. All writes go through one function, `write` in struct
 * sysctl_saved (sysctl_write when NULL), so a program that drops its
 * privileges can route them to a process that kept them.
 */
#ifndef VPN_SYSCTL_H
#define VPN_SYSCTL_H

#include <stdbool.h>
#include <stddef.h>

#define SYSCTL_NAME_LEN 96   /* "net/ipv4/conf/<ifname>/send_redirects" */
#define SYSCTL_VALUE_LEN 32  /* one integer, as the kernel prints it */
#define SYSCTL_SAVED_MAX 8

/* Writes `value` to /proc/sys/`name`. 0 or -errno. */
typedef int (*sysctl_write_fn)(void *arg, const char *name,
			       const char *value);

struct sysctl_change {
	char name[SYSCTL_NAME_LEN];
	char old_value[SYSCTL_VALUE_LEN]; /* before the program's change */
	char new_value[SYSCTL_VALUE_LEN]; /* what the program wrote */
};

/* Zeroed is ready: nothing changed, writes by sysctl_write(). */
struct sysctl_saved {
	struct sysctl_change changes[SYSCTL_SAVED_MAX];
	unsigned int n;
	sysctl_write_fn write; /* NULL: sysctl_write() */
	void *write_arg;
};

/* A path under /proc/sys/net: "net/" then plain components, no "." or
 * "..", no empty component, shorter than SYSCTL_NAME_LEN. */
bool sysctl_name_valid(const char *name);
/* The value of /proc/sys/`name`, without its newline, into value[cap].
 * 0 or -errno (-ENOSPC if it does not fit). Needs no privilege. */
int sysctl_read(const char *name, char *value, size_t cap);
/* Writes `value` to /proc/sys/`name`: the one call that needs privilege.
 * 0 or -errno. The signature is a sysctl_write_fn's (arg unused). */
int sysctl_write(void *arg, const char *name, const char *value);
/* "net/ipv4/ip_forward" as sysctl(8) names it: "net.ipv4.ip_forward". */
char *sysctl_display_name(const char *name, char out[SYSCTL_NAME_LEN]);

/* Writes through s->write and remembers nothing: for a setting that goes
 * away with its device. 0 or -errno. */
int sysctl_set(const struct sysctl_saved *s, const char *name,
	       const char *value);
/*
 * Sets `name` to `value` through s->write and remembers what it was, if
 * it was something else (logged, at info); a value already right is left
 * alone and not remembered. 0 or -errno (-ENOSPC: the list is full, and
 * nothing was written).
 */
int sysctl_change(struct sysctl_saved *s, const char *name,
		  const char *value);
/*
 * Puts back, newest first, every remembered value that is still what was
 * written, through s->write; logs each, and each failure. Forgets the
 * list. Safe to call again (it then does nothing).
 */
void sysctl_restore(struct sysctl_saved *s);

#endif
