# edgetune: one Makefile. `make PORT=name` includes ports/name.mk.
PORT ?= linux-x86_64
include ports/$(PORT).mk

# Ports: cross builds get their own directory (build/<port>) so host and
# cross objects never mix; the host keeps plain build/.
ifeq ($(PORT),linux-x86_64)
BUILD ?= build
else
BUILD ?= build/$(PORT)
endif
PREFIX ?= /usr/local
OPT ?= -O2
WARN := -Wall -Wextra -Wpedantic -Werror
CFLAGS_ALL := -std=c11 $(WARN) $(OPT) -fPIC -D_POSIX_C_SOURCE=200809L -D_FILE_OFFSET_BITS=64 -Iinclude $(PORT_CFLAGS) $(EXTRA_CFLAGS)
LDLIBS_ALL := -lm -lpthread $(PORT_LDFLAGS) $(EXTRA_LDFLAGS)

LIB_SRCS := $(sort $(wildcard src/*.c src/*/*.c arch/generic/*.c))
# ---- ARM NEON kernels (issue 4) -------------------------------------------
# Chosen at build time: any aarch64 compiler (cross or native) gets
# arch/arm/neon64, since NEON is part of A64; 32-bit ARM gets arch/arm/neon32
# only when its port enables NEON + VFPv4 (ports/linux-armv7hf.mk).
ifneq ($(filter aarch64-%,$(shell $(CC) -dumpmachine)),)
PORT_ARCH_DIRS += arch/arm/neon64
endif
PORT_ARCH_DIRS := $(sort $(PORT_ARCH_DIRS))
LIB_SRCS += $(sort $(foreach d,$(PORT_ARCH_DIRS),$(wildcard $(d)/*.c)))
ifneq ($(filter arch/arm/neon64,$(PORT_ARCH_DIRS)),)
CFLAGS_ALL += -DET_HAVE_NEON64=1
endif
ifneq ($(filter arch/arm/neon32,$(PORT_ARCH_DIRS)),)
CFLAGS_ALL += -DET_HAVE_NEON32=1
endif
# Explicit targets (a recipe-less pattern rule would not add prerequisites).
$(patsubst %.c,$(BUILD)/obj/%.o,$(filter arch/arm/%,$(LIB_SRCS))): $(wildcard arch/arm/*.h)
# ---------------------------------------------------------------------------

# ---- x86 SIMD kernels (issue 3) -------------------------------------------
# arch/x86 is built when the compiler targets x86-64 (ET_X86=0 turns it off).
# Only files under arch/x86/avx2 and arch/x86/avx512 get ISA flags, so the rest
# of the library runs on any x86-64; src/dispatch.c picks a table by CPUID.
ET_X86 ?= $(if $(filter x86_64-% amd64-%,$(shell $(CC) -dumpmachine)),1,0)
ifeq ($(ET_X86),1)
LIB_SRCS += $(sort $(wildcard arch/x86/*.c arch/x86/avx2/*.c arch/x86/avx512/*.c))
CFLAGS_ALL += -DET_HAVE_X86=1
endif
X86_AVX2_FLAGS := -mavx2 -mfma -mf16c
X86_AVX512_FLAGS := -mavx2 -mfma -mf16c -mavx512f -mavx512bw -mavx512dq -mavx512vl
$(BUILD)/obj/arch/x86/avx2/%.o: CFLAGS_ALL += $(X86_AVX2_FLAGS) -O3
$(BUILD)/obj/arch/x86/avx512/%.o: CFLAGS_ALL += $(X86_AVX512_FLAGS) -O3
$(patsubst %.c,$(BUILD)/obj/%.o,$(filter arch/x86/%,$(LIB_SRCS))): $(wildcard arch/x86/*.h)
# The optimizer's element loops vectorize only at -O3 (plain C, any target).
$(BUILD)/obj/src/train/optim.o: CFLAGS_ALL += -O3
# ---------------------------------------------------------------------------
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
CLI_SRCS := $(sort $(wildcard tools/cli/*.c))
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)
# (issue 3) `edgetune bench` reports % of the FMA peak tools/bench/fma_peak.c measures.
CLI_OBJS += $(BUILD)/obj/tools/bench/fma_peak.o
ZOO_SRCS := $(sort $(wildcard tools/zoo/*.c))
ZOO_OBJS := $(ZOO_SRCS:%.c=$(BUILD)/obj/%.o)
TEST_SRCS := $(sort $(wildcard tests/test_*.c))
TESTS := $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)

.PHONY: all lib cli test demo install clean sanitize
all: lib cli $(BUILD)/mkmodel
lib: $(BUILD)/libedgetune.a $(BUILD)/libedgetune.so
cli: $(BUILD)/edgetune

$(BUILD)/obj/%.o: %.c include/edgetune.h $(wildcard src/*.h src/*/*.h tools/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(INC_$(firstword $(subst /, ,$*))) -c $< -o $@

$(BUILD)/libedgetune.a: $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/libedgetune.so: $(LIB_OBJS)
	$(CC) -shared -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/edgetune: $(CLI_OBJS) $(ZOO_OBJS) $(BUILD)/libedgetune.a
	$(CC) -o $@ $(CLI_OBJS) $(ZOO_OBJS) $(BUILD)/libedgetune.a $(LDLIBS_ALL) $(PORT_EXE_LDFLAGS)

$(BUILD)/mkmodel: $(BUILD)/obj/tools/mkmodel.o $(ZOO_OBJS) $(BUILD)/libedgetune.a
	$(CC) -o $@ $^ $(LDLIBS_ALL) $(PORT_EXE_LDFLAGS)

# The library sees its own internal headers; tools see only include/ and tools/.
INC_src := -Isrc
INC_arch := -Isrc
INC_tools := -Itools

# test_alloc counts heap calls by wrapping malloc/calloc/realloc/free.
WRAP_test_alloc := -Wl,--wrap=malloc -Wl,--wrap=calloc -Wl,--wrap=realloc -Wl,--wrap=free
# test_static proves et_model_load_static + plan + prepare + run use no heap.
WRAP_test_static := $(WRAP_test_alloc) -Wl,--wrap=aligned_alloc
$(BUILD)/tests/%: tests/%.c $(wildcard tests/*.h) $(ZOO_OBJS) $(BUILD)/libedgetune.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Isrc -Itools -Itests -o $@ $< $(ZOO_OBJS) $(BUILD)/libedgetune.a $(LDLIBS_ALL) $(WRAP_$*) $(PORT_EXE_LDFLAGS)

test: $(TESTS) $(BUILD)/edgetune $(BUILD)/mkmodel
	@RUNNER="$(RUNNER)" ET_RUNNER="$(RUNNER)" ET_BUILD="$(BUILD)" sh tests/run.sh $(TESTS)

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer.
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all -DET_DEBUG_ARENA
sanitize:
	$(MAKE) test BUILD=build-asan OPT="-O1 -g" EXTRA_CFLAGS="$(SAN)" EXTRA_LDFLAGS="$(SAN)"

# The main job (tools/demo.sh): fine-tune the bundled Fashion-MNIST backbone
# (models/) on its five held-out classes with --recipe fine_tune, print the
# frozen-head and fine-tuned accuracies, wall time and peak memory, classify a
# few held-out images. Builds the CLI with 2 jobs unless -j was given.
demo:
	@$(MAKE) --no-print-directory $(if $(findstring j,$(filter-out --%,$(MAKEFLAGS))),,-j2) cli
	BUILD=$(BUILD) sh tools/demo.sh

install: lib cli
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/bin
	install -m 644 include/edgetune.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(BUILD)/libedgetune.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libedgetune.so $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/edgetune $(DESTDIR)$(PREFIX)/bin/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(shell sed -n 's/^#define ET_VERSION_STRING "\(.*\)"/\1/p' include/edgetune.h)|' \
	    edgetune.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/edgetune.pc

clean:
	rm -rf $(BUILD)

# The firmware example: static model, static arenas, no heap (issue 7).
include ports/firmware-example/example.mk

# ---------------------------------------------------------------------------
# Ports: cross builds, tests under qemu-user, sizes and llvm-mca estimates.
# See docs/PORTING.md. Each port's toolchain, flags and RUNNER live in
# ports/<port>.mk; these targets only loop over the ports.
CROSS_PORTS := linux-aarch64 linux-armv7hf linux-riscv64
.PHONY: test-cross size mca

# Builds the whole suite per port and runs it under the port's RUNNER. Every
# port runs even when one fails, so one log shows them all; the exit status
# is non-zero if any failed. Tests see ET_RUNNER (non-empty under qemu) and
# may scale their sizes down with it.
test-cross:
	@fail=0; for p in $(CROSS_PORTS); do \
	  echo "== $$p: build"; \
	  $(MAKE) --no-print-directory -s PORT=$$p all || { echo "$$p: build failed"; fail=1; continue; }; \
	  echo "== $$p: test under $$($(MAKE) --no-print-directory -s PORT=$$p print-runner)"; \
	  $(MAKE) --no-print-directory -s PORT=$$p test || fail=1; \
	done; exit $$fail

.PHONY: print-runner
print-runner:
	@echo "$(RUNNER)"

# Stripped static library size per port (host first); builds what is missing.
size:
	@for p in linux-x86_64 $(CROSS_PORTS); do \
	  $(MAKE) --no-print-directory -s PORT=$$p lib >/dev/null || exit 1; \
	  sh tools/mca/size.sh "$$p" "$$($(MAKE) --no-print-directory -s PORT=$$p print-build)" \
	    "$$($(MAKE) --no-print-directory -s PORT=$$p print-strip)" || exit 1; \
	done

.PHONY: print-build print-strip
print-build:
	@echo "$(BUILD)"
print-strip:
	@echo "$(STRIP)"

# llvm-mca throughput of the NEON GEMM, direct-conv and depthwise inner loops on
# Cortex-A53/A72/A76 against each core's FMA peak (tools/mca/run.sh).
mca:
	@sh tools/mca/run.sh

# ---------------------------------------------------------------------------
# Fuzzing and ThreadSanitizer (issue 9). See docs/SECURITY.md.
# `make fuzz FUZZ_SECONDS=N` builds the library with clang's libFuzzer
# instrumentation + ASan + UBSan in build-fuzz/ and runs each target in
# tests/fuzz for N seconds, starting from the committed seeds and crash
# inputs (read-only: new inputs go to build-fuzz/corpus/<target>). Crashes
# land in build-fuzz/crashes/<target>/; commit them under
# tests/fuzz/regressions/<target>/ so tests/test_regressions.c replays them.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := etm npy onnx ckpt cli data
FUZZ_BUILD := build-fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
.PHONY: fuzz fuzz-build tsan
fuzz-build:
	$(MAKE) --no-print-directory CC=clang BUILD=$(FUZZ_BUILD) OPT="-O1 -g" \
	  EXTRA_CFLAGS="-fsanitize=fuzzer-no-link $(FUZZ_SAN)" EXTRA_LDFLAGS="$(FUZZ_SAN)" \
	  $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz/fuzz_%)

# The CLI target links the real CLI with its main renamed, so fuzzed argv
# go through exactly the code a user runs.
FUZZ_LINK_cli = $(filter-out $(BUILD)/obj/tools/cli/main.o,$(CLI_OBJS)) $(BUILD)/obj/tools/cli/main_fuzz.o $(ZOO_OBJS)
$(BUILD)/obj/tools/cli/main_fuzz.o: tools/cli/main.c tools/cli/cli.h include/edgetune.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itools -Dmain=et_cli_main -c $< -o $@
.SECONDEXPANSION:
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard tests/fuzz/*.h) $$(FUZZ_LINK_$$*) $(BUILD)/libedgetune.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Isrc -Itools -Itests -fsanitize=fuzzer -o $@ $< $(FUZZ_LINK_$*) $(BUILD)/libedgetune.a $(LDLIBS_ALL)

# Prints "fuzz <target>: N executions ..." per target; fails if any crashed.
# Paths are absolute because the CLI target works in a scratch folder.
# The CLI target's own stdout/stderr are closed (-close_fd_mask) so its
# usage messages do not flood the log; crash reports still show. ONNX inputs
# are capped at 64 KiB: the large fixture models would slow every mutation.
# A fixed seed makes a CI failure reproducible; FUZZ_SEED=0 draws a fresh one.
FUZZ_SEED ?= 1
fuzz: fuzz-build
	@fail=0; for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$t $(FUZZ_BUILD)/crashes/$$t; \
	  seeds="$(CURDIR)/tests/fuzz/corpus/$$t $(CURDIR)/tests/fuzz/regressions/$$t"; opts=""; \
	  if [ $$t = onnx ]; then seeds="$$seeds $(CURDIR)/tests/fixtures/onnx"; fi; \
	  if [ $$t = cli ]; then opts="-close_fd_mask=3"; fi; \
	  if [ $$t = onnx ]; then opts="-max_len=65536"; fi; \
	  log=$(FUZZ_BUILD)/fuzz_$$t.log; \
	  ./$(FUZZ_BUILD)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -seed=$(FUZZ_SEED) -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix=$(CURDIR)/$(FUZZ_BUILD)/crashes/$$t/ $$opts \
	    $(CURDIR)/$(FUZZ_BUILD)/corpus/$$t $$seeds >$$log 2>&1; rc=$$?; \
	  execs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $$log | tail -n 1); \
	  if [ $$rc -ne 0 ]; then fail=1; echo "fuzz $$t: CRASH after $${execs:-?} executions (see $$log, $(FUZZ_BUILD)/crashes/$$t/)"; \
	  grep -m 3 -E 'ERROR|runtime error|invariant' $$log; \
	  else echo "fuzz $$t: $$execs executions in $(FUZZ_SECONDS) s, no crash"; fi; \
	done; exit $$fail

# Threaded tests (thread pool, two models in two threads) under TSan.
TSAN := -fsanitize=thread -fno-omit-frame-pointer
TSAN_TESTS := test_threads test_concurrency
tsan:
	$(MAKE) --no-print-directory BUILD=build-tsan OPT="-O1 -g" EXTRA_CFLAGS="$(TSAN)" EXTRA_LDFLAGS="$(TSAN)" \
	  $(TSAN_TESTS:%=build-tsan/tests/%)
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 $(TSAN_OPTIONS)" sh tests/run.sh $(TSAN_TESTS:%=build-tsan/tests/%)
# ---------------------------------------------------------------------------

# ---- image codecs for datasets (issue 7) ----------------------------------
# libpng / libjpeg(-turbo) are optional: a test compile with $(CC) (so cross
# compilers probe their own sysroot) decides, once per make run. Only
# src/data/png.c and src/data/jpeg.c see ET_HAVE_PNG / ET_HAVE_JPEG; without
# them those files report ET_ERR_UNSUPPORTED. `make ET_NO_IMAGES=1` forces
# both off; ET_PNG=0/1 and ET_JPEG=0/1 override the probe.
ifeq ($(ET_NO_IMAGES),1)
ET_PNG := 0
ET_JPEG := 0
endif
ET_HASH := \#
ET_PROBE = $(shell printf '$(1)' | $(CC) $(PORT_CFLAGS) -x c - -o /dev/null $(2) >/dev/null 2>&1 && echo 1 || echo 0)
ifndef ET_PNG
ET_PNG := $(call ET_PROBE,$(ET_HASH)include <png.h>\nint main(void){return (int)png_access_version_number() < 0;}\n,-lpng)
endif
ifndef ET_JPEG
ET_JPEG := $(call ET_PROBE,$(ET_HASH)include <stdio.h>\n$(ET_HASH)include <jpeglib.h>\nint main(void){struct jpeg_error_mgr e; return jpeg_std_error(&e) == 0;}\n,-ljpeg)
endif
ifeq ($(ET_PNG),1)
$(BUILD)/obj/src/data/png.o: CFLAGS_ALL += -DET_HAVE_PNG=1
LDLIBS_ALL += -lpng
endif
ifeq ($(ET_JPEG),1)
$(BUILD)/obj/src/data/jpeg.o: CFLAGS_ALL += -DET_HAVE_JPEG=1
LDLIBS_ALL += -ljpeg
endif
# Rebuild the codec objects when the choice changes.
ET_CODEC_STAMP := $(BUILD)/obj/src/data/.codecs-png$(ET_PNG)-jpeg$(ET_JPEG)
$(ET_CODEC_STAMP):
	@mkdir -p $(dir $@) && rm -f $(BUILD)/obj/src/data/.codecs-* && touch $@
$(BUILD)/obj/src/data/png.o $(BUILD)/obj/src/data/jpeg.o: $(ET_CODEC_STAMP)
# ---------------------------------------------------------------------------

# ---- SLEEF (issue 3): `make ET_USE_SLEEF=1` takes exp/tanh (and so sigmoid,
# SiLU) in the x86 kernels from SLEEF (Debian libsleef-dev) instead of ours.
# Use its own BUILD directory: objects do not record the choice.
ifeq ($(ET_USE_SLEEF),1)
CFLAGS_ALL += -DET_USE_SLEEF=1 $(shell pkg-config --cflags sleef 2>/dev/null)
ET_SLEEF_LIBS := -lsleef
LDLIBS_ALL += $(ET_SLEEF_LIBS)
endif
# ---------------------------------------------------------------------------

# ---- benchmarks (issue 3): programs, not timed tests --------------------------
# `make bench` prints per-kernel GFLOP/s and % of the FMA peak it measures, then
# `edgetune bench` on MobileNetV2-1.0@224 (1 and 2 threads).
.PHONY: bench
$(BUILD)/bench_kernels: $(BUILD)/obj/tools/bench/bench_kernels.o $(BUILD)/obj/tools/bench/fma_peak.o $(BUILD)/libedgetune.a
	$(CC) -o $@ $^ $(LDLIBS_ALL)
bench: $(BUILD)/bench_kernels $(BUILD)/edgetune $(BUILD)/mkmodel
	$(BUILD)/bench_kernels
	$(BUILD)/mkmodel mobilenet_v2 $(BUILD)/mobilenet_v2.etm
	$(BUILD)/edgetune bench $(BUILD)/mobilenet_v2.etm --threads 2
# The XNNPACK peer (tools/bench/compare_xnn.sh): only on request, never part of
# all/test; the library does not depend on it. Needs Debian's libxnnpack-dev
# and libpthreadpool-dev.
.PHONY: xnn-bench
xnn-bench: $(BUILD)/xnn_bench
$(BUILD)/xnn_bench: tools/bench/xnn_bench.c tools/bench/et_side.c tools/bench/et_side.h $(BUILD)/libedgetune.a
	@printf '#include <xnnpack.h>\nint main(void){return xnn_initialize(0) != xnn_status_success;}\n' | \
	  $(CC) -x c - -o /dev/null -lXNNPACK -lpthreadpool >/dev/null 2>&1 || \
	  { echo "xnn_bench: cannot build against XNNPACK (xnnpack.h, pthreadpool.h, -lXNNPACK);" \
	    "install it with: apt-get install libxnnpack-dev libpthreadpool-dev" >&2; exit 1; }
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itools -o $@ tools/bench/xnn_bench.c tools/bench/et_side.c $(BUILD)/libedgetune.a -lXNNPACK -lpthreadpool $(LDLIBS_ALL)
# Regenerates the committed seed corpora (tests/fuzz/corpus) from the library.
.PHONY: fuzz-seeds
fuzz-seeds: $(BUILD)/libedgetune.a
	$(CC) $(CFLAGS_ALL) -Isrc -Itools -Itests -o $(BUILD)/fuzz_gen_seeds tests/fuzz/gen_seeds.c $(BUILD)/libedgetune.a $(LDLIBS_ALL)
	./$(BUILD)/fuzz_gen_seeds
