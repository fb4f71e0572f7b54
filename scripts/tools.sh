#!/usr/bin/env bash
# Installs what the tests need into the git-ignored .tools/bin, once. Everything comes from the Go
# module proxy or Debian's packages, pinned where a version can be pinned.
#
#	scripts/tools.sh               what the tests and linters need
#	scripts/tools.sh govulncheck   also govulncheck (scripts/lint.sh asks when its database is reachable)
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS="$PWD/.tools/bin"
mkdir -p "$TOOLS"

# The linters' versions are pinned in the Makefile (module versions of their Go modules).
pinned() { sed -n "s/^$1 *:= *//p" Makefile; }

if [ "${1:-}" = govulncheck ]; then
  GOVULNCHECK_VERSION=$(pinned GOVULNCHECK_VER)
  if [ ! -x "$TOOLS/govulncheck" ] || [ "$(cat "$TOOLS/.govulncheck-version" 2>/dev/null)" != "$GOVULNCHECK_VERSION" ]; then
    echo "tools: installing govulncheck $GOVULNCHECK_VERSION" >&2
    GOBIN="$TOOLS" GOFLAGS=-mod=mod go install "golang.org/x/vuln/cmd/govulncheck@$GOVULNCHECK_VERSION"
    echo "$GOVULNCHECK_VERSION" > "$TOOLS/.govulncheck-version"
  fi
  exit 0
fi

# staticcheck for scripts/lint.sh (built from source with go install from the Go module proxy).
STATICCHECK_VERSION=$(pinned STATICCHECK_VER)
if [ ! -x "$TOOLS/staticcheck" ] || [ "$(cat "$TOOLS/.staticcheck-version" 2>/dev/null)" != "$STATICCHECK_VERSION" ]; then
  echo "tools: installing staticcheck $STATICCHECK_VERSION (first run only)" >&2
  GOBIN="$TOOLS" GOFLAGS=-mod=mod go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
  echo "$STATICCHECK_VERSION" > "$TOOLS/.staticcheck-version"
fi

# MinIO server for the S3 backend's tests (pinned; built from source with go install).
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
if [ ! -x "$TOOLS/minio" ] || [ "$(cat "$TOOLS/.minio-version" 2>/dev/null)" != "$MINIO_VERSION" ]; then
  echo "tools: installing minio $MINIO_VERSION (first run only; takes a few minutes)" >&2
  GOBIN="$TOOLS" GOFLAGS=-mod=mod go install "github.com/minio/minio@$MINIO_VERSION"
  echo "$MINIO_VERSION" > "$TOOLS/.minio-version"
fi

# Chromium for the browser tests: Debian's package, installed when running as root (CI and the
# developer machines are root); otherwise the browser tests say how to install it.
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "tools: installing chromium (Debian package; first run only)" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
fi

# The OAI-PMH interoperability test harvests a node with a standard harvester the tests did not write
# (Perl HTTP::OAI) and checks every response with xmllint: Debian's packages, installed as root.
if { ! perl -MHTTP::OAI -e 1 >/dev/null 2>&1 || ! command -v xmllint >/dev/null 2>&1; } && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "tools: installing libhttp-oai-perl and libxml2-utils (Debian packages; first run only)" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libhttp-oai-perl libxml2-utils) >/dev/null
fi

# axe-core for the accessibility checks, pinned, from the npm registry.
AXE_VERSION=4.14.1
if [ ! -f "$PWD/.tools/axe/axe.min.js" ] || [ "$(cat "$PWD/.tools/axe/.version" 2>/dev/null)" != "$AXE_VERSION" ]; then
  if command -v npm >/dev/null 2>&1; then
    echo "tools: fetching axe-core $AXE_VERSION" >&2
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack "axe-core@$AXE_VERSION" --silent >/dev/null && tar xzf axe-core-*.tgz)
    mkdir -p "$PWD/.tools/axe"
    cp "$tmp/package/axe.min.js" "$PWD/.tools/axe/axe.min.js"
    echo "$AXE_VERSION" > "$PWD/.tools/axe/.version"
    rm -rf "$tmp"
  fi
fi

# Helm for the chart's lint and template tests (pinned; built from source with go install).
HELM_VERSION=v3.22.0
if [ ! -x "$TOOLS/helm" ] || [ "$(cat "$TOOLS/.helm-version" 2>/dev/null)" != "$HELM_VERSION" ]; then
  echo "tools: installing helm $HELM_VERSION (first run only)" >&2
  GOBIN="$TOOLS" GOFLAGS=-mod=mod go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  echo "$HELM_VERSION" > "$TOOLS/.helm-version"
fi
