// SPDX-License-Identifier: MIT
/*
 * The fork-join pool of cryptopool.h. A run publishes (fn, arg, n) under
 * the lock with a new generation and wakes as many sleepers as there are
 * items beyond the caller's first; everyone, the caller included, then
 * takes items from an atomic index until none is left. The caller closes
 * the run once the index is past the end and waits only for the threads
 * still inside it: a thread that wakes after the close finds nothing to
 * do and never reads fn or arg, so a late wake-up costs the caller
 * nothing (a lone packet's latency is not a thread's wake-up time).
 *
 * Must not: spin while idle, know anything of packets, allocate after
 * start.
 */
#include "cryptopool.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

struct cryptopool {
	pthread_mutex_t lock;
	pthread_cond_t wake; /* a new run, or stopping */
	pthread_cond_t idle; /* the last thread left a closed run */
	pthread_t thread[CRYPTOPOOL_MAX_THREADS];
	unsigned int n_threads; /* made, besides the caller */

	/* The run under way; written under lock, read by a thread only
	 * after it joined the run under lock. */
	uint64_t generation;
	bool is_closed;   /* no thread may join the run any more */
	bool is_stopping;
	unsigned int inside; /* threads that joined and have not left */
	void (*fn)(void *arg, size_t i);
	void *arg;
	size_t n;
	atomic_size_t next; /* the next item to take */
};

/* Items until none is left; fn, arg and n are this run's. */
static void
take_items(struct cryptopool *pool, void (*fn)(void *, size_t), void *arg,
	   size_t n)
{
	size_t i;

	while ((i = atomic_fetch_add_explicit(&pool->next, 1,
					      memory_order_relaxed)) < n)
		fn(arg, i);
}

static void *
thread_main(void *opaque)
{
	struct cryptopool *pool = opaque;
	uint64_t seen = 0;

	pthread_mutex_lock(&pool->lock);
	for (;;) {
		void (*fn)(void *, size_t);
		void *arg;
		size_t n;

		while (!pool->is_stopping &&
		       (seen == pool->generation || pool->is_closed)) {
			seen = pool->generation;
			pthread_cond_wait(&pool->wake, &pool->lock);
		}
		if (pool->is_stopping)
			break;
		seen = pool->generation;
		pool->inside++;
		fn = pool->fn;
		arg = pool->arg;
		n = pool->n;
		pthread_mutex_unlock(&pool->lock);
		take_items(pool, fn, arg, n);
		pthread_mutex_lock(&pool->lock);
		/* The lock orders this thread's results before the caller's
		 * return. */
		if (--pool->inside == 0 && pool->is_closed)
			pthread_cond_signal(&pool->idle);
	}
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

unsigned int
cryptopool_cpus(void)
{
	cpu_set_t set;
	long n;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return (unsigned int)CPU_COUNT(&set);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned int)n : 1;
}

int
cryptopool_start(struct cryptopool **out, unsigned int threads)
{
	struct cryptopool *pool;
	sigset_t all, old;
	int ret = 0;

	*out = NULL;
	if (threads == 0)
		return -EINVAL;
	if (threads > CRYPTOPOOL_MAX_THREADS)
		threads = CRYPTOPOOL_MAX_THREADS;
	pool = calloc(1, sizeof(*pool));
	if (!pool)
		return -ENOMEM;
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->wake, NULL);
	pthread_cond_init(&pool->idle, NULL);
	pool->is_closed = true;
	atomic_init(&pool->next, 0);
	/* Signals are the event loop's (its signalfd): never a worker's. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	while (pool->n_threads < threads - 1) {
		ret = -pthread_create(&pool->thread[pool->n_threads], NULL,
				      thread_main, pool);
		if (ret < 0)
			break;
		/* So top -H and the benchmark tell them from the loop. Only
		 * a name: a failure changes nothing. */
		(void)pthread_setname_np(pool->thread[pool->n_threads],
					 CRYPTOPOOL_THREAD_NAME);
		pool->n_threads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret < 0) {
		cryptopool_stop(pool);
		return ret;
	}
	*out = pool;
	return 0;
}

void
cryptopool_stop(struct cryptopool *pool)
{
	unsigned int i;

	if (!pool)
		return;
	pthread_mutex_lock(&pool->lock);
	pool->is_stopping = true;
	pthread_cond_broadcast(&pool->wake);
	pthread_mutex_unlock(&pool->lock);
	for (i = 0; i < pool->n_threads; i++)
		pthread_join(pool->thread[i], NULL);
	pthread_cond_destroy(&pool->idle);
	pthread_cond_destroy(&pool->wake);
	pthread_mutex_destroy(&pool->lock);
	free(pool);
}

unsigned int
cryptopool_threads(const struct cryptopool *pool)
{
	return pool ? pool->n_threads + 1 : 1;
}

void
cryptopool_run(struct cryptopool *pool, void (*fn)(void *arg, size_t i),
	       void *arg, size_t n)
{
	size_t i, helpers;

	if (!pool || !pool->n_threads || n < 2) {
		for (i = 0; i < n; i++)
			fn(arg, i);
		return;
	}
	/* The caller takes the first item itself: wake one thread fewer. */
	helpers = n - 1 < pool->n_threads ? n - 1 : pool->n_threads;
	pthread_mutex_lock(&pool->lock);
	pool->fn = fn;
	pool->arg = arg;
	pool->n = n;
	atomic_store_explicit(&pool->next, 0, memory_order_relaxed);
	pool->generation++;
	pool->is_closed = false;
	if (helpers == pool->n_threads)
		pthread_cond_broadcast(&pool->wake);
	else
		for (i = 0; i < helpers; i++)
			pthread_cond_signal(&pool->wake);
	pthread_mutex_unlock(&pool->lock);

	take_items(pool, fn, arg, n);

	/* Every item is taken: close the run, then wait for the threads
	 * still finishing theirs. */
	pthread_mutex_lock(&pool->lock);
	pool->is_closed = true;
	while (pool->inside)
		pthread_cond_wait(&pool->idle, &pool->lock);
	pthread_mutex_unlock(&pool->lock);
}
