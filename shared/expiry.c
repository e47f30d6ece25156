// SPDX-License-Identifier: MIT
/* Warning ahead of a session's end: see expiry.h. */
#include "expiry.h"

#include <inttypes.h>
#include <stdio.h>

#include "timers.h"

static const uint64_t warn_at_s[] = { EXPIRY_DAY_S, 3600, 600, 60 };

bool
expiry_is_soon(uint64_t lifetime_s, uint64_t left_s)
{
	return left_s <= EXPIRY_SOON_S ||
	       (lifetime_s > EXPIRY_DAY_S && left_s <= EXPIRY_DAY_S);
}

/* The first threshold below left_s; 0 when none is. */
static uint64_t
next_threshold(uint64_t left_s)
{
	size_t i;

	for (i = 0; i < sizeof(warn_at_s) / sizeof(warn_at_s[0]); i++)
		if (warn_at_s[i] < left_s)
			return warn_at_s[i];
	return 0;
}

static uint64_t
left_at(const struct expiry_warner *w, uint64_t now_ns)
{
	return w->end_ns > now_ns
		       ? (w->end_ns - now_ns + NS_PER_S - 1) / NS_PER_S
		       : 0;
}

bool
expiry_start(struct expiry_warner *w, uint64_t now_ns, uint64_t left_s,
	     bool resumed, uint64_t *left_out)
{
	w->end_ns = now_ns + left_s * NS_PER_S;
	w->next_s = next_threshold(left_s);
	*left_out = left_s;
	return resumed && left_s <= EXPIRY_DAY_S;
}

bool
expiry_due(struct expiry_warner *w, uint64_t now_ns, uint64_t *left_out)
{
	uint64_t left = left_at(w, now_ns);

	if (!w->next_s || left > w->next_s)
		return false;
	/* Thresholds passed together (a suspended machine) give one. */
	w->next_s = next_threshold(left);
	*left_out = left;
	return true;
}

uint64_t
expiry_deadline(const struct expiry_warner *w)
{
	if (!w->next_s)
		return UINT64_MAX;
	return w->end_ns - w->next_s * NS_PER_S;
}

void
expiry_stop(struct expiry_warner *w)
{
	w->end_ns = 0;
	w->next_s = 0;
}

const char *
expiry_span(uint64_t s, char out[EXPIRY_SPAN_LEN])
{
	if (s >= EXPIRY_DAY_S)
		snprintf(out, EXPIRY_SPAN_LEN, "%" PRIu64 "d %" PRIu64 "h",
			 s / EXPIRY_DAY_S, s % EXPIRY_DAY_S / 3600);
	else if (s >= 3600)
		snprintf(out, EXPIRY_SPAN_LEN, "%" PRIu64 "h %" PRIu64 "m",
			 s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(out, EXPIRY_SPAN_LEN, "%" PRIu64 "m %" PRIu64 "s",
			 s / 60, s % 60);
	else
		snprintf(out, EXPIRY_SPAN_LEN, "%" PRIu64 "s", s);
	return out;
}
