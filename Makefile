# edgetune: one Makefile. `make PORT=name` includes ports/name.mk.
PORT ?= linux-x86_64
include ports/$(PORT).mk

BUILD ?= build
PREFIX ?= /usr/local
OPT ?= -O2
WARN := -Wall -Wextra -Wpedantic -Werror
CFLAGS_ALL := -std=c11 $(WARN) $(OPT) -fPIC -D_POSIX_C_SOURCE=200809L -Iinclude -Isrc $(PORT_CFLAGS) $(EXTRA_CFLAGS)
LDLIBS_ALL := -lm -lpthread $(PORT_LDFLAGS) $(EXTRA_LDFLAGS)

LIB_SRCS := $(sort $(wildcard src/*.c src/*/*.c arch/generic/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
CLI_SRCS := $(sort $(wildcard tools/cli/*.c))
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)
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
	$(CC) $(CFLAGS_ALL) -Itools -c $< -o $@

$(BUILD)/libedgetune.a: $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/libedgetune.so: $(LIB_OBJS)
	$(CC) -shared -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/edgetune: $(CLI_OBJS) $(ZOO_OBJS) $(BUILD)/libedgetune.a
	$(CC) -o $@ $(CLI_OBJS) $(ZOO_OBJS) $(BUILD)/libedgetune.a $(LDLIBS_ALL)

$(BUILD)/mkmodel: $(BUILD)/obj/tools/mkmodel.o $(ZOO_OBJS) $(BUILD)/libedgetune.a
	$(CC) -o $@ $^ $(LDLIBS_ALL)

# test_alloc counts heap calls by wrapping malloc/calloc/realloc/free.
WRAP_test_alloc := -Wl,--wrap=malloc -Wl,--wrap=calloc -Wl,--wrap=realloc -Wl,--wrap=free
$(BUILD)/tests/%: tests/%.c tests/harness.h $(ZOO_OBJS) $(BUILD)/libedgetune.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itools -Itests -o $@ $< $(ZOO_OBJS) $(BUILD)/libedgetune.a $(LDLIBS_ALL) $(WRAP_$*)

test: $(TESTS) $(BUILD)/edgetune
	@RUNNER="$(RUNNER)" ET_BUILD="$(BUILD)" sh tests/run.sh $(TESTS)

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer.
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
sanitize:
	$(MAKE) test BUILD=build-asan OPT="-O1 -g" EXTRA_CFLAGS="$(SAN)" EXTRA_LDFLAGS="$(SAN)"

demo: all
	$(BUILD)/mkmodel mobilenet_v2 $(BUILD)/mobilenet_v2.etm
	$(BUILD)/edgetune info $(BUILD)/mobilenet_v2.etm
	$(BUILD)/mkmodel input 1,224,224,3 $(BUILD)/demo_input.npy
	$(BUILD)/edgetune run $(BUILD)/mobilenet_v2.etm --input $(BUILD)/demo_input.npy --output $(BUILD)/demo_output.npy --top 5

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
