# Thin wrapper over meson: the two commands of the README's quickstart.
#   make run              build, then start cdeventsd on its embedded default
#   make test             install what is missing, build, run every test suite
#   make test SANITIZE=1  the same under AddressSanitizer + UBSan (clang)
#   make crashtest        kill the daemon under load ROUNDS times, count losses
#   make bench            ingest vs nginx, fan-out, queries on 1M events, memory (figures only)
SHELL := /bin/bash
.PHONY: all build run test deps build-deps crashtest bench clean

SANITIZE ?= 0
ifeq ($(SANITIZE),1)
BUILD := build-san
SETUP := CC=clang meson setup $(BUILD) -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
else
BUILD := build
SETUP := meson setup $(BUILD)
endif

all: build

deps:
	@scripts/install-deps

build-deps:
	@scripts/install-deps --build

$(BUILD)/build.ninja:
	$(SETUP)

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

run: build-deps build
	CDEVENTSD_CATALOG=$(CURDIR)/schemas/catalog $(BUILD)/cdeventsd $(ARGS)

test: deps build
	@set -o pipefail; \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	meson test -C $(BUILD) --print-errorlogs $(TESTARGS); rc=$$?; \
	node tests/js/summary.mjs $(BUILD)/meson-logs/testlog.json; exit $$rc

# SIGKILL the daemon under load ROUNDS times; prints acknowledged vs stored.
ROUNDS ?= 50
crashtest: deps build
	node tests/js/integration/crash.mjs $(BUILD)/cdeventsd $(BUILD)/cli/cdevctl $(ROUNDS)

# Prints figures, asserts nothing, and keeps them in tests/bench/results/.
# EVENTS: the size of the log the queries run on; LOAD_SECONDS: each load run.
EVENTS ?= 1000000
LOAD_SECONDS ?= 10
bench: build
	@scripts/install-deps --bench
	node tests/bench/run.mjs $(BUILD)/cdeventsd $(EVENTS) $(LOAD_SECONDS)

clean:
	rm -rf build build-san
