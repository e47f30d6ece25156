// SPDX-License-Identifier: MIT
/*
 * Which tunnel addresses an admission gets (see address.h): decision (d)
 * of the login, and the same rules again for an admission whose pool
 * changed. The arithmetic of a pool is pool.c's; what is taken is the
 * store's, read inside its transaction. No I/O but the log lines.
 */
#include "address.h"

#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "pool.h"

struct pick {
	const struct prefix *pool;
	bool has_fixed, has_lease;
	const uint8_t *fixed, *lease, *taken;
	size_t n_taken;
	const char *who;
};

/* Decision (d): the fixed address if in the pool, else the last one for
 * this user and key if in the pool and free, else the lowest free one. */
static bool
pick_address(const struct pick *k, uint8_t *out)
{
	size_t len = prefix_addr_len(k->pool->family);
	char text[PREFIX_STR_LEN];

	if (k->has_fixed && pool_usable(k->pool, k->fixed)) {
		memcpy(out, k->fixed, len);
		return true;
	}
	if (k->has_fixed)
		log_warn("user %s: fixed address %s is not in the pool; "
			 "assigning one from the pool", k->who,
			 prefix_format_addr(k->pool->family, k->fixed, text));
	if (k->has_lease && pool_usable(k->pool, k->lease) &&
	    !pool_is_taken(k->lease, k->taken, k->n_taken, len)) {
		memcpy(out, k->lease, len);
		return true;
	}
	return pool_lowest_free(k->pool, k->taken, k->n_taken, out);
}

/* One family of an admission: its address, kept if it still fits. */
static bool
assign_family(const struct pick *k, bool has_pool, bool *has_addr,
	      uint8_t *addr)
{
	size_t len = prefix_addr_len(k->pool->family);

	if (!has_pool) {
		*has_addr = false;
		return true;
	}
	if (*has_addr && pool_usable(k->pool, addr) &&
	    !pool_is_taken(addr, k->taken, k->n_taken, len))
		return true;
	*has_addr = pick_address(k, addr);
	return *has_addr;
}

bool
address_assign(void *arg, const struct userdb_addr_view *v,
	       struct userdb_admission *adm)
{
	const struct address_ctx *c = arg;
	struct pick k4 = { &c->pol->pool4, v->has_fixed4, v->has_lease4,
			   v->fixed4, v->lease4, v->taken4, v->n_taken4,
			   c->who };
	struct pick k6 = { &c->pol->pool6, v->has_fixed6, v->has_lease6,
			   v->fixed6, v->lease6, v->taken6, v->n_taken6,
			   c->who };
	bool ok4 = assign_family(&k4, c->pol->has_pool4, &adm->has_addr4,
				 adm->addr4);
	bool ok6 = assign_family(&k6, c->pol->has_pool6, &adm->has_addr6,
				 adm->addr6);

	return ok4 && ok6;
}

bool
address_fits(const struct auth_policy *pol, const struct userdb_admission *adm)
{
	return (pol->has_pool4 ? adm->has_addr4 &&
					 pool_usable(&pol->pool4, adm->addr4)
			       : !adm->has_addr4) &&
	       (pol->has_pool6 ? adm->has_addr6 &&
					 pool_usable(&pol->pool6, adm->addr6)
			       : !adm->has_addr6);
}

static const char *
addr_text(int family, bool has, const uint8_t *addr,
	  char out[PREFIX_STR_LEN])
{
	if (!has)
		return strcpy(out, "none");
	return prefix_format_addr(family, addr, out);
}

void
address_log_change(const char *who, const struct userdb_admission *old,
		   const struct userdb_admission *now)
{
	char a[PREFIX_STR_LEN], b[PREFIX_STR_LEN];

	if (old->has_addr4 != now->has_addr4 ||
	    (old->has_addr4 && memcmp(old->addr4, now->addr4, 4) != 0))
		log_notice("user %s: address %s is outside the pool; now %s",
			   who, addr_text(AF_INET, old->has_addr4, old->addr4, a),
			   addr_text(AF_INET, now->has_addr4, now->addr4, b));
	if (old->has_addr6 != now->has_addr6 ||
	    (old->has_addr6 && memcmp(old->addr6, now->addr6, 16) != 0))
		log_notice("user %s: address %s is outside the pool; now %s",
			   who,
			   addr_text(AF_INET6, old->has_addr6, old->addr6, a),
			   addr_text(AF_INET6, now->has_addr6, now->addr6, b));
}
