#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# `make install` as a package build runs it (DESTDIR, PREFIX=/usr): the
# programs, the man pages, README, the sample configurations (mode 0600 in
# directories of mode 0700), the fail2ban filter and jail, and the systemd
# units naming the installed paths (ExecStart=/usr/sbin/vpnd..., nothing
# left under /usr/local). Run again over an edited configuration, it keeps
# it; `make uninstall` removes what install replaces and keeps the rest.
# As root, in a mount namespace of its own with a copy of /etc, an install
# without DESTDIR creates the system user vpnd (once) and gives it its
# state directory. Last, `make` where pkg-config finds nothing stops with
# one line naming the -dev packages and `make deps`, before compiling.
set -e
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
export BUILD
for b in vpnd vpnc vpnctl; do
	[ -x "$BUILD/$b" ] || { echo "skipped: no $BUILD/$b yet"; exit 77; }
done
command -v scdoc >/dev/null || { echo "skipped: no scdoc (make deps)"; exit 77; }

tmp=$(mktemp -d /tmp/t-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

mode_of() {
	stat -c %a "$1"
}

# The programs as built: install them, never rebuild them here (others
# may be editing the sources).
as_built="-o $BUILD/vpnd -o $BUILD/vpnc -o $BUILD/vpnctl"

# make_q ARGS...: make install or uninstall, quiet unless it fails.
make_q() {
	make --no-print-directory $as_built "$@" >"$tmp/make.out" 2>&1 ||
		fail "make $*: $(tail -n 5 "$tmp/make.out")"
}

had_user=false
getent passwd vpnd >/dev/null && had_user=true

make_q install DESTDIR="$root" PREFIX=/usr

# Programs, pages, README.
for f in usr/sbin/vpnd usr/sbin/vpnctl usr/bin/vpnc; do
	[ -x "$root/$f" ] || fail "no $f"
	cmp -s "$root/$f" "$BUILD/$(basename "$f")" || fail "$f is not the build's"
done
"$root/usr/sbin/vpnd" --version | grep -q '^vpnd ' || fail "vpnd --version"
for p in man8/vpnd.8 man8/vpnc.8 man8/vpnctl.8 man5/vpnd.conf.5 \
	man5/vpnc.conf.5; do
	f=$root/usr/share/man/$p
	[ -f "$f" ] && [ "$(mode_of "$f")" = 644 ] || fail "no $p, mode 644"
	MANWIDTH=80 man -l "$f" 2>/dev/null | grep -q '^NAME' ||
		fail "$p does not render"
done
[ -f "$root/usr/share/doc/vpnd/README.md" ] || fail "no README"

# Configurations: the samples, 0600 in 0700 directories.
for c in vpnd vpnc; do
	[ "$(mode_of "$root/etc/$c")" = 700 ] || fail "/etc/$c is not 0700"
	[ "$(mode_of "$root/etc/$c/$c.conf")" = 600 ] ||
		fail "/etc/$c/$c.conf is not 0600"
	cmp -s "$root/etc/$c/$c.conf" conf/$c.conf || fail "$c.conf differs"
done
for f in filter.d/vpnd.conf jail.d/vpnd.conf; do
	cmp -s "$root/etc/fail2ban/$f" contrib/fail2ban/$f ||
		fail "no fail2ban $f"
done
[ -d "$root/var/lib/vpnd" ] && [ "$(mode_of "$root/var/lib/vpnd")" = 700 ] ||
	fail "no /var/lib/vpnd of mode 0700"

# Units: one per contrib/systemd unit, pointing at what was installed.
n=0
for src in contrib/systemd/*.service contrib/systemd/*.service.in; do
	[ -f "$src" ] || continue
	unit=$root/lib/systemd/system/$(basename "$src" .in)
	[ -f "$unit" ] || fail "no unit $(basename "$unit")"
	[ "$(mode_of "$unit")" = 644 ] || fail "$unit is not 0644"
	! grep -n '/usr/local\|@[A-Z]*DIR@' "$unit" ||
		fail "$(basename "$unit") names a path not installed"
	# Every program a unit runs is one just installed.
	for prog in $(sed -n 's/^Exec[A-Za-z]*=[-@:+!]*\([^ ]*\).*/\1/p' \
		"$unit"); do
		[ -x "$root$prog" ] || fail "$(basename "$unit") runs $prog"
	done
	n=$((n + 1))
done
[ "$n" -ge 2 ] || fail "only $n units in contrib/systemd"
grep -q '^ExecStart=/usr/sbin/vpnd .*/etc/vpnd/vpnd.conf' \
	"$root/lib/systemd/system/vpnd.service" || fail "vpnd.service ExecStart"
grep -q '^ExecStart=/usr/bin/vpnc ' "$root/lib/systemd/system/vpnc@.service" ||
	fail "vpnc@.service ExecStart"

# A package build creates no user.
$had_user || ! getent passwd vpnd >/dev/null ||
	fail "make install with DESTDIR created the user vpnd"

# Again, over edited configurations: they are kept, byte for byte.
echo 'listen-port = 51999' >>"$root/etc/vpnd/vpnd.conf"
echo '# mine' >>"$root/etc/fail2ban/jail.d/vpnd.conf"
chmod 640 "$root/etc/vpnc/vpnc.conf"
cp -a "$root/etc" "$tmp/etc.before"
echo garbage >"$root/usr/sbin/vpnd"
make_q install DESTDIR="$root" PREFIX=/usr
diff -r "$tmp/etc.before" "$root/etc" >&2 || fail "install changed /etc"
[ "$(mode_of "$root/etc/vpnc/vpnc.conf")" = 640 ] || fail "mode changed"
grep -q "KEEP .*etc/vpnd/vpnd.conf" "$tmp/make.out" ||
	fail "install did not say it kept vpnd.conf"
cmp -s "$root/usr/sbin/vpnd" "$BUILD/vpnd" || fail "vpnd was not replaced"

# Another layout: paths in the units follow PREFIX and SYSCONFDIR.
make_q install DESTDIR="$tmp/opt" PREFIX=/opt/vpn SYSCONFDIR=/etc/opt/vpn
grep -q '^ExecStart=/opt/vpn/sbin/vpnd .*/etc/opt/vpn/vpnd/vpnd.conf' \
	"$tmp/opt/lib/systemd/system/vpnd.service" ||
	fail "the unit does not follow PREFIX and SYSCONFDIR"
[ -f "$tmp/opt/etc/opt/vpn/vpnd/vpnd.conf" ] || fail "SYSCONFDIR"
[ -f "$tmp/opt/opt/vpn/share/man/man8/vpnd.8" ] || fail "MANDIR"

# uninstall: programs, pages and units go; configurations stay.
make_q uninstall DESTDIR="$root" PREFIX=/usr
for f in usr/sbin/vpnd usr/sbin/vpnctl usr/bin/vpnc \
	usr/share/man/man8/vpnd.8 lib/systemd/system/vpnd.service; do
	[ ! -e "$root/$f" ] || fail "uninstall left $f"
done
diff -r "$tmp/etc.before" "$root/etc" >&2 || fail "uninstall changed /etc"

# Without DESTDIR, as root: the user and its state directory. The whole
# install happens in a mount namespace, over a copy of /etc, with every
# other path under $tmp, so the machine itself is left as it was.
if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null &&
	command -v useradd >/dev/null && unshare -m true 2>/dev/null; then
	before=$(getent passwd vpnd || true)
	cp -a /etc "$tmp/etc-copy"
	# As on a machine that never had vpnd installed.
	for f in passwd group shadow gshadow; do
		[ ! -f "$tmp/etc-copy/$f" ] || sed -i '/^vpnd:/d' "$tmp/etc-copy/$f"
	done
	sys=$tmp/sys
	unshare -m --propagation private sh -c '
		mount --bind "$1/etc-copy" /etc &&
		for i in 1 2; do
			make --no-print-directory $3 install PREFIX="$2/usr" \
				SYSCONFDIR="$2/etc" LOCALSTATEDIR="$2/var" \
				UNITDIR="$2/units" || exit 1
		done
		getent passwd vpnd >"$1/passwd.vpnd"
		stat -c "%U %G %a" "$2/var/lib/vpnd" >"$1/statedir"
	' sh "$tmp" "$sys" "$as_built" >"$tmp/make.out" 2>&1 ||
		fail "install without DESTDIR: $(tail -n 5 "$tmp/make.out")"
	IFS=: read -r name _ uid _ _ home shell <"$tmp/passwd.vpnd"
	[ "$name" = vpnd ] || fail "no user vpnd was created"
	[ "$uid" -lt 1000 ] || fail "vpnd is not a system user (uid $uid)"
	[ "$home" = "$sys/var/lib/vpnd" ] && [ "$shell" = /usr/sbin/nologin ] ||
		fail "vpnd: home $home, shell $shell"
	[ "$(cat "$tmp/statedir")" = "vpnd vpnd 700" ] ||
		fail "state directory: $(cat "$tmp/statedir")"
	[ "$(getent passwd vpnd)" = "$before" ] ||
		fail "the user leaked out of the test"
	echo "install without DESTDIR: user vpnd (uid $uid) owns its state"
else
	echo "not checked: install without DESTDIR (needs root, unshare" \
		"and useradd)"
fi

# No -dev packages: one line that names them and says `make deps`.
rc=0
PKG_CONFIG_LIBDIR=$tmp/nothing make --no-print-directory \
	BUILD="$tmp/nobuild" >"$tmp/nodeps.out" 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "make without -dev packages succeeded"
[ "$(wc -l <"$tmp/nodeps.out")" -eq 1 ] ||
	fail "make without -dev packages said: $(cat "$tmp/nodeps.out")"
grep -q "libsodium-dev.*make deps" "$tmp/nodeps.out" ||
	fail "no 'make deps' advice: $(cat "$tmp/nodeps.out")"
[ ! -e "$tmp/nobuild" ] || fail "make compiled without its packages"
echo "without -dev packages: $(cat "$tmp/nodeps.out")"

echo "install ok"
