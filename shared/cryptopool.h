/* SPDX-License-Identifier: MIT */
/*
 * A fork-join pool for the packet path's pure work (the AEAD of a batch):
 * cryptopool_run(pool, fn, arg, n) calls fn(arg, i) for every i < n, on
 * the pool's threads and the calling one, and returns when all are done.
 * Items are taken one at a time from a shared index, so uneven items
 * (a full-sized packet beside a keepalive) balance themselves.
 *
 * Knows nothing of the protocol: fn must touch only what item i owns, and
 * the caller keeps everything fn reads unchanged until run returns (the
 * event loop does, being the caller). Idle threads sleep on a condition
 * variable: no core spins while no traffic flows. Threads are made at
 * start (cryptopool_start), with every signal blocked, the caller's nice
 * value and the name CRYPTOPOOL_THREAD_NAME, and joined by
 * cryptopool_stop. One pool serves one caller at a time.
 */
#ifndef VPN_CRYPTOPOOL_H
#define VPN_CRYPTOPOOL_H

#include <stddef.h>

/* The most threads a pool runs on, the caller's included. */
#define CRYPTOPOOL_MAX_THREADS 16
/* The name of the pool's own threads (comm in /proc, top -H). */
#define CRYPTOPOOL_THREAD_NAME "cryptopool"

struct cryptopool;

/*
 * A pool running on `threads` threads in all, the caller's included, so
 * threads - 1 are made (1: none; run then calls fn in turn). Capped at
 * CRYPTOPOOL_MAX_THREADS. 0 or -errno; *out is NULL on failure.
 */
int cryptopool_start(struct cryptopool **out, unsigned int threads)
	__attribute__((warn_unused_result));
/* Joins the threads and frees the pool; NULL is a no-op. */
void cryptopool_stop(struct cryptopool *pool);
/* Threads the work of a run is spread over, the caller's included. */
unsigned int cryptopool_threads(const struct cryptopool *pool);

/*
 * fn(arg, i) for every i < n, each exactly once, in no particular order
 * and perhaps at once on several threads; returns after the last. With
 * pool NULL, n < 2 or no thread of its own, all run on the caller, with
 * no hand-off at all.
 */
void cryptopool_run(struct cryptopool *pool, void (*fn)(void *arg, size_t i),
		    void *arg, size_t n);

/* The number of CPUs this process may run on, at least 1. */
unsigned int cryptopool_cpus(void);

#endif
