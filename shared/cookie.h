/* SPDX-License-Identifier: MIT */
/*
 * mac1/mac2 and cookie replies (PROTOCOL.md sections 4.4 and 4.5): the
 * checker is the receiving side of handshake messages (it validates MACs
 * and, under load, answers with cookies); the maker is the sending side (it
 * adds MACs and keeps the cookie it was given). Pure: time is passed in,
 * randomness comes from a callback.
 */
#ifndef VPN_COOKIE_H
#define VPN_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "timers.h"
#include "wire.h"

#define COOKIE_LEN 16
#define COOKIE_KEY_LEN 32

/* The source a cookie is bound to, as bytes in network order. */
struct cookie_src {
	uint8_t addr[16];
	uint8_t addr_len; /* 4, or 16 (IPv4-mapped addresses count as 4) */
	uint8_t port[2];
};

/* Fills `src` from raw address bytes; unmaps IPv4-mapped IPv6. */
void cookie_src_set(struct cookie_src *src, const uint8_t *addr,
		    size_t addr_len, uint16_t port_host_order);

typedef void (*cookie_random_fn)(void *arg, uint8_t *buf, size_t len);

struct cookie_checker {
	uint8_t mac1_key[COOKIE_KEY_LEN];   /* HASH32(LABEL_MAC1 || our pub) */
	uint8_t cookie_key[COOKIE_KEY_LEN]; /* HASH32(LABEL_COOKIE || our pub) */
	uint8_t secret[32];                 /* Rm */
	uint64_t secret_birth_ns;
	bool has_secret;
	const struct protocol_times *pt;
	cookie_random_fn random;
	void *random_arg;
};

enum cookie_mac {
	COOKIE_MAC1_INVALID, /* drop silently, before any DH */
	COOKIE_MAC1_VALID,   /* mac2 absent or wrong */
	COOKIE_MAC2_VALID,   /* the sender proved its address */
};

void cookie_checker_init(struct cookie_checker *c,
			 const uint8_t our_public[32],
			 const struct protocol_times *pt, cookie_random_fn random,
			 void *random_arg);
void cookie_checker_wipe(struct cookie_checker *c);

/* Checks mac1 then mac2 of a type 1 or type 2 message of exact length. */
enum cookie_mac cookie_checker_validate(struct cookie_checker *c,
					const uint8_t *msg, size_t len,
					const struct cookie_src *src,
					uint64_t now_ns);

/* A cookie reply to `msg` (whose mac1 must be valid) from `src`. */
void cookie_reply_create(struct cookie_checker *c,
			 struct wire_cookie_reply *out, const uint8_t *msg,
			 size_t len, const struct cookie_src *src,
			 uint64_t now_ns);

/* One per peer: its MAC1 and cookie keys are derived from the receiver's
 * key when a handshake message or cookie reply needs them (one BLAKE2b),
 * not kept: 32 bytes a session instead of 64. */
struct cookie_maker {
	uint8_t their_public[32];
	uint8_t cookie[COOKIE_LEN];
	uint64_t cookie_birth_ns;
	bool has_cookie;
	uint8_t last_mac1[WIRE_MAC_LEN]; /* authenticates the next reply */
	bool has_last_mac1;
	const struct protocol_times *pt;
};

void cookie_maker_init(struct cookie_maker *m, const uint8_t their_public[32],
		       const struct protocol_times *pt);
void cookie_maker_wipe(struct cookie_maker *m);

/* Writes mac1, and mac2 from a fresh cookie (else zeros), into a type 1 or
 * type 2 message. */
void cookie_maker_add_macs(struct cookie_maker *m, uint8_t *msg, size_t len,
			   uint64_t now_ns);

/* Takes the cookie from a reply to our latest message; false if the reply
 * does not authenticate against that message's mac1. */
bool cookie_maker_consume_reply(struct cookie_maker *m,
				const struct wire_cookie_reply *reply,
				uint64_t now_ns)
	__attribute__((warn_unused_result));

#endif
