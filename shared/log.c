// SPDX-License-Identifier: MIT
/*
 * Logging: stderr (one fprintf-free write per line, so lines from worker
 * threads never interleave) or syslog.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *log_ident = "vpn";
static bool log_to_syslog;
static int log_max_level = LOG_INFO;

void
log_init(const char *ident, bool use_syslog, int max_level)
{
	log_ident = ident;
	log_to_syslog = use_syslog;
	log_max_level = max_level;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_level(int max_level)
{
	log_max_level = max_level;
}

bool
log_enabled(int level)
{
	return level <= log_max_level;
}

static const char *
level_tag(int level)
{
	switch (level) {
	case LOG_EMERG:
	case LOG_ALERT:
	case LOG_CRIT:
	case LOG_ERR:
		return "error: ";
	case LOG_WARNING:
		return "warning: ";
	case LOG_DEBUG:
		return "debug: ";
	default:
		return "";
	}
}

void
log_msg(int level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n, head;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	if (log_to_syslog) {
		vsnprintf(line, sizeof(line), fmt, ap);
		va_end(ap);
		syslog(level, "%s", line);
		return;
	}
	head = snprintf(line, sizeof(line), "%s: %s", log_ident,
			level_tag(level));
	if (head < 0 || (size_t)head >= sizeof(line))
		head = 0;
	n = vsnprintf(line + head, sizeof(line) - (size_t)head, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	n += head;
	if ((size_t)n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	/* One write(2) per line keeps lines from threads whole. */
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}

bool
log_ratelimit_allow(struct log_ratelimit *rl, uint64_t now_ns)
{
	uint64_t elapsed = now_ns - rl->last_ns;
	uint64_t refill = elapsed / 1000000000ull * rl->per_s +
			  elapsed % 1000000000ull * rl->per_s / 1000000000ull;

	if (refill > 0) {
		uint64_t t = rl->tokens + refill;

		rl->tokens = t > rl->burst ? rl->burst : (uint32_t)t;
		rl->last_ns = now_ns;
	}
	if (rl->tokens == 0) {
		rl->suppressed++;
		return false;
	}
	rl->tokens--;
	return true;
}

char *
log_sanitize(char *out, size_t out_len, const void *text, size_t len)
{
	const unsigned char *p = text;
	size_t i;

	if (out_len == 0)
		return out;
	if (len > out_len - 1)
		len = out_len - 1;
	for (i = 0; i < len; i++)
		out[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
	out[len] = '\0';
	return out;
}
