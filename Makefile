# Thin wrapper over meson: the two commands of the README's quickstart.
#   make run              build, then start cdeventsd on its embedded default
#   make test             install what is missing, build, run every test suite
#   make test SANITIZE=1  the same under AddressSanitizer + UBSan (clang)
#   make crashtest        kill the daemon under load ROUNDS times, count losses
#   make soak MINUTES=5   a flapping receiver under steady load; RSS, fds, deliveries
#   make valgrind         integration tests with the daemon under valgrind
#   make bench            ingest vs nginx, fan-out (HTTP, JetStream), queries on 1M events, memory (figures only)
#   make fuzz SECONDS=N   libFuzzer targets (clang) in build-fuzz, N s each (default 60)
#   make image            OCI image archive build-image/cdeventsd-image.tar (root; no registry)
#   make image-test       make image, then run the daemon from it (chroot, podman)
SHELL := /bin/bash
.PHONY: all build run test deps build-deps crashtest bench fuzz valgrind soak image image-test clean

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
	CDEVENTSD_CATALOG=$(CURDIR)/schemas/catalog CDEVENTSD_UI=$(CURDIR)/daemon/ui $(BUILD)/cdeventsd $(ARGS)

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

# A longer soak than the test suite's 20 s: MINUTES=N.
MINUTES ?= 5
soak: deps build
	CDE_SOAK_SECONDS=$$(( $(MINUTES) * 60 )) node tests/js/integration/soak.mjs $(BUILD)/cdeventsd $(BUILD)/cli/cdevctl

# The daemon under valgrind (memcheck) through integration tests: any
# error or leak makes it exit non-zero, which the tests check on stop.
# VALGRIND_PG_TESTS run with the log in PostgreSQL (a throwaway cluster each).
VALGRIND_TESTS ?= ingest bad-input auth fanout metrics pods nats nats-auth dora
VALGRIND_PG_TESTS ?= ingest fanout
VALGRIND_ENV = CDE_DAEMON_WRAPPER="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect" \
	CDEVENTSD_CATALOG=$(CURDIR)/schemas/catalog CDE_SOURCE_DIR=$(CURDIR) \
	CDE_SPEC_DIR=$(CURDIR)/../shared/cdevents-spec CDE_SANITIZED=1
valgrind: deps build
	@set -eo pipefail; for t in $(VALGRIND_TESTS); do \
		echo "valgrind: $$t"; \
		$(VALGRIND_ENV) node tests/js/integration/$$t.mjs $(BUILD)/cdeventsd $(BUILD)/cli/cdevctl | tail -1; \
	done; \
	for t in $(VALGRIND_PG_TESTS); do \
		echo "valgrind: $$t on PostgreSQL"; \
		$(VALGRIND_ENV) CDE_TEST_STORAGE=postgres tests/pg/cluster run \
			node tests/js/integration/$$t.mjs $(BUILD)/cdeventsd $(BUILD)/cli/cdevctl | tail -1; \
	done

# Prints figures, asserts nothing, and keeps them in tests/bench/results/.
# EVENTS: the size of the log the queries run on; LOAD_SECONDS: each load run.
EVENTS ?= 1000000
LOAD_SECONDS ?= 10
bench: build
	@scripts/install-deps --bench
	node tests/bench/run.mjs $(BUILD)/cdeventsd $(EVENTS) $(LOAD_SECONDS)

# Replays tests/fuzz/regressions, then runs each fuzz target for SECONDS
# on its seeds (scripts/fuzz). Crashes go to build-fuzz/fuzz/artifacts.
# (SECONDS exported by a shell is bash's clock, not a duration.)
SECONDS ?= 60
ifeq ($(origin SECONDS),environment)
SECONDS := 60
endif
fuzz: build-deps
	scripts/fuzz $(SECONDS) $(TARGETS)

# The container image, from Debian packages (mmdebstrap) and umoci, with
# its own build directory (build-image/meson, prefix /usr); not part of
# make test, since its root filesystem comes from the Debian mirror.
image:
	@scripts/install-deps --image
	scripts/image

# The image runs the daemon, from its root filesystem with chroot and with
# podman: a hook, the audit log, a clean stop (tests/js/integration/image.mjs).
image-test: image
	@scripts/install-deps --image-test
	node tests/js/integration/image.mjs build-image/cdeventsd-image.tar

clean:
	rm -rf build build-san build-image
