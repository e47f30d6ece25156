// SPDX-License-Identifier: MIT
/*
 * keyfile.c: genkey and pubkey as the subcommands run them (streams and
 * files under a mkdtemp directory), the file modes they leave, a fixed
 * key pair checked independently, and the refusals: bad input to pubkey,
 * open permissions on a secret, existing files and symlinks for genkey.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keyfile.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Bytes 0x01..0x20, clamped, and the public key libsodium gives for it,
 * which an independent RFC 7748 ladder (in Python) agrees with.
 */
#define FIXED_PRIV "AAIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eH2A="
#define FIXED_PUB "B6N8vBQgk8i3VdwbEOhstCY3StFqqFPtC9/AsrhtHHw="
/* The same bytes unclamped: X25519 clamps, so the same public key. */
#define FIXED_PRIV_RAW "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="

struct dir {
	char path[64];
};

static int
setup(void **state)
{
	static struct dir d;

	assert_true(sodium_init() >= 0);
	snprintf(d.path, sizeof(d.path), "/tmp/test_keyfile.XXXXXX");
	assert_non_null(mkdtemp(d.path));
	*state = &d;
	return 0;
}

static int
teardown(void **state)
{
	struct dir *d = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->path);
	return system(cmd) == 0 ? 0 : -1;
}

static char *
in_dir(const struct dir *d, const char *name, char out[128])
{
	snprintf(out, 128, "%s/%s", d->path, name);
	return out;
}

/* Everything written to f so far, as a string. */
static char *
contents(FILE *f, char *buf, size_t len)
{
	size_t n;

	fflush(f);
	rewind(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	return buf;
}

static FILE *
stream_with(const char *text)
{
	FILE *f = tmpfile();

	assert_non_null(f);
	fputs(text, f);
	rewind(f);
	return f;
}

static mode_t
mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

/* Runs pubkey on `in`; returns the status, output and error text. */
static int
pubkey(const char *in_text, char out_text[256], char err_text[512])
{
	FILE *in = stream_with(in_text), *out = tmpfile(), *err = tmpfile();
	int status;

	assert_non_null(out);
	assert_non_null(err);
	status = keyfile_cmd_pubkey("vpnd", in, out, err);
	contents(out, out_text, 256);
	contents(err, err_text, 512);
	fclose(in);
	fclose(out);
	fclose(err);
	return status;
}

static void
test_fixed_pair(void **state)
{
	char out[256], err[512];

	(void)state;
	assert_int_equal(pubkey(FIXED_PRIV "\n", out, err), 0);
	assert_string_equal(out, FIXED_PUB "\n");
	assert_string_equal(err, "");
	assert_int_equal(pubkey(FIXED_PRIV_RAW, out, err), 0);
	assert_string_equal(out, FIXED_PUB "\n");
}

static void
test_genkey_pubkey_round_trip(void **state)
{
	char key_text[256], out[256], err[512], b64[KEY_B64_LEN + 1];
	char line[KEY_B64_LEN + 2];
	uint8_t priv[KEY_LEN], pub[KEY_LEN], expect[KEY_LEN];
	FILE *gen = tmpfile(), *gen_err = tmpfile();
	int i;

	(void)state;
	for (i = 0; i < 16; i++) {
		rewind(gen);
		assert_int_equal(keyfile_cmd_genkey("vpnd", NULL, gen, gen_err),
				 0);
		contents(gen, key_text, sizeof(key_text));
		assert_int_equal(strlen(key_text), KEY_B64_LEN + 1);
		assert_true(keys_from_base64(priv, key_text, strlen(key_text)));
		/* Clamped, as X25519 private keys are stored. */
		assert_int_equal(priv[0] & 7, 0);
		assert_int_equal(priv[31] & 0xc0, 0x40);
		assert_int_equal(crypto_scalarmult_base(expect, priv), 0);
		assert_int_equal(pubkey(key_text, out, err), 0);
		assert_true(keys_from_base64(pub, out, strlen(out)));
		assert_memory_equal(pub, expect, KEY_LEN);
		keys_to_base64(b64, expect);
		snprintf(line, sizeof(line), "%s\n", b64);
		assert_string_equal(out, line);
	}
	assert_string_equal(contents(gen_err, err, sizeof(err)), "");
	fclose(gen);
	fclose(gen_err);
}

static void
test_pubkey_refuses_garbage(void **state)
{
	static const char *const bad[] = {
		"",
		"\n",
		"garbage\n",
		FIXED_PRIV "x\n",
		FIXED_PRIV " " FIXED_PRIV "\n",
		"AAIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eH2=\n", /* 43 */
		/* The spare low bits of the last symbol set. */
		"AAIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eH2B=\n",
		"AAIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eH2A\n",  /* no '=' */
		"AAIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0e_2A=\n", /* url-safe */
		"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VuBCIEIA==\n",
	};
	char out[256], err[512], big[4096];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		if (pubkey(bad[i], out, err) != 1)
			fail_msg("pubkey accepted \"%s\"", bad[i]);
		assert_string_equal(out, "");
		assert_non_null(strstr(err, "vpnd: invalid private key"));
	}
	/* A key followed by a lot of blank space is still not a key file. */
	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, FIXED_PRIV, KEY_B64_LEN);
	assert_int_equal(pubkey(big, out, err), 1);
}

static void
test_genkey_file_mode(void **state)
{
	struct dir *d = *state;
	char path[128], err_text[512];
	uint8_t key[KEY_LEN];
	FILE *err = tmpfile();
	mode_t old = umask(0);

	assert_int_equal(keyfile_cmd_genkey("vpnc", in_dir(d, "a.key", path),
					    stdout, err), 0);
	assert_int_equal(mode_of(path), 0600);
	umask(0277);
	assert_int_equal(keyfile_cmd_genkey("vpnc", in_dir(d, "b.key", path),
					    stdout, err), 0);
	assert_int_equal(mode_of(path), 0600);
	umask(old);
	assert_int_equal(keyfile_read(path, true, key, err_text,
				      sizeof(err_text)), 0);
	/* Never over an existing file. */
	assert_int_equal(keyfile_cmd_genkey("vpnc", path, stdout, err), 1);
	assert_non_null(strstr(contents(err, err_text, sizeof(err_text)),
			       "already exists"));
	fclose(err);
}

static void
test_genkey_never_follows_symlink(void **state)
{
	struct dir *d = *state;
	char link_path[128], target[128];
	uint8_t key[KEY_LEN] = { 1 };
	FILE *err = tmpfile();

	in_dir(d, "target", target);
	assert_int_equal(symlink(target, in_dir(d, "link", link_path)), 0);
	assert_true(keyfile_write(link_path, key) < 0);
	assert_int_equal(keyfile_cmd_genkey("vpnd", link_path, stdout, err), 1);
	assert_int_equal(access(target, F_OK), -1);
	fclose(err);
}

/* `vpnd genkey > file`: the shell made the file 0644; genkey closes it. */
static void
test_genkey_redirect_made_private(void **state)
{
	struct dir *d = *state;
	char path[128], text[256];
	uint8_t key[KEY_LEN];
	FILE *out, *err = tmpfile();
	mode_t old = umask(022);

	out = fopen(in_dir(d, "redirect.key", path), "w");
	umask(old);
	assert_non_null(out);
	assert_int_equal(mode_of(path), 0644);
	assert_int_equal(keyfile_cmd_genkey("vpnd", NULL, out, err), 0);
	fclose(out);
	assert_int_equal(mode_of(path), 0600);
	assert_int_equal(keyfile_read(path, true, key, text, sizeof(text)), 0);
	fclose(err);
}

static void
test_read_refuses_open_secret(void **state)
{
	struct dir *d = *state;
	char path[128], err[PATH_MAX + 256];
	uint8_t key[KEY_LEN], expect[KEY_LEN];
	FILE *f;

	f = fopen(in_dir(d, "open.key", path), "w");
	assert_non_null(f);
	fputs(FIXED_PRIV "\n", f);
	fclose(f);
	assert_true(keys_from_base64(expect, FIXED_PRIV, KEY_B64_LEN));
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(keyfile_read(path, true, key, err, sizeof(err)),
			 -EPERM);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "chmod 600"));
	assert_int_equal(chmod(path, 0604), 0);
	assert_int_equal(keyfile_read(path, true, key, err, sizeof(err)),
			 -EPERM);
	/* Not a secret: a public key may be world-readable. */
	assert_int_equal(keyfile_read(path, false, key, err, sizeof(err)), 0);
	assert_int_equal(chmod(path, 0600), 0);
	memset(key, 0, sizeof(key));
	assert_int_equal(keyfile_read(path, true, key, err, sizeof(err)), 0);
	assert_memory_equal(key, expect, KEY_LEN);
}

static void
test_read_refuses_non_keys(void **state)
{
	struct dir *d = *state;
	char path[128], err[PATH_MAX + 256];
	uint8_t key[KEY_LEN];
	FILE *f;

	assert_int_equal(keyfile_read(in_dir(d, "missing", path), true, key,
				      err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, path));
	assert_int_equal(keyfile_read(d->path, true, key, err, sizeof(err)),
			 -EINVAL);
	f = fopen(in_dir(d, "not-a.key", path), "w");
	assert_non_null(f);
	fputs("secret-looking junk\n", f);
	fclose(f);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(keyfile_read(path, true, key, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, path));
	/* What the file held never reaches a message. */
	assert_null(strstr(err, "junk"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fixed_pair, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_genkey_pubkey_round_trip,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_pubkey_refuses_garbage,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_genkey_file_mode, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_genkey_never_follows_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_genkey_redirect_made_private, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_refuses_open_secret,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_refuses_non_keys,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
