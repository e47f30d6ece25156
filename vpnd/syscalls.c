// SPDX-License-Identifier: MIT
/*
 * vpnd's system call allow-lists, on top of the rules every program here
 * has (shared/sandbox.c: memory, time, threads, signals to itself, the
 * loop's descriptors, randomness, logging, exit). Anything else kills the
 * process (sandbox.h says why).
 *
 * To add a call: put it in the section of the feature that needs it,
 * saying why, and run the netns tests (each test's vpnd runs confined: a
 * call missing here kills it, and the kernel logs "type=1326 ...
 * syscall=N"; `ausyscall N` or `scmp_sys_resolver N` names it). A call
 * that vpnd makes only before privs_drop() (opening the device and the
 * sockets, binding, creating threads' resources) does not belong here.
 */
#include "syscalls.h"

#include <errno.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/ioctl.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const struct sandbox_rule vpnd_rules[] = {
	/* The packet path: UDP datagrams in batches (the TUN device is
	 * read and written like any descriptor). */
	SANDBOX_ALLOW("recvmmsg"),
	SANDBOX_ALLOW("sendmmsg"),
	SANDBOX_ALLOW("recvmsg"),
	SANDBOX_ALLOW("recvfrom"),

	/* The control socket: a connection, its peer's credentials. */
	SANDBOX_ALLOW("accept4"),
	SANDBOX_ALLOW_EQ("getsockopt", 1, SOL_SOCKET),

	/* Files. The user store, SQLite in WAL mode on the worker threads:
	 * the -wal and -shm files opened (the -shm mapped) and removed as
	 * connections come and go. The net sysctls put back at stop
	 * (CAP_NET_ADMIN may write them). The control socket's removal,
	 * refused in root's /run (the monitor does it). */
	SANDBOX_ALLOW("openat"),
	SANDBOX_ALLOW("pread64"),
	SANDBOX_ALLOW("pwrite64"),
	SANDBOX_ALLOW("fsync"),
	SANDBOX_ALLOW("fdatasync"),
	SANDBOX_ALLOW("ftruncate"),
	SANDBOX_ALLOW("fchmod"),
	SANDBOX_ALLOW("unlink"),
	SANDBOX_ALLOW("access"),

	/* The PostgreSQL user store (libpq, on the worker threads): every
	 * statement waits for its answer with poll(); a reconnection after
	 * an outage checks its non-blocking connect with getsockopt
	 * (SO_ERROR, above) and reads its socket's own address. A Unix
	 * socket is allowed to all; TCP only with pg_rules below. */
	SANDBOX_ALLOW("poll"),
	SANDBOX_ALLOW("getsockname"),

	/* A reload parses the file again: libconfuse's lexer asks whether
	 * its input is a terminal (isatty). */
	SANDBOX_ALLOW_EQ("ioctl", 1, TCGETS),

	/* sd_notify(3) (READY=1, STATUS=, WATCHDOG=1) grows its datagram
	 * socket's send buffer. */
	SANDBOX_ALLOW_EQ2("setsockopt", 1, SOL_SOCKET, 2, SO_SNDBUF),
	SANDBOX_ALLOW_EQ2("setsockopt", 1, SOL_SOCKET, 2, SO_SNDBUFFORCE),

	/* The metrics endpoint (httpd.c: libmicrohttpd on a thread of its
	 * own): connections on the socket it listens on since start, sent
	 * without delay, half-closed when answered; its Date header reads
	 * the time zone (openat). */
	SANDBOX_ALLOW_EQ2("setsockopt", 1, IPPROTO_TCP, 2, TCP_NODELAY),
	SANDBOX_ALLOW_EQ2("setsockopt", 1, IPPROTO_TCP, 2, TCP_CORK),
	SANDBOX_ALLOW("shutdown"),

	/* The metrics textfile (textfile.c): a temporary file beside it,
	 * renamed over it. */
	SANDBOX_ALLOW("rename"),
	SANDBOX_ALLOW("renameat"),

	/* A daemon's stderr becomes /dev/null once its parent is told it
	 * started (main.c's tell_parent). */
	SANDBOX_ALLOW("dup2"),
	SANDBOX_ALLOW("dup3"),

	/* glibc's qsort (access.c sorts a policy's prefixes when rules
	 * are built: at start, on a reload, on an admission) asks the
	 * kernel how much memory there is before it allocates room for a
	 * large array: an access rule of a few hundred prefixes killed
	 * vpnd without this. */
	SANDBOX_ALLOW("sysinfo"),

	/* Stopping: the monitor ends when its socket closes; vpnd waits
	 * for it (recvmsg above takes its answers). */
	SANDBOX_ALLOW("wait4"),

	/* lan-mode nat at stop (masq.c): libnftables removes vpnd's table
	 * on the netfilter socket it opened at start, and waits for the
	 * kernel's answers to its batch with select() (mnl_batch_talk). */
	SANDBOX_ALLOW("pselect6"),

	/* lan-mode proxy-arp (announce.c): a client's addresses announced
	 * on the LAN with sendto (a base rule) on a packet socket and a raw
	 * ICMPv6 socket opened at start, as root; nothing to add, and
	 * socket() for either stays refused. */
};

/*
 * A vpnd whose user store is a PostgreSQL server, on top of vpnd_rules:
 * libpq reconnects after an outage over TCP (IPv4 or IPv6), with
 * keepalives (pgsql.c asks for them) or a user timeout if the connection
 * string does, and without Nagle (TCP_NODELAY, above). vpnd without one
 * keeps refusing every TCP socket.
 */
static const struct sandbox_rule pg_rules[] = {
	SANDBOX_ALLOW_EQ("socket", 0, AF_INET),
	SANDBOX_ALLOW_EQ("socket", 0, AF_INET6),
	SANDBOX_ALLOW_EQ2("setsockopt", 1, SOL_SOCKET, 2, SO_KEEPALIVE),
	SANDBOX_ALLOW_EQ2("setsockopt", 1, IPPROTO_TCP, 2, TCP_KEEPIDLE),
	SANDBOX_ALLOW_EQ2("setsockopt", 1, IPPROTO_TCP, 2, TCP_KEEPINTVL),
	SANDBOX_ALLOW_EQ2("setsockopt", 1, IPPROTO_TCP, 2, TCP_KEEPCNT),
	SANDBOX_ALLOW_EQ2("setsockopt", 1, IPPROTO_TCP, 2, TCP_USER_TIMEOUT),
};

/*
 * The monitor (monitor.h): requests in and answers out on its socketpair
 * (with a descriptor: the configuration file, opened read-only), and the
 * control socket removed unless something answers on it.
 */
static const struct sandbox_rule monitor_rules[] = {
	SANDBOX_ALLOW("recvfrom"),
	SANDBOX_ALLOW("openat"),
	SANDBOX_ALLOW("unlink"),
};

struct sandbox_rules
syscalls_vpnd(void)
{
	return (struct sandbox_rules){ vpnd_rules, ARRAY_SIZE(vpnd_rules) };
}

struct sandbox_rules
syscalls_vpnd_pg(void)
{
	static struct sandbox_rule all[ARRAY_SIZE(vpnd_rules) +
				       ARRAY_SIZE(pg_rules)];

	memcpy(all, vpnd_rules, sizeof(vpnd_rules));
	memcpy(all + ARRAY_SIZE(vpnd_rules), pg_rules, sizeof(pg_rules));
	return (struct sandbox_rules){ all, ARRAY_SIZE(all) };
}

struct sandbox_rules
syscalls_monitor(void)
{
	return (struct sandbox_rules){ monitor_rules,
				       ARRAY_SIZE(monitor_rules) };
}
