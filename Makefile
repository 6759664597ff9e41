# labctl: one command to run, one to test. Both install only what is missing.
SHELL := /bin/bash
SWIFT ?= swift
# Debian packages the build, the tests and the VM harness need.
DEBS := libmnl-dev libsodium-dev libdeflate-dev pkg-config qemu-system-x86 busybox-static wireguard-tools \
        wireguard-go keepalived iproute2 nftables tshark cpio kmod procps bc util-linux
LABCTL := .build/debug/labctl
LABCTL_RELEASE := .build/release/labctl
## labctl as users run it: optimized, with the Swift runtime, libstdc++, libgcc, libsodium and
## libdeflate linked in, and only the symbols the C libraries need exported. Each shared library
## and exported symbol costs every start-up time in the dynamic loader (BENCHMARKS.md, "start-up").
## - The toolchain's link line names -lstdc++, and the modules' autolink names -lsodium and
##   -ldeflate; a directory that holds only their static archives, put first on the search path
##   (through pkg-config files that name it), makes them static. libmnl has no static archive in
##   Debian and stays shared.
## - No $ORIGIN rpath: there is no library beside the binary, and ld.so would look in 23 places
##   there first.
## - Concrete generic types come from metadata accessors, not from mangled names that the runtime
##   demangles and checks against every protocol conformance on first use (the default only
##   since Swift 5.1; older deployment targets still use accessors).
## - lld, for two things the toolchain's default gold does not do: packed relative relocations
##   (DT_RELR: 1 MB of .rela.dyn becomes 8 KB) and a symbol order. Every function in its own
##   section, and the functions the short commands run placed first in the order that
##   scripts/release/order wrote into scripts/release/symbol-order.txt, so that they share a few
##   64 KiB windows of text. The link map is kept for that script.
## - Position-independent, as Debian builds wg, keepalived and lscpu: the executable's image, which
##   holds libdeflate, libsodium and the code that parses packets and dumps, is randomized.
##   `make release PIE=0` links it at a fixed address instead. The loader then no longer writes
##   every absolute pointer of the Swift metadata and witness tables at start-up (about 120 pages
##   of copy-on-write faults), and every command starts 0.3 ms sooner (BENCHMARKS.md, "PIE").
STATIC_LIBS := $(CURDIR)/.build/static-libs
RELEASE_ORDER := $(CURDIR)/scripts/release/symbol-order.txt
PIE ?= 1
RELEASE_PIE := $(if $(filter 0,$(PIE)),-Xswiftc -Xclang-linker -Xswiftc -no-pie)
BUILD_RELEASE = PKG_CONFIG_PATH=$(STATIC_LIBS)/pkgconfig $(SWIFT) build -c release --static-swift-stdlib \
	--disable-local-rpath --product labctl \
	-Xlinker --no-export-dynamic -Xlinker -L$(STATIC_LIBS) -Xswiftc -Xclang-linker -Xswiftc -static-libgcc \
	-Xswiftc -Xfrontend -Xswiftc -disable-concrete-type-metadata-mangled-name-accessors \
	-Xswiftc -Xfrontend -Xswiftc -function-sections -Xswiftc -use-ld=lld -Xlinker -z -Xlinker pack-relative-relocs \
	-Xlinker --symbol-ordering-file=$(RELEASE_ORDER) -Xlinker --no-warn-symbol-ordering \
	-Xlinker -Map=$(CURDIR)/.build/release-link.map $(RELEASE_PIE)

.PHONY: all deps kernel build release test fuzz run clean completions

all: build

## Install the Debian packages that are not installed yet (apt-get update only if needed).
deps:
	@missing=$$(for p in $(DEBS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "make: installing $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

## Extract Debian's kernel image and modules for the VM into .cache/vm (once).
kernel: deps
	@scripts/vm/kernel >/dev/null

build: deps
	$(SWIFT) build --build-tests

## The release build alone (.build/release/labctl); the benchmark scripts use it.
release: deps
	@mkdir -p $(STATIC_LIBS)/pkgconfig; \
	for lib in stdc++ sodium deflate; do \
	    archive=$$(clang -print-file-name=lib$$lib.a); \
	    [ -f "$$archive" ] || { echo "make: no static lib$$lib.a for the release build" >&2; exit 1; }; \
	    ln -sfn "$$archive" $(STATIC_LIBS)/lib$$lib.a; \
	done; \
	for pc in libsodium libdeflate; do \
	    sed -E "s|^Libs:.*|Libs: -L$(STATIC_LIBS) -l$${pc#lib}|" "$$(pkg-config --variable=pcfiledir $$pc)/$$pc.pc" > $(STATIC_LIBS)/pkgconfig/$$pc.pc; \
	done; \
	if [ $(RELEASE_ORDER) -nt $(LABCTL_RELEASE) ]; then rm -f $(LABCTL_RELEASE); fi; \
	if [ "$$(cat .build/release-pie 2>/dev/null)" != "$(PIE)" ]; then rm -f $(LABCTL_RELEASE); echo "$(PIE)" > .build/release-pie; fi  # SwiftPM does not see these change
	$(BUILD_RELEASE)

FUZZ_TARGETS := cpuinfo meminfo images tar wgconfig netlink uapi wgsync vrrp keepalived pcap pagingsim
FUZZ_SECONDS ?= 20

## Every parser's libFuzzer target, for a bounded time each, over its corpus in Fuzz/corpus.
fuzz:
	@for t in $(FUZZ_TARGETS); do echo "fuzz $$t ($(FUZZ_SECONDS) s)"; scripts/fuzz/run $$t $(FUZZ_SECONDS) || exit 1; done

## Every suite: fuzzers, library unit tests, CLI tests against wg/free/uname/lscpu, the VM scenarios.
## The HA lab runs on its own afterwards: its outages are timed, and it should not share the two
## cores with the other VM and the namespace tests. It times the release build, as users run it.
## swift test runs last so that its summary closes.
## Each run's output is also kept in .build/test-*.log; on a failure, its failed tests and
## recorded issues are printed again at the end, where a CI log's tail shows them.
test: build kernel fuzz
	@$(call swift-test,--skip HAWireGuardLabTests,.build/test-main.log)
	@$(MAKE) --no-print-directory release
	@export LABCTL=$(CURDIR)/$(LABCTL_RELEASE); $(call swift-test,--filter HAWireGuardLabTests,.build/test-ha-lab.log)

swift-test = set -o pipefail; echo "$(SWIFT) test --skip-build $(1)"; \
	$(SWIFT) test --skip-build $(1) 2>&1 | tee $(2) || { \
	    echo "== what failed (all of it is in $(2)):"; grep -a -A3 '✘' $(2) | grep -avF -e '✔' -e '◇' | tail -60; exit 1; }

## The main job: the HA WireGuard pair in the VM, labctl against keepalived (keep_addr_on_down=1),
## on a deleted wg1 and on a graceful stop, 20 clients.
run: kernel release
	LABCTL=$(CURDIR)/$(LABCTL_RELEASE) $(LABCTL_RELEASE) lab ha --compare --fault wg-down,stop --peers 20

completions: build
	@mkdir -p completions
	for sh in bash zsh fish; do $(LABCTL) --generate-completion-script $$sh > completions/labctl.$$sh; done

clean:
	rm -rf .build .build-fuzz .cache
