#!/usr/bin/env bash
# Installs what the tests need into the git-ignored .tools/bin, once. Everything comes from the Go
# module proxy or Debian's packages, pinned where a version can be pinned.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS="$PWD/.tools/bin"
mkdir -p "$TOOLS"

# MinIO server for the S3 backend's tests (pinned; built from source with go install).
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
if [ ! -x "$TOOLS/minio" ] || [ "$(cat "$TOOLS/.minio-version" 2>/dev/null)" != "$MINIO_VERSION" ]; then
  echo "tools: installing minio $MINIO_VERSION (first run only; takes a few minutes)" >&2
  GOBIN="$TOOLS" GOFLAGS=-mod=mod go install "github.com/minio/minio@$MINIO_VERSION"
  echo "$MINIO_VERSION" > "$TOOLS/.minio-version"
fi
