// SPDX-License-Identifier: MIT
/*
 * Worker threads (see worker.h). One mutex guards the queues; jobs carry
 * everything they need, so a thread never touches the loop's state.
 */
#include "worker.h"

#include <errno.h>
#include <signal.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"

struct thread_arg {
	struct workers *w;
	bool is_login;
};

static struct thread_arg login_arg, store_arg;

static void
queue_push(struct job_queue *q, struct job *j)
{
	j->next = NULL;
	if (q->tail)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
	q->len++;
}

static struct job *
queue_pop(struct job_queue *q)
{
	struct job *j = q->head;

	if (!j)
		return NULL;
	q->head = j->next;
	if (!q->head)
		q->tail = NULL;
	q->len--;
	j->next = NULL;
	return j;
}

static void
run_job(struct auth *a, struct job *j)
{
	int ret;

	switch (j->kind) {
	case JOB_LOGIN:
		auth_login(a, &j->req, &j->res);
		sodium_memzero(&j->req.password, sizeof(j->req.password));
		sodium_memzero(&j->req.code, sizeof(j->req.code));
		break;
	case JOB_LOOKUP:
		ret = auth_admission_lookup(a, j->pub,
					    j->has_username ? j->username
							    : NULL,
					    j->now_unix_s, &j->adm);
		j->admitted = ret > 0;
		j->lookup_failed = ret < 0;
		break;
	case JOB_END:
		auth_admission_end(a, j->pub);
		break;
	case JOB_PRUNE:
		auth_admissions_prune(a, j->now_unix_s);
		break;
	}
}

static void *
thread_main(void *opaque)
{
	struct thread_arg *ta = opaque;
	struct workers *w = ta->w;
	struct job_queue *q = ta->is_login ? &w->login : &w->store;
	struct auth *a = auth_open(w->db_path, w->policy);
	uint64_t one = 1;

	pthread_mutex_lock(&w->lock);
	if (!a && !w->start_error)
		w->start_error = -EIO;
	w->n_ready++;
	pthread_cond_broadcast(&w->cond);
	while (a && !w->stopping) {
		struct job *j = queue_pop(q);

		if (!j) {
			pthread_cond_wait(&w->cond, &w->lock);
			continue;
		}
		pthread_mutex_unlock(&w->lock);
		run_job(a, j);
		pthread_mutex_lock(&w->lock);
		queue_push(&w->done, j);
		if (write(w->eventfd, &one, sizeof(one)) < 0)
			log_debug("worker: eventfd write failed");
	}
	pthread_mutex_unlock(&w->lock);
	if (a)
		auth_close(a);
	return NULL;
}

int
workers_start(struct workers *w, const char *db_path,
	      const struct auth_policy *policy, unsigned int n_login,
	      unsigned int max_logins, unsigned int max_jobs)
{
	sigset_t all, old;
	unsigned int i;
	int ret = 0;

	memset(w, 0, sizeof(*w));
	if (n_login == 0 || n_login >= sizeof(w->threads) / sizeof(w->threads[0]))
		return -EINVAL;
	w->db_path = db_path;
	w->policy = policy;
	w->max_logins = max_logins;
	w->eventfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->eventfd < 0)
		return -errno;
	w->pool = calloc(max_jobs, sizeof(*w->pool));
	if (!w->pool) {
		close(w->eventfd);
		return -ENOMEM;
	}
	w->n_jobs = max_jobs;
	for (i = 0; i < max_jobs; i++) {
		w->pool[i].next = w->free_list;
		w->free_list = &w->pool[i];
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	login_arg = (struct thread_arg){ .w = w, .is_login = true };
	store_arg = (struct thread_arg){ .w = w, .is_login = false };
	/* Threads inherit a full signal mask: SIGTERM must reach the loop's
	 * signalfd, never a worker. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (i = 0; i <= n_login; i++) {
		ret = -pthread_create(&w->threads[i], NULL, thread_main,
				      i < n_login ? &login_arg : &store_arg);
		if (ret)
			break;
		w->n_threads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (w->n_threads != n_login + 1) {
		workers_stop(w);
		return ret ? ret : -EAGAIN;
	}
	/* Fail at start, not at the first login, if the store is unusable. */
	pthread_mutex_lock(&w->lock);
	while (w->n_ready < w->n_threads)
		pthread_cond_wait(&w->cond, &w->lock);
	ret = w->start_error;
	pthread_mutex_unlock(&w->lock);
	if (ret)
		workers_stop(w);
	return ret;
}

void
workers_stop(struct workers *w)
{
	unsigned int i;

	if (!w->pool)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	for (i = 0; i < w->n_threads; i++)
		pthread_join(w->threads[i], NULL);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	close(w->eventfd);
	sodium_memzero(w->pool, sizeof(*w->pool) * w->n_jobs);
	free(w->pool);
	w->pool = NULL;
}

struct job *
workers_job_get(struct workers *w)
{
	struct job *j;

	pthread_mutex_lock(&w->lock);
	j = w->free_list;
	if (j)
		w->free_list = j->next;
	pthread_mutex_unlock(&w->lock);
	if (j)
		memset(j, 0, sizeof(*j));
	return j;
}

void
workers_job_put(struct workers *w, struct job *j)
{
	if (j->kind == JOB_LOGIN && w->logins_in_flight)
		w->logins_in_flight--;
	sodium_memzero(j, sizeof(*j));
	pthread_mutex_lock(&w->lock);
	j->next = w->free_list;
	w->free_list = j;
	pthread_mutex_unlock(&w->lock);
}

bool
workers_submit(struct workers *w, struct job *j)
{
	if (j->kind == JOB_LOGIN) {
		if (w->logins_in_flight >= w->max_logins) {
			sodium_memzero(j, sizeof(*j));
			pthread_mutex_lock(&w->lock);
			j->next = w->free_list;
			w->free_list = j;
			pthread_mutex_unlock(&w->lock);
			return false;
		}
		w->logins_in_flight++;
	}
	pthread_mutex_lock(&w->lock);
	queue_push(j->kind == JOB_LOGIN ? &w->login : &w->store, j);
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	return true;
}

struct job *
workers_collect(struct workers *w)
{
	struct job *list;
	uint64_t count;

	if (read(w->eventfd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		log_debug("worker: eventfd read failed");
	pthread_mutex_lock(&w->lock);
	list = w->done.head;
	w->done.head = w->done.tail = NULL;
	w->done.len = 0;
	pthread_mutex_unlock(&w->lock);
	return list;
}
