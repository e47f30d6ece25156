// SPDX-License-Identifier: MIT
/*
 * Devices: the client keys a user has logged in with (a key with a lease
 * of addresses, an admission, or both, in the store). `vpnctl user
 * devices NAME` lists them, with the last login, the addresses and
 * whether the key is admitted now; `vpnctl device revoke KEY` ends that
 * key's admission (the event "device revoked" makes every vpnd end its
 * live session within a poll) and forgets its leases, so it must log in
 * again. It reads and changes only the store; keys are public, and no
 * secret passes through here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "cmd_user.h"
#include "keys.h"
#include "prefix.h"
#include "vpnctl.h"

_Static_assert(USERDB_KEY_LEN == KEY_LEN, "a device is a client key");

static int
keep(void *arg, const struct userdb_device *d)
{
	struct cmd_devices *dv = arg;
	struct userdb_device *grown;

	if (dv->n == dv->cap) {
		dv->cap = dv->cap ? dv->cap * 2 : 8;
		grown = realloc(dv->d, dv->cap * sizeof(*dv->d));
		if (!grown)
			return -ENOMEM;
		dv->d = grown;
	}
	dv->d[dv->n++] = *d;
	return 0;
}

int
cmd_device_collect(struct userdb *db, const char *name,
		   struct cmd_devices *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	rc = userdb_devices_list(db, name, (uint64_t)time(NULL), keep, out);
	if (rc < 0)
		cmd_device_free(out);
	return rc;
}

void
cmd_device_free(struct cmd_devices *dv)
{
	free(dv->d);
	memset(dv, 0, sizeof(*dv));
}

/* An address as JSON: a string, or null. */
static void
json_address(const char *member, int family, bool has, const uint8_t *addr)
{
	char text[PREFIX_STR_LEN];

	if (has)
		printf(", \"%s\": \"%s\"", member,
		       prefix_format_addr(family, addr, text));
	else
		printf(", \"%s\": null", member);
}

static void
print_json(const struct cmd_devices *dv)
{
	char key[KEY_B64_LEN + 1];
	size_t i;

	printf("[");
	for (i = 0; i < dv->n; i++) {
		const struct userdb_device *d = &dv->d[i];

		keys_to_base64(key, d->client_pub);
		printf("%s{\"key\": \"%s\", \"last_login\": ", i ? ", " : "",
		       key);
		if (d->has_last_login)
			printf("%llu",
			       (unsigned long long)d->last_login_unix_s);
		else
			printf("null");
		json_address("address4", AF_INET, d->has_addr4, d->addr4);
		json_address("address6", AF_INET6, d->has_addr6, d->addr6);
		printf(", \"admitted\": %s, \"expires\": %llu}",
		       d->is_admitted ? "true" : "false",
		       (unsigned long long)d->expires_unix_s);
	}
	printf("]");
}

static void
print_table(const struct cmd_devices *dv, const char *indent)
{
	char key[KEY_B64_LEN + 1], login[CMD_USER_TIME_LEN];
	char a4[PREFIX_STR_LEN], a6[PREFIX_STR_LEN], until[CMD_USER_TIME_LEN];
	size_t i;

	printf("%s%-44s  %-20s  %-15s  %-24s  %s\n", indent, "KEY",
	       "LAST LOGIN", "ADDRESS4", "ADDRESS6", "LOGGED IN");
	for (i = 0; i < dv->n; i++) {
		const struct userdb_device *d = &dv->d[i];

		keys_to_base64(key, d->client_pub);
		if (d->has_last_login)
			cmd_user_format_time(d->last_login_unix_s, login);
		if (d->has_addr4)
			prefix_format_addr(AF_INET, d->addr4, a4);
		if (d->has_addr6)
			prefix_format_addr(AF_INET6, d->addr6, a6);
		printf("%s%-44s  %-20s  %-15s  %-24s  ", indent, key,
		       d->has_last_login ? login : "-",
		       d->has_addr4 ? a4 : "-", d->has_addr6 ? a6 : "-");
		if (!d->is_admitted) {
			printf("no\n");
			continue;
		}
		cmd_user_format_time(d->expires_unix_s, until);
		printf("until %s\n", until);
	}
}

void
cmd_device_print(const struct cmd_devices *dv, bool is_json,
		 const char *indent)
{
	if (is_json)
		print_json(dv);
	else
		print_table(dv, indent);
}

int
cmd_user_devices(int argc, char *argv[])
{
	struct cmd_devices dv = { NULL, 0, 0 };
	const char *name = NULL;
	bool is_json = false;
	struct userdb *db;
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			is_json = true;
		else if (argv[i][0] == '-')
			return cmd_user_usage_error("devices", "unknown option "
						    "'%s'", argv[i]);
		else if (name)
			return cmd_user_usage_error("devices", "expects one "
						    "NAME, not also '%s'",
						    argv[i]);
		else
			name = argv[i];
	}
	if (!name)
		return cmd_user_usage_error("devices", "expects a NAME");
	db = vpnctl_store();
	if (!db)
		return VPNCTL_EXIT_FAIL;
	rc = cmd_device_collect(db, name, &dv);
	if (rc == -ENOENT)
		return vpnctl_error("user '%s' does not exist", name);
	if (rc < 0)
		return vpnctl_error("cannot read the devices of '%s'", name);
	cmd_device_print(&dv, is_json, "");
	if (is_json)
		printf("\n");
	cmd_device_free(&dv);
	return VPNCTL_EXIT_OK;
}

/* ---- vpnctl device ... ------------------------------------------------------ */

static int
device_revoke(int argc, char *argv[])
{
	uint8_t key[KEY_LEN];
	char owner[USERDB_NAME_MAX + 1];
	struct userdb *db;
	int n;

	if (argc != 2 || argv[1][0] == '-') {
		vpnctl_error("device revoke: %s (see 'vpnctl device --help')",
			     argc < 2 ? "expects a KEY" : argc > 2
				     ? "expects one KEY"
				     : "unknown option");
		return VPNCTL_EXIT_USAGE;
	}
	if (strlen(argv[1]) != KEY_B64_LEN ||
	    !keys_from_base64(key, argv[1], strlen(argv[1])))
		return vpnctl_error("device revoke: '%s' is not a key (%d "
				    "characters of base64, as 'vpnctl user "
				    "devices' shows it)", argv[1],
				    KEY_B64_LEN);
	db = vpnctl_store();
	if (!db)
		return VPNCTL_EXIT_FAIL;
	n = userdb_device_revoke(db, key, USERDB_REASON_REVOKED, owner);
	if (n == -ENOENT)
		return vpnctl_error("no device has the key %s", argv[1]);
	if (n < 0)
		return vpnctl_error("cannot revoke the device %s", argv[1]);
	printf("device %s of '%s' revoked: %s; it must log in again\n",
	       argv[1], owner,
	       n ? "its session has ended" : "it had no session");
	return VPNCTL_EXIT_OK;
}

void
cmd_device_usage(FILE *f)
{
	fprintf(f, "  device revoke KEY\n"
		   "                  end the session of a client key (the "
		   "client is told\n"
		   "                  'device revoked') and forget its "
		   "addresses: it must\n"
		   "                  log in again ('user devices NAME' lists "
		   "the keys)\n");
}

int
cmd_device(int argc, char *argv[])
{
	if (argc >= 2 &&
	    (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		cmd_device_usage(stdout);
		return VPNCTL_EXIT_OK;
	}
	if (argc >= 2 && strcmp(argv[1], "revoke") == 0)
		return device_revoke(argc - 1, argv + 1);
	if (argc < 2)
		vpnctl_error("device: expects a command: revoke (see 'vpnctl "
			     "device --help')");
	else
		vpnctl_error("unknown command 'device %s' (see 'vpnctl device "
			     "--help')", argv[1]);
	return VPNCTL_EXIT_USAGE;
}
