// SPDX-License-Identifier: MIT
/*
 * vpnc: options, configuration and the key subcommands; the client itself
 * is client.c.
 */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "version.h"
#include "aead_select.h"
#include "client.h"
#include "config.h"
#include "jail.h"
#include "site.h"
#include "keyfile.h"
#include "log.h"
#include "state.h"


static void
usage(FILE *f)
{
	fprintf(f,
		"usage: vpnc [-v] [-c FILE] [--password-file FILE]   connect\n"
		"       vpnc --logout [-c FILE]     end the login on the server\n"
		"       vpnc --cleanup [-c FILE]    undo what a vpnc that did not\n"
		"                                   stop left (routes, DNS)\n"
		"       vpnc -t [-c FILE]           check a configuration\n"
		"       vpnc genkey [FILE]          new private key (base64)\n"
		"       vpnc pubkey < private.key   its public key\n"
		"\n"
		"  -c FILE            configuration (default " VPNC_DEFAULT_CONFIG
		")\n"
		"  --password-file F  read the password from F (the code is\n"
		"                     still asked for, or read from stdin)\n"
		"  -t                 check the configuration and exit\n"
		"  -v                 log debug messages\n"
		"\n"
		"Without a terminal, the password and the authenticator code are\n"
		"read as two lines from standard input.\n"
		"Exit status: 0 disconnected, 1 error, 2 usage, 3 login refused,\n"
		"4 login required but no terminal to ask.\n");
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "password-file", required_argument, NULL, 'p' },
		{ "logout", no_argument, NULL, 'L' },
		{ "cleanup", no_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	static struct vpnc_config cfg;
	static struct client client;
	struct client_options opt = { 0 };
	const char *path = VPNC_DEFAULT_CONFIG;
	bool check = false, verbose = false, cleanup = false;
	int c, status;

	if (sodium_init() < 0) {
		fprintf(stderr, "vpnc: libsodium failed to initialise\n");
		return 1;
	}
	if (keyfile_cmd_dispatch("vpnc", argc, argv, &status))
		return status;

	while ((c = getopt_long(argc, argv, "c:tvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 't':
			check = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'p':
			opt.password_file = optarg;
			break;
		case 'L':
			opt.logout = true;
			break;
		case 'C':
			cleanup = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("vpnc " VPN_VERSION "\n");
			return 0;
		default:
			usage(stderr);
			return VPNC_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "vpnc: unknown command '%s'\n", argv[optind]);
		usage(stderr);
		return VPNC_EXIT_USAGE;
	}
	if (!vpnc_config_load(&cfg, path)) {
		vpnc_config_wipe(&cfg);
		return VPNC_EXIT_ERROR;
	}
	if (check) {
		printf("%s: configuration ok\n", path);
		vpnc_config_wipe(&cfg);
		return 0;
	}
	log_init("vpnc", cfg.log_syslog, verbose ? LOG_DEBUG : cfg.log_level);
	/* What a vpnc killed with this configuration left (state.h), first:
	 * its routes could block the way to the server. */
	status = state_recover(&cfg) < 0 ? VPNC_EXIT_ERROR : VPNC_EXIT_OK;
	if (cleanup) {
		vpnc_config_wipe(&cfg);
		return status;
	}
	status = VPNC_EXIT_ERROR;
	if (cfg.site && site_check_start() < 0) {
		vpnc_config_wipe(&cfg);
		return status;
	}
	/* Before the DNS helper and the sandbox: libcrypto loads what it
	 * needs while everything is allowed. */
	if (aead_select(cfg.aead) < 0) {
		vpnc_config_wipe(&cfg);
		return status;
	}
	/* The DNS helper before anything is open, the drop once the
	 * sockets are (jail.h). */
	if (jail_start(&cfg) == 0 && client_start(&client, &cfg, &opt) == 0) {
		if (jail_drop(&cfg) == 0)
			status = client_run(&client);
		client_stop(&client);
	}
	jail_stop();
	vpnc_config_wipe(&cfg);
	return status;
}
