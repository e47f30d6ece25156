/* SPDX-License-Identifier: MIT */
/*
 * A peer's UDP endpoint: its address and port, and the local address it
 * reached us on, so replies leave from the address the peer talks to.
 * Plain data and pure helpers; udp.c does the I/O.
 */
#ifndef VPN_ENDPOINT_H
#define VPN_ENDPOINT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "cookie.h"

#define ENDPOINT_STR_LEN 64 /* "[v6%scope]:port" */

struct endpoint {
	union {
		struct sockaddr sa;
		struct sockaddr_in in4;
		struct sockaddr_in6 in6;
	} addr;
	union {
		struct in_pktinfo v4;
		struct in6_pktinfo v6;
	} src; /* local side; valid if has_src */
	bool has_src;
};

/* Same remote address and port (the local side is not compared). */
bool endpoint_same_remote(const struct endpoint *a, const struct endpoint *b);
/* The source a cookie is bound to (section 4.5). */
void endpoint_cookie_src(const struct endpoint *e, struct cookie_src *src);
/* The remote address as bytes: 4 for IPv4 (also IPv4-mapped), else 16.
 * Returns the length; family in *family. */
size_t endpoint_addr_bytes(const struct endpoint *e, int *family,
			   uint8_t out[16]);
uint16_t endpoint_port(const struct endpoint *e);
/* "192.0.2.1:51900" or "[2001:db8::1]:51900"; returns out. */
char *endpoint_format(const struct endpoint *e, char out[ENDPOINT_STR_LEN]);
socklen_t endpoint_socklen(const struct endpoint *e);

#endif
