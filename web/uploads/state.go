package uploads

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/storage"
)

// state is an upload's durable record, uploads/{id}/state.json. Offset counts the bytes held:
// Parts cover [0, PartsEnd()) and the tail object covers [PartsEnd(), Offset).
type state struct {
	ID        string                 `json:"id"`
	Owner     practices.Principal    `json:"owner"`
	Practice  string                 `json:"practice"`
	Name      string                 `json:"name"`
	Size      int64                  `json:"size"`
	Declared  string                 `json:"declared_sha256,omitempty"` // the client's digest, hex
	Created   time.Time              `json:"created"`
	Expires   time.Time              `json:"expires"`
	Blob      string                 `json:"blob"`                   // where the bytes complete
	Multipart string                 `json:"multipart_id,omitempty"` // storage.Multipart upload id, once started
	Media     string                 `json:"media_type,omitempty"`   // sniffed from the first bytes
	Offset    int64                  `json:"offset"`
	Parts     []storage.Part         `json:"parts,omitempty"`
	Tail      string                 `json:"tail,omitempty"` // key of the tail object
	Hash      []byte                 `json:"hash_state,omitempty"`
	Sum       string                 `json:"sha256,omitempty"` // set when every byte is held
	Finishing bool                   `json:"finishing,omitempty"`
	Done      bool                   `json:"done,omitempty"`
	Ref       *practices.ArtifactRef `json:"ref,omitempty"`

	etag string // of the stored state, for compare-and-swap
}

// PartsEnd is where the stored parts end and the tail begins.
func (st *state) PartsEnd() int64 {
	if len(st.Parts) == 0 {
		return 0
	}
	last := st.Parts[len(st.Parts)-1]
	return last.Offset + last.Size
}

// TailSize is the number of bytes held in the tail object.
func (st *state) TailSize() int64 { return st.Offset - st.PartsEnd() }

func stateKey(id string) string { return "uploads/" + id + "/state.json" }

func tailKey(id string, end int64) string { return fmt.Sprintf("uploads/%s/tail-%020d", id, end) }

// errStateChanged: another request changed the upload's state meanwhile.
var errStateChanged = errors.New("the upload was changed by another request")

func loadState(ctx context.Context, b storage.Bucket, id string) (*state, error) {
	rc, oi, err := b.Get(ctx, stateKey(id))
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var st state
	if err := json.NewDecoder(io.LimitReader(rc, 1<<20)).Decode(&st); err != nil {
		return nil, fmt.Errorf("upload %s: decode state: %w", id, err)
	}
	st.etag = oi.ETag
	return &st, nil
}

// save replaces the stored state if nobody else has since it was read (create-only when new).
func (st *state) save(ctx context.Context, b storage.Bucket) error {
	body, err := json.Marshal(st)
	if err != nil {
		return err
	}
	opts := storage.PutOptions{ContentType: "application/json", IfMatch: st.etag, IfNoneMatch: st.etag == ""}
	oi, err := b.Put(ctx, stateKey(st.ID), bytes.NewReader(body), int64(len(body)), opts)
	if errors.Is(err, storage.ErrConflict) {
		return fmt.Errorf("upload %s: %w", st.ID, errStateChanged)
	}
	if err != nil {
		return fmt.Errorf("upload %s: save state: %w", st.ID, err)
	}
	st.etag = oi.ETag
	return nil
}

// hasher restores the SHA-256 state saved after Offset bytes.
func (st *state) hasher() (hash.Hash, error) {
	h := sha256.New()
	if len(st.Hash) == 0 {
		return h, nil
	}
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(st.Hash); err != nil {
		return nil, fmt.Errorf("upload %s: restore hash state: %w", st.ID, err)
	}
	return h, nil
}

func hashState(h hash.Hash) []byte {
	b, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		panic(err) // crypto/sha256 always marshals
	}
	return b
}
