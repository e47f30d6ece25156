// SPDX-License-Identifier: MIT
/*
 * vpnd: options, configuration, start-up and the key subcommands. Nothing
 * else: the server lives in server.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "version.h"
#include "aead_select.h"
#include "config.h"
#include "keyfile.h"
#include "log.h"
#include "privs.h"
#include "reload.h"
#include "server.h"
#include "totp.h"


static void
usage(FILE *f)
{
	fprintf(f,
		"usage: vpnd [-f] [-v] [-c FILE]     run the server\n"
		"       vpnd -t [-c FILE]            check a configuration\n"
		"       vpnd genkey [FILE]           new private key (base64)\n"
		"       vpnd pubkey < private.key    its public key\n"
		"\n"
		"  -c FILE   configuration (default " VPND_DEFAULT_CONFIG ")\n"
		"  -f        stay in the foreground, log to stderr\n"
		"  -t        check the configuration and exit: 0 if usable\n"
		"  -v        log debug messages\n"
		"  -h, --help, --version\n");
}

/*
 * Detaches from the terminal but keeps the parent until the child says it
 * started, so `vpnd` fails visibly when the server cannot start.
 */
static int
daemonize(int *ready_fd)
{
	int fds[2], null_fd;
	pid_t pid;
	char status = 1;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		close(fds[1]);
		if (read(fds[0], &status, 1) != 1)
			status = 1;
		_exit(status);
	}
	close(fds[0]);
	setsid();
	if (chdir("/") < 0)
		return -errno;
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd >= 0) {
		dup2(null_fd, STDIN_FILENO);
		dup2(null_fd, STDOUT_FILENO);
		close(null_fd);
	}
	*ready_fd = fds[1];
	return 0;
}

static void
tell_parent(int *ready_fd, char status)
{
	int null_fd;

	if (*ready_fd < 0)
		return;
	if (write(*ready_fd, &status, 1) < 0)
		status = 1;
	close(*ready_fd);
	*ready_fd = -1;
	/* From now on messages go to syslog only. */
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd >= 0) {
		dup2(null_fd, STDERR_FILENO);
		close(null_fd);
	}
}

static int
run(const char *path, bool foreground, bool verbose)
{
	static struct vpnd_config cfg;
	static struct server srv;
	static struct privs privs;
	int ready_fd = -1, status = 1, level;

	if (!vpnd_config_load(&cfg, path))
		return 1;
	level = verbose ? LOG_DEBUG : cfg.log_level;
	/* stderr until the server runs, so start-up errors are seen. */
	log_init("vpnd", cfg.log_syslog, level);
	if (totp_global_init() < 0) {
		log_err("liboath failed to initialise");
		goto out;
	}
	/* Before the monitor, the threads and the sandbox: libcrypto loads
	 * what it needs while everything is allowed. */
	if (aead_select(cfg.aead) < 0)
		goto done;
	if (!foreground && daemonize(&ready_fd) < 0) {
		log_err("cannot detach: %s", strerror(errno));
		goto out;
	}
	/* Root's part first (privs.h): the monitor and the bounding set
	 * before any thread, then what server_start opens, then the drop. */
	if (privs_start(&privs, &cfg, !foreground) < 0) {
		tell_parent(&ready_fd, 1);
		goto done;
	}
	if (server_start(&srv, &cfg) < 0) {
		tell_parent(&ready_fd, 1);
		goto done_privs;
	}
	if (privs_drop(&privs, &cfg) < 0) {
		server_stop(&srv);
		tell_parent(&ready_fd, 1);
		goto done_privs;
	}
	if (!foreground) {
		tell_parent(&ready_fd, 0);
		log_init("vpnd", true, level);
	}
	/* SIGHUP and `vpnctl reload` rewrite cfg in place (reload.c). */
	reload_init(&srv, &cfg, verbose);
	status = server_run(&srv);
	server_stop(&srv);
done_privs:
	privs_stop(&privs);
done:
	totp_global_done();
out:
	vpnd_config_wipe(&cfg);
	return status;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = VPND_DEFAULT_CONFIG;
	bool check = false, foreground = false, verbose = false;
	int c, status;

	if (sodium_init() < 0) {
		fprintf(stderr, "vpnd: libsodium failed to initialise\n");
		return 1;
	}
	if (keyfile_cmd_dispatch("vpnd", argc, argv, &status))
		return status;

	while ((c = getopt_long(argc, argv, "c:ftvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 't':
			check = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("vpnd " VPN_VERSION "\n");
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "vpnd: unknown command '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (check) {
		static struct vpnd_config cfg;
		bool ok = vpnd_config_load(&cfg, path);

		vpnd_config_wipe(&cfg);
		if (ok)
			printf("%s: configuration ok\n", path);
		return ok ? 0 : 1;
	}
	return run(path, foreground, verbose);
}
