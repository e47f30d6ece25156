/* SPDX-License-Identifier: MIT */
/*
 * vpnd's numbers as Prometheus reads them: a snapshot of plain counters
 * and gauges, and its rendering in the text exposition format (version
 * 0.0.4): HELP and TYPE lines, counters named *_total, units in names
 * (_bytes, _seconds), label values escaped. Pure: numbers in, text out; no
 * I/O, no clock, nothing of the server. exporter.c fills the snapshot;
 * `vpnctl metrics`, the HTTP endpoint and the textfile all print what
 * metrics_render() makes of it.
 *
 * No metric is labelled by user, key or address: those are unbounded and
 * personal (vpnctl sessions shows them to the administrator).
 */
#ifndef VPND_METRICS_H
#define VPND_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "login.h"

/* Logins by (result, reason) a snapshot holds; admit.h's count. */
#define METRICS_LOGIN_KINDS 32

/* What a client is doing, as `vpnctl sessions` names it. */
enum metrics_state {
	METRICS_STATE_ADMITTED,  /* logged in: IP passes */
	METRICS_STATE_LOOKUP,    /* the store is asked about its key */
	METRICS_STATE_LOGIN,     /* a session, in its login exchange */
	METRICS_STATE_HANDSHAKE, /* its handshake not yet confirmed */
	METRICS_STATES,
};

/* Why something was dropped; each one is counted under one reason. */
enum metrics_drop {
	/* Datagrams from the network, before any peer. */
	METRICS_DROP_INVALID,           /* bad length, header or type */
	METRICS_DROP_BAD_MAC,           /* mac1 wrong */
	METRICS_DROP_HANDSHAKE_INVALID,
	METRICS_DROP_HANDSHAKE_REPLAY,  /* replayed or flooding timestamps */
	METRICS_DROP_RATELIMITED,       /* over source-handshake-rate */
	METRICS_DROP_PEERS_FULL,        /* verified, no room for the peer */
	METRICS_DROP_SOURCE_FULL,       /* its source holds its share */
	METRICS_DROP_PEER_REFUSED,      /* verified, refused otherwise */
	/* Transport data. */
	METRICS_DROP_DATA_INVALID,      /* no keypair, failed AEAD, expired */
	METRICS_DROP_REPLAY,
	METRICS_DROP_MALFORMED,         /* plaintext neither IP nor control */
	METRICS_DROP_SPOOFED_SOURCE,    /* inner source not the client's */
	METRICS_DROP_UNADMITTED,        /* IP from a client not logged in */
	METRICS_DROP_MALFORMED_CONTROL, /* a control message refused */
	/* Packets from the TUN device, and sending. */
	METRICS_DROP_NO_PEER,           /* no logged-in client has the address */
	METRICS_DROP_OVERSIZE,
	METRICS_DROP_STAGED_OVERFLOW,   /* waiting for a session, no room */
	METRICS_DROP_UDP_SEND,          /* the UDP socket refused it */
	METRICS_DROP_TUN_WRITE,         /* the TUN device refused it */
	METRICS_DROPS,
};

/* Rules a snapshot holds refusals of: vpnd.conf's access rules (at most
 * ACCESS_RULES_MAX, access.h), then client-to-client and no-rule. */
#define METRICS_ACCESS_RULES 258

/* Packets from clients the access rules refused, under one rule's name. */
struct metrics_refused {
	const char *rule;
	uint64_t n;
};

struct metrics_login {
	enum login_status status;
	const char *reason; /* the audit line's reason; NULL or "" if none */
	uint64_t n;
};

/* Jobs' time from submission to result: count, total, longest. */
struct metrics_latency {
	uint64_t n, sum_ns, max_ns;
};

/* The data path's offloads (shared/tunio.h, udp.h) and what they did. */
struct metrics_offload {
	bool tun, udp_gso, udp_gro;      /* in use */
	uint64_t super_read;             /* TUN super-packets read */
	uint64_t segments;               /* packets cut from them */
	uint64_t refused;                /* reads refused (bad virtio header) */
	uint64_t coalesced_writes;       /* TUN writes of several packets */
	uint64_t coalesced_packets;      /* the packets they carried */
};

struct metrics_snapshot {
	const char *version;
	const char *node;       /* node-name (cluster.h); NULL: none */
	uint64_t start_time_s;          /* UNIX time */
	uint64_t sessions[METRICS_STATES];
	uint64_t max_admitted, max_pending;
	struct metrics_login logins[METRICS_LOGIN_KINDS];
	unsigned int n_logins;
	uint64_t handshakes;            /* sessions started */
	uint64_t cookie_replies;
	uint64_t evicted;               /* unconfirmed clients pushed out */
	uint64_t rx_bytes, tx_bytes;    /* authenticated datagrams */
	uint64_t rx_packets, tx_packets; /* of them, data */
	uint64_t drops[METRICS_DROPS];
	struct metrics_refused refused[METRICS_ACCESS_RULES];
	unsigned int n_refused;
	struct metrics_latency store_latency, login_latency;
	uint64_t logins_queued;         /* checks waiting for a thread */
	struct metrics_offload offload;
	bool is_store_up;
	uint64_t store_errors;  /* store jobs that failed, of any kind */
};

/* The label value of a drop reason ("bad-mac"). */
const char *metrics_drop_name(enum metrics_drop d);

/*
 * Renders m as the text exposition format into a new NUL-terminated
 * buffer (free() it), every line ended by '\n'; its length in *len. Logins
 * of the same result and reason are summed into one series. NULL if out
 * of memory.
 */
char *metrics_render(const struct metrics_snapshot *m, size_t *len);

#endif
