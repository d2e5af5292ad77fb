package teamperm

import (
	"errors"
	"fmt"
	"log/slog"
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
// case.
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
//
// It enforces R14, refusing the whole batch with an error that wraps
// [ErrEditNotAllowed]:
//   - only Owners and Admins edit, and only members of their own
//     organisation;
//   - nobody edits an Owner, and nobody edits themselves;
//   - only an Owner edits an Admin, or makes anyone an Admin or an Owner
//     (an organisation may have several Owners);
//   - an actor never gives the target access it does not effectively hold
//     itself: a permission it lacks, an instance it cannot see, or the
//     chats it cannot see (turning off only-assigned-chats while it is
//     limited to its own).
//
// A fine-grained edit (anything but SetRole) on a plan without
// [FineGrained] is refused with an error wrapping [ErrUpgradeRequired]
// whose message carries [UpgradeMessage]; role changes work on every plan.
// Settings that would not validate are refused as [Settings.Validate]
// says. On error, target is returned unchanged and nothing is recorded.
func ApplyEdits(actor *Member, org Organization, target Settings, at time.Time, edits ...Edit) (Settings, Change, error) {
	if err := checkEditor(actor, org, target); err != nil {
		return target, Change{}, err
	}
	if len(edits) == 0 {
		return target, Change{}, fmt.Errorf("teamperm: no edit to apply: %w", ErrInvalidSettings)
	}
	next := target
	next.Instances.IDs = slices.Clone(target.Instances.IDs)
	next.Pipelines.IDs = slices.Clone(target.Pipelines.IDs)
	for _, e := range edits {
		if e == nil {
			return target, Change{}, fmt.Errorf("teamperm: nil edit: %w", ErrInvalidSettings)
		}
		if isFineGrained(e) && !org.Features.Has(FineGrained) {
			return target, Change{}, fmt.Errorf("teamperm: %s: %w: %s", e, ErrUpgradeRequired, UpgradeMessage)
		}
		if r, ok := e.(SetRole); ok && (r.Role == RoleOwner || r.Role == RoleAdmin) && actor.role != RoleOwner {
			return target, Change{}, fmt.Errorf("teamperm: %s: only an owner makes owners and admins: %w", e, ErrEditNotAllowed)
		}
		if err := apply(&next, e); err != nil {
			return target, Change{}, err
		}
	}
	if err := next.Validate(); err != nil {
		return target, Change{}, err
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
		Edits:        slices.Clone(edits),
		Before:       target,
		After:        next,
	}, nil
}

// CanEdit reports whether actor may edit the member with settings target
// at all, by R14's rules on who edits whom (nil if so, else an error
// wrapping [ErrEditNotAllowed]): for showing a settings form as editable
// or read-only. Whether a particular edit is allowed also depends on the
// edit: [ApplyEdits] decides that.
func CanEdit(actor *Member, org Organization, target Settings) error {
	return checkEditor(actor, org, target)
}

// checkEditor applies R14's rules on who may edit whom.
func checkEditor(actor *Member, org Organization, target Settings) error {
	switch {
	case actor == nil:
		return fmt.Errorf("teamperm: no acting member: %w", ErrEditNotAllowed)
	case actor.org != org.ID || org.ID.IsZero():
		return fmt.Errorf("teamperm: actor %v is not a member of organization %v: %w", actor.id, org.ID, ErrEditNotAllowed)
	case actor.role != RoleOwner && actor.role != RoleAdmin:
		return fmt.Errorf("teamperm: actor %v is a %s; only owners and admins edit permissions: %w", actor.id, actor.role, ErrEditNotAllowed)
	case target.Member == actor.id:
		return fmt.Errorf("teamperm: actor %v cannot edit their own permissions: %w", actor.id, ErrEditNotAllowed)
	case target.Role == RoleOwner:
		return fmt.Errorf("teamperm: member %v is an owner; owners cannot be edited: %w", target.Member, ErrEditNotAllowed)
	case target.Role == RoleAdmin && actor.role != RoleOwner:
		return fmt.Errorf("teamperm: member %v is an admin; only owners edit admins: %w", target.Member, ErrEditNotAllowed)
	}
	return nil
}

// checkNoEscalation refuses a change that gives the target access the
// actor lacks: permissions, instances, or chats beyond its own.
func checkNoEscalation(actor *Member, org Organization, before, after Settings) error {
	b, err := Compile(org, before)
	if err != nil {
		// Stored settings that do not compile: judge from nothing.
		b = &Member{}
	}
	a, err := Compile(org, after)
	if err != nil {
		return err
	}
	if extra := a.perms.Difference(b.perms).Difference(actor.perms); !extra.IsEmpty() {
		return fmt.Errorf("teamperm: actor %v cannot give %v permissions it does not hold: %v: %w", actor.id, after.Member, extra, ErrEditNotAllowed)
	}
	if actor.eff.instances {
		for _, id := range newlyAdmitted(b, a) {
			if id.IsZero() {
				return fmt.Errorf("teamperm: actor %v sees specific instances only and cannot give %v access to all: %w", actor.id, after.Member, ErrEditNotAllowed)
			}
			if !actor.sets.inst.has(id) {
				return fmt.Errorf("teamperm: actor %v cannot give %v access to instance %v, which it cannot see: %w", actor.id, after.Member, id, ErrEditNotAllowed)
			}
		}
	}
	if actor.eff.assigned && b.eff.assigned && !a.eff.assigned {
		return fmt.Errorf("teamperm: actor %v only views assigned chats and cannot let %v view all: %w", actor.id, after.Member, ErrEditNotAllowed)
	}
	return nil
}

// newlyAdmitted lists the instances a admits and b does not; the zero ID
// stands for "all instances" when a is unrestricted and b was not.
func newlyAdmitted(b, a *Member) []ID {
	switch {
	case !a.eff.instances && !b.eff.instances:
		return nil
	case !a.eff.instances:
		return []ID{{}}
	}
	var out []ID
	for _, id := range a.instIDs {
		if b.eff.instances && !b.sets.inst.has(id) {
			out = append(out, id)
		}
	}
	return out
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
		parts[i] = e.String()
	}
	return fmt.Sprintf("%v changed %v (revision %d -> %d): %s", c.Actor, c.Target, c.Before.Revision, c.After.Revision, strings.Join(parts, ", "))
}

// LogValue implements [slog.LogValuer].
func (c Change) LogValue() slog.Value {
	edits := make([]string, len(c.Edits))
	for i, e := range c.Edits {
		edits[i] = e.String()
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
