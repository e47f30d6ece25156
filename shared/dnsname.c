// SPDX-License-Identifier: MIT
/*
 * DNS name syntax (see dnsname.h). Anything else (spaces, tabs, control
 * characters, '_', bytes past 0x7f) is refused: these names end up as
 * words in resolver configuration, where a space or a newline would
 * become another name or another line.
 */
#include "dnsname.h"

static bool
is_ldh(uint8_t ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '-';
}

bool
dnsname_valid(const uint8_t *name, size_t len)
{
	size_t label = 0, i;

	if (len == 0 || len > DNSNAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		if (name[i] == '.') {
			if (label == 0 || name[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!is_ldh(name[i]) || (label == 0 && name[i] == '-') ||
		    ++label > 63)
			return false;
	}
	return label > 0 && name[len - 1] != '-';
}
