// SPDX-License-Identifier: MIT
/*
 * Key files and the genkey/pubkey subcommands (see keyfile.h). This is the
 * only place keys touch the file system. A secret is refused when its file
 * is open to group or others, as OpenSSH refuses an unprotected identity,
 * and every buffer that held key material is wiped before returning. No
 * key, private or not, is ever copied into an error message.
 */
#include "keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdio.h"

/* A key file is 44 characters and a newline; allow some blank space. */
#define KEYFILE_MAX_LEN 128

/* Reads all of fd into buf; -EFBIG if it holds more than len - 1 bytes. */
static int
read_all(int fd, char *buf, size_t len, size_t *got)
{
	size_t n = 0;
	ssize_t r;

	for (;;) {
		r = read(fd, buf + n, len - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		n += (size_t)r;
		if (n == len)
			return -EFBIG;
	}
	*got = n;
	return 0;
}

static int
check_mode(const char *path, int fd, bool is_secret, char *err,
	   size_t err_len)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, err_len, "%s: not a regular file", path);
		return -EINVAL;
	}
	if (is_secret && (st.st_mode & (S_IRWXG | S_IRWXO))) {
		snprintf(err, err_len,
			 "%s: permissions %04o are too open for a secret key "
			 "(group or others may read it); run: chmod 600 %s",
			 path, (unsigned int)(st.st_mode & 07777), path);
		return -EPERM;
	}
	return 0;
}

int
keyfile_read(const char *path, bool is_secret, uint8_t key[KEY_LEN],
	     char *err, size_t err_len)
{
	char buf[KEYFILE_MAX_LEN];
	size_t len = 0;
	int fd, ret;

	/* O_NONBLOCK: a FIFO must be refused below, not wait for a writer
	 * (it does nothing to a regular file). */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		goto out;
	}
	ret = check_mode(path, fd, is_secret, err, err_len);
	if (ret < 0)
		goto out;
	ret = read_all(fd, buf, sizeof(buf), &len);
	if (ret < 0 && ret != -EFBIG) {
		snprintf(err, err_len, "%s: %s", path, strerror(-ret));
		goto out;
	}
	if (ret == -EFBIG || !keys_from_base64(key, buf, len)) {
		snprintf(err, err_len,
			 "%s: not a key (one line of 44 base64 characters, as "
			 "written by genkey)", path);
		ret = -EINVAL;
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	sodium_memzero(buf, sizeof(buf));
	return ret;
}

int
keyfile_write(const char *path, const uint8_t key[KEY_LEN])
{
	char line[KEY_B64_LEN + 2];
	int fd, ret;

	keys_to_base64(line, key);
	line[KEY_B64_LEN] = '\n';
	line[KEY_B64_LEN + 1] = '\0';
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	/* The umask may only have taken bits away; make the mode exact. */
	ret = fchmod(fd, 0600) < 0 ? -errno : 0;
	if (!ret)
		ret = fdio_write_all(fd, line, KEY_B64_LEN + 1);
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	if (close(fd) < 0 && !ret)
		ret = -errno;
	/* Never leave half a key behind for a later run to trip over. */
	if (ret < 0)
		unlink(path);
out:
	sodium_memzero(line, sizeof(line));
	return ret;
}

/*
 * `genkey > file` writes into a file the shell created with the umask's
 * mode, often 0644: close it to others before the key goes in. A pipe or
 * a terminal has no such mode.
 */
static int
protect_stream(FILE *out)
{
	struct stat st;
	int fd = fileno(out);

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	if (!(st.st_mode & (S_IRWXG | S_IRWXO)))
		return 0;
	return fchmod(fd, 0600) < 0 ? -errno : 0;
}

static int
genkey_to_stream(const char *prog, const uint8_t key[KEY_LEN], FILE *out,
		 FILE *err)
{
	char b64[KEY_B64_LEN + 1];
	int ret, status = 1;

	ret = protect_stream(out);
	if (ret < 0) {
		fprintf(err, "%s: cannot make the output file private (%s); "
			"not writing a key into it\n", prog, strerror(-ret));
		goto out;
	}
	keys_to_base64(b64, key);
	if (fprintf(out, "%s\n", b64) < 0 || fflush(out) != 0) {
		fprintf(err, "%s: cannot write the key: %s\n", prog,
			strerror(errno));
		goto out;
	}
	status = 0;
out:
	sodium_memzero(b64, sizeof(b64));
	return status;
}

int
keyfile_cmd_genkey(const char *prog, const char *path, FILE *out, FILE *err)
{
	uint8_t key[KEY_LEN];
	int ret, status = 1;

	randombytes_buf(key, sizeof(key));
	keys_clamp(key);
	if (!path) {
		status = genkey_to_stream(prog, key, out, err);
		goto out;
	}
	ret = keyfile_write(path, key);
	if (ret == -EEXIST) {
		fprintf(err, "%s: %s already exists; not overwriting a key\n",
			prog, path);
		goto out;
	}
	if (ret < 0) {
		fprintf(err, "%s: cannot write %s: %s\n", prog, path,
			strerror(-ret));
		goto out;
	}
	status = 0;
out:
	sodium_memzero(key, sizeof(key));
	return status;
}

/* Reads all of `in`, at most len - 1 bytes; false if there is more. */
static bool
read_stream(FILE *in, char *buf, size_t len, size_t *got)
{
	size_t n = 0, r;

	while (n < len && (r = fread(buf + n, 1, len - n, in)) > 0)
		n += r;
	*got = n;
	return n < len && !ferror(in);
}

int
keyfile_cmd_pubkey(const char *prog, FILE *in, FILE *out, FILE *err)
{
	char buf[KEYFILE_MAX_LEN], b64[KEY_B64_LEN + 1];
	uint8_t priv[KEY_LEN], pub[KEY_LEN];
	size_t len = 0;
	int status = 1;

	if (!read_stream(in, buf, sizeof(buf), &len) ||
	    !keys_from_base64(priv, buf, len) ||
	    !keys_public_from_private(pub, priv)) {
		fprintf(err, "%s: invalid private key: expected one line of "
			"44 base64 characters on standard input, as written by "
			"'%s genkey'\n", prog, prog);
		goto out;
	}
	keys_to_base64(b64, pub);
	if (fprintf(out, "%s\n", b64) < 0 || fflush(out) != 0) {
		fprintf(err, "%s: cannot write the public key: %s\n", prog,
			strerror(errno));
		goto out;
	}
	status = 0;
out:
	sodium_memzero(buf, sizeof(buf));
	sodium_memzero(priv, sizeof(priv));
	return status;
}

bool
keyfile_cmd_dispatch(const char *prog, int argc, char *argv[], int *status)
{
	if (argc < 2)
		return false;
	if (strcmp(argv[1], "genkey") == 0 && argc <= 3) {
		*status = keyfile_cmd_genkey(prog, argc == 3 ? argv[2] : NULL,
					     stdout, stderr);
		return true;
	}
	if (strcmp(argv[1], "pubkey") == 0 && argc == 2) {
		*status = keyfile_cmd_pubkey(prog, stdin, stdout, stderr);
		return true;
	}
	if (strcmp(argv[1], "genkey") == 0 || strcmp(argv[1], "pubkey") == 0) {
		fprintf(stderr, "usage: %s genkey [FILE] | %s pubkey\n", prog,
			prog);
		*status = 2;
		return true;
	}
	return false;
}
