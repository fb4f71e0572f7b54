package harvest

import (
	"context"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/storage"
	"github.com/brightspots-nic/brightspots/storage/fs"
)

var (
	node     = practices.Node{URL: "https://riverside.example.org", ID: "riverside"}
	mathPLC  = practices.Principal{Kind: "token", Subject: "t1", Roles: []practices.Role{practices.RolePublisher}, Teams: []string{"math-4"}}
	coord    = practices.Principal{Kind: "token", Subject: "t5", Roles: []practices.Role{practices.RoleCoordinator}}
	fixedDay = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
)

// clock is a test clock that moves only when told, shared by the repository and the handler.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fixture struct {
	t      testing.TB
	bucket storage.Bucket
	repo   *practices.Repo
	clock  *clock
	h      *Handler
}

func newFixture(t testing.TB, pageSize int) *fixture {
	t.Helper()
	b, err := fs.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: fixedDay}
	r, err := practices.Open(context.Background(), b, node, practices.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, bucket: b, repo: r, clock: c}
	f.h = New(Config{Repo: r, Name: "Riverside Unified", AdminEmail: "nic@riverside.example.org", PageSize: pageSize, Now: c.Now})
	return f
}

func practice(title, visibility string, subjects, grades []string) *practices.Practice {
	return &practices.Practice{
		Meta:         practices.Meta{Team: "math-4", Visibility: practices.Visibility(visibility)},
		Title:        title,
		Summary:      "Students place fractions on a shared number line before comparing them.",
		Description:  "1. Draw a number line.\n2. Place a card and explain.",
		KeyMoves:     []string{"Students justify placement aloud"},
		Subjects:     subjects,
		GradeLevels:  grades,
		Standards:    []practices.Standard{{Code: "CCSS.MATH.CONTENT.4.NF.A.2", URI: "https://case.example.org/uri/4-nf-a-2"}},
		OriginKind:   "team_designed",
		TimeRequired: "PT15M",
	}
}

// publish creates and publishes a practice, moving the clock so datestamps differ.
func (f *fixture) publish(title, visibility string, subjects, grades []string) string {
	f.t.Helper()
	ctx := context.Background()
	f.clock.Advance(3 * time.Second)
	rec, err := f.repo.Create(ctx, mathPLC, practice(title, visibility, subjects, grades))
	if err != nil {
		f.t.Fatal(err)
	}
	f.clock.Advance(3 * time.Second)
	if _, err := f.repo.Publish(ctx, mathPLC, practices.KindPractice, rec.RecordMeta().ID, 0); err != nil {
		f.t.Fatal(err)
	}
	return rec.RecordMeta().ID
}

// Response structure, enough to check what harvesters read.
type oaiResponse struct {
	XMLName      xml.Name `xml:"OAI-PMH"`
	ResponseDate string   `xml:"responseDate"`
	Request      struct {
		Verb  string `xml:"verb,attr"`
		Value string `xml:",chardata"`
	} `xml:"request"`
	Error []struct {
		Code string `xml:"code,attr"`
		Msg  string `xml:",chardata"`
	} `xml:"error"`
	Identify *struct {
		RepositoryName    string `xml:"repositoryName"`
		BaseURL           string `xml:"baseURL"`
		EarliestDatestamp string `xml:"earliestDatestamp"`
		DeletedRecord     string `xml:"deletedRecord"`
		Granularity       string `xml:"granularity"`
		AdminEmail        string `xml:"adminEmail"`
	} `xml:"Identify"`
	ListMetadataFormats *struct {
		Formats []struct {
			Prefix string `xml:"metadataPrefix"`
		} `xml:"metadataFormat"`
	} `xml:"ListMetadataFormats"`
	ListSets *struct {
		Sets []struct {
			Spec string `xml:"setSpec"`
			Name string `xml:"setName"`
		} `xml:"set"`
	} `xml:"ListSets"`
	GetRecord   *listBody `xml:"GetRecord"`
	ListRecords *listBody `xml:"ListRecords"`
	ListIDs     *listBody `xml:"ListIdentifiers"`
}

type header struct {
	Status     string   `xml:"status,attr"`
	Identifier string   `xml:"identifier"`
	Datestamp  string   `xml:"datestamp"`
	SetSpecs   []string `xml:"setSpec"`
}

type listBody struct {
	Records []struct {
		Header   header `xml:"header"`
		Metadata *struct {
			Inner []byte `xml:",innerxml"`
		} `xml:"metadata"`
	} `xml:"record"`
	Headers []header `xml:"header"`
	Token   *struct {
		Value   string `xml:",chardata"`
		Cursor  string `xml:"cursor,attr"`
		Expires string `xml:"expirationDate,attr"`
	} `xml:"resumptionToken"`
}

func (b *listBody) headers() []header {
	if b == nil {
		return nil
	}
	out := slices.Clone(b.Headers)
	for _, r := range b.Records {
		out = append(out, r.Header)
	}
	return out
}

func (f *fixture) get(query string) oaiResponse {
	f.t.Helper()
	return f.do(httptest.NewRequest(http.MethodGet, "/oai?"+query, nil))
}

func (f *fixture) do(req *http.Request) oaiResponse {
	f.t.Helper()
	w := httptest.NewRecorder()
	f.h.ServeOAI(w, req)
	if w.Code != http.StatusOK {
		f.t.Fatalf("%s %s: status %d: %s", req.Method, req.URL, w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/xml") {
		f.t.Fatalf("Content-Type %q", ct)
	}
	var r oaiResponse
	if err := xml.Unmarshal(w.Body.Bytes(), &r); err != nil {
		f.t.Fatalf("not XML: %v\n%s", err, w.Body)
	}
	return r
}

func wantError(t *testing.T, r oaiResponse, code string) {
	t.Helper()
	if len(r.Error) == 0 || r.Error[0].Code != code {
		t.Fatalf("want error %s, got %+v", code, r.Error)
	}
	if r.Error[0].Msg == "" {
		t.Errorf("error %s has no message", code)
	}
}

// harvest runs a whole list, following tokens, and returns every header in order.
func (f *fixture) harvest(verb, query string) []header {
	f.t.Helper()
	var out []header
	r := f.get("verb=" + verb + "&" + query)
	for pages := 0; ; pages++ {
		if len(r.Error) > 0 {
			if r.Error[0].Code == errNoRecordsMatch && pages == 0 {
				return nil
			}
			f.t.Fatalf("harvest error: %+v", r.Error)
		}
		body := r.ListRecords
		if verb == "ListIdentifiers" {
			body = r.ListIDs
		}
		out = append(out, body.headers()...)
		if body.Token == nil || body.Token.Value == "" {
			return out
		}
		if pages > 1000 {
			f.t.Fatal("harvest does not end")
		}
		r = f.get("verb=" + verb + "&resumptionToken=" + url.QueryEscape(body.Token.Value))
	}
}

func ids(hs []header) []string {
	var out []string
	for _, h := range hs {
		out = append(out, h.Identifier)
	}
	return out
}

func (f *fixture) oaiID(id string) string { return "oai:riverside.example.org:practice/" + id }

func TestIdentifyAndFormats(t *testing.T) {
	f := newFixture(t, 10)
	f.publish("Number line talks", "public", []string{"math"}, []string{"04"})
	r := f.get("verb=Identify")
	id := r.Identify
	if id == nil || id.BaseURL != node.URL+"/oai" || id.DeletedRecord != "persistent" ||
		id.Granularity != "YYYY-MM-DDThh:mm:ssZ" || id.RepositoryName != "Riverside Unified" ||
		id.AdminEmail != "nic@riverside.example.org" || id.EarliestDatestamp > "2026-03-02T08:00:03Z" {
		t.Fatalf("Identify = %+v", id)
	}
	r = f.get("verb=ListMetadataFormats")
	var prefixes []string
	for _, m := range r.ListMetadataFormats.Formats {
		prefixes = append(prefixes, m.Prefix)
	}
	if !slices.Equal(prefixes, []string{"oai_dc", "lrmi"}) {
		t.Fatalf("formats %v", prefixes)
	}
}

func TestFullAndIncrementalHarvest(t *testing.T) {
	f := newFixture(t, 3)
	ctx := context.Background()
	var public []string
	for i := range 8 {
		public = append(public, f.publish("Public practice "+string(rune('A'+i)), "public", []string{"math"}, []string{"04"}))
	}
	districtOnly := f.publish("District practice", "district", []string{"math"}, []string{"04"})
	draft, err := f.repo.Create(ctx, mathPLC, practice("Draft", "public", []string{"math"}, []string{"04"}))
	if err != nil {
		t.Fatal(err)
	}

	for _, verb := range []string{"ListRecords", "ListIdentifiers"} {
		got := ids(f.harvest(verb, "metadataPrefix=oai_dc"))
		var want []string
		for _, id := range public {
			want = append(want, f.oaiID(id))
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%s harvested\n%v\nwant\n%v", verb, got, want)
		}
	}
	for _, hidden := range []string{districtOnly, draft.RecordMeta().ID} {
		wantError(t, f.get("verb=GetRecord&metadataPrefix=oai_dc&identifier="+f.oaiID(hidden)), errIDDoesNotExist)
	}

	// Changes after the first harvest: a withdrawal, a narrowing, a deletion, a new record, and a
	// district-only record withdrawn (never public: harvesters must not learn it existed).
	f.clock.Advance(time.Minute)
	since := datestamp(f.clock.Now())
	f.clock.Advance(2 * time.Second)
	if _, err := f.repo.Withdraw(ctx, mathPLC, practices.KindPractice, public[0], 0); err != nil {
		t.Fatal(err)
	}
	rec, _ := f.repo.Get(ctx, mathPLC, practices.KindPractice, public[1])
	narrowed := rec.(*practices.Practice)
	narrowed.Visibility = practices.VisibilityDistrict
	if _, err := f.repo.Update(ctx, mathPLC, practices.KindPractice, public[1], 0, narrowed); err != nil {
		t.Fatal(err)
	}
	if err := f.repo.Delete(ctx, mathPLC, practices.KindPractice, public[2], 0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.repo.Withdraw(ctx, mathPLC, practices.KindPractice, districtOnly, 0); err != nil {
		t.Fatal(err)
	}
	added := f.publish("Added later", "public", []string{"science"}, []string{"07"})

	got := f.harvest("ListRecords", "metadataPrefix=lrmi&from="+since)
	status := map[string]string{}
	for _, h := range got {
		status[h.Identifier] = h.Status
		if h.Datestamp < since {
			t.Errorf("datestamp %s before from %s", h.Datestamp, since)
		}
	}
	want := map[string]string{
		f.oaiID(public[0]): "deleted", f.oaiID(public[1]): "deleted", f.oaiID(public[2]): "deleted", f.oaiID(added): "",
	}
	if len(status) != len(want) || len(got) != len(want) {
		t.Fatalf("incremental harvest %+v, want %v", got, want)
	}
	for id, s := range want {
		if st, ok := status[id]; !ok || st != s {
			t.Errorf("%s: status %q (present %v), want %q", id, st, ok, s)
		}
	}
	// Deleted records stay deleted in a full harvest (persistent), and keep their sets.
	full := f.harvest("ListIdentifiers", "metadataPrefix=oai_dc&set=subject:math")
	deleted := 0
	for _, h := range full {
		if h.Status == "deleted" {
			deleted++
			if !slices.Contains(h.SetSpecs, "subject:math") {
				t.Errorf("deleted header lost its sets: %+v", h)
			}
		}
		if h.Identifier == f.oaiID(added) || h.Identifier == f.oaiID(districtOnly) {
			t.Errorf("set subject:math lists %s", h.Identifier)
		}
	}
	if deleted != 3 || len(full) != 8 {
		t.Errorf("subject:math harvest: %d headers, %d deleted; want 8 and 3", len(full), deleted)
	}
	r := f.get("verb=GetRecord&metadataPrefix=oai_dc&identifier=" + f.oaiID(public[2]))
	if hs := r.GetRecord.headers(); len(hs) != 1 || hs[0].Status != "deleted" || r.GetRecord.Records[0].Metadata != nil {
		t.Errorf("GetRecord of a deleted record: %+v", r.GetRecord)
	}
	// until bounds the other end.
	before := f.harvest("ListIdentifiers", "metadataPrefix=oai_dc&until="+since)
	if len(before) != 5 {
		t.Errorf("until %s: %d headers, want the 5 unchanged records", since, len(before))
	}
}

func TestMetadata(t *testing.T) {
	f := newFixture(t, 10)
	id := f.publish("Number line talks", "public", []string{"math"}, []string{"04", "05"})
	r := f.get("verb=GetRecord&metadataPrefix=lrmi&identifier=" + f.oaiID(id))
	md := string(r.GetRecord.Records[0].Metadata.Inner)
	for _, want := range []string{
		"<lrmi:name>Number line talks</lrmi:name>",
		"<lrmi:about>Mathematics</lrmi:about>",
		"<lrmi:educationalLevel>4</lrmi:educationalLevel>",
		`<lrmi:educationalAlignment alignmentType="teaches">`,
		"<lrmi:targetName>CCSS.MATH.CONTENT.4.NF.A.2</lrmi:targetName>",
		"<lrmi:targetUrl>https://case.example.org/uri/4-nf-a-2</lrmi:targetUrl>",
		"<lrmi:license>https://creativecommons.org/licenses/by/4.0/</lrmi:license>",
		"<lrmi:learningResourceType>activity plan</lrmi:learningResourceType>",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("lrmi lacks %s:\n%s", want, md)
		}
	}
	hs := r.GetRecord.headers()
	for _, s := range []string{"kind:practice", "subject", "subject:math", "grade", "grade:3-5"} {
		if !slices.Contains(hs[0].SetSpecs, s) {
			t.Errorf("setSpecs %v lack %s", hs[0].SetSpecs, s)
		}
	}
	r = f.get("verb=GetRecord&metadataPrefix=oai_dc&identifier=" + f.oaiID(id))
	md = string(r.GetRecord.Records[0].Metadata.Inner)
	for _, want := range []string{"<dc:title>Number line talks</dc:title>", "<dc:identifier>" + node.URL + "/practices/" + id + "</dc:identifier>"} {
		if !strings.Contains(md, want) {
			t.Errorf("oai_dc lacks %s:\n%s", want, md)
		}
	}
}

func TestCollectionSets(t *testing.T) {
	f := newFixture(t, 10)
	ctx := context.Background()
	a := f.publish("In the collection", "public", []string{"math"}, []string{"04"})
	f.publish("Not in it", "public", []string{"math"}, []string{"04"})
	col, err := f.repo.Create(ctx, coord, &practices.Collection{
		Meta:  practices.Meta{Team: "nic", Visibility: practices.VisibilityPublic},
		Title: "Fractions sense", Description: "Practices for fraction sense.",
		Items: []practices.CollectionItem{{PracticeURI: node.URL + "/practices/" + a}},
	})
	if err != nil {
		t.Fatal(err)
	}
	cid := col.RecordMeta().ID
	wantError(t, f.get("verb=ListRecords&metadataPrefix=oai_dc&set=collection:"+cid), errNoRecordsMatch) // still a draft
	if _, err := f.repo.Publish(ctx, coord, practices.KindCollection, cid, 0); err != nil {
		t.Fatal(err)
	}
	r := f.get("verb=ListSets")
	found := false
	for _, s := range r.ListSets.Sets {
		if s.Spec == "collection:"+cid && s.Name == "Fractions sense" {
			found = true
		}
	}
	if !found {
		t.Fatalf("ListSets lacks the collection: %+v", r.ListSets)
	}
	got := ids(f.harvest("ListIdentifiers", "metadataPrefix=oai_dc&set=collection:"+cid))
	if !slices.Equal(got, []string{f.oaiID(a)}) {
		t.Fatalf("collection set = %v", got)
	}
	kinds := ids(f.harvest("ListIdentifiers", "metadataPrefix=oai_dc&set=kind:collection"))
	if !slices.Equal(kinds, []string{"oai:riverside.example.org:collection/" + cid}) {
		t.Fatalf("kind:collection = %v", kinds)
	}
}

func TestProtocolErrors(t *testing.T) {
	f := newFixture(t, 2)
	for i := range 3 {
		f.publish("P"+string(rune('0'+i)), "public", []string{"math"}, []string{"04"})
	}
	first := f.get("verb=ListRecords&metadataPrefix=oai_dc")
	tok := first.ListRecords.Token.Value
	tampered := []byte(tok)
	tampered[5] ^= 1
	cases := []struct{ query, code string }{
		{"", errBadVerb},
		{"verb=Dance", errBadVerb},
		{"verb=Identify&verb=Identify", errBadVerb},
		{"verb=Identify&extra=1", errBadArgument},
		{"verb=GetRecord&identifier=x", errBadArgument},
		{"verb=ListRecords", errBadArgument},
		{"verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=oai_dc", errBadArgument},
		{"verb=ListRecords&metadataPrefix=oai_dc&from=2026-13-01", errBadArgument},
		{"verb=ListRecords&metadataPrefix=oai_dc&from=2026-01-01T00:00:00", errBadArgument},
		{"verb=ListRecords&metadataPrefix=oai_dc&from=2026-01-01&until=2026-02-01T00:00:00Z", errBadArgument},
		{"verb=ListRecords&metadataPrefix=oai_dc&from=2026-02-01&until=2026-01-01", errBadArgument},
		{"verb=ListRecords&metadataPrefix=oai_dc&set=bad%20set", errBadArgument},
		{"verb=ListRecords&metadataPrefix=oai_dc&resumptionToken=" + url.QueryEscape(tok), errBadArgument},
		{"verb=ListRecords&resumptionToken=" + url.QueryEscape(string(tampered)), errBadResumptionToken},
		{"verb=ListRecords&resumptionToken=garbage", errBadResumptionToken},
		{"verb=ListIdentifiers&resumptionToken=" + url.QueryEscape(tok), errBadResumptionToken},
		{"verb=ListSets&resumptionToken=x", errBadResumptionToken},
		{"verb=ListRecords&metadataPrefix=marc21", errCannotDisseminateFormat},
		{"verb=GetRecord&metadataPrefix=marc21&identifier=" + f.oaiID("0190d0a4-9c4e-7c3a-8a51-1f2e3d4c5b6a"), errCannotDisseminateFormat},
		{"verb=GetRecord&metadataPrefix=oai_dc&identifier=" + f.oaiID("0190d0a4-9c4e-7c3a-8a51-1f2e3d4c5b6a"), errIDDoesNotExist},
		{"verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:elsewhere.org:practice/0190d0a4-9c4e-7c3a-8a51-1f2e3d4c5b6a", errIDDoesNotExist},
		{"verb=ListMetadataFormats&identifier=nonsense", errIDDoesNotExist},
		{"verb=ListRecords&metadataPrefix=oai_dc&from=2030-01-01", errNoRecordsMatch},
		{"verb=ListRecords&metadataPrefix=oai_dc&set=subject:arts", errNoRecordsMatch},
		{"verb=ListRecords&metadataPrefix=oai_dc&set=aim:0190d0a4-9c4e-7c3a-8a51-1f2e3d4c5b6a", errNoRecordsMatch},
		{"verb=ListRecords&metadataPrefix=oai_dc&%zz", errBadArgument},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			r := f.get(c.query)
			wantError(t, r, c.code)
			if (c.code == errBadVerb || c.code == errBadArgument) && r.Request.Verb != "" {
				t.Errorf("request element carries attributes on %s", c.code)
			}
		})
	}
	// POST works like GET, and a wrong content type is a bad argument.
	req := httptest.NewRequest(http.MethodPost, "/oai", strings.NewReader("verb=Identify"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if r := f.do(req); r.Identify == nil {
		t.Errorf("POST Identify: %+v", r)
	}
	req = httptest.NewRequest(http.MethodPost, "/oai", strings.NewReader(`{"verb":"Identify"}`))
	req.Header.Set("Content-Type", "application/json")
	wantError(t, f.do(req), errBadArgument)
}

func TestTokensSurviveRestartAndExpire(t *testing.T) {
	f := newFixture(t, 2)
	for i := range 5 {
		f.publish("P"+string(rune('0'+i)), "public", []string{"math"}, []string{"04"})
	}
	tok := f.get("verb=ListIdentifiers&metadataPrefix=oai_dc").ListIDs // 4 headers of 5
	if tok == nil || tok.Token == nil || tok.Token.Value == "" || tok.Token.Cursor != "0" {
		t.Fatalf("first page: %+v", tok)
	}
	// A new handler over the same store (a restart, or another replica) accepts the token.
	restarted := New(Config{Repo: f.repo, PageSize: 2, Now: f.clock.Now})
	f.h = restarted
	r := f.get("verb=ListIdentifiers&resumptionToken=" + url.QueryEscape(tok.Token.Value))
	if len(r.Error) > 0 || len(r.ListIDs.Headers) != 1 || r.ListIDs.Token == nil || r.ListIDs.Token.Value != "" || r.ListIDs.Token.Cursor != "4" {
		t.Fatalf("resumed after restart: %+v", r)
	}
	f.clock.Advance(25 * time.Hour)
	wantError(t, f.get("verb=ListIdentifiers&resumptionToken="+url.QueryEscape(tok.Token.Value)), errBadResumptionToken)
}
