#!/usr/bin/env bash
# Runs every fuzz target for a short while (FUZZTIME, default 30s each). New crashers land in the
# package's testdata/fuzz and then run as ordinary tests.
set -euo pipefail
cd "$(dirname "$0")/.."
t=${FUZZTIME:-30s}
for pkg in $(go list ./...); do
  for target in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
    echo "== $pkg $target" >&2
    go test "$pkg" -run '^$' -fuzz "^${target}\$" -fuzztime "$t"
  done
done
