// SPDX-License-Identifier: MIT
/*
 * Timer state machine (PROTOCOL.md section 7), modelled on WireGuard's
 * timers.c. Deadlines are absolute monotonic nanoseconds; TIMER_OFF means
 * unarmed. No clock is read here.
 */
#include "timers.h"

#include <string.h>

void
protocol_times_default(struct protocol_times *pt)
{
	pt->rekey_after_ns = 120 * NS_PER_S;
	pt->reject_after_ns = 180 * NS_PER_S;
	pt->rekey_attempt_ns = 90 * NS_PER_S;
	pt->rekey_timeout_ns = 5 * NS_PER_S;
	pt->rekey_jitter_max_ns = 333 * NS_PER_MS;
	pt->keepalive_ns = 10 * NS_PER_S;
	pt->cookie_secret_max_age_ns = 120 * NS_PER_S;
	pt->cookie_latency_ns = 5 * NS_PER_S;
}

void
protocol_times_scaled(struct protocol_times *pt, unsigned int divisor)
{
	protocol_times_default(pt);
	if (divisor <= 1)
		return;
	pt->rekey_after_ns /= divisor;
	pt->reject_after_ns /= divisor;
	pt->rekey_attempt_ns /= divisor;
	pt->rekey_timeout_ns /= divisor;
	pt->rekey_jitter_max_ns /= divisor;
	pt->keepalive_ns /= divisor;
	pt->cookie_secret_max_age_ns /= divisor;
	pt->cookie_latency_ns /= divisor;
}

void
timers_init(struct timers *t, const struct protocol_times *pt)
{
	memset(t, 0, sizeof(*t));
	t->pt = pt;
	timers_stop(t);
	t->last_initiation_ns = TIMER_OFF;
}

void
timers_set_persistent_keepalive(struct timers *t, uint64_t now_ns,
				unsigned int interval_s)
{
	t->persistent_interval_ns = (uint64_t)interval_s * NS_PER_S;
	t->persistent_at = interval_s ? now_ns + t->persistent_interval_ns
				      : TIMER_OFF;
}

void
timers_stop(struct timers *t)
{
	t->retransmit_at = TIMER_OFF;
	t->keepalive_at = TIMER_OFF;
	t->new_handshake_at = TIMER_OFF;
	t->zero_keys_at = TIMER_OFF;
	t->persistent_at = TIMER_OFF;
	t->attempt_started_ns = TIMER_OFF;
	t->need_another_keepalive = false;
	t->keepalive_rearm = false;
}

void
timers_data_sent(struct timers *t, uint64_t now_ns)
{
	if (t->new_handshake_at == TIMER_OFF)
		t->new_handshake_at = now_ns + t->pt->keepalive_ns +
				      t->pt->rekey_timeout_ns;
}

void
timers_data_received(struct timers *t, uint64_t now_ns)
{
	if (t->keepalive_at == TIMER_OFF)
		t->keepalive_at = now_ns + t->pt->keepalive_ns;
	else
		t->need_another_keepalive = true;
}

void
timers_any_authenticated_packet_sent(struct timers *t, uint64_t now_ns)
{
	t->keepalive_at = TIMER_OFF;
	/* The keepalive this sends may answer only part of what arrived. */
	if (t->keepalive_rearm) {
		t->keepalive_rearm = false;
		t->keepalive_at = now_ns + t->pt->keepalive_ns;
	}
}

void
timers_any_authenticated_packet_received(struct timers *t, uint64_t now_ns)
{
	(void)now_ns;
	t->new_handshake_at = TIMER_OFF;
}

void
timers_any_authenticated_packet_traversal(struct timers *t, uint64_t now_ns)
{
	if (t->persistent_interval_ns)
		t->persistent_at = now_ns + t->persistent_interval_ns;
}

void
timers_handshake_initiated(struct timers *t, uint64_t now_ns,
			   uint64_t jitter_ns)
{
	if (t->attempt_started_ns == TIMER_OFF)
		t->attempt_started_ns = now_ns;
	t->last_initiation_ns = now_ns;
	t->retransmit_at = now_ns + t->pt->rekey_timeout_ns + jitter_ns;
}

void
timers_handshake_complete(struct timers *t, uint64_t now_ns)
{
	(void)now_ns;
	t->retransmit_at = TIMER_OFF;
	t->attempt_started_ns = TIMER_OFF;
}

void
timers_session_derived(struct timers *t, uint64_t now_ns)
{
	t->zero_keys_at = now_ns + 3 * t->pt->reject_after_ns;
}

bool
timers_may_initiate(const struct timers *t, uint64_t now_ns)
{
	return t->last_initiation_ns == TIMER_OFF ||
	       now_ns - t->last_initiation_ns >= t->pt->rekey_timeout_ns;
}

bool
timers_handshake_pending(const struct timers *t)
{
	return t->attempt_started_ns != TIMER_OFF;
}

static bool
due(uint64_t *deadline, uint64_t now_ns)
{
	if (*deadline == TIMER_OFF || *deadline > now_ns)
		return false;
	*deadline = TIMER_OFF;
	return true;
}

static unsigned int
expire_retransmit(struct timers *t, uint64_t now_ns)
{
	if (!due(&t->retransmit_at, now_ns))
		return 0;
	if (t->attempt_started_ns != TIMER_OFF &&
	    now_ns - t->attempt_started_ns < t->pt->rekey_attempt_ns)
		return TIMER_RETRANSMIT_HANDSHAKE;
	/* Give up: nothing more is sent until new data asks for a handshake,
	 * and the keys go after the usual grace period. */
	t->attempt_started_ns = TIMER_OFF;
	t->keepalive_at = TIMER_OFF;
	if (t->zero_keys_at == TIMER_OFF)
		t->zero_keys_at = now_ns + 3 * t->pt->reject_after_ns;
	return TIMER_HANDSHAKE_GAVE_UP;
}

unsigned int
timers_expire(struct timers *t, uint64_t now_ns)
{
	unsigned int bits = expire_retransmit(t, now_ns);

	if (due(&t->keepalive_at, now_ns)) {
		bits |= TIMER_SEND_KEEPALIVE;
		if (t->need_another_keepalive) {
			t->need_another_keepalive = false;
			t->keepalive_rearm = true;
		}
	}
	if (due(&t->new_handshake_at, now_ns))
		bits |= TIMER_NEW_HANDSHAKE;
	if (due(&t->zero_keys_at, now_ns))
		bits |= TIMER_ZERO_KEYS;
	if (due(&t->persistent_at, now_ns))
		bits |= TIMER_PERSISTENT_KEEPALIVE;
	return bits;
}

static uint64_t
min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

uint64_t
timers_next_deadline(const struct timers *t)
{
	uint64_t d = t->retransmit_at;

	d = min_u64(d, t->keepalive_at);
	d = min_u64(d, t->new_handshake_at);
	d = min_u64(d, t->zero_keys_at);
	return min_u64(d, t->persistent_at);
}
