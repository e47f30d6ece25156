/* SPDX-License-Identifier: MIT */
/*
 * The TUN device: open (IFF_TUN | IFF_NO_PI, non-blocking, close-on-exec),
 * read and write whole IP packets. The device disappears with its last fd,
 * and its addresses and routes with it, so closing is the whole cleanup.
 *
 * With offloads (tun_open_offload), the device is opened with
 * IFF_VNET_HDR: every read and every write starts with a virtio_net_hdr
 * of OFFLOAD_VNET_HDR_LEN bytes (offload.h reads and makes them), and the
 * kernel hands over TCP and UDP super-packets of up to 64 KiB and
 * packets with a partial checksum, as far as TUNSETOFFLOAD let it. What
 * the kernel accepted is probed here, from all to none; tunio.h is the
 * packet path over it.
 */
#ifndef VPN_TUN_H
#define VPN_TUN_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

/*
 * Opens or creates the TUN device `name` (may hold one "%d" for the kernel
 * to number). The kernel's name goes into ifname_out. 0 or -errno.
 */
int tun_open(const char *name, char ifname_out[IFNAMSIZ], int *fd_out)
	__attribute__((warn_unused_result));

/* What the device was opened with. */
struct tun_offload {
	bool has_vnet;      /* reads and writes carry a virtio_net_hdr */
	unsigned int flags; /* the TUN_F_* bits TUNSETOFFLOAD took */
};

/* "csum tso4 tso6 ecn uso4 uso6", or "none": at most this long. */
#define TUN_OFFLOAD_STR_LEN 40

/*
 * tun_open, and with `offload` the device opened with IFF_VNET_HDR and
 * the most of TSO4, TSO6 (with ECN), USO4, USO6 and partial checksums
 * the kernel accepts: all, then all but USO (before Linux 6.2), then
 * none. A kernel that refuses the header itself gets a device without
 * it, as without `offload`. What was obtained goes into *off_out.
 */
int tun_open_offload(const char *name, bool offload,
		     char ifname_out[IFNAMSIZ], int *fd_out,
		     struct tun_offload *off_out)
	__attribute__((warn_unused_result));

/* The flags in words, for the log. */
const char *tun_offload_describe(const struct tun_offload *off,
				 char out[TUN_OFFLOAD_STR_LEN]);

/* One packet into buf; -EAGAIN when none is waiting, else -errno. */
ssize_t tun_read(int fd, uint8_t *buf, size_t cap);

/* One packet; len bytes or -errno (-EAGAIN if the queue is full). */
ssize_t tun_write(int fd, const uint8_t *buf, size_t len);

/* One read or write gathered over iovecs: bytes, or -errno. */
ssize_t tun_readv(int fd, const struct iovec *iov, int n);
ssize_t tun_writev(int fd, const struct iovec *iov, int n);

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
