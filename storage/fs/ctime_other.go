//go:build !linux

package fs

import (
	"io/fs"
	"time"
)

// changeTime falls back to the modification time where the inode change time is not at hand.
func changeTime(st fs.FileInfo) time.Time { return st.ModTime() }
