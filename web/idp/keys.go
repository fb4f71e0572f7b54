package idp

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/brightspots-nic/brightspots/storage"
)

const (
	signingKeyKey = "node/idp/signing-key.json"
	clientKey     = "node/idp/client.json"
)

// loadOrCreate returns the object at key, creating it with create() on first use. The create is
// create-only, so when replicas race, one wins and the others read the winner's object.
func loadOrCreate(ctx context.Context, bucket storage.Bucket, key string, create func() ([]byte, error)) ([]byte, error) {
	for range 3 {
		rc, _, err := bucket.Get(ctx, key)
		if err == nil {
			body, err := io.ReadAll(io.LimitReader(rc, 1<<20))
			rc.Close()
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", key, err)
			}
			return body, nil
		}
		if !errors.Is(err, storage.ErrNotFound) {
			return nil, fmt.Errorf("read %s: %w", key, err)
		}
		body, err := create()
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", key, err)
		}
		_, err = bucket.Put(ctx, key, bytes.NewReader(body), int64(len(body)),
			storage.PutOptions{IfNoneMatch: true, ContentType: "application/json"})
		if err == nil {
			return body, nil
		}
		if !errors.Is(err, storage.ErrConflict) {
			return nil, fmt.Errorf("store %s: %w", key, err)
		}
		// Another replica created it first: read theirs.
	}
	return nil, fmt.Errorf("load or create %s: gave up after repeated conflicts", key)
}

// loadSigningKey returns the provider's ES256 signing key, generating it on first start.
func loadSigningKey(ctx context.Context, bucket storage.Bucket) (*jose.JSONWebKey, error) {
	body, err := loadOrCreate(ctx, bucket, signingKeyKey, func() ([]byte, error) {
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		jwk := jose.JSONWebKey{Key: priv, KeyID: randomHex(8), Algorithm: string(jose.ES256), Use: "sig"}
		return jwk.MarshalJSON()
	})
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(body); err != nil {
		return nil, fmt.Errorf("signing key: decode: %w", err)
	}
	if _, ok := jwk.Key.(*ecdsa.PrivateKey); !ok || jwk.KeyID == "" {
		return nil, fmt.Errorf("signing key %s: not an ECDSA private key with a key id", signingKeyKey)
	}
	return &jwk, nil
}

type clientRecord struct {
	ID     string `json:"client_id"`
	Secret string `json:"client_secret"`
}

// loadClientSecret returns the secret of the node's own client, generating it on first start.
func loadClientSecret(ctx context.Context, bucket storage.Bucket, clientID string) (string, error) {
	body, err := loadOrCreate(ctx, bucket, clientKey, func() ([]byte, error) {
		return json.Marshal(clientRecord{ID: clientID, Secret: randomHex(32)})
	})
	if err != nil {
		return "", fmt.Errorf("client secret: %w", err)
	}
	var rec clientRecord
	if err := json.Unmarshal(body, &rec); err != nil {
		return "", fmt.Errorf("client secret: decode: %w", err)
	}
	if rec.ID != clientID || len(rec.Secret) < 32 {
		return "", fmt.Errorf("client secret: %s holds client %q, not %q", clientKey, rec.ID, clientID)
	}
	return rec.Secret, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
