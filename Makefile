# Tandem's one entry point for building, running, testing and generating.
# `make run` and `make test` work on a fresh machine with Go installed.

GO            ?= go
BIN           := bin/tandem
STATICCHECK   := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# Packages we write; generated code (ent/, graph/generated) is excluded from lint.
LINT_PKGS      = $(shell $(GO) list ./... 2>/dev/null | grep -v -e '/ent$$' -e '/ent/[a-z]*$$' -e '/graph/generated' | grep -v -e '/ent/schema' ) ./ent/schema/...
TEST_FLAGS    ?= -race -count=1 -timeout 20m

TSCLIENT      := mcpadapter/testdata/tsclient

.PHONY: run build test test-unit ts-client lint vet fmt-check generate check-generated migration bench clean

## run: build, create the demo organization with demo data on first run, and serve
run: build
	./$(BIN) demo run

build:
	$(GO) build -o $(BIN) ./cmd/tandem

## test: format, vet, lint, and every test (PostgreSQL/Redis when their URLs are set)
test: fmt-check vet lint ts-client test-unit

# The official TypeScript MCP SDK, for the check that the seed's client
# config works with it; skipped (with a line saying so) without Node.
ts-client:
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix $(TSCLIENT) --no-audit --no-fund --loglevel=error >/dev/null && echo "TypeScript MCP SDK ready for the client check"; \
	else echo "skipping the TypeScript SDK client check: npm is not installed"; fi

test-unit:
	@if [ -z "$$TANDEM_TEST_POSTGRES_URL" ]; then echo "skipping PostgreSQL tests: TANDEM_TEST_POSTGRES_URL is not set"; fi
	@if [ -z "$$TANDEM_TEST_REDIS_URL" ]; then echo "skipping Redis tests: TANDEM_TEST_REDIS_URL is not set"; fi
	$(GO) test $(TEST_FLAGS) ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

lint:
	$(GO) run $(STATICCHECK) $(LINT_PKGS)

## generate: regenerate ent and gqlgen code from ent/schema and graph/*.graphql
generate:
	cd ent && $(GO) run -mod=mod ./entc.go
	$(GO) tool gqlgen generate --config gqlgen.yml

## check-generated: fail when committed generated code differs from `make generate`
check-generated: generate
	@changes=$$(git status --porcelain -- ent graph gqlgen.yml go.mod go.sum); \
	if [ -n "$$changes" ]; then echo "$$changes"; echo "generated code is stale: run 'make generate' and commit the result"; exit 1; fi

## migration: write the next versioned migration for SQLite and PostgreSQL (NAME=what_it_does)
migration:
	$(GO) run ./store/migrationgen -name $(NAME)

## bench: benchmarks, with the figures quoted in issue notes; then the MCP
## loopback comparison (full stack vs /graphql vs a bare mcp-go server)
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
	TANDEM_BENCH=1 $(GO) test -count=1 -v -run '^TestLoopbackBenchmark$$' ./mcpadapter | grep -v -e '^=== ' -e '^--- ' -e '^    '


clean:
	rm -rf bin
