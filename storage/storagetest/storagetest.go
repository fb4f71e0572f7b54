// Package storagetest is the contract every storage.Bucket backend must meet, as one test suite.
//
// A backend's tests call Run with a function that returns a new, empty bucket; every subtest gets its
// own bucket and runs in parallel, so the suite also checks that a backend is safe for concurrent use.
// The suite states the guarantees in storage's package doc as tests: streaming, atomic puts, create-only
// and compare-and-swap puts that exactly one racer wins, size limits that store nothing, and ordered,
// paged listing.
package storagetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/brightspots-nic/brightspots/storage"
)

// LargeSize is the size of the object the streaming test puts. It is bigger than any part size a
// backend buffers, so a backend that held whole objects in memory or mishandled multipart would show it.
const LargeSize = 64 << 20

// Run runs the contract suite. newBucket returns a new, empty bucket for one subtest; it may call
// t.Cleanup to remove it.
func Run(t *testing.T, newBucket func(t *testing.T) storage.Bucket) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b storage.Bucket)
	}{
		{"PutGetStat", testPutGetStat},
		{"Overwrite", testOverwrite},
		{"EmptyAndUnknownSize", testEmptyAndUnknownSize},
		{"ShortBody", testShortBody},
		{"CanceledContext", testCanceledContext},
		{"LargeStream", testLargeStream},
		{"CreateOnly", testCreateOnly},
		{"CreateOnlyRace", testCreateOnlyRace},
		{"CompareAndSwap", testCompareAndSwap},
		{"CompareAndSwapRace", testCompareAndSwapRace},
		{"NotFound", testNotFound},
		{"MaxSize", testMaxSize},
		{"Atomicity", testAtomicity},
		{"ListOrder", testListOrder},
		{"ListPagination", testListPagination},
		{"GetRange", testGetRange},
		{"Copy", testCopy},
		{"Delete", testDelete},
		{"KeyValidation", testKeyValidation},
		{"KeyShapes", testKeyShapes},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newBucket(t))
		})
	}
}

// put stores body under key or fails the test.
func put(t *testing.T, b storage.Bucket, key, body string, opts storage.PutOptions) storage.ObjectInfo {
	t.Helper()
	oi, err := b.Put(t.Context(), key, strings.NewReader(body), int64(len(body)), opts)
	if err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
	if oi.Key != key || oi.Size != int64(len(body)) || oi.ETag == "" {
		t.Fatalf("Put(%q) = %+v, want key, size %d and an ETag", key, oi, len(body))
	}
	return oi
}

// putAll puts keys (each holding its own name) with 8 writers at once.
func putAll(t *testing.T, b storage.Bucket, keys []string, opts storage.PutOptions) {
	t.Helper()
	work := make(chan string)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for k := range work {
				if _, err := b.Put(t.Context(), k, strings.NewReader(k), int64(len(k)), opts); err != nil {
					t.Errorf("Put(%q): %v", k, err)
				}
			}
		})
	}
	for _, k := range keys {
		work <- k
	}
	close(work)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
}

// get reads key whole or fails the test.
func get(t *testing.T, b storage.Bucket, key string) (string, storage.ObjectInfo) {
	t.Helper()
	rc, oi, err := b.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("Get(%q): read: %v", key, err)
	}
	if int64(len(data)) != oi.Size {
		t.Fatalf("Get(%q): read %d bytes, ObjectInfo.Size %d", key, len(data), oi.Size)
	}
	return string(data), oi
}

func wantBody(t *testing.T, b storage.Bucket, key, want string) {
	t.Helper()
	if got, _ := get(t, b, key); got != want {
		t.Fatalf("Get(%q) = %.40q, want %.40q", key, got, want)
	}
}

func wantMissing(t *testing.T, b storage.Bucket, key string) {
	t.Helper()
	if oi, err := b.Stat(t.Context(), key); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Stat(%q) = %+v, %v; want ErrNotFound", key, oi, err)
	}
	list, err := b.List(t.Context(), storage.ListOptions{Prefix: key})
	if err != nil {
		t.Fatalf("List(%q): %v", key, err)
	}
	for _, oi := range list {
		if oi.Key == key {
			t.Fatalf("List(%q) shows %q, which should not exist", key, key)
		}
	}
}

func keys(list []storage.ObjectInfo) []string {
	ks := make([]string, len(list))
	for i, oi := range list {
		ks[i] = oi.Key
	}
	return ks
}

// random is a deterministic stream of n pseudo-random bytes, generated as it is read.
func random(seed uint64, n int64) io.Reader {
	var s [32]byte
	s[0] = byte(seed)
	s[1] = byte(seed >> 8)
	return io.LimitReader(rand.NewChaCha8(s), n)
}

func hashOf(t *testing.T, r io.Reader) ([32]byte, int64) {
	t.Helper()
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return [32]byte(h.Sum(nil)), n
}

func testPutGetStat(t *testing.T, b storage.Bucket) {
	const key, body = "records/practice/p1/v00000001.json", `{"title":"Number talks"}`
	oi := put(t, b, key, body, storage.PutOptions{ContentType: "application/json"})

	got, goi := get(t, b, key)
	if got != body {
		t.Errorf("Get = %q, want %q", got, body)
	}
	st, err := b.Stat(t.Context(), key)
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	for name, o := range map[string]storage.ObjectInfo{"Get": goi, "Stat": st} {
		if o.Key != key || o.Size != int64(len(body)) || o.ETag != oi.ETag {
			t.Errorf("%s = %+v, want key %q, size %d, ETag %q", name, o, key, len(body), oi.ETag)
		}
		if o.ContentType != "application/json" {
			t.Errorf("%s content type = %q, want application/json", name, o.ContentType)
		}
		if o.ModTime.IsZero() {
			t.Errorf("%s has no ModTime", name)
		}
	}

	// Without a content type the object still has one.
	put(t, b, "blob", "x", storage.PutOptions{})
	if st, err := b.Stat(t.Context(), "blob"); err != nil || st.ContentType == "" {
		t.Errorf("Stat(blob) = %+v, %v; want a default content type", st, err)
	}
}

func testOverwrite(t *testing.T, b storage.Bucket) {
	first := put(t, b, "head.json", "one", storage.PutOptions{})
	second := put(t, b, "head.json", "two!", storage.PutOptions{})
	if first.ETag == second.ETag {
		t.Errorf("ETag %q did not change when the object was replaced", first.ETag)
	}
	wantBody(t, b, "head.json", "two!")
	third := put(t, b, "head.json", "three", storage.PutOptions{})
	if third.ETag == first.ETag || third.ETag == second.ETag {
		t.Errorf("ETags %q, %q, %q repeat", first.ETag, second.ETag, third.ETag)
	}
}

func testEmptyAndUnknownSize(t *testing.T, b storage.Bucket) {
	put(t, b, "empty", "", storage.PutOptions{})
	wantBody(t, b, "empty", "")

	for _, n := range []int64{0, 1, 100 << 10} {
		key := fmt.Sprintf("unknown/%d", n)
		oi, err := b.Put(t.Context(), key, random(uint64(n), n), -1, storage.PutOptions{})
		if err != nil {
			t.Fatalf("Put(%q, size -1): %v", key, err)
		}
		if oi.Size != n {
			t.Errorf("Put(%q, size -1).Size = %d, want %d", key, oi.Size, n)
		}
		rc, _, err := b.Get(t.Context(), key)
		if err != nil {
			t.Fatal(err)
		}
		got, gotN := hashOf(t, rc)
		rc.Close()
		want, _ := hashOf(t, random(uint64(n), n))
		if got != want || gotN != n {
			t.Errorf("Get(%q) returned %d bytes that differ from what was put", key, gotN)
		}
	}
}

func testShortBody(t *testing.T, b storage.Bucket) {
	_, err := b.Put(t.Context(), "short", strings.NewReader("12345"), 10, storage.PutOptions{})
	if err == nil {
		t.Fatal("Put of 5 bytes declared as 10 succeeded")
	}
	wantMissing(t, b, "short")
}

func testCanceledContext(t *testing.T, b storage.Bucket) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := b.Put(ctx, "canceled", strings.NewReader("x"), 1, storage.PutOptions{}); err == nil {
		t.Fatal("Put with a canceled context succeeded")
	}
	wantMissing(t, b, "canceled")
}

func testLargeStream(t *testing.T, b storage.Bucket) {
	for _, size := range []int64{LargeSize, -1} {
		t.Run(fmt.Sprint("size", size), func(t *testing.T) {
			key := fmt.Sprintf("artifacts/large%d", size)
			oi, err := b.Put(t.Context(), key, random(7, LargeSize), size, storage.PutOptions{ContentType: "application/octet-stream"})
			if err != nil {
				t.Fatalf("Put: %v", err)
			}
			if oi.Size != LargeSize {
				t.Fatalf("Put.Size = %d, want %d", oi.Size, LargeSize)
			}
			rc, goi, err := b.Get(t.Context(), key)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			defer rc.Close()
			got, n := hashOf(t, rc)
			want, _ := hashOf(t, random(7, LargeSize))
			if n != LargeSize || got != want || goi.ETag != oi.ETag {
				t.Fatalf("Get returned %d bytes (ETag %q), want the %d put (ETag %q)", n, goi.ETag, int64(LargeSize), oi.ETag)
			}
		})
	}
}

func testCreateOnly(t *testing.T, b storage.Bucket) {
	const key = "log/00000000000000000001.json"
	put(t, b, key, "first", storage.PutOptions{IfNoneMatch: true})
	_, err := b.Put(t.Context(), key, strings.NewReader("second"), 6, storage.PutOptions{IfNoneMatch: true})
	if !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("second create-only Put: %v, want ErrConflict", err)
	}
	// A body of unknown size takes the streaming path on some backends; it must lose the same way.
	_, err = b.Put(t.Context(), key, strings.NewReader("third"), -1, storage.PutOptions{IfNoneMatch: true})
	if !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("create-only Put of unknown size: %v, want ErrConflict", err)
	}
	wantBody(t, b, key, "first")
}

// race runs n goroutines at once and returns their errors.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range n {
		done.Go(func() {
			start.Wait()
			errs[i] = fn(i)
		})
	}
	start.Done()
	done.Wait()
	return errs
}

// oneWinner checks that exactly one racer succeeded and every other got ErrConflict, and returns
// the winner.
func oneWinner(t *testing.T, errs []error) int {
	t.Helper()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("racers %d and %d both won", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, storage.ErrConflict):
			t.Fatalf("racer %d: %v, want ErrConflict", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no racer won")
	}
	return winner
}

func testCreateOnlyRace(t *testing.T, b storage.Bucket) {
	const key = "records/practice/p1/v00000002.json"
	errs := race(16, func(i int) error {
		body := fmt.Sprintf("writer %02d", i)
		_, err := b.Put(t.Context(), key, strings.NewReader(body), int64(len(body)), storage.PutOptions{IfNoneMatch: true})
		return err
	})
	w := oneWinner(t, errs)
	wantBody(t, b, key, fmt.Sprintf("writer %02d", w))
}

func testCompareAndSwap(t *testing.T, b storage.Bucket) {
	const key = "records/practice/p1/head.json"
	v1 := put(t, b, key, "v1", storage.PutOptions{})
	v2 := put(t, b, key, "v2", storage.PutOptions{IfMatch: v1.ETag})
	if v2.ETag == v1.ETag {
		t.Fatalf("ETag unchanged by compare-and-swap: %q", v2.ETag)
	}
	_, err := b.Put(t.Context(), key, strings.NewReader("v3"), 2, storage.PutOptions{IfMatch: v1.ETag})
	if !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("Put with stale ETag: %v, want ErrConflict", err)
	}
	wantBody(t, b, key, "v2")
	put(t, b, key, "v3", storage.PutOptions{IfMatch: v2.ETag})
	wantBody(t, b, key, "v3")

	_, err = b.Put(t.Context(), "records/practice/p2/head.json", strings.NewReader("x"), 1, storage.PutOptions{IfMatch: v2.ETag})
	if !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("Put with IfMatch on a missing key: %v, want ErrConflict", err)
	}
	wantMissing(t, b, "records/practice/p2/head.json")

	// A deleted and re-created object is a new object: the old ETag does not match it.
	if err := b.Delete(t.Context(), key); err != nil {
		t.Fatal(err)
	}
	_, err = b.Put(t.Context(), key, strings.NewReader("v3"), 2, storage.PutOptions{IfMatch: v2.ETag})
	if !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("Put with IfMatch after Delete: %v, want ErrConflict", err)
	}
}

func testCompareAndSwapRace(t *testing.T, b storage.Bucket) {
	const key = "node/state/cursor"
	v1 := put(t, b, key, "start", storage.PutOptions{})
	errs := race(16, func(i int) error {
		body := fmt.Sprintf("writer %02d", i)
		_, err := b.Put(t.Context(), key, strings.NewReader(body), int64(len(body)), storage.PutOptions{IfMatch: v1.ETag})
		return err
	})
	w := oneWinner(t, errs)
	wantBody(t, b, key, fmt.Sprintf("writer %02d", w))
}

func testNotFound(t *testing.T, b storage.Bucket) {
	ctx := t.Context()
	put(t, b, "a/present", "x", storage.PutOptions{})
	for _, key := range []string{"missing", "a/missing", "a/present/below", "a"} {
		if _, _, err := b.Get(ctx, key); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Get(%q): %v, want ErrNotFound", key, err)
		}
		if _, _, err := b.GetRange(ctx, key, 0, 1); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("GetRange(%q): %v, want ErrNotFound", key, err)
		}
		if _, err := b.Stat(ctx, key); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Stat(%q): %v, want ErrNotFound", key, err)
		}
		if _, err := b.Copy(ctx, key, "copy", storage.PutOptions{}); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Copy(%q): %v, want ErrNotFound", key, err)
		}
	}
}

func testMaxSize(t *testing.T, b storage.Bucket) {
	ctx := t.Context()
	const limit = 7 << 20 // above S3's 5 MiB minimum part size, so a streamed body is multipart
	cases := []struct {
		name string
		n    int64 // body length
		size int64 // declared
	}{
		{"declared", limit + 1, limit + 1},
		{"unknown", limit + 1, -1},
		{"unknownMultipart", 3 * limit, -1},
	}
	for _, tc := range cases {
		key := "artifacts/" + tc.name
		_, err := b.Put(ctx, key, random(1, tc.n), tc.size, storage.PutOptions{MaxSize: limit})
		if !errors.Is(err, storage.ErrTooLarge) {
			t.Errorf("%s: Put of %d bytes with MaxSize %d: %v, want ErrTooLarge", tc.name, tc.n, limit, err)
		}
		wantMissing(t, b, key)
	}

	// At the limit is allowed, declared or not.
	for _, size := range []int64{limit, -1} {
		key := fmt.Sprintf("artifacts/exact%d", size)
		if _, err := b.Put(ctx, key, random(1, limit), size, storage.PutOptions{MaxSize: limit}); err != nil {
			t.Errorf("Put of exactly MaxSize bytes (declared %d): %v", size, err)
		}
	}

	// A put that fails the limit leaves the object it would have replaced alone.
	put(t, b, "artifacts/kept", "old", storage.PutOptions{})
	_, err := b.Put(ctx, "artifacts/kept", random(1, limit+1), -1, storage.PutOptions{MaxSize: limit})
	if !errors.Is(err, storage.ErrTooLarge) {
		t.Fatalf("Put over MaxSize: %v, want ErrTooLarge", err)
	}
	wantBody(t, b, "artifacts/kept", "old")
}

// pausingReader serves n bytes of b, then blocks until release is closed.
type pausingReader struct {
	r       io.Reader
	left    int64 // bytes to serve before pausing
	paused  chan struct{}
	release chan struct{}
}

func (p *pausingReader) Read(buf []byte) (int, error) {
	if p.left == 0 {
		if p.paused != nil {
			close(p.paused)
			p.paused = nil
			<-p.release
		}
		return p.r.Read(buf)
	}
	if int64(len(buf)) > p.left {
		buf = buf[:p.left]
	}
	n, err := p.r.Read(buf)
	p.left -= int64(n)
	return n, err
}

func testAtomicity(t *testing.T, b storage.Bucket) {
	// Puts stop halfway through their body while the test looks at the key: it must show the old
	// object whole (or nothing, for a new key), never part of the new one.
	const size = 12 << 20
	old := bytes.Repeat([]byte("o"), 1000)
	for _, tc := range []struct {
		name     string
		existing bool
		size     int64
	}{
		{"new", false, size},
		{"replace", true, size},
		{"replaceUnknownSize", true, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := "atomic/" + tc.name
			if tc.existing {
				put(t, b, key, string(old), storage.PutOptions{})
			}
			pr := &pausingReader{
				r: bytes.NewReader(bytes.Repeat([]byte("n"), size)), left: size / 2,
				paused: make(chan struct{}), release: make(chan struct{}),
			}
			paused := pr.paused
			var once sync.Once
			release := func() { once.Do(func() { close(pr.release) }) }
			t.Cleanup(release) // never leave the put blocked, even when the test fails early
			done := make(chan error, 1)
			go func() {
				_, err := b.Put(context.Background(), key, pr, tc.size, storage.PutOptions{})
				done <- err
			}()
			select {
			case <-paused:
			case err := <-done:
				t.Fatalf("Put finished without reading its whole body: %v", err)
			}

			if tc.existing {
				wantBody(t, b, key, string(old))
				if st, err := b.Stat(t.Context(), key); err != nil || st.Size != int64(len(old)) {
					t.Errorf("Stat during put = %+v, %v; want the old object", st, err)
				}
			} else {
				wantMissing(t, b, key)
			}
			release()
			if err := <-done; err != nil {
				t.Fatalf("Put: %v", err)
			}
			got, _ := get(t, b, key)
			if got != strings.Repeat("n", size) {
				t.Fatalf("after the put, Get returned %d bytes that are not the new object", len(got))
			}
		})
	}
}

// listKeys is a key set with the shapes that trip up listing: keys that are string prefixes of others,
// and neighbours of "/" in byte order ("-" and "." sort before it, "0" and letters after). No key is
// also the folder of another ("a" and "a/b"): see storage.CheckKey.
var listKeys = []string{
	"a", "a-b", "a.b", "a0", "ab-", "ab0", "ab/b-c", "ab/b.x", "ab/b/c", "ab/b/d", "ab/b0", "ab/c", "ab/cd",
	"b/a", "log/0001", "log/0002", "log/0010", "loga", "z/z/z/z", "é", "%", ".dot/x",
}

func testListOrder(t *testing.T, b storage.Bucket) {
	ctx := t.Context()
	putAll(t, b, listKeys, storage.PutOptions{})
	sorted := slices.Sorted(slices.Values(listKeys))

	all, err := b.List(ctx, storage.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(all); !slices.Equal(got, sorted) {
		t.Fatalf("List() = %q\nwant       %q", got, sorted)
	}
	for _, oi := range all {
		st, err := b.Stat(ctx, oi.Key)
		if err != nil {
			t.Fatal(err)
		}
		if oi.Size != int64(len(oi.Key)) || oi.ETag != st.ETag || oi.ModTime.IsZero() {
			t.Errorf("List entry %+v: want size %d, ETag %q (as Stat) and a ModTime", oi, len(oi.Key), st.ETag)
		}
	}

	prefixes := []string{"", "a", "ab", "ab/", "ab/b", "ab/b/", "log/", "log/001", "lo", "b/", "nothing", "z/z/"}
	afters := append([]string{"", "ab/", "ab/b/", "log/", "log/00", "zz", "0", "ab/bb", "ab/b/cc"}, listKeys...)
	for _, prefix := range prefixes {
		for _, after := range afters {
			var want []string
			for _, k := range sorted {
				if strings.HasPrefix(k, prefix) && k > after {
					want = append(want, k)
				}
			}
			for _, limit := range []int{0, 1, 2, 3} {
				got, err := b.List(ctx, storage.ListOptions{Prefix: prefix, StartAfter: after, Limit: limit})
				if err != nil {
					t.Fatalf("List(prefix %q, after %q, limit %d): %v", prefix, after, limit, err)
				}
				w := want
				if limit > 0 && len(w) > limit {
					w = w[:limit]
				}
				if !slices.Equal(keys(got), w) {
					t.Errorf("List(prefix %q, after %q, limit %d) = %q, want %q", prefix, after, limit, keys(got), w)
				}
			}
		}
	}
}

func testListPagination(t *testing.T, b storage.Bucket) {
	ctx := t.Context()
	const n = 1050 // more than one S3 page of 1,000
	want := make([]string, n)
	for i := range want {
		want[i] = fmt.Sprintf("log/%020d.json", i+1)
	}
	putAll(t, b, append(slices.Clone(want), "lo", "log-", "log.json", "log0", "loh/1", "records/x"), storage.PutOptions{IfNoneMatch: true})

	all, err := b.List(ctx, storage.ListOptions{Prefix: "log/"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(keys(all), want) {
		t.Fatalf("List(log/) returned %d keys, want %d in order", len(all), n)
	}

	for _, pageSize := range []int{1000, 100, 7} {
		var got []string
		after := ""
		for pages := 0; ; pages++ {
			page, err := b.List(ctx, storage.ListOptions{Prefix: "log/", StartAfter: after, Limit: pageSize})
			if err != nil {
				t.Fatal(err)
			}
			if len(page) > pageSize {
				t.Fatalf("page of %d keys with Limit %d", len(page), pageSize)
			}
			if len(page) == 0 {
				break
			}
			got = append(got, keys(page)...)
			after = page[len(page)-1].Key
			if pages > n {
				t.Fatal("pagination does not end")
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("paging by %d returned %d keys, want %d in order", pageSize, len(got), n)
		}
	}

	// A reader that remembers where it stopped sees only what came after.
	tail, err := b.List(ctx, storage.ListOptions{Prefix: "log/", StartAfter: want[n-3]})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(keys(tail), want[n-2:]) {
		t.Fatalf("List after %q = %q, want %q", want[n-3], keys(tail), want[n-2:])
	}
}

func testGetRange(t *testing.T, b storage.Bucket) {
	const body = "0123456789"
	oi := put(t, b, "r", body, storage.PutOptions{})
	for _, tc := range []struct {
		off, n int64
		want   string
	}{
		{0, -1, body}, {0, 10, body}, {2, 3, "234"}, {7, -1, "789"}, {8, 100, "89"}, {9, 1, "9"}, {10, -1, ""}, {3, 0, ""},
	} {
		rc, goi, err := b.GetRange(t.Context(), "r", tc.off, tc.n)
		if err != nil {
			t.Errorf("GetRange(%d, %d): %v", tc.off, tc.n, err)
			continue
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || string(got) != tc.want {
			t.Errorf("GetRange(%d, %d) = %q, %v; want %q", tc.off, tc.n, got, err, tc.want)
		}
		if goi.Size != int64(len(body)) || goi.ETag != oi.ETag {
			t.Errorf("GetRange(%d, %d) info = %+v, want the whole object's size %d and ETag %q", tc.off, tc.n, goi, len(body), oi.ETag)
		}
	}
	for _, off := range []int64{11, -1} {
		if rc, _, err := b.GetRange(t.Context(), "r", off, 1); err == nil {
			rc.Close()
			t.Errorf("GetRange(%d, 1) on %d bytes succeeded", off, len(body))
		}
	}
}

func testCopy(t *testing.T, b storage.Bucket) {
	ctx := t.Context()
	put(t, b, "uploads/tmp1", "artifact bytes", storage.PutOptions{ContentType: "text/csv"})
	oi, err := b.Copy(ctx, "uploads/tmp1", "artifacts/sha256/abc", storage.PutOptions{IfNoneMatch: true})
	if err != nil {
		t.Fatalf("Copy: %v", err)
	}
	if oi.Key != "artifacts/sha256/abc" || oi.Size != 14 || oi.ETag == "" {
		t.Errorf("Copy = %+v", oi)
	}
	wantBody(t, b, "artifacts/sha256/abc", "artifact bytes")
	if st, err := b.Stat(ctx, "artifacts/sha256/abc"); err != nil || st.ContentType != "text/csv" || st.ETag != oi.ETag {
		t.Errorf("Stat of copy = %+v, %v; want content type text/csv and ETag %q", st, err, oi.ETag)
	}

	// Create-only: the same content uploaded twice is stored once.
	put(t, b, "uploads/tmp2", "other bytes", storage.PutOptions{})
	_, err = b.Copy(ctx, "uploads/tmp2", "artifacts/sha256/abc", storage.PutOptions{IfNoneMatch: true})
	if !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("create-only Copy onto an existing key: %v, want ErrConflict", err)
	}
	wantBody(t, b, "artifacts/sha256/abc", "artifact bytes")

	// Unconditional copy replaces; the copy does not follow later changes to its source.
	if _, err := b.Copy(ctx, "uploads/tmp2", "artifacts/sha256/abc", storage.PutOptions{}); err != nil {
		t.Fatalf("Copy: %v", err)
	}
	put(t, b, "uploads/tmp2", "changed", storage.PutOptions{})
	if err := b.Delete(ctx, "uploads/tmp1"); err != nil {
		t.Fatal(err)
	}
	wantBody(t, b, "artifacts/sha256/abc", "other bytes")

	// Copy with a content type, and onto itself.
	if _, err := b.Copy(ctx, "uploads/tmp2", "typed", storage.PutOptions{ContentType: "text/plain"}); err != nil {
		t.Fatalf("Copy with content type: %v", err)
	}
	if st, err := b.Stat(ctx, "typed"); err != nil || st.ContentType != "text/plain" {
		t.Errorf("Stat of typed copy = %+v, %v; want text/plain", st, err)
	}
	wantBody(t, b, "typed", "changed")
	if _, err := b.Copy(ctx, "typed", "typed", storage.PutOptions{IfNoneMatch: true}); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("create-only Copy onto itself: %v, want ErrConflict", err)
	}

	// Over MaxSize stores nothing.
	if _, err := b.Copy(ctx, "typed", "small", storage.PutOptions{MaxSize: 3}); !errors.Is(err, storage.ErrTooLarge) {
		t.Errorf("Copy over MaxSize: %v, want ErrTooLarge", err)
	}
	wantMissing(t, b, "small")
}

func testDelete(t *testing.T, b storage.Bucket) {
	ctx := t.Context()
	put(t, b, "d/x/1", "1", storage.PutOptions{})
	put(t, b, "d/x/2", "2", storage.PutOptions{})
	put(t, b, "d/y", "y", storage.PutOptions{})
	for range 2 { // idempotent
		if err := b.Delete(ctx, "d/x/1"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
	}
	wantMissing(t, b, "d/x/1")
	if err := b.Delete(ctx, "never/existed"); err != nil {
		t.Fatalf("Delete of a missing key: %v", err)
	}
	if err := b.Delete(ctx, "d/x/2"); err != nil {
		t.Fatal(err)
	}
	wantBody(t, b, "d/y", "y")
	list, err := b.List(ctx, storage.ListOptions{Prefix: "d/"})
	if err != nil || !slices.Equal(keys(list), []string{"d/y"}) {
		t.Fatalf("List(d/) after deletes = %q, %v; want [d/y]", keys(list), err)
	}
	// A key can be written again where its folder was emptied.
	put(t, b, "d/x/3", "3", storage.PutOptions{IfNoneMatch: true})
	wantBody(t, b, "d/x/3", "3")
}

func testKeyValidation(t *testing.T, b storage.Bucket) {
	ctx := t.Context()
	bad := []string{
		"", "/abs", "a//b", "a/", "..", "../x", "a/../b", "a/./b", ".", `a\b`, "a\x00b", "a\nb",
		"\xff", strings.Repeat("k", storage.MaxKeyLen+1),
	}
	for _, key := range bad {
		check := func(op string, err error) {
			if !errors.Is(err, storage.ErrInvalidKey) {
				t.Errorf("%s(%q): %v, want ErrInvalidKey", op, key, err)
			}
		}
		_, err := b.Put(ctx, key, strings.NewReader("x"), 1, storage.PutOptions{})
		check("Put", err)
		_, _, err = b.Get(ctx, key)
		check("Get", err)
		_, _, err = b.GetRange(ctx, key, 0, 1)
		check("GetRange", err)
		_, err = b.Stat(ctx, key)
		check("Stat", err)
		check("Delete", b.Delete(ctx, key))
		_, err = b.Copy(ctx, key, "ok", storage.PutOptions{})
		check("Copy from", err)
		_, err = b.Copy(ctx, "ok", key, storage.PutOptions{})
		check("Copy to", err)
	}
	list, err := b.List(ctx, storage.ListOptions{})
	if err != nil || len(list) != 0 {
		t.Errorf("List after invalid puts = %q, %v; want nothing", keys(list), err)
	}
}

func testKeyShapes(t *testing.T, b storage.Bucket) {
	// Keys that are valid but need care on a filesystem: escape characters, leading dots, names that
	// look like the backend's own.
	shapes := []string{
		"a", "%", "%25", "%2E", "x%", "y%/z", ".tmp", ".tmp2/x", ".x/.y", "..x", "x..",
		"a b/c d", "é/ü", "日本/語", "a:b", "a%b/c%d", strings.Repeat("s", 200),
	}
	for _, k := range shapes {
		put(t, b, k, "body of "+k, storage.PutOptions{IfNoneMatch: true})
	}
	for _, k := range shapes {
		wantBody(t, b, k, "body of "+k)
	}
	list, err := b.List(t.Context(), storage.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := slices.Sorted(slices.Values(shapes)); !slices.Equal(keys(list), want) {
		t.Fatalf("List = %q\nwant   %q", keys(list), want)
	}
	for _, k := range shapes {
		if err := b.Delete(t.Context(), k); err != nil {
			t.Fatalf("Delete(%q): %v", k, err)
		}
	}
	if list, err := b.List(t.Context(), storage.ListOptions{}); err != nil || len(list) != 0 {
		t.Fatalf("List after deleting everything = %q, %v", keys(list), err)
	}
}
