// SPDX-License-Identifier: MIT
/*
 * The TUN device (see tun.h): one fd per device, IFF_TUN | IFF_NO_PI, so a
 * read or write is exactly one bare IP packet. Addresses, MTU and routes
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

#include "sysctl.h"

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
