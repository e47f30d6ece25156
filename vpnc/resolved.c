// SPDX-License-Identifier: MIT
/*
 * systemd-resolved through sd-bus (see resolved.h): one connection per
 * change, synchronous calls with a short timeout (the DNS helper answers
 * vpnc within PRIVSEP_TIMEOUT_MS).
 */
#include "resolved.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-bus.h>

#include "log.h"

#define RESOLVE1 "org.freedesktop.resolve1"
#define RESOLVE1_PATH "/org/freedesktop/resolve1"
#define RESOLVE1_MANAGER "org.freedesktop.resolve1.Manager"
#define CALL_TIMEOUT_US (1000 * 1000)

/* True if `pid` lives in this process's network namespace. */
static bool
same_netns(pid_t pid)
{
	char path[64];
	struct stat ours, theirs;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	if (stat("/proc/self/ns/net", &ours) < 0 || stat(path, &theirs) < 0)
		return false;
	return ours.st_dev == theirs.st_dev && ours.st_ino == theirs.st_ino;
}

/* The system bus, if resolved owns its name there, in our namespace.
 * 0 or -ENOENT. */
static int
open_bus(sd_bus **out)
{
	sd_bus_creds *creds = NULL;
	sd_bus *bus = NULL;
	pid_t pid = 0;
	int ret;

	*out = NULL;
	ret = sd_bus_open_system(&bus);
	if (ret < 0) {
		log_debug("resolved: no system bus: %s", strerror(-ret));
		return -ENOENT;
	}
	ret = sd_bus_get_name_creds(bus, RESOLVE1, SD_BUS_CREDS_PID, &creds);
	if (ret >= 0)
		ret = sd_bus_creds_get_pid(creds, &pid);
	sd_bus_creds_unref(creds);
	if (ret < 0 || !same_netns(pid)) {
		log_debug("resolved: %s", ret < 0 ? "not on the bus"
						  : "runs in another network "
						    "namespace");
		sd_bus_flush_close_unref(bus);
		return -ENOENT;
	}
	*out = bus;
	return 0;
}

static int
new_call(sd_bus *bus, const char *method, int ifindex, sd_bus_message **m)
{
	int ret;

	ret = sd_bus_message_new_method_call(bus, m, RESOLVE1, RESOLVE1_PATH,
					     RESOLVE1_MANAGER, method);
	if (ret >= 0)
		ret = sd_bus_message_set_auto_start(*m, 0);
	if (ret >= 0)
		ret = sd_bus_message_append(*m, "i", ifindex);
	return ret;
}

/* Sends m (consumed); logs resolved's refusal by name. */
static int
call(sd_bus *bus, const char *method, sd_bus_message *m, int built)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	int ret = built;

	if (ret >= 0)
		ret = sd_bus_call(bus, m, CALL_TIMEOUT_US, &error, NULL);
	if (ret < 0)
		log_err("resolved: %s: %s", method,
			error.message ? error.message : strerror(-ret));
	sd_bus_error_free(&error);
	sd_bus_message_unref(m);
	return ret < 0 ? ret : 0;
}

static int
set_dns(sd_bus *bus, int ifindex, const struct netconf *nc)
{
	sd_bus_message *m = NULL;
	unsigned int i;
	int ret;

	ret = new_call(bus, "SetLinkDNS", ifindex, &m);
	if (ret >= 0)
		ret = sd_bus_message_open_container(m, 'a', "(iay)");
	for (i = 0; i < nc->n_dns && ret >= 0; i++) {
		const struct prefix *d = &nc->dns[i];

		ret = sd_bus_message_open_container(m, 'r', "iay");
		if (ret >= 0)
			ret = sd_bus_message_append(m, "i", d->family);
		if (ret >= 0)
			ret = sd_bus_message_append_array(
				m, 'y', d->addr, prefix_addr_len(d->family));
		if (ret >= 0)
			ret = sd_bus_message_close_container(m);
	}
	if (ret >= 0)
		ret = sd_bus_message_close_container(m);
	return call(bus, "SetLinkDNS", m, ret);
}

/* The pushed domains to search (and route); "~." for a full tunnel. */
static int
set_domains(sd_bus *bus, int ifindex, const struct netconf *nc, bool is_full)
{
	sd_bus_message *m = NULL;
	unsigned int i;
	int ret;

	ret = new_call(bus, "SetLinkDomains", ifindex, &m);
	if (ret >= 0)
		ret = sd_bus_message_open_container(m, 'a', "(sb)");
	for (i = 0; i < nc->n_search && ret >= 0; i++)
		ret = sd_bus_message_append(m, "(sb)", nc->search[i], 0);
	if (ret >= 0 && is_full)
		ret = sd_bus_message_append(m, "(sb)", ".", 1);
	if (ret >= 0)
		ret = sd_bus_message_close_container(m);
	return call(bus, "SetLinkDomains", m, ret);
}

static int
set_default_route(sd_bus *bus, int ifindex, bool is_full)
{
	sd_bus_message *m = NULL;
	int ret;

	ret = new_call(bus, "SetLinkDefaultRoute", ifindex, &m);
	if (ret >= 0)
		ret = sd_bus_message_append(m, "b", is_full);
	return call(bus, "SetLinkDefaultRoute", m, ret);
}

int
resolved_set_link(int ifindex, const struct netconf *nc, bool is_full)
{
	sd_bus *bus;
	int ret;

	ret = open_bus(&bus);
	if (ret < 0)
		return ret;
	ret = set_dns(bus, ifindex, nc);
	if (ret == 0)
		ret = set_domains(bus, ifindex, nc, is_full);
	if (ret == 0)
		ret = set_default_route(bus, ifindex, is_full);
	sd_bus_flush_close_unref(bus);
	/* Running, but refusing: not the same as not running. */
	return ret == -ENOENT ? -EIO : ret;
}

int
resolved_revert_link(int ifindex)
{
	sd_bus_message *m = NULL;
	sd_bus *bus;
	int ret;

	ret = open_bus(&bus);
	if (ret < 0)
		return ret;
	ret = new_call(bus, "RevertLink", ifindex, &m);
	ret = call(bus, "RevertLink", m, ret);
	sd_bus_flush_close_unref(bus);
	return ret;
}
