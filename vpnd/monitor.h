/* SPDX-License-Identifier: MIT */
/*
 * The monitor: the one part of vpnd that stays root once vpnd has dropped
 * its privileges (privs.h), after OpenSSH's monitor and ocserv's security
 * module; a helper process of shared/privsep.h, forked before vpnd opens
 * anything. It keeps no key (its copy of the configuration is wiped) and
 * never sees network input. It answers two requests, neither with an
 * argument: the files it may touch are fixed when it starts.
 *
 * What it does is what uid 0's ownership of files allows and vpnd's user
 * cannot do: read the configuration (root's, mode 0600, for a reload) and
 * remove the control socket from a directory that is root's (/run). It
 * holds no capability for that: uid 0 owns those files. So it drops every
 * capability (the bounding set too, with securebits locked so uid 0
 * regains none), sets no_new_privs, and runs under an allow-list of its
 * own (vpnd/syscalls.c). A file that root reaches only by overriding
 * permissions (in a directory another user keeps to itself) is out of
 * its reach: the configuration belongs under /etc/vpnd, the socket
 * under /run. Network changes (addresses, routes, net sysctls, later
 * proxy ARP and NAT) stay in vpnd itself, which keeps CAP_NET_ADMIN for
 * its netlink socket.
 *
 * Without a monitor (vpnd runs as root: user = "root"), the same calls do
 * the work in vpnd's own process, so callers never need to know.
 */
#ifndef VPND_MONITOR_H
#define VPND_MONITOR_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "privsep.h"

enum monitor_op {
	MONITOR_READ_CONFIG = 1,   /* no payload; answer: the file, opened
				    * read-only, as a descriptor */
	MONITOR_REMOVE_SOCKET = 2, /* no payload; answer: nothing */
};

struct monitor {
	bool has_process;
	struct privsep helper;
	char config_path[PATH_MAX];
	char socket_path[PATH_MAX];
};

/*
 * Sets m up for cfg's configuration file and control socket. With
 * `fork_process`, forks the monitor, which logs to syslog if `detached`
 * (vpnd is a daemon); the caller must have no other thread yet. 0 or
 * -errno after logging.
 */
int monitor_start(struct monitor *m, struct vpnd_config *cfg,
		  bool fork_process, bool detached)
	__attribute__((warn_unused_result));
/* Ends the process (closing our end is its signal) and waits for it. */
void monitor_stop(struct monitor *m);

/* The configuration file's bytes, malloc'd and NUL-terminated; *len
 * excludes the NUL. At most CONF_MAX_FILE_LEN (else -EFBIG). 0 or
 * -errno. */
int monitor_read_config(struct monitor *m, char **text, size_t *len)
	__attribute__((warn_unused_result));
/* The same for any file, read by the caller itself. */
int monitor_read_file(const char *path, char **text, size_t *len)
	__attribute__((warn_unused_result));
/* Removes the control socket unless a vpnd answers on it. 0 (also when
 * it is gone already), or -errno (-EEXIST: something else is there). */
int monitor_remove_socket(struct monitor *m);

#endif
