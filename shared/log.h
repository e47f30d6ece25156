/* SPDX-License-Identifier: MIT */
/*
 * Logging to stderr or syslog. Thread-safe (one write per line), so auth
 * workers may log. The packet path logs only through a log_ratelimit.
 * Lines to stderr carry their syslog priority ("<3>...") when stderr is
 * systemd's journal (JOURNAL_STREAM), so the journal keeps it.
 */
#ifndef VPN_LOG_H
#define VPN_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <syslog.h>

/* Levels are syslog's: LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG. */
void log_init(const char *ident, bool use_syslog, int max_level);
void log_set_level(int max_level);
/* The level set now. */
int log_level(void);
bool log_enabled(int level);
void log_msg(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                                  \
	do {                                                            \
		if (log_enabled(LOG_DEBUG))                             \
			log_msg(LOG_DEBUG, __VA_ARGS__);                \
	} while (0)

/* Token bucket: at most `burst` messages, refilled at `per_s` a second. */
struct log_ratelimit {
	uint64_t last_ns;
	uint32_t tokens;
	uint32_t burst;
	uint32_t per_s;
	uint64_t suppressed;
};

#define LOG_RATELIMIT_INIT(burst_, per_s_)                              \
	{ .tokens = (burst_), .burst = (burst_), .per_s = (per_s_) }

/* True if a message may be logged now; counts the ones refused. */
bool log_ratelimit_allow(struct log_ratelimit *rl, uint64_t now_ns);

/*
 * Copies untrusted text for a log line: non-printable bytes become '?', and
 * the result is cut at `out_len` - 1. Returns `out`.
 */
char *log_sanitize(char *out, size_t out_len, const void *text, size_t len);

#endif
