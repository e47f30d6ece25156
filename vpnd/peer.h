/* SPDX-License-Identifier: MIT */
/*
 * vpnd's clients: a fixed pool of peers (allocated at start, never per
 * packet), found by static key through a keyed hash, and a min-heap of
 * their timer deadlines so the loop arms one timer for the earliest.
 */
#ifndef VPND_PEER_H
#define VPND_PEER_H

#include <stdbool.h>
#include <stdint.h>

#include "auth.h"
#include "login.h"
#include "tunnel.h"

enum peer_admission {
	PEER_ADM_UNKNOWN,  /* store lookup under way: drop IP silently */
	PEER_ADM_NONE,     /* no valid login: drop IP, answer AUTH_REQUIRED */
	PEER_ADM_ADMITTED,
};

#define PEER_ANSWER_MAX 1500

struct peer {
	struct tunnel_peer tp; /* first: a tunnel_peer * is a peer * */
	uint8_t pub[32];
	uint32_t slot;
	uint32_t generation;  /* bumped on free: stale jobs are ignored */
	bool in_use;
	bool doomed;          /* free after the current event */
	struct peer *hash_next;
	uint32_t heap_pos;    /* UINT32_MAX: not in the heap */
	uint64_t deadline_ns;
	uint64_t created_ns;

	/* Admission (PROTOCOL.md section 6, rule 1). */
	enum peer_admission adm;
	struct auth_admission admission;
	uint32_t adm_epoch;   /* bumped by each login: older lookups lose */
	uint64_t last_auth_required_ns;
	bool has_sent_auth_required;

	/* The login in flight, and the last answer (rule 2). */
	bool login_in_flight;
	uint32_t login_request_id;
	bool lookup_in_flight;
	bool resume_pending;
	uint32_t resume_request_id;
	uint8_t resume_username[LOGIN_USERNAME_MAX]; /* may be empty */
	uint8_t resume_username_len;
	bool has_answer;
	uint32_t answer_request_id;
	uint64_t answer_ns;
	uint8_t answer[PEER_ANSWER_MAX];
	size_t answer_len;
	bool reply_pending;   /* failure answers wait for failure-delay */
	uint64_t reply_at_ns;

	uint64_t rx_dropped_source; /* rule 10: spoofed inner sources */
	uint64_t rx_dropped_unadmitted;
	uint64_t rx_malformed_ctl;
};

struct peer_table {
	struct peer *slots;
	uint32_t max;
	uint32_t count;
	struct peer **buckets;
	uint32_t bucket_mask;
	uint8_t hash_key[16];
	struct peer **heap;
	uint32_t heap_len;
};

/* Allocates max peers; hash_key should be random. 0 or -errno. */
int peer_table_init(struct peer_table *t, uint32_t max,
		    const uint8_t hash_key[16])
	__attribute__((warn_unused_result));
void peer_table_free(struct peer_table *t);

struct peer *peer_lookup(const struct peer_table *t, const uint8_t pub[32]);
/* A free slot for pub, or NULL when every slot is taken. The caller
 * initialises p->tp. */
struct peer *peer_alloc(struct peer_table *t, const uint8_t pub[32],
			uint64_t now_ns);
/* Returns p's slot; the caller has freed p->tp. */
void peer_release(struct peer_table *t, struct peer *p);
/* The peer in `slot` if it still has `generation`. */
struct peer *peer_by_slot(const struct peer_table *t, uint32_t slot,
			  uint32_t generation);

/* Re-reads p's deadline (timers, delayed reply) and re-sorts the heap. */
void peer_deadline_update(struct peer_table *t, struct peer *p);
/* The peer with the earliest deadline, or NULL. */
struct peer *peer_heap_top(const struct peer_table *t);

#endif
