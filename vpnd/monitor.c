// SPDX-License-Identifier: MIT
/*
 * The monitor (see monitor.h): its two requests, checked and done, and
 * what confines its process. The process and the channel are
 * shared/privsep.c's.
 */
#include "monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "sandbox.h"
#include "syscalls.h"

/* What the process's init wipes: its copy of vpnd's configuration. */
struct monitor_start_arg {
	struct monitor *m;
	struct vpnd_config *cfg;
};

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

/* Neither request carries anything: any payload is refused. */
static int
handle(void *arg, const struct privsep_request *r, uint8_t *out,
       size_t *out_len, int *pass_fd)
{
	const struct monitor *m = ((struct monitor_start_arg *)arg)->m;
	int ret = -EPROTO;

	(void)out;
	(void)out_len;
	if (r->op == MONITOR_READ_CONFIG && !r->len) {
		ret = open_config(m->config_path);
		if (ret >= 0) {
			*pass_fd = ret;
			ret = 0;
		}
	} else if (r->op == MONITOR_REMOVE_SOCKET && !r->len) {
		ret = remove_socket(m);
	}
	if (ret == -EPROTO)
		log_warn("monitor: request %u (%zu bytes) refused", r->op,
			 r->len);
	else
		log_debug("monitor: request %u: %s", r->op,
			  ret < 0 ? strerror(-ret) : "ok");
	return -ret;
}

/* Everything root has but ownership of root's files: gone. */
static int
confine(void *arg)
{
	struct monitor_start_arg *a = arg;
	int ret;

	/* The keys are vpnd's. */
	vpnd_config_wipe(a->cfg);
	ret = sandbox_bound_caps(0);
	if (ret == 0)
		ret = sandbox_keep_caps(0);
	if (ret == 0)
		ret = sandbox_no_dumps();
	if (ret == 0)
		ret = sandbox_filter_install(syscalls_monitor(), false);
	return ret;
}

int
monitor_start(struct monitor *m, struct vpnd_config *cfg, bool fork_process,
	      bool detached)
{
	struct monitor_start_arg arg = { m, cfg };
	int ret;

	memset(m, 0, sizeof(*m));
	m->helper.fd = -1;
	snprintf(m->config_path, sizeof(m->config_path), "%s", cfg->path);
	snprintf(m->socket_path, sizeof(m->socket_path), "%s",
		 cfg->control_socket);
	if (!fork_process)
		return 0;
	/* arg lives on our stack: the child has its copy of it. */
	ret = privsep_start(&m->helper, confine, handle, &arg, detached);
	if (ret < 0) {
		log_err("cannot start the monitor: %s", strerror(-ret));
		return ret;
	}
	m->has_process = true;
	return 0;
}

void
monitor_stop(struct monitor *m)
{
	if (m->has_process)
		privsep_stop(&m->helper);
	m->has_process = false;
}

/* ---- vpnd's end ------------------------------------------------------------------- */

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

	if (!m->has_process)
		return monitor_read_file(m->config_path, text, len);
	ret = privsep_call(&m->helper, MONITOR_READ_CONFIG, NULL, 0, NULL, 0,
			   NULL, &fd);
	if (ret < 0)
		return ret;
	ret = read_all(fd, text, len);
	close(fd);
	return ret;
}

int
monitor_remove_socket(struct monitor *m)
{
	if (!m->has_process)
		return remove_socket(m);
	return privsep_call(&m->helper, MONITOR_REMOVE_SOCKET, NULL, 0, NULL, 0,
			    NULL, NULL);
}
