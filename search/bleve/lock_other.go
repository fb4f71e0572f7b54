//go:build !unix

package bleve

import (
	"errors"
	"os"
)

// ErrInUse: another process (a running node) has the index open.
var ErrInUse = errors.New("in use by a running node")

// lockDir is a no-op where flock(2) is not at hand; the index's own lock still keeps writers apart.
func lockDir(string) (*os.File, error) { return nil, nil }
