// SPDX-License-Identifier: MIT
/*
 * Privilege separation, the mechanics (see privsep.h): the framing, the
 * helper process and its serving loop, and the program's end of an
 * exchange.
 */
#include "privsep.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

/* The helper's end of the socketpair, once it has closed the rest. */
#define HELPER_FD 3

/* ---- framing -------------------------------------------------------------------- */

static void
put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t
get_le32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

size_t
privsep_request_encode(uint8_t op, const void *payload, size_t len,
		       uint8_t *out, size_t cap)
{
	if (len > PRIVSEP_PAYLOAD_MAX || cap < PRIVSEP_REQUEST_HEADER_LEN + len)
		return 0;
	out[0] = PRIVSEP_VERSION;
	out[1] = op;
	out[2] = (uint8_t)len;
	out[3] = (uint8_t)(len >> 8);
	if (len)
		memcpy(out + PRIVSEP_REQUEST_HEADER_LEN, payload, len);
	return PRIVSEP_REQUEST_HEADER_LEN + len;
}

int
privsep_request_decode(const uint8_t *buf, size_t len,
		       struct privsep_request *out)
{
	size_t payload_len;

	if (len < PRIVSEP_REQUEST_HEADER_LEN || buf[0] != PRIVSEP_VERSION)
		return -EPROTO;
	payload_len = buf[2] | (size_t)buf[3] << 8;
	if (payload_len > PRIVSEP_PAYLOAD_MAX ||
	    len != PRIVSEP_REQUEST_HEADER_LEN + payload_len)
		return -EPROTO;
	out->op = buf[1];
	out->payload = buf + PRIVSEP_REQUEST_HEADER_LEN;
	out->len = payload_len;
	return 0;
}

size_t
privsep_answer_encode(uint8_t op, int err, const void *payload, size_t len,
		      uint8_t *out, size_t cap)
{
	if (err < 0 || err > PRIVSEP_ERRNO_MAX || len > PRIVSEP_PAYLOAD_MAX ||
	    cap < PRIVSEP_ANSWER_HEADER_LEN + len)
		return 0;
	out[0] = PRIVSEP_VERSION;
	out[1] = op;
	out[2] = out[3] = 0;
	put_le32(out + 4, (uint32_t)err);
	put_le32(out + 8, (uint32_t)len);
	if (len)
		memcpy(out + PRIVSEP_ANSWER_HEADER_LEN, payload, len);
	return PRIVSEP_ANSWER_HEADER_LEN + len;
}

int
privsep_answer_decode(const uint8_t *buf, size_t len, uint8_t op, int *err,
		      const uint8_t **payload, size_t *payload_len)
{
	uint32_t e, n;

	if (len < PRIVSEP_ANSWER_HEADER_LEN || buf[0] != PRIVSEP_VERSION ||
	    buf[1] != op || buf[2] || buf[3])
		return -EPROTO;
	e = get_le32(buf + 4);
	n = get_le32(buf + 8);
	if (e > PRIVSEP_ERRNO_MAX || n > PRIVSEP_PAYLOAD_MAX ||
	    len != PRIVSEP_ANSWER_HEADER_LEN + n)
		return -EPROTO;
	*err = (int)e;
	*payload = buf + PRIVSEP_ANSWER_HEADER_LEN;
	*payload_len = n;
	return 0;
}

/* ---- the helper ------------------------------------------------------------------ */

static int
send_answer(int fd, const uint8_t *buf, size_t len, int pass_fd)
{
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct iovec iov = { (void *)buf, len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cmsg;

	if (pass_fd >= 0) {
		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		msg.msg_controllen = sizeof(control.buf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &pass_fd, sizeof(int));
	}
	return sendmsg(fd, &msg, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

static int
serve_one(int fd, privsep_handler_fn handler, void *arg, const uint8_t *req,
	  size_t len)
{
	static uint8_t out[PRIVSEP_PAYLOAD_MAX];
	uint8_t ans[PRIVSEP_ANSWER_HEADER_LEN + PRIVSEP_PAYLOAD_MAX];
	struct privsep_request r;
	size_t out_len = 0, n;
	int err, pass_fd = -1, ret;

	if (privsep_request_decode(req, len, &r) < 0) {
		log_warn("privsep: a malformed request (%zu bytes) refused",
			 len);
		/* Op 0 is nobody's: the program refuses this answer. */
		n = privsep_answer_encode(0, EPROTO, NULL, 0, ans, sizeof(ans));
		return send_answer(fd, ans, n, -1);
	}
	err = handler(arg, &r, out, &out_len, &pass_fd);
	if (err < 0 || err > PRIVSEP_ERRNO_MAX)
		err = EINVAL;
	n = privsep_answer_encode(r.op, err, out, err ? 0 : out_len, ans,
				  sizeof(ans));
	ret = n ? send_answer(fd, ans, n, err ? -1 : pass_fd) : -EINVAL;
	if (pass_fd >= 0)
		close(pass_fd);
	return ret;
}

static void
serve(int fd, privsep_handler_fn handler, void *arg)
{
	uint8_t req[PRIVSEP_REQUEST_HEADER_LEN + PRIVSEP_PAYLOAD_MAX];
	ssize_t n;

	for (;;) {
		n = recv(fd, req, sizeof(req), MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		/* MSG_TRUNC: n is the datagram's whole length, which a
		 * request longer than req fails to match. */
		if (serve_one(fd, handler, arg, req, (size_t)n) < 0)
			return;
	}
}

/* The program's signals: the helper ignores them, and keeps them blocked
 * from before the fork until it does. */
static const int ignored[] = { SIGTERM, SIGINT, SIGHUP, SIGPIPE };

static void
ignored_set(sigset_t *set)
{
	unsigned int i;

	sigemptyset(set);
	for (i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		sigaddset(set, ignored[i]);
}

static void __attribute__((noreturn))
helper_main(int fd, privsep_init_fn init, privsep_handler_fn handler,
	    void *arg, bool detached, const sigset_t *mask)
{
	unsigned int i;
	int ret, null_fd;

	for (i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		signal(ignored[i], SIG_IGN);
	sigprocmask(SIG_SETMASK, mask, NULL);
	if (fd != HELPER_FD) {
		if (dup3(fd, HELPER_FD, O_CLOEXEC) < 0)
			_exit(1);
		close(fd);
	}
	/* Nothing of the program's but stdio: not a daemon's start-up
	 * pipe, not syslog's socket (syslog() opens its own again). */
	closelog();
	close_range(HELPER_FD + 1, ~0U, 0);
	/* A daemon's stderr is its starter's terminal or pipe, which must
	 * not stay open for as long as we run. */
	if (detached) {
		null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (null_fd >= 0 && null_fd != STDERR_FILENO) {
			dup2(null_fd, STDERR_FILENO);
			close(null_fd);
		}
		log_init(program_invocation_short_name, true, log_level());
	}
	ret = init(arg);
	if (ret < 0) {
		log_err("privsep: the helper cannot start: %s", strerror(-ret));
		_exit(1);
	}
	serve(HELPER_FD, handler, arg);
	/* _exit: the program's atexit handlers and buffers are not ours. */
	_exit(0);
}

int
privsep_start(struct privsep *p, privsep_init_fn init,
	      privsep_handler_fn handler, void *arg, bool detached)
{
	struct timeval tv = { PRIVSEP_TIMEOUT_MS / 1000,
			      PRIVSEP_TIMEOUT_MS % 1000 * 1000 };
	sigset_t block, old;
	int sv[2], ret;
	pid_t pid;

	memset(p, 0, sizeof(*p));
	p->fd = -1;
	pthread_mutex_init(&p->lock, NULL);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	ignored_set(&block);
	sigprocmask(SIG_BLOCK, &block, &old);
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		helper_main(sv[1], init, handler, arg, detached, &old);
	}
	ret = pid < 0 ? -errno : 0;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (ret < 0) {
		close(sv[0]);
		close(sv[1]);
		return ret;
	}
	close(sv[1]);
	p->fd = sv[0];
	p->pid = pid;
	setsockopt(p->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(p->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return 0;
}

void
privsep_stop(struct privsep *p)
{
	int status;

	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	while (p->pid > 0 && waitpid(p->pid, &status, 0) < 0 && errno == EINTR)
		;
	p->pid = 0;
}

/* ---- the program's end -------------------------------------------------------------- */

/* The descriptors of an SCM_RIGHTS message: the first, the rest closed. */
static int
take_fd(struct msghdr *msg)
{
	struct cmsghdr *cmsg;
	int fd = -1, one;
	size_t i, n;

	for (cmsg = CMSG_FIRSTHDR(msg); cmsg; cmsg = CMSG_NXTHDR(msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(&one, CMSG_DATA(cmsg) + i * sizeof(int),
			       sizeof(int));
			if (fd < 0)
				fd = one;
			else
				close(one);
		}
	}
	return fd;
}

/* Sends the request, receives the answer and its descriptor: the
 * answer's length, or -errno. */
static ssize_t
transact(struct privsep *p, const uint8_t *req, size_t len, uint8_t *ans,
	 size_t cap, int *fd)
{
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(int) * 4)];
	} control;
	struct iovec iov = { ans, cap };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = control.buf,
			      .msg_controllen = sizeof(control.buf) };
	ssize_t n;

	*fd = -1;
	if (send(p->fd, req, len, MSG_NOSIGNAL) != (ssize_t)len)
		return errno == EAGAIN ? -ETIMEDOUT : -EPIPE;
	n = recvmsg(p->fd, &msg, MSG_CMSG_CLOEXEC);
	if (n <= 0)
		return n < 0 && errno == EAGAIN ? -ETIMEDOUT : -EPIPE;
	*fd = take_fd(&msg);
	if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
		return -EPROTO;
	return n;
}

/* Under p->lock. */
static int
exchange(struct privsep *p, uint8_t op, const void *payload, size_t len,
	 uint8_t *out, size_t cap, size_t *out_len, int *fd_out)
{
	uint8_t req[PRIVSEP_REQUEST_HEADER_LEN + PRIVSEP_PAYLOAD_MAX];
	uint8_t ans[PRIVSEP_ANSWER_HEADER_LEN + PRIVSEP_PAYLOAD_MAX];
	const uint8_t *answer;
	size_t n = privsep_request_encode(op, payload, len, req, sizeof(req));
	size_t answer_len;
	int fd = -1, err;
	ssize_t got;

	if (!n)
		return -EINVAL;
	if (p->fd < 0)
		return -EPIPE;
	got = transact(p, req, n, ans, sizeof(ans), &fd);
	if (got >= 0 &&
	    (privsep_answer_decode(ans, (size_t)got, op, &err, &answer,
				   &answer_len) < 0 ||
	     answer_len > cap || (!err && (fd >= 0) != (fd_out != NULL))))
		got = -EPROTO;
	if (got < 0) {
		if (fd >= 0)
			close(fd);
		log_err("privsep: no usable answer from the helper (%s): "
			"giving it up", strerror((int)-got));
		close(p->fd);
		p->fd = -1;
		return (int)got;
	}
	if (err) {
		if (fd >= 0)
			close(fd);
		return -err;
	}
	if (answer_len)
		memcpy(out, answer, answer_len);
	if (out_len)
		*out_len = answer_len;
	if (fd_out)
		*fd_out = fd;
	return 0;
}

int
privsep_call(struct privsep *p, uint8_t op, const void *payload, size_t len,
	     uint8_t *out, size_t cap, size_t *out_len, int *fd_out)
{
	int ret;

	if (out_len)
		*out_len = 0;
	pthread_mutex_lock(&p->lock);
	ret = exchange(p, op, payload, len, out, cap, out_len, fd_out);
	pthread_mutex_unlock(&p->lock);
	return ret;
}
