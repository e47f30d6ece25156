/* SPDX-License-Identifier: MIT */
/*
 * vpnc's least privilege: what it gives up once connected, and in which
 * order (the mechanics are shared/sandbox.c's).
 *
 * 0. state_recover (state.h), as root: what a vpnc killed earlier left
 *    (routes outside its device, DNS) is undone.
 * 1. jail_start, before client_start: the DNS helper is forked
 *    (resolver.h), unless vpnc.conf says dns = "none": resolved's D-Bus
 *    calls, resolvconf and its hooks, and the writes to resolv.conf keep
 *    root there, away from the network.
 * 2. client_start, as root: the server's name resolved, the UDP socket,
 *    the rtnetlink sockets (netlink.h's and rtnl.h's).
 * 3. jail_drop: the capability bounding set and the process keep only
 *    CAP_NET_ADMIN, for what vpnc still does each time it is admitted:
 *    create its TUN device, give it addresses and routes through
 *    rtnetlink, and the routes outside it (fence.h); securebits are
 *    locked so that uid 0 regains nothing;
 *    memory is locked where RLIMIT_MEMLOCK allows (the key, the password
 *    while it is asked for); core dumps are off; then the allow-list
 *    (syscalls.c), with no_new_privs.
 * 4. jail_stop, after client_stop: the DNS helper ends.
 *
 * vpnc stays uid 0: it has no user of its own, and reads root's files
 * after the drop (the password file, each time it logs in). Without
 * capabilities uid 0 is the owner of root's files and nothing more; the
 * allow-list takes away program execution, new processes, other sockets
 * than its own and Unix ones, mounts and the rest. With sandbox = no in
 * vpnc.conf none of this is done.
 *
 * What vpnc then shows (/proc/PID/status): Uid 0, CapEff, CapPrm and
 * CapBnd 0x1000, CapInh and CapAmb 0, NoNewPrivs 1, Seccomp 2.
 */
#ifndef VPNC_JAIL_H
#define VPNC_JAIL_H

#include "config.h"

/* Step 1. 0 or -errno after logging. */
int jail_start(struct vpnc_config *cfg) __attribute__((warn_unused_result));
/* Step 3. 0 or -errno after logging; vpnc must then stop. */
int jail_drop(const struct vpnc_config *cfg)
	__attribute__((warn_unused_result));
/* Step 4. */
void jail_stop(void);

#endif
