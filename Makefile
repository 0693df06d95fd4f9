# fn0 — the commands a person types. Everything real happens in CMake and
# scripts/; this file only wires them together.
BUILD_DIR ?= build
# `make install`: a stripped Release build of its own, installed under PREFIX.
RELEASE_DIR ?= build-release
PREFIX ?= /usr/local
# Caches and pinned tools (scripts/setup.sh); outside the repo on purpose.
export FN0_CACHE ?= $(HOME)/.cache/fn0
export PATH := $(FN0_CACHE)/tools/bin:$(HOME)/.cargo/bin:$(PATH)
CMAKE_FLAGS ?=
# What scripts/setup.sh installs before a build: by default what building
# fn0 and serving the examples need (--run); `make setup` adds every guest
# language's toolchain, `make test` and `make bench` the tools they use.
SETUP_FLAGS ?= --run

.PHONY: all setup deps configure build examples test run bench fuzz clean help cluster-up cluster-down \
        release install

all: build

help:
	@echo "make run       install what is missing, build, serve the example functions (Ctrl-C stops)"
	@echo "make install   a stripped release fn0 and its toolchain files into PREFIX (default /usr/local; docs/install.md)"
	@echo "make setup     install every guest language's toolchain (what fn0 doctor checks)"
	@echo "make cluster-up    three nodes behind haproxy on loopback, examples deployed (scripts/cluster.sh)"
	@echo "make cluster-down  stop that cluster (its data stays in build/cluster)"
	@echo "make test      build everything and run every test"
	@echo "make build     build build/fn0"
	@echo "make bench     fn0 vs wasmtime serve, side by side (not part of make test)"
	@echo "make examples  build the example components into build/examples"
	@echo "make fuzz      run every fuzz target for FUZZ_SECONDS (default 600) each, keeping new corpus inputs"
	@echo "make clean     remove build/ (caches in ~/.cache/fn0 stay)"

setup: SETUP_FLAGS =
setup: deps

deps:
	@scripts/setup.sh $(SETUP_FLAGS)

configure: deps
	@[ -f $(BUILD_DIR)/build.ninja ] || cmake -S . -B $(BUILD_DIR) -G Ninja -DFN0_CACHE=$(FN0_CACHE) $(CMAKE_FLAGS)

build: configure
	@cmake --build $(BUILD_DIR) --target fn0

examples: configure
	@cmake --build $(BUILD_DIR) --target examples

# The tests also need their servers, browsers and the reference host: setup.sh --test.
test: SETUP_FLAGS = --test
test: configure
	@cmake --build $(BUILD_DIR) --target all examples guests
	@cd $(BUILD_DIR) && ctest --output-on-failure --timeout 600 -j2

bench: SETUP_FLAGS = --bench
bench: configure
	@cmake --build $(BUILD_DIR) --target all examples guests
	@python3 bench/bench.py
	@python3 bench/density.py
	@python3 bench/deploy_cache.py
	@python3 bench/cpu_metering.py
	@python3 bench/cluster_bench.py
	@python3 bench/dev_loop.py
	@python3 bench/first_request.py
	@python3 bench/kv_bench.py

FUZZ_SECONDS ?= 600
fuzz: SETUP_FLAGS = --test
fuzz: configure
	@cmake --build $(BUILD_DIR) --target fuzzers
	@for t in request_head router settings; do \
	  fuzz/run.sh $(BUILD_DIR)/fuzz/fuzz_$$t fuzz/corpus/$$t $(FUZZ_SECONDS) --keep || exit 1; done

run: build examples
	@scripts/run-node.sh $(BUILD_DIR)

# Every language's toolchain (setup.sh without flags), so the install has
# what `fn0 build` needs for each.
release: SETUP_FLAGS =
release: deps
	@[ -f $(RELEASE_DIR)/build.ninja ] || cmake -S . -B $(RELEASE_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release \
	  -DFN0_CACHE=$(FN0_CACHE) $(CMAKE_FLAGS)
	@cmake --build $(RELEASE_DIR) --target fn0

# cmake/install.cmake says what goes where. DESTDIR=... stages it.
install: release
	@cmake --install $(RELEASE_DIR) --prefix $(PREFIX) --strip
	@echo "installed $(PREFIX)/bin/fn0; its toolchains:"
	@$(DESTDIR)$(PREFIX)/bin/fn0 doctor || true

# The cluster needs versitygw as the tests do: setup.sh --test.
cluster-up: SETUP_FLAGS = --test
cluster-up: build examples
	@FN0_BUILD_DIR=$(BUILD_DIR) scripts/cluster.sh up --examples

cluster-down:
	@FN0_BUILD_DIR=$(BUILD_DIR) scripts/cluster.sh down

clean:
	rm -rf $(BUILD_DIR) $(RELEASE_DIR)
