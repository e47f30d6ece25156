// SPDX-License-Identifier: MIT
/*
 * The pace of vpnc's "no answer" notices (see silence.h). Pure: the client
 * reports handshakes sent and answered and asks what is due; it logs.
 */
#include "silence.h"

#include "timers.h"

void
silence_init(struct silence *s, unsigned int divisor)
{
	if (divisor == 0)
		divisor = 1;
	*s = (struct silence){
		.first_ns = SILENCE_FIRST_S * NS_PER_S / divisor,
		.second_ns = SILENCE_SECOND_S * NS_PER_S / divisor,
		.max_interval_ns = SILENCE_MAX_INTERVAL_S * NS_PER_S / divisor,
	};
}

void
silence_handshake_sent(struct silence *s, uint64_t now_ns)
{
	if (s->is_silent)
		return;
	s->is_silent = true;
	s->since_ns = now_ns;
	s->next_ns = now_ns + s->first_ns;
	s->interval_ns = s->second_ns;
	s->notices = 0;
}

unsigned int
silence_answered(struct silence *s)
{
	unsigned int notices = s->is_silent ? s->notices : 0;

	s->is_silent = false;
	s->notices = 0;
	return notices;
}

/*
 * The next notice is counted from this one, not from when this one was
 * due: a loop that woke late (a laptop resumed) gives one notice, not a
 * burst of the ones it slept through.
 */
bool
silence_due(struct silence *s, uint64_t now_ns)
{
	if (!s->is_silent || now_ns < s->next_ns)
		return false;
	s->notices++;
	s->next_ns = now_ns + s->interval_ns;
	s->interval_ns *= 2;
	if (s->interval_ns > s->max_interval_ns)
		s->interval_ns = s->max_interval_ns;
	return true;
}

uint64_t
silence_deadline(const struct silence *s)
{
	return s->is_silent ? s->next_ns : UINT64_MAX;
}

uint64_t
silence_elapsed_s(const struct silence *s, uint64_t now_ns)
{
	if (!s->is_silent || now_ns < s->since_ns)
		return 0;
	return (now_ns - s->since_ns) / NS_PER_S;
}
