// SPDX-License-Identifier: MIT
/*
 * Fuzz harness for vpnd's fair login queue, vpnd/lanes.c, against a
 * naive model: a FIFO list of queued checks per source, a count of each
 * source's checks queued or running, and nothing about lanes or where the
 * next pop starts. The input chooses the limits, then pushes (from one of
 * a few sources), pops (a worker taking the next check) and completions
 * (of a running check, or of a key that has nothing in flight).
 *
 * The first byte sets `max` (1..16), the second `per_source` (1..8), the
 * third how many sources there are (1..16); then each operation byte
 * names an action (low two bits) and a source or running check (the
 * rest).
 *
 * Invariants checked after every operation: a push is refused FULL
 * exactly when max checks are in flight, else SOURCE_FULL exactly when
 * per_source of that source are, and accepted otherwise; a pop finds a
 * check exactly when one is queued, and it is the oldest queued of its
 * source; the counts of checks in flight and queued are the model's;
 * completing a key with nothing in flight changes nothing; and fairness:
 * while a source has checks queued, each other source is served at most
 * once before it is, and fewer than `max` checks in all (one sweep over
 * the lanes). With FUZZ_LANES_FAIRNESS=sweep in the environment only the
 * second bound is checked, so a run can go on looking for anything else
 * while the first one is known to fail.
 */
#include "../../vpnd/lanes.h"
#include "fuzz.h"

#define MAX_LANES 16
#define MAX_PER 8
#define SOURCES 16
#define MAX_OPS 512

struct check {
	struct lanes_item item; /* first */
	unsigned int source;
	unsigned int n;         /* the order of pushes */
};

struct model {
	unsigned int queue[SOURCES][MAX_OPS]; /* indices into checks[] */
	unsigned int head[SOURCES], tail[SOURCES];
	unsigned int in_flight[SOURCES], total, queued;
	/* served[s][t]: checks of t served since s last was, while s had
	 * checks queued; passed[s]: of all other sources. */
	unsigned int served[SOURCES][SOURCES];
	unsigned int passed[SOURCES];
};

static struct check checks[MAX_OPS];
static unsigned int running[MAX_OPS], n_running;
static struct model m;
static struct lanes l;
static unsigned int max, per_source, n_sources;
static bool sweep_only;

/* Sources differ in a byte that moves with the source, and otherwise
 * share their bytes, as IPv4 and IPv6 keys of ratelimit_source_key()
 * do. */
static void
key_of(unsigned int s, uint8_t key[LANES_KEY_LEN])
{
	memset(key, 0xa5, LANES_KEY_LEN);
	key[0] = s & 1 ? 6 : 4;
	key[1 + s % (LANES_KEY_LEN - 1)] = (uint8_t)s;
}

static unsigned int
queued_of(unsigned int s)
{
	return m.tail[s] - m.head[s];
}

static void
push(unsigned int s, unsigned int n)
{
	struct check *c = &checks[n];
	enum lanes_push want, got;

	memset(c, 0, sizeof(*c));
	key_of(s, c->item.key);
	c->source = s;
	c->n = n;
	want = m.total >= max		      ? LANES_FULL
	       : m.in_flight[s] >= per_source ? LANES_SOURCE_FULL
					      : LANES_OK;
	got = lanes_push(&l, &c->item);
	FUZZ_CHECK(got == want);
	if (got != LANES_OK)
		return;
	/* A source that starts to wait owes nobody yet. */
	if (!queued_of(s)) {
		memset(m.served[s], 0, sizeof(m.served[s]));
		m.passed[s] = 0;
	}
	m.queue[s][m.tail[s]++] = n;
	m.in_flight[s]++;
	m.total++;
	m.queued++;
}

static void
pop(void)
{
	struct check *c = (struct check *)lanes_pop(&l);
	unsigned int s, t;

	if (!m.queued) {
		FUZZ_CHECK(!c);
		return;
	}
	FUZZ_CHECK(c);
	s = c->source;
	FUZZ_CHECK(s < n_sources && queued_of(s) > 0);
	/* The oldest of its source. */
	FUZZ_CHECK(&checks[m.queue[s][m.head[s]]] == c);
	m.head[s]++;
	m.queued--;
	for (t = 0; t < n_sources; t++) {
		if (t == s || !queued_of(t))
			continue;
		FUZZ_CHECK(++m.passed[t] < max);
		FUZZ_CHECK(++m.served[t][s] <= 1 || sweep_only);
	}
	memset(m.served[s], 0, sizeof(m.served[s]));
	m.passed[s] = 0;
	running[n_running++] = (unsigned int)(c - checks);
}

static void
done(unsigned int k)
{
	struct check *c;

	if (!n_running)
		return;
	k %= n_running;
	c = &checks[running[k]];
	lanes_done(&l, c->item.key);
	running[k] = running[--n_running];
	m.in_flight[c->source]--;
	m.total--;
}

/* A completion for a source with nothing in flight is ignored. */
static void
done_stray(unsigned int s)
{
	uint8_t key[LANES_KEY_LEN];

	if (m.in_flight[s])
		return;
	key_of(s, key);
	lanes_done(&l, key);
}

static void
check_counts(void)
{
	FUZZ_CHECK(l.in_flight == m.total);
	FUZZ_CHECK(l.queued == m.queued);
	FUZZ_CHECK(m.total <= max);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *fairness = getenv("FUZZ_LANES_FAIRNESS");

	(void)argc;
	(void)argv;
	sweep_only = fairness && strcmp(fairness, "sweep") == 0;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	unsigned int n;

	max = 1 + fuzz_u8(&in) % MAX_LANES;
	per_source = 1 + fuzz_u8(&in) % MAX_PER;
	n_sources = 1 + fuzz_u8(&in) % SOURCES;
	memset(&m, 0, sizeof(m));
	n_running = 0;
	if (lanes_init(&l, max, per_source) < 0)
		abort();
	for (n = 0; n < MAX_OPS && fuzz_more(&in); n++) {
		uint8_t op = fuzz_u8(&in);
		unsigned int arg = op >> 2;

		switch (op & 3) {
		case 0:
			push(arg % n_sources, n);
			break;
		case 1:
			pop();
			break;
		case 2:
			done(arg);
			break;
		default:
			/* Several pops, then a stray completion. */
			for (arg = 1 + arg % 4; arg > 0; arg--)
				pop();
			done_stray((op >> 4) % n_sources);
			break;
		}
		check_counts();
	}
	lanes_free(&l);
	return 0;
}
