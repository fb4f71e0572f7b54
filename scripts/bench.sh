#!/usr/bin/env bash
# The benchmarks whose figures are in BENCHMARKS.md. Run on a quiet machine; each prints its figures.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/tools.sh
go run ./scripts/benchupload -size 1073741824 -runs 3 -digest
go run ./scripts/benchupload -size 1073741824 -runs 3
go test ./practices/ -run '^$' -bench Publish -benchtime 300x
go test ./practices/evidence/ -run '^$' -bench . -cpu 1
go test ./web -run '^$' -bench 'ResultsUpload' -benchtime 20x
go test ./search/bleve -run '^$' -bench 'Index/100000' -benchtime 1x
./scripts/bench-search.sh
go test ./web -run '^$' -bench 'PublishToSearchable' -benchtime 60x
go test ./federation -run '^$' -bench . -benchtime 1x -timeout 30m
go test ./web -run '^$' -bench 'TeacherPages' -benchtime 1x -timeout 30m
