package harvest

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"strconv"
	"time"
)

// Atom feeds (RFC 4287). The web package builds a Feed from a search, a collection or a team's
// published work, always as an anonymous reader sees it (feed readers carry no session), and Write
// serves it.

// Feed is one Atom feed.
type Feed struct {
	ID        string // a permanent IRI: the feed's own canonical URL
	Base      string // the node URL
	Title     string
	Subtitle  string
	SelfURL   string // absolute URL of this feed
	PageURL   string // absolute URL of the HTML page the feed follows
	Author    string // the district's name
	Generator string
	Entries   []Entry
}

// Entry is one record in a feed.
type Entry struct {
	ID            string // the record's URI (stable across edits)
	Title         string
	URL           string // absolute URL of the record's page
	Summary       string
	EvidenceLevel string // practices.EvidenceLevels; "" when not a practice
	EvidenceLabel string // how the level reads ("Replicated")
	Updated       time.Time
	Published     *time.Time
	Author        string // the district the record comes from
	Subjects      []string
}

type atomLink struct {
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Text string `xml:",chardata"`
}

type atomCategory struct {
	Term   string `xml:"term,attr"`
	Scheme string `xml:"scheme,attr,omitempty"`
	Label  string `xml:"label,attr,omitempty"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomEntry struct {
	ID         string         `xml:"id"`
	Title      atomText       `xml:"title"`
	Links      []atomLink     `xml:"link"`
	Updated    string         `xml:"updated"`
	Published  string         `xml:"published,omitempty"`
	Author     *atomPerson    `xml:"author,omitempty"`
	Summary    *atomText      `xml:"summary,omitempty"`
	Categories []atomCategory `xml:"category"`
}

type atomFeed struct {
	XMLName   xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	ID        string      `xml:"id"`
	Title     atomText    `xml:"title"`
	Subtitle  *atomText   `xml:"subtitle,omitempty"`
	Updated   string      `xml:"updated"`
	Author    atomPerson  `xml:"author"`
	Generator string      `xml:"generator,omitempty"`
	Links     []atomLink  `xml:"link"`
	Entries   []atomEntry `xml:"entry"`
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// Marshal renders f. The feed's updated time is its newest entry's (or now when empty).
func (f Feed) Marshal(now time.Time) []byte {
	updated := time.Time{}
	for _, e := range f.Entries {
		if e.Updated.After(updated) {
			updated = e.Updated
		}
	}
	if updated.IsZero() {
		updated = now
	}
	out := atomFeed{
		ID: f.ID, Title: atomText{"text", f.Title}, Updated: rfc3339(updated),
		Author: atomPerson{f.Author}, Generator: f.Generator,
		Links: []atomLink{{Rel: "self", Type: "application/atom+xml", Href: f.SelfURL}, {Rel: "alternate", Type: "text/html", Href: f.PageURL}},
	}
	if f.Subtitle != "" {
		out.Subtitle = &atomText{"text", f.Subtitle}
	}
	for _, e := range f.Entries {
		ae := atomEntry{
			ID: e.ID, Title: atomText{"text", e.Title}, Updated: rfc3339(e.Updated),
			Links: []atomLink{{Rel: "alternate", Type: "text/html", Href: e.URL}},
		}
		if e.Published != nil {
			ae.Published = rfc3339(*e.Published)
		}
		if e.Author != "" {
			ae.Author = &atomPerson{e.Author}
		}
		summary := e.Summary
		if e.EvidenceLevel != "" {
			if summary != "" {
				summary += "\n\n"
			}
			summary += "Evidence: " + e.EvidenceLabel + "."
			ae.Categories = append(ae.Categories, atomCategory{Term: e.EvidenceLevel, Scheme: f.Base + "/search#evidence", Label: "Evidence: " + e.EvidenceLabel})
		}
		if summary != "" {
			ae.Summary = &atomText{"text", summary}
		}
		for _, s := range e.Subjects {
			ae.Categories = append(ae.Categories, atomCategory{Term: s, Scheme: f.Base + "/search#subject", Label: subjectLabel(s)})
		}
		out.Entries = append(out.Entries, ae)
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", " ")
	_ = enc.Encode(out) // only strings and fixed structures: cannot fail
	b.WriteString("\n")
	return b.Bytes()
}

// WriteFeed serves f as application/atom+xml. Feeds are public and change slowly: caches may keep
// them five minutes.
func WriteFeed(w http.ResponseWriter, f Feed, now time.Time) {
	body := f.Marshal(now)
	w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}
