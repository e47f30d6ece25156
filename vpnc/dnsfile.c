// SPDX-License-Identifier: MIT
/*
 * resolv.conf written by vpnc, and put back (see dnsfile.h).
 */
#include "dnsfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fdio.h"
#include "log.h"

/* resolv.conf is a few lines; anything longer is cut at this size in the
 * backup, which the log then says. */
#define FILE_MAX 65536

/* Reads up to cap - 1 bytes of path into buf, NUL-terminated. The length,
 * or -errno. */
static ssize_t
read_file(const char *path, char *buf, size_t cap)
{
	size_t len = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while (len < cap - 1) {
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return (ssize_t)len;
}

/* Replaces the content of path in place (O_TRUNC, no rename). */
static int
write_in_place(const char *path, const char *text, size_t len, int flags)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | flags, 0644);
	int ret;

	if (fd < 0)
		return -errno;
	ret = fdio_write_all(fd, text, len);
	if (close(fd) < 0 && ret == 0)
		ret = -errno;
	return ret;
}

/* The backup, whole or not at all: a temporary file renamed over it. */
static int
write_backup(const char *backup, const char *text, size_t len)
{
	char tmp[4096 + 8];
	int ret;

	if (snprintf(tmp, sizeof(tmp), "%s.new", backup) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	ret = write_in_place(tmp, text, len, O_CREAT | O_NOFOLLOW);
	if (ret == 0 && rename(tmp, backup) < 0)
		ret = -errno;
	if (ret < 0)
		unlink(tmp);
	return ret;
}

static bool
is_ours(const char *text)
{
	return strncmp(text, DNSFILE_MARK, strlen(DNSFILE_MARK)) == 0;
}

int
dnsfile_set(const char *path, const char *backup, const char *ifname,
	    const struct netconf *nc)
{
	static char old[FILE_MAX], text[8192];
	ssize_t len;
	size_t n;
	int ret;

	len = read_file(path, old, sizeof(old));
	if (len < 0 && len != -ENOENT) {
		log_err("cannot read %s: %s", path, strerror((int)-len));
		return (int)len;
	}
	if (len == -ENOENT) {
		old[0] = '\0';
		len = 0;
	}
	if (!is_ours(old) || access(backup, F_OK) < 0) {
		ret = write_backup(backup, old, (size_t)len);
		if (ret < 0) {
			log_err("cannot keep %s in %s: %s; not changed", path,
				backup, strerror(-ret));
			return ret;
		}
	}
	n = (size_t)snprintf(text, sizeof(text),
			     DNSFILE_MARK "%s (the previous file is kept in "
			     "%s)\n", ifname, backup);
	n += netconf_resolv_text(nc, text + n, sizeof(text) - n);
	ret = write_in_place(path, text, n, O_CREAT);
	if (ret < 0)
		log_err("cannot write %s: %s", path, strerror(-ret));
	return ret;
}

int
dnsfile_restore(const char *path, const char *backup)
{
	static char saved[FILE_MAX], now[FILE_MAX];
	ssize_t len, cur;
	int ret = 0;

	len = read_file(backup, saved, sizeof(saved));
	if (len == -ENOENT)
		return 0;
	if (len < 0) {
		log_err("cannot read the copy of %s in %s: %s", path, backup,
			strerror((int)-len));
		return (int)len;
	}
	cur = read_file(path, now, sizeof(now));
	if (cur >= 0 && is_ours(now)) {
		ret = write_in_place(path, saved, (size_t)len, 0);
		if (ret < 0) {
			log_err("cannot put %s back from %s: %s", path, backup,
				strerror(-ret));
			return ret; /* the backup stays for the next try */
		}
	} else {
		log_notice("%s was rewritten by something else while vpnc "
			   "was connected: left as it is", path);
	}
	if (unlink(backup) < 0)
		log_warn("cannot remove %s: %s", backup, strerror(errno));
	return 0;
}
