# casebook: a static site generator for handbooks of co-production case studies.
#
#   make site     install missing packages, build ./casebook, build the handbook into site/
#   make test     the whole test suite (unit tests under ASan+UBSan, Mustache spec, end-to-end,
#                 the threaded stages under TSan, browser)
#   make bench    benchmarks (see bench/README.md)
#   make fuzz     libFuzzer targets (FUZZ_SECONDS=60 each; needs clang: scripts/install-deps --fuzz)
#   make install  PREFIX=/usr/local
#
# Objects go to build/<variant>/; nothing is built beside the sources.

PREFIX      ?= /usr/local
DESTDIR     ?=
CC          ?= cc
PKG_CONFIG  ?= pkg-config
VERSION     := 0.1.0

PKGS        := libcmark-gfm libgit2 lua5.4 yaml-0.1 libutf8proc libmicrohttpd
TEST_PKGS   := cmocka
# The release build allocates with jemalloc: a build makes and frees millions
# of small values, and glibc's malloc took a fifth of its processor time
# (bench/results.md, "The allocator"). `make MALLOC_PKG=` links libc's.
# Sanitizer builds keep libc's malloc, which the sanitizers replace.
MALLOC_PKG  ?= jemalloc

WARN        := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
               -Wwrite-strings -Wformat=2 -Wundef
# Recursively expanded on purpose: pkg-config runs only when a recipe needs it,
# after `deps` has had the chance to install what is missing.
PKG_CFLAGS   = $(shell $(PKG_CONFIG) --cflags $(PKGS))
PKG_LIBS     = $(shell $(PKG_CONFIG) --libs $(PKGS)) -lcmark-gfm-extensions -lpthread -lm
TEST_CFLAGS  = $(shell $(PKG_CONFIG) --cflags $(TEST_PKGS))
TEST_LIBS    = $(shell $(PKG_CONFIG) --libs $(TEST_PKGS))
# --no-as-needed: with -flto, Debian's default --as-needed drops the library
# (the binary then allocates with glibc's malloc).
comma       := ,
REL_LIBS     = $(if $(MALLOC_PKG),-Wl$(comma)--push-state$(comma)--no-as-needed \
               $(shell $(PKG_CONFIG) --libs $(MALLOC_PKG)) -Wl$(comma)--pop-state)

BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -DCB_VERSION='"$(VERSION)"' -DCB_SHAREDIR='"$(PREFIX)/share/casebook"' $(WARN) -MMD -MP
REL_CFLAGS  := -O2 -flto=auto -DNDEBUG
SAN_FLAGS   := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_CFLAGS  := -O1 -g $(SAN_FLAGS) -DCB_DEBUG_CHECKS
TSAN_FLAGS  := -fsanitize=thread -fno-omit-frame-pointer
CFLAGS      ?=
LDFLAGS     ?=

SRCS        := $(filter-out src/main.c,$(wildcard src/*.c))
UNIT_SRCS   := $(wildcard tests/unit/test_*.c)

REL_OBJS    := $(SRCS:src/%.c=build/rel/%.o)
SAN_OBJS    := $(SRCS:src/%.c=build/san/%.o)
TSAN_OBJS   := $(SRCS:src/%.c=build/tsan/%.o)
UNIT_BINS   := $(UNIT_SRCS:tests/unit/%.c=build/san/tests/%)

MUSTACHE_SPEC_DIR ?= ../shared/mustache-spec
export MUSTACHE_SPEC_DIR

.PHONY: all deps site test unit e2e tsan browser bench fuzz fuzz-build fuzz-regress install uninstall clean format lint
.DEFAULT_GOAL := all

all: casebook

# Install missing Debian packages when pkg-config cannot find a library.
deps:
	@$(PKG_CONFIG) --exists $(PKGS) $(TEST_PKGS) $(MALLOC_PKG) 2>/dev/null && command -v xmllint >/dev/null || scripts/install-deps

site: deps
	@$(MAKE) --no-print-directory casebook
	./casebook build

test: deps
	@$(MAKE) --no-print-directory unit build/san/casebook casebook
	@$(MAKE) --no-print-directory e2e
	@$(MAKE) --no-print-directory tsan
	@$(MAKE) --no-print-directory browser

# ---- release build -------------------------------------------------------
casebook: $(REL_OBJS) build/rel/main.o
	$(CC) $(REL_CFLAGS) $(LDFLAGS) -o $@ $^ $(REL_LIBS) $(PKG_LIBS)

build/rel/%.o: src/%.c | build/rel
	$(CC) $(BASE_CFLAGS) $(REL_CFLAGS) $(PKG_CFLAGS) $(CFLAGS) -c -o $@ $<

# ---- sanitizer build (tests) ---------------------------------------------
build/san/casebook: $(SAN_OBJS) build/san/main.o
	$(CC) $(SAN_FLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

build/san/%.o: src/%.c | build/san
	$(CC) $(BASE_CFLAGS) $(SAN_CFLAGS) $(PKG_CFLAGS) $(CFLAGS) -c -o $@ $<

build/san/tests/%: tests/unit/%.c $(SAN_OBJS) | build/san/tests
	$(CC) $(BASE_CFLAGS) $(SAN_CFLAGS) $(PKG_CFLAGS) $(TEST_CFLAGS) -Isrc $(CFLAGS) \
	    -o $@ $< $(SAN_OBJS) $(SAN_FLAGS) $(PKG_LIBS) $(TEST_LIBS)

# ---- thread sanitizer build (the stages that run on several threads) ---------
build/tsan/casebook: $(TSAN_OBJS) build/tsan/main.o
	$(CC) $(TSAN_FLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

build/tsan/%.o: src/%.c | build/tsan
	$(CC) $(BASE_CFLAGS) -O1 -g $(TSAN_FLAGS) $(PKG_CFLAGS) $(CFLAGS) -c -o $@ $<

build/rel build/san build/san/tests build/tsan build/bench:
	@mkdir -p $@

# The editions benchmark's repository maker (bench/run).
build/bench/editions-repo: bench/editions-repo.c | build/bench
	$(CC) -std=c11 -O2 $(WARN) $(shell $(PKG_CONFIG) --cflags libgit2) -o $@ $< \
	    $(shell $(PKG_CONFIG) --libs libgit2)

unit: $(UNIT_BINS)
	@fail=0; for t in $(UNIT_BINS); do \
	    echo "== $$t"; \
	    ASAN_OPTIONS=detect_leaks=1 $$t || fail=1; \
	done; exit $$fail

# CASEBOOK_RELEASE: the release build, when there is one, whose output
# t_build_deterministic compares with the sanitizer build's.
e2e: build/san/casebook build/bench/editions-repo
	@CASEBOOK=build/san/casebook CASEBOOK_RELEASE=$(if $(wildcard casebook),$(CURDIR)/casebook) \
	    tests/e2e/run

# Loading, plugins (a thread per plugin), page lists, rendering and editions
# run on several threads: their end-to-end tests again, under TSan, where a
# data race fails the build it happens in.
tsan: build/tsan/casebook build/bench/editions-repo
	@echo "== end-to-end tests of the threaded stages under ThreadSanitizer"
	@CASEBOOK=build/tsan/casebook TSAN_OPTIONS="halt_on_error=1 exitcode=66" 	    tests/e2e/run t_plugins t_build_basic t_build_deterministic t_editions t_cache

browser: casebook
	@if [ -x tests/browser/run ]; then tests/browser/run; \
	else echo "browser tests skipped: no tests/browser/run"; fi

bench: deps
	@command -v hugo >/dev/null && command -v cmark-gfm >/dev/null && test -x /usr/bin/time || \
	    scripts/install-deps --bench
	@$(MAKE) --no-print-directory casebook
	@bench/run

# ---- fuzzing (clang's libFuzzer, ASan+UBSan; tests/fuzz/README.md) ----------
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_FLAGS   := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
                -fno-omit-frame-pointer -DCB_DEBUG_CHECKS
FUZZ_OBJS    := $(SRCS:src/%.c=build/fuzz/%.o)
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS    := $(FUZZ_TARGETS:%=build/fuzz/%)
# Kept between runs (make would delete them as intermediates of the pattern rule).
.SECONDARY: $(FUZZ_OBJS)

fuzz: fuzz-build
	@tests/fuzz/run $(FUZZ_SECONDS)

# Every seed and every crash kept in tests/fuzz/<target>/, once each.
fuzz-regress: fuzz-build
	@tests/fuzz/run --regress

fuzz-build:
	@command -v $(FUZZ_CC) >/dev/null || scripts/install-deps --fuzz
	@$(MAKE) --no-print-directory $(FUZZ_BINS)

build/fuzz/%.o: src/%.c | build/fuzz
	$(FUZZ_CC) $(BASE_CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link $(PKG_CFLAGS) $(CFLAGS) -c -o $@ $<

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJS) | build/fuzz
	$(FUZZ_CC) $(BASE_CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer $(PKG_CFLAGS) -Isrc $(CFLAGS) \
	    -DFUZZ_SHARE='"$(CURDIR)"' \
	    -o $@ $< $(FUZZ_OBJS) $(PKG_LIBS)

build/fuzz:
	@mkdir -p $@

# ---- install -------------------------------------------------------------
install: casebook
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/casebook \
	    $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 casebook $(DESTDIR)$(PREFIX)/bin/casebook
	rm -rf $(DESTDIR)$(PREFIX)/share/casebook/themes $(DESTDIR)$(PREFIX)/share/casebook/plugins \
	    $(DESTDIR)$(PREFIX)/share/casebook/archetypes
	cp -R themes $(DESTDIR)$(PREFIX)/share/casebook/
	test ! -d plugins || cp -R plugins $(DESTDIR)$(PREFIX)/share/casebook/
	test ! -d archetypes || cp -R archetypes $(DESTDIR)$(PREFIX)/share/casebook/
	install -m 644 docs/casebook.1 $(DESTDIR)$(PREFIX)/share/man/man1/casebook.1

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/casebook $(DESTDIR)$(PREFIX)/share/man/man1/casebook.1
	rm -rf $(DESTDIR)$(PREFIX)/share/casebook

clean:
	rm -rf build casebook

format:
	clang-format -i src/*.c src/*.h tests/unit/*.c

lint:
	clang-tidy src/*.c -- $(BASE_CFLAGS) $(PKG_CFLAGS)

-include $(REL_OBJS:.o=.d) $(SAN_OBJS:.o=.d) $(TSAN_OBJS:.o=.d) $(FUZZ_OBJS:.o=.d) build/rel/main.d \
         build/san/main.d build/tsan/main.d
