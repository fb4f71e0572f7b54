package fs

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/brightspots-nic/brightspots/storage"
)

// maxName is the longest file name most filesystems accept (NAME_MAX).
const maxName = 255

// escape writes a key segment as a file name: "%" as "%25" and a leading "." as "%2E".
func escape(seg string) string {
	if !strings.Contains(seg, "%") && !strings.HasPrefix(seg, ".") {
		return seg
	}
	s := strings.ReplaceAll(seg, "%", "%25")
	if strings.HasPrefix(s, ".") {
		s = "%2E" + s[1:]
	}
	return s
}

// unescape reverses escape; ok is false for a name escape could not have produced.
func unescape(name string) (seg string, ok bool) {
	if name == "" || strings.HasPrefix(name, ".") {
		return "", false
	}
	if !strings.Contains(name, "%") {
		return name, true
	}
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		if name[i] != '%' {
			b.WriteByte(name[i])
			continue
		}
		switch {
		case strings.HasPrefix(name[i:], "%25"):
			b.WriteByte('%')
		case i == 0 && strings.HasPrefix(name, "%2E"):
			b.WriteByte('.')
		default:
			return "", false
		}
		i += 2
	}
	return b.String(), true
}

// relPath maps a key to its slash-separated path relative to the bucket's directory.
func relPath(key string) (string, error) {
	if err := storage.CheckKey(key); err != nil {
		return "", err
	}
	segs := strings.Split(key, "/")
	for i, seg := range segs {
		name := escape(seg)
		if i < len(segs)-1 {
			name += "%"
		}
		if len(name) > maxName {
			return "", fmt.Errorf("%w: segment %q is longer than %d bytes on disk", storage.ErrInvalidKey, seg, maxName)
		}
		segs[i] = name
	}
	return strings.Join(segs, "/"), nil
}

// path maps a key to its file under the bucket's directory.
func (b *Bucket) path(key string) (string, error) {
	rel, err := relPath(key)
	if err != nil {
		return "", err
	}
	return filepath.Join(b.dir, filepath.FromSlash(rel)), nil
}

// entry is one name in a directory with the part of a key it stands for: a file's key segment, or a
// directory's segment followed by "/". Sorting entries by seg gives key order.
type entry struct {
	name  string
	seg   string
	isDir bool
}

// parseName turns a directory entry's name into an entry; ok is false for names that are not part of
// the key space (.tmp, stray files).
func parseName(name string) (entry, bool) {
	isDir := strings.HasSuffix(name, "%")
	base := strings.TrimSuffix(name, "%")
	seg, ok := unescape(base)
	if !ok || escape(seg) != base || storage.CheckKey(seg) != nil {
		return entry{}, false
	}
	if isDir {
		seg += "/"
	}
	return entry{name: name, seg: seg, isDir: isDir}, true
}
