package teamperm

import (
	"fmt"
	"slices"
)

// A MemberImpact is what a change to a team does to one member: the
// permissions gained and lost, the record kinds whose visibility widens
// (some record becomes visible) or narrows (some record becomes hidden) —
// a kind can do both, when a member moves from one instance to another —
// and the stored settings that stop or start applying.
type MemberImpact struct {
	Member        ID            `json:"member"`
	Added         bool          `json:"added,omitempty"`   // only in the team after
	Removed       bool          `json:"removed,omitempty"` // only in the team before
	Gained        PermissionSet `json:"gained"`
	Lost          PermissionSet `json:"lost"`
	Widened       []Kind        `json:"widened"`
	Narrowed      []Kind        `json:"narrowed"`
	StopApplying  []string      `json:"stop_applying"`
	StartApplying []string      `json:"start_applying"`
}

// IsEmpty reports whether the member is not affected at all.
func (mi MemberImpact) IsEmpty() bool {
	return !mi.Added && !mi.Removed && mi.Gained.IsEmpty() && mi.Lost.IsEmpty() &&
		len(mi.Widened) == 0 && len(mi.Narrowed) == 0 && len(mi.StopApplying) == 0 && len(mi.StartApplying) == 0
}

// Impact compares a team before and after a change (an edit, a batch of
// edits, a plan change, members joining or leaving) and reports every
// member the change affects, in the order of before's members, then the
// members only after has. Run it before committing a change: a downgrade
// from Pro to Starter lists, for each member, every restriction that would
// stop applying and every kind that would widen.
//
// Both teams must be of the same organisation ID (their features and
// revision may differ: that is a plan change); otherwise Impact fails with
// an error wrapping [ErrInvalidID]. Members are matched by ID; settings
// that do not compile are an error.
func Impact(before, after Team) ([]MemberImpact, error) {
	if err := validateKey("organization", before.Organization.ID); err != nil {
		return nil, err
	}
	if !before.Organization.ID.eq(after.Organization.ID) {
		return nil, fmt.Errorf("teamperm: impact of organization %v on organization %v: %w", before.Organization.ID, after.Organization.ID, ErrInvalidID)
	}
	type side struct {
		m *Member
		s Settings
	}
	compile := func(t Team) (map[ID]side, []ID, error) {
		out := map[ID]side{}
		var order []ID
		for _, s := range t.Members {
			m, err := Compile(t.Organization, s)
			if err != nil {
				return nil, nil, err
			}
			out[s.Member] = side{m, s}
			order = append(order, s.Member)
		}
		return out, order, nil
	}
	bs, border, err := compile(before)
	if err != nil {
		return nil, err
	}
	as, aorder, err := compile(after)
	if err != nil {
		return nil, err
	}
	order := border
	for _, id := range aorder {
		if _, ok := bs[id]; !ok {
			order = append(order, id)
		}
	}
	var out []MemberImpact
	for _, id := range order {
		b, inBefore := bs[id]
		a, inAfter := as[id]
		if !inBefore {
			b = side{m: &Member{id: id}}
		}
		if !inAfter {
			a = side{m: &Member{id: id}}
		}
		mi := MemberImpact{
			Widened: []Kind{}, Narrowed: []Kind{}, StopApplying: []string{}, StartApplying: []string{},
			Member:  id,
			Added:   !inBefore,
			Removed: !inAfter,
			Gained:  a.m.perms.Difference(b.m.perms),
			Lost:    b.m.perms.Difference(a.m.perms),
		}
		widened, narrowed := visibilityChanges(b.m, a.m)
		for k := range Kinds() {
			if widened[k] {
				mi.Widened = append(mi.Widened, k)
			}
			if narrowed[k] {
				mi.Narrowed = append(mi.Narrowed, k)
			}
		}
		ba, aa := appliedSettings(b.m, b.s), appliedSettings(a.m, a.s)
		for _, x := range ba {
			if !slices.Contains(aa, x) {
				mi.StopApplying = append(mi.StopApplying, x)
			}
		}
		for _, x := range aa {
			if !slices.Contains(ba, x) {
				mi.StartApplying = append(mi.StartApplying, x)
			}
		}
		if !mi.IsEmpty() {
			out = append(out, mi)
		}
	}
	return out, nil
}

// visibilityChanges reports, for each kind, whether a sees some record of
// it that b does not (widened) and the other way round (narrowed), by
// asking both about one record of every class they tell apart
// ([recordClasses]). An invalid member sees nothing.
func visibilityChanges(b, a *Member) (widened, narrowed [numKinds]bool) {
	org := a.org
	if !a.valid() {
		org = b.org
	}
	for _, r := range recordClasses(org, b, a) {
		bs, as := b.sees(&r), a.sees(&r)
		widened[r.Kind] = widened[r.Kind] || as && !bs
		narrowed[r.Kind] = narrowed[r.Kind] || bs && !as
	}
	return widened, narrowed
}

// appliedSettings describes the stored settings that take effect for m.
func appliedSettings(m *Member, s Settings) []string {
	if m.role == 0 || !m.fine {
		return nil
	}
	return ignoredSettings(s)
}
