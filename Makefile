# The two commands of the README, and the build around them.
#   make demo   install what is missing, build, drill the whole stack of examples/cluster.yaml
#   make demo-lb  the load-balancer demo alone (one backend killed under load)
#   make test   install, build, run every test (unit, integration, fuzz)
#   make bench  the benchmarks against nginx, HAProxy, etcd, unbound and Redis
# SAN=address,undefined or SAN=thread builds with sanitizers into build-san-*.

BUILD_TYPE ?= Release
SAN ?=
JOBS ?= $(shell nproc)
ifeq ($(SAN),)
BUILD_DIR ?= build
else
BUILD_DIR ?= build-san-$(subst $(comma),-,$(SAN))
endif
comma := ,
FUZZ_DIR ?= build-fuzz
CTEST_ARGS ?=

.PHONY: all deps build test unit integration fuzz demo demo-lb bench clean

all: build

deps:
	@scripts/install-deps

$(BUILD_DIR)/build.ninja:
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DFAILOVER_SANITIZE=$(SAN) >/dev/null

build: deps $(BUILD_DIR)/build.ninja
	@cmake --build $(BUILD_DIR) -j $(JOBS)

fuzz: deps
	@test -f $(FUZZ_DIR)/build.ninja || CXX=clang++ cmake -S . -B $(FUZZ_DIR) -G Ninja \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFAILOVER_FUZZ=ON >/dev/null
	@cmake --build $(FUZZ_DIR) -j $(JOBS) --target fuzz_targets
	@cd $(FUZZ_DIR) && ctest -L fuzz --output-on-failure

test: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)
	@$(MAKE) --no-print-directory fuzz

unit: build
	@cd $(BUILD_DIR) && ctest -L unit --output-on-failure -j $(JOBS)

integration: build
	@cd $(BUILD_DIR) && ctest -L integration --output-on-failure

# The whole stack from examples/cluster.yaml, one fault per layer under load
# (about 30 s); the table on the terminal, the HTML report in the build dir.
demo: build
	@$(BUILD_DIR)/failover drill --config examples/cluster.yaml --report $(BUILD_DIR)/drill-report.html \
	  --json $(BUILD_DIR)/drill.json
	@echo "report: $(BUILD_DIR)/drill-report.html"

demo-lb: build
	@python3 scripts/demo.py --binary $(BUILD_DIR)/failover

bench: build
	@scripts/install-deps --bench
	@bench/lb/run --binary $(BUILD_DIR)/failover
	@bench/registry/run --binary $(BUILD_DIR)/failover --loadgen $(BUILD_DIR)/registry_loadgen
	@bench/dns/run --binary $(BUILD_DIR)/failover
	@bench/store/run --binary $(BUILD_DIR)/failover

clean:
	rm -rf build build-san-* $(FUZZ_DIR)
