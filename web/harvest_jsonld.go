package web

import (
	"fmt"
	"strconv"

	"github.com/brightspots-nic/brightspots/practices"
)

// schema.org JSON-LD beyond what learningResource writes for a practice: standards as LRMI
// AlignmentObjects (the form OER aggregators and search engines read alongside teaches), and the
// collection page as a LearningResource that has its practices as parts.

// withAlignments adds educationalAlignment: one AlignmentObject per standard, with the CASE CFItem
// URI as targetUrl when the standard came from an imported framework.
func withAlignments(ld map[string]any, p *practices.Practice) map[string]any {
	var aligns []any
	for _, st := range p.Standards {
		typ := st.Alignment
		if typ == "" {
			typ = "teaches"
		}
		a := map[string]any{"@type": "AlignmentObject", "alignmentType": typ, "targetName": st.Code}
		if st.Framework != "" {
			a["educationalFramework"] = st.Framework
		}
		if st.URI != "" {
			a["targetUrl"] = st.URI
		}
		aligns = append(aligns, a)
	}
	if aligns != nil {
		ld["educationalAlignment"] = aligns
	}
	return ld
}

// collectionJSONLD describes a collection page: a LearningResource (learningResourceType
// "collection") whose hasPart lists the practices the page shows.
func collectionJSONLD(v collectionView) map[string]any {
	c := v.C
	ld := map[string]any{
		"@context":             "https://schema.org",
		"@type":                "LearningResource",
		"@id":                  c.URI,
		"url":                  c.URI,
		"name":                 c.Title,
		"learningResourceType": "collection",
		"inLanguage":           "en",
		"publisher":            map[string]any{"@type": "Organization", "name": v.DistrictName, "url": c.Origin},
		"dateModified":         c.UpdatedAt.UTC().Format("2006-01-02"),
	}
	if c.Description != "" {
		ld["description"] = c.Description
	} else if c.Aim != "" {
		ld["description"] = c.Aim
	}
	if c.PublishedAt != nil {
		ld["datePublished"] = c.PublishedAt.UTC().Format("2006-01-02")
	}
	var parts []any
	for _, it := range v.Items {
		part := map[string]any{"@type": "LearningResource", "@id": it.P.URI, "url": it.P.URI, "name": it.P.Title, "learningResourceType": "activity plan"}
		if it.P.Summary != "" {
			part["description"] = it.P.Summary
		}
		parts = append(parts, part)
	}
	if parts != nil {
		ld["hasPart"] = parts
	}
	return ld
}

// AimJSONLD describes an aim's dashboard page for search engines and aggregators: a
// LearningResource (learningResourceType "network aim") whose hasPart lists the practices its change
// ideas link (those this node can show), with the outcome measure and target in words. The aim page
// puts it in <script type="application/ld+json"> as the collection page does.
func AimJSONLD(d *practices.Dashboard) map[string]any {
	a := d.Aim
	ld := map[string]any{
		"@context":             "https://schema.org",
		"@type":                "LearningResource",
		"@id":                  a.URI,
		"url":                  a.URI,
		"name":                 a.Title,
		"learningResourceType": "network aim",
		"inLanguage":           "en",
		"publisher":            map[string]any{"@type": "Organization", "name": a.District.Name, "url": a.Origin},
	}
	if a.Statement != "" {
		ld["description"] = a.Statement
	}
	if a.OutcomeMeasure != nil {
		ld["educationalUse"] = "improvement aim"
		target := ""
		if a.Target != nil {
			target = fmt.Sprintf("; target %s by %s", strconv.FormatFloat(a.Target.Value, 'f', -1, 64), a.Target.By)
		}
		ld["assesses"] = a.OutcomeMeasure.Name + target
	}
	var parts []any
	seen := map[string]bool{}
	for _, ci := range d.ChangeIdeas {
		for _, p := range ci.Practices {
			if !p.Found || seen[p.URI] {
				continue
			}
			seen[p.URI] = true
			parts = append(parts, map[string]any{"@type": "LearningResource", "@id": p.URI, "url": p.URI, "name": p.Title,
				"learningResourceType": "activity plan"})
		}
	}
	if parts != nil {
		ld["hasPart"] = parts
	}
	return ld
}
