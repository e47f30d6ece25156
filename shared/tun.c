// SPDX-License-Identifier: MIT
/*
 * The TUN device (see tun.h): one fd per device, IFF_TUN | IFF_NO_PI, so a
 * read or write is exactly one bare IP packet, behind a virtio_net_hdr
 * when opened with offloads. Addresses, MTU and routes
 * are netlink.c's; this file never configures the interface (but for one
 * sysctl that has no netlink request), and never blocks: the fd is
 * non-blocking and the loop waits for it.
 */
#include "tun.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "log.h"
#include "offload.h"
#include "sysctl.h"

#define TUN_CLONE_PATH "/dev/net/tun"

/* What is asked of TUNSETOFFLOAD, most first. ECN rides on TSO: without
 * it the kernel segments every flow that uses ECN itself. */
#define WANT_TSO (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN)
static const unsigned int offload_tries[] = {
	WANT_TSO | OFFLOAD_TUN_F_USO4 | OFFLOAD_TUN_F_USO6,
	WANT_TSO,
	0,
};

/*
 * The header's size and byte order, then the offloads the kernel takes.
 * TUNSETOFFLOAD refuses bits it does not know with EINVAL: USO before
 * 6.2, hence the retries.
 */
static int
setup_vnet(int fd, struct tun_offload *off)
{
	int hdr_len = OFFLOAD_VNET_HDR_LEN;
	size_t i;

	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr_len) < 0)
		return -errno;
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	/* offload.c reads the header as little-endian (virtio 1.0). */
	{
		int le = 1;

		if (ioctl(fd, TUNSETVNETLE, &le) < 0)
			return -errno;
	}
#endif
	for (i = 0; i < sizeof(offload_tries) / sizeof(offload_tries[0]); i++) {
		if (ioctl(fd, TUNSETOFFLOAD, offload_tries[i]) == 0) {
			off->flags = offload_tries[i];
			off->has_vnet = true;
			return 0;
		}
		if (errno != EINVAL)
			break;
	}
	return -errno;
}

int
tun_open(const char *name, char ifname_out[IFNAMSIZ], int *fd_out)
{
	struct tun_offload off;

	return tun_open_offload(name, false, ifname_out, fd_out, &off);
}

int
tun_open_offload(const char *name, bool offload, char ifname_out[IFNAMSIZ],
		 int *fd_out, struct tun_offload *off_out)
{
	struct ifreq ifr;
	size_t len;
	int fd, ret;

	if (!name || !ifname_out || !fd_out || !off_out)
		return -EINVAL;
	memset(off_out, 0, sizeof(*off_out));
	/* The kernel would quietly cut a long name; a device with another
	 * name than the configured one is worse than an error. */
	len = strnlen(name, IFNAMSIZ);
	if (len >= IFNAMSIZ)
		return -ENAMETOOLONG;

	fd = open(TUN_CLONE_PATH, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (offload ? IFF_VNET_HDR : 0);
	memcpy(ifr.ifr_name, name, len);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		goto err;
	if (offload && (ret = setup_vnet(fd, off_out)) < 0) {
		/* The device goes with the fd: a new one without it. */
		log_notice("%s: no offloads (%s): one packet per read and "
			   "write", name, strerror(-ret));
		close(fd);
		return tun_open_offload(name, false, ifname_out, fd_out,
					off_out);
	}
	/* Only now is "%d" a number. */
	memcpy(ifname_out, ifr.ifr_name, IFNAMSIZ);
	ifname_out[IFNAMSIZ - 1] = '\0';
	*fd_out = fd;
	return 0;
err:
	ret = -errno;
	close(fd);
	return ret;
}

ssize_t
tun_read(int fd, uint8_t *buf, size_t cap)
{
	ssize_t n;

	if (!buf)
		return -EINVAL;
	n = read(fd, buf, cap);
	return n < 0 ? -errno : n;
}

ssize_t
tun_readv(int fd, const struct iovec *iov, int n)
{
	ssize_t r = readv(fd, iov, n);

	return r < 0 ? -errno : r;
}

ssize_t
tun_writev(int fd, const struct iovec *iov, int n)
{
	ssize_t r = writev(fd, iov, n);

	return r < 0 ? -errno : r;
}

const char *
tun_offload_describe(const struct tun_offload *off,
		     char out[TUN_OFFLOAD_STR_LEN])
{
	static const struct {
		unsigned int bit;
		const char *name;
	} names[] = {
		{ TUN_F_CSUM, "csum" },		{ TUN_F_TSO4, "tso4" },
		{ TUN_F_TSO6, "tso6" },		{ TUN_F_TSO_ECN, "ecn" },
		{ OFFLOAD_TUN_F_USO4, "uso4" },	{ OFFLOAD_TUN_F_USO6, "uso6" },
	};
	size_t i, at = 0;

	out[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (off->flags & names[i].bit)
			at += (size_t)snprintf(out + at,
					       TUN_OFFLOAD_STR_LEN - at, "%s%s",
					       at ? " " : "", names[i].name);
	if (!at)
		snprintf(out, TUN_OFFLOAD_STR_LEN, "none");
	return out;
}

ssize_t
tun_write(int fd, const uint8_t *buf, size_t len)
{
	ssize_t n;

	if (!buf)
		return -EINVAL;
	n = write(fd, buf, len);
	return n < 0 ? -errno : n;
}

void
tun_close(int fd)
{
	if (fd >= 0)
		close(fd);
}

/*
 * The kernel sends a redirect if the device's send_redirects OR all's is
 * set (IN_DEV_TX_REDIRECTS is an IN_DEV_ORCONF), and all's is 1 by
 * default: the device's 0 alone changes nothing. So all's goes to 0 too,
 * which leaves every other device to its own value (1 unless someone
 * turned it off): only ours stops.
 */
int
tun_no_redirects(const char *ifname, struct sysctl_saved *saved)
{
	char name[SYSCTL_NAME_LEN];
	int ret;

	/* An interface name cannot hold '/' or be "." or ".."
	 * (sysctl_name_valid refuses the last two). */
	if (!ifname || !*ifname || strchr(ifname, '/') ||
	    strnlen(ifname, IFNAMSIZ) >= IFNAMSIZ)
		return -EINVAL;
	snprintf(name, sizeof(name), "net/ipv4/conf/%s/send_redirects",
		 ifname);
	ret = sysctl_set(saved, name, "0");
	if (!ret)
		ret = sysctl_change(saved, "net/ipv4/conf/all/send_redirects",
				    "0");
	return ret;
}
