package main

import (
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/brightspots-nic/brightspots/node"
	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/storage"
)

// archiveSigType is the JWS typ of an archive's manifest signature.
const archiveSigType = "brightspots-archive+jws"

// exportArchive writes the node's own data to a signed archive (practices/archive.go describes it).
// The archive is written to FILE.partial and renamed when complete, so FILE is never half-written.
func exportArchive(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var nf nodeFlags
	nf.register(fs, true) // --addr: without a configuration file the node URL derives from it
	out := fs.String("out", "", "the archive file to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("export: --out FILE is required")
	}
	cfg, bucket, err := nf.openNodeStore(ctx)
	if err != nil {
		return err
	}
	repo, err := node.OpenRepo(ctx, cfg, bucket, nil)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	// Building the federation makes sure the node has a signing key (a node never started has none).
	if _, err := node.OpenFederation(ctx, cfg, repo, nil, nil); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	signer, err := loadArchiveSigner(ctx, bucket)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	tmp := *out + ".partial"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer os.Remove(tmp) // after a successful rename there is nothing left to remove
	m, err := repo.Export(ctx, f, signer)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := os.Rename(tmp, *out); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	fmt.Fprintf(stdout, "exported node %s (%s) to %s: %s, %d versions, %d results documents, %d artifacts (%d bytes)\n",
		m.Node.ID, m.Node.URL, *out, recordCounts(m.Counts.Records), m.Counts.Versions, m.Counts.Results, m.Counts.Artifacts, m.Counts.ArtifactBytes)
	fmt.Fprintf(stdout, "signed with key %s; check it on import with --kid %s\n", signer.kid, signer.kid)
	return nil
}

// importArchive restores an archive into this (empty) node's store.
func importArchive(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var nf nodeFlags
	nf.register(fs, true)
	in := fs.String("in", "", "the archive file to read")
	kid := fs.String("kid", "", "require the archive to be signed by this key (printed by export; the old node's JWKS lists it)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" {
		return errors.New("import: --in FILE is required")
	}
	if _, err := os.Stat(*in); err != nil {
		return fmt.Errorf("import: %w", err)
	}
	cfg, err := nf.load()
	if err != nil {
		return err
	}
	bucket, err := node.OpenBucket(ctx, cfg)
	if err != nil {
		return err
	}
	open := func() (io.ReadCloser, error) { return os.Open(filepath.Clean(*in)) }
	node := practices.Node{URL: cfg.Node.URL, ID: cfg.Node.ID}
	m, err := practices.ImportArchive(ctx, bucket, node, open, verifyArchiveSignature(*kid), practices.Options{})
	if err != nil {
		return fmt.Errorf("import %s: %w", *in, err)
	}
	fmt.Fprintf(stdout, "imported node %s (%s) from %s (made %s): %s, %d versions, %d results documents, %d artifacts (%d bytes)\n",
		m.Node.ID, m.Node.URL, *in, m.CreatedAt.Format("2006-01-02 15:04:05Z"), recordCounts(m.Counts.Records),
		m.Counts.Versions, m.Counts.Results, m.Counts.Artifacts, m.Counts.ArtifactBytes)
	fmt.Fprintln(stdout, "start the node to rebuild its search index; create API tokens and accounts again (an archive carries no secrets)")
	return nil
}

func recordCounts(c map[practices.Kind]int) string {
	parts := make([]string, 0, len(practices.Kinds))
	for _, k := range practices.Kinds {
		parts = append(parts, fmt.Sprintf("%d %s", c[k], k.Plural()))
	}
	return strings.Join(parts, ", ")
}

// archiveSigner signs with the node's current federation key, read from the store where the
// federation package keeps it (node/keys/current.json names it, node/keys/k-{kid}.json holds it).
type archiveSigner struct {
	kid  string
	key  jose.JSONWebKey // private
	alg  string
	jwks []byte // the public halves of every key the node holds
}

type storedNodeKey struct {
	KID string           `json:"kid"`
	Alg string           `json:"alg"`
	JWK *jose.JSONWebKey `json:"jwk"`
}

func loadArchiveSigner(ctx context.Context, b storage.Bucket) (*archiveSigner, error) {
	var cur struct {
		KID string `json:"kid"`
	}
	if err := readJSON(ctx, b, "node/keys/current.json", &cur); err != nil {
		return nil, fmt.Errorf("node signing key: %w", err)
	}
	s := &archiveSigner{kid: cur.KID}
	var set jose.JSONWebKeySet
	objs, err := b.List(ctx, storage.ListOptions{Prefix: "node/keys/k-"})
	if err != nil {
		return nil, fmt.Errorf("node keys: %w", err)
	}
	for _, o := range objs {
		var sk storedNodeKey
		if err := readJSON(ctx, b, o.Key, &sk); err != nil {
			return nil, fmt.Errorf("node key: %w", err)
		}
		if sk.JWK == nil || sk.JWK.IsPublic() || !sk.JWK.Valid() {
			return nil, fmt.Errorf("node key %s is not a valid private key", o.Key)
		}
		pub := sk.JWK.Public()
		pub.KeyID, pub.Algorithm, pub.Use = sk.KID, sk.Alg, "sig"
		set.Keys = append(set.Keys, pub)
		if sk.KID == cur.KID {
			s.key, s.alg = *sk.JWK, sk.Alg
		}
	}
	if s.alg == "" {
		return nil, fmt.Errorf("node key %s named by node/keys/current.json is missing", cur.KID)
	}
	if s.jwks, err = json.Marshal(set); err != nil {
		return nil, err
	}
	return s, nil
}

func readJSON(ctx context.Context, b storage.Bucket, key string, v any) error {
	rc, _, err := b.Get(ctx, key)
	if err != nil {
		return fmt.Errorf("read %s: %w", key, err)
	}
	defer rc.Close()
	if err := json.NewDecoder(io.LimitReader(rc, 1<<20)).Decode(v); err != nil {
		return fmt.Errorf("decode %s: %w", key, err)
	}
	return nil
}

func (s *archiveSigner) PublicKeys(context.Context) ([]byte, error) { return s.jwks, nil }

// Sign makes a detached compact JWS (header..signature) over manifest.
func (s *archiveSigner) Sign(_ context.Context, manifest []byte) ([]byte, error) {
	key := s.key
	key.KeyID = s.kid
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(s.alg), Key: key},
		(&jose.SignerOptions{}).WithType(archiveSigType))
	if err != nil {
		return nil, fmt.Errorf("signer: %w", err)
	}
	obj, err := signer.Sign(manifest)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	sig, err := obj.DetachedCompactSerialize()
	if err != nil {
		return nil, err
	}
	return []byte(sig), nil
}

// verifyArchiveSignature checks a manifest's detached JWS against the archive's JWKS: EdDSA or ES256
// only, typ brightspots-archive+jws, a kid that is the RFC 7638 thumbprint of the key it names (so a
// kid pins a key), and, when pin is set, that kid.
//
// The JWKS travels inside the archive, so on its own the check proves the archive is whole and
// unchanged since it was signed by whoever holds that key. Pinning the kid (printed by export, listed
// in the old node's /.well-known/jwks.json) proves it was the district's node.
func verifyArchiveSignature(pin string) practices.ArchiveVerifier {
	return func(manifest, sig, jwks []byte) error {
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(jwks, &set); err != nil {
			return fmt.Errorf("node/jwks.json: %w", err)
		}
		obj, err := jose.ParseDetached(strings.TrimSpace(string(sig)), manifest, []jose.SignatureAlgorithm{jose.EdDSA, jose.ES256})
		if err != nil {
			return fmt.Errorf("manifest.jws: %w", err)
		}
		if len(obj.Signatures) != 1 {
			return errors.New("manifest.jws: exactly one signature is expected")
		}
		h := obj.Signatures[0].Protected
		if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != archiveSigType {
			return fmt.Errorf("manifest.jws: typ %q, want %q", typ, archiveSigType)
		}
		if pin != "" && h.KeyID != pin {
			return fmt.Errorf("signed by key %q, not by %q (--kid)", h.KeyID, pin)
		}
		keys := set.Key(h.KeyID)
		if len(keys) != 1 || !keys[0].IsPublic() {
			return fmt.Errorf("key %q is not (exactly once, as a public key) in node/jwks.json", h.KeyID)
		}
		tp, err := keys[0].Thumbprint(crypto.SHA256)
		if err != nil || base64.RawURLEncoding.EncodeToString(tp) != h.KeyID {
			return fmt.Errorf("key %q in node/jwks.json is not the key its kid names", h.KeyID)
		}
		if keys[0].Algorithm != "" && keys[0].Algorithm != h.Algorithm {
			return fmt.Errorf("key %q is for %s, the signature uses %s", h.KeyID, keys[0].Algorithm, h.Algorithm)
		}
		if err := obj.DetachedVerify(manifest, keys[0]); err != nil {
			return fmt.Errorf("signature by key %q: %w", h.KeyID, err)
		}
		return nil
	}
}
