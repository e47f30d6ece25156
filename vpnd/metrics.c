// SPDX-License-Identifier: MIT
/*
 * The Prometheus text exposition format (version 0.0.4) of a metrics
 * snapshot (see metrics.h). Each family gets its HELP and TYPE lines, then
 * its samples, all together; label values are escaped as the format says
 * (backslash, double quote, newline), and the few bytes a terminal would
 * act on (other control characters, invalid UTF-8) become '?', since
 * `vpnctl metrics` prints the text as it is. Pure: no I/O, no clock.
 */
#include "metrics.h"

#include "auth.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_S UINT64_C(1000000000)

static const char *const drop_names[METRICS_DROPS] = {
	[METRICS_DROP_INVALID] = "invalid",
	[METRICS_DROP_BAD_MAC] = "bad-mac",
	[METRICS_DROP_HANDSHAKE_INVALID] = "handshake-invalid",
	[METRICS_DROP_HANDSHAKE_REPLAY] = "handshake-replay",
	[METRICS_DROP_RATELIMITED] = "handshake-ratelimited",
	[METRICS_DROP_PEERS_FULL] = "peers-full",
	[METRICS_DROP_SOURCE_FULL] = "source-full",
	[METRICS_DROP_PEER_REFUSED] = "peer-refused",
	[METRICS_DROP_DATA_INVALID] = "data-invalid",
	[METRICS_DROP_REPLAY] = "replay",
	[METRICS_DROP_MALFORMED] = "malformed",
	[METRICS_DROP_SPOOFED_SOURCE] = "spoofed-source",
	[METRICS_DROP_UNADMITTED] = "unadmitted",
	[METRICS_DROP_MALFORMED_CONTROL] = "malformed-control",
	[METRICS_DROP_NO_PEER] = "no-peer",
	[METRICS_DROP_OVERSIZE] = "oversize",
	[METRICS_DROP_STAGED_OVERFLOW] = "staged-overflow",
	[METRICS_DROP_UDP_SEND] = "udp-send",
	[METRICS_DROP_TUN_WRITE] = "tun-write",
};

static const char *const state_names[METRICS_STATES] = {
	[METRICS_STATE_ADMITTED] = "admitted",
	[METRICS_STATE_LOOKUP] = "lookup",
	[METRICS_STATE_LOGIN] = "login",
	[METRICS_STATE_HANDSHAKE] = "handshake",
};

const char *
metrics_drop_name(enum metrics_drop d)
{
	return (unsigned int)d < METRICS_DROPS ? drop_names[d] : "unknown";
}

/* ---- the format's pieces ------------------------------------------------ */

static void
family(FILE *f, const char *name, const char *type, const char *help)
{
	const char *p;

	fprintf(f, "# HELP %s ", name);
	for (p = help; *p; p++) {
		if (*p == '\\')
			fputs("\\\\", f);
		else if (*p == '\n')
			fputs("\\n", f);
		else
			fputc(*p, f);
	}
	fprintf(f, "\n# TYPE %s %s\n", name, type);
}

static void
label_value(FILE *f, const char *v)
{
	bool is_utf8 = login_utf8_valid((const uint8_t *)v, strlen(v));
	const unsigned char *p;

	for (p = (const unsigned char *)v; *p; p++) {
		if (*p == '\\')
			fputs("\\\\", f);
		else if (*p == '"')
			fputs("\\\"", f);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p < 0x20 || *p == 0x7f || (*p >= 0x80 && !is_utf8))
			fputc('?', f);
		else
			fputc(*p, f);
	}
}

/* name{label="value"} n, or name n without a label. */
static void
sample(FILE *f, const char *name, const char *label, const char *value,
       uint64_t n)
{
	fputs(name, f);
	if (label) {
		fprintf(f, "{%s=\"", label);
		label_value(f, value);
		fputs("\"}", f);
	}
	fprintf(f, " %" PRIu64 "\n", n);
}

static void
counter(FILE *f, const char *name, const char *help, uint64_t n)
{
	family(f, name, "counter", help);
	sample(f, name, NULL, NULL, n);
}

static void
gauge(FILE *f, const char *name, const char *help, uint64_t n)
{
	family(f, name, "gauge", help);
	sample(f, name, NULL, NULL, n);
}

/* Exact decimal seconds from nanoseconds: no rounding through a double. */
static void
seconds(FILE *f, uint64_t ns)
{
	fprintf(f, "%" PRIu64 ".%09" PRIu64 "\n", ns / NS_PER_S, ns % NS_PER_S);
}

/* A summary without quantiles (_sum, _count) and the longest as a gauge. */
static void
latency(FILE *f, const char *name, const char *max_name, const char *help,
	const char *max_help, const struct metrics_latency *l)
{
	family(f, name, "summary", help);
	fprintf(f, "%s_sum ", name);
	seconds(f, l->sum_ns);
	fprintf(f, "%s_count %" PRIu64 "\n", name, l->n);
	family(f, max_name, "gauge", max_help);
	fprintf(f, "%s ", max_name);
	seconds(f, l->max_ns);
}

/* ---- families ----------------------------------------------------------- */

static void
render_offload(FILE *f, const struct metrics_snapshot *m)
{
	const struct metrics_offload *o = &m->offload;

	family(f, "vpnd_offload_enabled", "gauge",
	       "Offloads in use (1) or not (0): tun (super-packets through "
	       "the TUN device), udp-gso and udp-gro.");
	sample(f, "vpnd_offload_enabled", "offload", "tun", o->tun);
	sample(f, "vpnd_offload_enabled", "offload", "udp-gso", o->udp_gso);
	sample(f, "vpnd_offload_enabled", "offload", "udp-gro", o->udp_gro);
	counter(f, "vpnd_tun_super_packets_total",
		"TCP and UDP super-packets read from the TUN device.",
		o->super_read);
	counter(f, "vpnd_tun_segments_total",
		"Packets cut from super-packets read from the TUN device.",
		o->segments);
	counter(f, "vpnd_tun_offload_refused_total",
		"TUN reads dropped for a malformed offload header.",
		o->refused);
	counter(f, "vpnd_tun_coalesced_writes_total",
		"Writes to the TUN device that carried several packets.",
		o->coalesced_writes);
	counter(f, "vpnd_tun_coalesced_packets_total",
		"Packets carried by coalesced writes to the TUN device.",
		o->coalesced_packets);
}

static void
render_sessions(FILE *f, const struct metrics_snapshot *m)
{
	unsigned int i;

	family(f, "vpnd_sessions", "gauge",
	       "Clients by state: admitted (logged in), lookup (the store is "
	       "asked about the key), login (in the login exchange), "
	       "handshake (not yet confirmed).");
	for (i = 0; i < METRICS_STATES; i++)
		sample(f, "vpnd_sessions", "state", state_names[i],
		       m->sessions[i]);
	family(f, "vpnd_sessions_limit", "gauge",
	       "Room for clients: admitted (max-peers) and pending, not yet "
	       "logged in (max-pending).");
	sample(f, "vpnd_sessions_limit", "pool", "admitted", m->max_admitted);
	sample(f, "vpnd_sessions_limit", "pool", "pending", m->max_pending);
	counter(f, "vpnd_sessions_evicted_total",
		"Clients whose handshake was unconfirmed, pushed out of a full "
		"pending pool by newcomers.", m->evicted);
	counter(f, "vpnd_handshakes_total",
		"Sessions started (handshakes completed).", m->handshakes);
	counter(f, "vpnd_cookie_replies_total",
		"Cookie replies sent to handshakes under load.",
		m->cookie_replies);
}

static bool
same_kind(const struct metrics_login *a, const struct metrics_login *b)
{
	const char *ra = a->reason ? a->reason : "";
	const char *rb = b->reason ? b->reason : "";

	return a->status == b->status && strcmp(ra, rb) == 0;
}

static void
render_logins(FILE *f, const struct metrics_snapshot *m)
{
	unsigned int n = m->n_logins < METRICS_LOGIN_KINDS ? m->n_logins
							     : METRICS_LOGIN_KINDS;
	uint64_t locked = 0, sum;
	unsigned int i, j;

	family(f, "vpnd_logins_total", "counter",
	       "Logins answered, by result and reason (as in the audit "
	       "lines).");
	for (i = 0; i < n; i++) {
		const struct metrics_login *l = &m->logins[i];

		for (j = 0; j < i && !same_kind(&m->logins[j], l); j++)
			;
		if (j < i)
			continue; /* summed with its first */
		for (sum = 0, j = i; j < n; j++)
			if (same_kind(&m->logins[j], l))
				sum += m->logins[j].n;
		fprintf(f, "vpnd_logins_total{result=\"%s\",reason=\"",
			auth_result_name(l->status));
		label_value(f, l->reason ? l->reason : "");
		fprintf(f, "\"} %" PRIu64 "\n", sum);
		if (l->status == LOGIN_STATUS_LOCKED)
			locked += sum;
	}
	counter(f, "vpnd_lockouts_total",
		"Logins refused because the user name or the source address "
		"was locked.", locked);
	gauge(f, "vpnd_login_queue_depth",
	      "Password checks waiting for a worker thread.", m->logins_queued);
	latency(f, "vpnd_login_latency_seconds",
		"vpnd_login_latency_max_seconds",
		"Password checks, from queueing to their result.",
		"The longest password check so far.", &m->login_latency);
}

static void
render_store(FILE *f, const struct metrics_snapshot *m)
{
	gauge(f, "vpnd_store_up",
	      "1 if the user store answered its latest poll, 0 if it failed "
	      "or the store cannot be reached (logins are answered BUSY).",
	      m->is_store_up);
	counter(f, "vpnd_store_errors_total",
		"User store operations that failed (logins, lookups, polls, "
		"timestamps, pruning), the store unreachable included.",
		m->store_errors);
	latency(f, "vpnd_store_latency_seconds",
		"vpnd_store_latency_max_seconds",
		"User store jobs (lookups, logouts, events, timestamps), from "
		"submission to their result.",
		"The longest user store job so far.", &m->store_latency);
}

static void
render_traffic(FILE *f, const struct metrics_snapshot *m)
{
	unsigned int i;

	counter(f, "vpnd_received_bytes_total",
		"Bytes of authenticated datagrams received from clients.",
		m->rx_bytes);
	counter(f, "vpnd_sent_bytes_total",
		"Bytes of authenticated datagrams sent to clients.",
		m->tx_bytes);
	counter(f, "vpnd_received_packets_total",
		"Data packets received from clients (keepalives not counted).",
		m->rx_packets);
	counter(f, "vpnd_sent_packets_total",
		"Data packets sent to clients (keepalives not counted).",
		m->tx_packets);
	family(f, "vpnd_dropped_packets_total", "counter",
	       "Datagrams and packets dropped, by reason.");
	for (i = 0; i < METRICS_DROPS; i++)
		sample(f, "vpnd_dropped_packets_total", "reason",
		       drop_names[i], m->drops[i]);
}

/* Not a drop reason of their own: vpnd dropped them on purpose, and an
 * alert on the rules differs from one on vpnd's health. */
static void
render_access(FILE *f, const struct metrics_snapshot *m)
{
	unsigned int n = m->n_refused < METRICS_ACCESS_RULES
				 ? m->n_refused
				 : METRICS_ACCESS_RULES;
	unsigned int i;

	family(f, "vpnd_access_refused_packets_total", "counter",
	       "Packets from clients the access rules refused, by rule "
	       "(client-to-client: to another client while client-to-client "
	       "is off; no-rule: to a destination none of the user's rules "
	       "holds).");
	for (i = 0; i < n; i++)
		sample(f, "vpnd_access_refused_packets_total", "rule",
		       m->refused[i].rule ? m->refused[i].rule : "",
		       m->refused[i].n);
}

char *
metrics_render(const struct metrics_snapshot *m, size_t *len)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		return NULL;
	family(f, "vpnd_info", "gauge", "vpnd's version, as a label.");
	sample(f, "vpnd_info", "version", m->version ? m->version : "", 1);
	/* An info metric, as Prometheus does for such labels: joined in a
	 * query (on the instance) instead of on every series. */
	if (m->node) {
		family(f, "vpnd_node_info", "gauge",
		       "The node this vpnd is among those sharing its user "
		       "store (node-name), as a label.");
		sample(f, "vpnd_node_info", "node", m->node, 1);
	}
	gauge(f, "vpnd_start_time_seconds",
	      "When vpnd started, in seconds since the UNIX epoch.",
	      m->start_time_s);
	render_sessions(f, m);
	render_logins(f, m);
	render_store(f, m);
	render_traffic(f, m);
	render_access(f, m);
	render_offload(f, m);
	if (ferror(f)) {
		fclose(f);
		free(buf);
		return NULL;
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	*len = size;
	return buf;
}
