// SPDX-License-Identifier: MIT
/*
 * Logging: stderr (one fprintf-free write per line, so lines from worker
 * threads never interleave) or syslog. When stderr is systemd's journal,
 * each line starts with its syslog priority ("<3>"), which the journal
 * takes off and keeps as the line's PRIORITY (sd-daemon(3)).
 */
#include "log.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *log_ident = "vpn";
static bool log_to_syslog;
static bool log_to_journal;
/* Read by worker threads while a reload may change it. */
static atomic_int log_max_level = LOG_INFO;

/* True if stderr is the stream systemd connected to the journal: the
 * JOURNAL_STREAM it exported names stderr's device and inode. */
static bool
stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	uintmax_t dev, ino;
	struct stat st;
	char end;

	if (!env || sscanf(env, "%ju:%ju%c", &dev, &ino, &end) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (uintmax_t)st.st_dev == dev && (uintmax_t)st.st_ino == ino;
}

void
log_init(const char *ident, bool use_syslog, int max_level)
{
	log_ident = ident;
	log_to_syslog = use_syslog;
	log_to_journal = !use_syslog && stderr_is_journal();
	atomic_store(&log_max_level, max_level);
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_level(int max_level)
{
	atomic_store(&log_max_level, max_level);
}

int
log_level(void)
{
	return atomic_load(&log_max_level);
}

bool
log_enabled(int level)
{
	return level <= atomic_load(&log_max_level);
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
	if (log_to_journal)
		head = snprintf(line, sizeof(line), "<%d>%s: %s", level & 7,
				log_ident, level_tag(level));
	else
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
