/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the libconfuse schemas in vpnd/config.c and vpnc/config.c:
 * value parsers that print "file:line: option: value: problem" and keep the
 * line of every option they saw, so cross-field checks made after parsing
 * can still name the line. Nothing outside the config modules sees a cfg_t.
 */
#ifndef VPN_CONF_H
#define VPN_CONF_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "prefix.h"

/* libconfuse's types, without its header: only the config modules (and
 * this file) include <confuse.h>. */
typedef struct cfg_t cfg_t;
typedef struct cfg_opt_t cfg_opt_t;

#define CONF_MAX_SEEN 256
#define CONF_MAX_FILE_LEN (1024 * 1024)

/*
 * Where each value was last set; line 0: not in the file (a default). A
 * list option has one entry per element (index); a scalar has index 0.
 * `option` points at the name in the schema given to conf_parse(), so the
 * schema's names must outlive this (string literals do).
 */
struct conf_lines {
	char file[PATH_MAX];
	struct {
		const char *option;
		unsigned int index;
		int line;
	} seen[CONF_MAX_SEEN];
	unsigned int n;
};

/*
 * Parses `path` with `opts` into a new cfg_t, installing an error function
 * that prints "file:line: message" on stderr and the value callbacks below.
 * Every option should use a callback from this
 * file (or one that ends in conf_cb_string()), since that is what records
 * lines. Returns NULL after printing the problem.
 */
cfg_t *conf_parse(const char *path, cfg_opt_t *opts, struct conf_lines *lines);

/* Reads a whole configuration file: malloc'd bytes and their count (at
 * most CONF_MAX_FILE_LEN). 0 or -errno. */
typedef int (*conf_reader_fn)(const char *path, char **buf, size_t *len);
/* Makes conf_parse() read files through `fn` (NULL: by itself): for a
 * program that can no longer read its own configuration once confined. */
void conf_set_reader(conf_reader_fn fn);

/* The line where `option` (element 0 of a list) was set, or 0. */
int conf_line(const struct conf_lines *lines, const char *option);
/* The line of element `index` of a list option, or 0. */
int conf_line_n(const struct conf_lines *lines, const char *option,
		unsigned int index);

/* Prints "file:line: option: message" (or "file: option: ..." without a
 * line) on stderr; always returns false, for `return conf_error(...)`. */
bool conf_error(const struct conf_lines *lines, const char *option,
		const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The same for element `index` of a list option. */
bool conf_error_n(const struct conf_lines *lines, const char *option,
		  unsigned int index, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * For value callbacks: prints "file:line: option: message" for the value
 * being parsed, and marks the parse as failed. Parsing goes on, so one run
 * reports every bad value; conf_parse() then returns NULL. Fills `result`
 * with a placeholder and returns what the callback should return, for
 * `return conf_value_error(cfg, opt, result, ...)`.
 */
int conf_value_error(cfg_t *cfg, cfg_opt_t *opt, void *result,
		     const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * Value callbacks for cfg_opt_t parsecb: each validates and records the
 * option's line. Durations accept "90", "90s", "500ms", "15m", "12h", "1d";
 * the result is milliseconds in a long. Ports 1-65535. Prefixes and
 * addresses are validated as text and stay strings in the cfg_t.
 */
int conf_cb_duration(cfg_t *cfg, cfg_opt_t *opt, const char *value,
		     void *result);
int conf_cb_port(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result);
int conf_cb_prefix(cfg_t *cfg, cfg_opt_t *opt, const char *value,
		   void *result);
int conf_cb_address(cfg_t *cfg, cfg_opt_t *opt, const char *value,
		    void *result);
int conf_cb_string(cfg_t *cfg, cfg_opt_t *opt, const char *value,
		   void *result);
/* A file name: not empty, shorter than PATH_MAX. */
int conf_cb_path(cfg_t *cfg, cfg_opt_t *opt, const char *value,
		 void *result);
/* A network interface name the kernel accepts ("%d" included). */
int conf_cb_ifname(cfg_t *cfg, cfg_opt_t *opt, const char *value,
		   void *result);
/* "yes" or "no", nothing else. */
int conf_cb_yes_no(cfg_t *cfg, cfg_opt_t *opt, const char *value,
		   void *result);
/* A transport AEAD backend: "auto", "openssl" or "libsodium" (aead.h). */
int conf_cb_aead(cfg_t *cfg, cfg_opt_t *opt, const char *value,
		 void *result);
/* "stderr" or "syslog". */
int conf_cb_log(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result);
/* A syslog level name: "err", "warning", "notice", "info", "debug". */
int conf_cb_log_level(cfg_t *cfg, cfg_opt_t *opt, const char *value,
		      void *result);

/* Parses a duration as above into milliseconds; false if malformed. */
bool conf_parse_duration_ms(const char *text, uint64_t *ms);

/* The shortest exact spelling of a duration: "1d", "90s", "500ms", "0". */
char *conf_format_duration(uint64_t ms, char out[32]);

/* The syslog level for a name accepted by conf_cb_log_level(), or -1. */
int conf_log_level(const char *name);

/*
 * A numeric option, and the unsigned field of the config struct it lands
 * in. unit_ms 0: a plain count ("5"); otherwise a duration (as above),
 * kept in units of unit_ms milliseconds: 1 for a *_ms field, 1000 for a
 * *_s field. min and max are in the field's unit. Tables of these end with
 * an entry whose option is NULL.
 */
struct conf_number {
	const char *option;
	uint64_t min, max;
	unsigned int unit_ms;
	size_t offset, size; /* size: 1, 2, 4 or 8 */
};

/* The entry for `option`, or NULL. */
const struct conf_number *conf_number_find(const struct conf_number *table,
					   const char *option);
/*
 * The body of a value callback for a number: parses `value` as `n` says,
 * checks the range, records the line; the result (a long) is in the unit
 * of the field. A NULL `n` is a programming error, reported as such.
 */
int conf_number_parse(cfg_t *cfg, cfg_opt_t *opt, const char *value,
		      void *result, const struct conf_number *n);
/* The same for a number that may also be "auto", which it gives as 0 (n's
 * range must not hold 0; check the field against n only if it is not). */
int conf_number_or_auto_parse(cfg_t *cfg, cfg_opt_t *opt, const char *value,
			      void *result, const struct conf_number *n);
/* Copies every number set in `cfg` into the struct at `base`. */
void conf_numbers_copy(cfg_t *cfg, const struct conf_number *table,
		       void *base);
/* Checks every number of the struct at `base` against its range, printing
 * each one out of range; true if all are in range. */
bool conf_numbers_check(const struct conf_lines *lines,
			const struct conf_number *table, const void *base);

/*
 * Copies the string value of `option`, if set, into out (out_len bytes).
 * False, after printing, if it does not fit.
 */
bool conf_copy_string(cfg_t *cfg, const struct conf_lines *lines,
		      const char *option, char *out, size_t out_len);

/*
 * Resolves a file name from the configuration: a relative one is taken
 * relative to the directory of the configuration file. False if too long.
 */
bool conf_path_resolve(const char *conf_path, const char *path,
		       char out[PATH_MAX]);

/*
 * Loads a key file named by `option` (keyfile_read()); on failure prints
 * "file:line: option: reason" and returns false.
 */
bool conf_key_load(const struct conf_lines *lines, const char *option,
		   const char *path, bool is_secret, uint8_t key[KEY_LEN]);

#endif
