// SPDX-License-Identifier: MIT
/*
 * vpnd's least privilege (see privs.h): the order of the steps, and the
 * user store handed to the user vpnd runs as. Everything here runs on the
 * loop's thread.
 */
#include "privs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "sandbox.h"
#include "syscalls.h"
#include "userdb.h"

#define KEEP SANDBOX_CAP(CAP_NET_ADMIN)

/* The SQLite files of a store named `base`: itself and its companions. */
static const char *const store_suffixes[] = { "", "-wal", "-shm",
					      "-journal" };
#define N_SUFFIXES (sizeof(store_suffixes) / sizeof(store_suffixes[0]))

/* For privs_read_config: the privileges of the vpnd that runs. */
static struct privs *running;

/* ---- the user store ---------------------------------------------------------- */

/* Splits `path` into its directory and its last name. */
static int
split_path(const char *path, char dir[PATH_MAX], char base[NAME_MAX + 1])
{
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	size_t dir_len = !slash ? 0 : slash == path ? 1 : (size_t)(slash - path);

	if (!*name || strlen(name) > NAME_MAX || dir_len >= PATH_MAX)
		return -EINVAL;
	if (dir_len) {
		memcpy(dir, path, dir_len);
		dir[dir_len] = '\0';
	} else {
		snprintf(dir, PATH_MAX, ".");
	}
	snprintf(base, NAME_MAX + 1, "%s", name);
	return 0;
}

/* True if `name` is one of the store's files. */
static bool
is_store_file(const char *name, const char *base)
{
	size_t len = strlen(base), i;

	if (strncmp(name, base, len) != 0)
		return false;
	for (i = 0; i < N_SUFFIXES; i++)
		if (strcmp(name + len, store_suffixes[i]) == 0)
			return true;
	return false;
}

/* True if the directory holds the store's files and nothing else. */
static bool
holds_only_store(int dir_fd, const char *base)
{
	int fd = dup(dir_fd);
	struct dirent *e;
	bool only = true;
	DIR *d;

	if (fd < 0)
		return false;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return false;
	}
	while (only && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    !is_store_file(e->d_name, base))
			only = false;
	closedir(d);
	return only;
}

/*
 * Gives one file to uid:gid. The directory may be the user's: a link
 * there must not make root give away a file elsewhere, so the name is
 * opened without following a symbolic link and must be a plain file with
 * one link (the kernel's protected_hardlinks stops links to others'
 * files being made; this is a second check). O_PATH, because SQLite
 * holds POSIX locks on these files in this process, and closing any
 * other descriptor of a file drops every such lock the process holds on
 * it: the next vpnctl would take vpnd's store for unused, and remove the
 * -wal and -shm files under it.
 */
static int
give_file(int dir_fd, const char *name, uid_t uid, gid_t gid)
{
	struct stat st;
	int fd, ret = 0;

	fd = openat(dir_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st) < 0)
		ret = -errno;
	else if (!S_ISREG(st.st_mode) || st.st_nlink != 1)
		ret = -EPERM;
	else if ((st.st_uid != uid || st.st_gid != gid) &&
		 fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/*
 * The directory is given too when root owns it, nobody else may enter it
 * and it holds only the store (as /var/lib/vpnd, made by vpnctl or
 * systemd's StateDirectory): never a directory shared with other files.
 */
static int
give_store(const char *path, uid_t uid, gid_t gid)
{
	char dir[PATH_MAX], base[NAME_MAX + 1], name[NAME_MAX + 16];
	struct stat st;
	unsigned int i;
	int dir_fd, ret;

	ret = split_path(path, dir, base);
	if (ret < 0)
		return ret;
	dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0)
		return -errno;
	for (i = 0; i < N_SUFFIXES && ret == 0; i++) {
		snprintf(name, sizeof(name), "%s%s", base, store_suffixes[i]);
		ret = give_file(dir_fd, name, uid, gid);
		if (ret < 0)
			log_err("user store %s/%s: cannot give it to uid %u: "
				"%s", dir, name, (unsigned int)uid,
				strerror(-ret));
	}
	if (ret == 0 && fstat(dir_fd, &st) == 0 && st.st_uid == 0 &&
	    !(st.st_mode & 077) && holds_only_store(dir_fd, base) &&
	    fchown(dir_fd, uid, gid) < 0)
		log_warn("user store directory %s: cannot give it to uid %u: "
			 "%s", dir, (unsigned int)uid, strerror(errno));
	close(dir_fd);
	return ret;
}

/* The control socket's owner: root, the user, and control-group use it
 * (its group and mode are ctl.c's). */
static int
give_socket(const char *path, uid_t uid)
{
	if (fchownat(AT_FDCWD, path, uid, (gid_t)-1, AT_SYMLINK_NOFOLLOW) < 0) {
		log_err("control socket %s: cannot give it to uid %u: %s", path,
			(unsigned int)uid, strerror(errno));
		return -errno;
	}
	return 0;
}

/* Once vpnd runs as the user: SQLite must be able to create and remove
 * files beside the store. vpnd runs on without (its connections are
 * open), but leaves the -wal and -shm files behind at stop. */
static void
check_store_dir(const char *path, const char *user)
{
	char dir[PATH_MAX], base[NAME_MAX + 1];

	if (split_path(path, dir, base) == 0 &&
	    access(dir, W_OK | X_OK) < 0)
		log_warn("user store directory %s: user %s cannot write in "
			 "it (%s), so SQLite cannot create or remove the "
			 "store's -wal and -shm files: give it the directory "
			 "(chown %s: %s), as make install does for "
			 "/var/lib/vpnd", dir, user, strerror(errno), user,
			 dir);
}

/* The SQLite store's file; NULL for a database server's store, which has
 * nothing here to give. */
static const char *
store_file(const char *name)
{
	struct userdb_spec spec;
	const char *why;

	if (userdb_spec_parse(name, &spec, &why) < 0 ||
	    spec.engine != USERDB_ENGINE_SQLITE)
		return NULL;
	return spec.target;
}

/* ---- the steps --------------------------------------------------------------- */

int
privs_start(struct privs *p, struct vpnd_config *cfg, bool detached)
{
	int ret;

	memset(p, 0, sizeof(*p));
	snprintf(p->user, sizeof(p->user), "%s", cfg->user);
	ret = sandbox_user_lookup(cfg->user, &p->uid, &p->gid);
	if (ret == -ENOENT) {
		log_err("user %s does not exist: create it (make install "
			"does) or set user = ... in %s", cfg->user, cfg->path);
		return ret;
	}
	if (ret < 0) {
		log_err("cannot look up user %s: %s", cfg->user, strerror(-ret));
		return ret;
	}
	p->is_dropping = p->uid != 0;
	if (p->is_dropping && geteuid() != 0) {
		log_err("vpnd must start as root to run as user %s once its "
			"device and sockets are open (or set user = \"root\" "
			"in %s)", cfg->user, cfg->path);
		return -EPERM;
	}
	if (p->is_dropping) {
		ret = sandbox_bound_caps(KEEP);
		if (ret < 0) {
			log_err("cannot limit the capability bounding set: %s",
				strerror(-ret));
			return ret;
		}
	}
	ret = monitor_start(&p->monitor, cfg, p->is_dropping, detached);
	if (ret == 0)
		running = p;
	return ret;
}

int
privs_drop(struct privs *p, const struct vpnd_config *cfg)
{
	const char *file;
	int ret;

	if (!p->is_dropping) {
		log_notice("running as root (user = \"%s\"): no privileges "
			   "dropped", p->user);
		return sandbox_guard_memory();
	}
	file = store_file(cfg->user_db);
	ret = file ? give_store(file, p->uid, p->gid) : 0;
	if (ret == 0)
		ret = give_socket(cfg->control_socket, p->uid);
	if (ret == 0)
		ret = sandbox_guard_memory();
	if (ret < 0)
		return ret;
	ret = sandbox_set_user(p->uid, p->gid, KEEP);
	if (ret < 0) {
		log_err("cannot become user %s: %s", p->user, strerror(-ret));
		return ret;
	}
	if (file)
		check_store_dir(file, p->user);
	/* Not a file: a database server, which vpnd may reconnect to. */
	ret = sandbox_filter_install(file ? syscalls_vpnd() : syscalls_vpnd_pg(),
				     true);
	if (ret < 0) {
		log_err("cannot install the system call filter: %s",
			strerror(-ret));
		return ret;
	}
	/* A reload reads vpnd.conf (root's) through the monitor. */
	conf_set_reader(privs_read_config);
	log_info("running as user %s (uid %u, gid %u) with CAP_NET_ADMIN "
		 "only, no new privileges, system calls filtered", p->user,
		 (unsigned int)p->uid, (unsigned int)p->gid);
	return 0;
}

void
privs_stop(struct privs *p)
{
	int ret;

	if (running == p)
		running = NULL;
	if (p->is_dropping) {
		/* vpnd could not remove it from a directory that is root's;
		 * the monitor can. */
		ret = monitor_remove_socket(&p->monitor);
		if (ret < 0)
			log_debug("control socket %s not removed: %s",
				  p->monitor.socket_path, strerror(-ret));
	}
	monitor_stop(&p->monitor);
}

int
privs_read_config(const char *path, char **text, size_t *len)
{
	if (!running)
		return monitor_read_file(path, text, len);
	if (strcmp(path, running->monitor.config_path) != 0)
		return -EPERM;
	return monitor_read_config(&running->monitor, text, len);
}
