// SPDX-License-Identifier: MIT
/*
 * The TUN device (see tun.h): one fd per device, IFF_TUN | IFF_NO_PI, so a
 * read or write is exactly one bare IP packet. Addresses, MTU and routes
 * are netlink.c's; this file never configures the interface, and never
 * blocks: the fd is non-blocking and the loop waits for it.
 */
#include "tun.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define TUN_CLONE_PATH "/dev/net/tun"

int
tun_open(const char *name, char ifname_out[IFNAMSIZ], int *fd_out)
{
	struct ifreq ifr;
	size_t len;
	int fd, ret;

	if (!name || !ifname_out || !fd_out)
		return -EINVAL;
	/* The kernel would quietly cut a long name; a device with another
	 * name than the configured one is worse than an error. */
	len = strnlen(name, IFNAMSIZ);
	if (len >= IFNAMSIZ)
		return -ENAMETOOLONG;

	fd = open(TUN_CLONE_PATH, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	memcpy(ifr.ifr_name, name, len);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		goto err;
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
