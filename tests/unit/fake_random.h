/* SPDX-License-Identifier: MIT */
/*
 * The deterministic random source the in-memory unit tests hand to the
 * engine (tunnel_ops.random) and draw their own jitter from: a seeded
 * linear congruential generator, so every run builds the same keys,
 * indices and timer jitter and a failure replays exactly. A test seeds
 * rng_state in its setup.
 */
#ifndef VPN_TEST_FAKE_RANDOM_H
#define VPN_TEST_FAKE_RANDOM_H

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

#endif
