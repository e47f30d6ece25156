// SPDX-License-Identifier: MIT
/*
 * Lockout arithmetic (see lockout.h). Pure: no store, no clock, no
 * allocation; auth.c calls it inside the store's transaction.
 */
#include "lockout.h"

static uint64_t
decay_s(const struct auth_policy *pol)
{
	return pol->source_decay_s ? pol->source_decay_s
				   : AUTH_SOURCE_DECAY_DEFAULT_S;
}

uint32_t
lockout_count(const struct auth_policy *pol, bool is_source,
	      const struct userdb_failure *f, uint64_t now_unix_s)
{
	uint64_t idle = now_unix_s > f->last_unix_s
				? now_unix_s - f->last_unix_s
				: 0;
	uint64_t gone;

	if (is_source) {
		gone = idle / decay_s(pol);
		return gone >= f->count ? 0 : f->count - (uint32_t)gone;
	}
	if (f->locked_until_unix_s <= now_unix_s &&
	    idle > pol->lockout_max_time_s)
		return 0;
	return f->count;
}

void
lockout_now(const struct auth_policy *pol, bool is_source,
	    uint64_t now_unix_s, struct userdb_failure *f)
{
	uint32_t count = lockout_count(pol, is_source, f, now_unix_s);

	if (is_source && count > 0)
		f->last_unix_s += (uint64_t)(f->count - count) * decay_s(pol);
	f->count = count;
	if (count == 0 && f->locked_until_unix_s <= now_unix_s)
		f->locked_until_unix_s = 0;
}

uint64_t
lockout_left(const struct userdb_failure *f, uint64_t now_unix_s)
{
	return f->locked_until_unix_s > now_unix_s
		       ? f->locked_until_unix_s - now_unix_s
		       : 0;
}

uint64_t
lockout_time(const struct auth_policy *pol, uint32_t extra)
{
	uint64_t t = pol->lockout_time_s;

	while (extra-- > 0 && t < pol->lockout_max_time_s)
		t *= 2;
	if (pol->lockout_max_time_s && t > pol->lockout_max_time_s)
		t = pol->lockout_max_time_s;
	return t;
}

void
lockout_take(const struct auth_policy *pol, uint64_t now_unix_s,
	     struct userdb_failure *f, struct lockout_hold *hold)
{
	hold->last_before = f->last_unix_s;
	hold->lock_set = 0;
	if (f->count < UINT32_MAX)
		f->count++;
	f->last_unix_s = now_unix_s;
	if (!pol->lockout_failures || f->count < pol->lockout_failures)
		return;
	f->locked_until_unix_s =
		now_unix_s + lockout_time(pol, f->count - pol->lockout_failures);
	hold->lock_set = f->locked_until_unix_s;
}

void
lockout_give_back(const struct auth_policy *pol, bool is_source,
		  uint64_t now_unix_s, struct userdb_failure *f,
		  const struct lockout_hold *hold)
{
	lockout_now(pol, is_source, now_unix_s, f);
	if (f->count > 0)
		f->count--;
	if (f->last_unix_s == now_unix_s)
		f->last_unix_s = hold->last_before;
	if (hold->lock_set && f->locked_until_unix_s == hold->lock_set)
		f->locked_until_unix_s = 0;
}
