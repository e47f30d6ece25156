/* SPDX-License-Identifier: MIT */
/*
 * IP addresses and prefixes: parsing, formatting and matching. Pure.
 */
#ifndef VPN_PREFIX_H
#define VPN_PREFIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PREFIX_STR_LEN 50 /* "ffff:...:ffff/128" and a NUL, with room */

struct prefix {
	int family;       /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network order; only the first 4 for AF_INET */
	uint8_t len;      /* prefix length in bits */
};

/* Address length in bytes for the family: 4 or 16. */
size_t prefix_addr_len(int family);

/*
 * Parses "192.0.2.0/24", "2001:db8::/32", or a bare address (a host
 * prefix: /32 or /128). False on anything else.
 */
bool prefix_parse(const char *text, struct prefix *out)
	__attribute__((warn_unused_result));
/* Parses a bare address only. */
bool prefix_parse_addr(const char *text, int *family, uint8_t addr[16])
	__attribute__((warn_unused_result));

/* True if no bit after the prefix length is set. */
bool prefix_is_network(const struct prefix *p);
/* Clears the host bits. */
void prefix_mask(struct prefix *p);
/* True if addr (of the same family) lies inside p. */
bool prefix_contains(const struct prefix *p, int family, const uint8_t *addr);
/* True if a and b share any address. */
bool prefix_overlaps(const struct prefix *a, const struct prefix *b);

/* "addr/len" into out; returns out. */
char *prefix_format(const struct prefix *p, char out[PREFIX_STR_LEN]);
/* The bare address; returns out. */
char *prefix_format_addr(int family, const uint8_t *addr,
			 char out[PREFIX_STR_LEN]);

#endif
