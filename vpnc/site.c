// SPDX-License-Identifier: MIT
/* vpnc as a branch gateway: see site.h. */
#include "site.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "sysctl.h"

static const char *
sysctl_for(int family)
{
	return family == AF_INET ? "net/ipv4/ip_forward"
				 : "net/ipv6/conf/all/forwarding";
}

/* False only if the setting reads 0. */
static bool
forwards(int family)
{
	char value[SYSCTL_VALUE_LEN];

	if (sysctl_read(sysctl_for(family), value, sizeof(value)) < 0)
		return true;
	return strcmp(value, "0") != 0;
}

int
site_check_start(void)
{
	if (forwards(AF_INET) || forwards(AF_INET6))
		return 0;
	log_err("site = yes, but this host forwards nothing: its LAN could "
		"not reach the tunnel (turn it on: sysctl -w "
		"net.ipv4.ip_forward=1, and net.ipv6.conf.all.forwarding=1 "
		"for IPv6)");
	return -ENETUNREACH;
}

void
site_check_routes(const struct prefix *routes, unsigned int n)
{
	static const int families[] = { AF_INET, AF_INET6 };
	char name[SYSCTL_NAME_LEN], text[PREFIX_STR_LEN];
	unsigned int f, i;

	for (f = 0; f < 2; f++) {
		for (i = 0; i < n && routes[i].family != families[f]; i++)
			;
		if (i == n || forwards(families[f]))
			continue;
		log_warn("site = yes, but this host does not forward %s: its "
			 "LAN cannot reach %s through the tunnel (turn it on: "
			 "sysctl -w %s=1)",
			 families[f] == AF_INET ? "IPv4" : "IPv6",
			 prefix_format(&routes[i], text),
			 sysctl_display_name(sysctl_for(families[f]), name));
	}
}
