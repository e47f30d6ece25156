/* SPDX-License-Identifier: MIT */
/*
 * vpnc's running state: one server, the login conversation of PROTOCOL.md
 * section 6 from the client's side, and the packet path TUN <-> UDP.
 */
#ifndef VPNC_CLIENT_H
#define VPNC_CLIENT_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "loop.h"
#include "netconf.h"
#include "prompt.h"
#include "tunnel.h"
#include "udp.h"

enum client_state {
	CLIENT_CONNECTING, /* handshake under way */
	CLIENT_RESUMING,   /* RESUME sent */
	CLIENT_LOGGING_IN, /* AUTH_REQUEST sent */
	CLIENT_UP,         /* admitted, device configured */
	CLIENT_BACKOFF,    /* waiting to reconnect */
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
	bool logout; /* end the admission and exit */
};

struct client {
	const struct vpnc_config *cfg;
	struct client_options opt;
	struct protocol_times pt;
	struct loop loop;
	struct tunnel tunnel;
	struct tunnel_peer server;
	struct endpoint server_ep;
	int server_family;
	uint8_t server_addr[16];
	struct udp udp;
	int tun_fd;
	char ifname[IFNAMSIZ];
	int ifindex;
	struct netlink *nl;
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
	struct netconf_state net_state;
	uint64_t backoff_ns;
	uint64_t reconnect_ns;
	uint64_t logout_deadline_ns;
	unsigned int logouts_sent; /* --logout: DISCONNECTs with LOGOUT */

	struct udp_batch rx, tx;
	struct udp_buffers rx_bufs, tx_bufs;
	uint64_t now_ns, wall_ns;
	int exit_status;
};

int client_start(struct client *c, const struct vpnc_config *cfg,
		 const struct client_options *opt)
	__attribute__((warn_unused_result));
/* Runs until the session ends for good; returns the exit status. */
int client_run(struct client *c);
void client_stop(struct client *c);

#endif
