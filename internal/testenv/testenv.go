// Package testenv holds the rules tests share about the services they need.
//
// A test that cannot find a real service it needs (MinIO, Chromium, Meilisearch …) skips with a clear
// message on a developer's machine and fails under CI=true, so nothing in CI is skipped silently.
package testenv

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// InCI reports whether the tests run under CI (CI=true or CI=1).
func InCI() bool {
	v := os.Getenv("CI")
	return v == "true" || v == "1"
}

// Missing reports a missing service: a skip locally, a failure in CI.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if InCI() {
		t.Fatalf("required test service missing under CI: "+format, args...)
	}
	t.Skipf("skipping: "+format, args...)
}

// RepoRoot is the module root (the folder holding go.mod), found from this source file.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Tool returns the path of a tool installed into the repo's git-ignored .tools/bin, or on PATH, or "".
func Tool(name string) string {
	p := filepath.Join(RepoRoot(), ".tools", "bin", name)
	if st, err := os.Stat(p); err == nil && !st.IsDir() {
		return p
	}
	if p, err := execLookPath(name); err == nil {
		return p
	}
	return ""
}
