/* SPDX-License-Identifier: MIT */
/*
 * Which tunnel addresses an admission gets from the policy's pools
 * (PROTOCOL.md section 6, rules 1 and 6; pool.h divides a pool): the
 * account's fixed address if it is in the pool, else the address this user
 * and key had last time if it is in the pool and free, else the lowest
 * free one. The same rules re-address an admission that no longer fits
 * (a pool changed, or differs on another server sharing the store). Part
 * of auth; the store calls address_assign() inside its transaction.
 */
#ifndef VPND_ADDRESS_H
#define VPND_ADDRESS_H

#include <stdbool.h>

#include "auth.h"
#include "userdb.h"

struct address_ctx {
	const struct auth_policy *pol;
	const char *who; /* the user, as the log shows it */
};

/*
 * A userdb_assign_fn (arg: struct address_ctx): for each family with a
 * pool, keeps the admission's address if it is usable and not taken, else
 * chooses one by the rules above; a family without a pool gets none. False
 * if a pool has nothing free.
 */
bool address_assign(void *arg, const struct userdb_addr_view *v,
		    struct userdb_admission *adm);

/* True if each configured pool gave the admission a usable address and no
 * other family has one. */
bool address_fits(const struct auth_policy *pol,
		  const struct userdb_admission *adm);

/* Logs "user WHO: address OLD is outside the pool; now NEW" for each
 * family whose address changed ("none" for no address). */
void address_log_change(const char *who, const struct userdb_admission *old,
			const struct userdb_admission *now);

#endif
