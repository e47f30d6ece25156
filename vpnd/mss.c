// SPDX-License-Identifier: MIT
/*
 * TCP MSS clamping (see mss.h). The packet is read through ippkt.h, within
 * len; only the MSS value and the TCP checksum are written.
 */
#include "mss.h"

#include <netinet/in.h>

#include "ippkt.h"

#define IP4_HDR_LEN 20
#define IP6_HDR_LEN 40
#define TCP_HDR_LEN 20
#define TCP_CHECK_OFF 16
#define OPT_EOL 0
#define OPT_NOP 1
#define OPT_MSS 2
#define OPT_MSS_LEN 4

uint16_t
mss_for_mtu(size_t mtu, int family)
{
	size_t headers = (family == AF_INET6 ? IP6_HDR_LEN : IP4_HDR_LEN) +
			 TCP_HDR_LEN;

	if (mtu <= headers)
		return 0;
	return mtu - headers > UINT16_MAX ? UINT16_MAX
					  : (uint16_t)(mtu - headers);
}

/*
 * RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for the 16 bits at `offset`
 * of the summed data changing from m to m'. At an odd offset the value
 * straddles two words of the sum, where its bytes count swapped.
 */
static uint16_t
csum_replace16(uint16_t check, size_t offset, uint16_t from, uint16_t to)
{
	uint32_t sum;

	if (offset & 1) {
		from = (uint16_t)(from << 8 | from >> 8);
		to = (uint16_t)(to << 8 | to >> 8);
	}
	sum = (uint32_t)(uint16_t)~check + (uint16_t)~from + to;
	return ippkt_fold(sum);
}

/* The offset of the MSS option's value in the TCP header tcp of hlen
 * bytes; 0 if it has none, or its options are malformed. */
static size_t
find_mss(const uint8_t *tcp, size_t hlen)
{
	size_t i = TCP_HDR_LEN;

	while (i < hlen) {
		if (tcp[i] == OPT_EOL)
			return 0;
		if (tcp[i] == OPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= hlen || tcp[i + 1] < 2 || tcp[i + 1] > hlen - i)
			return 0;
		if (tcp[i] == OPT_MSS)
			return tcp[i + 1] == OPT_MSS_LEN ? i + 2 : 0;
		i += tcp[i + 1];
	}
	return 0;
}

bool
mss_clamp(uint8_t *pkt, size_t len, size_t mtu)
{
	struct ippkt in;
	size_t hlen, at;
	uint16_t max, mss;
	uint8_t *tcp;

	if (!ippkt_parse(pkt, len, &in) || in.proto != IPPROTO_TCP ||
	    !in.has_tcp_flags || !(in.tcp_flags & IPPKT_TCP_SYN) ||
	    len - in.l4_off < TCP_HDR_LEN)
		return false;
	tcp = pkt + in.l4_off;
	hlen = (size_t)(tcp[12] >> 4) * 4;
	if (hlen < TCP_HDR_LEN || hlen > len - in.l4_off)
		return false;
	at = find_mss(tcp, hlen);
	max = mss_for_mtu(mtu, in.family);
	if (!at || !max || (mss = ippkt_get16(tcp + at)) <= max)
		return false;
	ippkt_put16(tcp + TCP_CHECK_OFF,
	      csum_replace16(ippkt_get16(tcp + TCP_CHECK_OFF), at, mss, max));
	ippkt_put16(tcp + at, max);
	return true;
}
