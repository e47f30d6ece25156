// SPDX-License-Identifier: MIT
/*
 * privsep.c: the framing by vector table and truncation sweep (a request
 * or answer is taken at its exact length only, with its version, zero
 * bytes where they must be, an errno a kernel can have, a payload within
 * bounds; an answer to another op is refused), and a live helper with a
 * handler of its own: payloads both ways up to the limit, a descriptor
 * handed over, an errno passed back, SIGTERM ignored, and the program's
 * end giving the helper up (every later call failing at once) when an
 * answer breaks the exchange: larger than asked for, a descriptor where
 * none is due, or no helper any more.
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
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "privsep.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

enum { OP_ECHO = 1, OP_NULL_FD, OP_ENOENT, OP_BIG };

/* ---- framing ---------------------------------------------------------------- */

static void
test_request_round_trip(void **state)
{
	static const size_t sizes[] = { 0, 1, 100, PRIVSEP_PAYLOAD_MAX };
	static uint8_t payload[PRIVSEP_PAYLOAD_MAX], buf[PRIVSEP_PAYLOAD_MAX + 8];
	struct privsep_request r;
	size_t i, len, n;

	(void)state;
	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		len = privsep_request_encode(5, payload, sizes[i], buf,
					     sizeof(buf));
		assert_int_equal(len, PRIVSEP_REQUEST_HEADER_LEN + sizes[i]);
		assert_int_equal(privsep_request_decode(buf, len, &r), 0);
		assert_int_equal(r.op, 5);
		assert_int_equal(r.len, sizes[i]);
		assert_memory_equal(r.payload, payload, sizes[i] ? sizes[i] : 1);
		/* Every other length is refused, one byte more too. */
		for (n = 0; n < len + 2; n++)
			if (n != len)
				assert_int_equal(
					privsep_request_decode(buf, n, &r),
					-EPROTO);
	}
	/* Past the limit, or past the buffer: nothing is written. */
	assert_int_equal(privsep_request_encode(5, payload,
						PRIVSEP_PAYLOAD_MAX + 1, buf,
						sizeof(buf)),
			 0);
	assert_int_equal(privsep_request_encode(5, payload, 10, buf, 13), 0);
}

static void
test_request_refusals(void **state)
{
	static const struct {
		uint8_t b[6];
		size_t len;
		const char *why;
	} v[] = {
		{ { 2, 1, 0, 0 }, 4, "another version" },
		{ { 0, 1, 0, 0 }, 4, "version 0" },
		{ { 1, 1, 2, 0, 'a' }, 5, "a payload length past the datagram" },
		{ { 1, 1, 0, 1 }, 4, "a payload length of 256, none there" },
		{ { 1, 1, 0, 0, 0 }, 5, "a byte after the request" },
		{ { 1, 1, 0x01, 0x10 }, 4, "a payload length past the limit" },
		{ { 1 }, 1, "a header cut short" },
	};
	struct privsep_request r;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++)
		if (privsep_request_decode(v[i].b, v[i].len, &r) != -EPROTO)
			fail_msg("%s: accepted", v[i].why);
}

static void
test_answer_codec(void **state)
{
	uint8_t buf[64];
	const uint8_t *payload;
	size_t len, plen, n;
	int err;

	(void)state;
	len = privsep_answer_encode(3, 0, "abc", 3, buf, sizeof(buf));
	assert_int_equal(len, PRIVSEP_ANSWER_HEADER_LEN + 3);
	assert_int_equal(privsep_answer_decode(buf, len, 3, &err, &payload,
					       &plen),
			 0);
	assert_int_equal(err, 0);
	assert_int_equal(plen, 3);
	assert_memory_equal(payload, "abc", 3);
	for (n = 0; n < len + 2; n++)
		if (n != len)
			assert_int_equal(privsep_answer_decode(buf, n, 3, &err,
							       &payload, &plen),
					 -EPROTO);
	/* The answer to another request. */
	assert_int_equal(privsep_answer_decode(buf, len, 4, &err, &payload,
					       &plen),
			 -EPROTO);
	/* Bytes that must be zero, an errno no kernel has. */
	buf[3] = 1;
	assert_int_equal(privsep_answer_decode(buf, len, 3, &err, &payload,
					       &plen),
			 -EPROTO);
	buf[3] = 0;
	buf[5] = 0x10; /* errno 4096 */
	assert_int_equal(privsep_answer_decode(buf, len, 3, &err, &payload,
					       &plen),
			 -EPROTO);
	buf[5] = 0;
	len = privsep_answer_encode(3, ENOENT, NULL, 0, buf, sizeof(buf));
	assert_int_equal(privsep_answer_decode(buf, len, 3, &err, &payload,
					       &plen),
			 0);
	assert_int_equal(err, ENOENT);
	/* What the encoder refuses to write. */
	assert_int_equal(privsep_answer_encode(3, -1, NULL, 0, buf, sizeof(buf)),
			 0);
	assert_int_equal(privsep_answer_encode(3, PRIVSEP_ERRNO_MAX + 1, NULL,
					       0, buf, sizeof(buf)),
			 0);
	assert_int_equal(privsep_answer_encode(3, 0, NULL, 0, buf, 11), 0);
}

/* ---- a live helper ---------------------------------------------------------- */

static int
helper_init(void *arg)
{
	(void)arg;
	return 0;
}

static int
helper_handle(void *arg, const struct privsep_request *r, uint8_t *out,
	      size_t *out_len, int *pass_fd)
{
	(void)arg;
	switch (r->op) {
	case OP_ECHO:
		memcpy(out, r->payload, r->len);
		*out_len = r->len;
		return 0;
	case OP_NULL_FD:
		*pass_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		return *pass_fd < 0 ? errno : 0;
	case OP_ENOENT:
		return ENOENT;
	case OP_BIG:
		memset(out, 'x', 100);
		*out_len = 100;
		return 0;
	default:
		return EPROTO;
	}
}

static int
setup(void **state)
{
	struct privsep *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	assert_int_equal(privsep_start(p, helper_init, helper_handle, NULL,
				       false),
			 0);
	*state = p;
	return 0;
}

static int
teardown(void **state)
{
	struct privsep *p = *state;

	privsep_stop(p);
	free(p);
	return 0;
}

static void
test_exchanges(void **state)
{
	static uint8_t big[PRIVSEP_PAYLOAD_MAX], out[PRIVSEP_PAYLOAD_MAX];
	struct privsep *p = *state;
	struct stat st;
	size_t len = 99;
	int fd = -1;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 13 + 1);
	assert_int_equal(privsep_call(p, OP_ECHO, "hello", 5, out, sizeof(out),
				      &len, NULL),
			 0);
	assert_int_equal(len, 5);
	assert_memory_equal(out, "hello", 5);
	assert_int_equal(privsep_call(p, OP_ECHO, big, sizeof(big), out,
				      sizeof(out), &len, NULL),
			 0);
	assert_int_equal(len, sizeof(big));
	assert_memory_equal(out, big, sizeof(big));
	assert_int_equal(privsep_call(p, OP_NULL_FD, NULL, 0, NULL, 0, NULL,
				      &fd),
			 0);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(major(st.st_rdev), 1);
	assert_int_equal(minor(st.st_rdev), 3);
	close(fd);
	assert_int_equal(privsep_call(p, OP_ENOENT, NULL, 0, NULL, 0, NULL,
				      NULL),
			 -ENOENT);
	assert_int_equal(privsep_call(p, 77, NULL, 0, NULL, 0, NULL, NULL),
			 -EPROTO);
	/* Refusals are answers: it goes on. */
	assert_int_equal(privsep_call(p, OP_ECHO, "x", 1, out, sizeof(out),
				      &len, NULL),
			 0);
	assert_int_equal(len, 1);
	/* A payload past the limit is never sent. */
	assert_int_equal(privsep_call(p, OP_ECHO, big, sizeof(big) + 1, out,
				      sizeof(out), &len, NULL),
			 -EINVAL);
	assert_true(p->fd >= 0);
}

static void
test_given_up_on_a_bad_answer(void **state)
{
	struct privsep *p = *state;
	uint8_t out[10];
	size_t len;

	/* 100 bytes for a buffer of 10. */
	assert_int_equal(privsep_call(p, OP_BIG, NULL, 0, out, sizeof(out),
				      &len, NULL),
			 -EPROTO);
	assert_int_equal(p->fd, -1);
	assert_int_equal(privsep_call(p, OP_ECHO, "x", 1, out, sizeof(out),
				      &len, NULL),
			 -EPIPE);
}

static void
test_given_up_on_an_unasked_fd(void **state)
{
	struct privsep *p = *state;

	assert_int_equal(privsep_call(p, OP_NULL_FD, NULL, 0, NULL, 0, NULL,
				      NULL),
			 -EPROTO);
	assert_int_equal(privsep_call(p, OP_ENOENT, NULL, 0, NULL, 0, NULL,
				      NULL),
			 -EPIPE);
}

static void
test_lifetime(void **state)
{
	struct privsep *p = *state;
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	pid_t pid = p->pid;
	int i, status;

	/* SIGTERM is the program's: the helper waits for its end. */
	assert_int_equal(kill(pid, SIGTERM), 0);
	for (i = 0; i < 20; i++)
		nanosleep(&tick, NULL);
	assert_int_equal(waitpid(pid, &status, WNOHANG), 0);
	assert_int_equal(privsep_call(p, OP_ENOENT, NULL, 0, NULL, 0, NULL,
				      NULL),
			 -ENOENT);
	privsep_stop(p);
	assert_int_equal(kill(pid, 0), -1);
	assert_int_equal(errno, ESRCH);
	assert_int_equal(p->pid, 0);
}

static void
test_dead_helper(void **state)
{
	struct privsep *p = *state;
	int status;

	assert_int_equal(kill(p->pid, SIGKILL), 0);
	assert_int_equal(waitpid(p->pid, &status, 0), p->pid);
	p->pid = 0;
	assert_int_equal(privsep_call(p, OP_ENOENT, NULL, 0, NULL, 0, NULL,
				      NULL),
			 -EPIPE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_round_trip),
		cmocka_unit_test(test_request_refusals),
		cmocka_unit_test(test_answer_codec),
		cmocka_unit_test_setup_teardown(test_exchanges, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_given_up_on_a_bad_answer,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_given_up_on_an_unasked_fd,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_lifetime, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dead_helper, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
