# Thin wrapper over CMake. `make run` and `make test` install any missing Debian packages
# first (apt-get, as root), so both work on a fresh Debian 12 machine.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
PORT       ?= 8080

RUNTIME_PKGS := build-essential cmake pkg-config libmicrohttpd-dev libopenblas-dev zlib1g-dev python3-yaml
TEST_PKGS    := $(RUNTIME_PKGS) libcjson-dev libcriterion-dev gnutls-bin python3-yaml curl python3-numpy nodejs \
                python3-venv python3-setuptools python3-wheel python3-prometheus-client
BROWSER_PKGS := chromium
# Where test-browser saves its picture of the playground (docs/playground.png to refresh the
# README's).
SCREENSHOT ?= $(BUILD)/playground.png

.PHONY: all build run test test-asan test-browser deps deps-test bench bench-http clean format check-format

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

# The pages in a real browser (Debian's chromium, headless, driven by playwright-core from
# tests/web/package-lock.json), the OpenAPI lint, and the check that server/web/vendor/ is
# what server/web/package-lock.json pins. Needs Node.js 20 or later, npm and the npm registry.
test-browser: deps-test
	@scripts/ensure-packages.sh $(BROWSER_PKGS)
	@command -v npm >/dev/null || scripts/ensure-packages.sh npm
	@node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' || \
	  { echo "test-browser needs Node.js 20 or later (found $$(node --version))" >&2; exit 1; }
	$(MAKE) --no-print-directory build TESTS=ON
	server/web/vendor.sh --check
	cd tests/web && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	cd tests/web && npx --no-install redocly lint --config ../../api/redocly.yaml ../../api/openapi.yaml
	LOSSD=$(BUILD)/lossd SCREENSHOT=$(SCREENSHOT) node --test tests/web/browser.test.mjs

test-asan: deps-test
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DLOSSD_WERROR=ON -DLOSSD_SANITIZE=ON
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j$(JOBS)

# `make bench BENCH_ARGS="--only memory"` runs one section (not published).
bench: deps-test build
	bench/run.sh $(BENCH_ARGS) $(BUILD)
	scripts/readme-performance.py

# The small-request HTTP section alone (lossd, nginx, FastAPI; about 3 minutes), into
# a PERFORMANCE.md of its own (--out); never replaces the published full run.
bench-http: deps-test build
	bench/run.sh --only http --out bench/out-http $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

# clang-format-14 over our C and C++ (.clang-format); CI runs `make check-format`.
format:
	scripts/format.sh

check-format:
	scripts/format.sh --check
