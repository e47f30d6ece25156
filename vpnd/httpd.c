// SPDX-License-Identifier: MIT
/*
 * The metrics endpoint (see httpd.h): the listening socket, libmicrohttpd
 * on its own polling thread, and the text the loop publishes, behind a
 * mutex. Requests carry no input the server acts on: the path and the
 * method choose between 200, 404 and 405, and nothing else is read.
 */
#include "httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define NS_PER_S UINT64_C(1000000000)
#define FRESH_NS NS_PER_S
#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct httpd {
	struct MHD_Daemon *daemon;
	int listen_fd;
	int refresh_fd;      /* eventfd: the HTTP thread asks, the loop reads */
	pthread_mutex_t lock;
	pthread_cond_t published;
	/* Under lock. */
	char *text;
	size_t len;
	uint64_t published_ns; /* CLOCK_MONOTONIC */
	uint64_t generation;   /* bumped by each publication */
	bool is_asked;         /* refresh_fd written, not yet taken */
	bool is_stopping;
};

static uint64_t
monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* ---- the HTTP thread ---------------------------------------------------- */

/* Under h->lock: asks the loop for a new text and waits a bounded time. */
static void
wait_fresh(struct httpd *h)
{
	uint64_t gen = h->generation, one = 1;
	uint64_t deadline = monotonic_ns() + HTTPD_WAIT_MS * 1000000ull;
	struct timespec ts = { (time_t)(deadline / NS_PER_S),
			       (long)(deadline % NS_PER_S) };

	if (!h->is_asked) {
		/* An eventfd write of 1 cannot block or fail short. */
		if (write(h->refresh_fd, &one, sizeof(one)) != sizeof(one))
			return;
		h->is_asked = true;
	}
	while (h->generation == gen && !h->is_stopping)
		if (pthread_cond_timedwait(&h->published, &h->lock, &ts) ==
		    ETIMEDOUT)
			break;
}

static enum MHD_Result
respond(struct MHD_Connection *c, unsigned int status, const char *text,
	size_t len, const char *allow)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)text,
					    MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				status == MHD_HTTP_OK ? CONTENT_TYPE
						      : "text/plain");
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
serve_metrics(struct httpd *h, struct MHD_Connection *c)
{
	static const char none[] = "vpnd has no metrics yet\n";
	enum MHD_Result ret;

	pthread_mutex_lock(&h->lock);
	if (!h->text || monotonic_ns() - h->published_ns >= FRESH_NS)
		wait_fresh(h);
	/* The response is a copy: made under the lock, sent after it. */
	if (h->text)
		ret = respond(c, MHD_HTTP_OK, h->text, h->len, NULL);
	else
		ret = respond(c, MHD_HTTP_SERVICE_UNAVAILABLE, none,
			      sizeof(none) - 1, NULL);
	pthread_mutex_unlock(&h->lock);
	return ret;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
	   const char *method, const char *version, const char *upload_data,
	   size_t *upload_data_size, void **con_cls)
{
	static const char not_found[] = "not found: vpnd serves /metrics\n";
	static const char not_allowed[] = "method not allowed\n";

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)con_cls;
	if (strcmp(url, "/metrics") != 0)
		return respond(c, MHD_HTTP_NOT_FOUND, not_found,
			       sizeof(not_found) - 1, NULL);
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return respond(c, MHD_HTTP_METHOD_NOT_ALLOWED, not_allowed,
			       sizeof(not_allowed) - 1, "GET, HEAD");
	return serve_metrics(cls, c);
}

/* libmicrohttpd's complaints (a client that went away...), rate-limited:
 * a client must not turn them into a flood of lines. */
static void
on_log(void *cls, const char *fmt, va_list ap)
{
	static struct log_ratelimit rl = LOG_RATELIMIT_INIT(5, 1);
	char line[256];
	size_t n;

	(void)cls;
	if (!log_ratelimit_allow(&rl, monotonic_ns()))
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	log_info("metrics-listen: %s", line);
}

/* ---- the loop's side ------------------------------------------------------ */

static int
open_listener(const struct sockaddr *addr, socklen_t addr_len)
{
	int fd, on = 1, ret;

	fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
	    (addr->sa_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) < 0) ||
	    bind(fd, addr, addr_len) < 0 || listen(fd, HTTPD_MAX_CONNS) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

static void
format_addr(const struct sockaddr *addr, char out[64])
{
	char text[INET6_ADDRSTRLEN] = "?";

	if (addr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)addr;

		inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof(text));
		snprintf(out, 64, "[%s]:%u", text, ntohs(a->sin6_port));
	} else {
		const struct sockaddr_in *a = (const void *)addr;

		inet_ntop(AF_INET, &a->sin_addr, text, sizeof(text));
		snprintf(out, 64, "%s:%u", text, ntohs(a->sin_port));
	}
}

static int
start_daemon(struct httpd *h, int family)
{
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
			     MHD_USE_ERROR_LOG;
	sigset_t all, old;

	if (family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* Signals stay with the loop's signalfd, never on this thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	h->daemon = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, h,
		/* First, so that every message goes through it. */
		MHD_OPTION_EXTERNAL_LOGGER, on_log, NULL,
		MHD_OPTION_LISTEN_SOCKET, (MHD_socket)h->listen_fd,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTPD_MAX_CONNS,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTPD_TIMEOUT_S,
		MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	/* The socket is libmicrohttpd's now: MHD_stop_daemon() closes it,
	 * and so do most of its failures (one fd may leak on the others, at
	 * a start that fails anyway; a double close could hit another). */
	h->listen_fd = -1;
	return h->daemon ? 0 : -EIO;
}

static void
free_httpd(struct httpd *h)
{
	if (h->listen_fd >= 0)
		close(h->listen_fd);
	if (h->refresh_fd >= 0)
		close(h->refresh_fd);
	pthread_cond_destroy(&h->published);
	pthread_mutex_destroy(&h->lock);
	free(h->text);
	free(h);
}

int
httpd_start(struct httpd **out, const struct sockaddr *addr,
	    socklen_t addr_len)
{
	struct httpd *h = calloc(1, sizeof(*h));
	pthread_condattr_t attr;
	char where[64];
	int ret;

	*out = NULL;
	if (!h)
		return -ENOMEM;
	h->listen_fd = h->refresh_fd = -1;
	pthread_mutex_init(&h->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&h->published, &attr);
	pthread_condattr_destroy(&attr);
	format_addr(addr, where);
	h->refresh_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ret = h->refresh_fd < 0 ? -errno : open_listener(addr, addr_len);
	if (ret < 0) {
		log_err("metrics-listen: cannot listen on %s: %s", where,
			strerror(-ret));
		goto err;
	}
	h->listen_fd = ret;
	ret = start_daemon(h, addr->sa_family);
	if (ret < 0) {
		log_err("metrics-listen: cannot start the HTTP server on %s",
			where);
		goto err;
	}
	log_notice("metrics-listen: serving http://%s/metrics", where);
	*out = h;
	return 0;
err:
	free_httpd(h);
	return ret;
}

void
httpd_stop(struct httpd *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	h->is_stopping = true;
	pthread_cond_broadcast(&h->published);
	pthread_mutex_unlock(&h->lock);
	MHD_stop_daemon(h->daemon);
	free_httpd(h);
}

int
httpd_refresh_fd(const struct httpd *h)
{
	return h->refresh_fd;
}

bool
httpd_refresh_take(struct httpd *h)
{
	uint64_t n;
	bool asked;

	if (read(h->refresh_fd, &n, sizeof(n)) != sizeof(n))
		return false;
	pthread_mutex_lock(&h->lock);
	asked = h->is_asked;
	h->is_asked = false;
	pthread_mutex_unlock(&h->lock);
	return asked;
}

void
httpd_publish(struct httpd *h, char *text, size_t len)
{
	char *old;

	pthread_mutex_lock(&h->lock);
	old = h->text;
	h->text = text;
	h->len = len;
	h->published_ns = monotonic_ns();
	h->generation++;
	pthread_cond_broadcast(&h->published);
	pthread_mutex_unlock(&h->lock);
	free(old);
}
