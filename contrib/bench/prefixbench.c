// SPDX-License-Identifier: MIT
/*
 * The prefix benchmark: what a big prefix table costs the data path. vpnd
 * looks up every packet's destination (TUN side) or source (tunnel side)
 * in its prefix table (shared/trie: vpnd/route.c and the access rules sit
 * on it); this times those lookups in a table of 10,000 prefixes per
 * family against a table of 2, in one run, and sets both against the one
 * thing every packet must do anyway: the AEAD of a 1420-byte packet. See
 * README.md beside this file.
 *
 * No root, no network. Prefixes and addresses come from a fixed seed, so
 * every run builds the same tables.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "aead.h"
#include "trie.h"

#define N_ADDRS 4096 /* lookups per batch, a power of two */
#define ROUND_NS 2000000ULL
#define N_CONTENDERS 5

struct addrs {
	uint8_t v4[N_ADDRS][4];
	uint8_t v6[N_ADDRS][16];
};

/* xorshift64*: the same tables every run, no libc state. */
static uint64_t seed = 0x9e3779b97f4a7c15ULL;

static uint64_t
rnd(void)
{
	seed ^= seed >> 12;
	seed ^= seed << 25;
	seed ^= seed >> 27;
	return seed * 0x2545f4914f6cdd1dULL;
}

static void
rnd_bytes(uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = (uint8_t)rnd();
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static long
preempted(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_THREAD, &ru) < 0)
		return -1;
	return ru.ru_nivcsw;
}

/*
 * n prefixes per family, as a big office or a site-heavy company has
 * them: IPv4 /16 to /32 and IPv6 /32 to /128 with random bits. Half the
 * lookup addresses fall inside a prefix of the table (a client's), half
 * are random (mostly no match, the worst case of a deep search).
 */
static int
fill(struct trie *t, struct addrs *a, unsigned int n)
{
	static uint8_t p4[10000][4], p6[10000][16];
	static uint8_t l4[10000], l6[10000];
	unsigned int i;
	int ret;

	if (n > 10000)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		rnd_bytes(p4[i], 4);
		rnd_bytes(p6[i], 16);
		l4[i] = (uint8_t)(16 + rnd() % 17);
		l6[i] = (uint8_t)(32 + rnd() % 97);
		ret = trie_insert(t, AF_INET, p4[i], l4[i], p4[i]);
		if (!ret)
			ret = trie_insert(t, AF_INET6, p6[i], l6[i], p6[i]);
		if (ret)
			return ret;
	}
	for (i = 0; i < N_ADDRS; i++) {
		rnd_bytes(a->v4[i], 4);
		rnd_bytes(a->v6[i], 16);
		if (i % 2 == 0) {
			unsigned int k = (unsigned int)(rnd() % n);

			/* inside prefix k: its bits, then random ones */
			memcpy(a->v4[i], p4[k], l4[k] / 8);
			memcpy(a->v6[i], p6[k], l6[k] / 8);
		}
	}
	return 0;
}

/* Lookups of one batch over the first `flows` addresses (a power of
 * two); what they found, so none is optimised away. */
static uintptr_t
lookups(const struct trie *t, const struct addrs *a, unsigned int flows)
{
	uintptr_t acc = 0;
	unsigned int i;

	for (i = 0; i < N_ADDRS; i++) {
		unsigned int k = i & (flows - 1);

		acc ^= (uintptr_t)trie_lookup(t, AF_INET, a->v4[k]);
		acc ^= (uintptr_t)trie_lookup(t, AF_INET6, a->v6[k]);
	}
	return acc;
}

struct contender {
	const char *name;
	const struct trie *t;   /* NULL: the AEAD reference */
	const struct addrs *a;
	unsigned int flows;     /* distinct addresses looked up in turn */
	double best_ns;         /* per lookup (or per packet) */
	unsigned int clean_rounds;
};

static uint8_t packet[1420 + AEAD_TAG_LEN];
static uint8_t key[AEAD_KEY_LEN];

static unsigned int
batch(struct contender *c, uintptr_t *sink)
{
	unsigned int i;

	if (c->t) {
		*sink ^= lookups(c->t, c->a, c->flows);
		return 2 * N_ADDRS;
	}
	for (i = 0; i < 64; i++)
		aead_encrypt(packet, packet, 1420, NULL, 0, i, key);
	*sink ^= packet[0];
	return 64;
}

/* One round of 2 ms: an untimed batch (the caches were the other's),
 * then timed batches; kept only if no other task took the CPU. */
static void
round_of(struct contender *c, uintptr_t *sink)
{
	uint64_t t0, t;
	unsigned long ops = 0;
	long cs;

	batch(c, sink);
	cs = preempted();
	t0 = now_ns();
	do {
		ops += batch(c, sink);
		t = now_ns();
	} while (t - t0 < ROUND_NS);
	if (preempted() != cs)
		return;
	c->clean_rounds++;
	if (c->best_ns == 0 || (double)(t - t0) / ops < c->best_ns)
		c->best_ns = (double)(t - t0) / ops;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: prefixbench [--time SECONDS] [--no-pin]\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "time", required_argument, NULL, 't' },
		{ "no-pin", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct addrs big_addrs, small_addrs;
	struct trie big, small;
	struct contender c[N_CONTENDERS];
	bool busy = false;
	unsigned int rounds, r, i;
	double seconds = 3;
	bool pin = true;
	uintptr_t sink = 0;
	int opt;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 't':
			seconds = atof(optarg);
			if (seconds < 0.01 || seconds > 600) {
				fprintf(stderr, "prefixbench: --time: 0.01-600\n");
				return 2;
			}
			break;
		case 'n':
			pin = false;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (sodium_init() < 0)
		return 1;
	if (pin) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(sched_getcpu(), &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	trie_init(&big);
	trie_init(&small);
	if (fill(&big, &big_addrs, 10000) < 0 ||
	    fill(&small, &small_addrs, 2) < 0) {
		fprintf(stderr, "prefixbench: out of memory\n");
		return 1;
	}
	/* The same addresses for both: the small table's lookups end early
	 * because it is small, not because they are easier. */
	small_addrs = big_addrs;
	randombytes_buf(key, sizeof(key));
	/* 4096 addresses spread over the table: most of a lookup's nodes
	 * miss the cache (the worst case); 16: a few busy flows, whose
	 * paths stay cached (the common case). */
	c[0] = (struct contender){ "2 prefixes, 4096 flows", &small,
				   &small_addrs, N_ADDRS, 0, 0 };
	c[1] = (struct contender){ "10000 prefixes, 4096 flows", &big,
				   &big_addrs, N_ADDRS, 0, 0 };
	c[2] = (struct contender){ "2 prefixes, 16 flows", &small,
				   &small_addrs, 16, 0, 0 };
	c[3] = (struct contender){ "10000 prefixes, 16 flows", &big,
				   &big_addrs, 16, 0, 0 };
	c[4] = (struct contender){ "AEAD of a 1420-byte packet", NULL, NULL, 0,
				   0, 0 };
	rounds = (unsigned int)(seconds * 1e9 / ROUND_NS / N_CONTENDERS);
	if (rounds < 3)
		rounds = 3;
	for (r = 0; r < rounds; r++)
		for (i = 0; i < N_CONTENDERS; i++)
			round_of(&c[i], &sink);
	printf("prefixbench: %u rounds of 2 ms each, fastest uninterrupted "
	       "round kept (checksum %lx)\n", rounds, (unsigned long)(sink & 0xf));
	for (i = 0; i < N_CONTENDERS; i++) {
		printf("%-30s %8.1f ns per %s  (%u uninterrupted rounds)\n",
		       c[i].name, c[i].best_ns, c[i].t ? "lookup" : "packet",
		       c[i].clean_rounds);
		if (c[i].clean_rounds < 3)
			busy = true;
	}
	if (busy) {
		printf("verdict: the machine was too busy to tell\n");
	} else {
		/* A packet costs two lookups at most on vpnd's path: its
		 * owner (or its source's), and an access rule. */
		for (i = 0; i < 4; i += 2)
			printf("%s: 10000 vs 2 prefixes %.2fx per lookup; two "
			       "lookups %.1f%% of a 1420-byte packet's AEAD "
			       "(with 2 prefixes: %.1f%%)\n",
			       i ? "16 flows" : "4096 flows",
			       c[i + 1].best_ns / c[i].best_ns,
			       200.0 * c[i + 1].best_ns / c[4].best_ns,
			       200.0 * c[i].best_ns / c[4].best_ns);
	}
	trie_free(&big);
	trie_free(&small);
	return 0;
}
