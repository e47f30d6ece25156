// SPDX-License-Identifier: MIT
/*
 * IP addresses and prefixes (see prefix.h). Parsing is strict, because its
 * input is configuration a person typed: inet_pton for the address, a plain
 * decimal length with no sign, space or leading zero, and nothing after it.
 * Pure: no I/O, no allocation.
 */
#include "prefix.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

size_t
prefix_addr_len(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

static unsigned int
family_bits(int family)
{
	return (unsigned int)prefix_addr_len(family) * 8;
}

bool
prefix_parse_addr(const char *text, int *family, uint8_t addr[16])
{
	uint8_t tmp[16] = { 0 };
	int fam;

	if (!text || !*text)
		return false;
	/* inet_pton(AF_INET6) takes "::ffff:1.2.3.4" too: a colon decides. */
	fam = strchr(text, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(fam, text, tmp) != 1)
		return false;
	*family = fam;
	memcpy(addr, tmp, sizeof(tmp));
	return true;
}

/* "0" to "128" with no sign, no space and no leading zero. */
static bool
parse_len(const char *text, unsigned int max, uint8_t *out)
{
	unsigned int v = 0;
	size_t i, n = strlen(text);

	if (n == 0 || n > 3 || (n > 1 && text[0] == '0'))
		return false;
	for (i = 0; i < n; i++) {
		if (text[i] < '0' || text[i] > '9')
			return false;
		v = v * 10 + (unsigned int)(text[i] - '0');
	}
	if (v > max)
		return false;
	*out = (uint8_t)v;
	return true;
}

bool
prefix_parse(const char *text, struct prefix *out)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash;
	struct prefix p = { 0 };
	size_t n;

	if (!text)
		return false;
	slash = strchr(text, '/');
	n = slash ? (size_t)(slash - text) : strlen(text);
	if (n == 0 || n >= sizeof(addr))
		return false;
	memcpy(addr, text, n);
	addr[n] = '\0';
	if (!prefix_parse_addr(addr, &p.family, p.addr))
		return false;
	p.len = (uint8_t)family_bits(p.family);
	if (slash && !parse_len(slash + 1, family_bits(p.family), &p.len))
		return false;
	*out = p;
	return true;
}

/* True if the first `bits` bits of a and b are equal. */
static bool
bits_equal(const uint8_t *a, const uint8_t *b, unsigned int bits)
{
	unsigned int bytes = bits / 8, rest = bits % 8;
	uint8_t mask;

	if (memcmp(a, b, bytes) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (uint8_t)(0xff << (8 - rest));
	return ((a[bytes] ^ b[bytes]) & mask) == 0;
}

bool
prefix_is_network(const struct prefix *p)
{
	struct prefix masked = *p;

	prefix_mask(&masked);
	return memcmp(masked.addr, p->addr, sizeof(p->addr)) == 0;
}

void
prefix_mask(struct prefix *p)
{
	unsigned int len = p->len;
	size_t i;

	for (i = 0; i < sizeof(p->addr); i++) {
		if (len >= 8) {
			len -= 8;
			continue;
		}
		p->addr[i] &= (uint8_t)(0xff << (8 - len));
		len = 0;
	}
}

bool
prefix_contains(const struct prefix *p, int family, const uint8_t *addr)
{
	if (p->family != family)
		return false;
	return bits_equal(p->addr, addr, p->len);
}

bool
prefix_overlaps(const struct prefix *a, const struct prefix *b)
{
	if (a->family != b->family)
		return false;
	/* Two prefixes overlap exactly when the shorter contains the longer. */
	return bits_equal(a->addr, b->addr, a->len < b->len ? a->len : b->len);
}

char *
prefix_format_addr(int family, const uint8_t *addr, char out[PREFIX_STR_LEN])
{
	if (!inet_ntop(family, addr, out, PREFIX_STR_LEN))
		snprintf(out, PREFIX_STR_LEN, "?");
	return out;
}

char *
prefix_format(const struct prefix *p, char out[PREFIX_STR_LEN])
{
	size_t n;

	prefix_format_addr(p->family, p->addr, out);
	n = strlen(out);
	snprintf(out + n, PREFIX_STR_LEN - n, "/%u", p->len);
	return out;
}
