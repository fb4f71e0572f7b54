package federation

import (
	"encoding/base64"
	"strings"
	"testing"
)

// decodePayload returns the payload of a compact JWS, unverified (test inspection only).
func decodePayload(t testing.TB, jws string) []byte {
	t.Helper()
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %.40q", jws)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	return b
}
