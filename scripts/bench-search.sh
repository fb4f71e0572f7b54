#!/usr/bin/env bash
# The search figures of BENCHMARKS.md (relevance and speed, issue 17), one run each, in one go. Run on
# a quiet machine (nothing else using the cores): the 16-client figures measure the cores' queue.
# Sizes are anchored: "10000" alone would also match "100000".
set -euo pipefail
cd "$(dirname "$0")/.."
show() { grep -v '^gc ' | grep -E 'Benchmark|practices|cache |direct:|api:|floor:|heap |nDCG|kind  ' || true; }
echo "== $(date -u '+%F %T') UTC, $(go version), $(nproc) cores, commit $(git rev-parse --short HEAD), load $(cut -d' ' -f1-3 /proc/loadavg)"
go test ./search/relevance -run '^$' -bench Relevance -benchtime 1x -v | show
go test ./search/bleve -run '^$' -bench 'Query/^100000$' -benchtime 1x -timeout 30m -v | show
go test ./search/bleve -run '^$' -bench 'Cold/^100000$' -benchtime 1x -timeout 30m -v | show
go test ./search/bleve -run '^$' -bench 'AfterWrite/^100000$' -benchtime 1x -timeout 30m -v | show
go test ./search/bleve -run '^$' -bench 'HeapGrowth/^100000$' -benchtime 1x -timeout 60m -v | show
go test ./web -run '^$' -bench 'SearchAPI/^10000$/1clients$' -benchtime 1x -timeout 30m -v | show
go test ./web -run '^$' -bench 'SearchAPI/^100000$' -benchtime 1x -timeout 30m -v | show
echo "== done $(date -u '+%F %T') UTC, load $(cut -d' ' -f1-3 /proc/loadavg)"
