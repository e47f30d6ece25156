// SPDX-License-Identifier: MIT
/*
 * vpnd.conf (see config.h): the libconfuse schema, the copy into struct
 * vpnd_config, the cross-field checks and the key files. Defaults live in
 * vpnd_config_defaults() alone, so every option is CFGF_NODEFAULT and "not
 * in the file" is simply "not copied". Nothing here touches the network
 * or the TUN device; nothing outside this file sees the cfg_t.
 */
#include "config.h"

#include <arpa/inet.h>
#include <confuse.h>
#include <errno.h>
#include <grp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "access.h"
#include "aead.h"
#include "cryptopool.h"
#include "dnsname.h"
#include "login.h"
#include "password.h"
#include "tunnel.h"
#include "userdb.h"

#define NUM(name, lo, hi, unit_ms, field)                                   \
	{ name, lo, hi, unit_ms, offsetof(struct vpnd_config, field),      \
	  sizeof(((struct vpnd_config *)0)->field) }

#define DAY_S (24 * 3600)
#define ISSUER_SIZE sizeof(((struct vpnd_config *)0)->totp_issuer)
#define GROUP_SIZE sizeof(((struct vpnd_config *)0)->control_group)

/* Every numeric option: its range, in the unit of its field. */
static const struct conf_number numbers[] = {
	NUM("listen-port", 1, 65535, 0, listen_port),
	NUM("max-peers", 1, 65536, 0, max_peers),
	NUM("max-pending", 1, 65536, 0, max_pending),
	NUM("max-pending-per-source", 1, 65536, 0, max_pending_per_source),
	NUM("auth-workers", 1, 64, 0, auth_workers),
	NUM("keepalive", 0, 3600, 1000, keepalive_s),
	NUM("session-lifetime", 10, 30 * DAY_S, 1000, session_lifetime_s),
	NUM("totp-window", 0, 10, 0, totp_window),
	NUM("lockout-failures", 1, 100, 0, lockout_failures),
	NUM("lockout-time", 1, DAY_S, 1000, lockout_time_s),
	NUM("lockout-max-time", 1, 30 * DAY_S, 1000, lockout_max_time_s),
	NUM("failure-delay", 0, 10000, 1, failure_delay_ms),
	NUM("auth-queue", 1, 4096, 0, auth_queue),
	NUM("auth-per-source", 1, 4096, 0, auth_per_source),
	NUM("lockout-source-decay", 1, 30 * DAY_S, 1000, lockout_source_decay_s),
	NUM("handshake-rate", 1, 1000000, 0, handshake_rate),
	NUM("source-handshake-rate", 0, 1000000, 0, source_handshake_rate),
	NUM("metrics-interval", 1, 3600, 1000, metrics_interval_s),
	NUM("test-timer-divisor", 1, 1000, 0, test_timer_divisor),
	NUM("busy-poll", 0, 1000, 0, busy_poll_us),
	NUM("password-min-length", 1, LOGIN_TEXT_MAX, 0, password_min_length),
	NUM("password-min-score", 0, PASSWORD_SCORE_MAX, 0, password_min_score),
	{ NULL, 0, 0, 0, 0, 0 },
};

static int
cb_number(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	return conf_number_parse(cfg, opt, value, result,
				 conf_number_find(numbers, opt->name));
}

/* mtu: "auto" (0 in the struct: vpnd asks its default routes, pmtu.h) or
 * a number in this range, checked apart from the other numbers. */
static const struct conf_number mtu_number[] = {
	NUM("mtu", TUNNEL_MTU_MIN, TUNNEL_MTU_MAX, 0, mtu),
	{ NULL, 0, 0, 0, 0, 0 },
};

static int
cb_mtu(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	return conf_number_or_auto_parse(cfg, opt, value, result, mtu_number);
}

/* packet-workers: "auto" (0 in the struct: one per CPU, server.c) or a
 * number of threads in this range (cryptopool.h). */
static const struct conf_number workers_number[] = {
	NUM("packet-workers", 1, CRYPTOPOOL_MAX_THREADS, 0, packet_workers),
	{ NULL, 0, 0, 0, 0, 0 },
};

static int
cb_packet_workers(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	return conf_number_or_auto_parse(cfg, opt, value, result,
					 workers_number);
}

static int
cb_domain(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	if (!dnsname_valid((const uint8_t *)value, strlen(value)))
		return conf_value_error(cfg, opt, result,
					"%s is not a domain name (letters, "
					"digits, '-' and dots)", value);
	return conf_cb_string(cfg, opt, value, result);
}

/* A group that exists here: its members may use vpnctl's live commands. */
static int
cb_group(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	if (!*value || strlen(value) >= GROUP_SIZE || !getgrnam(value))
		return conf_value_error(cfg, opt, result,
					"%s is not a group on this system",
					value);
	return conf_cb_string(cfg, opt, value, result);
}

/* A user name as useradd takes it. Whether it exists is vpnd's to
 * check at start: vpnd -t and vpnctl may run where it does not. */
static int
cb_user(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	size_t len = strlen(value);

	if (len == 0 || len > VPND_USER_LEN || value[0] == '-' ||
	    strspn(value, "abcdefghijklmnopqrstuvwxyz"
			   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != len)
		return conf_value_error(cfg, opt, result,
					"%s is not a user name (\"root\" keeps "
					"vpnd running as root)", value);
	return conf_cb_string(cfg, opt, value, result);
}

/* A store's name (userdb.h): never one with a password, which this file
 * would show to everyone who can read it. The reason never quotes it. */
static int
cb_store(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	const char *why;

	if (strlen(value) >= PATH_MAX)
		return conf_value_error(cfg, opt, result,
					"the store's name is too long");
	if (userdb_spec_check(value, &why) < 0)
		return conf_value_error(cfg, opt, result, "%s", why);
	return conf_cb_string(cfg, opt, value, result);
}

/* A node's name (cluster.h): shown in listings and metrics labels, so a
 * host name's characters only. */
static bool
node_name_valid(const char *value)
{
	size_t len = strlen(value);

	return len > 0 && len <= VPND_NODE_NAME_LEN && value[0] != '-' &&
	       value[0] != '.' &&
	       strspn(value, "abcdefghijklmnopqrstuvwxyz"
			     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == len;
}

/*
 * The default node name. Asked once, at start: a reload parses the file
 * again under the system call allow-list, which has no uname(2). A host
 * name that cannot name a node (too long) gives "vpnd".
 */
static const char *
host_name(void)
{
	static char name[VPND_NODE_NAME_LEN + 1];

	if (name[0])
		return name;
	if (gethostname(name, sizeof(name)) < 0 ||
	    !memchr(name, '\0', sizeof(name)) || !node_name_valid(name))
		snprintf(name, sizeof(name), "vpnd");
	return name;
}

static int
cb_node_name(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	if (!node_name_valid(value))
		return conf_value_error(cfg, opt, result,
					"%s is not a node name (1-%d letters, "
					"digits, '.', '_' and '-')",
					value, VPND_NODE_NAME_LEN);
	return conf_cb_string(cfg, opt, value, result);
}

/* It becomes the issuer of otpauth:// URIs, where ':' separates fields. */
static int
cb_issuer(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	size_t len = strlen(value), i;
	bool ok = len > 0 && len < ISSUER_SIZE &&
		  login_utf8_valid((const uint8_t *)value, len);

	for (i = 0; ok && i < len; i++)
		if ((unsigned char)value[i] < 0x20 || value[i] == 0x7f ||
		    value[i] == ':')
			ok = false;
	if (!ok)
		return conf_value_error(cfg, opt, result,
					"%s is not a valid issuer (1-63 bytes "
					"of UTF-8 text, no ':')", value);
	return conf_cb_string(cfg, opt, value, result);
}

/* ---- the office LAN --------------------------------------------------------- */

static const char *const lan_modes[] = {
	[VPND_LAN_ROUTED] = "routed",
	[VPND_LAN_NAT] = "nat",
	[VPND_LAN_PROXY_ARP] = "proxy-arp",
};
#define N_LAN_MODES (sizeof(lan_modes) / sizeof(lan_modes[0]))

const char *
vpnd_config_lan_mode_name(enum vpnd_lan_mode mode)
{
	return (size_t)mode < N_LAN_MODES ? lan_modes[mode] : "?";
}

static bool
lan_mode_parse(const char *text, enum vpnd_lan_mode *out)
{
	size_t i;

	for (i = 0; i < N_LAN_MODES; i++)
		if (strcmp(text, lan_modes[i]) == 0) {
			*out = (enum vpnd_lan_mode)i;
			return true;
		}
	return false;
}

static int
cb_lan_mode(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	enum vpnd_lan_mode mode;

	if (!lan_mode_parse(value, &mode))
		return conf_value_error(cfg, opt, result,
					"%s is not a LAN mode (routed, nat or "
					"proxy-arp)", value);
	return conf_cb_string(cfg, opt, value, result);
}

static bool
copy_lan(cfg_t *cfg, struct vpnd_config *c)
{
	if (cfg_size(cfg, "lan-mode"))
		/* cb_lan_mode has parsed it once already. */
		lan_mode_parse(cfg_getstr(cfg, "lan-mode"), &c->lan_mode);
	return conf_copy_string(cfg, &c->lines, "lan-interface",
				c->lan_interface, sizeof(c->lan_interface));
}

/* ---- the transport AEAD ----------------------------------------------------- */

static bool
copy_aead(cfg_t *cfg, struct vpnd_config *c)
{
	if (cfg_size(cfg, "aead") == 0)
		return true;
	/* conf_cb_aead has parsed it once already. */
	return aead_backend_parse(cfg_getstr(cfg, "aead"), &c->aead);
}

/* ---- who may reach what: client-to-client, groups, access rules ------------ */

/*
 * Where the lists of the group and access sections were, for the checks
 * made once the whole file is read (a group a rule names must exist):
 * libconfuse keeps only a section's last line. Filled while parsing,
 * emptied by load().
 */
struct sec_line {
	const cfg_t *sec;
	char option[8];  /* "users", "groups", "allow" */
	unsigned int index;
	int line;
};

static struct {
	struct sec_line *v;
	size_t n, cap;
} sec_lines;

static void
sec_lines_clear(void)
{
	free(sec_lines.v);
	memset(&sec_lines, 0, sizeof(sec_lines));
}

/* Out of memory, a message later goes without its line: no harm. */
static void
sec_line_record(cfg_t *sec, cfg_opt_t *opt)
{
	struct sec_line *v;

	if (sec_lines.n == sec_lines.cap) {
		size_t cap = sec_lines.cap ? sec_lines.cap * 2 : 64;

		v = realloc(sec_lines.v, cap * sizeof(*v));
		if (!v)
			return;
		sec_lines.v = v;
		sec_lines.cap = cap;
	}
	v = &sec_lines.v[sec_lines.n++];
	v->sec = sec;
	snprintf(v->option, sizeof(v->option), "%s", opt->name);
	v->index = opt->nvalues ? opt->nvalues - 1 : 0;
	v->line = sec->line;
}

/* The line of an element of a section's list; option NULL: the section's
 * first line known; else its last (the closing brace). */
static int
sec_line(const cfg_t *sec, const char *option, unsigned int index)
{
	int line = 0;
	size_t i;

	for (i = 0; i < sec_lines.n; i++) {
		const struct sec_line *l = &sec_lines.v[i];

		if (l->sec != sec)
			continue;
		if (option && strcmp(l->option, option) == 0 && l->index == index)
			return l->line;
		if (!option && (!line || l->line < line))
			line = l->line;
	}
	return line ? line : sec->line;
}

/* "file:line: access "name": option: message" on stderr; false. */
static bool __attribute__((format(printf, 5, 6)))
sec_error(const struct vpnd_config *c, cfg_t *sec, const char *option,
	  unsigned int index, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: %s \"%s\": ", c->path,
		sec_line(sec, option, index), sec->name, cfg_title(sec));
	if (option)
		fprintf(stderr, "%s: ", option);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return false;
}

/* A user's name in a list (vpnctl's names), or a group's. */
static int
cb_name(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	if (!access_name_valid(value))
		return conf_value_error(cfg, opt, result,
					"\"%s\" is not a name (1-%d letters, "
					"digits and . _ @ + -)", value,
					ACCESS_NAME_MAX);
	sec_line_record(cfg, opt);
	return conf_cb_string(cfg, opt, value, result);
}

static int
cb_allow(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	struct access_item items[ACCESS_ITEMS_MAX];
	struct prefix p;
	uint32_t n;
	char why[160];

	if (!access_allow_parse(value, &p, items, &n, why, sizeof(why)))
		return conf_value_error(cfg, opt, result, "\"%s\": %s", value,
					why);
	/* The first is enough to place the section. */
	if (opt->nvalues == 1)
		sec_line_record(cfg, opt);
	return conf_cb_string(cfg, opt, value, result);
}

static cfg_opt_t group_schema[] = {
	CFG_STR_LIST_CB("users", NULL, CFGF_NODEFAULT, cb_name),
	CFG_END(),
};

static cfg_opt_t access_schema[] = {
	CFG_STR_LIST_CB("users", NULL, CFGF_NODEFAULT, cb_name),
	CFG_STR_LIST_CB("groups", NULL, CFGF_NODEFAULT, cb_name),
	CFG_STR_LIST_CB("allow", NULL, CFGF_NODEFAULT, cb_allow),
	CFG_END(),
};

/* A list's values, as pointers into the cfg_t; NULL if out of memory. */
static const char **
list_of(cfg_t *sec, const char *option, uint32_t *n)
{
	const char **v;
	uint32_t i;

	*n = cfg_size(sec, option);
	v = calloc(*n ? *n : 1, sizeof(*v));
	for (i = 0; v && i < *n; i++)
		v[i] = cfg_getnstr(sec, option, i);
	return v;
}

static bool
title_ok(const struct vpnd_config *c, cfg_t *sec)
{
	const char *name = cfg_title(sec);

	if (!access_name_valid(name))
		return sec_error(c, sec, NULL, 0, "not a name (1-%d letters, "
				 "digits and . _ @ + -)", ACCESS_NAME_MAX);
	if (strcmp(sec->name, "access") == 0 &&
	    (strcmp(name, ACCESS_CLIENT_TO_CLIENT) == 0 ||
	     strcmp(name, ACCESS_NO_RULE) == 0))
		return sec_error(c, sec, NULL, 0, "the name is vpnd's own "
				 "(status and metrics count refusals under "
				 "it): choose another");
	return true;
}

static bool
limit_error(const struct vpnd_config *c, cfg_t *sec, int err)
{
	if (err == -ENOMEM)
		return sec_error(c, sec, NULL, 0, "out of memory");
	return sec_error(c, sec, NULL, 0, "too many: at most %d rules, %d "
			 "groups, %d allow entries and %d names in all",
			 ACCESS_RULES_MAX, ACCESS_GROUPS_MAX, ACCESS_ALLOWS_MAX,
			 ACCESS_NAMES_MAX);
}

static bool
copy_group_section(struct vpnd_config *c, cfg_t *sec)
{
	const char **users;
	uint32_t n;
	int ret;

	if (!title_ok(c, sec))
		return false;
	users = list_of(sec, "users", &n);
	ret = users ? access_config_add_group(c->access, cfg_title(sec), users,
					      n)
		    : -ENOMEM;
	free(users);
	return ret == 0 || limit_error(c, sec, ret);
}

/* The rule's groups exist; it names someone. */
static bool
check_rule_section(struct vpnd_config *c, cfg_t *sec)
{
	unsigned int i, n = cfg_size(sec, "groups");
	bool ok = true;

	for (i = 0; i < n; i++)
		if (!access_config_group(c->access, cfg_getnstr(sec, "groups", i)))
			ok = sec_error(c, sec, "groups", i, "\"%s\" is not a "
				       "group (no group \"%s\" { ... } section)",
				       cfg_getnstr(sec, "groups", i),
				       cfg_getnstr(sec, "groups", i));
	if (!n && !cfg_size(sec, "users"))
		ok = sec_error(c, sec, NULL, 0, "names no users and no groups: "
			       "it would apply to nobody");
	return ok;
}

static bool
copy_rule_section(struct vpnd_config *c, cfg_t *sec)
{
	struct access_item items[ACCESS_ITEMS_MAX];
	const char **users = NULL, **groups = NULL;
	uint32_t n_users, n_groups, n, i;
	struct prefix p;
	char why[160];
	int ret = -ENOMEM;

	if (!title_ok(c, sec) || !check_rule_section(c, sec))
		return false;
	users = list_of(sec, "users", &n_users);
	groups = list_of(sec, "groups", &n_groups);
	if (users && groups)
		ret = access_config_add_rule(c->access, cfg_title(sec), users,
					     n_users, groups, n_groups);
	free(users);
	free(groups);
	for (i = 0; ret == 0 && i < cfg_size(sec, "allow"); i++)
		/* cb_allow has parsed it once already. */
		if (access_allow_parse(cfg_getnstr(sec, "allow", i), &p, items,
				       &n, why, sizeof(why)))
			ret = access_config_add_allow(c->access, &p, items, n);
	return ret == 0 || limit_error(c, sec, ret);
}

static bool
copy_access(cfg_t *cfg, struct vpnd_config *c)
{
	unsigned int n_groups = cfg_size(cfg, "group");
	unsigned int n_rules = cfg_size(cfg, "access"), i;
	bool ok = true;

	if (cfg_size(cfg, "client-to-client"))
		c->client_to_client =
			strcmp(cfg_getstr(cfg, "client-to-client"), "yes") == 0;
	if (!n_groups && !n_rules)
		return true;
	c->access = access_config_new();
	if (!c->access) {
		fprintf(stderr, "%s: access: out of memory\n", c->path);
		return false;
	}
	for (i = 0; i < n_groups; i++)
		ok &= copy_group_section(c, cfg_getnsec(cfg, "group", i));
	/* Rules after every group: a rule may name a group defined below. */
	for (i = 0; i < n_rules; i++)
		ok &= copy_rule_section(c, cfg_getnsec(cfg, "access", i));
	return ok;
}

/* ---- metrics ------------------------------------------------------------- */

/* "9108" (on 127.0.0.1), "127.0.0.1:9108" or "[::1]:9108"; no names. */
static bool
parse_listen(const char *text, struct sockaddr_storage *out)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)out;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
	const char *host = "127.0.0.1", *port = text, *end;
	char buf[INET6_ADDRSTRLEN];
	int family = AF_INET;
	size_t len;
	unsigned long n;

	memset(out, 0, sizeof(*out));
	if (text[0] == '[') {
		end = strchr(text, ']');
		if (!end || end[1] != ':')
			return false;
		family = AF_INET6;
		host = text + 1;
		port = end + 2;
	} else if ((end = strchr(text, ':'))) {
		/* An IPv6 address needs its brackets to be told from a port. */
		if (strchr(end + 1, ':'))
			return false;
		host = text;
		port = end + 1;
	}
	if (port != text) {
		len = (size_t)(end - host);
		if (len >= sizeof(buf))
			return false;
		memcpy(buf, host, len);
		buf[len] = '\0';
		host = buf;
	}
	len = strlen(port);
	if (len < 1 || len > 5 || strspn(port, "0123456789") != len)
		return false;
	n = strtoul(port, NULL, 10);
	if (n < 1 || n > 65535)
		return false;
	out->ss_family = (sa_family_t)family;
	if (family == AF_INET6) {
		in6->sin6_port = htons((uint16_t)n);
		return inet_pton(AF_INET6, host, &in6->sin6_addr) == 1;
	}
	in4->sin_port = htons((uint16_t)n);
	return inet_pton(AF_INET, host, &in4->sin_addr) == 1;
}

static int
cb_listen(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	struct sockaddr_storage ss;

	if (!parse_listen(value, &ss))
		return conf_value_error(cfg, opt, result,
					"%s is not an address and port (such "
					"as 9108, 127.0.0.1:9108 or "
					"[::1]:9108)", value);
	return conf_cb_string(cfg, opt, value, result);
}

/* node_exporter's textfile collector reads only *.prom files; the
 * temporary file beside it needs a few more bytes of name. */
static int
cb_textfile(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	size_t len = strlen(value);

	if (value[0] != '/')
		return conf_value_error(cfg, opt, result,
					"%s is not an absolute path", value);
	if (len < 6 || strcmp(value + len - 5, ".prom") != 0 ||
	    value[len - 6] == '/')
		return conf_value_error(cfg, opt, result,
					"%s does not end in a name.prom "
					"(node_exporter reads only those)",
					value);
	if (len >= PATH_MAX - 16 || strchr(value, '\n'))
		return conf_value_error(cfg, opt, result,
					"the file name is too long or holds a "
					"newline");
	return conf_cb_string(cfg, opt, value, result);
}

static bool
copy_metrics(cfg_t *cfg, struct vpnd_config *c)
{
	if (cfg_size(cfg, "metrics-listen"))
		/* cb_listen has parsed it once already. */
		c->has_metrics_listen = parse_listen(
			cfg_getstr(cfg, "metrics-listen"), &c->metrics_listen);
	return conf_copy_string(cfg, &c->lines, "metrics-textfile",
				c->metrics_textfile,
				sizeof(c->metrics_textfile));
}

static cfg_opt_t schema[] = {
	CFG_STR_CB("interface", NULL, CFGF_NODEFAULT, conf_cb_ifname),
	CFG_INT_CB("listen-port", 0, CFGF_NODEFAULT, cb_number),
	CFG_STR_CB("private-key-file", NULL, CFGF_NODEFAULT, conf_cb_path),
	CFG_STR_CB("preshared-key-file", NULL, CFGF_NODEFAULT, conf_cb_path),
	CFG_INT_CB("mtu", 0, CFGF_NODEFAULT, cb_mtu),
	CFG_STR_CB("address-pool4", NULL, CFGF_NODEFAULT, conf_cb_prefix),
	CFG_STR_CB("address-pool6", NULL, CFGF_NODEFAULT, conf_cb_prefix),
	CFG_STR_CB("user-db", NULL, CFGF_NODEFAULT, cb_store),
	CFG_STR_CB("control-socket", NULL, CFGF_NODEFAULT, conf_cb_path),
	CFG_STR_CB("node-name", NULL, CFGF_NODEFAULT, cb_node_name),
	CFG_STR_CB("control-group", NULL, CFGF_NODEFAULT, cb_group),
	CFG_STR_CB("user", NULL, CFGF_NODEFAULT, cb_user),
	CFG_INT_CB("max-peers", 0, CFGF_NODEFAULT, cb_number),
	CFG_INT_CB("max-pending", 0, CFGF_NODEFAULT, cb_number),
	CFG_INT_CB("max-pending-per-source", 0, CFGF_NODEFAULT, cb_number),
	CFG_INT_CB("auth-workers", 0, CFGF_NODEFAULT, cb_number),
	CFG_STR_CB("aead", NULL, CFGF_NODEFAULT, conf_cb_aead),
	CFG_STR_CB("offload", NULL, CFGF_NODEFAULT, conf_cb_yes_no),
	CFG_INT_CB("busy-poll", 0, CFGF_NODEFAULT, cb_number),
	CFG_INT_CB("packet-workers", 0, CFGF_NODEFAULT, cb_packet_workers),
	CFG_STR_CB("lan-mode", NULL, CFGF_NODEFAULT, cb_lan_mode),
	CFG_STR_CB("lan-interface", NULL, CFGF_NODEFAULT, conf_cb_ifname),
	CFG_STR_LIST_CB("routes", NULL, CFGF_NODEFAULT, conf_cb_prefix),
	CFG_STR_LIST_CB("dns", NULL, CFGF_NODEFAULT, conf_cb_address),
	CFG_STR_LIST_CB("dns-search", NULL, CFGF_NODEFAULT, cb_domain),
	CFG_INT_CB("keepalive", 0, CFGF_NODEFAULT, cb_number),
	CFG_STR_CB("client-to-client", NULL, CFGF_NODEFAULT, conf_cb_yes_no),
	CFG_SEC("group", group_schema,
		CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	CFG_SEC("access", access_schema,
		CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	CFG_INT_CB("session-lifetime", 0, CFGF_NODEFAULT, cb_number),
	CFG_INT_CB("totp-window", 0, CFGF_NODEFAULT, cb_number),
	CFG_INT_CB("lockout-failures", 0, CFGF_NODEFAULT, cb_number),
	CFG_INT_CB("lockout-time", 0, CFGF_NODEFAULT, cb_number),
	CFG_INT_CB("lockout-max-time", 0, CFGF_NODEFAULT, cb_number),
	CFG_INT_CB("failure-delay", 0, CFGF_NODEFAULT, cb_number),
	CFG_INT_CB("auth-queue", 0, CFGF_NODEFAULT, cb_number),
	CFG_INT_CB("auth-per-source", 0, CFGF_NODEFAULT, cb_number),
	CFG_INT_CB("lockout-source-decay", 0, CFGF_NODEFAULT, cb_number),
	CFG_STR_CB("totp-issuer", NULL, CFGF_NODEFAULT, cb_issuer),
	CFG_INT_CB("password-min-length", 0, CFGF_NODEFAULT, cb_number),
	CFG_INT_CB("password-min-score", 0, CFGF_NODEFAULT, cb_number),
	CFG_INT_CB("handshake-rate", 0, CFGF_NODEFAULT, cb_number),
	CFG_INT_CB("source-handshake-rate", 0, CFGF_NODEFAULT, cb_number),
	CFG_STR_CB("log", NULL, CFGF_NODEFAULT, conf_cb_log),
	CFG_STR_CB("log-level", NULL, CFGF_NODEFAULT, conf_cb_log_level),
	CFG_STR_CB("metrics-listen", NULL, CFGF_NODEFAULT, cb_listen),
	CFG_STR_CB("metrics-textfile", NULL, CFGF_NODEFAULT, cb_textfile),
	CFG_INT_CB("metrics-interval", 0, CFGF_NODEFAULT, cb_number),
	CFG_INT_CB("test-timer-divisor", 0, CFGF_NODEFAULT, cb_number),
	CFG_END(),
};

void
vpnd_config_defaults(struct vpnd_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->interface, sizeof(c->interface), "vpn0");
	c->listen_port = VPND_DEFAULT_PORT;
	c->mtu = 0; /* "auto" */
	c->packet_workers = 0; /* "auto" */
	snprintf(c->user_db, sizeof(c->user_db), "/var/lib/vpnd/users.db");
	snprintf(c->control_socket, sizeof(c->control_socket),
		 "/run/vpnd.sock");
	snprintf(c->node_name, sizeof(c->node_name), "%s", host_name());
	c->control_gid = (gid_t)-1;
	snprintf(c->user, sizeof(c->user), "vpnd");
	c->max_peers = 1024;
	c->max_pending = 1024;
	c->max_pending_per_source = 16;
	c->auth_workers = 2;
	c->aead = AEAD_AUTO;
	c->offload = true;
	c->lan_mode = VPND_LAN_ROUTED;
	c->keepalive_s = 25;
	c->session_lifetime_s = 12 * 3600;
	c->totp_window = 1;
	c->lockout_failures = 5;
	c->lockout_time_s = 60;
	c->lockout_max_time_s = 15 * 60;
	c->failure_delay_ms = 1000;
	c->auth_queue = 64;
	c->auth_per_source = 2;
	c->lockout_source_decay_s = 600;
	snprintf(c->totp_issuer, sizeof(c->totp_issuer), "vpnd");
	c->password_min_length = PASSWORD_MIN_LENGTH_DEFAULT;
	c->password_min_score = PASSWORD_MIN_SCORE_DEFAULT;
	c->handshake_rate = 1000;
	c->source_handshake_rate = 20;
	c->log_syslog = false;
	c->log_level = LOG_INFO;
	c->metrics_interval_s = 15;
	c->test_timer_divisor = 1;
}

/* ---- cfg_t -> struct --------------------------------------------------- */

static bool
copy_key_path(cfg_t *cfg, struct vpnd_config *c, const char *option,
	      char out[PATH_MAX], bool *is_set)
{
	if (cfg_size(cfg, option) == 0)
		return true;
	if (!conf_path_resolve(c->path, cfg_getstr(cfg, option), out))
		return conf_error(&c->lines, option, "%s: the path is too long",
				  cfg_getstr(cfg, option));
	if (is_set)
		*is_set = true;
	return true;
}

static bool
copy_group(cfg_t *cfg, struct vpnd_config *c)
{
	struct group *g;

	if (!conf_copy_string(cfg, &c->lines, "control-group", c->control_group,
			      sizeof(c->control_group)))
		return false;
	if (!c->control_group[0])
		return true;
	/* The callback found it; it may be gone since, in a race with
	 * groupdel, so look again. */
	g = getgrnam(c->control_group);
	if (!g)
		return conf_error(&c->lines, "control-group",
				  "%s is not a group on this system",
				  c->control_group);
	c->control_gid = g->gr_gid;
	return true;
}

static void
copy_pool(cfg_t *cfg, const char *option, bool *has, struct prefix *p)
{
	if (cfg_size(cfg, option) == 0)
		return;
	/* The callback has parsed it once already. */
	*has = prefix_parse(cfg_getstr(cfg, option), p);
}

static bool
copy_prefixes(cfg_t *cfg, const struct conf_lines *lines, const char *option,
	      struct prefix *out, unsigned int max, unsigned int *n)
{
	unsigned int i, size = cfg_size(cfg, option);

	if (size > max)
		return conf_error_n(lines, option, max, "more than %u entries",
				    max);
	for (i = 0; i < size; i++)
		if (!prefix_parse(cfg_getnstr(cfg, option, i), &out[i]))
			return conf_error_n(lines, option, i, "%s is not valid",
					    cfg_getnstr(cfg, option, i));
	*n = size;
	return true;
}

static bool
copy_search(cfg_t *cfg, struct vpnd_config *c)
{
	unsigned int i, size = cfg_size(cfg, "dns-search");

	if (size > VPND_MAX_DNS_SEARCH)
		return conf_error_n(&c->lines, "dns-search",
				    VPND_MAX_DNS_SEARCH, "more than %d entries",
				    VPND_MAX_DNS_SEARCH);
	/* cb_domain has checked the length. */
	for (i = 0; i < size; i++)
		snprintf(c->dns_search[i], sizeof(c->dns_search[i]), "%s",
			 cfg_getnstr(cfg, "dns-search", i));
	c->n_dns_search = size;
	return true;
}

static void
copy_log(cfg_t *cfg, struct vpnd_config *c)
{
	if (cfg_size(cfg, "log"))
		c->log_syslog = strcmp(cfg_getstr(cfg, "log"), "syslog") == 0;
	if (cfg_size(cfg, "log-level"))
		c->log_level = conf_log_level(cfg_getstr(cfg, "log-level"));
}

static bool
copy_config(cfg_t *cfg, struct vpnd_config *c)
{
	struct conf_lines *l = &c->lines;
	bool ok = true;

	conf_numbers_copy(cfg, numbers, c);
	conf_numbers_copy(cfg, mtu_number, c);
	conf_numbers_copy(cfg, workers_number, c);
	ok &= conf_copy_string(cfg, l, "interface", c->interface,
			       sizeof(c->interface));
	ok &= copy_key_path(cfg, c, "private-key-file", c->private_key_file,
			    NULL);
	ok &= copy_key_path(cfg, c, "preshared-key-file", c->psk_file,
			    &c->has_psk);
	copy_pool(cfg, "address-pool4", &c->has_pool4, &c->pool4);
	copy_pool(cfg, "address-pool6", &c->has_pool6, &c->pool6);
	ok &= conf_copy_string(cfg, l, "user-db", c->user_db,
			       sizeof(c->user_db));
	ok &= conf_copy_string(cfg, l, "control-socket", c->control_socket,
			       sizeof(c->control_socket));
	ok &= conf_copy_string(cfg, l, "node-name", c->node_name,
			       sizeof(c->node_name));
	ok &= copy_group(cfg, c);
	ok &= conf_copy_string(cfg, l, "user", c->user, sizeof(c->user));
	ok &= copy_lan(cfg, c);
	ok &= copy_aead(cfg, c);
	if (cfg_size(cfg, "offload"))
		c->offload = strcmp(cfg_getstr(cfg, "offload"), "yes") == 0;
	ok &= copy_prefixes(cfg, l, "routes", c->routes, VPND_MAX_ROUTES,
			    &c->n_routes);
	ok &= copy_prefixes(cfg, l, "dns", c->dns, VPND_MAX_DNS, &c->n_dns);
	ok &= copy_search(cfg, c);
	ok &= conf_copy_string(cfg, l, "totp-issuer", c->totp_issuer,
			       sizeof(c->totp_issuer));
	copy_log(cfg, c);
	ok &= copy_metrics(cfg, c);
	ok &= copy_access(cfg, c);
	return ok;
}

/* ---- cross-field rules ------------------------------------------------- */

static bool
check_pool(const struct conf_lines *l, const char *option,
	   const struct prefix *pool, int family, unsigned int max_len)
{
	char text[PREFIX_STR_LEN], net[PREFIX_STR_LEN];
	struct prefix masked = *pool;

	prefix_format(pool, text);
	if (pool->family != family)
		return conf_error(l, option, "%s is not an %s prefix", text,
				  family == AF_INET ? "IPv4" : "IPv6");
	if (!prefix_is_network(pool)) {
		prefix_mask(&masked);
		return conf_error(l, option, "%s has host bits set (the "
				  "network is %s)", text,
				  prefix_format(&masked, net));
	}
	if (pool->len > max_len)
		return conf_error(l, option, "%s leaves no room for clients "
				  "(the prefix must be /%u or shorter)", text,
				  max_len);
	return true;
}

/*
 * A route inside a pool would send clients' own addresses elsewhere. A
 * route containing a pool is fine (0.0.0.0/0 for a full tunnel): the pool's
 * own route on the client is more specific.
 */
static bool
check_route_vs_pool(const struct vpnd_config *c, unsigned int i,
		    const char *pool_name, bool has, const struct prefix *pool)
{
	const struct prefix *r = &c->routes[i];
	char text[PREFIX_STR_LEN], ptext[PREFIX_STR_LEN];

	if (!has || !prefix_overlaps(r, pool) || r->len < pool->len)
		return true;
	return conf_error_n(&c->lines, "routes", i,
			    "%s overlaps %s %s (a route may contain the pool, "
			    "but not lie inside it)", prefix_format(r, text),
			    pool_name, prefix_format(pool, ptext));
}

static bool
check_route(const struct vpnd_config *c, unsigned int i)
{
	const struct prefix *r = &c->routes[i];
	char text[PREFIX_STR_LEN], net[PREFIX_STR_LEN];
	struct prefix masked = *r;
	unsigned int j;

	prefix_format(r, text);
	if (!prefix_is_network(r)) {
		prefix_mask(&masked);
		return conf_error_n(&c->lines, "routes", i, "%s has host bits "
				    "set (the network is %s)", text,
				    prefix_format(&masked, net));
	}
	for (j = 0; j < i; j++)
		if (r->family == c->routes[j].family &&
		    r->len == c->routes[j].len &&
		    memcmp(r->addr, c->routes[j].addr, sizeof(r->addr)) == 0)
			return conf_error_n(&c->lines, "routes", i,
					    "%s is listed twice", text);
	return check_route_vs_pool(c, i, "address-pool4", c->has_pool4,
				   &c->pool4) &&
	       check_route_vs_pool(c, i, "address-pool6", c->has_pool6,
				   &c->pool6);
}

static bool
check_dns(const struct vpnd_config *c)
{
	char text[PREFIX_STR_LEN];
	unsigned int i;
	bool ok = true;

	for (i = 0; i < c->n_dns; i++)
		if (c->dns[i].len != prefix_addr_len(c->dns[i].family) * 8)
			ok = conf_error_n(&c->lines, "dns", i,
					  "%s is not a single address",
					  prefix_format(&c->dns[i], text));
	return ok;
}

static bool
check_strings(const struct vpnd_config *c)
{
	const struct conf_lines *l = &c->lines;
	struct sockaddr_un sun;
	bool ok = true;

	if (!c->interface[0])
		ok = conf_error(l, "interface", "the name is empty");
	if (!c->user_db[0])
		ok = conf_error(l, "user-db", "the file name is empty");
	if (!c->control_socket[0])
		ok = conf_error(l, "control-socket", "the file name is empty");
	if (strlen(c->control_socket) >= sizeof(sun.sun_path))
		ok = conf_error(l, "control-socket", "%s is too long for a "
				"socket (at most %zu bytes)", c->control_socket,
				sizeof(sun.sun_path) - 1);
	if (!c->totp_issuer[0])
		ok = conf_error(l, "totp-issuer", "the issuer is empty");
	if (c->lan_interface[0] && strcmp(c->lan_interface, c->interface) == 0)
		ok = conf_error(l, "lan-interface", "%s is vpnd's own device "
				"(interface); name the office LAN's",
				c->lan_interface);
	return ok;
}

bool
vpnd_config_check(const struct vpnd_config *c)
{
	const struct conf_lines *l = &c->lines;
	bool ok = conf_numbers_check(l, numbers, c);
	char min[32], max[32];
	unsigned int i;

	ok &= check_strings(c);
	if (c->mtu)
		ok &= conf_numbers_check(l, mtu_number, c);
	if (c->packet_workers)
		ok &= conf_numbers_check(l, workers_number, c);
	if (!c->has_pool4 && !c->has_pool6)
		ok = conf_error(l, "address-pool4", "no address pool: set "
				"address-pool4, address-pool6 or both");
	if (c->has_pool4)
		ok &= check_pool(l, "address-pool4", &c->pool4, AF_INET, 30);
	if (c->has_pool6)
		ok &= check_pool(l, "address-pool6", &c->pool6, AF_INET6, 126);
	for (i = 0; i < c->n_routes; i++)
		ok &= check_route(c, i);
	ok &= check_dns(c);
	if (c->lockout_max_time_s < c->lockout_time_s)
		ok = conf_error(l, "lockout-max-time", "%s is shorter than "
				"lockout-time (%s)",
				conf_format_duration(
					c->lockout_max_time_s * 1000ULL, max),
				conf_format_duration(
					c->lockout_time_s * 1000ULL, min));
	return ok;
}

/* ---- loading ----------------------------------------------------------- */

static bool
load_keys(struct vpnd_config *c)
{
	const struct conf_lines *l = &c->lines;
	bool ok;

	if (!c->private_key_file[0])
		return conf_error(l, "private-key-file", "not set: the server "
				  "needs its private key (create one with "
				  "'vpnd genkey FILE')");
	ok = conf_key_load(l, "private-key-file", c->private_key_file, true,
			   c->private_key);
	if (ok && !keys_public_from_private(c->public_key, c->private_key))
		ok = conf_error(l, "private-key-file", "%s: not a usable "
				"private key", c->private_key_file);
	if (c->has_psk)
		ok &= conf_key_load(l, "preshared-key-file", c->psk_file, true,
				    c->psk);
	return ok;
}

static bool
load(struct vpnd_config *c, const char *path, bool with_keys)
{
	cfg_t *cfg;
	bool ok;

	vpnd_config_defaults(c);
	if (snprintf(c->path, sizeof(c->path), "%s", path) >=
	    (int)sizeof(c->path)) {
		fprintf(stderr, "%s: the path is too long\n", path);
		return false;
	}
	cfg = conf_parse(c->path, schema, &c->lines);
	if (!cfg) {
		sec_lines_clear();
		return false;
	}
	ok = copy_config(cfg, c);
	cfg_free(cfg);
	sec_lines_clear();
	/* Partly copied values would only give confusing follow-ups. */
	if (ok) {
		ok = vpnd_config_check(c);
		if (with_keys)
			ok = load_keys(c) && ok;
	}
	if (!ok) {
		access_config_free(c->access);
		c->access = NULL;
	}
	return ok;
}

bool
vpnd_config_load(struct vpnd_config *c, const char *path)
{
	bool ok = load(c, path, true);

	if (!ok)
		vpnd_config_wipe(c);
	return ok;
}

bool
vpnd_config_load_admin(struct vpnd_config *c, const char *path)
{
	return load(c, path, false);
}

void
vpnd_config_wipe(struct vpnd_config *c)
{
	sodium_memzero(c->private_key, sizeof(c->private_key));
	sodium_memzero(c->psk, sizeof(c->psk));
	access_config_free(c->access);
	c->access = NULL;
}
