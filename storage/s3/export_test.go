package s3

// SetMaxSingleCopy lowers the size above which Copy copies in parts, so tests can exercise the
// multipart copy without 5 GiB objects.
func SetMaxSingleCopy(b *Bucket, n int64) { b.maxCopy = n }

// Classify is classify, for tests of how store answers map to storage's sentinels.
var Classify = classify
