//go:build unix

package bleve

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// ErrInUse: another process (a running node) has the index open.
var ErrInUse = errors.New("in use by a running node")

// lockDir takes an exclusive lock on a file beside dir, so a second process (a command run beside
// the node) is refused clearly instead of waiting forever on the index's own file lock. The lock goes
// when the returned file is closed, or when the process ends.
func lockDir(dir string) (*os.File, error) {
	path := filepath.Clean(dir) + ".lock"
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("search/bleve: the index at %s is %w; stop the node first (or use Meilisearch, which any number of processes share)", dir, ErrInUse)
		}
		return nil, fmt.Errorf("search/bleve: lock %s: %w", path, err)
	}
	return f, nil
}
