/* SPDX-License-Identifier: MIT */
/*
 * lan-mode nat: the nftables table that masquerades clients towards the
 * office LAN. One table of vpnd's own, "table inet vpnd", holding one nat
 * chain on postrouting and one rule per pool: what comes from a pool and
 * leaves through the LAN interface takes that interface's address, so
 * the LAN needs no route back to the pools. Nothing else of the ruleset
 * is read or touched.
 *
 * The table goes to the kernel through libnftables as one transaction
 * that adds the table, deletes it and adds it again whole: after a crash
 * (kill -9) the next start replaces what the last one left, never adds a
 * second copy, and never fails because it is there or because it is not.
 * Removed at stop the same way. Both need CAP_NET_ADMIN only; the
 * netfilter socket is opened at start, before vpnd drops to its user, and
 * kept for the removal (libnftables' calls are in vpnd/syscalls.c).
 *
 * libnftables owns the nft_* names; this module is masq_*.
 */
#ifndef VPND_MASQ_H
#define VPND_MASQ_H

#include <stdbool.h>
#include <stddef.h>

#include "prefix.h"

#define MASQ_TABLE "vpnd"          /* in family inet */
#define MASQ_RULESET_LEN 1024      /* the text for two pools, with room */

struct nft_ctx;

/* Zeroed: nothing installed, no context. */
struct masq {
	struct nft_ctx *nft;
	bool is_installed;
};

/*
 * The transaction that installs the table (pure: text out, nothing run):
 * one masquerade rule per pool in pools[n], for what leaves through
 * `ifname`. The length written (without its NUL), or -EINVAL (an
 * interface name that cannot be quoted, n of 0 or over 2, a pool neither
 * IPv4 nor IPv6), or -ENOSPC if `len` is too short.
 */
int masq_ruleset(char *out, size_t len, const char *ifname,
		 const struct prefix *pools, unsigned int n);

/* Installs the table for pools[n] out of `ifname`, replacing any table
 * of that name. 0 or -errno, after logging why (nftables' own words). */
int masq_start(struct masq *m, const char *ifname, const struct prefix *pools,
	       unsigned int n) __attribute__((warn_unused_result));
/* Removes the table (logging a failure) and frees the context. Safe on
 * a zeroed or stopped struct. */
void masq_stop(struct masq *m);

#endif
