package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/brightspots-nic/brightspots/federation"
	"github.com/brightspots-nic/brightspots/node"
	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/practices/corpus"
	"github.com/brightspots-nic/brightspots/practices/evidence"
	"github.com/brightspots-nic/brightspots/storage"
	"github.com/brightspots-nic/brightspots/web/idp"
)

// The demo network: three districts on loopback, peered with each other.
var demoDistricts = []struct{ id, name string }{
	{"riverside", "Riverside Unified"},
	{"lakeview", "Lakeview School District"},
	{"hillcrest", "Hillcrest Community Schools"},
}

// DemoPassword is every demo account's password. It is printed at start; the demo listens on
// loopback only.
const DemoPassword = "bright-spots-demo"

const demoSeededKey = "node/state/demo-seeded"

// demo runs three district nodes in this process, each with its own store, search index and embedded
// identity provider, peered with each other and seeded (once) with generated practices, tests with
// results — some replicated across districts — and a collection. It runs until interrupted.
func demo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "./brightspots-demo", "folder for the three districts' data (kept between runs)")
	port := fs.Int("port", 8081, "first of three consecutive loopback ports")
	perDistrict := fs.Int("practices", 24, "practices to seed per district on first run")
	verbose := fs.Bool("v", false, "log every request")
	if err := fs.Parse(args); err != nil {
		return err
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(logger) // the provider library logs only through the default logger

	type district struct {
		cfg node.Config
		srv *node.Node
		ln  net.Listener
	}
	nodes := make([]*district, len(demoDistricts))
	for i, d := range demoDistricts {
		cfg := node.Defaults()
		cfg.Node.ID, cfg.Node.Name = d.id, d.name
		cfg.Node.Contact = "nic-admin@" + d.id + ".example"
		cfg.Listen = fmt.Sprintf("127.0.0.1:%d", *port+i)
		cfg.Node.URL = "http://" + cfg.Listen
		cfg.DataDir = filepath.Join(*data, d.id)
		cfg.Log.Level = "warn"
		cfg.Federation.PollInterval = 10 * time.Second // notify makes it near-instant; this is the fallback
		nodes[i] = &district{cfg: cfg}
	}
	for i := range nodes {
		for j, other := range nodes {
			if i != j {
				nodes[i].cfg.Federation.Peers = append(nodes[i].cfg.Federation.Peers, federation.PeerConfig{
					URL: other.cfg.Node.URL, ID: other.cfg.Node.ID, Name: other.cfg.Node.Name,
				})
			}
		}
		if err := nodes[i].cfg.Check(); err != nil {
			return err
		}
	}
	for _, n := range nodes {
		if err := os.MkdirAll(n.cfg.DataDir, 0o700); err != nil {
			return err
		}
		srv, err := node.Open(ctx, n.cfg, logger.With("node", n.cfg.Node.ID))
		if err != nil {
			return fmt.Errorf("%s: %w", n.cfg.Node.ID, err)
		}
		ln, err := net.Listen("tcp", n.cfg.Listen)
		if err != nil {
			return fmt.Errorf("%s: %w (is another demo running? use --port)", n.cfg.Node.ID, err)
		}
		n.srv, n.ln = srv, ln
	}
	var wg sync.WaitGroup
	errc := make(chan error, len(nodes))
	for _, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := n.srv.Serve(ctx, n.ln); err != nil {
				errc <- fmt.Errorf("%s: %w", n.cfg.Node.ID, err)
			}
		}()
	}

	repos := make([]*practices.Repo, len(nodes))
	for i, n := range nodes {
		repos[i] = n.srv.Repo()
	}
	if _, err := repos[0].Bucket().Stat(ctx, demoSeededKey); errors.Is(err, storage.ErrNotFound) {
		fmt.Fprintln(stdout, "Seeding the three districts (first run only) …")
		if err := seedDemo(ctx, repos, *perDistrict); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	} else if err != nil {
		return err
	}

	fmt.Fprintf(stdout, "\nBright Spots demo: three districts federating on loopback.\n\n")
	for _, n := range nodes {
		fmt.Fprintf(stdout, "  %-28s %s\n", n.cfg.Node.Name, n.cfg.Node.URL)
	}
	fmt.Fprintf(stdout, "\nSign in at any district's /login with one of its accounts (password %q):\n", DemoPassword)
	for _, role := range []string{"teacher", "plc", "coordinator", "admin"} {
		fmt.Fprintf(stdout, "  %-12s %s@<district>.example   e.g. %s@%s.example\n", role, role, role, demoDistricts[0].id)
	}
	printTokenHint(stdout, *data, nodes[1].cfg.Node.URL)

	select {
	case <-ctx.Done():
	case err := <-errc:
		return err
	}
	wg.Wait()
	return nil
}

// demoTokenCommand is the command that makes an API token for a demo district. It writes into the
// district's store, which the running demo reads, so it works while the demo runs (no --addr: a token
// belongs to a store, not to an address).
func demoTokenCommand(dataDir, districtID string) string {
	return fmt.Sprintf("go run ./cmd/brightspots token create --data %s --name demo --role teacher",
		filepath.Join(dataDir, districtID))
}

// printTokenHint ends the banner with a search a newcomer can try from a terminal.
func printTokenHint(stdout io.Writer, dataDir, districtURL string) {
	fmt.Fprintf(stdout, "\nTry the API from another terminal while the demo runs: make a token with\n  %s\n", demoTokenCommand(dataDir, demoDistricts[1].id))
	fmt.Fprintf(stdout, "then: curl -H \"Authorization: Bearer bsk_…\" '%s/api/v1/search?q=fractoins'\n", districtURL)
	fmt.Fprintf(stdout, "Data: %s. Stop with Ctrl-C.\n", dataDir)
}

// seedDemo writes accounts, practices, tests with results, and a collection into the three
// districts through each one's repository, as their own PLCs and coordinators would.
func seedDemo(ctx context.Context, repos []*practices.Repo, perDistrict int) error {
	districts := make([]corpus.District, len(repos))
	for i, r := range repos {
		districts[i] = corpus.District{URL: r.Node().URL, ID: r.Node().ID}
	}
	admin := practices.Principal{Kind: "token", Subject: "demo-seed", Roles: []practices.Role{practices.RoleAdmin}}
	byURL := map[string]*practices.Repo{}
	for _, r := range repos {
		byURL[r.Node().URL] = r
	}
	gen := corpus.New(corpus.Config{Seed: 2026, Districts: districts, Start: time.Now().AddDate(-1, 0, 0)})
	items := gen.Generate(perDistrict * len(repos))

	// Practices first, in their own districts, remembering each generated URI's new URI.
	uris := map[string]string{}
	teams := map[string]map[string]bool{}
	for _, it := range items {
		p := it.Practice
		r := byURL[p.Origin]
		old := p.URI
		p.BasedOn = remapBasedOn(p.BasedOn, uris)
		rec, err := r.Create(ctx, admin, &p)
		if err != nil {
			return fmt.Errorf("practice %q: %w", p.Title, err)
		}
		id := rec.RecordMeta().ID
		if _, err := r.Publish(ctx, admin, practices.KindPractice, id, 0); err != nil {
			return fmt.Errorf("publish practice %q: %w", p.Title, err)
		}
		uris[old] = rec.RecordMeta().URI
		if teams[r.Node().ID] == nil {
			teams[r.Node().ID] = map[string]bool{}
		}
		teams[r.Node().ID][p.Team] = true
	}
	// Tests, in the district that ran them — often another district than the practice's (replication).
	seeded := 0
	for _, it := range items {
		for i, t := range it.Tests {
			t := t
			r := byURL[t.Origin]
			target, ok := uris[t.Practice.URI]
			if !ok {
				continue
			}
			t.Practice = practices.PracticeRef{URI: target, Version: 2}
			decision, met := t.Decision, t.PredictionMet
			t.Decision, t.PredictionMet, t.Results = "", "", nil
			withDemoMeasures(&t, seeded)
			seeded++
			rec, err := r.Create(ctx, admin, &t)
			if err != nil {
				return fmt.Errorf("test %q: %w", t.Title, err)
			}
			id := rec.RecordMeta().ID
			opts, err := practices.ResultsOptions(rec.(*practices.Test), evidence.DefaultMinimumN)
			if err != nil {
				return err
			}
			analysis, err := evidence.AnalyzeSummary(summaryFor(it.Results[i], t.Design), opts)
			if err != nil {
				return fmt.Errorf("results of %q: %w", t.Title, err)
			}
			if _, err := r.RecordResults(ctx, admin, id, analysis); err != nil {
				return err
			}
			if _, err := r.Mutate(ctx, admin, practices.KindTest, id, func(cur practices.Record) error {
				ct := cur.(*practices.Test)
				ct.Decision = decision
				if ct.PredictionMet == "" {
					ct.PredictionMet = met
				}
				return nil
			}); err != nil {
				return fmt.Errorf("decide %q: %w", t.Title, err)
			}
			if _, err := r.Publish(ctx, admin, practices.KindTest, id, 0); err != nil {
				return fmt.Errorf("publish test %q: %w", t.Title, err)
			}
		}
	}
	// A story the generated records cannot tell: a ramp of cycles ending in adopt, and an adaptation
	// tested in a second district (demo_cycles.go).
	if err := seedCycles(ctx, repos, admin, teams); err != nil {
		return fmt.Errorf("ramps and adaptations: %w", err)
	}
	// Materials to download and preview, and one collection curated in the first district from
	// every district's fractions practices (demo_materials.go).
	if err := seedMaterials(ctx, repos, admin); err != nil {
		return err
	}
	col, err := fractionsCollection(ctx, repos, admin)
	if err != nil {
		return err
	}
	if len(col.Items) > 0 { // a tiny seed (--practices 1) may have no fractions practice to curate
		rec, err := repos[0].Create(ctx, admin, col)
		if err != nil {
			return fmt.Errorf("collection: %w", err)
		}
		if _, err := repos[0].Publish(ctx, admin, practices.KindCollection, rec.RecordMeta().ID, 0); err != nil {
			return fmt.Errorf("publish collection: %w", err)
		}
	}
	// The network's aim, its driver diagram over every district's practices, and each district's
	// progress towards it (demo_aims.go).
	if err := seedAim(ctx, repos, admin); err != nil {
		return fmt.Errorf("network aim: %w", err)
	}
	// Accounts for every role in every district.
	for _, r := range repos {
		d := r.Node().ID
		var ts []string
		for t := range teams[d] {
			ts = append(ts, t)
		}
		sort.Strings(ts)
		accounts := []idp.Account{
			{Email: "teacher@" + d + ".example", Name: "Demo Teacher"},
			{Email: "plc@" + d + ".example", Name: "Demo PLC Lead", Roles: []practices.Role{practices.RolePublisher}, Teams: ts},
			{Email: "coordinator@" + d + ".example", Name: "Demo Coordinator", Roles: []practices.Role{practices.RoleCoordinator}},
			{Email: "admin@" + d + ".example", Name: "Demo Admin", Roles: []practices.Role{practices.RoleAdmin}},
		}
		for _, a := range accounts {
			if err := idp.AddAccount(ctx, r.Bucket(), a, DemoPassword); err != nil && !errors.Is(err, idp.ErrAccountExists) {
				return fmt.Errorf("account %s: %w", a.Email, err)
			}
		}
		if _, err := r.Bucket().Put(ctx, demoSeededKey, strings.NewReader(time.Now().UTC().Format(time.RFC3339)), -1, storage.PutOptions{}); err != nil {
			return err
		}
	}
	return nil
}

func remapBasedOn(in []practices.BasedOn, uris map[string]string) []practices.BasedOn {
	out := make([]practices.BasedOn, 0, len(in))
	for _, b := range in {
		if u, ok := uris[b.URI]; ok {
			b.URI = u
		}
		out = append(out, b)
	}
	return out
}

// summaryFor makes per-group summary statistics whose effect is close to the generated one, the
// way a team without the raw table would enter them.
func summaryFor(res corpus.TestResult, design string) evidence.SummaryInput {
	f := func(x float64) *float64 { return &x }
	c := func(m float64) float64 { return 1 - 3/(4*m-1) } // small-sample factor, close enough for seeding
	const sd, pre = 10.0, 58.0
	switch design {
	case "post_only_comparison":
		n := max(res.N/2, 10)
		diff := res.G * sd / c(float64(2*n-2))
		return evidence.SummaryInput{Groups: []evidence.SummaryGroup{
			{Group: evidence.Treatment, N: n, MeanPre: f(pre), SDPre: f(sd), MeanPost: f(pre + 4 + diff), SDPost: f(sd)},
			{Group: evidence.Comparison, N: n, MeanPre: f(pre), SDPre: f(sd), MeanPost: f(pre + 4), SDPost: f(sd)},
		}}
	case "pre_post_with_comparison":
		n := max(res.N/2, 10)
		gc := 0.15
		gt := res.G + gc
		return evidence.SummaryInput{Groups: []evidence.SummaryGroup{
			{Group: evidence.Treatment, N: n, MeanPre: f(pre), SDPre: f(sd), MeanPost: f(pre + gt*sd/c(float64(n-1))), SDPost: f(sd), R: f(0.7)},
			{Group: evidence.Comparison, N: n, MeanPre: f(pre + 0.5), SDPre: f(sd), MeanPost: f(pre + 0.5 + gc*sd/c(float64(n-1))), SDPost: f(sd), R: f(0.7)},
		}}
	default:
		n := max(res.N, 10)
		gain := res.G * sd / c(float64(n-1))
		return evidence.SummaryInput{Groups: []evidence.SummaryGroup{
			{Group: evidence.Treatment, N: n, MeanPre: f(pre), SDPre: f(sd), MeanPost: f(math.Round((pre+gain)*100) / 100), SDPost: f(sd), R: f(0.72)},
		}}
	}
}
