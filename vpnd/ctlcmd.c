// SPDX-License-Identifier: MIT
/*
 * What vpnd answers on its control socket (protocol: ctlmsg.h; socket:
 * ctl.c): a table of commands, each reading the server's state and
 * writing an answer, or handing a job to the store thread and answering
 * when it returns. Read-only commands touch nothing; those that change
 * something are logged with who asked (SO_PEERCRED). Secrets never leave
 * here: keys are public keys, the store's hashes are never read.
 */
#include "ctlcmd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access.h"
#include "cryptopool.h"
#include "expiry.h"
#include "exporter.h"
#include "keys.h"
#include "log.h"
#include "metrics.h"
#include "reload.h"
#include "server.h"
#include "version.h"

struct command {
	const char *name;
	/* True if answered now; false if ctlcmd answers later. */
	bool (*run)(struct server *s, const struct ctl_peer *who,
		    const struct ctlmsg *req, struct ctl_ticket t,
		    struct ctlmsg_writer *w);
};

/* Ends an answer made now; an answer that could not be made whole is
 * failed, and ctl.c says so to the client. */
static bool
answered(struct ctlmsg_writer *w, int err, const char *why)
{
	if (!ctlmsg_finish(w, err, why))
		w->failed = true;
	return true;
}

static uint64_t
wall_s(const struct server *s)
{
	return s->wall_ns / NS_PER_S;
}

static void
put_key(struct ctlmsg_writer *w, const char *name, const uint8_t key[32])
{
	char b64[KEY_B64_LEN + 1];

	keys_to_base64(b64, key);
	ctlmsg_put(w, name, b64);
}

static void
put_addr(struct ctlmsg_writer *w, const char *name, int family,
	 const uint8_t *addr)
{
	char text[INET6_ADDRSTRLEN];

	ctlmsg_put(w, name, inet_ntop(family, addr, text, sizeof(text)));
}

/* ---- status ------------------------------------------------------------------ */

/* Packets the access rules refused, one record per rule (rule=, refused=)
 * in the file's order, then those refused before any rule was asked and
 * those no rule held (access.h names them): always last in the answer. */
static void
put_access(struct server *s, struct ctlmsg_writer *w)
{
	const struct access_policy *pol = s->access;
	uint32_t i;

	ctlmsg_put(w, "client-to-client", s->cfg->client_to_client ? "yes"
								   : "no");
	if (!pol)
		return;
	for (i = 0; i < pol->n_rules; i++) {
		ctlmsg_put(w, "rule", pol->rules[i].name);
		ctlmsg_put_u64(w, "refused", pol->rules[i].refused);
	}
	ctlmsg_put(w, "rule", ACCESS_CLIENT_TO_CLIENT);
	ctlmsg_put_u64(w, "refused", pol->refused_client);
	ctlmsg_put(w, "rule", ACCESS_NO_RULE);
	ctlmsg_put_u64(w, "refused", pol->refused_no_rule);
}

/* Logins answered so far, by result (metrics has them by reason too). */
static void
put_logins(struct server *s, struct ctlmsg_writer *w)
{
	static const enum login_status shown[] = {
		LOGIN_STATUS_OK, LOGIN_STATUS_AUTH_FAILED, LOGIN_STATUS_LOCKED,
		LOGIN_STATUS_BUSY, LOGIN_STATUS_POOL_EXHAUSTED,
	};
	char key[CTLMSG_KEY_MAX + 1];
	unsigned int i, k;

	for (i = 0; i < sizeof(shown) / sizeof(shown[0]); i++) {
		uint64_t n = 0;

		for (k = 0; k < s->admit.n_login_kinds; k++)
			if (s->admit.logins[k].status == shown[i])
				n += s->admit.logins[k].n;
		snprintf(key, sizeof(key), "logins-%s",
			 auth_result_name(shown[i]));
		ctlmsg_put_u64(w, key, n);
	}
}

/* The TUN device's offloads (tunio.h): what the kernel gave, and what
 * they did. */
static void
put_offload(struct server *s, struct ctlmsg_writer *w)
{
	const struct tunio_stats *st = &s->tun.stats;
	char text[TUN_OFFLOAD_STR_LEN];
	unsigned int u;

	ctlmsg_put(w, "tun-offload",
		   s->tun.off.has_vnet ? tun_offload_describe(&s->tun.off, text)
				       : "off");
	ctlmsg_put(w, "tun-coalescing", s->tun.is_coalescing ? "yes" : "no");
	ctlmsg_put_u64(w, "tun-super-read", st->rx_super);
	ctlmsg_put_u64(w, "tun-segments", st->rx_segments);
	ctlmsg_put_u64(w, "tun-csum-completed", st->rx_csum);
	ctlmsg_put_u64(w, "tun-refused", st->rx_refused);
	ctlmsg_put_u64(w, "tun-coalesced-writes", st->tx_coalesced);
	ctlmsg_put_u64(w, "tun-coalesced-packets", st->tx_coalesced_pkts);
	/* And the UDP sockets' (udp.h), the same on both. */
	u = udp_offloads(s->udp.fd4 >= 0 ? s->udp.fd4 : s->udp.fd6);
	ctlmsg_putf(w, "udp-offload", "%s%s%s",
		    u & UDP_OFFLOAD_GSO ? "gso" : "",
		    u == (UDP_OFFLOAD_GSO | UDP_OFFLOAD_GRO) ? " " : "",
		    u & UDP_OFFLOAD_GRO ? "gro" : u ? "" : "off");
}

static bool
cmd_status(struct server *s, const struct ctl_peer *who,
	   const struct ctlmsg *req, struct ctl_ticket t,
	   struct ctlmsg_writer *w)
{
	const struct vpnd_config *c = s->cfg;
	const struct peer_table *pt = &s->peers;
	char text[PREFIX_STR_LEN];

	(void)who;
	(void)req;
	(void)t;
	ctlmsg_put(w, "version", VPN_VERSION);
	ctlmsg_put_u64(w, "pid", (uint64_t)getpid());
	ctlmsg_put_u64(w, "uptime", (s->now_ns - s->started_ns) / NS_PER_S);
	ctlmsg_put(w, "node", s->cluster.node);
	/* Its beat or sessions not recorded (cluster.h): retried. */
	if (s->cluster.store_errno)
		ctlmsg_put(w, "node-error", strerror(s->cluster.store_errno));
	ctlmsg_put_u64(w, "listen-port", c->listen_port);
	ctlmsg_putf(w, "listen", "%s%s%s", s->udp.fd4 >= 0 ? "ipv4" : "",
		    s->udp.fd4 >= 0 && s->udp.fd6 >= 0 ? "," : "",
		    s->udp.fd6 >= 0 ? "ipv6" : "");
	ctlmsg_put(w, "device", s->ifname);
	ctlmsg_put_u64(w, "mtu", s->pmtu.device);
	put_key(w, "public-key", c->public_key);
	if (c->has_pool4)
		ctlmsg_putf(w, "address4", "%s/%u",
			    prefix_format_addr(AF_INET, s->addr4, text),
			    lanmode_tunnel_prefix_len(c, AF_INET));
	if (c->has_pool6)
		ctlmsg_putf(w, "address6", "%s/%u",
			    prefix_format_addr(AF_INET6, s->addr6, text),
			    lanmode_tunnel_prefix_len(c, AF_INET6));
	ctlmsg_put(w, "lan-mode", vpnd_config_lan_mode_name(c->lan_mode));
	if (s->lan.ifname[0])
		ctlmsg_put(w, "lan-interface", s->lan.ifname);
	ctlmsg_put_u64(w, "sessions", pt->n_admitted);
	ctlmsg_put_u64(w, "logging-in", pt->in_login.len);
	ctlmsg_put_u64(w, "handshaking", pt->unconfirmed.len);
	ctlmsg_put_u64(w, "max-peers", pt->max_admitted);
	ctlmsg_put_u64(w, "max-pending", pt->max_pending);
	ctlmsg_put_u64(w, "logins-queued", workers_logins_queued(&s->workers));
	ctlmsg_put(w, "store", s->admit.is_store_down ? "unreachable"
			       : s->admit.store_errno ? "error"
						      : "ok");
	if (s->admit.is_store_down) {
		ctlmsg_put_u64(w, "store-unreachable-since",
			       s->admit.store_down_unix_s);
		ctlmsg_put_u64(w, "store-unreachable-for",
			       (s->now_ns - s->admit.store_down_ns) / NS_PER_S);
	}
	if (s->admit.store_errno)
		ctlmsg_put(w, "store-error", strerror(s->admit.store_errno));
	ctlmsg_put_u64(w, "store-failures", s->admit.store_failures);
	if (s->admit.store_failures)
		ctlmsg_put(w, "store-last-error",
			   strerror(s->admit.store_last_errno));
	put_logins(s, w);
	put_access(s, w);
	put_offload(s, w);
	/* Threads sharing the AEAD, the loop's included (packet-workers). */
	ctlmsg_put_u64(w, "packet-workers", cryptopool_threads(s->pool));
	return answered(w, 0, NULL);
}

/* ---- sessions ---------------------------------------------------------------- */

static const char *
state_name(const struct peer *p)
{
	if (p->login.state == ADMIT_ADMITTED)
		return "admitted";
	if (p->login.state == ADMIT_LOOKUP)
		return "lookup";
	return p->pool == PEER_POOL_LOGIN ? "login" : "handshake";
}

/* A site's subnets, as "192.168.2.0/24,fd00:2::/64". */
static void
put_subnets(struct ctlmsg_writer *w, const struct peer_admission *a)
{
	char list[AUTH_SUBNETS_MAX * (PREFIX_STR_LEN + 1)];
	char text[PREFIX_STR_LEN];
	size_t len = 0;
	unsigned int i;

	list[0] = '\0';
	for (i = 0; i < a->n_subnets; i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
					i ? "," : "",
					prefix_format(&a->subnets[i], text));
	ctlmsg_put(w, "subnets", list);
}

static void
put_session(struct server *s, struct ctlmsg_writer *w, const struct peer *p)
{
	const struct peer_admission *a = &p->login.admission;
	bool admitted = p->login.state == ADMIT_ADMITTED;
	char ep[ENDPOINT_STR_LEN];

	put_key(w, "session", peer_pub(p));
	ctlmsg_put(w, "node", s->cluster.node);
	ctlmsg_put(w, "state", state_name(p));
	if (admitted)
		ctlmsg_put(w, "user", a->username);
	ctlmsg_put(w, "endpoint", endpoint_format(&p->tp.endpoint, ep));
	if (admitted && a->has_addr4)
		put_addr(w, "address4", AF_INET, a->addr4);
	if (admitted && a->has_addr6)
		put_addr(w, "address6", AF_INET6, a->addr6);
	if (admitted && a->n_subnets)
		put_subnets(w, a);
	/* Its tunnel's, by the family it comes over (pmtu.h). */
	if (admitted)
		ctlmsg_put_u64(w, "mtu",
			       pmtu_peer(&s->pmtu,
					 p->tp.endpoint.addr.sa.sa_family));
	if (admitted) {
		uint64_t now = wall_s(s);

		ctlmsg_put_u64(w, "login-time", a->created_unix_s);
		ctlmsg_put_u64(w, "expires", a->expires_unix_s);
		ctlmsg_put(w, "expires-soon",
			   expiry_is_soon(a->expires_unix_s - a->created_unix_s,
					  a->expires_unix_s > now
						  ? a->expires_unix_s - now
						  : 0)
				   ? "true"
				   : "false");
	}
	if (p->tp.last_handshake_wall_ns)
		ctlmsg_put_u64(w, "handshake",
			       p->tp.last_handshake_wall_ns / NS_PER_S);
	ctlmsg_put_u64(w, "rx-bytes", p->tp.rx_bytes);
	ctlmsg_put_u64(w, "tx-bytes", p->tp.tx_bytes);
	ctlmsg_put_u64(w, "rx-packets", p->tp.rx_packets);
	ctlmsg_put_u64(w, "tx-packets", p->tp.tx_packets);
	ctlmsg_put_u64(w, "drop-source", p->login.rx_dropped_source);
	ctlmsg_put_u64(w, "drop-unadmitted", p->login.rx_dropped_unadmitted);
	ctlmsg_put_u64(w, "drop-malformed", p->login.rx_malformed_ctl);
}

static bool
cmd_sessions(struct server *s, const struct ctl_peer *who,
	     const struct ctlmsg *req, struct ctl_ticket t,
	     struct ctlmsg_writer *w)
{
	uint32_t i;

	(void)who;
	(void)req;
	(void)t;
	ctlmsg_put_u64(w, "now", wall_s(s));
	for (i = 0; i < s->peers.capacity && !w->failed; i++)
		if (s->peers.slots[i])
			put_session(s, w, s->peers.slots[i]);
	return answered(w, 0, NULL);
}

/* ---- kick -------------------------------------------------------------------- */

/* user=NAME, key=BASE64 or address=ADDR: exactly one. */
static bool
parse_target(const struct ctlmsg *req, struct auth_target *t,
	     const char **why)
{
	const char *user = ctlmsg_get(req, "user");
	const char *key = ctlmsg_get(req, "key");
	const char *addr = ctlmsg_get(req, "address");

	memset(t, 0, sizeof(*t));
	*why = "give exactly one of user=, key= and address=";
	if ((user != NULL) + (key != NULL) + (addr != NULL) != 1)
		return false;
	if (user) {
		*why = "not a user name";
		t->kind = AUTH_TARGET_USER;
		if (!*user || strlen(user) > LOGIN_USERNAME_MAX)
			return false;
		snprintf(t->user, sizeof(t->user), "%s", user);
		return true;
	}
	if (key) {
		*why = "not a public key";
		t->kind = AUTH_TARGET_KEY;
		return keys_from_base64(t->key, key, strlen(key));
	}
	*why = "not an IPv4 or IPv6 address";
	t->kind = AUTH_TARGET_ADDR;
	t->family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	return inet_pton(t->family, addr, t->addr) == 1;
}

static bool
cmd_kick(struct server *s, const struct ctl_peer *who,
	 const struct ctlmsg *req, struct ctl_ticket t,
	 struct ctlmsg_writer *w)
{
	struct job *j;
	const char *why;

	j = workers_job_get(&s->workers);
	if (!j)
		return answered(w, EBUSY, "vpnd is busy; try again");
	if (!parse_target(req, &j->u.kick.target, &why)) {
		workers_job_put(&s->workers, j);
		return answered(w, EINVAL, why);
	}
	log_notice("control: kick %s%s%s%s%s requested by uid %u pid %d",
		   ctlmsg_get(req, "user") ? "user " : "",
		   ctlmsg_get(req, "user") ? ctlmsg_get(req, "user") : "",
		   ctlmsg_get(req, "key") ? "key " : "",
		   ctlmsg_get(req, "key") ? ctlmsg_get(req, "key") : "",
		   ctlmsg_get(req, "address") ? ctlmsg_get(req, "address") : "",
		   (unsigned int)who->uid, (int)who->pid);
	j->kind = JOB_KICK;
	j->peer_slot = UINT32_MAX;
	j->submitted_ns = s->now_ns;
	j->u.kick.slot = t.slot;
	j->u.kick.generation = t.generation;
	if (workers_submit(&s->workers, j) != SUBMIT_OK)
		return answered(w, EBUSY, "vpnd is busy; try again");
	return false;
}

void
ctlcmd_kick_done(struct server *s, const struct job *j)
{
	struct ctl_ticket t = { j->u.kick.slot, j->u.kick.generation };
	struct ctlmsg_writer w;

	ctlmsg_writer_init(&w, CTLMSG_ANSWER_MAX);
	if (j->store_error < 0) {
		answered(&w, -j->store_error,
			 "the store could not end the admissions");
	} else {
		/* The sessions end as vpnd reads the store's events. */
		ctlmsg_put_u64(&w, "ended", (uint64_t)j->store_error);
		answered(&w, 0, NULL);
	}
	ctl_answer(&s->ctl, t, &w);
}

/* ---- cluster ------------------------------------------------------------------ */

/* Every node sharing the store and their sessions, as the store holds
 * them (cluster.h): answered from a store job. */
static bool
cmd_cluster(struct server *s, const struct ctl_peer *who,
	    const struct ctlmsg *req, struct ctl_ticket t,
	    struct ctlmsg_writer *w)
{
	(void)who;
	(void)req;
	if (cluster_list_submit(s, t) < 0)
		return answered(w, EBUSY, "vpnd is busy; try again");
	return false;
}

/* ---- metrics ------------------------------------------------------------------ */

/* The exposition text (metrics.h), one line= field per line, in order. */
static bool
cmd_metrics(struct server *s, const struct ctl_peer *who,
	    const struct ctlmsg *req, struct ctl_ticket t,
	    struct ctlmsg_writer *w)
{
	struct metrics_snapshot m;
	char *text, *line, *end;
	size_t len;

	(void)who;
	(void)req;
	(void)t;
	exporter_snapshot(s, &m);
	text = metrics_render(&m, &len);
	if (!text)
		return answered(w, ENOMEM, "out of memory");
	for (line = text; *line; line = end + 1) {
		end = strchr(line, '\n');
		if (!end || (size_t)(end - line) > CTLMSG_VALUE_MAX) {
			free(text);
			return answered(w, EMSGSIZE,
					"a metrics line is too long");
		}
		*end = '\0';
		ctlmsg_put(w, "line", line);
	}
	free(text);
	return answered(w, 0, NULL);
}

/* ---- reload ------------------------------------------------------------------- */

/* Re-reads vpnd.conf now (reload.c says what it applied, or the file's
 * problems); answered at once, the file being small and local. */
static bool
cmd_reload(struct server *s, const struct ctl_peer *who,
	   const struct ctlmsg *req, struct ctl_ticket t,
	   struct ctlmsg_writer *w)
{
	char by[64];
	int ret;

	(void)req;
	(void)t;
	snprintf(by, sizeof(by), "vpnctl, uid %u pid %d",
		 (unsigned int)who->uid, (int)who->pid);
	ret = reload_run(s, by, w);
	if (ret == -EINVAL)
		return answered(w, EINVAL, "the file has errors; vpnd keeps "
				"its running configuration");
	if (ret < 0)
		return answered(w, -ret, "vpnd cannot reload now; it keeps "
				"its running configuration");
	return answered(w, 0, NULL);
}

/* ---- dispatch ----------------------------------------------------------------- */

static const struct command commands[] = {
	{ "status", cmd_status },
	{ "sessions", cmd_sessions },
	{ "kick", cmd_kick },
	{ "cluster", cmd_cluster },
	{ "reload", cmd_reload },
	{ "metrics", cmd_metrics },
};

bool
ctlcmd_handle(void *arg, const struct ctl_peer *who, const struct ctlmsg *req,
	      struct ctl_ticket t, struct ctlmsg_writer *answer)
{
	struct server *s = arg;
	const char *name = ctlmsg_get(req, "command");
	size_t i;

	server_clock(s);
	for (i = 0; name && i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return commands[i].run(s, who, req, t, answer);
	return answered(answer, EOPNOTSUPP,
			name ? "unknown command" : "no command");
}
