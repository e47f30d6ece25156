// SPDX-License-Identifier: MIT
/*
 * vpnc's servers (vpnc/servers.c, and the `server` lines of vpnc/config.c):
 * several lines and a list add up, in order, an old single line still
 * works, a 17th is refused with its line; the list drops duplicates and
 * the other family, caps at SERVERS_MAX and walks as a ring; the shuffle
 * is a permutation, follows its random source exactly (Fisher-Yates
 * against a naive reference) and reaches every order; numeric names
 * resolve to the addresses vpnc will use; only the shutdown's REASON
 * moves a client on.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../vpnc/config.h"
#include "../../vpnc/servers.h"
#include "keys.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct fixture {
	char dir[64];
	char server_pub[KEY_B64_LEN + 1];
	char err[4096];
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

static int
setup(void **state)
{
	static struct fixture f;
	uint8_t priv[KEY_LEN], pub[KEY_LEN];
	char b64[KEY_B64_LEN + 2], path[128];

	assert_true(sodium_init() >= 0);
	memset(&f, 0, sizeof(f));
	snprintf(f.dir, sizeof(f.dir), "/tmp/test_servers.XXXXXX");
	assert_non_null(mkdtemp(f.dir));
	randombytes_buf(priv, KEY_LEN);
	keys_clamp(priv);
	keys_to_base64(b64, priv);
	strcat(b64, "\n");
	snprintf(path, sizeof(path), "%s/client.key", f.dir);
	write_file(path, b64, 0600);
	randombytes_buf(priv, KEY_LEN);
	keys_clamp(priv);
	assert_true(keys_public_from_private(pub, priv));
	keys_to_base64(f.server_pub, pub);
	sodium_memzero(priv, sizeof(priv));
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

/* Loads a vpnc.conf of `servers` (its server lines) and the required
 * rest; stderr goes to f->err. */
static bool
load(struct fixture *f, const char *servers, struct vpnc_config *c)
{
	char path[128], text[4096], errpath[128];
	int saved, fd;
	ssize_t n;
	bool ok;

	snprintf(text, sizeof(text),
		 "%s"
		 "server-public-key = \"%s\"\n"
		 "private-key-file = client.key\n"
		 "user = \"alice\"\n",
		 servers, f->server_pub);
	snprintf(path, sizeof(path), "%s/vpnc.conf", f->dir);
	write_file(path, text, 0644);
	snprintf(errpath, sizeof(errpath), "%s/stderr", f->dir);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	fd = open(errpath, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, STDERR_FILENO);
	close(fd);
	ok = vpnc_config_load(c, path);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	fd = open(errpath, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, f->err, sizeof(f->err) - 1);
	f->err[n > 0 ? n : 0] = '\0';
	close(fd);
	vpnc_config_wipe(c);
	return ok;
}

/* ---- the server lines ---------------------------------------------------- */

static void
test_config_lines(void **state)
{
	static const struct {
		const char *text;
		unsigned int n;
		const char *host[3];
		uint16_t port[3];
	} v[] = {
		/* Yesterday's configuration: one line. */
		{ "server = \"vpn.example.com:443\"\n", 1,
		  { "vpn.example.com" }, { 443 } },
		{ "server = \"a.example\"\nserver = \"192.0.2.2:1\"\n", 2,
		  { "a.example", "192.0.2.2" }, { 51900, 1 } },
		{ "server = {\"a.example\", \"[2001:db8::1]:7\"}\n", 2,
		  { "a.example", "2001:db8::1" }, { 51900, 7 } },
		{ "server = {\"a\", \"b\"}\nserver = \"c:9\"\n", 3,
		  { "a", "b", "c" }, { 51900, 51900, 9 } },
		{ "server = \"a\"\nserver += \"b\"\n", 2,
		  { "a", "b" }, { 51900, 51900 } },
	};
	struct fixture *f = *state;
	static struct vpnc_config c;
	unsigned int i, j;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		if (!load(f, v[i].text, &c))
			fail_msg("refused %s:\n%s", v[i].text, f->err);
		assert_int_equal(c.n_servers, v[i].n);
		for (j = 0; j < v[i].n; j++) {
			assert_string_equal(c.servers[j].host, v[i].host[j]);
			assert_int_equal(c.servers[j].port, v[i].port[j]);
		}
		/* The first is also the single server of old. */
		assert_string_equal(c.server_host, v[i].host[0]);
		assert_int_equal(c.server_port, v[i].port[0]);
	}
}

static void
test_config_refused(void **state)
{
	struct fixture *f = *state;
	static struct vpnc_config c;
	char text[2048];
	size_t len = 0;
	unsigned int i;

	for (i = 0; i <= VPNC_MAX_SERVERS; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"server = \"192.0.2.%u\"\n", i + 1);
	assert_false(load(f, text, &c));
	if (!strstr(f->err, "vpnc.conf:17: server: 192.0.2.17: more than 16 "
			    "servers"))
		fail_msg("wrong message: %s", f->err);
	/* A bad one among good ones names its own line. */
	assert_false(load(f, "server = \"a\"\nserver = \"b:0\"\n", &c));
	if (!strstr(f->err, "vpnc.conf:2: server: b:0:"))
		fail_msg("wrong message: %s", f->err);
	assert_false(load(f, "server = {}\n", &c));
	if (!strstr(f->err, "server: not set"))
		fail_msg("wrong message: %s", f->err);
	/* Exactly the limit is fine, and one parse does not leak into the
	 * next. */
	len = 0;
	for (i = 0; i < VPNC_MAX_SERVERS; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"server = \"192.0.2.%u\"\n", i + 1);
	assert_true(load(f, text, &c));
	assert_int_equal(c.n_servers, VPNC_MAX_SERVERS);
	assert_true(load(f, "server = \"x\"\n", &c));
	assert_int_equal(c.n_servers, 1);
}

/* ---- the list ---------------------------------------------------------- */

static struct endpoint
ep_of(const char *addr, uint16_t port)
{
	struct endpoint e;

	memset(&e, 0, sizeof(e));
	if (strchr(addr, ':')) {
		e.addr.in6.sin6_family = AF_INET6;
		e.addr.in6.sin6_port = htons(port);
		assert_int_equal(inet_pton(AF_INET6, addr,
					   &e.addr.in6.sin6_addr), 1);
	} else {
		e.addr.in4.sin_family = AF_INET;
		e.addr.in4.sin_port = htons(port);
		assert_int_equal(inet_pton(AF_INET, addr,
					   &e.addr.in4.sin_addr), 1);
	}
	return e;
}

static void
test_add(void **state)
{
	static struct servers s;
	struct endpoint e;
	char name[64];
	unsigned int i;

	(void)state;
	servers_init(&s);
	assert_null(servers_current(&s));
	assert_null(servers_next(&s));
	e = ep_of("192.0.2.1", 51900);
	assert_true(servers_add(&s, "vpn.example", &e));
	assert_string_equal(s.e[0].name, "vpn.example (192.0.2.1:51900)");
	assert_int_equal(s.e[0].family, AF_INET);
	assert_memory_equal(s.e[0].addr, "\xc0\x00\x02\x01", 4);
	/* The same address and port again, by another name: one server. */
	assert_false(servers_add(&s, "192.0.2.1", &e));
	e = ep_of("192.0.2.1", 51901);
	assert_true(servers_add(&s, "192.0.2.1", &e));
	assert_string_equal(s.e[1].name, "192.0.2.1:51901");
	/* The other family is left out and counted. */
	e = ep_of("2001:db8::1", 51900);
	assert_false(servers_add(&s, "vpn.example", &e));
	assert_int_equal(s.skipped, 1);
	assert_int_equal(s.n, 2);
	for (i = s.n; i < SERVERS_MAX; i++) {
		snprintf(name, sizeof(name), "10.0.%u.1", i);
		e = ep_of(name, 1);
		assert_true(servers_add(&s, name, &e));
	}
	e = ep_of("10.1.0.1", 1);
	assert_false(servers_add(&s, "10.1.0.1", &e));
	assert_int_equal(s.overflow, 1);
	assert_int_equal(s.n, SERVERS_MAX);
	/* A ring. */
	assert_ptr_equal(servers_current(&s), &s.e[0]);
	for (i = 1; i <= SERVERS_MAX; i++)
		assert_ptr_equal(servers_next(&s), &s.e[i % SERVERS_MAX]);
}

/* ---- the shuffle --------------------------------------------------------- */

/* A scripted random source: the next value of `seq`, checked against the
 * bound the shuffle asks with. */
struct script {
	const uint32_t *seq;
	const uint32_t *upper;
	unsigned int i;
};

static uint32_t
scripted(void *arg, uint32_t upper)
{
	struct script *sc = arg;

	assert_int_equal(upper, sc->upper[sc->i]);
	return sc->seq[sc->i++];
}

static uint32_t
sodium_uniform(void *arg, uint32_t upper)
{
	(void)arg;
	return randombytes_uniform(upper);
}

static void
fill(struct servers *s, unsigned int n)
{
	char addr[32];
	struct endpoint e;
	unsigned int i;

	servers_init(s);
	for (i = 0; i < n; i++) {
		snprintf(addr, sizeof(addr), "192.0.2.%u", i);
		e = ep_of(addr, 51900);
		assert_true(servers_add(s, addr, &e));
	}
}

/* Which of fill()'s servers sits at position i: its last byte. */
static unsigned int
id(const struct servers *s, unsigned int i)
{
	return s->e[i].addr[3];
}

/* The naive reference: Fisher-Yates as written in the textbook. */
static void
naive_shuffle(unsigned int *a, unsigned int n, const uint32_t *seq)
{
	unsigned int i, k = 0, t, j;

	for (i = n - 1; i > 0; i--) {
		j = seq[k++];
		t = a[i];
		a[i] = a[j];
		a[j] = t;
	}
}

static void
test_shuffle_script(void **state)
{
	static const uint32_t upper[] = { 5, 4, 3, 2 };
	static const uint32_t seqs[][4] = {
		{ 4, 3, 2, 1 }, /* nothing moves */
		{ 0, 0, 0, 0 },
		{ 2, 1, 0, 0 },
		{ 1, 3, 2, 0 },
	};
	static struct servers s;
	unsigned int ref[5], i, k;

	(void)state;
	for (k = 0; k < ARRAY_SIZE(seqs); k++) {
		struct script sc = { seqs[k], upper, 0 };

		fill(&s, 5);
		s.cur = 3;
		servers_shuffle(&s, scripted, &sc);
		assert_int_equal(sc.i, 4);
		assert_int_equal(s.cur, 0);
		for (i = 0; i < 5; i++)
			ref[i] = i;
		naive_shuffle(ref, 5, seqs[k]);
		for (i = 0; i < 5; i++)
			assert_int_equal(id(&s, i), ref[i]);
	}
	/* Zero or one server: nothing to ask. */
	fill(&s, 1);
	servers_shuffle(&s, scripted, NULL);
	assert_int_equal(id(&s, 0), 0);
}

/* A source that answers out of range must not make the shuffle overrun. */
static uint32_t
broken(void *arg, uint32_t upper)
{
	(void)arg;
	return upper + 7;
}

static void
test_shuffle_random(void **state)
{
	/* 3 servers: 6 orders, each expected 1000 times in 6000. */
	static struct servers s;
	unsigned int count[6] = { 0 }, i, seen, order;

	(void)state;
	for (i = 0; i < 6000; i++) {
		fill(&s, 3);
		servers_shuffle(&s, sodium_uniform, NULL);
		seen = (1u << id(&s, 0)) | (1u << id(&s, 1)) |
		       (1u << id(&s, 2));
		assert_int_equal(seen, 7); /* a permutation */
		order = id(&s, 0) * 2 + (id(&s, 1) > id(&s, 2));
		count[order]++;
	}
	/* Each within 1000 +- 200: a miss once in about 10^10 runs. */
	for (i = 0; i < 6; i++)
		if (count[i] < 800 || count[i] > 1200)
			fail_msg("order %u came %u times in 6000", i,
				 count[i]);
	fill(&s, 4);
	servers_shuffle(&s, broken, NULL);
	seen = 0;
	for (i = 0; i < 4; i++)
		seen |= 1u << id(&s, i);
	assert_int_equal(seen, 15);
}

/* ---- resolving, and the shutdown's REASON ------------------------------------ */

static void
test_resolve_numeric(void **state)
{
	static struct vpnc_config c;
	static struct servers s;

	(void)state;
	memset(&c, 0, sizeof(c));
	snprintf(c.servers[0].host, sizeof(c.servers[0].host), "192.0.2.1");
	c.servers[0].port = 51900;
	snprintf(c.servers[1].host, sizeof(c.servers[1].host), "2001:db8::1");
	c.servers[1].port = 51900;
	snprintf(c.servers[2].host, sizeof(c.servers[2].host), "192.0.2.2");
	c.servers[2].port = 443;
	snprintf(c.servers[3].host, sizeof(c.servers[3].host), "192.0.2.1");
	c.servers[3].port = 51900;
	c.n_servers = 4;
	assert_int_equal(servers_resolve(&s, &c), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.skipped, 1);
	assert_string_equal(s.e[0].name, "192.0.2.1:51900");
	assert_string_equal(s.e[1].name, "192.0.2.2:443");
	c.n_servers = 0;
	assert_int_equal(servers_resolve(&s, &c), -EHOSTUNREACH);
}

static void
test_reason(void **state)
{
	static const struct {
		const char *reason;
		bool is_shutdown;
	} v[] = {
		{ "server shutdown", true },
		{ "server shutdown ", false },
		{ "server shutdow", false },
		{ "Server shutdown", false },
		{ "kicked by the administrator", false },
		{ "account disabled", false },
		{ "", false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++)
		assert_int_equal(servers_reason_is_shutdown(
					 (const uint8_t *)v[i].reason,
					 strlen(v[i].reason)),
				 v[i].is_shutdown);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_lines),
		cmocka_unit_test(test_config_refused),
		cmocka_unit_test(test_add),
		cmocka_unit_test(test_shuffle_script),
		cmocka_unit_test(test_shuffle_random),
		cmocka_unit_test(test_resolve_numeric),
		cmocka_unit_test(test_reason),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
