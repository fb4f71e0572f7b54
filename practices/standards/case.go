// Package standards holds the learning-standards frameworks a district imports from 1EdTech CASE
// packages (CFPackage JSON, the format of the CASE Network and of state publishers), so the practice
// form can offer their items and a practice can store each standard's CFItem URI and identifier with
// its code. It knows nothing of HTTP; frameworks live in the object store.
//
// An import is checked whole before anything is written, then stored with one put: a package that
// does not parse, repeats an identifier or exceeds a limit is refused with an error naming the item,
// and nothing of it is kept.
package standards

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Limits on what an import accepts.
const (
	MaxPackageBytes = 32 << 20
	MaxItems        = 50_000
	maxStatement    = 4000
	maxCode         = 100
	maxIdentifier   = 200
	maxURI          = 1000
	maxTitle        = 500
)

// Framework is one imported CASE framework (a CFDocument and its CFItems).
type Framework struct {
	Identifier string `json:"identifier"`
	URI        string `json:"uri"`
	Title      string `json:"title"`
	Creator    string `json:"creator,omitempty"`
	Items      []Item `json:"items"`
}

// Item is one CFItem.
type Item struct {
	Identifier string `json:"identifier"`          // CFItem identifier (a UUID in CASE)
	URI        string `json:"uri"`                 // CFItem URI
	Code       string `json:"code,omitempty"`      // humanCodingScheme, e.g. "4.NF.A.2"; empty for groupings
	Statement  string `json:"statement"`           // fullStatement
	Type       string `json:"type,omitempty"`      // CFItemType, e.g. "Standard"
	Framework  string `json:"framework,omitempty"` // the framework's title, filled when loaded
}

// ImportError says what is wrong with a package, naming the item.
type ImportError struct {
	Item string // e.g. `CFItems[3] (identifier "…", code "4.NF.A.2")`, or "CFDocument", or "package"
	Rule string
}

func (e *ImportError) Error() string { return e.Item + ": " + e.Rule }

// casePackage is the part of a CFPackage this node reads. Unknown members are ignored: CASE
// packages carry associations, definitions and rubrics the picker does not need.
type casePackage struct {
	CFDocument *struct {
		Identifier string `json:"identifier"`
		URI        string `json:"uri"`
		Title      string `json:"title"`
		Creator    string `json:"creator"`
	} `json:"CFDocument"`
	CFItems []struct {
		Identifier        string `json:"identifier"`
		URI               string `json:"uri"`
		FullStatement     string `json:"fullStatement"`
		HumanCodingScheme string `json:"humanCodingScheme"`
		CFItemType        string `json:"CFItemType"`
	} `json:"CFItems"`
}

// ParseCASE reads and checks a CFPackage.
func ParseCASE(r io.Reader) (*Framework, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxPackageBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read package: %w", err)
	}
	if len(data) > MaxPackageBytes {
		return nil, &ImportError{"package", fmt.Sprintf("is larger than %d MiB", MaxPackageBytes>>20)}
	}
	if !utf8.Valid(data) {
		return nil, &ImportError{"package", "is not UTF-8 text"}
	}
	var pkg casePackage
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&pkg); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return nil, &ImportError{"package", fmt.Sprintf("is not JSON (at byte %d: %v)", se.Offset, se)}
		case errors.As(err, &te):
			return nil, &ImportError{"package", fmt.Sprintf("%s must be a %s", te.Field, te.Type)}
		}
		return nil, &ImportError{"package", "is not a CFPackage: " + err.Error()}
	}
	if pkg.CFDocument == nil {
		return nil, &ImportError{"CFDocument", "is missing: a CFPackage has one CFDocument"}
	}
	doc := pkg.CFDocument
	fw := &Framework{Identifier: strings.TrimSpace(doc.Identifier), URI: strings.TrimSpace(doc.URI), Title: strings.TrimSpace(doc.Title), Creator: strings.TrimSpace(doc.Creator)}
	if err := checkIdentity("CFDocument", fw.Identifier, fw.URI); err != nil {
		return nil, err
	}
	if fw.Title == "" || len(fw.Title) > maxTitle {
		return nil, &ImportError{"CFDocument", fmt.Sprintf("title is required and at most %d characters", maxTitle)}
	}
	if len(pkg.CFItems) == 0 {
		return nil, &ImportError{"CFItems", "is empty: the framework has no items"}
	}
	if len(pkg.CFItems) > MaxItems {
		return nil, &ImportError{"CFItems", fmt.Sprintf("has %d items; at most %d are accepted", len(pkg.CFItems), MaxItems)}
	}
	ids, uris, codes := map[string]int{}, map[string]int{}, map[string]int{}
	for i, it := range pkg.CFItems {
		item := Item{
			Identifier: strings.TrimSpace(it.Identifier), URI: strings.TrimSpace(it.URI),
			Code: strings.TrimSpace(it.HumanCodingScheme), Statement: strings.TrimSpace(it.FullStatement),
			Type: strings.TrimSpace(it.CFItemType),
		}
		name := fmt.Sprintf("CFItems[%d] (identifier %q", i, truncate(item.Identifier))
		if item.Code != "" {
			name += fmt.Sprintf(", code %q", truncate(item.Code))
		}
		name += ")"
		if err := checkIdentity(name, item.Identifier, item.URI); err != nil {
			return nil, err
		}
		if j, dup := ids[item.Identifier]; dup {
			return nil, &ImportError{name, fmt.Sprintf("repeats the identifier of CFItems[%d]", j)}
		}
		if j, dup := uris[item.URI]; dup {
			return nil, &ImportError{name, fmt.Sprintf("repeats the uri of CFItems[%d]", j)}
		}
		if item.Statement == "" || len(item.Statement) > maxStatement {
			return nil, &ImportError{name, fmt.Sprintf("fullStatement is required and at most %d characters", maxStatement)}
		}
		if len(item.Code) > maxCode || strings.ContainsAny(item.Code, "\n\r\t") {
			return nil, &ImportError{name, fmt.Sprintf("humanCodingScheme must be one line of at most %d characters", maxCode)}
		}
		if item.Code != "" {
			key := strings.ToUpper(item.Code)
			if j, dup := codes[key]; dup {
				return nil, &ImportError{name, fmt.Sprintf("repeats the humanCodingScheme of CFItems[%d]", j)}
			}
			codes[key] = i
		}
		ids[item.Identifier], uris[item.URI] = i, i
		fw.Items = append(fw.Items, item)
	}
	return fw, nil
}

func checkIdentity(name, identifier, uri string) error {
	if identifier == "" || len(identifier) > maxIdentifier {
		return &ImportError{name, fmt.Sprintf("identifier is required and at most %d characters", maxIdentifier)}
	}
	u, err := url.Parse(uri)
	if uri == "" || len(uri) > maxURI || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return &ImportError{name, "uri must be an absolute http(s) URL"}
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}
