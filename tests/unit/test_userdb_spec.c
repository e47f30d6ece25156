// SPDX-License-Identifier: MIT
/*
 * The user store's name (userdb_spec_parse, userdb_spec_check): which
 * engine each form names and what is handed to it, the names refused with
 * their reason, and every way a PostgreSQL connection string can carry a
 * password (keyword, URI user part, URI parameter, %-escaped, inside a
 * dbname), refused, while look-alikes (passfile=, a user without a
 * password, "password" as a value) pass.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../vpnd/userdb.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void
test_engines(void **state)
{
	static const struct {
		const char *name;
		enum userdb_engine engine;
		const char *target;
	} v[] = {
		{ "/var/lib/vpnd/users.db", USERDB_ENGINE_SQLITE,
		  "/var/lib/vpnd/users.db" },
		{ "sqlite:/var/lib/vpnd/users.db", USERDB_ENGINE_SQLITE,
		  "/var/lib/vpnd/users.db" },
		{ "sqlite:users.db", USERDB_ENGINE_SQLITE, "users.db" },
		{ "users.db", USERDB_ENGINE_SQLITE, "users.db" },
		{ "./users.db", USERDB_ENGINE_SQLITE, "./users.db" },
		/* a file name may hold '=' when it says it is one */
		{ "./a=b.db", USERDB_ENGINE_SQLITE, "./a=b.db" },
		{ "/tmp/x=y", USERDB_ENGINE_SQLITE, "/tmp/x=y" },
		{ "sqlite:a=b.db", USERDB_ENGINE_SQLITE, "a=b.db" },
		{ "postgresql://vpnd@db.example/vpnd", USERDB_ENGINE_POSTGRESQL,
		  "postgresql://vpnd@db.example/vpnd" },
		{ "postgres://db.example", USERDB_ENGINE_POSTGRESQL,
		  "postgres://db.example" },
		{ "host=db.example dbname=vpnd user=vpnd",
		  USERDB_ENGINE_POSTGRESQL,
		  "host=db.example dbname=vpnd user=vpnd" },
		{ "host = /run/postgresql  dbname = 'my db'",
		  USERDB_ENGINE_POSTGRESQL,
		  "host = /run/postgresql  dbname = 'my db'" },
	};
	struct userdb_spec spec;
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		if (userdb_spec_parse(v[i].name, &spec, &why) != 0)
			fail_msg("'%s': %s", v[i].name, why);
		assert_int_equal(spec.engine, v[i].engine);
		assert_string_equal(spec.target, v[i].target);
		assert_false(spec.has_password);
		assert_int_equal(userdb_spec_check(v[i].name, &why), 0);
	}
}

static void
test_refused(void **state)
{
	static const struct {
		const char *name, *why;
	} v[] = {
		{ "", "empty" },
		{ "sqlite:", "no file name" },
		{ "/var/lib/vpnd/users.db\n", "newline" },
		{ "mysql://db.example/vpnd", "not a store's name" },
		{ "file:///var/lib/vpnd/users.db", "not a store's name" },
		{ "mysql://db.example/vpnd?sslmode=require",
		  "not a store's name" },
		{ "host=db.example dbname", "no '=value'" },
		{ "host=db.example dbname 'vpnd'", "no '=value'" },
		{ "host='db.example dbname=vpnd", "no closing quote" },
	};
	struct userdb_spec spec;
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		why = NULL;
		if (userdb_spec_parse(v[i].name, &spec, &why) != -EINVAL)
			fail_msg("'%s' was taken", v[i].name);
		assert_non_null(why);
		if (!strstr(why, v[i].why))
			fail_msg("'%s': \"%s\" does not say \"%s\"", v[i].name,
				 why, v[i].why);
		assert_int_equal(userdb_spec_check(v[i].name, &why), -EINVAL);
	}
}

static void
test_passwords(void **state)
{
	static const char *const v[] = {
		"host=db password=secret",
		"password=secret host=db",
		"host=db password = 'a b\\' c'",
		"host=db\tpassword\t=\tsecret",
		"postgresql://vpnd:secret@db.example/vpnd",
		"postgres://vpnd:@db.example",
		"postgresql://vpnd@db.example/vpnd?password=secret",
		"postgresql://db.example/vpnd?sslmode=require&password=secret",
		"postgresql://db.example/vpnd?%70assword=secret",
		"postgresql://db.example/vpnd?PASSWORD%3d=x&%70%61ssword=s",
		"host=db dbname='user=vpnd password=secret'",
		"host=db dbname=postgresql://vpnd:secret@db/vpnd",
	};
	struct userdb_spec spec;
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		if (userdb_spec_parse(v[i], &spec, &why) != 0)
			fail_msg("'%s': %s", v[i], why);
		assert_int_equal(spec.engine, USERDB_ENGINE_POSTGRESQL);
		if (!spec.has_password)
			fail_msg("'%s': its password was not seen", v[i]);
		why = NULL;
		assert_int_equal(userdb_spec_check(v[i], &why), -EPERM);
		assert_non_null(strstr(why, "password file"));
		/* the reason never quotes the name, so never the password */
		assert_null(strstr(why, "secret"));
	}
}

static void
test_no_password(void **state)
{
	static const char *const v[] = {
		"host=db passfile=/etc/vpnd/pgpass user=vpnd",
		"host=db user=password dbname=password",
		"host=db application_name='password=x'",
		"host=db passwordx=1",
		"postgresql://vpnd@db.example:5432/vpnd",
		"postgresql://db.example/vpnd?passfile=/etc/vpnd/pgpass",
		"postgresql://db.example/pass:word",
		"postgresql://db.example/vpnd?user=a:b",
		"postgresql://db.example/vpnd?passwords=1",
	};
	struct userdb_spec spec;
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		if (userdb_spec_parse(v[i], &spec, &why) != 0)
			fail_msg("'%s': %s", v[i], why);
		if (spec.has_password)
			fail_msg("'%s' taken for a password", v[i]);
		assert_int_equal(userdb_spec_check(v[i], &why), 0);
	}
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_engines),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_passwords),
		cmocka_unit_test(test_no_password),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
