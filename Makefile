# The targets people expect. `make test` is what CI runs (.ci/run) and what the README tells you to run.
GO        ?= go
TOOLS     := $(CURDIR)/.tools/bin
MINIO_VER := v0.0.0-20260212201848-7aac2a2c5b7c
# Linters, as module versions (scripts/tools.sh installs them): staticcheck v0.6.1 is release 2025.1.1.
STATICCHECK_VER := v0.6.1
GOVULNCHECK_VER := v1.10.0

.PHONY: build test test-short lint bench demo tools fuzz clean

build:
	$(GO) build -o brightspots ./cmd/brightspots

## test: install what the tests need on first use, then vet and run every test with the race detector.
test:
	./scripts/test.sh

test-short:
	$(GO) test -short ./...

tools:
	./scripts/tools.sh

## lint: go vet, gofmt, staticcheck (fails on any finding), govulncheck when its database is reachable.
lint:
	./scripts/lint.sh

bench:
	./scripts/bench.sh

demo:
	$(GO) run ./cmd/brightspots demo

fuzz:
	./scripts/fuzz.sh

clean:
	rm -rf brightspots brightspots-data
