# sdkauth — `make run` starts everything locally; `make test` runs every test
# against a real Postgres (a throwaway cluster unless DATABASE_URL is set)
# and the Vonage emulator.

GO          ?= go
SQLC_VERSION = v1.31.1
TEST_FLAGS  ?= -race -count=1 -timeout 15m

.PHONY: all build run test lint generate clean

all: build

build:
	$(GO) build -o bin/sdkauth ./cmd/sdkauth
	$(GO) build -o bin/vonage-emulator ./cmd/vonage-emulator

run:
	$(GO) run ./cmd/sdkauth dev

test: lint
	$(GO) test $(TEST_FLAGS) ./...

lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Regenerates db/*.sql.go from db/queries; the output is committed, so
# `make test` does not need sqlc.
generate:
	$(GO) run github.com/sqlc-dev/sqlc/cmd/sqlc@$(SQLC_VERSION) generate

clean:
	rm -rf bin
