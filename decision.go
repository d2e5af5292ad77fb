package teamperm

import (
	"fmt"
	"log/slog"
	"strings"
)

// An Outcome is what a [Decision] says: allow, forbidden or not found. The
// zero value is [OutcomeForbidden], so a zero Decision denies.
type Outcome uint8

// The outcomes.
const (
	// OutcomeForbidden: the member may see the record (or none was
	// involved) but lacks the permission. HTTP: 403.
	OutcomeForbidden Outcome = iota
	// OutcomeNotFound: the member cannot see the record; it must look
	// absent (R8). HTTP: 404.
	OutcomeNotFound
	// OutcomeAllow: the member may do it.
	OutcomeAllow

	numOutcomes = iota
)

var outcomeNames = [numOutcomes]string{"forbidden", "not_found", "allow"}

// String returns "allow", "forbidden" or "not_found".
func (o Outcome) String() string {
	if o >= numOutcomes {
		return fmt.Sprintf("Outcome(%d)", uint8(o))
	}
	return outcomeNames[o]
}

// A Reason names the rule that decided a [Decision], for machines (logs,
// metrics, a settings page). The zero value, [ReasonNone], is the reason of
// a zero Decision or of a nil [Member].
type Reason uint8

// The reasons.
const (
	ReasonNone                Reason = iota // no decision was made (zero Decision, nil Member)
	ReasonOwner                             // the member is an Owner: everything, no restriction (R5)
	ReasonRoleDefault                       // the role's default (R2), allowing or not
	ReasonOverrideGrant                     // a stored grant beyond the role default (R6)
	ReasonOverrideDeny                      // a stored deny (R6)
	ReasonPlanIgnoresSettings               // the plan lacks FineGrained, so a stored setting that would change this decision is ignored (R4)
	ReasonInstanceRestricted                // the record's instance is not among the member's (R7)
	ReasonNotAssigned                       // only-view-assigned-chats and the conversation is not assigned to the member (R9)
	ReasonNotCreator                        // only-view-created-deals and the deal is not the member's (R10)
	ReasonPipeline                          // the deal is not in the member's pipelines (R11)
	ReasonOtherOrganization                 // the record belongs to another organisation, or to none
	ReasonInvalidRequest                    // an invalid permission or record kind was asked about

	numReasons = iota
)

var reasonNames = [numReasons]string{
	"none", "owner", "role_default", "override_grant", "override_deny", "plan_ignores_settings",
	"instance_restricted", "not_assigned", "not_creator", "pipeline", "other_organization", "invalid_request",
}

// String returns the reason's stable name, such as "override_deny".
func (r Reason) String() string { return enumString(reasonNames[:], "Reason", uint8(r)) }

// A Decision is the answer of [Member.Evaluate], [Member.EvaluateRecord]
// and [Member.Visible]: an outcome, the rule that decided, and what was
// asked. Decisions are small values; making one does not allocate.
//
// The zero Decision denies ([OutcomeForbidden], [ReasonNone]). An allowing
// Decision can only come from this package. Decisions are comparable with
// ==.
type Decision struct {
	m *Member // who was asked about; nil for a zero Decision or a nil Member
	v verdict
}

// A verdict packs a decision's small fields into one word, so that a
// Decision is two machine words and travels in registers:
// outcome | reason<<8 | perm<<16 | by<<24 | kind<<32, where perm is the
// permission asked about (zero for Visible), by the permission that
// decided (perm, or the kind's view permission) and kind the record's kind
// (zero without a record).
type verdict uint64

func mkVerdict(o Outcome, r Reason, perm, by Permission, k Kind) verdict {
	return verdict(o) | verdict(r)<<8 | verdict(perm)<<16 | verdict(by)<<24 | verdict(k)<<32
}

func (v verdict) outcome() Outcome { return Outcome(v) }
func (v verdict) reason() Reason   { return Reason(v >> 8) }
func (v verdict) perm() Permission { return Permission(v >> 16) }
func (v verdict) by() Permission   { return Permission(v >> 24) }
func (v verdict) kind() Kind       { return Kind(v >> 32) }

// Allowed reports whether the member may do what was asked.
func (d Decision) Allowed() bool { return d.v.outcome() == OutcomeAllow }

// Outcome returns allow, forbidden or not found.
func (d Decision) Outcome() Outcome { return d.v.outcome() }

// Reason returns the rule that decided.
func (d Decision) Reason() Reason { return d.v.reason() }

// Permission returns the permission asked about; zero for [Member.Visible].
func (d Decision) Permission() Permission { return d.v.perm() }

// DecidedBy returns the permission whose presence or absence decided: the
// one asked about, or the record kind's view permission when the member
// lacks it (a member denied chat.view gets not found for chat.send on a
// conversation). It is zero when no permission decided (a restriction, a
// deal, which needs no permission, or a record of another organisation).
func (d Decision) DecidedBy() Permission { return d.v.by() }

// Kind returns the kind of the record asked about; zero without a record.
func (d Decision) Kind() Kind { return d.v.kind() }

// Member returns the ID of the member the decision is about.
func (d Decision) Member() ID { return d.m.ID() }

// Revision returns the revision of the settings the decision was made
// from, for caches and audit logs.
func (d Decision) Revision() uint64 { return d.m.Revision() }

// Err returns nil when the decision allows, and otherwise a
// *[DecisionError] that wraps [ErrNotFound] or [ErrForbidden], so a handler
// maps it in one line:
//
//	switch err := d.Err(); {
//	case errors.Is(err, teamperm.ErrNotFound):  // 404
//	case errors.Is(err, teamperm.ErrForbidden): // 403
//	}
//
// The subpackage teamhttp does this once for every host, answering in
// RFC 9457 problem details with identical 404 bodies for hidden and
// missing records.
func (d Decision) Err() error {
	if d.Allowed() {
		return nil
	}
	return &DecisionError{Decision: d}
}

// String returns a one-line form for logs, such as
// "forbidden contact.export: role_default (member 42, role member, revision 3)".
func (d Decision) String() string {
	var b strings.Builder
	b.WriteString(d.v.outcome().String())
	if d.v.perm() != 0 {
		b.WriteByte(' ')
		b.WriteString(d.v.perm().String())
	}
	if d.v.kind() != 0 {
		b.WriteString(" on ")
		b.WriteString(d.v.kind().String())
	}
	b.WriteString(": ")
	b.WriteString(d.v.reason().String())
	if d.v.by() != 0 && d.v.by() != d.v.perm() {
		b.WriteString(" of ")
		b.WriteString(d.v.by().String())
	}
	fmt.Fprintf(&b, " (member %v, role %v, revision %d)", d.m.ID(), d.m.Role(), d.m.Revision())
	return b.String()
}

// Explain returns a sentence for people, such as "Denied: the member role
// does not include contact.export (Download contact data) by default." It
// is meant for logs and admin screens, not for the end user of a hidden
// record, who must only learn that it was not found.
func (d Decision) Explain() string {
	var verdict string
	switch d.v.outcome() {
	case OutcomeAllow:
		verdict = "Allowed"
	case OutcomeNotFound:
		verdict = "Not found"
	default:
		verdict = "Denied"
	}
	what := "this"
	if p := d.v.by(); p.IsValid() {
		what = fmt.Sprintf("%s (%s)", p, p.Description())
	}
	var why string
	switch d.v.reason() {
	case ReasonNone:
		why = "no member was evaluated, so everything is denied."
	case ReasonOwner:
		why = "owners hold every permission and cannot be restricted."
	case ReasonRoleDefault:
		if d.v.by() == 0 && d.v.kind() == KindDeal {
			why = "deals need no permission beyond membership of the organisation."
		} else if d.m.Role().Defaults().Has(d.v.by()) {
			why = fmt.Sprintf("the %s role includes %s by default.", d.m.Role(), what)
		} else {
			why = fmt.Sprintf("the %s role does not include %s by default.", d.m.Role(), what)
		}
	case ReasonOverrideGrant:
		why = fmt.Sprintf("the member was granted %s beyond the role defaults.", what)
	case ReasonOverrideDeny:
		why = fmt.Sprintf("the member was denied %s.", what)
	case ReasonPlanIgnoresSettings:
		why = "the plan does not include fine-grained permissions, so the member's stored settings are ignored and the role defaults apply."
	case ReasonInstanceRestricted:
		why = "the record belongs to a WhatsApp instance the member cannot access."
	case ReasonNotAssigned:
		why = "the member only views chats assigned to them, and this one is not."
	case ReasonNotCreator:
		why = "the member only views deals they created (or that automations assigned to them), and this one is not."
	case ReasonPipeline:
		why = "the deal is in a pipeline the member is not assigned to."
	case ReasonOtherOrganization:
		why = "the record belongs to another organisation."
	case ReasonInvalidRequest:
		why = "an invalid permission or record kind was asked about."
	default:
		why = d.v.reason().String() + "."
	}
	return verdict + ": " + why
}

// LogValue implements [slog.LogValuer]: a decision logs as a group of its
// outcome, reason, permission, kind, member and revision.
func (d Decision) LogValue() slog.Value {
	attrs := make([]slog.Attr, 0, 6)
	attrs = append(attrs,
		slog.String("outcome", d.v.outcome().String()),
		slog.String("reason", d.v.reason().String()))
	if d.v.perm() != 0 {
		attrs = append(attrs, slog.String("permission", d.v.perm().String()))
	}
	if d.v.kind() != 0 {
		attrs = append(attrs, slog.String("kind", d.v.kind().String()))
	}
	attrs = append(attrs, slog.String("member", d.m.ID().String()), slog.Uint64("revision", d.m.Revision()))
	return slog.GroupValue(attrs...)
}

// A DecisionError is the error of a denying [Decision]. It wraps
// [ErrNotFound] or [ErrForbidden]. Its message is for logs: it names the
// rule, so do not show it to the user of a hidden record.
type DecisionError struct {
	Decision Decision
}

// Error returns "teamperm: " and the decision's String.
func (e *DecisionError) Error() string {
	if e == nil {
		return "teamperm: <nil>"
	}
	return "teamperm: " + e.Decision.String()
}

// Unwrap returns [ErrNotFound] or [ErrForbidden]; nil for a nil *DecisionError.
func (e *DecisionError) Unwrap() error {
	if e == nil { // a typed nil: not a decision, so neither sentinel
		return nil
	}
	if e.Decision.v.outcome() == OutcomeNotFound {
		return ErrNotFound
	}
	return ErrForbidden
}

// MarshalText encodes the reason's name, such as "override_deny".
func (r Reason) MarshalText() ([]byte, error) {
	if r >= numReasons {
		return nil, fmt.Errorf("teamperm: %s: invalid reason", r)
	}
	return []byte(reasonNames[r]), nil
}

// MarshalText encodes the outcome's name, such as "not_found".
func (o Outcome) MarshalText() ([]byte, error) {
	if o >= numOutcomes {
		return nil, fmt.Errorf("teamperm: %s: invalid outcome", o)
	}
	return []byte(outcomeNames[o]), nil
}

// UnmarshalText decodes a reason's name, exactly.
func (r *Reason) UnmarshalText(text []byte) error {
	if v, ok := enumParseAll(reasonNames[:], string(text)); ok {
		*r = Reason(v)
		return nil
	}
	return fmt.Errorf("teamperm: reason %s: %w", quote(text), ErrInvalidSettings)
}

// UnmarshalText decodes an outcome's name, exactly.
func (o *Outcome) UnmarshalText(text []byte) error {
	if v, ok := enumParseAll(outcomeNames[:], string(text)); ok {
		*o = Outcome(v)
		return nil
	}
	return fmt.Errorf("teamperm: outcome %s: %w", quote(text), ErrInvalidSettings)
}
