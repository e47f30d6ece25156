/* SPDX-License-Identifier: MIT */
/*
 * vpnd.conf: the libconfuse schema and its checked result. Nothing else in
 * vpnd sees libconfuse; everything reads struct vpnd_config.
 */
#ifndef VPND_CONFIG_H
#define VPND_CONFIG_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "aead.h"
#include "conf.h"
#include "dnsname.h"
#include "keys.h"
#include "prefix.h"

#define VPND_DEFAULT_CONFIG "/etc/vpnd/vpnd.conf"
#define VPND_DEFAULT_PORT 51900
#define VPND_MAX_ROUTES 64
#define VPND_MAX_DNS 8
#define VPND_MAX_DNS_SEARCH 8
#define VPND_DNS_SEARCH_LEN DNSNAME_MAX
#define VPND_USER_LEN 32
#define VPND_NODE_NAME_LEN 63 /* as the store keeps it (USERDB_NODE_MAX) */

/* How clients reach the office LAN (lan-mode). */
enum vpnd_lan_mode {
	VPND_LAN_ROUTED,    /* the LAN's router routes the pools to us */
	VPND_LAN_NAT,       /* we masquerade them towards the LAN */
	VPND_LAN_PROXY_ARP, /* the pools are ranges of the LAN's subnets */
};

struct access_config;

struct vpnd_config {
	char path[PATH_MAX];              /* the file this came from */
	struct conf_lines lines;          /* where each option was set, so
					   * later checks can name the line */

	/* Restart-only: the device, the socket, the identity. */
	char interface[IFNAMSIZ];         /* interface = "vpn0" */
	uint16_t listen_port;             /* listen-port = 51900 */
	char private_key_file[PATH_MAX];  /* private-key-file (required);
					   * relative: to the config's dir */
	uint8_t private_key[KEY_LEN];     /* loaded from it */
	uint8_t public_key[KEY_LEN];
	bool has_psk;
	char psk_file[PATH_MAX];          /* preshared-key-file (optional) */
	uint8_t psk[KEY_LEN];
	uint16_t mtu;                     /* mtu = "auto" (0: from the default
					   * routes, pmtu.h) or 1280-9000 */
	/* At least one pool; no default. The server takes the first address. */
	bool has_pool4;
	struct prefix pool4;              /* address-pool4 = "10.99.0.0/24" */
	bool has_pool6;
	struct prefix pool6;              /* address-pool6 = "fd00:99::/64" */
	char user_db[PATH_MAX];           /* user-db = "/var/lib/vpnd/users.db" */
	char control_socket[PATH_MAX];    /* control-socket = "/run/vpnd.sock" */
	char node_name[VPND_NODE_NAME_LEN + 1]; /* node-name (default: the
					   * host name): this node in the
					   * store (cluster.h) */
	char control_group[64];           /* control-group (none: root only) */
	gid_t control_gid;                /* its gid, or (gid_t)-1 */
	char user[VPND_USER_LEN + 1];     /* user = "vpnd": runs as it once
					   * started; "root": stays root
					   * (privs.h) */
	unsigned int max_peers;           /* max-peers = 1024: logged in */
	unsigned int max_pending;         /* max-pending = 1024: not yet */
	unsigned int max_pending_per_source; /* max-pending-per-source = 16 */
	unsigned int auth_workers;        /* auth-workers = 2 (1-64) */
	enum aead_backend aead;           /* aead = "auto" (aead_select.h) */
	bool offload;                     /* offload = yes: the TUN device's
					   * (tunio.h) and the UDP sockets'
					   * (udp.h) */
	unsigned int busy_poll_us;        /* busy-poll = 0 (loop.h, udp.h) */
	unsigned int packet_workers;      /* packet-workers = "auto" (0: one
					   * per CPU, at most 16) or 1-16 */

	/* The office LAN (lanmode.h); a restart applies changes. */
	enum vpnd_lan_mode lan_mode;      /* lan-mode = "routed" */
	char lan_interface[IFNAMSIZ];     /* lan-interface (none: found from
					   * the routes or the pools) */

	/* Pushed to clients on login. */
	struct prefix routes[VPND_MAX_ROUTES]; /* routes = {"10.20.0.0/24"} */
	unsigned int n_routes;
	struct prefix dns[VPND_MAX_DNS];  /* dns = {"10.20.0.53"}: host prefixes */
	unsigned int n_dns;
	char dns_search[VPND_MAX_DNS_SEARCH][VPND_DNS_SEARCH_LEN + 1];
	unsigned int n_dns_search;        /* dns-search = {"corp.example"} */
	uint16_t keepalive_s;             /* keepalive = 25 (0: off) */

	/* Who may reach what (access.h); a reload applies them. */
	bool client_to_client;            /* client-to-client = no */
	struct access_config *access;     /* the group and access sections
					   * (NULL: none); owned: freed by
					   * vpnd_config_wipe() */

	/* Login policy. */
	uint32_t session_lifetime_s;      /* session-lifetime = "12h" */
	unsigned int totp_window;         /* totp-window = 1 (0-10 steps) */
	unsigned int lockout_failures;    /* lockout-failures = 5 */
	uint32_t lockout_time_s;          /* lockout-time = "1m": first lock */
	uint32_t lockout_max_time_s;      /* lockout-max-time = "15m" */
	uint32_t failure_delay_ms;        /* failure-delay = "1s" */
	unsigned int auth_queue;          /* auth-queue = 64: checks in flight */
	unsigned int auth_per_source;     /* auth-per-source = 2: of them, from
					   * one address (IPv6: one /64) */
	uint32_t lockout_source_decay_s;  /* lockout-source-decay = "10m": a
					   * source's failures drop by one */
	char totp_issuer[64];             /* totp-issuer = "vpnd" (vpnctl) */
	unsigned int password_min_length; /* password-min-length = 12 and */
	unsigned int password_min_score;  /* password-min-score = 3 (0-4,
					   * zxcvbn; 0: off): vpnctl's policy */

	/* Load. */
	unsigned int handshake_rate;      /* handshake-rate = 1000 a second,
					   * past which cookies are required */
	unsigned int source_handshake_rate; /* source-handshake-rate = 20 a
					   * second per address (0: off) */

	/* Logging. */
	bool log_syslog;                  /* log = "stderr" | "syslog" */
	int log_level;                    /* log-level = "info": syslog level */

	/* Metrics for Prometheus (exporter.c); a restart applies changes. */
	bool has_metrics_listen;          /* metrics-listen = "127.0.0.1:9108"
					   * (off by default; a bare port is
					   * on 127.0.0.1) */
	struct sockaddr_storage metrics_listen;
	char metrics_textfile[PATH_MAX];  /* metrics-textfile (none: off) */
	uint32_t metrics_interval_s;      /* metrics-interval = 15s */

	/* Tests only: every protocol timer divided by this (>= 1). */
	unsigned int test_timer_divisor;  /* test-timer-divisor = 1 */
};

/* Defaults, as documented in conf/vpnd.conf. */
void vpnd_config_defaults(struct vpnd_config *c);

/*
 * Parses `path` into `c` (over the defaults), loads the key files and runs
 * vpnd_config_check(). Every problem is printed on stderr as
 * "file:line: option: value: what is wrong". Returns true if usable.
 */
bool vpnd_config_load(struct vpnd_config *c, const char *path);

/*
 * For vpnctl: parses and checks like vpnd_config_load() but reads no key
 * file (an admin enrolling users needs the store path, not the key).
 */
bool vpnd_config_load_admin(struct vpnd_config *c, const char *path);

/* Cross-field rules (pool vs routes, ranges); prints as above. */
bool vpnd_config_check(const struct vpnd_config *c);

/* "routed", "nat" or "proxy-arp", as lan-mode spells them. */
const char *vpnd_config_lan_mode_name(enum vpnd_lan_mode mode);

/* Wipes the secrets in `c` and frees its access rules (c->access is NULL
 * after): a copy of the struct must not be wiped twice. */
void vpnd_config_wipe(struct vpnd_config *c);

#endif
