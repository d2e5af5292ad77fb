package teamperm

import (
	"fmt"
	"strings"
)

// A Plan is one of the seed's subscription plans: [PlanFree], [PlanStarter]
// or [PlanPro]. The zero value is Free. What a plan allows is decided by the
// [Features] it includes, not by its name: a host with other plan names maps
// each of them onto Features and never needs a Plan at all.
type Plan uint8

// The seed's plans.
const (
	PlanFree Plan = iota
	PlanStarter
	PlanPro

	numPlans = iota
)

var planNames = [numPlans]string{"free", "starter", "pro"}

// ParsePlan returns the plan named s ("free", "starter" or "pro"). The
// match is exact; anything else is an error wrapping [ErrUnknownPlan].
func ParsePlan(s string) (Plan, error) {
	if v, ok := enumParseAll(planNames[:], s); ok {
		return Plan(v), nil
	}
	return 0, fmt.Errorf("teamperm: plan %s: %w", quote(s), ErrUnknownPlan)
}

// MustParsePlan is like [ParsePlan] but panics on error. Use it only in
// tests and package-level literals.
func MustParsePlan(s string) Plan {
	p, err := ParsePlan(s)
	if err != nil {
		panic(err)
	}
	return p
}

// IsValid reports whether p is Free, Starter or Pro.
func (p Plan) IsValid() bool { return p < numPlans }

// String returns the name of p, or "Plan(7)" for an out-of-range value.
func (p Plan) String() string {
	if !p.IsValid() {
		return fmt.Sprintf("Plan(%d)", uint8(p))
	}
	return planNames[p]
}

// Features returns the features p includes: [FineGrained] on Pro, none on
// Free, Starter and any invalid plan.
func (p Plan) Features() Features {
	if p == PlanPro {
		return FineGrained
	}
	return 0
}

// AppendText appends the name of p to b; it fails for an invalid plan.
func (p Plan) AppendText(b []byte) ([]byte, error) {
	if !p.IsValid() {
		return b, fmt.Errorf("teamperm: plan %s: %w", p, ErrUnknownPlan)
	}
	return append(b, planNames[p]...), nil
}

// MarshalText implements [encoding.TextMarshaler].
func (p Plan) MarshalText() ([]byte, error) { return p.AppendText(nil) }

// UnmarshalText implements [encoding.TextUnmarshaler] with [ParsePlan].
func (p *Plan) UnmarshalText(text []byte) error {
	v, err := ParsePlan(string(text))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// Features is a set of plan features, as bits. The zero value is no
// feature: members get exactly their role defaults.
type Features uint32

// FineGrained is the feature that makes a member's stored settings apply:
// permission overrides, instance access, only-view-assigned-chats,
// only-view-created-deals and pipeline assignments (R4). Without it, every
// member gets exactly the role defaults and the stored settings are kept
// but ignored.
const FineGrained Features = 1 << 0

// UpgradeMessage is the seed's message for a change that needs
// [FineGrained] on a plan without it.
const UpgradeMessage = "Fine-grained permissions require a Pro plan. On free or starter plans, team members use role-based defaults only."

// Has reports whether f includes every feature of g (and g is not empty).
func (f Features) Has(g Features) bool { return g != 0 && f&g == g }

// String returns "fine-grained", "none", or the bits of unknown features.
func (f Features) String() string {
	if f == 0 {
		return "none"
	}
	var parts []string
	if f.Has(FineGrained) {
		parts = append(parts, "fine-grained")
	}
	if rest := f &^ FineGrained; rest != 0 {
		parts = append(parts, fmt.Sprintf("Features(%#x)", uint32(rest)))
	}
	return strings.Join(parts, "|")
}

// An Organization is the tenant a member belongs to, in one state: its ID,
// the features of its plan and the revision of that state. Every compiled
// [Member] belongs to exactly one Organization state ([Member.Org]), and a
// record of another organisation is never visible.
//
// The zero value has no ID and is rejected by [Compile]. Organization is
// comparable with == (equal values are the same state) and safe as a map
// key.
type Organization struct {
	// ID is the host's key for the organisation; it must not be zero,
	// IntID(0), StringID("") or the nil UUID.
	ID ID
	// Features are what the organisation's plan includes; use
	// [Plan.Features] or the host's own mapping of its plan names.
	Features Features
	// Revision is the host's revision of the organisation's plan: bump it
	// on every change of Features. Members compiled for an older revision
	// are stale: [ApplyEdits] refuses them as actors, and a cache keyed by
	// [Member.Key] never serves them for the new state.
	Revision uint64
}
