package teamperm

import (
	"fmt"
	"hash/maphash"
	"math/bits"
	"slices"
	"strings"
	"sync/atomic"
)

// A Member is the compiled, immutable view of one team member in one
// organisation state: the effective permissions and visibility rules that
// follow from the organisation's plan, the member's role and stored
// [Settings]. Build it with [Compile] and evaluate it on every request.
//
// A Member belongs to the organisation state it was compiled for
// ([Member.Org]: the organisation's ID, features and revision). When the
// plan changes, members compiled before the change are stale: a cache must
// key them by [Member.Key] (organisation ID, features and revision, member
// ID and settings revision), never by member and settings revision alone,
// and [ApplyEdits] refuses an actor compiled for another state.
//
// A *Member is safe for concurrent use. Has, Evaluate, EvaluateRecord and
// Visible never allocate; Scope allocates on its first call per kind only.
// A nil *Member is valid and denies everything, so a handler that finds no
// member in its context fails closed; the zero Member (not made by
// Compile) behaves exactly like nil.
type Member struct {
	org      ID
	orgState Organization // the organisation state compiled for
	id       ID
	role     Role
	revision uint64
	fine     bool // the organisation has FineGrained: settings apply

	perms      PermissionSet          // effective permissions
	reasons    [numPermissions]Reason // why each permission is or is not in perms
	eff        restrictions           // restrictions in force
	stored     restrictions           // restrictions the settings ask for on a fine-grained plan
	inst, pipe idSet                  // the allowed instances and pipelines, in the settings' order and indexed

	rules  [numKinds]kindRule
	scopes [numKinds]atomic.Pointer[scopeCache] // made by the first call of Scope for each kind
}

// restrictions says which visibility rules apply.
type restrictions struct {
	instances bool // R7: only records of allowed instances
	assigned  bool // R9: only conversations (and their messages) assigned to the member
	created   bool // R10: only deals created by / for the member, or legacy
	pipelines bool // R11: only deals in the member's pipelines
}

// Compile builds the view of the member with settings s in organisation
// org. It validates everything up front ([Settings.Validate] and a non-zero
// organisation ID) and returns all problems joined; a compiled member never
// fails later.
//
// Compile copies what it needs from s; the caller may reuse s. It costs
// well under a microsecond for typical settings and allocates once (the
// Member), or twice with up to eight allowed instances or pipelines (their
// copy). Longer lists are indexed in hash tables, at a few tens of
// nanoseconds per ID and a fixed number of allocations whatever the length
// (BenchmarkCompileGrowth).
func Compile(org Organization, s Settings) (*Member, error) {
	if err := validateKey("organization", org.ID); err != nil {
		if verr := s.Validate(); verr != nil {
			return nil, fmt.Errorf("%w\n%w", err, verr)
		}
		return nil, err
	}
	// Validate, but for the IDs of the sets indexed below: indexing them
	// finds a zero or repeated ID at no extra cost. On any problem the
	// error is Validate's, which reports them all.
	restricts := s.Role == RoleAdmin || s.Role == RoleMember
	if validateKey("member", s.Member) != nil || !s.Role.IsValid() ||
		!(restricts && s.Instances.Specific) && s.Instances.validate("instances") != nil ||
		!(s.Role == RoleMember && s.Pipelines.Specific) && s.Pipelines.validate("pipelines") != nil {
		return nil, s.Validate()
	}
	m := &Member{
		org:      org.ID,
		orgState: org,
		id:       s.Member,
		role:     s.Role,
		revision: s.Revision,
		fine:     org.Features.Has(FineGrained),
	}

	// Permissions: role defaults, then overrides (deny wins) on a
	// fine-grained plan; owners take no override (R2, R4, R5, R6).
	defaults := s.Role.Defaults()
	withSettings := defaults
	if s.Role != RoleOwner {
		withSettings = defaults.Union(s.Grants).Difference(s.Denies)
	}
	m.perms = defaults
	if m.fine {
		m.perms = withSettings
	}
	m.setReasons(defaults, withSettings, s)

	// Visibility restrictions (R5, R7, R9, R10, R11).
	switch s.Role {
	case RoleAdmin:
		m.stored = restrictions{instances: s.Instances.Specific, assigned: s.OnlyAssignedChats}
	case RoleMember:
		m.stored = restrictions{
			instances: s.Instances.Specific,
			assigned:  s.OnlyAssignedChats,
			created:   s.OnlyCreatedDeals,
			pipelines: s.Pipelines.Specific,
		}
	}
	if m.fine {
		m.eff = m.stored
	}
	badInst, badPipe := -1, -1
	if m.stored.instances {
		badInst = m.inst.index(s.Instances.IDs)
	}
	if m.stored.pipelines {
		badPipe = m.pipe.index(s.Pipelines.IDs)
	}
	if badInst >= 0 || badPipe >= 0 {
		return nil, s.Validate()
	}
	m.kindRules()
	return m, nil
}

// setReasons records why each permission is or is not effective.
func (m *Member) setReasons(defaults, withSettings PermissionSet, s Settings) {
	m.reasons[0] = ReasonInvalidRequest
	var ignored, deny, grant PermissionSet // the permissions whose reason is not the role default
	switch {
	case m.role == RoleOwner:
		for p := Permission(1); p < numPermissions; p++ {
			m.reasons[p] = ReasonOwner
		}
		return
	case !m.fine:
		ignored = PermissionSet{withSettings.bits ^ defaults.bits}
	default:
		deny = s.Denies
		grant = s.Grants.Difference(defaults).Difference(deny)
	}
	for p := Permission(1); p < numPermissions; p++ {
		switch {
		case ignored.Has(p):
			m.reasons[p] = ReasonPlanIgnoresSettings
		case deny.Has(p):
			m.reasons[p] = ReasonOverrideDeny
		case grant.Has(p):
			m.reasons[p] = ReasonOverrideGrant
		default:
			m.reasons[p] = ReasonRoleDefault
		}
	}
}

// valid reports whether m was made by Compile: a nil or zero Member is
// not, and denies everything. Compile never makes a member without a role.
func (m *Member) valid() bool { return m != nil && m.role != 0 }

// ID returns the member's ID. A nil Member has the zero ID.
func (m *Member) ID() ID {
	if m == nil {
		return ID{}
	}
	return m.id
}

// Organization returns the ID of the member's organisation.
func (m *Member) Organization() ID {
	if m == nil {
		return ID{}
	}
	return m.org
}

// Org returns the organisation state the member was compiled for: its ID,
// features and revision, exactly as given to [Compile]. The zero
// Organization for a nil Member.
func (m *Member) Org() Organization {
	if m == nil {
		return Organization{}
	}
	return m.orgState
}

// Role returns the member's role; the zero Role for a nil Member.
func (m *Member) Role() Role {
	if m == nil {
		return 0
	}
	return m.role
}

// Revision returns the revision of the settings the member was compiled
// from.
func (m *Member) Revision() uint64 {
	if m == nil {
		return 0
	}
	return m.revision
}

// Key returns what the member was compiled from, as a cache key: see
// [MemberKey]. The zero MemberKey for a nil Member.
func (m *Member) Key() MemberKey {
	if m == nil {
		return MemberKey{}
	}
	return MemberKey{Organization: m.orgState, Member: m.id, Revision: m.revision}
}

// A MemberKey names everything a compiled [Member] depends on: the
// organisation state (ID, features and revision: the plan is an input) and
// the member's ID and settings revision. Two members with equal keys decide
// alike, provided the host bumps [Organization.Revision] whenever the
// organisation's features change and [Settings.Revision] whenever the
// settings change ([ApplyEdits] does the latter). A key of the member and
// settings revision alone is not enough: after a downgrade from Pro a
// member cached under it would keep overrides the plan no longer gives.
//
// MemberKey is comparable with == and safe as a map key.
type MemberKey struct {
	Organization Organization
	Member       ID
	Revision     uint64
}

// KeyOf returns the [MemberKey] of the member that Compile(org, s) would
// make, without compiling it: a cache looks up with it first.
func KeyOf(org Organization, s Settings) MemberKey {
	return MemberKey{Organization: org, Member: s.Member, Revision: s.Revision}
}

// Permissions returns the member's effective permissions.
func (m *Member) Permissions() PermissionSet {
	if !m.valid() {
		return PermissionSet{}
	}
	return m.perms
}

// HonoursSettings reports whether the organisation's plan applies the
// member's stored settings (it has [FineGrained]). When false the member
// has exactly the role defaults.
func (m *Member) HonoursSettings() bool { return m.valid() && m.fine }

// Has reports whether the member holds permission p. It is the fastest
// check: one bit test.
func (m *Member) Has(p Permission) bool { return m != nil && m.perms.Has(p) }

// Evaluate decides whether the member may do p, with no record involved
// (for example: may this member export contacts at all?). The outcome is
// [OutcomeAllow] or [OutcomeForbidden].
func (m *Member) Evaluate(p Permission) Decision {
	if !m.valid() {
		return Decision{v: mkVerdict(OutcomeForbidden, ReasonNone, p, 0, 0)}
	}
	if p >= numPermissions {
		p = 0 // reasons[0] is ReasonInvalidRequest
	}
	outcome := OutcomeForbidden
	if m.perms.Has(p) {
		outcome = OutcomeAllow
	}
	return Decision{m: m, v: mkVerdict(outcome, m.reasons[p], p, p, 0)}
}

// EvaluateRecord decides whether the member may do p on record r (R12):
// first whether the member can see r at all (if not, the outcome is
// [OutcomeNotFound], whatever p is), then whether the member holds p
// ([OutcomeForbidden] if not).
func (m *Member) EvaluateRecord(p Permission, r Record) Decision { return m.evaluateRecord(p, &r) }

// evaluateRecord is EvaluateRecord without copying the record.
func (m *Member) evaluateRecord(p Permission, r *Record) Decision {
	if !m.valid() {
		return Decision{v: mkVerdict(OutcomeNotFound, ReasonNone, p, 0, r.Kind)}
	}
	v := m.visible(r)
	switch {
	case !v.ok:
		return Decision{m: m, v: mkVerdict(OutcomeNotFound, v.why, p, v.by, r.Kind)}
	case !p.IsValid():
		return Decision{m: m, v: mkVerdict(OutcomeForbidden, ReasonInvalidRequest, p, p, r.Kind)}
	case !m.perms.Has(p):
		return Decision{m: m, v: mkVerdict(OutcomeForbidden, m.reasons[p], p, p, r.Kind)}
	case v.ignored:
		// Allowed only because the plan ignores a setting that would
		// hide the record.
		return Decision{m: m, v: mkVerdict(OutcomeAllow, ReasonPlanIgnoresSettings, p, p, r.Kind)}
	}
	return Decision{m: m, v: mkVerdict(OutcomeAllow, m.reasons[p], p, p, r.Kind)}
}

// Visible decides whether the member can see record r: [OutcomeAllow] or
// [OutcomeNotFound]. A record-level action also needs its permission: use
// [Member.EvaluateRecord] for that.
func (m *Member) Visible(r Record) Decision { return m.visibleDecision(&r) }

// visibleDecision is Visible without copying the record.
func (m *Member) visibleDecision(r *Record) Decision {
	if !m.valid() {
		return Decision{v: mkVerdict(OutcomeNotFound, ReasonNone, 0, 0, r.Kind)}
	}
	v := m.visible(r)
	o := OutcomeNotFound
	if v.ok {
		o = OutcomeAllow
	}
	return Decision{m: m, v: mkVerdict(o, v.why, 0, v.by, r.Kind)}
}

// visibility is the answer of [Member.visible].
type visibility struct {
	ok      bool       // the record is visible
	ignored bool       // visible only because the plan ignores a stored setting
	why     Reason     // the rule that decided
	by      Permission // the view permission that decided, if one did
}

// visible applies tenant isolation and R7..R13 to r, with the rule
// Compile prepared for r's kind.
func (m *Member) visible(r *Record) visibility {
	if r.Kind == 0 || r.Kind >= numKinds {
		return visibility{why: ReasonInvalidRequest}
	}
	if !r.Organization.eq(m.org) {
		return visibility{why: ReasonOtherOrganization}
	}
	rule := &m.rules[r.Kind]
	switch {
	case rule.hidden:
		return visibility{why: rule.why, by: rule.by}
	case rule.eff.instances && !m.seesInstanceOf(r):
		return visibility{why: ReasonInstanceRestricted}
	case rule.eff.assigned && !r.Assignee.eq(m.id):
		return visibility{why: ReasonNotAssigned}
	case rule.eff.created && !m.createdFor(r):
		return visibility{why: ReasonNotCreator}
	case rule.eff.pipelines && !m.pipe.has(r.Pipeline):
		return visibility{why: ReasonPipeline}
	case rule.ignored || rule.stored != (restrictions{}) && m.hides(r, rule.stored) != ReasonNone:
		return visibility{ok: true, ignored: true, why: ReasonPlanIgnoresSettings, by: rule.by}
	}
	return visibility{ok: true, why: rule.why, by: rule.by}
}

// A kindRule is what Compile works out once for each kind, so that
// visible does as little as possible per record.
type kindRule struct {
	hidden  bool         // no view permission: nothing of the kind is visible
	why     Reason       // the reason of a visible record (of all records when hidden)
	by      Permission   // the kind's view permission; zero for deals
	eff     restrictions // the restrictions in force that apply to the kind
	stored  restrictions // on a plan without FineGrained: the stored ones the plan ignores
	ignored bool         // the plan ignores a deny of the view permission: every record is visible only because of that
}

// kindRules prepares the rule of every kind; perms, reasons, eff and
// stored must be set.
func (m *Member) kindRules() {
	for k := Kind(1); k < numKinds; k++ {
		rule := kindRule{why: ReasonRoleDefault}
		if vp, ok := k.ViewPermission(); ok {
			rule.by, rule.why = vp, m.reasons[vp]
			rule.hidden = !m.perms.Has(vp)
		}
		if m.role == RoleOwner {
			rule.why = ReasonOwner
		}
		rule.eff = m.eff.forKind(k)
		if !m.fine && m.role != RoleOwner {
			rule.stored = m.stored.forKind(k)
			rule.ignored = rule.by != 0 && m.reasons[rule.by] == ReasonPlanIgnoresSettings
		}
		m.rules[k] = rule
	}
}

// forKind keeps the restrictions that apply to records of kind k.
func (res restrictions) forKind(k Kind) restrictions {
	out := restrictions{instances: res.instances && k.IsInstanceBound()}
	switch k {
	case KindConversation, KindMessage:
		out.assigned = res.assigned
	case KindDeal:
		out.created, out.pipelines = res.created, res.pipelines
	}
	return out
}

// hides returns the reason the restrictions in res hide r, or ReasonNone.
func (m *Member) hides(r *Record, res restrictions) Reason {
	if res.instances && r.Kind.IsInstanceBound() && !m.seesInstanceOf(r) {
		return ReasonInstanceRestricted
	}
	switch r.Kind {
	case KindConversation, KindMessage:
		if res.assigned && !r.Assignee.eq(m.id) {
			return ReasonNotAssigned
		}
	case KindDeal:
		if res.created && !m.createdFor(r) {
			return ReasonNotCreator
		}
		if res.pipelines && !m.pipe.has(r.Pipeline) {
			return ReasonPipeline
		}
	}
	return ReasonNone
}

// seesInstanceOf reports whether one of r's instances (R19) is among the
// member's allowed ones.
func (m *Member) seesInstanceOf(r *Record) bool {
	return m.inst.has(r.Instance) || r.Instances.enc != "" && r.Instances.any(m.inst.has)
}

// createdFor is R10: the member created the deal, or an automation created
// it and assigned it to the member, or it has no creator tracking.
func (m *Member) createdFor(r *Record) bool {
	switch r.CreatorKind {
	case CreatorUnknown:
		return true
	case CreatorMember:
		return r.Creator.eq(m.id)
	case CreatorAutomation:
		return r.Assignee.eq(m.id)
	}
	return false
}

// idSet is an immutable list of IDs in the settings' order, indexed: a
// few are scanned, more are hashed (one open-addressing table for integer
// keys, one for text and UUID keys), so membership costs about the same
// for 1 and for 100,000 IDs. It never holds the zero ID, so has(zero) is
// false (NULL matches nothing). It is small, so that a member without
// long lists stays small.
type idSet struct {
	ids   []ID        // a short list; nil for a long one
	large *largeIDSet // a list of more than idSetSmall IDs
}

// largeIDSet is a long list of IDs, indexed. It is kept without a
// pointer per ID, so that the garbage collector has nothing to scan in
// it: a list of integers only as integers (a quarter of the memory of
// IDs), a list with text or UUID keys as [textKeys]. Its IDs are made on
// first use, which only Scope and ApplyEdits have.
type largeIDSet struct {
	ints  intSet
	text  textSet  // the text and UUID keys, by their place in keys
	order []int64  // a list of integers only, in order
	keys  textKeys // a list with text or UUID keys; zero for a list of integers
	made  atomic.Pointer[[]ID]
}

// textKeys is a list of IDs, some of them text or UUID keys, with no
// pointer per ID: the keys' bytes are copied end to end into one string.
type textKeys struct {
	kinds []idKind
	nums  []int64 // the integer keys, 0 for the others; nil if there are none
	ends  []int   // ID i's bytes are bytes[ends[i-1]:ends[i]], from 0 for i = 0
	bytes string
}

// newTextKeys copies ids, whose keys have size bytes in all.
func newTextKeys(ids []ID, size int) textKeys {
	k := textKeys{kinds: make([]idKind, len(ids)), ends: make([]int, len(ids))}
	var b strings.Builder
	b.Grow(size)
	for i := range ids {
		k.kinds[i] = ids[i].kind
		if ids[i].n != 0 {
			if k.nums == nil {
				k.nums = make([]int64, len(ids))
			}
			k.nums[i] = ids[i].n
		}
		b.WriteString(ids[i].s)
		k.ends[i] = b.Len()
	}
	k.bytes = b.String()
	return k
}

// key returns the bytes of ID i: its text, or the 16 bytes of its UUID.
func (k *textKeys) key(i int) string {
	start := 0
	if i > 0 {
		start = k.ends[i-1]
	}
	return k.bytes[start:k.ends[i]]
}

// id returns ID i, sharing k's bytes.
func (k *textKeys) id(i int) ID {
	id := ID{kind: k.kinds[i], s: k.key(i)}
	if k.nums != nil {
		id.n = k.nums[i]
	}
	return id
}

const idSetSmall = 8

// index copies ids into s and indexes them. It returns the index of the
// first ID that is zero or repeats an earlier one (-1 if none): the first
// problem [Access.validate] reports; s is complete only when that is -1.
func (s *idSet) index(ids []ID) int {
	if len(ids) <= idSetSmall {
		s.ids = slices.Clone(ids)
		return firstBadShort(s.ids)
	}
	large, bad := newLargeIDSet(ids) // it keeps nothing of ids
	s.large = large
	if large.keys.kinds != nil || bad >= 0 {
		return bad
	}
	large.order = make([]int64, len(ids))
	for i := range ids {
		large.order[i] = ids[i].n
	}
	return -1
}

// newLargeIDSet indexes ids and returns the index of the first ID that is
// zero or repeats an earlier one (-1 if none). A list with other than
// integer keys is copied ([largeIDSet.keys]); a list of integers is not
// (its caller keeps the order, if it wants it).
func newLargeIDSet(ids []ID) (*largeIDSet, int) {
	var n [4]int // by kind
	size := 0    // of the text and UUID keys
	for i := range ids {
		n[ids[i].kind]++
		size += len(ids[i].s)
	}
	s := &largeIDSet{
		ints: makeIntSet(n[idInt]),
		text: makeTextSet(n[idString] + n[idUUID]),
	}
	if n[idInt] < len(ids) {
		s.keys = newTextKeys(ids, size)
	}
	for i := range ids {
		var added bool
		switch ids[i].kind {
		case idInt:
			added = s.ints.add(ids[i].n)
		case idString, idUUID:
			added = s.text.add(&s.keys, i)
		}
		if !added { // a repeat, or the zero ID
			return s, i
		}
	}
	return s, -1
}

func (s *idSet) has(id ID) bool {
	if s.large == nil {
		for i := range s.ids {
			if s.ids[i].eq(id) {
				return true
			}
		}
		return false
	}
	switch id.kind {
	case idInt:
		return s.large.ints.has(id.n)
	case idString, idUUID:
		return s.large.text.has(&s.large.keys, id)
	}
	return false
}

func (s *idSet) len() int {
	switch {
	case s.large == nil:
		return len(s.ids)
	case s.large.keys.kinds != nil:
		return len(s.large.keys.kinds)
	}
	return len(s.large.order)
}

// list returns the IDs in order; the caller must not modify them.
func (s *idSet) list() []ID {
	if s.large == nil {
		return s.ids
	}
	l := s.large
	if p := l.made.Load(); p != nil {
		return *p
	}
	var ids []ID
	if l.keys.kinds != nil {
		ids = make([]ID, len(l.keys.kinds))
		for i := range ids {
			ids[i] = l.keys.id(i)
		}
	} else {
		ids = make([]ID, len(l.order))
		for i, n := range l.order {
			ids[i] = IntID(n)
		}
	}
	l.made.CompareAndSwap(nil, &ids)
	return *l.made.Load()
}

// intSet is an immutable open-addressing hash set of integers, at most
// half full, with linear probing. The hash is hash/maphash with a seed
// drawn for each set, so IDs crafted to collide (a hostile host user
// choosing instance IDs) cannot be crafted: the expected probe length
// stays short for any input, and a lookup is one hash and usually one or
// two loads. The table has exactly twice as many slots as the set was
// made for; a hash picks its slot by multiplying, not masking, so any
// size works.
type intSet struct {
	slots    []int64 // free slots hold 0, so make clears them
	seed     maphash.Seed
	hasZero  bool // the set holds 0 itself
	nonEmpty bool
}

// makeIntSet returns an empty set with room for n integers.
func makeIntSet(n int) intSet {
	if n == 0 {
		return intSet{}
	}
	return intSet{slots: make([]int64, 2*n), seed: maphash.MakeSeed()}
}

// add inserts k, which must fit (makeIntSet's n), and reports whether it
// was new.
func (s *intSet) add(k int64) bool {
	s.nonEmpty = true
	if k == 0 {
		added := !s.hasZero
		s.hasZero = true
		return added
	}
	for i := s.slot(k); ; {
		switch s.slots[i] {
		case k:
			return false
		case 0:
			s.slots[i] = k
			return true
		}
		if i++; i == len(s.slots) {
			i = 0
		}
	}
}

// slot is where the probe for k starts: the hash scaled to the table.
func (s *intSet) slot(k int64) int {
	hi, _ := bits.Mul64(maphash.Comparable(s.seed, k), uint64(len(s.slots)))
	return int(hi)
}

func (s *intSet) has(k int64) bool {
	if !s.nonEmpty {
		return false
	}
	if k == 0 {
		return s.hasZero
	}
	for i := s.slot(k); ; {
		switch s.slots[i] {
		case k:
			return true
		case 0:
			return false
		}
		if i++; i == len(s.slots) {
			i = 0
		}
	}
}

// textSet indexes the text and UUID keys of a list ([textKeys]) by their
// place in it: an open-addressing table like [intSet]'s (seeded, at most
// half full, linear probing), whose entries are 32 bits of a key's hash
// and its place in the list plus one (0 is a free slot). A probe compares
// the hash bits first, so it reads a key's bytes only for a likely match,
// and the table holds no pointers: nothing for the garbage collector to
// scan and no write barrier while it is built. A list cannot hold 2^32
// IDs (that is 128 GiB of them), so a place fits in 32 bits.
type textSet struct {
	slots []uint64
	seed  maphash.Seed
}

// makeTextSet returns an empty set with room for n keys.
func makeTextSet(n int) textSet {
	if n == 0 {
		return textSet{}
	}
	return textSet{slots: make([]uint64, 2*n), seed: maphash.MakeSeed()}
}

// add inserts ID i of k, a text or UUID key, which must fit (makeTextSet's
// n), and reports whether it was new: whether no ID of k added before is
// the same.
func (s *textSet) add(k *textKeys, i int) bool {
	key := k.key(i)
	h := maphash.String(s.seed, key)
	for j := s.slot(h); ; {
		e := s.slots[j]
		switch {
		case e == 0:
			s.slots[j] = h<<32 | uint64(i+1)
			return true
		case e>>32 == h&0xffffffff && k.kinds[uint32(e)-1] == k.kinds[i] && k.key(int(uint32(e)-1)) == key:
			return false
		}
		if j++; j == len(s.slots) {
			j = 0
		}
	}
}

// slot is where the probe for the hash h starts: h scaled to the table.
// The entries keep the low 32 bits of h, which the scaling hardly uses.
func (s *textSet) slot(h uint64) int {
	hi, _ := bits.Mul64(h, uint64(len(s.slots)))
	return int(hi)
}

// has reports whether id is one of the keys of k that s indexes.
func (s *textSet) has(k *textKeys, id ID) bool {
	if len(s.slots) == 0 {
		return false
	}
	h := maphash.String(s.seed, id.s)
	for j := s.slot(h); ; {
		e := s.slots[j]
		switch {
		case e == 0:
			return false
		case e>>32 == h&0xffffffff && k.kinds[uint32(e)-1] == id.kind && k.key(int(uint32(e)-1)) == id.s:
			return true
		}
		if j++; j == len(s.slots) {
			j = 0
		}
	}
}
