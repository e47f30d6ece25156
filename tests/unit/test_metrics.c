// SPDX-License-Identifier: MIT
/*
 * metrics.c, the Prometheus text, and textfile.c, the file node_exporter
 * reads. The rendered text is held against a checker of the exposition
 * format written here from its rules (names, HELP and TYPE once each and
 * before the samples, a family's samples together, label syntax and
 * escapes, values, no series twice, counters named *_total), and the
 * checker itself is shown to refuse each kind of mistake. The netns test
 * t-metrics.sh runs the real promtool on a live vpnd.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../vpnd/metrics.h"
#include "../../vpnd/textfile.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- a checker of the text exposition format ------------------------------ */

#define MAX_FAMILIES 64
#define MAX_SERIES 512
#define MAX_LABELS 8

struct family {
	char name[128];
	char type[16];
	bool has_help, has_type, has_samples;
};

struct checker {
	struct family fam[MAX_FAMILIES];
	unsigned int n_fam;
	char series[MAX_SERIES][256];
	unsigned int n_series;
	const struct family *current; /* whose samples are being read */
	char why[160];
};

static bool
bad(struct checker *c, const char *line, const char *why)
{
	snprintf(c->why, sizeof(c->why), "%s: %.100s", why, line);
	return false;
}

static bool
is_name_start(char ch)
{
	return isalpha((unsigned char)ch) || ch == '_' || ch == ':';
}

static bool
is_name_char(char ch)
{
	return isalnum((unsigned char)ch) || ch == '_' || ch == ':';
}

/* A metric name at *p, copied to out; advances *p. */
static bool
read_name(const char **p, char *out, size_t cap)
{
	size_t n = 0;

	if (!is_name_start(**p))
		return false;
	while (is_name_char(**p) && n + 1 < cap)
		out[n++] = *(*p)++;
	out[n] = '\0';
	return !is_name_char(**p);
}

static struct family *
family_find(struct checker *c, const char *name, bool create)
{
	unsigned int i;

	for (i = 0; i < c->n_fam; i++)
		if (strcmp(c->fam[i].name, name) == 0)
			return &c->fam[i];
	if (!create || c->n_fam == MAX_FAMILIES)
		return NULL;
	snprintf(c->fam[c->n_fam].name, sizeof(c->fam[0].name), "%s", name);
	return &c->fam[c->n_fam++];
}

/* "# HELP name text" or "# TYPE name type"; other comments pass. */
static bool
check_comment(struct checker *c, const char *line)
{
	static const char *const types[] = { "counter", "gauge", "summary",
					     "histogram", "untyped" };
	bool is_help = strncmp(line, "# HELP ", 7) == 0;
	bool is_type = strncmp(line, "# TYPE ", 7) == 0;
	const char *p = line + 7;
	struct family *f;
	char name[128];
	size_t i;

	if (!is_help && !is_type)
		return true;
	if (!read_name(&p, name, sizeof(name)) || *p != ' ')
		return bad(c, line, "a bad metric name");
	f = family_find(c, name, true);
	if (!f)
		return bad(c, line, "too many families");
	p++;
	if (is_help) {
		if (f->has_help || f->has_type)
			return bad(c, line, "HELP twice, or after TYPE");
		for (; *p; p++)
			if (*p == '\\' && p[1] != '\\' && p[1] != 'n')
				return bad(c, line, "a bad escape in HELP");
			else if (*p == '\\')
				p++;
		f->has_help = true;
		return true;
	}
	if (f->has_type || f->has_samples)
		return bad(c, line, "TYPE twice, or after samples");
	for (i = 0; i < ARRAY_SIZE(types) && strcmp(p, types[i]); i++)
		;
	if (i == ARRAY_SIZE(types))
		return bad(c, line, "an unknown type");
	if (!strcmp(p, "counter") && (strlen(name) < 6 ||
				      strcmp(name + strlen(name) - 6, "_total")))
		return bad(c, line, "a counter not named *_total");
	snprintf(f->type, sizeof(f->type), "%s", p);
	f->has_type = true;
	c->current = f;
	return true;
}

/* The family a sample belongs to: its own name, or a summary's or a
 * histogram's _sum, _count (and _bucket). */
static struct family *
sample_family(struct checker *c, const char *name)
{
	static const char *const suffixes[] = { "_sum", "_count", "_bucket" };
	struct family *f = family_find(c, name, false);
	char base[128];
	size_t i, len = strlen(name), sl;

	if (f)
		return f;
	for (i = 0; i < ARRAY_SIZE(suffixes); i++) {
		sl = strlen(suffixes[i]);
		if (len <= sl || strcmp(name + len - sl, suffixes[i]))
			continue;
		snprintf(base, sizeof(base), "%.*s", (int)(len - sl), name);
		f = family_find(c, base, false);
		if (f && (!strcmp(f->type, "histogram") ||
			  (!strcmp(f->type, "summary") && i < 2)))
			return f;
	}
	return NULL;
}

static int
cmp_label(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* {name="value",...}: names valid and unique, only \\ \" \n escapes. */
static bool
check_labels(struct checker *c, const char *line, const char **pp,
	     char *canon, size_t cap)
{
	char labels[MAX_LABELS][128], name[64];
	const char *p = *pp;
	unsigned int n = 0, i;
	size_t len;

	p++;
	while (*p != '}') {
		if (n == MAX_LABELS)
			return bad(c, line, "too many labels");
		if (!(isalpha((unsigned char)*p) || *p == '_'))
			return bad(c, line, "a bad label name");
		for (len = 0; (isalnum((unsigned char)*p) || *p == '_') &&
			      len + 1 < sizeof(name);
		     p++)
			name[len++] = *p;
		name[len] = '\0';
		if (strncmp(name, "__", 2) == 0 || p[0] != '=' || p[1] != '"')
			return bad(c, line, "a bad label");
		for (i = 0; i < n; i++)
			if (!strncmp(labels[i], name, len) &&
			    labels[i][len] == '=')
				return bad(c, line, "a label twice");
		len = (size_t)snprintf(labels[n], sizeof(labels[n]), "%s=", name);
		for (p += 2; *p != '"'; p++) {
			if (!*p)
				return bad(c, line, "an unterminated value");
			if (*p == '\\' && !strchr("\\\"n", p[1]))
				return bad(c, line, "a bad escape");
			if (*p == '\\')
				p++;
			if (len + 2 < sizeof(labels[n]))
				labels[n][len++] = *p;
		}
		labels[n++][len] = '\0';
		p++;
		if (*p == ',')
			p++;
		else if (*p != '}')
			return bad(c, line, "labels not separated by ','");
	}
	*pp = p + 1;
	qsort(labels, n, sizeof(labels[0]), cmp_label);
	for (i = 0; i < n; i++)
		snprintf(canon + strlen(canon), cap - strlen(canon), "%s%s",
			 i ? "," : "{", labels[i]);
	if (n)
		snprintf(canon + strlen(canon), cap - strlen(canon), "}");
	return true;
}

static bool
check_value(const char *text)
{
	char *end;

	if (!strcmp(text, "+Inf") || !strcmp(text, "-Inf") ||
	    !strcmp(text, "NaN"))
		return true;
	if (!*text || isspace((unsigned char)*text))
		return false;
	errno = 0;
	(void)strtod(text, &end);
	/* An optional timestamp: an integer of milliseconds. */
	if (*end == ' ')
		(void)strtoll(end + 1, &end, 10);
	return *end == '\0' && errno == 0;
}

static bool
check_sample(struct checker *c, const char *line)
{
	const char *p = line;
	char name[128], canon[256];
	struct family *f;
	unsigned int i;

	if (!read_name(&p, name, sizeof(name)))
		return bad(c, line, "a bad metric name");
	f = sample_family(c, name);
	if (!f || !f->has_help || !f->has_type)
		return bad(c, line, "a sample without HELP and TYPE");
	if (f != c->current)
		return bad(c, line, "a family's samples apart");
	snprintf(canon, sizeof(canon), "%s", name);
	if (*p == '{' && !check_labels(c, line, &p, canon, sizeof(canon)))
		return false;
	if (!strcmp(f->type, "summary") && !strcmp(name, f->name) &&
	    !strstr(canon, "quantile="))
		return bad(c, line, "a summary sample neither _sum, _count "
				    "nor a quantile");
	if (*p != ' ' || !check_value(p + 1))
		return bad(c, line, "a bad value");
	for (i = 0; i < c->n_series; i++)
		if (!strcmp(c->series[i], canon))
			return bad(c, line, "a series twice");
	if (c->n_series == MAX_SERIES)
		return bad(c, line, "too many series");
	snprintf(c->series[c->n_series++], sizeof(c->series[0]), "%s", canon);
	f->has_samples = true;
	return true;
}

/* True if text is well-formed exposition text; else c->why says why. */
static bool
check_exposition(struct checker *c, const char *text)
{
	char line[1024];
	const char *p = text, *nl;

	memset(c, 0, sizeof(*c));
	if (!*text || text[strlen(text) - 1] != '\n')
		return bad(c, text, "text not ended by a newline");
	for (; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if ((size_t)(nl - p) >= sizeof(line))
			return bad(c, p, "a line too long");
		memcpy(line, p, (size_t)(nl - p));
		line[nl - p] = '\0';
		if (!line[0])
			return bad(c, line, "an empty line");
		if (line[0] == '#' ? !check_comment(c, line)
				   : !check_sample(c, line))
			return false;
	}
	return true;
}

static void
assert_valid(const char *text)
{
	static struct checker c;

	if (!check_exposition(&c, text))
		fail_msg("%s\nin:\n%s", c.why, text);
}

/* ---- the checker refuses what the format forbids -------------------------- */

#define FAM "# HELP a_total A.\n# TYPE a_total counter\n"

static void
test_checker(void **state)
{
	static const struct {
		const char *text;
		bool ok;
	} v[] = {
		{ FAM "a_total 1\n", true },
		{ FAM "a_total{x=\"1\",y=\"a\\\\b\\\"c\\nd\"} 1.5e3\n", true },
		{ FAM "a_total{x=\"1\",} 1 1700000000000\n", true },
		{ "# a comment\n" FAM "a_total +Inf\n", true },
		{ "# HELP s A.\n# TYPE s summary\ns_sum 1.5\ns_count 2\n",
		  true },
		{ FAM "a_total 1", false },                    /* no newline */
		{ FAM "\na_total 1\n", false },                /* empty line */
		{ "a_total 1\n", false },                      /* no TYPE */
		{ "# TYPE a_total counter\na_total 1\n", false }, /* no HELP */
		{ "# HELP a A.\n# TYPE a counter\na 1\n", false }, /* _total */
		{ FAM "# TYPE a_total counter\na_total 1\n", false },
		{ "# TYPE a_total counter\n# HELP a_total A.\na_total 1\n",
		  false },
		{ "# HELP a_total A.\n# TYPE a_total kounter\na_total 1\n",
		  false },
		{ "# HELP a_total A\\t.\n# TYPE a_total counter\na_total 1\n",
		  false },
		{ FAM "a_total{x=\"a\\tb\"} 1\n", false },      /* \t escape */
		{ FAM "a_total{x=\"a\"b\"} 1\n", false },       /* bare quote */
		{ FAM "a_total{x=\"ab} 1\n", false },
		{ FAM "a_total{x-y=\"1\"} 1\n", false },
		{ FAM "a_total{__x=\"1\"} 1\n", false },
		{ FAM "a_total{x=\"1\",x=\"2\"} 1\n", false },
		{ FAM "a_total{x=\"1\" y=\"2\"} 1\n", false },
		{ FAM "a_total one\n", false },
		{ FAM "a_total  1\n", false },
		{ FAM "a_total\n", false },
		{ FAM "1a_total 1\n", false },
		{ FAM "a_total{x=\"1\"} 1\na_total{x=\"1\"} 2\n", false },
		{ FAM "a_total{x=\"1\",y=\"2\"} 1\na_total{y=\"2\",x=\"1\"} 2\n",
		  false },
		{ FAM "# HELP b A.\n# TYPE b gauge\nb 1\na_total 2\n", false },
		{ "# HELP s A.\n# TYPE s summary\ns 1.5\n", false },
		{ "# HELP s A.\n# TYPE s summary\ns_bucket 1\n", false },
	};
	static struct checker c;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++)
		if (check_exposition(&c, v[i].text) != v[i].ok)
			fail_msg("#%zu %s (%s):\n%s", i,
				 v[i].ok ? "refused" : "accepted", c.why,
				 v[i].text);
}

/* ---- the renderer ---------------------------------------------------------- */

static void
full_snapshot(struct metrics_snapshot *m)
{
	unsigned int i;

	memset(m, 0, sizeof(*m));
	m->version = "0.2";
	m->start_time_s = 1700000000;
	m->sessions[METRICS_STATE_ADMITTED] = 3;
	m->sessions[METRICS_STATE_LOOKUP] = 1;
	m->sessions[METRICS_STATE_LOGIN] = 2;
	m->sessions[METRICS_STATE_HANDSHAKE] = 4;
	m->max_admitted = 1024;
	m->max_pending = 512;
	m->logins[0] = (struct metrics_login){ LOGIN_STATUS_OK, "totp", 10 };
	m->logins[1] = (struct metrics_login){ LOGIN_STATUS_AUTH_FAILED,
					       "bad-password", 5 };
	m->logins[2] = (struct metrics_login){ LOGIN_STATUS_LOCKED,
					       "locked-user", 4 };
	m->logins[3] = (struct metrics_login){ LOGIN_STATUS_LOCKED,
					       "locked-source", 3 };
	m->logins[4] = (struct metrics_login){ LOGIN_STATUS_BUSY,
					       "queue-full", 2 };
	m->logins[5] = (struct metrics_login){ LOGIN_STATUS_POOL_EXHAUSTED,
					       "no-free-address", 1 };
	m->n_logins = 6;
	m->handshakes = 42;
	m->cookie_replies = 7;
	m->evicted = 9;
	m->rx_bytes = 1234567;
	m->tx_bytes = 7654321;
	m->rx_packets = 1000;
	m->tx_packets = 2000;
	for (i = 0; i < METRICS_DROPS; i++)
		m->drops[i] = 100 + i;
	m->login_latency = (struct metrics_latency){ 4, 1500000000, 800000000 };
	m->store_latency = (struct metrics_latency){ 12, 3000001, 2000000 };
	m->logins_queued = 5;
	m->is_store_up = true;
	m->offload = (struct metrics_offload){ true, true, false, 11, 480, 2,
					       30, 900 };
}

static char *
render(const struct metrics_snapshot *m)
{
	size_t len;
	char *text = metrics_render(m, &len);

	assert_non_null(text);
	assert_int_equal(len, strlen(text));
	return text;
}

static void
assert_has(const char *text, const char *line)
{
	if (!strstr(text, line))
		fail_msg("no \"%s\" in:\n%s", line, text);
}

static void
test_render_full(void **state)
{
	static const char *const want[] = {
		"vpnd_info{version=\"0.2\"} 1\n",
		"\nvpnd_start_time_seconds 1700000000\n",
		"\nvpnd_sessions{state=\"admitted\"} 3\n",
		"\nvpnd_sessions{state=\"lookup\"} 1\n",
		"\nvpnd_sessions{state=\"login\"} 2\n",
		"\nvpnd_sessions{state=\"handshake\"} 4\n",
		"\nvpnd_sessions_limit{pool=\"admitted\"} 1024\n",
		"\nvpnd_sessions_limit{pool=\"pending\"} 512\n",
		"\nvpnd_sessions_evicted_total 9\n",
		"\nvpnd_handshakes_total 42\n",
		"\nvpnd_cookie_replies_total 7\n",
		"\nvpnd_offload_enabled{offload=\"tun\"} 1\n",
		"\nvpnd_offload_enabled{offload=\"udp-gso\"} 1\n",
		"\nvpnd_offload_enabled{offload=\"udp-gro\"} 0\n",
		"\nvpnd_tun_super_packets_total 11\n",
		"\nvpnd_tun_segments_total 480\n",
		"\nvpnd_tun_offload_refused_total 2\n",
		"\nvpnd_tun_coalesced_writes_total 30\n",
		"\nvpnd_tun_coalesced_packets_total 900\n",
		"\nvpnd_logins_total{result=\"ok\",reason=\"totp\"} 10\n",
		"\nvpnd_logins_total{result=\"failed\",reason=\"bad-password\"} "
		"5\n",
		"\nvpnd_logins_total{result=\"locked\",reason=\"locked-user\"} 4\n",
		"\nvpnd_logins_total{result=\"busy\",reason=\"queue-full\"} 2\n",
		"\nvpnd_logins_total{result=\"pool-exhausted\","
		"reason=\"no-free-address\"} 1\n",
		"\nvpnd_lockouts_total 7\n",
		"\nvpnd_login_queue_depth 5\n",
		"\nvpnd_login_latency_seconds_sum 1.500000000\n",
		"\nvpnd_login_latency_seconds_count 4\n",
		"\nvpnd_login_latency_max_seconds 0.800000000\n",
		"\nvpnd_store_up 1\n",
		"\nvpnd_store_latency_seconds_sum 0.003000001\n",
		"\nvpnd_store_latency_seconds_count 12\n",
		"\nvpnd_store_latency_max_seconds 0.002000000\n",
		"\nvpnd_received_bytes_total 1234567\n",
		"\nvpnd_sent_bytes_total 7654321\n",
		"\nvpnd_received_packets_total 1000\n",
		"\nvpnd_sent_packets_total 2000\n",
		"\n# TYPE vpnd_login_latency_seconds summary\n",
		"\n# TYPE vpnd_logins_total counter\n",
		"\n# TYPE vpnd_sessions gauge\n",
	};
	struct metrics_snapshot m;
	char line[128], *text;
	unsigned int i;

	(void)state;
	full_snapshot(&m);
	text = render(&m);
	assert_valid(text);
	for (i = 0; i < ARRAY_SIZE(want); i++)
		assert_has(text, want[i]);
	for (i = 0; i < METRICS_DROPS; i++) {
		snprintf(line, sizeof(line),
			 "\nvpnd_dropped_packets_total{reason=\"%s\"} %u\n",
			 metrics_drop_name(i), 100 + i);
		assert_has(text, line);
	}
	free(text);
}

/* Nothing counted yet: every family is there, at zero, and still valid. */
static void
test_render_empty(void **state)
{
	struct metrics_snapshot m;
	char *text, *p;
	unsigned int n = 0;

	(void)state;
	memset(&m, 0, sizeof(m));
	text = render(&m);
	assert_valid(text);
	assert_has(text, "vpnd_info{version=\"\"} 1\n");
	assert_has(text, "\nvpnd_store_up 0\n");
	assert_has(text, "\nvpnd_lockouts_total 0\n");
	assert_has(text, "\n# TYPE vpnd_logins_total counter\n");
	assert_null(strstr(text, "vpnd_logins_total{"));
	for (p = text; (p = strstr(p, "\nvpnd_dropped_packets_total{")); p++)
		n++;
	assert_int_equal(n, METRICS_DROPS);
	free(text);
}

/* Backslash, quote and newline escaped as the format says; what a
 * terminal would act on, and invalid UTF-8, made harmless. */
static void
test_label_escaping(void **state)
{
	static const struct {
		const char *reason, *want;
	} v[] = {
		{ "a\"b", "reason=\"a\\\"b\"" },
		{ "a\\b", "reason=\"a\\\\b\"" },
		{ "a\nb", "reason=\"a\\nb\"" },
		{ "\\n", "reason=\"\\\\n\"" },
		{ "\"\\\n", "reason=\"\\\"\\\\\\n\"" },
		{ "esc\x1b[2J", "reason=\"esc?[2J\"" },
		{ "tab\there\r", "reason=\"tab?here?\"" },
		{ "del\x7f", "reason=\"del?\"" },
		{ "caf\xc3\xa9", "reason=\"caf\xc3\xa9\"" },
		{ "bad\xff\xc3\xa9", "reason=\"bad???\"" },
		{ "{x=\"1\"} 2", "reason=\"{x=\\\"1\\\"} 2\"" },
		{ "", "reason=\"\"" },
	};
	struct metrics_snapshot m;
	char *text;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		memset(&m, 0, sizeof(m));
		m.logins[0] = (struct metrics_login){ LOGIN_STATUS_OK,
						      v[i].reason, 1 };
		m.n_logins = 1;
		m.version = v[i].reason;
		text = render(&m);
		assert_valid(text);
		assert_has(text, v[i].want);
		free(text);
	}
}

/* The same result and reason twice (NULL and "" are the same reason)
 * make one series with the sum: a series twice would be refused. */
static void
test_logins_merged(void **state)
{
	struct metrics_snapshot m;
	char *text;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.logins[0] = (struct metrics_login){ LOGIN_STATUS_AUTH_FAILED,
					      "bad-code", 2 };
	m.logins[1] = (struct metrics_login){ LOGIN_STATUS_OK, NULL, 1 };
	m.logins[2] = (struct metrics_login){ LOGIN_STATUS_AUTH_FAILED,
					      "bad-code", 3 };
	m.logins[3] = (struct metrics_login){ LOGIN_STATUS_OK, "", 4 };
	m.logins[4] = (struct metrics_login){ LOGIN_STATUS_LOCKED, "x", 6 };
	m.logins[5] = (struct metrics_login){ LOGIN_STATUS_LOCKED, "x", 1 };
	m.n_logins = 6;
	text = render(&m);
	assert_valid(text);
	assert_has(text, "{result=\"failed\",reason=\"bad-code\"} 5\n");
	assert_has(text, "{result=\"ok\",reason=\"\"} 5\n");
	assert_has(text, "{result=\"locked\",reason=\"x\"} 7\n");
	assert_has(text, "\nvpnd_lockouts_total 7\n");
	free(text);
	/* More kinds than a snapshot holds are not read. */
	m.n_logins = 1000;
	text = render(&m);
	assert_valid(text);
	free(text);
}

static void
test_drop_names(void **state)
{
	unsigned int i, j;
	const char *n;

	(void)state;
	for (i = 0; i < METRICS_DROPS; i++) {
		n = metrics_drop_name(i);
		assert_non_null(n);
		assert_true(n[0] && strspn(n, "abcdefghijklmnopqrstuvwxyz-") ==
					    strlen(n));
		for (j = 0; j < i; j++)
			assert_string_not_equal(n, metrics_drop_name(j));
	}
	assert_string_equal(metrics_drop_name(METRICS_DROPS), "unknown");
}

/* Counters are exact at any size: no float on the way. */
static void
test_big_values(void **state)
{
	struct metrics_snapshot m;
	char *text;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.rx_bytes = UINT64_MAX;
	m.store_latency.sum_ns = UINT64_MAX;
	text = render(&m);
	assert_valid(text);
	assert_has(text, "\nvpnd_received_bytes_total 18446744073709551615\n");
	assert_has(text,
		   "\nvpnd_store_latency_seconds_sum 18446744073.709551615\n");
	free(text);
}

/* ---- the textfile ------------------------------------------------------------ */

struct dir {
	char path[64];
	char file[128];
};

static int
dir_setup(void **state)
{
	static struct dir d;

	snprintf(d.path, sizeof(d.path), "/tmp/test_metrics.XXXXXX");
	assert_non_null(mkdtemp(d.path));
	snprintf(d.file, sizeof(d.file), "%s/vpnd.prom", d.path);
	*state = &d;
	return 0;
}

static int
dir_teardown(void **state)
{
	struct dir *d = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->path);
	return system(cmd) == 0 ? 0 : -1;
}

static unsigned int
dir_entries(const char *path)
{
	DIR *dir = opendir(path);
	struct dirent *e;
	unsigned int n = 0;

	assert_non_null(dir);
	while ((e = readdir(dir)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(dir);
	return n;
}

/* The file's whole content, or "" if it cannot be read. */
static char *
slurp(const char *path, char *out, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;

	if (f) {
		n = fread(out, 1, cap - 1, f);
		fclose(f);
	}
	out[n] = '\0';
	return out;
}

static void
test_textfile_write(void **state)
{
	struct dir *d = *state;
	char buf[256], missing[160];
	struct stat st;

	assert_int_equal(textfile_write(d->file, "first text\n", 11), 0);
	assert_string_equal(slurp(d->file, buf, sizeof(buf)), "first text\n");
	assert_int_equal(stat(d->file, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	/* Replaced whole by a shorter one; no temporary file stays. */
	assert_int_equal(textfile_write(d->file, "2\n", 2), 0);
	assert_string_equal(slurp(d->file, buf, sizeof(buf)), "2\n");
	assert_int_equal(dir_entries(d->path), 1);
	/* A directory that is not there: an error, and nothing made. */
	snprintf(missing, sizeof(missing), "%s/nope/vpnd.prom", d->path);
	assert_int_equal(textfile_write(missing, "x\n", 2), -ENOENT);
	assert_int_equal(dir_entries(d->path), 1);
}

/* Polls (bounded) until path holds want. */
static bool
wait_content(const char *path, const char *want)
{
	struct timespec ms = { 0, 1000000 };
	char buf[256];
	int i;

	for (i = 0; i < 5000; i++) {
		if (!strcmp(slurp(path, buf, sizeof(buf)), want))
			return true;
		nanosleep(&ms, NULL);
	}
	return false;
}

static void
test_textfile_thread(void **state)
{
	struct dir *d = *state;
	struct textfile *t;
	int i;

	assert_int_equal(textfile_start(&t, d->file), 0);
	textfile_post(t, strdup("one\n"), 4);
	assert_true(wait_content(d->file, "one\n"));
	/* Posted faster than written: the newest one ends up there. */
	for (i = 0; i < 100; i++)
		textfile_post(t, strdup(i < 99 ? "old\n" : "newest\n"),
			      i < 99 ? 4 : 7);
	assert_true(wait_content(d->file, "newest\n"));
	assert_int_equal(dir_entries(d->path), 1);
	/* Stopping removes the file: node_exporter stops reporting it. */
	textfile_stop(t);
	assert_int_equal(access(d->file, F_OK), -1);
	assert_int_equal(dir_entries(d->path), 0);
	textfile_stop(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checker),
		cmocka_unit_test(test_render_full),
		cmocka_unit_test(test_render_empty),
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_logins_merged),
		cmocka_unit_test(test_drop_names),
		cmocka_unit_test(test_big_values),
		cmocka_unit_test_setup_teardown(test_textfile_write, dir_setup,
						dir_teardown),
		cmocka_unit_test_setup_teardown(test_textfile_thread, dir_setup,
						dir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
