package teamperm_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/teamperm/teamperm"
	"pgregory.net/rapid"
)

// This file checks the engine against the reference model of
// reference_test.go, which was written from the seed's text alone, and
// checks the laws the model must obey whatever its rules say.

// Small pools of IDs make collisions (the member's own ID, the allowed
// instances) likely, and mix the host's key types: 7 and "7" are different
// keys, and so are "ab" and "AB".
var (
	orgPool      = []teamperm.ID{teamperm.IntID(100), teamperm.StringID("100"), teamperm.IntID(101)}
	memberPool   = []teamperm.ID{teamperm.IntID(1), teamperm.IntID(2), teamperm.StringID("1"), teamperm.StringID("ab"), teamperm.StringID("AB"), mustUUID("6ba7b810-9dad-11d1-80b4-00c04fd430c8")}
	instancePool = []teamperm.ID{teamperm.IntID(10), teamperm.IntID(11), teamperm.StringID("10"), teamperm.StringID("it's"), teamperm.StringID("ünï"), mustUUID("6ba7b811-9dad-11d1-80b4-00c04fd430c8")}
	pipelinePool = []teamperm.ID{teamperm.IntID(20), teamperm.IntID(21), teamperm.StringID("sales"), teamperm.StringID("Sales")}
)

func mustUUID(s string) teamperm.ID {
	id, err := teamperm.ParseUUID(s)
	if err != nil {
		panic(err)
	}
	return id
}

func genPermissionSet(t *rapid.T, label string) teamperm.PermissionSet {
	var s teamperm.PermissionSet
	// Sparse sets: each permission with probability about 1/4.
	for p := range teamperm.Permissions() {
		if rapid.IntRange(0, 3).Draw(t, label+p.String()) == 0 {
			s = s.With(p)
		}
	}
	return s
}

func genAccess(t *rapid.T, pool []teamperm.ID, label string) teamperm.Access {
	if rapid.Bool().Draw(t, label+"All") {
		return teamperm.Access{}
	}
	ids := rapid.SliceOfNDistinct(rapid.SampledFrom(pool), 0, len(pool), func(id teamperm.ID) teamperm.ID { return id }).Draw(t, label)
	// Now and then many more IDs, past the compiled member's small-set
	// threshold, so that its indexed form is checked too.
	for i := range rapid.SampledFrom([]int{0, 0, 0, 40}).Draw(t, label+"Filler") {
		ids = append(ids, teamperm.IntID(int64(1_000_000+i)))
	}
	return teamperm.Only(ids...)
}

// genOrg draws an organisation, on Pro half the time (where the most rules
// apply).
func genOrg(t *rapid.T) (teamperm.Organization, teamperm.Plan) {
	plan := rapid.SampledFrom([]teamperm.Plan{teamperm.PlanFree, teamperm.PlanStarter, teamperm.PlanPro, teamperm.PlanPro}).Draw(t, "plan")
	id := rapid.SampledFrom(orgPool).Draw(t, "org")
	return teamperm.Organization{ID: id, Features: plan.Features()}, plan
}

func genSettings(t *rapid.T) teamperm.Settings {
	return teamperm.Settings{
		Member:            rapid.SampledFrom(memberPool).Draw(t, "member"),
		Role:              teamperm.Role(rapid.IntRange(1, 3).Draw(t, "role")),
		Revision:          rapid.Uint64Max(math.MaxUint64-1).Draw(t, "revision"), // the last revision takes no edit
		Grants:            genPermissionSet(t, "grant"),
		Denies:            genPermissionSet(t, "deny"),
		Instances:         genAccess(t, instancePool, "instances"),
		OnlyAssignedChats: rapid.Bool().Draw(t, "onlyAssigned"),
		OnlyCreatedDeals:  rapid.Bool().Draw(t, "onlyCreated"),
		Pipelines:         genAccess(t, pipelinePool, "pipelines"),
	}
}

// genRecord draws a record of any kind (an invalid kind now and then) that
// mostly belongs to org, and whose IDs are often the member's own or among
// its allowed instances and pipelines, so that every rule gets exercised.
func genRecord(t *rapid.T, org teamperm.ID, s teamperm.Settings) teamperm.Record {
	r := teamperm.Record{
		Kind:        teamperm.Kind(rapid.IntRange(0, 9).Draw(t, "kind")),
		Instance:    nearID(t, instancePool, s.Instances.IDs, "instance"),
		Assignee:    nearID(t, memberPool, []teamperm.ID{s.Member}, "assignee"),
		Creator:     nearID(t, memberPool, []teamperm.ID{s.Member}, "creator"),
		CreatorKind: teamperm.CreatorKind(rapid.IntRange(0, 2).Draw(t, "creatorKind")),
		Pipeline:    nearID(t, pipelinePool, s.Pipelines.IDs, "pipeline"),
	}
	// R19: now and then a record on several instances, NULLs and
	// duplicates among them.
	if rapid.IntRange(0, 3).Draw(t, "multiInstance") == 0 {
		var more []teamperm.ID
		for i := range rapid.IntRange(0, 3).Draw(t, "moreInstances") {
			more = append(more, nearID(t, instancePool, s.Instances.IDs, fmt.Sprintf("more%d", i)))
		}
		r.Instances = teamperm.IDSetOf(more...)
		if rapid.Bool().Draw(t, "onlyInstances") {
			r.Instance = teamperm.ID{}
		}
	}
	switch rapid.IntRange(0, 9).Draw(t, "recordOrg") {
	case 0:
		r.Organization = teamperm.ID{}
	case 1:
		r.Organization = rapid.SampledFrom(orgPool).Draw(t, "otherOrg")
	default:
		r.Organization = org
	}
	return r
}

// nearID draws the zero ID (NULL), one of near (the member's own IDs), or
// any ID of pool.
func nearID(t *rapid.T, pool, near []teamperm.ID, label string) teamperm.ID {
	switch rapid.IntRange(0, 3).Draw(t, label+"From") {
	case 0:
		return teamperm.ID{}
	case 1:
		if len(near) > 0 {
			return rapid.SampledFrom(near).Draw(t, label+"Near")
		}
	}
	return rapid.SampledFrom(pool).Draw(t, label)
}

// The adapter to the reference model's plain strings. ID.String is
// injective across key types (42, "42", a UUID), and the zero ID is "".
func refID(id teamperm.ID) string {
	if id.IsZero() {
		return ""
	}
	return id.String()
}

func refIDs(a teamperm.Access) []string {
	var out []string
	for _, id := range a.IDs {
		out = append(out, refID(id))
	}
	return out
}

func refNames(s teamperm.PermissionSet) []string {
	var out []string
	for p := range s.All() {
		out = append(out, p.String())
	}
	return out
}

func toRef(org teamperm.Organization, plan teamperm.Plan, s teamperm.Settings) (refOrg, refMember) {
	return refOrg{ID: refID(org.ID), Plan: plan.String()}, refMember{
		ID:                refID(s.Member),
		Org:               refID(org.ID),
		Role:              refRoleName(s.Role),
		Grants:            refNames(s.Grants),
		Denies:            refNames(s.Denies),
		AllInstances:      s.Instances.IsAll(),
		Instances:         refIDs(s.Instances),
		OnlyAssignedChats: s.OnlyAssignedChats,
		OnlyCreatedDeals:  s.OnlyCreatedDeals,
		AllPipelines:      s.Pipelines.IsAll(),
		Pipelines:         refIDs(s.Pipelines),
	}
}

func refRoleName(r teamperm.Role) string {
	if !r.IsValid() {
		return ""
	}
	return r.String()
}

func toRefRecord(r teamperm.Record) refRecord {
	kind := ""
	if r.Kind.IsValid() {
		kind = r.Kind.String()
	}
	ck := ""
	switch r.CreatorKind {
	case teamperm.CreatorUnknown:
	case teamperm.CreatorMember:
		ck = "member"
	case teamperm.CreatorAutomation:
		ck = "automation"
	default:
		ck = "invalid " + r.CreatorKind.String() // no legacy: matches nothing
	}
	var more []string
	for id := range r.Instances.All() {
		more = append(more, refID(id))
	}
	return refRecord{
		Kind:          kind,
		MoreInstances: more,
		Org:           refID(r.Organization),
		Instance:      refID(r.Instance),
		Assignee:      refID(r.Assignee),
		Creator:       refID(r.Creator),
		CreatorKind:   ck,
		Pipeline:      refID(r.Pipeline),
	}
}

// fataler is what testing.TB and *rapid.T have in common here.
type fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

func mustCompile(t fataler, org teamperm.Organization, s teamperm.Settings) *teamperm.Member {
	t.Helper()
	m, err := teamperm.Compile(org, s)
	if err != nil {
		t.Fatalf("Compile(%v, %+v): %v", org, s, err)
	}
	return m
}

// allPermissions is every permission plus the invalid ones the engine must
// deny: zero and out of range.
func allPermissions() []teamperm.Permission {
	ps := []teamperm.Permission{0, 18, 255}
	for p := range teamperm.Permissions() {
		ps = append(ps, p)
	}
	return ps
}

// TestEngineAgreesWithReference is the main property: on random plans,
// members, settings and records, every decision of the engine is the
// reference model's. Each check evaluates 20 permissions without a record
// and 20 permissions on each of 100 records: about 200,000 decisions a run
// with rapid's default 100 checks.
func TestEngineAgreesWithReference(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		org, plan := genOrg(t)
		s := genSettings(t)
		m := mustCompile(t, org, s)
		ro, rm := toRef(org, plan, s)
		for _, p := range allPermissions() {
			want := refAllowed(ro, rm, refPermName(p))
			if got := m.Evaluate(p); got.Allowed() != want || got.Allowed() != m.Has(p) {
				t.Fatalf("Evaluate(%v) = %v, Has = %v; reference allows: %v", p, got, m.Has(p), want)
			}
		}
		for range 100 {
			r := genRecord(t, org.ID, s)
			rr := toRefRecord(r)
			wantVis := refVisible(ro, rm, rr)
			if got := m.Visible(r); got.Allowed() != wantVis {
				t.Fatalf("Visible(%+v) = %v; reference: %v", r, got, wantVis)
			}
			for _, p := range allPermissions() {
				want := refDecide(ro, rm, refPermName(p), rr)
				if got := m.EvaluateRecord(p, r); got.Outcome().String() != want {
					t.Fatalf("EvaluateRecord(%v, %+v) = %v; reference: %s", p, r, got, want)
				}
			}
		}
	})
}

func refPermName(p teamperm.Permission) string {
	if !p.IsValid() {
		return "?" + p.String()
	}
	return p.String()
}

// decisions evaluates m on every permission, alone and on every record, and
// on the visibility of every record: the member's whole observable
// behaviour on those records.
type decisions struct {
	allowed []bool
	visible []bool
}

func observe(m *teamperm.Member, records []teamperm.Record) decisions {
	var d decisions
	for _, p := range allPermissions() {
		d.allowed = append(d.allowed, m.Evaluate(p).Allowed())
		for _, r := range records {
			d.allowed = append(d.allowed, m.EvaluateRecord(p, r).Allowed())
		}
	}
	for _, r := range records {
		d.visible = append(d.visible, m.Visible(r).Allowed())
	}
	return d
}

// wider reports whether everything allowed or visible in a is allowed or
// visible in b.
func wider(a, b decisions) bool {
	for i := range a.allowed {
		if a.allowed[i] && !b.allowed[i] {
			return false
		}
	}
	for i := range a.visible {
		if a.visible[i] && !b.visible[i] {
			return false
		}
	}
	return true
}

func genRecords(t *rapid.T, org teamperm.ID, s teamperm.Settings) []teamperm.Record {
	rs := make([]teamperm.Record, 24)
	for i := range rs {
		rs[i] = genRecord(t, org, s)
	}
	return rs
}

// TestMonotonic checks the laws of R4..R11 on random settings: a grant or a
// wider set never takes access away; a deny, a restriction or a toggle never
// adds any.
func TestMonotonic(t *testing.T) {
	type change struct {
		name  string
		apply func(t *rapid.T, s *teamperm.Settings)
		wider bool // the change may only add access (else: only remove it)
	}
	changes := []change{
		{"grant", func(t *rapid.T, s *teamperm.Settings) {
			s.Grants = s.Grants.With(rapid.SampledFrom(allPermissions()[3:]).Draw(t, "p"))
		}, true},
		{"deny", func(t *rapid.T, s *teamperm.Settings) {
			s.Denies = s.Denies.With(rapid.SampledFrom(allPermissions()[3:]).Draw(t, "p"))
		}, false},
		{"restrict instances", func(t *rapid.T, s *teamperm.Settings) {
			if s.Instances.IsAll() {
				s.Instances = genAccess(t, instancePool, "newInstances")
			} else if n := len(s.Instances.IDs); n > 0 {
				s.Instances.IDs = s.Instances.IDs[:rapid.IntRange(0, n-1).Draw(t, "keep")]
			}
		}, false},
		{"widen instances", func(t *rapid.T, s *teamperm.Settings) {
			widen(t, &s.Instances, instancePool)
		}, true},
		{"restrict pipelines", func(t *rapid.T, s *teamperm.Settings) {
			if s.Pipelines.IsAll() {
				s.Pipelines = genAccess(t, pipelinePool, "newPipelines")
			} else if n := len(s.Pipelines.IDs); n > 0 {
				s.Pipelines.IDs = s.Pipelines.IDs[:rapid.IntRange(0, n-1).Draw(t, "keep")]
			}
		}, false},
		{"widen pipelines", func(t *rapid.T, s *teamperm.Settings) {
			widen(t, &s.Pipelines, pipelinePool)
		}, true},
		{"only assigned chats", func(t *rapid.T, s *teamperm.Settings) { s.OnlyAssignedChats = true }, false},
		{"only created deals", func(t *rapid.T, s *teamperm.Settings) { s.OnlyCreatedDeals = true }, false},
	}
	for _, c := range changes {
		t.Run(c.name, func(t *testing.T) {
			rapid.Check(t, func(t *rapid.T) {
				org, _ := genOrg(t)
				s := genSettings(t)
				records := genRecords(t, org.ID, s)
				before := observe(mustCompile(t, org, s), records)
				s2 := s
				s2.Instances.IDs = append([]teamperm.ID(nil), s.Instances.IDs...)
				s2.Pipelines.IDs = append([]teamperm.ID(nil), s.Pipelines.IDs...)
				c.apply(t, &s2)
				after := observe(mustCompile(t, org, s2), records)
				if c.wider && !wider(before, after) {
					t.Fatalf("%s took access away: %+v -> %+v", c.name, s, s2)
				}
				if !c.wider && !wider(after, before) {
					t.Fatalf("%s added access: %+v -> %+v", c.name, s, s2)
				}
			})
		})
	}
}

// widen adds a new ID of pool to a specific access, or makes it all.
func widen(t *rapid.T, a *teamperm.Access, pool []teamperm.ID) {
	if a.IsAll() {
		return
	}
	if rapid.IntRange(0, 4).Draw(t, "toAll") == 0 {
		*a = teamperm.Access{}
		return
	}
	for _, id := range pool {
		if !a.Contains(id) {
			a.IDs = append(a.IDs, id)
			return
		}
	}
}

// TestPlanWithoutFineGrainedIgnoresSettings: on Free and Starter the
// effective permissions are exactly the role defaults, and the member sees
// exactly what a member with no stored settings sees (R4).
func TestPlanWithoutFineGrainedIgnoresSettings(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		plan := teamperm.Plan(rapid.IntRange(0, 1).Draw(t, "plan"))
		org := teamperm.Organization{ID: rapid.SampledFrom(orgPool).Draw(t, "org"), Features: plan.Features()}
		s := genSettings(t)
		m := mustCompile(t, org, s)
		if got, want := m.Permissions(), s.Role.Defaults(); got != want {
			t.Fatalf("on %v: permissions %v, want role defaults %v", plan, got, want)
		}
		plain := mustCompile(t, org, teamperm.Settings{Member: s.Member, Role: s.Role})
		records := genRecords(t, org.ID, s)
		if a, b := observe(m, records), observe(plain, records); !wider(a, b) || !wider(b, a) {
			t.Fatalf("on %v: stored settings %+v changed what the member sees", plan, s)
		}
		// The settings are kept: the same settings on Pro may differ.
		if m.HonoursSettings() {
			t.Fatalf("on %v: HonoursSettings() = true", plan)
		}
	})
}

// TestOwnerHasEverything: an Owner holds every permission and sees every
// valid record of the organisation, whatever is stored (R5).
func TestOwnerHasEverything(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		org, _ := genOrg(t)
		s := genSettings(t)
		s.Role = teamperm.RoleOwner
		m := mustCompile(t, org, s)
		if m.Permissions() != teamperm.AllPermissions() {
			t.Fatalf("owner permissions = %v", m.Permissions())
		}
		r := genRecord(t, org.ID, s)
		d := m.Visible(r)
		want := r.Kind.IsValid() && r.Organization == org.ID
		if d.Allowed() != want {
			t.Fatalf("owner Visible(%+v) = %v, want allowed=%v", r, d, want)
		}
		if want && d.Reason() != teamperm.ReasonOwner {
			t.Fatalf("owner Visible reason = %v", d.Reason())
		}
	})
}

// TestReasonsAreConsistent: the reason a decision names is one that can
// have decided it.
func TestReasonsAreConsistent(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		org, _ := genOrg(t)
		s := genSettings(t)
		m := mustCompile(t, org, s)
		r := genRecord(t, org.ID, s)
		for _, p := range allPermissions() {
			d := m.EvaluateRecord(p, r)
			if d.Revision() != s.Revision || d.Member() != s.Member || d.Permission() != p || d.Kind() != r.Kind {
				t.Fatalf("decision %v does not report what was asked", d)
			}
			switch d.Reason() {
			case teamperm.ReasonOverrideGrant:
				if !d.Allowed() || !s.Grants.Has(p) || !m.HonoursSettings() {
					t.Fatalf("%v: override grant without a grant of %v", d, p)
				}
			case teamperm.ReasonOverrideDeny:
				if d.Allowed() || !m.HonoursSettings() {
					t.Fatalf("%v: override deny that allows, or on a plan ignoring settings", d)
				}
			case teamperm.ReasonOwner:
				if s.Role != teamperm.RoleOwner {
					t.Fatalf("%v: reason owner for a %v", d, s.Role)
				}
			case teamperm.ReasonInstanceRestricted, teamperm.ReasonNotAssigned, teamperm.ReasonNotCreator,
				teamperm.ReasonPipeline, teamperm.ReasonOtherOrganization:
				if d.Outcome() != teamperm.OutcomeNotFound {
					t.Fatalf("%v: a visibility reason on a visible record", d)
				}
			case teamperm.ReasonNone:
				t.Fatalf("%v: no reason", d)
			}
			// On a plan without FineGrained, an allowing decision that the
			// same settings would deny on Pro says the plan ignored them.
			if !m.HonoursSettings() && s.Role != teamperm.RoleOwner && p.IsValid() && d.Allowed() {
				pro := mustCompile(t, teamperm.Organization{ID: org.ID, Features: teamperm.FineGrained}, s)
				if dp := pro.EvaluateRecord(p, r); !dp.Allowed() && d.Reason() != teamperm.ReasonPlanIgnoresSettings {
					t.Fatalf("%v: Pro would decide %v, but the reason is not plan_ignores_settings", d, dp)
				}
			}
			// A forbidden decision is the permission's own.
			if d.Outcome() == teamperm.OutcomeForbidden && d.DecidedBy() != p {
				t.Fatalf("%v: forbidden, decided by %v", d, d.DecidedBy())
			}
			if err := d.Err(); (err == nil) != d.Allowed() {
				t.Fatalf("%v: Err() = %v", d, err)
			}
		}
	})
}

// TestScopeAgreesWithVisible: for every random member and record, the
// member's scope of the record's kind, matched in memory, says what
// Visible says, and both say what the reference model says. A scope never
// matches a record of another kind.
func TestScopeAgreesWithVisible(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		org, plan := genOrg(t)
		s := genSettings(t)
		m := mustCompile(t, org, s)
		ro, rm := toRef(org, plan, s)
		for range 100 {
			r := genRecord(t, org.ID, s)
			want := refVisible(ro, rm, toRefRecord(r))
			if got := m.Visible(r).Allowed(); got != want {
				t.Fatalf("Visible(%+v) = %v, reference %v", r, got, want)
			}
			sc := m.Scope(r.Kind)
			if got := sc.Match(&r); got != want {
				t.Fatalf("Scope(%v) = %v; Match(%+v) = %v, reference %v", r.Kind, sc, r, got, want)
			}
			if got := teamperm.Match(sc.Tree(), &r) && r.Kind == sc.Kind(); got != want {
				t.Fatalf("Match(Tree %v, %+v) = %v, reference %v", sc.Tree(), r, got, want)
			}
			for k := range teamperm.Kinds() {
				if k != r.Kind && m.Scope(k).Match(&r) {
					t.Fatalf("Scope(%v) matches a record of kind %v", k, r.Kind)
				}
			}
		}
	})
}
