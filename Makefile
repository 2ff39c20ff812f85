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
CPPFLAGS += -Iharness -Iworkloads -I$(BUILD) $(PKG_CFLAGS)
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

# The revision a binary reports and every run records, as a header that is
# rewritten only when `git describe` changes: a -D on the command line is
# invisible to make, so after `git pull; make` the objects that print it
# were not rebuilt and runs recorded the previous revision. Every object
# waits for the header (order-only); those that include it depend on it
# through their .d files and are rebuilt when it changes.
GIT_REV_H := $(BUILD)/git-revision.h
$(GIT_REV_H): FORCE
	@mkdir -p $(dir $@)
	@printf '#define CDM_GIT_REVISION "%s"\n' '$(GIT_REV)' >$@.tmp; \
	if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv -f $@.tmp $@; fi
FORCE:

$(BUILD)/%.o: %.c | $(GIT_REV_H)
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

# stream's loops scalar, one 8-byte load and store an element, as
# likwid-bench's copy kernel (its reference) is: on these EPYC hosts scalar
# copies ran faster than vector ones (likwid-bench's own kernels, 64M arrays,
# one thread, medians of 10: copy 25.5, copy_sse 22.2, copy_avx 21.5 GB/s),
# and with one thread gcc's SSE2 loops held stream's copy 8.9% under
# likwid-bench's (median of 26 runs) where the scalar build sits 4.0% under
# (41 runs). No memcpy() either: glibc's picks its own instructions
# (non-temporal stores) by size.
STREAM_SCALAR := $(if $(findstring clang,$(CC)),-fno-vectorize -fno-slp-vectorize -fno-builtin,-fno-tree-vectorize -fno-tree-loop-distribute-patterns)
$(BUILD)/workloads/stream.o: CFLAGS += -O3 $(STREAM_SCALAR)

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

# --- device engines: GPU plugins, each built when its compiler is here ---
# hip.so and cuda.so land in build/engines/, where cdmbench looks for them
# (engine.h); `cdmbench --version` says which exist. The core never links
# a GPU runtime: it dlopens a plugin in the case process.
ENGINE_DIR := $(BUILD)/engines
HIPCC ?= $(shell command -v hipcc 2>/dev/null)
NVCC ?= $(shell command -v nvcc 2>/dev/null || { [ -x /usr/local/cuda/bin/nvcc ] && echo /usr/local/cuda/bin/nvcc; })
# MI200 with and without XNACK; gfx942 (MI300) only where hipcc knows it
HIP_TARGETS := gfx90a:xnack+ gfx90a:xnack-
# sm_80 (A100), sm_90 (H100/H200), and PTX for newer GPUs to JIT
CUDA_GENCODE := -gencode arch=compute_80,code=sm_80 \
	-gencode arch=compute_90,code=[sm_90,compute_90]
ENGINE_HDRS := workloads/engine/engine.h workloads/engine/gpu_engine.h
ENGINES :=
ifneq ($(HIPCC),)
ENGINES += $(ENGINE_DIR)/hip.so
endif
ifneq ($(NVCC),)
ENGINES += $(ENGINE_DIR)/cuda.so
endif

# which targets this hipcc compiles for (Debian's 5.2.3 rejects gfx942);
# hipcc leaves empty folders in TMPDIR, so it gets one of its own
# (each compile its own folder: make -j runs them side by side)
$(ENGINE_DIR)/hip-targets: Makefile
	@mkdir -p $(ENGINE_DIR)/tmp-probe
	$(Q)t="$(HIP_TARGETS)"; echo 'int cdm_probe;' >$(ENGINE_DIR)/tmp-probe/probe.hip; \
	if TMPDIR=$(abspath $(ENGINE_DIR)/tmp-probe) $(HIPCC) --offload-arch=gfx942 \
	   -c $(ENGINE_DIR)/tmp-probe/probe.hip -o $(ENGINE_DIR)/tmp-probe/probe.o >/dev/null 2>&1; \
	then t="$$t gfx942"; fi; rm -rf $(ENGINE_DIR)/tmp-probe; echo "$$t" >$@

$(ENGINE_DIR)/hip.so: workloads/engine/hip/hip_engine.hip workloads/engine/hip/hip_xnack.h \
		$(ENGINE_HDRS) $(ENGINE_DIR)/hip-targets
	@mkdir -p $(ENGINE_DIR)/tmp-hip
	$(call say,HIPCC,$@)t=$$(cat $(ENGINE_DIR)/hip-targets); \
	case " $$t " in *" gfx942 "*) g='-DCDM_HIP_GFX942="built"';; *) g=;; esac; \
	TMPDIR=$(abspath $(ENGINE_DIR)/tmp-hip) $(HIPCC) -std=c++20 -O2 -g -fPIC -shared \
	  -fvisibility=hidden -Wall -Wextra -Werror -Iworkloads \
	  $$(for a in $$t; do printf -- '--offload-arch=%s ' "$$a"; done) \
	  -DCDM_HIP_TARGETS="\"$$t\"" $$g -o $@ $<; \
	rc=$$?; rm -rf $(ENGINE_DIR)/tmp-hip; exit $$rc

# static cudart: the plugin needs only the driver (libcuda) at run time
$(ENGINE_DIR)/cuda.so: workloads/engine/cuda/cuda_engine.cu $(ENGINE_HDRS)
	@mkdir -p $(ENGINE_DIR)/tmp-cuda
	$(call say,NVCC,$@)TMPDIR=$(abspath $(ENGINE_DIR)/tmp-cuda) $(NVCC) -std=c++20 -O2 -shared \
	  -Xcompiler -fPIC,-fvisibility=hidden,-Wall,-Wextra -Werror all-warnings \
	  -Iworkloads $(CUDA_GENCODE) -o $@ $<; \
	rc=$$?; rm -rf $(ENGINE_DIR)/tmp-cuda; exit $$rc

# (here, not at `all:` above: prerequisites expand when the rule is read)
all: $(ENGINES)
engines: $(ENGINES)

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
		tests/bench/engine.sh; tests/bench/counters.sh; tests/bench/trust.sh; exit $$r

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

.PHONY: all deps run test bench check-clang clean kernel initramfs fuzz fuzz-build engines FORCE

-include $(OBJS:.o=.d)
