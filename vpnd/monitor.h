/* SPDX-License-Identifier: MIT */
/*
 * The monitor: the one part of vpnd that stays root once vpnd has dropped
 * its privileges (privs.h), after OpenSSH's monitor and ocserv's security
 * module. It is a process forked before vpnd opens anything; it keeps no
 * key (its copy of the configuration is wiped), no descriptor but its end
 * of a socketpair and stderr, and never sees network input. It answers a
 * fixed set of requests, one datagram each, decoded as strictly as the
 * wire protocol; no request names a file: the files it may touch are
 * fixed when it starts. It exits when vpnd closes its end (or dies).
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
 * under /run. Network changes (addresses, routes, net sysctls,
 * later proxy ARP and NAT) stay in vpnd itself, which keeps CAP_NET_ADMIN
 * for its netlink socket.
 *
 * Without a monitor (vpnd runs as root: user = "root"), the same calls do
 * the work in vpnd's own process, so callers never need to know.
 */
#ifndef VPND_MONITOR_H
#define VPND_MONITOR_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"

#define MONITOR_VERSION 1
#define MONITOR_REQUEST_HEADER_LEN 4  /* version, op, payload length (le16) */
#define MONITOR_ANSWER_HEADER_LEN 12  /* version, op, 0, 0, errno (le32),
				       * payload length (le32) */
#define MONITOR_REQUEST_PAYLOAD_MAX 0 /* no request carries data yet */
#define MONITOR_ANSWER_PAYLOAD_MAX 0  /* nor any answer */
#define MONITOR_TIMEOUT_MS 5000

enum monitor_op {
	MONITOR_READ_CONFIG = 1,   /* answer: the file, opened read-only,
				    * passed as a descriptor (SCM_RIGHTS) */
	MONITOR_REMOVE_SOCKET = 2, /* answer: nothing */
};

struct monitor_request {
	enum monitor_op op;
};

struct monitor {
	pid_t pid;  /* 0: no process, requests run here */
	int fd;     /* -1 without a process */
	pthread_mutex_t lock; /* one exchange at a time */
	char config_path[PATH_MAX];
	char socket_path[PATH_MAX];
};

/*
 * Sets m up for cfg's configuration file and control socket. With
 * `fork_process`, forks the monitor process, which logs to syslog if
 * `detached` (vpnd is a daemon); the caller must have no other thread
 * yet (the child never returns). 0 or -errno after logging.
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

/* The codec, for the two ends and the tests. Each returns the datagram's
 * length, or 0 if it does not fit `cap`. */
size_t monitor_request_encode(const struct monitor_request *r, uint8_t *out,
			      size_t cap);
size_t monitor_answer_encode(enum monitor_op op, int err,
			     const uint8_t *payload, size_t payload_len,
			     uint8_t *out, size_t cap);
/* Strict: the exact length, a known op, no payload where none is due. 0
 * or -EPROTO. */
int monitor_request_decode(const uint8_t *buf, size_t len,
			   struct monitor_request *out);
/* The answer to `op`: 0 with *err (0 or a positive errno) and the payload
 * (pointing into buf), or -EPROTO. */
int monitor_answer_decode(const uint8_t *buf, size_t len, enum monitor_op op,
			  int *err, const uint8_t **payload,
			  size_t *payload_len);

#endif
