package teamperm

import (
	"fmt"
	"slices"
	"sync"
)

// A Member is the compiled, immutable view of one team member in one
// organisation: the effective permissions and visibility rules that follow
// from the organisation's plan, the member's role and stored [Settings].
// Build it once with [Compile] (for example when a session is loaded, or
// cached by member and [Member.Revision]) and evaluate it on every request.
//
// A *Member is safe for concurrent use. Has, Evaluate, EvaluateRecord and
// Visible never allocate; Scope allocates on its first call per kind only.
// A nil *Member is valid and denies everything, so a handler that finds no
// member in its context fails closed.
type Member struct {
	org      ID
	id       ID
	role     Role
	revision uint64
	fine     bool // the organisation has FineGrained: settings apply

	perms   PermissionSet          // effective permissions
	reasons [numPermissions]Reason // why each permission is or is not in perms
	eff     restrictions           // restrictions in force
	stored  restrictions           // restrictions the settings ask for on a fine-grained plan
	sets    struct{ inst, pipe idSet }

	instIDs, pipeIDs []ID // the allowed IDs in the settings' order, for filters

	orgArg    any // org as a bind value, for scopes
	scopeOnce [numKinds]sync.Once
	scopes    [numKinds]Filter
}

// restrictions says which visibility rules apply.
type restrictions struct {
	instances bool // R7: only records of allowed instances
	assigned  bool // R9: only conversations (and their messages) assigned to the member
	created   bool // R10: only deals created by / for the member, or legacy
	pipelines bool // R11: only deals in the member's pipelines
}

// Compile builds the view of the member with settings s in organisation
// org. It validates everything up front ([Settings.Validate] and a non-zero
// organisation ID) and returns all problems joined; a compiled member never
// fails later.
//
// Compile copies what it needs from s; the caller may reuse s. It costs
// about a microsecond for typical settings, more for thousands of allowed
// instances or pipelines, which it indexes.
func Compile(org Organization, s Settings) (*Member, error) {
	if err := validateKey("organization", org.ID); err != nil {
		if verr := s.Validate(); verr != nil {
			return nil, fmt.Errorf("%w\n%w", err, verr)
		}
		return nil, err
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	m := &Member{
		org:      org.ID,
		id:       s.Member,
		role:     s.Role,
		revision: s.Revision,
		fine:     org.Features.Has(FineGrained),
		orgArg:   boxID(org.ID),
	}

	// Permissions: role defaults, then overrides (deny wins) on a
	// fine-grained plan; owners take no override (R2, R4, R5, R6).
	defaults := s.Role.Defaults()
	withSettings := defaults
	if s.Role != RoleOwner {
		withSettings = defaults.Union(s.Grants).Difference(s.Denies)
	}
	m.perms = defaults
	if m.fine {
		m.perms = withSettings
	}
	m.reasons[0] = ReasonInvalidRequest
	for p := range Permissions() {
		m.reasons[p] = m.permissionReason(p, defaults, withSettings, s)
	}

	// Visibility restrictions (R5, R7, R9, R10, R11).
	switch s.Role {
	case RoleAdmin:
		m.stored = restrictions{instances: s.Instances.Specific, assigned: s.OnlyAssignedChats}
	case RoleMember:
		m.stored = restrictions{
			instances: s.Instances.Specific,
			assigned:  s.OnlyAssignedChats,
			created:   s.OnlyCreatedDeals,
			pipelines: s.Pipelines.Specific,
		}
	}
	if m.fine {
		m.eff = m.stored
	}
	if m.stored.instances {
		m.instIDs = slices.Clone(s.Instances.IDs)
		m.sets.inst = newIDSet(m.instIDs)
	}
	if m.stored.pipelines {
		m.pipeIDs = slices.Clone(s.Pipelines.IDs)
		m.sets.pipe = newIDSet(m.pipeIDs)
	}
	return m, nil
}

func (m *Member) permissionReason(p Permission, defaults, withSettings PermissionSet, s Settings) Reason {
	switch {
	case m.role == RoleOwner:
		return ReasonOwner
	case !m.fine && withSettings.Has(p) != defaults.Has(p):
		return ReasonPlanIgnoresSettings
	case !m.fine:
		return ReasonRoleDefault
	case s.Denies.Has(p):
		return ReasonOverrideDeny
	case s.Grants.Has(p) && !defaults.Has(p):
		return ReasonOverrideGrant
	}
	return ReasonRoleDefault
}

// ID returns the member's ID. A nil Member has the zero ID.
func (m *Member) ID() ID {
	if m == nil {
		return ID{}
	}
	return m.id
}

// Organization returns the ID of the member's organisation.
func (m *Member) Organization() ID {
	if m == nil {
		return ID{}
	}
	return m.org
}

// Role returns the member's role; the zero Role for a nil Member.
func (m *Member) Role() Role {
	if m == nil {
		return 0
	}
	return m.role
}

// Revision returns the revision of the settings the member was compiled
// from.
func (m *Member) Revision() uint64 {
	if m == nil {
		return 0
	}
	return m.revision
}

// Permissions returns the member's effective permissions.
func (m *Member) Permissions() PermissionSet {
	if m == nil {
		return PermissionSet{}
	}
	return m.perms
}

// HonoursSettings reports whether the organisation's plan applies the
// member's stored settings (it has [FineGrained]). When false the member
// has exactly the role defaults.
func (m *Member) HonoursSettings() bool { return m != nil && m.fine }

// Has reports whether the member holds permission p. It is the fastest
// check: one bit test.
func (m *Member) Has(p Permission) bool { return m != nil && m.perms.Has(p) }

// Evaluate decides whether the member may do p, with no record involved
// (for example: may this member export contacts at all?). The outcome is
// [OutcomeAllow] or [OutcomeForbidden].
func (m *Member) Evaluate(p Permission) Decision {
	if m == nil {
		return Decision{perm: p}
	}
	if p >= numPermissions {
		p = 0 // reasons[0] is ReasonInvalidRequest
	}
	outcome := OutcomeForbidden
	if m.perms.Has(p) {
		outcome = OutcomeAllow
	}
	return Decision{m: m, outcome: outcome, reason: m.reasons[p], perm: p, by: p}
}

// EvaluateRecord decides whether the member may do p on record r (R12):
// first whether the member can see r at all (if not, the outcome is
// [OutcomeNotFound], whatever p is), then whether the member holds p
// ([OutcomeForbidden] if not).
func (m *Member) EvaluateRecord(p Permission, r Record) Decision {
	if m == nil {
		return Decision{outcome: OutcomeNotFound, perm: p, kind: r.Kind}
	}
	d := m.decision(p, r.Kind)
	v := m.visible(&r)
	switch {
	case !v.ok:
		d.outcome, d.reason, d.by = OutcomeNotFound, v.why, v.by
		return d
	case !p.IsValid():
		d.reason = ReasonInvalidRequest
		return d
	}
	d.reason = m.reasons[p]
	if m.perms.Has(p) {
		d.outcome = OutcomeAllow
		if v.ignored {
			// Allowed only because the plan ignores a setting that
			// would hide the record.
			d.reason = ReasonPlanIgnoresSettings
		}
	}
	return d
}

// Visible decides whether the member can see record r: [OutcomeAllow] or
// [OutcomeNotFound]. A record-level action also needs its permission: use
// [Member.EvaluateRecord] for that.
func (m *Member) Visible(r Record) Decision {
	if m == nil {
		return Decision{outcome: OutcomeNotFound, kind: r.Kind}
	}
	d := m.decision(0, r.Kind)
	v := m.visible(&r)
	d.reason, d.by = v.why, v.by
	if v.ok {
		d.outcome = OutcomeAllow
	} else {
		d.outcome = OutcomeNotFound
	}
	return d
}

func (m *Member) decision(p Permission, k Kind) Decision {
	return Decision{m: m, perm: p, by: p, kind: k}
}

// visibility is the answer of [Member.visible].
type visibility struct {
	ok      bool       // the record is visible
	ignored bool       // visible only because the plan ignores a stored setting
	why     Reason     // the rule that decided
	by      Permission // the view permission that decided, if one did
}

// visible applies tenant isolation and R7..R13 to r.
func (m *Member) visible(r *Record) visibility {
	if !r.Kind.IsValid() {
		return visibility{why: ReasonInvalidRequest}
	}
	if r.Organization != m.org {
		return visibility{why: ReasonOtherOrganization}
	}
	vp, needsView := r.Kind.ViewPermission()
	if needsView && !m.perms.Has(vp) {
		return visibility{why: m.reasons[vp], by: vp}
	}
	if why := m.hides(r, m.eff); why != ReasonNone {
		return visibility{why: why}
	}
	switch {
	case m.role == RoleOwner:
		return visibility{ok: true, why: ReasonOwner}
	case !m.fine && (m.hides(r, m.stored) != ReasonNone || needsView && m.reasons[vp] == ReasonPlanIgnoresSettings):
		return visibility{ok: true, ignored: true, why: ReasonPlanIgnoresSettings, by: vp}
	case needsView:
		return visibility{ok: true, why: m.reasons[vp], by: vp}
	}
	return visibility{ok: true, why: ReasonRoleDefault}
}

// hides returns the reason the restrictions in res hide r, or ReasonNone.
func (m *Member) hides(r *Record, res restrictions) Reason {
	if res.instances && r.Kind.IsInstanceBound() && !m.sets.inst.has(r.Instance) {
		return ReasonInstanceRestricted
	}
	switch r.Kind {
	case KindConversation, KindMessage:
		if res.assigned && r.Assignee != m.id {
			return ReasonNotAssigned
		}
	case KindDeal:
		if res.created && !m.createdFor(r) {
			return ReasonNotCreator
		}
		if res.pipelines && !m.sets.pipe.has(r.Pipeline) {
			return ReasonPipeline
		}
	}
	return ReasonNone
}

// createdFor is R10: the member created the deal, or an automation created
// it and assigned it to the member, or it has no creator tracking.
func (m *Member) createdFor(r *Record) bool {
	switch r.CreatorKind {
	case CreatorUnknown:
		return true
	case CreatorMember:
		return r.Creator == m.id
	case CreatorAutomation:
		return r.Assignee == m.id
	}
	return false
}

// idSet is an immutable set of IDs: a slice for a few, maps by key type
// for many, so membership costs about the same for 1 and for 100,000 IDs.
// It never holds the zero ID, so has(zero) is false (NULL matches nothing).
type idSet struct {
	small []ID
	large bool
	ints  map[int64]struct{}
	strs  map[string]struct{}
	uuids map[string]struct{}
}

const idSetSmall = 8

// newIDSet indexes ids; it keeps ids itself (no copy) when they are few.
func newIDSet(ids []ID) idSet {
	if len(ids) <= idSetSmall {
		return idSet{small: ids}
	}
	s := idSet{large: true}
	for _, id := range ids {
		switch id.kind {
		case idInt:
			if s.ints == nil {
				s.ints = make(map[int64]struct{}, len(ids))
			}
			s.ints[id.n] = struct{}{}
		case idString:
			if s.strs == nil {
				s.strs = make(map[string]struct{}, len(ids))
			}
			s.strs[id.s] = struct{}{}
		case idUUID:
			if s.uuids == nil {
				s.uuids = make(map[string]struct{}, len(ids))
			}
			s.uuids[id.s] = struct{}{}
		}
	}
	return s
}

func (s *idSet) has(id ID) bool {
	if !s.large {
		for i := range s.small {
			if s.small[i] == id {
				return true
			}
		}
		return false
	}
	var ok bool
	switch id.kind {
	case idInt:
		_, ok = s.ints[id.n]
	case idString:
		_, ok = s.strs[id.s]
	case idUUID:
		_, ok = s.uuids[id.s]
	}
	return ok
}
