package bench

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/cedar-policy/cedar-go"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/teamperm/teamperm"
)

// The benchmarks of the cases, each engine on the same inputs:
//
//  1. BenchmarkCheck/case=1-role-defaults: a permission check for a member
//     with the role defaults;
//  2. BenchmarkCheck/case=2-three-overrides: the same for a member with
//     three overrides (two grants, one deny);
//  3. BenchmarkCheck/case=3-conversation: a conversation check for that
//     member, restricted to three instances and to assigned chats;
//  4. BenchmarkCheck/case=4-population: random (member, permission) pairs
//     over 1,000 members in 10 organisations;
//  5. BenchmarkRowFilter: the member's row filter for conversations;
//  6. BenchmarkCompileEvaluate: a request that compiles the member from
//     its stored settings and checks once.
//
// Every engine is loaded with the same population, every request is built
// before the timed loop, and every benchmark checks its answer against
// teamperm's before timing.

// Members of the benchmark population with fixed settings, in the Pro
// organisation pop.Orgs[0] (ID 1, instances 101..105).
var (
	defaultsSettings  = teamperm.Settings{Member: teamperm.IntID(1), Role: teamperm.RoleMember, Revision: 1}
	overridesSettings = teamperm.Settings{
		Member:            teamperm.IntID(2),
		Role:              teamperm.RoleMember,
		Revision:          7,
		Grants:            teamperm.PermissionSetOf(teamperm.ChatAssign, teamperm.ContactExport),
		Denies:            teamperm.PermissionSetOf(teamperm.ChatSend),
		Instances:         teamperm.Only(teamperm.IntID(101), teamperm.IntID(102), teamperm.IntID(103)),
		OnlyAssignedChats: true,
	}
	// overridesConversation is assigned to the overrides member, on the
	// last of its instances.
	overridesConversation = Conversation{Org: 1, Instance: 103, Assignee: 2}
)

// benchPopulation is the population of the benchmarks: 1,000 members in
// 10 organisations, the last two of them the members with fixed settings.
func benchPopulation(t testing.TB) *Population {
	t.Helper()
	pop, err := NewPopulation(10, 998, 6)
	if err != nil {
		t.Fatal(err)
	}
	if pop.Orgs[0].Plan != teamperm.PlanPro || pop.Orgs[0].ID != 1 {
		t.Fatal("organisation 1 is not on Pro")
	}
	for _, s := range []teamperm.Settings{defaultsSettings, overridesSettings} {
		if err := pop.Add(0, s); err != nil {
			t.Fatal(err)
		}
	}
	return pop
}

// fixture is what the benchmarks share: built once per process.
type fixture struct {
	pop                 *Population
	defaults, overrides int // indexes into pop.Members
	pairs               []Case
	casbin              *Casbin
	cedar               *Cedar
	opa                 *OPA
}

var (
	fixtureOnce sync.Once
	theFixture  *fixture
)

func getFixture(b *testing.B) *fixture {
	b.Helper()
	fixtureOnce.Do(func() {
		pop := benchPopulation(b)
		f := &fixture{pop: pop, defaults: len(pop.Members) - 2, overrides: len(pop.Members) - 1}
		f.pairs = pop.RandomCases(4096, 9)
		var err error
		if f.casbin, err = NewCasbin(pop); err != nil {
			b.Fatal(err)
		}
		if f.cedar, err = NewCedar(pop); err != nil {
			b.Fatal(err)
		}
		if f.opa, err = NewOPA(context.Background(), pop); err != nil {
			b.Fatal(err)
		}
		theFixture = f
	})
	if theFixture == nil {
		b.Fatal("no fixture")
	}
	return theFixture
}

// checkAllowed fails b unless got is teamperm's decision for member m and
// permission p.
func (f *fixture) checkAllowed(b *testing.B, name string, m int, p teamperm.Permission, got bool, err error) {
	b.Helper()
	want := f.pop.Members[m].Compiled.Evaluate(p).Allowed()
	if err != nil || got != want {
		b.Fatalf("%s: member %d %s: %v, %v; teamperm %v", name, m, p, got, err, want)
	}
}

func (f *fixture) checkOutcome(b *testing.B, name string, m int, p teamperm.Permission, c Conversation, got teamperm.Outcome, err error) {
	b.Helper()
	want := f.pop.Members[m].Compiled.EvaluateRecord(p, c.Record()).Outcome()
	if err != nil || got != want {
		b.Fatalf("%s: member %d %s on %+v: %v, %v; teamperm %v", name, m, p, c, got, err, want)
	}
}

func BenchmarkCheck(b *testing.B) {
	f := getFixture(b)
	ctx := context.Background()
	for _, c := range []struct {
		name   string
		member int
		p      teamperm.Permission
	}{
		{"case=1-role-defaults", f.defaults, teamperm.ContactExport},
		{"case=2-three-overrides", f.overrides, teamperm.ContactExport},
	} {
		b.Run(c.name+"/engine=teamperm", func(b *testing.B) {
			m := f.pop.Members[c.member].Compiled
			d := m.Evaluate(c.p)
			f.checkAllowed(b, "teamperm", c.member, c.p, d.Allowed(), nil)
			b.ReportAllocs()
			for b.Loop() {
				_ = m.Evaluate(c.p)
			}
		})
		b.Run(c.name+"/engine=casbin", func(b *testing.B) {
			req := f.casbin.PermissionRequest(c.member, c.p)
			ok, err := f.casbin.Allowed(req)
			f.checkAllowed(b, "casbin", c.member, c.p, ok, err)
			b.ReportAllocs()
			for b.Loop() {
				_, _ = f.casbin.Allowed(req)
			}
		})
		b.Run(c.name+"/engine=cedar", func(b *testing.B) {
			req := f.cedar.PermissionRequest(c.member, c.p)
			f.checkAllowed(b, "cedar", c.member, c.p, f.cedar.Allowed(req), nil)
			b.ReportAllocs()
			for b.Loop() {
				_ = f.cedar.Allowed(req)
			}
		})
		b.Run(c.name+"/engine=opa", func(b *testing.B) {
			in := f.opa.PermissionInput(c.member, c.p)
			ok, err := f.opa.Allowed(ctx, in)
			f.checkAllowed(b, "opa", c.member, c.p, ok, err)
			b.ReportAllocs()
			for b.Loop() {
				_, _ = f.opa.Allowed(ctx, in)
			}
		})
	}

	// Case 3: a conversation check: instance restriction, only assigned.
	{
		name, m, p, conv := "case=3-conversation", f.overrides, teamperm.ChatAssign, overridesConversation
		if got := f.pop.Members[m].Compiled.EvaluateRecord(p, conv.Record()).Outcome(); got != teamperm.OutcomeAllow {
			b.Fatalf("case 3 is %v, want allow", got)
		}
		b.Run(name+"/engine=teamperm", func(b *testing.B) {
			member, r := f.pop.Members[m].Compiled, conv.Record()
			d := member.EvaluateRecord(p, r)
			f.checkOutcome(b, "teamperm", m, p, conv, d.Outcome(), nil)
			b.ReportAllocs()
			for b.Loop() {
				_ = member.EvaluateRecord(p, r)
			}
		})
		b.Run(name+"/engine=casbin", func(b *testing.B) {
			req := f.casbin.RecordRequest(m, p, conv)
			o, err := f.casbin.Outcome(req)
			f.checkOutcome(b, "casbin", m, p, conv, o, err)
			b.ReportAllocs()
			for b.Loop() {
				_, _ = f.casbin.Outcome(req)
			}
		})
		b.Run(name+"/engine=cedar", func(b *testing.B) {
			req := f.cedar.RecordRequest(m, p, conv)
			o, err := f.cedar.Outcome(req)
			f.checkOutcome(b, "cedar", m, p, conv, o, err)
			b.ReportAllocs()
			for b.Loop() {
				_, _ = f.cedar.Outcome(req)
			}
		})
		b.Run(name+"/engine=opa", func(b *testing.B) {
			in := f.opa.RecordInput(m, p, conv)
			o, err := f.opa.Outcome(ctx, in)
			f.checkOutcome(b, "opa", m, p, conv, o, err)
			b.ReportAllocs()
			for b.Loop() {
				_, _ = f.opa.Outcome(ctx, in)
			}
		})
	}

	// Case 4: random (member, permission) pairs over the population. The
	// requests are built first; the loop walks them in order.
	const verified = 512 // pairs checked against teamperm before timing
	mask := len(f.pairs) - 1
	b.Run("case=4-population/engine=teamperm", func(b *testing.B) {
		type req struct {
			m *teamperm.Member
			p teamperm.Permission
		}
		reqs := make([]req, len(f.pairs))
		for i, c := range f.pairs {
			reqs[i] = req{f.pop.Members[c.Member].Compiled, c.Permission}
			f.checkAllowed(b, "teamperm", c.Member, c.Permission, reqs[i].m.Evaluate(c.Permission).Allowed(), nil)
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			r := &reqs[i&mask]
			_ = r.m.Evaluate(r.p)
			i++
		}
	})
	b.Run("case=4-population/engine=casbin", func(b *testing.B) {
		reqs := make([]CasbinRequest, len(f.pairs))
		for i, c := range f.pairs {
			reqs[i] = f.casbin.PermissionRequest(c.Member, c.Permission)
			if i < verified {
				ok, err := f.casbin.Allowed(reqs[i])
				f.checkAllowed(b, "casbin", c.Member, c.Permission, ok, err)
			}
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			_, _ = f.casbin.Allowed(reqs[i&mask])
			i++
		}
	})
	b.Run("case=4-population/engine=cedar", func(b *testing.B) {
		reqs := make([]cedar.Request, len(f.pairs))
		for i, c := range f.pairs {
			reqs[i] = f.cedar.PermissionRequest(c.Member, c.Permission)
			if i < verified {
				f.checkAllowed(b, "cedar", c.Member, c.Permission, f.cedar.Allowed(reqs[i]), nil)
			}
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			_ = f.cedar.Allowed(reqs[i&mask])
			i++
		}
	})
	b.Run("case=4-population/engine=opa", func(b *testing.B) {
		reqs := make([]ast.Value, len(f.pairs))
		for i, c := range f.pairs {
			reqs[i] = f.opa.PermissionInput(c.Member, c.Permission)
			if i < verified {
				ok, err := f.opa.Allowed(ctx, reqs[i])
				f.checkAllowed(b, "opa", c.Member, c.Permission, ok, err)
			}
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			_, _ = f.opa.Allowed(ctx, reqs[i&mask])
			i++
		}
	})
}

// verifyFilter fails b unless the row filter where (with args) selects
// exactly the conversations around member m that teamperm's Visible
// admits, in an in-memory SQLite database. ok false is a filter that
// matches nothing.
func verifyFilter(b *testing.B, pop *Population, m int, where string, ok bool, args ...any) {
	b.Helper()
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	one := &Population{Orgs: pop.Orgs, Members: pop.Members[m : m+1]}
	rows := conversationsTable(b, db, one)
	var want []int64
	for id, c := range rows {
		if pop.Members[m].Compiled.Visible(c.Record()).Allowed() {
			want = append(want, id)
		}
	}
	slices.Sort(want)
	var got []int64
	if ok {
		got = selectIDs(b, db, where, args...)
	}
	if len(want) == 0 || !slices.Equal(got, want) {
		b.Fatalf("filter %s %v: rows %v, want %v", where, args, got, want)
	}
}

// BenchmarkRowFilter produces the overrides member's row filter for
// conversations: SQL for SQLite. teamperm renders its scope; OPA partially
// evaluates the filter rule and translates it (its data filter compiler);
// cedar-go partially evaluates every policy (x/exp/eval), and this
// package renders the residue. The "-partial" variants stop at the engine's
// residual policy, before any SQL. Casbin has no partial evaluation.
func BenchmarkRowFilter(b *testing.B) {
	f := getFixture(b)
	ctx := context.Background()
	m := f.overrides
	b.Run("engine=teamperm", func(b *testing.B) {
		member := f.pop.Members[m].Compiled
		buf, args := make([]byte, 0, 256), make([]any, 0, 16)
		buf, args, err := member.Scope(teamperm.KindConversation).AppendSQL(buf, args, teamperm.SQLite, conversationsMapping)
		if err != nil {
			b.Fatal(err)
		}
		verifyFilter(b, f.pop, m, string(buf), true, args...)
		b.ReportAllocs()
		for b.Loop() {
			buf, args, _ = member.Scope(teamperm.KindConversation).AppendSQL(buf[:0], args[:0], teamperm.SQLite, conversationsMapping)
		}
	})
	b.Run("engine=teamperm-compile", func(b *testing.B) {
		// The member compiled on this request: its scope is not cached yet.
		org, s := f.pop.Orgs[0].Organization(), f.pop.Members[m].Settings
		buf, args := make([]byte, 0, 256), make([]any, 0, 16)
		member, err := teamperm.Compile(org, s)
		if err != nil {
			b.Fatal(err)
		}
		buf, args, err = member.Scope(teamperm.KindConversation).AppendSQL(buf, args, teamperm.SQLite, conversationsMapping)
		if err != nil {
			b.Fatal(err)
		}
		verifyFilter(b, f.pop, m, string(buf), true, args...)
		b.ReportAllocs()
		for b.Loop() {
			member, _ = teamperm.Compile(org, s)
			buf, args, _ = member.Scope(teamperm.KindConversation).AppendSQL(buf[:0], args[:0], teamperm.SQLite, conversationsMapping)
		}
	})
	b.Run("engine=cedar-partial", func(b *testing.B) {
		permits, forbids, err := f.cedar.PartialConversations(m)
		if err != nil || len(permits) == 0 || len(forbids) == 0 {
			b.Fatalf("%d permits, %d forbids, %v", len(permits), len(forbids), err)
		}
		b.ReportAllocs()
		for b.Loop() {
			_, _, _ = f.cedar.PartialConversations(m)
		}
	})
	b.Run("engine=cedar-partial-sql", func(b *testing.B) {
		buf, args := make([]byte, 0, 512), make([]any, 0, 16)
		buf, args, err := f.cedar.ConversationFilter(m, buf, args)
		if err != nil {
			b.Fatal(err)
		}
		verifyFilter(b, f.pop, m, string(buf), true, args...)
		b.ReportAllocs()
		for b.Loop() {
			buf, args, _ = f.cedar.ConversationFilter(m, buf[:0], args[:0])
		}
	})
	in := f.opa.MemberInput(m)
	b.Run("engine=opa-partial", func(b *testing.B) {
		pq, err := f.opa.PartialConversations(ctx, in)
		if err != nil || len(pq.Queries) == 0 {
			b.Fatalf("%v, %v", pq, err)
		}
		b.ReportAllocs()
		for b.Loop() {
			_, _ = f.opa.PartialConversations(ctx, in)
		}
	})
	b.Run("engine=opa-compile-sql", func(b *testing.B) {
		where, ok, err := f.opa.ConversationFilter(ctx, in)
		if err != nil {
			b.Fatal(err)
		}
		verifyFilter(b, f.pop, m, where, ok)
		b.ReportAllocs()
		for b.Loop() {
			_, _, _ = f.opa.ConversationFilter(ctx, in)
		}
	})
}

// BenchmarkCompileEvaluate is a request that starts from the member's
// stored settings, for the role-defaults and the three-overrides member:
// teamperm compiles them (from the Settings value the host loaded, or from
// their stored JSON) and evaluates once; cedar-go builds the member's
// entities and authorizes once, as a host that keeps no per-member state
// would.
func BenchmarkCompileEvaluate(b *testing.B) {
	f := getFixture(b)
	p := teamperm.ContactExport
	for _, c := range []struct {
		name   string
		member int
	}{
		{"member=role-defaults", f.defaults},
		{"member=three-overrides", f.overrides},
	} {
		m := c.member
		org, s := f.pop.Orgs[f.pop.Members[m].Org], f.pop.Members[m].Settings
		b.Run(c.name+"/engine=teamperm", func(b *testing.B) {
			member, err := teamperm.Compile(org.Organization(), s)
			if err != nil {
				b.Fatal(err)
			}
			f.checkAllowed(b, "teamperm", m, p, member.Evaluate(p).Allowed(), nil)
			b.ReportAllocs()
			for b.Loop() {
				member, _ = teamperm.Compile(org.Organization(), s)
				_ = member.Evaluate(p)
			}
		})
		b.Run(c.name+"/engine=teamperm-json", func(b *testing.B) {
			stored, err := s.MarshalJSON()
			if err != nil {
				b.Fatal(err)
			}
			load := func() *teamperm.Member {
				var loaded teamperm.Settings
				if err := loaded.UnmarshalJSON(stored); err != nil {
					b.Fatal(err)
				}
				member, err := teamperm.Compile(org.Organization(), loaded)
				if err != nil {
					b.Fatal(err)
				}
				return member
			}
			f.checkAllowed(b, "teamperm-json", m, p, load().Evaluate(p).Allowed(), nil)
			b.ReportAllocs()
			for b.Loop() {
				_ = load().Evaluate(p)
			}
		})
		b.Run(c.name+"/engine=cedar", func(b *testing.B) {
			req := f.cedar.PermissionRequest(m, p)
			f.checkAllowed(b, "cedar", m, p, f.cedar.AllowedWith(CedarEntities(&org, s), req), nil)
			b.ReportAllocs()
			for b.Loop() {
				_ = f.cedar.AllowedWith(CedarEntities(&org, s), req)
			}
		})
	}
}

// scalePopulations are the populations of BenchmarkScaleMembers, built
// once.
var scalePopulations sync.Map // int -> *Population

func scalePopulation(b *testing.B, n int) *Population {
	b.Helper()
	if pop, ok := scalePopulations.Load(n); ok {
		return pop.(*Population)
	}
	pop, err := NewPopulation(max(1, n/100), n, 10)
	if err != nil {
		b.Fatal(err)
	}
	scalePopulations.Store(n, pop)
	return pop
}

// BenchmarkScaleMembers evaluates random (member, permission) pairs over
// populations of 10, 1,000 and 100,000 compiled members (100 members per
// organisation). The cost of a decision must not depend on how many
// members a host keeps compiled; what does grow is the chance that a
// member is not in the CPU cache.
func BenchmarkScaleMembers(b *testing.B) {
	for _, n := range []int{10, 1000, 100_000} {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			pop := scalePopulation(b, n)
			pairs := pop.RandomCases(1<<16, 11)
			type req struct {
				m *teamperm.Member
				p teamperm.Permission
			}
			reqs := make([]req, len(pairs))
			for i, c := range pairs {
				reqs[i] = req{pop.Members[c.Member].Compiled, c.Permission}
			}
			mask := len(reqs) - 1
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				r := &reqs[i&mask]
				_ = r.m.Evaluate(r.p)
				i++
			}
		})
	}
}

// restrictedTo returns the overrides member's settings with n allowed
// instances, and a conversation assigned to the member on the last of
// them.
func restrictedTo(n int) (teamperm.Settings, Conversation) {
	s := overridesSettings
	ids := make([]teamperm.ID, n)
	for i := range ids {
		ids[i] = teamperm.IntID(int64(1_000_000 + i))
	}
	s.Instances = teamperm.Only(ids...)
	return s, Conversation{Org: 1, Instance: int64(1_000_000 + n - 1), Assignee: 2}
}

// BenchmarkScaleInstances is the conversation check of case 3 for a member
// allowed 1, 100 or 10,000 instances, on the last of them.
func BenchmarkScaleInstances(b *testing.B) {
	org := teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.PlanPro.Features()}
	for _, n := range []int{1, 100, 10_000} {
		b.Run(fmt.Sprintf("instances=%d", n), func(b *testing.B) {
			s, conv := restrictedTo(n)
			m, err := teamperm.Compile(org, s)
			if err != nil {
				b.Fatal(err)
			}
			r := conv.Record()
			if !m.EvaluateRecord(teamperm.ChatAssign, r).Allowed() {
				b.Fatal("not allowed")
			}
			b.ReportAllocs()
			for b.Loop() {
				_ = m.EvaluateRecord(teamperm.ChatAssign, r)
			}
		})
	}
}

// BenchmarkMemberMemory compiles members; besides the allocation per
// Compile it reports retained-B/member, the heap that 1,000 compiled
// members keep alive, divided by 1,000, before and after their
// conversation scope is cached.
func BenchmarkMemberMemory(b *testing.B) {
	org := teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.PlanPro.Features()}
	for _, c := range []struct {
		name string
		s    teamperm.Settings
	}{
		{"settings=role-defaults", defaultsSettings},
		{"settings=three-overrides-3-instances", overridesSettings},
		{"settings=100-instances", first(restrictedTo(100))},
		{"settings=10000-instances", first(restrictedTo(10_000))},
	} {
		b.Run(c.name, func(b *testing.B) {
			const n = 1000
			members := make([]*teamperm.Member, n)
			before := heapInUse()
			for i := range members {
				m, err := teamperm.Compile(org, c.s)
				if err != nil {
					b.Fatal(err)
				}
				members[i] = m
			}
			compiled := heapInUse()
			for _, m := range members {
				_ = m.Scope(teamperm.KindConversation)
			}
			scoped := heapInUse()
			runtime.KeepAlive(members)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := teamperm.Compile(org, c.s); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(compiled-before)/n, "retained-B/member")
			b.ReportMetric(float64(scoped-before)/n, "retained-B/scoped-member")
		})
	}
}

func first[T, U any](t T, _ U) T { return t }

// heapInUse returns the live heap after a collection.
func heapInUse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}
