/* SPDX-License-Identifier: MIT */
/*
 * Lockout arithmetic (PROTOCOL.md section 6, rules 3 and 4): what the
 * failure counter of a user name or of a source address holds at a given
 * time, how a login attempt takes its count before it is verified, and
 * how it gives that back when it turned out no failure. Pure: counters,
 * policy and times in, counters out. auth.c runs these inside one store
 * transaction, which makes the check and the count one step.
 *
 * A user name's count starts again from zero once it is unlocked and has
 * had no failure for lockout_max_time_s. A source's count drops by one per
 * source_decay_s since its last failure, and nothing else lowers it: no
 * success, however many, so a guesser gains nothing from someone else's
 * login. A lock is set when a count reaches lockout_failures (0: never)
 * and lasts lockout_time_s, doubling for each failure past the limit, up
 * to lockout_max_time_s.
 */
#ifndef VPND_LOCKOUT_H
#define VPND_LOCKOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "auth.h"
#include "userdb.h"

/* What one attempt did to a counter, so that it can be undone. */
struct lockout_hold {
	uint64_t lock_set;    /* the lock end it set; 0: it set none */
	uint64_t last_before; /* the counter's last failure before it */
};

/* The failures `f` holds at now_unix_s, as the next attempt will see. */
uint32_t lockout_count(const struct auth_policy *pol, bool is_source,
		       const struct userdb_failure *f, uint64_t now_unix_s);

/*
 * Brings a counter read from the store to now_unix_s: its count as
 * lockout_count(), a lock that has ended with no count left cleared, and
 * for a source the last failure moved on by the whole decay periods taken
 * off, so the part of a period already run is kept.
 */
void lockout_now(const struct auth_policy *pol, bool is_source,
		 uint64_t now_unix_s, struct userdb_failure *f);

/* Seconds the counter is still locked at now_unix_s; 0 if it is not. */
uint64_t lockout_left(const struct userdb_failure *f, uint64_t now_unix_s);

/* How long a lock lasts when the count is `extra` past the limit. */
uint64_t lockout_time(const struct auth_policy *pol, uint32_t extra);

/*
 * Counts one failure at now_unix_s on a counter brought there by
 * lockout_now() and not locked, locking it if it reaches the limit;
 * *hold says what to give back.
 */
void lockout_take(const struct auth_policy *pol, uint64_t now_unix_s,
		  struct userdb_failure *f, struct lockout_hold *hold);

/*
 * Gives back what lockout_take() took at now_unix_s (the time of that
 * attempt; from the counter as read again): one failure, the lock if it is still the one it set (a later
 * attempt met that lock and counted nothing), and, unless a failure came
 * after it, the time of the last failure, so the decay runs on as if the
 * attempt had never been made. A failure that came after it restarted the
 * clock, so the counter may then keep more (a source one failure more, for
 * up to a period), never less as long as a decay period outlasts the
 * verification; a failure in the same second is taken for the attempt's
 * own, so its decay may start up to a period early.
 */
void lockout_give_back(const struct auth_policy *pol, bool is_source,
		       uint64_t now_unix_s, struct userdb_failure *f,
		       const struct lockout_hold *hold);

#endif
