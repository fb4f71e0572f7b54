package practices_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/brightspots-nic/brightspots/practices"
)

func TestCheckTeam(t *testing.T) {
	cases := []struct {
		name string
		rule string // "" when valid
	}{
		{"math-4", ""},
		{"Grade 4 Math PLC", ""},
		{"Équipe de mathématiques", ""},
		{"ela.3_team", ""},
		{strings.Repeat("é", practices.MaxTeamLength), ""},
		{"", "required"},
		{"   ", "required"},
		{strings.Repeat("a", practices.MaxTeamLength+1), "max_length"},
		{"bad\nteam", "format"},
		{"tab\tteam", "format"},
		{"nul\x00", "format"},
		{"del\x7f", "format"},
		{"plc/math", "format"},
		{`plc\math`, "format"},
		{"../etc", "format"},
		{"\xff\xfe", "format"},
	}
	for _, tc := range cases {
		err := practices.CheckTeam(tc.name)
		var fe *practices.FieldError
		switch {
		case tc.rule == "" && err != nil:
			t.Errorf("CheckTeam(%q) = %v, want valid", tc.name, err)
		case tc.rule != "" && !errors.As(err, &fe):
			t.Errorf("CheckTeam(%q) = %v, want a *FieldError with rule %s", tc.name, err, tc.rule)
		case tc.rule != "" && (fe.Field != "team" || fe.Rule != tc.rule):
			t.Errorf("CheckTeam(%q) = %+v, want field team, rule %s", tc.name, fe, tc.rule)
		}
	}
}

func TestValidNodeID(t *testing.T) {
	for id, want := range map[string]bool{
		"riverside": true, "lake-view-2": true, "a": true, strings.Repeat("a", 63): true,
		"": false, "-riverside": false, "riverside-": false, "Riverside": false, "river side": false,
		"river_side": false, strings.Repeat("a", 64): false,
	} {
		if got := practices.ValidNodeID(id); got != want {
			t.Errorf("ValidNodeID(%q) = %v, want %v", id, got, want)
		}
	}
}

// The rules for running the node, beside the record rules of access.go.
func TestNodeAccess(t *testing.T) {
	var (
		anon        = practices.Anonymous
		peer        = practices.Principal{Kind: "node", Subject: "https://lakeview.example", PeerID: "lakeview"}
		teacher     = practices.Principal{Kind: "session", Subject: "t"}
		publisher   = practices.Principal{Kind: "token", Subject: "p", Roles: []practices.Role{practices.RolePublisher}, Teams: []string{"math-4"}}
		teamless    = practices.Principal{Kind: "token", Subject: "q", Roles: []practices.Role{practices.RolePublisher}}
		coordinator = practices.Principal{Kind: "session", Subject: "c", Roles: []practices.Role{practices.RoleCoordinator}}
		admin       = practices.Principal{Kind: "session", Subject: "a", Roles: []practices.Role{practices.RoleAdmin}}
	)
	cases := []struct {
		what string
		err  error
		want error
	}{
		{"anonymous network", practices.CanViewNetwork(anon), practices.ErrUnauthenticated},
		{"peer network", practices.CanViewNetwork(peer), practices.ErrUnauthenticated},
		{"teacher network", practices.CanViewNetwork(teacher), practices.ErrForbidden},
		{"coordinator network", practices.CanViewNetwork(coordinator), nil},
		{"admin network", practices.CanViewNetwork(admin), nil},
		{"anonymous tokens", practices.CanManageTokens(anon), practices.ErrUnauthenticated},
		{"coordinator tokens", practices.CanManageTokens(coordinator), practices.ErrForbidden},
		{"admin tokens", practices.CanManageTokens(admin), nil},
		{"anonymous new practice", practices.CanCreateSome(anon, practices.KindPractice), practices.ErrUnauthenticated},
		{"teacher new practice", practices.CanCreateSome(teacher, practices.KindPractice), practices.ErrForbidden},
		{"publisher new practice", practices.CanCreateSome(publisher, practices.KindPractice), nil},
		{"publisher without a team", practices.CanCreateSome(teamless, practices.KindTest), practices.ErrForbidden},
		{"publisher new collection", practices.CanCreateSome(publisher, practices.KindCollection), practices.ErrForbidden},
		{"coordinator new collection", practices.CanCreateSome(coordinator, practices.KindCollection), nil},
		{"admin new test", practices.CanCreateSome(admin, practices.KindTest), nil},
	}
	for _, tc := range cases {
		if !errors.Is(tc.err, tc.want) || (tc.want == nil && tc.err != nil) {
			t.Errorf("%s: %v, want %v", tc.what, tc.err, tc.want)
		}
	}
}
