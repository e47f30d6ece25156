// SPDX-License-Identifier: MIT
/*
 * DNS for a confined vpnc (see resolver.h): the requests' codec, the
 * helper's work (finding and running resolvconf), and vpnc's calls, which
 * keep what they applied so they can take it back. vpnc has one device at
 * a time and one thread: the state below is the module's.
 */
#include "resolver.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dnsname.h"
#include "log.h"
#include "privsep.h"
#include "sandbox.h"

#define RESOLV_TEXT_LEN 4096

static const char *const default_paths[] = { "/sbin/resolvconf",
					     "/usr/sbin/resolvconf", NULL };

static struct {
	bool has_helper;
	struct privsep helper;
	char iface[IFNAMSIZ];         /* vpnc.conf's interface, in the helper */
	const char *const *paths;
	char applied[IFNAMSIZ];       /* the device resolvconf has DNS for */
} rs = { .paths = default_paths };

/* ---- codec --------------------------------------------------------------------- */

struct writer {
	uint8_t *p;
	size_t len, cap;
	bool is_full;
};

static void
put(struct writer *w, const void *bytes, size_t n)
{
	if (w->is_full || w->cap - w->len < n) {
		w->is_full = true;
		return;
	}
	memcpy(w->p + w->len, bytes, n);
	w->len += n;
}

static void
put_u8(struct writer *w, size_t v)
{
	uint8_t b = (uint8_t)v;

	put(w, &b, 1);
}

size_t
resolver_request_encode(const struct resolver_request *r, uint8_t *out,
			size_t cap)
{
	struct writer w = { out, 0, cap, false };
	const struct netconf *nc = &r->nc;
	size_t len = strnlen(r->ifname, IFNAMSIZ);
	unsigned int i;

	put_u8(&w, len);
	put(&w, r->ifname, len);
	if (r->op == RESOLVER_SET) {
		put_u8(&w, nc->n_dns);
		for (i = 0; i < nc->n_dns; i++) {
			put_u8(&w, nc->dns[i].family == AF_INET ? 4 : 6);
			put(&w, nc->dns[i].addr,
			    nc->dns[i].family == AF_INET ? 4 : 16);
		}
		put_u8(&w, nc->n_search);
		for (i = 0; i < nc->n_search; i++) {
			len = strnlen(nc->search[i], sizeof(nc->search[i]));
			put_u8(&w, len);
			put(&w, nc->search[i], len);
		}
	}
	return w.is_full ? 0 : w.len;
}

struct reader {
	const uint8_t *p;
	size_t left;
	bool is_bad;
};

static const uint8_t *
take(struct reader *r, size_t n)
{
	const uint8_t *p = r->p;

	if (r->is_bad || r->left < n) {
		r->is_bad = true;
		return NULL;
	}
	r->p += n;
	r->left -= n;
	return p;
}

static unsigned int
take_u8(struct reader *r)
{
	const uint8_t *p = take(r, 1);

	return p ? *p : 0;
}

/* A device vpnc.conf's interface names: itself, or with a number in
 * place of its %d. */
static bool
ifname_matches(const uint8_t *name, size_t len, const char *iface)
{
	const char *pct = strstr(iface, "%d");
	size_t pre, post, digits;

	if (len == 0 || len >= IFNAMSIZ)
		return false;
	if (!pct)
		return len == strlen(iface) && !memcmp(name, iface, len);
	pre = (size_t)(pct - iface);
	post = strlen(pct + 2);
	if (len <= pre + post || memcmp(name, iface, pre) ||
	    memcmp(name + len - post, pct + 2, post))
		return false;
	for (digits = pre; digits < len - post; digits++)
		if (name[digits] < '0' || name[digits] > '9')
			return false;
	return true;
}

static void
take_servers(struct reader *r, struct netconf *nc)
{
	unsigned int n = take_u8(r), i, family;
	const uint8_t *addr;

	if (n > NETCONF_MAX_DNS)
		r->is_bad = true;
	for (i = 0; i < n && !r->is_bad; i++) {
		family = take_u8(r);
		if (family != 4 && family != 6) {
			r->is_bad = true;
			break;
		}
		addr = take(r, family == 4 ? 4 : 16);
		if (!addr)
			break;
		nc->dns[i].family = family == 4 ? AF_INET : AF_INET6;
		memcpy(nc->dns[i].addr, addr, family == 4 ? 4 : 16);
		nc->dns[i].len = family == 4 ? 32 : 128;
		nc->n_dns++;
	}
}

static void
take_domains(struct reader *r, struct netconf *nc)
{
	unsigned int n = take_u8(r), i;
	const uint8_t *name;
	size_t len;

	if (n > NETCONF_MAX_DNS)
		r->is_bad = true;
	for (i = 0; i < n && !r->is_bad; i++) {
		len = take_u8(r);
		name = take(r, len);
		if (!name || !dnsname_valid(name, len)) {
			r->is_bad = true;
			break;
		}
		memcpy(nc->search[i], name, len);
		nc->search[i][len] = '\0';
		nc->n_search++;
	}
}

int
resolver_request_decode(enum resolver_op op, const uint8_t *buf, size_t len,
			const char *iface, struct resolver_request *out)
{
	struct reader r = { buf, len, false };
	const uint8_t *name;
	size_t name_len;

	memset(out, 0, sizeof(*out));
	if (op != RESOLVER_SET && op != RESOLVER_CLEAR)
		return -EPROTO;
	out->op = op;
	name_len = take_u8(&r);
	name = take(&r, name_len);
	if (!name || !ifname_matches(name, name_len, iface))
		return -EPROTO;
	memcpy(out->ifname, name, name_len);
	if (op == RESOLVER_SET) {
		take_servers(&r, &out->nc);
		take_domains(&r, &out->nc);
	}
	return r.is_bad || r.left ? -EPROTO : 0;
}

/* ---- the work ----------------------------------------------------------------------- */

static const char *
resolvconf_path(void)
{
	unsigned int i;

	for (i = 0; rs.paths[i]; i++)
		if (access(rs.paths[i], X_OK) == 0)
			return rs.paths[i];
	return NULL;
}

/* Runs resolvconf with `input` on its standard input: 0 or -errno. */
static int
run_resolvconf(const char *path, char *const argv[], const char *input)
{
	int fds[2], status;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -errno;
	}
	if (pid == 0) {
		/* dup2 leaves the copy open across exec. */
		if (dup2(fds[0], STDIN_FILENO) < 0)
			_exit(127);
		execv(path, argv);
		_exit(127);
	}
	close(fds[0]);
	if (input && write(fds[1], input, strlen(input)) < 0)
		log_warn("resolvconf: %s", strerror(errno));
	close(fds[1]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

/* 0, -ENOENT when resolvconf is not installed, -EIO when it failed. */
static int
run_request(const struct resolver_request *r)
{
	char text[RESOLV_TEXT_LEN], name[IFNAMSIZ];
	char *set[] = { "resolvconf", "-a", name, "-m", "0", "-x", NULL };
	char *clear[] = { "resolvconf", "-d", name, "-f", NULL };
	const char *path = resolvconf_path();

	if (!path)
		return -ENOENT;
	snprintf(name, sizeof(name), "%s", r->ifname);
	if (r->op == RESOLVER_CLEAR)
		return run_resolvconf(path, clear, NULL);
	netconf_resolv_text(&r->nc, text, sizeof(text));
	return run_resolvconf(path, set, text);
}

/* The helper: every request decoded again, whatever vpnc sent. */
static int
handle(void *arg, const struct privsep_request *req, uint8_t *out,
       size_t *out_len, int *pass_fd)
{
	struct resolver_request r;
	int ret;

	(void)arg;
	(void)out;
	(void)out_len;
	(void)pass_fd;
	if (resolver_request_decode(req->op, req->payload, req->len, rs.iface,
				    &r) < 0) {
		log_warn("resolver: request %u (%zu bytes) refused", req->op,
			 req->len);
		return EPROTO;
	}
	ret = run_request(&r);
	log_debug("resolver: resolvconf %s %s: %s",
		  r.op == RESOLVER_SET ? "-a" : "-d", r.ifname,
		  ret < 0 ? strerror(-ret) : "ok");
	return -ret;
}

/* The helper keeps root for resolvconf and its hooks, not the keys. */
static int
helper_init(void *arg)
{
	vpnc_config_wipe(arg);
	return sandbox_no_dumps();
}

int
resolver_start(struct vpnc_config *cfg, const char *const *paths)
{
	int ret;

	snprintf(rs.iface, sizeof(rs.iface), "%s", cfg->interface);
	rs.paths = paths ? paths : default_paths;
	ret = privsep_start(&rs.helper, helper_init, handle, cfg, false);
	if (ret < 0) {
		log_err("cannot start the DNS helper: %s", strerror(-ret));
		return ret;
	}
	rs.has_helper = true;
	return 0;
}

void
resolver_stop(void)
{
	if (rs.applied[0])
		resolver_remove(rs.applied);
	if (rs.has_helper)
		privsep_stop(&rs.helper);
	rs.has_helper = false;
}

/* ---- vpnc's calls -------------------------------------------------------------------- */

static int
request(const struct resolver_request *r)
{
	uint8_t buf[PRIVSEP_PAYLOAD_MAX];
	size_t len = resolver_request_encode(r, buf, sizeof(buf));

	if (!len)
		return -EINVAL;
	if (!rs.has_helper)
		return run_request(r);
	return privsep_call(&rs.helper, r->op, buf, len, NULL, 0, NULL, NULL);
}

int
resolver_apply(const char *ifname, const struct netconf *nc,
	       enum vpnc_dns_mode mode)
{
	struct resolver_request r = { .op = RESOLVER_SET };
	char text[RESOLV_TEXT_LEN];
	int ret;

	if (mode == VPNC_DNS_NONE || (!nc->n_dns && !nc->n_search))
		return 0;
	snprintf(r.ifname, sizeof(r.ifname), "%s", ifname);
	memcpy(r.nc.dns, nc->dns, sizeof(r.nc.dns));
	r.nc.n_dns = nc->n_dns;
	memcpy(r.nc.search, nc->search, sizeof(r.nc.search));
	r.nc.n_search = nc->n_search;
	ret = request(&r);
	if (ret == 0) {
		snprintf(rs.applied, sizeof(rs.applied), "%s", ifname);
		return 0;
	}
	if (ret == -ENOENT && mode == VPNC_DNS_RESOLVCONF) {
		log_err("dns = \"resolvconf\" but resolvconf is not installed "
			"(apt-get install resolvconf)");
	} else if (ret == -ENOENT) {
		netconf_resolv_text(nc, text, sizeof(text));
		log_notice("DNS pushed by the server (resolvconf is not "
			   "installed, so not applied):\n%s", text);
		return 0;
	} else {
		log_err("resolvconf -a %s failed%s%s", ifname,
			ret == -EIO ? "" : ": ", ret == -EIO ? "" :
			strerror(-ret));
	}
	return mode == VPNC_DNS_RESOLVCONF ? ret : 0;
}

void
resolver_remove(const char *ifname)
{
	struct resolver_request r = { .op = RESOLVER_CLEAR };
	int ret;

	if (!rs.applied[0] || strcmp(rs.applied, ifname) != 0)
		return;
	snprintf(r.ifname, sizeof(r.ifname), "%s", ifname);
	rs.applied[0] = '\0';
	ret = request(&r);
	if (ret < 0)
		log_warn("resolvconf -d %s failed: %s", ifname, strerror(-ret));
}
