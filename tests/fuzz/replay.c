// SPDX-License-Identifier: MIT
/*
 * A main() for the fuzz harnesses without libFuzzer: runs a harness over
 * stored inputs once each, so the regression corpus replays under gcc and
 * ASan+UBSan in `make check`. Built as build/asan/tests/test_fuzz_<name>,
 * it replays tests/fuzz/corpus/<name>/ (found from its own name) unless
 * given files or directories, and reports in TAP like the cmocka tests:
 * one case per directory, failed if it holds no input. A crash or broken
 * invariant aborts, which tests/run.sh counts as a failure; the last
 * "# replaying" line of the log names the input.
 */
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#define REPLAY_MAX_INPUT (1024 * 1024)

/* Reads a whole file; NULL (after printing why) if unreadable or huge. */
static uint8_t *
read_input(const char *path, size_t *len)
{
	uint8_t *buf = NULL;
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f) {
		printf("# %s: %s\n", path, strerror(errno));
		return NULL;
	}
	buf = malloc(REPLAY_MAX_INPUT + 1);
	if (!buf)
		goto out;
	n = fread(buf, 1, REPLAY_MAX_INPUT + 1, f);
	if (ferror(f) || n > REPLAY_MAX_INPUT) {
		printf("# %s: unreadable or larger than %d bytes\n", path,
		       REPLAY_MAX_INPUT);
		free(buf);
		buf = NULL;
		goto out;
	}
	*len = n;
out:
	fclose(f);
	return buf;
}

/* Runs one input; false if it could not be read. */
static bool
replay_file(const char *path)
{
	size_t len = 0;
	uint8_t *data = read_input(path, &len);
	uint8_t *exact;

	if (!data)
		return false;
	printf("# replaying %s (%zu bytes)\n", path, len);
	fflush(stdout);
	/* An exact-size copy, as libFuzzer passes it: reads past the end
	 * hit ASan's redzone. */
	exact = fuzz_dup(data, len);
	free(data);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	return true;
}

static int
skip_dots(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* Replays every file of dir in name order; returns how many ran, or -1. */
static int
replay_dir(const char *dir)
{
	struct dirent **names;
	int n, i, ran = 0;
	bool ok = true;

	n = scandir(dir, &names, skip_dots, alphasort);
	if (n < 0) {
		printf("# %s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		char path[4096];

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		if (replay_file(path))
			ran++;
		else
			ok = false;
		free(names[i]);
	}
	free(names);
	return ok ? ran : -1;
}

/* tests/fuzz/corpus/<name> for a binary called test_fuzz_<name>. */
static void
default_corpus(const char *argv0, char *out, size_t len)
{
	char *copy = strdup(argv0);
	const char *base = copy ? basename(copy) : "";
	const char *name = base;

	if (strncmp(base, "test_fuzz_", 10) == 0)
		name = base + 10;
	else if (strncmp(base, "fuzz_", 5) == 0)
		name = base + 5;
	snprintf(out, len, "tests/fuzz/corpus/%s", name);
	free(copy);
}

int
main(int argc, char *argv[])
{
	char corpus[4096];
	char *one[1];
	char **paths = argv + 1;
	int n_paths = argc - 1, i, failed = 0;

	LLVMFuzzerInitialize(&argc, &argv);
	if (n_paths == 0) {
		default_corpus(argv[0], corpus, sizeof(corpus));
		one[0] = corpus;
		paths = one;
		n_paths = 1;
	}
	printf("1..%d\n", n_paths);
	for (i = 0; i < n_paths; i++) {
		struct stat st;
		int ran;

		if (stat(paths[i], &st) == 0 && S_ISDIR(st.st_mode))
			ran = replay_dir(paths[i]);
		else
			ran = replay_file(paths[i]) ? 1 : -1;
		if (ran > 0) {
			printf("ok %d - %s: %d inputs\n", i + 1, paths[i], ran);
		} else {
			printf("not ok %d - %s: %s\n", i + 1, paths[i],
			       ran ? "unreadable" : "no inputs");
			failed++;
		}
	}
	return failed ? 1 : 0;
}
