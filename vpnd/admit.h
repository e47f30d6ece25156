/* SPDX-License-Identifier: MIT */
/*
 * The login exchange on the server side (PROTOCOL.md section 6): per
 * peer, whether its key is admitted and the login request in progress,
 * the answers kept for retransmissions, and the rules on IP packets.
 * Decisions that need the store or Argon2id go to worker threads
 * (worker.c); admit.c only submits jobs and applies their results, so it
 * never blocks. It also applies what the store says changed elsewhere
 * (an account disabled, a password changed: events) and keeps the
 * timestamps of admitted keys (tstamp.h) saved in the store.
 *
 * Two state machines per peer, each with its legal transitions:
 *
 * enum admit_state, whether the key may pass IP packets (rule 1):
 *
 *	LOOKUP ---- store: admitted ----------------> ADMITTED
 *	LOOKUP ---- store: not admitted ------------> NONE
 *	LOOKUP ---- store cannot tell --------------> LOOKUP (asked again)
 *	NONE ------ login OK, or RESUME admitted ---> ADMITTED
 *	ADMITTED -- login OK or lookup (new address) -> ADMITTED
 *	ADMITTED -- expiry, an event, LOGOUT, its
 *		    address given to another key ----> (the peer is freed)
 *
 * enum admit_request, the AUTH_REQUEST in progress (rules 2, 3, 10):
 *
 *	IDLE ------- AUTH_REQUEST queued ----------> CHECKING
 *	IDLE ------- AUTH_REQUEST, no room or the
 *		     store unreachable ------------> IDLE (answered BUSY)
 *	CHECKING --- OK, or refused after the delay -> IDLE (answered)
 *	CHECKING --- refused early ----------------> REPLY_WAIT
 *	REPLY_WAIT - failure-delay over ------------> IDLE (answered)
 *
 * A RESUME is a store lookup (lookup_in_flight) in any state; one that
 * arrives during another lookup waits for it (resume_waiting). While the
 * store cannot be reached (-ENOTCONN), a RESUME is answered BUSY.
 */
#ifndef VPND_ADMIT_H
#define VPND_ADMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "answerbuf.h"
#include "auth.h"
#include "gate.h"
#include "login.h"

struct server;
struct peer;

/* Answers kept per peer for retransmitted requests (rule 2). */
#define ADMIT_ANSWERS 4

/* tstamp_hold() holders of a key's timestamp (see tstamp.h). */
#define ADMIT_HOLD_PEER 1u      /* it has a peer */
#define ADMIT_HOLD_ADMISSION 2u /* it has an admission in the store */

enum admit_state {
	ADMIT_LOOKUP,   /* the store is asked: IP dropped silently */
	ADMIT_NONE,     /* no valid login: IP dropped, AUTH_REQUIRED */
	ADMIT_ADMITTED, /* IP passes from and to its addresses */
};

enum admit_request {
	ADMIT_REQ_IDLE,
	ADMIT_REQ_CHECKING,   /* a password check queued or running */
	ADMIT_REQ_REPLY_WAIT, /* refused; the answer waits out failure-delay */
};

/* One answer kept, in one allocation with its bytes (answerbuf.h): a
 * session keeps none a minute after its login, and leaves no hole in the
 * heap behind. */
struct admit_answer {
	struct admit_answer *older; /* the peer's next older one, or NULL */
	uint64_t at_ns;   /* when it was built; kept 60 s */
	uint32_t request_id;
	uint16_t len;
	uint8_t msg[];
};

/* A RESUME waiting for a lookup or check of the same key to end. */
struct admit_resume {
	uint32_t request_id;
	uint8_t username_len;
	uint8_t username[LOGIN_USERNAME_MAX]; /* may be empty */
};

/*
 * What a peer keeps of its admission: auth.h's struct auth_admission but
 * the handshake timestamp (it goes to the tunnel's table at once), with a
 * site's subnets allocated, since only site accounts have any.
 */
struct peer_admission {
	char username[LOGIN_USERNAME_MAX + 1];
	bool has_addr4;
	uint8_t addr4[4];
	bool has_addr6;
	uint8_t addr6[16];
	uint8_t n_subnets;
	uint64_t created_unix_s;
	uint64_t expires_unix_s;
	struct prefix *subnets; /* n_subnets of them; NULL without */
};

/* Per peer; what only some peers need for a while is allocated then, so
 * an idle session holds little more than its admission. */
struct peer_login {
	enum admit_state state;
	struct peer_admission admission; /* ADMITTED */
	uint64_t expires_ns;             /* ADMITTED: on the loop's clock */
	uint32_t epoch;                  /* bumped by each login and end:
					  * older lookups lose */
	bool holds_admission;            /* ADMIT_HOLD_ADMISSION taken */

	enum admit_request request;
	uint32_t request_id;             /* CHECKING, REPLY_WAIT */
	uint64_t reply_at_ns;            /* REPLY_WAIT */
	struct admit_answer *answers;    /* newest first, at most
					  * ADMIT_ANSWERS; NULL: none */

	bool lookup_in_flight;
	bool lookup_retry;               /* no job was free: ask at retry_ns */
	uint64_t retry_ns;
	struct admit_resume *resume;     /* NULL: none waiting */

	bool has_sent_auth_required;
	uint64_t last_auth_required_ns;
	uint64_t idle_check_ns;          /* not admitted: freed when idle */

	uint64_t rx_dropped_source;      /* rule 10: spoofed inner sources */
	uint64_t rx_dropped_unadmitted;
	uint64_t rx_malformed_ctl;

	struct gate_session gate;        /* ADMITTED: its access rules */
};

/* Logins answered, by result and the audit's reason (for metrics). */
#define ADMIT_LOGIN_KINDS 32

struct admit_login_count {
	enum login_status status;
	const char *reason;  /* static: auth.c's and admit.c's strings */
	uint64_t n;
};

/* How long jobs took, from submission to the loop reading the result. */
struct admit_latency {
	uint64_t n, sum_ns, max_ns;
};

/* The server-wide part of the login layer. */
struct admit_server {
	struct answerbuf answers; /* where peers' answers are kept */
	uint64_t events_seq;     /* the store's events read up to here */
	bool events_in_flight;
	bool stamps_in_flight;
	int start_error;
	unsigned int n_loaded;   /* admissions found at start */
	int store_errno;         /* the last poll's failure; 0: healthy */
	uint64_t store_failures; /* store jobs that failed, of any kind */
	int store_last_errno;    /* the latest of them */
	/* The events poll said -ENOTCONN (a database server down): logins
	 * and resumes are answered BUSY until a poll answers again. */
	bool is_store_down;
	uint64_t store_down_unix_s;  /* since when (wall clock) */
	uint64_t store_down_ns;      /* the same on the loop's clock */
	/* admit_start() found the store unreachable: what it loads (the
	 * admissions' timestamps, the events head) is loaded once the store
	 * answers, by a job the events poll submits instead of its own
	 * (start_load: its results, in flight); nobody is admitted before. */
	bool is_start_pending;
	struct admit_start_load *start_load;
	struct admit_login_count logins[ADMIT_LOGIN_KINDS];
	unsigned int n_login_kinds;
	struct admit_latency store_latency; /* store thread's jobs */
	struct admit_latency login_latency; /* password checks */
};

/* Before the loop runs: pins the timestamps of every admission in the
 * store and learns where the store's change events stand. 0 or -errno. */
int admit_start(struct server *s) __attribute__((warn_unused_result));

/* A control message from p. */
void admit_control(struct server *s, struct peer *p, const uint8_t *msg,
		   size_t len);
/* True if p is admitted now. An admission past its expiry ends here
 * (DISCONNECT), so that no packet crosses after it in either direction
 * (rule 1), whether or not its deadline has run. */
bool admit_peer_current(struct server *s, struct peer *p);
/* An IP packet from p: true if it may be forwarded (admitted, and its
 * source address is p's). Answers AUTH_REQUIRED when it is not admitted. */
bool admit_ip_allowed(struct server *s, struct peer *p, const uint8_t *pkt,
		      size_t len);
/* A peer was created: look up its admission. */
void admit_peer_new(struct server *s, struct peer *p);
/* p's handshake was confirmed: a pending peer is now in its login. */
void admit_session_started(struct server *s, struct peer *p);
/* Results from the worker threads. */
void admit_jobs_done(struct server *s);
/* The earliest time admit_peer_expire() has something to do for p. */
uint64_t admit_peer_deadline(const struct server *s, const struct peer *p);
/* Does what is due for p: delayed answers, expiry, retries, idleness. */
void admit_peer_expire(struct server *s, struct peer *p);
/* Periodic, in time independent of the number of peers: store pruning
 * and saving changed timestamps. */
void admit_housekeeping(struct server *s);
/* Often (a few times a second): asks the store what changed elsewhere
 * (accounts disabled, passwords changed...), unless already asking. */
void admit_poll_events(struct server *s);
/* p goes away: its addresses stop routing to it, its answers are freed. */
void admit_peer_gone(struct server *s, struct peer *p);
/* Shutdown: DISCONNECT to every client with a session, timestamps saved. */
void admit_shutdown(struct server *s);

#endif
