package teamperm

import "fmt"

// A CreatorKind says who created a deal, for only-view-created-deals (R10).
// The zero value, [CreatorUnknown], is a deal without creator tracking (a
// legacy deal, NULL in the host's column), which stays visible to all
// members.
type CreatorKind uint8

// The creator kinds.
const (
	// CreatorUnknown: the deal has no creator tracking (legacy).
	CreatorUnknown CreatorKind = iota
	// CreatorMember: a team member created the deal; Record.Creator says who.
	CreatorMember
	// CreatorAutomation: a workflow or automation created the deal.
	CreatorAutomation

	numCreatorKinds = iota
)

var creatorKindNames = [numCreatorKinds]string{"unknown", "member", "automation"}

// ParseCreatorKind returns the creator kind named s ("unknown", "member"
// or "automation"). The match is exact; anything else is an error wrapping
// [ErrUnknownKind].
func ParseCreatorKind(s string) (CreatorKind, error) {
	if v, ok := enumParseAll(creatorKindNames[:], s); ok {
		return CreatorKind(v), nil
	}
	return 0, fmt.Errorf("teamperm: creator kind %q: %w", s, ErrUnknownKind)
}

// String returns the name of c, or "CreatorKind(5)" when out of range.
func (c CreatorKind) String() string {
	if c >= numCreatorKinds {
		return fmt.Sprintf("CreatorKind(%d)", uint8(c))
	}
	return creatorKindNames[c]
}

// A Record describes one row a member may act on: its kind and the
// attributes that visibility depends on. A zero [ID] is a NULL column.
//
// The zero value is a record of no kind, which no member can see. A Record
// is a plain value; the package never keeps or modifies one.
type Record struct {
	// Kind is what the record is. Required.
	Kind Kind
	// Organization owns the record. A record of another organisation, or
	// with a zero Organization, is never visible.
	Organization ID
	// Instance is the WhatsApp instance the record belongs to, for the
	// instance-bound kinds ([Kind.IsInstanceBound]). For a record of
	// [KindInstance] it is the instance's own ID.
	Instance ID
	// Instances are further instances the record belongs to, for a record
	// on several WhatsApp numbers (a contact who wrote to two of them,
	// R19). An instance-restricted member sees the record when at least
	// one of Instance and Instances is allowed; none (all NULL) hides it.
	// Usually either Instance or Instances is set.
	Instances IDSet
	// Assignee is the member a conversation or deal is assigned to; for a
	// message, the assignee of its conversation. Zero when unassigned.
	Assignee ID
	// Creator is the member who created a deal, when CreatorKind is
	// CreatorMember.
	Creator ID
	// CreatorKind says who created a deal.
	CreatorKind CreatorKind
	// Pipeline is the CRM pipeline of a deal.
	Pipeline ID
}
