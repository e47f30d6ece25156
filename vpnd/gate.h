/* SPDX-License-Identifier: MIT */
/*
 * The gate on IP packets from clients, between the source-address rule
 * (admit_ip_allowed) and the TUN device: client-to-client and the access
 * rules (access.h) of each session, and the answers to what they refuse
 * (reply.h) written back into the client's own tunnel. It owns the
 * running access policy: built at start from vpnd.conf, rebuilt by a
 * reload (every session then follows the new rules at once, and each
 * rule keeps its counts), and each admission is given its set.
 *
 * The per-packet cost: one header parse, one longest-prefix match in the
 * route table (is the destination another client's?) and one in the
 * session's set; nothing is allocated.
 */
#ifndef VPND_GATE_H
#define VPND_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "access.h"
#include "reply.h"

struct server;
struct peer;

/* Per admitted session (struct peer_login). */
struct gate_session {
	const struct access_set *set; /* NULL: nothing passes */
	struct reply_limit replies;
};

/* Builds the policy from s->cfg, after the device has its addresses.
 * 0 or -ENOMEM, after logging why. */
int gate_start(struct server *s) __attribute__((warn_unused_result));
/* Frees the policy; no packet is checked after. */
void gate_stop(struct server *s);
/*
 * After a reload changed s->cfg: a new policy (the counts carried over)
 * and every admitted session given its set under it. 0, or -ENOMEM with
 * the old policy kept, after logging why.
 */
int gate_reload(struct server *s) __attribute__((warn_unused_result));

/* p was admitted (or again): its set, by its user's rules. */
void gate_admitted(struct server *s, struct peer *p);

/*
 * An IP packet from admitted p (pkt, len: as the tunnel delivered it):
 * true if it may go to the TUN device; false if refused, counted, and
 * answered if the rules of reply.h allow.
 */
bool gate_pass(struct server *s, struct peer *p, const uint8_t *pkt,
	       size_t len);

#endif
