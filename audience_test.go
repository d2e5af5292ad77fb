package teamperm_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/teamperm/teamperm"
	"pgregory.net/rapid"
)

// TestAudienceAgreesWithEvaluateRecord: over random teams (every role,
// restriction and plan, invitees left out since they do not compile) and
// random records (every kind, NULLs, records on several instances, other
// organisations), the audience of (p, r) is exactly the set of members
// whose EvaluateRecord(p, r) allows, each with that very decision, once;
// and for p = 0, exactly those whose Visible(r) allows.
func TestAudienceAgreesWithEvaluateRecord(t *testing.T) {
	var asked, nonEmpty, multi int
	rapid.Check(t, func(t *rapid.T) {
		org, _ := genOrg(t)
		var members []*teamperm.Member
		var settings []teamperm.Settings
		for _, id := range memberPool[:rapid.IntRange(1, len(memberPool)).Draw(t, "size")] {
			s := genSettings(t)
			s.Member = id
			settings = append(settings, s)
			members = append(members, mustCompile(t, org, s))
		}
		a, err := teamperm.NewAudience(members...)
		if err != nil {
			t.Fatal(err)
		}
		for range 20 {
			r := genRecord(t, org.ID, rapid.SampledFrom(settings).Draw(t, "near"))
			if r.Instances.Len() > 1 {
				multi++
			}
			for _, p := range append(allPermissions(), 0) {
				got := a.Append(nil, p, r)
				var want []teamperm.Decision
				for _, m := range members {
					d := m.EvaluateRecord(p, r)
					if p == 0 {
						d = m.Visible(r)
					}
					if d.Allowed() {
						want = append(want, d)
					}
				}
				asked++
				if len(got) > 0 {
					nonEmpty++
				}
				if !sameDecisions(got, want) {
					t.Fatalf("Audience(%v, %+v) = %v\nwant %v", p, r, got, want)
				}
			}
		}
	})
	t.Logf("%d questions, %d with a non-empty audience, %d records on several instances", asked, nonEmpty, multi)
}

// sameDecisions reports whether a and b hold the same decisions, each
// once, in any order.
func sameDecisions(a, b []teamperm.Decision) bool {
	if len(a) != len(b) {
		return false
	}
	count := map[teamperm.Decision]int{}
	for _, d := range a {
		count[d]++
	}
	for _, d := range b {
		count[d]--
	}
	for _, n := range count {
		if n != 0 {
			return false
		}
	}
	return true
}

func TestNewAudienceRefuses(t *testing.T) {
	pro := teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.FineGrained}
	starter := teamperm.Organization{ID: teamperm.IntID(1), Revision: 1}
	a := mustCompile(t, pro, teamperm.Settings{Member: teamperm.IntID(2), Role: teamperm.RoleMember})
	b := mustCompile(t, starter, teamperm.Settings{Member: teamperm.IntID(3), Role: teamperm.RoleMember})
	for _, tc := range []struct {
		name    string
		members []*teamperm.Member
		want    error
	}{
		{"nil member", []*teamperm.Member{a, nil}, teamperm.ErrInvalidID},
		{"zero member", []*teamperm.Member{{}}, teamperm.ErrInvalidID},
		{"twice", []*teamperm.Member{a, a}, teamperm.ErrInvalidID},
		{"two organisation states", []*teamperm.Member{a, b}, teamperm.ErrStaleMember},
	} {
		if _, err := teamperm.NewAudience(tc.members...); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	var none *teamperm.Audience
	if got := none.Append(nil, teamperm.ChatView, teamperm.Record{Kind: teamperm.KindContact, Organization: pro.ID}); len(got) != 0 || none.Len() != 0 {
		t.Errorf("nil Audience: %v", got)
	}
}

// audienceTeam is a team of n members as a large inbox has it: two owners,
// ten admins, and agents, half of them limited to their assigned chats and
// half to one of n/100 instances (so that about fifty agents share an
// instance, whatever n), and a conversation of that inbox.
func audienceTeam(tb testing.TB, n int) (*teamperm.Audience, teamperm.Record) {
	org := teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.FineGrained}
	instances := max(1, n/100)
	var members []*teamperm.Member
	for i := range n {
		s := teamperm.Settings{Member: teamperm.IntID(int64(1000 + i)), Role: teamperm.RoleMember}
		switch {
		case i < 2:
			s.Role = teamperm.RoleOwner
		case i < 12:
			s.Role = teamperm.RoleAdmin
		case i%2 == 0:
			s.OnlyAssignedChats = true
		default:
			s.Instances = teamperm.Only(teamperm.IntID(int64((i / 2) % instances)))
		}
		members = append(members, mustCompile(tb, org, s))
	}
	a, err := teamperm.NewAudience(members...)
	if err != nil {
		tb.Fatal(err)
	}
	return a, teamperm.Record{Kind: teamperm.KindMessage, Organization: org.ID, Instance: teamperm.IntID(0), Assignee: teamperm.IntID(1014)}
}

func TestAudienceAllocs(t *testing.T) {
	a, r := audienceTeam(t, 1000)
	buf := make([]teamperm.Decision, 0, 1000)
	var n int
	if allocs := testing.AllocsPerRun(100, func() { n = len(a.Append(buf[:0], teamperm.ChatView, r)) }); allocs != 0 {
		t.Errorf("Append allocates %v times", allocs)
	}
	if n < 12 {
		t.Errorf("audience of %d, want the owners, admins and agents", n)
	}
}

// BenchmarkAudience: who may see a new message, in inboxes of 10, 1,000
// and 100,000 members, into a caller's buffer. It grows with the audience
// (owners, admins, the assignee, the agents of the message's instance),
// not with the team.
func BenchmarkAudience(b *testing.B) {
	for _, n := range []int{10, 1000, 100_000} {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			a, r := audienceTeam(b, n)
			buf := make([]teamperm.Decision, 0, n)
			b.ReportAllocs()
			var got int
			for b.Loop() {
				got = len(a.Append(buf[:0], teamperm.ChatView, r))
			}
			b.ReportMetric(float64(got), "audience")
		})
	}
}

// BenchmarkAudienceLoop is the loop Audience replaces: EvaluateRecord for
// every member.
func BenchmarkAudienceLoop(b *testing.B) {
	for _, n := range []int{10, 1000} {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			a, r := audienceTeam(b, n)
			members := a.Members()
			buf := make([]teamperm.Decision, 0, n)
			b.ReportAllocs()
			for b.Loop() {
				buf = buf[:0]
				for _, m := range members {
					if d := m.EvaluateRecord(teamperm.ChatView, r); d.Allowed() {
						buf = append(buf, d)
					}
				}
			}
		})
	}
}

// TestAudienceExhaustive: the seed's six setups, owners and restricted
// admins, on Pro and on Starter, against every record over their IDs
// (NULLs, records on two instances, automation and legacy deals), for
// every permission and for visibility.
func TestAudienceExhaustive(t *testing.T) {
	id := teamperm.IntID
	team := []teamperm.Settings{
		{Member: id(1), Role: teamperm.RoleOwner},
		{Member: id(2), Role: teamperm.RoleAdmin, Instances: teamperm.Only(id(10)), OnlyAssignedChats: true},
		{Member: id(3), Role: teamperm.RoleAdmin, Denies: teamperm.PermissionSetOf(teamperm.ChatView)},
		teamperm.SupportAgent(id(4), teamperm.Only(id(10), id(11))),
		teamperm.MultiBrandManager(id(5), teamperm.RoleMember, id(11)),
		teamperm.MarketingTeamMember(id(6), true),
		teamperm.ViewOnlySupervisor(id(7)),
		teamperm.ExternalContractor(id(8), id(12)),
		teamperm.SalesRepresentative(id(9), id(20)),
		{Member: id(13), Role: teamperm.RoleMember, OnlyCreatedDeals: true},
		{Member: id(14), Role: teamperm.RoleMember, Pipelines: teamperm.Only(id(20), id(21))},
	}
	instances := []teamperm.ID{{}, id(10), id(11), id(12), id(99)}
	people := []teamperm.ID{{}, id(2), id(4), id(8), id(9), id(13), id(99)}
	records := exhaustiveRecords(id(100), instances, people, []teamperm.ID{{}, id(20), id(21), id(99)})
	for _, a := range instances[1:] {
		for _, b := range instances[1:] {
			for _, who := range people {
				records = append(records, teamperm.Record{Kind: teamperm.KindConversation, Organization: id(100), Instance: a, Instances: teamperm.IDSetOf(a, b), Assignee: who},
					teamperm.Record{Kind: teamperm.KindContact, Organization: id(100), Instances: teamperm.IDSetOf(a, b, teamperm.ID{})})
			}
		}
	}
	for _, plan := range []teamperm.Plan{teamperm.PlanPro, teamperm.PlanStarter} {
		org := teamperm.Organization{ID: id(100), Features: plan.Features()}
		var members []*teamperm.Member
		for _, s := range team {
			members = append(members, mustCompile(t, org, s))
		}
		a, err := teamperm.NewAudience(members...)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range records {
			for _, p := range append(allPermissions(), 0) {
				var want []teamperm.Decision
				for _, m := range members {
					d := m.EvaluateRecord(p, r)
					if p == 0 {
						d = m.Visible(r)
					}
					if d.Allowed() {
						want = append(want, d)
					}
				}
				if got := a.Append(nil, p, r); !sameDecisions(got, want) {
					t.Fatalf("%v: Audience(%v, %+v) = %v\nwant %v", plan, p, r, got, want)
				}
			}
		}
	}
}
