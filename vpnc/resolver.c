// SPDX-License-Identifier: MIT
/*
 * DNS for vpnc (see resolver.h): the requests' codec, the helper's work
 * (choosing the way, running resolvconf; resolved.c and dnsfile.c do the
 * others), and vpnc's calls, which keep what they applied so they can
 * take it back. vpnc has one device at a time and one thread: the state
 * below is the module's (the helper has its own copy).
 */
#include "resolver.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dnsfile.h"
#include "dnsname.h"
#include "log.h"
#include "privsep.h"
#include "resolved.h"
#include "sandbox.h"

#define RESOLV_TEXT_LEN 4096

static const char *const default_paths[] = { "/sbin/resolvconf",
					     "/usr/sbin/resolvconf", NULL };

static const char *const via_names[RESOLVER_VIA_N] = {
	[RESOLVER_VIA_NONE] = "none",
	[RESOLVER_VIA_RESOLVED] = "resolved",
	[RESOLVER_VIA_RESOLVCONF] = "resolvconf",
	[RESOLVER_VIA_FILE] = "file",
	[RESOLVER_VIA_UNKNOWN] = "unknown",
};

static struct {
	bool has_helper;
	struct privsep helper;
	char iface[IFNAMSIZ];         /* vpnc.conf's interface, in the helper */
	const char *const *paths;
	enum vpnc_dns_mode mode;      /* the helper's; vpnc's call's without */
	char resolv_conf[PATH_MAX];   /* "": dns = "file" has nowhere to go */
	char backup[PATH_MAX];        /* the state file's, ".resolv.conf" */
	/* The work's own memory, for CLEAR. */
	enum resolver_via done_via;
	int done_ifindex;
	/* vpnc's: what it applied. */
	char applied[IFNAMSIZ];       /* the device DNS is applied for */
	enum resolver_via applied_via;
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
	if (r->op != RESOLVER_CLEAR) {
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
	if (op != RESOLVER_SET && op != RESOLVER_CLEAR &&
	    op != RESOLVER_SET_FULL)
		return -EPROTO;
	out->op = op;
	name_len = take_u8(&r);
	name = take(&r, name_len);
	if (!name || !ifname_matches(name, name_len, iface))
		return -EPROTO;
	memcpy(out->ifname, name, name_len);
	if (op != RESOLVER_CLEAR) {
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

/* resolvconf -a or -d: 0, -ENOENT when it is not installed, -EIO when
 * it failed. */
static int
via_resolvconf(const struct resolver_request *r)
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

static bool
may(enum vpnc_dns_mode want)
{
	return rs.mode == VPNC_DNS_AUTO || rs.mode == want;
}

/* A SET: the first way the mode allows that is there. -ENOENT: none. */
static int
set(const struct resolver_request *r, enum resolver_via *via)
{
	int ifindex = (int)if_nametoindex(r->ifname);
	int ret;

	if (may(VPNC_DNS_RESOLVED) && ifindex > 0) {
		ret = resolved_set_link(ifindex, &r->nc,
					r->op == RESOLVER_SET_FULL);
		if (ret != -ENOENT) {
			*via = RESOLVER_VIA_RESOLVED;
			rs.done_ifindex = ifindex;
			if (ret < 0)
				resolved_revert_link(ifindex);
			return ret;
		}
	}
	if (may(VPNC_DNS_RESOLVCONF)) {
		ret = via_resolvconf(r);
		if (ret != -ENOENT) {
			*via = RESOLVER_VIA_RESOLVCONF;
			return ret;
		}
	}
	if (may(VPNC_DNS_FILE) && rs.resolv_conf[0] && rs.backup[0]) {
		*via = RESOLVER_VIA_FILE;
		return dnsfile_set(rs.resolv_conf, rs.backup, r->ifname, &r->nc);
	}
	return -ENOENT;
}

/* Undoes DNS applied `via` for `ifname`. */
static int
undo(const char *ifname, enum resolver_via via, int ifindex)
{
	struct resolver_request r = { .op = RESOLVER_CLEAR };
	int ret = 0;

	snprintf(r.ifname, sizeof(r.ifname), "%s", ifname);
	if ((via == RESOLVER_VIA_RESOLVED || via == RESOLVER_VIA_UNKNOWN) &&
	    ifindex > 0)
		ret = resolved_revert_link(ifindex);
	if (via == RESOLVER_VIA_UNKNOWN && ret == -ENOENT)
		ret = 0;
	if (via == RESOLVER_VIA_RESOLVCONF ||
	    (via == RESOLVER_VIA_UNKNOWN && resolvconf_path()))
		ret = via_resolvconf(&r);
	if ((via == RESOLVER_VIA_FILE || via == RESOLVER_VIA_UNKNOWN) &&
	    rs.resolv_conf[0] && rs.backup[0])
		ret = dnsfile_restore(rs.resolv_conf, rs.backup);
	return ret;
}

/* One request's work: 0 or -errno; *via: how a SET was done. */
static int
run_request(const struct resolver_request *r, enum resolver_via *via)
{
	int ret;

	*via = RESOLVER_VIA_NONE;
	if (r->op == RESOLVER_CLEAR) {
		ret = undo(r->ifname, rs.done_via, rs.done_ifindex);
		rs.done_via = RESOLVER_VIA_NONE;
		return ret;
	}
	ret = set(r, via);
	rs.done_via = ret == 0 ? *via : RESOLVER_VIA_NONE;
	return ret;
}

/* The helper: every request decoded again, whatever vpnc sent. */
static int
handle(void *arg, const struct privsep_request *req, uint8_t *out,
       size_t *out_len, int *pass_fd)
{
	struct resolver_request r;
	enum resolver_via via;
	int ret;

	(void)arg;
	(void)pass_fd;
	if (resolver_request_decode(req->op, req->payload, req->len, rs.iface,
				    &r) < 0) {
		log_warn("resolver: request %u (%zu bytes) refused", req->op,
			 req->len);
		return EPROTO;
	}
	ret = run_request(&r, &via);
	log_debug("resolver: %s %s%s%s: %s",
		  r.op == RESOLVER_CLEAR ? "clear" : "set", r.ifname,
		  via ? " via " : "", via ? via_names[via] : "",
		  ret < 0 ? strerror(-ret) : "ok");
	if (ret == 0 && r.op != RESOLVER_CLEAR) {
		out[0] = (uint8_t)via;
		*out_len = 1;
	}
	return -ret;
}

/* The helper keeps root for resolvconf and its hooks, not the keys. */
static int
helper_init(void *arg)
{
	vpnc_config_wipe(arg);
	return sandbox_no_dumps();
}

void
resolver_init(const struct vpnc_config *cfg)
{
	snprintf(rs.iface, sizeof(rs.iface), "%s", cfg->interface);
	rs.mode = cfg->dns_mode;
	snprintf(rs.resolv_conf, sizeof(rs.resolv_conf), "%s",
		 cfg->resolv_conf);
	rs.backup[0] = '\0';
	if (cfg->state_file[0] &&
	    snprintf(rs.backup, sizeof(rs.backup), "%s.resolv.conf",
		     cfg->state_file) >= (int)sizeof(rs.backup))
		rs.backup[0] = '\0';
}

int
resolver_start(struct vpnc_config *cfg, const char *const *paths)
{
	int ret;

	resolver_init(cfg);
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
request(const struct resolver_request *r, enum resolver_via *via)
{
	uint8_t buf[PRIVSEP_PAYLOAD_MAX], answer[1];
	size_t len = resolver_request_encode(r, buf, sizeof(buf)), n = 0;
	int ret;

	*via = RESOLVER_VIA_NONE;
	if (!len)
		return -EINVAL;
	if (!rs.has_helper)
		return run_request(r, via);
	ret = privsep_call(&rs.helper, r->op, buf, len, answer, sizeof(answer),
			   &n, NULL);
	if (ret == 0 && r->op != RESOLVER_CLEAR) {
		if (n != 1 || answer[0] == RESOLVER_VIA_NONE ||
		    answer[0] >= RESOLVER_VIA_UNKNOWN)
			return -EPROTO;
		*via = (enum resolver_via)answer[0];
	}
	return ret;
}

static const char *
mode_name(enum vpnc_dns_mode mode)
{
	switch (mode) {
	case VPNC_DNS_RESOLVED:
		return "resolved";
	case VPNC_DNS_RESOLVCONF:
		return "resolvconf";
	case VPNC_DNS_FILE:
		return "file";
	default:
		return "auto";
	}
}

/* Why a mode could not be applied at all (-ENOENT). */
static void
say_missing(enum vpnc_dns_mode mode)
{
	if (mode == VPNC_DNS_RESOLVED)
		log_err("dns = \"resolved\" but systemd-resolved does not run "
			"here");
	else if (mode == VPNC_DNS_RESOLVCONF)
		log_err("dns = \"resolvconf\" but resolvconf is not installed "
			"(apt-get install resolvconf)");
	else
		log_err("dns = \"%s\" but there is no file to write it to",
			mode_name(mode));
}

int
resolver_apply_for(const char *ifname, const struct netconf *nc,
		   enum vpnc_dns_mode mode, bool is_full)
{
	struct resolver_request r = { .op = is_full ? RESOLVER_SET_FULL
						    : RESOLVER_SET };
	char text[RESOLV_TEXT_LEN];
	enum resolver_via via;
	int ret;

	if (mode == VPNC_DNS_NONE || (!nc->n_dns && !nc->n_search))
		return 0;
	snprintf(r.ifname, sizeof(r.ifname), "%s", ifname);
	memcpy(r.nc.dns, nc->dns, sizeof(r.nc.dns));
	r.nc.n_dns = nc->n_dns;
	memcpy(r.nc.search, nc->search, sizeof(r.nc.search));
	r.nc.n_search = nc->n_search;
	if (!rs.has_helper)
		rs.mode = mode;
	/* Until the answer, the state file cannot say how. */
	rs.applied_via = RESOLVER_VIA_UNKNOWN;
	snprintf(rs.applied, sizeof(rs.applied), "%s", ifname);
	ret = request(&r, &via);
	if (ret == 0) {
		rs.applied_via = via;
		log_info("DNS for %s set through %s", ifname,
			 resolver_via_name(via));
		return 0;
	}
	/* Nothing applied; a half-done attempt was undone by the work. */
	rs.applied[0] = '\0';
	rs.applied_via = RESOLVER_VIA_NONE;
	if (ret == -ENOENT && mode == VPNC_DNS_AUTO) {
		netconf_resolv_text(nc, text, sizeof(text));
		log_notice("DNS pushed by the server (no resolved, resolvconf "
			   "or file to apply it through):\n%s", text);
		return 0;
	}
	if (ret == -ENOENT)
		say_missing(mode);
	else
		log_err("DNS for %s (dns = \"%s\") failed: %s", ifname,
			mode_name(mode), ret == -EIO ? "it said no"
						      : strerror(-ret));
	return mode == VPNC_DNS_AUTO ? 0 : ret;
}

int
resolver_apply(const char *ifname, const struct netconf *nc,
	       enum vpnc_dns_mode mode)
{
	return resolver_apply_for(ifname, nc, mode, false);
}

void
resolver_remove(const char *ifname)
{
	struct resolver_request r = { .op = RESOLVER_CLEAR };
	enum resolver_via via;
	int ret;

	if (!rs.applied[0] || strcmp(rs.applied, ifname) != 0)
		return;
	snprintf(r.ifname, sizeof(r.ifname), "%s", ifname);
	rs.applied[0] = '\0';
	rs.applied_via = RESOLVER_VIA_NONE;
	ret = request(&r, &via);
	if (ret < 0)
		log_warn("DNS for %s not taken back: %s", ifname,
			 strerror(-ret));
}

enum resolver_via
resolver_applied(char ifname[IFNAMSIZ])
{
	snprintf(ifname, IFNAMSIZ, "%s", rs.applied);
	return rs.applied[0] ? rs.applied_via : RESOLVER_VIA_NONE;
}

void
resolver_recover(const char *ifname, enum resolver_via via)
{
	int ret = undo(ifname, via, (int)if_nametoindex(ifname));

	if (ret < 0 && ret != -ENOENT)
		log_warn("DNS for %s left by the last run not taken back: %s",
			 ifname, strerror(-ret));
}

const char *
resolver_via_name(enum resolver_via via)
{
	return via < RESOLVER_VIA_N ? via_names[via] : "?";
}

bool
resolver_via_parse(const char *name, enum resolver_via *via)
{
	unsigned int i;

	for (i = 0; i < RESOLVER_VIA_N; i++)
		if (strcmp(name, via_names[i]) == 0) {
			*via = (enum resolver_via)i;
			return true;
		}
	return false;
}
