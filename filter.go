package teamperm

import (
	"fmt"
	"strings"
)

// A Field is a logical field of a [Record] that a [Filter] tests. A host
// maps each field it uses to a column with a [Mapping].
type Field uint8

// The fields.
const (
	FieldOrganization Field = iota + 1 // Record.Organization
	FieldInstance                      // Record.Instance
	FieldAssignee                      // Record.Assignee
	FieldCreator                       // Record.Creator
	FieldCreatorKind                   // Record.CreatorKind
	FieldPipeline                      // Record.Pipeline

	numFields = iota + 1
)

var fieldNames = [numFields]string{"none", "organization", "instance", "assignee", "creator", "creator_kind", "pipeline"}

// String returns the field's name, such as "assignee".
func (f Field) String() string { return enumString(fieldNames[:], "Field", uint8(f)) }

// IsValid reports whether f is one of the six fields.
func (f Field) IsValid() bool { return f > 0 && f < numFields }

// id returns the ID field f of r; the zero ID for FieldCreatorKind and
// invalid fields.
func (f Field) id(r *Record) ID {
	switch f {
	case FieldOrganization:
		return r.Organization
	case FieldInstance:
		return r.Instance
	case FieldAssignee:
		return r.Assignee
	case FieldCreator:
		return r.Creator
	case FieldPipeline:
		return r.Pipeline
	}
	return ID{}
}

// A Filter is a predicate over the fields of a record: the answer of
// [Member.Scope], rendered to SQL by [Scope.AppendSQL] or matched in
// memory by [Match], and open to other renderers (a search query, a
// document-store filter) that walk it with a type switch.
//
// Filter is a closed sum type: its only implementations are [Const],
// [And], [Or], [Eq], [In] and [CreatorKindIs]; a renderer that meets
// anything else must fail. There is no negation, by design: every
// condition is positive, so a NULL (the zero [ID]) can only ever hide a
// record, never reveal one.
//
// Filters are immutable values: never modify the slices of an And, Or or
// In you did not build. They are safe for concurrent use.
type Filter interface {
	isFilter()
	// String returns a debug form, for logs: instance in (1, 2) and assignee = 42.
	String() string
}

// Const is a literal filter: true matches every record (of the
// organisation), false matches none. A host may skip the WHERE clause for
// true, and the query itself for false.
type Const bool

// And matches a record when every filter matches it. The empty And is
// true.
type And []Filter

// Or matches a record when some filter matches it. The empty Or is false.
type Or []Filter

// Eq matches a record whose Field equals Value. A zero (NULL) field never
// matches, nor does a zero Value; Field must not be FieldCreatorKind (use
// [CreatorKindIs]). For [FieldInstance], a record matches when any of its
// instances ([Record.Instance] and [Record.Instances]) equals Value.
type Eq struct {
	Field Field
	Value ID

	arg any // Value as a bind value, when built by a Member; else nil
}

// In matches a record whose Field is one of Values. The empty In is false;
// a zero (NULL) field never matches. For [FieldInstance], a record matches
// when any of its instances ([Record.Instance] and [Record.Instances]) is
// one of Values.
type In struct {
	Field  Field
	Values []ID

	set  *idSet   // an index of Values, when built by a Member; else nil
	args []any    // Values as bind values, when built by a Member; else nil
	enc  *setArgs // Values encoded as one bind value, per encoding, when built by a Member; else nil
}

// has reports whether v is one of the values; never for the zero ID.
func (in In) has(v ID) bool {
	if v.IsZero() {
		return false
	}
	if in.set != nil {
		return in.set.has(v)
	}
	for _, w := range in.Values {
		if v == w {
			return true
		}
	}
	return false
}

// CreatorKindIs matches a deal whose creator kind is Kind. For
// [CreatorUnknown] that is a NULL creator-kind column (a legacy deal).
type CreatorKindIs struct {
	Kind CreatorKind
}

func (Const) isFilter()         {}
func (And) isFilter()           {}
func (Or) isFilter()            {}
func (Eq) isFilter()            {}
func (In) isFilter()            {}
func (CreatorKindIs) isFilter() {}

// All and None are the two [Const] filters.
const (
	All  = Const(true)
	None = Const(false)
)

func (c Const) String() string {
	if c {
		return "all"
	}
	return "none"
}

func (a And) String() string { return joinFilters([]Filter(a), " and ", "all") }
func (o Or) String() string  { return joinFilters([]Filter(o), " or ", "none") }

func joinFilters(fs []Filter, sep, empty string) string {
	if len(fs) == 0 {
		return empty
	}
	var b strings.Builder
	for i, f := range fs {
		if i > 0 {
			b.WriteString(sep)
		}
		switch f.(type) {
		case And, Or:
			b.WriteString("(" + f.String() + ")")
		default:
			b.WriteString(fmt.Sprint(f))
		}
	}
	return b.String()
}

func (e Eq) String() string { return e.Field.String() + " = " + e.Value.String() }

func (in In) String() string {
	var b strings.Builder
	b.WriteString(in.Field.String())
	b.WriteString(" in (")
	for i, v := range in.Values {
		if i > 0 {
			b.WriteString(", ")
		}
		if i == 10 && len(in.Values) > 12 {
			fmt.Fprintf(&b, "... %d more", len(in.Values)-10)
			break
		}
		b.WriteString(v.String())
	}
	b.WriteString(")")
	return b.String()
}

func (c CreatorKindIs) String() string {
	if c.Kind == CreatorUnknown {
		return "creator_kind is null"
	}
	return "creator_kind = " + c.Kind.String()
}

// Match reports whether f matches r, by the same three-valued logic as
// SQL: a zero (NULL) field matches no Eq or In. It never allocates. A nil
// filter or an unknown implementation matches nothing.
func Match(f Filter, r *Record) bool {
	switch f := f.(type) {
	case Const:
		return bool(f)
	case And:
		for _, g := range f {
			if !Match(g, r) {
				return false
			}
		}
		return true
	case Or:
		for _, g := range f {
			if Match(g, r) {
				return true
			}
		}
		return false
	case Eq:
		v := f.Field.id(r)
		if !v.IsZero() && v == f.Value {
			return true
		}
		return f.Field == FieldInstance && r.Instances.Contains(f.Value)
	case In:
		if f.Field == FieldInstance && !r.Instances.IsEmpty() {
			return f.has(r.Instance) || r.Instances.any(f.has)
		}
		return f.has(f.Field.id(r))
	case CreatorKindIs:
		return r.CreatorKind == f.Kind
	}
	return false
}
