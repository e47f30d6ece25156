// SPDX-License-Identifier: MIT
/*
 * Network sysctls (see sysctl.h): /proc/sys/net files read and written
 * whole, and the list of values changed, put back at stop. The only
 * privileged operation is sysctl_write(), and the list reaches it only
 * through its `write` hook. Never blocks for long: /proc/sys files answer
 * at once.
 */
#include "sysctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

#define SYSCTL_ROOT "/proc/sys/"

bool
sysctl_name_valid(const char *name)
{
	const char *p, *part;
	size_t len;

	if (!name || strncmp(name, "net/", 4) != 0)
		return false;
	len = strnlen(name, SYSCTL_NAME_LEN);
	if (len >= SYSCTL_NAME_LEN)
		return false;
	for (part = name; ; part = p + 1) {
		p = strchrnul(part, '/');
		if (p == part || (p - part == 1 && part[0] == '.') ||
		    (p - part == 2 && part[0] == '.' && part[1] == '.'))
			return false;
		if (!*p)
			return true;
	}
}

static int
path_of(const char *name, char path[sizeof(SYSCTL_ROOT) + SYSCTL_NAME_LEN])
{
	size_t i;

	if (!sysctl_name_valid(name))
		return -EINVAL;
	for (i = 0; name[i]; i++)
		if ((unsigned char)name[i] <= ' ' || name[i] == 0x7f)
			return -EINVAL;
	snprintf(path, sizeof(SYSCTL_ROOT) + SYSCTL_NAME_LEN, "%s%s",
		 SYSCTL_ROOT, name);
	return 0;
}

int
sysctl_read(const char *name, char *value, size_t cap)
{
	char path[sizeof(SYSCTL_ROOT) + SYSCTL_NAME_LEN];
	ssize_t n;
	int fd, ret;

	if (!value || cap == 0)
		return -EINVAL;
	ret = path_of(name, path);
	if (ret < 0)
		return ret;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, value, cap);
	ret = n < 0 ? -errno : 0;
	close(fd);
	if (ret < 0)
		return ret;
	/* A full buffer may have cut the value: it must end in its newline. */
	if ((size_t)n == cap && value[n - 1] != '\n')
		return -ENOSPC;
	while (n > 0 && (value[n - 1] == '\n' || value[n - 1] == ' '))
		n--;
	value[n] = '\0';
	return 0;
}

int
sysctl_write(void *arg, const char *name, const char *value)
{
	char path[sizeof(SYSCTL_ROOT) + SYSCTL_NAME_LEN];
	size_t len;
	ssize_t n;
	int fd, ret;

	(void)arg;
	if (!value)
		return -EINVAL;
	ret = path_of(name, path);
	if (ret < 0)
		return ret;
	len = strnlen(value, SYSCTL_VALUE_LEN);
	if (len == 0 || len >= SYSCTL_VALUE_LEN)
		return -EINVAL;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* The kernel takes a value in one write; a short one is an error. */
	n = write(fd, value, len);
	ret = n < 0 ? -errno : (size_t)n == len ? 0 : -EIO;
	close(fd);
	return ret;
}

char *
sysctl_display_name(const char *name, char out[SYSCTL_NAME_LEN])
{
	size_t i;

	for (i = 0; name[i] && i < SYSCTL_NAME_LEN - 1; i++)
		out[i] = name[i] == '/' ? '.' : name[i];
	out[i] = '\0';
	return out;
}

int
sysctl_set(const struct sysctl_saved *s, const char *name, const char *value)
{
	return s->write ? s->write(s->write_arg, name, value)
			: sysctl_write(NULL, name, value);
}

static struct sysctl_change *
find(struct sysctl_saved *s, const char *name)
{
	unsigned int i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->changes[i].name, name) == 0)
			return &s->changes[i];
	return NULL;
}

int
sysctl_change(struct sysctl_saved *s, const char *name, const char *value)
{
	char old[SYSCTL_VALUE_LEN], shown[SYSCTL_NAME_LEN];
	struct sysctl_change *ch;
	int ret;

	if (strnlen(value, SYSCTL_VALUE_LEN) >= SYSCTL_VALUE_LEN)
		return -EINVAL;
	ret = sysctl_read(name, old, sizeof(old));
	if (ret < 0)
		return ret;
	if (strcmp(old, value) == 0)
		return 0;
	ch = find(s, name);
	if (!ch && s->n == SYSCTL_SAVED_MAX)
		return -ENOSPC;
	ret = sysctl_set(s, name, value);
	if (ret < 0)
		return ret;
	/* Changed twice: the first old value is the one to put back. */
	if (!ch) {
		ch = &s->changes[s->n++];
		snprintf(ch->name, sizeof(ch->name), "%s", name);
		snprintf(ch->old_value, sizeof(ch->old_value), "%s", old);
	}
	snprintf(ch->new_value, sizeof(ch->new_value), "%s", value);
	log_info("%s set to %s (was %s; put back at stop)",
		 sysctl_display_name(name, shown), value, ch->old_value);
	return 0;
}

static void
restore_one(const struct sysctl_saved *s, const struct sysctl_change *ch)
{
	char now[SYSCTL_VALUE_LEN], shown[SYSCTL_NAME_LEN];
	int ret;

	sysctl_display_name(ch->name, shown);
	ret = sysctl_read(ch->name, now, sizeof(now));
	if (ret == -ENOENT)
		return; /* its device is gone, and the setting with it */
	if (ret < 0) {
		log_warn("cannot read %s to put it back to %s: %s", shown,
			 ch->old_value, strerror(-ret));
		return;
	}
	if (strcmp(now, ch->new_value) != 0) {
		log_info("%s left at %s: changed by someone else since", shown,
			 now);
		return;
	}
	ret = sysctl_set(s, ch->name, ch->old_value);
	if (ret < 0)
		log_warn("cannot put %s back to %s: %s", shown, ch->old_value,
			 strerror(-ret));
	else
		log_info("%s put back to %s", shown, ch->old_value);
}

void
sysctl_restore(struct sysctl_saved *s)
{
	while (s->n > 0)
		restore_one(s, &s->changes[--s->n]);
	memset(s->changes, 0, sizeof(s->changes));
}
