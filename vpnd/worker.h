/* SPDX-License-Identifier: MIT */
/*
 * Worker threads between the packet path and the user store: login checks
 * (Argon2id, seconds of CPU under attack) on `auth-workers` threads, and
 * quick store jobs (admission lookups, logouts, pruning) on a thread of
 * their own so a login backlog never delays them. The loop submits jobs
 * from a fixed pool and collects results when the eventfd is readable;
 * each thread owns its struct auth (and its store connection).
 */
#ifndef VPND_WORKER_H
#define VPND_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "auth.h"

enum job_kind {
	JOB_LOGIN,  /* auth_login */
	JOB_LOOKUP, /* auth_admission_get: new peer, RESUME, refresh */
	JOB_END,    /* auth_admission_end: LOGOUT */
	JOB_PRUNE,  /* auth_admissions_prune */
};

struct job {
	enum job_kind kind;
	struct job *next;
	uint32_t peer_slot;
	uint32_t peer_generation;
	uint32_t adm_epoch;
	uint32_t request_id;
	bool is_resume;
	uint64_t submitted_ns;
	uint64_t now_unix_s;
	uint8_t pub[32];
	bool has_username;
	char username[LOGIN_USERNAME_MAX + 1];
	struct auth_request req; /* JOB_LOGIN; wiped when the job returns */
	/* results */
	struct auth_result res;  /* JOB_LOGIN */
	bool admitted;           /* JOB_LOOKUP */
	bool lookup_failed;      /* JOB_LOOKUP: the store could not tell */
	struct auth_admission adm;
};

struct job_queue {
	struct job *head, *tail;
	unsigned int len;
};

struct workers {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job_queue login, store, done;
	struct job *pool;
	unsigned int n_jobs;
	struct job *free_list;
	unsigned int logins_in_flight;
	unsigned int max_logins;
	int eventfd;
	bool stopping;
	pthread_t threads[65];
	unsigned int n_threads;
	unsigned int n_ready; /* threads past auth_open */
	const char *db_path;
	const struct auth_policy *policy;
	int start_error;
};

/*
 * Opens one struct auth per thread and starts the threads: n_login for
 * logins, one for the store. max_logins bounds logins queued or running
 * (beyond: BUSY); max_jobs sizes the job pool. 0 or -errno.
 */
int workers_start(struct workers *w, const char *db_path,
		  const struct auth_policy *policy, unsigned int n_login,
		  unsigned int max_logins, unsigned int max_jobs)
	__attribute__((warn_unused_result));
/* Stops the threads (running jobs finish first) and frees the pool. */
void workers_stop(struct workers *w);

/* A zeroed job from the pool, or NULL when it is empty. */
struct job *workers_job_get(struct workers *w);
/* Wipes a job and returns it to the pool. */
void workers_job_put(struct workers *w, struct job *j);
/* False (job returned to the pool) if a login would exceed max_logins. */
bool workers_submit(struct workers *w, struct job *j);
/* Detaches every finished job, as a list linked by ->next. */
struct job *workers_collect(struct workers *w);

#endif
