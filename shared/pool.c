// SPDX-License-Identifier: MIT
/*
 * Address-pool arithmetic (see pool.h): big-endian byte strings of 4 or 16
 * bytes, compared with memcmp and counted up with a carry. Pure: no I/O,
 * no allocation, no clock.
 */
#include "pool.h"

#include <string.h>

/* Host bits of the pool's family beyond its prefix length. */
static unsigned int
host_bits(const struct prefix *pool, size_t len)
{
	return pool->len >= len * 8 ? 0 : (unsigned int)(len * 8 - pool->len);
}

/* The network address (host bits clear) and the last address (host bits
 * set), whatever host bits the prefix itself carries. */
static void
bounds(const struct prefix *pool, size_t len, uint8_t *lo, uint8_t *hi)
{
	unsigned int bit;

	memcpy(lo, pool->addr, len);
	memcpy(hi, pool->addr, len);
	for (bit = pool->len; bit < len * 8; bit++) {
		lo[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
		hi[bit / 8] |= (uint8_t)(0x80u >> (bit % 8));
	}
}

bool
pool_next(uint8_t *addr, size_t len)
{
	size_t i = len;

	while (i-- > 0)
		if (++addr[i] != 0)
			return true;
	return false;
}

/* addr - 1 in place; the callers never pass all zeros. */
static void
prev(uint8_t *addr, size_t len)
{
	size_t i = len;

	while (i-- > 0)
		if (addr[i]-- != 0)
			return;
}

bool
pool_server_address(const struct prefix *pool, uint8_t *out)
{
	size_t len = prefix_addr_len(pool->family);
	uint8_t lo[16], hi[16];

	if (host_bits(pool, len) < 1)
		return false;
	bounds(pool, len, lo, hi);
	pool_next(lo, len);
	memcpy(out, lo, len);
	return true;
}

bool
pool_range(const struct prefix *pool, uint8_t *first, uint8_t *last)
{
	size_t len = prefix_addr_len(pool->family);

	/* Network, server and last address: two host bits leave one more. */
	if (host_bits(pool, len) < 2)
		return false;
	bounds(pool, len, first, last);
	pool_next(first, len);
	pool_next(first, len);
	prev(last, len);
	return memcmp(first, last, len) <= 0;
}

bool
pool_contains(const struct prefix *pool, const uint8_t *addr)
{
	return prefix_contains(pool, pool->family, addr);
}

bool
pool_usable(const struct prefix *pool, const uint8_t *addr)
{
	size_t len = prefix_addr_len(pool->family);
	uint8_t first[16], last[16];

	return pool_range(pool, first, last) &&
	       memcmp(addr, first, len) >= 0 && memcmp(addr, last, len) <= 0;
}

bool
pool_is_taken(const uint8_t *addr, const uint8_t *taken, size_t n,
	      size_t len)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(taken + mid * len, addr, len);

		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

bool
pool_lowest_free(const struct prefix *pool, const uint8_t *taken, size_t n,
		 uint8_t *out)
{
	size_t len = prefix_addr_len(pool->family), i = 0;
	uint8_t first[16], last[16];

	if (!pool_range(pool, first, last))
		return false;
	memcpy(out, first, len);
	/* One walk over both sorted sequences: the pool and `taken`. */
	for (;;) {
		while (i < n && memcmp(taken + i * len, out, len) < 0)
			i++;
		if (i == n || memcmp(taken + i * len, out, len) != 0)
			return true;
		if (memcmp(out, last, len) >= 0)
			return false;
		pool_next(out, len);
	}
}
