/* SPDX-License-Identifier: MIT */
/*
 * The servers vpnc may use: every address of every `server` line of
 * vpnc.conf (a name may stand for several nodes, DNS round robin),
 * resolved once at start, before the sandbox (jail.h) forbids it, in a
 * shuffled order so that clients spread over the nodes. The client uses
 * one at a time and moves to the next when it stops answering or shuts
 * down (client.c); the nodes share the user store and the server key, so
 * on the next one the client resumes its admission (PROTOCOL.md section
 * 6, rule 6).
 *
 * vpnc has one UDP socket, of one family: it keeps the addresses of the
 * family of the first one resolved and says which it leaves out.
 *
 * The list itself is pure (randomness comes from the caller);
 * servers_resolve() is the only part that does I/O (getaddrinfo).
 */
#ifndef VPNC_SERVERS_H
#define VPNC_SERVERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "endpoint.h"
#include "login.h"

#define SERVERS_MAX 32 /* addresses, after resolution */
#define SERVERS_NAME_LEN (VPNC_HOST_LEN + ENDPOINT_STR_LEN + 4)

struct server_entry {
	struct endpoint ep;
	int family;
	uint8_t addr[16];
	/* "192.0.2.1:51900", or "vpn.example.com (192.0.2.1:51900)". */
	char name[SERVERS_NAME_LEN];
};

struct servers {
	struct server_entry e[SERVERS_MAX];
	unsigned int n;
	unsigned int cur;     /* the one in use */
	unsigned int skipped;  /* addresses of the other family left out */
	unsigned int overflow; /* addresses past SERVERS_MAX left out */
};

/* A uniform random number below `upper` (> 0): randombytes_uniform. */
typedef uint32_t (*servers_uniform_fn)(void *arg, uint32_t upper);

/* Empty. */
void servers_init(struct servers *s);
/*
 * Adds `ep`, reached through `host` (the name in vpnc.conf, for logs).
 * Returns false if it is there already (same address and port), of the
 * other family than the first one added (counted in `skipped`), or the
 * list is full (counted in `overflow`).
 */
bool servers_add(struct servers *s, const char *host,
		 const struct endpoint *ep);
/* Puts the list in a random order (Fisher-Yates) and uses the first. */
void servers_shuffle(struct servers *s, servers_uniform_fn uniform,
		     void *arg);
/* The server in use; NULL if the list is empty. */
const struct server_entry *servers_current(const struct servers *s);
/* Moves on to the next server, after the last the first again; returns
 * it (NULL if the list is empty). */
const struct server_entry *servers_next(struct servers *s);

/* What a node says as it stops (shared/login.h): move on at once. */
#define SERVERS_REASON_SHUTDOWN LOGIN_REASON_SHUTDOWN

/* True if a DISCONNECT's REASON (len bytes, no NUL) is the shutdown's. */
bool servers_reason_is_shutdown(const uint8_t *reason, size_t len);

/*
 * Resolves every server of `cfg` (getaddrinfo: DNS, /etc/hosts) into
 * `s`, in the order of vpnc.conf and of the resolver's answers, and logs
 * what it could not resolve or left out. 0, or -EHOSTUNREACH if no
 * address was found.
 */
int servers_resolve(struct servers *s, const struct vpnc_config *cfg);

#endif
