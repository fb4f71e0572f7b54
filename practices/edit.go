package practices

import (
	"fmt"
	"reflect"
	"strings"
)

// DefaultLicense is applied to practices created without one.
const DefaultLicense = "https://creativecommons.org/licenses/by/4.0/"

// clearComputed drops what only the server computes.
func clearComputed(rec Record) {
	switch r := rec.(type) {
	case *Practice:
		r.Evidence = nil
		r.Materials = nil
	case *Test:
		r.Results = nil
	}
}

// applyDefaults fills defaults and normalises codes.
func applyDefaults(rec Record) {
	switch r := rec.(type) {
	case *Practice:
		if r.License == "" {
			r.License = DefaultLicense
		}
		for i := range r.Standards {
			r.Standards[i].Code = strings.ToUpper(strings.TrimSpace(r.Standards[i].Code))
			if r.Standards[i].Framework == "" {
				r.Standards[i].Framework = StandardFramework(r.Standards[i].Code)
			}
			if r.Standards[i].Alignment == "" {
				r.Standards[i].Alignment = "teaches"
			}
		}
	}
}

// keepComputed carries server-computed fields from cur into the incoming edit, and resolves the
// materials list: a client may reorder, rename or remove attached files, never add one by reference.
func keepComputed(in, cur Record) {
	switch r := in.(type) {
	case *Practice:
		c := cur.(*Practice)
		r.Evidence = c.Evidence
		byHash := map[string]ArtifactRef{}
		for _, m := range c.Materials {
			byHash[m.SHA256] = m
		}
		var out []ArtifactRef
		for _, m := range r.Materials {
			if known, ok := byHash[m.SHA256]; ok {
				if m.Name != "" {
					known.Name = m.Name
				}
				out = append(out, known)
			}
		}
		r.Materials = out
	case *Test:
		r.Results = cur.(*Test).Results
	}
	applyDefaults(in)
}

// checkEditable refuses edits the lifecycle forbids.
func checkEditable(cur, in Record) error {
	var c checker
	switch r := in.(type) {
	case *Practice:
		byHash := map[string]bool{}
		for _, m := range cur.(*Practice).Materials {
			byHash[m.SHA256] = true
		}
		for i, m := range r.Materials {
			if !byHash[m.SHA256] {
				c.add(fmt.Sprintf("materials[%d].sha256", i), "unknown_artifact", "must be a file uploaded to this practice (upload it to /artifacts)")
			}
		}
	case *Test:
		t := cur.(*Test)
		if t.Results != nil && !reflect.DeepEqual(t.Prediction, r.Prediction) {
			c.add("prediction", "after_results", "cannot change once results exist: a prediction is made before the data")
		}
		if t.Results != nil && !reflect.DeepEqual(t.Assessment, r.Assessment) {
			c.add("assessment", "after_results", "cannot change once results exist; upload corrected scores as a new version instead")
		}
		if t.Results != nil && t.Design != r.Design {
			c.add("design", "after_results", "cannot change once results exist")
		}
	}
	return c.err()
}

// copyRecord overwrites dst with src (both of the same kind).
func copyRecord(dst, src Record) {
	switch d := dst.(type) {
	case *Practice:
		*d = *src.(*Practice)
	case *Test:
		*d = *src.(*Test)
	case *Collection:
		*d = *src.(*Collection)
	case *Aim:
		*d = *src.(*Aim)
	case *Progress:
		*d = *src.(*Progress)
	}
}
