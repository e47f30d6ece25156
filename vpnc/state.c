// SPDX-License-Identifier: MIT
/*
 * The state file (see state.h): its text both ways, writing it whole, and
 * undoing what it records at the next start.
 */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdio.h"
#include "log.h"
#include "rtnl.h"

#define HEADER "# vpnc: what to undo if this vpnc did not stop (vpnc(8))\n"

/* ---- the text ------------------------------------------------------------- */

size_t
state_format(const struct state *s, char *out, size_t cap)
{
	char text[PREFIX_STR_LEN];
	size_t n;
	unsigned int i;

	n = (size_t)snprintf(out, cap, HEADER);
	for (i = 0; i < s->fence.n && n < cap; i++) {
		const struct rtnl_route *r = &s->fence.items[i].route;

		n += (size_t)snprintf(out + n, cap - n, "route %s %s %u\n",
				      r->is_unreachable ? "unreachable"
							: "unicast",
				      prefix_format(&r->dst, text), r->metric);
	}
	if (s->dns_via != RESOLVER_VIA_NONE && n < cap)
		n += (size_t)snprintf(out + n, cap - n, "dns %s %s\n",
				      s->dns_ifname,
				      resolver_via_name(s->dns_via));
	return n < cap ? n : 0;
}

/* A metric: decimal digits, no sign, at most 2^32 - 1. */
static bool
parse_u32(const char *text, uint32_t *out)
{
	unsigned long long v = 0;
	const char *p;

	if (!*text || strlen(text) > 10)
		return false;
	for (p = text; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (unsigned long long)(*p - '0');
	}
	if (v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* Splits line (modified) at single spaces into at most `max` fields. */
static unsigned int
split(char *line, char **f, unsigned int max)
{
	unsigned int n = 0;
	char *p = line;

	while (n < max) {
		f[n++] = p;
		p = strchr(p, ' ');
		if (!p)
			return n;
		*p++ = '\0';
	}
	return max + 1; /* too many */
}

static bool
parse_route(char **f, unsigned int n, struct fence *fence)
{
	struct fence_item *it;
	bool is_unreachable;
	struct prefix p;
	uint32_t metric;

	if (n != 4 || fence->n == FENCE_MAX)
		return false;
	if (strcmp(f[1], "unreachable") == 0)
		is_unreachable = true;
	else if (strcmp(f[1], "unicast") == 0)
		is_unreachable = false;
	else
		return false;
	if (!prefix_parse(f[2], &p) || !prefix_is_network(&p) ||
	    !parse_u32(f[3], &metric))
		return false;
	it = &fence->items[fence->n++];
	memset(it, 0, sizeof(*it));
	it->kind = is_unreachable ? FENCE_BACKSTOP : FENCE_EXCLUDE;
	it->route.dst = p;
	it->route.is_unreachable = is_unreachable;
	it->route.metric = metric;
	return true;
}

static bool
parse_dns(char **f, unsigned int n, struct state *s)
{
	size_t len;

	if (n != 3 || s->dns_via != RESOLVER_VIA_NONE)
		return false;
	len = strlen(f[1]);
	if (len == 0 || len >= IFNAMSIZ || strchr(f[1], '/'))
		return false;
	if (!resolver_via_parse(f[2], &s->dns_via) ||
	    s->dns_via == RESOLVER_VIA_NONE)
		return false;
	memcpy(s->dns_ifname, f[1], len + 1);
	return true;
}

int
state_parse(const char *text, size_t len, struct state *out,
	    unsigned int *bad_line)
{
	char line[256], *f[5];
	size_t at = 0, end, n;
	unsigned int no = 0, nf;
	bool ok;

	memset(out, 0, sizeof(*out));
	while (at < len) {
		const char *nl = memchr(text + at, '\n', len - at);

		end = nl ? (size_t)(nl - text) : len;
		n = end - at;
		no++;
		*bad_line = no;
		if (n >= sizeof(line) || memchr(text + at, '\0', n))
			return -EINVAL;
		memcpy(line, text + at, n);
		line[n] = '\0';
		at = end + 1;
		if (n == 0 || line[0] == '#')
			continue;
		nf = split(line, f, 4);
		if (strcmp(f[0], "route") == 0)
			ok = parse_route(f, nf, &out->fence);
		else if (strcmp(f[0], "dns") == 0)
			ok = parse_dns(f, nf, out);
		else
			ok = false;
		if (!ok)
			return -EINVAL;
	}
	*bad_line = 0;
	return 0;
}

/* ---- the file -------------------------------------------------------------- */

int
state_save(const char *path, const struct state *s)
{
	static char text[STATE_TEXT_MAX];
	char tmp[PATH_MAX + 8];
	size_t len;
	int fd, ret;

	if (!s->fence.n && s->dns_via == RESOLVER_VIA_NONE) {
		if (unlink(path) < 0 && errno != ENOENT) {
			ret = -errno;
			log_warn("cannot remove %s: %s", path, strerror(-ret));
			return ret;
		}
		return 0;
	}
	len = state_format(s, text, sizeof(text));
	if (!len ||
	    snprintf(tmp, sizeof(tmp), "%s.new", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0) {
		ret = -errno;
	} else {
		ret = fdio_write_all(fd, text, len);
		if (close(fd) < 0 && ret == 0)
			ret = -errno;
		if (ret == 0 && rename(tmp, path) < 0)
			ret = -errno;
		if (ret < 0)
			unlink(tmp);
	}
	if (ret < 0)
		log_err("cannot write the state file %s: %s (a crash now "
			"would leave changes the next start cannot see)",
			path, strerror(-ret));
	return ret;
}

/* ---- undoing after a crash --------------------------------------------------- */

/* The state file's directory, made if missing (one level, mode 700). */
static void
make_dir(const char *path)
{
	char dir[PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return;
	*slash = '\0';
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		log_warn("cannot create %s: %s", dir, strerror(errno));
}

static int
load(const char *path, struct state *s)
{
	static char text[STATE_TEXT_MAX];
	unsigned int bad_line;
	ssize_t n;
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return -errno;
	while (len < sizeof(text)) {
		n = read(fd, text + len, sizeof(text) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (len == sizeof(text)) {
		log_err("%s: too long for a state file of vpnc's; left as it "
			"is", path);
		return -EINVAL;
	}
	if (state_parse(text, len, s, &bad_line) < 0) {
		log_err("%s:%u: not a state file record; left as it is (what "
			"it names was not undone)", path, bad_line);
		return -EINVAL;
	}
	return 0;
}

static int
undo_routes(struct fence *f)
{
	struct rtnl *rt;
	int ret;

	if (!f->n)
		return 0;
	ret = rtnl_open(&rt);
	if (ret < 0) {
		log_err("cannot open rtnetlink to take the last run's routes "
			"out: %s", strerror(-ret));
		return ret;
	}
	fence_clear(rt, f); /* logs what it could not take out */
	rtnl_close(rt);
	return 0;
}

int
state_recover(const struct vpnc_config *cfg)
{
	struct state s;
	int ret;

	make_dir(cfg->state_file);
	ret = load(cfg->state_file, &s);
	if (ret == -ENOENT)
		return 0;
	if (ret < 0)
		return ret;
	log_notice("the last vpnc with this configuration did not stop "
		   "cleanly: taking out what it left (%u route(s)%s%s%s)",
		   s.fence.n, s.dns_via ? ", DNS for " : "",
		   s.dns_via ? s.dns_ifname : "",
		   s.dns_via ? "" : ", no DNS");
	ret = undo_routes(&s.fence);
	if (s.dns_via != RESOLVER_VIA_NONE) {
		resolver_init(cfg);
		resolver_recover(s.dns_ifname, s.dns_via);
	}
	if (ret == 0 && unlink(cfg->state_file) < 0 && errno != ENOENT)
		ret = -errno;
	return ret;
}
