/* SPDX-License-Identifier: MIT */
/*
 * This vpnd as one node of those sharing a user store (userdb.h, "nodes
 * and their live sessions"): its name, its heartbeat, and the sessions it
 * holds, recorded in the store so that any node, or vpnctl at the store,
 * lists the sessions of all. admit.c says when a session is admitted and
 * when it ends; the writes go to the store thread (worker.c) as jobs,
 * batched, one at a time, never on the packet path. A store that cannot
 * be reached stops nothing: a job fails, and the next beat that gets
 * through records the live sessions anew. The listing (`vpnctl status
 * --cluster`) is a store job too, answered on the control socket.
 *
 * It must not decide anything about logins or sessions: it reports them.
 */
#ifndef VPND_CLUSTER_H
#define VPND_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl.h"
#include "ctlmsg.h"
#include "userdb.h"

struct server;
struct peer;
struct job;

/* A node beats every CLUSTER_BEAT_S; one silent for more than
 * CLUSTER_DEAD_S (a few beats lost, a store's busy moment) is taken for
 * dead, and the next listing removes it with its sessions. */
#define CLUSTER_BEAT_S 2
#define CLUSTER_DEAD_S 10
#define CLUSTER_CHANGES_MAX 16 /* session changes a job carries */
/* Changes waiting past this: the queue is dropped and every live session
 * recorded again instead (a store slow under a storm of logins). */
#define CLUSTER_QUEUE_MAX 1024
/* Sessions whose endpoint moved (a roam) since the last beat, recorded
 * again at the beat: each at most once a beat. Past this many, every
 * live session is recorded again instead. */
#define CLUSTER_ROAMED_MAX 256

struct cluster_change {
	bool is_up;                 /* else down: only client_pub counts */
	struct userdb_session s;
};

/* What a JOB_CLUSTER does on the store thread, in this order. */
struct cluster_batch {
	char node[USERDB_NODE_MAX + 1];
	uint64_t started_unix_s;
	bool leave;                 /* forget the node's sessions first */
	bool beat;
	unsigned int n;
	struct cluster_change ch[CLUSTER_CHANGES_MAX];
	int error;                  /* out: the first failure, or 0 */
	bool forgotten;             /* out: the beat found the node gone */
};

/* A JOB_CLUSTER_LIST: the listing, built on the store thread. */
struct cluster_listing {
	unsigned int slot;          /* the control connection */
	uint32_t generation;
	struct ctlmsg_writer w;     /* owned by the job until answered */
};

/* A session change waiting for its batch. */
struct cluster_key {
	uint8_t pub[USERDB_KEY_LEN];
	bool is_up;
};

struct cluster {
	char node[USERDB_NODE_MAX + 1];
	uint64_t started_unix_s;
	uint64_t next_beat_ns;
	bool in_flight;             /* a JOB_CLUSTER at the store */
	bool resync;                /* record every live session again */
	bool is_snapshotting;       /* doing so: the peers from cursor on */
	uint32_t cursor;            /* a peer slot */
	struct cluster_key queue[CLUSTER_QUEUE_MAX]; /* a ring */
	unsigned int head, n;
	uint8_t roamed[CLUSTER_ROAMED_MAX][USERDB_KEY_LEN];
	unsigned int n_roamed;
	int store_errno;            /* the last job's failure; 0 */
	uint64_t beats;             /* that got through */
	bool is_stopped;            /* left the store: changes ignored */
};

/* ---- the store thread's side ---- */

/* Runs b against the store (the thread's own connection). */
void cluster_batch_run(struct userdb *db, struct cluster_batch *b);

/*
 * The cluster as control fields: node-name= records (node-started,
 * node-beat, node-beat-age), then session= records (node, user,
 * endpoint, address4, address6, since), after removing the
 * nodes silent for more than CLUSTER_DEAD_S. 0 or -errno.
 */
int cluster_list_put(struct userdb *db, struct ctlmsg_writer *w)
	__attribute__((warn_unused_result));

/* ---- the loop's side ---- */

/* Before the loop: the node forgets what a previous run of it left in
 * the store and beats. A store that fails here is retried by the beats. */
void cluster_start(struct server *s);
/* p was admitted (or admitted again, its addresses changed). */
void cluster_session_up(struct server *s, const struct peer *p);
/* p's admission ended here, or p went. */
void cluster_session_down(struct server *s, const struct peer *p);
/* p's endpoint moved (tunnel.c saw it roam): its session is recorded
 * again at the next beat, with the endpoint it has then. Cheap: once
 * per move, never per packet. */
void cluster_endpoint_changed(struct server *s, const struct peer *p);
/* Often (a few times a second): the beat when due, the changes queued. */
void cluster_tick(struct server *s);
/* A JOB_CLUSTER or JOB_CLUSTER_LIST came back. */
void cluster_job_done(struct server *s, struct job *j);
/* `cluster` on the control socket: a store job answers connection t
 * (ctl_answer). 0, or -EBUSY (no job free). */
int cluster_list_submit(struct server *s, struct ctl_ticket t);
/* A graceful stop: the node leaves the store, its sessions with it;
 * nothing is recorded after. */
void cluster_stop(struct server *s);

#endif
