# vettime — plain Makefile. pkg-config for every library, strict warnings,
# automatic header dependencies (-MMD). Targets: all, test, bench, demo,
# install, clean.

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc

LIBS_PC := sqlite3 json-c libcurl libmicrohttpd libcrypto
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wpointer-arith -Wcast-align -Wwrite-strings \
           -Wformat=2 -Wundef -Wvla -Werror=implicit-function-declaration \
           -pthread -I. $(shell pkg-config --cflags $(LIBS_PC) netsnmp-agent 2>/dev/null)
LDFLAGS += -Wl,--as-needed
LDLIBS  += $(shell pkg-config --libs $(LIBS_PC) netsnmp-agent 2>/dev/null) -lm -pthread

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

.PHONY: all deps web test unit system bench demo fuzz install clean
all: vettimed vettime

deps:
	@bash scripts/install-deps.sh

# The probe objects are linked whole: the registry (probes/probe.c) names
# the drivers through weak references, which do not pull an object out of
# an archive.
PROBE_OBJS := $(filter $(BUILD)/probes/%,$(OBJS))

vettimed: $(BUILD)/monitor/vettimed.o $(PROBE_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

vettime: $(BUILD)/cli/vettime.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(LIB): $(OBJS)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

# The SQL migrations are compiled into the binaries, so an installed daemon
# never depends on finding schema/ at run time.
$(BUILD)/schema/migrations.c: $(MIGRATIONS) scripts/embed-migrations.sh
	@mkdir -p $(dir $@)
	bash scripts/embed-migrations.sh $(MIGRATIONS) > $@

$(BUILD)/schema/migrations.o: $(BUILD)/schema/migrations.c
	$(CC) $(CFLAGS) -c -o $@ $<

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
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(LIB) tests/unit/unit.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -o $@ $< $(LIB) $(LDLIBS)

$(BUILD)/tests/bench_%: tests/bench/bench_%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -o $@ $< $(LIB) $(LDLIBS)

# `make test` installs what is missing, builds, runs every test and ends with
# the line "N passed, N failed".
test: deps
	@$(MAKE) -s --no-print-directory all $(UNIT_BINS)
	@bash tests/run.sh $(UNIT_BINS)

bench: deps
	@$(MAKE) --no-print-directory all $(BENCH_BINS)
	@bash tests/bench/run.sh

# Fuzzing (libFuzzer): every tests/fuzz/fuzz_*.c against the whole library
# built again with clang's coverage and sanitizers, each run for
# FUZZ_SECONDS; tests/fuzz/run.sh prints executions and findings.
FUZZ_SECONDS ?= 60
FUZZ_CC      := clang
FUZZ_FLAGS   := -g -O1 -fsanitize=fuzzer-no-link,address,undefined
FUZZ_SRCS    := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS    := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_OBJS    := $(SRCS:%.c=$(BUILD)/fuzz/obj/%.o) $(BUILD)/fuzz/obj/migrations.o \
                $(BUILD)/fuzz/obj/ui_assets.o
FUZZ_CFLAGS  := $(filter-out -O2,$(CFLAGS)) $(FUZZ_FLAGS)

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
	@bash tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BINS)

demo: deps
	@$(MAKE) --no-print-directory all
	@bash demo/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin
	install -m 755 vettimed $(DESTDIR)$(PREFIX)/sbin/vettimed
	install -m 755 vettime $(DESTDIR)$(PREFIX)/bin/vettime
	install -d $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 644 docs/vettime.conf.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 644 docs/vettimed.8 $(DESTDIR)$(PREFIX)/share/man/man8/

clean:
	rm -rf $(BUILD) vettimed vettime

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
