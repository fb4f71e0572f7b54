package federation

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/brightspots-nic/brightspots/storage"
)

// Signing algorithms a node uses and accepts.
const (
	AlgEdDSA = "EdDSA"
	AlgES256 = "ES256"
)

var nodeAlgs = []jose.SignatureAlgorithm{jose.EdDSA, jose.ES256}

// Key storage (see the package doc):
//
//	node/keys/current.json    {"kid": "..."}: the key that signs; swapped with compare-and-swap
//	node/keys/k-{kid}.json    one key: private JWK, algorithm, created and retired times; create-only
const (
	keysPrefix     = "node/keys/"
	currentKeyKey  = keysPrefix + "current.json"
	keyFilePrefix  = keysPrefix + "k-"
	retiredKeepFor = 48 * time.Hour // ≥ 24 h after last use, with room for a replica still signing with it
	keyReloadEvery = time.Minute    // how soon a rotation done by another process is picked up
)

type storedKey struct {
	KID       string           `json:"kid"`
	Alg       string           `json:"alg"`
	CreatedAt time.Time        `json:"created_at"`
	RetiredAt *time.Time       `json:"retired_at,omitempty"`
	JWK       *jose.JSONWebKey `json:"jwk"` // private
}

type currentPointer struct {
	KID string `json:"kid"`
}

// keyring holds the node's keys, loaded from the bucket.
type keyring struct {
	bucket storage.Bucket
	alg    string
	now    func() time.Time

	mu       sync.RWMutex
	current  *storedKey
	all      []*storedKey
	loadedAt time.Time
	signers  map[string]jose.Signer // by kid + "\x00" + typ
}

func newKeyring(bucket storage.Bucket, alg string, now func() time.Time) *keyring {
	return &keyring{bucket: bucket, alg: alg, now: now, signers: map[string]jose.Signer{}}
}

// generateKey makes a fresh key of alg with its RFC 7638 thumbprint as kid.
func generateKey(alg string, now time.Time) (*storedKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case AlgEdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	case AlgES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return nil, fmt.Errorf("unsupported key algorithm %q", alg)
	}
	if err != nil {
		return nil, fmt.Errorf("generate %s key: %w", alg, err)
	}
	return keyFromSigner(priv, alg, now)
}

func keyFromSigner(priv crypto.Signer, alg string, now time.Time) (*storedKey, error) {
	pub := jose.JSONWebKey{Key: priv.Public()}
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("key thumbprint: %w", err)
	}
	kid := base64.RawURLEncoding.EncodeToString(tp)
	return &storedKey{
		KID: kid, Alg: alg, CreatedAt: now.UTC(),
		JWK: &jose.JSONWebKey{Key: priv, KeyID: kid, Algorithm: alg, Use: "sig"},
	}, nil
}

func (k *keyring) putKey(ctx context.Context, sk *storedKey, opts storage.PutOptions) error {
	body, err := json.Marshal(sk)
	if err != nil {
		return fmt.Errorf("encode key: %w", err)
	}
	opts.ContentType = "application/json"
	if _, err := k.bucket.Put(ctx, keyFilePrefix+sk.KID+".json", bytes.NewReader(body), int64(len(body)), opts); err != nil {
		return fmt.Errorf("store key %s: %w", sk.KID, err)
	}
	return nil
}

func (k *keyring) readCurrent(ctx context.Context) (string, string, error) {
	rc, info, err := k.bucket.Get(ctx, currentKeyKey)
	if err != nil {
		return "", "", err
	}
	defer rc.Close()
	var cp currentPointer
	if err := json.NewDecoder(io.LimitReader(rc, 4096)).Decode(&cp); err != nil {
		return "", "", fmt.Errorf("decode %s: %w", currentKeyKey, err)
	}
	return cp.KID, info.ETag, nil
}

func putPointer(ctx context.Context, b storage.Bucket, kid string, opts storage.PutOptions) error {
	body, _ := json.Marshal(currentPointer{KID: kid})
	opts.ContentType = "application/json"
	if _, err := b.Put(ctx, currentKeyKey, bytes.NewReader(body), int64(len(body)), opts); err != nil {
		return fmt.Errorf("store %s: %w", currentKeyKey, err)
	}
	return nil
}

// ensure loads the keys, generating the first key when the bucket has none. Two processes starting
// at once agree: the pointer is created with a create-only put and the loser loads the winner's key.
func (k *keyring) ensure(ctx context.Context) error {
	_, _, err := k.readCurrent(ctx)
	if errors.Is(err, storage.ErrNotFound) {
		sk, err := generateKey(k.alg, k.now())
		if err != nil {
			return err
		}
		if err := k.putKey(ctx, sk, storage.PutOptions{IfNoneMatch: true}); err != nil {
			return err
		}
		if err := putPointer(ctx, k.bucket, sk.KID, storage.PutOptions{IfNoneMatch: true}); err != nil && !errors.Is(err, storage.ErrConflict) {
			return err
		}
	} else if err != nil {
		return fmt.Errorf("read node key pointer: %w", err)
	}
	return k.load(ctx)
}

// load reads every key and the current pointer.
func (k *keyring) load(ctx context.Context) error {
	kid, _, err := k.readCurrent(ctx)
	if err != nil {
		return fmt.Errorf("read node key pointer: %w", err)
	}
	var all []*storedKey
	var cur *storedKey
	start := ""
	for {
		objs, err := k.bucket.List(ctx, storage.ListOptions{Prefix: keyFilePrefix, StartAfter: start, Limit: 1000})
		if err != nil {
			return fmt.Errorf("list node keys: %w", err)
		}
		for _, o := range objs {
			start = o.Key
			sk, err := k.readKey(ctx, o.Key)
			if err != nil {
				return err
			}
			all = append(all, sk)
			if sk.KID == kid {
				cur = sk
			}
		}
		if len(objs) < 1000 {
			break
		}
	}
	if cur == nil {
		return fmt.Errorf("node key %s named by %s is missing", kid, currentKeyKey)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.current, k.all, k.loadedAt = cur, all, k.now()
	return nil
}

func (k *keyring) readKey(ctx context.Context, key string) (*storedKey, error) {
	rc, _, err := k.bucket.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("read node key %s: %w", key, err)
	}
	defer rc.Close()
	var sk storedKey
	if err := json.NewDecoder(io.LimitReader(rc, 64<<10)).Decode(&sk); err != nil {
		return nil, fmt.Errorf("decode node key %s: %w", key, err)
	}
	if sk.JWK == nil || sk.JWK.IsPublic() || !sk.JWK.Valid() || sk.KID == "" || "k-"+sk.KID+".json" != strings.TrimPrefix(key, keysPrefix) {
		return nil, fmt.Errorf("node key %s is not a valid private key", key)
	}
	return &sk, nil
}

// reloadIfStale picks up a rotation another process (the `keys rotate` command) made.
func (k *keyring) reloadIfStale(ctx context.Context) error {
	k.mu.RLock()
	stale := k.now().Sub(k.loadedAt) >= keyReloadEvery
	k.mu.RUnlock()
	if !stale {
		return nil
	}
	return k.load(ctx)
}

// rotate makes a fresh key current and retires the old one, which stays in the JWKS for retiredKeepFor.
// A kid is never reused: key files are created with create-only puts.
func (k *keyring) rotate(ctx context.Context) (string, error) {
	oldKID, etag, err := k.readCurrent(ctx)
	if err != nil {
		return "", fmt.Errorf("rotate: read current key: %w", err)
	}
	sk, err := generateKey(k.alg, k.now())
	if err != nil {
		return "", err
	}
	if err := k.putKey(ctx, sk, storage.PutOptions{IfNoneMatch: true}); err != nil {
		return "", fmt.Errorf("rotate: %w", err)
	}
	if err := putPointer(ctx, k.bucket, sk.KID, storage.PutOptions{IfMatch: etag}); err != nil {
		return "", fmt.Errorf("rotate: %w", err)
	}
	if old, err := k.readKey(ctx, keyFilePrefix+oldKID+".json"); err == nil && old.RetiredAt == nil {
		t := k.now().UTC()
		old.RetiredAt = &t
		if err := k.putKey(ctx, old, storage.PutOptions{}); err != nil {
			return "", fmt.Errorf("rotate: retire %s: %w", oldKID, err)
		}
	}
	if err := k.load(ctx); err != nil {
		return "", err
	}
	return sk.KID, nil
}

// published returns the keys the JWKS lists: the current key, keys never retired (a key rotated in by
// another replica, or one a crash left un-retired) and keys retired less than retiredKeepFor ago.
func (k *keyring) published() jose.JSONWebKeySet {
	k.mu.RLock()
	defer k.mu.RUnlock()
	now := k.now()
	var set jose.JSONWebKeySet
	for _, sk := range k.all {
		if sk != k.current && sk.RetiredAt != nil && now.Sub(*sk.RetiredAt) > retiredKeepFor {
			continue
		}
		if sk != k.current && sk.RetiredAt == nil && sk.CreatedAt.Before(k.current.CreatedAt) &&
			now.Sub(k.current.CreatedAt) > retiredKeepFor {
			continue // retired by a rotation that crashed before marking it: measured from its successor
		}
		pub := sk.JWK.Public()
		pub.KeyID, pub.Algorithm, pub.Use = sk.KID, sk.Alg, "sig"
		set.Keys = append(set.Keys, pub)
	}
	return set
}

// currentKID is the kid that signs now.
func (k *keyring) currentKID() string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.current.KID
}

// signer returns a signer with the current key for documents of type typ.
func (k *keyring) signer(typ string) (jose.Signer, error) {
	k.mu.RLock()
	cur := k.current
	s, ok := k.signers[cur.KID+"\x00"+typ]
	k.mu.RUnlock()
	if ok {
		return s, nil
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(cur.Alg), Key: *cur.JWK},
		(&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
	if err != nil {
		return nil, fmt.Errorf("signer for key %s: %w", cur.KID, err)
	}
	k.mu.Lock()
	k.signers[cur.KID+"\x00"+typ] = s
	k.mu.Unlock()
	return s, nil
}

// sign signs payload as a compact JWS of type typ with the current key.
func (k *keyring) sign(typ string, payload []byte) (string, error) {
	s, err := k.signer(typ)
	if err != nil {
		return "", err
	}
	obj, err := s.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	return obj.CompactSerialize()
}
