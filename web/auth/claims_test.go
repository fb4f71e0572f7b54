package auth

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/brightspots-nic/brightspots/practices"
)

func mappingConfig() Config {
	return Config{
		OIDC: OIDC{AllowedDomains: []string{"district.example"}},
		Roles: []RoleRule{
			{Claim: "groups", Value: "nic-coordinators", Role: practices.RoleCoordinator},
			{Claim: "email", Value: "IT@District.example", Role: practices.RoleAdmin},
			{Claim: "email_domain", Value: "pub.district.example", Role: practices.RolePublisher},
		},
		Teams: Teams{Claim: "groups", Prefix: "plc-", Publish: true},
	}
}

func TestClaimMapping(t *testing.T) {
	for _, tc := range []struct {
		name   string
		claims string
		roles  string
		teams  string
		err    error
	}{
		{"plain member", `{"sub":"1","email":"a@district.example"}`, "[teacher]", "[]", nil},
		{"coordinator and team", `{"sub":"1","email":"a@district.example","groups":["plc-math-4","nic-coordinators","staff"]}`,
			"[coordinator publisher teacher]", "[plc-math-4]", nil},
		{"admin by email, any case", `{"sub":"1","email":"it@district.example"}`, "[admin teacher]", "[]", nil},
		{"unverified email grants nothing and is refused", `{"sub":"1","email":"it@district.example","email_verified":false}`, "", "", ErrNotAllowed},
		{"hd decides over email domain", `{"sub":"1","email":"a@district.example","hd":"other.example"}`, "", "", ErrNotAllowed},
		{"hd in list", `{"sub":"1","email":"a@district.example","hd":"district.example","email_verified":"true"}`, "[teacher]", "[]", nil},
		{"other domain", `{"sub":"1","email":"a@elsewhere.example","groups":["nic-coordinators"]}`, "", "", ErrNotAllowed},
		{"groups as one string", `{"sub":"1","email":"a@district.example","groups":"nic-coordinators"}`, "[coordinator teacher]", "[]", nil},
		{"group values are exact", `{"sub":"1","email":"a@district.example","groups":["NIC-Coordinators","plc-"]}`, "[publisher teacher]", "[plc-]", nil},
		{"non-string group values ignored", `{"sub":"1","email":"a@district.example","groups":[1,true,{"a":"nic-coordinators"},null]}`, "[teacher]", "[]", nil},
		{"no sub", `{"email":"a@district.example"}`, "", "", errNoSub},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := mappingConfig()
			var claims map[string]any
			if err := json.Unmarshal([]byte(tc.claims), &claims); err != nil {
				t.Fatal(err)
			}
			p, err := cfg.principal(claims)
			if tc.err != nil {
				if err == nil || (tc.err != errNoSub && !errors.Is(err, tc.err)) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := str(p.Roles); got != tc.roles {
				t.Errorf("roles = %s, want %s", got, tc.roles)
			}
			if got := str(p.Teams); got != tc.teams {
				t.Errorf("teams = %s, want %s", got, tc.teams)
			}
		})
	}
}

var errNoSub = errors.New("no sub")

func str(v any) string {
	b, _ := json.Marshal(v)
	s := strings.NewReplacer(`"`, "", ",", " ").Replace(string(b))
	if s == "null" {
		return "[]"
	}
	return s
}

// FuzzClaimMapping: any claims a provider sends map to a principal that is a teacher, whose other
// roles each come from a rule that matched, and whose teams all carry the prefix; or to an error.
// Never a panic.
func FuzzClaimMapping(f *testing.F) {
	for _, s := range []string{
		`{"sub":"1","email":"a@district.example","groups":["plc-math-4","nic-coordinators"]}`,
		`{"sub":"1","email":"it@district.example","email_verified":true,"hd":"district.example"}`,
		`{"sub":"","groups":"x"}`,
		`{"sub":"1","email":"a@b@district.example","groups":[null,1,["plc-x"]]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var claims map[string]any
		if json.Unmarshal(data, &claims) != nil {
			return
		}
		cfg := mappingConfig()
		p, err := cfg.principal(claims)
		if err != nil {
			return
		}
		if p.Kind != "session" || p.Subject == "" || !slices.Contains(p.Roles, practices.RoleTeacher) {
			t.Fatalf("principal %+v", p)
		}
		for _, r := range p.Roles {
			switch r {
			case practices.RoleTeacher:
			case practices.RoleAdmin:
				if p.Email != "it@district.example" {
					t.Fatalf("admin without the admin email: %+v", p)
				}
			case practices.RoleCoordinator:
				if !slices.Contains(stringValues(claims["groups"]), "nic-coordinators") {
					t.Fatalf("coordinator without the group: %+v from %s", p, data)
				}
			case practices.RolePublisher:
				if len(p.Teams) == 0 && !strings.HasSuffix(p.Email, "@pub.district.example") {
					t.Fatalf("publisher without team or domain: %+v", p)
				}
			default:
				t.Fatalf("unexpected role %q", r)
			}
		}
		for _, team := range p.Teams {
			if !strings.HasPrefix(team, "plc-") {
				t.Fatalf("team %q without the prefix", team)
			}
		}
		// The allow-list held.
		if !strings.HasSuffix(p.Email, "@district.example") {
			if hd, _ := claims["hd"].(string); !strings.EqualFold(hd, "district.example") {
				t.Fatalf("admitted outside the allowed domain: %+v", p)
			}
		}
	})
}

// TestRequireAdmitsOnlyStaff: with auth.require set, a student the district IdP vouches for is
// refused; staff matching any rule are admitted with their roles as usual.
func TestRequireAdmitsOnlyStaff(t *testing.T) {
	cfg := mappingConfig()
	cfg.Require = []ClaimRule{{Claim: "groups", Value: "staff"}, {Claim: "user_type", Value: "teacher"}}
	for _, tc := range []struct {
		name, claims string
		admitted     bool
	}{
		{"student", `{"sub":"s1","email":"kid@district.example","groups":["students","grade-4"]}`, false},
		{"clever student", `{"sub":"s2","email":"kid@district.example","user_type":"student"}`, false},
		{"no claims at all", `{"sub":"s3","email":"x@district.example"}`, false},
		{"staff group", `{"sub":"t1","email":"t@district.example","groups":["staff","nic-coordinators"]}`, true},
		{"clever teacher", `{"sub":"t2","email":"t@district.example","user_type":"teacher"}`, true},
		{"value is exact", `{"sub":"t3","email":"t@district.example","groups":["Staff"]}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var claims map[string]any
			json.Unmarshal([]byte(tc.claims), &claims)
			p, err := cfg.principal(claims)
			if tc.admitted != (err == nil) {
				t.Fatalf("admitted = %v (err %v), want %v", err == nil, err, tc.admitted)
			}
			if !tc.admitted && !errors.Is(err, ErrNotAllowed) {
				t.Fatalf("refusal is not ErrNotAllowed: %v", err)
			}
			if tc.name == "staff group" && !p.Has(practices.RoleCoordinator) {
				t.Fatalf("roles not mapped for an admitted user: %+v", p.Roles)
			}
		})
	}
	bad := cfg
	bad.Require = []ClaimRule{{Claim: "groups"}}
	bad.PublicURL, bad.OIDC.Issuer, bad.OIDC.ClientID = "https://n.example", "https://idp.example", "c"
	if _, err := bad.withDefaults(); err == nil || !strings.Contains(err.Error(), "auth.require[0]") {
		t.Fatalf("incomplete require rule: %v", err)
	}
}
