# Thin wrapper over CMake. `make run` and `make test` install any missing Debian packages
# first (apt-get, as root), so both work on a fresh Debian 12 machine.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
PORT       ?= 8080

RUNTIME_PKGS := build-essential cmake pkg-config libmicrohttpd-dev libopenblas-dev
TEST_PKGS    := $(RUNTIME_PKGS) libcjson-dev libcriterion-dev gnutls-bin python3-yaml curl python3-numpy nodejs \
                python3-prometheus-client

.PHONY: all build run test test-asan deps deps-test bench clean

all: build

deps:
	@scripts/ensure-packages.sh $(RUNTIME_PKGS)

deps-test:
	@scripts/ensure-packages.sh $(TEST_PKGS)

TESTS ?= ON

build:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DLOSSD_WERROR=ON -DLOSSD_BUILD_TESTS=$(TESTS)
	cmake --build $(BUILD) -j$(JOBS)

run: deps
	$(MAKE) --no-print-directory build TESTS=OFF
	$(BUILD)/lossd --port $(PORT)

test: deps-test
	$(MAKE) --no-print-directory build TESTS=ON
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

test-asan: deps-test
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DLOSSD_WERROR=ON -DLOSSD_SANITIZE=ON
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j$(JOBS)

# `make bench BENCH_ARGS="--only memory"` runs one section (not published).
bench: deps-test build
	bench/run.sh $(BENCH_ARGS) $(BUILD)
	scripts/readme-performance.py

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
