package fs

import (
	"io/fs"
	"syscall"
	"time"
)

// changeTime is when st's inode last changed: written, linked or given new times. Temporary files
// get their publish mtime (and hard links keep their source's), so their age is told by this.
func changeTime(st fs.FileInfo) time.Time {
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		return time.Unix(sys.Ctim.Sec, sys.Ctim.Nsec)
	}
	return st.ModTime()
}
