// SPDX-License-Identifier: MIT
/*
 * Fuzz harness for what vpnc makes of a pushed configuration: an OK
 * AUTH_RESULT decoded as from a server (shared/login.c), judged by vpnc's
 * own policy (vpnc/policy.c) under fuzzed vpnc.conf rules and server
 * address, the one log line naming what was refused, the text handed to
 * resolvconf (vpnc/netconf.c), and the source check of packets from the
 * tunnel. The input:
 *
 *   byte 0      flags: bit 0 full-tunnel = yes; bit 1 the server is IPv6;
 *               bit 2 accept-routes from the input (else the default)
 *   bytes 1-16  the server's outer address (the first 4 for IPv4)
 *   [bit 2]     a count (mod 9), then per prefix: family (odd: IPv6),
 *               16 address bytes, length (mod the family's bits + 1)
 *   u16         length of the control message, then the message
 *   u16         room for the log line
 *   the rest    sources to check: a family byte (odd: IPv6), 16 bytes
 *
 * Checked: everything taken obeys the rules policy.h states (against
 * naive bit-by-bit references, not policy.c's helpers), every route is
 * either taken or refused, "unusable" means exactly that an address was
 * refused or none pushed, the log line is printable and fits its room,
 * resolvconf gets one line per DNS server and one search line with
 * exactly the domains taken, and a source is let through exactly when a
 * naive scan of the taken configuration finds it.
 */
#include <netinet/in.h>
#include <sodium.h>
#include <sys/socket.h>

#include "../../vpnc/netconf.h"
#include "../../vpnc/policy.h"
#include "fuzz.h"
#include "log.h"
#include "login.h"
#include "prefix.h"

#define RESOLV_LEN 4096

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	log_init("fuzz", false, LOG_CRIT);
	return 0;
}

/* ---- naive references ---------------------------------------------------- */

static unsigned int
bits_of(int family)
{
	return family == AF_INET6 ? 128 : 32;
}

static int
bit_at(const uint8_t *a, unsigned int i)
{
	return (a[i / 8] >> (7 - i % 8)) & 1;
}

/* addr lies in p: the first p->len bits agree, one by one. */
static bool
naive_contains(const struct prefix *p, int family, const uint8_t *addr)
{
	unsigned int i;

	if (p->family != family)
		return false;
	for (i = 0; i < p->len; i++)
		if (bit_at(p->addr, i) != bit_at(addr, i))
			return false;
	return true;
}

/* All of r lies in p. */
static bool
naive_inside(const struct prefix *r, const struct prefix *p)
{
	return p->len <= r->len && naive_contains(p, r->family, r->addr);
}

static bool
naive_is_network(const struct prefix *p)
{
	unsigned int i;

	for (i = p->len; i < bits_of(p->family); i++)
		if (bit_at(p->addr, i))
			return false;
	return true;
}

/* A host name, label by label. */
static bool
naive_name(const char *s)
{
	size_t total = strlen(s), start = 0, end, i;

	if (total == 0 || total > 253)
		return false;
	while (start <= total) {
		const char *dot = strchr(s + start, '.');

		end = dot ? (size_t)(dot - s) : total;
		if (end == start || end - start > 63 || s[start] == '-' ||
		    s[end - 1] == '-')
			return false;
		for (i = start; i < end; i++)
			if (!strchr("abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-",
				    s[i]))
				return false;
		if (!dot)
			return true;
		start = end + 1;
	}
	return false;
}

/* A unicast address as policy.h means it (mapped IPv4 as IPv4). */
static bool
naive_unicast(int family, const uint8_t *a)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	static const uint8_t zero[16], one[16] = { [15] = 1 };

	if (family == AF_INET6 && memcmp(a, mapped, 12) == 0)
		return naive_unicast(AF_INET, a + 12);
	if (family == AF_INET)
		return a[0] != 0 && a[0] != 127 && (a[0] < 224 || a[0] > 239) &&
		       !(a[0] == 255 && a[1] == 255 && a[2] == 255 &&
			 a[3] == 255);
	return memcmp(a, zero, 16) != 0 && memcmp(a, one, 16) != 0 &&
	       a[0] != 0xff;
}

/* ---- reading the input --------------------------------------------------- */

struct setup {
	struct policy_rules rules;
	int server_family;
	uint8_t server[16];
};

static void
read_setup(struct fuzz_in *in, struct setup *s)
{
	uint8_t flags = fuzz_u8(in);
	unsigned int n, i, j;

	policy_rules_defaults(&s->rules);
	s->rules.full_tunnel = flags & 1;
	s->server_family = flags & 2 ? AF_INET6 : AF_INET;
	for (i = 0; i < 16; i++)
		s->server[i] = fuzz_u8(in);
	if (!(flags & 4))
		return;
	n = fuzz_u8(in) % 9;
	s->rules.n_accept = 0;
	for (i = 0; i < n; i++) {
		struct prefix *p = &s->rules.accept[s->rules.n_accept++];

		memset(p, 0, sizeof(*p));
		p->family = fuzz_u8(in) & 1 ? AF_INET6 : AF_INET;
		for (j = 0; j < 16; j++)
			p->addr[j] = fuzz_u8(in);
		p->len = (uint8_t)(fuzz_u8(in) % (bits_of(p->family) + 1));
		if (p->family == AF_INET)
			memset(p->addr + 4, 0, 12);
		/* vpnc.conf refuses host bits: the rules never hold any. */
		prefix_mask(p);
	}
}

/* ---- the checks ---------------------------------------------------------- */

static bool
covers_server(const struct setup *s, const struct prefix *r)
{
	return naive_contains(r, s->server_family, s->server);
}

static void
check_routes(const struct setup *s, const struct login_msg *m,
	     const struct netconf *nc, const struct policy_refusals *rf)
{
	unsigned int i, j, refused = 0;
	bool inside;

	FUZZ_CHECK(nc->n_routes <= NETCONF_MAX_ROUTES);
	for (i = 0; i < nc->n_routes; i++) {
		const struct prefix *r = &nc->routes[i];

		FUZZ_CHECK(r->len <= bits_of(r->family));
		FUZZ_CHECK(naive_is_network(r));
		if (r->len <= 1) {
			FUZZ_CHECK(s->rules.full_tunnel);
			continue;
		}
		FUZZ_CHECK(!covers_server(s, r));
		for (inside = false, j = 0; j < s->rules.n_accept; j++)
			inside |= naive_inside(r, &s->rules.accept[j]);
		FUZZ_CHECK(inside);
	}
	for (i = 0; i < rf->n; i++)
		refused += rf->r[i].item == POLICY_ITEM_ROUTE &&
			   rf->r[i].reason != POLICY_TOO_MANY;
	/* Every route pushed is taken or refused (the table may be full). */
	if (!rf->n_more && !(nc->n_routes == NETCONF_MAX_ROUTES))
		FUZZ_CHECK(nc->n_routes + refused == m->n_route4 + m->n_route6);
	else
		FUZZ_CHECK(nc->n_routes + refused <= m->n_route4 + m->n_route6);
}

static void
check_address(const struct setup *s, const struct prefix *a,
	      const struct prefix *gw, bool has_gw, const uint8_t *pushed,
	      uint8_t pushed_len)
{
	unsigned int min = a->family == AF_INET ? 8 : 64;
	struct prefix subnet;

	FUZZ_CHECK(memcmp(a->addr, pushed, a->family == AF_INET ? 4 : 16) ==
		   0);
	FUZZ_CHECK(pushed_len >= min && pushed_len <= bits_of(a->family));
	FUZZ_CHECK(a->len == pushed_len || a->len == bits_of(a->family));
	FUZZ_CHECK(naive_unicast(a->family, a->addr));
	FUZZ_CHECK(!(s->server_family == a->family &&
		     memcmp(s->server, a->addr, a->family == AF_INET ? 4 : 16) ==
			     0));
	if (a->len < bits_of(a->family)) {
		bool inside = false;
		unsigned int j;

		subnet = *a;
		prefix_mask(&subnet);
		FUZZ_CHECK(!covers_server(s, &subnet));
		for (j = 0; j < s->rules.n_accept; j++)
			inside |= naive_inside(&subnet, &s->rules.accept[j]);
		FUZZ_CHECK(inside);
	}
	if (has_gw) {
		struct prefix as_pushed = *a;

		as_pushed.len = pushed_len;
		FUZZ_CHECK(naive_contains(&as_pushed, gw->family, gw->addr));
		FUZZ_CHECK(naive_unicast(gw->family, gw->addr));
		FUZZ_CHECK(memcmp(gw->addr, a->addr, 16) != 0);
	}
}

static void
check_decision(const struct setup *s, const struct login_msg *m,
	       enum policy_decision d, const struct netconf *nc,
	       const struct policy_refusals *rf)
{
	bool any4 = login_has(m, LOGIN_ATTR_ADDRESS4);
	bool any6 = login_has(m, LOGIN_ATTR_ADDRESS6);
	bool addr_refused = false;
	unsigned int i;

	/* Addresses are judged first: their refusals are always listed. */
	for (i = 0; i < rf->n; i++)
		addr_refused |= rf->r[i].item == POLICY_ITEM_ADDRESS;
	FUZZ_CHECK(nc->has_addr4 || !any4 || addr_refused);
	FUZZ_CHECK(nc->has_addr6 || !any6 || addr_refused);
	FUZZ_CHECK((d == POLICY_UNUSABLE) ==
		   ((!any4 && !any6) || addr_refused));
	if (d == POLICY_UNUSABLE)
		return;
	FUZZ_CHECK(nc->has_addr4 == any4 && nc->has_addr6 == any6);
	if (nc->has_addr4)
		check_address(s, &nc->addr4, &nc->gw4, nc->has_gw4,
			      m->address4.addr, m->address4.prefix_len);
	if (nc->has_addr6)
		check_address(s, &nc->addr6, &nc->gw6, nc->has_gw6,
			      m->address6.addr, m->address6.prefix_len);
	FUZZ_CHECK(!nc->has_gw4 || nc->has_addr4);
	FUZZ_CHECK(!nc->has_gw6 || nc->has_addr6);
}

static void
check_resolver(const struct netconf *nc)
{
	char text[RESOLV_LEN], *line, *save = NULL;
	unsigned int i, lines = 0, dns = 0, words = 0;
	size_t len;

	FUZZ_CHECK(nc->n_dns <= NETCONF_MAX_DNS &&
		   nc->n_search <= NETCONF_MAX_DNS);
	for (i = 0; i < nc->n_dns; i++)
		FUZZ_CHECK(naive_unicast(nc->dns[i].family, nc->dns[i].addr));
	for (i = 0; i < nc->n_search; i++)
		FUZZ_CHECK(naive_name(nc->search[i]));
	len = netconf_resolv_text(nc, text, sizeof(text));
	FUZZ_CHECK(len < sizeof(text) - 1 && strlen(text) == len);
	for (i = 0; i < len; i++) {
		FUZZ_CHECK(text[i] == '\n' ||
			   (text[i] >= 0x20 && text[i] < 0x7f));
		lines += text[i] == '\n';
	}
	FUZZ_CHECK(lines == nc->n_dns + (nc->n_search ? 1 : 0));
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "nameserver ", 11) == 0) {
			dns++;
			continue;
		}
		FUZZ_CHECK(strncmp(line, "search ", 7) == 0);
		for (words = 0, line = strtok(line + 7, " "); line;
		     line = strtok(NULL, " "))
			FUZZ_CHECK(strcmp(line, nc->search[words++]) == 0);
		FUZZ_CHECK(words == nc->n_search);
	}
	FUZZ_CHECK(dns == nc->n_dns);
}

static void
check_line(const struct policy_refusals *rf, size_t cap)
{
	char *text = malloc(cap ? cap : 1);
	size_t i, len;

	if (!text)
		abort();
	policy_refusals_format(rf, text, cap);
	if (cap) {
		len = strlen(text);
		FUZZ_CHECK(len < cap);
		for (i = 0; i < len; i++)
			FUZZ_CHECK(text[i] >= 0x20 && text[i] < 0x7f);
		if (!rf->n && !rf->n_more)
			FUZZ_CHECK(len == 0);
	}
	free(text);
}

/* The source check against a naive scan of what was taken. */
static void
check_sources(struct fuzz_in *in, const struct netconf *nc)
{
	uint8_t pkt[40];
	unsigned int i;

	while (fuzz_more(in)) {
		bool v6 = fuzz_u8(in) & 1, want = false;
		int family = v6 ? AF_INET6 : AF_INET;
		uint8_t src[16];

		for (i = 0; i < 16; i++)
			src[i] = fuzz_u8(in);
		memset(pkt, 0, sizeof(pkt));
		pkt[0] = v6 ? 0x60 : 0x45;
		memcpy(pkt + (v6 ? 8 : 12), src, v6 ? 16 : 4);
		want = (nc->has_gw4 && naive_contains(&nc->gw4, family, src)) ||
		       (nc->has_gw6 && naive_contains(&nc->gw6, family, src)) ||
		       (nc->has_addr4 &&
			naive_contains(&nc->addr4, family, src)) ||
		       (nc->has_addr6 &&
			naive_contains(&nc->addr6, family, src));
		for (i = 0; i < nc->n_routes && !want; i++)
			want = naive_contains(&nc->routes[i], family, src);
		FUZZ_CHECK(policy_source_allowed(nc, pkt, v6 ? 40 : 20) ==
			   want);
		FUZZ_CHECK(!policy_source_allowed(nc, pkt, v6 ? 39 : 19));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	static struct policy_refusals rf;
	static struct netconf nc;
	struct setup s;
	struct login_msg m;
	enum policy_decision d;
	const uint8_t *msg_data;
	uint8_t *msg;
	size_t msg_len;

	read_setup(&in, &s);
	msg_len = fuzz_bytes(&in, &msg_data, fuzz_u16(&in));
	msg = fuzz_dup(msg_data, msg_len);
	if (login_decode(msg, msg_len, LOGIN_FROM_SERVER, &m) !=
		    LOGIN_DECODE_OK ||
	    m.type != LOGIN_AUTH_RESULT || m.status != LOGIN_STATUS_OK)
		goto out;
	d = policy_decide(&s.rules, s.server_family, s.server, &m, &nc, &rf);
	FUZZ_CHECK(rf.n <= POLICY_MAX_REFUSED);
	check_decision(&s, &m, d, &nc, &rf);
	check_routes(&s, &m, &nc, &rf);
	check_resolver(&nc);
	check_line(&rf, fuzz_u16(&in) % 1200);
	if (d == POLICY_APPLY)
		check_sources(&in, &nc);
out:
	free(msg);
	return 0;
}
