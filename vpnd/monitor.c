// SPDX-License-Identifier: MIT
/*
 * The monitor (see monitor.h): its process, the work each request does,
 * and the codec between the two ends. The process reads one request at
 * a time and answers it before the next; vpnd's end takes one exchange at
 * a time under a lock, and gives up on a monitor that does not answer
 * within MONITOR_TIMEOUT_MS (its answers would no longer match).
 */
#include "monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "sandbox.h"
#include "syscalls.h"

/* The process's end of the socketpair, once it has closed the rest. */
#define MONITOR_FD 3
/* Largest errno an answer may carry (the kernel's MAX_ERRNO). */
#define ERRNO_MAX 4095

/* ---- codec --------------------------------------------------------------------- */

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

static bool
op_known(unsigned int op)
{
	return op == MONITOR_READ_CONFIG || op == MONITOR_REMOVE_SOCKET;
}

size_t
monitor_request_encode(const struct monitor_request *r, uint8_t *out,
		       size_t cap)
{
	if (cap < MONITOR_REQUEST_HEADER_LEN)
		return 0;
	out[0] = MONITOR_VERSION;
	out[1] = (uint8_t)r->op;
	out[2] = out[3] = 0;
	return MONITOR_REQUEST_HEADER_LEN;
}

int
monitor_request_decode(const uint8_t *buf, size_t len,
		       struct monitor_request *out)
{
	size_t payload_len;

	if (len < MONITOR_REQUEST_HEADER_LEN || buf[0] != MONITOR_VERSION ||
	    !op_known(buf[1]))
		return -EPROTO;
	payload_len = buf[2] | (size_t)buf[3] << 8;
	if (payload_len > MONITOR_REQUEST_PAYLOAD_MAX ||
	    len != MONITOR_REQUEST_HEADER_LEN + payload_len)
		return -EPROTO;
	out->op = (enum monitor_op)buf[1];
	return 0;
}

size_t
monitor_answer_encode(enum monitor_op op, int err, const uint8_t *payload,
		      size_t payload_len, uint8_t *out, size_t cap)
{
	if (err < 0 || err > ERRNO_MAX ||
	    payload_len > MONITOR_ANSWER_PAYLOAD_MAX ||
	    cap < MONITOR_ANSWER_HEADER_LEN + payload_len)
		return 0;
	out[0] = MONITOR_VERSION;
	out[1] = (uint8_t)op;
	out[2] = out[3] = 0;
	put_le32(out + 4, (uint32_t)err);
	put_le32(out + 8, (uint32_t)payload_len);
	if (payload_len)
		memcpy(out + MONITOR_ANSWER_HEADER_LEN, payload, payload_len);
	return MONITOR_ANSWER_HEADER_LEN + payload_len;
}

int
monitor_answer_decode(const uint8_t *buf, size_t len, enum monitor_op op,
		      int *err, const uint8_t **payload, size_t *payload_len)
{
	uint32_t e, n;

	if (len < MONITOR_ANSWER_HEADER_LEN || buf[0] != MONITOR_VERSION ||
	    buf[1] != (uint8_t)op || buf[2] || buf[3])
		return -EPROTO;
	e = get_le32(buf + 4);
	n = get_le32(buf + 8);
	if (e > ERRNO_MAX || n > MONITOR_ANSWER_PAYLOAD_MAX ||
	    len != MONITOR_ANSWER_HEADER_LEN + n)
		return -EPROTO;
	*err = (int)e;
	*payload = buf + MONITOR_ANSWER_HEADER_LEN;
	*payload_len = n;
	return 0;
}

/* ---- the work ------------------------------------------------------------------ */

/* A configuration file, opened read-only: a descriptor, or -errno. */
static int
open_config(const char *path)
{
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

/* True if something listens on the socket (a full backlog counts). */
static bool
socket_answers(const struct sockaddr_un *addr)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	bool answers;

	if (fd < 0)
		return false;
	answers = connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) ==
			  0 ||
		  errno == EAGAIN;
	close(fd);
	return answers;
}

static int
remove_socket(const struct monitor *m)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;

	if (strlen(m->socket_path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	if (lstat(m->socket_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	memcpy(addr.sun_path, m->socket_path, strlen(m->socket_path));
	if (socket_answers(&addr))
		return -EADDRINUSE;
	if (unlink(m->socket_path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* ---- the process ------------------------------------------------------------------ */

static int
send_answer(int fd, enum monitor_op op, int err, int pass_fd)
{
	uint8_t buf[MONITOR_ANSWER_HEADER_LEN];
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct iovec iov = { buf, 0 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cmsg;

	iov.iov_len = monitor_answer_encode(op, err, NULL, 0, buf, sizeof(buf));
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
serve_one(const struct monitor *m, int fd, const uint8_t *req, size_t len)
{
	struct monitor_request r;
	int err = 0, pass_fd = -1, ret;

	if (monitor_request_decode(req, len, &r) < 0) {
		log_warn("monitor: a malformed request (%zu bytes) refused",
			 len);
		/* Op 0 is no op: vpnd's end refuses this answer, and gives
		 * up on the exchange. */
		return send_answer(fd, 0, EPROTO, -1);
	}
	switch (r.op) {
	case MONITOR_READ_CONFIG:
		pass_fd = open_config(m->config_path);
		err = pass_fd < 0 ? -pass_fd : 0;
		break;
	case MONITOR_REMOVE_SOCKET:
		err = -remove_socket(m);
		break;
	}
	log_debug("monitor: request %d: %s", r.op, err ? strerror(err) : "ok");
	ret = send_answer(fd, r.op, err, pass_fd);
	if (pass_fd >= 0)
		close(pass_fd);
	return ret;
}

static void
serve(const struct monitor *m, int fd)
{
	uint8_t req[64];
	ssize_t n;

	for (;;) {
		n = recv(fd, req, sizeof(req), MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		/* MSG_TRUNC: n is the datagram's whole length. */
		if (serve_one(m, fd, req, (size_t)n) < 0)
			return;
	}
}

/* Everything root has but ownership of root's files: gone. */
static int
confine(void)
{
	int ret = sandbox_bound_caps(0);

	if (ret == 0)
		ret = sandbox_keep_caps(0);
	if (ret == 0)
		ret = sandbox_no_dumps();
	if (ret == 0)
		ret = sandbox_filter_install(syscalls_monitor(), false);
	return ret;
}

static void __attribute__((noreturn))
child_main(const struct monitor *m, struct vpnd_config *cfg, int fd,
	   bool detached)
{
	static const int ignored[] = { SIGTERM, SIGINT, SIGHUP, SIGPIPE };
	unsigned int i;
	int ret;

	/* The keys are vpnd's. */
	vpnd_config_wipe(cfg);
	/* A terminal's Ctrl-C or systemd's SIGTERM is for vpnd, which then
	 * still needs us to clean up; we leave when it closes our end. */
	for (i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		signal(ignored[i], SIG_IGN);
	if (fd != MONITOR_FD) {
		if (dup3(fd, MONITOR_FD, O_CLOEXEC) < 0)
			_exit(1);
		close(fd);
	}
	/* Nothing of vpnd's but stdio: not the start-up pipe of a daemon's
	 * parent, not syslog's socket (syslog() opens its own again). */
	closelog();
	close_range(MONITOR_FD + 1, ~0U, 0);
	/* A daemon's stderr is its starter's terminal or pipe, which must
	 * not stay open for as long as we run. */
	if (detached) {
		int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

		if (null_fd >= 0 && null_fd != STDERR_FILENO) {
			dup2(null_fd, STDERR_FILENO);
			close(null_fd);
		}
		log_init("vpnd", true, log_level());
	}
	ret = confine();
	if (ret < 0) {
		log_err("monitor: cannot drop its privileges: %s",
			strerror(-ret));
		_exit(1);
	}
	serve(m, MONITOR_FD);
	/* _exit: vpnd's atexit handlers and buffers are not ours. */
	_exit(0);
}

int
monitor_start(struct monitor *m, struct vpnd_config *cfg, bool fork_process,
	      bool detached)
{
	struct timeval tv = { MONITOR_TIMEOUT_MS / 1000,
			      MONITOR_TIMEOUT_MS % 1000 * 1000 };
	int sv[2];
	pid_t pid;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	snprintf(m->config_path, sizeof(m->config_path), "%s", cfg->path);
	snprintf(m->socket_path, sizeof(m->socket_path), "%s",
		 cfg->control_socket);
	pthread_mutex_init(&m->lock, NULL);
	if (!fork_process)
		return 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		log_err("monitor: socketpair: %s", strerror(errno));
		return -errno;
	}
	pid = fork();
	if (pid < 0) {
		log_err("monitor: fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -errno;
	}
	if (pid == 0) {
		close(sv[0]);
		child_main(m, cfg, sv[1], detached);
	}
	close(sv[1]);
	m->fd = sv[0];
	m->pid = pid;
	setsockopt(m->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(m->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return 0;
}

void
monitor_stop(struct monitor *m)
{
	int status;

	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	while (m->pid > 0 && waitpid(m->pid, &status, 0) < 0 && errno == EINTR)
		;
	m->pid = 0;
}

/* ---- vpnd's end ------------------------------------------------------------------- */

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

/* Under m->lock. A monitor that fails an exchange is given up: a late
 * answer would be taken for the next request's. */
static int
exchange(struct monitor *m, enum monitor_op op, int *fd_out)
{
	struct monitor_request r = { op };
	uint8_t req[MONITOR_REQUEST_HEADER_LEN], ans[64];
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(int) * 4)];
	} control;
	struct iovec iov = { ans, sizeof(ans) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = control.buf,
			      .msg_controllen = sizeof(control.buf) };
	const uint8_t *payload;
	size_t len = monitor_request_encode(&r, req, sizeof(req)), plen;
	int fd = -1, err = 0, ret;
	ssize_t n;

	if (m->fd < 0)
		return -EPIPE;
	if (send(m->fd, req, len, MSG_NOSIGNAL) != (ssize_t)len) {
		ret = errno == EAGAIN ? -ETIMEDOUT : -EPIPE;
		goto broken;
	}
	n = recvmsg(m->fd, &msg, MSG_CMSG_CLOEXEC);
	if (n <= 0) {
		ret = n < 0 && errno == EAGAIN ? -ETIMEDOUT : -EPIPE;
		goto broken;
	}
	fd = take_fd(&msg);
	ret = -EPROTO;
	if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC) ||
	    monitor_answer_decode(ans, (size_t)n, op, &err, &payload, &plen) <
		    0 ||
	    (!err && (fd >= 0) != (fd_out != NULL)))
		goto broken;
	if (err) {
		if (fd >= 0)
			close(fd);
		return -err;
	}
	if (fd_out)
		*fd_out = fd;
	return 0;
broken:
	if (fd >= 0)
		close(fd);
	log_err("monitor: no usable answer (%s): giving it up",
		strerror(-ret));
	close(m->fd);
	m->fd = -1;
	return ret;
}

static int
read_all(int fd, char **text, size_t *len)
{
	char *buf = malloc(CONF_MAX_FILE_LEN + 1);
	size_t n = 0;
	ssize_t r = 0;

	if (!buf)
		return -ENOMEM;
	while (n <= CONF_MAX_FILE_LEN) {
		r = read(fd, buf + n, CONF_MAX_FILE_LEN + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	if (r < 0 || n > CONF_MAX_FILE_LEN) {
		free(buf);
		return r < 0 ? -errno : -EFBIG;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

int
monitor_read_file(const char *path, char **text, size_t *len)
{
	int fd = open_config(path), ret;

	if (fd < 0)
		return fd;
	ret = read_all(fd, text, len);
	close(fd);
	return ret;
}

int
monitor_read_config(struct monitor *m, char **text, size_t *len)
{
	int fd, ret;

	if (m->pid <= 0)
		return monitor_read_file(m->config_path, text, len);
	pthread_mutex_lock(&m->lock);
	ret = exchange(m, MONITOR_READ_CONFIG, &fd);
	pthread_mutex_unlock(&m->lock);
	if (ret < 0)
		return ret;
	ret = read_all(fd, text, len);
	close(fd);
	return ret;
}

int
monitor_remove_socket(struct monitor *m)
{
	int ret;

	if (m->pid <= 0)
		return remove_socket(m);
	pthread_mutex_lock(&m->lock);
	ret = exchange(m, MONITOR_REMOVE_SOCKET, NULL);
	pthread_mutex_unlock(&m->lock);
	return ret;
}
