/* SPDX-License-Identifier: MIT */
/*
 * vpnc's running state: one server at a time, the login conversation of PROTOCOL.md
 * section 6 from the client's side as a state machine (below), and the
 * packet path TUN <-> UDP, where what comes from the tunnel must come from
 * where vpnc routes to (policy.h).
 */
#ifndef VPNC_CLIENT_H
#define VPNC_CLIENT_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "expiry.h"
#include "fence.h"
#include "log.h"
#include "loop.h"
#include "netconf.h"
#include "prompt.h"
#include "servers.h"
#include "silence.h"
#include "tunio.h"
#include "tunnel.h"
#include "udp.h"

/*
 * Where the client is. Each state names what it waits for; every change
 * goes through set_state() in client.c, which checks it against this
 * list. Connecting and logging in:
 *
 *   CONNECTING  --session-->        RESUMING    RESUME sent
 *   RESUMING    --OK-->             UP          the device is configured
 *   LOGGING_IN  --OK-->             UP
 *   CONNECTING, RESUMING, UP, BACKOFF --AUTH_REQUIRED--> LOGGING_IN
 *                                   the person is asked; AUTH_REQUEST sent
 *   LOGGING_IN  --AUTH_FAILED at a terminal, BUSY--> LOGGING_IN
 *                                   asked again, or the same login later
 *   any of the five --no answer, server DISCONNECT--> BACKOFF
 *   BACKOFF     --reconnect_ns-->   CONNECTING  a new handshake
 *   BACKOFF     --session-->        RESUMING    the server's handshake
 *
 * With several servers (servers.h), a server that stops answering (its
 * handshakes, or RESUME) or DISCONNECTs with "server shutdown" is left
 * for the next one at once, where RESUME keeps the admission:
 *
 *   any of the five --failover-->   CONNECTING  the next server's
 *                                   handshake (BACKOFF instead, once
 *                                   every server was tried since the
 *                                   last admission)
 *   LOGOUT_CONNECTING, LOGOUT_RECONNECTING --one handshake unanswered-->
 *                                   the same state, on the next server
 *
 * --logout (rule 8). Nothing acknowledges a DISCONNECT with LOGOUT, so
 * the client checks it took: a RESUME on a new session answered
 * AUTH_REQUIRED proves the admission ended.
 *
 *   LOGOUT_CONNECTING  --session-->      LOGOUT_SENT  the LOGOUT sent
 *   LOGOUT_CONNECTING  --gave up-->      LOGOUT_CONNECTING  (handshake again)
 *   LOGOUT_SENT        --reconnect_ns--> LOGOUT_RECONNECTING  a new
 *                                        handshake (the DISCONNECT ended
 *                                        the old session)
 *   LOGOUT_RECONNECTING --session-->     LOGOUT_CHECKING  RESUME sent
 *   LOGOUT_CHECKING    --AUTH_REQUIRED-> exit 0: confirmed
 *   LOGOUT_CHECKING    --OK-->           LOGOUT_SENT  the server still
 *                                        holds the login: the LOGOUT
 *                                        again, at most LOGOUT_ROUNDS
 *   LOGOUT_CHECKING    --BUSY-->         LOGOUT_CHECKING  RESUME again
 *                                        after RETRY_AFTER
 *   LOGOUT_RECONNECTING, LOGOUT_CHECKING --no answer, DISCONNECT-->
 *                                        LOGOUT_SENT  check again later
 *   LOGOUT_SENT        --DISCONNECT-->   LOGOUT_SENT
 *   any LOGOUT_*       --deadline, another STATUS--> exit 1
 */
enum client_state {
	CLIENT_CONNECTING,   /* handshake under way */
	CLIENT_RESUMING,     /* RESUME sent */
	CLIENT_LOGGING_IN,   /* asking the person, or AUTH_REQUEST sent */
	CLIENT_UP,           /* admitted, device configured */
	CLIENT_BACKOFF,      /* waiting to reconnect */
	CLIENT_LOGOUT_CONNECTING,   /* handshake, to send the LOGOUT on */
	CLIENT_LOGOUT_SENT,         /* waiting to check it on a new session */
	CLIENT_LOGOUT_RECONNECTING, /* that session's handshake */
	CLIENT_LOGOUT_CHECKING,     /* its RESUME sent (or, BUSY, due again) */
	CLIENT_N_STATES
};

/* Exit statuses, documented in vpnc's usage. */
enum {
	VPNC_EXIT_OK = 0,
	VPNC_EXIT_ERROR = 1,
	VPNC_EXIT_USAGE = 2,
	VPNC_EXIT_REFUSED = 3,   /* login refused: wrong, locked, no address */
	VPNC_EXIT_NEED_LOGIN = 4,/* login required, no terminal to ask */
};

struct client_options {
	const char *password_file;
	bool logout; /* end the admission and exit: start in LOGOUT_CONNECTING */
};

struct client {
	const struct vpnc_config *cfg;
	struct client_options opt;
	struct protocol_times pt;
	struct loop loop;
	struct tunnel tunnel;
	struct tunnel_peer server;
	/* Every server's address, and the one in use (copied below). */
	struct servers servers;
	unsigned int servers_tried; /* moved on from since an admission */
	struct endpoint server_ep;
	char server_name[SERVERS_NAME_LEN]; /* for logs */
	struct silence silence;   /* the server not answering handshakes */
	struct expiry_warner expiry; /* warnings ahead of the session's end */
	int server_family;
	uint8_t server_addr[16];
	struct udp udp;
	struct tunio tun;         /* the device (fd -1 while down) */
	char ifname[IFNAMSIZ];
	int ifindex;
	struct netlink *nl;
	struct rtnl *rt;          /* fence.h's routes */
	enum client_state state;

	/* The request being retransmitted (RESUME or AUTH_REQUEST). */
	uint8_t request[512];
	size_t request_len;
	uint32_t request_id;
	uint64_t request_first_ns;
	uint64_t request_next_ns;
	bool has_request;
	struct credentials creds; /* held for one login only */
	unsigned int login_attempts;
	uint64_t busy_retry_ns;   /* BUSY: send again at this time */

	struct netconf net;
	/* The routes outside the device (fence.h): installed at an
	 * admission, kept across reconnects, taken out at exit. */
	struct fence fence;
	bool is_full;             /* the last admission's: a full tunnel */
	uint64_t backoff_ns;
	uint64_t reconnect_ns;
	uint64_t logout_deadline_ns;
	unsigned int logouts_sent; /* --logout: DISCONNECTs with LOGOUT */

	/* Cryptokey routing: packets from the tunnel whose source the policy
	 * refuses (policy_source_allowed) are dropped and counted. */
	uint64_t rx_bad_source;
	uint64_t tun_write_errors; /* packets the device refused */
	struct log_ratelimit bad_source_log;

	struct udp_batch rx, tx;
	struct udp_buffers rx_bufs, tx_bufs;
	/* The AEAD of a batch, on the packet workers (NULL: none, all on
	 * this thread): the send batch's jobs, sealed in take_buffers, and
	 * the receive batch's. */
	struct cryptopool *pool;
	struct noise_crypt seal[UDP_BATCH];
	unsigned int n_seal;
	struct tunnel_rx_batch rx_jobs;
	uint64_t now_ns, wall_ns;
	int exit_status;
};

/* Opens the socket, netlink, the engine and the loop, and starts the
 * handshake; on failure, unwinds what it set up. 0 or -errno. */
int client_start(struct client *c, const struct vpnc_config *cfg,
		 const struct client_options *opt)
	__attribute__((warn_unused_result));
/* Runs until the session ends for good; returns the exit status. */
int client_run(struct client *c);
/* The reverse of a successful client_start(). */
void client_stop(struct client *c);

#endif
