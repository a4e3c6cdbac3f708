# Moat's build.  GNU make.
#
#   make            build/bin (moat) and build/libexec (the daemons)
#   make check      dependencies, build, unit tests (plain and under ASan and
#                   UBSan), integration tests; all through prove
#   make postfix-peer  Debian's postfix unpacked into build/postfix: smtp-sink
#                   for the relay tests, the whole MTA for bench/compare.py's
#                   private Postfix instance (never installed)
#   make dovecot    Dovecot's auth service unpacked into build/dovecot, for
#                   the tests of auth's dovecot backend (never installed)
#   make run        a demo instance under ./run listening on 127.0.0.1:2525
#   make install    PREFIX, DESTDIR, SYSCONFDIR (see INSTALL); also
#                   uninstall, install-sendmail, uninstall-sendmail
#   make clean
#
# `check` and `run` first install missing packages with apt-get when run as
# root (target deps), then call make again so pkg-config sees them.

PREFIX   ?= /usr/local
DESTDIR  ?=
SYSCONFDIR ?= /etc/moat
BUILD    ?= build
SAN      ?=

PKGS     := openssl libbsd-overlay lmdb libseccomp libunbound libxcrypt
DEB_PKGS := build-essential pkg-config libssl-dev libbsd-dev liblmdb-dev \
	    libseccomp-dev python3 perl swaks lmdb-utils clang libclang-rt-dev \
	    mailutils \
	    util-linux \
	    libunbound-dev nettle-dev libevent-dev dns-root-data ldnsutils \
	    iproute2 libevent-2.1-7 libfstrm0 libprotobuf-c1 libnghttp2-14 \
	    libpython3.11 pflogsumm fail2ban ca-certificates openssl strace \
	    libcrypt-dev libsodium23 libnet-ssleay-perl

CC       ?= cc
WARN     := -Wall -Wextra -Werror -Wformat=2 -Wformat-security -Wshadow \
	    -Wpointer-arith -Wstrict-prototypes -Wmissing-prototypes \
	    -Wno-unused-parameter
HARDEN   := -fstack-protector-strong -fstack-clash-protection -fPIE \
	    -D_FORTIFY_SOURCE=2
ifeq ($(SAN),fuzz)
OPT      := -O1 -g -fno-omit-frame-pointer \
	    -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
HARDEN   := -fPIE
SANLD    := -fsanitize=address,undefined
else ifeq ($(SAN),1)
OPT      := -O1 -g -fno-omit-frame-pointer \
	    -fsanitize=address,undefined -fno-sanitize-recover=all
HARDEN   := -fPIE
SANLD    := -fsanitize=address,undefined
else
OPT      ?= -O2 -g
endif
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# -fvisibility=hidden: no symbol of ours is exported to the shared
# libraries we load, so libunbound's calls to libevent's event_init and
# event_set never land in common/event.c's functions of the same names.
CFLAGS   += -std=gnu11 $(OPT) $(WARN) $(HARDEN) -D_GNU_SOURCE -Icommon \
	    -fvisibility=hidden $(PKG_CFLAGS)
LDFLAGS  += -pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack $(SANLD)
LDLIBS   += $(PKG_LIBS)

DAEMONS  := master smtpd cleanup qmgr local anvil remote $(if $(wildcard pickup/pickup.c),pickup) \
	    logd rcptmap tlssign auth screen
COMMANDS := moat $(if $(wildcard sendmail/sendmail.c),sendmail)
# sendmail/ holds two programs: sendmail (also mailq and newaliases, by the
# name it is called with) and postdrop (setgid moat-drop, in libexec).

COMMON_SRC := $(wildcard common/*.c)
# The default configuration `moat init` writes is compiled in from conf/,
# so the files people read and the text Moat writes are one.
CONF_TEXT  := $(BUILD)/gen/conf_text.c
COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/conf_text.o
LIBMOAT    := $(BUILD)/lib/libmoat.a

UNIT_SRC   := $(wildcard t/unit/test_*.c)
UNIT_BIN   := $(UNIT_SRC:t/unit/%.c=$(BUILD)/t/unit/%)

# Programs the integration tests drive (not installed).
TEST_PROGS := $(BUILD)/t/dnsquery
# The benchmark's load generator and queue filler (bench/compare.py).
BENCH_PROGS := $(BUILD)/bench/smtpload $(BUILD)/bench/qfill

all: $(DAEMONS:%=$(BUILD)/libexec/%) $(COMMANDS:%=$(BUILD)/bin/%) $(TEST_PROGS) \
	$(BENCH_PROGS) \
	$(if $(wildcard sendmail/postdrop.c),$(BUILD)/libexec/postdrop) \
	$(if $(wildcard sendmail/sendmail.c),$(BUILD)/bin/mailq $(BUILD)/bin/newaliases)

$(BUILD)/obj/%.o: %.c $(wildcard common/*.h) $(wildcard */*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -I$(dir $<) -c -o $@ $<

# Each line of a conf/ file as a C string literal: \ and " escaped.
conf_string = echo 'const char conf_default_$(1)[] =' >> $@.tmp && \
	sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/    "/' \
	    -e 's/$$/\\n"/' $(2) >> $@.tmp && echo '    ;' >> $@.tmp

$(CONF_TEXT): conf/main.conf conf/master.conf conf/aliases
	@mkdir -p $(dir $@)
	echo '/* Generated from conf/ by the Makefile: edit those. */' > $@.tmp
	echo '#include "conf_defaults.h"' >> $@.tmp
	$(call conf_string,main,conf/main.conf)
	$(call conf_string,master,conf/master.conf)
	$(call conf_string,aliases,conf/aliases)
	mv $@.tmp $@

$(BUILD)/obj/gen/conf_text.o: $(CONF_TEXT) common/conf_defaults.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(LIBMOAT): $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

# One rule per program: everything in its folder, linked with libmoat.
define program
$(1)_OBJ := $$(patsubst %.c,$(BUILD)/obj/%.o,$$(wildcard $(2)/*.c))
$(3)/$(1): $$($(1)_OBJ) $$(LIBMOAT)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$($(1)_OBJ) $$(LIBMOAT) $$(LDLIBS)
endef
$(foreach d,$(DAEMONS),$(eval $(call program,$(d),$(d),$(BUILD)/libexec)))
$(eval $(call program,moat,admin,$(BUILD)/bin))

sendmail_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard sendmail/sendmail*.c))
postdrop_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard sendmail/postdrop*.c))
$(BUILD)/bin/sendmail: $(sendmail_OBJ) $(LIBMOAT)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(sendmail_OBJ) $(LIBMOAT) $(LDLIBS)
# postdrop is setgid moat-drop; relinking drops that, so restore it as root.
$(BUILD)/libexec/postdrop: $(postdrop_OBJ) $(LIBMOAT)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(postdrop_OBJ) $(LIBMOAT) $(LDLIBS)
	@if [ "$$(id -u)" = 0 ] && getent group moat-drop >/dev/null; then \
		chgrp moat-drop $@ && chmod 02755 $@; fi
$(BUILD)/bin/mailq $(BUILD)/bin/newaliases: $(BUILD)/bin/sendmail
	ln -sf sendmail $@

# A test or fuzz target named after a program (test_smtpd_session,
# fuzz_local_forward) also links that program's modules, all but its main.
PROG_DIRS := $(DAEMONS) sendmail
MAIN_SRCS := $(foreach d,$(DAEMONS),$(d)/$(d).c) sendmail/sendmail.c \
	     sendmail/postdrop.c
prog_of = $(firstword $(filter $(PROG_DIRS),$(subst _, ,$(patsubst test_%,%,$(patsubst fuzz_%,%,$(1))))))
prog_srcs = $(if $(call prog_of,$(1)),$(filter-out $(MAIN_SRCS),$(wildcard $(call prog_of,$(1))/*.c)))
prog_objs = $(patsubst %.c,$(BUILD)/obj/%.o,$(call prog_srcs,$(1)))

.SECONDEXPANSION:
$(BUILD)/t/unit/%: t/unit/%.c t/unit/tap.h $$(call prog_objs,$$*) $(LIBMOAT)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -It/unit $(addprefix -I,$(call prog_of,$*)) $(LDFLAGS) -o $@ $< \
		$(call prog_objs,$*) $(LIBMOAT) $(LDLIBS)

# Test helpers: programs the integration tests run, never installed.
HELPER_SRC := $(wildcard t/helper/*.c)
HELPER_BIN := $(HELPER_SRC:t/helper/%.c=$(BUILD)/t/helper/%)
$(BUILD)/t/helper/%: t/helper/%.c $(LIBMOAT)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBMOAT) $(LDLIBS)

unit: $(UNIT_BIN) $(HELPER_BIN)

$(TEST_PROGS): $(BUILD)/t/%: t/%.c $(LIBMOAT)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBMOAT) $(LDLIBS)

$(BENCH_PROGS): $(BUILD)/bench/%: bench/%.c $(LIBMOAT)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBMOAT) $(LDLIBS) -lpthread

# --- fuzz targets (libFuzzer) ----------------------------------------------
# The library and the programs' modules are built once with clang and the
# fuzzer's coverage instrumentation (BUILD=build/fuzz SAN=fuzz), then each
# target links them.
FUZZ_SRC   := $(wildcard fuzz/fuzz_*.c)
FUZZ_BIN   := $(FUZZ_SRC:fuzz/%.c=build/fuzz/bin/%)

build/fuzz/bin/%: fuzz/%.c $$(call prog_objs,$$*) $(LIBMOAT)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer $(addprefix -I,$(call prog_of,$*)) \
		-o $@ $< $(call prog_objs,$*) $(LIBMOAT) $(LDLIBS)

fuzz-targets: $(FUZZ_BIN)
fuzz:
	$(MAKE) BUILD=build/fuzz SAN=fuzz CC=clang fuzz-targets

# --- dependencies ---------------------------------------------------------
deps:
	@if ! pkg-config --exists $(PKGS) 2>/dev/null || \
	    ! command -v prove >/dev/null || ! command -v python3 >/dev/null || \
	    ! command -v swaks >/dev/null || ! command -v clang >/dev/null || \
	    ! command -v mail >/dev/null || ! command -v pflogsumm >/dev/null || \
	    ! command -v fail2ban-regex >/dev/null || \
	    ! command -v openssl >/dev/null || \
	    ! command -v strace >/dev/null || \
	    ! command -v ldns-signzone >/dev/null || ! command -v ip >/dev/null || \
	    [ ! -e /usr/share/dns/root.key ] || \
	    [ ! -e /etc/ssl/certs/ca-certificates.crt ] || \
	    ! dpkg-query -W libfstrm0 libprotobuf-c1 libnghttp2-14 \
		libpython3.11 libsodium23 libnet-ssleay-perl >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing build and test dependencies"; \
			apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			    --no-install-recommends \
			    $(DEB_PKGS) >/dev/null; \
		else \
			echo "missing dependencies; as root run:"; \
			echo "  apt-get install $(DEB_PKGS)"; exit 1; \
		fi; \
	fi

# --- the test DNS world's servers -------------------------------------------
# nsd (authoritative) and unbound (recursive) for t/integration/dnsworld.py,
# unpacked into the build tree with apt-get download and dpkg -x instead of
# installed, so that make check never starts a DNS service on the host.
# Their shared libraries are in DEB_PKGS.  Without them the DNS tests SKIP.
DNSWORLD := build/dnsworld
dnsworld: $(DNSWORLD)/usr/sbin/nsd $(DNSWORLD)/usr/sbin/unbound
$(DNSWORLD)/usr/sbin/%:
	@mkdir -p $(DNSWORLD)/deb
	rm -f $(DNSWORLD)/deb/$*_*.deb
	cd $(DNSWORLD)/deb && { apt-get download -qq $* 2>/dev/null || \
		{ apt-get update -qq && apt-get download -qq $* 2>/dev/null; }; }
	dpkg -x $(DNSWORLD)/deb/$*_*.deb $(DNSWORLD)
	@touch $@

# --- a real Dovecot auth service ---------------------------------------------
# Debian's dovecot-core unpacked into the build tree (never installed: no
# Dovecot service starts on the host) for the dovecot backend of auth(8);
# t/integration/dovecot.py runs it with a private configuration, socket
# and users.  Its shared libraries are in DEB_PKGS.  Without it those
# checks skip.
DOVECOT := build/dovecot
dovecot: $(DOVECOT)/usr/sbin/dovecot
$(DOVECOT)/usr/sbin/dovecot:
	@mkdir -p $(DOVECOT)/deb
	rm -f $(DOVECOT)/deb/dovecot-core_*.deb
	cd $(DOVECOT)/deb && { apt-get download -qq dovecot-core 2>/dev/null || \
		{ apt-get update -qq && apt-get download -qq dovecot-core 2>/dev/null; }; }
	dpkg -x $(DOVECOT)/deb/dovecot-core_*.deb $(DOVECOT)
	@touch $@

# --- a peer no one here wrote ------------------------------------------------
# Postfix's smtp-sink for the relay tests and bench/relay.py, and the
# whole of Postfix for bench/compare.py (bench/pfinstance.py runs a private
# instance: its own config and queue directories, master -c): Debian's
# postfix package unpacked into the build tree, never installed (that would
# replace the host's MTA); it runs with LD_LIBRARY_PATH at its private
# libraries.  Failing to fetch it is not an error: those checks skip.
POSTFIX_DIR := build/postfix
postfix-peer:
	@if [ ! -x $(POSTFIX_DIR)/usr/sbin/smtp-sink ] || \
	    [ ! -x $(POSTFIX_DIR)/usr/lib/postfix/sbin/master ]; then \
		rm -rf $(POSTFIX_DIR)/deb && mkdir -p $(POSTFIX_DIR)/deb && \
		(cd $(POSTFIX_DIR)/deb && apt-get download postfix >/dev/null 2>&1) && \
		dpkg -x $(POSTFIX_DIR)/deb/postfix_*.deb $(POSTFIX_DIR) && \
		echo "unpacked Debian's postfix into $(POSTFIX_DIR)" || \
		echo "could not fetch Debian's postfix package: relay tests with smtp-sink will skip"; \
	fi

# --- check -----------------------------------------------------------------
NPROC := $(shell nproc 2>/dev/null || echo 2)

check: deps
	-$(MAKE) dnsworld
	-$(MAKE) dovecot
	$(MAKE) postfix-peer
	$(MAKE) -j$(NPROC) all unit
	$(MAKE) -j$(NPROC) BUILD=build/san SAN=1 unit
	$(MAKE) -j$(NPROC) fuzz
	prove -e '' $(UNIT_BIN) $(UNIT_BIN:$(BUILD)/%=build/san/%) t/fuzz.t \
		$(wildcard t/integration/*.t)

# --- run: a demo instance --------------------------------------------------
RUNDIR := $(CURDIR)/run
run: deps
	$(MAKE) all
	@if [ "$$(id -u)" != 0 ]; then \
		echo "make run starts a privilege-separated instance: run it as root"; \
		exit 1; fi
	@[ -f $(RUNDIR)/conf/main.conf ] || { \
		$(BUILD)/bin/moat init $(RUNDIR) --listen 127.0.0.1:2525 && \
		$(BUILD)/bin/moat -c $(RUNDIR)/conf config -e home_mailbox=Maildir/; }
	@$(BUILD)/bin/moat -c $(RUNDIR)/conf status >/dev/null 2>&1 || \
		$(BUILD)/bin/moat -c $(RUNDIR)/conf start
	@$(BUILD)/bin/moat -c $(RUNDIR)/conf status
	@echo
	@echo "Moat is listening on 127.0.0.1:2525 (instance in $(RUNDIR))."
	@echo "Mail for a local user lands in ~USER/Maildir/new. Try:"
	@echo "  useradd -m alice   # known to smtpd a second later, no reload"
	@echo "  swaks --server 127.0.0.1:2525 --from you@example.org --to alice@localhost"
	@echo "  ls ~alice/Maildir/new/"
	@echo "The log is $(RUNDIR)/log/maillog; stop with:"
	@echo "  $(BUILD)/bin/moat -c $(RUNDIR)/conf stop"

# --- install ---------------------------------------------------------------
# INSTALL describes the tree.  `moat setup` (admin/moat_setup.c) writes the
# configuration files that are missing, creates the users (not in a
# DESTDIR), the spool from common/spool.c and makes postdrop setgid
# moat-drop.  tools/sendmail-links.sh makes and removes sendmail's links.
BINDIR     ?= $(PREFIX)/bin
SBINDIR    ?= $(PREFIX)/sbin
LIBEXECDIR ?= $(PREFIX)/libexec/moat
MANDIR     ?= $(PREFIX)/share/man
UNITDIR    ?= /lib/systemd/system
PROGRAMS   := $(DAEMONS:%=$(BUILD)/libexec/%) \
	      $(if $(wildcard sendmail/postdrop.c),$(BUILD)/libexec/postdrop) \
	      $(if $(wildcard sendmail/sendmail.c),$(BUILD)/bin/sendmail)
MANPAGES   := $(patsubst man/%,%,$(wildcard man/man1/*.1 man/man5/*.5 man/man8/*.8))
LINKS      := sh tools/sendmail-links.sh
PREFIX_SENDMAIL := $(SBINDIR)/sendmail $(BINDIR)/mailq $(BINDIR)/newaliases
SYSTEM_SENDMAIL := /usr/sbin/sendmail /usr/bin/mailq /usr/bin/newaliases

install: all
	install -d $(addprefix $(DESTDIR),$(LIBEXECDIR) $(SBINDIR) $(BINDIR) \
		$(MANDIR)/man1 $(MANDIR)/man5 $(MANDIR)/man8 $(UNITDIR) $(SYSCONFDIR))
	install -m 0755 $(PROGRAMS) $(DESTDIR)$(LIBEXECDIR)/
	install -m 0755 $(BUILD)/bin/moat $(DESTDIR)$(SBINDIR)/moat
	$(LINKS) add '$(DESTDIR)' $(LIBEXECDIR)/sendmail $(PREFIX_SENDMAIL)
	install -m 0644 man/man1/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 man/man5/*.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 man/man8/*.8 $(DESTDIR)$(MANDIR)/man8/
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		conf/moat.service > $(BUILD)/moat.service
	install -m 0644 $(BUILD)/moat.service $(DESTDIR)$(UNITDIR)/moat.service
	$(BUILD)/bin/moat -c $(DESTDIR)$(SYSCONFDIR) setup \
		--destdir='$(DESTDIR)' --daemon-directory=$(LIBEXECDIR)

uninstall: uninstall-sendmail
	$(LINKS) remove '$(DESTDIR)' $(LIBEXECDIR)/sendmail $(PREFIX_SENDMAIL)
	rm -f $(addprefix $(DESTDIR)$(LIBEXECDIR)/,$(notdir $(PROGRAMS))) \
		$(DESTDIR)$(SBINDIR)/moat $(DESTDIR)$(UNITDIR)/moat.service \
		$(addprefix $(DESTDIR)$(MANDIR)/,$(MANPAGES))
	rmdir $(DESTDIR)$(LIBEXECDIR) 2>/dev/null || true
	@echo "Kept: the configuration in $(DESTDIR)$(SYSCONFDIR), the spool" \
	      "(queue_directory), the log and the moat-* users and groups."

install-sendmail:
	$(LINKS) install '$(DESTDIR)' $(LIBEXECDIR)/sendmail $(SYSTEM_SENDMAIL)

uninstall-sendmail:
	$(LINKS) uninstall '$(DESTDIR)' $(LIBEXECDIR)/sendmail $(SYSTEM_SENDMAIL)

clean:
	rm -rf build

.PHONY: all unit fuzz fuzz-targets deps dnsworld dovecot postfix-peer check run install uninstall install-sendmail \
	uninstall-sendmail clean
