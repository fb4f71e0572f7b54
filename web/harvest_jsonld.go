package web

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/practices/evidence"
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

// testJSONLD describes a test's public page as a schema.org Dataset: the aggregate results of one
// trial of a practice. A Dataset and not a Review, because a test rates nothing: it reports what
// was measured, how, and with what result, which is what variableMeasured and measurementTechnique
// say and what dataset search engines read. The practice it tested is both what the data is about
// (about) and what the trial was based on (isBasedOn, the same link a practice's adaptation uses).
// Only the published figures go in (t.Results is the view that left the district: suppressed groups
// have no figures), so the markup shows nothing the page does not.
func testJSONLD(v testPublicView) map[string]any {
	t := v.T
	ld := map[string]any{
		"@context":     "https://schema.org",
		"@type":        "Dataset",
		"@id":          t.URI,
		"url":          t.URI,
		"name":         firstNonEmpty(t.Title, "Test"),
		"inLanguage":   "en",
		"publisher":    map[string]any{"@type": "Organization", "name": v.DistrictName, "url": t.Origin},
		"dateModified": t.UpdatedAt.UTC().Format("2006-01-02"),
	}
	if t.PublishedAt != nil {
		ld["datePublished"] = t.PublishedAt.UTC().Format("2006-01-02")
	}
	if v.Prediction != "" {
		ld["description"] = "Prediction: " + v.Prediction
	}
	var technique []string
	for _, s := range []string{v.Cycle, v.Design, v.Assessment} {
		if s != "" {
			technique = append(technique, s)
		}
	}
	if technique != nil {
		ld["measurementTechnique"] = strings.Join(technique, "; ")
	}
	if t.StartDate != "" && t.EndDate != "" {
		ld["temporalCoverage"] = t.StartDate + "/" + t.EndDate
	}
	if t.Practice.URI != "" {
		ld["isBasedOn"] = t.Practice.URI
		about := map[string]any{"@type": "LearningResource", "@id": t.Practice.URI, "url": t.Practice.URI}
		if v.Practice != nil {
			about["name"] = v.Practice.Title
		}
		ld["about"] = about
	}
	if vars := resultVariables(t.Results); vars != nil {
		ld["variableMeasured"] = vars
	}
	return ld
}

// resultVariables lists a test's published figures as PropertyValues: per group, n and the mean
// scores before and after; the effect size with its confidence interval.
func resultVariables(r *evidence.Results) []any {
	if r == nil {
		return nil
	}
	var out []any
	add := func(group, name string, x *float64, unit string) {
		if x == nil {
			return
		}
		pv := map[string]any{"@type": "PropertyValue", "name": group + " " + name, "value": *x}
		if unit != "" {
			pv["unitText"] = unit
		}
		out = append(out, pv)
	}
	for _, g := range r.Groups {
		if g.Suppressed {
			continue
		}
		group := string(g.Group)
		if g.N != nil {
			n := float64(*g.N)
			add(group, "students (n)", &n, "students")
		}
		add(group, "mean score before", g.MeanPre, "score")
		add(group, "mean score after", g.MeanPost, "score")
	}
	if e := r.Effect; e != nil {
		out = append(out, map[string]any{"@type": "PropertyValue", "name": "effect size", "propertyID": e.Measure,
			"value": e.G, "minValue": e.CILower, "maxValue": e.CIUpper, "description": "95% confidence interval from minValue to maxValue"})
	}
	return out
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
