package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/brightspots-nic/brightspots/federation"
	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/search"
)

// Coordinator pages: the collections a NIC coordinator curates (create, add practices of any
// district from search results, order, annotate, set the aim, publish) and the network page with
// each peer's sync health. The public view of a collection (/collections/{id}) is a teacher page.

type collectionsView struct {
	*EditPage
	Collections []*practices.Collection
	// ReadOnly: the caller may read collections but not curate them (a teacher): the list shows the
	// published ones, each linking to its page, and no editing form.
	ReadOnly bool
}

func (s *Server) collectionsPage(c echo.Context) error {
	p := principal(c)
	if err := mayCreate(p, practices.KindCollection); err != nil {
		if !p.Authenticated() {
			return err // sign in first, as for the other pages of the menu
		}
		return s.readCollections(c, p)
	}
	ep := newEditPage(practices.KindCollection, url.Values{"visibility": {"network"}, "curator": {displayName(p)}}, 0)
	if title := c.QueryParam("deleted"); title != "" {
		ep.Notice = "Deleted “" + title + "”."
	}
	return s.renderCollections(c, http.StatusOK, ep)
}

// readCollections lists the published collections p may read, newest first: what a teacher (or a
// visitor, for public ones) finds under Collections.
func (s *Server) readCollections(c echo.Context, p practices.Principal) error {
	recs, err := s.listUpTo(c.Request().Context(), p, practices.KindCollection, practices.ListFilter{Status: practices.StatusPublished}, 200)
	if err != nil {
		return err
	}
	page := collectionsView{EditPage: newEditPage(practices.KindCollection, nil, 0), ReadOnly: true}
	for i := len(recs) - 1; i >= 0; i-- {
		page.Collections = append(page.Collections, recs[i].(*practices.Collection))
	}
	return s.render(c, http.StatusOK, "collections", "Collections", page)
}

func displayName(p practices.Principal) string {
	if p.Name != "" {
		return p.Name
	}
	return p.Email
}

func (s *Server) renderCollections(c echo.Context, status int, ep *EditPage) error {
	p := principal(c)
	recs, err := s.listUpTo(c.Request().Context(), p, practices.KindCollection, practices.ListFilter{}, 200)
	if err != nil {
		return err
	}
	page := collectionsView{EditPage: ep}
	for i := len(recs) - 1; i >= 0; i-- {
		col := recs[i].(*practices.Collection)
		if practices.CanWrite(p, &col.Meta) == nil {
			page.Collections = append(page.Collections, col)
		}
	}
	s.withPeers(page.EditPage)
	return s.render(c, status, "collections", "Collections", page)
}

func (s *Server) createCollectionPage(c echo.Context) error {
	p := principal(c)
	if err := mayCreate(p, practices.KindCollection); err != nil {
		return err
	}
	posted, err := c.FormParams()
	if err != nil {
		return err
	}
	v := canonical(posted, []string{"title", "description", "aim", "curator", "visibility", "shared_with"})
	out, problems, err := s.createFromForm(c, p, collectionFromValues(v, nil), nil)
	if err != nil {
		return err
	}
	if out != nil {
		return seeOther(c, "/collections/"+out.RecordMeta().ID+"/edit", url.Values{"saved": {"created"}})
	}
	ep := newEditPage(practices.KindCollection, v, 0)
	ep.addProblems(problems)
	return s.renderCollections(c, http.StatusUnprocessableEntity, ep)
}

func (s *Server) writableCollection(c echo.Context) (*practices.Collection, error) {
	return writableRecord[*practices.Collection](s, c, practices.KindCollection)
}

// itemRow is one practice of the collection being edited, in the order the form holds.
type itemRow struct {
	Index                      int
	URI, Title, District, Link string
	Missing                    bool // no longer visible (withdrawn, or a peer stopped sharing it)
	Note, TheirNote            string
	NoteConflict               bool
	First, Last                bool
}

type hitRow struct {
	search.Hit
	DistrictName string
	Added        bool
}

type collectionEditView struct {
	*EditPage
	Collection  *practices.Collection
	Items       []itemRow
	Query       string
	Searched    bool
	Hits        []hitRow
	Total       int
	SearchError string
	Checklist   []checkItem
	Ready       bool
	Link        string
}

func (s *Server) editCollectionPage(c echo.Context) error {
	col, err := s.writableCollection(c)
	if err != nil {
		return err
	}
	ep := newEditPage(practices.KindCollection, collectionValues(col), col.Version)
	s.savedNotice(c, ep)
	if c.QueryParam("added") == "1" {
		ep.Notice = "Added to the collection."
	}
	return s.renderCollectionEdit(c, http.StatusOK, col, ep)
}

func (s *Server) renderCollectionEdit(c echo.Context, status int, col *practices.Collection, ep *EditPage) error {
	p := principal(c)
	ctx := c.Request().Context()
	page := collectionEditView{EditPage: ep, Collection: col, Query: strings.TrimSpace(c.QueryParam("q"))}
	uris := ep.Form["items"]
	for i, uri := range uris {
		row := itemRow{Index: i, URI: uri, Title: uri, Note: ep.Form.Get("note:" + uri), First: i == 0, Last: i == len(uris)-1}
		if pr, err := s.lookupPractice(ctx, p, uri); err == nil {
			row.Title, row.District, row.Link = pr.Title, s.districtName(pr.OriginID), s.practiceLink(pr)
		} else {
			row.Missing = true
		}
		if theirs, ok := ep.Theirs["note:"+uri]; ok {
			row.NoteConflict, row.TheirNote = true, strings.Join(theirs, "\n")
		}
		page.Items = append(page.Items, row)
	}
	if conflict, ok := ep.Theirs["items"]; ok {
		// Both reordered or changed the list: show theirs by title beside the editor's.
		var titles []string
		for _, uri := range conflict {
			t := uri
			if pr, err := s.lookupPractice(ctx, p, uri); err == nil {
				t = pr.Title
			}
			titles = append(titles, t)
		}
		ep.Theirs["items"] = titles
	}
	if page.Query != "" {
		page.Searched = true
		q, err := search.ParseQuery(url.Values{"q": {page.Query}, "kind": {"practice"}, "per_page": {"10"}})
		var qe *search.QueryError
		if errors.As(err, &qe) {
			page.SearchError = "The search could not be run: " + qe.Param + " must be " + qe.Rule + "."
		} else if err != nil {
			return err
		} else {
			q.Audience = search.AudienceOf(p)
			res, err := s.index.Search(ctx, q)
			if err != nil {
				return err
			}
			page.Total = res.Total
			for _, h := range res.Hits {
				page.Hits = append(page.Hits, hitRow{Hit: h, DistrictName: s.districtName(h.District), Added: slices.Contains(uris, h.URI)})
			}
		}
	}
	page.Checklist = checklist(practices.KindCollection, col)
	page.Ready = checklistReady(page.Checklist)
	if col.Status == practices.StatusPublished {
		page.Link = "/collections/" + col.ID
	}
	s.withPeers(page.EditPage)
	return s.render(c, status, "collection_edit", col.Title, page)
}

// moveItem applies an item button (up:i, down:i, remove:i) to the posted items and notes, which
// travel as parallel lists in page order.
func moveItem(posted url.Values, op string) (focus int) {
	verb, arg, _ := strings.Cut(op, ":")
	i, err := strconv.Atoi(arg)
	items, notes := posted["item"], posted["note"]
	for len(notes) < len(items) {
		notes = append(notes, "")
	}
	if err != nil || i < 0 || i >= len(items) {
		return -1
	}
	j := i
	switch verb {
	case "up":
		j = i - 1
	case "down":
		j = i + 1
	case "remove":
		posted["item"] = slices.Delete(items, i, i+1)
		posted["note"] = slices.Delete(notes, i, i+1)
		return min(i, len(posted["item"])-1)
	}
	if j < 0 || j >= len(items) {
		return i
	}
	items[i], items[j] = items[j], items[i]
	notes[i], notes[j] = notes[j], notes[i]
	posted["item"], posted["note"] = items, notes
	return j
}

func (s *Server) saveCollectionPage(c echo.Context) error {
	col, err := s.writableCollection(c)
	if err != nil {
		return err
	}
	posted, err := c.FormParams()
	if err != nil {
		return err
	}
	focus := -1
	if op := posted.Get("op"); op != "" && op != "save" {
		focus = moveItem(posted, op)
	}
	spec := mergeSpec{
		kind: practices.KindCollection, id: col.ID, keys: formKeys[practices.KindCollection],
		values: func(r practices.Record) url.Values { return collectionValues(r.(*practices.Collection)) },
		record: func(v url.Values, cur practices.Record) (practices.Record, []practices.FieldError) {
			return collectionFromValues(v, cur.(*practices.Collection)), nil
		},
	}
	saved, ep, taken, err := s.saveMerging(c, spec, col, collectionPosted(posted), versionOf(c))
	if err != nil {
		return err
	}
	if saved == nil {
		cur, err := s.writableCollection(c)
		if err != nil {
			return err
		}
		return s.renderCollectionEdit(c, editStatus(ep), cur, ep)
	}
	target := "/collections/" + col.ID + "/edit?" + savedQuery(taken).Encode()
	if focus >= 0 {
		target += "#item-" + strconv.Itoa(focus)
	}
	return c.Redirect(http.StatusSeeOther, target)
}

// addCollectionItemPage adds a practice found by search. Adding commutes with other edits, so it is
// applied to whatever version is current (Repo.Mutate retries on a concurrent change).
func (s *Server) addCollectionItemPage(c echo.Context) error {
	col, err := s.writableCollection(c)
	if err != nil {
		return err
	}
	p := principal(c)
	ctx := c.Request().Context()
	uri := strings.TrimSpace(c.FormValue("practice_uri"))
	if _, err := s.lookupPractice(ctx, p, uri); err != nil {
		return err
	}
	_, err = s.repo.Mutate(ctx, p, practices.KindCollection, col.ID, func(cur practices.Record) error {
		cc := cur.(*practices.Collection)
		if cc.Status == practices.StatusWithdrawn {
			return &practices.StateError{Msg: "a withdrawn collection cannot be edited; publish it again first"}
		}
		for _, it := range cc.Items {
			if it.PracticeURI == uri {
				return nil
			}
		}
		cc.Items = append(cc.Items, practices.CollectionItem{PracticeURI: uri})
		return nil
	})
	var ve *practices.ValidationError
	if errors.As(err, &ve) {
		cur, err := s.writableCollection(c)
		if err != nil {
			return err
		}
		ep := newEditPage(practices.KindCollection, collectionValues(cur), cur.Version)
		ep.addProblems(ve.Problems)
		return s.renderCollectionEdit(c, http.StatusUnprocessableEntity, cur, ep)
	} else if err != nil {
		return err
	}
	q := url.Values{"added": {"1"}}
	if s := strings.TrimSpace(c.FormValue("q")); s != "" {
		q.Set("q", s)
	}
	return c.Redirect(http.StatusSeeOther, "/collections/"+col.ID+"/edit?"+q.Encode()+"#items")
}

func (s *Server) publishCollectionPage(c echo.Context) error {
	col, err := s.writableCollection(c)
	if err != nil {
		return err
	}
	_, err = s.repo.Publish(c.Request().Context(), principal(c), practices.KindCollection, col.ID, versionOf(c))
	if err == nil {
		return seeOther(c, "/collections/"+col.ID+"/edit", url.Values{"published": {"1"}})
	}
	status := editStatusOf(err)
	ep, perr := publishRefusal(practices.KindCollection, err)
	if perr != nil {
		return perr
	}
	cur, err := s.writableCollection(c)
	if err != nil {
		return err
	}
	ep.Form, ep.Version = collectionValues(cur), cur.Version
	return s.renderCollectionEdit(c, status, cur, ep)
}

// ---- the network page ----

type peerRow struct {
	federation.PeerHealth
	State, StateClass string
	LastSync, Lag     string
	ErrorAt           string
}

type networkPageData struct {
	Peers   []peerRow
	Checked string
	Aims    []aimRow // the network's published aims with their latest value (pages_aims.go)
}

func (s *Server) networkPage(c echo.Context) error {
	if err := practices.CanViewNetwork(principal(c)); err != nil {
		return err
	}
	now := time.Now()
	data := networkPageData{Checked: now.UTC().Format("2 Jan 2006 15:04:05 UTC")}
	for _, h := range s.fed.Health() {
		row := peerRow{PeerHealth: h, LastSync: "never", Lag: "—"}
		if !h.LastSuccess.IsZero() {
			row.LastSync = ago(now, h.LastSuccess)
		}
		if !h.LastErrorAt.IsZero() {
			row.ErrorAt = ago(now, h.LastErrorAt)
		}
		switch {
		case h.LastSuccess.IsZero() && h.LastError == "":
			row.State, row.StateClass = "Not yet synced", "pending"
		case h.LastError != "":
			row.State, row.StateClass = "Failing", "failing"
		case h.LagRecords > 0 || h.LagSeconds > 0:
			row.State, row.StateClass = "Behind", "behind"
		default:
			row.State, row.StateClass = "Healthy", "healthy"
		}
		if !h.CaughtUpAt.IsZero() {
			row.Lag = "up to date"
			if h.LagSeconds > 0 {
				row.Lag = fmt.Sprintf("%s behind", roundDuration(time.Duration(h.LagSeconds*float64(time.Second))))
			}
			if h.LagRecords > 0 {
				row.Lag += fmt.Sprintf(", %d records waiting", h.LagRecords)
			}
		}
		data.Peers = append(data.Peers, row)
	}
	aims, err := s.aimRows(c)
	if err != nil {
		return err
	}
	for _, a := range aims {
		if a.Status == string(practices.StatusPublished) {
			data.Aims = append(data.Aims, a)
		}
	}
	return s.render(c, http.StatusOK, "network", "Network", data)
}

func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= time.Hour:
		return d.Round(time.Minute)
	case d >= time.Minute:
		return d.Round(time.Second)
	}
	return d.Round(100 * time.Millisecond)
}

// ago is an absolute time with how long ago it was.
func ago(now, t time.Time) string {
	return fmt.Sprintf("%s (%s ago)", t.UTC().Format("2 Jan 2006 15:04:05 UTC"), roundDuration(now.Sub(t)))
}
