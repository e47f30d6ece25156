// SPDX-License-Identifier: MIT
/*
 * vpnc.conf (see config.h): the libconfuse schema, the copy into struct
 * vpnc_config, the rules between options and the key files. As in vpnd,
 * defaults live in vpnc_config_defaults() alone and every option is
 * CFGF_NODEFAULT. The servers' names are only checked for form here
 * (each `server` line adds one); they are resolved when the client starts
 * (servers.h).
 */
#include "config.h"

#include <arpa/inet.h>
#include <confuse.h>
#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "aead.h"
#include "conf.h"
#include "cryptopool.h"
#include "login.h"
#include "tunnel.h"

#define USER_MAX 64

#define NUM(name, lo, hi, unit_ms, field)                                   \
	{ name, lo, hi, unit_ms, offsetof(struct vpnc_config, field),      \
	  sizeof(((struct vpnc_config *)0)->field) }

static const struct conf_number numbers[] = {
	NUM("reconnect-max-backoff", 1, 3600, 1000, reconnect_max_s),
	NUM("test-timer-divisor", 1, 1000, 0, test_timer_divisor),
	NUM("busy-poll", 0, 1000, 0, busy_poll_us),
	{ NULL, 0, 0, 0, 0, 0 },
};

static int
cb_number(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	return conf_number_parse(cfg, opt, value, result,
				 conf_number_find(numbers, opt->name));
}

/* mtu: "auto" (0 in the struct: the smaller of the server's and the
 * path's, mtu.h) or a number in this range, checked apart. */
static const struct conf_number mtu_number[] = {
	NUM("mtu", TUNNEL_MTU_MIN, TUNNEL_MTU_MAX, 0, mtu),
	{ NULL, 0, 0, 0, 0, 0 },
};

static int
cb_mtu(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	return conf_number_or_auto_parse(cfg, opt, value, result, mtu_number);
}

/* packet-workers: "auto" (0 in the struct: one per CPU, client.c) or a
 * number of threads in this range (cryptopool.h), checked apart. */
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

/* ---- server = "host", "host:port", "[v6]:port" ------------------------- */

/* Labels of letters, digits, '-' and '_'; all-numeric means IPv4. */
static bool
hostname_valid(const char *name)
{
	size_t len = strlen(name), label = 0, i;
	bool numeric = true;
	uint8_t addr[4];

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return false;
	for (i = 0; i < len; i++) {
		char ch = name[i];

		if (ch == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if ((ch < '0' || ch > '9') && ch != '-' && ch != '_' &&
		    !((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z'))
			return false;
		numeric &= ch >= '0' && ch <= '9';
		if (++label > 63 || (label == 1 && ch == '-'))
			return false;
	}
	return label > 0 && (!numeric || inet_pton(AF_INET, name, addr) == 1);
}

static const char *
parse_port(const char *text, uint16_t *port)
{
	unsigned long v = 0;
	const char *p;

	if (!*text)
		return "the port after ':' is missing";
	for (p = text; *p; p++) {
		if (*p < '0' || *p > '9')
			return "the port is not a number";
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > 65535)
			break;
	}
	if (v == 0 || v > 65535)
		return "the port is out of range (1-65535)";
	*port = (uint16_t)v;
	return NULL;
}

/* "[2001:db8::1]" or "[2001:db8::1]:51900". */
static const char *
parse_bracketed(const char *text, char host[VPNC_HOST_LEN + 1],
		uint16_t *port)
{
	const char *end = strchr(text, ']');
	uint8_t addr[16];
	size_t len;

	if (!end)
		return "a '[' without its ']'";
	len = (size_t)(end - text - 1);
	if (len == 0 || len > VPNC_HOST_LEN)
		return "brackets hold an IPv6 address";
	memcpy(host, text + 1, len);
	host[len] = '\0';
	if (inet_pton(AF_INET6, host, addr) != 1)
		return "brackets hold an IPv6 address";
	if (end[1] == '\0')
		return NULL;
	if (end[1] != ':')
		return "only ':port' may follow ']'";
	return parse_port(end + 2, port);
}

/* Returns NULL if `text` is a server, else what is wrong with it. */
static const char *
server_parse(const char *text, char host[VPNC_HOST_LEN + 1], uint16_t *port)
{
	const char *colon = strchr(text, ':');
	uint8_t addr[16];
	size_t len;

	*port = VPNC_DEFAULT_PORT;
	if (text[0] == '[')
		return parse_bracketed(text, host, port);
	/* Two colons: a bare IPv6 address, which cannot carry a port. */
	if (colon && strchr(colon + 1, ':')) {
		if (inet_pton(AF_INET6, text, addr) != 1)
			return "not a host name, IPv4 or IPv6 address (an IPv6 "
			       "address with a port is written [addr]:port)";
		snprintf(host, VPNC_HOST_LEN + 1, "%s", text);
		return NULL;
	}
	len = colon ? (size_t)(colon - text) : strlen(text);
	if (len == 0 || len > VPNC_HOST_LEN)
		return "the host name is empty or too long";
	memcpy(host, text, len);
	host[len] = '\0';
	if (!hostname_valid(host))
		return "not a host name or IPv4 address";
	return colon ? parse_port(colon + 1, port) : NULL;
}

/*
 * Every server value of the parse under way, in order. libconfuse keeps
 * only the last line of an option set twice, and of a list only its last
 * assignment, but each `server` line names one more server (a node of the
 * same service): the value callback collects them here, for the one parse
 * at a time that libconfuse allows (shared/conf.c).
 */
static struct {
	struct vpnc_server s[VPNC_MAX_SERVERS];
	unsigned int n;
} parsed_servers;

static int
cb_server(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	char host[VPNC_HOST_LEN + 1];
	const char *why;
	uint16_t port;

	why = server_parse(value, host, &port);
	if (why)
		return conf_value_error(cfg, opt, result, "%s: %s", value, why);
	if (parsed_servers.n == VPNC_MAX_SERVERS)
		return conf_value_error(cfg, opt, result, "%s: more than %d "
					"servers", value, VPNC_MAX_SERVERS);
	memcpy(parsed_servers.s[parsed_servers.n].host, host,
	       sizeof(host));
	parsed_servers.s[parsed_servers.n++].port = port;
	return conf_cb_string(cfg, opt, value, result);
}

/* ---- other values ------------------------------------------------------ */

/*
 * A key that decodes to printable text is a placeholder, such as the
 * sample's ("example key, replace it with you"): 32 random bytes are all
 * printable once in 10^14 keys, while a newcomer who copies the sample
 * would otherwise get only a server that never answers.
 */
static bool
key_is_text(const uint8_t key[KEY_LEN])
{
	size_t i;

	for (i = 0; i < KEY_LEN; i++)
		if (key[i] < 0x20 || key[i] > 0x7e)
			return false;
	return true;
}

static int
cb_public_key(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	uint8_t key[KEY_LEN];
	bool ok = keys_from_base64(key, value, strlen(value)) &&
		  !keys_is_zero(key);

	if (!ok)
		return conf_value_error(cfg, opt, result,
					"%s is not a public key (44 base64 "
					"characters, from 'vpnd pubkey')",
					value);
	if (key_is_text(key))
		return conf_value_error(cfg, opt, result,
					"%s is a placeholder, not a key (it "
					"decodes to the text \"%.*s\"): put "
					"here the output of 'vpnd pubkey < "
					"/etc/vpnd/private.key' on the server",
					value, KEY_LEN, (const char *)key);
	return conf_cb_string(cfg, opt, value, result);
}

static int
cb_user(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	size_t len = strlen(value), i;

	if (len == 0)
		return conf_value_error(cfg, opt, result,
					"the user name is empty");
	if (len > USER_MAX)
		return conf_value_error(cfg, opt, result,
					"%s is longer than %d bytes", value,
					USER_MAX);
	/* Not echoed: what is wrong with it may not print. */
	if (!login_utf8_valid((const uint8_t *)value, len))
		return conf_value_error(cfg, opt, result,
					"the user name is not valid UTF-8");
	for (i = 0; i < len; i++)
		if ((unsigned char)value[i] < 0x20 || value[i] == 0x7f)
			return conf_value_error(cfg, opt, result,
						"the user name holds a control "
						"character");
	return conf_cb_string(cfg, opt, value, result);
}

static const struct {
	const char *name;
	enum vpnc_dns_mode mode;
} dns_modes[] = {
	{ "auto", VPNC_DNS_AUTO },
	{ "resolvconf", VPNC_DNS_RESOLVCONF },
	{ "none", VPNC_DNS_NONE },
	{ "resolved", VPNC_DNS_RESOLVED },
	{ "file", VPNC_DNS_FILE },
};

static int
dns_mode(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(dns_modes) / sizeof(dns_modes[0]); i++)
		if (strcmp(name, dns_modes[i].name) == 0)
			return (int)dns_modes[i].mode;
	return -1;
}

static int
cb_dns(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	if (dns_mode(value) < 0)
		return conf_value_error(cfg, opt, result,
					"%s is not auto, resolved, resolvconf, "
					"file or none",
					value);
	return conf_cb_string(cfg, opt, value, result);
}

static cfg_opt_t schema[] = {
	CFG_STR_LIST_CB("server", NULL, CFGF_NODEFAULT, cb_server),
	CFG_STR_CB("server-public-key", NULL, CFGF_NODEFAULT, cb_public_key),
	CFG_STR_CB("private-key-file", NULL, CFGF_NODEFAULT, conf_cb_path),
	CFG_STR_CB("preshared-key-file", NULL, CFGF_NODEFAULT, conf_cb_path),
	CFG_STR_CB("user", NULL, CFGF_NODEFAULT, cb_user),
	CFG_STR_CB("interface", NULL, CFGF_NODEFAULT, conf_cb_ifname),
	CFG_INT_CB("mtu", 0, CFGF_NODEFAULT, cb_mtu),
	CFG_STR_CB("dns", NULL, CFGF_NODEFAULT, cb_dns),
	CFG_STR_LIST_CB("accept-routes", NULL, CFGF_NODEFAULT, conf_cb_prefix),
	CFG_STR_CB("full-tunnel", NULL, CFGF_NODEFAULT, conf_cb_yes_no),
	CFG_STR_LIST_CB("exclude", NULL, CFGF_NODEFAULT, conf_cb_prefix),
	CFG_STR_CB("allow-lan", NULL, CFGF_NODEFAULT, conf_cb_yes_no),
	CFG_STR_CB("state-file", NULL, CFGF_NODEFAULT, conf_cb_path),
	CFG_INT_CB("reconnect-max-backoff", 0, CFGF_NODEFAULT, cb_number),
	CFG_STR_CB("sandbox", NULL, CFGF_NODEFAULT, conf_cb_yes_no),
	CFG_STR_CB("site", NULL, CFGF_NODEFAULT, conf_cb_yes_no),
	CFG_STR_CB("aead", NULL, CFGF_NODEFAULT, conf_cb_aead),
	CFG_STR_CB("offload", NULL, CFGF_NODEFAULT, conf_cb_yes_no),
	CFG_INT_CB("busy-poll", 0, CFGF_NODEFAULT, cb_number),
	CFG_INT_CB("packet-workers", 0, CFGF_NODEFAULT, cb_packet_workers),
	CFG_STR_CB("log", NULL, CFGF_NODEFAULT, conf_cb_log),
	CFG_STR_CB("log-level", NULL, CFGF_NODEFAULT, conf_cb_log_level),
	CFG_INT_CB("test-timer-divisor", 0, CFGF_NODEFAULT, cb_number),
	CFG_END(),
};

void
vpnc_config_defaults(struct vpnc_config *c)
{
	memset(c, 0, sizeof(*c));
	c->server_port = VPNC_DEFAULT_PORT;
	snprintf(c->interface, sizeof(c->interface), "vpn0");
	c->dns_mode = VPNC_DNS_AUTO;
	policy_rules_defaults(&c->policy);
	snprintf(c->resolv_conf, sizeof(c->resolv_conf), VPNC_RESOLV_CONF);
	c->reconnect_max_s = 60;
	c->sandbox = true;
	c->aead = AEAD_AUTO;
	c->offload = true;
	c->packet_workers = 0; /* "auto" */
	c->log_syslog = false;
	c->log_level = LOG_INFO;
	c->test_timer_divisor = 1;
}

/* ---- cfg_t -> struct --------------------------------------------------- */

static bool
copy_key_path(cfg_t *cfg, const struct conf_lines *l, const char *conf_path,
	      const char *option, char out[PATH_MAX])
{
	if (cfg_size(cfg, option) == 0)
		return true;
	if (!conf_path_resolve(conf_path, cfg_getstr(cfg, option), out))
		return conf_error(l, option, "%s: the path is too long",
				  cfg_getstr(cfg, option));
	return true;
}

/*
 * accept-routes: the prefixes pushed routes must lie inside. Unset keeps
 * the default (everything); "{}" is an empty list: no pushed route at
 * all, which libconfuse tells apart only by the option's MODIFIED flag.
 */
static bool
copy_accept_routes(cfg_t *cfg, const struct conf_lines *l,
		   struct policy_rules *r)
{
	static const char option[] = "accept-routes";
	unsigned int i, size = cfg_size(cfg, option);
	char text[PREFIX_STR_LEN], net[PREFIX_STR_LEN];
	struct prefix p;

	if (!(cfg_getopt(cfg, option)->flags & CFGF_MODIFIED))
		return true;
	if (size > POLICY_MAX_ACCEPT)
		return conf_error_n(l, option, POLICY_MAX_ACCEPT,
				    "more than %d prefixes", POLICY_MAX_ACCEPT);
	r->n_accept = 0;
	for (i = 0; i < size; i++) {
		/* conf_cb_prefix has checked the form. */
		if (!prefix_parse(cfg_getnstr(cfg, option, i), &p))
			return conf_error_n(l, option, i, "%s is not valid",
					    cfg_getnstr(cfg, option, i));
		if (!prefix_is_network(&p)) {
			prefix_format(&p, text);
			prefix_mask(&p);
			return conf_error_n(l, option, i, "%s has host bits "
					    "set (the network is %s)", text,
					    prefix_format(&p, net));
		}
		r->accept[r->n_accept++] = p;
	}
	return true;
}

/*
 * exclude: prefixes kept off the tunnel. A /0 or /1 would be the tunnel's
 * own default route (it goes in as two /1 halves): to send nothing
 * through the tunnel, say full-tunnel = no.
 */
static bool
copy_exclude(cfg_t *cfg, const struct conf_lines *l, struct policy_rules *r)
{
	static const char option[] = "exclude";
	unsigned int i, size = cfg_size(cfg, option);
	char text[PREFIX_STR_LEN], net[PREFIX_STR_LEN];
	struct prefix p;

	if (size > POLICY_MAX_EXCLUDE)
		return conf_error_n(l, option, POLICY_MAX_EXCLUDE,
				    "more than %d prefixes",
				    POLICY_MAX_EXCLUDE);
	for (i = 0; i < size; i++) {
		if (!prefix_parse(cfg_getnstr(cfg, option, i), &p))
			return conf_error_n(l, option, i, "%s is not valid",
					    cfg_getnstr(cfg, option, i));
		prefix_format(&p, text);
		if (!prefix_is_network(&p)) {
			prefix_mask(&p);
			return conf_error_n(l, option, i, "%s has host bits "
					    "set (the network is %s)", text,
					    prefix_format(&p, net));
		}
		if (p.len < 2)
			return conf_error_n(l, option, i, "%s is too wide (at "
					    "most a /2: to keep everything "
					    "off the tunnel, say full-tunnel "
					    "= no)", text);
		r->exclude[r->n_exclude++] = p;
	}
	return true;
}

/* state-file: the default is /run/vpnc/NAME.state for NAME.conf, so that
 * each configuration finds what its own last run left. */
static bool
copy_state_file(cfg_t *cfg, const struct conf_lines *l, struct vpnc_config *c)
{
	const char *base = strrchr(c->path, '/');
	size_t len;

	if (cfg_size(cfg, "state-file"))
		return copy_key_path(cfg, l, c->path, "state-file",
				     c->state_file);
	base = base ? base + 1 : c->path;
	len = strlen(base);
	if (len > 5 && strcmp(base + len - 5, ".conf") == 0)
		len -= 5;
	if (snprintf(c->state_file, sizeof(c->state_file), "%s/%.*s.state",
		     VPNC_STATE_DIR, (int)len, base) >=
	    (int)sizeof(c->state_file))
		return conf_error(l, "state-file", "the default path from %s "
				  "is too long", c->path);
	return true;
}

/* The callbacks have validated every value; this only moves them. */
static bool
copy_config(cfg_t *cfg, const struct conf_lines *l, struct vpnc_config *c)
{
	const char *s;
	bool ok = true;

	conf_numbers_copy(cfg, numbers, c);
	conf_numbers_copy(cfg, mtu_number, c);
	conf_numbers_copy(cfg, workers_number, c);
	/* cb_server has collected and parsed them. */
	c->n_servers = parsed_servers.n;
	memcpy(c->servers, parsed_servers.s, sizeof(c->servers));
	if (c->n_servers) {
		memcpy(c->server_host, c->servers[0].host,
		       sizeof(c->server_host));
		c->server_port = c->servers[0].port;
	}
	if (cfg_size(cfg, "server-public-key")) {
		s = cfg_getstr(cfg, "server-public-key");
		ok &= keys_from_base64(c->server_public_key, s, strlen(s));
	}
	ok &= copy_key_path(cfg, l, c->path, "private-key-file",
			    c->private_key_file);
	ok &= copy_key_path(cfg, l, c->path, "preshared-key-file",
			    c->psk_file);
	c->has_psk = c->psk_file[0] != '\0';
	ok &= conf_copy_string(cfg, l, "user", c->user, sizeof(c->user));
	ok &= conf_copy_string(cfg, l, "interface", c->interface,
			       sizeof(c->interface));
	if (cfg_size(cfg, "dns"))
		c->dns_mode =
			(enum vpnc_dns_mode)dns_mode(cfg_getstr(cfg, "dns"));
	ok &= copy_accept_routes(cfg, l, &c->policy);
	if (cfg_size(cfg, "full-tunnel"))
		c->policy.full_tunnel =
			strcmp(cfg_getstr(cfg, "full-tunnel"), "yes") == 0;
	ok &= copy_exclude(cfg, l, &c->policy);
	if (cfg_size(cfg, "allow-lan"))
		c->policy.allow_lan =
			strcmp(cfg_getstr(cfg, "allow-lan"), "yes") == 0;
	ok &= copy_state_file(cfg, l, c);
	if (cfg_size(cfg, "sandbox"))
		c->sandbox = strcmp(cfg_getstr(cfg, "sandbox"), "yes") == 0;
	if (cfg_size(cfg, "site"))
		c->site = strcmp(cfg_getstr(cfg, "site"), "yes") == 0;
	if (cfg_size(cfg, "offload"))
		c->offload = strcmp(cfg_getstr(cfg, "offload"), "yes") == 0;
	if (cfg_size(cfg, "aead"))
		/* conf_cb_aead has parsed it once already. */
		ok &= aead_backend_parse(cfg_getstr(cfg, "aead"), &c->aead);
	if (cfg_size(cfg, "log"))
		c->log_syslog = strcmp(cfg_getstr(cfg, "log"), "syslog") == 0;
	if (cfg_size(cfg, "log-level"))
		c->log_level = conf_log_level(cfg_getstr(cfg, "log-level"));
	return ok;
}

static bool
check_required(const struct conf_lines *l, const struct vpnc_config *c)
{
	bool ok = true;

	if (!c->server_host[0])
		ok = conf_error(l, "server", "not set: the server's host name "
				"or address, and its port if not %d",
				VPNC_DEFAULT_PORT);
	if (keys_is_zero(c->server_public_key))
		ok = conf_error(l, "server-public-key", "not set: the output "
				"of 'vpnd pubkey' on the server");
	if (!c->user[0])
		ok = conf_error(l, "user", "not set: the user name to log in "
				"as");
	if (!c->private_key_file[0])
		ok = conf_error(l, "private-key-file", "not set: this client's "
				"private key (create one with 'vpnc genkey "
				"FILE')");
	return ok;
}

static bool
load_keys(const struct conf_lines *l, struct vpnc_config *c)
{
	bool ok;

	ok = conf_key_load(l, "private-key-file", c->private_key_file, true,
			   c->private_key);
	if (ok && !keys_public_from_private(c->public_key, c->private_key))
		ok = conf_error(l, "private-key-file", "%s: not a usable "
				"private key", c->private_key_file);
	if (ok && keys_equal(c->public_key, c->server_public_key))
		ok = conf_error(l, "server-public-key", "is this client's own "
				"public key, not the server's");
	if (c->has_psk)
		ok &= conf_key_load(l, "preshared-key-file", c->psk_file, true,
				    c->psk);
	return ok;
}

bool
vpnc_config_load(struct vpnc_config *c, const char *path)
{
	struct conf_lines lines;
	cfg_t *cfg;
	bool ok;

	vpnc_config_defaults(c);
	if (snprintf(c->path, sizeof(c->path), "%s", path) >=
	    (int)sizeof(c->path)) {
		fprintf(stderr, "%s: the path is too long\n", path);
		return false;
	}
	memset(&parsed_servers, 0, sizeof(parsed_servers));
	cfg = conf_parse(c->path, schema, &lines);
	if (!cfg)
		return false;
	ok = copy_config(cfg, &lines, c);
	cfg_free(cfg);
	if (ok) {
		ok = conf_numbers_check(&lines, numbers, c);
		if (c->mtu)
			ok &= conf_numbers_check(&lines, mtu_number, c);
		if (c->packet_workers)
			ok &= conf_numbers_check(&lines, workers_number, c);
		ok &= check_required(&lines, c);
	}
	if (ok)
		ok = load_keys(&lines, c);
	if (!ok)
		vpnc_config_wipe(c);
	return ok;
}

void
vpnc_config_wipe(struct vpnc_config *c)
{
	sodium_memzero(c->private_key, sizeof(c->private_key));
	sodium_memzero(c->psk, sizeof(c->psk));
}
