/* SPDX-License-Identifier: MIT */
/*
 * Address-pool arithmetic: which address of a client pool (address-pool4,
 * address-pool6) the server takes, and which ones it may hand out. Pure:
 * bytes in, bytes out; no allocation. vpnd's address choice (auth.c), its
 * own tunnel address (server.c) and vpnctl's checks of fixed addresses
 * all come from here, so they cannot disagree.
 *
 * A pool's first address (the network address) is never used; the one
 * after it is the server's own; the last one (IPv4's broadcast address,
 * kept free in IPv6 too for symmetry) is never handed out. Clients get
 * the addresses in between, so a pool must be /30 (/126) or larger to
 * hold one. Addresses are in network order, 4 or 16 bytes as the pool's
 * family says (prefix_addr_len()).
 */
#ifndef VPN_POOL_H
#define VPN_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prefix.h"

/*
 * The server's own address: the first after the network address. Writes
 * prefix_addr_len(pool->family) bytes; false (out untouched) if the pool
 * has no such address (/32, /128).
 */
bool pool_server_address(const struct prefix *pool, uint8_t *out);

/*
 * The addresses clients may be given, first to last inclusive (each
 * prefix_addr_len() bytes); false if there are none (/31, /32, /127,
 * /128), with first and last left undefined.
 */
bool pool_range(const struct prefix *pool, uint8_t *first, uint8_t *last);

/* True if addr (of the pool's family) lies in the pool at all. */
bool pool_contains(const struct prefix *pool, const uint8_t *addr);

/* True if addr (of the pool's family) may be given to a client: inside
 * pool_range(). */
bool pool_usable(const struct prefix *pool, const uint8_t *addr);

/* addr + 1 in place, carrying across bytes; false (addr all zero) if it
 * wrapped past the last address of the family. */
bool pool_next(uint8_t *addr, size_t len);

/*
 * The lowest usable address of the pool that is not in `taken` (n sorted
 * addresses of the pool's family, as memcmp orders them; addresses outside
 * the pool may be among them). False if every one is taken.
 */
bool pool_lowest_free(const struct prefix *pool, const uint8_t *taken,
		      size_t n, uint8_t *out) __attribute__((warn_unused_result));

/* True if addr is one of the n sorted `taken` addresses of length len. */
bool pool_is_taken(const uint8_t *addr, const uint8_t *taken, size_t n,
		   size_t len);

#endif
