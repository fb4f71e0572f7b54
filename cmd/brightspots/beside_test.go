package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/brightspots-nic/brightspots/storage/fs"
)

// TestCommandsBesideARunningNode runs every operator command the guide tells operators to run
// beside a live node, while the node is under a publish load, several times each. Every command must
// succeed or refuse clearly, and the node must lose nothing: every publish it acknowledged is there
// and no publish fails because a command touched the store. Commands used to delete the store's .tmp
// folder (breaking the node's puts in flight) and to finish the node's own writes in flight.
func TestCommandsBesideARunningNode(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	data := t.TempDir()
	addr := freeAddr(t)
	token := runCLI(t, bin, "token", "create", "--data", data, "--name", "load", "--role", "publisher", "--team", "math-4", "--new-team")
	p := startServe(t, bin, data, addr)
	defer func() { p.cmd.Process.Signal(syscall.SIGTERM); p.cmd.Wait() }()

	type ack struct {
		id      string
		version int
	}
	var (
		mu       sync.Mutex
		acked    []ack
		failures []string
	)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				id, v, ok := createAndPublish(ctx, addr, token, fmt.Sprintf("writer %d #%d", w, i))
				mu.Lock()
				switch {
				case ok:
					acked = append(acked, ack{id, v})
				case ctx.Err() == nil:
					failures = append(failures, fmt.Sprintf("writer %d #%d (id %q)", w, i, id))
				}
				mu.Unlock()
				// Stay under the node's default rate limit (50 requests a second per token, two
				// requests an iteration, four writers), so a refusal here is the store's, not a 429.
				time.Sleep(200 * time.Millisecond)
			}
		}()
	}

	commands := []struct {
		name  string
		args  []string
		stdin string
	}{
		{"token create", []string{"token", "create", "--name", "side", "--role", "teacher"}, ""},
		{"token list", []string{"token", "list"}, ""},
		{"token revoke", []string{"token", "revoke", "side"}, ""},
		{"user add", []string{"user", "add", "--email", "x@example.org", "--role", "teacher"}, "a-long-password-1234\n"},
		{"keys rotate", []string{"keys", "rotate"}, ""},
		{"peer list", []string{"peer", "list"}, ""},
		{"export", []string{"export", "--out", "ARCHIVE"}, ""},
		{"reindex", []string{"reindex"}, ""},
	}
	for round := range 3 {
		for _, c := range commands {
			args := append([]string{}, c.args...)
			for i, a := range args {
				if a == "ARCHIVE" {
					args[i] = filepath.Join(t.TempDir(), "export.tar")
				}
				if a == "x@example.org" {
					args[i] = fmt.Sprintf("x%d@example.org", round)
				}
			}
			if c.name == "token revoke" || c.name == "token create" {
				args[len(args)-1] = fmt.Sprintf("%s%d", args[len(args)-1], round)
				if c.name == "token create" {
					args = append(args[:3], fmt.Sprintf("side%d", round), "--role", "teacher")
				}
			}
			// Flags before the positional arguments (the flag package stops at the first of those).
			flags := []string{"--data", data}
			if c.name != "token create" && c.name != "token list" && c.name != "token revoke" && c.name != "user add" {
				flags = append(flags, "--addr", addr) // the node URL (its identity) derives from it
			}
			n := 1
			if c.args[0] != "export" && c.args[0] != "reindex" {
				n = 2 // a subcommand
			}
			args = append(append(append([]string{}, args[:n]...), flags...), args[n:]...)
			cctx, ccancel := context.WithTimeout(context.Background(), time.Minute)
			cmd := exec.CommandContext(cctx, bin, args...)
			cmd.Stdin = strings.NewReader(c.stdin)
			out, err := cmd.CombinedOutput()
			if cctx.Err() != nil {
				err = fmt.Errorf("still running after a minute (killed): %w", err)
			}
			ccancel()
			switch {
			case c.name == "reindex":
				// The embedded index belongs to the running node: refusing is right, hanging or
				// corrupting it is not.
				if err != nil && !strings.Contains(string(out), "in use by a running node") {
					t.Errorf("reindex beside a running node neither worked nor refused clearly: %v\n%s", err, out)
				}
			case err != nil:
				t.Errorf("%s beside a running node: %v\n%s", c.name, err, out)
			}
		}
	}
	time.Sleep(300 * time.Millisecond) // a little load after the last command
	cancel()
	wg.Wait()

	if len(acked) < 20 {
		t.Fatalf("only %d acknowledged publishes: the test did not load the node", len(acked))
	}
	for _, f := range failures {
		t.Errorf("publish failed while commands ran: %s", f)
	}
	// Read the store directly (opening it beside the node is what this test shows is safe), not
	// through the API, whose rate limit would slow a check of hundreds of records.
	b, err := fs.Open(filepath.Join(data, "store"))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range acked {
		rc, _, err := b.Get(context.Background(), "records/practice/"+a.id+"/head.json")
		if err != nil {
			t.Errorf("acknowledged publish of %s v%d: %v", a.id, a.version, err)
			continue
		}
		var head struct {
			Status  string `json:"status"`
			Version int    `json:"version"`
		}
		err = json.NewDecoder(rc).Decode(&head)
		rc.Close()
		if err != nil || head.Status != "published" || head.Version < a.version {
			t.Errorf("acknowledged publish of %s v%d: head %+v %v", a.id, a.version, head, err)
		}
	}
	t.Logf("%d publishes acknowledged while %d commands ran", len(acked), 3*len(commands))
}
