# SPDX-License-Identifier: MIT
#
# vpnd/vpnc build. `make` builds optimised binaries into build/; `make check`
# installs missing Debian packages, builds the sanitizer (ASan+UBSan) flavour
# and runs every unit and netns test; `make demo` shows the VPN working in
# network namespaces.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
SYSCONFDIR ?= /etc
UNITDIR ?= /lib/systemd/system
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/vpnd
LOCALSTATEDIR ?= /var
DESTDIR ?=

BUILD ?= build
PKGS := libsodium libconfuse liboath libmnl libqrencode sqlite3 libsystemd
TEST_PKGS := cmocka

# Debian packages `make deps` ensures. The build needs the -dev ones; the
# tests and the demo need the tools.
DEB_PKGS := gcc make pkg-config libsodium-dev liboath-dev libconfuse-dev \
	libsqlite3-dev libmnl-dev libqrencode-dev libcmocka-dev iproute2 \
	iputils-ping oathtool python3 python3-nacl curl procps libsystemd-dev
# The transport AEAD's faster backend (shared/aead_openssl.c): libcrypto.
PKGS += libcrypto
DEB_PKGS += libssl-dev

# The man pages (scdoc), and their tests (man-db) and the fail2ban filter's.
DEB_PKGS += scdoc man-db fail2ban

# vpnctl's password policy; the QR code test reads codes back with zbarimg.
DEB_PKGS += libzxcvbn-dev zbar-tools

# The seccomp allow-lists vpnd and vpnc run under (shared/sandbox.c).
PKGS += libseccomp
DEB_PKGS += libseccomp-dev

# t-split-dns: a private system bus, and a stand-in for resolved on it.
DEB_PKGS += dbus-daemon python3-dbus python3-gi

# t-mtu reads the MSS of forwarded SYNs with tcpdump.
DEB_PKGS += tcpdump

# Metrics over HTTP (libmicrohttpd); the tests check the text with promtool
# (prometheus) and fetch it with curl (above).
PKGS += libmicrohttpd
DEB_PKGS += libmicrohttpd-dev prometheus

# lan-mode nat: vpnd's masquerading table through libnftables; the tests
# read the ruleset with nft.
PKGS += libnftables
DEB_PKGS += libnftables-dev nftables

# The PostgreSQL user store (libpq); its tests run a throwaway server
# (tests/tools/pgserver.sh: Debian's postgresql).
PKGS += libpq
DEB_PKGS += libpq-dev postgresql

ifeq ($(DEBUG),1)
OPT := -O0 -g
else
OPT := -O2 -g
endif
ifneq ($(V),1)
Q := @
endif

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) -MMD -MP -Ishared -fno-strict-aliasing
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS = $(shell pkg-config --libs $(PKGS)) -lpthread
# libzxcvbn ships no pkg-config file.
PKG_LIBS += -lzxcvbn
# Release hardening: full RELRO (the GOT read-only, and no lazy binding
# that leaves copies of registers on the stack at first calls) and stack
# protection with fortified libc calls.
HARDEN_CFLAGS := -fstack-protector-strong -D_FORTIFY_SOURCE=2
HARDEN_LDFLAGS := -Wl,-z,relro,-z,now
SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer

SHARED_SRC := $(wildcard shared/*.c)
# vpnd/ holds two programs: vpnd (main.c) and vpnctl (vpnctl.c, cmd_*.c);
# everything else there is a module either may link.
VPND_MAIN := vpnd/main.c
VPNCTL_MAIN := vpnd/vpnctl.c $(wildcard vpnd/cmd_*.c)
VPND_LIB_SRC := $(filter-out $(VPND_MAIN) $(VPNCTL_MAIN),$(wildcard vpnd/*.c))
VPNC_SRC := $(wildcard vpnc/*.c)
# vpnc's modules without its main(), for the unit tests and fuzz harnesses.
VPNC_LIB_SRC := $(filter-out vpnc/main.c,$(VPNC_SRC))
UNIT_SRC := $(wildcard tests/unit/test_*.c)
BENCH_SRC := $(wildcard contrib/bench/*.c)
# Programs the netns tests drive (a raw protocol peer, for instance).
TOOL_SRC := $(wildcard tests/tools/*.c)
# Fuzz harnesses: libFuzzer programs for `make fuzz` (clang), and replays of
# each one's corpus, tests/fuzz/corpus/<name>/, as unit tests (gcc + ASan).
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_CC ?= clang
FUZZ_TIME ?= 60
FUZZ_DEB_PKGS := clang libclang-rt-14-dev

# $(call objs,flavour,sources); objects live apart from the binaries
# (build/asan/vpnd is a program, its objects are in build/asan-obj/vpnd/).
objs = $(patsubst %.c,$(BUILD)/$(1)/%.o,$(2))

REL_BINS := $(BUILD)/vpnd $(BUILD)/vpnc $(BUILD)/vpnctl
ASAN_BINS := $(BUILD)/asan/vpnd $(BUILD)/asan/vpnc $(BUILD)/asan/vpnctl
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/asan/tests/%,$(UNIT_SRC))
BENCH_BINS := $(patsubst contrib/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
TOOL_BINS := $(patsubst tests/tools/%.c,$(BUILD)/asan/tools/%,$(TOOL_SRC))
FUZZ_REPLAY_BINS := $(patsubst tests/fuzz/fuzz_%.c,$(BUILD)/asan/tests/test_fuzz_%,$(FUZZ_SRC))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))

.PHONY: all check check-run demo demo-run deps install clean bench style \
	test-bins fuzz fuzz-bins
.DEFAULT_GOAL := all
# Keep objects that only feed archives and tests.
.SECONDARY:

all: $(REL_BINS)

.SECONDEXPANSION:

# --- flavours -------------------------------------------------------------

$(BUILD)/rel/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(BASE_CFLAGS) $(OPT) $(HARDEN_CFLAGS) $(PKG_CFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/asan-obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC asan $<")
	$(Q)$(CC) $(BASE_CFLAGS) -O1 -g $(SAN) $(PKG_CFLAGS) \
		$(shell pkg-config --cflags $(TEST_PKGS) 2>/dev/null) $(CFLAGS) -c -o $@ $<

# Archives: a program pulls in only the modules it uses.
$(BUILD)/%/libshared.a: $$(call objs,$$*,$(SHARED_SRC))
	$(Q)mkdir -p $(dir $@) && rm -f $@ && $(if $^,$(AR) rcs $@ $^,printf '!<arch>\n' > $@)

$(BUILD)/%/libvpnd.a: $$(call objs,$$*,$(VPND_LIB_SRC))
	$(Q)mkdir -p $(dir $@) && rm -f $@ && $(if $^,$(AR) rcs $@ $^,printf '!<arch>\n' > $@)

$(BUILD)/%/libvpnc.a: $$(call objs,$$*,$(VPNC_LIB_SRC))
	$(Q)mkdir -p $(dir $@) && rm -f $@ && $(if $^,$(AR) rcs $@ $^,printf '!<arch>\n' > $@)

$(BUILD)/vpnd: $(call objs,rel,$(VPND_MAIN)) $(BUILD)/rel/libvpnd.a $(BUILD)/rel/libshared.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(OPT) $(HARDEN_LDFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/vpnctl: $(call objs,rel,$(VPNCTL_MAIN)) $(BUILD)/rel/libvpnd.a $(BUILD)/rel/libshared.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(OPT) $(HARDEN_LDFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/vpnc: $(call objs,rel,$(VPNC_SRC)) $(BUILD)/rel/libshared.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(OPT) $(HARDEN_LDFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/asan/vpnd: $(call objs,asan-obj,$(VPND_MAIN)) $(BUILD)/asan-obj/libvpnd.a $(BUILD)/asan-obj/libshared.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD asan $@")
	$(Q)$(CC) $(SAN) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/asan/vpnctl: $(call objs,asan-obj,$(VPNCTL_MAIN)) $(BUILD)/asan-obj/libvpnd.a $(BUILD)/asan-obj/libshared.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD asan $@")
	$(Q)$(CC) $(SAN) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/asan/vpnc: $(call objs,asan-obj,$(VPNC_SRC)) $(BUILD)/asan-obj/libshared.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD asan $@")
	$(Q)$(CC) $(SAN) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/asan/tests/%: $(BUILD)/asan-obj/tests/unit/%.o $(BUILD)/asan-obj/libvpnc.a $(BUILD)/asan-obj/libvpnd.a $(BUILD)/asan-obj/libshared.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD asan $@")
	$(Q)$(CC) $(SAN) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) \
		$(shell pkg-config --libs $(TEST_PKGS))

$(BUILD)/asan/tools/%: $(BUILD)/asan-obj/tests/tools/%.o $(BUILD)/asan-obj/libvpnd.a $(BUILD)/asan-obj/libshared.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD asan $@")
	$(Q)$(CC) $(SAN) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# A harness with replay.c for a main(): build/asan/tests/test_fuzz_<name>.
$(BUILD)/asan/tests/test_fuzz_%: $(BUILD)/asan-obj/tests/fuzz/fuzz_%.o $(BUILD)/asan-obj/tests/fuzz/replay.o $(BUILD)/asan-obj/libvpnc.a $(BUILD)/asan-obj/libvpnd.a $(BUILD)/asan-obj/libshared.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD asan $@")
	$(Q)$(CC) $(SAN) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# libFuzzer flavour: everything instrumented for coverage, clang only.
$(BUILD)/fuzz-obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC fuzz $<")
	$(Q)$(FUZZ_CC) $(BASE_CFLAGS) -O1 -g $(SAN) -fsanitize=fuzzer-no-link \
		$(PKG_CFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/fuzz/%: $(BUILD)/fuzz-obj/tests/fuzz/%.o $(BUILD)/fuzz-obj/libvpnc.a $(BUILD)/fuzz-obj/libvpnd.a $(BUILD)/fuzz-obj/libshared.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD fuzz $@")
	$(Q)$(FUZZ_CC) $(SAN) -fsanitize=fuzzer $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/bench/%: $(BUILD)/rel/contrib/bench/%.o $(BUILD)/rel/libshared.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(OPT) $(HARDEN_LDFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# --- entry points ---------------------------------------------------------

# deps first, then a fresh make: pkg-config must see the installed packages.
check: deps
	$(Q)$(MAKE) --no-print-directory check-run

test-bins: $(ASAN_BINS) $(UNIT_BINS) $(TOOL_BINS) $(REL_BINS) \
	$(FUZZ_REPLAY_BINS)

check-run: test-bins
	$(Q)BUILD=$(BUILD) tests/run.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory demo-run

demo-run: $(REL_BINS)
	$(Q)BUILD=$(BUILD) contrib/demo.sh

bench: $(BENCH_BINS) $(REL_BINS)

# Runs every harness for FUZZ_TIME seconds, one job at a time; new inputs
# and crashes go under $(BUILD)/fuzz/, never into the committed corpus.
fuzz:
	$(Q)$(MAKE) --no-print-directory deps DEB_PKGS="$(DEB_PKGS) $(FUZZ_DEB_PKGS)"
	$(Q)$(MAKE) --no-print-directory fuzz-bins
	$(Q)BUILD=$(BUILD) FUZZ_TIME=$(FUZZ_TIME) tests/fuzz/run.sh

fuzz-bins: $(FUZZ_BINS)

deps:
	$(Q)missing=$$(for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q '^install ok installed$$' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "  DEPS    installing:" $$missing; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -q --no-install-recommends $$missing >/dev/null || \
		{ apt-get update -q >/dev/null && \
		  apt-get install -y -q --no-install-recommends $$missing >/dev/null; } || \
		{ echo "make deps: could not install:" $$missing >&2; exit 1; }; \
	fi

# --- documentation and install ---------------------------------------------

# Man pages from doc/NAME.SECTION.scd; each is dated by its source's last
# commit, so a rebuild of the same source gives the same page.
MAN_SRC := $(wildcard doc/*.scd)
MAN_PAGES := $(patsubst doc/%.scd,$(BUILD)/man/%,$(MAN_SRC))

doc: $(MAN_PAGES)

$(BUILD)/man/%: doc/%.scd
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  SCDOC   $<")
	$(Q)command -v scdoc >/dev/null || { echo "make: scdoc is not" \
		"installed: run 'make deps' (as root) first" >&2; exit 1; }
	$(Q)t=$$(git log -1 --format=%ct -- $< 2>/dev/null); \
	SOURCE_DATE_EPOCH=$${t:-$$(date +%s)} scdoc < $< > $@.tmp && mv $@.tmp $@

# systemd units: every contrib/systemd/*.service (or .socket, .timer), or
# a template of one (*.service.in...). The units name where this install
# put things: @SBINDIR@, @BINDIR@, @SYSCONFDIR@, @LOCALSTATEDIR@, @DOCDIR@
# and @MANDIR@ in a template, and the default paths (/usr/local/sbin/,
# /usr/local/bin/, /usr/local/share/doc/vpnd, /etc/vpnd/, /etc/vpnc/) in
# a plain unit, are replaced.
UNIT_SRC := $(wildcard $(foreach t,service socket timer,\
	contrib/systemd/*.$(t) contrib/systemd/*.$(t).in))
UNIT_NAMES := $(sort $(notdir $(UNIT_SRC:.in=)))
unit_path = -e 's!\(^\|[^[:alnum:]_./]\|file://\)$(1)!\1$(2)!g'
UNIT_SED = $(call unit_path,/usr/local/sbin/,$(SBINDIR)/) \
	$(call unit_path,/usr/local/bin/,$(BINDIR)/) \
	$(call unit_path,/usr/local/share/doc/vpnd,$(DOCDIR)) \
	$(call unit_path,/etc/vpnd/,$(SYSCONFDIR)/vpnd/) \
	$(call unit_path,/etc/vpnc/,$(SYSCONFDIR)/vpnc/) \
	-e 's!@SBINDIR@!$(SBINDIR)!g' -e 's!@BINDIR@!$(BINDIR)!g' \
	-e 's!@SYSCONFDIR@!$(SYSCONFDIR)!g' -e 's!@DOCDIR@!$(DOCDIR)!g' \
	-e 's!@LOCALSTATEDIR@!$(LOCALSTATEDIR)!g' -e 's!@MANDIR@!$(MANDIR)!g'

# The account vpnd drops to (its `user` option) and its state directory.
VPND_USER ?= vpnd
STATEDIR := $(LOCALSTATEDIR)/lib/vpnd

# $(call install_new,SOURCE,TARGET,MODE): a configuration is installed
# only where there is none; an existing one is kept, whatever it holds.
install_new = if [ -e "$(2)" ]; then \
		echo "  KEEP    $(2) (exists; not replaced by $(1))"; \
	else install -m $(3) "$(1)" "$(2)"; fi

# Programs, man pages, units and README are replaced; configurations (the
# samples and the fail2ban filter and jail) are never overwritten. Without
# DESTDIR (not a package build) the user vpnd is created if missing, and
# owns its state directory.
install: $(REL_BINS) $(MAN_PAGES)
	install -d "$(DESTDIR)$(SBINDIR)" "$(DESTDIR)$(BINDIR)"
	install -m 0755 $(BUILD)/vpnd "$(DESTDIR)$(SBINDIR)/vpnd"
	install -m 0755 $(BUILD)/vpnctl "$(DESTDIR)$(SBINDIR)/vpnctl"
	install -m 0755 $(BUILD)/vpnc "$(DESTDIR)$(BINDIR)/vpnc"
	for p in $(MAN_PAGES); do \
		d="$(DESTDIR)$(MANDIR)/man$${p##*.}"; \
		install -d "$$d" && install -m 0644 "$$p" "$$d/" || exit 1; \
	done
	install -d "$(DESTDIR)$(DOCDIR)"
	install -m 0644 README.md "$(DESTDIR)$(DOCDIR)/README.md"
	for f in vpnd vpnc; do \
		d="$(DESTDIR)$(SYSCONFDIR)/$$f"; \
		[ -d "$$d" ] || install -d -m 0700 "$$d" || exit 1; \
		$(call install_new,conf/$$f.conf,$$d/$$f.conf,0600); \
	done
	install -d "$(DESTDIR)$(SYSCONFDIR)/fail2ban/filter.d" \
		"$(DESTDIR)$(SYSCONFDIR)/fail2ban/jail.d"
	for f in filter.d/vpnd.conf jail.d/vpnd.conf; do \
		$(call install_new,contrib/fail2ban/$$f,$(DESTDIR)$(SYSCONFDIR)/fail2ban/$$f,0644); \
	done
	$(if $(UNIT_SRC),install -d "$(DESTDIR)$(UNITDIR)")
	for u in $(UNIT_SRC); do \
		t="$(DESTDIR)$(UNITDIR)/$$(basename $$u .in)"; \
		sed $(UNIT_SED) $$u > "$$t.tmp" && chmod 0644 "$$t.tmp" && \
		mv "$$t.tmp" "$$t" || exit 1; \
	done
	[ -d "$(DESTDIR)$(STATEDIR)" ] || install -d -m 0700 "$(DESTDIR)$(STATEDIR)"
ifeq ($(DESTDIR),)
	getent passwd $(VPND_USER) >/dev/null || \
		useradd --system --user-group --no-create-home \
		--home-dir $(STATEDIR) --shell /usr/sbin/nologin $(VPND_USER)
	chown $(VPND_USER):$(VPND_USER) $(STATEDIR)
	chmod 0700 $(STATEDIR)
	[ ! -d /run/systemd/system ] || systemctl daemon-reload
endif

# Removes what install replaces; configurations, the user vpnd and its
# state (the user store) stay.
uninstall:
	rm -f "$(DESTDIR)$(SBINDIR)/vpnd" "$(DESTDIR)$(SBINDIR)/vpnctl" \
		"$(DESTDIR)$(BINDIR)/vpnc" "$(DESTDIR)$(DOCDIR)/README.md"
	for p in $(notdir $(MAN_PAGES)); do \
		rm -f "$(DESTDIR)$(MANDIR)/man$${p##*.}/$$p"; done
	for u in $(UNIT_NAMES); do rm -f "$(DESTDIR)$(UNITDIR)/$$u"; done
	-rmdir "$(DESTDIR)$(DOCDIR)" 2>/dev/null
	@echo "  KEEP    $(DESTDIR)$(SYSCONFDIR)/vpnd, $(DESTDIR)$(SYSCONFDIR)/vpnc," \
		"the fail2ban filter and jail, the user $(VPND_USER) and" \
		"$(DESTDIR)$(STATEDIR)"

.PHONY: doc uninstall

style:
	clang-format --dry-run --Werror shared/*.[ch] vpnd/*.[ch] vpnc/*.[ch]

clean:
	rm -rf $(BUILD)

# --- missing build dependencies ----------------------------------------------

# Without the -dev packages a build would stop at a compiler error: say
# instead, in one line, what is missing and that `make deps` installs it.
# A pkg-config name maps to its Debian package (libfoo and foo: libfoo-dev);
# a library without a pkg-config file is found by its header, listed as
# header:package. Goals that build nothing, or run `make deps` first, pass.
DEPS_HEADERS := zxcvbn.h:libzxcvbn-dev
DEPS_FREE_GOALS := deps check demo fuzz clean style doc uninstall
deps_pkgs = $(PKGS) $(if $(filter test-bins check-run,$(MAKECMDGOALS)),$(TEST_PKGS))
deps_missing = $(shell \
	command -v pkg-config >/dev/null 2>&1 || echo pkg-config; \
	for p in $(deps_pkgs); do \
		pkg-config --exists $$p 2>/dev/null || \
		case $$p in (lib*) echo $$p-dev;; (*) echo lib$$p-dev;; esac; \
	done; \
	if ! command -v $(CC) >/dev/null 2>&1; then echo gcc; \
	else for h in $(DEPS_HEADERS); do \
		$(CC) -E -include $${h%%:*} -x c /dev/null >/dev/null 2>&1 || \
		echo $$h | cut -d: -f2; \
	done; fi)
ifneq ($(filter-out $(DEPS_FREE_GOALS),$(or $(MAKECMDGOALS),$(.DEFAULT_GOAL))),)
deps_missing_now := $(strip $(deps_missing))
ifneq ($(deps_missing_now),)
$(error missing $(deps_missing_now): run 'make deps' (as root) to install what the build needs)
endif
endif

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
