// SPDX-License-Identifier: MIT
/*
 * vpnc: one server, the client's side of the login layer, and the packet
 * path. After a handshake that starts a connection the client sends RESUME
 * and asks the person for a password and code only when the server answers
 * AUTH_REQUIRED (PROTOCOL.md section 6). Requests are retransmitted every
 * second for ten seconds. The TUN device exists only while admitted: the
 * pushed addresses, routes and DNS go with it, as policy.c lets them
 * through; packets from the tunnel reach it only from where it routes to.
 * The routes outside it (fence.h: the way to the server, the excluded
 * prefixes, a full tunnel's unreachable backstop) stay from the admission
 * that wants them to the exit, and so does a full tunnel's DNS, so that a
 * reconnect never sends in the clear what the tunnel carried; the state
 * file (state.h) records them for the next start after a crash.
 * --logout sends DISCONNECT with LOGOUT, which nothing acknowledges, then
 * checks it took: a RESUME on a new session answered AUTH_REQUIRED proves
 * the admission ended. The states and their transitions are in client.h.
 * While the server answers no handshake, vpnc says so a few seconds in and
 * then at a slower pace (silence.h), naming what to check.
 * With several servers (servers.h: several `server` lines, or a name with
 * several addresses), vpnc uses one at a time, in a shuffled order, and
 * moves to the next when the one in use leaves a handshake unanswered for
 * FAILOVER_ATTEMPTS tries, gives up, leaves RESUME unanswered, or
 * DISCONNECTs because it shuts down; on the next one RESUME keeps the
 * admission (same address, no new code).
 */
#include "version.h"
#include "client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "cryptopool.h"
#include "keys.h"
#include "expiry.h"
#include "log.h"
#include "login.h"
#include "mtu.h"
#include "netlink.h"
#include "policy.h"
#include "resolver.h"
#include "rtnl.h"
#include "site.h"
#include "state.h"
#include "tun.h"

#define CLIENT_MAX_MTU 9000
#define CLIENT_STAGED_PACKETS 64
#define REQUEST_INTERVAL_NS NS_PER_S         /* section 6: every second */
#define REQUEST_GIVE_UP_NS (10 * NS_PER_S)   /* ... for ten seconds */
#define BACKOFF_FIRST_NS NS_PER_S
#define LOGOUT_WAIT_NS (15 * NS_PER_S)
#define LOGOUT_ROUNDS 3
#define LOGOUT_CHECK_DELAY_NS (NS_PER_S / 5)
#define MAX_INTERACTIVE_ATTEMPTS 3
#define SERVER_TEXT_LEN 164                  /* a MESSAGE shown, "...", NUL */
#define REFUSALS_TEXT_LEN 800                /* the refusals, in one line */
/* Unanswered handshake tries after which another server is tried, each
 * given its REKEY_TIMEOUT (and jitter): well inside REKEY_ATTEMPT_TIME,
 * which is for a single server. */
#define FAILOVER_ATTEMPTS 3

#define S(state) (1u << CLIENT_##state)

/* client.h's transitions: the states each state may go to. */
static const unsigned int legal_next[CLIENT_N_STATES] = {
	[CLIENT_CONNECTING] = S(CONNECTING) | S(RESUMING) | S(LOGGING_IN) |
			      S(BACKOFF),
	[CLIENT_RESUMING] = S(CONNECTING) | S(RESUMING) | S(UP) |
			    S(LOGGING_IN) | S(BACKOFF),
	[CLIENT_LOGGING_IN] = S(CONNECTING) | S(LOGGING_IN) | S(UP) |
			      S(BACKOFF),
	[CLIENT_UP] = S(CONNECTING) | S(LOGGING_IN) | S(BACKOFF),
	[CLIENT_BACKOFF] = S(CONNECTING) | S(RESUMING) | S(LOGGING_IN) |
			   S(BACKOFF),
	[CLIENT_LOGOUT_CONNECTING] = S(LOGOUT_CONNECTING) | S(LOGOUT_SENT),
	[CLIENT_LOGOUT_SENT] = S(LOGOUT_SENT) | S(LOGOUT_RECONNECTING),
	[CLIENT_LOGOUT_RECONNECTING] = S(LOGOUT_RECONNECTING) |
				       S(LOGOUT_CHECKING) | S(LOGOUT_SENT),
	[CLIENT_LOGOUT_CHECKING] = S(LOGOUT_CHECKING) | S(LOGOUT_SENT),
};

static const char *const state_names[CLIENT_N_STATES] = {
	[CLIENT_CONNECTING] = "CONNECTING",
	[CLIENT_RESUMING] = "RESUMING",
	[CLIENT_LOGGING_IN] = "LOGGING_IN",
	[CLIENT_UP] = "UP",
	[CLIENT_BACKOFF] = "BACKOFF",
	[CLIENT_LOGOUT_CONNECTING] = "LOGOUT_CONNECTING",
	[CLIENT_LOGOUT_SENT] = "LOGOUT_SENT",
	[CLIENT_LOGOUT_RECONNECTING] = "LOGOUT_RECONNECTING",
	[CLIENT_LOGOUT_CHECKING] = "LOGOUT_CHECKING",
};

static void
set_state(struct client *c, enum client_state next)
{
	if (!(legal_next[c->state] & (1u << next)))
		log_err("internal error: %s to %s is no transition of "
			"client.h", state_names[c->state], state_names[next]);
	else if (next != c->state)
		log_debug("%s -> %s", state_names[c->state],
			  state_names[next]);
	/* Its end is warned about only while a session is up. */
	if (next != CLIENT_UP)
		expiry_stop(&c->expiry);
	c->state = next;
}

/* The states of --logout (client.h's second machine). */
static bool
is_logout(enum client_state s)
{
	return s >= CLIENT_LOGOUT_CONNECTING;
}

static void
client_clock(struct client *c)
{
	c->now_ns = loop_now_ns();
	c->wall_ns = loop_wall_ns();
}

static void
finish(struct client *c, int status)
{
	c->exit_status = status;
	loop_stop(&c->loop);
}

static uint64_t
min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/*
 * When the handshake under way has gone unanswered long enough to try
 * another server; TIMER_OFF with a single server or none under way.
 * --logout gives each node one try: any node can take the LOGOUT (they
 * share the store), and its deadline leaves no time for more.
 */
static uint64_t
failover_deadline(const struct client *c)
{
	const struct timers *t = &c->server.timers;
	uint64_t tries = FAILOVER_ATTEMPTS;

	if (c->servers.n < 2 || c->state == CLIENT_BACKOFF ||
	    !timers_handshake_pending(t))
		return TIMER_OFF;
	if (is_logout(c->state)) {
		/* Only the handshakes that start its sessions. */
		if (c->state != CLIENT_LOGOUT_CONNECTING &&
		    c->state != CLIENT_LOGOUT_RECONNECTING)
			return TIMER_OFF;
		tries = 1;
	}
	return t->attempt_started_ns +
	       tries * (c->pt.rekey_timeout_ns + c->pt.rekey_jitter_max_ns);
}

static void
rearm(struct client *c)
{
	uint64_t d = tunnel_peer_deadline(&c->server);

	if (c->has_request)
		d = min_u64(d, c->request_next_ns);
	if (c->state == CLIENT_BACKOFF || c->state == CLIENT_LOGOUT_SENT)
		d = min_u64(d, c->reconnect_ns);
	if (c->busy_retry_ns)
		d = min_u64(d, c->busy_retry_ns);
	if (c->logout_deadline_ns)
		d = min_u64(d, c->logout_deadline_ns);
	d = min_u64(d, silence_deadline(&c->silence));
	d = min_u64(d, expiry_deadline(&c->expiry));
	d = min_u64(d, failover_deadline(c));
	loop_set_deadline(&c->loop, d);
}

static void
send_control(struct client *c, const uint8_t *msg, size_t len)
{
	tunnel_send_control(&c->tunnel, &c->server, msg, len, c->now_ns,
			    c->wall_ns);
}

/* ---- the device -------------------------------------------------------------- */

static void on_tun(void *arg, uint32_t events);

/* The state file: the fence as installed plus `also` (NULL: none), and
 * DNS as resolver.c has it, or as about to be applied for `dns_for`. */
static void
save_state(struct client *c, const struct fence *also, const char *dns_for)
{
	struct state s;

	memset(&s, 0, sizeof(s));
	if (also)
		fence_merge(&c->fence, also, &s.fence);
	else
		s.fence = c->fence;
	s.dns_via = resolver_applied(s.dns_ifname);
	if (dns_for) {
		s.dns_via = RESOLVER_VIA_UNKNOWN;
		snprintf(s.dns_ifname, sizeof(s.dns_ifname), "%s", dns_for);
	}
	(void)state_save(c->cfg->state_file, &s); /* logs */
}

/*
 * Removes the device, and with it its addresses and routes. DNS goes too,
 * unless `is_reconnect` with a full tunnel: then the fence's backstop
 * refuses the traffic while vpnc reconnects, and DNS stays on the pushed
 * servers (which the backstop refuses too) rather than going back to the
 * local ones in the clear.
 */
static void
device_down(struct client *c, bool is_reconnect)
{
	if (c->tun.fd < 0)
		return;
	if (!is_reconnect || !c->is_full) {
		resolver_remove(c->ifname);
		save_state(c, NULL, NULL);
	}
	loop_del_fd(&c->loop, c->tun.fd);
	/* The device, its addresses and its routes go with the fd; what
	 * waited to be written with it. */
	tunio_close(&c->tun);
	log_info("%s removed", c->ifname);
}

/*
 * The fence for the configuration just taken (c->net): plans it with the
 * local networks as they are now, records it before and after the
 * change. Before device_up, so that the ways outside are found with no
 * tunnel route in the way.
 */
static int
fence_update(struct client *c)
{
	struct prefix lan[2 * FENCE_MAX_LAN];
	unsigned int n4 = 0, n6 = 0;
	struct fence want;
	int ret;

	c->is_full = fence_is_full(&c->net);
	if (c->is_full && !c->cfg->policy.allow_lan) {
		ret = rtnl_connected(c->rt, AF_INET, 0, lan, FENCE_MAX_LAN,
				     &n4);
		if (ret == 0)
			ret = rtnl_connected(c->rt, AF_INET6, 0, lan + n4,
					     FENCE_MAX_LAN, &n6);
		if (ret < 0) {
			log_err("cannot list the local networks: %s",
				strerror(-ret));
			return ret;
		}
	}
	if (!fence_plan(&c->cfg->policy, &c->net, c->server_family,
			c->server_addr, lan, n4 + n6, &want)) {
		log_err("too many routes outside the tunnel (more than %d)",
			FENCE_MAX);
		return -ENOSPC;
	}
	save_state(c, &want, NULL);
	ret = fence_apply(c->rt, c->nl, &c->fence, &want);
	save_state(c, NULL, NULL);
	return ret;
}

static bool
has_dns(const struct client *c)
{
	return c->cfg->dns_mode != VPNC_DNS_NONE &&
	       (c->net.n_dns || c->net.n_search);
}

/* DNS for the new device; a full tunnel's kept from before is moved or
 * taken back if this admission does not want it as it is. */
static int
dns_up(struct client *c)
{
	char before[IFNAMSIZ];
	int ret;

	if (resolver_applied(before) != RESOLVER_VIA_NONE &&
	    (strcmp(before, c->ifname) != 0 || !c->is_full || !has_dns(c))) {
		resolver_remove(before);
		save_state(c, NULL, NULL);
	}
	if (!has_dns(c))
		return 0;
	save_state(c, NULL, c->ifname);
	/* DNS goes through resolver.c: resolvconf is a program, and
	 * resolved and resolv.conf need root, which a confined vpnc has
	 * not (jail.h). */
	ret = resolver_apply_for(c->ifname, &c->net, c->cfg->dns_mode,
				 c->is_full);
	save_state(c, NULL, NULL);
	return ret;
}

static int
device_up(struct client *c)
{
	int ret;

	ret = tunio_open(&c->tun, c->cfg->interface, c->cfg->offload,
			 c->ifname);
	if (ret < 0) {
		log_err("cannot open TUN device %s: %s", c->cfg->interface,
			strerror(-ret));
		return ret;
	}
	c->ifindex = (int)if_nametoindex(c->ifname);
	ret = netconf_apply(c->nl, c->ifindex, c->ifname, &c->net);
	if (!ret)
		ret = dns_up(c);
	if (!ret)
		ret = loop_add_fd(&c->loop, c->tun.fd, EPOLLIN, on_tun, c);
	if (ret < 0)
		device_down(c, false);
	return ret;
}

/* ---- requests ------------------------------------------------------------------ */

/* Forgets the request in flight, and a BUSY's retry of it. */
static void
request_clear(struct client *c)
{
	sodium_memzero(c->request, sizeof(c->request));
	c->request_len = 0;
	c->has_request = false;
	c->busy_retry_ns = 0;
}

static void
request_send(struct client *c)
{
	send_control(c, c->request, c->request_len);
	c->request_next_ns = c->now_ns + REQUEST_INTERVAL_NS;
}

/* Starts a request; a retransmission reuses its REQUEST_ID. */
static void
request_begin(struct client *c, size_t len)
{
	if (!len) {
		log_err("cannot build the request: too long");
		finish(c, VPNC_EXIT_ERROR);
		return;
	}
	c->request_len = len;
	c->has_request = true;
	c->request_first_ns = c->now_ns;
	request_send(c);
}

/* RESUME, to resume (RESUMING) or to check a logout (LOGOUT_CHECKING). */
static void
send_resume(struct client *c, enum client_state next)
{
	struct login_writer w;

	randombytes_buf(&c->request_id, sizeof(c->request_id));
	login_writer_init(&w, c->request, sizeof(c->request), LOGIN_RESUME);
	login_put_u32(&w, LOGIN_ATTR_REQUEST_ID, c->request_id);
	login_put_text(&w, LOGIN_ATTR_USERNAME, c->cfg->user);
	set_state(c, next);
	request_begin(c, login_writer_finish(&w));
}

static void
send_login(struct client *c)
{
	char info[128], host[64];
	struct login_writer w;

	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	snprintf(info, sizeof(info), "vpnc " VPN_VERSION " (%s)", host);
	randombytes_buf(&c->request_id, sizeof(c->request_id));
	login_writer_init(&w, c->request, sizeof(c->request),
			  LOGIN_AUTH_REQUEST);
	login_put_u32(&w, LOGIN_ATTR_REQUEST_ID, c->request_id);
	login_put_text(&w, LOGIN_ATTR_USERNAME, c->cfg->user);
	login_put(&w, LOGIN_ATTR_PASSWORD, c->creds.password,
		  c->creds.password_len);
	login_put(&w, LOGIN_ATTR_TOTP, c->creds.code, c->creds.code_len);
	login_put_text(&w, LOGIN_ATTR_CLIENT_INFO, info);
	set_state(c, CLIENT_LOGGING_IN);
	request_begin(c, login_writer_finish(&w));
}

/* DISCONNECT, with REASON `why` (for the server's log). */
static void
send_disconnect(struct client *c, const char *why, bool logout)
{
	uint8_t buf[64];
	struct login_writer w;
	size_t len;

	login_writer_init(&w, buf, sizeof(buf), LOGIN_DISCONNECT);
	login_put_text(&w, LOGIN_ATTR_REASON, why);
	if (logout)
		login_put(&w, LOGIN_ATTR_LOGOUT, NULL, 0);
	len = login_writer_finish(&w);
	if (len)
		send_control(c, buf, len);
}

/*
 * The server's MESSAGE (section 6: text for the person), or "" without
 * one. Sanitized, since it goes to a terminal, and cut to a line's worth.
 */
static const char *
server_text(const struct login_msg *m, char out[SERVER_TEXT_LEN])
{
	size_t cut = SERVER_TEXT_LEN - 4;

	log_sanitize(out, SERVER_TEXT_LEN, m->message.ptr,
		     m->message.len > cut ? cut : m->message.len);
	if (m->message.len > cut)
		strcat(out, "...");
	return out;
}

/* The MESSAGE as a suffix for the line that reports the answer. */
static const char *
server_says(const struct login_msg *m, char *out, size_t cap)
{
	char text[SERVER_TEXT_LEN];

	if (m->message.len)
		snprintf(out, cap, " (the server says \"%s\")",
			 server_text(m, text));
	else if (cap)
		out[0] = '\0';
	return out;
}

/* ---- connection ------------------------------------------------------------------ */

/* Makes `e` the server in use: where handshakes go, what the fence pins
 * and what the log names. */
static void
use_server(struct client *c, const struct server_entry *e)
{
	c->server_ep = e->ep;
	c->server_family = e->family;
	memcpy(c->server_addr, e->addr, sizeof(c->server_addr));
	memcpy(c->server_name, e->name, sizeof(c->server_name));
}

static void
handshake_start(struct client *c)
{
	tunnel_peer_reset(&c->server);
	tunnel_peer_set_endpoint(&c->server, &c->server_ep);
	tunnel_initiate(&c->tunnel, &c->server, c->now_ns, c->wall_ns);
	silence_handshake_sent(&c->silence, c->now_ns);
}

/*
 * The server's silence, in words. Nothing tells a server that is down
 * from a firewall that drops the datagrams, or from a server whose key is
 * not the one configured: it ignores a handshake made for another key
 * (its mac1 does not match), and an answer made with another preshared
 * key cannot be read. So the notice names every cause, and guesses none.
 */
static void
say_no_answer(struct client *c)
{
	const char *keys = c->cfg->has_psk
		? "server-public-key and preshared-key-file"
		: "server-public-key";

	if (c->silence.notices == 1)
		log_notice("no answer from %s yet; still trying. Check the "
			   "address and port, that vpnd runs there, the "
			   "firewalls on the way, and %s (%s)", c->server_name,
			   keys, c->cfg->has_psk
			   ? "a handshake made with other keys gets no "
			     "answer, or one vpnc cannot read"
			   : "a server does not answer a handshake made for "
			     "another key");
	else
		log_notice("still no answer from %s after %llu s; still "
			   "trying (check the address and port, that vpnd "
			   "runs there, the firewalls on the way, and %s)",
			   c->server_name,
			   (unsigned long long)silence_elapsed_s(&c->silence,
								 c->now_ns),
			   keys);
}

/* The end of a silence that was reported: the server is there after all. */
static void
say_answered(struct client *c)
{
	uint64_t after_s = silence_elapsed_s(&c->silence, c->now_ns);

	if (silence_answered(&c->silence))
		log_notice("%s answered after %llu s", c->server_name,
			   (unsigned long long)after_s);
}

/* A new handshake; `next` is CONNECTING or one of the logout's. */
static void
connect_start(struct client *c, enum client_state next)
{
	set_state(c, next);
	handshake_start(c);
}

/* Waits c->backoff_ns in `wait` (BACKOFF or LOGOUT_SENT), doubling it. */
static void
backoff(struct client *c, enum client_state wait, const char *why)
{
	uint64_t max_ns = (uint64_t)c->cfg->reconnect_max_s * NS_PER_S;

	request_clear(c);
	set_state(c, wait);
	c->reconnect_ns = c->now_ns + c->backoff_ns;
	log_notice("%s; reconnecting in %llu s", why,
		   (unsigned long long)((c->backoff_ns + NS_PER_S - 1) /
					NS_PER_S));
	c->backoff_ns *= 2;
	if (c->backoff_ns > max_ns)
		c->backoff_ns = max_ns;
}

/*
 * No answer, or the server ended the session: start over later, in the
 * machine the client is in. Before any LOGOUT went out there is nothing
 * to check yet, so --logout simply tries again at once (its deadline
 * bounds it).
 */
static void
reconnect_later(struct client *c, const char *why)
{
	if (c->state == CLIENT_LOGOUT_CONNECTING) {
		request_clear(c);
		log_notice("%s; trying again", why);
		connect_start(c, CLIENT_LOGOUT_CONNECTING);
	} else if (is_logout(c->state)) {
		backoff(c, CLIENT_LOGOUT_SENT, why);
	} else {
		backoff(c, CLIENT_BACKOFF, why);
	}
}

/* After a change of server: the fence's way to the server (a full
 * tunnel's pin) follows it, before its handshake, which the backstop
 * would refuse otherwise. Only what an admission installed moves. */
static void
fence_follow(struct client *c)
{
	if (c->fence.n && fence_update(c) < 0)
		log_warn("cannot route %s outside the tunnel; trying it anyway",
			 c->server_name);
}

/*
 * The server in use is gone (no answer) or going (its shutdown): the
 * next one, at once; RESUME there keeps the admission. The device goes
 * as for any reconnect. Once every server was tried since the last
 * admission, the next round waits the backoff, as a single server's
 * reconnects do. --logout goes on in the state it was in (the LOGOUT,
 * or its check, on the next node), bounded by its deadline.
 */
static void
failover(struct client *c, const char *why)
{
	char from[SERVERS_NAME_LEN], text[2 * SERVERS_NAME_LEN + 64];

	memcpy(from, c->server_name, sizeof(from));
	request_clear(c);
	device_down(c, true);
	tunnel_peer_reset(&c->server);
	use_server(c, servers_next(&c->servers));
	silence_init(&c->silence, c->cfg->test_timer_divisor);
	fence_follow(c);
	if (!is_logout(c->state) && ++c->servers_tried >= c->servers.n) {
		c->servers_tried = 0;
		snprintf(text, sizeof(text), "%s; every server was tried, "
			 "the next is %s", why, c->server_name);
		backoff(c, CLIENT_BACKOFF, text);
		return;
	}
	log_notice("%s; moving from %s to %s", why, from, c->server_name);
	connect_start(c, is_logout(c->state) ? c->state : CLIENT_CONNECTING);
}

/* True if a server that stops answering is left for another. */
static bool
can_fail_over(const struct client *c)
{
	return c->servers.n > 1 && !is_logout(c->state);
}

/*
 * --logout: one DISCONNECT with LOGOUT. The server ends the live session
 * with it, so the check is a RESUME on a new one, started a moment later
 * so that the DISCONNECT is read first.
 */
static void
logout_send(struct client *c)
{
	send_disconnect(c, "logout", true);
	c->logouts_sent++;
	request_clear(c);
	set_state(c, CLIENT_LOGOUT_SENT);
	c->reconnect_ns = c->now_ns + LOGOUT_CHECK_DELAY_NS;
}

/* --logout: the server's answer to the RESUME that checks the logout. */
static void
logout_answer(struct client *c, const struct login_msg *m)
{
	char says[SERVER_TEXT_LEN + 32];
	uint32_t wait_s;

	request_clear(c);
	if (m->status == LOGIN_STATUS_BUSY) {
		wait_s = m->retry_after_s ? m->retry_after_s : 1;
		c->busy_retry_ns = c->now_ns + (uint64_t)wait_s * NS_PER_S;
		return;
	}
	if (m->status != LOGIN_STATUS_OK) {
		log_err("the server answered the logout check with status "
			"%u%s; the login may still be valid", m->status,
			server_says(m, says, sizeof(says)));
		finish(c, VPNC_EXIT_ERROR);
		return;
	}
	if (c->logouts_sent >= LOGOUT_ROUNDS) {
		log_err("the server still holds the login after %u logouts",
			c->logouts_sent);
		finish(c, VPNC_EXIT_ERROR);
		return;
	}
	log_notice("the server still holds the login (the logout was lost); "
		   "sending it again");
	logout_send(c);
}

static void
ask_and_login(struct client *c)
{
	enum prompt_result r;

	device_down(c, true);
	request_clear(c);
	set_state(c, CLIENT_LOGGING_IN);
	r = prompt_credentials(&c->creds, c->cfg->user, c->opt.password_file,
			       c->loop.sigfd);
	client_clock(c);
	switch (r) {
	case PROMPT_OK:
		c->login_attempts++;
		send_login(c);
		break;
	case PROMPT_NO_INPUT:
		log_err("login required, but there is no terminal to ask for "
			"the password and code: run vpnc in a terminal, or give "
			"the password and the code as two lines on standard "
			"input");
		finish(c, VPNC_EXIT_NEED_LOGIN);
		break;
	case PROMPT_INTERRUPTED:
		finish(c, VPNC_EXIT_OK);
		break;
	default:
		finish(c, VPNC_EXIT_ERROR);
		break;
	}
}

/* The one line that names everything the policy left out. */
static void
log_refusals(const struct policy_refusals *refused)
{
	char text[REFUSALS_TEXT_LEN];

	if (refused->n || refused->n_more)
		log_notice("refused from the server: %s",
			   policy_refusals_format(refused, text, sizeof(text)));
}

/* A session ends in a new login, which needs a person: say so in time. */
static void
say_expiry(uint64_t left_s)
{
	char left[EXPIRY_SPAN_LEN];

	log_warn("the session ends in %s; then the server asks for a login "
		 "again (password and code)", expiry_span(left_s, left));
}

static void
admitted(struct client *c, const struct login_msg *m)
{
	char addr[PREFIX_STR_LEN], text[SERVER_TEXT_LEN];
	bool resumed = c->state == CLIENT_RESUMING;
	struct policy_refusals refused;
	enum policy_decision d;
	uint64_t left;

	request_clear(c);
	prompt_wipe(&c->creds);
	c->login_attempts = 0;
	device_down(c, true);
	d = policy_decide(&c->cfg->policy, c->server_family, c->server_addr,
			  m, &c->net, &refused);
	log_refusals(&refused);
	if (d == POLICY_UNUSABLE) {
		log_err("this login cannot be used: the server gave %s; "
			"nothing was applied (ask its administrator)",
			login_has(m, LOGIN_ATTR_ADDRESS4) ||
					login_has(m, LOGIN_ATTR_ADDRESS6)
				? "an address vpnc refuses (above)"
				: "no tunnel address");
		send_disconnect(c, "pushed configuration refused", false);
		finish(c, VPNC_EXIT_ERROR);
		return;
	}
	c->net.mtu = mtu_for_server(c->nl, c->cfg->mtu, c->net.mtu,
				    c->server_family, c->server_addr,
				    c->tun.fd >= 0 ? c->ifindex : 0);
	tunnel_set_mtu(&c->tunnel, c->net.mtu);
	if (fence_update(c) < 0 || device_up(c) < 0) {
		finish(c, VPNC_EXIT_ERROR);
		return;
	}
	set_state(c, CLIENT_UP);
	c->backoff_ns = BACKOFF_FIRST_NS;
	c->servers_tried = 0;
	tunnel_peer_set_keepalive(&c->server, c->now_ns, c->net.keepalive_s);
	log_notice("connected as %s on %s, address %s, session expires in "
		   "%u s", c->cfg->user, c->ifname,
		   c->net.has_addr4 ? prefix_format(&c->net.addr4, addr)
				    : prefix_format(&c->net.addr6, addr),
		   c->net.expires_s);
	log_notice("server %s (%u of %u)", c->server_name, c->servers.cur + 1,
		   c->servers.n);
	if (m->message.len)
		log_notice("the server says: %s", server_text(m, text));
	if (c->cfg->site)
		site_check_routes(c->net.routes, c->net.n_routes);
	if (expiry_start(&c->expiry, c->now_ns, c->net.expires_s, resumed,
			 &left))
		say_expiry(left);
}

static void
refused(struct client *c, const struct login_msg *m)
{
	bool retry = prompt_is_interactive() && !c->opt.password_file &&
		     c->login_attempts < MAX_INTERACTIVE_ATTEMPTS;
	char says[SERVER_TEXT_LEN + 32];

	server_says(m, says, sizeof(says));
	request_clear(c);
	prompt_wipe(&c->creds);
	switch (m->status) {
	case LOGIN_STATUS_AUTH_FAILED:
		log_err("login failed: wrong user name, password or code%s",
			says);
		if (retry) {
			ask_and_login(c);
			return;
		}
		break;
	case LOGIN_STATUS_LOCKED:
		log_err("login locked after too many failures; try again in "
			"%u s%s", m->retry_after_s, says);
		break;
	case LOGIN_STATUS_POOL_EXHAUSTED:
		log_err("the server has no free tunnel address; try later%s",
			says);
		break;
	default:
		log_err("login refused (status %u)%s", m->status, says);
		break;
	}
	finish(c, VPNC_EXIT_REFUSED);
}

static void
on_result(struct client *c, const struct login_msg *m)
{
	char says[SERVER_TEXT_LEN + 32];

	if (!c->has_request || m->request_id != c->request_id)
		return; /* an answer to a request we gave up */
	if (c->state == CLIENT_LOGOUT_CHECKING) {
		logout_answer(c, m);
	} else if (m->status == LOGIN_STATUS_OK) {
		admitted(c, m);
	} else if (m->status == LOGIN_STATUS_BUSY) {
		uint32_t wait_s = m->retry_after_s ? m->retry_after_s : 1;

		/* Keep the credentials: the same login, a new request. */
		request_clear(c);
		c->busy_retry_ns = c->now_ns + (uint64_t)wait_s * NS_PER_S;
		log_notice("the server is busy; trying again in %u s%s",
			   wait_s, server_says(m, says, sizeof(says)));
	} else {
		refused(c, m);
	}
}

static void
on_control(struct client *c, const uint8_t *pkt, size_t len)
{
	char reason[128], says[SERVER_TEXT_LEN + 32];
	struct login_msg m;

	if (login_decode(pkt, len, LOGIN_FROM_SERVER, &m) != LOGIN_DECODE_OK)
		return;
	switch (m.type) {
	case LOGIN_AUTH_RESULT:
		on_result(c, &m);
		break;
	case LOGIN_AUTH_REQUIRED:
		if (is_logout(c->state)) {
			/* Only the answer to our RESUME proves anything. */
			if (c->state != CLIENT_LOGOUT_CHECKING ||
			    !c->has_request ||
			    !login_has(&m, LOGIN_ATTR_REQUEST_ID) ||
			    m.request_id != c->request_id)
				break;
			log_notice("logged out: the server confirmed it; the "
				   "next start needs a password and code");
			finish(c, VPNC_EXIT_OK);
			break;
		}
		if (c->state == CLIENT_LOGGING_IN)
			break;
		log_notice("the server asks us to log in%s%s",
			   c->state == CLIENT_UP ? " again" : "",
			   server_says(&m, says, sizeof(says)));
		ask_and_login(c);
		break;
	case LOGIN_DISCONNECT:
		log_sanitize(reason, sizeof(reason), m.reason.ptr, m.reason.len);
		snprintf(says, sizeof(says), "the server ended the session%s%s",
			 m.reason.len ? ": " : "", reason);
		/* A node going down hands its clients over (no LOGOUT: the
		 * admission stays for the next node). */
		if (can_fail_over(c) &&
		    servers_reason_is_shutdown(m.reason.ptr, m.reason.len)) {
			failover(c, says);
			break;
		}
		device_down(c, true);
		tunnel_peer_reset(&c->server);
		c->backoff_ns = BACKOFF_FIRST_NS;
		reconnect_later(c, says);
		break;
	default:
		break;
	}
}

/* ---- tunnel engine callbacks ---------------------------------------------------- */

static void
op_random(void *arg, uint8_t *buf, size_t len)
{
	(void)arg;
	randombytes_buf(buf, len);
}

static void
op_send(void *arg, const struct endpoint *ep, const uint8_t *buf, size_t len)
{
	struct client *c = arg;

	if (udp_send(&c->udp, ep, buf, len) < 0)
		log_debug("send to server failed: %s", strerror(errno));
}

static struct tunnel_peer *
op_peer_by_key(void *arg, const uint8_t pub[32])
{
	struct client *c = arg;
	const struct endpoint *src = c->tunnel.rx_src;

	/* As responder we accept the pinned server key and nothing else;
	 * with several nodes holding that key, only from the one in use: a
	 * node left behind must not draw the session back to itself (the
	 * fence pins the way to the one in use alone). */
	if (!keys_equal(pub, c->cfg->server_public_key))
		return NULL;
	if (c->servers.n > 1 && src &&
	    !endpoint_same_remote(src, &c->server_ep))
		return NULL;
	return &c->server;
}

/* Cryptokey routing: a packet whose source the client does not route
 * into the tunnel never reaches its stack. */
static void
drop_bad_source(struct client *c, const uint8_t *pkt, size_t len)
{
	char src[PREFIX_STR_LEN], dst[PREFIX_STR_LEN];
	bool v6 = len >= 40 && pkt[0] >> 4 == 6;

	c->rx_bad_source++;
	if (!log_enabled(LOG_DEBUG) ||
	    !log_ratelimit_allow(&c->bad_source_log, c->now_ns))
		return;
	if (!v6 && len < 20)
		return;
	log_debug("dropped a packet from %s to %s: its source is not routed "
		  "into the tunnel (%llu so far)",
		  prefix_format_addr(v6 ? AF_INET6 : AF_INET,
				     pkt + (v6 ? 8 : 12), src),
		  prefix_format_addr(v6 ? AF_INET6 : AF_INET,
				     pkt + (v6 ? 24 : 16), dst),
		  (unsigned long long)c->rx_bad_source);
}

static void
count_write_errors(struct client *c, unsigned int failed)
{
	if (!failed)
		return;
	c->tun_write_errors += failed;
	log_debug("TUN write failed (%llu so far)",
		  (unsigned long long)c->tun_write_errors);
}

static void
flush_tun(struct client *c)
{
	if (c->tun.fd >= 0)
		count_write_errors(c, tunio_flush(&c->tun));
}

static void
op_deliver(void *arg, struct tunnel_peer *p, enum wire_payload kind,
	   uint8_t *pkt, size_t len)
{
	struct client *c = arg;

	(void)p;
	if (kind == WIRE_PAYLOAD_CONTROL) {
		/* It may take the device down: what came before goes
		 * first. */
		flush_tun(c);
		on_control(c, pkt, len);
	} else if (c->tun.fd < 0) {
		return;
	} else if (!policy_source_allowed(&c->net, pkt, len)) {
		drop_bad_source(c, pkt, len);
	} else {
		/* It stays in the receive buffer until on_udp flushes. */
		count_write_errors(c, tunio_write(&c->tun, pkt, len));
	}
}

static void
op_session_started(void *arg, struct tunnel_peer *p)
{
	struct client *c = arg;

	(void)p;
	say_answered(c);
	switch (c->state) {
	case CLIENT_CONNECTING:
	case CLIENT_BACKOFF:
		send_resume(c, CLIENT_RESUMING);
		break;
	case CLIENT_LOGOUT_CONNECTING:
		logout_send(c);
		break;
	case CLIENT_LOGOUT_RECONNECTING:
		send_resume(c, CLIENT_LOGOUT_CHECKING);
		break;
	default:
		break; /* a rekey: the session goes on */
	}
}

static void
op_gave_up(void *arg, struct tunnel_peer *p)
{
	struct client *c = arg;

	(void)p;
	if (can_fail_over(c))
		failover(c, "the server does not answer");
	else if (c->state == CLIENT_UP)
		log_notice("the server does not answer; still trying");
	else
		reconnect_later(c, "the server does not answer");
}

static const struct tunnel_ops client_tunnel_ops = {
	.random = op_random,
	.send = op_send,
	.peer_by_key = op_peer_by_key,
	.deliver = op_deliver,
	.session_started = op_session_started,
	.handshake_gave_up = op_gave_up,
};

/* ---- events ---------------------------------------------------------------------- */

/* The rest of a batch is left once the client stops (finish()). */
static bool
rx_done(void *arg, struct tunnel_peer *p)
{
	struct client *c = arg;

	(void)p;
	return c->loop.running;
}

static void
on_udp(void *arg, uint32_t events)
{
	struct client *c = arg;
	int fd = c->udp.fd4 >= 0 ? c->udp.fd4 : c->udp.fd6;
	int n;

	(void)events;
	n = udp_recv_batch(fd, &c->rx);
	if (n <= 0)
		return;
	client_clock(c);
	/* A download's AEAD, spread over the packet workers. */
	tunnel_receive_batch(&c->tunnel, &c->rx_jobs, c->rx.buf, c->rx.len,
			     c->rx.ep, (unsigned int)n, c->now_ns, c->wall_ns);
	/* No packet waits for the next batch. */
	flush_tun(c);
	rearm(c);
}

/* Encrypts the packet at buf + WIRE_DATA_HEADER_LEN (len bytes) for the
 * server and queues it; true if buf is now the batch's. */
static bool
send_packet(struct client *c, uint8_t *buf, size_t len)
{
	size_t msg_len;

	if (len > c->tunnel.mtu || c->n_seal == UDP_BATCH)
		return false;
	/* Sealed in take_buffers, with the rest of the batch. */
	if (tunnel_encrypt_begin(&c->tunnel, &c->server, buf, len, c->now_ns,
				 c->wall_ns, &msg_len,
				 &c->seal[c->n_seal]) != TUNNEL_TX_SEND ||
	    !udp_batch_add(&c->tx, &c->server.endpoint, buf, msg_len))
		return false;
	c->n_seal++;
	return true;
}

/* The next free transmit buffer after `used` were taken: the batch goes
 * out when all are. */
static unsigned int
take_buffers(struct client *c, unsigned int used)
{
	int fd = c->udp.fd4 >= 0 ? c->udp.fd4 : c->udp.fd6;

	if (used < UDP_BATCH)
		return used;
	/* The keypair the jobs point into is still there: nothing since
	 * send_packet took it (one loop callback) drops one. */
	tunnel_seal_batch(c->pool, c->seal, c->n_seal);
	c->n_seal = 0;
	if (c->tx.count)
		udp_send_batch(fd, &c->tx);
	return 0;
}

/* The super-packet tunio holds, cut to the tunnel's MTU into as many
 * segments as there are free buffers at a time. Returns the buffers in
 * use. */
static unsigned int
send_super(struct client *c, unsigned int used)
{
	uint8_t *bufs[UDP_BATCH];
	size_t lens[UDP_BATCH], n, i;

	if (!tunio_fit(&c->tun, c->tunnel.mtu))
		return used;
	do {
		used = take_buffers(c, used);
		for (i = 0; i < UDP_BATCH - used; i++)
			bufs[i] = udp_buffer(&c->tx_bufs, used + (unsigned)i) +
				  WIRE_DATA_HEADER_LEN;
		n = tunio_cut(&c->tun, bufs, CLIENT_MAX_MTU, UDP_BATCH - used,
			      lens);
		for (i = 0; i < n; i++)
			send_packet(c, bufs[i] - WIRE_DATA_HEADER_LEN, lens[i]);
		used += (unsigned int)n;
	} while (n);
	return used;
}

static void
on_tun(void *arg, uint32_t events)
{
	struct client *c = arg;
	size_t cap = c->tunnel.mtu + 1, len;
	unsigned int reads, used = 0;
	enum tunio_rx r;

	(void)events;
	client_clock(c);
	for (reads = 0; reads < UDP_BATCH && c->tun.fd >= 0; reads++) {
		uint8_t *buf = udp_buffer(&c->tx_bufs, used);

		r = tunio_read(&c->tun, buf + WIRE_DATA_HEADER_LEN, cap, &len);
		if (r == TUNIO_RX_EMPTY)
			break;
		if (r == TUNIO_RX_SUPER)
			used = send_super(c, used);
		else if (r == TUNIO_RX_PACKET && send_packet(c, buf, len))
			used = take_buffers(c, used + 1);
	}
	take_buffers(c, UDP_BATCH);
	rearm(c);
}

static void
expire_request(struct client *c)
{
	if (!c->has_request || c->now_ns < c->request_next_ns)
		return;
	if (c->now_ns - c->request_first_ns >= REQUEST_GIVE_UP_NS) {
		/* A login is finished where it began: elsewhere it would
		 * need another code. */
		if (c->state == CLIENT_RESUMING && can_fail_over(c))
			failover(c, "no answer to RESUME");
		else
			reconnect_later(c, c->state == CLIENT_LOGGING_IN
						   ? "no answer to the login"
						   : "no answer to RESUME");
		return;
	}
	request_send(c);
}

static void
on_timer(void *arg, uint64_t now_ns)
{
	struct client *c = arg;
	uint64_t left;

	(void)now_ns;
	client_clock(c);
	tunnel_peer_expire(&c->tunnel, &c->server, c->now_ns, c->wall_ns);
	if (c->now_ns >= failover_deadline(c))
		failover(c, "no answer to the handshake");
	if (silence_due(&c->silence, c->now_ns))
		say_no_answer(c);
	if (c->state == CLIENT_UP && expiry_due(&c->expiry, c->now_ns, &left))
		say_expiry(left);
	expire_request(c);
	if (c->busy_retry_ns && c->now_ns >= c->busy_retry_ns) {
		/* The same request again, with a new REQUEST_ID (rule 2). */
		c->busy_retry_ns = 0;
		if (c->state == CLIENT_LOGGING_IN)
			send_login(c);
		else
			send_resume(c, c->state);
	}
	if (c->state == CLIENT_BACKOFF && c->now_ns >= c->reconnect_ns)
		connect_start(c, CLIENT_CONNECTING);
	if (c->state == CLIENT_LOGOUT_SENT && c->now_ns >= c->reconnect_ns)
		connect_start(c, CLIENT_LOGOUT_RECONNECTING);
	if (c->loop.running && c->logout_deadline_ns &&
	    c->now_ns >= c->logout_deadline_ns) {
		if (c->logouts_sent)
			log_err("sent the logout (%u time(s)), but the server "
				"did not confirm it: the login may still be "
				"valid", c->logouts_sent);
		else
			log_err("could not reach the server to log out");
		finish(c, VPNC_EXIT_ERROR);
	}
	if (c->loop.running)
		rearm(c);
}

static void
on_signal(void *arg, int signo)
{
	struct client *c = arg;

	if (signo == SIGHUP)
		return;
	client_clock(c);
	if (tunnel_peer_has_session(&c->server, c->now_ns))
		send_disconnect(c, "client exit", false);
	log_notice("%s: disconnecting", strsignal(signo));
	finish(c, VPNC_EXIT_OK);
}

/* ---- start and stop ----------------------------------------------------------------- */

static uint32_t
uniform(void *arg, uint32_t upper)
{
	(void)arg;
	return randombytes_uniform(upper);
}

/* Every server's addresses, in a random order so that clients spread
 * over the nodes; the first is used. */
static int
resolve_servers(struct client *c)
{
	unsigned int i;
	int ret;

	ret = servers_resolve(&c->servers, c->cfg);
	if (ret < 0) {
		log_err("no server address could be found");
		return ret;
	}
	servers_shuffle(&c->servers, uniform, NULL);
	use_server(c, servers_current(&c->servers));
	if (c->servers.n > 1)
		for (i = 0; i < c->servers.n; i++)
			log_info("server %u of %u: %s", i + 1, c->servers.n,
				 c->servers.e[i].name);
	return 0;
}

/*
 * The packet workers that seal and open the batches in these buffers:
 * packet-workers threads in all, this one included ("auto": one per CPU,
 * at most CRYPTOPOOL_MAX_THREADS; 1: none). Made before the sandbox.
 */
static int
start_packet_workers(struct client *c)
{
	unsigned int n = c->cfg->packet_workers;
	int ret;

	if (!n)
		n = cryptopool_cpus();
	if (n > CRYPTOPOOL_MAX_THREADS)
		n = CRYPTOPOOL_MAX_THREADS;
	c->pool = NULL;
	if (n > 1) {
		ret = cryptopool_start(&c->pool, n);
		if (ret < 0) {
			log_err("cannot start %u packet workers: %s", n,
				strerror(-ret));
			return ret;
		}
	}
	c->rx_jobs.pool = c->pool;
	c->rx_jobs.done = rx_done;
	c->rx_jobs.arg = c;
	log_debug("packet workers: the AEAD on %u thread%s", n,
		  n == 1 ? " (the loop's own)" : "s (the loop's included)");
	return 0;
}

static int
alloc_buffers(struct client *c)
{
	size_t len = TUNNEL_BUF_LEN(CLIENT_MAX_MTU);

	if (udp_buffers_alloc(&c->rx_bufs, len) < 0)
		return -ENOMEM;
	if (udp_buffers_alloc(&c->tx_bufs, len) < 0) {
		udp_buffers_free(&c->rx_bufs);
		return -ENOMEM;
	}
	if (tunio_init(&c->tun) < 0) {
		udp_buffers_free(&c->rx_bufs);
		udp_buffers_free(&c->tx_bufs);
		return -ENOMEM;
	}
	if (start_packet_workers(c) < 0) {
		tunio_free(&c->tun);
		udp_buffers_free(&c->rx_bufs);
		udp_buffers_free(&c->tx_bufs);
		return -ENOMEM;
	}
	udp_batch_receive_into(&c->rx, &c->rx_bufs);
	return 0;
}

static void
free_buffers(struct client *c)
{
	/* Idle between batches: joined at once. */
	cryptopool_stop(c->pool);
	c->pool = NULL;
	udp_buffers_free(&c->rx_bufs);
	udp_buffers_free(&c->tx_bufs);
	tunio_free(&c->tun);
}

static int
setup_loop(struct client *c)
{
	static const int signals[] = { SIGTERM, SIGINT, SIGHUP, 0 };
	int fd = c->udp.fd4 >= 0 ? c->udp.fd4 : c->udp.fd6;
	int ret;

	ret = loop_init(&c->loop);
	if (ret < 0)
		return ret;
	ret = loop_add_fd(&c->loop, fd, EPOLLIN, on_udp, c);
	if (!ret)
		ret = loop_watch_signals(&c->loop, signals, on_signal, c);
	if (ret < 0) {
		loop_close(&c->loop);
		return ret;
	}
	loop_set_timer_fn(&c->loop, on_timer, c);
	if (c->cfg->busy_poll_us) {
		loop_set_busy_poll(&c->loop, c->cfg->busy_poll_us);
		(void)udp_set_busy_poll(&c->udp, c->cfg->busy_poll_us);
	}
	return 0;
}

/* The engine and its one peer, the server. */
static int
init_tunnel(struct client *c)
{
	const struct vpnc_config *cfg = c->cfg;
	int ret;

	ret = tunnel_init(&c->tunnel, &client_tunnel_ops, c, &c->pt,
			  cfg->private_key, 1, CLIENT_MAX_MTU, 0);
	if (ret < 0)
		return ret;
	tunnel_set_mtu(&c->tunnel, 1420);
	ret = tunnel_peer_init(&c->tunnel, &c->server, cfg->server_public_key,
			       cfg->has_psk ? cfg->psk : NULL,
			       CLIENT_STAGED_PACKETS, c);
	if (ret < 0) {
		log_err("the server's public key is unusable with ours");
		tunnel_free(&c->tunnel);
		return ret;
	}
	c->server.can_initiate = true;
	return 0;
}

static void
free_tunnel(struct client *c)
{
	tunnel_peer_free(&c->server);
	tunnel_free(&c->tunnel);
}

int
client_start(struct client *c, const struct vpnc_config *cfg,
	     const struct client_options *opt)
{
	int ret;

	memset(c, 0, sizeof(*c));
	c->cfg = cfg;
	c->opt = *opt;
	c->state = opt->logout ? CLIENT_LOGOUT_CONNECTING : CLIENT_CONNECTING;
	c->bad_source_log = (struct log_ratelimit)LOG_RATELIMIT_INIT(5, 1);
	c->tun.fd = -1;
	c->udp.fd4 = c->udp.fd6 = -1;
	c->backoff_ns = BACKOFF_FIRST_NS;
	protocol_times_scaled(&c->pt, cfg->test_timer_divisor);
	silence_init(&c->silence, cfg->test_timer_divisor);
	client_clock(c);

	ret = resolve_servers(c);
	if (ret < 0)
		return ret;
	/* offload = no: UDP_SEGMENT and UDP_GRO off too (udp.h). */
	udp_set_offload(c->cfg->offload);
	ret = udp_open_client(&c->udp, c->server_ep.addr.sa.sa_family);
	if (ret < 0) {
		log_err("cannot open a UDP socket: %s", strerror(-ret));
		return ret;
	}
	ret = netlink_open(&c->nl);
	if (ret == 0)
		ret = rtnl_open(&c->rt);
	if (ret < 0) {
		log_err("cannot open rtnetlink: %s", strerror(-ret));
		goto err_nl;
	}
	ret = alloc_buffers(c);
	if (ret < 0)
		goto err_nl;
	ret = init_tunnel(c);
	if (ret < 0)
		goto err_buffers;
	ret = setup_loop(c);
	if (ret < 0) {
		log_err("cannot start the event loop: %s", strerror(-ret));
		goto err_tunnel;
	}
	/*
	 * The setup above can take a while on a busy machine: read the clock
	 * again, or the first initiation carries a stale TAI64N and its
	 * REKEY_TIMEOUT retransmission comes early by the setup time.
	 */
	client_clock(c);
	if (opt->logout)
		c->logout_deadline_ns = c->now_ns + LOGOUT_WAIT_NS;
	handshake_start(c);
	return 0;
err_tunnel:
	free_tunnel(c);
err_buffers:
	free_buffers(c);
err_nl:
	rtnl_close(c->rt);
	c->rt = NULL;
	netlink_close(c->nl);
	c->nl = NULL;
	udp_close(&c->udp);
	return ret;
}

/* What the offloads did, for the log at exit. */
static void
log_offloads(const struct client *c)
{
	const struct tunio_stats *st = &c->tun.stats;

	log_info("offloads: %llu super-packets read, cut into %llu packets; "
		 "%llu coalesced writes of %llu packets; %llu reads refused",
		 (unsigned long long)st->rx_super,
		 (unsigned long long)st->rx_segments,
		 (unsigned long long)st->tx_coalesced,
		 (unsigned long long)st->tx_coalesced_pkts,
		 (unsigned long long)st->rx_refused);
}

int
client_run(struct client *c)
{
	int ret;

	rearm(c);
	ret = loop_run(&c->loop);
	if (c->rx_bad_source)
		log_notice("dropped %llu packet(s) from the tunnel whose source "
			   "it does not route to", (unsigned long long)c->rx_bad_source);
	log_offloads(c);
	if (ret < 0) {
		log_err("event loop failed: %s", strerror(-ret));
		return VPNC_EXIT_ERROR;
	}
	return c->exit_status;
}

/* The reverse of client_start, after client_run. */
void
client_stop(struct client *c)
{
	device_down(c, false);
	if (c->rt)
		fence_clear(c->rt, &c->fence);
	save_state(c, NULL, NULL);
	request_clear(c);
	prompt_wipe(&c->creds);
	loop_close(&c->loop);
	free_tunnel(c);
	free_buffers(c);
	rtnl_close(c->rt);
	c->rt = NULL;
	netlink_close(c->nl);
	c->nl = NULL;
	udp_close(&c->udp);
}
