// SPDX-License-Identifier: MIT
/*
 * fdio_write_all: every byte through a pipe far larger than its buffer
 * (the writer blocks and resumes, a reader drains it), a file, and the
 * error of a descriptor that is not open.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdio.h"

#define BIG (1 << 20)

struct reader {
	int fd;
	uint8_t *got;
	size_t len;
};

static void *
drain(void *arg)
{
	struct reader *r = arg;
	ssize_t n;

	while (r->len < BIG &&
	       (n = read(r->fd, r->got + r->len, BIG - r->len)) > 0)
		r->len += (size_t)n;
	return NULL;
}

static void
test_pipe_whole(void **state)
{
	static uint8_t sent[BIG], got[BIG];
	struct reader r = { -1, got, 0 };
	pthread_t t;
	int p[2];
	size_t i;

	(void)state;
	for (i = 0; i < BIG; i++)
		sent[i] = (uint8_t)(i * 7 + i / 251);
	assert_int_equal(pipe(p), 0);
	r.fd = p[0];
	assert_int_equal(pthread_create(&t, NULL, drain, &r), 0);
	assert_int_equal(fdio_write_all(p[1], sent, BIG), 0);
	close(p[1]);
	assert_int_equal(pthread_join(t, NULL), 0);
	close(p[0]);
	assert_int_equal(r.len, BIG);
	assert_memory_equal(got, sent, BIG);
}

static void
test_file_and_errors(void **state)
{
	char path[] = "/tmp/test_fdio.XXXXXX";
	char back[16];
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(fdio_write_all(fd, "hello, file\n", 12), 0);
	assert_int_equal(fdio_write_all(fd, "", 0), 0);
	assert_int_equal(pread(fd, back, sizeof(back), 0), 12);
	assert_memory_equal(back, "hello, file\n", 12);
	close(fd);
	unlink(path);
	assert_int_equal(fdio_write_all(fd, "x", 1), -EBADF);
	fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		assert_int_equal(fdio_write_all(fd, "x", 1), -ENOSPC);
		close(fd);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pipe_whole),
		cmocka_unit_test(test_file_and_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
