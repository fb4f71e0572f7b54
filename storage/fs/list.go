package fs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/brightspots-nic/brightspots/storage"
)

// List returns the keys selected by opts in lexicographic order. It walks the tree depth-first in key
// order, reading only directories whose keys can match and stopping once it has Limit keys, so a page
// of a long change log costs one directory read and Limit stats, not a sort of the whole tree.
func (b *Bucket) List(ctx context.Context, opts storage.ListOptions) ([]storage.ObjectInfo, error) {
	w := walker{ctx: ctx, opts: opts}
	if opts.Limit > 0 {
		w.out = make([]storage.ObjectInfo, 0, min(opts.Limit, 1024))
	}
	if _, err := w.walk(b.dir, ""); err != nil {
		return nil, fmt.Errorf("list prefix %q after %q: %w", opts.Prefix, opts.StartAfter, err)
	}
	return w.out, nil
}

type walker struct {
	ctx  context.Context
	opts storage.ListOptions
	out  []storage.ObjectInfo
}

// walk lists the directory dir, whose keys all start with base. done reports that no later key can
// be selected (the limit is reached, or the walk has passed the prefix).
func (w *walker) walk(dir, base string) (done bool, err error) {
	if err := w.ctx.Err(); err != nil {
		return true, err
	}
	entries, err := readEntries(dir)
	if err != nil {
		return false, err
	}
	prefix, after := w.opts.Prefix, w.opts.StartAfter

	// Keep the entries that can hold a selected key: not wholly at or before StartAfter (a file whose
	// key is <= after, or a directory all of whose keys sort below after because after is above the
	// directory's key and not inside it), and inside the prefix.
	rest, cmpAfter := "", after != "" && strings.HasPrefix(after, base)
	if cmpAfter {
		rest = after[len(base):]
	} else if after > base {
		return false, nil // after is beyond every key under base
	}
	cands := entries[:0]
	for _, e := range entries {
		if cmpAfter {
			if e.isDir && e.seg < rest && !strings.HasPrefix(rest, e.seg) || !e.isDir && e.seg <= rest {
				continue
			}
		}
		key := base + e.seg
		if !strings.HasPrefix(key, prefix) && !(e.isDir && strings.HasPrefix(prefix, key)) {
			continue
		}
		cands = append(cands, e)
	}

	// Visit candidates in key order, sorting only as many as the page can still take: a page of 1,000
	// from a folder of 100,000 selects the smallest 1,000 rather than sorting all of them.
	for len(cands) > 0 {
		batch := cands
		if need := w.opts.Limit - len(w.out); w.opts.Limit > 0 && need < len(cands) {
			selectSmallest(cands, need)
			batch = cands[:need]
		}
		slices.SortFunc(batch, compareEntries)
		cands = cands[len(batch):]
		for _, e := range batch {
			key := base + e.seg
			path := filepath.Join(dir, e.name)
			if e.isDir {
				if done, err := w.walk(path, key); done || err != nil {
					return done, err
				}
				continue
			}
			st, err := os.Lstat(path)
			if errors.Is(err, fs.ErrNotExist) {
				continue // deleted since the directory was read
			}
			if err != nil {
				return false, err
			}
			w.out = append(w.out, info(key, path, st, false))
			if w.opts.Limit > 0 && len(w.out) >= w.opts.Limit {
				return true, nil
			}
		}
	}
	return false, nil
}

func compareEntries(a, b entry) int { return strings.Compare(a.seg, b.seg) }

// selectSmallest reorders es so that its k smallest entries come first, in no particular order
// (quickselect, expected linear time).
func selectSmallest(es []entry, k int) {
	lo, hi := 0, len(es)-1
	for lo < hi {
		// Median of three as the pivot, then Lomuto partition of es[lo:hi+1].
		mid := lo + (hi-lo)/2
		if compareEntries(es[mid], es[lo]) < 0 {
			es[mid], es[lo] = es[lo], es[mid]
		}
		if compareEntries(es[hi], es[lo]) < 0 {
			es[hi], es[lo] = es[lo], es[hi]
		}
		if compareEntries(es[mid], es[hi]) < 0 {
			es[mid], es[hi] = es[hi], es[mid]
		}
		pivot := es[hi]
		p := lo
		for i := lo; i < hi; i++ {
			if compareEntries(es[i], pivot) < 0 {
				es[i], es[p] = es[p], es[i]
				p++
			}
		}
		es[p], es[hi] = es[hi], es[p]
		// es[lo:p] < pivot = es[p] <= es[p+1:hi+1]
		switch {
		case p == k || p == k-1:
			return
		case p < k:
			lo = p + 1
		default:
			hi = p - 1
		}
	}
}

// readEntries reads the key-space entries of dir, unsorted. Whether an entry is a directory
// is read from its name, so this needs no stat per entry. A directory removed meanwhile is empty.
func readEntries(dir string) ([]entry, error) {
	d, err := os.Open(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, err
	}
	entries := make([]entry, 0, len(names))
	for _, name := range names {
		if e, ok := parseName(name); ok {
			entries = append(entries, e)
		}
	}
	return entries, nil
}
