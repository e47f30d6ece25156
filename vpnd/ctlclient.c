// SPDX-License-Identifier: MIT
/*
 * The control socket from vpnctl's side (see ctlclient.h). Blocking I/O is
 * fine here, with a timeout: vpnctl does one thing and exits.
 */
#include "ctlclient.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "vpnctl.h"

#define CALL_TIMEOUT_S 15

static int
connect_to(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = CALL_TIMEOUT_S };
	int fd, err;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		vpnctl_error("control socket %s: the path is too long", path);
		return -ENAMETOOLONG;
	}
	memcpy(addr.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
		return fd;
	err = errno;
	close(fd);
	if (err == ENOENT || err == ECONNREFUSED)
		vpnctl_error("vpnd is not running (nothing answers at %s)",
			     path);
	else if (err == EACCES || err == EPERM)
		vpnctl_error("no permission to use %s: run vpnctl as root or "
			     "as a member of vpnd's control-group", path);
	else
		vpnctl_error("cannot reach vpnd at %s: %s", path,
			     strerror(err));
	return -err;
}

static int
send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads to the end of the answer (vpnd closes after it). */
static int
read_answer(int fd, char **out, size_t *out_len)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap), *grown;
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (len == cap) {
			if (cap >= CTLMSG_ANSWER_MAX) {
				free(buf);
				return -E2BIG;
			}
			grown = realloc(buf, cap * 2);
			if (!grown) {
				free(buf);
				return -ENOMEM;
			}
			buf = grown;
			cap *= 2;
		}
		n = recv(fd, buf + len, cap - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno == EAGAIN ? ETIMEDOUT : errno;

			free(buf);
			return -err;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*out = buf;
	*out_len = len;
	return 0;
}

int
ctlclient_call(const char *path, const struct ctlmsg_writer *request,
	       struct ctlmsg *answer)
{
	const char *why;
	size_t len = 0;
	char *buf = NULL;
	int fd = connect_to(path), ret;

	if (fd < 0)
		return fd;
	ret = send_all(fd, request->buf, request->len);
	if (!ret)
		ret = read_answer(fd, &buf, &len);
	close(fd);
	if (ret < 0) {
		vpnctl_error("no answer from vpnd at %s: %s", path,
			     strerror(-ret));
		return ret;
	}
	switch (ctlmsg_decode(buf, len, CTLMSG_ANSWER_MAX, answer, &why)) {
	case CTLMSG_OK:
		ret = ctlmsg_get(answer, "errno") ? 0 : -EPROTO;
		if (ret)
			ctlmsg_free(answer);
		why = "no errno";
		break;
	case CTLMSG_NOMEM:
		ret = -ENOMEM;
		why = "out of memory";
		break;
	default:
		ret = -EPROTO;
		break;
	}
	free(buf);
	if (ret < 0)
		vpnctl_error("vpnd at %s gave a malformed answer (%s)", path,
			     why);
	return ret;
}

bool
ctlclient_failed(const struct ctlmsg *answer, const char *what)
{
	const char *err = ctlmsg_get(answer, "errno");
	const char *text = ctlmsg_get(answer, "error");

	if (!err || strcmp(err, "0") == 0)
		return false;
	vpnctl_error("%s: %s", what, text ? text : "vpnd refused");
	return true;
}
