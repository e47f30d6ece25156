// SPDX-License-Identifier: MIT
/*
 * `vpnctl status`, `vpnctl sessions` and `vpnctl kick`: what the running
 * vpnd says on its control socket (ctlclient.c), as aligned text for
 * people and, with --json, as JSON for scripts, in the spirit of `wg show`
 * and `occtl --json`. Every value came from the network side of vpnd (a
 * user name is what someone typed): text is sanitized for the terminal
 * and escaped in JSON. `vpnctl metrics` prints vpnd's Prometheus text,
 * which vpnd has escaped already (metrics.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "access.h"
#include "cluster.h"
#include "cmd_user.h"
#include "ctlclient.h"
#include "expiry.h"
#include "keys.h"
#include "log.h"
#include "vpnctl.h"

/* Fields whose values are numbers: JSON gets them unquoted. */
static const char *const numeric[] = {
	"pid", "uptime", "listen-port", "sessions", "logging-in",
	"handshaking", "max-peers", "max-pending", "logins-queued", "now",
	"login-time", "expires", "handshake", "rx-bytes", "tx-bytes",
	"rx-packets", "tx-packets", "drop-source", "drop-unadmitted",
	"drop-malformed", "ended", "store-failures", "logins-ok",
	"logins-failed", "logins-locked", "logins-busy",
	"logins-pool-exhausted", "refused", "mtu",
	"tun-super-read", "tun-segments", "tun-csum-completed", "tun-refused",
	"tun-coalesced-writes", "tun-coalesced-packets",
	"since", "node-started", "node-beat", "node-beat-age",
	"store-unreachable-since", "store-unreachable-for",
};

/* Fields that are "true" or "false": JSON booleans. */
static const char *const boolean[] = { "expires-soon" };

static bool
is_in(const char *const *list, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(list[i], key) == 0)
			return true;
	return false;
}

static bool
is_boolean(const char *key, const char *value)
{
	return is_in(boolean, sizeof(boolean) / sizeof(boolean[0]), key) &&
	       (strcmp(value, "true") == 0 || strcmp(value, "false") == 0);
}

static bool
is_numeric(const char *key)
{
	return is_in(numeric, sizeof(numeric) / sizeof(numeric[0]), key);
}

/* Asks vpnd `command` with optional arg=value; *answer on success. */
static int
ask(const char *command, const char *arg, const char *value,
    struct ctlmsg *answer)
{
	const struct vpnd_config *c = vpnctl_config();
	struct ctlmsg_writer w;
	int ret;

	if (!c)
		return VPNCTL_EXIT_FAIL;
	ctlmsg_writer_init(&w, CTLMSG_REQUEST_MAX);
	ctlmsg_put(&w, "command", command);
	if (arg)
		ctlmsg_put(&w, arg, value);
	if (!ctlmsg_finish_request(&w)) {
		ctlmsg_writer_free(&w);
		return vpnctl_error("%s: the request is too long", command);
	}
	ret = ctlclient_call(c->control_socket, &w, answer);
	ctlmsg_writer_free(&w);
	if (ret < 0)
		return VPNCTL_EXIT_FAIL;
	if (ctlclient_failed(answer, command)) {
		ctlmsg_free(answer);
		return VPNCTL_EXIT_FAIL;
	}
	return VPNCTL_EXIT_OK;
}

/* "1.2 MiB" */
static char *
bytes(uint64_t n, char out[32])
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	unsigned int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, 32, "%" PRIu64 " B", n);
	else
		snprintf(out, 32, "%.1f %s", v, unit[u]);
	return out;
}

static uint64_t
num(const char *v)
{
	return v ? strtoull(v, NULL, 10) : 0;
}

/* Sanitized for the terminal; "-" for nothing. */
static const char *
shown(const char *v, char *out, size_t cap)
{
	if (!v || !*v)
		return "-";
	return log_sanitize(out, cap, v, strlen(v));
}

/* ---- JSON --------------------------------------------------------------------- */

static void
json_field(const struct ctlmsg_field *f, bool first)
{
	const char *p;

	printf("%s\"", first ? "" : ", ");
	for (p = f->key; *p; p++)
		putchar(*p == '-' ? '_' : *p);
	printf("\": ");
	if ((is_numeric(f->key) && f->value[0] &&
	     strspn(f->value, "0123456789") == strlen(f->value)) ||
	    is_boolean(f->key, f->value))
		fputs(f->value, stdout);
	else
		vpnctl_json_string(stdout, f->value);
}

/* Fields from i up to (not including) the next `record` key or errno. */
static size_t
json_object(const struct ctlmsg *m, size_t i, const char *record)
{
	const struct ctlmsg_field *f;
	bool first = true;

	putchar('{');
	for (; (f = ctlmsg_field(m, i)); i++) {
		if (strcmp(f->key, "errno") == 0 ||
		    (!first && record && strcmp(f->key, record) == 0))
			break;
		json_field(f, first);
		first = false;
	}
	putchar('}');
	return i;
}

/* ---- status ------------------------------------------------------------------- */

static void
status_text(const struct ctlmsg *m)
{
	char t[64], u[32], k[64], since[CMD_USER_TIME_LEN];
	char span[EXPIRY_SPAN_LEN], down[128] = "";
	const char *a6 = ctlmsg_get(m, "address6");

	printf("vpnd %s, pid %s, up %s\n", shown(ctlmsg_get(m, "version"), t,
						sizeof(t)),
	       ctlmsg_get(m, "pid"), expiry_span(num(ctlmsg_get(m, "uptime")), u));
	if (ctlmsg_get(m, "node"))
		printf("  node:         %s (vpnctl status --cluster: all)\n",
		       shown(ctlmsg_get(m, "node"), t, sizeof(t)));
	if (ctlmsg_get(m, "node-error"))
		printf("  node error:   not recorded in the store: %s\n",
		       shown(ctlmsg_get(m, "node-error"), t, sizeof(t)));
	printf("  listening:    UDP port %s (%s)\n",
	       ctlmsg_get(m, "listen-port"), ctlmsg_get(m, "listen"));
	printf("  device:       %s", shown(ctlmsg_get(m, "device"), t,
					   sizeof(t)));
	if (ctlmsg_get(m, "address4"))
		printf(", %s", ctlmsg_get(m, "address4"));
	if (a6)
		printf(", %s", a6);
	if (ctlmsg_get(m, "mtu"))
		printf("\n  mtu:          %s (the device's)",
		       ctlmsg_get(m, "mtu"));
	printf("\n  public key:   %s\n",
	       shown(ctlmsg_get(m, "public-key"), k, sizeof(k)));
	/* "routed", or "nat on eth1". */
	if (ctlmsg_get(m, "lan-mode"))
		printf("  office LAN:   %s%s%s\n",
		       shown(ctlmsg_get(m, "lan-mode"), t, sizeof(t)),
		       ctlmsg_get(m, "lan-interface") ? " on " : "",
		       ctlmsg_get(m, "lan-interface")
			       ? shown(ctlmsg_get(m, "lan-interface"), u,
				       sizeof(u))
			       : "");
	printf("  sessions:     %s logged in (of %s), %s logging in, %s "
	       "handshaking (of %s)\n",
	       ctlmsg_get(m, "sessions"), ctlmsg_get(m, "max-peers"),
	       ctlmsg_get(m, "logging-in"), ctlmsg_get(m, "handshaking"),
	       ctlmsg_get(m, "max-pending"));
	printf("  login queue:  %s\n", ctlmsg_get(m, "logins-queued"));
	printf("  logins:       %s ok, %s failed, %s locked, %s busy\n",
	       ctlmsg_get(m, "logins-ok"), ctlmsg_get(m, "logins-failed"),
	       ctlmsg_get(m, "logins-locked"), ctlmsg_get(m, "logins-busy"));
	/* "unreachable for 2m 5s (since 2026-01-02T03:04:05Z)" */
	if (ctlmsg_get(m, "store-unreachable-since")) {
		cmd_user_format_time(num(ctlmsg_get(m,
						    "store-unreachable-since")),
				     since);
		snprintf(down, sizeof(down), " for %s (since %s)",
			 expiry_span(num(ctlmsg_get(m, "store-unreachable-for")),
				     span),
			 since);
	}
	printf("  user store:   %s%s%s%s\n", ctlmsg_get(m, "store"), down,
	       ctlmsg_get(m, "store-error") ? ": " : "",
	       ctlmsg_get(m, "store-error") ? shown(ctlmsg_get(m,
							 "store-error"),
						  t, sizeof(t))
					    : "");
	if (num(ctlmsg_get(m, "store-failures")))
		printf("  store errors: %s so far, the last: %s\n",
		       ctlmsg_get(m, "store-failures"),
		       shown(ctlmsg_get(m, "store-last-error"), t, sizeof(t)));
}

/* "  refused:      web 3, client-to-client 1, no-rule 0": the records
 * rule=, refused= that end the answer (ctlcmd.c). */
static void
status_refused(const struct ctlmsg *m)
{
	const struct ctlmsg_field *f, *n;
	char name[ACCESS_NAME_MAX + 1];
	bool first = true;
	size_t i;

	printf("  access:       client-to-client %s\n",
	       shown(ctlmsg_get(m, "client-to-client"), name, sizeof(name)));
	for (i = 0; (f = ctlmsg_field(m, i)); i++) {
		if (strcmp(f->key, "rule") != 0)
			continue;
		n = ctlmsg_field(m, i + 1);
		printf("%s%s %s", first ? "  refused:      " : ", ",
		       shown(f->value, name, sizeof(name)),
		       n && strcmp(n->key, "refused") == 0 ? n->value : "?");
		first = false;
	}
	if (!first)
		putchar('\n');
}

/* The answer as one object, the rule records gathered in a list:
 * "refused": [{"rule": "web", "refused": 3}, ...]. */
static void
status_json(const struct ctlmsg *m)
{
	const struct ctlmsg_field *f, *n;
	bool first = true;
	size_t i;

	putchar('{');
	for (i = 0; (f = ctlmsg_field(m, i)) && strcmp(f->key, "errno"); i++) {
		if (strcmp(f->key, "rule") == 0 || strcmp(f->key, "refused") == 0)
			continue;
		json_field(f, first);
		first = false;
	}
	printf("%s\"refused\": [", first ? "" : ", ");
	first = true;
	for (i = 0; (f = ctlmsg_field(m, i)); i++) {
		if (strcmp(f->key, "rule") != 0)
			continue;
		printf("%s{", first ? "" : ", ");
		json_field(f, true);
		n = ctlmsg_field(m, i + 1);
		if (n && strcmp(n->key, "refused") == 0)
			json_field(n, false);
		putchar('}');
		first = false;
	}
	printf("]}\n");
}

/* What status and sessions were asked for (--cluster: every node's, as
 * the store holds them; --store: read from the store, not vpnd). */
struct live_opts {
	bool json, cluster, from_store;
};

static void
parse_live(int argc, char *argv[], const char *cmd, bool has_cluster,
	   struct live_opts *o, int *status)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "cluster", no_argument, NULL, 'C' },
		{ "store", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *usage = has_cluster ? " [--json] [--cluster [--store]]"
					: " [--json]";
	int c;

	memset(o, 0, sizeof(*o));
	*status = -1;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":jh", opts, NULL)) != -1) {
		if (c == 'j') {
			o->json = true;
		} else if (c == 'C' && has_cluster) {
			o->cluster = true;
		} else if (c == 'S' && has_cluster) {
			o->from_store = true;
		} else if (c == 'h') {
			printf("usage: vpnctl %s%s\n", cmd, usage);
			*status = VPNCTL_EXIT_OK;
		} else {
			vpnctl_error("%s: unknown option '%s' (usage: vpnctl "
				     "%s%s)", cmd, argv[optind - 1], cmd,
				     usage);
			*status = VPNCTL_EXIT_USAGE;
		}
	}
	if (*status < 0 && optind != argc) {
		vpnctl_error("%s: unexpected argument '%s'", cmd, argv[optind]);
		*status = VPNCTL_EXIT_USAGE;
	}
	if (*status < 0 && o->from_store && !o->cluster) {
		vpnctl_error("%s: --store goes with --cluster", cmd);
		*status = VPNCTL_EXIT_USAGE;
	}
}

static bool
want_json(int argc, char *argv[], const char *cmd, int *status)
{
	struct live_opts o;

	parse_live(argc, argv, cmd, false, &o, status);
	return o.json;
}

static int cluster_run(const struct live_opts *o, bool is_sessions);

int
cmd_status(int argc, char *argv[])
{
	struct live_opts o;
	struct ctlmsg m;
	int status;
	bool json;

	parse_live(argc, argv, "status", true, &o, &status);
	if (status >= 0)
		return status;
	if (o.cluster)
		return cluster_run(&o, false);
	json = o.json;
	status = ask("status", NULL, NULL, &m);
	if (status)
		return status;
	if (json) {
		status_json(&m);
	} else {
		status_text(&m);
		status_refused(&m);
	}
	ctlmsg_free(&m);
	return VPNCTL_EXIT_OK;
}

/* ---- sessions ------------------------------------------------------------------ */

struct row {
	const char *key, *node, *user, *state, *endpoint, *addr4, *addr6;
	const char *subnets;
	uint64_t login, expires, handshake, rx, tx, drops, since;
	bool expires_soon;
};

/* The fields of the record starting at i; returns the next record. */
static size_t
read_row(const struct ctlmsg *m, size_t i, struct row *r)
{
	const struct ctlmsg_field *f = ctlmsg_field(m, i);

	memset(r, 0, sizeof(*r));
	r->key = f->value;
	for (i++; (f = ctlmsg_field(m, i)) && strcmp(f->key, "session") &&
		  strcmp(f->key, "errno");
	     i++) {
		const char *k = f->key, *v = f->value;

		if (!strcmp(k, "user"))
			r->user = v;
		else if (!strcmp(k, "node"))
			r->node = v;
		else if (!strcmp(k, "since"))
			r->since = num(v);
		else if (!strcmp(k, "state"))
			r->state = v;
		else if (!strcmp(k, "endpoint"))
			r->endpoint = v;
		else if (!strcmp(k, "address4"))
			r->addr4 = v;
		else if (!strcmp(k, "address6"))
			r->addr6 = v;
		else if (!strcmp(k, "login-time"))
			r->login = num(v);
		else if (!strcmp(k, "expires"))
			r->expires = num(v);
		else if (!strcmp(k, "expires-soon"))
			r->expires_soon = !strcmp(v, "true");
		else if (!strcmp(k, "subnets"))
			r->subnets = v;
		else if (!strcmp(k, "handshake"))
			r->handshake = num(v);
		else if (!strcmp(k, "rx-bytes"))
			r->rx = num(v);
		else if (!strcmp(k, "tx-bytes"))
			r->tx = num(v);
		else if (!strncmp(k, "drop-", 5))
			r->drops += num(v);
	}
	return i;
}

static void
print_row(const struct row *r, uint64_t now)
{
	char user[LOGIN_USERNAME_MAX + 1], ep[64], a[1024], login[32], exp[32];
	char hs[40], rx[32], tx[32], key[64], state[16], nets[900];

	if (r->login)
		expiry_span(now > r->login ? now - r->login : 0, login);
	if (r->expires) {
		expiry_span(r->expires > now ? r->expires - now : 0, exp);
		/* Ends soon: someone must log in again (expiry.h). */
		if (r->expires_soon)
			strcat(exp, " !");
	}
	if (r->handshake)
		snprintf(hs, sizeof(hs), "%s ago",
			 expiry_span(now > r->handshake ? now - r->handshake : 0,
			      rx));
	/* A site's subnets follow its own addresses. */
	snprintf(a, sizeof(a), "%s%s%s%s%s", r->addr4 ? r->addr4 : "",
		 r->addr4 && r->addr6 ? "," : "", r->addr6 ? r->addr6 : "",
		 r->subnets ? "," : "",
		 r->subnets ? shown(r->subnets, nets, sizeof(nets)) : "");
	printf("%-16s %-9s %-22s %-28s %-9s %-9s %-11s %-10s %-10s %-6" PRIu64
	       " %s\n",
	       shown(r->user, user, sizeof(user)),
	       shown(r->state, state, sizeof(state)),
	       shown(r->endpoint, ep, sizeof(ep)), a[0] ? a : "-",
	       r->login ? login : "-", r->expires ? exp : "-",
	       r->handshake ? hs : "-", bytes(r->rx, rx), bytes(r->tx, tx),
	       r->drops, shown(r->key, key, sizeof(key)));
}

/* On stderr, so that the table stays one line per session. */
static void
warn_expiry(const struct row *r, uint64_t now)
{
	char user[LOGIN_USERNAME_MAX + 1], left[32];

	fprintf(stderr,
		"vpnctl: the session of '%s' ends in %s; then it needs a "
		"login with password and code again%s\n",
		shown(r->user, user, sizeof(user)),
		expiry_span(r->expires > now ? r->expires - now : 0, left),
		r->subnets ? " (a person at that site's vpnc)" : "");
}

static void
sessions_text(const struct ctlmsg *m)
{
	uint64_t now = num(ctlmsg_get(m, "now"));
	const struct ctlmsg_field *f;
	struct row r;
	size_t i = 0;

	printf("%-16s %-9s %-22s %-28s %-9s %-9s %-11s %-10s %-10s %-6s %s\n",
	       "USER", "STATE", "ENDPOINT", "ADDRESS", "LOGGED IN", "EXPIRES",
	       "HANDSHAKE", "RX", "TX", "DROPS", "KEY");
	while ((f = ctlmsg_field(m, i))) {
		if (strcmp(f->key, "session") != 0) {
			i++;
			continue;
		}
		i = read_row(m, i, &r);
		print_row(&r, now);
		if (r.expires_soon)
			warn_expiry(&r, now);
	}
}

static void
sessions_json(const struct ctlmsg *m)
{
	const struct ctlmsg_field *f;
	bool first = true;
	size_t i = 0;

	putchar('[');
	while ((f = ctlmsg_field(m, i))) {
		if (strcmp(f->key, "session") != 0) {
			i++;
			continue;
		}
		fputs(first ? "\n  " : ",\n  ", stdout);
		i = json_object(m, i, "session");
		first = false;
	}
	printf("%s]\n", first ? "" : "\n");
}

int
cmd_sessions(int argc, char *argv[])
{
	struct live_opts o;
	struct ctlmsg m;
	int status;
	bool json;

	parse_live(argc, argv, "sessions", true, &o, &status);
	if (status >= 0)
		return status;
	if (o.cluster)
		return cluster_run(&o, true);
	json = o.json;
	status = ask("sessions", NULL, NULL, &m);
	if (status)
		return status;
	if (json)
		sessions_json(&m);
	else
		sessions_text(&m);
	ctlmsg_free(&m);
	return VPNCTL_EXIT_OK;
}

/* ---- cluster ------------------------------------------------------------------ */

/* The cluster from the store itself (vpnctl -d STORE): the answer vpnd
 * would give, made here, so that one printer serves both. */
static int
cluster_from_store(struct ctlmsg *answer)
{
	struct userdb *db = vpnctl_store();
	struct ctlmsg_writer w;
	const char *why;
	int ret;

	if (!db)
		return VPNCTL_EXIT_FAIL;
	ctlmsg_writer_init(&w, CTLMSG_ANSWER_MAX);
	ctlmsg_put_u64(&w, "now", (uint64_t)time(NULL));
	ret = cluster_list_put(db, &w);
	if (ret < 0) {
		ctlmsg_writer_free(&w);
		return vpnctl_error("cannot list the cluster from the store: %s",
				    strerror(-ret));
	}
	if (!ctlmsg_finish(&w, 0, NULL) ||
	    ctlmsg_decode(w.buf, w.len, CTLMSG_ANSWER_MAX, answer, &why) !=
		    CTLMSG_OK) {
		ctlmsg_writer_free(&w);
		return vpnctl_error("the cluster's listing is too large");
	}
	ctlmsg_writer_free(&w);
	return VPNCTL_EXIT_OK;
}

static int
ask_cluster(const struct live_opts *o, struct ctlmsg *answer)
{
	return o->from_store ? cluster_from_store(answer)
			     : ask("cluster", NULL, NULL, answer);
}

/* How many of the listing's sessions `node` holds. */
static uint64_t
node_sessions(const struct ctlmsg *m, const char *node)
{
	const struct ctlmsg_field *f;
	uint64_t n = 0;
	size_t i;

	for (i = 0; (f = ctlmsg_field(m, i)); i++)
		if (strcmp(f->key, "node") == 0 && strcmp(f->value, node) == 0)
			n++;
	return n;
}

/* The node-name= record at i: name and the three numbers after it. */
struct node_row {
	const char *name;
	uint64_t started, beat, age;
};

static size_t
read_node(const struct ctlmsg *m, size_t i, struct node_row *r)
{
	const struct ctlmsg_field *f = ctlmsg_field(m, i);

	memset(r, 0, sizeof(*r));
	r->name = f->value;
	for (i++; (f = ctlmsg_field(m, i)) && !strncmp(f->key, "node-", 5) &&
		  strcmp(f->key, "node-name");
	     i++) {
		if (!strcmp(f->key, "node-started"))
			r->started = num(f->value);
		else if (!strcmp(f->key, "node-beat"))
			r->beat = num(f->value);
		else if (!strcmp(f->key, "node-beat-age"))
			r->age = num(f->value);
	}
	return i;
}

static void
cluster_status_text(const struct ctlmsg *m)
{
	const char *self = ctlmsg_get(m, "this-node");
	uint64_t now = num(ctlmsg_get(m, "now"));
	char name[USERDB_NODE_MAX + 1], up[EXPIRY_SPAN_LEN];
	char age[EXPIRY_SPAN_LEN], beat[EXPIRY_SPAN_LEN + 8];
	const struct ctlmsg_field *f;
	struct node_row r;
	size_t i = 0;

	if (self)
		printf("this node: %s\n", shown(self, name, sizeof(name)));
	printf("%-24s %-10s %-10s %s\n", "NODE", "UP", "LAST BEAT",
	       "SESSIONS");
	while ((f = ctlmsg_field(m, i))) {
		if (strcmp(f->key, "node-name") != 0) {
			i++;
			continue;
		}
		i = read_node(m, i, &r);
		expiry_span(now > r.started ? now - r.started : 0, up);
		snprintf(beat, sizeof(beat), "%s ago", expiry_span(r.age, age));
		printf("%-24s %-10s %-10s %" PRIu64 "\n",
		       shown(r.name, name, sizeof(name)), up, beat,
		       node_sessions(m, r.name));
	}
}

static void
cluster_status_json(const struct ctlmsg *m)
{
	const char *self = ctlmsg_get(m, "this-node");
	const struct ctlmsg_field *f;
	struct node_row r;
	bool first = true;
	size_t i = 0;

	putchar('{');
	if (self) {
		printf("\"this_node\": ");
		vpnctl_json_string(stdout, self);
		printf(", ");
	}
	printf("\"now\": %" PRIu64 ", \"nodes\": [",
	       num(ctlmsg_get(m, "now")));
	while ((f = ctlmsg_field(m, i))) {
		if (strcmp(f->key, "node-name") != 0) {
			i++;
			continue;
		}
		i = read_node(m, i, &r);
		printf("%s{\"name\": ", first ? "" : ", ");
		vpnctl_json_string(stdout, r.name);
		printf(", \"started\": %" PRIu64 ", \"beat\": %" PRIu64
		       ", \"beat_age\": %" PRIu64 ", \"sessions\": %" PRIu64
		       "}",
		       r.started, r.beat, r.age, node_sessions(m, r.name));
		first = false;
	}
	printf("]}\n");
}

/* One line per session of the listing (session= records). */
static void
cluster_sessions_text(const struct ctlmsg *m)
{
	uint64_t now = num(ctlmsg_get(m, "now"));
	char node[USERDB_NODE_MAX + 1], user[LOGIN_USERNAME_MAX + 1];
	char ep[64], key[64], since[EXPIRY_SPAN_LEN], a[128];
	const struct ctlmsg_field *f;
	struct row r;
	size_t i = 0;

	printf("%-16s %-16s %-22s %-28s %-10s %s\n", "NODE", "USER",
	       "ENDPOINT", "ADDRESS", "HERE FOR", "KEY");
	while ((f = ctlmsg_field(m, i))) {
		if (strcmp(f->key, "session") != 0) {
			i++;
			continue;
		}
		i = read_row(m, i, &r);
		snprintf(a, sizeof(a), "%s%s%s", r.addr4 ? r.addr4 : "",
			 r.addr4 && r.addr6 ? "," : "", r.addr6 ? r.addr6 : "");
		expiry_span(now > r.since ? now - r.since : 0, since);
		printf("%-16s %-16s %-22s %-28s %-10s %s\n",
		       shown(r.node, node, sizeof(node)),
		       shown(r.user, user, sizeof(user)),
		       shown(r.endpoint, ep, sizeof(ep)), a[0] ? a : "-",
		       since, shown(r.key, key, sizeof(key)));
	}
}

static int
cluster_run(const struct live_opts *o, bool is_sessions)
{
	struct ctlmsg m;
	int status = ask_cluster(o, &m);

	if (status)
		return status;
	if (is_sessions && o->json)
		sessions_json(&m);
	else if (is_sessions)
		cluster_sessions_text(&m);
	else if (o->json)
		cluster_status_json(&m);
	else
		cluster_status_text(&m);
	ctlmsg_free(&m);
	return VPNCTL_EXIT_OK;
}

/* ---- kick ------------------------------------------------------------------------ */

/* An address, a client's public key, or else a user name. */
static const char *
target_kind(const char *t)
{
	uint8_t buf[32];

	if (inet_pton(AF_INET, t, buf) == 1 || inet_pton(AF_INET6, t, buf) == 1)
		return "address";
	if (strlen(t) == KEY_B64_LEN && keys_from_base64(buf, t, strlen(t)))
		return "key";
	return "user";
}

int
cmd_kick(int argc, char *argv[])
{
	char shown_target[LOGIN_USERNAME_MAX * 4 + 1];
	struct ctlmsg m;
	const char *kind;
	uint64_t n;
	int status;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: vpnctl kick USER|KEY|ADDRESS\n");
		return VPNCTL_EXIT_USAGE;
	}
	kind = target_kind(argv[1]);
	log_sanitize(shown_target, sizeof(shown_target), argv[1],
		     strlen(argv[1]));
	status = ask("kick", kind, argv[1], &m);
	if (status)
		return status;
	n = num(ctlmsg_get(&m, "ended"));
	ctlmsg_free(&m);
	if (n == 0)
		return vpnctl_error("kick: %s %s has no session to end", kind,
				    shown_target);
	printf("ended %" PRIu64 " session%s of %s %s\n", n, n == 1 ? "" : "s",
	       kind, shown_target);
	return VPNCTL_EXIT_OK;
}

/* ---- metrics ---------------------------------------------------------------------- */

int
cmd_metrics(int argc, char *argv[])
{
	const struct ctlmsg_field *f;
	struct ctlmsg m;
	size_t i;
	int status;

	if (argc == 2 &&
	    (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("usage: vpnctl metrics\n");
		return VPNCTL_EXIT_OK;
	}
	if (argc != 1) {
		fprintf(stderr, "usage: vpnctl metrics\n");
		return VPNCTL_EXIT_USAGE;
	}
	status = ask("metrics", NULL, NULL, &m);
	if (status)
		return status;
	/* vpnd escaped the text for Prometheus already; print it as it is. */
	for (i = 0; (f = ctlmsg_field(&m, i)); i++)
		if (strcmp(f->key, "line") == 0)
			printf("%s\n", f->value);
	ctlmsg_free(&m);
	return VPNCTL_EXIT_OK;
}

/* ---- reload ----------------------------------------------------------------------- */

/* The values of every `key` field, as a JSON array. */
static void
json_list(const struct ctlmsg *m, const char *key)
{
	const struct ctlmsg_field *f;
	bool first = true;
	size_t i;

	putchar('[');
	for (i = 0; (f = ctlmsg_field(m, i)); i++) {
		if (strcmp(f->key, key) != 0)
			continue;
		fputs(first ? "" : ", ", stdout);
		vpnctl_json_string(stdout, f->value);
		first = false;
	}
	putchar(']');
}

/* "a, b, c" of every `key` field, sanitized; false if there is none. */
static bool
text_list(const struct ctlmsg *m, const char *key, const char *head)
{
	const struct ctlmsg_field *f;
	char shown_value[CTLMSG_VALUE_MAX + 1];
	bool first = true;
	size_t i;

	for (i = 0; (f = ctlmsg_field(m, i)); i++) {
		if (strcmp(f->key, key) != 0)
			continue;
		printf("%s%s", first ? head : ", ",
		       shown(f->value, shown_value, sizeof(shown_value)));
		first = false;
	}
	if (!first)
		putchar('\n');
	return !first;
}

static void
reload_json(const struct ctlmsg *m, bool ok)
{
	printf("{\"reloaded\": %s, ", ok ? "true" : "false");
	if (ctlmsg_get(m, "file")) {
		printf("\"file\": ");
		vpnctl_json_string(stdout, ctlmsg_get(m, "file"));
		printf(", ");
	}
	printf("\"applied\": ");
	json_list(m, "applied");
	printf(", \"restart\": ");
	json_list(m, "restart");
	printf(", \"problems\": ");
	json_list(m, "problem");
	if (!ok) {
		printf(", \"error\": ");
		vpnctl_json_string(stdout, ctlmsg_get(m, "error")
						   ? ctlmsg_get(m, "error")
						   : "vpnd refused");
	}
	printf("}\n");
}

static void
reload_text(const struct ctlmsg *m)
{
	char file[CTLMSG_VALUE_MAX + 1];
	bool any;

	printf("vpnd reloaded %s\n", shown(ctlmsg_get(m, "file"), file,
					   sizeof(file)));
	any = text_list(m, "applied", "  applied:         ");
	if (text_list(m, "restart", "  needs a restart: "))
		printf("  (vpnd runs on with the old values of those)\n");
	else if (!any)
		printf("  nothing changed\n");
}

int
cmd_reload(int argc, char *argv[])
{
	const struct vpnd_config *c = vpnctl_config();
	char line[CTLMSG_VALUE_MAX + 1];
	const struct ctlmsg_field *f;
	struct ctlmsg_writer w;
	struct ctlmsg m;
	int status;
	bool json = want_json(argc, argv, "reload", &status), ok;
	size_t i;

	if (status >= 0)
		return status;
	/* The file names the socket: a file vpnctl cannot read is one vpnd
	 * would refuse too, and vpnctl has just said why. */
	if (!c)
		return vpnctl_error("reload: vpnd was not asked; it keeps its "
				    "running configuration");
	ctlmsg_writer_init(&w, CTLMSG_REQUEST_MAX);
	ctlmsg_put(&w, "command", "reload");
	if (!ctlmsg_finish_request(&w)) {
		ctlmsg_writer_free(&w);
		return vpnctl_error("reload: the request is too long");
	}
	status = ctlclient_call(c->control_socket, &w, &m);
	ctlmsg_writer_free(&w);
	if (status < 0)
		return VPNCTL_EXIT_FAIL;
	ok = ctlmsg_get(&m, "errno") && !strcmp(ctlmsg_get(&m, "errno"), "0");
	if (json) {
		reload_json(&m, ok);
	} else if (ok) {
		reload_text(&m);
	} else {
		/* file:line: what is wrong, as vpnd -t says it. */
		for (i = 0; (f = ctlmsg_field(&m, i)); i++)
			if (strcmp(f->key, "problem") == 0)
				fprintf(stderr, "%s\n",
					shown(f->value, line, sizeof(line)));
		ctlclient_failed(&m, "reload");
	}
	ctlmsg_free(&m);
	return ok ? VPNCTL_EXIT_OK : VPNCTL_EXIT_FAIL;
}

void
cmd_live_usage(FILE *f)
{
	fprintf(f,
		"  status [--json]       the running vpnd: addresses, key, "
		"sessions, store\n"
		"  sessions [--json]     every client: user, endpoint, "
		"addresses, times, traffic\n"
		"    --cluster [--store] every node sharing the store, from "
		"vpnd (or the store)\n"
		"  kick USER|KEY|ADDRESS end that login now (the client is "
		"told why)\n"
		"  reload [--json]       vpnd re-reads vpnd.conf: what it "
		"applied, what needs a restart\n"
		"  metrics               counters and gauges, in Prometheus's "
		"text format\n");
}
