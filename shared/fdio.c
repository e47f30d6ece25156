// SPDX-License-Identifier: MIT
/* Whole writes to a descriptor (see fdio.h). */
#include "fdio.h"

#include <errno.h>
#include <stdint.h>
#include <unistd.h>

int
fdio_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
