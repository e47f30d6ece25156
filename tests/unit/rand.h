/* SPDX-License-Identifier: MIT */
/*
 * The deterministic random sources of the unit tests, seeded by each test
 * so that every run draws the same values and a failure replays exactly:
 *  - fake_random (rng_state): the linear congruential bytes the in-memory
 *    engines get as tunnel_ops.random, and the tests' timer jitter;
 *  - next_rand (rng): splitmix64, for the seeded random operation
 *    sequences checked against a reference model.
 */
#ifndef VPN_TEST_RAND_H
#define VPN_TEST_RAND_H

#include <stddef.h>
#include <stdint.h>

static uint32_t rng_state;

static inline void
fake_random(void *arg, uint8_t *buf, size_t len)
{
	size_t i;

	(void)arg;
	for (i = 0; i < len; i++) {
		rng_state = rng_state * 1103515245u + 12345u;
		buf[i] = (uint8_t)(rng_state >> 16);
	}
}

static uint64_t rng;

static inline uint64_t
next_rand(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

#endif
