# sdkauth — `make run` starts everything locally; `make test` runs every test
# against a real Postgres (a throwaway cluster unless DATABASE_URL is set)
# and the Vonage emulator.

GO          ?= go
SQLC_VERSION = v1.31.1
STATICCHECK_VERSION = v0.8.2
# -parallel 8: the tests mostly wait on Postgres, HTTP and child processes,
# so more of them side by side than there are cores (go test's default).
TEST_FLAGS  ?= -race -count=1 -parallel 8 -timeout 15m

.PHONY: all build run test lint generate clean bench bench-scale bench-go fuzz chromium vendor-redoc

all: build

build:
	$(GO) build -o bin/sdkauth ./cmd/sdkauth
	$(GO) build -o bin/vonage-emulator ./cmd/vonage-emulator

# Builds bin/ first and runs the binary itself (not `go run`, which reports
# Ctrl-C as a failure), so that a Ctrl-C ends `make run` with status 0.
run: build
	./bin/sdkauth dev

test: lint chromium
	$(GO) test $(TEST_FLAGS) ./...

# The browser tests drive headless Chromium at /usr/bin/chromium; installs
# Debian's package (as root) when it is missing, and does nothing otherwise.
CHROMIUM = /usr/bin/chromium
chromium:
	@[ -x $(CHROMIUM) ] || { \
		if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then \
			echo "make: the browser tests need $(CHROMIUM); install Debian's chromium package as root"; exit 1; fi; \
		echo "make: installing chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; } && \
		[ -x $(CHROMIUM) ] || { echo "make: no $(CHROMIUM) after installing chromium"; exit 1; }

# Re-vendors the Redoc bundle behind GET /docs from npm (pinned by version
# and integrity in the script); the result is committed under api/docs/vendor.
vendor-redoc:
	./scripts/vendor-redoc.sh

lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

# Measures sdkauth against this machine's own RSA-2048 limit (openssl speed)
# with a throwaway Postgres, the emulator and the server over loopback, and
# writes bench/RESULTS.md (about 3 minutes; see bench/main.go, and
# `go run ./bench -h` for its flags, passed here as BENCH_FLAGS).
BENCH_FLAGS ?=
bench: build
	@command -v openssl >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 && \
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends openssl; } >/dev/null 2>&1; } || \
		echo "bench: no openssl command; the ceiling will be reported as unavailable"
	$(GO) build -o bin/sdkauth-bench ./bench
	./bin/sdkauth-bench -bin bin -out bench/RESULTS.md $(BENCH_FLAGS)

# The refresh_token, client_credentials and admin list phases on the nearly
# empty database, then again after filling it with 1M users, 5M sessions
# and their refresh tokens, and 20M audit rows; also the sweeper at work
# and EXPLAIN of the hot queries, before and after. Writes
# bench/RESULTS-scale.md (about 15 minutes and 12 GB under /tmp, removed
# after; see bench/scale.go).
bench-scale: build
	$(GO) build -o bin/sdkauth-bench ./bench
	./bin/sdkauth-bench -bin bin -out bench/RESULTS-scale.md -only refresh,cc,admin-list -scale $(BENCH_FLAGS)

# The Go micro-benchmarks: signers, claims, ACLs, password hashing, rotation,
# the token endpoint, the admin list and user imports.
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./keys ./auth ./db
	$(GO) test -run '^$$' -bench 'TokenEndpoint|AdminList|Import' -benchmem ./api

# Runs every fuzz target in turn for FUZZTIME each (make test replays their
# seed corpora and any failures kept under testdata/fuzz).
FUZZTIME ?= 2m
FUZZ_TARGETS = keys:FuzzVerify keys:FuzzVerifySigned keys:FuzzParseACL keys:FuzzNarrow \
	api:FuzzTokenRequest api:FuzzAdminBody users:FuzzListCursor emulator:FuzzEmulatorInput
fuzz:
	@for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; name=$${t#*:}; \
		echo "== $$name ($$pkg, $(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) ./$$pkg || exit 1; done

# Regenerates db/*.sql.go from db/queries; the output is committed, so
# `make test` does not need sqlc.
generate:
	$(GO) run github.com/sqlc-dev/sqlc/cmd/sqlc@$(SQLC_VERSION) generate

clean:
	rm -rf bin
