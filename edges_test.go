package teamperm_test

import (
	"slices"
	"testing"

	"github.com/teamperm/teamperm"
	"pgregory.net/rapid"
)

// TestImpactMirror: Impact is symmetric. Undoing a change reverses its
// impact exactly: members added become removed, gains become losses,
// widened kinds narrowed, settings that start applying stop applying; and
// a member added gains exactly its permissions and widens exactly the
// kinds of which it sees some record.
func TestImpactMirror(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		org, _ := genOrg(t)
		orgAfter := org
		if rapid.Bool().Draw(t, "planChange") {
			orgAfter.Features ^= teamperm.FineGrained
		}
		var before, after []teamperm.Settings
		for i := range rapid.IntRange(0, 4).Draw(t, "size") {
			s := genSettings(t)
			s.Member = memberPool[i]
			switch rapid.IntRange(0, 3).Draw(t, "presence") {
			case 0: // removed
				before = append(before, s)
			case 1: // added
				after = append(after, s)
			default: // kept, perhaps edited
				before = append(before, s)
				next := cloneSettings(s)
				if rapid.Bool().Draw(t, "edit") {
					for _, e := range rapid.SliceOfN(rapid.Custom(genEdit), 1, 2).Draw(t, "edits") {
						next = applyForTest(next, e)
					}
				}
				after = append(after, next)
			}
		}
		b := teamperm.Team{Organization: org, Members: before}
		a := teamperm.Team{Organization: orgAfter, Members: after}
		forward, err := teamperm.Impact(b, a)
		if err != nil {
			t.Fatal(err)
		}
		backward, err := teamperm.Impact(a, b)
		if err != nil {
			t.Fatal(err)
		}
		if len(forward) != len(backward) {
			t.Fatalf("Impact(b, a) has %d members, Impact(a, b) %d:\n%+v\n%+v", len(forward), len(backward), forward, backward)
		}
		for _, f := range forward {
			i := slices.IndexFunc(backward, func(mi teamperm.MemberImpact) bool { return mi.Member == f.Member })
			if i < 0 {
				t.Fatalf("member %v in Impact(b, a) only: %+v", f.Member, f)
			}
			g := backward[i]
			if f.Added != g.Removed || f.Removed != g.Added || f.Gained != g.Lost || f.Lost != g.Gained ||
				!slices.Equal(f.Widened, g.Narrowed) || !slices.Equal(f.Narrowed, g.Widened) ||
				!slices.Equal(f.StartApplying, g.StopApplying) || !slices.Equal(f.StopApplying, g.StartApplying) {
				t.Fatalf("member %v: Impact(b, a) = %+v, Impact(a, b) = %+v: not mirrored", f.Member, f, g)
			}
			if f.IsEmpty() {
				t.Fatalf("member %v: an empty impact is listed", f.Member)
			}
		}
		for _, s := range after {
			if slices.ContainsFunc(before, func(x teamperm.Settings) bool { return x.Member == s.Member }) {
				continue
			}
			i := slices.IndexFunc(forward, func(mi teamperm.MemberImpact) bool { return mi.Member == s.Member })
			if i < 0 {
				t.Fatalf("added member %v is not in the impact", s.Member)
			}
			checkAdded(t, orgAfter, s, forward[i])
		}
	})
}

// checkAdded checks the impact of adding s: Added, every permission gained,
// and exactly the kinds of which it sees some record widened.
func checkAdded(t *rapid.T, org teamperm.Organization, s teamperm.Settings, mi teamperm.MemberImpact) {
	m := mustCompile(t, org, s)
	if !mi.Added || mi.Removed || mi.Gained != m.Permissions() || !mi.Lost.IsEmpty() || len(mi.Narrowed) != 0 {
		t.Fatalf("added member %v: impact %+v, permissions %v", s.Member, mi, m.Permissions())
	}
	instances := append([]teamperm.ID{{}, teamperm.StringID("elsewhere")}, s.Instances.IDs...)
	pipes := append([]teamperm.ID{{}, teamperm.StringID("elsewhere")}, s.Pipelines.IDs...)
	records := exhaustiveRecords(org.ID, instances, []teamperm.ID{{}, s.Member, teamperm.StringID("someone else")}, pipes)
	var want []teamperm.Kind
	for k := range teamperm.Kinds() {
		if slices.ContainsFunc(records, func(r teamperm.Record) bool { return r.Kind == k && m.Visible(r).Allowed() }) {
			want = append(want, k)
		}
	}
	if !slices.Equal(mi.Widened, want) {
		t.Fatalf("added member %v: widened %v, sees records of %v", s.Member, mi.Widened, want)
	}
}

// TestImpactEmptySets: a specific but empty set of pipelines or instances
// hides every record it restricts; opening it widens, closing it narrows.
func TestImpactEmptySets(t *testing.T) {
	pro := teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.FineGrained}
	me := teamperm.IntID(2)
	p1 := teamperm.IntID(10)
	tests := []struct {
		name          string
		before, after teamperm.Settings
		widened       []teamperm.Kind
	}{
		{"pipelines none to all", teamperm.Settings{Member: me, Role: teamperm.RoleMember, Pipelines: teamperm.Only()}, teamperm.Settings{Member: me, Role: teamperm.RoleMember}, []teamperm.Kind{teamperm.KindDeal}},
		{"pipelines none to one", teamperm.Settings{Member: me, Role: teamperm.RoleMember, Pipelines: teamperm.Only()}, teamperm.Settings{Member: me, Role: teamperm.RoleMember, Pipelines: teamperm.Only(p1)}, []teamperm.Kind{teamperm.KindDeal}},
		{"instances none to all", teamperm.Settings{Member: me, Role: teamperm.RoleAdmin, Instances: teamperm.Only()}, teamperm.Settings{Member: me, Role: teamperm.RoleAdmin},
			[]teamperm.Kind{teamperm.KindContact, teamperm.KindConversation, teamperm.KindMessage, teamperm.KindInstance, teamperm.KindCampaign, teamperm.KindWebhook}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := teamperm.Impact(teamperm.Team{Organization: pro, Members: []teamperm.Settings{tt.before}}, teamperm.Team{Organization: pro, Members: []teamperm.Settings{tt.after}})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || !slices.Equal(got[0].Widened, tt.widened) || len(got[0].Narrowed) != 0 {
				t.Fatalf("Impact = %+v, want widened %v", got, tt.widened)
			}
			back, err := teamperm.Impact(teamperm.Team{Organization: pro, Members: []teamperm.Settings{tt.after}}, teamperm.Team{Organization: pro, Members: []teamperm.Settings{tt.before}})
			if err != nil {
				t.Fatal(err)
			}
			if len(back) != 1 || !slices.Equal(back[0].Narrowed, tt.widened) || len(back[0].Widened) != 0 {
				t.Fatalf("reverse Impact = %+v, want narrowed %v", back, tt.widened)
			}
		})
	}
	// An upgrade: the stored settings start applying.
	s := teamperm.Settings{Member: me, Role: teamperm.RoleMember, OnlyAssignedChats: true, Pipelines: teamperm.Only()}
	starter := teamperm.Organization{ID: pro.ID, Features: teamperm.PlanStarter.Features()}
	got, err := teamperm.Impact(teamperm.Team{Organization: starter, Members: []teamperm.Settings{s}}, teamperm.Team{Organization: pro, Members: []teamperm.Settings{s}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || len(got[0].StartApplying) != 2 || len(got[0].StopApplying) != 0 || !slices.Contains(got[0].Narrowed, teamperm.KindDeal) || !slices.Contains(got[0].Narrowed, teamperm.KindConversation) {
		t.Fatalf("upgrade Impact = %+v, want two settings starting to apply, conversations and deals narrowed", got)
	}
}

// TestScopeIsNoneIsAll: IsNone is true exactly when the member may not list
// the kind (R13) or an empty set hides every record; then no record
// matches. IsAll holds only when every record of the kind in the
// organisation matches.
func TestScopeIsNoneIsAll(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		org, _ := genOrg(t)
		s := genSettings(t)
		m := mustCompile(t, org, s)
		records := exhaustiveRecords(org.ID, append([]teamperm.ID{{}}, instancePool...), append([]teamperm.ID{{}}, memberPool...), append([]teamperm.ID{{}}, pipelinePool...))
		for k := range teamperm.Kinds() {
			sc := m.Scope(k)
			some, all := false, true
			for _, r := range records {
				if r.Kind != k {
					continue
				}
				ok := sc.Match(&r)
				some = some || ok
				all = all && ok
			}
			if sc.IsNone() && some {
				t.Fatalf("%v: IsNone but some record matches", sc)
			}
			if sc.IsAll() && !all {
				t.Fatalf("%v: IsAll but some record does not match", sc)
			}
			if sc.IsNone() && sc.IsAll() {
				t.Fatalf("%v: both IsNone and IsAll", sc)
			}
			if p, ok := k.ViewPermission(); ok && !m.Has(p) && !sc.IsNone() {
				t.Fatalf("%v: the member lacks %v but the scope is not none", sc, p)
			}
			if !some && !sc.IsNone() && len(sc.Fields()) == 1 {
				t.Fatalf("%v: matches nothing on the organisation alone but is not none", sc)
			}
			if all && !sc.IsAll() && len(sc.Fields()) <= 1 {
				t.Fatalf("%v: matches everything but is not all", sc)
			}
		}
	})
}

// TestAudienceOrganization: an Audience reports the organisation state its
// members were compiled for; nil and an empty Audience report none.
func TestAudienceOrganization(t *testing.T) {
	org := teamperm.Organization{ID: teamperm.IntID(3), Features: teamperm.FineGrained, Revision: 7}
	a, err := teamperm.NewAudience(mustCompile(t, org, teamperm.Settings{Member: teamperm.IntID(1), Role: teamperm.RoleMember}))
	if err != nil {
		t.Fatal(err)
	}
	if got := a.Organization(); got != org {
		t.Errorf("Organization() = %+v, want %+v", got, org)
	}
	if got := (*teamperm.Audience)(nil).Organization(); got != (teamperm.Organization{}) {
		t.Errorf("nil Audience: Organization() = %+v", got)
	}
	empty, err := teamperm.NewAudience()
	if err != nil {
		t.Fatal(err)
	}
	if got := empty.Organization(); got != (teamperm.Organization{}) {
		t.Errorf("empty Audience: Organization() = %+v", got)
	}
}

// TestAuditInstanceIsolation: the finding is about organisations with
// several instances; with one instance there is nothing to isolate.
func TestAuditInstanceIsolation(t *testing.T) {
	pro := teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.FineGrained}
	s := teamperm.Settings{Member: teamperm.IntID(2), Role: teamperm.RoleMember}
	for n, want := range map[int]bool{0: false, 1: false, 2: true, 3: true} {
		var insts []teamperm.ID
		for i := range n {
			insts = append(insts, teamperm.IntID(int64(100+i)))
		}
		findings, err := teamperm.Audit(teamperm.Team{Organization: pro, Members: []teamperm.Settings{s}, Instances: insts})
		if err != nil {
			t.Fatal(err)
		}
		got := slices.ContainsFunc(findings, func(f teamperm.Finding) bool { return f.Consideration == teamperm.InstanceIsolation })
		if got != want {
			t.Errorf("%d instances: instance isolation finding %v, want %v", n, got, want)
		}
	}
}
