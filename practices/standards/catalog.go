package standards

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/brightspots-nic/brightspots/storage"
)

const prefix = "standards/frameworks/"

// Catalog is the node's imported frameworks, read from the store and re-read when an import (by the
// command, possibly in another process) changes them.
type Catalog struct {
	bucket storage.Bucket

	mu     sync.Mutex
	etags  map[string]string
	items  []Item
	byCode map[string]int // upper-cased code → index in items
	byURI  map[string]int
}

// NewCatalog returns the catalog kept in bucket.
func NewCatalog(b storage.Bucket) *Catalog { return &Catalog{bucket: b} }

func frameworkKey(identifier string) string {
	sum := sha256.Sum256([]byte(identifier))
	return prefix + hex.EncodeToString(sum[:12]) + ".json"
}

// Import stores fw, replacing an earlier import of the same framework, in one put.
func (c *Catalog) Import(ctx context.Context, fw *Framework) error {
	body, err := json.Marshal(fw)
	if err != nil {
		return err
	}
	if _, err := c.bucket.Put(ctx, frameworkKey(fw.Identifier), bytes.NewReader(body), int64(len(body)), storage.PutOptions{ContentType: "application/json"}); err != nil {
		return fmt.Errorf("store framework %q: %w", fw.Title, err)
	}
	return nil
}

// refresh re-reads the frameworks when the listing changed (an import by the command, in any
// process). The listing is one small request; the practice form is not a hot path.
func (c *Catalog) refresh(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	objs, err := c.bucket.List(ctx, storage.ListOptions{Prefix: prefix})
	if err != nil {
		return fmt.Errorf("list standards frameworks: %w", err)
	}
	etags := map[string]string{}
	same := len(objs) == len(c.etags)
	for _, o := range objs {
		etags[o.Key] = o.ETag + o.ModTime.String()
		if c.etags[o.Key] != etags[o.Key] {
			same = false
		}
	}
	if same && c.byCode != nil {
		return nil
	}
	var items []Item
	for _, o := range objs {
		rc, _, err := c.bucket.Get(ctx, o.Key)
		if err != nil {
			return fmt.Errorf("read %s: %w", o.Key, err)
		}
		data, err := io.ReadAll(io.LimitReader(rc, 2*MaxPackageBytes))
		rc.Close()
		if err != nil {
			return fmt.Errorf("read %s: %w", o.Key, err)
		}
		var fw Framework
		if err := json.Unmarshal(data, &fw); err != nil {
			return fmt.Errorf("decode %s: %w", o.Key, err)
		}
		for _, it := range fw.Items {
			it.Framework = fw.Title
			items = append(items, it)
		}
	}
	slices.SortStableFunc(items, func(a, b Item) int { return strings.Compare(a.Code, b.Code) })
	c.items, c.etags = items, etags
	c.byCode, c.byURI = map[string]int{}, map[string]int{}
	for i, it := range items {
		if it.Code != "" {
			if _, dup := c.byCode[strings.ToUpper(it.Code)]; !dup {
				c.byCode[strings.ToUpper(it.Code)] = i
			}
		}
		c.byURI[it.URI] = i
	}
	return nil
}

// Items lists every imported item that has a code, by code.
func (c *Catalog) Items(ctx context.Context) ([]Item, error) {
	if err := c.refresh(ctx); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Item, 0, len(c.items))
	for _, it := range c.items {
		if it.Code != "" {
			out = append(out, it)
		}
	}
	return out, nil
}

// Lookup finds an item by its code (any case) or its CFItem URI.
func (c *Catalog) Lookup(ctx context.Context, codeOrURI string) (Item, bool, error) {
	if err := c.refresh(ctx); err != nil {
		return Item{}, false, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s := strings.TrimSpace(codeOrURI)
	if i, ok := c.byURI[s]; ok {
		return c.items[i], true, nil
	}
	if i, ok := c.byCode[strings.ToUpper(s)]; ok {
		return c.items[i], true, nil
	}
	return Item{}, false, nil
}
