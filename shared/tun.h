/* SPDX-License-Identifier: MIT */
/*
 * The TUN device: open (IFF_TUN | IFF_NO_PI, non-blocking, close-on-exec),
 * read and write whole IP packets. The device disappears with its last fd,
 * and its addresses and routes with it, so closing is the whole cleanup.
 */
#ifndef VPN_TUN_H
#define VPN_TUN_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Opens or creates the TUN device `name` (may hold one "%d" for the kernel
 * to number). The kernel's name goes into ifname_out. 0 or -errno.
 */
int tun_open(const char *name, char ifname_out[IFNAMSIZ], int *fd_out)
	__attribute__((warn_unused_result));

/* One packet into buf; -EAGAIN when none is waiting, else -errno. */
ssize_t tun_read(int fd, uint8_t *buf, size_t cap);

/* One packet; len bytes or -errno (-EAGAIN if the queue is full). */
ssize_t tun_write(int fd, const uint8_t *buf, size_t len);

void tun_close(int fd);

struct sysctl_saved;

/*
 * Turns off ICMP redirects on ifname: clients that reach each other through
 * the server would otherwise get them from its kernel. Writes 0 to
 * /proc/sys/net/ipv4/conf/<ifname>/send_redirects and, since the kernel
 * ORs that with all's, to conf/all/send_redirects (other devices then
 * follow their own value, 1 by default). All's old value is remembered in
 * `saved`, for sysctl_restore() once the device is gone; the device's goes
 * with it. Writes go through saved's hook. 0 or -errno.
 */
int tun_no_redirects(const char *ifname, struct sysctl_saved *saved);

#endif
