package teamperm

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"
)

// Errors of [ApplyEdits]. Each refusal wraps one of them and says why.
var (
	// ErrEditNotAllowed: R14 forbids the edit: the actor is not an Owner
	// or Admin, edits an Owner or itself, is an Admin editing an Admin or
	// assigning the Admin or Owner role, or would give the target access
	// it does not hold itself. HTTP: 403.
	ErrEditNotAllowed = errors.New("edit not allowed")

	// ErrUpgradeRequired: a fine-grained edit on a plan without
	// [FineGrained]. The error's message carries [UpgradeMessage]. HTTP:
	// 402 or 403.
	ErrUpgradeRequired = errors.New("upgrade required")
)

// An Edit is one change to a member's settings, as a value: [SetRole],
// [Grant], [Deny], [ClearOverride], [SetInstances], [SetOnlyAssignedChats],
// [SetOnlyCreatedDeals] or [SetPipelines]. Apply edits with [ApplyEdits],
// which checks R14; decode them from an HTTP request with [ParseEdits].
//
// Edit is a closed sum type: a type switch over the eight lists every
// case. Their JSON operations ("set_role", "grant", "deny",
// "clear_override", "set_instances", "set_only_assigned_chats",
// "set_only_created_deals", "set_pipelines") are listed at [ParseEdits].
type Edit interface {
	isEdit()
	// String describes the edit for people and logs: "grant contact.export".
	String() string
}

// SetRole changes the member's role. It works on every plan.
type SetRole struct{ Role Role }

// Grant grants a permission beyond the role defaults, and removes a deny
// of it.
type Grant struct{ Permission Permission }

// Deny denies a permission, and removes a grant of it.
type Deny struct{ Permission Permission }

// ClearOverride removes a grant or deny of a permission: the role default
// applies again.
type ClearOverride struct{ Permission Permission }

// SetInstances sets the member's instance access: all, or a specific set.
type SetInstances struct{ Access Access }

// SetOnlyAssignedChats turns only-view-assigned-chats on or off.
type SetOnlyAssignedChats struct{ On bool }

// SetOnlyCreatedDeals turns only-view-created-deals on or off.
type SetOnlyCreatedDeals struct{ On bool }

// SetPipelines sets the member's pipeline assignments: all, or a specific
// set.
type SetPipelines struct{ Access Access }

func (SetRole) isEdit()              {}
func (Grant) isEdit()                {}
func (Deny) isEdit()                 {}
func (ClearOverride) isEdit()        {}
func (SetInstances) isEdit()         {}
func (SetOnlyAssignedChats) isEdit() {}
func (SetOnlyCreatedDeals) isEdit()  {}
func (SetPipelines) isEdit()         {}

func (e SetRole) String() string       { return "set role " + e.Role.String() }
func (e Grant) String() string         { return "grant " + e.Permission.String() }
func (e Deny) String() string          { return "deny " + e.Permission.String() }
func (e ClearOverride) String() string { return "clear override of " + e.Permission.String() }
func (e SetInstances) String() string  { return "set instances " + accessString(e.Access) }
func (e SetOnlyAssignedChats) String() string {
	return "set only assigned chats " + onOff(e.On)
}
func (e SetOnlyCreatedDeals) String() string { return "set only created deals " + onOff(e.On) }
func (e SetPipelines) String() string        { return "set pipelines " + accessString(e.Access) }

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func accessString(a Access) string {
	if a.IsAll() {
		return "all"
	}
	parts := make([]string, len(a.IDs))
	for i, id := range a.IDs {
		parts[i] = id.String()
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// isFineGrained reports whether e changes a setting that only a plan with
// FineGrained honours: everything but the role.
func isFineGrained(e Edit) bool {
	_, role := e.(SetRole)
	return !role
}

// apply changes s by e, without any check.
func apply(s *Settings, e Edit) error {
	switch e := e.(type) {
	case SetRole:
		s.Role = e.Role
	case Grant:
		if !e.Permission.IsValid() {
			return fmt.Errorf("teamperm: grant of permission %s: %w", e.Permission, ErrUnknownPermission)
		}
		s.Grants, s.Denies = s.Grants.With(e.Permission), s.Denies.Without(e.Permission)
	case Deny:
		if !e.Permission.IsValid() {
			return fmt.Errorf("teamperm: deny of permission %s: %w", e.Permission, ErrUnknownPermission)
		}
		s.Grants, s.Denies = s.Grants.Without(e.Permission), s.Denies.With(e.Permission)
	case ClearOverride:
		if !e.Permission.IsValid() {
			return fmt.Errorf("teamperm: clear override of permission %s: %w", e.Permission, ErrUnknownPermission)
		}
		s.Grants, s.Denies = s.Grants.Without(e.Permission), s.Denies.Without(e.Permission)
	case SetInstances:
		s.Instances = Access{Specific: e.Access.Specific, IDs: slices.Clone(e.Access.IDs)}
	case SetOnlyAssignedChats:
		s.OnlyAssignedChats = e.On
	case SetOnlyCreatedDeals:
		s.OnlyCreatedDeals = e.On
	case SetPipelines:
		s.Pipelines = Access{Specific: e.Access.Specific, IDs: slices.Clone(e.Access.IDs)}
	default:
		return fmt.Errorf("teamperm: unknown edit %T: %w", e, ErrInvalidSettings)
	}
	return nil
}

// ApplyEdits applies edits, in order and all or nothing, to target, the
// stored settings of a member of org, on behalf of actor, and returns the
// new settings (with Revision one higher) and the [Change] to keep in the
// host's audit log. at is the time of the change, supplied by the host.
// org is the organisation's current state; actor must have been compiled
// for exactly that state, or the batch is refused with an error wrapping
// [ErrStaleMember] (another organisation's actor: [ErrEditNotAllowed]).
//
// It enforces R14 and R16, refusing the whole batch with an error that
// wraps [ErrEditNotAllowed]:
//   - only Owners and Admins edit, and only members of their own
//     organisation (the actor's [Member.Org] must be org; [Settings] carry
//     no organisation, so the host loads target within org, as it loads
//     every record, and saves the result with a compare-and-swap on the
//     revision it read);
//   - nobody edits an Owner, and nobody edits themselves;
//   - only an Owner edits an Admin, or makes anyone an Admin or an Owner
//     (an organisation may have several Owners);
//   - no escalation, judged on access as a whole (R16): every pair
//     (action, record) the target may do after the batch and could not
//     before must be a pair the actor may do itself, on the current plan.
//     An action is seeing the record or holding a permission on it, as
//     [Member.EvaluateRecord] decides, or holding a permission with no
//     record; records range over every record of every kind, those the
//     actor cannot see included. A target whose stored settings do not
//     compile (an invitee with no role, say) counts as having no access
//     before the batch. So an Admin limited to one instance can neither
//     grant a permission to a member who sees other instances, nor widen
//     a member inside instances it cannot see, nor give an invitee access
//     to all instances; a batch that only removes access always passes
//     this rule.
//
// A fine-grained edit (anything but SetRole) on a plan without
// [FineGrained] is refused with an error wrapping [ErrUpgradeRequired]
// whose message carries [UpgradeMessage]; role changes work on every plan.
// Settings that would not validate are refused as [Settings.Validate]
// says. Every refusal of R14, R16 and R17 and every refusal of an edit is
// an [*Error] with a stable [Code] (edit_self, edit_escalation,
// upgrade_required, stale_member, ...; the table is at [Code]) whose
// Field, for an edit refused on its own, is the JSON Pointer of that edit
// in the batch ("/2"). On error, target is returned unchanged and nothing
// is recorded.
// The returned settings and Change share no memory with target, edits or
// each other.
func ApplyEdits(actor *Member, org Organization, target Settings, at time.Time, edits ...Edit) (Settings, Change, error) {
	if err := checkEditor(actor, org, target); err != nil {
		return target, Change{}, err
	}
	if len(edits) == 0 {
		return target, Change{}, coded(CodeNoEdits, "", fmt.Errorf("teamperm: no edit to apply: %w", ErrInvalidSettings))
	}
	next := target.clone()
	for i, e := range edits {
		if e == nil {
			return target, Change{}, coded(CodeInvalidSettings, pointer(i, ""), fmt.Errorf("teamperm: nil edit: %w", ErrInvalidSettings))
		}
		if isFineGrained(e) && !org.Features.Has(FineGrained) {
			return target, Change{}, coded(CodeUpgradeRequired, pointer(i, ""), fmt.Errorf("teamperm: %s: %w: %s", e, ErrUpgradeRequired, UpgradeMessage))
		}
		if r, ok := e.(SetRole); ok && (r.Role == RoleOwner || r.Role == RoleAdmin) && actor.role != RoleOwner {
			return target, Change{}, coded(CodeEditRoleNotAllowed, pointer(i, "role"), fmt.Errorf("teamperm: %s: only an owner makes owners and admins: %w", e, ErrEditNotAllowed))
		}
		if err := apply(&next, e); err != nil {
			return target, Change{}, coded(ErrorCode(err), pointer(i, ""), err)
		}
	}
	if err := validateEdited(actor, next, edits); err != nil {
		return target, Change{}, err
	}
	if target.Revision == math.MaxUint64 {
		// The next revision would wrap to 0 and collide with the first.
		return target, Change{}, coded(CodeInvalidSettings, "", fmt.Errorf("teamperm: member %v: revision %d is the last: %w", target.Member, target.Revision, ErrInvalidSettings))
	}
	if err := checkNoEscalation(actor, org, target, next); err != nil {
		return target, Change{}, err
	}
	next.Revision = target.Revision + 1
	return next, Change{
		Organization: org.ID,
		Actor:        actor.id,
		Target:       target.Member,
		At:           at,
		Edits:        cloneEdits(edits),
		Before:       target.clone(),
		After:        next.clone(),
	}, nil
}

// Replay applies edits to before exactly as [ApplyEdits] did when it
// accepted them, without asking who may make them: for replaying an audit
// log of [Change] records and checking that it leads to the stored
// settings (c.After equals Replay(c.Before, c.Edits...)). The result has
// Revision one higher and is validated; on error before is returned
// unchanged. Requests go through ApplyEdits, never through Replay.
func Replay(before Settings, edits ...Edit) (Settings, error) {
	next := before.clone()
	for _, e := range edits {
		if e == nil {
			return before, fmt.Errorf("teamperm: nil edit: %w", ErrInvalidSettings)
		}
		if err := apply(&next, e); err != nil {
			return before, err
		}
	}
	if err := next.Validate(); err != nil {
		return before, err
	}
	if before.Revision == math.MaxUint64 {
		return before, fmt.Errorf("teamperm: member %v: revision %d is the last: %w", before.Member, before.Revision, ErrInvalidSettings)
	}
	next.Revision = before.Revision + 1
	return next, nil
}

// validateEdited checks the settings a batch would make. A problem an
// edit brings (a duplicate in its own list of IDs) is reported with its
// IDs; a problem the stored settings already had is reported without
// them to anyone but an Owner, since the IDs may be of instances or
// pipelines the actor cannot see.
func validateEdited(actor *Member, next Settings, edits []Edit) error {
	for i, e := range edits {
		var a Access
		var field string
		switch e := e.(type) {
		case SetInstances:
			a, field = e.Access, "instances"
		case SetPipelines:
			a, field = e.Access, "pipelines"
		default:
			continue
		}
		if err := a.validate(field); err != nil {
			code := CodeDuplicateID // a null ID, IDs with access to all, or one listed twice
			switch {
			case errors.Is(err, ErrInvalidID):
				code = CodeInvalidID
			case !a.Specific:
				code = CodeInvalidSettings
			}
			return coded(code, pointer(i, field), err)
		}
	}
	err := next.Validate()
	if err == nil {
		return nil
	}
	if actor.role == RoleOwner {
		return coded(ErrorCode(err), "", err)
	}
	var fields []string
	if validateKey("member", next.Member) != nil {
		fields = append(fields, "member")
	}
	if !next.Role.IsValid() {
		fields = append(fields, "role")
	}
	if next.Instances.validate("instances") != nil {
		fields = append(fields, "instances")
	}
	if next.Pipelines.validate("pipelines") != nil {
		fields = append(fields, "pipelines")
	}
	return coded(ErrorCode(err), "", fmt.Errorf("teamperm: the settings of member %v would not validate (%s; an owner sees the details): %w", next.Member, strings.Join(fields, ", "), errors.Join(sentinels(err)...)))
}

// sentinels returns the package's sentinel errors that err wraps.
func sentinels(err error) []error {
	var out []error
	for _, s := range []error{ErrInvalidID, ErrUnknownRole, ErrInvalidSettings, ErrUnknownPermission} {
		if errors.Is(err, s) {
			out = append(out, s)
		}
	}
	return out
}

// clone returns s with its own copies of the ID slices.
func (s Settings) clone() Settings {
	s.Instances.IDs = slices.Clone(s.Instances.IDs)
	s.Pipelines.IDs = slices.Clone(s.Pipelines.IDs)
	return s
}

// cloneEdits copies edits, with their own copies of the ID slices.
func cloneEdits(edits []Edit) []Edit {
	out := make([]Edit, len(edits))
	for i, e := range edits {
		switch e := e.(type) {
		case SetInstances:
			e.Access.IDs = slices.Clone(e.Access.IDs)
			out[i] = e
		case SetPipelines:
			e.Access.IDs = slices.Clone(e.Access.IDs)
			out[i] = e
		default:
			out[i] = e
		}
	}
	return out
}

// CanEdit reports whether actor may edit the member with settings target
// at all, by R14's rules on who edits whom (nil if so, else an [*Error]
// wrapping [ErrEditNotAllowed], or [ErrStaleMember] for an actor compiled
// for another state of org, whose [Code] says which rule refused): for
// showing a settings form as editable or read-only. Whether a particular edit is allowed also depends on the
// edit: [ApplyEdits] decides that.
func CanEdit(actor *Member, org Organization, target Settings) error {
	return checkEditor(actor, org, target)
}

// checkEditor applies R14's rules on who may edit whom, and R17: the actor
// belongs to org in its current state.
func checkEditor(actor *Member, org Organization, target Settings) error {
	switch {
	case !actor.valid():
		return coded(CodeEditNoActor, "", fmt.Errorf("teamperm: no acting member: %w", ErrEditNotAllowed))
	case validateKey("organization", org.ID) != nil:
		return coded(CodeEditInvalidOrganization, "", fmt.Errorf("teamperm: organization id %v: %w", org.ID, ErrEditNotAllowed))
	case !actor.org.eq(org.ID):
		return coded(CodeEditOtherOrganization, "", fmt.Errorf("teamperm: actor %v is not a member of organization %v: %w", actor.id, org.ID, ErrEditNotAllowed))
	case actor.orgState != org:
		return coded(CodeStaleMember, "", fmt.Errorf("teamperm: actor %v was compiled for organization %v with %v at revision %d, not %v at revision %d: %w",
			actor.id, org.ID, actor.orgState.Features, actor.orgState.Revision, org.Features, org.Revision, ErrStaleMember))
	case actor.role != RoleOwner && actor.role != RoleAdmin:
		return coded(CodeEditNotEditor, "", fmt.Errorf("teamperm: actor %v is a %s; only owners and admins edit permissions: %w", actor.id, actor.role, ErrEditNotAllowed))
	case target.Member.eq(actor.id):
		return coded(CodeEditSelf, "", fmt.Errorf("teamperm: actor %v cannot edit their own permissions: %w", actor.id, ErrEditNotAllowed))
	case target.Role == RoleOwner:
		return coded(CodeEditOwner, "", fmt.Errorf("teamperm: member %v is an owner; owners cannot be edited: %w", target.Member, ErrEditNotAllowed))
	case target.Role == RoleAdmin && actor.role != RoleOwner:
		return coded(CodeEditAdmin, "", fmt.Errorf("teamperm: member %v is an admin; only owners edit admins: %w", target.Member, ErrEditNotAllowed))
	}
	return nil
}

// checkNoEscalation is R16: the target gains nothing, on any record, that
// the actor cannot do on that record itself. Stored settings that do not
// compile (or have no role) count as no access at all.
func checkNoEscalation(actor *Member, org Organization, before, after Settings) error {
	b, err := Compile(org, before)
	if err != nil {
		b = nil // no access before
	}
	a, err := Compile(org, after)
	if err != nil {
		return coded(ErrorCode(err), "", err)
	}
	if w, ok := escalation(actor, b, a); ok {
		return coded(CodeEditEscalation, "", fmt.Errorf("teamperm: actor %v cannot %s: %w", actor.id, w.describe(actor, after.Member), ErrEditNotAllowed))
	}
	return nil
}

// An escalationWitness is one thing the target would gain that the actor
// cannot do: a permission with no record, a permission on a record, or
// seeing a record (view).
type escalationWitness struct {
	perm Permission // zero for seeing the record
	rec  *Record    // nil for a permission with no record
}

// escalation looks for a witness that after (the target as it would be)
// can do something before (as it is; nil for no access) cannot and actor
// cannot either. It asks every permission with no record, and seeing and
// every permission on one record of every class the three tell apart
// ([recordClasses]), with the same visibility rule as
// [Member.EvaluateRecord]: visible, then the permission.
func escalation(actor, before, after *Member) (escalationWitness, bool) {
	if extra := after.Permissions().Difference(before.Permissions()).Difference(actor.Permissions()); !extra.IsEmpty() {
		return escalationWitness{perm: extra.first()}, true
	}
	for _, r := range recordClasses(after.org, actor, before, after) {
		if !after.sees(&r) {
			continue
		}
		var had, holds PermissionSet
		seenBefore, actorSees := before.sees(&r), actor.sees(&r)
		if seenBefore {
			had = before.perms
		}
		if actorSees {
			holds = actor.perms
		}
		if !seenBefore && !actorSees {
			return escalationWitness{rec: &r}, true
		}
		if extra := after.perms.Difference(had).Difference(holds); !extra.IsEmpty() {
			return escalationWitness{perm: extra.first(), rec: &r}, true
		}
	}
	return escalationWitness{}, false
}

// describe says what the actor cannot give, without naming anything the
// actor cannot see (the record is described by its kind and the rule that
// hides it from the actor).
func (w escalationWitness) describe(actor *Member, target ID) string {
	switch {
	case w.rec == nil:
		return fmt.Sprintf("give %v %s, which it does not hold itself", target, w.perm)
	case w.perm == 0:
		return fmt.Sprintf("let %v see %s records it cannot see itself (%s)", target, w.rec.Kind, actor.hiddenBecause(w.rec))
	case actor.sees(w.rec):
		return fmt.Sprintf("give %v %s on %s records, which it does not hold itself", target, w.perm, w.rec.Kind)
	}
	return fmt.Sprintf("give %v %s on %s records it cannot see itself (%s)", target, w.perm, w.rec.Kind, actor.hiddenBecause(w.rec))
}

// hiddenBecause names the rule that hides r from m.
func (m *Member) hiddenBecause(r *Record) Reason {
	if !m.valid() {
		return ReasonNone
	}
	return m.visible(r).why
}

// A Change records one applied batch of edits, for the host's audit log.
// It marshals to JSON and logs with log/slog as a group.
type Change struct {
	Organization ID
	Actor        ID
	Target       ID
	At           time.Time
	Edits        []Edit
	Before       Settings
	After        Settings
}

// String describes the change in one line.
func (c Change) String() string {
	parts := make([]string, len(c.Edits))
	for i, e := range c.Edits {
		parts[i] = editString(e)
	}
	return fmt.Sprintf("%v changed %v (revision %d -> %d): %s", c.Actor, c.Target, c.Before.Revision, c.After.Revision, strings.Join(parts, ", "))
}

// editString is e.String(), and "<nil>" for a nil edit (a Change a host
// built itself may hold one).
func editString(e Edit) (s string) {
	defer func() {
		if recover() != nil {
			s = "<nil>"
		}
	}()
	if e == nil {
		return "<nil>"
	}
	return e.String()
}

// LogValue implements [slog.LogValuer].
func (c Change) LogValue() slog.Value {
	edits := make([]string, len(c.Edits))
	for i, e := range c.Edits {
		edits[i] = editString(e)
	}
	return slog.GroupValue(
		slog.String("organization", c.Organization.String()),
		slog.String("actor", c.Actor.String()),
		slog.String("target", c.Target.String()),
		slog.Time("at", c.At),
		slog.Any("edits", edits),
		slog.Uint64("revision", c.After.Revision),
	)
}
