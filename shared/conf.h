/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the libconfuse schemas in vpnd/config.c and vpnc/config.c:
 * value parsers that print "file:line: option: value: problem" and keep the
 * line of every option they saw, so cross-field checks made after parsing
 * can still name the line. Nothing outside the config modules sees a cfg_t.
 */
#ifndef VPN_CONF_H
#define VPN_CONF_H

#include <confuse.h>
#include <stdbool.h>
#include <stdint.h>

#include "prefix.h"

/* Where each option was last set; line 0: not in the file (a default). */
struct conf_lines {
	const char *file;
	struct {
		const char *option;
		int line;
	} seen[64];
	unsigned int n;
};

/*
 * Parses `path` with `opts` into a new cfg_t, installing an error function
 * that prints "file:line: message" on stderr and the value callbacks below.
 * Returns NULL after printing the problem.
 */
cfg_t *conf_parse(const char *path, cfg_opt_t *opts, struct conf_lines *lines);

/* The line where `option` was set, or 0. */
int conf_line(const struct conf_lines *lines, const char *option);

/* Prints "file:line: option: message" (or "file: option: ..." without a
 * line) on stderr; always returns false, for `return conf_error(...)`. */
bool conf_error(const struct conf_lines *lines, const char *option,
		const char *fmt, ...) __attribute__((format(printf, 3, 4)));

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

/* Parses a duration as above into milliseconds; false if malformed. */
bool conf_parse_duration_ms(const char *text, uint64_t *ms);

#endif
