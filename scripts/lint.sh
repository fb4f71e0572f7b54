#!/usr/bin/env bash
# The linters, in order: go vet, gofmt, staticcheck (the version the Makefile pins; any finding fails),
# then govulncheck when its vulnerability database can be reached. scripts/test.sh runs this before
# the tests; `make lint` runs it alone.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS="$PWD/.tools/bin"
./scripts/tools.sh

echo "== go vet" >&2
go vet ./...

echo "== gofmt" >&2
unformatted=$(gofmt -l $(git ls-files '*.go') 2>/dev/null || true)
if [ -n "$unformatted" ]; then
  echo "gofmt would change:" >&2; echo "$unformatted" >&2; exit 1
fi

echo "== staticcheck $(cat "$TOOLS/.staticcheck-version")" >&2
"$TOOLS/staticcheck" ./...

# govulncheck needs https://vuln.go.dev. Where it cannot be reached (a machine that only reaches the
# Go module proxy), say so in one line and go on: that is a gap in this run, not a finding.
VULN_DB=https://vuln.go.dev
if command -v curl >/dev/null 2>&1 && curl -fsS --max-time 10 -o /dev/null "$VULN_DB/index/db.json" 2>/dev/null; then
  ./scripts/tools.sh govulncheck
  echo "== govulncheck $(cat "$TOOLS/.govulncheck-version")" >&2
  "$TOOLS/govulncheck" ./...
else
  echo "== govulncheck: NOT RUN: the vulnerability database $VULN_DB cannot be reached from this machine" >&2
fi
