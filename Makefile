# Anya: `make run` starts a node on embedded defaults; `make test` runs every test.
SHELL := /bin/bash
GO ?= go
BIN := bin/anya
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/anya-org/anya/node.Version=$(VERSION)
ANYA_HOME ?= $(HOME)/.anya

.PHONY: build run test test-deps vet conformance bench bench-dwn lint fuzz clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/anya

run: build
	ANYA_HOME=$(ANYA_HOME) ./$(BIN) daemon

# test installs what the tests need (Debian and npm packages), starts a
# throwaway PostgreSQL on loopback (stopped again however the tests end),
# then vets and runs every test with the race detector; the conformance and
# PostgreSQL tests are required, never skipped.
test: test-deps vet
	@pgdir=$$(mktemp -d); trap 'scripts/postgres.sh stop "$$pgdir"; rm -rf "$$pgdir"' EXIT; \
	dsn=$$(scripts/postgres.sh start "$$pgdir") || exit 1; \
	echo "PostgreSQL for the tests: $$dsn"; \
	ANYA_TEST_POSTGRES="$$dsn" ANYA_REQUIRE_POSTGRES=1 ANYA_REQUIRE_CONFORMANCE=1 \
	  $(GO) test -race -count=1 -timeout 15m ./...

test-deps:
	@./scripts/test-deps.sh

vet:
	$(GO) vet ./...

conformance: test-deps
	ANYA_REQUIRE_CONFORMANCE=1 $(GO) test -race -count=1 ./conformance/...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# bench-dwn runs `anya bench dwn` against an anya node and against
# @web5/dwn-server 0.6.1 (from npm, cached outside the repo) on this machine,
# and prints both and their ratio. BENCH_ARGS: writes concurrency queries.
bench-dwn: build
	scripts/bench-dwn.sh $(BENCH_ARGS)

lint: vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# fuzz runs each fuzz target for FUZZTIME.
FUZZTIME ?= 20s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

clean:
	rm -rf bin
