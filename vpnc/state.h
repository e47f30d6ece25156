/* SPDX-License-Identifier: MIT */
/*
 * vpnc's state file (vpnc.conf's state-file, /run/vpnc/NAME.state by
 * default): what vpnc has changed outside its own device (fence.h's
 * routes, DNS through resolver.h), so that a vpnc killed before it could
 * undo them (kill -9, a crash, a power cut of the process) has them undone
 * at its next start, or by `vpnc --cleanup`. vpnc writes it before each
 * change (what may be there once it is made) and after (what is there),
 * and removes it once nothing is left; the undoing tolerates a record of
 * a change that never happened.
 *
 * One record a line, fields separated by one space, '#' lines ignored:
 *
 *   route unreachable 0.0.0.0/1 32767     an unreachable route, its metric
 *   route unicast 192.0.2.1/32 0          a route out of a device
 *   dns vpn0 file                         DNS for vpn0, applied through
 *                                         resolved, resolvconf, file, or
 *                                         unknown (a request unanswered)
 *
 * Routes are found again by prefix, type, metric and vpnc's protocol
 * number (rtnl.h), so a route of someone else's is never taken out.
 */
#ifndef VPNC_STATE_H
#define VPNC_STATE_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "fence.h"
#include "resolver.h"

#define STATE_TEXT_MAX (FENCE_MAX * 64 + 256)

struct state {
	struct fence fence;      /* only kind, dst, type and metric matter */
	enum resolver_via dns_via; /* NONE: no DNS record */
	char dns_ifname[IFNAMSIZ];
};

/* The file's text; 0 if it does not fit `cap`. Pure. */
size_t state_format(const struct state *s, char *out, size_t cap);
/* Strict: every line a record as above. 0, or -EINVAL with *bad_line
 * (1-based). Pure. */
int state_parse(const char *text, size_t len, struct state *out,
		unsigned int *bad_line);

/* Writes s to path whole (a temporary file renamed over it), or removes
 * path if s records nothing. 0 or -errno after logging. */
int state_save(const char *path, const struct state *s);

/*
 * At start, as root, before the DNS helper: undoes what cfg's state file
 * records and removes it, saying so; creates the state file's directory
 * (mode 700) if missing. A file it cannot read or parse is named in the
 * log and left. 0, or -errno if something could not be undone.
 */
int state_recover(const struct vpnc_config *cfg);

#endif
