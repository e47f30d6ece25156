// SPDX-License-Identifier: MIT
/*
 * The control socket (see ctl.h). A connection reads until its request's
 * empty line, hands the request to the handler, writes the answer as the
 * socket takes it, and closes. Nothing here blocks: every fd is
 * non-blocking, and a connection that is too slow is closed at its
 * deadline.
 */
#include "ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

static void
conn_close(struct ctl_conn *k)
{
	if (k->fd < 0)
		return;
	loop_del_fd(k->ctl->loop, k->fd);
	close(k->fd);
	k->fd = -1;
	k->generation++;
	k->is_waiting = k->is_writing = false;
	k->in_len = k->out_sent = 0;
	ctlmsg_writer_free(&k->out);
}

/* Writes what the socket takes; closes when all is sent. */
static void
conn_flush(struct ctl_conn *k)
{
	while (k->out_sent < k->out.len) {
		ssize_t n = send(k->fd, k->out.buf + k->out_sent,
				 k->out.len - k->out_sent,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			conn_close(k);
			return;
		}
		k->out_sent += (size_t)n;
	}
	conn_close(k);
}

static void on_conn(void *arg, uint32_t events);

static void
conn_start_writing(struct ctl_conn *k)
{
	k->is_waiting = false;
	k->is_writing = true;
	/* Unwatched while the answer was made (see conn_request). */
	if (loop_add_fd(k->ctl->loop, k->fd, EPOLLOUT, on_conn, k) < 0) {
		conn_close(k);
		return;
	}
	conn_flush(k);
}

static void
answer_error(struct ctl_conn *k, int err, const char *why)
{
	loop_del_fd(k->ctl->loop, k->fd);
	ctlmsg_writer_free(&k->out);
	ctlmsg_writer_init(&k->out, CTLMSG_ANSWER_MAX);
	if (!ctlmsg_finish(&k->out, err, why)) {
		conn_close(k);
		return;
	}
	conn_start_writing(k);
}

static void
conn_request(struct ctl_conn *k)
{
	struct ctl *c = k->ctl;
	struct ctl_ticket t = { (unsigned int)(k - c->conns), k->generation };
	struct ctlmsg req;
	const char *why;

	switch (ctlmsg_decode(k->in, k->in_len, CTLMSG_REQUEST_MAX, &req,
			      &why)) {
	case CTLMSG_INCOMPLETE:
		return;
	case CTLMSG_OK:
		break;
	case CTLMSG_NOMEM:
		answer_error(k, ENOMEM, "out of memory");
		return;
	default:
		log_debug("control: a malformed request: %s", why);
		answer_error(k, EINVAL, why);
		return;
	}
	/* Nothing more is read (one request per connection), and a hang-up
	 * while the answer is made must not wake the loop over and over. */
	loop_del_fd(c->loop, k->fd);
	ctlmsg_writer_init(&k->out, CTLMSG_ANSWER_MAX);
	k->is_waiting = true;
	if (c->handler(c->arg, &k->peer, &req, t, &k->out)) {
		if (k->out.failed)
			answer_error(k, E2BIG, "the answer is too large");
		else
			conn_start_writing(k);
	}
	ctlmsg_free(&req);
}

static void
on_conn(void *arg, uint32_t events)
{
	struct ctl_conn *k = arg;
	ssize_t n;

	if (k->is_writing) {
		conn_flush(k);
		return;
	}
	if (k->is_waiting)
		return;
	if (k->in_len == sizeof(k->in)) {
		answer_error(k, E2BIG, "the request is too long");
		return;
	}
	n = recv(k->fd, k->in + k->in_len, sizeof(k->in) - k->in_len,
		 MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || (events & (EPOLLERR | EPOLLHUP) && n == 0)) {
		conn_close(k);
		return;
	}
	k->in_len += (size_t)n;
	conn_request(k);
}

static void
on_listen(void *arg, uint32_t events)
{
	struct ctl *c = arg;
	struct ctl_conn *k = NULL;
	socklen_t len = sizeof(struct ucred);
	struct ucred cred;
	unsigned int i;
	int fd;

	(void)events;
	fd = accept4(c->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	for (i = 0; i < CTL_MAX_CONNS && !k; i++)
		if (c->conns[i].fd < 0)
			k = &c->conns[i];
	if (!k || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		c->refused++;
		close(fd);
		return;
	}
	k->fd = fd;
	k->peer = (struct ctl_peer){ cred.pid, cred.uid, cred.gid };
	k->deadline_ns = loop_now_ns() + CTL_TIMEOUT_NS;
	if (loop_add_fd(c->loop, fd, EPOLLIN, on_conn, k) < 0) {
		close(fd);
		k->fd = -1;
	}
}

void
ctl_answer(struct ctl *c, struct ctl_ticket t, struct ctlmsg_writer *answer)
{
	struct ctl_conn *k = t.slot < CTL_MAX_CONNS ? &c->conns[t.slot] : NULL;

	if (!k || k->fd < 0 || k->generation != t.generation ||
	    !k->is_waiting) {
		ctlmsg_writer_free(answer);
		return;
	}
	ctlmsg_writer_free(&k->out);
	k->out = *answer;
	memset(answer, 0, sizeof(*answer));
	if (k->out.failed)
		answer_error(k, E2BIG, "the answer is too large");
	else
		conn_start_writing(k);
}

uint64_t
ctl_deadline(const struct ctl *c)
{
	uint64_t d = UINT64_MAX;
	unsigned int i;

	for (i = 0; i < CTL_MAX_CONNS; i++)
		if (c->conns[i].fd >= 0 && c->conns[i].deadline_ns < d)
			d = c->conns[i].deadline_ns;
	return d;
}

void
ctl_expire(struct ctl *c, uint64_t now_ns)
{
	unsigned int i;

	for (i = 0; i < CTL_MAX_CONNS; i++)
		if (c->conns[i].fd >= 0 && c->conns[i].deadline_ns <= now_ns)
			conn_close(&c->conns[i]);
}

/* ---- the socket ---------------------------------------------------------------- */

/* True if a vpnd already answers at `addr`. */
static bool
is_in_use(const struct sockaddr_un *addr)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool used;

	if (fd < 0)
		return false;
	used = connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0;
	close(fd);
	return used;
}

/* Binds with the final mode from the start: no moment where others may
 * connect. */
static int
bind_socket(struct ctl *c, const struct sockaddr_un *addr, gid_t gid)
{
	mode_t old = umask(0117);
	int ret = 0;

	if (bind(c->listen_fd, (const struct sockaddr *)addr, sizeof(*addr)) < 0)
		ret = -errno;
	umask(old);
	if (ret < 0)
		return ret;
	if (gid != (gid_t)-1 && chown(c->path, (uid_t)-1, gid) < 0)
		ret = -errno;
	if (!ret && chmod(c->path, 0660) < 0)
		ret = -errno;
	return ret;
}

int
ctl_open(struct ctl *c, const char *path, gid_t gid, struct loop *loop,
	 ctl_handler_fn handler, void *arg)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;
	unsigned int i;
	int ret;

	memset(c, 0, sizeof(*c));
	c->listen_fd = -1;
	for (i = 0; i < CTL_MAX_CONNS; i++) {
		c->conns[i].fd = -1;
		c->conns[i].ctl = c;
	}
	if (strlen(path) >= sizeof(addr.sun_path)) {
		log_err("control socket %s: the path is too long", path);
		return -ENAMETOOLONG;
	}
	snprintf(c->path, sizeof(c->path), "%s", path);
	memcpy(addr.sun_path, path, strlen(path));
	c->loop = loop;
	c->handler = handler;
	c->arg = arg;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_err("control socket %s: something else is there",
				path);
			return -EEXIST;
		}
		if (is_in_use(&addr)) {
			log_err("control socket %s: another vpnd is running",
				path);
			return -EADDRINUSE;
		}
		unlink(path);
	}
	c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
					       SOCK_CLOEXEC, 0);
	if (c->listen_fd < 0)
		return -errno;
	ret = bind_socket(c, &addr, gid);
	if (!ret && listen(c->listen_fd, CTL_MAX_CONNS) < 0)
		ret = -errno;
	if (!ret)
		ret = loop_add_fd(loop, c->listen_fd, EPOLLIN, on_listen, c);
	if (ret < 0) {
		log_err("control socket %s: %s", path, strerror(-ret));
		ctl_close(c);
	}
	return ret;
}

void
ctl_close(struct ctl *c)
{
	unsigned int i;

	for (i = 0; i < CTL_MAX_CONNS; i++)
		if (c->conns[i].ctl)
			conn_close(&c->conns[i]);
	if (c->listen_fd >= 0) {
		loop_del_fd(c->loop, c->listen_fd);
		close(c->listen_fd);
		unlink(c->path);
	}
	c->listen_fd = -1;
}
