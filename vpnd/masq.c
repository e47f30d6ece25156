// SPDX-License-Identifier: MIT
/*
 * The masquerading table of lan-mode nat (see masq.h): its text, and the
 * libnftables context that installs and removes it. Runs on the loop's
 * thread, at start and at stop only.
 */
#include "masq.h"

#include <errno.h>
#include <nftables/libnftables.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"

/* The table's comment, for the admin who finds it in `nft list ruleset`. */
#define COMMENT "vpnd lan-mode nat: its clients masqueraded; removed " \
		"when vpnd stops"

/* The one statement that removes the table, whether or not it is there:
 * declaring it first makes the deletion always find it. */
#define REMOVE "table inet " MASQ_TABLE "\ndelete table inet " MASQ_TABLE "\n"

/* An interface name goes into a quoted nftables string: no quote, no
 * backslash, nothing unprintable. */
static bool
quotable(const char *ifname)
{
	const char *p;

	if (!*ifname)
		return false;
	for (p = ifname; *p; p++)
		if (*p == '"' || *p == '\\' || (unsigned char)*p <= ' ' ||
		    (unsigned char)*p >= 0x7f)
			return false;
	return true;
}

/* Appends to out[len] at *n; false once it no longer fits. */
static bool
put(char *out, size_t len, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (*n >= len)
		return false;
	va_start(ap, fmt);
	w = vsnprintf(out + *n, len - *n, fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= len - *n) {
		*n = len;
		return false;
	}
	*n += (size_t)w;
	return true;
}

int
masq_ruleset(char *out, size_t len, const char *ifname,
	     const struct prefix *pools, unsigned int n)
{
	char text[PREFIX_STR_LEN];
	unsigned int i;
	size_t at = 0;
	bool ok;

	if (!out || !ifname || !quotable(ifname) || !pools || n == 0 || n > 2)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (pools[i].family != AF_INET && pools[i].family != AF_INET6)
			return -EINVAL;
	ok = put(out, len, &at, REMOVE "table inet %s {\n"
		 "\tcomment \"%s\"\n"
		 "\tchain postrouting {\n"
		 "\t\ttype nat hook postrouting priority srcnat; "
		 "policy accept;\n", MASQ_TABLE, COMMENT);
	for (i = 0; ok && i < n; i++)
		ok = put(out, len, &at,
			 "\t\toifname \"%s\" %s saddr %s masquerade\n", ifname,
			 pools[i].family == AF_INET ? "ip" : "ip6",
			 prefix_format(&pools[i], text));
	if (ok)
		ok = put(out, len, &at, "\t}\n}\n");
	return ok ? (int)at : -ENOSPC;
}

/* Logs nftables' own message, line by line, after `what`. */
static void
log_nft_error(struct nft_ctx *nft, const char *what)
{
	const char *text = nft_ctx_get_error_buffer(nft);
	const char *line, *end;

	if (!text || !*text) {
		log_err("%s: nftables refused it", what);
		return;
	}
	for (line = text; *line; line = *end ? end + 1 : end) {
		end = strchrnul(line, '\n');
		if (end > line)
			log_err("%s: nftables: %.*s", what, (int)(end - line),
				line);
	}
}

/* Runs one transaction; its output and errors stay in the context's
 * buffers, read before the next run. 0 or -EIO after logging. */
static int
run(struct nft_ctx *nft, const char *cmds, const char *what)
{
	if (nft_run_cmd_from_buffer(nft, cmds) == 0)
		return 0;
	log_nft_error(nft, what);
	return -EIO;
}

int
masq_start(struct masq *m, const char *ifname, const struct prefix *pools,
	   unsigned int n)
{
	char cmds[MASQ_RULESET_LEN];
	int ret;

	memset(m, 0, sizeof(*m));
	ret = masq_ruleset(cmds, sizeof(cmds), ifname, pools, n);
	if (ret < 0) {
		log_err("lan-mode nat: cannot write the table for %s: %s",
			ifname, strerror(-ret));
		return ret;
	}
	m->nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!m->nft) {
		log_err("lan-mode nat: cannot open nftables");
		return -ENOMEM;
	}
	/* vpnd's stdout and stderr are not nftables' to write on. */
	if (nft_ctx_buffer_output(m->nft) < 0 ||
	    nft_ctx_buffer_error(m->nft) < 0) {
		ret = -ENOMEM;
		log_err("lan-mode nat: cannot open nftables' buffers");
		goto err;
	}
	ret = run(m->nft, cmds, "lan-mode nat: table inet " MASQ_TABLE);
	if (ret < 0)
		goto err;
	m->is_installed = true;
	log_info("lan-mode nat: table inet %s masquerades the pools out of %s",
		 MASQ_TABLE, ifname);
	return 0;
err:
	nft_ctx_free(m->nft);
	m->nft = NULL;
	return ret;
}

void
masq_stop(struct masq *m)
{
	if (m->is_installed &&
	    run(m->nft, REMOVE, "lan-mode nat: removing table inet "
				MASQ_TABLE) == 0)
		log_info("lan-mode nat: table inet %s removed", MASQ_TABLE);
	m->is_installed = false;
	if (m->nft)
		nft_ctx_free(m->nft);
	m->nft = NULL;
}
