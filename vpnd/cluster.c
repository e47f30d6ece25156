// SPDX-License-Identifier: MIT
/*
 * This node's bookkeeping in the shared store (see cluster.h): a queue of
 * session changes admit.c reports, sent to the store thread a batch at a
 * time, with the node's beat every CLUSTER_BEAT_S; and the cluster's
 * listing for the control socket and for vpnctl at the store. Whenever
 * the store may hold less than this node has (a job failed, the store
 * forgot the node, the queue overflowed), the next batch starts by
 * leaving and records every admitted peer again: a snapshot, which makes
 * the changes queued before it moot. Only that and shutdown visit every
 * peer. A session whose endpoint moves (a roam) is marked and recorded
 * again at the next beat: at most once a beat however often it moves.
 */
#include "cluster.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "keys.h"
#include "log.h"
#include "server.h"

static uint64_t
wall_s(const struct server *s)
{
	return s->wall_ns / NS_PER_S;
}

/* ---- on the store thread ------------------------------------------------------ */

static int
change_run(struct userdb *db, const char *node, const struct cluster_change *c)
{
	if (c->is_up)
		return userdb_session_up(db, node, &c->s);
	return userdb_session_down(db, node, c->s.client_pub);
}

void
cluster_batch_run(struct userdb *db, struct cluster_batch *b)
{
	unsigned int i;
	int ret = db ? 0 : -ENOTCONN;

	b->forgotten = false;
	if (ret == 0 && b->leave)
		ret = userdb_node_leave(db, b->node);
	if (ret == 0 && b->beat) {
		ret = userdb_node_beat(db, b->node, b->started_unix_s);
		b->forgotten = ret == 1;
		if (ret > 0)
			ret = 0;
	}
	for (i = 0; ret == 0 && i < b->n; i++)
		ret = change_run(db, b->node, &b->ch[i]);
	b->error = ret;
}

static void
put_addr(struct ctlmsg_writer *w, const char *key, int family,
	 const uint8_t *addr)
{
	char text[INET6_ADDRSTRLEN];

	ctlmsg_put(w, key, inet_ntop(family, addr, text, sizeof(text)));
}

static int
put_node(void *arg, const struct userdb_node *n)
{
	struct ctlmsg_writer *w = arg;

	ctlmsg_put(w, "node-name", n->name);
	ctlmsg_put_u64(w, "node-started", n->started_unix_s);
	ctlmsg_put_u64(w, "node-beat", n->beat_unix_s);
	ctlmsg_put_u64(w, "node-beat-age", n->beat_age_s);
	return w->failed ? -ENOMEM : 0;
}

static int
put_session(void *arg, const struct userdb_session *s)
{
	struct ctlmsg_writer *w = arg;
	char key[KEY_B64_LEN + 1];

	keys_to_base64(key, s->client_pub);
	ctlmsg_put(w, "session", key);
	ctlmsg_put(w, "node", s->node);
	ctlmsg_put(w, "user", s->username);
	ctlmsg_put(w, "endpoint", s->endpoint);
	if (s->has_addr4)
		put_addr(w, "address4", AF_INET, s->addr4);
	if (s->has_addr6)
		put_addr(w, "address6", AF_INET6, s->addr6);
	ctlmsg_put_u64(w, "since", s->since_unix_s);
	return w->failed ? -ENOMEM : 0;
}

int
cluster_list_put(struct userdb *db, struct ctlmsg_writer *w)
{
	if (!db)
		return -ENOTCONN;
	return userdb_nodes_list(db, CLUSTER_DEAD_S, put_node, put_session, w);
}

/* ---- the queue ------------------------------------------------------------------ */

/* A change queued: the key only. An up reads its peer when its batch is
 * made, so a session is recorded as it is then (or not at all if it has
 * ended since: its down follows in the queue). */
static void
key_add(struct cluster *c, const uint8_t pub[USERDB_KEY_LEN], bool is_up)
{
	struct cluster_key *k;

	/* A snapshot still to be started will see p as it is then. */
	if (c->is_stopped || c->resync)
		return;
	if (c->n == CLUSTER_QUEUE_MAX) {
		log_warn("cluster: %u session changes wait for the store; "
			 "recording every session again instead",
			 CLUSTER_QUEUE_MAX);
		c->n = c->head = 0;
		c->resync = true;
		return;
	}
	k = &c->queue[(c->head + c->n++) % CLUSTER_QUEUE_MAX];
	memcpy(k->pub, pub, sizeof(k->pub));
	k->is_up = is_up;
}

static void
change_add(struct server *s, const struct peer *p, bool is_up)
{
	key_add(&s->cluster, peer_pub(p), is_up);
}

void
cluster_session_up(struct server *s, const struct peer *p)
{
	change_add(s, p, true);
}

void
cluster_session_down(struct server *s, const struct peer *p)
{
	change_add(s, p, false);
}

static bool
is_live(const struct peer *p);

/* Marked once until the beat, however often the peer moves meanwhile. */
void
cluster_endpoint_changed(struct server *s, const struct peer *p)
{
	struct cluster *c = &s->cluster;
	unsigned int i;

	if (c->is_stopped || c->resync || !is_live(p))
		return;
	for (i = 0; i < c->n_roamed; i++)
		if (memcmp(c->roamed[i], peer_pub(p), USERDB_KEY_LEN) == 0)
			return;
	if (c->n_roamed == CLUSTER_ROAMED_MAX) {
		c->n_roamed = 0;
		c->resync = true;
		return;
	}
	memcpy(c->roamed[c->n_roamed++], peer_pub(p), USERDB_KEY_LEN);
}

/* At the beat: the sessions that roamed since the last go as ups, read
 * when their batch is made (a peer gone since is skipped then). */
static void
roamed_flush(struct cluster *c)
{
	unsigned int i;

	for (i = 0; i < c->n_roamed && !c->resync; i++)
		key_add(c, c->roamed[i], true);
	c->n_roamed = 0;
}

/* The session p holds here, as the store records it. It came to this node
 * with its peer (a login, or a RESUME of an admission from elsewhere). */
static void
session_of(const struct server *s, const struct peer *p,
	   struct userdb_session *out)
{
	char ep[ENDPOINT_STR_LEN];
	uint64_t age_s = (s->now_ns - p->created_ns) / NS_PER_S;

	memset(out, 0, sizeof(*out));
	memcpy(out->client_pub, peer_pub(p), sizeof(out->client_pub));
	snprintf(out->username, sizeof(out->username), "%s",
		 p->login.admission.username);
	out->has_addr4 = p->login.admission.has_addr4;
	memcpy(out->addr4, p->login.admission.addr4, sizeof(out->addr4));
	out->has_addr6 = p->login.admission.has_addr6;
	memcpy(out->addr6, p->login.admission.addr6, sizeof(out->addr6));
	snprintf(out->endpoint, sizeof(out->endpoint), "%s",
		 endpoint_format(&p->tp.endpoint, ep));
	out->since_unix_s = wall_s(s) > age_s ? wall_s(s) - age_s : 0;
}

static bool
is_live(const struct peer *p)
{
	return p && !p->is_doomed && p->login.state == ADMIT_ADMITTED;
}

static void
batch_up(const struct server *s, struct cluster_batch *b, const struct peer *p)
{
	struct cluster_change *ch = &b->ch[b->n++];

	ch->is_up = true;
	session_of(s, p, &ch->s);
}

/* The snapshot's next admitted peers, from the cursor on. */
static void
batch_snapshot(struct server *s, struct cluster_batch *b)
{
	struct cluster *c = &s->cluster;

	while (c->is_snapshotting && b->n < CLUSTER_CHANGES_MAX) {
		if (c->cursor >= s->peers.capacity) {
			c->is_snapshotting = false;
			break;
		}
		if (is_live(s->peers.slots[c->cursor]))
			batch_up(s, b, s->peers.slots[c->cursor]);
		c->cursor++;
	}
}

static void
batch_queued(struct server *s, struct cluster_batch *b)
{
	struct cluster *c = &s->cluster;

	while (c->n && b->n < CLUSTER_CHANGES_MAX) {
		const struct cluster_key *k = &c->queue[c->head];
		const struct peer *p = k->is_up ? peer_lookup(&s->peers, k->pub)
						: NULL;

		if (!k->is_up) {
			b->ch[b->n].is_up = false;
			memset(&b->ch[b->n].s, 0, sizeof(b->ch[b->n].s));
			memcpy(b->ch[b->n++].s.client_pub, k->pub, USERDB_KEY_LEN);
		} else if (is_live(p)) {
			batch_up(s, b, p);
		}
		c->head = (c->head + 1) % CLUSTER_QUEUE_MAX;
		c->n--;
	}
}

/* ---- jobs ------------------------------------------------------------------------- */

/*
 * A snapshot (after a failure, at start) leaves first, then walks the
 * peers with a cursor, a batch at a time; changes queued meanwhile follow
 * it. A change to a peer the cursor has not reached yet is recorded twice
 * or, for an up then a down, not at all: the same end.
 */
static void
batch_fill(struct server *s, struct cluster_batch *b, bool beat)
{
	struct cluster *c = &s->cluster;

	snprintf(b->node, sizeof(b->node), "%s", c->node);
	b->started_unix_s = c->started_unix_s;
	if (c->resync) {
		b->leave = true;
		c->resync = false;
		c->is_snapshotting = true;
		c->cursor = 0;
		c->n = c->head = 0;
	}
	b->beat = beat || b->leave;
	batch_snapshot(s, b);
	batch_queued(s, b);
}

/* Sends the next batch unless one is at the store: the beat if asked,
 * the changes queued, or a snapshot when one is due. */
static void
submit(struct server *s, bool beat)
{
	struct cluster *c = &s->cluster;
	struct job *j;

	if (c->in_flight || c->is_stopped)
		return;
	if (!beat && !c->resync && !c->is_snapshotting && !c->n)
		return;
	j = workers_job_get(&s->workers);
	if (!j)
		return;
	j->kind = JOB_CLUSTER;
	j->peer_slot = UINT32_MAX;
	j->submitted_ns = s->now_ns;
	batch_fill(s, &j->u.cluster, beat);
	c->in_flight = workers_submit(&s->workers, j) == SUBMIT_OK;
	/* What it carried is lost: the next beat records all again. */
	if (!c->in_flight)
		c->resync = true;
}

void
cluster_start(struct server *s)
{
	struct cluster *c = &s->cluster;
	struct job *j;

	memset(c, 0, sizeof(*c));
	snprintf(c->node, sizeof(c->node), "%s", s->cfg->node_name);
	c->started_unix_s = wall_s(s);
	c->next_beat_ns = s->now_ns + CLUSTER_BEAT_S * NS_PER_S;
	/* What a previous run of this node left (it was killed) goes. */
	c->resync = true;
	j = workers_job_get(&s->workers);
	if (!j)
		return;
	j->kind = JOB_CLUSTER;
	j->peer_slot = UINT32_MAX;
	batch_fill(s, &j->u.cluster, true);
	workers_run_sync(&s->workers, j);
	if (j->u.cluster.error) {
		c->resync = true;
		c->store_errno = -j->u.cluster.error;
		log_warn("cluster: node %s cannot beat in the store: %s; "
			 "retried every %d s", c->node,
			 strerror(c->store_errno), CLUSTER_BEAT_S);
	} else {
		c->beats++;
		log_info("cluster: node %s beats in the store every %d s",
			 c->node, CLUSTER_BEAT_S);
	}
	workers_job_put(&s->workers, j);
}

void
cluster_tick(struct server *s)
{
	struct cluster *c = &s->cluster;
	bool beat = s->now_ns >= c->next_beat_ns;

	if (c->is_stopped || c->in_flight)
		return;
	/* After a failure, the next try is the next beat's: a store that is
	 * down is not asked five times a second. */
	if (c->store_errno && !beat)
		return;
	if (beat)
		roamed_flush(c);
	submit(s, beat);
	if (beat && c->in_flight)
		c->next_beat_ns = s->now_ns + CLUSTER_BEAT_S * NS_PER_S;
}

static void
batch_done(struct server *s, const struct cluster_batch *b)
{
	struct cluster *c = &s->cluster;

	c->in_flight = false;
	if (c->is_stopped)
		return;
	if (b->error) {
		if (!c->store_errno)
			log_warn("cluster: the store did not take node %s's "
				 "beat or sessions: %s; recorded again at the "
				 "next beat", c->node, strerror(-b->error));
		c->store_errno = -b->error;
		c->resync = true;
		return;
	}
	if (c->store_errno)
		log_notice("cluster: node %s is recorded in the store again",
			   c->node);
	c->store_errno = 0;
	if (b->beat)
		c->beats++;
	if (b->forgotten && !b->leave) {
		log_notice("cluster: the store no longer knew node %s (given "
			   "up after %d s of silence, or its rows removed); "
			   "recording its sessions again", c->node,
			   CLUSTER_DEAD_S);
		c->resync = true;
	}
	/* The rest of a snapshot, or of a burst of logins, goes at once. */
	submit(s, false);
}

static void
listing_done(struct server *s, struct job *j)
{
	struct cluster_listing *l = &j->u.cluster_list;
	struct ctl_ticket t = { l->slot, l->generation };
	struct ctlmsg_writer w;

	if (j->store_error < 0) {
		ctlmsg_writer_free(&l->w);
		ctlmsg_writer_init(&w, CTLMSG_ANSWER_MAX);
		if (!ctlmsg_finish(&w, -j->store_error,
				   "the store could not list the cluster"))
			w.failed = true;
	} else {
		w = l->w;
		memset(&l->w, 0, sizeof(l->w));
		if (!ctlmsg_finish(&w, 0, NULL))
			w.failed = true;
	}
	ctl_answer(&s->ctl, t, &w);
}

void
cluster_job_done(struct server *s, struct job *j)
{
	if (j->kind == JOB_CLUSTER)
		batch_done(s, &j->u.cluster);
	else if (j->kind == JOB_CLUSTER_LIST)
		listing_done(s, j);
}

int
cluster_list_submit(struct server *s, struct ctl_ticket t)
{
	struct job *j = workers_job_get(&s->workers);
	struct cluster_listing *l;

	if (!j)
		return -EBUSY;
	j->kind = JOB_CLUSTER_LIST;
	j->peer_slot = UINT32_MAX;
	j->submitted_ns = s->now_ns;
	l = &j->u.cluster_list;
	l->slot = t.slot;
	l->generation = t.generation;
	ctlmsg_writer_init(&l->w, CTLMSG_ANSWER_MAX);
	ctlmsg_put(&l->w, "this-node", s->cluster.node);
	ctlmsg_put_u64(&l->w, "now", wall_s(s));
	/* Refused, the job (and its writer) went back to the pool. */
	return workers_submit(&s->workers, j) == SUBMIT_OK ? 0 : -EBUSY;
}

void
cluster_stop(struct server *s)
{
	struct cluster *c = &s->cluster;
	struct job *j;

	if (c->is_stopped)
		return;
	c->is_stopped = true;
	c->n = c->head = 0;
	j = workers_job_get(&s->workers);
	if (!j)
		return;
	j->kind = JOB_CLUSTER;
	j->peer_slot = UINT32_MAX;
	snprintf(j->u.cluster.node, sizeof(j->u.cluster.node), "%s", c->node);
	j->u.cluster.leave = true;
	workers_run_sync(&s->workers, j);
	if (j->u.cluster.error)
		log_warn("cluster: node %s could not leave the store: %s; "
			 "it ages out in %d s", c->node,
			 strerror(-j->u.cluster.error), CLUSTER_DEAD_S);
	else
		log_info("cluster: node %s left the store", c->node);
	workers_job_put(&s->workers, j);
}
