/* SPDX-License-Identifier: MIT */
/*
 * DNS for a confined vpnc: the pushed servers and search domains go to
 * resolvconf (as wg-quick does, that being how Debian hands resolver
 * settings to whichever resolver runs) through a helper process of
 * shared/privsep.h, forked before vpnc gives up its privileges (jail.h).
 * resolvconf is a program, and its hooks run more programs that may
 * restart a local resolver: the helper keeps root and every capability
 * for them, so it never sees the network, and takes two requests whose
 * every field it checks again (addresses by family and length, names as
 * DNS names, the interface against vpnc.conf's `interface`):
 *
 *   RESOLVER_SET    interface, servers, search domains: resolvconf -a
 *                   IFACE -m 0 -x, with resolv.conf lines it writes itself
 *   RESOLVER_CLEAR  interface: resolvconf -d IFACE -f
 *
 * Payloads: the interface as a length byte and its name; for SET, a
 * count byte then each server (family byte 4 or 6, then 4 or 16 bytes),
 * a count byte then each domain (a length byte, the name). Nothing may
 * follow.
 *
 * Without a helper (resolver_start not called: the tests, or DNS off),
 * the same work is done in the calling process.
 */
#ifndef VPNC_RESOLVER_H
#define VPNC_RESOLVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "netconf.h"

enum resolver_op {
	RESOLVER_SET = 1,
	RESOLVER_CLEAR = 2,
};

/* What a request carries, as decoded (dns and search in nc only). */
struct resolver_request {
	enum resolver_op op;
	char ifname[IFNAMSIZ];
	struct netconf nc;
};

/*
 * Forks the helper for cfg's `interface`; the caller has no other thread
 * yet, and its configuration is wiped in the helper. `paths` lists where
 * resolvconf may be, first found first (NULL: /sbin and /usr/sbin). 0 or
 * -errno after logging.
 */
int resolver_start(struct vpnc_config *cfg, const char *const *paths)
	__attribute__((warn_unused_result));
/* Ends the helper (DNS still applied is cleared first). */
void resolver_stop(void);

/*
 * Hands nc's DNS servers and search domains for `ifname` to resolvconf,
 * as `mode` says: nothing for "none" or nothing pushed; "auto" without
 * resolvconf logs them, and a failure is logged and gone past; only
 * "resolvconf" fails (-errno) when it cannot be done.
 */
int resolver_apply(const char *ifname, const struct netconf *nc,
		   enum vpnc_dns_mode mode);
/* Takes back what resolver_apply gave for `ifname`, if anything. */
void resolver_remove(const char *ifname);

/* The codec. encode: the payload's length, 0 if it does not fit. */
size_t resolver_request_encode(const struct resolver_request *r, uint8_t *out,
			       size_t cap);
/* Strict, as above; `iface` is vpnc.conf's interface ("vpn%d": any
 * number). 0 or -EPROTO. */
int resolver_request_decode(enum resolver_op op, const uint8_t *buf,
			    size_t len, const char *iface,
			    struct resolver_request *out);

#endif
