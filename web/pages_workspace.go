package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/practices/evidence"
	"github.com/brightspots-nic/brightspots/practices/standards"
)

// The PLC workspace: a team's drafts and published records, the practice editor with artifact
// uploads and a publish checklist, and the test page (plan, score upload, results card, decision,
// publish). Every change goes through the repository, which decides who may do what
// (practices.CanCreate/CanWrite); handlers only ask it. Page handlers return the repository's errors,
// which the error handler turns into the 404/403 pages or a redirect to sign in.

// teamFor is the team a new record about something of team `of` defaults to: that team when the
// caller is in it (a test of their own team's practice), else the caller's first.
func teamFor(p practices.Principal, of string) string {
	if slices.Contains(p.Teams, of) {
		return of
	}
	return someTeam(p)
}

// someTeam is the team a new record defaults to: the caller's first.
func someTeam(p practices.Principal) string {
	if len(p.Teams) > 0 {
		return p.Teams[0]
	}
	return ""
}

// mayCreate asks the access rules whether p may create records of kind for some team of theirs
// (admins for any team): the gate of the workspace pages.
func mayCreate(p practices.Principal, kind practices.Kind) error {
	return practices.CanCreateSome(p, kind)
}

// lookupPractice finds the practice a URI names, local or mirrored from a peer, if p may see it.
func (s *Server) lookupPractice(ctx context.Context, p practices.Principal, uri string) (*practices.Practice, error) {
	origin, kind, id, ok := practices.ParseURI(uri)
	if !ok || kind != practices.KindPractice {
		return nil, practices.ErrNotFound
	}
	if origin == s.repo.Node().URL {
		rec, err := s.repo.Get(ctx, p, kind, id)
		if err != nil {
			return nil, err
		}
		return rec.(*practices.Practice), nil
	}
	rec, gone, err := s.repo.Load(ctx, origin, kind, id)
	if err != nil || gone {
		return nil, practices.ErrNotFound
	}
	if !practices.CanRead(p, rec.RecordMeta(), s.repo.Node()) {
		return nil, practices.ErrNotFound
	}
	return rec.(*practices.Practice), nil
}

// practiceLink is where a practice is read on this node (the teacher pages show local and
// mirrored practices alike).
func (s *Server) practiceLink(pr *practices.Practice) string { return "/practices/" + pr.ID }

// versionOf reads the hidden "version" field of an editing form.
func versionOf(c echo.Context) int {
	v, err := strconv.Atoi(c.FormValue("version"))
	if err != nil || v < 0 {
		return 0
	}
	return v
}

// seeOther redirects after a successful POST (post/redirect/get).
func seeOther(c echo.Context, path string, q url.Values) error {
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	return c.Redirect(http.StatusSeeOther, path)
}

// ---- the workspace home ----

type teamWork struct {
	Team      string
	Practices []*practices.Practice
	Tests     []testRow
}

type testRow struct {
	Test                        *practices.Test
	PracticeTitle, PracticeLink string
}

type workspaceData struct {
	Notice   string   // after a deletion (pages_undo.go)
	Switch   []string // the caller's teams, when more than one: the team switcher
	Current  string   // the team shown
	Teams    []teamWork
	Activity []activityRow // what other teams did with this team's work (pages_cycles.go)
}

func (s *Server) workspaceHome(c echo.Context) error {
	p := principal(c)
	if err := mayCreate(p, practices.KindPractice); err != nil {
		return err
	}
	ctx := c.Request().Context()
	teams := p.Teams
	if len(teams) == 0 {
		teams = []string{""} // an admin without a team: every team's records
	}
	var data workspaceData
	// One team at a time: someone in many teams gets a switcher, not every team's lists on one
	// page. The choice rides in the query (?team=), so it survives reloads, links and Back.
	if len(teams) > 1 {
		data.Switch, data.Current = teams, teams[0]
		if want := c.QueryParam("team"); slices.Contains(teams, want) {
			data.Current = want
		}
		teams = []string{data.Current}
	}
	if title := c.QueryParam("deleted"); title != "" {
		data.Notice = "Deleted “" + title + "”."
	}
	titles := map[string]*practices.Practice{}
	for _, team := range teams {
		tw := teamWork{Team: team}
		recs, err := s.listUpTo(ctx, p, practices.KindPractice, practices.ListFilter{Team: team}, 200)
		if err != nil {
			return err
		}
		for i := len(recs) - 1; i >= 0; i-- { // newest first
			pr := recs[i].(*practices.Practice)
			if practices.CanWrite(p, &pr.Meta) == nil {
				tw.Practices = append(tw.Practices, pr)
				titles[pr.URI] = pr
			}
		}
		tests, err := s.listUpTo(ctx, p, practices.KindTest, practices.ListFilter{Team: team}, 200)
		if err != nil {
			return err
		}
		for i := len(tests) - 1; i >= 0; i-- {
			t := tests[i].(*practices.Test)
			if practices.CanWrite(p, &t.Meta) != nil {
				continue
			}
			row := testRow{Test: t}
			pr, ok := titles[t.Practice.URI]
			if !ok {
				if found, err := s.lookupPractice(ctx, p, t.Practice.URI); err == nil {
					pr = found
					titles[t.Practice.URI] = found
				}
			}
			if pr != nil {
				row.PracticeTitle, row.PracticeLink = pr.Title, s.practiceLink(pr)
			}
			tw.Tests = append(tw.Tests, row)
		}
		data.Teams = append(data.Teams, tw)
	}
	data.Activity = s.activityRows(ctx, p)
	return s.render(c, http.StatusOK, "workspace", "PLC workspace", data)
}

// ---- practices ----

type practiceEditView struct {
	*EditPage
	Practice   *practices.Practice // nil on the new-practice page
	Teams      []string            // teams the caller may create for
	FreeTeam   bool                // an admin without a team types one
	KnownTeams []string            // with FreeTeam: the node's teams, offered as suggestions
	Tests      []*practices.Test
	Checklist  []checkItem
	Ready      bool
	Upload     *EditPage // the artifact upload field and its error
	// StandardItems are the imported CASE items the standards picker offers (harvest_standards.go).
	StandardItems []standards.Item
	MaxUpload     int64
	Link          string // the public page, once published
}

// peerChoice is one district of the sharing picker.
type peerChoice struct {
	ID, Name string
	Checked  bool
}

// withPeers gives an editing page the sharing picker's districts and returns them.
func (s *Server) withPeers(ep *EditPage) []peerChoice {
	if ep != nil {
		ep.Peers = s.peerChoices(sharedWithOf(ep.Form))
		return ep.Peers
	}
	return nil
}

// peerChoices lists the node's peers for the sharing picker, ticking those picked names.
func (s *Server) peerChoices(picked []string) []peerChoice {
	if s.fed == nil {
		return nil
	}
	var out []peerChoice
	for _, p := range s.fed.Peers() {
		out = append(out, peerChoice{ID: p.ID, Name: p.Name, Checked: slices.Contains(picked, p.ID)})
	}
	return out
}

// joinSharedWith turns the picker's ticked boxes (several shared_with values) into the one
// comma-separated value the form's other paths (merging, validation messages) work with.
func joinSharedWith(posted url.Values) url.Values {
	if len(posted["shared_with"]) > 1 {
		posted.Set("shared_with", strings.Join(posted["shared_with"], ", "))
	}
	return posted
}

func (s *Server) newPracticePage(c echo.Context) error {
	p := principal(c)
	if err := mayCreate(p, practices.KindPractice); err != nil {
		return err
	}
	// The team the workspace was showing (its switcher's ?team=), else the caller's first.
	v := url.Values{"visibility": {"district"}, "license": {practices.DefaultLicense}, "origin_kind": {"team_designed"},
		"team": {teamFor(p, c.QueryParam("team"))}, "based_on.relation": {"adaptation_of"}}
	return s.renderPracticeForm(c, http.StatusOK, newEditPage(practices.KindPractice, v, 0))
}

func (s *Server) renderPracticeForm(c echo.Context, status int, ep *EditPage) error {
	p := principal(c)
	s.withPeers(ep)
	page := practiceEditView{EditPage: ep, Teams: p.Teams, FreeTeam: len(p.Teams) == 0, KnownTeams: s.teamSuggestions(c.Request().Context(), p),
		StandardItems: s.standardItems(c.Request().Context())}
	return s.render(c, status, "workspace_practice_new", "New practice", page)
}

func (s *Server) createPracticePage(c echo.Context) error {
	p := principal(c)
	if err := mayCreate(p, practices.KindPractice); err != nil {
		return err
	}
	posted, err := c.FormParams()
	if err != nil {
		return err
	}
	v := canonical(joinSharedWith(joinPickedStandard(posted)), append(slices.Clone(formKeys[practices.KindPractice]), "team"))
	rec, problems := practiceFromValues(v, nil)
	s.alignToCatalog(c.Request().Context(), rec)
	out, problems, err := s.createFromForm(c, p, rec, problems)
	if err != nil {
		return err
	}
	if out != nil {
		return seeOther(c, "/workspace/practices/"+out.RecordMeta().ID+"/edit", url.Values{"saved": {"created"}})
	}
	ep := newEditPage(practices.KindPractice, v, 0)
	ep.addProblems(problems)
	return s.renderPracticeForm(c, http.StatusUnprocessableEntity, ep)
}

// createFromForm creates rec unless the form already has problems; otherwise (or when the record
// does not validate) it returns every problem, so the page can show each next to its field with what
// was typed. Problems from parsing the form and from validation are shown together.
func (s *Server) createFromForm(c echo.Context, p practices.Principal, rec practices.Record, problems []practices.FieldError) (practices.Record, []practices.FieldError, error) {
	var ve *practices.ValidationError
	if err := practices.Validate(rec, practices.LevelCreate); errors.As(err, &ve) {
		problems = append(problems, ve.Problems...)
	}
	if len(problems) > 0 {
		return nil, problems, nil
	}
	out, err := s.repo.Create(c.Request().Context(), p, rec)
	if errors.As(err, &ve) {
		return nil, ve.Problems, nil
	}
	return out, nil, err
}

// writablePractice loads a local practice p may edit: 404 when p may not see it, 403 when p may
// see but not change it.
func (s *Server) writablePractice(c echo.Context) (*practices.Practice, error) {
	return writableRecord[*practices.Practice](s, c, practices.KindPractice)
}

func (s *Server) editPracticePage(c echo.Context) error {
	pr, err := s.writablePractice(c)
	if err != nil {
		return err
	}
	ep := newEditPage(practices.KindPractice, practiceValues(pr), pr.Version)
	s.savedNotice(c, ep)
	upload := newEditPage(practices.KindPractice, nil, 0)
	if sum := c.QueryParam("uploaded"); sum != "" {
		for _, m := range pr.Materials {
			if m.SHA256 == sum {
				ep.Notice = "Uploaded " + m.Name + "."
			}
		}
	}
	return s.renderPracticeEdit(c, http.StatusOK, pr, ep, upload)
}

// savedNotice turns the query of a redirect after a save into the page's notice.
func (s *Server) savedNotice(c echo.Context, ep *EditPage) {
	q := c.QueryParams()
	switch q.Get("saved") {
	case "created":
		ep.Notice = "Created as a draft. Only your team can see it until it is published."
	case "1":
		ep.Notice = "Saved."
	}
	if q.Get("published") == "1" {
		ep.Notice = "Published."
	}
	// The undo forms (pages_undo.go).
	if q.Get("withdrawn") == "1" {
		ep.Notice = "Withdrawn. It no longer shows in search here or in other districts; you can publish it again."
	}
	if name := q.Get("removed"); name != "" {
		ep.Notice = "Removed " + name + " from the materials."
	}
	switch q.Get("refused") {
	case "stale":
		ep.Notice, ep.Problem = "Nothing changed: another team member changed this after you opened the page. Check the latest version below, then try again.", true
	case "published":
		ep.Notice, ep.Problem = "Nothing deleted: a published record is withdrawn first, then deleted.", true
	case "state":
		ep.Notice, ep.Problem = "Nothing changed: only a published record can be withdrawn.", true
	}
	if merged := q.Get("merged"); merged != "" {
		var labels []string
		for _, k := range strings.Split(merged, ",") {
			if slices.Contains(formKeys[ep.Kind], k) || strings.HasPrefix(k, "note:") {
				labels = append(labels, ep.label(strings.SplitN(k, ":", 2)[0]))
			}
		}
		if len(labels) > 0 {
			ep.Notice = "Saved. Another team member changed this while you were editing; their changes to " +
				strings.Join(labels, ", ") + " were kept along with yours."
		}
	}
}

func (s *Server) renderPracticeEdit(c echo.Context, status int, pr *practices.Practice, ep, upload *EditPage) error {
	p := principal(c)
	ctx := c.Request().Context()
	s.withPeers(ep)
	page := practiceEditView{EditPage: ep, Practice: pr, Upload: upload, MaxUpload: s.cfg.Limits.MaxArtifactBytes,
		StandardItems: s.standardItems(c.Request().Context())}
	page.Checklist = checklist(practices.KindPractice, pr)
	page.Ready = checklistReady(page.Checklist)
	if pr.Status == practices.StatusPublished {
		page.Link = s.practiceLink(pr)
	}
	tests, err := s.listUpTo(ctx, p, practices.KindTest, practices.ListFilter{Team: pr.Team}, 200)
	if err != nil {
		return err
	}
	for _, r := range tests {
		if t := r.(*practices.Test); t.Practice.URI == pr.URI {
			page.Tests = append(page.Tests, t)
		}
	}
	return s.render(c, status, "workspace_practice", pr.Title, page)
}

func (s *Server) savePracticePage(c echo.Context) error {
	pr, err := s.writablePractice(c)
	if err != nil {
		return err
	}
	posted, err := c.FormParams()
	if err != nil {
		return err
	}
	keys := formKeys[practices.KindPractice]
	spec := mergeSpec{
		kind: practices.KindPractice, id: pr.ID, keys: keys,
		values: func(r practices.Record) url.Values { return practiceValues(r.(*practices.Practice)) },
		record: func(v url.Values, cur practices.Record) (practices.Record, []practices.FieldError) {
			p, problems := practiceFromValues(v, cur.(*practices.Practice))
			s.alignToCatalog(c.Request().Context(), p)
			return p, problems
		},
	}
	saved, ep, taken, err := s.saveMerging(c, spec, pr, canonical(joinSharedWith(joinPickedStandard(posted)), keys), versionOf(c))
	if err != nil {
		return err
	}
	if saved == nil {
		cur, err := s.writablePractice(c)
		if err != nil {
			return err
		}
		return s.renderPracticeEdit(c, editStatus(ep), cur, ep, newEditPage(practices.KindPractice, nil, 0))
	}
	return seeOther(c, "/workspace/practices/"+pr.ID+"/edit", savedQuery(taken))
}

func savedQuery(taken []string) url.Values {
	q := url.Values{"saved": {"1"}}
	if len(taken) > 0 {
		q.Set("merged", strings.Join(taken, ","))
	}
	return q
}

// editStatus is the status of a form shown again: 409 for a concurrent change to reconcile, 422
// for problems.
func editStatus(ep *EditPage) int {
	if len(ep.Theirs) > 0 {
		return http.StatusConflict
	}
	return http.StatusUnprocessableEntity
}

// mergeSpec describes how saveMerging reads and writes one kind of record through form values.
type mergeSpec struct {
	kind   practices.Kind
	id     string
	keys   []string // the fields the form posts (and so may merge)
	values func(practices.Record) url.Values
	record func(url.Values, practices.Record) (practices.Record, []practices.FieldError)
}

// saveMerging saves the form values mine, read from version expected, as the next version. When
// another member saved first it merges (merge3) against the version the form started from and
// retries; fields both changed come back in the page's Theirs for the editor to reconcile. It
// returns the saved record, or the page to show again (problems or conflicts), and the fields taken
// from the other member's change.
func (s *Server) saveMerging(c echo.Context, spec mergeSpec, cur practices.Record, mine url.Values, expected int) (practices.Record, *EditPage, []string, error) {
	p := principal(c)
	ctx := c.Request().Context()
	var taken []string
	if expected == 0 {
		expected = cur.RecordMeta().Version
	}
	for attempt := 0; attempt < 4; attempt++ {
		in, problems := spec.record(mine, cur)
		if len(problems) > 0 {
			in.RecordMeta().Team = cur.RecordMeta().Team
			var ve *practices.ValidationError
			if err := practices.Validate(in, practices.LevelCreate); errors.As(err, &ve) {
				problems = append(problems, ve.Problems...)
			}
			ep := newEditPage(spec.kind, mine, expected)
			ep.addProblems(problems)
			return nil, ep, taken, nil
		}
		out, err := s.repo.Update(ctx, p, spec.kind, spec.id, expected, in)
		var ve *practices.ValidationError
		switch {
		case err == nil:
			return out, nil, taken, nil
		case errors.As(err, &ve):
			ep := newEditPage(spec.kind, mine, expected)
			ep.addProblems(ve.Problems)
			return nil, ep, taken, nil
		case !errors.Is(err, practices.ErrStale):
			return nil, nil, nil, err
		}
		theirsRec, err := s.repo.Get(ctx, p, spec.kind, spec.id)
		if err != nil {
			return nil, nil, nil, err
		}
		var base url.Values
		if b, err := s.repo.GetVersion(ctx, p, spec.kind, spec.id, expected); err == nil {
			base = spec.values(b)
		}
		theirs := spec.values(theirsRec)
		keys := spec.keys
		if spec.kind == practices.KindCollection {
			keys = collectionKeys(base, mine, theirs)
		}
		merged, conflicts, took := merge3(base, mine, theirs, keys)
		// Fields this form does not post always follow the current version.
		merged = overlay(theirs, merged, keys)
		taken = append(taken, took...)
		cur, mine, expected = theirsRec, merged, theirsRec.RecordMeta().Version
		if len(conflicts) > 0 {
			ep := newEditPage(spec.kind, merged, expected)
			ep.Theirs = conflicts
			for _, k := range taken {
				ep.Taken = append(ep.Taken, ep.label(strings.SplitN(k, ":", 2)[0]))
			}
			ep.Notice = "Another team member saved this while you were editing. Where you both changed a field, " +
				"your text is still in the field and theirs is shown below it: combine them, then save again."
			ep.Problem = true
			return nil, ep, taken, nil
		}
	}
	return nil, nil, nil, practices.ErrStale
}

// uploadArtifactPage is the upload without JavaScript: a multipart form posted to the page (the
// CSRF token is its first part, which the middleware reads before the streamed file). With JavaScript, workspace.js
// sends the same file to the API route instead and shows progress.
func (s *Server) uploadArtifactPage(c echo.Context) error {
	pr, err := s.writablePractice(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	p := principal(c)
	limit := s.cfg.Limits.MaxArtifactBytes
	r := c.Request()
	r.Body = http.MaxBytesReader(c.Response(), r.Body, limit+64<<10)
	refuse := func(status int, msg string) error {
		upload := newEditPage(practices.KindPractice, nil, 0)
		upload.Errors["file"] = []string{msg}
		upload.Problems = []problemView{{Anchor: fieldID("file"), Text: msg}}
		return s.renderPracticeEdit(c, status, pr, newEditPage(practices.KindPractice, practiceValues(pr), pr.Version), upload)
	}
	mt, params, _ := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
	if mt != "multipart/form-data" || params["boundary"] == "" {
		return refuse(http.StatusBadRequest, "Choose a file to upload.")
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return refuse(http.StatusBadRequest, "The upload did not arrive as a file; try again.")
	}
	var (
		name string
		body io.Reader
	)
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return refuse(http.StatusUnprocessableEntity, "Choose a file to upload.")
		}
		if err != nil {
			return refuse(http.StatusBadRequest, "The upload was interrupted; try again.")
		}
		if part.FormName() == "file" {
			_, dp, _ := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
			name, body = dp["filename"], part
			break
		}
	}
	if name == "" {
		return refuse(http.StatusUnprocessableEntity, "Choose a file to upload.")
	}
	ref, err := s.repo.StoreArtifact(ctx, name, body, limit)
	var (
		ae  *practices.ArtifactError
		mbe *http.MaxBytesError
	)
	switch {
	case errors.As(err, &ae):
		return refuse(toProblem(err).Status, "The file was refused: "+ae.Msg+".")
	case errors.As(err, &mbe):
		return refuse(http.StatusRequestEntityTooLarge, fmt.Sprintf("The file was refused: it is larger than the limit of %d bytes.", limit))
	case err != nil:
		return err
	}
	if _, err := s.repo.AttachArtifact(ctx, p, pr.ID, ref); err != nil {
		if errors.As(err, &ae) {
			return refuse(http.StatusUnprocessableEntity, "The file was refused: "+ae.Msg+".")
		}
		return err
	}
	s.logger.Info("artifact stored", append(logAttrs(c), "sha256", ref.SHA256, "size", ref.Size, "media_type", ref.MediaType, "practice", pr.ID)...)
	return seeOther(c, "/workspace/practices/"+pr.ID+"/edit", url.Values{"uploaded": {ref.SHA256}})
}

func (s *Server) publishPracticePage(c echo.Context) error {
	pr, err := s.writablePractice(c)
	if err != nil {
		return err
	}
	_, err = s.repo.Publish(c.Request().Context(), principal(c), practices.KindPractice, pr.ID, versionOf(c))
	if err == nil {
		return seeOther(c, "/workspace/practices/"+pr.ID+"/edit", url.Values{"published": {"1"}})
	}
	status := editStatusOf(err)
	ep, perr := publishRefusal(practices.KindPractice, err)
	if perr != nil {
		return perr
	}
	cur, err := s.writablePractice(c)
	if err != nil {
		return err
	}
	ep.Form, ep.Version = practiceValues(cur), cur.Version
	return s.renderPracticeEdit(c, status, cur, ep, newEditPage(practices.KindPractice, nil, 0))
}

// publishRefusal explains a refused publish on the page: what is missing (the checklist shows
// where), a concurrent change, or a lifecycle rule. Other errors are returned.
func publishRefusal(kind practices.Kind, err error) (*EditPage, error) {
	ep := newEditPage(kind, nil, 0)
	ep.Problem = true
	var (
		ve *practices.ValidationError
		se *practices.StateError
	)
	switch {
	case errors.As(err, &ve) && slices.ContainsFunc(ve.Problems, func(p practices.FieldError) bool { return p.Rule == "published" }):
		ep.Notice = "Not published: publish the practice this test belongs to first, so readers of the test can open it."
	case errors.As(err, &ve):
		ep.Notice = "Not published yet: the checklist below shows what is still missing."
	case errors.Is(err, practices.ErrStale):
		ep.Notice = "Not published: another team member changed this after you opened the page. Check the latest version below, then publish again."
	case errors.As(err, &se):
		ep.Notice = "Not published: " + se.Msg + "."
	default:
		return nil, err
	}
	return ep, nil
}

func editStatusOf(err error) int {
	var ve *practices.ValidationError
	if errors.As(err, &ve) {
		return http.StatusUnprocessableEntity
	}
	return http.StatusConflict
}

// ---- tests ----

// fileSize is a byte count in words.
func fileSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

type testView struct {
	Test                  *practices.Test // nil on the new-test page
	Plan, Act, Upload     *EditPage
	Practice              *practices.Practice
	PracticeLink          string
	PracticeDistrict      string // the practice's district by name, when it is another district's
	Teams                 []string
	FreeTeam              bool
	KnownTeams            []string // with FreeTeam: the node's teams, offered as suggestions
	Locked                bool     // results exist: design, prediction and assessment are fixed
	Results               *evidence.Results
	ResultsImage          string
	RowsUsed, RowsDropped int
	UploadBlocked         []string // why scores cannot be uploaded yet
	Checklist             []checkItem
	Ready                 bool
	Notice                string
	Problem               bool
	MinN                  int
	Measures              *measuresSection // measures over time (pages_measures.go)
	Follows               *practices.Test  // the earlier cycle this one follows, when visible
}

// edit makes the plan the form that the "field" template function fills.
func (t *testView) edit() *EditPage { return t.Plan }

func (s *Server) newTestPage(c echo.Context) error {
	p := principal(c)
	if err := mayCreate(p, practices.KindTest); err != nil {
		return err
	}
	pr, err := s.lookupPractice(c.Request().Context(), p, c.QueryParam("practice"))
	if err != nil {
		return err
	}
	vis := string(pr.Visibility)
	if pr.Origin != s.repo.Node().URL || vis == "peers" {
		vis = "network"
	}
	v := url.Values{
		"practice.uri": {pr.URI}, "practice.version": {strconv.Itoa(pr.Version)}, "team": {teamFor(p, pr.Team)},
		"cycle": {"pdsa"}, "design": {"single_group_pre_post"}, "prediction.metric": {"effect_size"},
		"prediction.operator": {">="}, "assessment.form": {"same"}, "visibility": {vis},
		"cohort.subjects": slices.Clone(pr.Subjects), "cohort.grade_levels": slices.Clone(pr.GradeLevels),
	}
	// What the practice already says need not be typed again: its minutes per session.
	if m := minutesOf(pr.TimeRequired); m != "" && m != pr.TimeRequired {
		v.Set("dosage.minutes_per_session", m)
	}
	if f := c.QueryParam("follows"); f != "" {
		// "Start the next cycle": the new test follows that one (checked again when it is saved).
		if prev, err := s.repo.LoadTest(c.Request().Context(), p, f); err == nil {
			v.Set("follows.uri", prev.URI)
			v["cohort.grade_levels"] = nil
			if prev.Cohort != nil {
				v["cohort.grade_levels"] = slices.Clone(prev.Cohort.GradeLevels)
			}
			v.Set("design", prev.Design)
		}
	}
	return s.renderNewTest(c, http.StatusOK, pr, newEditPage(practices.KindTest, v, 0))
}

func (s *Server) renderNewTest(c echo.Context, status int, pr *practices.Practice, ep *EditPage) error {
	p := principal(c)
	page := &testView{Plan: ep, Practice: pr, PracticeLink: s.practiceLink(pr), Teams: p.Teams, FreeTeam: len(p.Teams) == 0,
		KnownTeams: s.teamSuggestions(c.Request().Context(), p)}
	if pr != nil && pr.OriginID != "" && pr.OriginID != s.cfg.Node.ID {
		page.PracticeDistrict = s.districtName(pr.OriginID)
	}
	if f := ep.Form.Get("follows.uri"); f != "" {
		page.Follows, _ = s.repo.LoadTest(c.Request().Context(), p, f)
	}
	s.withPeers(page.Plan)
	return s.render(c, status, "test_new", "Plan a test", page)
}

func (s *Server) createTestPage(c echo.Context) error {
	p := principal(c)
	if err := mayCreate(p, practices.KindTest); err != nil {
		return err
	}
	posted, err := c.FormParams()
	if err != nil {
		return err
	}
	v := canonical(posted, append(slices.Clone(testPlanKeys), "practice.uri", "practice.version", "team"))
	pr, err := s.lookupPractice(c.Request().Context(), p, v.Get("practice.uri"))
	if err != nil {
		return err
	}
	rec, problems := testFromValues(v, nil)
	out, problems, err := s.createFromForm(c, p, rec, problems)
	if err != nil {
		return err
	}
	if out != nil {
		return seeOther(c, "/workspace/tests/"+out.RecordMeta().ID, url.Values{"saved": {"created"}})
	}
	ep := newEditPage(practices.KindTest, v, 0)
	ep.addProblems(problems)
	return s.renderNewTest(c, http.StatusUnprocessableEntity, pr, ep)
}

func (s *Server) writableTest(c echo.Context) (*practices.Test, error) {
	return writableRecord[*practices.Test](s, c, practices.KindTest)
}

func (s *Server) testPage(c echo.Context) error {
	t, err := s.writableTest(c)
	if err != nil {
		return err
	}
	page := s.newTestPageData(t)
	s.savedNotice(c, page.Plan)
	page.Notice, page.Plan.Notice = page.Plan.Notice, ""
	page.Problem, page.Plan.Problem = page.Plan.Problem, false
	if c.QueryParam("results") == "1" {
		page.Notice = "Results computed. The score rows were used and discarded; only the figures below are kept."
	}
	if n := measureNotice(c.QueryParams()); n != "" {
		page.Notice = n
	}
	return s.renderTest(c, http.StatusOK, page)
}

func (s *Server) newTestPageData(t *practices.Test) *testView {
	v := testValues(t)
	return &testView{
		Test: t, Plan: newEditPage(practices.KindTest, v, t.Version), Act: newEditPage(practices.KindTest, v, t.Version),
		Upload: newEditPage(practices.KindTest, nil, t.Version),
	}
}

func (s *Server) renderTest(c echo.Context, status int, page *testView) error {
	p := principal(c)
	ctx := c.Request().Context()
	t := page.Test
	if pr, err := s.lookupPractice(ctx, p, t.Practice.URI); err == nil {
		page.Practice, page.PracticeLink = pr, s.practiceLink(pr)
	}
	page.Locked = t.Results != nil
	page.MinN = s.cfg.Privacy.MinN
	if t.Follows != nil {
		page.Follows, _ = s.repo.LoadTest(ctx, p, t.Follows.URI)
	}
	if t.Results != nil {
		page.Results = t.Results
		page.ResultsImage = fmt.Sprintf("/api/v1/tests/%s/results.svg?v=%d", t.ID, t.Version)
		if in, err := s.repo.InternalResults(ctx, t.ID); err == nil && in.Analysis != nil {
			page.RowsUsed, page.RowsDropped = in.Analysis.RowsUsed, in.Analysis.RowsDropped
		}
	}
	var ve *practices.ValidationError
	if _, err := practices.ResultsOptions(t, s.cfg.Privacy.MinN); errors.As(err, &ve) {
		e := newEditPage(practices.KindTest, nil, 0)
		for _, pr := range ve.Problems {
			_, subject := e.formField(pr.Field)
			page.UploadBlocked = append(page.UploadBlocked, subject+" "+pr.Message)
		}
	}
	sec, err := s.measuresSectionFor(ctx, c, t, page.Measures)
	if err != nil {
		return err
	}
	page.Measures = sec
	page.Checklist = checklist(practices.KindTest, t)
	// Point the checklist at what the page shows: the score upload for results (or the results
	// section while the plan blocks it), the note on deciding until results exist.
	labels := fieldLabels[practices.KindTest]
	for i := range page.Checklist {
		switch page.Checklist[i].Label {
		case labels["results"]:
			page.Checklist[i].Anchor = fieldID("scores")
			if len(page.UploadBlocked) > 0 {
				page.Checklist[i].Anchor = "results-h"
			}
		case labels["prediction_met"], labels["decision"]:
			if t.Results == nil {
				page.Checklist[i].Anchor = fieldID("decision")
			}
		}
	}
	page.Ready = checklistReady(page.Checklist)
	title := t.Title
	if title == "" {
		title = "Test"
	}
	s.withPeers(page.Plan)
	return s.render(c, status, "test", title, page)
}

// planKeys are the fields the plan form posts: all of the plan, less what results have fixed.
func planKeys(t *practices.Test) []string {
	if t.Results == nil {
		return testPlanKeys
	}
	var out []string
	for _, k := range testPlanKeys {
		if !slices.Contains(testLockedKeys, k) {
			out = append(out, k)
		}
	}
	return out
}

func (s *Server) saveTestPage(c echo.Context) error {
	t, err := s.writableTest(c)
	if err != nil {
		return err
	}
	posted, err := c.FormParams()
	if err != nil {
		return err
	}
	section := posted.Get("section")
	keys := planKeys(t)
	if section == "act" {
		keys = testActKeys
	}
	spec := mergeSpec{
		kind: practices.KindTest, id: t.ID, keys: keys,
		values: func(r practices.Record) url.Values { return testValues(r.(*practices.Test)) },
		record: func(v url.Values, cur practices.Record) (practices.Record, []practices.FieldError) {
			return testFromValues(v, cur.(*practices.Test))
		},
	}
	// The section's fields as posted, every other field as the version the form was read from:
	// saving one section never touches the other.
	mine := overlay(testValues(t), posted, keys)
	saved, ep, taken, err := s.saveMerging(c, spec, t, mine, versionOf(c))
	if err != nil {
		return err
	}
	if saved == nil {
		cur, err := s.writableTest(c)
		if err != nil {
			return err
		}
		page := s.newTestPageData(cur)
		if section == "act" {
			page.Act = ep
		} else {
			page.Plan = ep
		}
		return s.renderTest(c, editStatus(ep), page)
	}
	q := savedQuery(taken)
	return seeOther(c, "/workspace/tests/"+t.ID, q)
}

// uploadResultsPage computes results from a score table posted as a multipart form (the CSRF
// token in its first part). Rows are parsed as they stream, used and dropped; a refused file
// is explained next to the file field, naming the column, row and rule and never a cell's value.
func (s *Server) uploadResultsPage(c echo.Context) error {
	t, err := s.writableTest(c)
	if err != nil {
		return err
	}
	p := principal(c)
	ctx := c.Request().Context()
	refuse := func(status int, msg string) error {
		page := s.newTestPageData(t)
		page.Upload.Errors["scores"] = []string{msg}
		page.Upload.Problems = []problemView{{Anchor: fieldID("scores"), Text: msg}}
		return s.renderTest(c, status, page)
	}
	opts, err := practices.ResultsOptions(t, s.cfg.Privacy.MinN)
	var ve *practices.ValidationError
	if errors.As(err, &ve) {
		return refuse(http.StatusUnprocessableEntity, "Plan the prediction and the assessment first: results cannot be uploaded before them.")
	} else if err != nil {
		return err
	}
	body, status, msg := scoreFilePart(c)
	if body == nil {
		return refuse(status, msg)
	}
	analysis, err := evidence.AnalyzeCSV(io.LimitReader(body, evidence.MaxFileBytes+1), opts)
	if status, msg, refused := s.scoreFileRefusal(c, "results", err); refused {
		return refuse(status, "The file was refused. "+msg)
	} else if err != nil {
		return err
	}
	updated, err := s.repo.RecordResults(ctx, p, t.ID, analysis)
	var se *practices.StateError
	if errors.As(err, &se) {
		return refuse(http.StatusConflict, "The results were refused: "+se.Msg+".")
	} else if err != nil {
		return err
	}
	s.logger.Info("results recorded", append(logAttrs(c), "test", t.ID, "source", analysis.Source,
		"rows_used", analysis.RowsUsed, "rows_dropped", analysis.RowsDropped, "shareable", analysis.Shareable())...)
	return seeOther(c, "/workspace/tests/"+updated.ID, url.Values{"results": {"1"}})
}

// inputErrorText says where a refused score table went wrong and why: column, row, rule message.
func inputErrorText(ie *evidence.InputError) string {
	msg := ie.Message
	if msg != "" {
		msg = strings.ToUpper(msg[:1]) + msg[1:]
	}
	switch {
	case ie.Column != "" && ie.Row > 0:
		return fmt.Sprintf("Row %d (line %d), column “%s”: %s.", ie.Row, ie.Line, ie.Column, ie.Message)
	case ie.Column != "":
		return fmt.Sprintf("Column “%s”: %s.", ie.Column, ie.Message)
	case ie.Row > 0:
		return fmt.Sprintf("Row %d (line %d): %s.", ie.Row, ie.Line, ie.Message)
	}
	return msg + "."
}

func (s *Server) publishTestPage(c echo.Context) error {
	t, err := s.writableTest(c)
	if err != nil {
		return err
	}
	_, err = s.repo.Publish(c.Request().Context(), principal(c), practices.KindTest, t.ID, versionOf(c))
	if err == nil {
		return seeOther(c, "/workspace/tests/"+t.ID, url.Values{"published": {"1"}})
	}
	status := editStatusOf(err)
	ep, perr := publishRefusal(practices.KindTest, err)
	if perr != nil {
		return perr
	}
	cur, err := s.writableTest(c)
	if err != nil {
		return err
	}
	page := s.newTestPageData(cur)
	page.Notice, page.Problem = ep.Notice, true
	return s.renderTest(c, status, page)
}

// pageScoreFile reads the score file posted from a measure or progress page with the same parser and
// rules as the API (readScoreFile). A refused file gives a nil result with the status and the message
// the page shows beside the file field (what names the scores in the log line); only an engine error
// is returned as err.
func (s *Server) pageScoreFile(c echo.Context, what string, opts evidence.MeasureScoreOptions) (*evidence.MeasureScores, int, string, error) {
	body, status, msg := scoreFilePart(c)
	if body == nil {
		return nil, status, msg, nil
	}
	ms, err := evidence.ParseMeasureScores(io.LimitReader(body, evidence.MaxFileBytes+1), opts)
	if status, msg, refused := s.scoreFileRefusal(c, what, err); refused {
		return nil, status, msg, nil
	} else if err != nil {
		return nil, 0, "", err
	}
	return ms, 0, "", nil
}

// scoreFileRefusal says whether err is a page's score file refused by the rules (or too large), and
// then with what status and message beside the file field. The log gets the rule and position only:
// a message may repeat a header the district typed. Nil and engine errors are not refusals.
func (s *Server) scoreFileRefusal(c echo.Context, what string, err error) (status int, msg string, refused bool) {
	var (
		ie  *evidence.InputError
		mbe *http.MaxBytesError
	)
	switch {
	case errors.As(err, &ie):
		s.logger.Info(what+" refused", append(logAttrs(c), "rule", ie.Rule, "line", ie.Line, "row", ie.Row, "field", ie.Field)...)
		status = http.StatusUnprocessableEntity
		if ie.Rule == evidence.RuleTooLarge {
			status = http.StatusRequestEntityTooLarge
		}
		return status, inputErrorText(ie), true
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("It is larger than %d MB.", evidence.MaxFileBytes>>20), true
	}
	return 0, "", false
}

// scoreFilePart finds the score file ("scores") in a page's multipart upload form, read as it
// streams. When there is none it returns a nil reader with the status and the message the page shows.
func scoreFilePart(c echo.Context) (io.Reader, int, string) {
	r := c.Request()
	r.Body = http.MaxBytesReader(c.Response(), r.Body, evidence.MaxFileBytes+64<<10)
	mt, params, _ := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
	if mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, http.StatusBadRequest, "Choose a CSV file to upload."
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, http.StatusBadRequest, "The upload did not arrive as a file; try again."
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, http.StatusUnprocessableEntity, "Choose a CSV file to upload."
		}
		if err != nil {
			return nil, http.StatusBadRequest, "The upload was interrupted; try again."
		}
		if part.FormName() == "scores" {
			_, dp, _ := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
			if dp["filename"] == "" {
				return nil, http.StatusUnprocessableEntity, "Choose a CSV file to upload."
			}
			return part, 0, ""
		}
	}
}
