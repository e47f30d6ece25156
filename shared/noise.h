/* SPDX-License-Identifier: MIT */
/*
 * Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b (PROTOCOL.md sections 4 and 5) and
 * keypair rotation. Two layers:
 *
 *  - the Noise steps themselves (noise_msg1_write() ...), with prologue,
 *    keys, ephemerals and payloads as arguments, so published vectors
 *    replay exactly;
 *  - peers: the protocol's messages 1 and 2 with IDENTIFIER as prologue and
 *    TAI64N as payload, session indices, the greatest-timestamp check, the
 *    current/previous/next keypairs with key confirmation, and transport
 *    encryption in place.
 *
 * No I/O, no clock, no randomness of its own: time is an argument and the
 * host supplies random bytes and peers through struct noise_host. MACs are
 * cookie.c's job; the caller adds and checks them around these functions.
 * Nothing here allocates.
 */
#ifndef VPN_NOISE_H
#define VPN_NOISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "index.h"
#include "replay.h"
#include "timers.h"
#include "tstamp.h"
#include "wire.h"

#define NOISE_KEY_LEN 32
#define NOISE_HASH_LEN 64
#define NOISE_TAG_LEN 16
#define NOISE_MSG1_LEN(payload_len) (32 + 32 + 16 + (payload_len) + 16)
#define NOISE_MSG2_LEN(payload_len) (32 + (payload_len) + 16)
/* Bytes a transport message adds to its padded plaintext. */
#define NOISE_DATA_OVERHEAD (WIRE_DATA_HEADER_LEN + NOISE_TAG_LEN)

extern const char NOISE_CONSTRUCTION[];  /* 37 bytes, no NUL counted */
extern const char NOISE_IDENTIFIER[];    /* 21 bytes, the prologue */
#define NOISE_CONSTRUCTION_LEN 37
#define NOISE_IDENTIFIER_LEN 21

/* ---- The Noise steps ----------------------------------------------------- */

enum noise_hs_state {
	NOISE_HS_ZEROED = 0,
	NOISE_HS_CREATED_INITIATION,
	NOISE_HS_CONSUMED_INITIATION,
};

enum noise_index_kind {
	NOISE_INDEX_HANDSHAKE = 1,
	NOISE_INDEX_KEYPAIR,
};

struct noise_peer;

/* What the session index table points at. */
struct noise_index {
	uint32_t local;
	uint8_t kind; /* enum noise_index_kind */
	struct noise_peer *peer;
};

struct noise_handshake {
	struct noise_index entry; /* registered while CREATED_INITIATION */
	enum noise_hs_state state;
	uint8_t ck[NOISE_HASH_LEN]; /* C */
	uint8_t h[NOISE_HASH_LEN];  /* H */
	uint8_t e_priv[NOISE_KEY_LEN];
	uint8_t e_pub[NOISE_KEY_LEN];
	uint8_t remote_e[NOISE_KEY_LEN];
	uint32_t remote_index;
};

/* C = H = CONSTRUCTION || zeros; H = HASH(H || prologue); H = HASH(H || rs) */
void noise_handshake_start(struct noise_handshake *hs, const uint8_t *prologue,
			   size_t prologue_len,
			   const uint8_t responder_public[NOISE_KEY_LEN]);

/* X25519 that refuses an all-zero result (PROTOCOL.md section 1). */
bool noise_dh(uint8_t out[NOISE_KEY_LEN], const uint8_t priv[NOISE_KEY_LEN],
	      const uint8_t pub[NOISE_KEY_LEN])
	__attribute__((warn_unused_result));

/*
 * Initiator: -> e, es, s, ss, then payload. `ss` is DH(s, rs) if the caller
 * precomputed it, else NULL. Writes NOISE_MSG1_LEN(payload_len) bytes.
 */
bool noise_msg1_write(struct noise_handshake *hs,
		      const uint8_t e_priv[NOISE_KEY_LEN],
		      const uint8_t s_priv[NOISE_KEY_LEN],
		      const uint8_t s_pub[NOISE_KEY_LEN],
		      const uint8_t rs[NOISE_KEY_LEN], const uint8_t *ss,
		      const uint8_t *payload, size_t payload_len, uint8_t *out)
	__attribute__((warn_unused_result));

/* Responder: <- e, es, s. Learns the initiator's static key. */
bool noise_msg1_read_static(struct noise_handshake *hs,
			    const uint8_t s_priv[NOISE_KEY_LEN],
			    const uint8_t *msg,
			    uint8_t initiator_public[NOISE_KEY_LEN])
	__attribute__((warn_unused_result));

/* Responder: <- ss, then the payload (msg_len - 96 bytes) into `payload`. */
bool noise_msg1_read_payload(struct noise_handshake *hs,
			     const uint8_t ss[NOISE_KEY_LEN], const uint8_t *msg,
			     size_t msg_len, uint8_t *payload)
	__attribute__((warn_unused_result));

/* Responder: -> e, ee, se, psk, then payload; NOISE_MSG2_LEN bytes. */
bool noise_msg2_write(struct noise_handshake *hs,
		      const uint8_t e_priv[NOISE_KEY_LEN],
		      const uint8_t initiator_public[NOISE_KEY_LEN],
		      const uint8_t psk[NOISE_KEY_LEN], const uint8_t *payload,
		      size_t payload_len, uint8_t *out)
	__attribute__((warn_unused_result));

/* Initiator: <- e, ee, se, psk, then the payload (msg_len - 48 bytes). */
bool noise_msg2_read(struct noise_handshake *hs,
		     const uint8_t s_priv[NOISE_KEY_LEN],
		     const uint8_t psk[NOISE_KEY_LEN], const uint8_t *msg,
		     size_t msg_len, uint8_t *payload)
	__attribute__((warn_unused_result));

/* (T1, T2) = KDF2(C, ε), each cut to 32 bytes. */
void noise_split(const struct noise_handshake *hs,
		 uint8_t t1[NOISE_KEY_LEN], uint8_t t2[NOISE_KEY_LEN]);

/* ---- Peers ------------------------------------------------------------------ */

struct noise_host {
	void *arg;
	/* Fills buf with len bytes from a CSPRNG. */
	void (*random)(void *arg, uint8_t *buf, size_t len);
	/* The existing peer for an initiator's static key, or NULL. */
	struct noise_peer *(*peer_by_key)(void *arg,
					  const uint8_t pub[NOISE_KEY_LEN]);
	/*
	 * Optional (NULL: only known keys may initiate). Called for a key
	 * peer_by_key does not know, only once its initiation has been
	 * verified whole (both AEADs, and a timestamp newer than any seen for
	 * that key), so nothing is allocated for junk: creates and
	 * initialises the peer (noise_peer_init_ss with `ss`, DH(our static,
	 * pub), already computed), or returns NULL to refuse it.
	 */
	struct noise_peer *(*peer_create)(void *arg,
					  const uint8_t pub[NOISE_KEY_LEN],
					  const uint8_t ss[NOISE_KEY_LEN]);
};

struct noise_local {
	const struct noise_host *host;
	const struct protocol_times *pt;
	struct index_table *indices;
	struct tstamp_table *stamps;
	bool has_identity;
	uint8_t static_private[NOISE_KEY_LEN];
	uint8_t static_public[NOISE_KEY_LEN];
	/* H after the prologue and our key: where initiations to us start */
	uint8_t initial_hash[NOISE_HASH_LEN];
};

/* The flags sit in the hole after the keys: 376 bytes, which malloc
 * serves from a 384-byte chunk (one a session keeps while idle). */
struct noise_keypair {
	struct noise_index entry;
	uint32_t remote_index;
	uint8_t send_key[NOISE_KEY_LEN];
	uint8_t recv_key[NOISE_KEY_LEN];
	bool is_valid;
	bool is_initiator;
	bool rekey_signalled; /* receive-side rekey reported once */
	uint64_t send_counter; /* the next counter to send */
	uint64_t birth_ns;
	struct replay_window replay;
};

struct noise_peer {
	struct noise_local *local;
	void *arg; /* the host's own peer object */
	uint8_t remote_static[NOISE_KEY_LEN];
	uint8_t psk[NOISE_KEY_LEN];
	uint8_t ss[NOISE_KEY_LEN]; /* DH(s, rs): the same for every handshake */
	uint64_t last_initiation_consumed_ns;
	bool has_consumed_initiation;
	/* Allocated when an initiation is made or consumed, freed (wiped)
	 * when the handshake ends or is dropped: NULL between handshakes,
	 * so an idle session holds none. */
	struct noise_handshake *hs;
	/* Allocated when a handshake makes them, freed (wiped) when dropped:
	 * a session holds only the keypairs it has, mostly one or two. */
	struct noise_keypair *current, *previous, *next;
};

void noise_local_init(struct noise_local *l, const struct noise_host *host,
		      const struct protocol_times *pt,
		      struct index_table *indices, struct tstamp_table *stamps);
/* Sets the static key pair; false if `priv` is unusable. */
bool noise_local_set_private(struct noise_local *l,
			     const uint8_t priv[NOISE_KEY_LEN])
	__attribute__((warn_unused_result));
void noise_local_wipe(struct noise_local *l);

/*
 * Prepares a peer for `remote_public` (psk NULL: 32 zero bytes). False if
 * the pair of static keys gives an all-zero DH: no handshake could succeed.
 */
bool noise_peer_init(struct noise_peer *p, struct noise_local *l,
		     const uint8_t remote_public[NOISE_KEY_LEN],
		     const uint8_t *psk, void *arg)
	__attribute__((warn_unused_result));
/* The same, with ss = DH(our static, remote_public) already computed (and
 * not all zero), as noise_host.peer_create receives it. */
void noise_peer_init_ss(struct noise_peer *p, struct noise_local *l,
			const uint8_t remote_public[NOISE_KEY_LEN],
			const uint8_t ss[NOISE_KEY_LEN], const uint8_t *psk,
			void *arg);
/* Drops the handshake and every keypair, releasing their indices. */
void noise_peer_clear(struct noise_peer *p);
/* Drops every keypair (the zero-keys timer); the handshake stays. */
void noise_peer_clear_keypairs(struct noise_peer *p);
/* Drops an unfinished handshake (gave up). */
void noise_peer_clear_handshake(struct noise_peer *p);
/* The state of p's handshake (NOISE_HS_ZEROED: none under way). */
enum noise_hs_state noise_peer_hs_state(const struct noise_peer *p);
/* Wipes everything, including the static DH; the struct is then unused. */
void noise_peer_wipe(struct noise_peer *p);

enum noise_hs_result {
	NOISE_HS_OK,
	NOISE_HS_INVALID,      /* drop: bad AEAD, bad key, wrong state */
	NOISE_HS_UNKNOWN_PEER, /* a key the host does not know, nor creates */
	NOISE_HS_REFUSED,      /* verified, but peer_create refused it (full) */
	NOISE_HS_REPLAY,       /* timestamp not newer than the greatest */
	NOISE_HS_FLOOD,        /* initiations faster than 50 a second */
	NOISE_HS_NO_INDEX,     /* index table full, or no memory for the
				* handshake or the keypair */
};

/*
 * Initiator: fills `out` except mac1/mac2 (cookie_maker_add_macs). wall_ns
 * is the UNIX time for TAI64N. Replaces any unfinished handshake.
 */
enum noise_hs_result noise_initiation_create(struct noise_peer *p,
					     uint64_t now_ns, uint64_t wall_ns,
					     struct wire_initiation *out)
	__attribute__((warn_unused_result));

/* Responder: consumes an initiation whose mac1 was checked. */
enum noise_hs_result noise_initiation_consume(struct noise_local *l,
					      uint64_t now_ns,
					      const struct wire_initiation *in,
					      struct noise_peer **peer_out)
	__attribute__((warn_unused_result));

/*
 * Responder: answers the consumed initiation (fills `out` but the MACs) and
 * derives the new keypair as `next`; it becomes current on the first
 * transport message received with it.
 */
enum noise_hs_result noise_response_create(struct noise_peer *p,
					   uint64_t now_ns,
					   struct wire_response *out)
	__attribute__((warn_unused_result));

/* Initiator: consumes a response (mac1 checked); the new keypair becomes
 * current at once. */
enum noise_hs_result noise_response_consume(struct noise_local *l,
					    uint64_t now_ns,
					    const struct wire_response *in,
					    struct noise_peer **peer_out)
	__attribute__((warn_unused_result));

/* The peer whose unfinished initiation owns `index` (for cookie replies). */
struct noise_peer *noise_peer_by_handshake_index(struct noise_local *l,
						 uint32_t index);

enum noise_tx {
	NOISE_TX_OK,
	NOISE_TX_OK_REKEY, /* sent; start a new handshake */
	NOISE_TX_NO_KEY,   /* nothing sent: no usable keypair; handshake */
};

/*
 * Encrypts in place: `msg` holds WIRE_DATA_HEADER_LEN bytes of room, then
 * plain_len bytes of plaintext, and must have room for padding up to `mtu`
 * and NOISE_TAG_LEN more. Writes the header; *msg_len is the datagram size.
 */
enum noise_tx noise_encrypt(struct noise_peer *p, uint64_t now_ns,
			    uint8_t *msg, size_t plain_len, size_t mtu,
			    size_t *msg_len)
	__attribute__((warn_unused_result));

enum noise_rx {
	NOISE_RX_OK,        /* deliver */
	NOISE_RX_OK_REKEY,  /* deliver, then start a new handshake */
	NOISE_RX_CONFIRMED, /* deliver; our next keypair is now current */
	NOISE_RX_REPLAY,    /* drop silently */
	NOISE_RX_INVALID,   /* drop, count */
};

/*
 * Decrypts a type 4 message of `len` bytes in place: on success the
 * plaintext is at msg + WIRE_DATA_HEADER_LEN, *plain_len bytes long, and
 * *peer_out is its peer. Authenticates before touching the replay window.
 */
enum noise_rx noise_decrypt(struct noise_local *l, uint64_t now_ns,
			    uint8_t *msg, size_t len,
			    struct noise_peer **peer_out, size_t *plain_len)
	__attribute__((warn_unused_result));

/*
 * The two functions above in three steps, so that the AEAD of a batch can
 * run on several threads (cryptopool.h) while everything else stays on
 * the caller's, in order: noise_encrypt_begin does all of noise_encrypt
 * but the AEAD (keypair, counter, header, padding) and leaves it in a
 * job for noise_seal; noise_decrypt_begin finds the keypair and looks at
 * the replay window without moving it, noise_open authenticates and
 * decrypts, noise_decrypt_finish moves the window and confirms keypairs.
 * noise_seal and noise_open touch only the job's bytes and read its key:
 * they may run on any thread, while the caller changes no keypair.
 */
struct noise_crypt {
	uint8_t *data;  /* padded plaintext; or ciphertext, tag included */
	size_t len;     /* seal: without the tag; open: with it */
	uint64_t counter;
	const uint8_t *key;
	/* open: the keypair, found again by its index when finishing, in
	 * case an earlier packet's finish dropped it meanwhile */
	const struct noise_keypair *kp;
	uint32_t index;
	bool is_authentic; /* open's result */
};

/* As noise_encrypt, leaving the AEAD in *job (unless NO_KEY). The
 * keypair must live until noise_seal(job) has run. */
enum noise_tx noise_encrypt_begin(struct noise_peer *p, uint64_t now_ns,
				  uint8_t *msg, size_t plain_len, size_t mtu,
				  size_t *msg_len, struct noise_crypt *job)
	__attribute__((warn_unused_result));
void noise_seal(struct noise_crypt *job);

/* NOISE_RX_OK: *job is ready for noise_open; INVALID or REPLAY: drop
 * (nothing changed). */
enum noise_rx noise_decrypt_begin(struct noise_local *l, uint64_t now_ns,
				  uint8_t *msg, size_t len,
				  struct noise_crypt *job)
	__attribute__((warn_unused_result));
void noise_open(struct noise_crypt *job);
/* The rest of noise_decrypt for a job noise_open has run; jobs are
 * finished in the order their datagrams arrived. */
enum noise_rx noise_decrypt_finish(struct noise_local *l, uint64_t now_ns,
				   const struct noise_crypt *job,
				   struct noise_peer **peer_out,
				   size_t *plain_len)
	__attribute__((warn_unused_result));

/* True if the current keypair may send now (exists, fresh, confirmed). */
bool noise_peer_can_send(const struct noise_peer *p, uint64_t now_ns);
/* Birth of the current keypair, or 0 without one. */
uint64_t noise_peer_current_birth(const struct noise_peer *p);

#endif
