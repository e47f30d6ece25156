// SPDX-License-Identifier: MIT
/*
 * The event loop's busy polling (loop.h) and the sockets' (udp.h): with
 * busy-poll set, an event that comes while the loop spins is taken
 * without the loop ever sleeping (no voluntary context switch); without
 * it, the loop sleeps in epoll_wait. SO_BUSY_POLL reads back as set.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "udp.h"

struct fixture {
	struct loop loop;
	int pipe[2];
	unsigned int delay_ms; /* before the other thread writes */
	unsigned int handled;
};

static int
setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	assert_int_equal(loop_init(&f.loop), 0);
	assert_int_equal(pipe(f.pipe), 0);
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	loop_close(&f->loop);
	close(f->pipe[0]);
	close(f->pipe[1]);
	return 0;
}

static void
on_pipe(void *arg, uint32_t events)
{
	struct fixture *f = arg;
	char c;

	(void)events;
	assert_int_equal(read(f->pipe[0], &c, 1), 1);
	f->handled++;
	loop_stop(&f->loop);
}

static void *
writer(void *arg)
{
	struct fixture *f = arg;
	struct timespec ts = { 0, (long)f->delay_ms * 1000000L };

	nanosleep(&ts, NULL);
	assert_int_equal(write(f->pipe[1], "x", 1), 1);
	return NULL;
}

/* Voluntary context switches of this thread while the loop ran until the
 * other thread's byte came. */
static long
run_until_written(struct fixture *f)
{
	struct rusage before, after;
	pthread_t t;

	assert_int_equal(loop_add_fd(&f->loop, f->pipe[0], EPOLLIN,
				     on_pipe, f),
			 0);
	assert_int_equal(pthread_create(&t, NULL, writer, f), 0);
	assert_int_equal(getrusage(RUSAGE_THREAD, &before), 0);
	assert_int_equal(loop_run(&f->loop), 0);
	assert_int_equal(getrusage(RUSAGE_THREAD, &after), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(f->handled, 1);
	return after.ru_nvcsw - before.ru_nvcsw;
}

/* The byte comes 10 ms in, well inside a spin of 5 s: taken without a
 * sleep, whatever else the machine does (load only delays it). */
static void
test_spin_takes_without_sleeping(void **state)
{
	struct fixture *f = *state;

	loop_set_busy_poll(&f->loop, 5000000);
	f->delay_ms = 10;
	assert_int_equal(run_until_written(f), 0);
}

/* Without busy polling the loop sleeps until the byte comes. */
static void
test_no_spin_sleeps(void **state)
{
	struct fixture *f = *state;

	f->delay_ms = 10;
	assert_true(run_until_written(f) >= 1);
}

/* After the spin, the loop sleeps as usual and still takes the event. */
static void
test_spin_then_sleep(void **state)
{
	struct fixture *f = *state;

	loop_set_busy_poll(&f->loop, 1000);
	f->delay_ms = 50;
	assert_true(run_until_written(f) >= 1);
}

static void
test_udp_busy_poll(void **state)
{
	struct udp u = { -1, -1 };
	int val = 0;
	socklen_t len = sizeof(val);

	(void)state;
	u.fd4 = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(u.fd4 >= 0);
	/* Root (as the suite runs) may raise it; others get EPERM, said. */
	if (udp_set_busy_poll(&u, 50) == -EPERM) {
		close(u.fd4);
		skip();
	}
	assert_int_equal(getsockopt(u.fd4, SOL_SOCKET, SO_BUSY_POLL, &val,
				    &len),
			 0);
	assert_int_equal(val, 50);
	close(u.fd4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_spin_takes_without_sleeping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_spin_sleeps, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_spin_then_sleep, setup,
						teardown),
		cmocka_unit_test(test_udp_busy_poll),
	};

	log_init("test_loop", false, LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
