#!/usr/bin/env bash
# The one test command: installs what the tests need on first use, runs the linters (go vet, gofmt,
# staticcheck, govulncheck when its database is reachable: scripts/lint.sh), and runs every test with
# the race detector. Under CI=true a test that cannot find a service it needs fails instead of
# skipping, and any skip at all fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/lint.sh

echo "== go test -race ./..." >&2
out=$(mktemp)
trap 'rm -f "$out"' EXIT
set +e
go test -race -count=1 -timeout 30m -json ./... > "$out"
status=$?
set -e
# A readable summary: failures with their output, then per-package results.
go run ./scripts/testsummary < "$out"
summary_status=$?
if [ $status -ne 0 ] || [ $summary_status -ne 0 ]; then
  exit 1
fi
