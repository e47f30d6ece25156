// SPDX-License-Identifier: MIT
/*
 * Fuzz harness for the configuration loaders: vpnd_config_load()
 * (vpnd/config.c) and vpnc_config_load() (vpnc/config.c), through
 * shared/conf.c and libconfuse's parser, on a file written from the input.
 * The first byte picks the loader, the rest is the file. The file lives in
 * a private temporary directory that also holds key files (valid, and one
 * open to others), so that relative key paths in the input load for real.
 *
 * A loader follows key-file paths, and opening a FIFO, a device or a proc
 * file could block or read without end; so a file is loaded with its keys
 * only when a first pass without keys finds every key path inside the
 * temporary directory. Everything else is parsed and checked all the same.
 *
 * Checked besides "never crash": a configuration accepted once passes its
 * checks again, and its values are within their documented ranges.
 */
#include <ftw.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../vpnd/config.h"
#include "fuzz.h"
#include "tunnel.h"
/* vpnc is not an archive: its module is compiled in, as test_config.c
 * does. */
#include "../../vpnc/config.c"

static char dir[64];
static char vpnd_path[128], vpnc_path[128];
static struct vpnd_config dcfg;
static struct vpnc_config ccfg;

static void
write_file(const char *name, const void *data, size_t len, mode_t mode)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0 ||
	    chmod(path, mode) != 0)
		abort();
}

static void
write_key(const char *name, uint8_t seed, mode_t mode, uint8_t pub[32])
{
	uint8_t key[32];
	char text[KEY_B64_LEN + 2];
	int i;

	for (i = 0; i < 32; i++)
		key[i] = (uint8_t)(seed + i);
	keys_clamp(key);
	if (pub && !keys_public_from_private(pub, key))
		abort();
	keys_to_base64(text, key);
	strcat(text, "\n");
	write_file(name, text, strlen(text), mode);
}

static int
remove_one(const char *path, const struct stat *st, int flag,
	   struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
cleanup(void)
{
	if (dir[0])
		nftw(dir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t server_pub[32];
	char text[KEY_B64_LEN + 1];

	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	snprintf(dir, sizeof(dir), "/tmp/vpn-fuzz-config.XXXXXX");
	if (!mkdtemp(dir))
		abort();
	atexit(cleanup);
	/* The names and keys the seeds in corpus/config/ use. */
	write_key("server.key", 100, 0600, server_pub);
	write_key("client.key", 1, 0600, NULL);
	write_key("psk.key", 50, 0600, NULL);
	write_key("open.key", 60, 0644, NULL);
	keys_to_base64(text, server_pub);
	write_file("server.pub", text, strlen(text), 0644);
	snprintf(vpnd_path, sizeof(vpnd_path), "%s/vpnd.conf", dir);
	snprintf(vpnc_path, sizeof(vpnc_path), "%s/vpnc.conf", dir);
	return 0;
}

/* A key path that cannot leave the directory (empty: not set). */
static bool
path_safe(const char *path)
{
	size_t n = strlen(dir);

	return !path[0] || (strncmp(path, dir, n) == 0 && path[n] == '/' &&
			    !strstr(path, ".."));
}

static void
load_vpnd(void)
{
	unsigned int i;

	(void)vpnd_config_load_admin(&dcfg, vpnd_path);
	if (!path_safe(dcfg.private_key_file) || !path_safe(dcfg.psk_file))
		return;
	if (!vpnd_config_load(&dcfg, vpnd_path))
		return;
	FUZZ_CHECK(vpnd_config_check(&dcfg));
	/* 0: "auto", vpnd's default routes decide (vpnd/pmtu.h). */
	FUZZ_CHECK(dcfg.mtu == 0 || (dcfg.mtu >= TUNNEL_MTU_MIN &&
				     dcfg.mtu <= TUNNEL_MTU_MAX));
	FUZZ_CHECK(dcfg.listen_port >= 1);
	FUZZ_CHECK(dcfg.has_pool4 || dcfg.has_pool6);
	FUZZ_CHECK(dcfg.n_routes <= VPND_MAX_ROUTES &&
		   dcfg.n_dns <= VPND_MAX_DNS &&
		   dcfg.n_dns_search <= VPND_MAX_DNS_SEARCH);
	for (i = 0; i < dcfg.n_dns_search; i++)
		FUZZ_CHECK(strlen(dcfg.dns_search[i]) <= VPND_DNS_SEARCH_LEN);
	FUZZ_CHECK(!keys_is_zero(dcfg.public_key));
	vpnd_config_wipe(&dcfg);
}

/* vpnc_config_load() without its key files: the first pass. */
static bool
vpnc_key_paths_safe(void)
{
	struct conf_lines lines;
	cfg_t *cfg;
	bool ok;

	vpnc_config_defaults(&ccfg);
	snprintf(ccfg.path, sizeof(ccfg.path), "%s", vpnc_path);
	cfg = conf_parse(ccfg.path, schema, &lines);
	if (!cfg)
		return false;
	ok = copy_config(cfg, &lines, &ccfg);
	cfg_free(cfg);
	return ok && path_safe(ccfg.private_key_file) &&
	       path_safe(ccfg.psk_file);
}

static void
load_vpnc(void)
{
	uint8_t addr[16];

	if (!vpnc_key_paths_safe() || !vpnc_config_load(&ccfg, vpnc_path))
		return;
	FUZZ_CHECK(strchr(ccfg.server_host, ':') ?
			   inet_pton(AF_INET6, ccfg.server_host, addr) == 1 :
			   hostname_valid(ccfg.server_host));
	FUZZ_CHECK(ccfg.server_port >= 1);
	FUZZ_CHECK(ccfg.user[0] && strlen(ccfg.user) <= USER_MAX);
	FUZZ_CHECK(!keys_is_zero(ccfg.server_public_key));
	FUZZ_CHECK(!keys_equal(ccfg.public_key, ccfg.server_public_key));
	FUZZ_CHECK(ccfg.reconnect_max_s >= 1 && ccfg.reconnect_max_s <= 3600);
	FUZZ_CHECK(ccfg.mtu == 0 || (ccfg.mtu >= TUNNEL_MTU_MIN &&
				     ccfg.mtu <= TUNNEL_MTU_MAX));
	vpnc_config_wipe(&ccfg);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	bool is_vpnc = fuzz_u8(&in) & 1;
	FILE *f = fopen(is_vpnc ? vpnc_path : vpnd_path, "wb");

	if (!f || fwrite(in.p, 1, in.left, f) != in.left || fclose(f) != 0)
		abort();
	if (is_vpnc)
		load_vpnc();
	else
		load_vpnd();
	return 0;
}
