// SPDX-License-Identifier: MIT
/*
 * masq_ruleset, the text of lan-mode nat's nftables transaction: byte for
 * byte for one IPv4 pool, one IPv6 pool and both (the table declared,
 * deleted and written whole, one masquerade rule per pool and nothing
 * else: a site's subnets and the office's own traffic are never named,
 * so never masqueraded); every buffer too short by one byte or more
 * refused with -ENOSPC and never overrun; interface names that cannot be
 * quoted, a count of 0 or 3 and a family neither IPv4 nor IPv6 refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <sys/socket.h>

#include "../../vpnd/masq.h"

#define HEAD                                                                \
	"table inet vpnd\n"                                                 \
	"delete table inet vpnd\n"                                          \
	"table inet vpnd {\n"                                               \
	"\tcomment \"vpnd lan-mode nat: its clients masqueraded; removed "  \
	"when vpnd stops\"\n"                                               \
	"\tchain postrouting {\n"                                           \
	"\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
#define TAIL "\t}\n}\n"

static struct prefix
pool_of(const char *text)
{
	struct prefix p;

	assert_true(prefix_parse(text, &p));
	return p;
}

/* The ruleset for pools (NULL-ended texts) out of ifname equals want. */
static void
check(const char *ifname, const char *const *texts, const char *want)
{
	struct prefix pools[2];
	char out[MASQ_RULESET_LEN];
	unsigned int n = 0;
	int ret;

	while (texts[n]) {
		pools[n] = pool_of(texts[n]);
		n++;
	}
	memset(out, 'x', sizeof(out));
	ret = masq_ruleset(out, sizeof(out), ifname, pools, n);
	assert_int_equal(ret, (int)strlen(want));
	assert_string_equal(out, want);
}

static void
test_texts(void **state)
{
	static const char *const v4[] = { "10.99.0.0/24", NULL };
	static const char *const v6[] = { "fd00:99::/64", NULL };
	static const char *const both[] = { "10.99.0.0/23", "fd00:99::/64",
					    NULL };

	(void)state;
	check("lan0", v4,
	      HEAD "\t\toifname \"lan0\" ip saddr 10.99.0.0/24 masquerade\n"
		   TAIL);
	check("eth1", v6,
	      HEAD "\t\toifname \"eth1\" ip6 saddr fd00:99::/64 masquerade\n"
		   TAIL);
	check("enp0s31f6.100", both,
	      HEAD "\t\toifname \"enp0s31f6.100\" ip saddr 10.99.0.0/23 "
		   "masquerade\n"
		   "\t\toifname \"enp0s31f6.100\" ip6 saddr fd00:99::/64 "
		   "masquerade\n" TAIL);
}

/* Every length short of the whole text (and its NUL) is refused, and
 * nothing is written past the length given. */
static void
test_short(void **state)
{
	struct prefix pools[2] = { pool_of("10.99.0.0/24"),
				   pool_of("fd00:99::/64") };
	char full[MASQ_RULESET_LEN], out[MASQ_RULESET_LEN + 1];
	size_t len, need;
	int ret;

	(void)state;
	ret = masq_ruleset(full, sizeof(full), "lan0", pools, 2);
	assert_true(ret > 0);
	need = (size_t)ret + 1;
	for (len = 0; len < need; len++) {
		memset(out, 'x', sizeof(out));
		assert_int_equal(masq_ruleset(out, len, "lan0", pools, 2),
				 -ENOSPC);
		assert_int_equal(out[len], 'x');
	}
	memset(out, 'x', sizeof(out));
	assert_int_equal(masq_ruleset(out, need, "lan0", pools, 2), ret);
	assert_string_equal(out, full);
	assert_int_equal(out[need], 'x');
}

static void
test_refused(void **state)
{
	static const char *const names[] = {
		"", "a\"b", "a\\b", "a b", "a\tb", "a\nb", "\x7f", "caf\xc3\xa9",
	};
	struct prefix pools[3] = { pool_of("10.99.0.0/24"),
				   pool_of("fd00:99::/64"),
				   pool_of("10.98.0.0/24") };
	struct prefix odd = pools[0];
	char out[MASQ_RULESET_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_int_equal(masq_ruleset(out, sizeof(out), names[i],
					      pools, 1),
				 -EINVAL);
	assert_int_equal(masq_ruleset(out, sizeof(out), NULL, pools, 1),
			 -EINVAL);
	assert_int_equal(masq_ruleset(NULL, sizeof(out), "lan0", pools, 1),
			 -EINVAL);
	assert_int_equal(masq_ruleset(out, sizeof(out), "lan0", NULL, 1),
			 -EINVAL);
	assert_int_equal(masq_ruleset(out, sizeof(out), "lan0", pools, 0),
			 -EINVAL);
	assert_int_equal(masq_ruleset(out, sizeof(out), "lan0", pools, 3),
			 -EINVAL);
	odd.family = AF_UNIX;
	assert_int_equal(masq_ruleset(out, sizeof(out), "lan0", &odd, 1),
			 -EINVAL);
	/* The longest name an interface may have is quoted whole. */
	assert_true(masq_ruleset(out, sizeof(out), "abcdefghijklmno", pools,
				 2) > 0);
	assert_non_null(strstr(out, "oifname \"abcdefghijklmno\" ip6 saddr"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_texts),
		cmocka_unit_test(test_short),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
