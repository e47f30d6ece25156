// SPDX-License-Identifier: MIT
/*
 * vpnc's least privilege (see jail.h): the order of the steps.
 */
#include "jail.h"

#include <linux/capability.h>
#include <string.h>

#include "log.h"
#include "resolver.h"
#include "sandbox.h"
#include "syscalls.h"

#define KEEP SANDBOX_CAP(CAP_NET_ADMIN)

static bool has_resolver;

int
jail_start(struct vpnc_config *cfg)
{
	int ret;

	if (!cfg->sandbox || cfg->dns_mode == VPNC_DNS_NONE) {
		resolver_init(cfg); /* the work in this process */
		return 0;
	}
	ret = resolver_start(cfg, NULL);
	if (ret == 0)
		has_resolver = true;
	return ret;
}

int
jail_drop(const struct vpnc_config *cfg)
{
	int ret;

	if (!cfg->sandbox) {
		log_notice("sandbox = no: vpnc keeps every privilege");
		return 0;
	}
	/* Memory first: locking what is mapped takes CAP_IPC_LOCK under a
	 * limit. */
	ret = sandbox_guard_memory();
	if (ret < 0)
		return ret;
	ret = sandbox_bound_caps(KEEP);
	if (ret == 0)
		ret = sandbox_keep_caps(KEEP);
	if (ret < 0) {
		log_err("cannot give up capabilities: %s", strerror(-ret));
		return ret;
	}
	ret = sandbox_filter_install(syscalls_vpnc(), false);
	if (ret < 0) {
		log_err("cannot install the system call filter: %s",
			strerror(-ret));
		return ret;
	}
	log_info("running with CAP_NET_ADMIN only, no new privileges, "
		 "system calls filtered");
	return 0;
}

void
jail_stop(void)
{
	if (has_resolver)
		resolver_stop();
	has_resolver = false;
}
