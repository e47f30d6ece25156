// SPDX-License-Identifier: MIT
/*
 * Endpoint helpers (see endpoint.h). No I/O.
 */
#include "endpoint.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

bool
endpoint_same_remote(const struct endpoint *a, const struct endpoint *b)
{
	if (a->addr.sa.sa_family != b->addr.sa.sa_family)
		return false;
	if (a->addr.sa.sa_family == AF_INET)
		return a->addr.in4.sin_port == b->addr.in4.sin_port &&
		       a->addr.in4.sin_addr.s_addr == b->addr.in4.sin_addr.s_addr;
	if (a->addr.sa.sa_family == AF_INET6)
		return a->addr.in6.sin6_port == b->addr.in6.sin6_port &&
		       memcmp(&a->addr.in6.sin6_addr, &b->addr.in6.sin6_addr,
			      16) == 0 &&
		       a->addr.in6.sin6_scope_id == b->addr.in6.sin6_scope_id;
	return false;
}

size_t
endpoint_addr_bytes(const struct endpoint *e, int *family, uint8_t out[16])
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0,
					      0, 0, 0, 0, 0xff, 0xff };

	if (e->addr.sa.sa_family == AF_INET) {
		*family = AF_INET;
		memcpy(out, &e->addr.in4.sin_addr, 4);
		return 4;
	}
	if (memcmp(&e->addr.in6.sin6_addr, v4mapped, 12) == 0) {
		*family = AF_INET;
		memcpy(out, (const uint8_t *)&e->addr.in6.sin6_addr + 12, 4);
		return 4;
	}
	*family = AF_INET6;
	memcpy(out, &e->addr.in6.sin6_addr, 16);
	return 16;
}

uint16_t
endpoint_port(const struct endpoint *e)
{
	return ntohs(e->addr.sa.sa_family == AF_INET ? e->addr.in4.sin_port
						     : e->addr.in6.sin6_port);
}

void
endpoint_cookie_src(const struct endpoint *e, struct cookie_src *src)
{
	uint8_t addr[16];
	int family;
	size_t len = endpoint_addr_bytes(e, &family, addr);

	cookie_src_set(src, addr, len, endpoint_port(e));
}

char *
endpoint_format(const struct endpoint *e, char out[ENDPOINT_STR_LEN])
{
	char host[INET6_ADDRSTRLEN];
	uint8_t addr[16];
	int family;

	if (e->addr.sa.sa_family != AF_INET && e->addr.sa.sa_family != AF_INET6) {
		snprintf(out, ENDPOINT_STR_LEN, "(none)");
		return out;
	}
	endpoint_addr_bytes(e, &family, addr);
	inet_ntop(family, addr, host, sizeof(host));
	snprintf(out, ENDPOINT_STR_LEN, family == AF_INET ? "%s:%u" : "[%s]:%u",
		 host, endpoint_port(e));
	return out;
}

socklen_t
endpoint_socklen(const struct endpoint *e)
{
	return e->addr.sa.sa_family == AF_INET ? sizeof(struct sockaddr_in)
					       : sizeof(struct sockaddr_in6);
}
