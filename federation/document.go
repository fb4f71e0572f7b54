package federation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"github.com/brightspots-nic/brightspots/practices"
)

// Signed documents (docs/protocol.md, "Signed documents").
const (
	recordType  = "brightspots-record+jws"
	maxJWSBytes = 1 << 20
)

// Tombstone reasons.
const (
	ReasonWithdrawn  = "withdrawn"
	ReasonDeleted    = "deleted"
	ReasonVisibility = "visibility"
)

// Document is the payload of a signed document: a record, or a tombstone (Deleted, Reason, no Record).
type Document struct {
	Origin      string          `json:"origin"`
	Kind        practices.Kind  `json:"kind"`
	ID          string          `json:"id"`
	Version     int             `json:"version"`
	Deleted     bool            `json:"deleted"`
	PublishedAt time.Time       `json:"published_at"`
	Reason      string          `json:"reason,omitempty"`
	Record      json.RawMessage `json:"record,omitempty"`
}

// shareable returns the JSON of rec as peers receive it: a deep copy without the fields that never
// leave the district (who created and last changed it).
func shareable(rec practices.Record) (json.RawMessage, error) {
	body, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	m := rec.RecordMeta()
	cp := practices.NewRecord(m.Kind)
	if cp == nil {
		return nil, fmt.Errorf("unknown kind %q", m.Kind)
	}
	if err := json.Unmarshal(body, cp); err != nil {
		return nil, err
	}
	cm := cp.RecordMeta()
	cm.CreatedBy, cm.UpdatedBy = "", ""
	return json.Marshal(cp)
}

// signRecord signs the current state of one of this node's records.
func (f *Member) signRecord(rec practices.Record) (string, error) {
	m := rec.RecordMeta()
	if m.Origin != f.node.URL {
		return "", fmt.Errorf("sign %s %s: origin %q is not this node", m.Kind, m.ID, m.Origin)
	}
	if m.Status != practices.StatusPublished || m.PublishedAt == nil {
		return "", fmt.Errorf("sign %s %s: not published", m.Kind, m.ID)
	}
	body, err := shareable(rec)
	if err != nil {
		return "", fmt.Errorf("sign %s %s: %w", m.Kind, m.ID, err)
	}
	return f.signDocument(Document{
		Origin: f.node.URL, Kind: m.Kind, ID: m.ID, Version: m.Version,
		PublishedAt: m.PublishedAt.UTC(), Record: body,
	})
}

// signTombstone signs the statement that a record is no longer visible to the reader. at is when it
// left view.
func (f *Member) signTombstone(kind practices.Kind, id string, version int, reason string, at time.Time) (string, error) {
	return f.signDocument(Document{
		Origin: f.node.URL, Kind: kind, ID: id, Version: version, Deleted: true,
		PublishedAt: at.UTC(), Reason: reason,
	})
}

func (f *Member) signDocument(d Document) (string, error) {
	payload, err := json.Marshal(d)
	if err != nil {
		return "", fmt.Errorf("encode document: %w", err)
	}
	jws, err := f.keys.sign(recordType, payload)
	if err != nil {
		return "", fmt.Errorf("sign %s %s: %w", d.Kind, d.ID, err)
	}
	return jws, nil
}

// verified is a document whose signature, origin and contents have all been checked.
type verified struct {
	jws    []byte
	doc    Document
	header practices.SignedHeader
	rec    practices.Record // nil for a tombstone
}

// ParseDocument checks the form of a compact JWS document without verifying its signature: size,
// compact serialization, one signature with an allowed algorithm, typ, kid. It returns the parsed
// JWS. Every document received goes through it before its signature is checked.
func ParseDocument(raw string) (*jose.JSONWebSignature, error) {
	if len(raw) > maxJWSBytes {
		return nil, fmt.Errorf("document of %d bytes is over the %d-byte limit", len(raw), maxJWSBytes)
	}
	jws, err := jose.ParseSignedCompact(raw, nodeAlgs)
	if err != nil {
		return nil, fmt.Errorf("document: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("document: not exactly one signature")
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != recordType {
		return nil, fmt.Errorf("document: typ %q", truncate(typ, 60))
	}
	if h.KeyID == "" {
		return nil, errors.New("document: no kid")
	}
	return jws, nil
}

// Reasons a received document is refused (or, for unknown_kind, skipped), the label of
// brightspots_federation_items_refused_total. A fixed set: nothing a peer sends becomes a label.
const (
	refuseForm          = "form"           // not a compact JWS of the right type, or over the size limit
	refuseSignature     = "signature"      // not signed by a key of the peer's JWKS
	refuseOrigin        = "origin"         // the payload's or the record's origin is not the peer
	refuseOtherDistrict = "other_district" // the record names another district (origin_id, uri)
	refuseInvalid       = "invalid"        // malformed payload or record, or a value over a limit
	skipUnknownKind     = "unknown_kind"   // a kind this version does not know: skipped, cursor advances
)

var itemReasons = []string{refuseForm, refuseSignature, refuseOrigin, refuseOtherDistrict, refuseInvalid, skipUnknownKind}

// refusal is a document refused for reason.
type refusal struct {
	reason string
	err    error
}

func (r *refusal) Error() string { return r.err.Error() }
func (r *refusal) Unwrap() error { return r.err }

func refuseDoc(reason, format string, args ...any) error {
	return &refusal{reason: reason, err: fmt.Errorf(format, args...)}
}

// reasonOf returns the refusal reason of err (invalid when it carries none).
func reasonOf(err error) string {
	var r *refusal
	if errors.As(err, &r) {
		return r.reason
	}
	return refuseInvalid
}

// checkPayload decodes a verified payload and checks it is a well-formed document from the peer at
// origin, configured with the district id originID. The district a record belongs to is the peer
// it came from (docs/protocol.md, "Who a record comes from"): a payload or record naming another origin,
// another district id or another district's URI is refused. A kind this version does not know is
// refused with skipUnknownKind, which the caller skips.
func checkPayload(payload []byte, origin, originID string) (Document, practices.Record, error) {
	var d Document
	dec := json.NewDecoder(bytes.NewReader(payload))
	if err := dec.Decode(&d); err != nil {
		return Document{}, nil, refuseDoc(refuseInvalid, "payload: %w", err)
	}
	if d.Origin != origin {
		// v1 is not transitive: a peer serves only its own records, signed with its own key.
		return Document{}, nil, refuseDoc(refuseOrigin, "payload: origin %q is not the peer %q", truncate(d.Origin, 200), origin)
	}
	if !d.Kind.Valid() {
		return Document{}, nil, refuseDoc(skipUnknownKind, "payload: kind %q", truncate(string(d.Kind), 40))
	}
	if u, err := uuid.Parse(d.ID); err != nil || u.String() != d.ID {
		return Document{}, nil, refuseDoc(refuseInvalid, "payload: id %q is not a UUID", truncate(d.ID, 60))
	}
	if d.Version < 1 {
		return Document{}, nil, refuseDoc(refuseInvalid, "payload: version %d", d.Version)
	}
	if d.Deleted {
		switch d.Reason {
		case ReasonWithdrawn, ReasonDeleted, ReasonVisibility:
		default:
			return Document{}, nil, refuseDoc(refuseInvalid, "payload: tombstone reason %q", truncate(d.Reason, 40))
		}
		if len(d.Record) != 0 && !bytes.Equal(d.Record, []byte("null")) {
			return Document{}, nil, refuseDoc(refuseInvalid, "payload: tombstone with a record")
		}
		return d, nil, nil
	}
	if len(d.Record) == 0 {
		return Document{}, nil, refuseDoc(refuseInvalid, "payload: no record")
	}
	rec := practices.NewRecord(d.Kind)
	if err := json.Unmarshal(d.Record, rec); err != nil {
		return Document{}, nil, refuseDoc(refuseInvalid, "payload: record: %w", err)
	}
	m := rec.RecordMeta()
	switch {
	case m.Kind != d.Kind || m.ID != d.ID || m.Version != d.Version:
		return Document{}, nil, refuseDoc(refuseInvalid, "payload: record says %s %s v%d, document %s %s v%d", m.Kind, truncate(m.ID, 60), m.Version, d.Kind, d.ID, d.Version)
	case m.Origin != origin:
		return Document{}, nil, refuseDoc(refuseOrigin, "payload: record origin %q is not %q", truncate(m.Origin, 200), origin)
	case m.OriginID != "" && m.OriginID != originID:
		return Document{}, nil, refuseDoc(refuseOtherDistrict, "payload: record names district %q, but the peer at %s is %q", truncate(m.OriginID, 60), origin, originID)
	case m.URI != "" && m.URI != origin+"/"+d.Kind.Plural()+"/"+d.ID:
		return Document{}, nil, refuseDoc(refuseOtherDistrict, "payload: record uri %q is not the peer's", truncate(m.URI, 200))
	case m.Status != practices.StatusPublished:
		return Document{}, nil, refuseDoc(refuseInvalid, "payload: record status %q", truncate(string(m.Status), 40))
	}
	if err := practices.CheckReceived(rec); err != nil {
		return Document{}, nil, refuseDoc(refuseInvalid, "payload: %w", err)
	}
	return d, rec, nil
}

// verifyDocument checks one document served by peer p: form, signature against p's JWKS, and
// contents (origin is p, kind and id consistent, record origin is p).
func (p *peer) verifyDocument(ctx context.Context, ks *oidc.RemoteKeySet, raw string) (*verified, error) {
	if _, err := ParseDocument(raw); err != nil {
		return nil, &refusal{reason: refuseForm, err: err}
	}
	payload, err := ks.VerifySignature(ctx, raw)
	if err != nil {
		return nil, refuseDoc(refuseSignature, "document signature: %w", err)
	}
	d, rec, err := checkPayload(payload, p.cfg.URL, p.cfg.ID)
	if err != nil {
		return nil, err
	}
	return &verified{
		jws: []byte(raw), doc: d, rec: rec,
		header: practices.SignedHeader{Origin: d.Origin, Kind: d.Kind, ID: d.ID, Version: d.Version, Deleted: d.Deleted},
	}, nil
}
