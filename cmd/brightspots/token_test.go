package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestTokenCreateRefusesAnUnseenTeam: a publisher token for a team no record, account or token names
// is refused with an error naming --new-team; with the flag it is made, and from then on the team is
// known. A typo of a known team is refused and the error lists the known ones.
func TestTokenCreateRefusesAnUnseenTeam(t *testing.T) {
	data := t.TempDir()
	create := func(extra ...string) (string, error) {
		var out, errOut bytes.Buffer
		args := append([]string{"token", "create", "--data", data, "--name", "pub", "--role", "publisher"}, extra...)
		err := run(context.Background(), args, &out, &errOut)
		return strings.TrimSpace(out.String()), err
	}
	if _, err := create("--team", "Math 5th grade PLC"); err == nil || !strings.Contains(err.Error(), "--new-team") || !strings.Contains(err.Error(), "--team") {
		t.Fatalf("an unseen team: err = %v, want a refusal naming --team and --new-team", err)
	}
	if secret, err := create("--team", "Math 5th grade PLC", "--new-team"); err != nil || !strings.HasPrefix(secret, "bsk_") {
		t.Fatalf("--new-team: %q, %v", secret, err)
	}
	if secret, err := create("--team", "Math 5th grade PLC"); err != nil || !strings.HasPrefix(secret, "bsk_") {
		t.Fatalf("a team a token already names: %q, %v", secret, err)
	}
	_, err := create("--team", "Math 5th grde PLC")
	if err == nil || !strings.Contains(err.Error(), "known teams: Math 5th grade PLC") {
		t.Fatalf("a typo of a known team: err = %v, want a refusal listing the known team", err)
	}
	// A teacher token names no team and needs no flag.
	if _, err := create(); err == nil {
		t.Fatal("a publisher token without a team was made")
	}
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"token", "create", "--data", data, "--name", "t", "--role", "teacher"}, &out, &errOut); err != nil {
		t.Fatalf("teacher token: %v", err)
	}
}
