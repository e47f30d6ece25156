/* SPDX-License-Identifier: MIT */
/*
 * How many pending peers each source address holds (an IPv4 address, an
 * IPv6 /64: ratelimit_source_key()), so one address cannot fill the
 * pending pool with sessions it keeps alive and shut everyone else out.
 * An exact count (nothing is forgotten while counted), in a table sized
 * for as many sources as there can be pending peers; open addressing
 * placed by a keyed hash, backward-shift deletion. Pure; allocates only
 * at init.
 */
#ifndef VPND_SOURCES_H
#define VPND_SOURCES_H

#include <stdbool.h>
#include <stdint.h>

#include "ratelimit.h"

#define SOURCES_HASH_KEY_LEN 16

struct source_count {
	uint8_t key[RATELIMIT_KEY_LEN];
	uint32_t count; /* 0: empty slot */
};

struct sources {
	struct source_count *slots;
	uint32_t mask;
	uint8_t hash_key[SOURCES_HASH_KEY_LEN];
};

/* Room for `max` counted things (each source holds at least one). */
int sources_init(struct sources *t, uint32_t max,
		 const uint8_t hash_key[SOURCES_HASH_KEY_LEN])
	__attribute__((warn_unused_result));
void sources_free(struct sources *t);

uint32_t sources_count(const struct sources *t,
		       const uint8_t key[RATELIMIT_KEY_LEN]);
/* One more for key (the caller keeps the total within max). */
void sources_add(struct sources *t, const uint8_t key[RATELIMIT_KEY_LEN]);
/* One less for key (nothing if it had none). */
void sources_remove(struct sources *t, const uint8_t key[RATELIMIT_KEY_LEN]);

#endif
