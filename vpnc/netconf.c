// SPDX-License-Identifier: MIT
/*
 * Applying the configuration policy.c took from the server (see
 * netconf.h). Addresses, routes and MTU go through rtnetlink (never `ip`);
 * DNS goes through resolvconf, as wg-quick does, because that is how
 * Debian hands resolver settings to whichever resolver runs.
 */
#include "netconf.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "netlink.h"
#include "policy.h"

static const char *const resolvconf_paths[] = {
	"/sbin/resolvconf", "/usr/sbin/resolvconf", NULL
};

static void
set_prefix(struct prefix *p, int family, const uint8_t *addr, uint8_t len)
{
	memset(p, 0, sizeof(*p));
	p->family = family;
	memcpy(p->addr, addr, prefix_addr_len(family));
	p->len = len;
}

bool
netconf_from_msg(struct netconf *nc, const struct login_msg *m)
{
	struct policy_rules rules;
	struct policy_refusals refused;

	policy_rules_defaults(&rules);
	if (policy_decide(&rules, AF_UNSPEC, NULL, m, nc, &refused) ==
		    POLICY_UNUSABLE &&
	    !login_has(m, LOGIN_ATTR_ADDRESS4) &&
	    !login_has(m, LOGIN_ATTR_ADDRESS6)) {
		log_err("the server admitted us without a tunnel address");
		return false;
	}
	return true;
}

/* Keeps the path to the server outside the tunnel (before any route that
 * covers it goes in). */
static int
pin_server_route(struct netlink *nl, int family, const uint8_t *server,
		 struct netconf_state *st)
{
	struct netlink_route r;
	uint8_t len = family == AF_INET ? 32 : 128;
	int ret;

	if (st->has_host_route)
		return 0;
	ret = netlink_route_get(nl, family, server, &r);
	if (ret < 0)
		return ret;
	set_prefix(&st->host_route, family, server, len);
	st->host_route_oif = r.oif;
	st->has_host_gateway = r.has_gateway;
	memcpy(st->host_gateway, r.gateway, sizeof(st->host_gateway));
	ret = netlink_route_add(nl, r.oif, family, server, len,
				r.has_gateway ? r.gateway : NULL, 0);
	if (ret == 0)
		st->has_host_route = true;
	return ret;
}

static int
add_route(struct netlink *nl, int ifindex, const struct prefix *r)
{
	struct prefix half = *r;
	int ret;

	if (r->len > 0)
		return netlink_route_add(nl, ifindex, r->family, r->addr, r->len,
					 NULL, 0);
	/* A default route as two halves: more specific than the system's
	 * default, which stays for when the tunnel goes. */
	half.len = 1;
	ret = netlink_route_add(nl, ifindex, r->family, half.addr, 1, NULL, 0);
	half.addr[0] = 0x80;
	if (ret == 0)
		ret = netlink_route_add(nl, ifindex, r->family, half.addr, 1,
					NULL, 0);
	return ret;
}

/* A gateway outside the address prefix (its subnet was refused) is still
 * the server's own tunnel address: a host route reaches it. */
static int
add_gateway(struct netlink *nl, int ifindex, const struct prefix *addr,
	    const struct prefix *gw)
{
	char text[PREFIX_STR_LEN];
	int ret;

	if (prefix_contains(addr, gw->family, gw->addr))
		return 0;
	ret = netlink_route_add(nl, ifindex, gw->family, gw->addr, gw->len,
				NULL, 0);
	if (ret < 0)
		log_err("cannot add a route to the gateway %s: %s",
			prefix_format(gw, text), strerror(-ret));
	return ret;
}

static int
apply_routes(struct netlink *nl, int ifindex, const struct netconf *nc,
	     int server_family, const uint8_t *server,
	     struct netconf_state *st)
{
	char text[PREFIX_STR_LEN];
	unsigned int i;
	int ret;

	if (nc->has_gw4 && (ret = add_gateway(nl, ifindex, &nc->addr4,
					      &nc->gw4)) < 0)
		return ret;
	if (nc->has_gw6 && (ret = add_gateway(nl, ifindex, &nc->addr6,
					      &nc->gw6)) < 0)
		return ret;

	for (i = 0; i < nc->n_routes; i++)
		if (prefix_contains(&nc->routes[i], server_family, server) &&
		    (ret = pin_server_route(nl, server_family, server, st)) < 0) {
			log_err("cannot keep the route to the server outside "
				"the tunnel: %s", strerror(-ret));
			return ret;
		}
	for (i = 0; i < nc->n_routes; i++) {
		ret = add_route(nl, ifindex, &nc->routes[i]);
		if (ret < 0) {
			log_err("cannot add route %s: %s",
				prefix_format(&nc->routes[i], text),
				strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static const char *
resolvconf_path(void)
{
	int i;

	for (i = 0; resolvconf_paths[i]; i++)
		if (access(resolvconf_paths[i], X_OK) == 0)
			return resolvconf_paths[i];
	return NULL;
}

/* Runs resolvconf with `input` on its standard input. */
static int
run_resolvconf(const char *path, char *const argv[], const char *input)
{
	int fds[2], status;
	pid_t pid;

	if (pipe(fds) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -errno;
	}
	if (pid == 0) {
		dup2(fds[0], STDIN_FILENO);
		close(fds[0]);
		close(fds[1]);
		execv(path, argv);
		_exit(127);
	}
	close(fds[0]);
	if (input && write(fds[1], input, strlen(input)) < 0)
		log_warn("resolvconf: %s", strerror(errno));
	close(fds[1]);
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

size_t
netconf_resolv_text(const struct netconf *nc, char *out, size_t cap)
{
	char addr[PREFIX_STR_LEN];
	size_t n = 0;
	unsigned int i;

	out[0] = '\0';
	for (i = 0; i < nc->n_dns && n < cap; i++)
		n += (size_t)snprintf(out + n, cap - n, "nameserver %s\n",
				      prefix_format_addr(nc->dns[i].family,
							 nc->dns[i].addr, addr));
	if (nc->n_search && n < cap)
		n += (size_t)snprintf(out + n, cap - n, "search");
	for (i = 0; i < nc->n_search && n < cap; i++)
		n += (size_t)snprintf(out + n, cap - n, " %s", nc->search[i]);
	if (nc->n_search && n < cap)
		n += (size_t)snprintf(out + n, cap - n, "\n");
	return n < cap ? n : cap - 1;
}

static int
apply_dns(const char *ifname, const struct netconf *nc,
	  enum vpnc_dns_mode mode, struct netconf_state *st)
{
	char text[4096], name[IFNAMSIZ + 1];
	char *argv[] = { "resolvconf", "-a", name, "-m", "0", "-x", NULL };
	const char *path;
	int ret;

	if (mode == VPNC_DNS_NONE || (!nc->n_dns && !nc->n_search))
		return 0;
	netconf_resolv_text(nc, text, sizeof(text));
	path = resolvconf_path();
	if (!path) {
		if (mode == VPNC_DNS_RESOLVCONF) {
			log_err("dns = \"resolvconf\" but resolvconf is not "
				"installed (apt-get install resolvconf)");
			return -ENOENT;
		}
		log_notice("DNS pushed by the server (resolvconf is not "
			   "installed, so not applied):\n%s", text);
		return 0;
	}
	snprintf(name, sizeof(name), "%s", ifname);
	ret = run_resolvconf(path, argv, text);
	if (ret < 0)
		log_err("resolvconf -a %s failed", ifname);
	else
		st->dns_applied = true;
	return mode == VPNC_DNS_RESOLVCONF ? ret : 0;
}

int
netconf_apply(struct netlink *nl, int ifindex, const char *ifname,
	      const struct netconf *nc, int server_family,
	      const uint8_t *server, enum vpnc_dns_mode dns_mode,
	      struct netconf_state *st)
{
	int ret;

	ret = netlink_link_set_mtu(nl, ifindex, nc->mtu);
	if (!ret && nc->has_addr4)
		ret = netlink_addr_add(nl, ifindex, AF_INET, nc->addr4.addr,
				       nc->addr4.len);
	if (!ret && nc->has_addr6)
		ret = netlink_addr_add(nl, ifindex, AF_INET6, nc->addr6.addr,
				       nc->addr6.len);
	if (!ret)
		ret = netlink_link_set_up(nl, ifindex, true);
	if (ret < 0) {
		log_err("cannot configure %s: %s", ifname, strerror(-ret));
		return ret;
	}
	ret = apply_routes(nl, ifindex, nc, server_family, server, st);
	if (ret < 0)
		return ret;
	return apply_dns(ifname, nc, dns_mode, st);
}

void
netconf_remove(struct netlink *nl, const char *ifname,
	       struct netconf_state *st)
{
	if (st->has_host_route) {
		netlink_route_del(nl, st->host_route_oif, st->host_route.family,
				  st->host_route.addr, st->host_route.len,
				  st->has_host_gateway ? st->host_gateway : NULL,
				  0);
		st->has_host_route = false;
	}
	if (st->dns_applied) {
		char name[IFNAMSIZ + 1];
		char *argv[] = { "resolvconf", "-d", name, "-f", NULL };
		const char *path = resolvconf_path();

		snprintf(name, sizeof(name), "%s", ifname);
		if (path)
			run_resolvconf(path, argv, NULL);
		st->dns_applied = false;
	}
}
