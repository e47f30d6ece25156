// SPDX-License-Identifier: MIT
/*
 * Worker threads (see worker.h). One mutex guards the queues and the
 * lanes; jobs carry everything they need, so a thread never touches the
 * loop's state (but for JOB_START, run while the loop waits for it).
 */
#include "worker.h"

#include <errno.h>
#include <stddef.h>
#include <signal.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
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

/* ---- running jobs ----------------------------------------------------------- */

static void
collect_event(void *arg, const struct auth_event *e)
{
	struct job *j = arg;

	/* The rest is read by the next poll, from the last one kept. */
	if (j->u.events.n == JOB_EVENTS_MAX) {
		j->u.events.more = true;
		return;
	}
	j->u.events.ev[j->u.events.n++] = *e;
	j->seq = e->seq;
}

static void
run_events(struct auth *a, struct job *j)
{
	uint64_t seq = j->seq;
	int ret = auth_events_poll(a, &seq, collect_event, j);

	j->store_error = ret < 0 ? ret : 0;
}

static void
run_start(struct auth *a, struct job *j)
{
	int ret = auth_events_head(a, &j->seq);

	if (ret >= 0)
		ret = auth_admissions_each(a, j->now_unix_s, j->u.start.fn,
					   j->u.start.arg);
	j->store_error = ret < 0 ? ret : 0;
}

static void
run_job(struct auth *a, struct userdb *cluster_db, struct job *j)
{
	int ret;

	switch (j->kind) {
	case JOB_LOGIN:
		auth_login(a, &j->u.req, &j->res);
		sodium_memzero(&j->u.req, sizeof(j->u.req));
		break;
	case JOB_LOOKUP:
		ret = auth_admission_lookup(a, j->pub,
					    j->has_username ? j->username
							    : NULL,
					    j->now_unix_s, &j->adm);
		j->admitted = ret > 0;
		j->lookup_failed = ret < 0;
		j->store_error = ret < 0 ? ret : 0;
		break;
	case JOB_END:
		auth_admission_end(a, j->pub);
		break;
	case JOB_PRUNE:
		ret = auth_admissions_prune(a, j->now_unix_s);
		j->store_error = ret < 0 ? ret : 0;
		break;
	case JOB_EVENTS:
		run_events(a, j);
		break;
	case JOB_STAMPS:
		ret = auth_stamps_save(a, j->u.stamps.st, j->u.stamps.n);
		j->store_error = ret < 0 ? ret : 0;
		break;
	case JOB_START:
		run_start(a, j);
		break;
	case JOB_KICK:
		j->store_error = auth_admissions_kick(a, &j->u.kick.target);
		break;
	case JOB_CLUSTER:
		cluster_batch_run(cluster_db, &j->u.cluster);
		j->store_error = j->u.cluster.error;
		break;
	case JOB_CLUSTER_LIST:
		j->store_error = cluster_list_put(cluster_db,
						  &j->u.cluster_list.w);
		break;
	}
}

/* What a job owns besides itself. */
static void
job_release(struct job *j)
{
	if (j->kind == JOB_CLUSTER_LIST)
		ctlmsg_writer_free(&j->u.cluster_list.w);
}

static struct job *
login_pop(struct workers *w)
{
	struct lanes_item *item = lanes_pop(&w->logins);

	return item ? (struct job *)((char *)item -
				     offsetof(struct job, lane))
		    : NULL;
}

/* ---- threads ---------------------------------------------------------------- */

static void
finish(struct workers *w, struct job *j)
{
	static const uint64_t one = 1;

	if (j->is_sync) {
		j->is_done = true;
		pthread_cond_broadcast(&w->cond);
		return;
	}
	queue_push(&w->done, j);
	if (write(w->eventfd, &one, sizeof(one)) < 0)
		log_debug("worker: eventfd write failed");
}

/*
 * Password checks and store jobs run below the packet path: with every core
 * hashing during a login storm, the event loop (nice 0) must still get a
 * core at once when a packet comes, or admitted sessions wait behind
 * Argon2id. Threads have their own nice value on Linux; lowering it needs
 * no privilege.
 */
#define WORKER_NICE 19

static void
lower_priority(void)
{
	if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), WORKER_NICE) <
	    0)
		log_debug("worker: cannot lower its priority: %s",
			  strerror(errno));
}

static void *
thread_main(void *opaque)
{
	struct thread_arg *ta = opaque;
	struct workers *w = ta->w;
	struct auth *a;

	lower_priority();
	a = auth_open(w->db_path, w->policy);
	struct auth_policy policy;
	unsigned int policy_gen = 0;
	/* The store thread's jobs for the cluster's bookkeeping (cluster.h)
	 * share its login connection: one connection (and, on SQLite, one
	 * page cache) per thread. */
	struct userdb *cluster_db = a && !ta->is_login ? auth_store(a) : NULL;

	pthread_mutex_lock(&w->lock);
	if (!a && !w->start_error)
		w->start_error = -EIO;
	w->n_ready++;
	pthread_cond_broadcast(&w->cond);
	while (a) {
		struct job *j = ta->is_login ? login_pop(w)
					     : queue_pop(&w->store);
		bool renew;

		/* The store thread finishes what is queued before it stops:
		 * logouts and timestamps are not lost at shutdown. */
		if (w->stopping && (ta->is_login || !j))
			break;
		if (!j) {
			pthread_cond_wait(&w->cond, &w->lock);
			continue;
		}
		renew = policy_gen != w->policy_gen;
		if (renew) {
			policy = w->policy_now;
			policy_gen = w->policy_gen;
		}
		pthread_mutex_unlock(&w->lock);
		if (renew)
			auth_set_policy(a, &policy);
		run_job(a, cluster_db, j);
		pthread_mutex_lock(&w->lock);
		finish(w, j);
	}
	pthread_mutex_unlock(&w->lock);
	if (a)
		auth_close(a);
	return NULL;
}

static int
pool_alloc(struct workers *w, unsigned int max_jobs)
{
	unsigned int i;

	w->pool = calloc(max_jobs, sizeof(*w->pool));
	if (!w->pool)
		return -ENOMEM;
	w->n_jobs = max_jobs;
	for (i = 0; i < max_jobs; i++) {
		w->pool[i].next = w->free_list;
		w->free_list = &w->pool[i];
	}
	return 0;
}

int
workers_start(struct workers *w, const char *db_path,
	      const struct auth_policy *policy, unsigned int n_login,
	      unsigned int max_logins, unsigned int per_source,
	      unsigned int max_jobs)
{
	sigset_t all, old;
	unsigned int i;
	int ret = 0;

	memset(w, 0, sizeof(*w));
	w->eventfd = -1;
	if (n_login == 0 ||
	    n_login >= sizeof(w->threads) / sizeof(w->threads[0]))
		return -EINVAL;
	w->db_path = db_path;
	w->policy = policy;
	/* Once, here: the workers' own stand-ins cost no hashing. */
	ret = auth_self_check();
	if (ret < 0)
		return ret;
	ret = lanes_init(&w->logins, max_logins, per_source);
	if (ret < 0)
		return ret;
	w->eventfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->eventfd < 0) {
		ret = -errno;
		goto err_lanes;
	}
	ret = pool_alloc(w, max_jobs);
	if (ret < 0)
		goto err_eventfd;
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
err_eventfd:
	close(w->eventfd);
	w->eventfd = -1;
err_lanes:
	lanes_free(&w->logins);
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
	w->eventfd = -1;
	/* Jobs done but never collected (free ones are zeroed). */
	for (i = 0; i < w->n_jobs; i++)
		job_release(&w->pool[i]);
	sodium_memzero(w->pool, sizeof(*w->pool) * w->n_jobs);
	free(w->pool);
	w->pool = NULL;
	lanes_free(&w->logins);
}

/* ---- the loop's side ---------------------------------------------------------- */

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

/* Under the lock. */
static void
job_free(struct workers *w, struct job *j)
{
	job_release(j);
	sodium_memzero(j, sizeof(*j));
	j->next = w->free_list;
	w->free_list = j;
}

void
workers_job_put(struct workers *w, struct job *j)
{
	pthread_mutex_lock(&w->lock);
	if (j->kind == JOB_LOGIN)
		lanes_done(&w->logins, j->lane.key);
	job_free(w, j);
	pthread_mutex_unlock(&w->lock);
}

static enum submit_result
submit_login(struct workers *w, struct job *j)
{
	switch (lanes_push(&w->logins, &j->lane)) {
	case LANES_OK:
		return SUBMIT_OK;
	case LANES_SOURCE_FULL:
		return SUBMIT_SOURCE_BUSY;
	default:
		return SUBMIT_BUSY;
	}
}

enum submit_result
workers_submit(struct workers *w, struct job *j)
{
	enum submit_result r = SUBMIT_OK;

	pthread_mutex_lock(&w->lock);
	if (j->kind == JOB_LOGIN)
		r = submit_login(w, j);
	else
		queue_push(&w->store, j);
	if (r == SUBMIT_OK)
		pthread_cond_broadcast(&w->cond);
	else
		job_free(w, j);
	pthread_mutex_unlock(&w->lock);
	return r;
}

void
workers_run_sync(struct workers *w, struct job *j)
{
	pthread_mutex_lock(&w->lock);
	j->is_sync = true;
	queue_push(&w->store, j);
	pthread_cond_broadcast(&w->cond);
	while (!j->is_done)
		pthread_cond_wait(&w->cond, &w->lock);
	pthread_mutex_unlock(&w->lock);
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

void
workers_set_policy(struct workers *w, const struct auth_policy *policy,
		   unsigned int per_source)
{
	pthread_mutex_lock(&w->lock);
	w->policy_now = *policy;
	w->policy_gen++;
	/* Lanes over the new bound take no more until they drain. */
	w->logins.per_source = per_source;
	pthread_mutex_unlock(&w->lock);
}

unsigned int
workers_logins_queued(struct workers *w)
{
	unsigned int n;

	pthread_mutex_lock(&w->lock);
	n = w->logins.queued;
	pthread_mutex_unlock(&w->lock);
	return n;
}
