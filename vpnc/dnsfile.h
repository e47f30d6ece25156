/* SPDX-License-Identifier: MIT */
/*
 * DNS without a resolver service: /etc/resolv.conf written by vpnc, with
 * only the pushed servers and search domains, after its content is kept
 * in a backup file beside vpnc's state file; put back at exit, or at the
 * next start after a crash (state.h). Runs in vpnc's DNS helper
 * (resolver.h), which is root.
 *
 * The file is rewritten in place (it may be a bind mount or a symbolic
 * link, which a rename would break) and starts with DNSFILE_MARK, which
 * names the backup. It is put back only if it still starts so: a file
 * something else rewrote meanwhile (a DHCP client, NetworkManager) is
 * theirs now, and left alone.
 */
#ifndef VPNC_DNSFILE_H
#define VPNC_DNSFILE_H

#include "netconf.h"

#define DNSFILE_MARK "# vpnc: DNS for "

/*
 * Writes nc's servers and domains into `path` for `ifname`, first
 * copying what it holds to `backup` (unless `path` is vpnc's already:
 * then the backup holds the original). 0 or -errno after logging.
 */
int dnsfile_set(const char *path, const char *backup, const char *ifname,
		const struct netconf *nc);
/* Puts `backup` back into `path` if `path` is still vpnc's, then removes
 * `backup`. No backup: nothing to do. 0 or -errno after logging. */
int dnsfile_restore(const char *path, const char *backup);

#endif
