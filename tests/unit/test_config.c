// SPDX-License-Identifier: MIT
/*
 * vpnd.conf and vpnc.conf: a full valid file of each loads with the right
 * values, the shipped samples document the real defaults, and every kind
 * of mistake is refused with a message naming the file, the line and the
 * option. Configs and keys are written under a mkdtemp directory; stderr
 * is captured by dup2 onto a file.
 *
 * The test binary links libvpnd.a and libshared.a only, so vpnc's schema
 * is compiled in here from its source.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "../../vpnd/config.h"
#include "../../vpnc/config.c"
#include "conf.h"
#include "keyfile.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* In a bad config, the line the message must name ends with this. */
#define MARK "# <-"

struct fixture {
	char dir[64];
	uint8_t priv[KEY_LEN], psk[KEY_LEN], client[KEY_LEN];
	char server_pub[KEY_B64_LEN + 1], client_pub[KEY_B64_LEN + 1];
	char err[8192];
};

static void
write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void
write_key(const struct fixture *f, const char *name, const uint8_t *key,
	  mode_t mode)
{
	char path[128], b64[KEY_B64_LEN + 2];

	keys_to_base64(b64, key);
	strcat(b64, "\n");
	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	write_file(path, b64, mode);
}

static int
setup(void **state)
{
	static struct fixture f;
	uint8_t pub[KEY_LEN];

	assert_true(sodium_init() >= 0);
	memset(&f, 0, sizeof(f));
	snprintf(f.dir, sizeof(f.dir), "/tmp/test_config.XXXXXX");
	assert_non_null(mkdtemp(f.dir));
	randombytes_buf(f.priv, KEY_LEN);
	keys_clamp(f.priv);
	randombytes_buf(f.client, KEY_LEN);
	keys_clamp(f.client);
	randombytes_buf(f.psk, KEY_LEN);
	write_key(&f, "priv.key", f.priv, 0600);
	write_key(&f, "client.key", f.client, 0600);
	write_key(&f, "psk.key", f.psk, 0600);
	write_key(&f, "open.key", f.priv, 0640);
	assert_true(keys_public_from_private(pub, f.priv));
	keys_to_base64(f.server_pub, pub);
	assert_true(keys_public_from_private(pub, f.client));
	keys_to_base64(f.client_pub, pub);
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *
conf_path(const struct fixture *f, const char *name, char out[128])
{
	snprintf(out, 128, "%s/%s", f->dir, name);
	return out;
}

/* ---- stderr capture ---------------------------------------------------- */

static int
capture_begin(const struct fixture *f)
{
	char path[128];
	int fd, saved;

	fflush(stderr);
	saved = dup(STDERR_FILENO);
	fd = open(conf_path(f, "stderr", path),
		  O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, STDERR_FILENO);
	close(fd);
	return saved;
}

static void
capture_end(struct fixture *f, int saved)
{
	char path[128];
	ssize_t n;
	int fd;

	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	fd = open(conf_path(f, "stderr", path), O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, f->err, sizeof(f->err) - 1);
	f->err[n > 0 ? n : 0] = '\0';
	close(fd);
}

static bool
load_vpnd(struct fixture *f, const char *text, struct vpnd_config *c)
{
	char path[128];
	int saved;
	bool ok;

	write_file(conf_path(f, "vpnd.conf", path), text, 0644);
	saved = capture_begin(f);
	ok = vpnd_config_load(c, path);
	capture_end(f, saved);
	return ok;
}

static bool
load_vpnc(struct fixture *f, const char *text, struct vpnc_config *c)
{
	char path[128];
	int saved;
	bool ok;

	write_file(conf_path(f, "vpnc.conf", path), text, 0644);
	saved = capture_begin(f);
	ok = vpnc_config_load(c, path);
	capture_end(f, saved);
	return ok;
}

/* The line of `text` that carries MARK, or 0. */
static int
marked_line(const char *text)
{
	const char *mark = strstr(text, MARK), *p;
	int line = 1;

	if (!mark)
		return 0;
	for (p = text; p < mark; p++)
		line += *p == '\n';
	return line;
}

/* The message names "name.conf:LINE: option" (or "name.conf: option"). */
static void
assert_message(const struct fixture *f, const char *name, const char *text,
	       int line, const char *option, const char *detail)
{
	char want[256];

	if (line)
		snprintf(want, sizeof(want), "%s:%d: %s", name, line, option);
	else
		snprintf(want, sizeof(want), "%s: %s", name, option);
	if (!strstr(f->err, want) || (detail && !strstr(f->err, detail)))
		fail_msg("for:\n%s\nwanted \"%s\"%s%s in:\n%s", text, want,
			 detail ? " and " : "", detail ? detail : "", f->err);
}

/* ---- vpnd -------------------------------------------------------------- */

static const char vpnd_full[] =
	"# every option\n"
	"interface = \"tun%d\"\n"
	"listen-port = 51901\n"
	"private-key-file = \"priv.key\"   # relative to this file\n"
	"preshared-key-file = \"psk.key\"\n"
	"mtu = 1380\n"
	"aead = \"openssl\"\n"
	"busy-poll = 50\n"
	"offload = no\n"
	"address-pool4 = \"10.99.0.0/24\"\n"
	"address-pool6 = fd00:99::/64\n"
	"user-db = \"/var/lib/x/users.db\"\n"
	"control-socket = \"/run/x.sock\"\n"
	"max-peers = 100\n"
	"auth-workers = 4\n"
	"routes = {\"10.20.0.0/24\", \"fd00:20::/64\",\n"
	"          \"0.0.0.0/0\"}\n"
	"dns = {\"10.20.0.53\", \"fd00:20::53\"}\n"
	"dns-search = {\"corp.example\", \"lab.corp.example\"}\n"
	"keepalive = 30s\n"
	"session-lifetime = 1d\n"
	"totp-window = 2\n"
	"lockout-failures = 3\n"
	"lockout-time = 90\n"
	"lockout-max-time = 2h\n"
	"failure-delay = 500ms\n"
	"auth-queue = 32\n"
	"totp-issuer = \"Example VPN\"\n"
	"handshake-rate = 50\n"
	"log = syslog\n"
	"log-level = debug\n"
	"test-timer-divisor = 10\n";

static void
assert_prefix(const struct prefix *p, const char *text)
{
	char out[PREFIX_STR_LEN];

	assert_string_equal(prefix_format(p, out), text);
}

static void
test_vpnd_full(void **state)
{
	struct fixture *f = *state;
	static struct vpnd_config c;
	uint8_t pub[KEY_LEN];

	if (!load_vpnd(f, vpnd_full, &c))
		fail_msg("refused:\n%s", f->err);
	assert_string_equal(f->err, "");
	assert_string_equal(c.interface, "tun%d");
	assert_int_equal(c.listen_port, 51901);
	assert_int_equal(c.aead, AEAD_OPENSSL);
	assert_int_equal(c.busy_poll_us, 50);
	assert_false(c.offload);
	assert_memory_equal(c.private_key, f->priv, KEY_LEN);
	assert_true(keys_public_from_private(pub, f->priv));
	assert_memory_equal(c.public_key, pub, KEY_LEN);
	assert_true(c.has_psk);
	assert_memory_equal(c.psk, f->psk, KEY_LEN);
	assert_non_null(strstr(c.private_key_file, f->dir));
	assert_int_equal(c.mtu, 1380);
	assert_true(c.has_pool4 && c.has_pool6);
	assert_prefix(&c.pool4, "10.99.0.0/24");
	assert_prefix(&c.pool6, "fd00:99::/64");
	assert_string_equal(c.user_db, "/var/lib/x/users.db");
	assert_string_equal(c.control_socket, "/run/x.sock");
	assert_int_equal(c.max_peers, 100);
	assert_int_equal(c.auth_workers, 4);
	assert_int_equal(c.n_routes, 3);
	assert_prefix(&c.routes[0], "10.20.0.0/24");
	assert_prefix(&c.routes[1], "fd00:20::/64");
	assert_prefix(&c.routes[2], "0.0.0.0/0");
	assert_int_equal(c.n_dns, 2);
	assert_prefix(&c.dns[1], "fd00:20::53/128");
	assert_int_equal(c.n_dns_search, 2);
	assert_string_equal(c.dns_search[1], "lab.corp.example");
	assert_int_equal(c.keepalive_s, 30);
	assert_int_equal(c.session_lifetime_s, 86400);
	assert_int_equal(c.totp_window, 2);
	assert_int_equal(c.lockout_failures, 3);
	assert_int_equal(c.lockout_time_s, 90);
	assert_int_equal(c.lockout_max_time_s, 7200);
	assert_int_equal(c.failure_delay_ms, 500);
	assert_int_equal(c.auth_queue, 32);
	assert_string_equal(c.totp_issuer, "Example VPN");
	assert_int_equal(c.handshake_rate, 50);
	assert_true(c.log_syslog);
	assert_int_equal(c.log_level, LOG_DEBUG);
	assert_int_equal(c.test_timer_divisor, 10);
	vpnd_config_wipe(&c);
	assert_true(keys_is_zero(c.private_key) && keys_is_zero(c.psk));
}

static void
test_vpnd_defaults(void **state)
{
	struct fixture *f = *state;
	static struct vpnd_config c, d;

	assert_true(load_vpnd(f, "private-key-file = priv.key\n"
			      "address-pool6 = \"fd00:99::/64\"\n", &c));
	vpnd_config_defaults(&d);
	assert_string_equal(c.interface, "vpn0");
	assert_int_equal(c.listen_port, VPND_DEFAULT_PORT);
	assert_int_equal(c.mtu, 0); /* "auto" */
	assert_int_equal(c.aead, AEAD_AUTO);
	assert_int_equal(c.busy_poll_us, 0);
	assert_true(c.offload);
	assert_false(c.has_psk);
	assert_false(c.has_pool4);
	assert_int_equal(c.n_routes + c.n_dns + c.n_dns_search, 0);
	assert_int_equal(c.session_lifetime_s, 12 * 3600);
	assert_int_equal(c.lockout_max_time_s, d.lockout_max_time_s);
	assert_int_equal(c.failure_delay_ms, 1000);
	assert_int_equal(c.log_level, LOG_INFO);
	assert_false(c.log_syslog);
	vpnd_config_wipe(&c);
}

/* vpnctl reads the store's path without the server's key. */
static void
test_vpnd_admin(void **state)
{
	struct fixture *f = *state;
	static struct vpnd_config c;
	char path[128];
	int saved;

	write_file(conf_path(f, "admin.conf", path),
		   "address-pool4 = 10.99.0.0/24\nuser-db = /x/users.db\n",
		   0644);
	saved = capture_begin(f);
	assert_true(vpnd_config_load_admin(&c, path));
	assert_false(vpnd_config_load(&c, path));
	capture_end(f, saved);
	assert_non_null(strstr(f->err, "admin.conf: private-key-file"));
}

#define KEY "private-key-file = \"priv.key\"\n"
#define POOL "address-pool4 = \"10.99.0.0/24\"\n"
#define HEAD "# comments before the mistake must not move its line\n" \
	     "/* a block\n   comment */ // and another\n" KEY POOL

static const struct {
	const char *text, *option, *detail;
} vpnd_bad[] = {
	{ HEAD "frobnicate = 1 " MARK "\n", "no such option 'frobnicate'", 0 },
	{ HEAD "listen-port = 70000 " MARK "\n", "listen-port",
	  "70000 is out of range (1-65535)" },
	{ HEAD "listen-port = 0 " MARK "\n", "listen-port", "out of range" },
	{ HEAD "listen-port = 51900x " MARK "\n", "listen-port", "51900x" },
	{ HEAD "listen-port = -1 " MARK "\n", "listen-port", 0 },
	{ HEAD "mtu = 1000 " MARK "\n", "mtu", "1280-9000" },
	{ HEAD "mtu = 0 " MARK "\n", "mtu", "0 is out of range (1280-9000)" },
	{ HEAD "mtu = automatic " MARK "\n", "mtu",
	  "automatic is neither \"auto\" nor a whole number" },
	{ HEAD "mtu = \"\" " MARK "\n", "mtu", "neither" },
	{ HEAD "mtu = -1400 " MARK "\n", "mtu", "-1400" },
	{ HEAD "busy-poll = 1001 " MARK "\n", "busy-poll", "0-1000" },
	{ HEAD "aead = fast " MARK "\n", "aead",
	  "fast is not auto, openssl or libsodium" },
	{ HEAD "aead = \"\" " MARK "\n", "aead", "is not auto" },
	{ HEAD "keepalive = 25x " MARK "\n", "keepalive", "not a duration" },
	{ HEAD "session-lifetime = 1.5h " MARK "\n", "session-lifetime", 0 },
	{ HEAD "session-lifetime = 31d " MARK "\n", "session-lifetime",
	  "10s-30d" },
	{ HEAD "keepalive = 1500ms " MARK "\n", "keepalive", "1500ms" },
	{ HEAD "failure-delay = \"\" " MARK "\n", "failure-delay", 0 },
	{ KEY "address-pool4 = 10.99.0.0/33 " MARK "\n", "address-pool4",
	  "10.99.0.0/33" },
	{ KEY "address-pool4 = 10.99.0.1/24 " MARK "\n", "address-pool4",
	  "host bits" },
	{ KEY "address-pool4 = fd00::/64 " MARK "\n", "address-pool4",
	  "not an IPv4" },
	{ KEY "address-pool4 = 10.99.0.0/31 " MARK "\n", "address-pool4",
	  "no room" },
	{ KEY "address-pool6 = fd00::/127 " MARK "\n", "address-pool6",
	  "no room" },
	{ KEY "\n# no pool at all\n", "address-pool4", "no address pool" },
	{ HEAD "routes = {\"10.20.0.0/24\",\n"
	       "  \"10.99.0.128/25\", " MARK "\n"
	       "  \"10.30.0.0/16\"}\n", "routes", "10.99.0.128/25 overlaps" },
	{ HEAD "address-pool6 = fd00:99::/64\n"
	       "routes = \"fd00:99::/64\" " MARK "\n", "routes", "overlaps" },
	{ HEAD "routes = {\"10.20.0.1/24\"} " MARK "\n", "routes",
	  "host bits" },
	{ HEAD "routes = {\"10.20.0.0/24\",\n"
	       "\"10.20.0.0/24\"} " MARK "\n", "routes", "twice" },
	{ HEAD "routes = {\"10.20.0.0/24\", \"10.20.0.0.0/8\"} " MARK "\n",
	  "routes", "10.20.0.0.0/8" },
	{ HEAD "dns = {\"10.20.0.0/24\"} " MARK "\n", "dns",
	  "not an IP address" },
	{ HEAD "dns-search = {\"corp.example\", \"bad domain\"} " MARK "\n",
	  "dns-search", "bad domain" },
	{ HEAD "lockout-time = 10m\nlockout-max-time = 5m " MARK "\n",
	  "lockout-max-time", "shorter than lockout-time" },
	{ HEAD "totp-window = 11 " MARK "\n", "totp-window", "0-10" },
	{ HEAD "auth-workers = 0 " MARK "\n", "auth-workers", "1-64" },
	{ HEAD "interface = \"a/b\" " MARK "\n", "interface", 0 },
	{ HEAD "interface = \"a-very-long-name\" " MARK "\n", "interface", 0 },
	{ HEAD "control-socket = \"/run/"
	       "a-socket-path-that-is-much-too-long-for-sun-path-"
	       "a-socket-path-that-is-much-too-long-for-sun-path-"
	       "a-socket-path-that-is-much-too-long-for-sun-path\" "
	  MARK "\n", "control-socket", "too long" },
	{ HEAD "log = file " MARK "\n", "log", "neither stderr nor syslog" },
	{ HEAD "log-level = loud " MARK "\n", "log-level", "loud" },
	{ HEAD "totp-issuer = \"a:b\" " MARK "\n", "totp-issuer", 0 },
	{ HEAD "user-db = \"\" " MARK "\n", "user-db", "empty" },
	{ HEAD "user-db = \"host=db password=s3cret\" " MARK "\n", "user-db",
	  "password file" },
	{ HEAD "user-db = \"postgresql://vpnd:s3cret@db/vpnd\" " MARK "\n",
	  "user-db", "password file" },
	{ HEAD "user-db = \"mysql://db/vpnd\" " MARK "\n", "user-db",
	  "not a store's name" },
	{ POOL "private-key-file = \"missing.key\" " MARK "\n",
	  "private-key-file", "missing.key" },
	{ POOL "private-key-file = \"open.key\" " MARK "\n",
	  "private-key-file", "chmod 600" },
	{ POOL "\n", "private-key-file", "not set" },
	{ HEAD "preshared-key-file = \"nope.key\" " MARK "\n",
	  "preshared-key-file", "nope.key" },
	{ HEAD "mtu = 1400\n/* never closed " MARK "\n", "a /* comment", 0 },
};

static void
test_vpnd_refused(void **state)
{
	struct fixture *f = *state;
	static struct vpnd_config c;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(vpnd_bad); i++) {
		if (load_vpnd(f, vpnd_bad[i].text, &c))
			fail_msg("accepted:\n%s", vpnd_bad[i].text);
		assert_message(f, "vpnd.conf", vpnd_bad[i].text,
			       marked_line(vpnd_bad[i].text),
			       vpnd_bad[i].option, vpnd_bad[i].detail);
		assert_true(keys_is_zero(c.private_key));
	}
}

/* The store's names: every form is taken as written, and the error for
 * one carrying a password never repeats it. */
static void
test_vpnd_store_names(void **state)
{
	static const char *const ok[] = {
		"/var/lib/x/users.db",
		"sqlite:/var/lib/x/users.db",
		"postgresql://vpnd@db.example/vpnd?passfile=/etc/vpnd/pgpass",
		"host=db.example dbname=vpnd user=vpnd",
	};
	struct fixture *f = *state;
	static struct vpnd_config c;
	char text[512];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ok); i++) {
		snprintf(text, sizeof(text), HEAD "user-db = \"%s\"\n", ok[i]);
		if (!load_vpnd(f, text, &c))
			fail_msg("refused %s: %s", ok[i], f->err);
		assert_string_equal(c.user_db, ok[i]);
	}
	assert_false(load_vpnd(f, HEAD "user-db = \"host=db password="
			       "s3cret\"\n", &c));
	assert_non_null(strstr(f->err, "password file"));
	assert_null(strstr(f->err, "s3cret"));
}

/* One run reports every bad value, each at its own line. */
static void
test_vpnd_all_problems(void **state)
{
	struct fixture *f = *state;
	static struct vpnd_config c;

	assert_false(load_vpnd(f, HEAD "mtu = 1\n# gap\nkeepalive = x\n", &c));
	assert_non_null(strstr(f->err, "vpnd.conf:6: mtu: 1 is out of range"));
	assert_non_null(strstr(f->err, "vpnd.conf:8: keepalive: x is not"));
	assert_false(load_vpnd(f, KEY "address-pool4 = 10.0.0.1/24\n"
			       "routes = 10.0.0.1/24\nlockout-time = 1h\n"
			       "lockout-max-time = 1m\n", &c));
	assert_non_null(strstr(f->err, "vpnd.conf:2: address-pool4"));
	assert_non_null(strstr(f->err, "vpnd.conf:3: routes"));
	assert_non_null(strstr(f->err, "vpnd.conf:5: lockout-max-time"));
}

/* vpnd_config_check() also guards values set outside the file. */
static void
test_vpnd_check_struct(void **state)
{
	struct fixture *f = *state;
	static struct vpnd_config c;
	int saved;

	assert_true(load_vpnd(f, KEY POOL "mtu = 1500\n", &c));
	assert_true(vpnd_config_check(&c));
	c.mtu = 9001;
	saved = capture_begin(f);
	assert_false(vpnd_config_check(&c));
	capture_end(f, saved);
	assert_non_null(strstr(f->err, "vpnd.conf:3: mtu: 9001 is out of "
				       "range (1280-9000)"));
	vpnd_config_wipe(&c);
}

/* ---- vpnd: metrics ----------------------------------------------------- */

/* metrics-listen: a bare port is on loopback; IPv6 in brackets. */
static void
test_vpnd_metrics(void **state)
{
	static const struct {
		const char *value, *addr;
		int family;
		unsigned int port;
	} good[] = {
		{ "9108", "127.0.0.1", AF_INET, 9108 },
		{ "\"127.0.0.1:9108\"", "127.0.0.1", AF_INET, 9108 },
		{ "\"0.0.0.0:1\"", "0.0.0.0", AF_INET, 1 },
		{ "\"[::1]:9108\"", "::1", AF_INET6, 9108 },
		{ "\"[::]:65535\"", "::", AF_INET6, 65535 },
		{ "\"10.20.0.1:80\"", "10.20.0.1", AF_INET, 80 },
	};
	struct fixture *f = *state;
	static struct vpnd_config c;
	char text[512], addr[INET6_ADDRSTRLEN];
	size_t i;

	assert_true(load_vpnd(f, KEY POOL, &c));
	assert_false(c.has_metrics_listen);
	assert_string_equal(c.metrics_textfile, "");
	assert_int_equal(c.metrics_interval_s, 15);
	for (i = 0; i < ARRAY_SIZE(good); i++) {
		const struct sockaddr_in *in4 = (const void *)&c.metrics_listen;
		const struct sockaddr_in6 *in6 = (const void *)&c.metrics_listen;

		snprintf(text, sizeof(text), KEY POOL "metrics-listen = %s\n",
			 good[i].value);
		if (!load_vpnd(f, text, &c))
			fail_msg("refused:\n%s\n%s", text, f->err);
		assert_true(c.has_metrics_listen);
		assert_int_equal(c.metrics_listen.ss_family, good[i].family);
		if (good[i].family == AF_INET) {
			inet_ntop(AF_INET, &in4->sin_addr, addr, sizeof(addr));
			assert_int_equal(ntohs(in4->sin_port), good[i].port);
		} else {
			inet_ntop(AF_INET6, &in6->sin6_addr, addr,
				  sizeof(addr));
			assert_int_equal(ntohs(in6->sin6_port), good[i].port);
		}
		assert_string_equal(addr, good[i].addr);
		vpnd_config_wipe(&c);
	}
	assert_true(load_vpnd(f, KEY POOL "metrics-textfile = "
			      "\"/var/lib/node_exporter/vpnd.prom\"\n"
			      "metrics-interval = 1m\n", &c));
	assert_string_equal(c.metrics_textfile,
			    "/var/lib/node_exporter/vpnd.prom");
	assert_int_equal(c.metrics_interval_s, 60);
	vpnd_config_wipe(&c);
}

static const struct {
	const char *text, *option, *detail;
} metrics_bad[] = {
	{ HEAD "metrics-listen = 0 " MARK "\n", "metrics-listen",
	  "0 is not an address and port" },
	{ HEAD "metrics-listen = 65536 " MARK "\n", "metrics-listen", 0 },
	{ HEAD "metrics-listen = \"127.0.0.1\" " MARK "\n", "metrics-listen",
	  "such as 9108, 127.0.0.1:9108 or [::1]:9108" },
	{ HEAD "metrics-listen = \"127.0.0.1:\" " MARK "\n", "metrics-listen",
	  0 },
	{ HEAD "metrics-listen = \"localhost:9108\" " MARK "\n",
	  "metrics-listen", "localhost:9108" },
	{ HEAD "metrics-listen = \"::1:9108\" " MARK "\n", "metrics-listen",
	  0 },
	{ HEAD "metrics-listen = \"[::1]9108\" " MARK "\n", "metrics-listen",
	  0 },
	{ HEAD "metrics-listen = \"[127.0.0.1]:9108\" " MARK "\n",
	  "metrics-listen", 0 },
	{ HEAD "metrics-listen = \"1.2.3.4:+80\" " MARK "\n", "metrics-listen",
	  0 },
	{ HEAD "metrics-listen = \"1.2.3.4:080000\" " MARK "\n",
	  "metrics-listen", 0 },
	{ HEAD "metrics-textfile = \"vpnd.prom\" " MARK "\n",
	  "metrics-textfile", "not an absolute path" },
	{ HEAD "metrics-textfile = \"/var/lib/node_exporter/vpnd.txt\" " MARK
	  "\n", "metrics-textfile", "node_exporter reads only" },
	{ HEAD "metrics-textfile = \"/var/lib/node_exporter/\" " MARK "\n",
	  "metrics-textfile", "name.prom" },
	{ HEAD "metrics-textfile = \"/var/lib/.prom\" " MARK "\n",
	  "metrics-textfile", "name.prom" },
	{ HEAD "metrics-interval = 0 " MARK "\n", "metrics-interval",
	  "1s-1h" },
	{ HEAD "metrics-interval = 2h " MARK "\n", "metrics-interval",
	  "1s-1h" },
	{ HEAD "metrics-interval = 1500ms " MARK "\n", "metrics-interval",
	  0 },
};

static void
test_vpnd_metrics_refused(void **state)
{
	struct fixture *f = *state;
	static struct vpnd_config c;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(metrics_bad); i++) {
		if (load_vpnd(f, metrics_bad[i].text, &c))
			fail_msg("accepted:\n%s", metrics_bad[i].text);
		assert_message(f, "vpnd.conf", metrics_bad[i].text,
			       marked_line(metrics_bad[i].text),
			       metrics_bad[i].option, metrics_bad[i].detail);
	}
}

/* ---- vpnc -------------------------------------------------------------- */

static char *
vpnc_text(const struct fixture *f, const char *server, const char *rest,
	  char *out, size_t len)
{
	snprintf(out, len,
		 "# client\n"
		 "server = \"%s\"\n"
		 "server-public-key = \"%s\"\n"
		 "private-key-file = client.key\n"
		 "user = \"alice\"\n"
		 "%s",
		 server, f->server_pub, rest);
	return out;
}

static void
test_vpnc_full(void **state)
{
	struct fixture *f = *state;
	static struct vpnc_config c;
	uint8_t pub[KEY_LEN];
	char text[2048];

	vpnc_text(f, "vpn.example.com:443", "preshared-key-file = psk.key\n"
		  "interface = \"vpn7\"\n"
		  "mtu = 1380\n"
		  "dns = resolvconf\n"
		  "reconnect-max-backoff = 5m\n"
		  "offload = no\n"
		  "log = syslog\n"
		  "log-level = warning\n"
		  "test-timer-divisor = 20\n", text, sizeof(text));
	if (!load_vpnc(f, text, &c))
		fail_msg("refused:\n%s", f->err);
	assert_string_equal(c.server_host, "vpn.example.com");
	assert_int_equal(c.server_port, 443);
	assert_true(keys_from_base64(pub, f->server_pub, KEY_B64_LEN));
	assert_memory_equal(c.server_public_key, pub, KEY_LEN);
	assert_memory_equal(c.private_key, f->client, KEY_LEN);
	assert_true(keys_public_from_private(pub, f->client));
	assert_memory_equal(c.public_key, pub, KEY_LEN);
	assert_true(c.has_psk);
	assert_memory_equal(c.psk, f->psk, KEY_LEN);
	assert_string_equal(c.user, "alice");
	assert_string_equal(c.interface, "vpn7");
	assert_int_equal(c.mtu, 1380);
	assert_int_equal(c.dns_mode, VPNC_DNS_RESOLVCONF);
	assert_int_equal(c.reconnect_max_s, 300);
	assert_false(c.offload);
	assert_true(c.log_syslog);
	assert_int_equal(c.log_level, LOG_WARNING);
	assert_int_equal(c.test_timer_divisor, 20);
	vpnc_config_wipe(&c);
	assert_true(keys_is_zero(c.private_key) && keys_is_zero(c.psk));
}

static void
test_vpnc_servers(void **state)
{
	static const struct {
		const char *text, *host;
		uint16_t port;
	} v[] = {
		{ "vpn.example.com", "vpn.example.com", 51900 },
		{ "vpn.example.com.", "vpn.example.com.", 51900 },
		{ "vpn:1", "vpn", 1 },
		{ "192.0.2.1:65535", "192.0.2.1", 65535 },
		{ "[2001:db8::1]:51901", "2001:db8::1", 51901 },
		{ "[2001:db8::1]", "2001:db8::1", 51900 },
		{ "2001:db8::1", "2001:db8::1", 51900 },
	};
	struct fixture *f = *state;
	static struct vpnc_config c;
	char text[2048];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		vpnc_text(f, v[i].text, "", text, sizeof(text));
		if (!load_vpnc(f, text, &c))
			fail_msg("refused %s:\n%s", v[i].text, f->err);
		assert_string_equal(c.server_host, v[i].host);
		assert_int_equal(c.server_port, v[i].port);
		assert_int_equal(c.dns_mode, VPNC_DNS_AUTO);
		assert_int_equal(c.reconnect_max_s, 60);
		assert_int_equal(c.mtu, 0); /* "auto" */
		vpnc_config_wipe(&c);
	}
}

static void
test_vpnc_refused(void **state)
{
	static const struct {
		const char *server, *rest, *option, *detail;
	} v[] = {
		{ "vpn.example.com:99999", "", "server", "99999" },
		{ "vpn.example.com:0", "", "server", "out of range" },
		{ "vpn.example.com:", "", "server", "missing" },
		{ "vpn.example.com:http", "", "server", "not a number" },
		{ "[2001:db8::1", "", "server", "']'" },
		{ "[2001:db8::1]51900", "", "server", 0 },
		{ "[vpn.example.com]:1", "", "server", "IPv6" },
		{ "2001:db8::1:51900:x", "", "server", 0 },
		{ "vpn..example.com", "", "server", 0 },
		{ "vpn example.com", "", "server", 0 },
		{ "999.0.2.1", "", "server", 0 },
		{ "", "", "server", 0 },
		{ "vpn", "server-public-key = \"bm90IGEga2V5\" " MARK "\n",
		  "server-public-key", "bm90IGEga2V5" },
		{ "vpn", "server-public-key = "
			 "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\" "
			 MARK "\n", "server-public-key", 0 },
		{ "vpn", "user = \"abcdefghijabcdefghijabcdefghijabcdefghij"
			 "abcdefghijabcdefghijabcde\" " MARK "\n", "user", 0 },
		{ "vpn", "user = \"\\xff\\xfe\" " MARK "\n", "user", 0 },
		{ "vpn", "dns = sometimes " MARK "\n", "dns", "sometimes" },
		{ "vpn", "mtu = 576 " MARK "\n", "mtu", "1280-9000" },
		{ "vpn", "mtu = 9001 " MARK "\n", "mtu", "1280-9000" },
		{ "vpn", "mtu = auto1 " MARK "\n", "mtu", "neither" },
		{ "vpn", "busy-poll = -1 " MARK "\n", "busy-poll", "-1" },
		{ "vpn", "aead = sodium " MARK "\n", "aead",
		  "sodium is not auto, openssl or libsodium" },
		{ "vpn", "reconnect-max-backoff = 2h " MARK "\n",
		  "reconnect-max-backoff", "1s-1h" },
		{ "vpn", "private-key-file = gone.key " MARK "\n",
		  "private-key-file", "gone.key" },
		{ "vpn", "private-key-file = open.key " MARK "\n",
		  "private-key-file", "chmod 600" },
		{ "vpn", "preshared-key-file = open.key " MARK "\n",
		  "preshared-key-file", "chmod 600" },
		/* Line 3 of vpnc_text() holds the key, the server's own. */
		{ "vpn", "private-key-file = priv.key\n# " MARK "\n",
		  "server-public-key", "own public key" },
		{ "vpn", "servr = x " MARK "\n", "no such option 'servr'", 0 },
	};
	struct fixture *f = *state;
	static struct vpnc_config c;
	char text[2048];
	size_t i;
	int line;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		vpnc_text(f, v[i].server, v[i].rest, text, sizeof(text));
		if (!v[i].rest[0]) {
			/* The server line is line 2 of vpnc_text(). */
			char *nl = strchr(strchr(text, '\n') + 1, '\n');

			memmove(nl + strlen(" " MARK), nl, strlen(nl) + 1);
			memcpy(nl, " " MARK, strlen(" " MARK));
		}
		if (load_vpnc(f, text, &c))
			fail_msg("accepted:\n%s", text);
		line = marked_line(text);
		if (v[i].detail && strcmp(v[i].detail, "own public key") == 0)
			line = 3;
		assert_message(f, "vpnc.conf", text, line, v[i].option,
			       v[i].detail);
		assert_true(keys_is_zero(c.private_key));
	}
}

static void
test_vpnc_required(void **state)
{
	struct fixture *f = *state;
	static struct vpnc_config c;

	assert_false(load_vpnc(f, "# nothing\n", &c));
	assert_non_null(strstr(f->err, "vpnc.conf: server: not set"));
	assert_non_null(strstr(f->err, "vpnc.conf: server-public-key: not"));
	assert_non_null(strstr(f->err, "vpnc.conf: user: not set"));
	assert_non_null(strstr(f->err, "vpnc.conf: private-key-file: not"));
}

/* ---- vpnc: what it takes of a server's push (accept-routes, full-tunnel) */

static void
test_vpnc_policy(void **state)
{
	static const struct {
		const char *rest;
		bool full;
		const char *accept[3]; /* NULL-ended; {NULL} is "none" */
		int n;                 /* -1: the default list */
	} v[] = {
		{ "", false, { NULL }, -1 },
		{ "full-tunnel = no\n", false, { NULL }, -1 },
		{ "full-tunnel = yes\n", true, { NULL }, -1 },
		{ "full-tunnel = \"yes\"\n", true, { NULL }, -1 },
		{ "accept-routes = {}\n", false, { NULL }, 0 },
		{ "accept-routes = {\"10.20.0.0/16\", \"fd00:20::/48\"}\n"
		  "full-tunnel = yes\n",
		  true, { "10.20.0.0/16", "fd00:20::/48", NULL }, 2 },
		{ "accept-routes = {\"0.0.0.0/0\"}\n", false,
		  { "0.0.0.0/0", NULL }, 1 },
		{ "accept-routes = {\"192.0.2.7\"}\n", false,
		  { "192.0.2.7/32", NULL }, 1 },
		/* libconfuse takes one value for a one-element list. */
		{ "accept-routes = \"10.20.0.0/16\"\n", false,
		  { "10.20.0.0/16", NULL }, 1 },
	};
	struct fixture *f = *state;
	static struct vpnc_config c;
	char text[2048], got[PREFIX_STR_LEN];
	size_t i;
	int j;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		vpnc_text(f, "vpn", v[i].rest, text, sizeof(text));
		if (!load_vpnc(f, text, &c))
			fail_msg("refused:\n%s\n%s", text, f->err);
		assert_true(c.policy.full_tunnel == v[i].full);
		if (v[i].n < 0) {
			/* The default: everything but a default route. */
			assert_int_equal(c.policy.n_accept, 2);
			assert_string_equal(prefix_format(&c.policy.accept[0],
							  got), "0.0.0.0/0");
			assert_string_equal(prefix_format(&c.policy.accept[1],
							  got), "::/0");
		} else {
			assert_int_equal(c.policy.n_accept, v[i].n);
			for (j = 0; j < v[i].n; j++)
				assert_string_equal(
					prefix_format(&c.policy.accept[j], got),
					v[i].accept[j]);
		}
		vpnc_config_wipe(&c);
	}
}

static void
test_vpnc_policy_refused(void **state)
{
	static const struct {
		const char *rest, *detail;
	} v[] = {
		{ "full-tunnel = maybe " MARK "\n", "maybe is not yes or no" },
		{ "full-tunnel = 1 " MARK "\n", "1 is not yes or no" },
		{ "full-tunnel = YES " MARK "\n", "YES is not yes or no" },
		{ "accept-routes = {\"10.20.0.1/16\"} " MARK "\n",
		  "10.20.0.1/16 has host bits set (the network is "
		  "10.20.0.0/16)" },
		{ "accept-routes = {\"10.20.0.0/16\",\n"
		  "  \"fd00:20::1/48\"} " MARK "\n",
		  "fd00:20::1/48 has host bits set" },
		{ "accept-routes = {\"10.20.0.0/33\"} " MARK "\n",
		  "10.20.0.0/33 is not an address prefix" },
		{ "accept-routes = {\"office\"} " MARK "\n",
		  "office is not an address prefix" },
	};
	struct fixture *f = *state;
	static struct vpnc_config c;
	char text[2048];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		vpnc_text(f, "vpn", v[i].rest, text, sizeof(text));
		if (load_vpnc(f, text, &c))
			fail_msg("accepted:\n%s", text);
		assert_message(f, "vpnc.conf", text, marked_line(text),
			       strncmp(v[i].rest, "full", 4) ? "accept-routes"
							     : "full-tunnel",
			       v[i].detail);
	}
}

/* ---- vpnc: a full tunnel's exceptions, DNS and the state file (issue 13) */

static void
test_vpnc_leaks(void **state)
{
	static const struct {
		const char *rest;
		const char *exclude[3]; /* NULL-ended */
		bool allow_lan;
		enum vpnc_dns_mode dns;
		const char *state_file;
	} v[] = {
		{ "", { NULL }, false, VPNC_DNS_AUTO, "/run/vpnc/vpnc.state" },
		{ "exclude = {\"192.0.2.0/24\", \"2001:db8:1::/48\"}\n"
		  "allow-lan = yes\n",
		  { "192.0.2.0/24", "2001:db8:1::/48", NULL }, true,
		  VPNC_DNS_AUTO, "/run/vpnc/vpnc.state" },
		{ "exclude = \"10.1.2.3\"\nallow-lan = no\n",
		  { "10.1.2.3/32", NULL }, false, VPNC_DNS_AUTO,
		  "/run/vpnc/vpnc.state" },
		{ "dns = \"resolved\"\n", { NULL }, false, VPNC_DNS_RESOLVED,
		  "/run/vpnc/vpnc.state" },
		{ "dns = \"file\"\nstate-file = \"/tmp/x/office.state\"\n",
		  { NULL }, false, VPNC_DNS_FILE, "/tmp/x/office.state" },
	};
	struct fixture *f = *state;
	static struct vpnc_config c;
	char text[2048], got[PREFIX_STR_LEN];
	size_t i;
	unsigned int j;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		vpnc_text(f, "vpn", v[i].rest, text, sizeof(text));
		if (!load_vpnc(f, text, &c))
			fail_msg("refused:\n%s\n%s", text, f->err);
		for (j = 0; v[i].exclude[j]; j++)
			assert_string_equal(
				prefix_format(&c.policy.exclude[j], got),
				v[i].exclude[j]);
		assert_int_equal(c.policy.n_exclude, j);
		assert_true(c.policy.allow_lan == v[i].allow_lan);
		assert_int_equal(c.dns_mode, v[i].dns);
		/* vpnc.conf: NAME.conf gives /run/vpnc/NAME.state. */
		assert_string_equal(c.state_file, v[i].state_file);
		assert_string_equal(c.resolv_conf, "/etc/resolv.conf");
		vpnc_config_wipe(&c);
	}
}

static void
test_vpnc_leaks_refused(void **state)
{
	static const struct {
		const char *rest, *option, *detail;
	} v[] = {
		{ "exclude = {\"192.0.2.1/24\"} " MARK "\n", "exclude",
		  "192.0.2.1/24 has host bits set (the network is "
		  "192.0.2.0/24)" },
		{ "exclude = {\"128.0.0.0/1\"} " MARK "\n", "exclude",
		  "128.0.0.0/1 is too wide" },
		{ "exclude = {\"::/0\"} " MARK "\n", "exclude",
		  "::/0 is too wide" },
		{ "exclude = {\"printer\"} " MARK "\n", "exclude",
		  "printer is not an address prefix" },
		{ "allow-lan = 1 " MARK "\n", "allow-lan", "1 is not yes or no" },
		{ "dns = \"systemd\" " MARK "\n", "dns",
		  "systemd is not auto, resolved, resolvconf, file or none" },
	};
	struct fixture *f = *state;
	static struct vpnc_config c;
	char text[2048];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		vpnc_text(f, "vpn", v[i].rest, text, sizeof(text));
		if (load_vpnc(f, text, &c))
			fail_msg("accepted:\n%s", text);
		assert_message(f, "vpnc.conf", text, marked_line(text),
			       v[i].option, v[i].detail);
	}
}

/* More than POLICY_MAX_ACCEPT prefixes: the first one too many named. */
static void
test_vpnc_policy_too_many(void **state)
{
	struct fixture *f = *state;
	static struct vpnc_config c;
	static char text[8192], list[6144];
	size_t n = 0;
	unsigned int i;

	for (i = 0; i <= POLICY_MAX_ACCEPT; i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n,
				      "%s\"10.%u.0.0/16\"%s\n", i ? "  " : "",
				      i, i == POLICY_MAX_ACCEPT ? "} " MARK
								: ",");
	vpnc_text(f, "vpn", "accept-routes = {", text, sizeof(text));
	strcat(text, list);
	assert_false(load_vpnc(f, text, &c));
	assert_message(f, "vpnc.conf", text, marked_line(text),
		       "accept-routes", "more than 64 prefixes");
}

/* mtu, in both programs: "auto" (0) quoted or not, or 1280-9000. */
static void
test_mtu_auto(void **state)
{
	static const struct {
		const char *value;
		uint16_t mtu;
	} v[] = {
		{ "auto", 0 }, { "\"auto\"", 0 }, { "1280", 1280 },
		{ "\"1400\"", 1400 }, { "9000", 9000 },
	};
	struct fixture *f = *state;
	static struct vpnd_config d;
	static struct vpnc_config c;
	char text[2048], line[64];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		snprintf(line, sizeof(line), "mtu = %s\n", v[i].value);
		snprintf(text, sizeof(text), "private-key-file = priv.key\n"
			 "address-pool4 = 10.99.0.0/24\nmtu = 1300\n%s", line);
		if (!load_vpnd(f, text, &d))
			fail_msg("vpnd refused %s:\n%s", line, f->err);
		assert_int_equal(d.mtu, v[i].mtu);
		assert_true(vpnd_config_check(&d));
		vpnd_config_wipe(&d);
		vpnc_text(f, "vpn", line, text, sizeof(text));
		if (!load_vpnc(f, text, &c))
			fail_msg("vpnc refused %s:\n%s", line, f->err);
		assert_int_equal(c.mtu, v[i].mtu);
		vpnc_config_wipe(&c);
	}
}

/* ---- the shipped samples ----------------------------------------------- */

/*
 * Every "#option = value" line of a sample uncommented, key paths pointed
 * at the fixture's keys: the file must load, and what it documents as the
 * default must be the default.
 */
static bool
sample(const struct fixture *f, const char *src, const char *const *subst,
       char *out, size_t len)
{
	char line[512], *p;
	size_t n = 0, i;
	FILE *in = fopen(src, "r");

	if (!in)
		return false;
	out[0] = '\0';
	while (fgets(line, sizeof(line), in)) {
		p = line;
		if (line[0] == '#' && line[1] >= 'a' && line[1] <= 'z' &&
		    strstr(line, " = "))
			p++;
		for (i = 0; subst[i]; i += 2)
			if (strncmp(p, subst[i], strlen(subst[i])) == 0)
				snprintf(p, sizeof(line) - 1,
					 "%s = \"%s/%s\"\n", subst[i], f->dir,
					 subst[i + 1]);
		n += (size_t)snprintf(out + n, len - n, "%s", p);
		assert_true(n < len);
	}
	fclose(in);
	return true;
}

static void
test_sample_vpnd(void **state)
{
	static const char *const subst[] = {
		"private-key-file", "priv.key", "preshared-key-file", "psk.key",
		NULL,
	};
	struct fixture *f = *state;
	static struct vpnd_config c, d;
	static char text[16384];

	if (!sample(f, "conf/vpnd.conf", subst, text, sizeof(text)))
		skip();
	if (!load_vpnd(f, text, &c))
		fail_msg("conf/vpnd.conf refused:\n%s\n%s", f->err, text);
	vpnd_config_defaults(&d);
	assert_string_equal(c.interface, d.interface);
	assert_string_equal(c.user_db, d.user_db);
	assert_string_equal(c.control_socket, d.control_socket);
	assert_string_equal(c.totp_issuer, d.totp_issuer);
	assert_true(c.log_syslog == d.log_syslog);
	assert_int_equal(c.log_level, d.log_level);
	/* Everything from the first number to the last. */
	assert_int_equal(c.listen_port, d.listen_port);
	assert_int_equal(c.mtu, d.mtu);
	assert_int_equal(c.max_peers, d.max_peers);
	assert_int_equal(c.auth_workers, d.auth_workers);
	assert_int_equal(c.keepalive_s, d.keepalive_s);
	assert_int_equal(c.session_lifetime_s, d.session_lifetime_s);
	assert_int_equal(c.totp_window, d.totp_window);
	assert_int_equal(c.lockout_failures, d.lockout_failures);
	assert_int_equal(c.lockout_time_s, d.lockout_time_s);
	assert_int_equal(c.lockout_max_time_s, d.lockout_max_time_s);
	assert_int_equal(c.failure_delay_ms, d.failure_delay_ms);
	assert_int_equal(c.auth_queue, d.auth_queue);
	assert_int_equal(c.handshake_rate, d.handshake_rate);
	assert_int_equal(c.metrics_interval_s, d.metrics_interval_s);
	assert_int_equal(c.test_timer_divisor, d.test_timer_divisor);
	vpnd_config_wipe(&c);
}

/* ---- vpnctl's password policy ----------------------------------------- */

/* Its two options: set, defaulted (as the sample documents), refused
 * outside their ranges at their line. */
static void
test_vpnd_password_policy(void **state)
{
	static const char *const subst[] = { "private-key-file", "priv.key",
					     "preshared-key-file", "psk.key",
					     NULL };
	static const struct {
		const char *text, *detail;
	} bad[] = {
		{ HEAD "password-min-length = 0 " MARK "\n", "1-255" },
		{ HEAD "password-min-length = 256 " MARK "\n", "1-255" },
		{ HEAD "password-min-length = twelve " MARK "\n", "twelve" },
		{ HEAD "password-min-score = 5 " MARK "\n", "0-4" },
		{ HEAD "password-min-score = -1 " MARK "\n", 0 },
	};
	struct fixture *f = *state;
	static struct vpnd_config c;
	static char text[16384];
	size_t i;

	assert_true(load_vpnd(f, HEAD "password-min-length = 20\n"
			      "password-min-score = 0\n", &c));
	assert_int_equal(c.password_min_length, 20);
	assert_int_equal(c.password_min_score, 0);
	assert_true(load_vpnd(f, HEAD, &c));
	assert_int_equal(c.password_min_length, 12);
	assert_int_equal(c.password_min_score, 3);
	if (sample(f, "conf/vpnd.conf", subst, text, sizeof(text))) {
		assert_non_null(strstr(text, "\npassword-min-length = 12\n"));
		assert_non_null(strstr(text, "\npassword-min-score = 3\n"));
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		if (load_vpnd(f, bad[i].text, &c))
			fail_msg("accepted:\n%s", bad[i].text);
		assert_message(f, "vpnd.conf", bad[i].text,
			       marked_line(bad[i].text),
			       strstr(bad[i].text, "score") ? "password-min-score"
							   : "password-min-length",
			       bad[i].detail);
	}
}

/*
 * The sample's server key is a placeholder that vpnc refuses, naming it:
 * the fixture's server key goes in its place (the same length).
 */
static void
replace_placeholder_key(struct fixture *f, char *text, struct vpnc_config *c)
{
	static const char option[] = "\nserver-public-key = \"";
	char *p = strstr(text, option);

	assert_non_null(p);
	assert_false(load_vpnc(f, text, c));
	assert_non_null(strstr(f->err, "server-public-key: "));
	assert_non_null(strstr(f->err, " is a placeholder, not a key"));
	vpnc_config_wipe(c);
	p += strlen(option);
	assert_true(strlen(p) > KEY_B64_LEN && p[KEY_B64_LEN] == '"');
	memcpy(p, f->server_pub, KEY_B64_LEN);
}

static void
test_sample_vpnc(void **state)
{
	static const char *const subst[] = {
		"private-key-file", "client.key", "preshared-key-file",
		"psk.key", NULL,
	};
	struct fixture *f = *state;
	static struct vpnc_config c, d;
	static char text[16384];

	if (!sample(f, "conf/vpnc.conf", subst, text, sizeof(text)))
		skip();
	replace_placeholder_key(f, text, &c);
	if (!load_vpnc(f, text, &c))
		fail_msg("conf/vpnc.conf refused:\n%s\n%s", f->err, text);
	vpnc_config_defaults(&d);
	assert_string_equal(c.interface, d.interface);
	assert_int_equal(c.mtu, d.mtu);
	assert_int_equal(c.server_port, d.server_port);
	assert_int_equal(c.dns_mode, d.dns_mode);
	assert_int_equal(c.reconnect_max_s, d.reconnect_max_s);
	assert_true(c.log_syslog == d.log_syslog);
	assert_int_equal(c.log_level, d.log_level);
	assert_int_equal(c.test_timer_divisor, d.test_timer_divisor);
	vpnc_config_wipe(&c);
}

/* The sample's accept-routes and full-tunnel lines are the defaults. */
static void
test_vpnc_policy_sample(void **state)
{
	static const char *const subst[] = {
		"private-key-file", "client.key", "preshared-key-file",
		"psk.key", NULL,
	};
	struct fixture *f = *state;
	static struct vpnc_config c, d;
	static char text[16384];

	if (!sample(f, "conf/vpnc.conf", subst, text, sizeof(text)))
		skip();
	replace_placeholder_key(f, text, &c);
	assert_non_null(strstr(text, "\naccept-routes = "));
	assert_non_null(strstr(text, "\nfull-tunnel = "));
	if (!load_vpnc(f, text, &c))
		fail_msg("conf/vpnc.conf refused:\n%s\n%s", f->err, text);
	vpnc_config_defaults(&d);
	assert_true(c.policy.full_tunnel == d.policy.full_tunnel);
	assert_int_equal(c.policy.n_accept, d.policy.n_accept);
	assert_memory_equal(c.policy.accept, d.policy.accept,
			    sizeof(c.policy.accept));
	vpnc_config_wipe(&c);
}

/* ---- conf.c helpers ---------------------------------------------------- */

static void
test_durations(void **state)
{
	static const struct {
		const char *text;
		bool ok;
		uint64_t ms;
	} v[] = {
		{ "90", true, 90000 },   { "90s", true, 90000 },
		{ "500ms", true, 500 },  { "15m", true, 900000 },
		{ "12h", true, 43200000 }, { "1d", true, 86400000 },
		{ "0", true, 0 },        { "007s", true, 7000 },
		{ "", false, 0 },        { "s", false, 0 },
		{ "1.5h", false, 0 },    { "-1", false, 0 },
		{ "+1", false, 0 },      { "1 h", false, 0 },
		{ " 1h", false, 0 },     { "1H", false, 0 },
		{ "10x", false, 0 },     { "1hm", false, 0 },
		{ "1d1h", false, 0 },    { "0x10", false, 0 },
		{ "99999999999999999999", false, 0 },
		{ "999999999999d", false, 0 },
	};
	uint64_t ms;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		ms = 12345;
		if (conf_parse_duration_ms(v[i].text, &ms) != v[i].ok)
			fail_msg("duration \"%s\"", v[i].text);
		if (v[i].ok)
			assert_int_equal(ms, v[i].ms);
	}
}

static void
test_path_resolve(void **state)
{
	char out[PATH_MAX];

	(void)state;
	assert_true(conf_path_resolve("/etc/vpnd/vpnd.conf", "k.key", out));
	assert_string_equal(out, "/etc/vpnd/k.key");
	assert_true(conf_path_resolve("/etc/vpnd/vpnd.conf", "/k", out));
	assert_string_equal(out, "/k");
	assert_true(conf_path_resolve("vpnd.conf", "k.key", out));
	assert_string_equal(out, "k.key");
	assert_true(conf_path_resolve("/vpnd.conf", "k.key", out));
	assert_string_equal(out, "/k.key");
	assert_true(conf_path_resolve("a/b.conf", "../k", out));
	assert_string_equal(out, "a/../k");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_vpnd_full, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mtu_auto, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vpnd_defaults, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vpnd_admin, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vpnd_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vpnd_store_names, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vpnd_all_problems, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vpnd_metrics, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vpnd_metrics_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_vpnd_check_struct, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vpnc_full, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vpnc_servers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vpnc_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vpnc_required, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vpnc_policy, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vpnc_policy_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vpnc_leaks, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vpnc_leaks_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vpnc_policy_too_many,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_sample_vpnd, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sample_vpnc, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vpnc_policy_sample, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vpnd_password_policy,
						setup, teardown),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_path_resolve),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
