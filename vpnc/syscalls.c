// SPDX-License-Identifier: MIT
/*
 * vpnc's system call allow-list, on top of the rules every program here
 * has (shared/sandbox.c: memory, time, threads, signals to itself, the
 * loop's descriptors, randomness, logging, exit). Anything else kills the
 * process (sandbox.h says why).
 *
 * To add a call: put it in the section of the feature that needs it,
 * saying why, and run the netns tests (each test's vpnc runs confined: a
 * call missing here kills it, and the kernel logs "type=1326 ...
 * syscall=N"). Calls vpnc makes only before jail_drop() (resolving the
 * server's name, opening its sockets) do not belong here.
 */
#include "syscalls.h"

#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const struct sandbox_rule vpnc_rules[] = {
	/* The packet path: UDP datagrams in batches, and the rtnetlink
	 * socket's requests and answers. */
	SANDBOX_ALLOW("recvmmsg"),
	SANDBOX_ALLOW("sendmmsg"),
	SANDBOX_ALLOW("recvmsg"),
	SANDBOX_ALLOW("recvfrom"),

	/* Each admission: a TUN device made (/dev/net/tun, TUNSETIFF), its
	 * index looked up (if_nametoindex: SIOCGIFINDEX on a Unix socket). */
	SANDBOX_ALLOW("openat"),
	SANDBOX_ALLOW_EQ("ioctl", 1, TUNSETIFF),
	/* With offloads (tun.h): the virtio_net_hdr's size (and byte order
	 * on a big-endian host), then the offloads probed. */
	SANDBOX_ALLOW_EQ("ioctl", 1, TUNSETVNETHDRSZ),
	SANDBOX_ALLOW_EQ("ioctl", 1, TUNSETVNETLE),
	SANDBOX_ALLOW_EQ("ioctl", 1, TUNSETOFFLOAD),
	SANDBOX_ALLOW_EQ("ioctl", 1, SIOCGIFINDEX),

	/* Asking for the password and the code: the terminal's modes (echo
	 * off and back, isatty), a wait that signals may end, the password
	 * file (openat, above). */
	SANDBOX_ALLOW_EQ("ioctl", 1, TCGETS),
	SANDBOX_ALLOW_EQ("ioctl", 1, TCSETS),
	SANDBOX_ALLOW_EQ("ioctl", 1, TCSETSW),
	SANDBOX_ALLOW_EQ("ioctl", 1, TCSETSF),
	SANDBOX_ALLOW("poll"),
	SANDBOX_ALLOW("ppoll"),

	/* The state file (state.h), written whole at each change: a
	 * temporary file renamed over it, removed once nothing is left to
	 * undo (openat, above). */
	SANDBOX_ALLOW("rename"),
	SANDBOX_ALLOW("renameat"),
	SANDBOX_ALLOW("renameat2"),
	SANDBOX_ALLOW("unlink"),
	SANDBOX_ALLOW("unlinkat"),

	/* The login names this host (gethostname, which reads uname). */
	SANDBOX_ALLOW("uname"),

	/* Stopping: the DNS helper ends when its socket closes; vpnc waits
	 * for it (its answers come by recvmsg, above). */
	SANDBOX_ALLOW("wait4"),
};

struct sandbox_rules
syscalls_vpnc(void)
{
	return (struct sandbox_rules){ vpnc_rules, ARRAY_SIZE(vpnc_rules) };
}
