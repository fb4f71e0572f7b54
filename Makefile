# The targets people expect. `make test` is what CI runs (.ci/run) and what the README tells you to run.
GO        ?= go
TOOLS     := $(CURDIR)/.tools/bin
MINIO_VER := v0.0.0-20260212201848-7aac2a2c5b7c
STATICCHECK_VER := 2025.1.1

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

lint:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	@if [ -x $(TOOLS)/staticcheck ]; then $(TOOLS)/staticcheck ./...; else echo "staticcheck not installed (make tools)"; fi

bench:
	./scripts/bench.sh

demo:
	$(GO) run ./cmd/brightspots demo

fuzz:
	./scripts/fuzz.sh

clean:
	rm -rf brightspots brightspots-data
