// SPDX-License-Identifier: MIT
/*
 * RFC 6479 anti-replay window: a ring of 64-bit words; advancing the
 * greatest counter clears the words it skips, so the cost is bounded by the
 * ring size whatever the jump. Pure.
 */
#include "replay.h"

#include <string.h>

#include "timers.h"

void
replay_init(struct replay_window *w)
{
	memset(w, 0, sizeof(*w));
}

bool
replay_check(struct replay_window *w, uint64_t counter)
{
	uint64_t n, index, index_current, skip, bit, i;

	if (counter >= REJECT_AFTER_MESSAGES)
		return false;
	/* One-based, so that zero in `greatest` means "nothing yet". */
	n = counter + 1;
	if (n + REPLAY_WINDOW_SIZE < w->greatest)
		return false;

	index = n / REPLAY_WORD_BITS;
	if (n > w->greatest) {
		index_current = w->greatest / REPLAY_WORD_BITS;
		skip = index - index_current;
		if (skip > REPLAY_WORDS)
			skip = REPLAY_WORDS;
		for (i = 1; i <= skip; i++)
			w->bitmap[(index_current + i) % REPLAY_WORDS] = 0;
		w->greatest = n;
	}
	index %= REPLAY_WORDS;
	bit = 1ull << (n & (REPLAY_WORD_BITS - 1));
	if (w->bitmap[index] & bit)
		return false;
	w->bitmap[index] |= bit;
	return true;
}

bool
replay_may_accept(const struct replay_window *w, uint64_t counter)
{
	uint64_t n = counter + 1;

	if (counter >= REJECT_AFTER_MESSAGES ||
	    n + REPLAY_WINDOW_SIZE < w->greatest)
		return false;
	if (n > w->greatest)
		return true;
	return !(w->bitmap[(n / REPLAY_WORD_BITS) % REPLAY_WORDS] &
		 (1ull << (n & (REPLAY_WORD_BITS - 1))));
}
