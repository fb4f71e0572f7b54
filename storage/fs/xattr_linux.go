package fs

import (
	"errors"
	"syscall"
)

const contentTypeAttr = "user.brightspots.content_type"

// setContentType stores ct on path; a filesystem without user xattrs is not an error (see getContentType).
func setContentType(path, ct string) error {
	err := syscall.Setxattr(path, contentTypeAttr, []byte(ct), 0)
	if errors.Is(err, syscall.ENOTSUP) || errors.Is(err, syscall.EOPNOTSUPP) {
		return nil
	}
	return err
}

// getContentType returns the stored content type of path, or "" when there is none.
func getContentType(path string) string {
	buf := make([]byte, 256)
	for {
		n, err := syscall.Getxattr(path, contentTypeAttr, buf)
		if errors.Is(err, syscall.ERANGE) && len(buf) < 1<<16 {
			buf = make([]byte, len(buf)*4)
			continue
		}
		if err != nil {
			return ""
		}
		return string(buf[:n])
	}
}
