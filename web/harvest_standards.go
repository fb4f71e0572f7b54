package web

import (
	"context"
	"net/url"
	"slices"
	"strings"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/practices/standards"
)

// The practice form's standards picker: an input with a <datalist> of every imported CASE item
// (code and statement), so the browser filters it as the publisher types a code or words of the
// statement — no script needed. The picked code is added to the form's codes on save, and every code
// that is an imported item (typed or picked, by code or by CFItem URI) is stored with its CFItem
// URI, identifier and statement. Codes that are not imported items are kept as typed.

// statementShort shortens a standard's statement for the picker's list, at a word.
func statementShort(s string) string {
	if len(s) <= 140 {
		return s
	}
	cut := strings.LastIndex(s[:140], " ")
	if cut < 80 {
		cut = 140
	}
	return s[:cut] + "…"
}

// standardItems lists the imported items the picker offers (nil when none, or when the store
// cannot be read: the form still takes typed codes).
func (s *Server) standardItems(ctx context.Context) []standards.Item {
	if s.standards == nil {
		return nil
	}
	items, err := s.standards.Items(ctx)
	if err != nil {
		s.logger.Warn("standards picker: read imported frameworks", "err", err)
		return nil
	}
	return items
}

// joinPickedStandard moves the picker's value into the standards field, as one more line.
func joinPickedStandard(posted url.Values) url.Values {
	pick := strings.TrimSpace(posted.Get("standards_pick"))
	if pick == "" {
		return posted
	}
	cur := strings.TrimRight(posted.Get("standards"), "\r\n ")
	if cur != "" {
		cur += "\n"
	}
	posted.Set("standards", cur+pick)
	posted.Del("standards_pick")
	return posted
}

// alignToCatalog fills each standard that names an imported item (by code or CFItem URI) with the
// item's code, URI, identifier, statement and framework.
func (s *Server) alignToCatalog(ctx context.Context, p *practices.Practice) {
	if p == nil || s.standards == nil {
		return
	}
	for i, st := range p.Standards {
		it, ok, err := s.standards.Lookup(ctx, st.Code)
		if err != nil {
			s.logger.Warn("standards: lookup", "err", err)
			return
		}
		if !ok {
			continue
		}
		st.Code, st.URI, st.CaseID, st.Statement = strings.ToUpper(it.Code), it.URI, it.Identifier, it.Statement
		if st.Framework == "" {
			st.Framework = it.Framework
		}
		p.Standards[i] = st
	}
}

// standardURIQuery lets a search name a standard by its CFItem URI: a q or standard value that is
// the URI of an imported item becomes a standard filter on its code. Other values pass unchanged.
func (s *Server) standardURIQuery(ctx context.Context, params url.Values) url.Values {
	isURI := func(v string) bool {
		v = strings.TrimSpace(v)
		return strings.HasPrefix(v, "https://") || strings.HasPrefix(v, "http://")
	}
	if s.standards == nil || !isURI(params.Get("q")) && !slices.ContainsFunc(params["standard"], isURI) {
		return params
	}
	out := url.Values{}
	for k, vs := range params {
		for _, v := range vs {
			if (k == "q" || k == "standard") && isURI(v) {
				if it, ok, err := s.standards.Lookup(ctx, v); err == nil && ok {
					out.Add("standard", strings.ToUpper(it.Code))
					continue
				}
			}
			out.Add(k, v)
		}
	}
	return out
}
