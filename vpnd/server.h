/* SPDX-License-Identifier: MIT */
/*
 * vpnd's running state and the packet path: UDP <-> tunnel engine <-> TUN
 * for many clients. The login layer (control messages, admissions) lives
 * in admit.c and shares this struct.
 */
#ifndef VPND_SERVER_H
#define VPND_SERVER_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "admit.h"
#include "auth.h"
#include "config.h"
#include "ctl.h"
#include "lanmode.h"
#include "loop.h"
#include "notify.h"
#include "peer.h"
#include "pmtu.h"
#include "reload.h"
#include "route.h"
#include "sysctl.h"
#include "tunio.h"
#include "tunnel.h"
#include "udp.h"
#include "worker.h"

struct netlink;

struct server_stats {
	uint64_t tun_rx_no_peer;     /* no admitted client owns the address */
	uint64_t tun_rx_oversize;    /* too big for the client's tunnel
				      * (answered if allowed: pmtu.h) */
	uint64_t tun_write_errors;
	uint64_t udp_tx_dropped;
	uint64_t peers_full;         /* verified handshakes refused: full */
	uint64_t peers_evicted;      /* unconfirmed peers pushed out */
	uint64_t peers_source_full;  /* refused: the source holds its share */
	/* What peers that are gone had counted, so totals never go back. */
	uint64_t gone_rx_bytes, gone_tx_bytes;
	uint64_t gone_rx_packets, gone_tx_packets;
	uint64_t gone_dropped_source, gone_dropped_unadmitted;
	uint64_t gone_malformed_ctl;
};

struct server {
	const struct vpnd_config *cfg;
	struct protocol_times pt;
	struct auth_policy policy;
	struct loop loop;
	struct tunnel tunnel;
	struct udp udp;
	struct tunio tun;       /* the device, its offloads and counts */
	char ifname[IFNAMSIZ];
	int ifindex;
	struct netlink *nl;
	struct peer_table peers;
	struct route_table routes;
	struct workers workers;
	struct admit_server admit;
	struct ctl ctl;
	struct access_policy *access; /* gate.c: the access rules */
	uint8_t addr4[4];  /* the server's tunnel addresses */
	uint8_t addr6[16];
	struct sysctl_saved sysctls; /* what vpnd changed, put back at stop */
	struct pmtu pmtu;       /* the tunnel MTUs, the device's included */
	struct lanmode lan;     /* lan-mode: how clients reach the LAN */
	struct cluster cluster; /* this node among those sharing the store */

	/* Batches and their buffers, allocated once. */
	struct udp_batch rx;
	struct udp_batch tx4, tx6;
	struct udp_buffers rx_bufs, tx_bufs;
	/* The AEAD of a batch, on the packet workers (NULL: none, all on
	 * this thread): the send batch's jobs, sealed in flush_tx, and the
	 * receive batch's. */
	struct cryptopool *pool;
	struct noise_crypt seal[UDP_BATCH];
	unsigned int n_seal;
	struct tunnel_rx_batch rx_jobs;

	uint64_t started_ns;
	uint64_t now_ns;   /* time of the event being handled */
	uint64_t wall_ns;
	uint64_t next_housekeeping_ns;
	uint64_t housekeeping_interval_ns;
	uint64_t next_events_ns;   /* the store's change events, polled */
	bool stopping;
	int exit_status;
	struct server_stats stats;
	struct notify notify;   /* systemd: readiness, status, watchdog */
	struct reload reload;   /* what a reload rewrites (reload.h) */
};

/* Opens the TUN device, the sockets and the store threads. 0 or -errno,
 * after logging why. */
int server_start(struct server *s, const struct vpnd_config *cfg)
	__attribute__((warn_unused_result));
/* Runs until SIGTERM/SIGINT; returns the exit status. */
int server_run(struct server *s);
/* Tells every client, stops the threads, removes the device. */
void server_stop(struct server *s);

/* Reads the clocks into now_ns and wall_ns. */
void server_clock(struct server *s);
/* Re-arms the loop's timer after p's deadlines moved. */
void server_peer_touched(struct server *s, struct peer *p);
/* A store job admit.c does not own came back (a control command's). */
void server_job_done(struct server *s, const struct job *j);
/* The login policy the worker threads apply, from a configuration. */
void server_policy_from_config(struct auth_policy *pol,
			       const struct vpnd_config *c);
/* source-handshake-rate: initiations a second per source (0: no limit).
 * 0 or -errno (then there is no limit). */
int server_set_source_limit(struct server *s, unsigned int rate)
	__attribute__((warn_unused_result));
/* Sends a control message to p (admit.c builds them). */
void server_send_control(struct server *s, struct peer *p, const uint8_t *msg,
			 size_t len);

#endif
