package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/brightspots-nic/brightspots/federation"
	"github.com/brightspots-nic/brightspots/node"
	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/storage/fs"
	"github.com/brightspots-nic/brightspots/web/auth"
)

// checkTimeout bounds each service check, so one unanswering host cannot hang the command.
const checkTimeout = 15 * time.Second

// check is the outcome of one service check: a name, and a one-line detail that is either what was
// found (ok) or what is wrong.
type check struct {
	name   string
	ok     bool
	detail string
}

func pass(name, format string, args ...any) check {
	return check{name: name, ok: true, detail: fmt.Sprintf(format, args...)}
}

func fail(name, format string, args ...any) check {
	return check{name: name, detail: fmt.Sprintf(format, args...)}
}

// configCheck validates a configuration file and then reaches every service it names — the object
// store, the search index, the sign-in provider's discovery, each peer's discovery — printing one
// line per check. It writes nothing anywhere: it is safe to run beside a serving node, before the
// first start, and after every change. With --serving it checks only that a node running with this
// configuration answers /readyz on its listen address (a health check for images without a shell).
func configCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet("config check", flag.ContinueOnError)
	fset.SetOutput(stderr)
	var nf nodeFlags
	nf.register(fset, true)
	serving := fset.Bool("serving", false, "check only that the node running with this configuration answers /readyz (container health checks)")
	if err := fset.Parse(args); err != nil {
		return err
	}
	if fset.NArg() > 0 {
		return fmt.Errorf("config check: unexpected argument %q", fset.Arg(0))
	}
	cfg, err := nf.load()
	source := nf.config
	if source == "" {
		source = "no configuration file (embedded defaults)"
	}
	if err != nil {
		printChecks(stdout, []check{fail("config", "%s: %s", source, oneLine(err.Error()))})
		return errors.New("config check: the configuration is not valid")
	}
	if *serving {
		c := checkServing(ctx, cfg)
		printChecks(stdout, []check{c})
		if !c.ok {
			return errors.New("config check: the node is not ready")
		}
		return nil
	}

	checks := []check{pass("config", "%s: node %s at %s", source, cfg.Node.ID, cfg.Node.URL)}
	// The services are independent, so they are reached at once; the lines keep a fixed order.
	probes := []func(context.Context, node.Config) []check{
		func(ctx context.Context, cfg node.Config) []check { return []check{checkStore(ctx, cfg)} },
		func(ctx context.Context, cfg node.Config) []check { return []check{checkIndex(ctx, cfg)} },
		func(ctx context.Context, cfg node.Config) []check { return []check{checkSignIn(ctx, cfg)} },
		checkPeers,
	}
	results := make([][]check, len(probes))
	var wg sync.WaitGroup
	for i, probe := range probes {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, checkTimeout)
			defer cancel()
			results[i] = probe(ctx, cfg)
		})
	}
	wg.Wait()
	for _, r := range results {
		checks = append(checks, r...)
	}
	printChecks(stdout, checks)
	failed := 0
	for _, c := range checks {
		if !c.ok {
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("config check: %d of %d checks failed", failed, len(checks))
	}
	return nil
}

func printChecks(w io.Writer, checks []check) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, c := range checks {
		status := "ok"
		if !c.ok {
			status = "FAIL"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.name, status, oneLine(c.detail))
	}
	tw.Flush()
}

// oneLine keeps a message on one line, whatever a server put in it.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// netError shortens an HTTP client error to its cause: "dial tcp 127.0.0.1:1: connect: connection
// refused" rather than the method and URL again.
func netError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "no answer within " + checkTimeout.String()
	}
	return err.Error()
}

// checkStore reaches the object store without writing to it.
func checkStore(ctx context.Context, cfg node.Config) check {
	if cfg.Storage.Kind == "s3" {
		return checkS3(ctx, cfg)
	}
	// The local store is not opened here: opening it tidies its temporary folder, which would disturb
	// a node serving from it.
	dir := filepath.Join(cfg.DataDir, "store")
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return pass("store", "local folder %s (created at first start)", dir)
	case err != nil:
		return fail("store", "local folder %s: %v", dir, err)
	case !st.IsDir():
		return fail("store", "local folder %s is not a folder (data_dir)", dir)
	}
	return pass("store", "local folder %s", dir)
}

// identityKey is where a store records the node it belongs to (practices.Open writes it).
const identityKey = "node/state/identity.json"

func checkS3(ctx context.Context, cfg node.Config) check {
	s := cfg.Storage.S3
	where := fmt.Sprintf("s3 bucket %q at %s", s.Bucket, s.Endpoint)
	region := s.Region
	if region == "" {
		region = "us-east-1"
	}
	client, err := minio.New(s.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""),
		Secure: s.TLS,
		Region: region,
	})
	if err != nil {
		return fail("store", "%s: %v", where, err)
	}
	// Listing one key is the cheapest request that proves the endpoint answers, the signature
	// (access and secret key) is accepted and the credentials may read the bucket.
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	missing := false
	// Only the first answer matters: an error, a key, or none (an empty bucket).
	if obj, ok := <-client.ListObjects(lctx, s.Bucket, minio.ListObjectsOptions{Prefix: s.Prefix, MaxKeys: 1}); ok {
		if obj.Err != nil {
			resp := minio.ToErrorResponse(obj.Err)
			switch resp.Code {
			case "NoSuchBucket":
				missing = true
			case "SignatureDoesNotMatch":
				return fail("store", "%s: the secret key is wrong: the store rejected the request signature (storage.s3.secret_key or BRIGHTSPOTS_S3_SECRET_KEY)", where)
			case "InvalidAccessKeyId":
				return fail("store", "%s: the store does not know the access key (storage.s3.access_key or BRIGHTSPOTS_S3_ACCESS_KEY)", where)
			case "AccessDenied":
				return fail("store", "%s: the credentials may not list the bucket; they need read, write, list and delete on it", where)
			case "AuthorizationHeaderMalformed", "InvalidRegion":
				return fail("store", "%s: wrong region %q (storage.s3.region): %s", where, region, resp.Message)
			case "":
				return fail("store", "%s: unreachable: %s", where, netError(obj.Err))
			default:
				return fail("store", "%s: %s: %s", where, resp.Code, resp.Message)
			}
		}
	}
	if missing {
		return pass("store", "%s: credentials accepted; the bucket does not exist yet and the node creates it at first start (or create it yourself)", where)
	}
	if err := ctx.Err(); err != nil {
		return fail("store", "%s: unreachable: %s", where, netError(err))
	}
	// Whose store is it? A node refuses to start on a store another node URL or id created.
	obj, err := client.GetObject(ctx, s.Bucket, s.Prefix+identityKey, minio.GetObjectOptions{})
	if err != nil {
		return fail("store", "%s: read %s: %s", where, identityKey, netError(err))
	}
	defer obj.Close()
	var held practices.Node
	err = json.NewDecoder(io.LimitReader(obj, 64<<10)).Decode(&held)
	switch {
	case minio.ToErrorResponse(err).Code == "NoSuchKey":
		return pass("store", "%s: credentials accepted; the store is empty (a new node)", where)
	case err != nil:
		return fail("store", "%s: read %s: %s", where, identityKey, netError(err))
	case held.URL != cfg.Node.URL || held.ID != cfg.Node.ID:
		return fail("store", "%s: the store belongs to node %s (%s), not %s (%s); the node will refuse to start on it", where, held.URL, held.ID, cfg.Node.URL, cfg.Node.ID)
	}
	return pass("store", "%s: credentials accepted; the store belongs to this node", where)
}

// checkIndex reaches the search index without changing it.
func checkIndex(ctx context.Context, cfg node.Config) check {
	if cfg.Search.Kind != "meilisearch" {
		return pass("index", "embedded (bleve) in %s; one process only (replicas need Meilisearch)", filepath.Join(cfg.DataDir, "search"))
	}
	m := cfg.Search.Meilisearch
	base := strings.TrimSuffix(m.URL, "/")
	where := "meilisearch at " + base
	uid := m.Index
	if uid == "" {
		uid = "practices"
	}
	client := &http.Client{Timeout: checkTimeout}
	get := func(path string, auth bool, v any) (int, string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		if err != nil {
			return 0, "", err
		}
		if auth && m.APIKey != "" {
			req.Header.Set("Authorization", "Bearer "+m.APIKey)
		}
		res, err := client.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer res.Body.Close()
		body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		if err != nil {
			return res.StatusCode, "", err
		}
		if res.StatusCode != http.StatusOK {
			var e struct {
				Message string `json:"message"`
			}
			if json.Unmarshal(body, &e) == nil && e.Message != "" {
				return res.StatusCode, e.Message, nil
			}
			return res.StatusCode, http.StatusText(res.StatusCode), nil
		}
		return res.StatusCode, "", json.Unmarshal(body, v)
	}
	var health struct {
		Status string `json:"status"`
	}
	code, msg, err := get("/health", false, &health)
	switch {
	case err != nil:
		return fail("index", "%s: unreachable: %s", where, netError(err))
	case code != http.StatusOK:
		return fail("index", "%s: /health answered %d: %s", where, code, msg)
	case health.Status != "available":
		return fail("index", "%s: status %q, not available", where, health.Status)
	}
	var stats struct {
		NumberOfDocuments int64 `json:"numberOfDocuments"`
	}
	code, msg, err = get("/indexes/"+url.PathEscape(uid)+"/stats", true, &stats)
	switch {
	case err != nil:
		return fail("index", "%s: unreachable: %s", where, netError(err))
	case code == http.StatusNotFound:
		return pass("index", "%s: reachable, key accepted; index %q does not exist yet (created at first start)", where, uid)
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return fail("index", "%s: the API key was refused (search.meilisearch.api_key or BRIGHTSPOTS_MEILI_API_KEY): %s", where, msg)
	case code != http.StatusOK:
		return fail("index", "%s: index %q answered %d: %s", where, uid, code, msg)
	}
	return pass("index", "%s: index %q holds %d documents", where, uid, stats.NumberOfDocuments)
}

// checkSignIn fetches the district identity provider's discovery document and compares its issuer
// with the configured one exactly, as sign-in will.
func checkSignIn(ctx context.Context, cfg node.Config) check {
	iss := cfg.Auth.OIDC.Issuer
	if iss == "" {
		return pass("sign-in", "embedded provider at %s/idp (local accounts: brightspots user add)", cfg.Node.URL)
	}
	// The sign-in settings are checked by the code that will use them, over a scratch folder (it
	// keeps its cookie key in the store): role rules, scopes, domains, session lifetimes.
	scratch, err := os.MkdirTemp("", "brightspots-check-")
	if err != nil {
		return fail("sign-in", "scratch folder: %v", err)
	}
	defer os.RemoveAll(scratch)
	b, err := fs.Open(scratch)
	if err != nil {
		return fail("sign-in", "scratch folder: %v", err)
	}
	authCfg := cfg.Auth
	authCfg.PublicURL = cfg.Node.URL
	if _, err := auth.New(ctx, authCfg, b, nil, nil); err != nil {
		return fail("sign-in", "%v", err)
	}
	if problem := checkDiscovery(ctx, iss); problem != "" {
		return fail("sign-in", "auth.oidc.issuer %s: %s", iss, problem)
	}
	return pass("sign-in", "issuer %s answers; register the redirect URL %s/auth/callback", iss, cfg.Node.URL)
}

// checkDiscovery fetches <issuer>/.well-known/openid-configuration and returns "" when it names the
// issuer exactly and has the endpoints sign-in needs, or one line saying what is wrong.
func checkDiscovery(ctx context.Context, issuer string) string {
	u := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err.Error()
	}
	res, err := (&http.Client{Timeout: checkTimeout}).Do(req)
	if err != nil {
		return "discovery unreachable: " + netError(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Sprintf("discovery %s answered %d", u, res.StatusCode)
	}
	var doc struct {
		Issuer                string `json:"issuer"`
		AuthorizationEndpoint string `json:"authorization_endpoint"`
		TokenEndpoint         string `json:"token_endpoint"`
		JWKSURI               string `json:"jwks_uri"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&doc); err != nil {
		return fmt.Sprintf("discovery %s is not JSON: %v", u, err)
	}
	switch {
	case doc.Issuer != issuer:
		return fmt.Sprintf("issuer mismatch: the discovery document names issuer %q; configure exactly that", doc.Issuer)
	case doc.AuthorizationEndpoint == "" || doc.TokenEndpoint == "" || doc.JWKSURI == "":
		return "the discovery document lacks authorization_endpoint, token_endpoint or jwks_uri"
	}
	return ""
}

// checkPeers probes each configured peer's discovery documents with the federation's own checks.
// They run over a scratch copy of the node's state in a temporary folder, so nothing is written to
// the real store and the peers are checked even when the store is unreachable.
func checkPeers(ctx context.Context, cfg node.Config) []check {
	peers := cfg.Federation.Peers
	if len(peers) == 0 {
		return []check{pass("peers", "none configured (federation.peers)")}
	}
	scratch, err := os.MkdirTemp("", "brightspots-check-")
	if err != nil {
		return []check{fail("peers", "scratch folder: %v", err)}
	}
	defer os.RemoveAll(scratch)
	f, err := func() (*federation.Member, error) {
		b, err := fs.Open(scratch)
		if err != nil {
			return nil, err
		}
		repo, err := node.OpenRepo(ctx, cfg, b, nil)
		if err != nil {
			return nil, err
		}
		return node.OpenFederation(ctx, cfg, repo, nil, nil)
	}()
	if err != nil {
		return []check{fail("peers", "%v", err)}
	}
	var out []check
	for _, st := range f.Status(ctx) {
		name := "peer " + st.ID
		if st.Problem != "" {
			out = append(out, fail(name, "%s: %s", st.URL, st.Problem))
			continue
		}
		if st.IdP != nil {
			if problem := checkDiscovery(ctx, st.IdP.Issuer); problem != "" {
				out = append(out, fail(name, "%s answers, but its identity provider %s: %s", st.URL, st.IdP.Issuer, problem))
				continue
			}
		}
		out = append(out, pass(name, "%s answers and names itself as issuer", st.URL))
	}
	return out
}

// checkServing asks the node listening at cfg.Listen whether it is ready.
func checkServing(ctx context.Context, cfg node.Config) check {
	host, port, _ := net.SplitHostPort(cfg.Listen) // checked by LoadConfig
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	u := "http://" + net.JoinHostPort(host, port) + "/readyz"
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fail("node", "%s: %v", u, err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fail("node", "%s: %s", u, netError(err))
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fail("node", "%s answered %d", u, res.StatusCode)
	}
	return pass("node", "%s answered 200", u)
}
