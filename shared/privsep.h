/* SPDX-License-Identifier: MIT */
/*
 * Privilege separation, the mechanics: a helper process forked before a
 * program gives up its privileges, which keeps what the program may no
 * longer do, and answers its requests over a socketpair, after OpenSSH's
 * monitor and ocserv's security module. Which requests exist and what
 * they do is each program's (vpnd/monitor.c, vpnc/resolver.c): here is
 * the process, the channel and the framing.
 *
 * The helper keeps no descriptor but its end and stdio (syslog's socket
 * is opened again if needed), ignores the signals meant for the program
 * (a terminal's Ctrl-C, systemd's SIGTERM: the program still needs it to
 * clean up), and exits when the program's end closes, the program having
 * exited or died. It reads one request at a time and answers it before
 * the next; the program's end makes one exchange at a time (under a
 * lock) and gives up on a helper that does not answer within
 * PRIVSEP_TIMEOUT_MS, whose later answers would no longer match.
 *
 * Every message is one datagram (SOCK_SEQPACKET), little-endian:
 *   request  version (1), op, payload length (le16), payload
 *   answer   version (1), op, 0, 0, errno (le32), payload length (le32),
 *            payload; with at most one descriptor (SCM_RIGHTS)
 * The framing is checked here (version, lengths exact, zero bytes); each
 * program checks its ops and payloads as strictly.
 */
#ifndef VPN_PRIVSEP_H
#define VPN_PRIVSEP_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PRIVSEP_VERSION 1
#define PRIVSEP_REQUEST_HEADER_LEN 4
#define PRIVSEP_ANSWER_HEADER_LEN 12
#define PRIVSEP_PAYLOAD_MAX 4096  /* either way */
#define PRIVSEP_TIMEOUT_MS 5000
#define PRIVSEP_ERRNO_MAX 4095    /* the kernel's MAX_ERRNO */

struct privsep_request {
	uint8_t op;
	const uint8_t *payload;
	size_t len;
};

/*
 * The helper's work for one request: an errno for the answer (0: done),
 * an answer payload of up to PRIVSEP_PAYLOAD_MAX bytes in `out` (*out_len,
 * 0 by default), and a descriptor to hand over in *pass_fd (-1 by
 * default; closed once sent).
 */
typedef int (*privsep_handler_fn)(void *arg, const struct privsep_request *r,
				  uint8_t *out, size_t *out_len, int *pass_fd);
/* Runs in the helper before it serves: wipes what it must not keep,
 * confines it. 0, or -errno to end it. */
typedef int (*privsep_init_fn)(void *arg);

struct privsep {
	pid_t pid;  /* 0: no helper */
	int fd;     /* -1: none, or given up */
	pthread_mutex_t lock;
};

/*
 * Forks the helper, which runs init(arg) then serves handler(arg) until
 * the program's end closes; it logs to syslog if `detached` (the program
 * is a daemon). The caller must have no other thread (the child never
 * returns). 0 or -errno.
 */
int privsep_start(struct privsep *p, privsep_init_fn init,
		  privsep_handler_fn handler, void *arg, bool detached)
	__attribute__((warn_unused_result));
/* Closes the program's end (the helper's signal to exit), waits for it. */
void privsep_stop(struct privsep *p);

/*
 * One exchange: the helper's errno as -errno (or 0), its payload in
 * `out` (up to cap bytes; more is -EPROTO) and *out_len, its descriptor
 * in *fd_out (NULL: a descriptor is -EPROTO; else one must come with
 * success). -EPIPE, -ETIMEDOUT, -EPROTO: the helper is given up.
 */
int privsep_call(struct privsep *p, uint8_t op, const void *payload,
		 size_t len, uint8_t *out, size_t cap, size_t *out_len,
		 int *fd_out) __attribute__((warn_unused_result));

/* The framing, for both ends and the tests. The encoders return the
 * datagram's length, or 0 if it does not fit `cap` or breaks a rule. */
size_t privsep_request_encode(uint8_t op, const void *payload, size_t len,
			      uint8_t *out, size_t cap);
size_t privsep_answer_encode(uint8_t op, int err, const void *payload,
			     size_t len, uint8_t *out, size_t cap);
/* 0, or -EPROTO for anything but an exact, well-formed message. */
int privsep_request_decode(const uint8_t *buf, size_t len,
			   struct privsep_request *out);
/* The answer to `op`: 0 with *err (0 or a positive errno) and the
 * payload (pointing into buf), or -EPROTO. */
int privsep_answer_decode(const uint8_t *buf, size_t len, uint8_t op,
			  int *err, const uint8_t **payload,
			  size_t *payload_len);

#endif
