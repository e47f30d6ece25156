/* SPDX-License-Identifier: MIT */
/*
 * Whole writes to a descriptor: write(2) may write less than it was given
 * or be interrupted, and every file vpnd and vpnc write (keys, the
 * metrics textfile, vpnc's state and resolv.conf) must be written whole
 * or fail. A thin edge: no allocation, no logging.
 */
#ifndef VPN_FDIO_H
#define VPN_FDIO_H

#include <stddef.h>

/* All len bytes of buf to fd, across short writes and EINTR. 0 or
 * -errno. */
int fdio_write_all(int fd, const void *buf, size_t len)
	__attribute__((warn_unused_result));

#endif
