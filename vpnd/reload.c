// SPDX-License-Identifier: MIT
/*
 * Reloading vpnd.conf (see reload.h). One table says what each option
 * does on a reload; reload_plan() and reload_merge() read it and nothing
 * else (pure: two structs in, a plan and a struct out). reload_run()
 * reads the file, catches the parser's messages, applies the plan to the
 * running server on the loop thread and says what it did. It must never
 * leave a half-applied file: everything that can fail is tried before
 * anything is changed, and a file with any error changes nothing.
 */
#include "reload.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctlmsg.h"
#include "forwarding.h"
#include "gate.h"
#include "log.h"
#include "netlink.h"
#include "pool.h"
#include "server.h"

enum field {
	F_NUM,      /* an unsigned number or bool of `size` bytes */
	F_STR,      /* a char array of `size` bytes */
	F_PREFIXES, /* struct prefix[], `size` bytes; its count at off_n */
	F_SEARCH,   /* dns_search; its count at off_n */
	F_POOL,     /* a struct prefix at off; its has_ flag at off_n */
	F_ADDR,     /* a socket address at off (zeroed whole before it was
		     * set); its has_ flag at off_n */
	F_ACCESS,   /* a struct access_config * at off (NULL: none) */
};

struct option {
	const char *name;
	enum field field;
	size_t off, size, off_n;
	enum reload_rule rule;
	size_t room_off; /* RELOAD_RULE_ROOM: the struct reload_room field */
};

#define CFG_OFF(f) offsetof(struct vpnd_config, f)
#define CFG_SIZE(f) sizeof(((struct vpnd_config *)0)->f)
#define NUM(name, f, rule) { name, F_NUM, CFG_OFF(f), CFG_SIZE(f), 0, rule, 0 }
#define STR(name, f, rule) { name, F_STR, CFG_OFF(f), CFG_SIZE(f), 0, rule, 0 }
#define ROOM(name, f)                                                       \
	{ name, F_NUM, CFG_OFF(f), CFG_SIZE(f), 0, RELOAD_RULE_ROOM,        \
	  offsetof(struct reload_room, f) }
#define LIST(name, type, f, n)                                              \
	{ name, type, CFG_OFF(f), CFG_SIZE(f), CFG_OFF(n), RELOAD_RULE_LIVE, 0 }
#define POOL(name, f, has)                                                  \
	{ name, F_POOL, CFG_OFF(f), CFG_SIZE(f), CFG_OFF(has),              \
	  RELOAD_RULE_POOL, 0 }
#define ADDR(name, f, has, rule)                                            \
	{ name, F_ADDR, CFG_OFF(f), CFG_SIZE(f), CFG_OFF(has), rule, 0 }

#define LIVE RELOAD_RULE_LIVE
#define RESTART RELOAD_RULE_RESTART

/* Every option of vpnd.conf, in the order of conf/vpnd.conf. */
static const struct option options[] = {
	STR("interface", interface, RESTART),
	NUM("listen-port", listen_port, RESTART),
	/* The keys are read at start only: vpnd may no longer be allowed
	 * to read them, and a new identity is a new server anyway. */
	STR("private-key-file", private_key_file, RESTART),
	STR("preshared-key-file", psk_file, RESTART),
	/* The buffers and the device are sized for it. */
	NUM("mtu", mtu, RESTART),
	POOL("address-pool4", pool4, has_pool4),
	POOL("address-pool6", pool6, has_pool6),
	STR("user-db", user_db, RESTART),
	STR("control-socket", control_socket, RESTART),
	/* The store knows the node by it (cluster.h). */
	STR("node-name", node_name, RESTART),
	STR("control-group", control_group, RESTART),
	/* Dropped to once, at start (privs.h). */
	STR("user", user, RESTART),
	ROOM("max-peers", max_peers),
	ROOM("max-pending", max_pending),
	NUM("max-pending-per-source", max_pending_per_source, LIVE),
	NUM("auth-workers", auth_workers, RESTART),
	NUM("aead", aead, RESTART),
	/* Asked of the device and the sockets as they open. */
	NUM("offload", offload, RESTART),
	NUM("busy-poll", busy_poll_us, RESTART),
	/* The threads are made at start (server.c). */
	NUM("packet-workers", packet_workers, RESTART),
	/* Set up at start (lanmode.h): forwarding, the nftables table, the
	 * device's address, the proxy entries. */
	NUM("lan-mode", lan_mode, RESTART),
	STR("lan-interface", lan_interface, RESTART),
	LIST("routes", F_PREFIXES, routes, n_routes),
	LIST("dns", F_PREFIXES, dns, n_dns),
	LIST("dns-search", F_SEARCH, dns_search, n_dns_search),
	NUM("keepalive", keepalive_s, LIVE),
	/* Every session follows new rules at once (gate_reload). */
	NUM("client-to-client", client_to_client, LIVE),
	{ "access", F_ACCESS, CFG_OFF(access), CFG_SIZE(access), 0, LIVE, 0 },
	NUM("session-lifetime", session_lifetime_s, LIVE),
	NUM("totp-window", totp_window, LIVE),
	NUM("lockout-failures", lockout_failures, LIVE),
	NUM("lockout-time", lockout_time_s, LIVE),
	NUM("lockout-max-time", lockout_max_time_s, LIVE),
	NUM("failure-delay", failure_delay_ms, LIVE),
	/* The login queue's lanes are allocated for it. */
	NUM("auth-queue", auth_queue, RESTART),
	NUM("auth-per-source", auth_per_source, LIVE),
	NUM("lockout-source-decay", lockout_source_decay_s, LIVE),
	/* vpnctl's own: vpnd does not use them. */
	STR("totp-issuer", totp_issuer, LIVE),
	NUM("password-min-length", password_min_length, LIVE),
	NUM("password-min-score", password_min_score, LIVE),
	NUM("handshake-rate", handshake_rate, LIVE),
	NUM("source-handshake-rate", source_handshake_rate, LIVE),
	NUM("log", log_syslog, RESTART),
	NUM("log-level", log_level, LIVE),
	/* The exporter's socket and thread are set up at start. */
	ADDR("metrics-listen", metrics_listen, has_metrics_listen, RESTART),
	STR("metrics-textfile", metrics_textfile, RESTART),
	NUM("metrics-interval", metrics_interval_s, RESTART),
	NUM("test-timer-divisor", test_timer_divisor, RESTART),
};

#define N_OPTIONS (sizeof(options) / sizeof(options[0]))
_Static_assert(N_OPTIONS <= RELOAD_MAX_CHANGES, "a plan holds every option");

enum reload_rule
reload_option_rule(const char *option)
{
	size_t i;

	for (i = 0; i < N_OPTIONS; i++)
		if (strcmp(options[i].name, option) == 0)
			return options[i].rule;
	return RELOAD_RULE_UNKNOWN;
}

/* ---- comparing ---------------------------------------------------------------- */

static const void *
at(const struct vpnd_config *c, size_t off)
{
	return (const char *)c + off;
}

static uint64_t
number(const void *p, size_t size)
{
	switch (size) {
	case 1:
		return *(const uint8_t *)p;
	case 2:
		return *(const uint16_t *)p;
	case 4:
		return *(const uint32_t *)p;
	default:
		return *(const uint64_t *)p;
	}
}

static bool
prefix_same(const struct prefix *a, const struct prefix *b)
{
	return a->family == b->family && a->len == b->len &&
	       memcmp(a->addr, b->addr, prefix_addr_len(a->family)) == 0;
}

static bool
same(const struct option *o, const struct vpnd_config *a,
     const struct vpnd_config *b)
{
	unsigned int n, i;

	switch (o->field) {
	case F_NUM:
		return number(at(a, o->off), o->size) ==
		       number(at(b, o->off), o->size);
	case F_STR:
		return strncmp(at(a, o->off), at(b, o->off), o->size) == 0;
	case F_POOL:
	case F_ADDR:
		if (*(const bool *)at(a, o->off_n) !=
		    *(const bool *)at(b, o->off_n))
			return false;
		if (!*(const bool *)at(a, o->off_n))
			return true;
		return o->field == F_POOL
			       ? prefix_same(at(a, o->off), at(b, o->off))
			       : memcmp(at(a, o->off), at(b, o->off),
					o->size) == 0;
	case F_ACCESS:
		return access_config_equal(
			*(struct access_config *const *)at(a, o->off),
			*(struct access_config *const *)at(b, o->off));
	case F_PREFIXES:
	case F_SEARCH:
		n = *(const unsigned int *)at(a, o->off_n);
		if (n != *(const unsigned int *)at(b, o->off_n))
			return false;
		for (i = 0; i < n; i++) {
			if (o->field == F_PREFIXES &&
			    !prefix_same((const struct prefix *)at(a, o->off) + i,
					 (const struct prefix *)at(b, o->off) + i))
				return false;
			if (o->field == F_SEARCH &&
			    strcmp(a->dns_search[i], b->dns_search[i]) != 0)
				return false;
		}
		return true;
	}
	return false;
}

/*
 * A pool may grow live when the new one holds the old one and keeps the
 * server's address: every session's address stays in it, and the device
 * only trades its prefix for a shorter one.
 */
static bool
pool_grows(const struct prefix *old, const struct prefix *new)
{
	uint8_t a[16], b[16];
	size_t len = prefix_addr_len(old->family);

	return old->family == new->family && new->len < old->len &&
	       prefix_overlaps(old, new) && pool_server_address(old, a) &&
	       pool_server_address(new, b) && memcmp(a, b, len) == 0;
}

static enum reload_verdict
verdict(const struct option *o, const struct vpnd_config *running,
	const struct vpnd_config *fresh, const struct reload_room *room)
{
	switch (o->rule) {
	case RELOAD_RULE_LIVE:
		return RELOAD_APPLY;
	case RELOAD_RULE_POOL:
		/* nat masquerades the pools it started with; proxy-arp
		 * checked them against the LAN and gave the device a host
		 * prefix. */
		return running->lan_mode == VPND_LAN_ROUTED &&
				       *(const bool *)at(running, o->off_n) &&
				       *(const bool *)at(fresh, o->off_n) &&
				       pool_grows(at(running, o->off),
						  at(fresh, o->off))
			       ? RELOAD_APPLY
			       : RELOAD_RESTART;
	case RELOAD_RULE_ROOM:
		return number(at(fresh, o->off), o->size) <=
				       *(const unsigned int *)((const char *)room +
							       o->room_off)
			       ? RELOAD_APPLY
			       : RELOAD_RESTART;
	default:
		return RELOAD_RESTART;
	}
}

void
reload_plan(const struct vpnd_config *running, const struct vpnd_config *fresh,
	    const struct reload_room *room, struct reload_plan *plan)
{
	size_t i;

	memset(plan, 0, sizeof(*plan));
	for (i = 0; i < N_OPTIONS; i++) {
		const struct option *o = &options[i];

		if (same(o, running, fresh))
			continue;
		plan->change[plan->n].option = o->name;
		plan->change[plan->n].verdict = verdict(o, running, fresh, room);
		plan->n++;
	}
}

static const struct option *
option_named(const char *name)
{
	size_t i;

	for (i = 0; i < N_OPTIONS; i++)
		if (strcmp(options[i].name, name) == 0)
			return &options[i];
	return NULL;
}

static void
copy_option(const struct option *o, struct vpnd_config *to,
	    const struct vpnd_config *from)
{
	memcpy((char *)to + o->off, at(from, o->off), o->size);
	if (o->field == F_POOL || o->field == F_ADDR)
		memcpy((char *)to + o->off_n, at(from, o->off_n), sizeof(bool));
	if (o->field == F_PREFIXES || o->field == F_SEARCH)
		memcpy((char *)to + o->off_n, at(from, o->off_n),
		       sizeof(unsigned int));
}

void
reload_merge(struct vpnd_config *out, const struct vpnd_config *running,
	     const struct vpnd_config *fresh, const struct reload_plan *plan)
{
	unsigned int i;

	*out = *running;
	out->lines = fresh->lines;
	for (i = 0; i < plan->n; i++)
		if (plan->change[i].verdict == RELOAD_APPLY)
			copy_option(option_named(plan->change[i].option), out,
				    fresh);
}

/* ---- reading the file ------------------------------------------------------- */

/*
 * The parser (conf.c) prints its messages on stderr; during a reload they
 * are caught to be logged and answered. glibc's stderr is a variable a
 * program may assign (glibc manual, "Standard Streams"); while vpnd runs
 * only the loop thread prints through it (the workers log with write(2)).
 */
struct capture {
	FILE *saved, *mem;
	char *text;
	size_t len;
};

static void
capture_begin(struct capture *c)
{
	memset(c, 0, sizeof(*c));
	c->mem = open_memstream(&c->text, &c->len);
	if (!c->mem)
		return;
	c->saved = stderr;
	stderr = c->mem;
}

/* Ends the capture: each line caught goes to the log and to vpnctl. */
static void
capture_end(struct capture *c, struct ctlmsg_writer *w)
{
	char *line, *save = NULL, shown[CTLMSG_VALUE_MAX + 1];

	if (!c->mem)
		return; /* out of memory: the lines went to stderr as usual */
	stderr = c->saved;
	fclose(c->mem);
	for (line = c->text ? strtok_r(c->text, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		/* The file's bytes may be anything; vpnctl takes UTF-8. */
		log_sanitize(shown, sizeof(shown), line, strlen(line));
		log_err("reload: %s", shown);
		if (w)
			ctlmsg_put(w, "problem", shown);
	}
	free(c->text);
}

/* vpnd_config_check(), its messages caught as above. */
static bool
check(const struct vpnd_config *c, struct ctlmsg_writer *w)
{
	struct capture cap;
	bool ok;

	capture_begin(&cap);
	ok = vpnd_config_check(c);
	if (!ok)
		fprintf(stderr, "%s: these values cannot run beside the ones "
			"that need a restart; restart vpnd to apply the file\n",
			c->path);
	capture_end(&cap, ok ? NULL : w);
	return ok;
}

/* The file, parsed and checked as `vpnd -t` would, but without reading
 * the keys (restart-only; after the privilege drop they may be out of
 * reach). A file vpnd could not start with is refused too. */
static bool
load_fresh(struct vpnd_config *fresh, const char *path)
{
	if (!vpnd_config_load_admin(fresh, path))
		return false;
	if (!fresh->private_key_file[0])
		return conf_error(&fresh->lines, "private-key-file",
				  "not set: the server needs its private key");
	return true;
}

/* ---- applying ------------------------------------------------------------------ */

static bool
applies(const struct reload_plan *plan, const char *option)
{
	unsigned int i;

	for (i = 0; i < plan->n; i++)
		if (strcmp(plan->change[i].option, option) == 0)
			return plan->change[i].verdict == RELOAD_APPLY;
	return false;
}

/* The device's address takes prefix `to` instead of `from`: the new one
 * first, so the pool never lacks a route. -errno if it could not be
 * added (then nothing changed), after saying why. */
static int
set_prefix(struct server *s, int family, uint8_t from, uint8_t to,
	   struct ctlmsg_writer *w)
{
	const uint8_t *addr = family == AF_INET ? s->addr4 : s->addr6;
	char text[PREFIX_STR_LEN], why[128];
	int ret;

	prefix_format_addr(family, addr, text);
	ret = netlink_addr_add(s->nl, s->ifindex, family, addr, to);
	if (ret < 0) {
		snprintf(why, sizeof(why), "%s: cannot add %s/%u: %s",
			 s->ifname, text, to, strerror(-ret));
		log_err("reload: %s", why);
		if (w)
			ctlmsg_put(w, "problem", why);
		return ret;
	}
	ret = netlink_addr_del(s->nl, s->ifindex, family, addr, from);
	if (ret < 0)
		log_warn("reload: %s: cannot remove %s/%u (harmless: the "
			 "shorter prefix covers it): %s", s->ifname, text, from,
			 strerror(-ret));
	log_info("%s: address %s/%u", s->ifname, text, to);
	return 0;
}

/*
 * The pools first: they are all that can fail. If one cannot be applied,
 * the other is put back and the reload is refused, so that nothing is
 * ever half applied. 0 or -errno.
 */
static int
apply_pools(struct server *s, const struct vpnd_config *running,
	    const struct vpnd_config *next, const struct reload_plan *plan,
	    struct ctlmsg_writer *w)
{
	bool grow4 = applies(plan, "address-pool4");
	bool grow6 = applies(plan, "address-pool6");
	int ret = 0;

	if (grow4)
		ret = set_prefix(s, AF_INET, running->pool4.len,
				 next->pool4.len, w);
	if (!ret && grow6) {
		ret = set_prefix(s, AF_INET6, running->pool6.len,
				 next->pool6.len, w);
		if (ret < 0 && grow4 &&
		    set_prefix(s, AF_INET, next->pool4.len,
			       running->pool4.len, NULL) < 0)
			log_err("reload: %s keeps the prefix of the new "
				"address-pool4; restart vpnd", s->ifname);
	}
	return ret;
}

/* What the server copied out of its configuration at start. Whatever
 * else is live, the server reads from s->cfg when it needs it (pushed
 * settings at each login, failure-delay at each refusal). */
static void
apply(struct server *s, struct vpnd_config *next,
      const struct reload_plan *plan)
{
	struct reload *r = &s->reload;
	int ret;

	if (applies(plan, "log-level") && !r->keep_log_level)
		log_set_level(next->log_level);
	/* New routes lead through this host, as at start. */
	if (applies(plan, "routes"))
		forwarding_check(next->routes, next->n_routes);
	server_policy_from_config(&s->policy, next);
	workers_set_policy(&s->workers, &s->policy, next->auth_per_source);
	s->tunnel.handshake_rate = next->handshake_rate;
	if (s->tunnel.load_tokens > next->handshake_rate)
		s->tunnel.load_tokens = next->handshake_rate;
	if (applies(plan, "source-handshake-rate")) {
		ret = server_set_source_limit(s, next->source_handshake_rate);
		if (ret < 0) {
			log_err("reload: source-handshake-rate: %s; no limit "
				"per source until vpnd restarts",
				strerror(-ret));
			next->source_handshake_rate = 0;
		}
	}
	s->peers.max_admitted = next->max_peers;
	s->peers.max_pending = next->max_pending;
	s->peers.max_per_source = next->max_pending_per_source;
}

/*
 * The running configuration becomes `next`. The access rules are the
 * one thing it does not hold by value: if they are the file's (fresh's),
 * they now belong to the running configuration, and the old ones go.
 */
static void
take(struct vpnd_config *running, struct vpnd_config *next,
     struct vpnd_config *fresh)
{
	struct access_config *old = running->access;

	*running = *next;
	if (running->access != old) {
		fresh->access = NULL;
		access_config_free(old);
	}
}

/* New rules, or a new "everything pushed", for every session now. */
static void
apply_access(struct server *s, const struct reload_plan *plan)
{
	if ((applies(plan, "access") || applies(plan, "client-to-client") ||
	     applies(plan, "routes") || applies(plan, "dns")) &&
	    gate_reload(s) < 0)
		log_err("reload: the access rules stay as they were until the "
			"next reload");
}

/* Why an option needs a restart, for the log line naming it. */
static const char *
restart_reason(const struct option *o, const struct reload_room *room)
{
	static char text[96];

	if (o->rule == RELOAD_RULE_POOL)
		return " (only a pool that grows around the old one, keeping "
		       "the server's address, applies live, and only in "
		       "lan-mode routed)";
	if (o->rule == RELOAD_RULE_ROOM) {
		snprintf(text, sizeof(text), " (live only up to the %u vpnd "
			 "started with)",
			 *(const unsigned int *)((const char *)room +
						 o->room_off));
		return text;
	}
	return "";
}

static void
report(struct server *s, const struct reload_plan *plan,
       struct ctlmsg_writer *w)
{
	const char *path = s->reload.cfg->path;
	char applied[1024] = "", shown[CTLMSG_VALUE_MAX + 1];
	size_t len = 0;
	unsigned int i;

	if (w)
		ctlmsg_put(w, "file", log_sanitize(shown, sizeof(shown), path,
						   strlen(path)));
	for (i = 0; i < plan->n; i++) {
		const struct reload_change *c = &plan->change[i];

		if (c->verdict == RELOAD_RESTART) {
			log_warn("reload: %s changed: restart vpnd to apply "
				 "it%s", c->option,
				 restart_reason(option_named(c->option),
						&s->reload.room));
			if (w)
				ctlmsg_put(w, "restart", c->option);
			continue;
		}
		if (w)
			ctlmsg_put(w, "applied", c->option);
		if (len < sizeof(applied))
			len += (size_t)snprintf(applied + len,
						sizeof(applied) - len, "%s%s",
						len ? ", " : "", c->option);
	}
	if (applies(plan, "log-level") && s->reload.keep_log_level)
		log_notice("reload: log-level: vpnd -v keeps debug messages");
	log_notice("reload: %s%s", len ? "applied " : "nothing to apply",
		   applied);
}

/* ---- the reload ------------------------------------------------------------------ */

void
reload_init(struct server *s, struct vpnd_config *cfg, bool keep_log_level)
{
	s->reload.cfg = cfg;
	s->reload.keep_log_level = keep_log_level;
	s->reload.room.max_peers = cfg->max_peers;
	s->reload.room.max_pending = cfg->max_pending;
}

/* Reads and checks the file; on success *next is what to run with. */
static bool
prepare(struct server *s, struct vpnd_config *fresh, struct vpnd_config *next,
	struct reload_plan *plan, struct ctlmsg_writer *w)
{
	const struct vpnd_config *running = s->reload.cfg;
	struct capture cap;
	bool ok;

	capture_begin(&cap);
	ok = load_fresh(fresh, running->path);
	capture_end(&cap, w);
	if (!ok)
		return false;
	reload_plan(running, fresh, &s->reload.room, plan);
	reload_merge(next, running, fresh, plan);
	/* Values checked against the file's own may not fit the running
	 * ones it cannot change (a route inside the pool that stays). */
	return check(next, w);
}

int
reload_run(struct server *s, const char *who, struct ctlmsg_writer *w)
{
	struct reload *r = &s->reload;
	struct vpnd_config *fresh = NULL, *next = NULL;
	struct reload_plan plan;
	int ret = -ENOMEM;

	if (!r->cfg) {
		log_notice("reload (%s): not possible in this vpnd", who);
		return -EOPNOTSUPP;
	}
	log_notice("reload (%s): reading %s", who, r->cfg->path);
	notify_reloading(&s->notify);
	fresh = calloc(1, sizeof(*fresh));
	next = calloc(1, sizeof(*next));
	if (!fresh || !next) {
		log_err("reload: out of memory; the running configuration is "
			"kept");
		goto out;
	}
	ret = -EINVAL;
	if (!prepare(s, fresh, next, &plan, w)) {
		log_err("reload: %s refused; the running configuration is "
			"kept", r->cfg->path);
		goto out;
	}
	if (apply_pools(s, r->cfg, next, &plan, w) < 0) {
		ret = -EIO;
		log_err("reload: %s refused; the running configuration is "
			"kept", r->cfg->path);
		goto out;
	}
	apply(s, next, &plan);
	take(r->cfg, next, fresh);
	apply_access(s, &plan);
	report(s, &plan, w);
	ret = 0;
out:
	if (next) {
		/* Its rules are fresh's or the running ones: never its own. */
		next->access = NULL;
		vpnd_config_wipe(next);
		free(next);
	}
	if (fresh) {
		vpnd_config_wipe(fresh);
		free(fresh);
	}
	notify_reloaded(&s->notify);
	return ret;
}
