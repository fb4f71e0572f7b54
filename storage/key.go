package storage

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ErrInvalidKey: a key breaks the rules of CheckKey. Backends wrap it; test with errors.Is.
var ErrInvalidKey = errors.New("storage: invalid key")

// MaxKeyLen is the longest key, in bytes, that every backend accepts (S3's limit).
const MaxKeyLen = 1024

// CheckKey reports whether key is a portable object key, one that means the same thing on every backend:
// valid UTF-8, 1 to MaxKeyLen bytes, segments separated by "/" that are neither empty (so no leading,
// trailing or doubled slash) nor "." or "..", and no backslash, NUL or other control character. Every
// Bucket method that takes a key checks it first, so a key a backend would read differently (a path
// that escapes a directory, say) never reaches it.
func CheckKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	case len(key) > MaxKeyLen:
		return fmt.Errorf("%w: %d bytes, over the limit of %d", ErrInvalidKey, len(key), MaxKeyLen)
	case !utf8.ValidString(key):
		return fmt.Errorf("%w: %q is not valid UTF-8", ErrInvalidKey, key)
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return fmt.Errorf("%w: %q contains %q", ErrInvalidKey, key, r)
		}
	}
	for seg := range strings.SplitSeq(key, "/") {
		switch seg {
		case "":
			return fmt.Errorf("%w: %q has an empty segment", ErrInvalidKey, key)
		case ".", "..":
			return fmt.Errorf("%w: %q has a %q segment", ErrInvalidKey, key, seg)
		}
	}
	return nil
}
