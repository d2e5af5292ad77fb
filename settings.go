package teamperm

import (
	"errors"
	"fmt"
	"slices"
)

// Access is either all of something (the zero value: every instance, every
// pipeline) or a specific set of IDs. A specific set may be empty, and then
// it admits nothing (R7).
//
// Access holds a slice: it is not comparable with ==; use [Access.Equal].
// Compile copies the IDs, so the caller may reuse the slice afterwards.
type Access struct {
	// Specific is false for all, true for exactly IDs.
	Specific bool
	// IDs are the allowed IDs when Specific. They must be non-zero and
	// distinct; they must be empty when Specific is false.
	IDs []ID
}

// Only returns access to exactly the given IDs. Only() admits nothing.
func Only(ids ...ID) Access { return Access{Specific: true, IDs: ids} }

// IsAll reports whether a admits everything.
func (a Access) IsAll() bool { return !a.Specific }

// Contains reports whether a admits id. All admits every ID, the zero ID
// included; a specific set never admits the zero ID. Contains is a linear
// scan: the compiled [Member] uses an index instead.
func (a Access) Contains(id ID) bool {
	if !a.Specific {
		return true
	}
	return !id.IsZero() && slices.Contains(a.IDs, id)
}

// Equal reports whether a and b are the same access, with the same IDs in
// the same order (nil and empty are the same).
func (a Access) Equal(b Access) bool {
	return a.Specific == b.Specific && slices.Equal(a.IDs, b.IDs)
}

func (a Access) validate(field string) error {
	if !a.Specific {
		if len(a.IDs) > 0 {
			return fmt.Errorf("teamperm: %s: %d ids given with access to all: %w", field, len(a.IDs), ErrInvalidSettings)
		}
		return nil
	}
	var bad int
	if len(a.IDs) <= 32 {
		bad = firstBadShort(a.IDs)
	} else {
		_, bad = newLargeIDSet(a.IDs) // thrown away: Compile keeps its own
	}
	return a.badID(field, bad)
}

// badID reports a.IDs[i], the first ID that is zero or repeats an earlier
// one, or nothing for i < 0.
func (a Access) badID(field string, i int) error {
	switch {
	case i < 0:
		return nil
	case a.IDs[i].IsZero():
		return fmt.Errorf("teamperm: %s: a null id: %w", field, ErrInvalidID)
	}
	return fmt.Errorf("teamperm: %s: id %v listed twice: %w", field, a.IDs[i], ErrInvalidSettings)
}

// firstBadShort returns the index of the first ID of ids that is zero or
// repeats an earlier one, or -1, by scanning: for short lists.
func firstBadShort(ids []ID) int {
	for i, id := range ids {
		if id.IsZero() || slices.ContainsFunc(ids[:i], id.eq) {
			return i
		}
	}
	return -1
}

// Settings are what a host stores for one team member: the member's ID,
// role and fine-grained settings. They apply only on a plan with
// [FineGrained] (R4); on other plans they are kept, ignored, and apply again
// after an upgrade. The host bumps Revision on every change.
//
// The zero value has no member and no role and does not compile. Settings
// hold slices: not comparable with ==. The JSON form ([Settings.MarshalJSON])
// is strict and versioned, for the host's database.
type Settings struct {
	// Member is the host's ID of the member. Required.
	Member ID
	// Role is the member's role. Required.
	Role Role
	// Revision is the host's revision of these settings; bump it on every
	// change ([ApplyEdits] does). Every compiled member and every decision
	// reports it. A cache must key members by [MemberKey], which adds the
	// organisation's ID, features and revision: the plan is an input too.
	Revision uint64
	// Grants adds permissions to the role defaults (R6).
	Grants PermissionSet
	// Denies removes permissions; a deny wins over a grant of the same
	// permission (R6).
	Denies PermissionSet
	// Instances limits the WhatsApp instances whose records the member
	// sees (R7). Applies to Admins and Members.
	Instances Access
	// OnlyAssignedChats limits conversations and their messages to those
	// assigned to the member (R9). Applies to Admins and Members.
	OnlyAssignedChats bool
	// OnlyCreatedDeals limits deals to those the member created, those an
	// automation created and assigned to the member, and legacy deals
	// (R10). Applies to Members only.
	OnlyCreatedDeals bool
	// Pipelines limits deals to those in the member's pipelines (R11).
	// Applies to Members only.
	Pipelines Access
}

// Validate reports every problem of s, joined with [errors.Join]: a zero
// or empty member ID, an invalid role, and malformed instance or pipeline
// access. It returns nil for settings that [Compile] accepts.
func (s Settings) Validate() error {
	var errs []error
	if err := validateKey("member", s.Member); err != nil {
		errs = append(errs, err)
	}
	if !s.Role.IsValid() {
		errs = append(errs, fmt.Errorf("teamperm: member %v: role %s: %w", s.Member, s.Role, ErrUnknownRole))
	}
	if err := s.Instances.validate("instances"); err != nil {
		errs = append(errs, err)
	}
	if err := s.Pipelines.validate("pipelines"); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// validateKey checks the ID of a member or organisation: not zero, and not
// IntID(0), the empty string or the nil UUID, which a Go host almost always
// means as "unset" (the zero value of its key type): two unset tenants must
// never share rows.
func validateKey(what string, id ID) error {
	s, isStr := id.Str()
	n, isInt := id.Int()
	u, isUUID := id.UUID()
	if id.IsZero() || isStr && s == "" || isInt && n == 0 || isUUID && u == [16]byte{} {
		return fmt.Errorf("teamperm: %s id %v: %w", what, id, ErrInvalidID)
	}
	return nil
}
