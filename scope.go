package teamperm

import (
	"iter"
	"slices"
)

// A Scope says which records of one kind a member may see: the rows a list
// query may return. It is the answer of [Member.Scope], and it agrees with
// [Member.Visible] on every record.
//
// A Scope has two parts: the member's organisation, which every record
// must belong to (tenant isolation), and a [Filter] of the member's own
// conditions within the organisation, simplified so that an unrestricted
// member gets [All] and a member who may see nothing gets [None].
//
// The zero Scope matches nothing. Scopes are small immutable values, safe
// for concurrent use.
type Scope struct {
	kind   Kind
	org    ID
	orgArg any    // org as a bind value
	f      Filter // nil in the zero Scope: nothing
}

// Scope returns the records of kind k that the member may see (R7..R13):
// none without the kind's view permission, none for an invalid kind,
// otherwise the member's restrictions that apply to k. The first call for
// a kind builds its scope and caches it on the member: later calls cost a
// few nanoseconds and do not allocate.
func (m *Member) Scope(k Kind) Scope {
	if !m.valid() || !k.IsValid() {
		return Scope{kind: k}
	}
	c := m.scopes[k].Load()
	if c == nil {
		// Racing first calls build equal entries; one of them is kept.
		c = &scopeCache{orgArg: boxID(m.org), filter: m.buildScope(k)}
		if !m.scopes[k].CompareAndSwap(nil, c) {
			c = m.scopes[k].Load()
		}
	}
	return Scope{kind: k, org: m.org, orgArg: c.orgArg, f: c.filter}
}

// scopeCache holds a member's scope of one kind, built once.
type scopeCache struct {
	orgArg any // the organisation as a bind value
	filter Filter
}

// buildScope is visible() as a filter: the same rules, in the same order.
func (m *Member) buildScope(k Kind) Filter {
	if vp, ok := k.ViewPermission(); ok && !m.perms.Has(vp) {
		return None
	}
	var terms And
	if m.eff.instances && k.IsInstanceBound() {
		if m.inst.len() == 0 {
			return None
		}
		ids := m.inst.list()
		terms = append(terms, In{Field: FieldInstance, Values: ids, set: &m.inst, args: boxIDs(ids), enc: new(setArgs)})
	}
	switch k {
	case KindConversation, KindMessage:
		if m.eff.assigned {
			terms = append(terms, m.eq(FieldAssignee))
		}
	case KindDeal:
		if m.eff.created {
			terms = append(terms, Or{
				And{CreatorKindIs{CreatorMember}, m.eq(FieldCreator)},
				And{CreatorKindIs{CreatorAutomation}, m.eq(FieldAssignee)},
				CreatorKindIs{CreatorUnknown},
			})
		}
		if m.eff.pipelines {
			if m.pipe.len() == 0 {
				return None
			}
			ids := m.pipe.list()
			terms = append(terms, In{Field: FieldPipeline, Values: ids, set: &m.pipe, args: boxIDs(ids), enc: new(setArgs)})
		}
	}
	switch len(terms) {
	case 0:
		return All
	case 1:
		return terms[0]
	}
	return terms
}

// eq is field = the member's ID, with the bind value ready.
func (m *Member) eq(f Field) Eq { return Eq{Field: f, Value: m.id, arg: boxID(m.id)} }

// boxIDs returns the bind values of ids, made once so that rendering does
// not allocate them on every request.
func boxIDs(ids []ID) []any {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = boxID(id)
	}
	return args
}

// Kind returns the kind of records the scope is about.
func (s Scope) Kind() Kind { return s.kind }

// Organization returns the organisation every matching record belongs to;
// the zero ID for the zero Scope.
func (s Scope) Organization() ID { return s.org }

// Filter returns the member's conditions within the organisation: [All]
// when the member sees every record of the kind in the organisation,
// [None] when it sees none. A renderer of its own must also apply the
// organisation condition ([Scope.Organization]), or use [Scope.Tree].
//
// The tree is a fresh copy that shares no memory with the member, so a
// caller that modifies it changes nothing else; it allocates for every
// condition beyond [All] and [None]. [Scope.AppendSQL] and [Scope.Match]
// do not go through it.
func (s Scope) Filter() Filter { return cloneFilter(s.filter()) }

// filter is Filter without the copy, for this package's renderers.
func (s Scope) filter() Filter {
	if s.f == nil {
		return None
	}
	return s.f
}

// cloneFilter copies f deeply, dropping the bind values and indexes a
// Member prepared, so that a caller's change to the copy is rendered and
// matched as changed.
func cloneFilter(f Filter) Filter {
	switch f := f.(type) {
	case And:
		out := make(And, len(f))
		for i, g := range f {
			out[i] = cloneFilter(g)
		}
		return out
	case Or:
		out := make(Or, len(f))
		for i, g := range f {
			out[i] = cloneFilter(g)
		}
		return out
	case Eq:
		return Eq{Field: f.Field, Value: f.Value}
	case In:
		return In{Field: f.Field, Values: slices.Clone(f.Values)}
	}
	return f
}

// Tree returns the whole predicate, the organisation condition included:
// organization = Organization() and Filter(), or [None]. It is what
// [Scope.AppendSQL] renders and [Scope.Match] tests. Like Filter, it is a
// fresh copy.
func (s Scope) Tree() Filter {
	switch f := s.Filter().(type) {
	case Const:
		if !f {
			return None
		}
		return Eq{Field: FieldOrganization, Value: s.org}
	case And:
		return append(And{Eq{Field: FieldOrganization, Value: s.org}}, f...)
	default:
		return And{Eq{Field: FieldOrganization, Value: s.org}, f}
	}
}

// Fields returns the fields [Scope.Tree] tests, in Field order: the
// columns a [Mapping] must have for this scope (FieldOrganization is not
// needed with SingleTenant).
func (s Scope) Fields() []Field {
	var used [numFields]bool
	var walk func(f Filter)
	walk = func(f Filter) {
		switch f := f.(type) {
		case And:
			for _, g := range f {
				walk(g)
			}
		case Or:
			for _, g := range f {
				walk(g)
			}
		case Eq:
			used[f.Field] = f.Field < numFields
		case In:
			used[f.Field] = f.Field < numFields
		case CreatorKindIs:
			used[FieldCreatorKind] = true
		}
	}
	walk(s.Tree())
	var out []Field
	for f := Field(1); f < numFields; f++ {
		if used[f] {
			out = append(out, f)
		}
	}
	return out
}

// IsNone reports whether the scope matches no record, so the host can skip
// the query.
func (s Scope) IsNone() bool { return s.filter() == None }

// IsAll reports whether the scope matches every record of the kind in the
// organisation: only the organisation condition remains.
func (s Scope) IsAll() bool { return s.filter() == All }

// Match reports whether the member may see r: r is of the scope's kind, of
// the member's organisation, and matches [Scope.Filter]. It never
// allocates.
func (s Scope) Match(r *Record) bool {
	return s.f != nil && r.Kind == s.kind && !s.org.IsZero() && r.Organization == s.org && Match(s.f, r)
}

// FilterSeq returns the records of seq that the scope matches, lazily.
func (s Scope) FilterSeq(seq iter.Seq[Record]) iter.Seq[Record] {
	return func(yield func(Record) bool) {
		for r := range seq {
			if s.Match(&r) && !yield(r) {
				return
			}
		}
	}
}

// String returns the scope for logs, such as
// "conversation where organization = 1 and assignee = 42".
func (s Scope) String() string {
	return s.kind.String() + " where " + s.Tree().String()
}
