// SPDX-License-Identifier: MIT
/*
 * Helpers for the libconfuse schemas (see conf.h): reading the file, value
 * callbacks that validate and remember lines, numbers with ranges, and
 * messages of the form "file:line: option: value: problem". This file
 * knows no option of either program; the schemas live in vpnd/config.c
 * and vpnc/config.c. It never exits, and it never prints key material.
 *
 * libconfuse 3.3 counts the newline ending a comment three times, so every
 * line number after the first comment would be wrong. We blank comments
 * out ourselves (keeping the newlines) before libconfuse sees the text, so
 * it only ever parses comment-free input and its line count holds.
 */
#include "conf.h"

#include <confuse.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "aead.h"
#include "keyfile.h"

/*
 * libconfuse gives callbacks no argument of ours, so conf_parse() says
 * here where lines go. Like libconfuse's own lexer, parsing is therefore
 * for one thread at a time (vpnd parses at start-up and on SIGHUP only).
 */
static struct {
	struct conf_lines *lines;
	cfg_opt_t *schema;
	bool failed;
} parsing;

/* The longest duration we take: 2^32 seconds, about 136 years. */
#define DURATION_MAX_MS ((uint64_t)UINT32_MAX * 1000)

/* ---- reading the file -------------------------------------------------- */

static int
read_file(const char *path, char **buf_out, size_t *len_out)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	ssize_t r;
	int fd, ret = 0;

	/* O_NONBLOCK: a FIFO must be refused below, not wait for a writer
	 * (it does nothing to a regular file). */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		goto out;
	}
	buf = malloc(CONF_MAX_FILE_LEN + 1);
	if (!buf) {
		ret = -ENOMEM;
		goto out;
	}
	while (len <= CONF_MAX_FILE_LEN) {
		r = read(fd, buf + len, CONF_MAX_FILE_LEN + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			ret = r < 0 ? -errno : 0;
			break;
		}
		len += (size_t)r;
	}
	if (!ret && len > CONF_MAX_FILE_LEN)
		ret = -EFBIG;
out:
	close(fd);
	if (ret < 0) {
		free(buf);
		return ret;
	}
	*buf_out = buf;
	*len_out = len;
	return 0;
}

enum scan {
	SCAN_TEXT,
	SCAN_DQ,    /* "..." with backslash escapes */
	SCAN_SQ,    /* '...' where only \\ and \' are escapes */
	SCAN_LINE,  /* # or // to the end of the line */
	SCAN_BLOCK, /* slash-star to star-slash */
};

/* As libconfuse's lexer: "//" and slash-star start comments only where a
 * token may start, so "a/b" stays a value. */
static bool
at_token_start(const char *buf, size_t i)
{
	return i == 0 || strchr(" \t\r\n={}(),+", buf[i - 1]) != NULL;
}

static enum scan
scan_text(char *buf, size_t len, size_t *i)
{
	char c = buf[*i], next = *i + 1 < len ? buf[*i + 1] : '\0';

	if (c == '"')
		return SCAN_DQ;
	if (c == '\'')
		return SCAN_SQ;
	if (c == '#') {
		buf[*i] = ' ';
		return SCAN_LINE;
	}
	if (c == '/' && (next == '/' || next == '*') &&
	    at_token_start(buf, *i)) {
		buf[*i] = buf[*i + 1] = ' ';
		(*i)++;
		return next == '/' ? SCAN_LINE : SCAN_BLOCK;
	}
	return SCAN_TEXT;
}

static enum scan
scan_step(enum scan s, char *buf, size_t len, size_t *i)
{
	char c = buf[*i], next = *i + 1 < len ? buf[*i + 1] : '\0';

	switch (s) {
	case SCAN_DQ:
		if (c == '\\' && next)
			(*i)++;
		return c == '"' ? SCAN_TEXT : s;
	case SCAN_SQ:
		if (c == '\\' && (next == '\\' || next == '\''))
			(*i)++;
		return c == '\'' ? SCAN_TEXT : s;
	case SCAN_LINE:
		if (c == '\n')
			return SCAN_TEXT;
		buf[*i] = ' ';
		return s;
	case SCAN_BLOCK:
		if (c == '*' && next == '/') {
			buf[*i] = buf[*i + 1] = ' ';
			(*i)++;
			return SCAN_TEXT;
		}
		if (c != '\n')
			buf[*i] = ' ';
		return s;
	default:
		return scan_text(buf, len, i);
	}
}

/*
 * Blanks out comments, keeping every newline; false after printing if a
 * block comment or a quoted string never ends: libconfuse takes a
 * double-quoted string still open at the end of the file for the end of
 * the file, and would ignore everything after the quote without a word.
 */
static bool
strip_comments(const char *path, char *buf, size_t len)
{
	enum scan s = SCAN_TEXT, was;
	size_t i, start = 0;
	int line = 1;

	for (i = 0; i < len; i++) {
		was = s;
		s = scan_step(s, buf, len, &i);
		if (s != SCAN_TEXT && was == SCAN_TEXT)
			start = i;
	}
	if (s != SCAN_BLOCK && s != SCAN_DQ && s != SCAN_SQ)
		return true;
	for (i = 0; i < start; i++)
		line += buf[i] == '\n';
	if (s == SCAN_BLOCK)
		fprintf(stderr, "%s:%d: a /* comment that never ends\n", path,
			line);
	else
		fprintf(stderr, "%s:%d: a quoted string that never ends\n",
			path, line);
	return false;
}

/* ---- lines and messages ------------------------------------------------ */

static void
print_error(cfg_t *cfg, const char *fmt, va_list ap)
{
	const char *file = cfg->filename ? cfg->filename : "?";

	if (cfg->line > 0)
		fprintf(stderr, "%s:%d: ", file, cfg->line);
	else
		fprintf(stderr, "%s: ", file);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

/* The schema's own copy of a name: libconfuse frees its copy in cfg_free. */
static const char *
schema_name(const char *name)
{
	cfg_opt_t *o;

	for (o = parsing.schema; o && o->name; o++)
		if (strcmp(o->name, name) == 0)
			return o->name;
	return NULL;
}

static void
record(cfg_t *cfg, cfg_opt_t *opt)
{
	struct conf_lines *lines = parsing.lines;
	const char *name = schema_name(opt->name);
	/* libconfuse has added the slot for this value before calling us. */
	unsigned int index = opt->nvalues ? opt->nvalues - 1 : 0, i;

	if (!lines || !name)
		return;
	for (i = 0; i < lines->n; i++) {
		if (lines->seen[i].option == name &&
		    lines->seen[i].index == index) {
			lines->seen[i].line = cfg->line;
			return;
		}
	}
	if (lines->n == CONF_MAX_SEEN)
		return;
	lines->seen[lines->n].option = name;
	lines->seen[lines->n].index = index;
	lines->seen[lines->n].line = cfg->line;
	lines->n++;
}

int
conf_line_n(const struct conf_lines *lines, const char *option,
	    unsigned int index)
{
	unsigned int i;

	for (i = 0; i < lines->n; i++)
		if (lines->seen[i].index == index &&
		    strcmp(lines->seen[i].option, option) == 0)
			return lines->seen[i].line;
	return 0;
}

int
conf_line(const struct conf_lines *lines, const char *option)
{
	return conf_line_n(lines, option, 0);
}

static void
vprint_at(const char *file, int line, const char *option, const char *fmt,
	  va_list ap)
{
	if (line > 0)
		fprintf(stderr, "%s:%d: %s: ", file, line, option);
	else
		fprintf(stderr, "%s: %s: ", file, option);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

bool
conf_error(const struct conf_lines *lines, const char *option,
	   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint_at(lines->file, conf_line(lines, option), option, fmt, ap);
	va_end(ap);
	return false;
}

bool
conf_error_n(const struct conf_lines *lines, const char *option,
	     unsigned int index, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint_at(lines->file, conf_line_n(lines, option, index), option, fmt,
		  ap);
	va_end(ap);
	return false;
}

int
conf_value_error(cfg_t *cfg, cfg_opt_t *opt, void *result, const char *fmt,
		 ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint_at(cfg->filename ? cfg->filename : "?", cfg->line, opt->name,
		  fmt, ap);
	va_end(ap);
	parsing.failed = true;
	/* libconfuse stops at a NULL string; the cfg_t is thrown away. */
	if (opt->type == CFGT_STR)
		*(const char **)result = "";
	else if (opt->type == CFGT_INT)
		*(long *)result = 0;
	return 0;
}

/* ---- parsing ----------------------------------------------------------- */

static int
parse_buffer(cfg_t *cfg, char *buf, size_t len, struct conf_lines *lines,
	     cfg_opt_t *opts)
{
	FILE *fp;
	int ret;

	/* Old glibc refuses fmemopen() of nothing; nothing is a valid file. */
	if (len == 0)
		return CFG_SUCCESS;
	fp = fmemopen(buf, len, "r");
	if (!fp)
		return CFG_FILE_ERROR;
	parsing.lines = lines;
	parsing.schema = opts;
	parsing.failed = false;
	ret = cfg_parse_fp(cfg, fp);
	if (ret == CFG_SUCCESS && parsing.failed)
		ret = CFG_PARSE_ERROR;
	parsing.lines = NULL;
	parsing.schema = NULL;
	fclose(fp);
	return ret;
}

static cfg_t *
new_cfg(const char *path, cfg_opt_t *opts)
{
	cfg_t *cfg = cfg_init(opts, CFGF_NONE);

	if (cfg)
		cfg->filename = strdup(path);
	if (!cfg || !cfg->filename) {
		fprintf(stderr, "%s: out of memory\n", path);
		if (cfg)
			cfg_free(cfg);
		return NULL;
	}
	cfg_set_error_function(cfg, print_error);
	return cfg;
}

static conf_reader_fn reader;

void
conf_set_reader(conf_reader_fn fn)
{
	reader = fn;
}

cfg_t *
conf_parse(const char *path, cfg_opt_t *opts, struct conf_lines *lines)
{
	cfg_t *cfg = NULL;
	char *buf = NULL;
	size_t len = 0;
	int ret;

	snprintf(lines->file, sizeof(lines->file), "%s", path);
	lines->n = 0;
	ret = reader ? reader(path, &buf, &len) : read_file(path, &buf, &len);
	if (ret < 0) {
		fprintf(stderr, "%s: cannot read: %s\n", path,
			ret == -EINVAL ? "not a regular file" : strerror(-ret));
		goto out;
	}
	if (memchr(buf, '\0', len)) {
		fprintf(stderr, "%s: holds a NUL byte: not a text file\n",
			path);
		goto out;
	}
	if (!strip_comments(path, buf, len))
		goto out;
	cfg = new_cfg(path, opts);
	if (!cfg)
		goto out;
	ret = parse_buffer(cfg, buf, len, lines, opts);
	if (ret == CFG_FILE_ERROR)
		fprintf(stderr, "%s: cannot parse: %s\n", path,
			strerror(errno));
	if (ret != CFG_SUCCESS) {
		cfg_free(cfg);
		cfg = NULL;
	}
out:
	free(buf);
	return cfg;
}

/* ---- numbers and durations --------------------------------------------- */

/* Decimal digits only: no sign, no space, no base prefix. */
static bool
parse_count(const char *text, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = text;

	if (*p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (max - (uint64_t)(*p - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (*p)
		return false;
	*out = v;
	return true;
}

static const struct {
	const char *suffix;
	uint64_t ms;
} units[] = {
	{ "d", 86400000 }, { "h", 3600000 }, { "m", 60000 },
	{ "s", 1000 },     { "ms", 1 },      { "", 1000 },
};

bool
conf_parse_duration_ms(const char *text, uint64_t *ms)
{
	const char *p = text;
	uint64_t v;
	char digits[24];
	size_t n, i;

	while (*p >= '0' && *p <= '9')
		p++;
	n = (size_t)(p - text);
	if (n == 0 || n >= sizeof(digits))
		return false;
	memcpy(digits, text, n);
	digits[n] = '\0';
	if (!parse_count(digits, DURATION_MAX_MS, &v))
		return false;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(p, units[i].suffix) != 0)
			continue;
		if (v > DURATION_MAX_MS / units[i].ms)
			return false;
		*ms = v * units[i].ms;
		return true;
	}
	return false;
}

char *
conf_format_duration(uint64_t ms, char out[32])
{
	size_t i;

	for (i = 0; ms && i < sizeof(units) / sizeof(units[0]) - 1; i++)
		if (ms % units[i].ms == 0)
			break;
	if (ms == 0)
		snprintf(out, 32, "0");
	else
		snprintf(out, 32, "%llu%s",
			 (unsigned long long)(ms / units[i].ms),
			 units[i].suffix);
	return out;
}

static char *
format_number(const struct conf_number *n, uint64_t v, char out[32])
{
	if (n->unit_ms == 0) {
		snprintf(out, 32, "%llu", (unsigned long long)v);
		return out;
	}
	return conf_format_duration(v * n->unit_ms, out);
}

const struct conf_number *
conf_number_find(const struct conf_number *table, const char *option)
{
	for (; table->option; table++)
		if (strcmp(table->option, option) == 0)
			return table;
	return NULL;
}

int
conf_number_parse(cfg_t *cfg, cfg_opt_t *opt, const char *value,
		  void *result, const struct conf_number *n)
{
	char lo[32], hi[32];
	uint64_t v;

	if (!n)
		return conf_value_error(cfg, opt, result,
					"no range for this option (a bug)");
	if (n->unit_ms == 0 && !parse_count(value, LONG_MAX, &v))
		return conf_value_error(cfg, opt, result,
					"%s is not a whole number", value);
	if (n->unit_ms && !conf_parse_duration_ms(value, &v))
		return conf_value_error(cfg, opt, result,
					"%s is not a duration (such as 90, "
					"90s, 500ms, 15m, 12h or 1d)", value);
	if (n->unit_ms && v % n->unit_ms)
		return conf_value_error(cfg, opt, result,
					"%s is not a multiple of %s", value,
					conf_format_duration(n->unit_ms, lo));
	if (n->unit_ms)
		v /= n->unit_ms;
	if (v < n->min || v > n->max)
		return conf_value_error(cfg, opt, result,
					"%s is out of range (%s-%s)", value,
					format_number(n, n->min, lo),
					format_number(n, n->max, hi));
	*(long *)result = (long)v;
	record(cfg, opt);
	return 0;
}

int
conf_number_or_auto_parse(cfg_t *cfg, cfg_opt_t *opt, const char *value,
			  void *result, const struct conf_number *n)
{
	if (strcmp(value, "auto") == 0) {
		*(long *)result = 0;
		record(cfg, opt);
		return 0;
	}
	if (n && n->unit_ms == 0 &&
	    (!*value || strspn(value, "0123456789") != strlen(value)))
		return conf_value_error(cfg, opt, result,
					"%s is neither \"auto\" nor a whole "
					"number", value);
	return conf_number_parse(cfg, opt, value, result, n);
}

static void
field_store(void *base, const struct conf_number *n, uint64_t v)
{
	uint8_t *p = (uint8_t *)base + n->offset;
	uint8_t v8 = (uint8_t)v;
	uint16_t v16 = (uint16_t)v;
	uint32_t v32 = (uint32_t)v;

	if (n->size == 1)
		memcpy(p, &v8, 1);
	else if (n->size == 2)
		memcpy(p, &v16, 2);
	else if (n->size == 4)
		memcpy(p, &v32, 4);
	else if (n->size == 8)
		memcpy(p, &v, 8);
}

static uint64_t
field_load(const void *base, const struct conf_number *n)
{
	const uint8_t *p = (const uint8_t *)base + n->offset;
	uint8_t v8 = 0;
	uint16_t v16 = 0;
	uint32_t v32 = 0;
	uint64_t v = 0;

	switch (n->size) {
	case 1:
		memcpy(&v8, p, 1);
		return v8;
	case 2:
		memcpy(&v16, p, 2);
		return v16;
	case 4:
		memcpy(&v32, p, 4);
		return v32;
	case 8:
		memcpy(&v, p, 8);
		return v;
	}
	return v;
}

void
conf_numbers_copy(cfg_t *cfg, const struct conf_number *table, void *base)
{
	for (; table->option; table++)
		if (cfg_size(cfg, table->option) > 0)
			field_store(base, table,
				    (uint64_t)cfg_getint(cfg, table->option));
}

bool
conf_numbers_check(const struct conf_lines *lines,
		   const struct conf_number *table, const void *base)
{
	char v_text[32], lo[32], hi[32];
	bool ok = true;
	uint64_t v;

	for (; table->option; table++) {
		v = field_load(base, table);
		if (v >= table->min && v <= table->max)
			continue;
		ok = conf_error(lines, table->option,
				"%s is out of range (%s-%s)",
				format_number(table, v, v_text),
				format_number(table, table->min, lo),
				format_number(table, table->max, hi));
	}
	return ok;
}

/* ---- value callbacks --------------------------------------------------- */

int
conf_cb_string(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	*(const char **)result = value;
	record(cfg, opt);
	return 0;
}

int
conf_cb_duration(cfg_t *cfg, cfg_opt_t *opt, const char *value,
		 void *result)
{
	static const struct conf_number any = {
		.option = "", .max = DURATION_MAX_MS, .unit_ms = 1,
	};

	return conf_number_parse(cfg, opt, value, result, &any);
}

int
conf_cb_port(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	static const struct conf_number port = {
		.option = "", .min = 1, .max = 65535,
	};

	return conf_number_parse(cfg, opt, value, result, &port);
}

int
conf_cb_prefix(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	struct prefix p;

	if (!prefix_parse(value, &p))
		return conf_value_error(cfg, opt, result,
					"%s is not an address prefix (such as "
					"10.20.0.0/24 or fd00::/64)", value);
	return conf_cb_string(cfg, opt, value, result);
}

int
conf_cb_address(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	uint8_t addr[16];
	int family;

	if (!prefix_parse_addr(value, &family, addr))
		return conf_value_error(cfg, opt, result,
					"%s is not an IP address", value);
	return conf_cb_string(cfg, opt, value, result);
}

int
conf_cb_path(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	if (!*value)
		return conf_value_error(cfg, opt, result,
					"the file name is empty");
	if (strlen(value) >= PATH_MAX)
		return conf_value_error(cfg, opt, result,
					"the file name is too long");
	if (strchr(value, '\n'))
		return conf_value_error(cfg, opt, result,
					"the file name holds a newline");
	return conf_cb_string(cfg, opt, value, result);
}

/* The kernel's dev_valid_name(), plus: "%" only as one "%d". */
static bool
ifname_valid(const char *name)
{
	const char *pct = strchr(name, '%');
	size_t len = strlen(name);

	if (len == 0 || len >= IFNAMSIZ)
		return false;
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	if (strpbrk(name, "/: \t\r\n\v\f"))
		return false;
	if (pct && (pct[1] != 'd' || strchr(pct + 1, '%')))
		return false;
	return true;
}

int
conf_cb_ifname(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	if (!ifname_valid(value))
		return conf_value_error(cfg, opt, result,
					"%s is not an interface name (1-15 "
					"characters, no '/', ':' or space)",
					value);
	return conf_cb_string(cfg, opt, value, result);
}

int
conf_cb_yes_no(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	if (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0)
		return conf_value_error(cfg, opt, result, "%s is not yes or no",
					value);
	return conf_cb_string(cfg, opt, value, result);
}

int
conf_cb_aead(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	enum aead_backend b;

	if (!aead_backend_parse(value, &b))
		return conf_value_error(cfg, opt, result,
					"%s is not auto, openssl or libsodium",
					value);
	return conf_cb_string(cfg, opt, value, result);
}

int
conf_cb_log(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	if (strcmp(value, "stderr") != 0 && strcmp(value, "syslog") != 0)
		return conf_value_error(cfg, opt, result,
					"%s is neither stderr nor syslog",
					value);
	return conf_cb_string(cfg, opt, value, result);
}

int
conf_log_level(const char *name)
{
	static const struct {
		const char *name;
		int level;
	} levels[] = {
		{ "err", LOG_ERR },         { "error", LOG_ERR },
		{ "warning", LOG_WARNING }, { "notice", LOG_NOTICE },
		{ "info", LOG_INFO },       { "debug", LOG_DEBUG },
	};
	size_t i;

	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcmp(name, levels[i].name) == 0)
			return levels[i].level;
	return -1;
}

int
conf_cb_log_level(cfg_t *cfg, cfg_opt_t *opt, const char *value,
		  void *result)
{
	if (conf_log_level(value) < 0)
		return conf_value_error(cfg, opt, result,
					"%s is not a log level (err, warning, "
					"notice, info or debug)", value);
	return conf_cb_string(cfg, opt, value, result);
}

/* ---- after parsing ----------------------------------------------------- */

bool
conf_copy_string(cfg_t *cfg, const struct conf_lines *lines,
		 const char *option, char *out, size_t out_len)
{
	const char *s;

	if (cfg_size(cfg, option) == 0)
		return true;
	s = cfg_getstr(cfg, option);
	if (strlen(s) >= out_len)
		return conf_error(lines, option, "%s is too long (at most %zu "
				  "bytes)", s, out_len - 1);
	memcpy(out, s, strlen(s) + 1);
	return true;
}

bool
conf_path_resolve(const char *conf_path, const char *path,
		  char out[PATH_MAX])
{
	const char *slash = strrchr(conf_path, '/');
	int n;

	if (path[0] == '/' || !slash)
		n = snprintf(out, PATH_MAX, "%s", path);
	else
		n = snprintf(out, PATH_MAX, "%.*s/%s",
			     (int)(slash - conf_path), conf_path, path);
	return n >= 0 && n < PATH_MAX;
}

bool
conf_key_load(const struct conf_lines *lines, const char *option,
	      const char *path, bool is_secret, uint8_t key[KEY_LEN])
{
	char err[PATH_MAX + 256];

	if (keyfile_read(path, is_secret, key, err, sizeof(err)) < 0)
		return conf_error(lines, option, "%s", err);
	return true;
}
