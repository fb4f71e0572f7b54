//go:build !linux

package fs

// Content types are not persisted off Linux; getContentType's callers fall back to the key's extension.
func setContentType(path, ct string) error { return nil }

func getContentType(path string) string { return "" }
