/* SPDX-License-Identifier: MIT */
/*
 * vpnc.conf: the libconfuse schema and its checked result.
 */
#ifndef VPNC_CONFIG_H
#define VPNC_CONFIG_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "aead.h"
#include "keys.h"
#include "policy.h"

#define VPNC_DEFAULT_CONFIG "/etc/vpnc/vpnc.conf"
#define VPNC_DEFAULT_PORT 51900
#define VPNC_HOST_LEN 255
#define VPNC_STATE_DIR "/run/vpnc"
#define VPNC_RESOLV_CONF "/etc/resolv.conf"

enum vpnc_dns_mode {
	VPNC_DNS_AUTO,       /* resolvconf if installed, else only log */
	VPNC_DNS_RESOLVCONF, /* resolvconf -a/-d, fail loudly without it */
	VPNC_DNS_NONE,       /* never touch the resolver */
	VPNC_DNS_RESOLVED,   /* systemd-resolved, fail without it */
	VPNC_DNS_FILE,       /* /etc/resolv.conf, kept aside and put back */
};

#define VPNC_MAX_SERVERS 16

/* One `server` value: a host name or address, and a port. */
struct vpnc_server {
	char host[VPNC_HOST_LEN + 1];
	uint16_t port;
};

struct vpnc_config {
	char path[PATH_MAX];
	char server_host[VPNC_HOST_LEN + 1]; /* server = "vpn.example.com:51900" */
	uint16_t server_port;                /* port part, default 51900;
					      * "[2001:db8::1]:51900" for v6;
					      * the host has no brackets */
	/* Every server: each `server` line, each element of a list
	 * (server = {"a", "b"}), in order; servers[0] is server_host and
	 * server_port above (servers.h resolves and shuffles them). */
	struct vpnc_server servers[VPNC_MAX_SERVERS];
	unsigned int n_servers;
	uint8_t server_public_key[KEY_LEN];  /* server-public-key (required) */
	char private_key_file[PATH_MAX];     /* private-key-file (required);
					      * relative: to the config's dir */
	uint8_t private_key[KEY_LEN];
	uint8_t public_key[KEY_LEN];
	bool has_psk;
	char psk_file[PATH_MAX];             /* preshared-key-file (optional) */
	uint8_t psk[KEY_LEN];
	char user[65];                       /* user (required, 1-64 bytes) */
	char interface[IFNAMSIZ];            /* interface = "vpn0" */
	uint16_t mtu;                        /* mtu = "auto" (0) or 1280-9000
					      * (mtu.h) */
	enum vpnc_dns_mode dns_mode;         /* dns = "auto" */
	struct policy_rules policy;          /* accept-routes = {"0.0.0.0/0",
					      * "::/0"}, full-tunnel = no,
					      * exclude = {}, allow-lan = no */
	char state_file[PATH_MAX];           /* state-file: what to undo after
					      * a crash; default
					      * /run/vpnc/NAME.state for
					      * NAME.conf */
	char resolv_conf[PATH_MAX];          /* the file dns = "file" writes
					      * (/etc/resolv.conf; not an
					      * option); "": never written */
	uint32_t reconnect_max_s;            /* reconnect-max-backoff = "1m" */
	bool sandbox;                        /* sandbox = yes (jail.h) */
	bool site;                           /* site = no (site.h) */
	enum aead_backend aead;              /* aead = "auto" (aead_select.h) */
	bool offload;                        /* offload = yes: the TUN
					      * device's (tunio.h) and the
					      * UDP socket's (udp.h) */
	unsigned int busy_poll_us;           /* busy-poll = 0 (loop.h, udp.h) */
	unsigned int packet_workers;         /* packet-workers = "auto" (0:
					      * one per CPU, at most 16) or
					      * 1-16 */
	bool log_syslog;                     /* log = "stderr" */
	int log_level;                       /* log-level = "info" */
	unsigned int test_timer_divisor;     /* test-timer-divisor = 1 */
};

void vpnc_config_defaults(struct vpnc_config *c);
/* As vpnd_config_load(): prints file:line: option: value: problem. */
bool vpnc_config_load(struct vpnc_config *c, const char *path);
void vpnc_config_wipe(struct vpnc_config *c);

#endif
