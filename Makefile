# Moat's build.  GNU make.
#
#   make            build/bin (moat) and build/libexec (the daemons)
#   make check      dependencies, build, unit tests (plain and under ASan and
#                   UBSan), integration tests; all through prove
#   make run        a demo instance under ./run listening on 127.0.0.1:2525
#   make install    PREFIX, DESTDIR
#   make clean
#
# `check` and `run` first install missing packages with apt-get when run as
# root (target deps), then call make again so pkg-config sees them.

PREFIX   ?= /usr/local
DESTDIR  ?=
SYSCONFDIR ?= /etc/moat
BUILD    ?= build
SAN      ?=

PKGS     := openssl libbsd-overlay lmdb libseccomp
DEB_PKGS := build-essential pkg-config libssl-dev libbsd-dev liblmdb-dev \
	    libseccomp-dev python3 perl swaks lmdb-utils clang

CC       ?= cc
WARN     := -Wall -Wextra -Werror -Wformat=2 -Wformat-security -Wshadow \
	    -Wpointer-arith -Wstrict-prototypes -Wmissing-prototypes \
	    -Wno-unused-parameter
HARDEN   := -fstack-protector-strong -fstack-clash-protection -fPIE \
	    -D_FORTIFY_SOURCE=2
ifeq ($(SAN),1)
OPT      := -O1 -g -fno-omit-frame-pointer \
	    -fsanitize=address,undefined -fno-sanitize-recover=all
HARDEN   := -fPIE
SANLD    := -fsanitize=address,undefined
else
OPT      ?= -O2 -g
endif
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS   += -std=gnu11 $(OPT) $(WARN) $(HARDEN) -D_GNU_SOURCE -Icommon \
	    $(PKG_CFLAGS)
LDFLAGS  += -pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack $(SANLD)
LDLIBS   += $(PKG_LIBS)

DAEMONS  := master smtpd cleanup qmgr local $(if $(wildcard pickup/pickup.c),pickup)
COMMANDS := moat $(if $(wildcard sendmail/sendmail.c),sendmail)
# sendmail/ holds two programs: sendmail (also mailq and newaliases, by the
# name it is called with) and postdrop (setgid moat-drop, in libexec).

COMMON_SRC := $(wildcard common/*.c)
COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/obj/%.o)
LIBMOAT    := $(BUILD)/lib/libmoat.a

UNIT_SRC   := $(wildcard t/unit/test_*.c)
UNIT_BIN   := $(UNIT_SRC:t/unit/%.c=$(BUILD)/t/unit/%)

all: $(DAEMONS:%=$(BUILD)/libexec/%) $(COMMANDS:%=$(BUILD)/bin/%) \
	$(if $(wildcard sendmail/postdrop.c),$(BUILD)/libexec/postdrop) \
	$(if $(wildcard sendmail/sendmail.c),$(BUILD)/bin/mailq $(BUILD)/bin/newaliases)

$(BUILD)/obj/%.o: %.c $(wildcard common/*.h) $(wildcard */*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -I$(dir $<) -c -o $@ $<

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
$(BUILD)/libexec/postdrop: $(postdrop_OBJ) $(LIBMOAT)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(postdrop_OBJ) $(LIBMOAT) $(LDLIBS)
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

unit: $(UNIT_BIN)

# --- fuzz targets (libFuzzer) ----------------------------------------------
FUZZ_SRC   := $(wildcard fuzz/fuzz_*.c)
FUZZ_BIN   := $(FUZZ_SRC:fuzz/%.c=build/fuzz/%)
FUZZ_FLAGS := -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
	      -D_GNU_SOURCE -DMOAT_FUZZ -Icommon

build/fuzz/%: fuzz/%.c $$(call prog_srcs,$$*) $(COMMON_SRC) $(wildcard common/*.h)
	@mkdir -p $(dir $@)
	clang $(FUZZ_FLAGS) $(addprefix -I,$(call prog_of,$*)) $(PKG_CFLAGS) -o $@ $< \
		$(call prog_srcs,$*) $(COMMON_SRC) $(PKG_LIBS)

fuzz: $(FUZZ_BIN)

# --- dependencies ---------------------------------------------------------
deps:
	@if ! pkg-config --exists $(PKGS) 2>/dev/null || \
	    ! command -v prove >/dev/null || ! command -v python3 >/dev/null || \
	    ! command -v swaks >/dev/null || ! command -v clang >/dev/null; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing build and test dependencies"; \
			apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			    $(DEB_PKGS) >/dev/null; \
		else \
			echo "missing dependencies; as root run:"; \
			echo "  apt-get install $(DEB_PKGS)"; exit 1; \
		fi; \
	fi

# --- check -----------------------------------------------------------------
check: deps
	$(MAKE) all unit fuzz
	$(MAKE) BUILD=build/san SAN=1 unit
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
	@echo "  useradd -m alice"
	@echo "  swaks --server 127.0.0.1:2525 --from you@example.org --to alice@localhost"
	@echo "  ls ~alice/Maildir/new/"
	@echo "The log is $(RUNDIR)/log/maillog; stop with:"
	@echo "  $(BUILD)/bin/moat -c $(RUNDIR)/conf stop"

# --- install ---------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(PREFIX)/libexec/moat $(DESTDIR)$(PREFIX)/sbin \
		$(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man5 \
		$(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0755 $(DAEMONS:%=$(BUILD)/libexec/%) \
		$(DESTDIR)$(PREFIX)/libexec/moat/
	install -m 0755 $(BUILD)/bin/moat $(DESTDIR)$(PREFIX)/sbin/moat
	install -m 0644 man/man1/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 man/man5/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 0644 man/man8/*.8 $(DESTDIR)$(PREFIX)/share/man/man8/

clean:
	rm -rf build

.PHONY: all unit fuzz deps check run install clean
