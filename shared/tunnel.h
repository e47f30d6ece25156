/* SPDX-License-Identifier: MIT */
/*
 * The protocol engine between the UDP socket and the program: dispatches
 * received datagrams (handshakes, cookie replies, transport data), answers
 * handshakes, asks for cookies under load, follows the timers of section 7,
 * stages packets while no session exists, sends keepalives, and updates a
 * peer's endpoint from every authenticated datagram (roaming). vpnd and
 * vpnc share it; they differ only in how they find peers and what they do
 * with delivered plaintext.
 *
 * No I/O, no clock, no randomness of its own: datagrams leave through
 * tunnel_ops.send, time is an argument, random bytes come from ops.random.
 * Allocation happens only when a tunnel or a peer is set up.
 */
#ifndef VPN_TUNNEL_H
#define VPN_TUNNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cookie.h"
#include "endpoint.h"
#include "index.h"
#include "noise.h"
#include "ratelimit.h"
#include "timers.h"
#include "tstamp.h"
#include "wire.h"

struct tunnel_peer;

struct tunnel_ops {
	void (*random)(void *arg, uint8_t *buf, size_t len);
	/* Sends one datagram now (handshake, cookie reply, keepalive, staged
	 * or control packet). */
	void (*send)(void *arg, const struct endpoint *ep, const uint8_t *buf,
		     size_t len);
	/* The existing peer for an initiator's static key, or NULL. */
	struct tunnel_peer *(*peer_by_key)(void *arg, const uint8_t pub[32]);
	/*
	 * Optional (vpnd): a peer for a key peer_by_key does not know, called
	 * only once its initiation is verified whole (noise_host.peer_create).
	 * The host sets p up with tunnel_peer_init_ss(..., ss, ...), or
	 * returns NULL to refuse it.
	 */
	struct tunnel_peer *(*peer_create)(void *arg, const uint8_t pub[32],
					   const uint8_t ss[32]);
	/* Authenticated plaintext from p: an IP packet of `len` bytes or a
	 * control message (len is the whole plaintext). May modify pkt. */
	void (*deliver)(void *arg, struct tunnel_peer *p,
			enum wire_payload kind, uint8_t *pkt, size_t len);
	/* Optional. A new session with p can carry data both ways. */
	void (*session_started)(void *arg, struct tunnel_peer *p);
	/* Optional. Handshake retries for p ran out (REKEY_ATTEMPT_TIME). */
	void (*handshake_gave_up)(void *arg, struct tunnel_peer *p);
	/* Optional. p's keys were zeroed after 3 * REJECT_AFTER_TIME idle. */
	void (*keys_zeroed)(void *arg, struct tunnel_peer *p);
	/* Optional. p's endpoint moved to another remote address or port
	 * (roaming): called once per move, not per datagram. */
	void (*endpoint_changed)(void *arg, struct tunnel_peer *p);
};

struct tunnel_stats {
	uint64_t rx_invalid;      /* bad length, header, type */
	uint64_t rx_bad_mac;      /* mac1 wrong: dropped before any DH */
	uint64_t rx_handshake_invalid;
	uint64_t rx_handshake_replay;
	uint64_t rx_ratelimited;  /* initiations over their source's rate */
	uint64_t peers_refused;   /* verified, but peer_create said no */
	uint64_t rx_data_invalid; /* no keypair, failed AEAD, expired */
	uint64_t rx_replay;
	uint64_t rx_malformed;    /* plaintext neither IP nor control */
	uint64_t cookies_sent;
	uint64_t staged_dropped;
	uint64_t handshakes;      /* sessions started (either side's) */
};

struct tunnel {
	const struct tunnel_ops *ops;
	void *arg;
	struct protocol_times pt;
	struct noise_host noise_host;
	struct noise_local local;
	struct cookie_checker checker;
	struct index_table indices;
	struct tstamp_table stamps;
	size_t mtu;     /* padding limit; tunnel_set_mtu() may lower it */
	size_t max_mtu; /* what the buffers were sized for */
	/* Handshake messages a second before mac2 (a cookie) is required. */
	uint32_t handshake_rate;
	uint64_t load_tokens;
	uint64_t load_refill_ns;
	/* Initiations per source (tunnel_set_source_limit); off if !has. */
	struct ratelimit source_limit;
	bool has_source_limit;
	uint8_t *scratch; /* one datagram, for packets the engine sends */
	/* While tunnel_receive() runs: where the datagram came from, for
	 * the host's callbacks (peer_create). */
	const struct endpoint *rx_src;
	struct tunnel_stats stats;
};

struct tunnel_peer {
	struct tunnel *tunnel;
	void *arg;
	struct noise_peer noise;
	struct timers timers;
	struct cookie_maker cookie;
	struct endpoint endpoint;
	bool has_endpoint;
	/*
	 * The address a handshake went to and was answered from: the source
	 * of an initiation whose response was used (key confirmation), or
	 * where our initiation went when its response came. Roaming never
	 * moves it, so a peer cannot claim a source it does not receive at.
	 */
	struct endpoint verified_endpoint;
	bool has_verified_endpoint;
	struct endpoint hs_endpoint; /* of the handshake under way */
	bool can_initiate; /* vpnd: only towards admitted clients */
	/* Padding limit if lower than the tunnel's (0: the tunnel's): a
	 * client whose path carries less than the device (pmtu.h). */
	size_t mtu;
	/* Packets waiting for a session: a ring of plaintexts. */
	uint8_t *staged;
	uint16_t *staged_len;
	size_t staged_slot; /* bytes per staged packet */
	unsigned int staged_cap, staged_head, staged_count;
	uint64_t rx_bytes, tx_bytes;     /* authenticated datagrams */
	uint64_t rx_packets, tx_packets; /* of them, data (not keepalives) */
	uint64_t last_handshake_wall_ns;
};

/* Buffer room a transport message needs around a plaintext of up to mtu. */
#define TUNNEL_BUF_LEN(mtu) (WIRE_DATA_HEADER_LEN + (mtu) + WIRE_PAD_MULTIPLE + \
			     NOISE_TAG_LEN)

/* What a transport message adds to a packet on the path, outer IP and UDP
 * headers included: 60 bytes over IPv4, 80 over IPv6 (20 or 40 + 8 + 16 +
 * 16). A tunnel MTU of the path's MTU less this is never fragmented. */
#define TUNNEL_OVERHEAD(family)                                              \
	(((family) == AF_INET6 ? 40 : 20) + 8 + WIRE_DATA_HEADER_LEN +       \
	 NOISE_TAG_LEN)
/* The bounds of a tunnel MTU: IPv6's minimum link MTU (RFC 8200 section
 * 5), so that IPv6 always crosses, and jumbo frames. */
#define TUNNEL_MTU_MIN 1280
#define TUNNEL_MTU_MAX 9000
/* The tunnel MTU for a path of path_mtu bytes over family, within the
 * bounds above: below the minimum, the outer datagrams are fragmented. */
size_t tunnel_mtu_for_path(unsigned int path_mtu, int family);

/*
 * Sets up the local side: static key, protocol times (copied), room for
 * max_peers peers, the tunnel MTU and the handshake rate above which
 * cookies are required (0: never). 0 or -errno.
 */
int tunnel_init(struct tunnel *t, const struct tunnel_ops *ops, void *arg,
		const struct protocol_times *pt, const uint8_t priv[32],
		uint32_t max_peers, size_t mtu, uint32_t handshake_rate)
	__attribute__((warn_unused_result));
void tunnel_free(struct tunnel *t);
/*
 * Limits initiations to `rate` a second (bursts of `burst`) per source
 * address (IPv4, or IPv6 /64), cookie or not, remembering up to `sources`
 * sources at once. 0 or -errno.
 */
int tunnel_set_source_limit(struct tunnel *t, uint32_t rate, uint32_t burst,
			    uint32_t sources)
	__attribute__((warn_unused_result));
/* Sets the MTU used for padding and staging, at most the one of init. */
void tunnel_set_mtu(struct tunnel *t, size_t mtu);

/*
 * Prepares p for the peer with static key pub (psk NULL: zeros), with room
 * to stage `staged_cap` packets. -EINVAL if the key is unusable.
 */
int tunnel_peer_init(struct tunnel *t, struct tunnel_peer *p,
		     const uint8_t pub[32], const uint8_t *psk,
		     unsigned int staged_cap, void *arg)
	__attribute__((warn_unused_result));
/* The same with DH(our static, pub) given (tunnel_ops.peer_create). */
int tunnel_peer_init_ss(struct tunnel *t, struct tunnel_peer *p,
			const uint8_t pub[32], const uint8_t ss[32],
			const uint8_t *psk, unsigned int staged_cap, void *arg)
	__attribute__((warn_unused_result));
/* Releases p's indices and buffers and wipes its keys. */
void tunnel_peer_free(struct tunnel_peer *p);
/* Ends p's session (keys, handshake, staged packets, timers); p stays
 * usable. */
void tunnel_peer_reset(struct tunnel_peer *p);
void tunnel_peer_set_endpoint(struct tunnel_peer *p, const struct endpoint *ep);
void tunnel_peer_set_keepalive(struct tunnel_peer *p, uint64_t now_ns,
			       unsigned int interval_s);
/* Earliest timer deadline of p (loop_now_ns time), or TIMER_OFF. */
uint64_t tunnel_peer_deadline(const struct tunnel_peer *p);
/* True if p has a session that can send now. */
bool tunnel_peer_has_session(const struct tunnel_peer *p, uint64_t now_ns);

/*
 * Handles one datagram from `src`; buf is modified in place. Returns the
 * peer it concerned (its timers may have moved), or NULL.
 */
struct tunnel_peer *tunnel_receive(struct tunnel *t, uint8_t *buf, size_t len,
		    const struct endpoint *src, uint64_t now_ns,
		    uint64_t wall_ns);

enum tunnel_tx {
	TUNNEL_TX_SEND,    /* msg holds *msg_len bytes for p->endpoint */
	TUNNEL_TX_STAGED,  /* kept until a session exists; handshake started */
	TUNNEL_TX_DROPPED, /* no endpoint, or may not initiate */
};

/*
 * Encrypts the plaintext at msg + WIRE_DATA_HEADER_LEN (plain_len bytes,
 * buffer of TUNNEL_BUF_LEN(mtu)) in place for p and runs the send-side
 * timers and rekey rules. The caller sends the result (it may batch).
 */
enum tunnel_tx tunnel_encrypt(struct tunnel *t, struct tunnel_peer *p,
			      uint8_t *msg, size_t plain_len, uint64_t now_ns,
			      uint64_t wall_ns, size_t *msg_len)
	__attribute__((warn_unused_result));

/*
 * Batches whose AEAD runs on several threads (cryptopool.h), everything
 * else staying on the caller's, in order; see noise_crypt in noise.h.
 * Below TUNNEL_SPREAD_MIN_BYTES of AEAD in all, a batch runs on the
 * caller alone: waking a thread would cost a lone packet more than it
 * saves.
 */
#define TUNNEL_SPREAD_MIN_BYTES 16384
struct cryptopool;

/*
 * tunnel_encrypt, leaving the AEAD in *job when it returns TUNNEL_TX_SEND:
 * the message is sendable once tunnel_seal_batch has run over the job. No
 * keypair may be dropped in between (one loop callback: nothing on the
 * send path drops one).
 */
enum tunnel_tx tunnel_encrypt_begin(struct tunnel *t, struct tunnel_peer *p,
				    uint8_t *msg, size_t plain_len,
				    uint64_t now_ns, uint64_t wall_ns,
				    size_t *msg_len, struct noise_crypt *job)
	__attribute__((warn_unused_result));
/* Seals the n jobs, on the pool's threads if it pays (pool may be NULL). */
void tunnel_seal_batch(struct cryptopool *pool, struct noise_crypt *jobs,
		       size_t n);

/* Data messages whose AEAD waits for the rest of their batch. */
#define TUNNEL_RX_JOBS 256
struct tunnel_rx_job {
	struct noise_crypt crypt;
	const struct endpoint *src;
};
struct tunnel_rx_batch {
	struct cryptopool *pool; /* NULL: every AEAD on the caller */
	/* Called after each datagram that concerned a peer is handled (its
	 * timers may have moved); false stops the batch, the rest of it
	 * unhandled. */
	bool (*done)(void *arg, struct tunnel_peer *p);
	void *arg;
	unsigned int n;
	struct tunnel_rx_job job[TUNNEL_RX_JOBS];
};
/*
 * Handles n datagrams (buf[i], len[i] bytes, from src[i]; a length of 0 is
 * skipped) as n tunnel_receive calls in turn would, except that the AEADs
 * of a run of data messages are done together first: the replay window,
 * keypair confirmation, roaming, timers and delivery still go datagram by
 * datagram, in order, and any other message ends the run before it is
 * handled, so data under the keys a handshake message makes, later in the
 * batch, finds them.
 */
void tunnel_receive_batch(struct tunnel *t, struct tunnel_rx_batch *b,
			  uint8_t *const *buf, const size_t *len,
			  const struct endpoint *src, unsigned int n,
			  uint64_t now_ns, uint64_t wall_ns);

/* Sends a control message (copied) to p at once, or stages it. */
enum tunnel_tx tunnel_send_control(struct tunnel *t, struct tunnel_peer *p,
				   const uint8_t *ctl, size_t len,
				   uint64_t now_ns, uint64_t wall_ns);

/* Starts a handshake with p unless one went out less than REKEY_TIMEOUT
 * ago, p may not initiate, or p has no endpoint. */
void tunnel_initiate(struct tunnel *t, struct tunnel_peer *p, uint64_t now_ns,
		     uint64_t wall_ns);

/* Runs p's due timers. Call when tunnel_peer_deadline(p) has passed. */
void tunnel_peer_expire(struct tunnel *t, struct tunnel_peer *p,
			uint64_t now_ns, uint64_t wall_ns);

#endif
