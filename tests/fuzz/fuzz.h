/* SPDX-License-Identifier: MIT */
/*
 * What the harnesses in tests/fuzz/ share: the libFuzzer entry points, a
 * cursor that reads operations out of the fuzzer's input, a seeded random
 * source (so a stored input replays exactly) and the check that turns a
 * broken invariant into a crash the fuzzer keeps. Each fuzz_<name>.c is
 * linked either with libFuzzer (clang, `make fuzz`) or with replay.c (gcc,
 * ASan, `make check` replays tests/fuzz/corpus/<name>/).
 */
#ifndef VPN_FUZZ_H
#define VPN_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An invariant of the code under test; abort() so every driver stops. */
#define FUZZ_CHECK(cond)                                                  \
	do {                                                              \
		if (!(cond)) {                                            \
			fprintf(stderr, "%s:%d: invariant broken: %s\n",  \
				__FILE__, __LINE__, #cond);               \
			abort();                                          \
		}                                                         \
	} while (0)

/* Reads the input front to back; past the end everything reads as 0. */
struct fuzz_in {
	const uint8_t *p;
	size_t left;
};

static inline bool
fuzz_more(const struct fuzz_in *in)
{
	return in->left > 0;
}

static inline uint8_t
fuzz_u8(struct fuzz_in *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

static inline uint16_t
fuzz_u16(struct fuzz_in *in)
{
	uint16_t v = fuzz_u8(in);

	return (uint16_t)(v | fuzz_u8(in) << 8);
}

static inline uint32_t
fuzz_u32(struct fuzz_in *in)
{
	uint32_t v = fuzz_u16(in);

	return v | (uint32_t)fuzz_u16(in) << 16;
}

/* Up to `want` bytes, fewer at the end of the input; returns how many. */
static inline size_t
fuzz_bytes(struct fuzz_in *in, const uint8_t **out, size_t want)
{
	size_t n = want < in->left ? want : in->left;

	*out = in->p;
	in->p += n;
	in->left -= n;
	return n;
}

/* A copy in a heap block of exactly len bytes, so ASan sees any read past
 * the end (of an empty one too); free() it. */
static inline uint8_t *
fuzz_dup(const uint8_t *data, size_t len)
{
	uint8_t *p = malloc(len);

	if (!p && len)
		abort();
	if (p && data)
		memcpy(p, data, len);
	return p;
}

/* A NUL-terminated copy (the caller frees it). */
static inline char *
fuzz_strdup(const uint8_t *data, size_t len)
{
	char *s = malloc(len + 1);

	if (!s)
		abort();
	if (len)
		memcpy(s, data, len);
	s[len] = '\0';
	return s;
}

/* Deterministic bytes: the same input always builds the same keys,
 * indices and nonces, so a stored input replays the same run. */
static inline void
fuzz_random(uint32_t *state, uint8_t *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		*state = *state * 1103515245u + 12345u;
		buf[i] = (uint8_t)(*state >> 16);
	}
}

#endif
