// SPDX-License-Identifier: MIT
/*
 * Noise_IKpsk2 handshake and keypairs (PROTOCOL.md sections 4, 5 and 7),
 * after WireGuard's noise.c and OpenBSD's wg_noise.c. Each step works on a
 * copy of the handshake state and commits only when every check passed, so
 * a bad message never disturbs a handshake in progress. Every secret on the
 * stack is wiped at the single exit of its function.
 */
#include "noise.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "aead.h"
#include "kdf.h"
#include "keys.h"

const char NOISE_CONSTRUCTION[] = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b";
const char NOISE_IDENTIFIER[] = "vpnd/vpnc protocol v1";

_Static_assert(sizeof(NOISE_CONSTRUCTION) - 1 == NOISE_CONSTRUCTION_LEN, "");
_Static_assert(sizeof(NOISE_IDENTIFIER) - 1 == NOISE_IDENTIFIER_LEN, "");

/* Initiations from one peer faster than this are a flood (WireGuard: 50/s). */
#define INITIATION_MIN_INTERVAL_NS (NS_PER_S / 50)

/* ---- symmetric state ------------------------------------------------------ */

static void
mix_hash(uint8_t h[NOISE_HASH_LEN], const uint8_t *data, size_t len)
{
	kdf_hash(h, h, NOISE_HASH_LEN, data, len);
}

/* C = KDF1(C, in) */
static void
mix_key(uint8_t ck[NOISE_HASH_LEN], const uint8_t *in, size_t len)
{
	kdf_derive(ck, NULL, NULL, ck, in, len);
}

/*
 * (C, k) = KDF2(C, dh), k cut to the AEAD key size; C = KDF1(C, dh) when
 * key is NULL (ee, se), which saves the HMAC that would only make t2.
 */
static void
mix_dh_result(uint8_t ck[NOISE_HASH_LEN], uint8_t key[NOISE_KEY_LEN],
	      const uint8_t dh[NOISE_KEY_LEN])
{
	uint8_t t2[NOISE_HASH_LEN];

	kdf_derive(ck, key ? t2 : NULL, NULL, ck, dh, NOISE_KEY_LEN);
	if (key)
		memcpy(key, t2, NOISE_KEY_LEN);
	sodium_memzero(t2, sizeof(t2));
}

static bool
mix_dh(uint8_t ck[NOISE_HASH_LEN], uint8_t key[NOISE_KEY_LEN],
       const uint8_t priv[NOISE_KEY_LEN], const uint8_t pub[NOISE_KEY_LEN])
{
	uint8_t dh[NOISE_KEY_LEN];
	bool ok = noise_dh(dh, priv, pub);

	if (ok)
		mix_dh_result(ck, key, dh);
	sodium_memzero(dh, sizeof(dh));
	return ok;
}

/* (C, t, k) = KDF3(C, Q); H = HASH(H || t) */
static void
mix_psk(uint8_t ck[NOISE_HASH_LEN], uint8_t h[NOISE_HASH_LEN],
	uint8_t key[NOISE_KEY_LEN], const uint8_t psk[NOISE_KEY_LEN])
{
	uint8_t t[NOISE_HASH_LEN], k[NOISE_HASH_LEN];

	kdf_derive(ck, t, k, ck, psk, NOISE_KEY_LEN);
	mix_hash(h, t, sizeof(t));
	memcpy(key, k, NOISE_KEY_LEN);
	sodium_memzero(t, sizeof(t));
	sodium_memzero(k, sizeof(k));
}

/* dst = AEAD(k, 0, src, H); H = HASH(H || dst) */
static void
encrypt_and_hash(uint8_t *dst, const uint8_t *src, size_t len,
		 const uint8_t key[NOISE_KEY_LEN], uint8_t h[NOISE_HASH_LEN])
{
	aead_encrypt(dst, src, len, h, NOISE_HASH_LEN, 0, key);
	mix_hash(h, dst, len + NOISE_TAG_LEN);
}

/* dst = open(k, 0, src, H); H = HASH(H || src). dst must not alias src. */
static bool
decrypt_and_hash(uint8_t *dst, const uint8_t *src, size_t len_with_tag,
		 const uint8_t key[NOISE_KEY_LEN], uint8_t h[NOISE_HASH_LEN])
{
	if (!aead_decrypt(dst, src, len_with_tag, h, NOISE_HASH_LEN, 0, key))
		return false;
	mix_hash(h, src, len_with_tag);
	return true;
}

bool
noise_dh(uint8_t out[NOISE_KEY_LEN], const uint8_t priv[NOISE_KEY_LEN],
	 const uint8_t pub[NOISE_KEY_LEN])
{
	/* libsodium refuses an all-zero shared point with -1. */
	return crypto_scalarmult(out, priv, pub) == 0;
}

void
noise_handshake_start(struct noise_handshake *hs, const uint8_t *prologue,
		      size_t prologue_len,
		      const uint8_t responder_public[NOISE_KEY_LEN])
{
	/* The name is shorter than HASHLEN: padded, not hashed. */
	memset(hs->ck, 0, NOISE_HASH_LEN);
	memcpy(hs->ck, NOISE_CONSTRUCTION, NOISE_CONSTRUCTION_LEN);
	memcpy(hs->h, hs->ck, NOISE_HASH_LEN);
	mix_hash(hs->h, prologue, prologue_len);
	mix_hash(hs->h, responder_public, NOISE_KEY_LEN);
}

/*
 * The protocol's handshakes all start from the same prologue, so H after
 * it and our key is computed once (noise_local.initial_hash) and copied
 * here; the same bytes as noise_handshake_start().
 */
static void
handshake_start_from(struct noise_handshake *hs,
		     const uint8_t initial_hash[NOISE_HASH_LEN])
{
	memset(hs->ck, 0, NOISE_HASH_LEN);
	memcpy(hs->ck, NOISE_CONSTRUCTION, NOISE_CONSTRUCTION_LEN);
	memcpy(hs->h, initial_hash, NOISE_HASH_LEN);
}

static void
initial_hash_compute(uint8_t h[NOISE_HASH_LEN],
		     const uint8_t responder_public[NOISE_KEY_LEN])
{
	struct noise_handshake hs;

	noise_handshake_start(&hs, (const uint8_t *)NOISE_IDENTIFIER,
			      NOISE_IDENTIFIER_LEN, responder_public);
	memcpy(h, hs.h, NOISE_HASH_LEN);
}

/* ---- message 1 ---------------------------------------------------------- */

bool
noise_msg1_write(struct noise_handshake *hs, const uint8_t e_priv[NOISE_KEY_LEN],
		 const uint8_t s_priv[NOISE_KEY_LEN],
		 const uint8_t s_pub[NOISE_KEY_LEN],
		 const uint8_t rs[NOISE_KEY_LEN], const uint8_t *ss,
		 const uint8_t *payload, size_t payload_len, uint8_t *out)
{
	uint8_t key[NOISE_KEY_LEN];
	bool ok = false;

	/* e */
	memcpy(hs->e_priv, e_priv, NOISE_KEY_LEN);
	if (!keys_public_from_private(hs->e_pub, hs->e_priv))
		goto out;
	memcpy(out, hs->e_pub, NOISE_KEY_LEN);
	mix_hash(hs->h, hs->e_pub, NOISE_KEY_LEN);
	mix_key(hs->ck, hs->e_pub, NOISE_KEY_LEN); /* psk modes mix e */

	/* es */
	if (!mix_dh(hs->ck, key, hs->e_priv, rs))
		goto out;

	/* s */
	encrypt_and_hash(out + 32, s_pub, NOISE_KEY_LEN, key, hs->h);

	/* ss */
	if (ss)
		mix_dh_result(hs->ck, key, ss);
	else if (!mix_dh(hs->ck, key, s_priv, rs))
		goto out;

	/* payload */
	encrypt_and_hash(out + 32 + 48, payload, payload_len, key, hs->h);
	ok = true;
out:
	sodium_memzero(key, sizeof(key));
	return ok;
}

bool
noise_msg1_read_static(struct noise_handshake *hs,
		       const uint8_t s_priv[NOISE_KEY_LEN], const uint8_t *msg,
		       uint8_t initiator_public[NOISE_KEY_LEN])
{
	uint8_t key[NOISE_KEY_LEN];
	bool ok = false;

	/* e */
	memcpy(hs->remote_e, msg, NOISE_KEY_LEN);
	mix_hash(hs->h, hs->remote_e, NOISE_KEY_LEN);
	mix_key(hs->ck, hs->remote_e, NOISE_KEY_LEN);

	/* es */
	if (!mix_dh(hs->ck, key, s_priv, hs->remote_e))
		goto out;

	/* s */
	if (!decrypt_and_hash(initiator_public, msg + 32, NOISE_KEY_LEN +
			      NOISE_TAG_LEN, key, hs->h))
		goto out;
	ok = true;
out:
	sodium_memzero(key, sizeof(key));
	return ok;
}

bool
noise_msg1_read_payload(struct noise_handshake *hs,
			const uint8_t ss[NOISE_KEY_LEN], const uint8_t *msg,
			size_t msg_len, uint8_t *payload)
{
	uint8_t key[NOISE_KEY_LEN];
	bool ok = false;

	if (msg_len < NOISE_MSG1_LEN(0))
		goto out;
	/* ss */
	mix_dh_result(hs->ck, key, ss);

	/* payload */
	ok = decrypt_and_hash(payload, msg + 32 + 48, msg_len - 32 - 48, key,
			      hs->h);
out:
	sodium_memzero(key, sizeof(key));
	return ok;
}

/* ---- message 2 ---------------------------------------------------------- */

bool
noise_msg2_write(struct noise_handshake *hs, const uint8_t e_priv[NOISE_KEY_LEN],
		 const uint8_t initiator_public[NOISE_KEY_LEN],
		 const uint8_t psk[NOISE_KEY_LEN], const uint8_t *payload,
		 size_t payload_len, uint8_t *out)
{
	uint8_t key[NOISE_KEY_LEN];
	bool ok = false;

	/* e */
	memcpy(hs->e_priv, e_priv, NOISE_KEY_LEN);
	if (!keys_public_from_private(hs->e_pub, hs->e_priv))
		goto out;
	memcpy(out, hs->e_pub, NOISE_KEY_LEN);
	mix_hash(hs->h, hs->e_pub, NOISE_KEY_LEN);
	mix_key(hs->ck, hs->e_pub, NOISE_KEY_LEN);

	/* ee */
	if (!mix_dh(hs->ck, NULL, hs->e_priv, hs->remote_e))
		goto out;

	/* se */
	if (!mix_dh(hs->ck, NULL, hs->e_priv, initiator_public))
		goto out;

	/* psk */
	mix_psk(hs->ck, hs->h, key, psk);

	/* payload */
	encrypt_and_hash(out + 32, payload, payload_len, key, hs->h);
	ok = true;
out:
	sodium_memzero(key, sizeof(key));
	return ok;
}

bool
noise_msg2_read(struct noise_handshake *hs, const uint8_t s_priv[NOISE_KEY_LEN],
		const uint8_t psk[NOISE_KEY_LEN], const uint8_t *msg,
		size_t msg_len, uint8_t *payload)
{
	uint8_t key[NOISE_KEY_LEN];
	bool ok = false;

	if (msg_len < NOISE_MSG2_LEN(0))
		goto out;
	/* e */
	memcpy(hs->remote_e, msg, NOISE_KEY_LEN);
	mix_hash(hs->h, hs->remote_e, NOISE_KEY_LEN);
	mix_key(hs->ck, hs->remote_e, NOISE_KEY_LEN);

	/* ee */
	if (!mix_dh(hs->ck, NULL, hs->e_priv, hs->remote_e))
		goto out;

	/* se */
	if (!mix_dh(hs->ck, NULL, s_priv, hs->remote_e))
		goto out;

	/* psk */
	mix_psk(hs->ck, hs->h, key, psk);

	/* payload */
	ok = decrypt_and_hash(payload, msg + 32, msg_len - 32, key, hs->h);
out:
	sodium_memzero(key, sizeof(key));
	return ok;
}

void
noise_split(const struct noise_handshake *hs, uint8_t t1[NOISE_KEY_LEN],
	    uint8_t t2[NOISE_KEY_LEN])
{
	uint8_t a[NOISE_HASH_LEN], b[NOISE_HASH_LEN];

	kdf_derive(a, b, NULL, hs->ck, NULL, 0);
	memcpy(t1, a, NOISE_KEY_LEN);
	memcpy(t2, b, NOISE_KEY_LEN);
	sodium_memzero(a, sizeof(a));
	sodium_memzero(b, sizeof(b));
}

/* ---- local identity and peers --------------------------------------------- */

void
noise_local_init(struct noise_local *l, const struct noise_host *host,
		 const struct protocol_times *pt, struct index_table *indices,
		 struct tstamp_table *stamps)
{
	memset(l, 0, sizeof(*l));
	l->host = host;
	l->pt = pt;
	l->indices = indices;
	l->stamps = stamps;
}

bool
noise_local_set_private(struct noise_local *l, const uint8_t priv[NOISE_KEY_LEN])
{
	uint8_t pub[NOISE_KEY_LEN];

	if (!keys_public_from_private(pub, priv))
		return false;
	memcpy(l->static_private, priv, NOISE_KEY_LEN);
	memcpy(l->static_public, pub, NOISE_KEY_LEN);
	initial_hash_compute(l->initial_hash, pub);
	l->has_identity = true;
	return true;
}

void
noise_local_wipe(struct noise_local *l)
{
	sodium_memzero(l->static_private, NOISE_KEY_LEN);
	l->has_identity = false;
}

bool
noise_peer_init(struct noise_peer *p, struct noise_local *l,
		const uint8_t remote_public[NOISE_KEY_LEN], const uint8_t *psk,
		void *arg)
{
	uint8_t ss[NOISE_KEY_LEN];
	bool ok = noise_dh(ss, l->static_private, remote_public);

	noise_peer_init_ss(p, l, remote_public, ss, psk, arg);
	sodium_memzero(ss, sizeof(ss));
	return ok;
}

void
noise_peer_init_ss(struct noise_peer *p, struct noise_local *l,
		   const uint8_t remote_public[NOISE_KEY_LEN],
		   const uint8_t ss[NOISE_KEY_LEN], const uint8_t *psk,
		   void *arg)
{
	memset(p, 0, sizeof(*p));
	p->local = l;
	p->arg = arg;
	memcpy(p->remote_static, remote_public, NOISE_KEY_LEN);
	if (psk)
		memcpy(p->psk, psk, NOISE_KEY_LEN);
	memcpy(p->ss, ss, NOISE_KEY_LEN);
}

/* Gives kp back, wiped; the caller forgets its pointer to it. */
static void
keypair_drop(struct noise_local *l, struct noise_keypair *kp)
{
	if (!kp)
		return;
	if (kp->is_valid)
		index_table_remove(l->indices, kp->entry.local);
	sodium_memzero(kp, sizeof(*kp));
	free(kp);
}

/* Gives p's handshake back, wiped; its index, if any, has moved on. */
static void
handshake_free(struct noise_peer *p)
{
	if (!p->hs)
		return;
	sodium_memzero(p->hs, sizeof(*p->hs));
	free(p->hs);
	p->hs = NULL;
}

static void
handshake_drop(struct noise_peer *p)
{
	if (p->hs && p->hs->state == NOISE_HS_CREATED_INITIATION)
		index_table_remove(p->local->indices, p->hs->entry.local);
	handshake_free(p);
}

void
noise_peer_clear_keypairs(struct noise_peer *p)
{
	keypair_drop(p->local, p->current);
	keypair_drop(p->local, p->previous);
	keypair_drop(p->local, p->next);
	p->current = p->previous = p->next = NULL;
}

void
noise_peer_clear_handshake(struct noise_peer *p)
{
	handshake_drop(p);
}

enum noise_hs_state
noise_peer_hs_state(const struct noise_peer *p)
{
	return p->hs ? p->hs->state : NOISE_HS_ZEROED;
}

void
noise_peer_clear(struct noise_peer *p)
{
	handshake_drop(p);
	noise_peer_clear_keypairs(p);
}

void
noise_peer_wipe(struct noise_peer *p)
{
	noise_peer_clear(p);
	sodium_memzero(p, sizeof(*p));
}

/*
 * Registers `entry` under a fresh random index: `first` if it is free, else
 * new draws from the host.
 */
static bool
index_register(struct noise_local *l, struct noise_index *entry,
	       const uint8_t first[4])
{
	uint32_t idx;
	int tries;

	if (index_table_full(l->indices))
		return false;
	memcpy(&idx, first, sizeof(idx));
	for (tries = 0; tries < 64; tries++) {
		if (tries)
			l->host->random(l->host->arg, (uint8_t *)&idx,
					sizeof(idx));
		if (index_table_insert(l->indices, idx, entry)) {
			entry->local = idx;
			return true;
		}
	}
	return false;
}

/*
 * Rotation as WireGuard's add_new_keypair: an initiator's keypair is usable
 * at once and becomes current; a responder's waits in `next` until the
 * initiator proves it has it. The keypair takes over the handshake's index.
 * slot was allocated before the handshake was committed to (keypair_new),
 * so nothing here can fail.
 */
static void
keypair_install(struct noise_peer *p, struct noise_keypair *slot)
{
	struct noise_local *l = p->local;

	if (slot->is_initiator) {
		if (p->next) {
			keypair_drop(l, p->previous);
			p->previous = p->next;
			p->next = NULL;
			keypair_drop(l, p->current);
		} else {
			keypair_drop(l, p->previous);
			p->previous = p->current;
		}
		p->current = slot;
	} else {
		keypair_drop(l, p->next);
		keypair_drop(l, p->previous);
		p->previous = NULL;
		p->next = slot;
	}
	slot->entry.peer = p;
	slot->entry.kind = NOISE_INDEX_KEYPAIR;
	index_table_replace(l->indices, slot->entry.local, &slot->entry);
}

/* Room for the keypair a handshake will make: NULL if out of memory. */
static struct noise_keypair *
keypair_new(void)
{
	return calloc(1, sizeof(struct noise_keypair));
}

/* Fills kp (from keypair_new) from the finished handshake, and installs
 * it. */
static void
keypair_derive(struct noise_peer *p, struct noise_keypair *kp,
	       const struct noise_handshake *hs, bool is_initiator,
	       uint32_t local_index, uint64_t now_ns)
{
	if (is_initiator)
		noise_split(hs, kp->send_key, kp->recv_key);
	else
		noise_split(hs, kp->recv_key, kp->send_key);
	kp->entry.local = local_index;
	kp->remote_index = hs->remote_index;
	kp->birth_ns = now_ns;
	kp->is_initiator = is_initiator;
	kp->is_valid = true;
	replay_init(&kp->replay);
	keypair_install(p, kp);
}

/* ---- the protocol's messages 1 and 2 ------------------------------------- */

/*
 * The random bytes a handshake message needs, drawn in one call because a
 * host's source may cost a system call each time (getrandom).
 */
struct msg_random {
	uint8_t e_priv[NOISE_KEY_LEN];
	uint8_t index[4]; /* first choice of session index */
};

static void
msg_random_draw(struct noise_local *l, struct msg_random *r)
{
	l->host->random(l->host->arg, (uint8_t *)r, sizeof(*r));
	keys_clamp(r->e_priv);
}

enum noise_hs_result
noise_initiation_create(struct noise_peer *p, uint64_t now_ns, uint64_t wall_ns,
			struct wire_initiation *out)
{
	struct noise_local *l = p->local;
	struct noise_handshake hs, *kept = NULL;
	struct msg_random rnd;
	uint8_t stamp[TAI64N_LEN];
	enum noise_hs_result ret = NOISE_HS_INVALID;

	(void)now_ns;
	memset(&hs, 0, sizeof(hs));
	memset(&rnd, 0, sizeof(rnd));
	if (!l->has_identity)
		goto out;
	handshake_drop(p);

	noise_handshake_start(&hs, (const uint8_t *)NOISE_IDENTIFIER,
			      NOISE_IDENTIFIER_LEN, p->remote_static);
	msg_random_draw(l, &rnd);
	tai64n_encode(stamp, wall_ns);
	if (!noise_msg1_write(&hs, rnd.e_priv, l->static_private,
			      l->static_public, p->remote_static, p->ss, stamp,
			      sizeof(stamp), out->ephemeral))
		goto out;

	/* The index table points into the kept copy: it is made first. */
	kept = calloc(1, sizeof(*kept));
	if (!kept) {
		ret = NOISE_HS_NO_INDEX;
		goto out;
	}
	hs.entry.peer = p;
	hs.entry.kind = NOISE_INDEX_HANDSHAKE;
	if (!index_register(l, &kept->entry, rnd.index)) {
		ret = NOISE_HS_NO_INDEX;
		goto out;
	}
	hs.entry.local = kept->entry.local;
	hs.state = NOISE_HS_CREATED_INITIATION;
	memcpy(kept, &hs, sizeof(hs));
	p->hs = kept;
	kept = NULL;

	wire_header_set(out->header, WIRE_INITIATION);
	wire_put_le32(out->sender_index, hs.entry.local);
	memset(out->mac1, 0, sizeof(out->mac1));
	memset(out->mac2, 0, sizeof(out->mac2));
	ret = NOISE_HS_OK;
out:
	free(kept); /* not committed: holds nothing yet */
	sodium_memzero(&hs, sizeof(hs));
	sodium_memzero(&rnd, sizeof(rnd));
	return ret;
}

enum noise_hs_result
noise_initiation_consume(struct noise_local *l, uint64_t now_ns,
			 const struct wire_initiation *in,
			 struct noise_peer **peer_out)
{
	struct noise_handshake hs, *kept = NULL;
	struct noise_peer *p = NULL;
	uint8_t s[NOISE_KEY_LEN], stamp[TAI64N_LEN], ss[NOISE_KEY_LEN];
	enum noise_hs_result ret = NOISE_HS_INVALID;

	*peer_out = NULL;
	if (!l->has_identity)
		goto out;
	handshake_start_from(&hs, l->initial_hash);

	/* e, es, s */
	if (!noise_msg1_read_static(&hs, l->static_private, in->ephemeral, s))
		goto out;
	p = l->host->peer_by_key(l->host->arg, s);
	if (p) {
		memcpy(ss, p->ss, sizeof(ss));
	} else if (!l->host->peer_create) {
		ret = NOISE_HS_UNKNOWN_PEER;
		goto out;
	} else if (!noise_dh(ss, l->static_private, s)) {
		goto out;
	}
	/* ss, timestamp */
	if (!noise_msg1_read_payload(&hs, ss, in->ephemeral,
				     NOISE_MSG1_LEN(TAI64N_LEN), stamp))
		goto out;
	if (!tstamp_is_newer(l->stamps, s, stamp)) {
		ret = NOISE_HS_REPLAY;
		goto out;
	}
	if (p && p->has_consumed_initiation &&
	    now_ns - p->last_initiation_consumed_ns < INITIATION_MIN_INTERVAL_NS) {
		ret = NOISE_HS_FLOOD;
		goto out;
	}
	/* Before anything is committed: out of memory, the initiation is
	 * dropped as if lost. */
	kept = malloc(sizeof(*kept));
	if (!kept) {
		ret = NOISE_HS_NO_INDEX;
		goto out;
	}
	/* Verified whole: only now may a stranger cost us a peer. */
	if (!p && !(p = l->host->peer_create(l->host->arg, s, ss))) {
		ret = NOISE_HS_REFUSED;
		goto out;
	}

	tstamp_record(l->stamps, s, stamp, now_ns);
	p->last_initiation_consumed_ns = now_ns;
	p->has_consumed_initiation = true;
	handshake_drop(p);
	hs.remote_index = wire_get_le32(in->sender_index);
	hs.state = NOISE_HS_CONSUMED_INITIATION;
	hs.entry.peer = p;
	memcpy(kept, &hs, sizeof(hs));
	p->hs = kept;
	kept = NULL;
	*peer_out = p;
	ret = NOISE_HS_OK;
out:
	if (ret != NOISE_HS_OK && ret != NOISE_HS_INVALID && p)
		*peer_out = p;
	free(kept); /* not committed: holds nothing yet */
	sodium_memzero(&hs, sizeof(hs));
	sodium_memzero(s, sizeof(s));
	sodium_memzero(ss, sizeof(ss));
	return ret;
}

enum noise_hs_result
noise_response_create(struct noise_peer *p, uint64_t now_ns,
		      struct wire_response *out)
{
	struct noise_local *l = p->local;
	struct noise_handshake hs;
	struct noise_index *entry;
	struct noise_keypair *kp = NULL;
	struct msg_random rnd;
	enum noise_hs_result ret = NOISE_HS_INVALID;

	memset(&hs, 0, sizeof(hs));
	memset(&rnd, 0, sizeof(rnd));
	if (noise_peer_hs_state(p) != NOISE_HS_CONSUMED_INITIATION)
		goto out;
	memcpy(&hs, p->hs, sizeof(hs));
	entry = &p->hs->entry;
	kp = keypair_new();
	if (!kp) {
		ret = NOISE_HS_NO_INDEX;
		goto out;
	}

	msg_random_draw(l, &rnd);
	/* e, ee, se, psk, {} */
	if (!noise_msg2_write(&hs, rnd.e_priv, p->remote_static, p->psk, NULL,
			      0, out->ephemeral))
		goto out;

	/* The index goes straight to the keypair: the handshake ends here. */
	entry->peer = p;
	entry->kind = NOISE_INDEX_KEYPAIR;
	if (!index_register(l, entry, rnd.index)) {
		ret = NOISE_HS_NO_INDEX;
		goto out;
	}
	wire_header_set(out->header, WIRE_RESPONSE);
	wire_put_le32(out->sender_index, entry->local);
	wire_put_le32(out->receiver_index, hs.remote_index);
	memset(out->mac1, 0, sizeof(out->mac1));
	memset(out->mac2, 0, sizeof(out->mac2));

	keypair_derive(p, kp, &hs, false, entry->local, now_ns);
	kp = NULL;
	/* The index went to the keypair: the handshake is over. */
	handshake_free(p);
	ret = NOISE_HS_OK;
out:
	free(kp);
	sodium_memzero(&hs, sizeof(hs));
	sodium_memzero(&rnd, sizeof(rnd));
	return ret;
}

static struct noise_peer *
handshake_owner(struct noise_local *l, uint32_t index)
{
	struct noise_index *entry = index_table_lookup(l->indices, index);

	if (!entry || entry->kind != NOISE_INDEX_HANDSHAKE)
		return NULL;
	if (noise_peer_hs_state(entry->peer) != NOISE_HS_CREATED_INITIATION)
		return NULL;
	return entry->peer;
}

struct noise_peer *
noise_peer_by_handshake_index(struct noise_local *l, uint32_t index)
{
	return handshake_owner(l, index);
}

enum noise_hs_result
noise_response_consume(struct noise_local *l, uint64_t now_ns,
		       const struct wire_response *in,
		       struct noise_peer **peer_out)
{
	struct noise_handshake hs;
	struct noise_keypair *kp = NULL;
	struct noise_peer *p;
	uint32_t local_index;
	enum noise_hs_result ret = NOISE_HS_INVALID;

	*peer_out = NULL;
	memset(&hs, 0, sizeof(hs));
	if (!l->has_identity)
		goto out;
	p = handshake_owner(l, wire_get_le32(in->receiver_index));
	if (!p)
		goto out;
	memcpy(&hs, p->hs, sizeof(hs));

	/* e, ee, se, psk, {} */
	if (!noise_msg2_read(&hs, l->static_private, p->psk, in->ephemeral,
			     NOISE_MSG2_LEN(0), NULL))
		goto out;

	/* Out of memory: the response is dropped as if lost, and the
	 * handshake is retried as after a loss. */
	kp = keypair_new();
	if (!kp)
		goto out;
	local_index = p->hs->entry.local;
	hs.remote_index = wire_get_le32(in->sender_index);
	/* The index moves to the keypair, so the handshake no longer owns it. */
	handshake_free(p);
	keypair_derive(p, kp, &hs, true, local_index, now_ns);
	*peer_out = p;
	ret = NOISE_HS_OK;
out:
	sodium_memzero(&hs, sizeof(hs));
	return ret;
}

/* ---- transport ------------------------------------------------------------ */

static bool
keypair_usable(const struct noise_local *l, const struct noise_keypair *kp,
	       uint64_t now_ns)
{
	return kp && kp->is_valid &&
	       now_ns - kp->birth_ns < l->pt->reject_after_ns &&
	       kp->send_counter < REJECT_AFTER_MESSAGES;
}

bool
noise_peer_can_send(const struct noise_peer *p, uint64_t now_ns)
{
	return keypair_usable(p->local, p->current, now_ns);
}

uint64_t
noise_peer_current_birth(const struct noise_peer *p)
{
	return p->current && p->current->is_valid ? p->current->birth_ns : 0;
}

enum noise_tx
noise_encrypt_begin(struct noise_peer *p, uint64_t now_ns, uint8_t *msg,
		    size_t plain_len, size_t mtu, size_t *msg_len,
		    struct noise_crypt *job)
{
	struct noise_keypair *kp = p->current;
	struct wire_data_header *hdr = (struct wire_data_header *)msg;
	uint8_t *plain = msg + WIRE_DATA_HEADER_LEN;
	uint64_t counter;
	size_t padded;

	if (!keypair_usable(p->local, kp, now_ns))
		return NOISE_TX_NO_KEY;
	counter = kp->send_counter++;
	padded = wire_padded_len(plain_len, mtu);
	memset(plain + plain_len, 0, padded - plain_len);
	wire_header_set(hdr->header, WIRE_DATA);
	wire_put_le32(hdr->receiver_index, kp->remote_index);
	wire_put_le64(hdr->counter, counter);
	job->data = plain;
	job->len = padded;
	job->counter = counter;
	job->key = kp->send_key;
	job->kp = kp;
	*msg_len = WIRE_DATA_HEADER_LEN + padded + NOISE_TAG_LEN;

	/* keep_key_fresh, send side */
	if (kp->send_counter > REKEY_AFTER_MESSAGES ||
	    (kp->is_initiator &&
	     now_ns - kp->birth_ns >= p->local->pt->rekey_after_ns))
		return NOISE_TX_OK_REKEY;
	return NOISE_TX_OK;
}

void
noise_seal(struct noise_crypt *job)
{
	aead_encrypt(job->data, job->data, job->len, NULL, 0, job->counter,
		     job->key);
}

enum noise_tx
noise_encrypt(struct noise_peer *p, uint64_t now_ns, uint8_t *msg,
	      size_t plain_len, size_t mtu, size_t *msg_len)
{
	struct noise_crypt job;
	enum noise_tx r;

	r = noise_encrypt_begin(p, now_ns, msg, plain_len, mtu, msg_len, &job);
	if (r != NOISE_TX_NO_KEY)
		noise_seal(&job);
	return r;
}

static void
keypair_confirm(struct noise_peer *p)
{
	struct noise_keypair *old_previous = p->previous;

	p->previous = p->current;
	p->current = p->next;
	p->next = NULL;
	keypair_drop(p->local, old_previous);
}

/* A keypair that may open a message with `counter` now. */
static bool
keypair_receives(const struct noise_local *l, const struct noise_keypair *kp,
		 uint64_t counter, uint64_t now_ns)
{
	return kp->is_valid && now_ns - kp->birth_ns < l->pt->reject_after_ns &&
	       counter < REJECT_AFTER_MESSAGES;
}

/* The keypair that owns receiver index `index`, or NULL. */
static struct noise_keypair *
keypair_by_index(struct noise_local *l, uint32_t index)
{
	struct noise_index *entry = index_table_lookup(l->indices, index);

	if (!entry || entry->kind != NOISE_INDEX_KEYPAIR)
		return NULL;
	return (struct noise_keypair *)((uint8_t *)entry -
					offsetof(struct noise_keypair, entry));
}

enum noise_rx
noise_decrypt_begin(struct noise_local *l, uint64_t now_ns, uint8_t *msg,
		    size_t len, struct noise_crypt *job)
{
	const struct wire_data_header *hdr = (const struct wire_data_header *)msg;
	struct noise_keypair *kp;
	uint64_t counter;
	uint32_t index;

	if (len < WIRE_DATA_MIN_LEN)
		return NOISE_RX_INVALID;
	index = wire_get_le32(hdr->receiver_index);
	kp = keypair_by_index(l, index);
	counter = wire_get_le64(hdr->counter);
	if (!kp || !keypair_receives(l, kp, counter, now_ns))
		return NOISE_RX_INVALID;
	/* A look only: the window moves once the packet is authentic. */
	if (!replay_may_accept(&kp->replay, counter))
		return NOISE_RX_REPLAY;
	job->data = msg + WIRE_DATA_HEADER_LEN;
	job->len = len - WIRE_DATA_HEADER_LEN;
	job->counter = counter;
	job->key = kp->recv_key;
	job->kp = kp;
	job->index = index;
	job->is_authentic = false;
	return NOISE_RX_OK;
}

void
noise_open(struct noise_crypt *job)
{
	job->is_authentic = aead_decrypt(job->data, job->data, job->len, NULL,
					 0, job->counter, job->key);
}

enum noise_rx
noise_decrypt_finish(struct noise_local *l, uint64_t now_ns,
		     const struct noise_crypt *job,
		     struct noise_peer **peer_out, size_t *plain_len)
{
	const struct protocol_times *pt = l->pt;
	struct noise_keypair *kp = keypair_by_index(l, job->index);
	struct noise_peer *p;

	*peer_out = NULL;
	*plain_len = 0;
	if (!job->is_authentic)
		return NOISE_RX_INVALID;
	/* An earlier packet of the batch may have dropped the keypair
	 * (confirming a newer one, or its host ending the session). */
	if (kp != job->kp || !keypair_receives(l, kp, job->counter, now_ns))
		return NOISE_RX_INVALID;
	/* Authenticate first: only a genuine packet may move the window. */
	if (!replay_check(&kp->replay, job->counter))
		return NOISE_RX_REPLAY;

	p = kp->entry.peer;
	*peer_out = p;
	*plain_len = job->len - NOISE_TAG_LEN;
	if (kp == p->next) {
		keypair_confirm(p);
		return NOISE_RX_CONFIRMED;
	}
	/*
	 * The other side sends under the current keypair, which is older
	 * than REKEY_TIMEOUT: whatever it sent under the previous one has
	 * arrived or is lost. Its memory goes now rather than at the next
	 * rotation, so an idle session holds one keypair, not two.
	 */
	if (kp == p->current && p->previous &&
	    now_ns - kp->birth_ns >= pt->rekey_timeout_ns) {
		keypair_drop(l, p->previous);
		p->previous = NULL;
	}
	/*
	 * keep_key_fresh, receive side, once per keypair. It is about the
	 * current keypair, as in WireGuard, whichever one this packet came
	 * through: a late packet under the previous keypair does not call
	 * for a new handshake when the current one is fresh.
	 */
	kp = p->current;
	if (kp && kp->is_initiator && !kp->rekey_signalled &&
	    now_ns - kp->birth_ns >= pt->reject_after_ns - pt->keepalive_ns -
					     pt->rekey_timeout_ns) {
		kp->rekey_signalled = true;
		return NOISE_RX_OK_REKEY;
	}
	return NOISE_RX_OK;
}

enum noise_rx
noise_decrypt(struct noise_local *l, uint64_t now_ns, uint8_t *msg, size_t len,
	      struct noise_peer **peer_out, size_t *plain_len)
{
	struct noise_crypt job;
	enum noise_rx r;

	*peer_out = NULL;
	*plain_len = 0;
	r = noise_decrypt_begin(l, now_ns, msg, len, &job);
	if (r != NOISE_RX_OK)
		return r;
	noise_open(&job);
	return noise_decrypt_finish(l, now_ns, &job, peer_out, plain_len);
}
