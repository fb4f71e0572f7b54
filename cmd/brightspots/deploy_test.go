package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/brightspots-nic/brightspots/internal/testenv"
	"github.com/brightspots-nic/brightspots/node"
)

// The deployment files in deploy/ are checked here: the compose file, the Helm chart, the systemd
// unit, the example configuration and the Dockerfile. They are not Go, but a node is deployed from
// them, so a drift between them and the code is a bug like any other.

func deployPath(parts ...string) string {
	return filepath.Join(append([]string{testenv.RepoRoot()}, parts...)...)
}

// secretEnv holds every secret the node reads, with stand-in values for loading configurations.
var secretEnv = map[string]string{
	"BRIGHTSPOTS_S3_ACCESS_KEY":      "test-access-key",
	"BRIGHTSPOTS_S3_SECRET_KEY":      "test-secret-key",
	"BRIGHTSPOTS_MEILI_API_KEY":      "test-meili-key",
	"BRIGHTSPOTS_OIDC_CLIENT_SECRET": "test-client-secret",
}

func loadWithSecrets(t *testing.T, path string) node.Config {
	t.Helper()
	cfg, err := node.LoadConfig(path, func(k string) string { return secretEnv[k] })
	if err != nil {
		t.Fatalf("%s does not load: %v", path, err)
	}
	return cfg
}

// TestExampleConfigLoads: the annotated example is a working production configuration, with its
// secrets from the environment and none in the file.
func TestExampleConfigLoads(t *testing.T) {
	path := deployPath("deploy", "brightspots.example.yaml")
	cfg := loadWithSecrets(t, path)
	if cfg.Storage.Kind != "s3" || cfg.Search.Kind != "meilisearch" || cfg.Auth.OIDC.Issuer == "" || len(cfg.Federation.Peers) == 0 {
		t.Errorf("the example should show a production node (s3, meilisearch, an IdP, peers): %+v", cfg)
	}
	bare, err := node.LoadConfig(path, func(string) string { return "" })
	if err == nil {
		t.Fatal("the example loads without secrets in the environment: does it hold some?")
	}
	for _, key := range []string{"storage.s3.access_key", "storage.s3.secret_key"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("without the environment, %s should be missing: %v", key, err)
		}
	}
	if bare.Search.Meilisearch.APIKey != "" || bare.Auth.OIDC.ClientSecret != "" {
		t.Error("the example holds a Meilisearch key or a client secret; they belong in the environment")
	}
}

// TestExampleConfigCoversEveryKey: every key of node.Config appears in the annotated example, so
// adding a key without documenting it there fails here.
func TestExampleConfigCoversEveryKey(t *testing.T) {
	data, err := os.ReadFile(deployPath("deploy", "brightspots.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	// A section may instead be shown commented out ("#   peers:"), for alternatives the example does
	// not use; that documents every key beneath it.
	commented := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s*#\s*([a-z_]+):`).FindAllStringSubmatch(string(data), -1) {
		commented[m[1]] = true
	}
	for _, key := range yamlKeys(reflect.TypeFor[node.Config](), "") {
		path := strings.Split(key, ".")
		if hasKey(doc, path) {
			continue
		}
		documented := false
		for i := range path {
			if !hasKey(doc, path[:i+1]) {
				documented = commented[path[i]]
				break
			}
		}
		if !documented {
			t.Errorf("deploy/brightspots.example.yaml does not document %s", key)
		}
	}
}

// yamlKeys lists the dotted YAML keys of a configuration type's leaves; list elements are "[]".
func yamlKeys(typ reflect.Type, prefix string) []string {
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	var keys []string
	for f := range typ.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		key := prefix + name
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft.Kind() == reflect.Struct && ft.PkgPath() != "time":
			keys = append(keys, yamlKeys(ft, key+".")...)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			keys = append(keys, yamlKeys(ft.Elem(), key+".[].")...)
		default:
			keys = append(keys, key)
		}
	}
	return keys
}

// hasKey reports whether path is set in doc; "[]" matches any element of a list.
func hasKey(doc any, path []string) bool {
	if len(path) == 0 {
		return true
	}
	if path[0] == "[]" {
		list, _ := doc.([]any)
		return slices.ContainsFunc(list, func(e any) bool { return hasKey(e, path[1:]) })
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return false
	}
	v, ok := m[path[0]]
	return ok && hasKey(v, path[1:])
}

type composeFile struct {
	Services map[string]struct {
		Image       string         `yaml:"image"`
		Environment map[string]any `yaml:"environment"`
		Volumes     []string       `yaml:"volumes"`
		Healthcheck *struct {
			Test    []string `yaml:"test"`
			Disable bool     `yaml:"disable"`
		} `yaml:"healthcheck"`
		Networks map[string]struct {
			Aliases []string `yaml:"aliases"`
		} `yaml:"networks"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

// secretName says which environment variables hold secrets.
var secretName = regexp.MustCompile(`(?i)(secret|password|_key$|key_id$|token)`)

// fromEnv is a value compose takes from the environment and refuses to start without.
var fromEnv = regexp.MustCompile(`^\$\{([A-Z][A-Z0-9_]*):\?[^}]+\}$`)

// TestDeployCompose parses deploy/compose.yaml: every service has a health check, every secret
// comes from the environment, data lives in named volumes, and the node's configuration names the
// services the file runs.
func TestDeployCompose(t *testing.T) {
	data, err := os.ReadFile(deployPath("deploy", "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"brightspots", "s3", "meilisearch", "keycloak"} {
		if _, ok := c.Services[want]; !ok {
			t.Errorf("no %s service", want)
		}
	}
	envVars := map[string]bool{}
	for name, s := range c.Services {
		if s.Healthcheck == nil || s.Healthcheck.Disable || len(s.Healthcheck.Test) < 2 || s.Healthcheck.Test[0] == "NONE" {
			t.Errorf("service %s has no health check", name)
		}
		if strings.HasSuffix(s.Image, ":latest") || (s.Image != "" && !strings.Contains(s.Image, ":")) {
			t.Errorf("service %s: image %q is not pinned to a version", name, s.Image)
		}
		for k, v := range s.Environment {
			val := fmt.Sprint(v)
			if m := fromEnv.FindStringSubmatch(val); m != nil {
				envVars[m[1]] = true
				continue
			}
			if secretName.MatchString(k) {
				t.Errorf("service %s: secret %s = %q does not come from the environment (${NAME:?message})", name, k, val)
			}
			if strings.Contains(val, "${") {
				t.Errorf("service %s: %s = %q: take it from the environment as ${NAME:?message}, so compose refuses to start without it", name, k, val)
			}
		}
		named := false
		for _, v := range s.Volumes {
			src, _, _ := strings.Cut(v, ":")
			if strings.HasPrefix(src, ".") || strings.HasPrefix(src, "/") {
				if !strings.HasSuffix(v, ":ro") {
					t.Errorf("service %s: bind mount %q should be read-only; data belongs in a named volume", name, v)
				}
				continue
			}
			if _, ok := c.Volumes[src]; !ok {
				t.Errorf("service %s: volume %q is not declared under volumes:", name, src)
			}
			named = true
		}
		if !named {
			t.Errorf("service %s keeps its data in no named volume", name)
		}
	}
	// The environment file template lists every variable, with no value.
	example, err := os.ReadFile(deployPath("deploy", "compose.env.example"))
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^([A-Z][A-Z0-9_]*)=(.*)$`).FindAllStringSubmatch(string(example), -1) {
		listed[m[1]] = true
		if m[2] != "" {
			t.Errorf("compose.env.example gives %s a value; it should only name it", m[1])
		}
	}
	for v := range envVars {
		if !listed[v] {
			t.Errorf("compose.env.example does not list %s", v)
		}
	}

	// The node's configuration loads and points at the services of this file.
	cfg := loadWithSecrets(t, deployPath("deploy", "compose", "brightspots.yaml"))
	host := func(hostport string) string { h, _, _ := strings.Cut(hostport, ":"); return h }
	if _, ok := c.Services[host(cfg.Storage.S3.Endpoint)]; cfg.Storage.Kind != "s3" || !ok {
		t.Errorf("the node's store %s %q is not a compose service", cfg.Storage.Kind, cfg.Storage.S3.Endpoint)
	}
	if u, err := url.Parse(cfg.Search.Meilisearch.URL); err != nil || c.Services[u.Hostname()].Image == "" {
		t.Errorf("the node's index %q is not a compose service", cfg.Search.Meilisearch.URL)
	}
	iss, err := url.Parse(cfg.Auth.OIDC.Issuer)
	if err != nil || !slices.Contains(c.Services["keycloak"].Networks["default"].Aliases, iss.Hostname()) {
		t.Errorf("the issuer %q is not a name of the keycloak service, so the node cannot reach it", cfg.Auth.OIDC.Issuer)
	}

	// The example realm registers the node's redirect URL and takes the client secret from the
	// environment.
	var realm struct {
		Realm   string `json:"realm"`
		Clients []struct {
			ClientID     string   `json:"clientId"`
			Secret       string   `json:"secret"`
			RedirectURIs []string `json:"redirectUris"`
		} `json:"clients"`
	}
	raw, err := os.ReadFile(deployPath("deploy", "compose", "district-realm.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &realm); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(cfg.Auth.OIDC.Issuer, "/realms/"+realm.Realm) {
		t.Errorf("issuer %s is not realm %s", cfg.Auth.OIDC.Issuer, realm.Realm)
	}
	found := false
	for _, cl := range realm.Clients {
		if cl.ClientID != cfg.Auth.OIDC.ClientID {
			continue
		}
		found = true
		if cl.Secret != "${BRIGHTSPOTS_OIDC_CLIENT_SECRET}" {
			t.Errorf("realm client secret %q is not taken from the environment", cl.Secret)
		}
		if !slices.Contains(cl.RedirectURIs, cfg.Node.URL+"/auth/callback") {
			t.Errorf("realm client redirect URIs %v lack %s/auth/callback", cl.RedirectURIs, cfg.Node.URL)
		}
	}
	if !found {
		t.Errorf("the realm has no client %q", cfg.Auth.OIDC.ClientID)
	}
}

// helmBin finds helm, installed into .tools/bin by scripts/tools.sh.
func helmBin(t *testing.T) string {
	t.Helper()
	bin := testenv.Tool("helm")
	if bin == "" {
		testenv.Missing(t, "helm not installed: run `make tools` (installs helm.sh/helm/v3/cmd/helm into .tools/bin)")
	}
	return bin
}

// k8sObject is the part of a rendered manifest the test reads.
type k8sObject struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Data map[string]string `yaml:"data"`
	Spec struct {
		Replicas *int `yaml:"replicas"`
		Strategy struct {
			Type string `yaml:"type"`
		} `yaml:"strategy"`
		Template struct {
			Spec struct {
				AutomountServiceAccountToken *bool `yaml:"automountServiceAccountToken"`
				SecurityContext              struct {
					RunAsNonRoot bool `yaml:"runAsNonRoot"`
					RunAsUser    int  `yaml:"runAsUser"`
				} `yaml:"securityContext"`
				Containers []struct {
					Env []struct {
						Name      string         `yaml:"name"`
						Value     *string        `yaml:"value"`
						ValueFrom map[string]any `yaml:"valueFrom"`
					} `yaml:"env"`
					LivenessProbe  probe `yaml:"livenessProbe"`
					ReadinessProbe probe `yaml:"readinessProbe"`
					Resources      struct {
						Requests map[string]string `yaml:"requests"`
					} `yaml:"resources"`
					SecurityContext struct {
						AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
						ReadOnlyRootFilesystem   bool  `yaml:"readOnlyRootFilesystem"`
						Capabilities             struct {
							Drop []string `yaml:"drop"`
						} `yaml:"capabilities"`
					} `yaml:"securityContext"`
				} `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type probe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
	} `yaml:"httpGet"`
}

// TestDeployHelmChart lints and renders the chart with its default values and with a production
// shape, and checks what a cluster operator relies on: probes, secrets only by reference, the
// security context, a disruption budget, resource requests, a configuration the node accepts, and
// replicas > 1 refused unless the store is S3 and search is Meilisearch.
func TestDeployHelmChart(t *testing.T) {
	helm := helmBin(t)
	chart := deployPath("deploy", "helm", "brightspots")
	production := filepath.Join(chart, "ci", "production-values.yaml")
	helmRun := func(args ...string) (string, error) {
		cmd := exec.Command(helm, args...)
		cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+t.TempDir(), "HELM_CONFIG_HOME="+t.TempDir(), "HELM_DATA_HOME="+t.TempDir())
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		if err != nil {
			return out.String(), fmt.Errorf("helm %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errb.String())
		}
		return out.String(), nil
	}
	for _, tc := range []struct {
		name         string
		values       []string
		replicas     int
		secrets      []string
		strategy     string
		persistentFS bool
	}{
		{name: "defaults", replicas: 1, strategy: "Recreate", persistentFS: true},
		{name: "production", values: []string{"-f", production}, replicas: 3,
			secrets: []string{"BRIGHTSPOTS_S3_ACCESS_KEY", "BRIGHTSPOTS_S3_SECRET_KEY", "BRIGHTSPOTS_MEILI_API_KEY", "BRIGHTSPOTS_OIDC_CLIENT_SECRET"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := helmRun(append([]string{"lint", "--strict", chart}, tc.values...)...); err != nil {
				t.Fatal(err)
			}
			out, err := helmRun(append([]string{"template", "district", chart}, tc.values...)...)
			if err != nil {
				t.Fatal(err)
			}
			objs := map[string]k8sObject{}
			dec := yaml.NewDecoder(strings.NewReader(out))
			for {
				var o k8sObject
				if err := dec.Decode(&o); err == io.EOF {
					break
				} else if err != nil {
					t.Fatalf("rendered manifests do not parse: %v", err)
				}
				if o.Kind != "" {
					objs[o.Kind] = o
				}
			}
			for _, kind := range []string{"Deployment", "Service", "ConfigMap", "PodDisruptionBudget", "ServiceAccount"} {
				if _, ok := objs[kind]; !ok {
					t.Errorf("no %s rendered", kind)
				}
			}
			if _, ok := objs["PersistentVolumeClaim"]; ok != tc.persistentFS {
				t.Errorf("PersistentVolumeClaim rendered: %v, want %v", ok, tc.persistentFS)
			}
			if tc.name == "production" {
				if _, ok := objs["Ingress"]; !ok {
					t.Error("no Ingress rendered")
				}
			}
			d := objs["Deployment"].Spec
			if d.Replicas == nil || *d.Replicas != tc.replicas {
				t.Errorf("replicas %v, want %d", d.Replicas, tc.replicas)
			}
			if d.Strategy.Type != tc.strategy {
				t.Errorf("strategy %q, want %q", d.Strategy.Type, tc.strategy)
			}
			pod := d.Template.Spec
			if !pod.SecurityContext.RunAsNonRoot || pod.SecurityContext.RunAsUser == 0 {
				t.Errorf("pod may run as root: %+v", pod.SecurityContext)
			}
			if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
				t.Error("the pod mounts a service account token it never uses")
			}
			if len(pod.Containers) != 1 {
				t.Fatalf("%d containers", len(pod.Containers))
			}
			c := pod.Containers[0]
			if c.LivenessProbe.HTTPGet.Path != "/healthz" || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
				t.Errorf("probes: liveness %q, readiness %q", c.LivenessProbe.HTTPGet.Path, c.ReadinessProbe.HTTPGet.Path)
			}
			if c.Resources.Requests["cpu"] == "" || c.Resources.Requests["memory"] == "" {
				t.Errorf("no resource requests: %v", c.Resources.Requests)
			}
			sc := c.SecurityContext
			if !sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || !slices.Contains(sc.Capabilities.Drop, "ALL") {
				t.Errorf("container security context: %+v", sc)
			}
			var fromSecrets []string
			for _, e := range c.Env {
				if e.Value != nil && secretName.MatchString(e.Name) {
					t.Errorf("secret %s has a literal value; it must come from a Secret", e.Name)
				}
				if _, ok := e.ValueFrom["secretKeyRef"]; ok {
					fromSecrets = append(fromSecrets, e.Name)
				}
			}
			if !slices.Equal(fromSecrets, tc.secrets) && !(len(fromSecrets) == 0 && len(tc.secrets) == 0) {
				t.Errorf("secrets from Secret references %v, want %v", fromSecrets, tc.secrets)
			}
			// The rendered configuration is one the node accepts.
			path := filepath.Join(t.TempDir(), "brightspots.yaml")
			if err := os.WriteFile(path, []byte(objs["ConfigMap"].Data["brightspots.yaml"]), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg := loadWithSecrets(t, path)
			if cfg.Listen != "0.0.0.0:8080" || cfg.DataDir != "/var/lib/brightspots" {
				t.Errorf("rendered configuration listens on %s with data in %s", cfg.Listen, cfg.DataDir)
			}
		})
	}
	t.Run("replicas need shared state", func(t *testing.T) {
		_, err := helmRun("template", "district", chart, "--set", "replicaCount=2")
		if err == nil || !strings.Contains(err.Error(), "replicaCount > 1 needs config.storage.kind: s3 and config.search.kind: meilisearch") {
			t.Errorf("two replicas on the embedded store: %v", err)
		}
		_, err = helmRun("template", "district", chart, "-f", production, "--set", "config.search.kind=bleve")
		if err == nil || !strings.Contains(err.Error(), "replicaCount > 1 needs") {
			t.Errorf("three replicas on the embedded index: %v", err)
		}
	})
	t.Run("secrets are required", func(t *testing.T) {
		_, err := helmRun("template", "district", chart, "-f", production, "--set", "secrets.s3.existingSecret=")
		if err == nil || !strings.Contains(err.Error(), "secrets.s3.existingSecret is required") {
			t.Errorf("an S3 store without its Secret: %v", err)
		}
	})
}

// TestDeploySystemdUnit checks the unit with systemd's own verifier.
func TestDeploySystemdUnit(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		testenv.Missing(t, "systemd-analyze not installed (Debian package systemd)")
	}
	unit, err := os.ReadFile(deployPath("deploy", "brightspots.service"))
	if err != nil {
		t.Fatal(err)
	}
	// The verifier insists the binary exists; point it at one that does.
	dir := t.TempDir()
	bin := filepath.Join(dir, "brightspots")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(unit), "/usr/local/bin/brightspots", bin)
	path := filepath.Join(dir, "brightspots.service")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	for _, want := range []string{"NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes", "CapabilityBoundingSet=\n", "StateDirectory=brightspots", "EnvironmentFile="} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("the unit lacks %q", strings.TrimSpace(want))
		}
	}
}

// TestDeployDockerfile reads the image recipe (it cannot be built here): multi-stage, a static
// binary, a distroless or scratch base, a non-root user, and the Go version of go.mod.
func TestDeployDockerfile(t *testing.T) {
	f, err := os.Open(deployPath("Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var froms []string
	var user, build string
	sc := bufio.NewScanner(f)
	var cont strings.Builder
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cont.WriteString(strings.TrimSuffix(line, "\\") + " ")
			continue
		}
		line = cont.String() + line
		cont.Reset()
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		switch strings.ToUpper(fields[0]) {
		case "FROM":
			froms = append(froms, fields[1])
		case "USER":
			user = fields[1]
		case "RUN":
			if strings.Contains(line, "go build") {
				build = line
			}
		}
	}
	if len(froms) < 2 {
		t.Fatalf("not multi-stage: FROM %v", froms)
	}
	final := froms[len(froms)-1]
	if final != "scratch" && !strings.HasPrefix(final, "gcr.io/distroless/static") {
		t.Errorf("final base %s is neither distroless/static nor scratch", final)
	}
	if user == "" || user == "root" || strings.HasPrefix(user, "0") {
		t.Errorf("USER %q: the image must run as a non-root user", user)
	}
	if !strings.Contains(build, "CGO_ENABLED=0") {
		t.Errorf("the build is not static (CGO_ENABLED=0): %s", build)
	}
	gomod, err := os.ReadFile(deployPath("go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(gomod)
	if goVersion == nil || !strings.HasPrefix(froms[0], "golang:"+string(goVersion[1])) {
		t.Errorf("builder %s does not use go.mod's Go %s", froms[0], goVersion[1])
	}
	ignore, err := os.ReadFile(deployPath(".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{".git", ".tools", "deploy/.env"} {
		if !slices.Contains(strings.Fields(string(ignore)), want) {
			t.Errorf(".dockerignore does not keep %s out of the build context", want)
		}
	}
}

// TestDeployDocsLinks: every relative link in the operator guide and the README names a file that
// exists, and the README links to the guide.
func TestDeployDocsLinks(t *testing.T) {
	pages, err := filepath.Glob(deployPath("docs", "*.md"))
	if err != nil || len(pages) == 0 {
		t.Fatalf("no docs/*.md: %v", err)
	}
	pages = append(pages, deployPath("README.md"))
	link := regexp.MustCompile(`\]\(([^)#\s]+)(#[^)]*)?\)`)
	for _, page := range pages {
		text, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(string(text), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(page), target)); err != nil {
				t.Errorf("%s links to %s, which does not exist", filepath.Base(page), target)
			}
		}
	}
	readme, _ := os.ReadFile(deployPath("README.md"))
	if !strings.Contains(string(readme), "](docs/") {
		t.Error("README.md does not link to docs/")
	}
}
