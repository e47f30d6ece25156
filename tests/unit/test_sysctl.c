// SPDX-License-Identifier: MIT
/*
 * sysctl.c without privilege: the names it refuses (anything that could
 * leave /proc/sys/net, since a privileged process may take names from a
 * less trusted one), reading a real setting, and the saved list driven
 * through a fake write hook over real settings: a value already right is
 * neither written nor remembered, a change is written through the hook
 * alone and remembered with the value before it, a setting not as written
 * is not put back, a full list writes nothing, and restore forgets.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sysctl.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define FORWARD "net/ipv4/ip_forward"

struct fake {
	unsigned int writes;
	char name[SYSCTL_NAME_LEN], value[SYSCTL_VALUE_LEN];
	int ret;
};

static int
fake_write(void *arg, const char *name, const char *value)
{
	struct fake *f = arg;

	f->writes++;
	snprintf(f->name, sizeof(f->name), "%s", name);
	snprintf(f->value, sizeof(f->value), "%s", value);
	return f->ret;
}

static void
test_names(void **state)
{
	static const struct {
		const char *name;
		bool ok;
	} v[] = {
		{ "net/ipv4/ip_forward", true },
		{ "net/ipv4/conf/all/send_redirects", true },
		{ "net/ipv4/conf/vpn.0/send_redirects", true },
		{ "net/ipv6/conf/all/forwarding", true },
		{ "net", false },
		{ "net/", false },
		{ "kernel/core_pattern", false },
		{ "/net/ipv4/ip_forward", false },
		{ "net//ipv4", false },
		{ "net/ipv4/", false },
		{ "net/../kernel/core_pattern", false },
		{ "net/ipv4/conf/../../../kernel/x", false },
		{ "net/./ipv4/ip_forward", false },
		{ "net/ipv4/conf/.hidden/x", true },
		{ "network/x", false },
		{ "", false },
	};
	char longname[SYSCTL_NAME_LEN + 8];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++)
		if (sysctl_name_valid(v[i].name) != v[i].ok)
			fail_msg("\"%s\": want %d", v[i].name, v[i].ok);
	assert_false(sysctl_name_valid(NULL));
	memset(longname, 'a', sizeof(longname));
	memcpy(longname, "net/", 4);
	longname[SYSCTL_NAME_LEN] = '\0';
	assert_false(sysctl_name_valid(longname));
	longname[SYSCTL_NAME_LEN - 1] = '\0';
	assert_true(sysctl_name_valid(longname));
}

static void
test_read(void **state)
{
	char value[SYSCTL_VALUE_LEN], tiny[1];

	(void)state;
	if (sysctl_read(FORWARD, value, sizeof(value)) == -ENOENT)
		skip();
	assert_int_equal(sysctl_read(FORWARD, value, sizeof(value)), 0);
	assert_true(strcmp(value, "0") == 0 || strcmp(value, "1") == 0);
	assert_int_equal(sysctl_read(FORWARD, tiny, sizeof(tiny)), -ENOSPC);
	assert_int_equal(sysctl_read("net/../kernel/hostname", value,
				     sizeof(value)), -EINVAL);
	assert_int_equal(sysctl_read("net/no/such/setting", value,
				     sizeof(value)), -ENOENT);
	assert_int_equal(sysctl_write(NULL, "kernel/hostname", "x"), -EINVAL);
	assert_int_equal(sysctl_write(NULL, "net/ipv4/x y", "1"), -EINVAL);
}

static void
test_display_name(void **state)
{
	char out[SYSCTL_NAME_LEN];

	(void)state;
	assert_string_equal(sysctl_display_name(FORWARD, out),
			    "net.ipv4.ip_forward");
}

/* The real value of ip_forward, and the other one. */
static bool
forward_values(char now[SYSCTL_VALUE_LEN], const char **other)
{
	if (sysctl_read(FORWARD, now, SYSCTL_VALUE_LEN) < 0)
		return false;
	*other = strcmp(now, "0") == 0 ? "1" : "0";
	return true;
}

static void
test_change_and_restore(void **state)
{
	struct fake f = { 0 };
	struct sysctl_saved s = { .write = fake_write, .write_arg = &f };
	char now[SYSCTL_VALUE_LEN];
	const char *other;

	(void)state;
	if (!forward_values(now, &other))
		skip();
	/* Already right: nothing written, nothing to put back. */
	assert_int_equal(sysctl_change(&s, FORWARD, now), 0);
	assert_int_equal(f.writes, 0);
	assert_int_equal(s.n, 0);
	/* A change goes through the hook and is remembered. */
	assert_int_equal(sysctl_change(&s, FORWARD, other), 0);
	assert_int_equal(f.writes, 1);
	assert_string_equal(f.name, FORWARD);
	assert_string_equal(f.value, other);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.changes[0].old_value, now);
	assert_string_equal(s.changes[0].new_value, other);
	/* The hook wrote nothing, so the setting is not as "written": it is
	 * someone else's now and is left alone. */
	sysctl_restore(&s);
	assert_int_equal(f.writes, 1);
	assert_int_equal(s.n, 0);
	sysctl_restore(&s);
	assert_int_equal(f.writes, 1);
}

/* The setting still as written: put back, through the hook. */
static void
test_restore_writes_back(void **state)
{
	struct fake f = { 0 };
	struct sysctl_saved s = { .write = fake_write, .write_arg = &f };
	char now[SYSCTL_VALUE_LEN];
	const char *other;

	(void)state;
	if (!forward_values(now, &other))
		skip();
	/* As if we had written `now` over `other`. */
	s.n = 1;
	snprintf(s.changes[0].name, sizeof(s.changes[0].name), FORWARD);
	snprintf(s.changes[0].old_value, SYSCTL_VALUE_LEN, "%s", other);
	snprintf(s.changes[0].new_value, SYSCTL_VALUE_LEN, "%s", now);
	sysctl_restore(&s);
	assert_int_equal(f.writes, 1);
	assert_string_equal(f.name, FORWARD);
	assert_string_equal(f.value, other);
	assert_int_equal(s.n, 0);
}

static void
test_failures(void **state)
{
	struct fake f = { .ret = -EACCES };
	struct sysctl_saved s = { .write = fake_write, .write_arg = &f };
	char now[SYSCTL_VALUE_LEN];
	const char *other;
	unsigned int i;

	(void)state;
	if (!forward_values(now, &other))
		skip();
	/* A write refused: the error, nothing remembered. */
	assert_int_equal(sysctl_change(&s, FORWARD, other), -EACCES);
	assert_int_equal(s.n, 0);
	/* A full list: nothing written. */
	f.ret = 0;
	f.writes = 0;
	for (i = 0; i < SYSCTL_SAVED_MAX; i++)
		snprintf(s.changes[i].name, SYSCTL_NAME_LEN, "net/x%u", i);
	s.n = SYSCTL_SAVED_MAX;
	assert_int_equal(sysctl_change(&s, FORWARD, other), -ENOSPC);
	assert_int_equal(f.writes, 0);
	assert_int_equal(sysctl_change(&s, "kernel/hostname", "x"), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_read),
		cmocka_unit_test(test_display_name),
		cmocka_unit_test(test_change_and_restore),
		cmocka_unit_test(test_restore_writes_back),
		cmocka_unit_test(test_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
