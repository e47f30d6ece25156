/* SPDX-License-Identifier: MIT */
/*
 * Access rules: which destinations (prefixes, protocols, ports) a client
 * may reach through vpnd, per user or per group of users (vpnd.conf's
 * `group` and `access` sections), and whether clients may reach each
 * other (client-to-client). In three layers:
 *
 * - struct access_config: the rules as the file states them. config.c
 *   builds it (access_config_add_*), parsing each `allow` entry with
 *   access_allow_parse(): "10.20.0.0/24 tcp/80,443 udp/53 icmp".
 * - struct access_policy: a configuration compiled for the running
 *   server, self-contained (it keeps nothing of the config). For each
 *   combination of rules some admitted user has, one access_set: a trie
 *   (shared/trie.h) from prefix to what may be reached there, each prefix
 *   already holding what the shorter prefixes around it allow, so that one
 *   longest-prefix match answers. Users with the same rules share a set,
 *   built at the first such admission. A user that no rule names gets the
 *   fallback set: everything pushed (the routes, the DNS servers, the
 *   server's tunnel addresses). Each rule counts the packets it refused;
 *   a policy built to replace another takes over its counts by rule name.
 * - access_check(): one packet against a session's set, no allocation.
 *
 * A rule says what a client may open. What it cannot open, it may still
 * answer: a TCP segment other than a connection's first SYN, an echo
 * reply and an ICMP error pass wherever the office reached the client
 * first (rules are stateless, as a router's access list; a connection the
 * client opens to a refused port never gets past its SYN).
 *
 * Pure: no I/O, no clock. Allocates when building, never per packet.
 */
#ifndef VPND_ACCESS_H
#define VPND_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ippkt.h"
#include "login.h"
#include "prefix.h"
#include "trie.h"

#define ACCESS_NAME_MAX 64         /* rule, group and user names */
#define ACCESS_RULES_MAX 256
#define ACCESS_GROUPS_MAX 256
#define ACCESS_ITEMS_MAX 32        /* protocol/port items in one entry */
#define ACCESS_ALLOWS_MAX 65536    /* allow entries of all rules */
#define ACCESS_NAMES_MAX 65536     /* names in all users/groups lists */
#define ACCESS_PUSHED_MAX 96       /* prefixes of the fallback set */

/* The refusals that are not a rule's, counted and shown beside the
 * rules under these names (which no rule may take). */
#define ACCESS_CLIENT_TO_CLIENT "client-to-client"
#define ACCESS_NO_RULE "no-rule"

_Static_assert(ACCESS_NAME_MAX >= LOGIN_USERNAME_MAX,
	       "any user name fits a rule's list");

enum access_proto {
	ACCESS_ANY,  /* every protocol, every port */
	ACCESS_TCP,  /* TCP, destination ports lo-hi */
	ACCESS_UDP,  /* UDP, destination ports lo-hi */
	ACCESS_ICMP, /* ICMP for IPv4, ICMPv6 for IPv6 */
};

struct access_item {
	uint8_t proto; /* enum access_proto */
	uint16_t lo, hi;
};

/* ---- the rules as the file states them ---------------------------------- */

struct access_allow {
	struct prefix prefix;
	uint32_t first_item, n_items; /* in items[]; none: everything */
};

struct access_group_spec {
	char name[ACCESS_NAME_MAX + 1];
	uint32_t first_user, n_users;   /* in names[] */
};

struct access_rule_spec {
	char name[ACCESS_NAME_MAX + 1];
	uint32_t first_user, n_users;   /* in names[] */
	uint32_t first_group, n_groups; /* in names[] */
	uint32_t first_allow, n_allows; /* in allows[] */
};

struct access_config {
	struct access_group_spec *groups;
	struct access_rule_spec *rules;
	char (*names)[ACCESS_NAME_MAX + 1];
	struct access_allow *allows;
	struct access_item *items;
	uint32_t n_groups, n_rules, n_names, n_allows, n_items;
	uint32_t cap_names, cap_allows, cap_items;
};

/* True for a name a rule, group or user may have: 1-64 letters, digits
 * and . _ @ + -, not starting with '-' (vpnctl's user names). */
bool access_name_valid(const char *name);

/*
 * Parses an allow entry: a prefix (or one address), then any number of
 * "tcp", "udp", "icmp", "tcp/PORTS", "udp/PORTS" (PORTS: 80 or
 * 8000-8100, comma-separated), apart by spaces; none means everything.
 * Items go to items[] (room for ACCESS_ITEMS_MAX), their count to
 * *n_items. False with a reason in why (why_len bytes) if malformed.
 */
bool access_allow_parse(const char *text, struct prefix *prefix,
			struct access_item *items, uint32_t *n_items,
			char *why, size_t why_len);

struct access_config *access_config_new(void);
/* NULL is fine. */
void access_config_free(struct access_config *c);

/* Adds a group with its users (names checked by the caller). 0,
 * -E2BIG past a limit, -ENOMEM. */
int access_config_add_group(struct access_config *c, const char *name,
			    const char *const *users, uint32_t n_users)
	__attribute__((warn_unused_result));
/* Adds a rule for users and groups; its allow entries follow. */
int access_config_add_rule(struct access_config *c, const char *name,
			   const char *const *users, uint32_t n_users,
			   const char *const *groups, uint32_t n_groups)
	__attribute__((warn_unused_result));
/* Adds an allow entry (as access_allow_parse() gives it) to the last
 * rule added. 0, -E2BIG, -ENOMEM, -EINVAL (no rule yet). */
int access_config_add_allow(struct access_config *c, const struct prefix *p,
			    const struct access_item *items, uint32_t n_items)
	__attribute__((warn_unused_result));

/* The group named so, or NULL. */
const struct access_group_spec *
access_config_group(const struct access_config *c, const char *name);
/* True if both state the same rules and groups (NULL: none). */
bool access_config_equal(const struct access_config *a,
			 const struct access_config *b);

/* ---- the running policy --------------------------------------------------- */

struct access_rule {
	char name[ACCESS_NAME_MAX + 1];
	uint64_t refused;          /* packets it refused */
};

struct access_set;

struct access_policy {
	struct access_rule *rules; /* the config's, in its order */
	uint32_t n_rules;
	bool client_to_client;
	uint64_t refused_client;   /* to another client's address */
	uint64_t refused_no_rule;  /* no prefix of the set holds it */
	/* What building the sets reads (private to access.c). */
	struct access_allow *allows;
	struct access_item *items;
	uint32_t *rule_first_allow, *rule_n_allows;
	struct access_member *members; /* user -> rule, sorted by user */
	uint32_t n_members;
	struct access_set *fallback;
	struct access_set *sets;   /* built so far, a list */
};

/*
 * Compiles cfg (NULL: no rules) for a server that pushes `pushed`
 * (routes, DNS servers, its own addresses: the fallback set), taking
 * over the counts of `old` (NULL: from zero). NULL if out of memory.
 */
struct access_policy *access_policy_new(const struct access_config *cfg,
					bool client_to_client,
					const struct prefix *pushed,
					unsigned int n_pushed,
					const struct access_policy *old);
/* Frees the policy and its sets; no session may still point at one. */
void access_policy_free(struct access_policy *pol);

/*
 * The set a session of `username` is checked against: the one for the
 * rules naming the user or one of its groups, or the fallback. Built on
 * first use; NULL if out of memory (the caller refuses everything).
 */
const struct access_set *access_policy_set_for(struct access_policy *pol,
					       const char *username);
/* How many sets exist (the fallback included): for tests and status. */
unsigned int access_policy_n_sets(const struct access_policy *pol);
/* Prefixes in a set. */
size_t access_set_prefixes(const struct access_set *set);

enum access_verdict {
	ACCESS_PASS,
	ACCESS_REFUSED, /* counted: drop it, and answer it (reply.h) */
};

/*
 * Checks a packet from a session whose set is `set` (NULL: nothing is
 * allowed). to_client: its destination is another client's (route.h);
 * refused, unless client-to-client, before any rule is asked. Counts
 * what it refuses in pol.
 */
enum access_verdict access_check(struct access_policy *pol,
				 const struct access_set *set, bool to_client,
				 const struct ippkt *pkt);

#endif
