/* SPDX-License-Identifier: MIT */
/*
 * DNS for vpnc: the pushed servers and search domains go, as vpnc.conf's
 * dns says, to systemd-resolved on the tunnel's link (resolved.h), to
 * resolvconf (as wg-quick does, that being how Debian hands resolver
 * settings to whichever resolver runs), or into /etc/resolv.conf with a
 * backup (dnsfile.h); "auto" takes the first of these that is there. All
 * three need root, and resolvconf is a program whose hooks run more
 * programs: the work is done by a helper process of shared/privsep.h,
 * forked before vpnc gives up its privileges (jail.h), which keeps root
 * and every capability, never sees the network, and takes three requests
 * whose every field it checks again (addresses by family and length,
 * names as DNS names, the interface against vpnc.conf's `interface`):
 *
 *   RESOLVER_SET       interface, servers, search domains: split DNS (the
 *                      domains' names to the servers)
 *   RESOLVER_SET_FULL  the same payload, for a full tunnel: every name to
 *                      the servers (resolved: "~." and the default route)
 *   RESOLVER_CLEAR     interface: undo what the last SET did for it
 *                      (resolved: RevertLink; resolvconf -d IFACE -f; the
 *                      file put back)
 *
 * Payloads: the interface as a length byte and its name; for SET, a
 * count byte then each server (family byte 4 or 6, then 4 or 16 bytes),
 * a count byte then each domain (a length byte, the name). Nothing may
 * follow. The answer to a SET is one byte, how it was done (enum
 * resolver_via), which vpnc writes to its state file (state.h).
 *
 * Without a helper (sandbox = no, or the tests), the same work is done in
 * the calling process after resolver_init().
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
	RESOLVER_SET_FULL = 3,
};

/* How DNS was applied (the state file's names: resolver_via_name). */
enum resolver_via {
	RESOLVER_VIA_NONE,       /* not applied */
	RESOLVER_VIA_RESOLVED,
	RESOLVER_VIA_RESOLVCONF,
	RESOLVER_VIA_FILE,
	RESOLVER_VIA_UNKNOWN,    /* a request sent, no answer seen: undo
				  * every way that shows a trace */
	RESOLVER_VIA_N
};

/* What a request carries, as decoded (dns and search in nc only). */
struct resolver_request {
	enum resolver_op op;
	char ifname[IFNAMSIZ];
	struct netconf nc;
};

/* What the work needs of cfg (dns, interface, the resolv.conf and
 * state-file paths), for work in this process. */
void resolver_init(const struct vpnc_config *cfg);

/*
 * resolver_init, then forks the helper for cfg's `interface`; the caller has no other thread
 * yet, and its configuration is wiped in the helper. `paths` lists where
 * resolvconf may be, first found first (NULL: /sbin and /usr/sbin). 0 or
 * -errno after logging.
 */
int resolver_start(struct vpnc_config *cfg, const char *const *paths)
	__attribute__((warn_unused_result));
/* Ends the helper (DNS still applied is cleared first). */
void resolver_stop(void);

/*
 * Applies nc's DNS servers and search domains for `ifname` as `mode`
 * says, for a full tunnel if is_full: nothing for "none" or nothing
 * pushed; "auto" with no way to apply them logs them, and a failure is
 * logged and gone past; the other modes fail (-errno) when it cannot be
 * done their way.
 */
int resolver_apply_for(const char *ifname, const struct netconf *nc,
		       enum vpnc_dns_mode mode, bool is_full);
/* resolver_apply_for, split DNS. */
int resolver_apply(const char *ifname, const struct netconf *nc,
		   enum vpnc_dns_mode mode);
/* Takes back what resolver_apply gave for `ifname`, if anything. */
void resolver_remove(const char *ifname);
/* How DNS is applied now, and for which device ("" if none). */
enum resolver_via resolver_applied(char ifname[IFNAMSIZ]);

/* After a crash (state.h), in this process before the helper starts:
 * undoes DNS applied `via` for `ifname`. */
void resolver_recover(const char *ifname, enum resolver_via via);

/* "resolved", "resolvconf", "file", "unknown" ("none" for NONE). */
const char *resolver_via_name(enum resolver_via via);
/* The reverse; false if `name` is none of them. */
bool resolver_via_parse(const char *name, enum resolver_via *via);

/* The codec. encode: the payload's length, 0 if it does not fit. */
size_t resolver_request_encode(const struct resolver_request *r, uint8_t *out,
			       size_t cap);
/* Strict, as above; `iface` is vpnc.conf's interface ("vpn%d": any
 * number). RESOLVER_SET_FULL decodes as SET does. 0 or -EPROTO. */
int resolver_request_decode(enum resolver_op op, const uint8_t *buf,
			    size_t len, const char *iface,
			    struct resolver_request *out);

#endif
