/* SPDX-License-Identifier: MIT */
/*
 * Reloading vpnd.conf while vpnd runs (SIGHUP, `vpnctl reload`): the file
 * is parsed and checked into a fresh struct vpnd_config; what can change
 * live is applied without dropping a session, what needs a restart keeps
 * its running value and is logged by name, and a file with any error is
 * refused whole (its file:line messages logged and answered) with the
 * running configuration kept.
 *
 * Live: what is pushed at login (routes, dns, dns-search, keepalive: the
 * next login or resume gets it), the login policy (totp-window, lockout-*,
 * failure-delay, session-lifetime: attempts and logins from now on),
 * auth-per-source, max-pending-per-source, handshake-rate,
 * source-handshake-rate, log-level, vpnctl's own options, max-peers and
 * max-pending up to the values vpnd started with (the room allocated
 * then), and an address pool that grows around the old one keeping the
 * server's address (10.99.0.0/24 -> 10.99.0.0/23). Everything else needs a
 * restart: the device, the port, the keys (read at start only), the mtu,
 * the store, the control socket, the threads, auth-queue, the log target,
 * the metrics exporter, a pool that shrinks or moves (sessions would hold
 * addresses outside it).
 *
 * The pure part (reload_plan, reload_merge) decides; reload_run() does the
 * reading, logging and applying, on the loop thread.
 */
#ifndef VPND_RELOAD_H
#define VPND_RELOAD_H

#include <stdbool.h>

#include "config.h"

struct server;
struct ctlmsg_writer;

/* What the running vpnd allocated at start: limits may drop below these
 * and come back, not go past them. */
struct reload_room {
	unsigned int max_peers;
	unsigned int max_pending;
};

enum reload_verdict {
	RELOAD_APPLY,   /* changed, and applied live */
	RELOAD_RESTART, /* changed; the running value stays until a restart */
};

#define RELOAD_MAX_CHANGES 64

struct reload_change {
	const char *option; /* its name in vpnd.conf (static) */
	enum reload_verdict verdict;
};

/* Every option that differs between two configurations, in file order. */
struct reload_plan {
	struct reload_change change[RELOAD_MAX_CHANGES];
	unsigned int n;
};

/* What vpnd.conf's options do on a reload. */
enum reload_rule {
	RELOAD_RULE_LIVE,     /* applied live */
	RELOAD_RULE_RESTART,  /* needs a restart */
	RELOAD_RULE_POOL,     /* live if it grows around the old pool */
	RELOAD_RULE_ROOM,     /* live up to the value vpnd started with */
	RELOAD_RULE_UNKNOWN = -1,
};

/* The rule for an option of vpnd.conf, or RELOAD_RULE_UNKNOWN. */
enum reload_rule reload_option_rule(const char *option);

/* Compares the running configuration with a fresh one. */
void reload_plan(const struct vpnd_config *running,
		 const struct vpnd_config *fresh,
		 const struct reload_room *room, struct reload_plan *plan);

/*
 * The configuration to run with: `running` with the options the plan
 * applies taken from `fresh`, and fresh's file lines (so a check names
 * the new file's lines). Keys and everything restart-only stay running's.
 */
void reload_merge(struct vpnd_config *out, const struct vpnd_config *running,
		  const struct vpnd_config *fresh,
		  const struct reload_plan *plan);

/* The running configuration and what reload_run() needs to know of how
 * vpnd started. */
struct reload {
	struct vpnd_config *cfg;  /* main's, rewritten in place; NULL: off */
	bool keep_log_level;      /* vpnd -v: debug whatever the file says */
	struct reload_room room;
};

/* main, after server_start(): reloads rewrite `cfg` (what s->cfg points
 * at). keep_log_level: vpnd -v. */
void reload_init(struct server *s, struct vpnd_config *cfg,
		 bool keep_log_level);

/*
 * Re-reads the file vpnd was started with and applies it as above,
 * logging what was applied, what needs a restart, or why the file was
 * refused. `who` names who asked, for the log. If `w` is not NULL the
 * outcome's fields are added there for vpnctl (file=, applied=, restart=,
 * or problem= lines; the caller ends the answer). 0 if the file was
 * taken; -EINVAL if it was refused, -EIO if the device would not take a
 * grown pool (nothing changed), -ENOMEM, or -EOPNOTSUPP (no reload_init).
 */
int reload_run(struct server *s, const char *who, struct ctlmsg_writer *w);

#endif
