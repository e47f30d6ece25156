/* SPDX-License-Identifier: MIT */
/*
 * What counts as a DNS name where one is configured or pushed (search and
 * routing domains): a host name after RFC 1123, dot-separated labels of
 * 1-63 letters, digits and hyphens, no hyphen first or last in a label,
 * at most 253 bytes, no trailing dot. vpnd checks its dns-search against
 * it and vpnc what a server pushes, so a server never pushes a name its
 * clients refuse. Pure.
 */
#ifndef VPN_DNSNAME_H
#define VPN_DNSNAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNSNAME_MAX 253

bool dnsname_valid(const uint8_t *name, size_t len);

#endif
