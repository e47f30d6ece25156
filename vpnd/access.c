// SPDX-License-Identifier: MIT
/*
 * Access rules (see access.h): the allow syntax, the configuration's
 * arrays, the compiled policy and the check on the packet path.
 *
 * A set is built from allow entries: sorted by prefix length, merged where
 * the same prefix appears twice, and inserted shortest first, so that when
 * a prefix goes in, the longest match for its own address is the nearest
 * shorter prefix around it (the entries inserted so far are no longer than
 * it). It takes that prefix's allowances on top of its own: a packet's one
 * longest match then holds everything any rule allows for it.
 */
#include "access.h"

#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_WORDS (ACCESS_RULES_MAX / 64)
#define NO_RULE UINT32_MAX

struct access_member {
	char name[ACCESS_NAME_MAX + 1];
	uint32_t rule;
};

/* What a prefix of a set allows. */
struct node {
	struct access_rule *rule;  /* refusals counted there; NULL: no-rule */
	bool allows_all;
	uint32_t first_item, n_items; /* in the set's items */
};

struct access_set {
	struct trie trie;          /* prefix -> struct node */
	struct node *nodes;
	struct access_item *items;
	uint32_t n_nodes, n_items, cap_items;
	uint64_t key[KEY_WORDS];   /* its rules */
	struct access_set *next;
};

/* An allow entry on its way into a set. */
struct entry {
	struct prefix prefix;
	uint32_t rule;             /* NO_RULE: the fallback's */
	uint32_t first_item, n_items; /* in the policy's items */
};

/* ---- names and the allow syntax ------------------------------------------ */

bool
access_name_valid(const char *name)
{
	size_t len = strlen(name), i;

	if (len == 0 || len > ACCESS_NAME_MAX || name[0] == '-')
		return false;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("._@+-", name[i]))
			return false;
	return true;
}

static bool
why_false(char *why, size_t why_len, const char *fmt, const char *what)
{
	snprintf(why, why_len, fmt, what);
	return false;
}

/* A port, 1-65535, from exactly the digits in [p, end). */
static bool
parse_port(const char *p, const char *end, uint16_t *out)
{
	unsigned long v = 0;

	if (p == end || end - p > 5)
		return false;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v < 1 || v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
}

/* "80" or "8000-8100" in [p, end). */
static bool
parse_range(const char *p, const char *end, struct access_item *it)
{
	const char *dash = memchr(p, '-', (size_t)(end - p));

	if (!dash) {
		if (!parse_port(p, end, &it->lo))
			return false;
		it->hi = it->lo;
		return true;
	}
	return parse_port(p, dash, &it->lo) && parse_port(dash + 1, end, &it->hi) &&
	       it->lo <= it->hi;
}

/* One protocol word: "tcp", "udp/53", "tcp/80,443,8000-8100", "icmp". */
static bool
parse_items(const char *word, struct access_item *items, uint32_t *n,
	    char *why, size_t why_len)
{
	static const struct {
		const char *name;
		enum access_proto proto;
	} protos[] = {
		{ "tcp", ACCESS_TCP }, { "udp", ACCESS_UDP }, { "icmp", ACCESS_ICMP },
	};
	const char *slash = strchr(word, '/'), *p, *end;
	size_t len = slash ? (size_t)(slash - word) : strlen(word), i;
	struct access_item it = { 0 };

	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (strlen(protos[i].name) == len &&
		    memcmp(protos[i].name, word, len) == 0)
			break;
	if (i == sizeof(protos) / sizeof(protos[0]))
		return why_false(why, why_len, "%s is not tcp, udp or icmp "
				 "(with ports: tcp/80,443 or udp/5000-5100)",
				 word);
	it.proto = (uint8_t)protos[i].proto;
	if (!slash || it.proto == ACCESS_ICMP) {
		if (slash)
			return why_false(why, why_len, "%s: icmp takes no ports",
					 word);
		it.hi = 65535;
		if (*n == ACCESS_ITEMS_MAX)
			return why_false(why, why_len, "more than %s protocols "
					 "and port ranges", "32");
		items[(*n)++] = it;
		return true;
	}
	for (p = slash + 1;; p = end + 1) {
		end = strchr(p, ',');
		if (!end)
			end = p + strlen(p);
		if (!parse_range(p, end, &it))
			return why_false(why, why_len, "%s: ports are 1-65535, "
					 "as 80, 8000-8100 or 80,443", word);
		if (*n == ACCESS_ITEMS_MAX)
			return why_false(why, why_len, "more than %s protocols "
					 "and port ranges", "32");
		items[(*n)++] = it;
		if (!*end)
			return true;
	}
}

bool
access_allow_parse(const char *text, struct prefix *prefix,
		   struct access_item *items, uint32_t *n_items, char *why,
		   size_t why_len)
{
	char buf[256], *word, *save = NULL, net[PREFIX_STR_LEN];
	struct prefix masked;

	*n_items = 0;
	if (strlen(text) >= sizeof(buf))
		return why_false(why, why_len, "%s", "the entry is too long");
	snprintf(buf, sizeof(buf), "%s", text);
	word = strtok_r(buf, " \t", &save);
	if (!word)
		return why_false(why, why_len, "%s", "the entry is empty: a "
				 "prefix, then protocols and ports if any");
	if (!prefix_parse(word, prefix))
		return why_false(why, why_len, "%s is not an address or prefix",
				 word);
	if (!prefix_is_network(prefix)) {
		masked = *prefix;
		prefix_mask(&masked);
		snprintf(why, why_len, "%s has host bits set (the network is "
			 "%s)", word, prefix_format(&masked, net));
		return false;
	}
	while ((word = strtok_r(NULL, " \t", &save)))
		if (!parse_items(word, items, n_items, why, why_len))
			return false;
	return true;
}

/* ---- the configuration ---------------------------------------------------- */

struct access_config *
access_config_new(void)
{
	return calloc(1, sizeof(struct access_config));
}

void
access_config_free(struct access_config *c)
{
	if (!c)
		return;
	free(c->groups);
	free(c->rules);
	free(c->names);
	free(c->allows);
	free(c->items);
	free(c);
}

/* Room for `more` elements of `size` bytes past n in *v (capacity *cap),
 * at most max in all. 0, -E2BIG or -ENOMEM. */
static int
grow(void **v, uint32_t *cap, uint32_t n, uint32_t more, uint32_t max,
     size_t size)
{
	uint32_t want = *cap ? *cap : 16;
	void *nv;

	if (more > max || n > max - more)
		return -E2BIG;
	if (n + more <= *cap)
		return 0;
	while (want < n + more)
		want = want > max / 2 ? max : want * 2;
	nv = realloc(*v, (size_t)want * size);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = want;
	return 0;
}

static int
add_names(struct access_config *c, const char *const *names, uint32_t n,
	  uint32_t *first)
{
	uint32_t i;
	int ret = grow((void **)&c->names, &c->cap_names, c->n_names, n,
		       ACCESS_NAMES_MAX, sizeof(*c->names));

	if (ret < 0)
		return ret;
	*first = c->n_names;
	for (i = 0; i < n; i++)
		snprintf(c->names[c->n_names++], sizeof(*c->names), "%s",
			 names[i]);
	return 0;
}

int
access_config_add_group(struct access_config *c, const char *name,
			const char *const *users, uint32_t n_users)
{
	struct access_group_spec *g;
	int ret;

	if (c->n_groups == ACCESS_GROUPS_MAX)
		return -E2BIG;
	g = realloc(c->groups, (c->n_groups + 1) * sizeof(*g));
	if (!g)
		return -ENOMEM;
	c->groups = g;
	g += c->n_groups;
	memset(g, 0, sizeof(*g));
	snprintf(g->name, sizeof(g->name), "%s", name);
	ret = add_names(c, users, n_users, &g->first_user);
	if (ret < 0)
		return ret;
	g->n_users = n_users;
	c->n_groups++;
	return 0;
}

int
access_config_add_rule(struct access_config *c, const char *name,
		       const char *const *users, uint32_t n_users,
		       const char *const *groups, uint32_t n_groups)
{
	struct access_rule_spec *r;
	int ret;

	if (c->n_rules == ACCESS_RULES_MAX)
		return -E2BIG;
	r = realloc(c->rules, (c->n_rules + 1) * sizeof(*r));
	if (!r)
		return -ENOMEM;
	c->rules = r;
	r += c->n_rules;
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	ret = add_names(c, users, n_users, &r->first_user);
	if (ret == 0)
		ret = add_names(c, groups, n_groups, &r->first_group);
	if (ret < 0)
		return ret;
	r->n_users = n_users;
	r->n_groups = n_groups;
	r->first_allow = c->n_allows;
	c->n_rules++;
	return 0;
}

int
access_config_add_allow(struct access_config *c, const struct prefix *p,
			const struct access_item *items, uint32_t n_items)
{
	struct access_allow *a;
	uint32_t i;
	int ret;

	if (!c->n_rules || n_items > ACCESS_ITEMS_MAX)
		return -EINVAL;
	ret = grow((void **)&c->allows, &c->cap_allows, c->n_allows, 1,
		   ACCESS_ALLOWS_MAX, sizeof(*c->allows));
	if (ret == 0)
		ret = grow((void **)&c->items, &c->cap_items, c->n_items,
			   n_items, ACCESS_ALLOWS_MAX * 4, sizeof(*c->items));
	if (ret < 0)
		return ret;
	a = &c->allows[c->n_allows++];
	memset(a, 0, sizeof(*a));
	a->prefix = *p;
	prefix_mask(&a->prefix);
	a->first_item = c->n_items;
	a->n_items = n_items;
	for (i = 0; i < n_items; i++)
		c->items[c->n_items++] = items[i];
	c->rules[c->n_rules - 1].n_allows++;
	return 0;
}

const struct access_group_spec *
access_config_group(const struct access_config *c, const char *name)
{
	uint32_t i;

	for (i = 0; c && i < c->n_groups; i++)
		if (strcmp(c->groups[i].name, name) == 0)
			return &c->groups[i];
	return NULL;
}

static bool
prefix_equal(const struct prefix *a, const struct prefix *b)
{
	return a->family == b->family && a->len == b->len &&
	       memcmp(a->addr, b->addr, prefix_addr_len(a->family)) == 0;
}

static bool
items_equal(const struct access_config *a, const struct access_config *b)
{
	uint32_t i;

	for (i = 0; i < a->n_items; i++)
		if (a->items[i].proto != b->items[i].proto ||
		    a->items[i].lo != b->items[i].lo ||
		    a->items[i].hi != b->items[i].hi)
			return false;
	for (i = 0; i < a->n_allows; i++)
		if (!prefix_equal(&a->allows[i].prefix, &b->allows[i].prefix) ||
		    a->allows[i].n_items != b->allows[i].n_items)
			return false;
	return true;
}

/* The arrays are filled in file order, so equal files give equal arrays
 * and the offsets follow from the counts compared. */
bool
access_config_equal(const struct access_config *a,
		    const struct access_config *b)
{
	uint32_t i;

	if (!a || !b)
		return a == b;
	if (a->n_groups != b->n_groups || a->n_rules != b->n_rules ||
	    a->n_names != b->n_names || a->n_allows != b->n_allows ||
	    a->n_items != b->n_items)
		return false;
	for (i = 0; i < a->n_groups; i++)
		if (strcmp(a->groups[i].name, b->groups[i].name) != 0 ||
		    a->groups[i].n_users != b->groups[i].n_users)
			return false;
	for (i = 0; i < a->n_rules; i++)
		if (strcmp(a->rules[i].name, b->rules[i].name) != 0 ||
		    a->rules[i].n_users != b->rules[i].n_users ||
		    a->rules[i].n_groups != b->rules[i].n_groups ||
		    a->rules[i].n_allows != b->rules[i].n_allows)
			return false;
	for (i = 0; i < a->n_names; i++)
		if (strcmp(a->names[i], b->names[i]) != 0)
			return false;
	return items_equal(a, b);
}

/* ---- building the policy ----------------------------------------------------- */

static int
member_cmp(const void *a, const void *b)
{
	const struct access_member *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->rule > y->rule) - (x->rule < y->rule);
}

static void
add_member(struct access_policy *pol, const char *name, uint32_t rule)
{
	struct access_member *m = &pol->members[pol->n_members++];

	snprintf(m->name, sizeof(m->name), "%s", name);
	m->rule = rule;
}

/* Every (user, rule) pair, through the rules' users and their groups. */
static int
build_members(struct access_policy *pol, const struct access_config *cfg)
{
	const struct access_group_spec *g;
	size_t n = 0;
	uint32_t r, i, j;

	for (r = 0; r < cfg->n_rules; r++) {
		n += cfg->rules[r].n_users;
		for (i = 0; i < cfg->rules[r].n_groups; i++) {
			g = access_config_group(
				cfg, cfg->names[cfg->rules[r].first_group + i]);
			n += g ? g->n_users : 0;
		}
	}
	pol->members = calloc(n ? n : 1, sizeof(*pol->members));
	if (!pol->members)
		return -ENOMEM;
	for (r = 0; r < cfg->n_rules; r++) {
		const struct access_rule_spec *rs = &cfg->rules[r];

		for (i = 0; i < rs->n_users; i++)
			add_member(pol, cfg->names[rs->first_user + i], r);
		for (i = 0; i < rs->n_groups; i++) {
			g = access_config_group(cfg,
						cfg->names[rs->first_group + i]);
			for (j = 0; g && j < g->n_users; j++)
				add_member(pol, cfg->names[g->first_user + j], r);
		}
	}
	qsort(pol->members, pol->n_members, sizeof(*pol->members), member_cmp);
	return 0;
}

/* The rules, their allow entries and items, copied. */
static int
copy_rules(struct access_policy *pol, const struct access_config *cfg,
	   const struct access_policy *old)
{
	uint32_t r, k, n = cfg->n_rules ? cfg->n_rules : 1;

	pol->rules = calloc(n, sizeof(*pol->rules));
	pol->rule_first_allow = calloc(n, sizeof(uint32_t));
	pol->rule_n_allows = calloc(n, sizeof(uint32_t));
	pol->allows = calloc(cfg->n_allows ? cfg->n_allows : 1,
			     sizeof(*pol->allows));
	pol->items = calloc(cfg->n_items ? cfg->n_items : 1,
			    sizeof(*pol->items));
	if (!pol->rules || !pol->rule_first_allow || !pol->rule_n_allows ||
	    !pol->allows || !pol->items)
		return -ENOMEM;
	if (cfg->n_allows)
		memcpy(pol->allows, cfg->allows,
		       cfg->n_allows * sizeof(*pol->allows));
	if (cfg->n_items)
		memcpy(pol->items, cfg->items, cfg->n_items * sizeof(*pol->items));
	pol->n_rules = cfg->n_rules;
	for (r = 0; r < cfg->n_rules; r++) {
		snprintf(pol->rules[r].name, sizeof(pol->rules[r].name), "%s",
			 cfg->rules[r].name);
		pol->rule_first_allow[r] = cfg->rules[r].first_allow;
		pol->rule_n_allows[r] = cfg->rules[r].n_allows;
		for (k = 0; old && k < old->n_rules; k++)
			if (strcmp(old->rules[k].name, pol->rules[r].name) == 0)
				pol->rules[r].refused = old->rules[k].refused;
	}
	return 0;
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c;

	if (x->prefix.family != y->prefix.family)
		return x->prefix.family < y->prefix.family ? -1 : 1;
	if (x->prefix.len != y->prefix.len)
		return x->prefix.len < y->prefix.len ? -1 : 1;
	c = memcmp(x->prefix.addr, y->prefix.addr, 16);
	if (c)
		return c;
	return (x->rule > y->rule) - (x->rule < y->rule);
}

static int
set_items_add(struct access_set *set, const struct access_item *items,
	      uint32_t n)
{
	int ret;

	if (!n)
		return 0;
	ret = grow((void **)&set->items, &set->cap_items, set->n_items, n,
		   UINT32_MAX / 2, sizeof(*set->items));
	if (ret < 0)
		return ret;
	memcpy(set->items + set->n_items, items, n * sizeof(*items));
	set->n_items += n;
	return 0;
}

/*
 * The node for entries e[0..n) (one prefix), on top of what the nearest
 * shorter prefix around it allows, then into the trie.
 */
static int
add_node(struct access_policy *pol, struct access_set *set,
	 const struct entry *e, uint32_t n)
{
	const struct prefix *p = &e[0].prefix;
	const struct node *parent = trie_lookup(&set->trie, p->family, p->addr);
	struct node *node = &set->nodes[set->n_nodes];
	uint32_t i;
	int ret = 0;

	memset(node, 0, sizeof(*node));
	node->rule = e[0].rule == NO_RULE ? NULL : &pol->rules[e[0].rule];
	node->allows_all = parent && parent->allows_all;
	for (i = 0; i < n; i++)
		node->allows_all |= e[i].n_items == 0;
	node->first_item = set->n_items;
	for (i = 0; !node->allows_all && i < n && ret == 0; i++)
		ret = set_items_add(set, pol->items + e[i].first_item,
				    e[i].n_items);
	if (!node->allows_all && parent && parent->n_items && ret == 0) {
		/* The parent's items may move as ours are added: copy
		 * through a bounded window of its own offsets. */
		uint32_t first = parent->first_item, count = parent->n_items;

		ret = grow((void **)&set->items, &set->cap_items, set->n_items,
			   count, UINT32_MAX / 2, sizeof(*set->items));
		if (ret == 0) {
			memmove(set->items + set->n_items, set->items + first,
				count * sizeof(*set->items));
			set->n_items += count;
		}
	}
	if (ret < 0)
		return ret;
	node->n_items = node->allows_all ? 0 : set->n_items - node->first_item;
	ret = trie_insert(&set->trie, p->family, p->addr, p->len, node);
	if (ret == 0)
		set->n_nodes++;
	return ret;
}

static int
fill_set(struct access_policy *pol, struct access_set *set, struct entry *e,
	 uint32_t n)
{
	uint32_t i, j;
	int ret = 0;

	qsort(e, n, sizeof(*e), entry_cmp);
	set->nodes = calloc(n ? n : 1, sizeof(*set->nodes));
	if (!set->nodes)
		return -ENOMEM;
	for (i = 0; i < n && ret == 0; i = j) {
		for (j = i + 1; j < n && prefix_equal(&e[i].prefix, &e[j].prefix);
		     j++)
			;
		ret = add_node(pol, set, e + i, j - i);
	}
	return ret;
}

static void
set_free(struct access_set *set)
{
	trie_free(&set->trie);
	free(set->nodes);
	free(set->items);
	free(set);
}

/* The set of the rules in key (all zero: the fallback, from pushed). */
static struct access_set *
set_build(struct access_policy *pol, const uint64_t key[KEY_WORDS],
	  const struct prefix *pushed, unsigned int n_pushed)
{
	struct access_set *set = calloc(1, sizeof(*set));
	struct entry *e = NULL;
	uint32_t n = n_pushed, r, i;

	if (!set)
		return NULL;
	trie_init(&set->trie);
	memcpy(set->key, key, sizeof(set->key));
	for (r = 0; r < pol->n_rules; r++)
		if (key[r / 64] >> (r % 64) & 1)
			n += pol->rule_n_allows[r];
	e = calloc(n ? n : 1, sizeof(*e));
	if (!e)
		goto err;
	for (n = 0; n < n_pushed; n++) {
		e[n].prefix = pushed[n];
		prefix_mask(&e[n].prefix);
		e[n].rule = NO_RULE;
	}
	for (r = 0; r < pol->n_rules; r++) {
		if (!(key[r / 64] >> (r % 64) & 1))
			continue;
		for (i = 0; i < pol->rule_n_allows[r]; i++, n++) {
			const struct access_allow *a =
				&pol->allows[pol->rule_first_allow[r] + i];

			e[n].prefix = a->prefix;
			e[n].rule = r;
			e[n].first_item = a->first_item;
			e[n].n_items = a->n_items;
		}
	}
	if (fill_set(pol, set, e, n) < 0)
		goto err;
	free(e);
	return set;
err:
	free(e);
	set_free(set);
	return NULL;
}

struct access_policy *
access_policy_new(const struct access_config *cfg, bool client_to_client,
		  const struct prefix *pushed, unsigned int n_pushed,
		  const struct access_policy *old)
{
	static const struct access_config none;
	static const uint64_t fallback_key[KEY_WORDS];
	struct access_policy *pol = calloc(1, sizeof(*pol));

	if (!pol)
		return NULL;
	if (!cfg)
		cfg = &none;
	pol->client_to_client = client_to_client;
	if (old) {
		pol->refused_client = old->refused_client;
		pol->refused_no_rule = old->refused_no_rule;
	}
	if (copy_rules(pol, cfg, old) < 0 || build_members(pol, cfg) < 0)
		goto err;
	pol->fallback = set_build(pol, fallback_key, pushed, n_pushed);
	if (!pol->fallback)
		goto err;
	return pol;
err:
	access_policy_free(pol);
	return NULL;
}

void
access_policy_free(struct access_policy *pol)
{
	struct access_set *set, *next;

	if (!pol)
		return;
	for (set = pol->sets; set; set = next) {
		next = set->next;
		set_free(set);
	}
	if (pol->fallback)
		set_free(pol->fallback);
	free(pol->rules);
	free(pol->rule_first_allow);
	free(pol->rule_n_allows);
	free(pol->allows);
	free(pol->items);
	free(pol->members);
	free(pol);
}

/* ---- sets for users ------------------------------------------------------------- */

/* The rules naming `username` (directly or through a group), as a key;
 * false if none does. */
static bool
key_for(const struct access_policy *pol, const char *username,
	uint64_t key[KEY_WORDS])
{
	size_t lo = 0, hi = pol->n_members;
	bool any = false;

	memset(key, 0, KEY_WORDS * sizeof(*key));
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(pol->members[mid].name, username) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < pol->n_members &&
	       strcmp(pol->members[lo].name, username) == 0;
	     lo++) {
		key[pol->members[lo].rule / 64] |=
			UINT64_C(1) << (pol->members[lo].rule % 64);
		any = true;
	}
	return any;
}

const struct access_set *
access_policy_set_for(struct access_policy *pol, const char *username)
{
	uint64_t key[KEY_WORDS];
	struct access_set *set;

	if (!key_for(pol, username, key))
		return pol->fallback;
	for (set = pol->sets; set; set = set->next)
		if (memcmp(set->key, key, sizeof(key)) == 0)
			return set;
	set = set_build(pol, key, NULL, 0);
	if (!set)
		return NULL;
	set->next = pol->sets;
	pol->sets = set;
	return set;
}

unsigned int
access_policy_n_sets(const struct access_policy *pol)
{
	const struct access_set *set;
	unsigned int n = 1;

	for (set = pol->sets; set; set = set->next)
		n++;
	return n;
}

size_t
access_set_prefixes(const struct access_set *set)
{
	return set->trie.count;
}

/* ---- the packet path -------------------------------------------------------------- */

static bool
item_allows(const struct access_item *it, const struct ippkt *p)
{
	uint8_t want;

	switch (it->proto) {
	case ACCESS_ANY:
		return true;
	case ACCESS_ICMP:
		return p->proto == (p->family == AF_INET ? IPPROTO_ICMP
							 : IPPROTO_ICMPV6);
	case ACCESS_TCP:
	case ACCESS_UDP:
		want = it->proto == ACCESS_TCP ? IPPROTO_TCP : IPPROTO_UDP;
		if (p->proto != want)
			return false;
		/* A later fragment has no ports; its first was judged by
		 * them, and without it the packet is never whole. */
		if (p->is_later_fragment)
			return true;
		if (!p->has_ports)
			return it->lo == 0 && it->hi == 65535;
		return p->dport >= it->lo && p->dport <= it->hi;
	default:
		return false;
	}
}

static bool
node_allows(const struct access_set *set, const struct node *node,
	    const struct ippkt *p)
{
	const struct access_item *it = set->items + node->first_item;
	uint32_t i;

	if (node->allows_all)
		return true;
	for (i = 0; i < node->n_items; i++)
		if (item_allows(&it[i], p))
			return true;
	return false;
}

/*
 * A packet answering what the other side opened (see access.h): a TCP
 * segment but a connection's first SYN; an echo reply, a timestamp reply
 * or an error (destination unreachable, packet too big, time exceeded,
 * parameter problem).
 */
static bool
is_answer(const struct ippkt *p)
{
	if (p->proto == IPPROTO_TCP)
		return p->has_tcp_flags &&
		       (p->tcp_flags & (IPPKT_TCP_SYN | IPPKT_TCP_ACK)) !=
			       IPPKT_TCP_SYN;
	if (!p->has_icmp_type)
		return false;
	if (p->family == AF_INET && p->proto == IPPROTO_ICMP)
		return p->icmp_type == 0 || p->icmp_type == 3 ||
		       p->icmp_type == 11 || p->icmp_type == 12 ||
		       p->icmp_type == 14;
	return p->icmp_type == 129 || (p->icmp_type >= 1 && p->icmp_type <= 4);
}

enum access_verdict
access_check(struct access_policy *pol, const struct access_set *set,
	     bool to_client, const struct ippkt *p)
{
	const struct node *node = NULL;

	if (to_client) {
		if (!pol->client_to_client) {
			pol->refused_client++;
			return ACCESS_REFUSED;
		}
		/* Users no rule names reach other clients too. */
		if (set == pol->fallback)
			return ACCESS_PASS;
	}
	if (set) {
		node = trie_lookup(&set->trie, p->family, p->dst);
		if (node && node_allows(set, node, p))
			return ACCESS_PASS;
	}
	if (is_answer(p))
		return ACCESS_PASS;
	if (node && node->rule)
		node->rule->refused++;
	else
		pol->refused_no_rule++;
	return ACCESS_REFUSED;
}
