// SPDX-License-Identifier: MIT
/*
 * vpnctl, the administrator's tool: global options, the command table, and
 * the configuration and user store the commands share (vpnctl.h). It must
 * not print a secret it did not just create for the administrator, nor
 * hold the server's private key: it reads the configuration without key
 * files. Each command lives in a cmd_<name>.c.
 */
#include <getopt.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "version.h"
#include "log.h"
#include "login.h"
#include "totp.h"
#include "vpnctl.h"


static const struct {
	const char *name;
	int (*run)(int argc, char *argv[]);
	const char *help;
} commands[] = {
	{ "status", cmd_status, "The running vpnd: addresses, sessions, store" },
	{ "sessions", cmd_sessions, "Every connected client, with its traffic" },
	{ "kick", cmd_kick, "End a login now: a user, a key or an address" },
	{ "metrics", cmd_metrics, "Counters for Prometheus, from the running "
	  "vpnd" },
	{ "reload", cmd_reload, "Make vpnd re-read vpnd.conf, as SIGHUP does" },
	{ "user", cmd_user, "Add, list, change and delete users" },
	{ "device", cmd_device, "Revoke a device (client key) of a user" },
	{ "locks", cmd_locks,
	  "User names and source addresses with failures or locked" },
	{ "unlock", cmd_unlock,
	  "Clear the failures (and lock) of a user name or address" },
};

static const char *opt_config;
static const char *opt_db;
static struct vpnd_config cfg;
static bool has_cfg, cfg_from_file;
static struct userdb *store;

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: vpnctl [-c FILE] [-d DB] COMMAND ...\n\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\n");
	cmd_live_usage(f);
	cmd_user_usage(f);
	cmd_device_usage(f);
	cmd_locks_usage(f);
	fprintf(f,
		"\n"
		"  -c FILE   configuration (default " VPND_DEFAULT_CONFIG ")\n"
		"  -d DB     user store (a file, sqlite:FILE or a PostgreSQL "
		"connection\n"
		"            string), instead of the configuration's user-db\n"
		"  -h, --help, --version\n");
}

int
vpnctl_error(const char *fmt, ...)
{
	va_list ap;

	fputs("vpnctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return VPNCTL_EXIT_FAIL;
}

/* The length of the UTF-8 sequence starting at p (at most `left` bytes),
 * or 0 if it is not a valid one. */
static size_t
utf8_len(const unsigned char *p, size_t left)
{
	size_t n = *p < 0xe0 ? 2 : *p < 0xf0 ? 3 : 4;

	if (*p < 0xc2 || *p > 0xf4 || n > left)
		return 0;
	return login_utf8_valid(p, n) ? n : 0;
}

void
vpnctl_json_string(FILE *f, const char *text)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t left = strlen(text), n;

	fputc('"', f);
	while (left > 0) {
		if (*p == '"' || *p == '\\') {
			fprintf(f, "\\%c", *p);
		} else if (*p < 0x20 || *p == 0x7f) {
			fprintf(f, "\\u%04x", *p);
		} else if (*p < 0x80) {
			fputc(*p, f);
		} else if ((n = utf8_len(p, left)) > 0) {
			fwrite(p, 1, n, f);
			p += n - 1;
			left -= n - 1;
		} else {
			fputs("\\ufffd", f);
		}
		p++;
		left--;
	}
	fputc('"', f);
}

const struct vpnd_config *
vpnctl_config(void)
{
	const char *path = opt_config ? opt_config : VPND_DEFAULT_CONFIG;

	if (has_cfg)
		return &cfg;
	if (!opt_config && opt_db && access(path, R_OK) != 0) {
		vpnd_config_defaults(&cfg);
	} else if (vpnd_config_load_admin(&cfg, path)) {
		cfg_from_file = true;
	} else {
		vpnctl_error("cannot use the configuration %s", path);
		return NULL;
	}
	has_cfg = true;
	return &cfg;
}

bool
vpnctl_config_from_file(void)
{
	return vpnctl_config() && cfg_from_file;
}

struct userdb *
vpnctl_store(void)
{
	const struct vpnd_config *c;

	if (store)
		return store;
	c = vpnctl_config();
	if (!c)
		return NULL;
	/* userdb_open has logged why it failed. */
	if (userdb_open(opt_db ? opt_db : c->user_db, &store) < 0)
		store = NULL;
	return store;
}

static int
run_command(int argc, char *argv[])
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			return commands[i].run(argc, argv);
	/* One line: the whole usage would bury the mistake. */
	vpnctl_error("unknown command '%s' (vpnctl --help lists them)",
		     argv[0]);
	return VPNCTL_EXIT_USAGE;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "db", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *why;
	int opt, ret;

	/* '+': options after the command belong to the command. */
	while ((opt = getopt_long(argc, argv, "+c:d:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			opt_config = optarg;
			break;
		case 'd':
			opt_db = optarg;
			break;
		case 'h':
			usage(stdout);
			return VPNCTL_EXIT_OK;
		case 'V':
			printf("vpnctl " VPN_VERSION "\n");
			return VPNCTL_EXIT_OK;
		default:
			usage(stderr);
			return VPNCTL_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return VPNCTL_EXIT_USAGE;
	}
	/* A password given here would show in ps and the shell's history. */
	if (opt_db && userdb_spec_check(opt_db, &why) < 0) {
		vpnctl_error("-d: %s", why);
		return VPNCTL_EXIT_USAGE;
	}
	log_init("vpnctl", false, LOG_WARNING);
	if (sodium_init() < 0 || totp_global_init() < 0)
		return vpnctl_error("cannot initialise libsodium or liboath");
	ret = run_command(argc - optind, argv + optind);
	userdb_close(store);
	vpnd_config_wipe(&cfg);
	totp_global_done();
	return ret;
}
