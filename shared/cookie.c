// SPDX-License-Identifier: MIT
/*
 * mac1, mac2 and cookie replies (PROTOCOL.md sections 4.4, 4.5). MACs are
 * compared in constant time; the cookie secret Rm is replaced once it is
 * COOKIE_SECRET_MAX_AGE old, when next needed.
 */
#include "cookie.h"

#include <sodium.h>
#include <string.h>

#include "aead.h"

static const char LABEL_MAC1[8] = { 'm', 'a', 'c', '1', '-', '-', '-', '-' };
static const char LABEL_COOKIE[8] = { 'c', 'o', 'o', 'k', 'i', 'e', '-', '-' };

/* key = HASH32(label || pub) */
static void
label_key(uint8_t key[COOKIE_KEY_LEN], const char label[8],
	  const uint8_t pub[32])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, COOKIE_KEY_LEN);
	crypto_generichash_update(&st, (const uint8_t *)label, 8);
	crypto_generichash_update(&st, pub, 32);
	crypto_generichash_final(&st, key, COOKIE_KEY_LEN);
}

/* MAC(key, in): BLAKE2b with a 16-byte output. */
static void
mac(uint8_t out[WIRE_MAC_LEN], const uint8_t *key, size_t key_len,
    const uint8_t *in, size_t in_len)
{
	crypto_generichash(out, WIRE_MAC_LEN, in, in_len, key, key_len);
}

static bool
mac_offsets(size_t len, size_t *mac1_off, size_t *mac2_off)
{
	enum wire_type type;

	if (len == WIRE_INITIATION_LEN)
		type = WIRE_INITIATION;
	else if (len == WIRE_RESPONSE_LEN)
		type = WIRE_RESPONSE;
	else
		return false;
	*mac1_off = wire_mac1_offset(type);
	*mac2_off = wire_mac2_offset(type);
	return true;
}

void
cookie_src_set(struct cookie_src *src, const uint8_t *addr, size_t addr_len,
	       uint16_t port_host_order)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0,
					      0, 0, 0, 0, 0xff, 0xff };

	memset(src, 0, sizeof(*src));
	if (addr_len == 16 && memcmp(addr, v4mapped, 12) == 0) {
		addr += 12;
		addr_len = 4;
	}
	if (addr_len != 4 && addr_len != 16)
		addr_len = 0;
	memcpy(src->addr, addr, addr_len);
	src->addr_len = (uint8_t)addr_len;
	src->port[0] = (uint8_t)(port_host_order >> 8);
	src->port[1] = (uint8_t)port_host_order;
}

void
cookie_checker_init(struct cookie_checker *c, const uint8_t our_public[32],
		    const struct protocol_times *pt, cookie_random_fn random,
		    void *random_arg)
{
	memset(c, 0, sizeof(*c));
	label_key(c->mac1_key, LABEL_MAC1, our_public);
	label_key(c->cookie_key, LABEL_COOKIE, our_public);
	c->pt = pt;
	c->random = random;
	c->random_arg = random_arg;
}

void
cookie_checker_wipe(struct cookie_checker *c)
{
	sodium_memzero(c, sizeof(*c));
}

/* cookie = MAC(Rm, source IP bytes || source port) */
static void
make_cookie(struct cookie_checker *c, uint8_t cookie[COOKIE_LEN],
	    const struct cookie_src *src, uint64_t now_ns)
{
	uint8_t in[16 + 2];

	if (!c->has_secret ||
	    now_ns - c->secret_birth_ns >= c->pt->cookie_secret_max_age_ns) {
		c->random(c->random_arg, c->secret, sizeof(c->secret));
		c->secret_birth_ns = now_ns;
		c->has_secret = true;
	}
	memcpy(in, src->addr, src->addr_len);
	memcpy(in + src->addr_len, src->port, 2);
	mac(cookie, c->secret, sizeof(c->secret), in, src->addr_len + 2u);
}

enum cookie_mac
cookie_checker_validate(struct cookie_checker *c, const uint8_t *msg,
			size_t len, const struct cookie_src *src,
			uint64_t now_ns)
{
	uint8_t computed[WIRE_MAC_LEN], cookie[COOKIE_LEN];
	size_t mac1_off, mac2_off;
	enum cookie_mac ret = COOKIE_MAC1_INVALID;

	if (!mac_offsets(len, &mac1_off, &mac2_off))
		goto out;
	mac(computed, c->mac1_key, COOKIE_KEY_LEN, msg, mac1_off);
	if (sodium_memcmp(computed, msg + mac1_off, WIRE_MAC_LEN) != 0)
		goto out;
	ret = COOKIE_MAC1_VALID;
	if (sodium_is_zero(msg + mac2_off, WIRE_MAC_LEN))
		goto out;
	make_cookie(c, cookie, src, now_ns);
	mac(computed, cookie, COOKIE_LEN, msg, mac2_off);
	if (sodium_memcmp(computed, msg + mac2_off, WIRE_MAC_LEN) == 0)
		ret = COOKIE_MAC2_VALID;
out:
	sodium_memzero(cookie, sizeof(cookie));
	return ret;
}

void
cookie_reply_create(struct cookie_checker *c, struct wire_cookie_reply *out,
		    const uint8_t *msg, size_t len, const struct cookie_src *src,
		    uint64_t now_ns)
{
	uint8_t cookie[COOKIE_LEN];
	size_t mac1_off, mac2_off;

	if (!mac_offsets(len, &mac1_off, &mac2_off))
		return;
	wire_header_set(out->header, WIRE_COOKIE_REPLY);
	/* Both answered types carry their sender index at offset 4. */
	memcpy(out->receiver_index, msg + 4, 4);
	c->random(c->random_arg, out->nonce, sizeof(out->nonce));
	make_cookie(c, cookie, src, now_ns);
	xaead_encrypt(out->enc_cookie, cookie, COOKIE_LEN, msg + mac1_off,
		      WIRE_MAC_LEN, out->nonce, c->cookie_key);
	sodium_memzero(cookie, sizeof(cookie));
}

void
cookie_maker_init(struct cookie_maker *m, const uint8_t their_public[32],
		  const struct protocol_times *pt)
{
	memset(m, 0, sizeof(*m));
	memcpy(m->their_public, their_public, sizeof(m->their_public));
	m->pt = pt;
}

void
cookie_maker_wipe(struct cookie_maker *m)
{
	sodium_memzero(m, sizeof(*m));
}

void
cookie_maker_add_macs(struct cookie_maker *m, uint8_t *msg, size_t len,
		      uint64_t now_ns)
{
	uint8_t mac1_key[COOKIE_KEY_LEN];
	size_t mac1_off, mac2_off;

	if (!mac_offsets(len, &mac1_off, &mac2_off))
		return;
	label_key(mac1_key, LABEL_MAC1, m->their_public);
	mac(msg + mac1_off, mac1_key, COOKIE_KEY_LEN, msg, mac1_off);
	memcpy(m->last_mac1, msg + mac1_off, WIRE_MAC_LEN);
	m->has_last_mac1 = true;

	if (m->has_cookie &&
	    now_ns - m->cookie_birth_ns <
		    m->pt->cookie_secret_max_age_ns - m->pt->cookie_latency_ns)
		mac(msg + mac2_off, m->cookie, COOKIE_LEN, msg, mac2_off);
	else
		memset(msg + mac2_off, 0, WIRE_MAC_LEN);
}

bool
cookie_maker_consume_reply(struct cookie_maker *m,
			   const struct wire_cookie_reply *reply,
			   uint64_t now_ns)
{
	uint8_t cookie[COOKIE_LEN], cookie_key[COOKIE_KEY_LEN];
	bool ok = false;

	if (!m->has_last_mac1)
		goto out;
	label_key(cookie_key, LABEL_COOKIE, m->their_public);
	if (!xaead_decrypt(cookie, reply->enc_cookie, sizeof(reply->enc_cookie),
			   m->last_mac1, WIRE_MAC_LEN, reply->nonce,
			   cookie_key))
		goto out;
	memcpy(m->cookie, cookie, COOKIE_LEN);
	m->cookie_birth_ns = now_ns;
	m->has_cookie = true;
	/* One reply per message: a replayed reply finds no mac1 to open. */
	m->has_last_mac1 = false;
	ok = true;
out:
	sodium_memzero(cookie, sizeof(cookie));
	return ok;
}
