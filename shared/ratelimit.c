// SPDX-License-Identifier: MIT
/*
 * Token buckets per source (see ratelimit.h). Credit is kept in
 * nanoseconds, as WireGuard does: a message costs 1 s / rate, and a bucket
 * holds at most `burst` messages' worth, so no division runs per message.
 */
#include "ratelimit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shorthash.h"
#include "timers.h"

int
ratelimit_init(struct ratelimit *r, uint32_t rate, uint32_t burst,
	       uint32_t sources, const uint8_t hash_key[RATELIMIT_HASH_KEY_LEN])
{
	uint32_t sets = 1;

	memset(r, 0, sizeof(*r));
	if (rate == 0 || burst == 0 || sources == 0 || sources > (1u << 24))
		return -EINVAL;
	while ((uint64_t)sets * RATELIMIT_WAYS < sources)
		sets <<= 1;
	r->entries = calloc((size_t)sets * RATELIMIT_WAYS, sizeof(*r->entries));
	if (!r->entries)
		return -ENOMEM;
	r->set_mask = sets - 1;
	r->cost_ns = NS_PER_S / rate;
	if (!r->cost_ns)
		r->cost_ns = 1;
	r->max_tokens = r->cost_ns * burst;
	memcpy(r->hash_key, hash_key, RATELIMIT_HASH_KEY_LEN);
	return 0;
}

void
ratelimit_free(struct ratelimit *r)
{
	free(r->entries);
	memset(r, 0, sizeof(*r));
}

/* cookie_src has already turned IPv4-mapped addresses into IPv4. */
void
ratelimit_source_key(const struct cookie_src *src,
		     uint8_t key[RATELIMIT_KEY_LEN])
{
	memset(key, 0, RATELIMIT_KEY_LEN);
	if (src->addr_len == 4) {
		key[0] = 4;
		memcpy(key + 1, src->addr, 4);
	} else {
		key[0] = 6;
		memcpy(key + 1, src->addr, 8);
	}
}

bool
ratelimit_allow(struct ratelimit *r, const struct cookie_src *src,
		uint64_t now_ns)
{
	struct ratelimit_entry *set, *e = NULL, *oldest = NULL;
	uint8_t key[RATELIMIT_KEY_LEN];
	unsigned int i;

	ratelimit_source_key(src, key);
	set = &r->entries[(size_t)(shorthash32(r->hash_key, key, sizeof(key)) &
				   r->set_mask) * RATELIMIT_WAYS];
	for (i = 0; i < RATELIMIT_WAYS; i++) {
		if (set[i].used && memcmp(set[i].key, key, sizeof(key)) == 0) {
			e = &set[i];
			break;
		}
		if (!oldest || (oldest->used && (!set[i].used ||
						 set[i].last_ns < oldest->last_ns)))
			oldest = &set[i];
	}
	if (!e) {
		/* A new source starts with a full bucket, less this message. */
		e = oldest;
		memcpy(e->key, key, sizeof(key));
		e->used = true;
		e->last_ns = now_ns;
		e->tokens = r->max_tokens - r->cost_ns;
		return true;
	}
	if (now_ns > e->last_ns) {
		uint64_t add = now_ns - e->last_ns;

		e->tokens = add >= r->max_tokens - e->tokens ? r->max_tokens
							     : e->tokens + add;
		e->last_ns = now_ns;
	}
	if (e->tokens < r->cost_ns)
		return false;
	e->tokens -= r->cost_ns;
	return true;
}
