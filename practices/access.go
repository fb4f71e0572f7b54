package practices

import "slices"

// This file is the one place that decides who may see and change what. Handlers never decide.
//
// Reading:
//   - a published record whose visibility is public: anyone, including anonymous callers and peers;
//   - a published local record of any other visibility: every signed-in member of the district;
//     a peer node only when the visibility is network, or peers and it is named in shared_with;
//   - a mirrored record (from another district): every signed-in member of this district;
//   - a draft or withdrawn record: its team's publishers and admins (collections: coordinators).
//
// Writing: practices and tests, publishers of the owning team and admins; collections,
// coordinators and admins. Creating needs the same, with the team named in the new record.

// CanRead reports whether p may see the record described by m on the node `local`.
func CanRead(p Principal, m *Meta, local Node) bool {
	if m.Status == StatusDeleted {
		return false
	}
	if m.Origin != "" && m.Origin != local.URL {
		// Mirrored: a peer only sent what this district may see; peers never read mirrors (not transitive).
		if p.Kind == "node" {
			return false
		}
		return m.Status == StatusPublished && (p.Authenticated() || m.Visibility == VisibilityPublic)
	}
	if m.Status == StatusPublished {
		switch {
		case m.Visibility == VisibilityPublic:
			return true
		case p.Kind == "node":
			return m.Visibility == VisibilityNetwork ||
				(m.Visibility == VisibilityPeers && slices.Contains(m.SharedWith, p.PeerID))
		default:
			return p.Authenticated()
		}
	}
	return canEdit(p, m.Kind, m.Team)
}

// CanWrite returns nil if p may change the record, ErrUnauthenticated or ErrForbidden otherwise.
// Callers check CanRead first so that an invisible record answers "not found".
func CanWrite(p Principal, m *Meta) error {
	if !p.Authenticated() {
		return ErrUnauthenticated
	}
	if !canEdit(p, m.Kind, m.Team) {
		return ErrForbidden
	}
	return nil
}

// CanCreate returns nil if p may create a record of kind owned by team.
func CanCreate(p Principal, kind Kind, team string) error {
	if !p.Authenticated() {
		return ErrUnauthenticated
	}
	if !canEdit(p, kind, team) {
		return ErrForbidden
	}
	return nil
}

func canEdit(p Principal, kind Kind, team string) bool {
	if !p.Authenticated() {
		return false
	}
	if p.Has(RoleAdmin) {
		return true
	}
	if kind == KindCollection {
		return p.Has(RoleCoordinator)
	}
	return p.Has(RolePublisher) && p.InTeam(team)
}
