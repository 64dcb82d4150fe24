# vettime — plain Makefile. pkg-config for every library, strict warnings,
# automatic header dependencies (-MMD). Targets: all, test, test-long, unit,
# check-asan, bench, demo, fuzz, install, uninstall, clean.
#
# Flags follow the GNU conventions, so that `make CFLAGS='-O2 -g'`,
# dpkg-buildflags and distribution build systems work: CFLAGS, CPPFLAGS
# and LDFLAGS are the builder's (optimisation, hardening, extra warnings)
# and are never needed to build; what the build needs (the include path,
# _GNU_SOURCE, the C standard, the project's warnings, the libraries'
# pkg-config flags) lives in VT_CPPFLAGS and VT_CFLAGS, always applied.

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc

LIBS_PC := sqlite3 json-c libcurl libmicrohttpd libcrypto libssl nettle libsystemd
CFLAGS  ?= -O2 -g
VT_CPPFLAGS := -I. -D_GNU_SOURCE $(shell pkg-config --cflags $(LIBS_PC) netsnmp-agent 2>/dev/null)
VT_CFLAGS   := -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes \
               -Wmissing-prototypes -Wpointer-arith -Wcast-align -Wwrite-strings \
               -Wformat=2 -Wundef -Wvla -Werror=implicit-function-declaration -pthread
ALL_CFLAGS   = $(VT_CPPFLAGS) $(CPPFLAGS) $(VT_CFLAGS) $(CFLAGS)
LDFLAGS += -Wl,--as-needed
LDLIBS  += $(shell pkg-config --libs $(LIBS_PC) netsnmp-agent 2>/dev/null) -lm -pthread

# Installation directories (GNU names; PREFIX is the older spelling of
# prefix). The configuration lives in /etc whatever the prefix, as the
# daemon's default -c path says (monitor/config.h); the unit and sysusers
# directories follow the prefix (systemd also reads /usr/local/lib/systemd);
# Debian's package puts the unit in /lib/systemd/system (debian/rules).
prefix         ?= $(PREFIX)
exec_prefix    ?= $(prefix)
bindir         ?= $(exec_prefix)/bin
sbindir        ?= $(exec_prefix)/sbin
datarootdir    ?= $(prefix)/share
datadir        ?= $(datarootdir)
mandir         ?= $(datarootdir)/man
docdir         ?= $(datarootdir)/doc/vettime
sysconfdir     ?= /etc
systemdunitdir ?= $(prefix)/lib/systemd/system
sysusersdir    ?= $(prefix)/lib/sysusers.d
INSTALL        ?= install

BUILD   := build
# Every .c under these folders is part of the shared library of modules,
# except the two programs' mains.
MODULE_DIRS := lib monitor probes alerting web snmp cli server
MAINS   := monitor/vettimed.c cli/vettime.c
SRCS    := $(filter-out $(MAINS),$(wildcard $(addsuffix /*.c,$(MODULE_DIRS))))
OBJS    := $(SRCS:%.c=$(BUILD)/%.o) $(BUILD)/schema/migrations.o $(BUILD)/web/ui_assets.o
LIB     := $(BUILD)/libvettime.a

UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_SRCS := $(wildcard tests/bench/bench_*.c)
BENCH_BINS := $(BENCH_SRCS:tests/bench/%.c=$(BUILD)/tests/%)

MIGRATIONS := $(sort $(wildcard schema/[0-9]*.sql))

.PHONY: all deps web test test-long unit check-asan system bench demo fuzz install install-ui uninstall clean
all: vettimed vettime

deps:
	@bash scripts/install-deps.sh

# The probe objects are linked whole: the registry (probes/probe.c) names
# the drivers through weak references, which do not pull an object out of
# an archive.
PROBE_OBJS := $(filter $(BUILD)/probes/%,$(OBJS))

# The programs are linked with CFLAGS too (as make's built-in rules do), so
# that `make CFLAGS='-O1 -g -fsanitize=address,undefined'` links the
# sanitizers' run time. $(BUILD)/bin/ holds the same programs for a build in
# another BUILD directory (check-asan below).
vettimed $(BUILD)/bin/vettimed: $(BUILD)/monitor/vettimed.o $(PROBE_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

vettime $(BUILD)/bin/vettime: $(BUILD)/cli/vettime.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(LIB): $(OBJS)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# The SQL migrations are compiled into the binaries, so an installed daemon
# never depends on finding schema/ at run time.
$(BUILD)/schema/migrations.c: $(MIGRATIONS) scripts/embed-migrations.sh
	@mkdir -p $(dir $@)
	bash scripts/embed-migrations.sh $(MIGRATIONS) > $@

$(BUILD)/schema/migrations.o: $(BUILD)/schema/migrations.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The dashboard (web/ui/) is compiled in as well, with uPlot vendored from
# npm at the pinned version by scripts/vendor-uplot.sh (never committed; the
# script fetches nothing when web/ui/vendor/ already holds that version, so
# this works offline once vendored). `make web` does just this part.
UI_VENDOR := web/ui/vendor/uPlot.iife.min.js web/ui/vendor/uPlot.min.css web/ui/vendor/uPlot.LICENSE
UI_FILES  := web/ui/index.html web/ui/app.js web/ui/app.css web/ui/favicon.svg $(UI_VENDOR)

web: $(BUILD)/web/ui_assets.c

$(UI_VENDOR) &: scripts/vendor-uplot.sh
	bash scripts/vendor-uplot.sh

$(BUILD)/web/ui_assets.c: $(UI_FILES) scripts/embed-ui.sh
	@mkdir -p $(dir $@)
	bash scripts/embed-ui.sh $(UI_FILES) > $@.tmp && mv $@.tmp $@

$(BUILD)/web/ui_assets.o: $(BUILD)/web/ui_assets.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(LIB) tests/unit/unit.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -MMD -MP -o $@ $< $(LIB) $(LDLIBS)

$(BUILD)/tests/bench_%: tests/bench/bench_%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -MMD -MP -o $@ $< $(LIB) $(LDLIBS)

# `make test` installs what is missing, builds, runs every test and ends with
# the line "N passed, N failed".
test: deps
	@$(MAKE) -s --no-print-directory all $(UNIT_BINS)
	@bash tests/run.sh $(UNIT_BINS)

# The unit tests alone: no peers, no root, a few seconds (Debian's package
# build runs these; debian/rules).
unit:
	@$(MAKE) -s --no-print-directory $(UNIT_BINS)
	@fail=0; for t in $(UNIT_BINS); do \
	  $$t > $$t.log 2>&1 || { fail=1; echo "FAIL $$t"; tail -n 20 $$t.log; }; \
	done; [ $$fail -eq 0 ] && echo "unit tests: $(words $(UNIT_BINS)) programs passed"

# The long tests, not part of `make test` (tests/long/): the Debian package
# built with dpkg-buildpackage, checked by lintian, installed, started and
# purged; and 100 SIGKILL cycles of the daemon in polling, alarms and alert
# delivery, the history and the outbox checked afterwards. About ten
# minutes, and they install and remove a package as root.
test-long: deps
	@$(MAKE) -s --no-print-directory all
	@bash tests/long/run.sh

# The unit tests and the daemon under AddressSanitizer, UndefinedBehavior-
# Sanitizer and LeakSanitizer: everything built again in build/asan (the
# CFLAGS below, CPPFLAGS and LDFLAGS as given), then tests/sanitize/run.sh
# runs every unit test (leaks checked), vettimed against `vettime simulate`
# for SANITIZE_SECONDS, the CLI over its history, and the system tests of
# SANITIZE_SYSTEM with these programs; it ends with "check-asan: passed" or
# "check-asan: FAILED (...)" and a non-zero exit. Part of .ci/run.
ASAN_BUILD       := build/asan
ASAN_CFLAGS      := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer
SANITIZE_SECONDS ?= 25

check-asan:
	@$(MAKE) -s --no-print-directory BUILD=$(ASAN_BUILD) CFLAGS='$(ASAN_CFLAGS)' \
	  $(ASAN_BUILD)/bin/vettimed $(ASAN_BUILD)/bin/vettime \
	  $(UNIT_BINS:$(BUILD)/%=$(ASAN_BUILD)/%)
	@bash tests/sanitize/run.sh $(ASAN_BUILD) $(SANITIZE_SECONDS)

bench: deps
	@$(MAKE) --no-print-directory all $(BENCH_BINS)
	@bash tests/bench/run.sh

# Fuzzing (libFuzzer): every tests/fuzz/fuzz_*.c against the whole library
# built again with clang's coverage and sanitizers, each run for
# FUZZ_SECONDS or FUZZ_RUNS executions, whichever comes first (the
# BENCHMARKS.md runs: FUZZ_SECONDS=600 FUZZ_RUNS=10000000), one after the
# other; tests/fuzz/run.sh prints executions, time and findings.
FUZZ_SECONDS ?= 60
FUZZ_RUNS    ?= -1
FUZZ_CC      := clang
FUZZ_FLAGS   := -g -O1 -fsanitize=fuzzer-no-link,address,undefined
FUZZ_SRCS    := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS    := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_OBJS    := $(SRCS:%.c=$(BUILD)/fuzz/obj/%.o) $(BUILD)/fuzz/obj/migrations.o \
                $(BUILD)/fuzz/obj/ui_assets.o
FUZZ_CFLAGS  := $(VT_CPPFLAGS) $(CPPFLAGS) $(VT_CFLAGS) $(filter-out -O2,$(CFLAGS)) $(FUZZ_FLAGS)

$(BUILD)/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -w -c -o $@ $<

$(BUILD)/fuzz/obj/migrations.o: $(BUILD)/schema/migrations.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(BUILD)/fuzz/obj/ui_assets.o: $(BUILD)/web/ui_assets.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(BUILD)/fuzz/libvettime-fuzz.a: $(FUZZ_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(BUILD)/fuzz/libvettime-fuzz.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(BUILD)/fuzz/libvettime-fuzz.a $(LDLIBS)

fuzz: deps
	@$(MAKE) -s --no-print-directory $(FUZZ_BINS)
	@bash tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_RUNS) $(FUZZ_BINS)

demo: deps
	@$(MAKE) --no-print-directory all
	@bash demo/run.sh

# What an installed vettimed needs, and nothing from the source tree:
# the programs, their man pages, the example configuration (copied to
# $(sysconfdir)/vettime/vettime.conf only when there is none: an operator's
# file is never overwritten), the MIB for trap receivers (docs/alerting.md),
# the systemd unit and the service user for systemd-sysusers. The unit's
# paths are filled in from the directories above. tests/system/
# test_install.sh checks the exact list of files.
UNIT_SUBST = sed -e 's|@sbindir@|$(sbindir)|g' -e 's|@sysconfdir@|$(sysconfdir)|g'
# The man pages name the installed files as a /usr install has them.
MAN_SUBST  = sed -e 's|/usr/share/vettime|$(datadir)/vettime|g' \
                 -e 's|/usr/share/doc/vettime|$(docdir)|g'
MAN_PAGES  = vettime.1 vettime.conf.5 vettimed.8
# The Markdown documents the man pages and the README point to.
DOCS       = README.md docs/alerting.md docs/scenarios.md docs/receivers-serial.md \
             docs/receivers-gpsd.md

install: all
	$(INSTALL) -d $(DESTDIR)$(sbindir) $(DESTDIR)$(bindir) \
	  $(DESTDIR)$(mandir)/man1 $(DESTDIR)$(mandir)/man5 $(DESTDIR)$(mandir)/man8 \
	  $(DESTDIR)$(datadir)/vettime/mibs $(DESTDIR)$(sysconfdir)/vettime \
	  $(DESTDIR)$(systemdunitdir) $(DESTDIR)$(sysusersdir) $(DESTDIR)$(docdir)
	$(INSTALL) -m 755 vettimed $(DESTDIR)$(sbindir)/vettimed
	$(INSTALL) -m 755 vettime $(DESTDIR)$(bindir)/vettime
	@mkdir -p $(BUILD)/man
	for m in $(MAN_PAGES); do \
	  $(MAN_SUBST) docs/$$m > $(BUILD)/man/$$m && \
	  $(INSTALL) -m 644 $(BUILD)/man/$$m $(DESTDIR)$(mandir)/man$${m##*.}/$$m || exit 1; \
	done
	$(INSTALL) -m 644 $(DOCS) $(DESTDIR)$(docdir)/
	$(INSTALL) -m 644 schema/VETTIME-MIB.txt $(DESTDIR)$(datadir)/vettime/mibs/VETTIME-MIB.txt
	$(INSTALL) -m 644 etc/vettime.conf $(DESTDIR)$(datadir)/vettime/vettime.conf.example
	@if [ -e $(DESTDIR)$(sysconfdir)/vettime/vettime.conf ]; then \
	  echo "keeping $(DESTDIR)$(sysconfdir)/vettime/vettime.conf (the new example is $(datadir)/vettime/vettime.conf.example)"; \
	else \
	  echo "$(INSTALL) -m 644 etc/vettime.conf $(DESTDIR)$(sysconfdir)/vettime/vettime.conf"; \
	  $(INSTALL) -m 644 etc/vettime.conf $(DESTDIR)$(sysconfdir)/vettime/vettime.conf; \
	fi
	$(UNIT_SUBST) etc/vettimed.service.in > $(BUILD)/vettimed.service
	$(INSTALL) -m 644 $(BUILD)/vettimed.service $(DESTDIR)$(systemdunitdir)/vettimed.service
	$(INSTALL) -m 644 etc/sysusers.conf $(DESTDIR)$(sysusersdir)/vettime.conf
	@$(MAKE) -s --no-print-directory install-ui

# The hook for the dashboard's files. Today the dashboard is compiled into
# vettimed and needs nothing on disk; files served from a `webroot` would be
# installed under $(datadir)/vettime/ by a recipe added here (a double-colon
# rule, so that it can be added without touching this one), and listed in
# tests/system/test_install.sh.
install-ui::
	@:

# Removes what install put in place, except $(sysconfdir)/vettime/vettime.conf
# (the operator's, perhaps edited), the database under /var/lib/vettime and
# the service user (userdel vettime, if wanted).
uninstall:
	rm -f $(DESTDIR)$(sbindir)/vettimed $(DESTDIR)$(bindir)/vettime \
	  $(DESTDIR)$(mandir)/man1/vettime.1 $(DESTDIR)$(mandir)/man5/vettime.conf.5 \
	  $(DESTDIR)$(mandir)/man8/vettimed.8 \
	  $(DESTDIR)$(datadir)/vettime/mibs/VETTIME-MIB.txt \
	  $(DESTDIR)$(datadir)/vettime/vettime.conf.example \
	  $(DESTDIR)$(systemdunitdir)/vettimed.service $(DESTDIR)$(sysusersdir)/vettime.conf \
	  $(addprefix $(DESTDIR)$(docdir)/,$(notdir $(DOCS)))
	-rmdir $(DESTDIR)$(datadir)/vettime/mibs $(DESTDIR)$(datadir)/vettime $(DESTDIR)$(docdir) 2>/dev/null
	@echo "kept: $(DESTDIR)$(sysconfdir)/vettime/, /var/lib/vettime/ and the vettime user"

clean:
	rm -rf $(BUILD) vettimed vettime

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
