// SPDX-License-Identifier: MIT
/*
 * tun.c and netlink.c against the real kernel, inside a private network
 * namespace that the group setup unshares once: it starts empty (only a
 * down `lo`) and vanishes with the process, so nothing needs cleaning up
 * and no packet can leave. Needs root and /dev/net/tun; without them, or
 * if unshare fails, every test is skipped rather than run on the host.
 * The results are read back through other interfaces than the ones under
 * test: ioctl for MTU and flags, getifaddrs for addresses; the listings
 * are checked against what the calls under test added.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netlink.h"
#include "tun.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define TEST_MTU 1420

static bool in_private_netns;

/* One TUN device and one rtnetlink handle per test. */
struct fixture {
	struct netlink *nl;
	int fd;
	int ifindex;
	char ifname[IFNAMSIZ];
};

static void
parse_addr(int family, const char *text, uint8_t *out)
{
	assert_int_equal(inet_pton(family, text, out), 1);
}

static int
group_setup(void **state)
{
	struct netlink *nl;
	bool ok;

	(void)state;
	if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK) != 0)
		return 0;
	if (unshare(CLONE_NEWNET) != 0)
		return 0;
	in_private_netns = true;
	/* Loopback, for the lookups of our own addresses. */
	assert_int_equal(netlink_open(&nl), 0);
	ok = netlink_link_set_up(nl, (int)if_nametoindex("lo"), true) == 0;
	netlink_close(nl);
	assert_true(ok);
	return 0;
}

/* Leaves *state NULL when the namespace is not ours: the test skips. */
static int
setup(void **state)
{
	struct fixture *f;

	*state = NULL;
	if (!in_private_netns)
		return 0;
	f = test_calloc(1, sizeof(*f));
	assert_int_equal(tun_open("vt%d", f->ifname, &f->fd), 0);
	f->ifindex = (int)if_nametoindex(f->ifname);
	assert_true(f->ifindex > 0);
	assert_int_equal(netlink_open(&f->nl), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	if (!f)
		return 0;
	netlink_close(f->nl);
	tun_close(f->fd);
	test_free(f);
	return 0;
}

static struct fixture *
fixture(void **state)
{
	if (!*state)
		skip();
	return *state;
}

static void
link_info(const char *ifname, int *mtu, short *flags)
{
	struct ifreq ifr;
	int fd;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, ifname);
	assert_int_equal(ioctl(fd, SIOCGIFMTU, &ifr), 0);
	*mtu = ifr.ifr_mtu;
	assert_int_equal(ioctl(fd, SIOCGIFFLAGS, &ifr), 0);
	*flags = ifr.ifr_flags;
	close(fd);
}

static void
set_up(struct fixture *f)
{
	assert_int_equal(netlink_link_set_mtu(f->nl, f->ifindex, TEST_MTU), 0);
	assert_int_equal(netlink_link_set_up(f->nl, f->ifindex, true), 0);
}

static unsigned int
mask_len(const uint8_t *mask, size_t len)
{
	unsigned int bits = 0;
	size_t i;

	for (i = 0; i < len; i++)
		bits += (unsigned int)__builtin_popcount(mask[i]);
	return bits;
}

static const uint8_t *
sockaddr_bytes(int family, const struct sockaddr *sa)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

	if (family == AF_INET)
		return (const uint8_t *)&sin->sin_addr;
	return sin6->sin6_addr.s6_addr;
}

/* Whether getifaddrs lists addr/prefix_len on ifname. */
static bool
has_addr(const char *ifname, int family, const uint8_t *addr,
	 unsigned int prefix_len)
{
	struct ifaddrs *list, *i;
	bool found = false;
	size_t len = family == AF_INET ? 4 : 16;

	assert_int_equal(getifaddrs(&list), 0);
	for (i = list; i && !found; i = i->ifa_next) {
		if (!i->ifa_addr || !i->ifa_netmask ||
		    i->ifa_addr->sa_family != family ||
		    strcmp(i->ifa_name, ifname) != 0)
			continue;
		found = memcmp(sockaddr_bytes(family, i->ifa_addr), addr,
			       len) == 0 &&
			mask_len(sockaddr_bytes(family, i->ifa_netmask), len) ==
				prefix_len;
	}
	freeifaddrs(list);
	return found;
}

static void
test_tun_open_numbered(void **state)
{
	struct fixture *f = fixture(state);
	char name[IFNAMSIZ];
	int fd;

	assert_int_equal(strncmp(f->ifname, "vt", 2), 0);
	assert_null(strchr(f->ifname, '%'));
	assert_int_equal(tun_open("vt%d", name, &fd), 0);
	assert_string_not_equal(name, f->ifname);
	assert_true(if_nametoindex(name) > 0);
	tun_close(fd);
}

/* A fixed name is used as given; the device lives as long as its fd. */
static void
test_tun_open_fixed(void **state)
{
	char name[IFNAMSIZ];
	int fd, fd2;

	fixture(state);
	assert_int_equal(tun_open("vpntest0", name, &fd), 0);
	assert_string_equal(name, "vpntest0");
	assert_true(if_nametoindex("vpntest0") > 0);
	/* Attached already: a second open must fail, not share it. */
	assert_true(tun_open("vpntest0", name, &fd2) < 0);
	tun_close(fd);
	assert_int_equal(if_nametoindex("vpntest0"), 0);
}

static void
test_tun_bad_args(void **state)
{
	char name[IFNAMSIZ];
	uint8_t buf[64];
	int fd = -1;

	fixture(state);
	assert_int_equal(tun_open(NULL, name, &fd), -EINVAL);
	assert_int_equal(tun_open("vt%d", NULL, &fd), -EINVAL);
	assert_int_equal(tun_open("vt%d", name, NULL), -EINVAL);
	assert_int_equal(tun_open("a-name-far-too-long", name, &fd),
			 -ENAMETOOLONG);
	assert_true(tun_open("bad/name", name, &fd) < 0);
	assert_int_equal(fd, -1);
	assert_int_equal(tun_read(-1, buf, sizeof(buf)), -EBADF);
	assert_int_equal(tun_write(-1, buf, sizeof(buf)), -EBADF);
	assert_int_equal(tun_read(0, NULL, 1), -EINVAL);
	assert_int_equal(tun_write(0, NULL, 1), -EINVAL);
	tun_close(-1);
}

/* A down device never has a packet queued, so this is deterministic. */
static void
test_tun_read_empty(void **state)
{
	struct fixture *f = fixture(state);
	uint8_t buf[2048];

	assert_int_equal(tun_read(f->fd, buf, sizeof(buf)), -EAGAIN);
}

static void
test_link_mtu_up(void **state)
{
	struct fixture *f = fixture(state);
	short flags;
	int mtu;

	set_up(f);
	link_info(f->ifname, &mtu, &flags);
	assert_int_equal(mtu, TEST_MTU);
	assert_true(flags & IFF_UP);
	assert_int_equal(netlink_link_set_mtu(f->nl, f->ifindex, 1280), 0);
	assert_int_equal(netlink_link_set_up(f->nl, f->ifindex, false), 0);
	link_info(f->ifname, &mtu, &flags);
	assert_int_equal(mtu, 1280);
	assert_false(flags & IFF_UP);
}

static void
test_link_bad_args(void **state)
{
	struct fixture *f = fixture(state);

	assert_int_equal(netlink_link_set_mtu(NULL, f->ifindex, 1400), -EINVAL);
	assert_int_equal(netlink_link_set_mtu(f->nl, 0, 1400), -EINVAL);
	assert_int_equal(netlink_link_set_up(f->nl, -1, true), -EINVAL);
	assert_int_equal(netlink_link_set_up(f->nl, 9999, true), -ENODEV);
	/* The kernel's range check comes back as the call's result. */
	assert_int_equal(netlink_link_set_mtu(f->nl, f->ifindex, 0), -EINVAL);
	assert_int_equal(netlink_link_set_mtu(f->nl, f->ifindex, 1u << 31),
			 -EINVAL);
	assert_int_equal(netlink_open(NULL), -EINVAL);
	netlink_close(NULL);
}

static void
test_addr_add_del(void **state)
{
	static const struct {
		int family;
		const char *text;
		uint8_t len;
	} v[] = {
		{ AF_INET, "10.78.0.1", 24 },
		{ AF_INET6, "2001:db8:78::1", 64 },
	};
	struct fixture *f = fixture(state);
	uint8_t a[16];
	size_t i;

	set_up(f);
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		parse_addr(v[i].family, v[i].text, a);
		assert_false(has_addr(f->ifname, v[i].family, a, v[i].len));
		assert_int_equal(netlink_addr_add(f->nl, f->ifindex,
						  v[i].family, a, v[i].len), 0);
		assert_true(has_addr(f->ifname, v[i].family, a, v[i].len));
		/* Again: still there, once. */
		assert_int_equal(netlink_addr_add(f->nl, f->ifindex,
						  v[i].family, a, v[i].len), 0);
		assert_true(has_addr(f->ifname, v[i].family, a, v[i].len));
	}
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		parse_addr(v[i].family, v[i].text, a);
		assert_int_equal(netlink_addr_del(f->nl, f->ifindex,
						  v[i].family, a, v[i].len), 0);
		assert_false(has_addr(f->ifname, v[i].family, a, v[i].len));
	}
}

/* IFA_F_NODAD: the IPv6 address can be bound the moment the call returns. */
static void
test_addr6_usable_at_once(void **state)
{
	struct fixture *f = fixture(state);
	struct sockaddr_in6 sin6;
	int fd;

	set_up(f);
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	parse_addr(AF_INET6, "2001:db8:78::7", sin6.sin6_addr.s6_addr);
	assert_int_equal(netlink_addr_add(f->nl, f->ifindex, AF_INET6,
					  sin6.sin6_addr.s6_addr, 64), 0);
	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)), 0);
	close(fd);
}

static void
test_addr_bad_args(void **state)
{
	struct fixture *f = fixture(state);
	uint8_t a[16] = { 10, 78, 0, 1 };

	assert_int_equal(netlink_addr_add(NULL, f->ifindex, AF_INET, a, 24),
			 -EINVAL);
	assert_int_equal(netlink_addr_add(f->nl, 0, AF_INET, a, 24), -EINVAL);
	assert_int_equal(netlink_addr_add(f->nl, f->ifindex, AF_UNIX, a, 24),
			 -EAFNOSUPPORT);
	assert_int_equal(netlink_addr_add(f->nl, f->ifindex, AF_INET, NULL,
					  24), -EINVAL);
	assert_int_equal(netlink_addr_add(f->nl, f->ifindex, AF_INET, a, 33),
			 -EINVAL);
	assert_int_equal(netlink_addr_add(f->nl, f->ifindex, AF_INET6, a,
					  129), -EINVAL);
	assert_int_equal(netlink_addr_del(f->nl, f->ifindex, AF_INET, a, 33),
			 -EINVAL);
	assert_int_equal(netlink_addr_add(f->nl, 9999, AF_INET, a, 24),
			 -ENODEV);
	/* What the kernel refuses comes back as a negative errno too. */
	assert_true(netlink_addr_del(f->nl, f->ifindex, AF_INET, a, 24) < 0);
}

static const struct {
	int family;
	const char *dst;
	uint8_t len;
	const char *inside;
	const char *outside;
} routes[] = {
	{ AF_INET, "10.77.0.0", 24, "10.77.0.5", "10.77.1.5" },
	{ AF_INET6, "2001:db8:77::", 48, "2001:db8:77:1::5", "2001:db8:78::5" },
};

static void
assert_routes_via(struct netlink *nl, int family, const char *text,
		  int ifindex)
{
	struct netlink_route r;
	uint8_t a[16];

	parse_addr(family, text, a);
	assert_int_equal(netlink_route_get(nl, family, a, &r), 0);
	assert_int_equal(r.oif, ifindex);
	assert_false(r.has_gateway);
}

static void
assert_unroutable(struct netlink *nl, int family, const char *text)
{
	struct netlink_route r;
	uint8_t a[16];

	parse_addr(family, text, a);
	assert_true(netlink_route_get(nl, family, a, &r) < 0);
}

static void
test_route_add_get_del(void **state)
{
	struct fixture *f = fixture(state);
	uint8_t dst[16];
	size_t i;

	set_up(f);
	for (i = 0; i < ARRAY_SIZE(routes); i++) {
		int fam = routes[i].family;

		parse_addr(fam, routes[i].dst, dst);
		assert_unroutable(f->nl, fam, routes[i].inside);
		assert_int_equal(netlink_route_add(f->nl, f->ifindex, fam, dst,
						   routes[i].len, NULL, 0), 0);
		assert_routes_via(f->nl, fam, routes[i].inside, f->ifindex);
		assert_unroutable(f->nl, fam, routes[i].outside);
		/* Idempotent add. */
		assert_int_equal(netlink_route_add(f->nl, f->ifindex, fam, dst,
						   routes[i].len, NULL, 0), 0);
		assert_int_equal(netlink_route_del(f->nl, f->ifindex, fam, dst,
						   routes[i].len, NULL, 0), 0);
		/* One delete removed it: the second add made no copy. */
		assert_unroutable(f->nl, fam, routes[i].inside);
		/* Deleting what is gone succeeds. */
		assert_int_equal(netlink_route_del(f->nl, f->ifindex, fam, dst,
						   routes[i].len, NULL, 0), 0);
	}
}

/* With a metric, and with host bits set in the prefix. */
static void
test_route_metric_host_bits(void **state)
{
	struct fixture *f = fixture(state);
	uint8_t dst[16];
	size_t i;

	set_up(f);
	for (i = 0; i < ARRAY_SIZE(routes); i++) {
		int fam = routes[i].family;

		parse_addr(fam, routes[i].inside, dst);
		assert_int_equal(netlink_route_add(f->nl, f->ifindex, fam, dst,
						   routes[i].len, NULL, 100),
				 0);
		assert_int_equal(netlink_route_add(f->nl, f->ifindex, fam, dst,
						   routes[i].len, NULL, 100),
				 0);
		assert_routes_via(f->nl, fam, routes[i].inside, f->ifindex);
		assert_int_equal(netlink_route_del(f->nl, f->ifindex, fam, dst,
						   routes[i].len, NULL, 100),
				 0);
		assert_unroutable(f->nl, fam, routes[i].inside);
	}
}

/* Through a gateway on the tunnel's subnet: the lookup reports the
 * gateway and the source address the kernel would choose. */
static void
test_route_gateway(void **state)
{
	static const struct {
		int family;
		const char *local, *gateway, *dst, *inside;
		uint8_t local_len, dst_len;
	} v[] = {
		{ AF_INET, "10.78.0.1", "10.78.0.2", "10.79.0.0", "10.79.3.4",
		  24, 16 },
		{ AF_INET6, "2001:db8:78::1", "2001:db8:78::2", "2001:db8:79::",
		  "2001:db8:79::4", 64, 48 },
	};
	struct fixture *f = fixture(state);
	uint8_t local[16], gw[16], dst[16], in[16];
	struct netlink_route r;
	size_t i, len;

	set_up(f);
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		len = v[i].family == AF_INET ? 4 : 16;
		parse_addr(v[i].family, v[i].local, local);
		parse_addr(v[i].family, v[i].gateway, gw);
		parse_addr(v[i].family, v[i].dst, dst);
		parse_addr(v[i].family, v[i].inside, in);
		assert_int_equal(netlink_addr_add(f->nl, f->ifindex,
						  v[i].family, local,
						  v[i].local_len), 0);
		assert_int_equal(netlink_route_add(f->nl, f->ifindex,
						   v[i].family, dst,
						   v[i].dst_len, gw, 0), 0);
		assert_int_equal(netlink_route_get(f->nl, v[i].family, in, &r),
				 0);
		assert_int_equal(r.oif, f->ifindex);
		assert_true(r.has_gateway);
		assert_memory_equal(r.gateway, gw, len);
		assert_true(r.has_prefsrc);
		assert_memory_equal(r.prefsrc, local, len);
		assert_int_equal(netlink_route_del(f->nl, f->ifindex,
						   v[i].family, dst,
						   v[i].dst_len, gw, 0), 0);
		assert_unroutable(f->nl, v[i].family, v[i].inside);
	}
}

/* Our own addresses go through `lo`; nothing else is reachable. */
static void
test_route_get_lookups(void **state)
{
	struct fixture *f = fixture(state);
	struct netlink_route r;
	uint8_t a[16];

	parse_addr(AF_INET, "127.0.0.1", a);
	assert_int_equal(netlink_route_get(f->nl, AF_INET, a, &r), 0);
	assert_int_equal(r.oif, (int)if_nametoindex("lo"));
	assert_unroutable(f->nl, AF_INET, "192.0.2.1");
	assert_unroutable(f->nl, AF_INET6, "2001:db8::1");
}

static void
test_route_bad_args(void **state)
{
	struct fixture *f = fixture(state);
	struct netlink_route r;
	uint8_t a[16] = { 10, 77 };

	assert_int_equal(netlink_route_add(NULL, f->ifindex, AF_INET, a, 16,
					   NULL, 0), -EINVAL);
	assert_int_equal(netlink_route_add(f->nl, 0, AF_INET, a, 16, NULL, 0),
			 -EINVAL);
	assert_int_equal(netlink_route_add(f->nl, f->ifindex, AF_PACKET, a,
					   16, NULL, 0), -EAFNOSUPPORT);
	assert_int_equal(netlink_route_add(f->nl, f->ifindex, AF_INET, NULL,
					   16, NULL, 0), -EINVAL);
	assert_int_equal(netlink_route_add(f->nl, f->ifindex, AF_INET, a, 33,
					   NULL, 0), -EINVAL);
	assert_int_equal(netlink_route_del(f->nl, f->ifindex, AF_INET6, a,
					   129, NULL, 0), -EINVAL);
	assert_int_equal(netlink_route_get(NULL, AF_INET, a, &r), -EINVAL);
	assert_int_equal(netlink_route_get(f->nl, AF_INET, a, NULL), -EINVAL);
	assert_int_equal(netlink_route_get(f->nl, AF_INET, NULL, &r), -EINVAL);
	assert_int_equal(netlink_route_get(f->nl, 0, a, &r), -EAFNOSUPPORT);
	/* Refused by the kernel: the device is down, then gone. */
	assert_true(netlink_route_add(f->nl, f->ifindex, AF_INET, a, 16, NULL,
				      0) < 0);
	assert_true(netlink_route_add(f->nl, 9999, AF_INET, a, 16, NULL, 0) <
		    0);
	/* The handle still works after refusals. */
	assert_unroutable(f->nl, AF_INET, "10.77.0.1");
}

/* True if the n entries of `list` hold addr/prefix_len on ifindex. */
static bool
listed(const struct netlink_addr *list, size_t n, int ifindex, int family,
       const uint8_t *addr, unsigned int prefix_len)
{
	size_t i, len = family == AF_INET ? 4 : 16;

	for (i = 0; i < n; i++)
		if (list[i].ifindex == ifindex && list[i].family == family &&
		    list[i].prefix_len == prefix_len &&
		    memcmp(list[i].addr, addr, len) == 0)
			return true;
	return false;
}

/* The device's addresses, and no other interface's (lo's are there). */
static void
test_addr_list(void **state)
{
	struct fixture *f = fixture(state);
	struct netlink_addr list[8];
	uint8_t a[16], b[16], lo[16];
	size_t n;

	set_up(f);
	parse_addr(AF_INET, "10.78.0.1", a);
	parse_addr(AF_INET, "10.79.0.1", b);
	parse_addr(AF_INET, "127.0.0.1", lo);
	assert_int_equal(netlink_addr_list(f->nl, f->ifindex, AF_INET, list,
					   ARRAY_SIZE(list), &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(netlink_addr_add(f->nl, f->ifindex, AF_INET, a, 24),
			 0);
	assert_int_equal(netlink_addr_add(f->nl, f->ifindex, AF_INET, b, 16),
			 0);
	assert_int_equal(netlink_addr_list(f->nl, f->ifindex, AF_INET, list,
					   ARRAY_SIZE(list), &n), 0);
	assert_int_equal(n, 2);
	assert_true(listed(list, n, f->ifindex, AF_INET, a, 24));
	assert_true(listed(list, n, f->ifindex, AF_INET, b, 16));
	/* Every interface: lo's too. */
	assert_int_equal(netlink_addr_list(f->nl, 0, AF_INET, list,
					   ARRAY_SIZE(list), &n), 0);
	assert_int_equal(n, 3);
	assert_true(listed(list, n, (int)if_nametoindex("lo"), AF_INET, lo,
			   8));
	/* Too many for the room given: the first ones, and -ENOSPC. */
	assert_int_equal(netlink_addr_list(f->nl, f->ifindex, AF_INET, list, 1,
					   &n), -ENOSPC);
	assert_int_equal(n, 1);
	parse_addr(AF_INET6, "2001:db8:78::1", a);
	assert_int_equal(netlink_addr_add(f->nl, f->ifindex, AF_INET6, a, 64),
			 0);
	assert_int_equal(netlink_addr_list(f->nl, f->ifindex, AF_INET6, list,
					   ARRAY_SIZE(list), &n), 0);
	/* The kernel's own link-local address may be there too. */
	assert_true(listed(list, n, f->ifindex, AF_INET6, a, 64));
	assert_int_equal(netlink_addr_list(f->nl, f->ifindex, AF_UNIX, list,
					   ARRAY_SIZE(list), &n),
			 -EAFNOSUPPORT);
	assert_int_equal(netlink_addr_list(NULL, f->ifindex, AF_INET, list,
					   ARRAY_SIZE(list), &n), -EINVAL);
}

static void
test_neigh_proxy(void **state)
{
	static const struct {
		int family;
		const char *a, *b;
	} v[] = {
		{ AF_INET, "10.78.0.130", "10.78.0.131" },
		{ AF_INET6, "2001:db8:78::130", "2001:db8:78::131" },
	};
	struct fixture *f = fixture(state);
	struct netlink_addr list[8];
	uint8_t a[16], b[16];
	unsigned int bits;
	size_t i, n;

	set_up(f);
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		int fam = v[i].family;

		bits = fam == AF_INET ? 32 : 128;
		parse_addr(fam, v[i].a, a);
		parse_addr(fam, v[i].b, b);
		assert_int_equal(netlink_neigh_proxy_list(f->nl, f->ifindex,
							  fam, list, 8, &n), 0);
		assert_int_equal(n, 0);
		assert_int_equal(netlink_neigh_proxy_add(f->nl, f->ifindex,
							 fam, a), 0);
		/* Again: still there, once. */
		assert_int_equal(netlink_neigh_proxy_add(f->nl, f->ifindex,
							 fam, a), 0);
		assert_int_equal(netlink_neigh_proxy_add(f->nl, f->ifindex,
							 fam, b), 0);
		assert_int_equal(netlink_neigh_proxy_list(f->nl, f->ifindex,
							  fam, list, 8, &n), 0);
		assert_int_equal(n, 2);
		assert_true(listed(list, n, f->ifindex, fam, a, bits));
		assert_true(listed(list, n, f->ifindex, fam, b, bits));
		/* Only this device's: lo has none. */
		assert_int_equal(netlink_neigh_proxy_list(
					 f->nl, (int)if_nametoindex("lo"), fam,
					 list, 8, &n), 0);
		assert_int_equal(n, 0);
		assert_int_equal(netlink_neigh_proxy_del(f->nl, f->ifindex,
							 fam, a), 0);
		/* Deleting what is gone succeeds. */
		assert_int_equal(netlink_neigh_proxy_del(f->nl, f->ifindex,
							 fam, a), 0);
		assert_int_equal(netlink_neigh_proxy_list(f->nl, 0, fam, list,
							  8, &n), 0);
		assert_int_equal(n, 1);
		assert_true(listed(list, n, f->ifindex, fam, b, bits));
		assert_int_equal(netlink_neigh_proxy_del(f->nl, f->ifindex,
							 fam, b), 0);
		assert_int_equal(netlink_neigh_proxy_list(f->nl, f->ifindex,
							  fam, list, 8, &n), 0);
		assert_int_equal(n, 0);
	}
	assert_int_equal(netlink_neigh_proxy_add(f->nl, 0, AF_INET, a),
			 -EINVAL);
	assert_int_equal(netlink_neigh_proxy_add(f->nl, f->ifindex, AF_UNIX,
						 a), -EAFNOSUPPORT);
	assert_int_equal(netlink_neigh_proxy_del(f->nl, f->ifindex, AF_INET,
						 NULL), -EINVAL);
	assert_int_equal(netlink_neigh_proxy_add(f->nl, 9999, AF_INET, a),
			 -ENODEV);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tun_open_numbered, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tun_open_fixed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tun_bad_args, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tun_read_empty, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_link_mtu_up, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_link_bad_args, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_addr_add_del, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_addr6_usable_at_once,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_addr_bad_args, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_route_add_get_del, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_route_metric_host_bits,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_route_gateway, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_route_get_lookups, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_route_bad_args, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_addr_list, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_neigh_proxy, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
