/* SPDX-License-Identifier: MIT */
/*
 * The control socket vpnctl talks to (protocol: ctlmsg.h): a Unix stream
 * socket, mode 0660 in the configured group, served on vpnd's event loop.
 * Every connection is non-blocking and bounded (a request of at most
 * CTLMSG_REQUEST_MAX bytes, CTL_MAX_CONNS at once, CTL_TIMEOUT_NS to
 * finish), so a slow or hostile client costs the packet path nothing.
 * One request per connection; its answer may wait for a store job, so a
 * command can be answered later with ctl_answer().
 *
 * This file is the edge: sockets, buffers, credentials. What a command
 * does is the handler's (ctlcmd.c).
 */
#ifndef VPND_CTL_H
#define VPND_CTL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "ctlmsg.h"
#include "loop.h"

#define CTL_MAX_CONNS 8
#define CTL_TIMEOUT_NS (10ull * 1000000000ull)

struct ctl;

/* Names one connection across its lifetime (a slot is reused). */
struct ctl_ticket {
	unsigned int slot;
	uint32_t generation;
};

/* Who asked (SO_PEERCRED), for the log of what they changed. */
struct ctl_peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
};

/*
 * Called with a decoded request. Answer at once by filling `answer`
 * (ctlmsg_writer_init'ed by the caller, finished by the handler) and
 * returning true; or return false and call ctl_answer() with `t` later.
 */
typedef bool (*ctl_handler_fn)(void *arg, const struct ctl_peer *who,
			       const struct ctlmsg *request,
			       struct ctl_ticket t,
			       struct ctlmsg_writer *answer);

struct ctl_conn {
	struct ctl *ctl;
	int fd;
	uint32_t generation;
	bool is_waiting;  /* the handler answers later */
	bool is_writing;
	char in[CTLMSG_REQUEST_MAX];
	size_t in_len;
	struct ctlmsg_writer out;
	size_t out_sent;
	uint64_t deadline_ns;
	struct ctl_peer peer;
};

struct ctl {
	int listen_fd;
	char path[108];
	struct loop *loop;
	ctl_handler_fn handler;
	void *arg;
	struct ctl_conn conns[CTL_MAX_CONNS];
	uint64_t refused; /* connections over CTL_MAX_CONNS */
};

/*
 * Listens on `path` (replacing a stale socket, refusing if another vpnd
 * answers there), mode 0660, group `gid` ((gid_t)-1: keep ours), served
 * on `loop`. 0 or -errno, after logging why.
 */
int ctl_open(struct ctl *c, const char *path, gid_t gid, struct loop *loop,
	     ctl_handler_fn handler, void *arg)
	__attribute__((warn_unused_result));
/* Closes every connection and the socket, and removes its file. */
void ctl_close(struct ctl *c);

/* Answers a request its handler deferred; ignored if that connection is
 * gone. `answer` is taken over (freed by ctl). */
void ctl_answer(struct ctl *c, struct ctl_ticket t,
		struct ctlmsg_writer *answer);

/* The earliest connection deadline (UINT64_MAX: none). */
uint64_t ctl_deadline(const struct ctl *c);
/* Closes connections past their deadline. */
void ctl_expire(struct ctl *c, uint64_t now_ns);

#endif
