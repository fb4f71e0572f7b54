package harvest

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/brightspots-nic/brightspots/practices"
)

// Metadata formats. oai_dc is required by OAI-PMH; lrmi carries what OER aggregators look for
// (docs/records.md, "Interoperability"): subjects, grades as educational level, standards as teaches
// alignments (with the CASE CFItem URI when known), license and lineage (isBasedOn). Its schema is
// served by the node itself at /oai/lrmi.xsd.

type format struct {
	prefix, schema, namespace string
	write                     func(b *bytes.Buffer, rec practices.Record, site site)
}

// site is what the metadata writers need from the node.
type site struct {
	url, name string
}

const (
	nsDC     = "http://purl.org/dc/elements/1.1/"
	nsOAIDC  = "http://www.openarchives.org/OAI/2.0/oai_dc/"
	nsLRMI   = "http://purl.org/dcx/lrmi-terms/"
	nsTerms  = "http://purl.org/dc/terms/"
	nsXSI    = "http://www.w3.org/2001/XMLSchema-instance"
	lrmiPath = "/oai/lrmi.xsd"
)

func formats(nodeURL string) []format {
	return []format{
		{prefix: "oai_dc", schema: "http://www.openarchives.org/OAI/2.0/oai_dc.xsd", namespace: nsOAIDC, write: writeDC},
		{prefix: "lrmi", schema: nodeURL + lrmiPath, namespace: nsLRMI, write: writeLRMI},
	}
}

// esc writes s as XML character data. Characters XML cannot carry become U+FFFD.
func esc(b *bytes.Buffer, s string) { _ = xml.EscapeText(b, []byte(s)) }

func elem(b *bytes.Buffer, name, text string) {
	if text == "" {
		return
	}
	b.WriteString("<" + name + ">")
	esc(b, text)
	b.WriteString("</" + name + ">")
}

// common is the description every format shares, read once from the record.
type common struct {
	title, description, typ, license, date string
	subjects, grades, relations            []string
	standards                              []practices.Standard
	creator                                string
}

func describe(rec practices.Record, s site) common {
	m := rec.RecordMeta()
	c := common{creator: s.name}
	if m.PublishedAt != nil {
		c.date = m.PublishedAt.UTC().Format("2006-01-02")
	}
	switch r := rec.(type) {
	case *practices.Practice:
		c.title, c.description, c.typ, c.license = r.Title, r.Summary, "activity plan", r.License
		c.subjects, c.grades, c.standards = r.Subjects, r.GradeLevels, r.Standards
		for _, b := range r.BasedOn {
			c.relations = append(c.relations, b.URI)
		}
	case *practices.Test:
		c.title, c.description, c.typ = r.Title, r.Question, "dataset"
		if c.title == "" {
			c.title = "Test: " + firstLine(r.Question)
		}
		if r.Cohort != nil {
			c.subjects, c.grades = r.Cohort.Subjects, r.Cohort.GradeLevels
		}
		if r.Practice.URI != "" {
			c.relations = append(c.relations, r.Practice.URI)
		}
	case *practices.Collection:
		c.title, c.description, c.typ = r.Title, r.Description, "collection"
		if c.description == "" {
			c.description = r.Aim
		}
		for _, it := range r.Items {
			c.relations = append(c.relations, it.PracticeURI)
		}
	case *practices.Aim:
		c.title, c.description, c.typ = r.Title, r.Statement, "collection"
		for _, ci := range r.ChangeIdeas {
			for _, u := range ci.Practices {
				if !slices.Contains(c.relations, u) {
					c.relations = append(c.relations, u)
				}
			}
		}
		c.relations = append(c.relations, r.Collections...)
	case *practices.Progress:
		c.title, c.typ = "Progress towards a network aim", "dataset"
		c.description = fmt.Sprintf("%d reported points of the aim's outcome measure", len(r.Points))
		c.relations = append(c.relations, r.Aim.URI)
	}
	return c
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 120 {
		s = s[:120]
	}
	return s
}

// dcType maps to the DCMI Type Vocabulary.
func dcType(typ string) string {
	switch typ {
	case "dataset":
		return "Dataset"
	case "collection":
		return "Collection"
	}
	return "Text"
}

func writeDC(b *bytes.Buffer, rec practices.Record, s site) {
	c := describe(rec, s)
	b.WriteString(`<oai_dc:dc xmlns:oai_dc="` + nsOAIDC + `" xmlns:dc="` + nsDC + `" xmlns:xsi="` + nsXSI +
		`" xsi:schemaLocation="` + nsOAIDC + ` http://www.openarchives.org/OAI/2.0/oai_dc.xsd">`)
	elem(b, "dc:title", c.title)
	elem(b, "dc:creator", c.creator)
	for _, sub := range c.subjects {
		elem(b, "dc:subject", subjectLabel(sub))
	}
	for _, st := range c.standards {
		elem(b, "dc:subject", st.Code)
	}
	elem(b, "dc:description", c.description)
	elem(b, "dc:publisher", c.creator)
	elem(b, "dc:date", c.date)
	elem(b, "dc:type", dcType(c.typ))
	elem(b, "dc:format", "text/html")
	elem(b, "dc:identifier", rec.RecordMeta().URI)
	for _, r := range c.relations {
		elem(b, "dc:relation", r)
	}
	elem(b, "dc:rights", c.license)
	b.WriteString(`</oai_dc:dc>`)
}

func writeLRMI(b *bytes.Buffer, rec practices.Record, s site) {
	c := describe(rec, s)
	b.WriteString(`<lrmi:resource xmlns:lrmi="` + nsLRMI + `" xmlns:xsi="` + nsXSI +
		`" xsi:schemaLocation="` + nsLRMI + ` ` + s.url + lrmiPath + `">`)
	elem(b, "lrmi:name", c.title)
	elem(b, "lrmi:description", c.description)
	elem(b, "lrmi:url", rec.RecordMeta().URI)
	elem(b, "lrmi:publisher", c.creator)
	elem(b, "lrmi:datePublished", c.date)
	elem(b, "lrmi:learningResourceType", c.typ)
	for _, sub := range c.subjects {
		elem(b, "lrmi:about", subjectLabel(sub))
	}
	for _, g := range c.grades {
		elem(b, "lrmi:educationalLevel", practices.GradeLabel(g))
	}
	if p, ok := rec.(*practices.Practice); ok {
		elem(b, "lrmi:timeRequired", p.TimeRequired)
	}
	for _, st := range c.standards {
		alignment := st.Alignment
		if alignment == "" {
			alignment = "teaches"
		}
		b.WriteString(`<lrmi:educationalAlignment alignmentType="`)
		esc(b, alignment)
		b.WriteString(`">`)
		elem(b, "lrmi:educationalFramework", st.Framework)
		elem(b, "lrmi:targetName", st.Code)
		elem(b, "lrmi:targetUrl", st.URI)
		b.WriteString(`</lrmi:educationalAlignment>`)
	}
	elem(b, "lrmi:license", c.license)
	rel := "lrmi:isBasedOn"
	if _, ok := rec.(*practices.Practice); !ok {
		rel = "lrmi:isRelatedTo"
	}
	for _, r := range c.relations {
		elem(b, rel, r)
	}
	b.WriteString(`</lrmi:resource>`)
}

func subjectLabel(code string) string {
	if l, ok := practices.Subjects[code]; ok {
		return l
	}
	return code
}

// datestamp is the OAI form of t, at the repository's granularity (seconds).
func datestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }
