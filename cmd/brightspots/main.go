// Command brightspots runs a Bright Spots district node and its operator tasks.
//
//	brightspots serve   [--config FILE] [--data DIR] [--addr HOST:PORT]
//	brightspots token   create --name N --role R [--team T] | list | revoke ID
//	brightspots user    add --email E --role R [--team T]
//	brightspots reindex [--config FILE] [--data DIR]
//	brightspots export  --out FILE [--config FILE] [--data DIR]
//	brightspots import  --in FILE [--kid KID] [--config FILE] [--data DIR]
//	brightspots version
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/brightspots-nic/brightspots/federation"
	"github.com/brightspots-nic/brightspots/node"
	"github.com/brightspots-nic/brightspots/storage"
	"github.com/brightspots-nic/brightspots/web"
	"github.com/brightspots-nic/brightspots/web/idp"
	"github.com/brightspots-nic/brightspots/web/tokens"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "brightspots:", err)
		}
		os.Exit(1)
	}
}

const usage = `brightspots — a Bright Spots district node

Usage:
  brightspots serve   [--config FILE] [--data DIR] [--addr HOST:PORT]
  brightspots demo    [--data DIR] [--port 8081] [--practices 24]   three districts federating on loopback
  brightspots token   create --name NAME --role teacher|publisher|coordinator|admin [--team TEAM [--new-team]]
  brightspots token   list
  brightspots token   revoke ID-OR-NAME
  brightspots user    add --email EMAIL --role teacher|publisher|coordinator|admin [--team TEAM]
                      (password from standard input when it is not a terminal; else one is generated and printed once)
  brightspots reindex [--config FILE] [--data DIR]   rebuild the search index from the store
  brightspots peer    list [--config FILE]             configured peers: last sync, reachability, issuer check
  brightspots keys    rotate [--config FILE]           new federation signing key; the old one stays published
  brightspots export  --out FILE                       the district's own records, results and artifacts as a signed archive
  brightspots import  --in FILE [--kid KID]            restore such an archive into a new, empty node (same node.id and node.url)
  brightspots config  check [--config FILE]            validate the configuration and reach every service it names
  brightspots standards import FILE                    a CASE framework (CFPackage JSON) for the practice form's standards picker
  brightspots version

Every command takes --config FILE or --data DIR to find the node's store.
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("a command is required")
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stderr)
	case "demo":
		return demo(ctx, args[1:], stdout, stderr)
	case "token":
		return token(ctx, args[1:], stdout, stderr)
	case "peer":
		return peer(ctx, args[1:], stdout, stderr)
	case "keys":
		return keys(ctx, args[1:], stdout, stderr)
	case "reindex":
		return reindex(ctx, args[1:], stdout, stderr)
	case "export":
		return exportArchive(ctx, args[1:], stdout, stderr)
	case "import":
		return importArchive(ctx, args[1:], stdout, stderr)
	case "standards":
		return standardsCmd(ctx, args[1:], stdout, stderr)
	case "config":
		if len(args) < 2 || args[1] != "check" {
			return errors.New("config: check [--config FILE]")
		}
		return configCheck(ctx, args[2:], stdout, stderr)
	case "user":
		return user(ctx, args[1:], os.Stdin, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "brightspots", web.Version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// nodeFlags are the flags every command shares for finding the configuration and store.
type nodeFlags struct {
	config, data, addr string
}

func (f *nodeFlags) register(fs *flag.FlagSet, withAddr bool) {
	fs.StringVar(&f.config, "config", "", "configuration file (YAML)")
	fs.StringVar(&f.data, "data", "", "data folder (overrides data_dir)")
	if withAddr {
		fs.StringVar(&f.addr, "addr", "", "listen address HOST:PORT (overrides listen)")
	}
}

func (f *nodeFlags) load() (node.Config, error) {
	getenv := os.Getenv
	cfg, err := node.LoadConfig(f.config, func(k string) string {
		switch {
		case k == "BRIGHTSPOTS_DATA_DIR" && f.data != "":
			return f.data
		case k == "BRIGHTSPOTS_LISTEN" && f.addr != "":
			return f.addr
		}
		return getenv(k)
	})
	return cfg, err
}

// openBucket loads the configuration and opens the node's object store: what every operator command
// that works on the store directly starts with.
func (f *nodeFlags) openBucket(ctx context.Context) (node.Config, storage.Bucket, error) {
	cfg, err := f.load()
	if err != nil {
		return cfg, nil, err
	}
	bucket, err := node.OpenBucket(ctx, cfg)
	return cfg, bucket, err
}

// openNodeStore is openBucket for the commands that act as the node (reindex, export, peer, keys):
// given no configuration file, no --addr and no BRIGHTSPOTS_NODE_URL, they take the node identity
// the store already holds, so `--data DIR` alone is enough. They may run beside the running node.
func (f *nodeFlags) openNodeStore(ctx context.Context) (node.Config, storage.Bucket, error) {
	cfg, bucket, err := f.openBucket(ctx)
	if err != nil {
		return cfg, nil, err
	}
	// The node may be serving from this store right now: finish only writes abandoned long ago.
	cfg.BesideRunningNode = true
	if f.config == "" && f.addr == "" && os.Getenv("BRIGHTSPOTS_NODE_URL") == "" {
		if err := cfg.TakeHeldIdentity(ctx, bucket); err != nil {
			return cfg, nil, err
		}
	}
	return cfg, bucket, nil
}

func newLogger(cfg node.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Log.Level))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Log.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var nf nodeFlags
	nf.register(fs, true)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := nf.load()
	if err != nil {
		return err
	}
	logger := newLogger(cfg, stderr)
	// The embedded provider's library (zitadel/oidc) logs only through slog's default logger and the
	// standard log package, both of which would otherwise write plain text lines with request input
	// in them; send both through the node's structured logger.
	slog.SetDefault(logger)
	srv, err := node.Open(ctx, cfg, logger)
	if err != nil {
		return err
	}
	return srv.Serve(ctx, nil)
}

func token(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("token: create, list or revoke")
	}
	fs := flag.NewFlagSet("token "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	var nf nodeFlags
	nf.register(fs, false)
	name := fs.String("name", "", "a name that says what the token is for")
	role := fs.String("role", "", "teacher, publisher, coordinator or admin")
	team := fs.String("team", "", "the PLC team a publisher token writes for")
	newTeam := fs.Bool("new-team", false, "allow a --team this node has never seen (no record, account or token names it yet)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	_, bucket, err := nf.openBucket(ctx)
	if err != nil {
		return err
	}
	store := tokens.New(bucket)
	switch args[0] {
	case "create":
		if *team != "" && !*newTeam {
			known, err := web.KnownTeams(ctx, bucket)
			if err != nil {
				return err
			}
			if !slices.Contains(known, *team) {
				return unknownTeamError(*team, known)
			}
		}
		secret, _, err := store.Create(ctx, *name, *role, *team)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, secret) // the secret and nothing else, so scripts can capture it
		return nil
	case "list":
		all, err := store.List(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tROLE\tTEAM\tCREATED\tREVOKED")
		for _, t := range all {
			revoked := "-"
			if t.RevokedAt != nil {
				revoked = t.RevokedAt.Format("2006-01-02 15:04")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, dash(t.Team), t.CreatedAt.Format("2006-01-02 15:04"), revoked)
		}
		return tw.Flush()
	case "revoke":
		if fs.NArg() != 1 {
			return errors.New("token revoke: name the token's id or name")
		}
		t, err := store.Revoke(ctx, fs.Arg(0))
		if err != nil {
			return err
		}
		// A running node caches a token it has seen for up to 10 s; say so rather than let the
		// operator believe it is refused this instant.
		fmt.Fprintf(stdout, "revoked %s (%s); a running node refuses it within 10 seconds (at once on a node that has not seen it lately)\n", t.ID, t.Name)
		return nil
	}
	return fmt.Errorf("token: unknown subcommand %q (create, list or revoke)", args[0])
}

// unknownTeamError refuses a team no record, account or token names, listing the ones that exist,
// so a typo does not quietly make a new team.
func unknownTeamError(team string, known []string) error {
	msg := fmt.Sprintf("token create: --team %q: this node has never seen that team; check the spelling, or add --new-team to create a token for a new team", team)
	if len(known) > 0 {
		msg += "\nknown teams: " + strings.Join(known, ", ")
	}
	return errors.New(msg)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// user manages the embedded identity provider's local accounts.
func user(ctx context.Context, args []string, stdin *os.File, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "add" {
		return errors.New("user: add --email E --role R [--team T]")
	}
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var nf nodeFlags
	nf.register(fs, false)
	email := fs.String("email", "", "the person's email address (their sign-in name)")
	role := fs.String("role", "teacher", "teacher, publisher, coordinator or admin")
	team := fs.String("team", "", "the PLC team (required for publishers)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	_, bucket, err := nf.openBucket(ctx)
	if err != nil {
		return err
	}
	password := ""
	if st, err := stdin.Stat(); err == nil && st.Mode()&os.ModeCharDevice == 0 {
		// Not a terminal: the password comes on standard input (first line), never as an argument
		// where it would show in the process list and shell history.
		line, err := bufio.NewReader(io.LimitReader(stdin, 1024)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read password: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
		if password == "" {
			return errors.New("user add: standard input was empty; send the password, or run from a terminal to generate one")
		}
	}
	generated, err := idp.AddUser(ctx, bucket, *email, *role, *team, password)
	if err != nil {
		return err
	}
	if generated != "" {
		fmt.Fprintf(stdout, "created %s (%s)\npassword (shown once): %s\n", *email, *role, generated)
	} else {
		fmt.Fprintf(stdout, "created %s (%s)\n", *email, *role)
	}
	return nil
}

// reindex rebuilds the search index and the store's listing index from the object store (the source
// of truth): after restoring a backup, moving to Meilisearch, or if the index is lost. With the embedded index, stop the server
// first. It opens the store, the repository and the index: nothing else of the node.
func reindex(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("reindex", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var nf nodeFlags
	nf.register(fs, true)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, bucket, err := nf.openNodeStore(ctx)
	if err != nil {
		return err
	}
	logger := newLogger(cfg, stderr)
	repo, err := node.OpenRepo(ctx, cfg, bucket, logger)
	if err != nil {
		return err
	}
	index, err := node.OpenIndex(ctx, cfg)
	if err != nil {
		return err
	}
	defer index.Close()
	// The store's listing index is a projection of the heads too (safe beside running writers).
	rep, err := repo.RebuildListIndex(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "list index: %d records, %d entries added, %d stale entries removed\n", rep.Records, rep.Added, rep.Removed)
	indexer, err := node.NewIndexer(cfg, repo, index, bucket, nil, logger)
	if err != nil {
		return err
	}
	if err := indexer.Reindex(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "reindexed: search index rebuilt up to change %d\n", indexer.Cursor())
	return nil
}

// openFederation builds the node's federation part without serving (for operator commands).
func openFederation(ctx context.Context, args []string, name string, stderr io.Writer) (*federation.Member, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var nf nodeFlags
	nf.register(fs, true)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	cfg, bucket, err := nf.openNodeStore(ctx)
	if err != nil {
		return nil, err
	}
	repo, err := node.OpenRepo(ctx, cfg, bucket, nil)
	if err != nil {
		return nil, err
	}
	return node.OpenFederation(ctx, cfg, repo, nil, nil)
}

// peer lists the configured peers with what the store knows of their sync and what their discovery
// documents say now.
func peer(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "list" {
		return errors.New("peer: list [--config FILE]")
	}
	f, err := openFederation(ctx, args[1:], "peer list", stderr)
	if err != nil {
		return err
	}
	status := f.Status(ctx)
	if len(status) == 0 {
		fmt.Fprintln(stdout, "no peers configured (federation.peers in the configuration file)")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tURL\tLAST PAGE APPLIED\tDISCOVERY")
	failed := 0
	for _, s := range status {
		last := "never"
		if !s.LastPageAt.IsZero() {
			last = s.LastPageAt.Local().Format("2006-01-02 15:04:05")
		}
		disc := "ok"
		if s.Problem != "" {
			disc, failed = s.Problem, failed+1
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.ID, s.URL, last, disc)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d peers have a problem", failed, len(status))
	}
	return nil
}

// keys rotates the node's federation signing key. A running server starts signing with the new key
// within a minute; the old key stays in the JWKS for the overlap period so peers keep verifying.
func keys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "rotate" {
		return errors.New("keys: rotate [--config FILE]")
	}
	f, err := openFederation(ctx, args[1:], "keys rotate", stderr)
	if err != nil {
		return err
	}
	kid, err := f.Rotate(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "new signing key %s; the previous key stays published for the overlap period\n", kid)
	return nil
}
