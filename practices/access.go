package practices

import "slices"

// This file is the one place that decides who may see and change what. Handlers never decide.
//
// Reading:
//   - a published record whose visibility is public: anyone, including anonymous callers and peers;
//   - a published local record of any other visibility: every signed-in member of the district;
//     a peer node only when the visibility is network, or peers and it is named in shared_with;
//   - a mirrored record (from another district): every signed-in member of this district;
//   - a draft or withdrawn record: its team's publishers and admins (collections, aims, progress:
//     coordinators).
//
// Writing: practices and tests, publishers of the owning team and admins; collections, aims and
// progress, coordinators and admins. Creating needs the same, with the team named in the new record.
//
// Running the node: the network's peers and their sync health, coordinators and admins; API tokens,
// admins.
//
// Every decision answers ErrUnauthenticated for a caller who is not signed in (a page then sends
// them to sign in) and ErrForbidden for one who is but may not.

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

// CanCreateSome returns nil if p may create a record of kind for some team of theirs (for a kind no
// team owns, at all): what a page asks before it offers the form for a new record.
func CanCreateSome(p Principal, kind Kind) error {
	if !p.Authenticated() {
		return ErrUnauthenticated
	}
	if len(p.Teams) == 0 {
		return CanCreate(p, kind, "")
	}
	var err error
	for _, t := range p.Teams {
		if err = CanCreate(p, kind, t); err == nil {
			return nil
		}
	}
	return err
}

// CanViewNetwork returns nil if p may see this node's peers and their sync health.
func CanViewNetwork(p Principal) error { return needRole(p, RoleCoordinator) }

// CanManageTokens returns nil if p may list, create and revoke API tokens.
func CanManageTokens(p Principal) error { return needRole(p, RoleAdmin) }

func needRole(p Principal, r Role) error {
	if !p.Authenticated() {
		return ErrUnauthenticated
	}
	if !p.Has(r) {
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
	if coordinatorKind(kind) {
		return p.Has(RoleCoordinator)
	}
	return p.Has(RolePublisher) && p.InTeam(team)
}

// coordinatorKind reports whether records of kind are the network coordinators' (collections, aims
// and a district's progress towards an aim) rather than a team's.
func coordinatorKind(kind Kind) bool {
	return kind == KindCollection || kind == KindAim || kind == KindProgress
}
