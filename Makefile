# cdmbench - benchmarks and stress tests for Linux device memory.
#
#   make run     set up everything, run the main job, print where results are
#   make test    set up everything and run every test
#   make bench   harness overhead, database throughput, device and
#                verdict-trust figures (tests/bench/trust.sh: hours on TCG;
#                TRUST_AA_RUNS, TRUST_TRIALS size it)
#   make fuzz    the libFuzzer targets in tests/fuzz, FUZZ_S seconds each
#   make         build build/cdmbench and the guest initramfs `vm run` boots
#                (the guest kernel is built and cached by `make kernel`)
#
# Optional features (likwid, libcurl) are detected here and reported by
# `cdmbench --version`; none is needed for the core.

.DEFAULT_GOAL := all
.SUFFIXES:

BUILD ?= build
BIN := $(BUILD)/cdmbench
CC ?= cc
ifeq ($(origin CC),default)
CC := gcc
endif

PKGS := sqlite3 inih liburing numa libcrypto zlib
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
GIT_REV := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE $(SAN_CFLAGS)
CPPFLAGS += -Iharness -Iworkloads -I$(BUILD) -DCDM_GIT_REVISION='"$(GIT_REV)"' $(PKG_CFLAGS)
LDLIBS += $(PKG_LIBS) -lpthread -lm

# optional: libcurl (result upload, on the roadmap)
ifeq ($(shell pkg-config --exists libcurl 2>/dev/null && echo y),y)
CPPFLAGS += -DCDM_HAVE_CURL $(shell pkg-config --cflags libcurl)
LDLIBS += $(shell pkg-config --libs libcurl)
endif
# optional: likwid (topology now; counters on the roadmap). No .pc file.
ifeq ($(shell printf '\043include <likwid.h>\nint main(void){return topology_init();}\n' | \
	$(CC) -x c - -o /dev/null -llikwid 2>/dev/null && echo y),y)
CPPFLAGS += -DCDM_HAVE_LIKWID
LDLIBS += -llikwid
endif

SRCS := $(wildcard harness/*/*.c) $(wildcard workloads/*.c) $(wildcard workloads/lib/*.c) \
	$(wildcard workloads/engine/*.c)
OBJS := $(SRCS:%.c=$(BUILD)/%.o) $(BUILD)/schema_files.o
LIB_OBJS := $(filter-out $(BUILD)/harness/cli/main.o,$(OBJS))
SCHEMA := $(sort $(wildcard schema/[0-9]*.sql))

TEST_SRCS := $(wildcard tests/unit/*.c)
TEST_BIN := $(BUILD)/unit-tests
BENCH_BIN := $(BUILD)/bench

all: $(BIN) $(BUILD)/initramfs.cpio

# quiet by default; make V=1 shows the commands
Q := $(if $(V),,@)
say = $(if $(V),,@printf '  %-6s %s\n' $(1) $(2);)

$(BIN): $(OBJS)
	$(call say,LD,$@)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

# schema/*.sql compiled in, in order; a shipped file is never edited
$(BUILD)/schema_files.c: $(SCHEMA) Makefile
	@mkdir -p $(BUILD)
	@{ echo '/* generated from the files in schema/; do not edit */'; \
	  echo 'struct cdm_schema_file { const char *name; const char *sql; };'; \
	  echo 'const struct cdm_schema_file cdm_schema_files[] = {'; \
	  for f in $(SCHEMA); do \
	    printf '\t{ "%s",\n' "$${f#schema/}"; \
	    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/\t  "/' -e 's/$$/\\n"/' "$$f"; \
	    printf '\t},\n'; \
	  done; \
	  echo '};'; \
	  echo 'const int cdm_schema_nfiles = sizeof(cdm_schema_files) / sizeof(cdm_schema_files[0]);'; \
	} > $@.tmp && mv $@.tmp $@

$(BUILD)/schema_files.o: $(BUILD)/schema_files.c
	$(call say,CC,$<)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(TEST_BIN): $(TEST_SRCS) $(LIB_OBJS) tests/unit/tap.h
	$(call say,LD,$@)$(CC) $(CPPFLAGS) -Itests/unit $(CFLAGS) -o $@ $(TEST_SRCS) $(LIB_OBJS) $(LDLIBS)

$(BENCH_BIN): tests/bench/bench.c $(LIB_OBJS)
	$(call say,LD,$@)$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LIB_OBJS) $(LDLIBS)

# --- the emulated node ---

# our PID 1 for the guest: static, the initramfs has no libc
$(BUILD)/guest-init: kernel/guest-init.c
	@mkdir -p $(BUILD)
	$(call say,CC,$<)$(CC) -static -O2 -std=gnu11 -Wall -Wextra -Werror -o $@ $<

$(BUILD)/initramfs.cpio: $(BUILD)/guest-init kernel/mkinitramfs.sh
	$(call say,CPIO,$@)kernel/mkinitramfs.sh $(BUILD)/guest-init $@

initramfs: $(BUILD)/initramfs.cpio

# the guest kernel, cached outside the clone (kernel/build.sh)
kernel:
	@kernel/build.sh >/dev/null

# --- the two set-up commands of the README ---

deps:
	@harness/setup.sh

run: deps
	@$(MAKE) --no-print-directory all
	@tests/make-run.sh

# the emulated node is part of the tests: build its kernel (cached) first
test: deps
	@$(MAKE) --no-print-directory all $(TEST_BIN) initramfs fuzz-build
	@kernel/build.sh >/dev/null
	@tests/run.sh

bench: deps
	@$(MAKE) --no-print-directory all $(BENCH_BIN) initramfs
	@kernel/build.sh >/dev/null
	@r=0; tests/bench/run.sh || r=$$?; tests/bench/devices.sh; tests/bench/fleet.sh; \
		tests/bench/engine.sh; tests/bench/trust.sh; exit $$r

# --- fuzzing (libFuzzer, from Debian's clang) ---
# tests/fuzz/fuzz_*.c, each linked with every library object built with
# clang, ASan and UBSan in build/fuzz. `make fuzz FUZZ_S=60` runs each
# target that long from the seed corpus in tests/fuzz/corpus/.
FUZZ_S ?= 60
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined

fuzz-build:
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/fuzz CC=clang \
		SAN_CFLAGS='-O1 -fsanitize=fuzzer-no-link $(FUZZ_SAN)' \
		$(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz-%)

$(BUILD)/fuzz-%: tests/fuzz/fuzz_%.c $(LIB_OBJS)
	$(call say,LD,$@)$(CC) $(CPPFLAGS) $(CFLAGS) -fsanitize=fuzzer -o $@ $< $(LIB_OBJS) $(LDLIBS)

fuzz: deps
	@$(MAKE) --no-print-directory fuzz-build
	@tests/fuzz/run.sh $(FUZZ_S)

# the tree must stay warning-free under clang too
check-clang:
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/clang CC=clang all $(BUILD)/clang/unit-tests

clean:
	rm -rf $(BUILD)

.PHONY: all deps run test bench check-clang clean kernel initramfs fuzz fuzz-build

-include $(OBJS:.o=.d)
