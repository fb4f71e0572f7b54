package harvest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/brightspots-nic/brightspots/storage"
)

// Resumption tokens are stateless and signed: the token itself carries the whole request (format,
// set, from, until), the change-log position to go on from and an expiry, with an HMAC-SHA256 over it.
// The key lives in the object store, so a token issued before a restart, or by another replica,
// still works; nothing is kept per harvest, so an abandoned harvest costs nothing. Tampering fails
// the MAC; an old token fails its expiry. Both answer badResumptionToken.
//
// The position is a change-log sequence number, which never changes meaning: a harvest resumed after
// hours (within the expiry) sees every change made meanwhile further down the log.

const tokenKeyKey = "node/state/oai-token-key.json"

// maxTokenLen bounds what a harvester may send as a token before any decoding.
const maxTokenLen = 1024

// token is the state of a list request, between pages.
type token struct {
	Verb    string `json:"v"`           // ListRecords | ListIdentifiers
	Prefix  string `json:"m"`           // metadataPrefix
	Set     string `json:"s,omitempty"` // setSpec
	From    int64  `json:"f,omitempty"` // unix seconds; 0 = unbounded
	Until   int64  `json:"u,omitempty"` // unix seconds, inclusive; 0 = unbounded
	After   uint64 `json:"a"`           // change-log position: go on with entries after this one
	Cursor  int    `json:"c"`           // records returned before this page (OAI cursor attribute)
	Expires int64  `json:"e"`           // unix seconds
}

var errBadToken = errors.New("bad resumption token")

// tokenKey loads (or creates, once for the whole store) the MAC key.
type tokenKey struct {
	bucket storage.Bucket

	mu  sync.Mutex
	key []byte
}

func (k *tokenKey) get(ctx context.Context) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.key != nil {
		return k.key, nil
	}
	for attempt := 0; attempt < 3; attempt++ {
		rc, _, err := k.bucket.Get(ctx, tokenKeyKey)
		if err == nil {
			var doc struct {
				Key []byte `json:"key"`
			}
			data, rerr := io.ReadAll(io.LimitReader(rc, 4096))
			rc.Close()
			if rerr != nil {
				return nil, fmt.Errorf("read oai token key: %w", rerr)
			}
			if err := json.Unmarshal(data, &doc); err != nil || len(doc.Key) < 32 {
				return nil, fmt.Errorf("oai token key %s is damaged", tokenKeyKey)
			}
			k.key = doc.Key
			return k.key, nil
		}
		if !errors.Is(err, storage.ErrNotFound) {
			return nil, fmt.Errorf("read oai token key: %w", err)
		}
		fresh := make([]byte, 32)
		if _, err := rand.Read(fresh); err != nil {
			return nil, err
		}
		body, _ := json.Marshal(map[string][]byte{"key": fresh})
		// Create-only: of two replicas starting at once, one key wins and both use it.
		_, err = k.bucket.Put(ctx, tokenKeyKey, bytes.NewReader(body), int64(len(body)),
			storage.PutOptions{IfNoneMatch: true, ContentType: "application/json"})
		if err != nil && !errors.Is(err, storage.ErrConflict) {
			return nil, fmt.Errorf("store oai token key: %w", err)
		}
	}
	return nil, errors.New("oai token key: could not create or read it")
}

func sign(key, payload []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("brightspots-oai-token-v1\x00"))
	m.Write(payload)
	return m.Sum(nil)
}

// encodeToken returns "payload.mac", both base64url without padding.
func encodeToken(key []byte, t token) string {
	payload, _ := json.Marshal(t)
	return base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(sign(key, payload))
}

// decodeToken verifies s and returns its state. Any defect, expiry included, is errBadToken.
func decodeToken(key []byte, s string, now time.Time) (token, error) {
	if len(s) == 0 || len(s) > maxTokenLen {
		return token{}, errBadToken
	}
	p, m, ok := strings.Cut(s, ".")
	if !ok {
		return token{}, errBadToken
	}
	payload, err := base64.RawURLEncoding.Strict().DecodeString(p)
	if err != nil {
		return token{}, errBadToken
	}
	mac, err := base64.RawURLEncoding.Strict().DecodeString(m)
	if err != nil || !hmac.Equal(mac, sign(key, payload)) {
		return token{}, errBadToken
	}
	var t token
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return token{}, errBadToken
	}
	if t.Verb != "ListRecords" && t.Verb != "ListIdentifiers" {
		return token{}, errBadToken
	}
	if now.Unix() > t.Expires {
		return token{}, errBadToken
	}
	return t, nil
}
