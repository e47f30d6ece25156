/* SPDX-License-Identifier: MIT */
/*
 * Worker threads between the packet path and the user store: login checks
 * (Argon2id, seconds of CPU under attack) on `auth-workers` threads, and
 * quick store jobs (admission lookups, logouts, pruning, change events,
 * saving timestamps) on a thread of their own so a login backlog never
 * delays them. The loop submits jobs from a fixed pool and collects
 * results when the eventfd is readable; each thread owns its struct auth
 * (and its store connection).
 *
 * Login checks are queued fairly: each source address (an IPv4 address,
 * an IPv6 /64) has a lane of its own, holding at most `per_source` checks
 * queued or running, and the threads take from the lanes in turn. So a
 * handful of busy sources cannot make a newcomer wait behind their
 * backlog, and BUSY means the server as a whole is full.
 */
#ifndef VPND_WORKER_H
#define VPND_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "auth.h"
#include "cluster.h"
#include "lanes.h"

#define JOB_EVENTS_MAX 16
#define JOB_STAMPS_MAX 32

enum job_kind {
	JOB_LOGIN,  /* auth_login */
	JOB_LOOKUP, /* auth_admission_lookup: new peer, RESUME */
	JOB_END,    /* auth_admission_end: LOGOUT */
	JOB_PRUNE,  /* auth_admissions_prune */
	JOB_EVENTS, /* auth_events_poll: what changed in the store */
	JOB_STAMPS, /* auth_stamps_save */
	JOB_START,  /* at start: every admission (load_fn), the events head */
	JOB_KICK,   /* auth_admissions_kick, for the control socket */
	JOB_CLUSTER,      /* cluster_batch_run: beat, sessions (cluster.h) */
	JOB_CLUSTER_LIST, /* cluster_list_put, for the control socket */
};

struct job {
	enum job_kind kind;
	struct job *next;
	uint32_t peer_slot;
	uint32_t peer_generation;
	uint32_t adm_epoch;
	uint64_t submitted_ns;
	uint64_t now_unix_s;
	uint8_t pub[32];
	/* JOB_LOGIN: its lane (lanes.h); the caller sets lane.key. */
	struct lanes_item lane;
	/* JOB_LOGIN, JOB_LOOKUP */
	uint32_t request_id;
	bool is_resume;
	bool has_username;
	char username[LOGIN_USERNAME_MAX + 1];
	struct auth_result res;  /* JOB_LOGIN */
	bool admitted;           /* JOB_LOOKUP */
	bool lookup_failed;      /* JOB_LOOKUP: the store could not tell */
	struct auth_admission adm;
	/* JOB_EVENTS, JOB_START: events after `seq` (in), up to (out). */
	uint64_t seq;
	int store_error;         /* JOB_EVENTS, JOB_STAMPS, JOB_START,
				  * JOB_LOOKUP, and JOB_KICK (else how
				  * many it ended); JOB_LOGIN: in res */
	bool is_sync, is_done;   /* workers_run_sync */
	union {
		struct auth_request req; /* JOB_LOGIN; wiped when it returns */
		struct {
			unsigned int n;
			bool more;       /* there may be more after seq */
			struct auth_event ev[JOB_EVENTS_MAX];
		} events;
		struct {
			unsigned int n;
			struct auth_stamp st[JOB_STAMPS_MAX];
		} stamps;
		struct {
			struct auth_target target;
			unsigned int slot;      /* the control connection */
			uint32_t generation;
		} kick;
		struct {
			/* Runs on the store thread while the loop waits. */
			void (*fn)(void *arg, const uint8_t pub[32],
				   const struct auth_admission *adm);
			void *arg;
		} start;
		struct cluster_batch cluster;
		struct cluster_listing cluster_list; /* its writer is freed
						       * with the job */
	} u;
};

struct job_queue {
	struct job *head, *tail;
	unsigned int len;
};

enum submit_result {
	SUBMIT_OK,
	SUBMIT_BUSY,        /* logins: the server's limit is reached */
	SUBMIT_SOURCE_BUSY, /* logins: that source's limit is reached */
};

struct workers {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job_queue store, done;
	struct lanes logins;
	struct job *pool;
	unsigned int n_jobs;
	struct job *free_list;
	int eventfd;
	bool stopping;
	pthread_t threads[65];
	unsigned int n_threads;
	unsigned int n_ready; /* threads past auth_open */
	const char *db_path;
	const struct auth_policy *policy;
	/* A reloaded policy (workers_set_policy): each thread copies it
	 * into its struct auth before its next job once policy_gen moved. */
	struct auth_policy policy_now;
	unsigned int policy_gen;
	int start_error;
};

/*
 * Opens one struct auth per thread and starts the threads: n_login for
 * logins, one for the store. max_logins bounds logins queued or running
 * (beyond: BUSY), per_source those of one source; max_jobs sizes the job
 * pool. 0 or -errno.
 */
int workers_start(struct workers *w, const char *db_path,
		  const struct auth_policy *policy, unsigned int n_login,
		  unsigned int max_logins, unsigned int per_source,
		  unsigned int max_jobs) __attribute__((warn_unused_result));
/* Finishes the store jobs already queued, stops the threads (running
 * logins finish first, queued ones are dropped) and frees the pool. */
void workers_stop(struct workers *w);

/* A zeroed job from the pool, or NULL when it is empty. */
struct job *workers_job_get(struct workers *w);
/* Wipes a job and returns it to the pool. */
void workers_job_put(struct workers *w, struct job *j);
/* Queues j; anything but SUBMIT_OK returns j to the pool. A login's lane
 * is j->lane.key. */
enum submit_result workers_submit(struct workers *w, struct job *j);
/* Runs a store job now and waits for it (start-up only). */
void workers_run_sync(struct workers *w, struct job *j);
/* Detaches every finished job, as a list linked by ->next. */
struct job *workers_collect(struct workers *w);
/* A reload: every thread checks logins under `policy` from its next job
 * on (one running now finishes under the old one), and each source may
 * have `per_source` checks in flight. */
void workers_set_policy(struct workers *w, const struct auth_policy *policy,
			unsigned int per_source);
/* Logins queued (waiting for a thread), for status and metrics. */
unsigned int workers_logins_queued(struct workers *w);

#endif
