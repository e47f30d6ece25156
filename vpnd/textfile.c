// SPDX-License-Identifier: MIT
/*
 * The node_exporter textfile (see textfile.h): the atomic write, and the
 * thread that does it off the event loop. A failure is logged when it
 * starts and when it ends, not at every interval.
 */
#include "textfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdio.h"
#include "log.h"

struct textfile {
	char path[PATH_MAX];
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	char *pending;     /* the newest text not yet taken; under lock */
	size_t pending_len;
	bool is_stopping;  /* under lock */
	int last_error;    /* the thread's: logged once per change */
};

/* "<dir>/.<name>.XXXXXX" beside path; false if it does not fit. */
static bool
temp_name(const char *path, char out[PATH_MAX])
{
	const char *slash = strrchr(path, '/');
	int dir_len = slash ? (int)(slash - path + 1) : 0;
	int n = snprintf(out, PATH_MAX, "%.*s.%s.XXXXXX", dir_len, path,
			 path + dir_len);

	return n > 0 && n < PATH_MAX;
}

int
textfile_write(const char *path, const char *text, size_t len)
{
	char tmp[PATH_MAX];
	int fd, ret;

	if (!temp_name(path, tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = fdio_write_all(fd, text, len);
	/* mkostemp made it 0600; node_exporter runs as another user. */
	if (ret == 0 && fchmod(fd, 0644) < 0)
		ret = -errno;
	if (close(fd) < 0 && ret == 0)
		ret = -errno;
	if (ret == 0 && rename(tmp, path) < 0)
		ret = -errno;
	if (ret < 0)
		unlink(tmp);
	return ret;
}

static void
report(struct textfile *t, int ret)
{
	if (ret < 0 && ret != t->last_error)
		log_err("metrics-textfile %s: cannot write it: %s", t->path,
			strerror(-ret));
	else if (ret == 0 && t->last_error)
		log_notice("metrics-textfile %s: written again", t->path);
	t->last_error = ret;
}

static void *
run(void *arg)
{
	struct textfile *t = arg;
	char *text;
	size_t len;

	pthread_mutex_lock(&t->lock);
	for (;;) {
		while (!t->pending && !t->is_stopping)
			pthread_cond_wait(&t->cond, &t->lock);
		if (t->is_stopping)
			break;
		text = t->pending;
		len = t->pending_len;
		t->pending = NULL;
		pthread_mutex_unlock(&t->lock);
		report(t, textfile_write(t->path, text, len));
		free(text);
		pthread_mutex_lock(&t->lock);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

int
textfile_start(struct textfile **out, const char *path)
{
	struct textfile *t = calloc(1, sizeof(*t));
	sigset_t all, old;
	int ret;

	*out = NULL;
	if (!t)
		return -ENOMEM;
	if (snprintf(t->path, sizeof(t->path), "%s", path) >=
	    (int)sizeof(t->path)) {
		free(t);
		return -ENAMETOOLONG;
	}
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->cond, NULL);
	/* Signals stay with the loop's signalfd, never on this thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = -pthread_create(&t->thread, NULL, run, t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret == 0) /* for ps, and the kernel's audit of a system call */
		pthread_setname_np(t->thread, "vpnd-textfile");
	if (ret < 0) {
		pthread_cond_destroy(&t->cond);
		pthread_mutex_destroy(&t->lock);
		free(t);
		return ret;
	}
	*out = t;
	return 0;
}

void
textfile_post(struct textfile *t, char *text, size_t len)
{
	pthread_mutex_lock(&t->lock);
	free(t->pending);
	t->pending = text;
	t->pending_len = len;
	pthread_cond_signal(&t->cond);
	pthread_mutex_unlock(&t->lock);
}

void
textfile_stop(struct textfile *t)
{
	if (!t)
		return;
	pthread_mutex_lock(&t->lock);
	t->is_stopping = true;
	pthread_cond_signal(&t->cond);
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->thread, NULL);
	if (unlink(t->path) < 0 && errno != ENOENT)
		log_warn("metrics-textfile %s: cannot remove it: %s", t->path,
			 strerror(errno));
	free(t->pending);
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->lock);
	free(t);
}
