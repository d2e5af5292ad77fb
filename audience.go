package teamperm

import "fmt"

// An Audience answers the reverse question of [Member.EvaluateRecord]:
// which members of a team may see a record, or do p on it. A shared inbox
// asks it for every incoming message, to push it live only to the members
// who may see its conversation; pushing it to anyone else is a leak.
//
// NewAudience indexes the team's compiled members by what their
// visibility of each kind depends on: members limited to their own
// conversations or deals by their own ID, members limited to pipelines by
// pipeline, members limited to instances by instance, and the rest (who
// see every record of the kind) in one list. A query looks up the few
// lists a record can be in and asks [Member.EvaluateRecord] of each
// member on them, so every answer is, by construction, that member's own
// decision; members on no list are those whose decision is not found. The
// cost grows with the number of members who may see the record, not with
// the team.
//
// An Audience is immutable and safe for concurrent use. Build a new one
// when the team changes (members are compiled for one organisation state,
// see [Member.Org]). The zero Audience has no member.
type Audience struct {
	org     Organization
	members []*Member
	kinds   [numKinds]kindIndex
}

// A kindIndex lists the members who may see some record of one kind, by
// the one key their visibility of it is restricted on. Each member is in
// exactly one bucket per kind (in byInstance and byPipeline under each of
// its IDs), or in none when it lacks the kind's view permission.
type kindIndex struct {
	all        []int32        // members who see every record of the kind in the organisation
	byMember   map[ID][]int32 // only assigned chats, only created deals: by the member's own ID
	legacy     []int32        // only created deals: legacy deals count as anyone's
	byPipeline map[ID][]int32 // pipeline restrictions: by each allowed pipeline
	byInstance map[ID][]int32 // instance restrictions: by each allowed instance
}

// NewAudience indexes members, the compiled members of one organisation in
// one state. It fails, wrapping [ErrInvalidID], for a nil or zero member or
// a member ID listed twice, and, wrapping [ErrStaleMember], for members
// compiled for different organisation states.
func NewAudience(members ...*Member) (*Audience, error) {
	a := &Audience{members: make([]*Member, 0, len(members))}
	seen := make(map[ID]bool, len(members))
	for i, m := range members {
		switch {
		case !m.valid():
			return nil, fmt.Errorf("teamperm: the audience's member at index %d is not a compiled member: %w", i, ErrInvalidID)
		case seen[m.id]:
			return nil, fmt.Errorf("teamperm: audience member %v listed twice: %w", m.id, ErrInvalidID)
		case i > 0 && m.orgState != a.org:
			return nil, fmt.Errorf("teamperm: audience member %v was compiled for organization %v with %v at revision %d, the first member for %v with %v at revision %d: %w",
				m.id, m.orgState.ID, m.orgState.Features, m.orgState.Revision, a.org.ID, a.org.Features, a.org.Revision, ErrStaleMember)
		}
		seen[m.id] = true
		a.org = m.orgState
		a.members = append(a.members, m)
	}
	for k := Kind(1); k < numKinds; k++ {
		a.kinds[k] = a.index(k)
	}
	return a, nil
}

// index builds the buckets of kind k.
func (a *Audience) index(k Kind) kindIndex {
	var x kindIndex
	add := func(mp *map[ID][]int32, id ID, i int32) {
		if *mp == nil {
			*mp = map[ID][]int32{}
		}
		(*mp)[id] = append((*mp)[id], i)
	}
	for i, m := range a.members {
		i := int32(i)
		rule := &m.rules[k]
		switch {
		case rule.hidden:
			// No view permission: sees nothing of the kind.
		case rule.eff.assigned:
			add(&x.byMember, m.id, i)
		case rule.eff.created:
			add(&x.byMember, m.id, i)
			x.legacy = append(x.legacy, i)
		case rule.eff.pipelines:
			for _, id := range m.pipe.list() {
				add(&x.byPipeline, id, i)
			}
		case rule.eff.instances:
			for _, id := range m.inst.list() {
				add(&x.byInstance, id, i)
			}
		default:
			x.all = append(x.all, i)
		}
	}
	return x
}

// Len returns the number of members indexed.
func (a *Audience) Len() int {
	if a == nil {
		return 0
	}
	return len(a.members)
}

// Members returns the members indexed, in the order given to
// [NewAudience]. The slice is a copy.
func (a *Audience) Members() []*Member {
	if a == nil {
		return nil
	}
	return append([]*Member(nil), a.members...)
}

// Organization returns the organisation state the members were compiled
// for.
func (a *Audience) Organization() Organization {
	if a == nil {
		return Organization{}
	}
	return a.org
}

// Append appends to dst the decision of every member who may do p on r
// (allowed decisions only, each exactly [Member.EvaluateRecord](p, r) of
// that member, its reason included), or who may see r when p is zero (each
// then [Member.Visible](r)), and returns the extended slice. A record of
// another organisation, or of an invalid kind, has no audience. The order
// is deterministic for one Audience and record, but unspecified: sort by
// [Decision.Member] if it matters.
//
// Append does not allocate when dst has room; it is safe for concurrent
// use.
func (a *Audience) Append(dst []Decision, p Permission, r Record) []Decision {
	if a == nil || !r.Kind.IsValid() || r.Organization.IsZero() || !r.Organization.eq(a.org.ID) {
		return dst
	}
	x := &a.kinds[r.Kind]
	dst = a.ask(dst, x.all, p, &r, ID{})
	switch r.Kind {
	case KindConversation, KindMessage:
		if !r.Assignee.IsZero() {
			dst = a.ask(dst, x.byMember[r.Assignee], p, &r, ID{})
		}
	case KindDeal:
		switch r.CreatorKind {
		case CreatorUnknown:
			dst = a.ask(dst, x.legacy, p, &r, ID{})
		case CreatorMember:
			if !r.Creator.IsZero() {
				dst = a.ask(dst, x.byMember[r.Creator], p, &r, ID{})
			}
		case CreatorAutomation:
			if !r.Assignee.IsZero() {
				dst = a.ask(dst, x.byMember[r.Assignee], p, &r, ID{})
			}
		}
		if !r.Pipeline.IsZero() {
			dst = a.ask(dst, x.byPipeline[r.Pipeline], p, &r, ID{})
		}
	}
	if r.Kind.IsInstanceBound() && x.byInstance != nil {
		// A member allowed several of the record's instances is on
		// several lists: it is asked under the first of them only.
		if !r.Instance.IsZero() {
			dst = a.ask(dst, x.byInstance[r.Instance], p, &r, ID{})
		}
		for rest := r.Instances.enc; rest != ""; {
			var id ID
			id, rest = nextSetID(rest)
			if !id.eq(r.Instance) {
				dst = a.ask(dst, x.byInstance[id], p, &r, id)
			}
		}
	}
	return dst
}

// askedBefore reports whether m allows one of r's instances that comes
// before id (the record's Instance, then Instances in order), so that it
// was asked already.
func (m *Member) askedBefore(r *Record, id ID) bool {
	if m.inst.has(r.Instance) {
		return true
	}
	for rest := r.Instances.enc; rest != ""; {
		var x ID
		x, rest = nextSetID(rest)
		if x.eq(id) {
			return false
		}
		if m.inst.has(x) {
			return true
		}
	}
	return false
}

// ask appends the allowing decisions of the members at idx; under a
// further instance (not zero), it skips those asked under an earlier one.
func (a *Audience) ask(dst []Decision, idx []int32, p Permission, r *Record, instance ID) []Decision {
	for _, i := range idx {
		m := a.members[i]
		if !instance.IsZero() && m.askedBefore(r, instance) {
			continue
		}
		var d Decision
		if p == 0 {
			d = m.visibleDecision(r)
		} else {
			d = m.evaluateRecord(p, r)
		}
		if d.Allowed() {
			dst = append(dst, d)
		}
	}
	return dst
}
