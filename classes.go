package teamperm

import (
	"slices"
	"strconv"
)

// recordClasses returns one record of every class of records that the
// members ms can tell apart, for the brute-force questions of [Impact] and
// [ApplyEdits]: "does b see some record a does not?", "does the target
// gain, on some record, anything the actor cannot do?".
//
// No finite list holds every record, but a member's visibility of a record
// depends only on the record's kind, whether its organisation is the
// member's, whether its instance and pipeline are in the member's sets,
// whether its assignee and creator are the member, and its creator kind
// (see Member.visible). So a record's class is its kind together with its
// relation to every set and every member ID in play: which of the members'
// instance sets hold its instance (one representative per pattern of
// membership, NULL and an instance in no set among them), the same for
// pipelines, its assignee and creator being one of the members, nobody
// (NULL) or someone else, every creator kind (an invalid one too), and an
// organisation that is ours, another or none. Two records of one class
// look the same to every member of ms, so a question asked of each
// representative is asked of every record.
//
// Invalid (nil or zero) members are skipped. ms must hold at most 64
// members (the patterns are bit masks); callers pass two or three.
func recordClasses(org ID, ms ...*Member) []Record {
	var live []*Member
	for _, m := range ms {
		if m.valid() {
			live = append(live, m)
		}
	}
	people := []ID{{}} // NULL, then each member, then someone else
	for _, m := range live {
		if !slices.ContainsFunc(people, m.id.eq) {
			people = append(people, m.id)
		}
	}
	people = append(people, freshID("member", func(id ID) bool { return slices.ContainsFunc(people, id.eq) }))
	insts := idClasses(live, func(m *Member) (*idSet, []ID) { return &m.inst, m.inst.list() })
	pipes := idClasses(live, func(m *Member) (*idSet, []ID) { return &m.pipe, m.pipe.list() })
	other := freshID("organization", org.eq)

	var out []Record
	for k := range Kinds() {
		// Records of another organisation, or of none.
		out = append(out, Record{Kind: k, Organization: other}, Record{Kind: k})
		r := Record{Kind: k, Organization: org}
		switch {
		case k == KindConversation || k == KindMessage:
			for _, inst := range insts {
				for _, who := range people {
					r.Instance, r.Assignee = inst, who
					out = append(out, r)
				}
			}
		case k.IsInstanceBound():
			for _, inst := range insts {
				r.Instance = inst
				out = append(out, r)
			}
		case k == KindDeal:
			for _, who := range people {
				for ck := CreatorKind(0); ck <= numCreatorKinds; ck++ { // an invalid kind too
					creators := []ID{{}}
					if ck == CreatorMember {
						creators = people
					}
					for _, by := range creators {
						for _, pipe := range pipes {
							r.Assignee, r.CreatorKind, r.Creator, r.Pipeline = who, ck, by, pipe
							out = append(out, r)
						}
					}
				}
			}
		default:
			out = append(out, r)
		}
	}
	return out
}

// idClasses returns NULL, an ID in none of the members' sets, and one ID
// for every other pattern of membership in the sets that set returns for
// each member.
func idClasses(ms []*Member, set func(*Member) (*idSet, []ID)) []ID {
	pattern := func(id ID) uint64 {
		var p uint64
		for i, m := range ms {
			if s, _ := set(m); s.has(id) {
				p |= 1 << i
			}
		}
		return p
	}
	out := []ID{{}}
	seen := map[uint64]bool{0: true}
	for _, m := range ms {
		_, ids := set(m)
		for _, id := range ids {
			if p := pattern(id); !seen[p] {
				seen[p] = true
				out = append(out, id)
			}
		}
	}
	return append(out, freshID("id", func(id ID) bool { return pattern(id) != 0 }))
}

// freshID returns a text ID for which taken is false.
func freshID(what string, taken func(ID) bool) ID {
	for i := 0; ; i++ {
		id := StringID("teamperm: another " + what + " " + strconv.Itoa(i))
		if !taken(id) {
			return id
		}
	}
}

// sees reports whether m can see r; false for an invalid member.
func (m *Member) sees(r *Record) bool { return m.valid() && m.visible(r).ok }
