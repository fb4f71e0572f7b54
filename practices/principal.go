package practices

import "slices"

// Role is what a principal may do in its district.
type Role string

const (
	RoleTeacher     Role = "teacher"     // every signed-in member of the district: reads
	RolePublisher   Role = "publisher"   // member of a PLC team: writes that team's practices and tests
	RoleCoordinator Role = "coordinator" // NIC coordinator: curates collections
	RoleAdmin       Role = "admin"       // runs the node: everything
)

// ParseRole returns the role named s, or false.
func ParseRole(s string) (Role, bool) {
	switch r := Role(s); r {
	case RoleTeacher, RolePublisher, RoleCoordinator, RoleAdmin:
		return r, true
	}
	return "", false
}

// Principal is who is making a request: a browser session, an API token, or (for federation) a peer
// node. One type so that one set of authorization checks (access.go) serves every way in.
type Principal struct {
	// Kind is "session", "token" or "node". The zero Principal is the anonymous caller.
	Kind    string   `json:"kind,omitempty"`
	Subject string   `json:"subject,omitempty"` // stable id: token id, OIDC sub, or peer node URL
	Name    string   `json:"name,omitempty"`
	Email   string   `json:"email,omitempty"`
	Roles   []Role   `json:"roles,omitempty"`
	Teams   []string `json:"teams,omitempty"`
	// PeerID is the node id of the peer, for Kind "node".
	PeerID string `json:"peer_id,omitempty"`
}

// Anonymous is the caller nobody signed in as.
var Anonymous = Principal{}

// Authenticated reports whether the caller is a member of this district (not anonymous, not a peer).
func (p Principal) Authenticated() bool { return p.Kind != "" && p.Kind != "node" }

// Has reports whether p holds role r. Admin holds every role; every member of the district is a teacher.
func (p Principal) Has(r Role) bool {
	if !p.Authenticated() {
		return false
	}
	if r == RoleTeacher || slices.Contains(p.Roles, RoleAdmin) {
		return true
	}
	return slices.Contains(p.Roles, r)
}

// InTeam reports whether p is a member of team.
func (p Principal) InTeam(team string) bool {
	return team != "" && slices.Contains(p.Teams, team)
}
