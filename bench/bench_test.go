package bench

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/teamperm/teamperm"
	"github.com/teamperm/teamperm/internal/cputime"
)

// The benchmarks. Every engine decides the same Requests through the same
// method (Engine.Decide), from strings to the outcome, with the member
// looked up inside the timed call; the requests are drawn at random from
// the population (4,096 of them, walked in order), never one hot pair; and
// every engine's answers to all of them are compared with the Oracle
// before it is timed.
//
//   - BenchmarkDecide/check=permission: may this member do this (no
//     record)?
//   - BenchmarkDecide/check=conversation: may this member do this on this
//     conversation: allowed, forbidden or not found?
//   - BenchmarkRowFilter: a member's row filter for conversations.
//   - BenchmarkFromStoredSettings: a request that starts from the member's
//     stored settings (no compiled member kept).
//   - BenchmarkScaleMembers, BenchmarkScaleInstances, BenchmarkMemberMemory:
//     how teamperm grows with members and allowed IDs.
//   - BenchmarkSQLite1M (sqlite_test.go): a scoped query on a million rows.

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

// numRequests is how many random requests each benchmark walks: a power of
// two.
const numRequests = 4096

// fixture is what the benchmarks share: built once per process.
type fixture struct {
	pop         *Population
	overrides   int // index of the overrides member in pop.Members
	oracle      *Oracle
	engines     []namedEngine
	permissions []Request // random permission checks
	records     []Request // random conversation checks
	cedar       *Cedar
	opa         *OPA
}

var (
	fixtureOnce sync.Once
	theFixture  *fixture
)

func getFixture(b *testing.B) *fixture {
	b.Helper()
	fixtureOnce.Do(func() {
		pop := benchPopulation(b)
		f := &fixture{pop: pop, overrides: len(pop.Members) - 1, oracle: NewOracle(pop)}
		f.engines = engines(b, pop)
		for _, e := range f.engines {
			switch e := e.Engine.(type) {
			case *Cedar:
				f.cedar = e
			case *OPA:
				f.opa = e
			}
		}
		f.permissions = pop.RandomRequests(numRequests, 9, false)
		f.records = pop.RandomRequests(numRequests, 9, true)
		theFixture = f
	})
	if theFixture == nil {
		b.Fatal("no fixture")
	}
	return theFixture
}

// verify fails b unless e decides every request as the oracle does.
func verify(b *testing.B, o Engine, name string, e Engine, reqs []Request) {
	b.Helper()
	for _, r := range reqs {
		want, _ := o.Decide(r)
		if got, err := e.Decide(r); err != nil || got != want {
			b.Fatalf("%s: %+v: %v, %v; oracle %v", name, r, got, err, want)
		}
	}
}

// decideLoop times e deciding reqs in turn.
func decideLoop(b *testing.B, e Engine, reqs []Request) {
	b.Helper()
	mask := len(reqs) - 1
	i := 0
	b.ReportAllocs()
	cputime.Loop(b, func() {
		_, _ = e.Decide(reqs[i&mask])
		i++
	})
}

// BenchmarkDecide: 4,096 random requests over the 1,000 members of 10
// organisations, each engine through Decide. casbin-cached is Casbin's
// SyncedCachedEnforcer: the check before timing has put every request in
// its cache, so it answers from the cache.
func BenchmarkDecide(b *testing.B) {
	f := getFixture(b)
	for _, check := range []struct {
		name string
		reqs []Request
	}{{"permission", f.permissions}, {"conversation", f.records}} {
		for _, e := range f.engines {
			b.Run("check="+check.name+"/engine="+e.name, func(b *testing.B) {
				verify(b, f.oracle, e.name, e, check.reqs)
				decideLoop(b, e, check.reqs)
			})
		}
	}
}

// lookupOnly does what teamperm's Decide does around the decision, and
// no decision: it looks the member up by key, parses the permission and,
// for a record check, builds the record. It is not an engine (it does not
// decide); BenchmarkDecideFloor times it to show what the API shape costs
// before any engine decides.
type lookupOnly struct {
	members map[string]*teamperm.Member
}

func (l *lookupOnly) Decide(r Request) (teamperm.Outcome, error) {
	m := l.members[r.Member]
	p, err := teamperm.ParsePermission(r.Permission)
	if err != nil || m == nil {
		return teamperm.OutcomeForbidden, err
	}
	if r.Record != nil {
		rec := r.Record.Record()
		if unassigned(&rec) {
			return teamperm.OutcomeNotFound, nil
		}
	}
	return teamperm.Outcome(p%2 + 1), nil
}

// unassigned keeps the record lookupOnly builds from being optimised
// away, on the stack as in teamperm's Decide.
//
//go:noinline
func unassigned(r *teamperm.Record) bool { return r.Assignee.IsZero() }

// BenchmarkDecideFloor times BenchmarkDecide's teamperm requests without
// the decision: the member's lookup by key in the host's map, the
// permission's parse and the record's construction, through the same
// interface call. Subtracted from BenchmarkDecide's teamperm rows it
// gives the decision's share; against the peers' rows it bounds the
// ratio any engine could reach through this API.
func BenchmarkDecideFloor(b *testing.B) {
	f := getFixture(b)
	l := &lookupOnly{members: NewTeamperm(f.pop).members}
	for _, check := range []struct {
		name string
		reqs []Request
	}{{"permission", f.permissions}, {"conversation", f.records}} {
		b.Run("check="+check.name, func(b *testing.B) {
			decideLoop(b, l, check.reqs)
		})
	}
}

// verifyFilter fails b unless the row filter where (with args) selects
// exactly the conversations around member m that teamperm's Visible
// admits, in an in-memory SQLite database. ok false is a filter that
// matches nothing.
func verifyFilter(b *testing.B, pop *Population, m int, where string, ok bool, args ...any) {
	b.Helper()
	db, err := sql.Open("sqlite3", ":memory:")
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
		cputime.Loop(b, func() {
			buf, args, _ = member.Scope(teamperm.KindConversation).AppendSQL(buf[:0], args[:0], teamperm.SQLite, conversationsMapping)
		})
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
		cputime.Loop(b, func() {
			member, _ = teamperm.Compile(org, s)
			buf, args, _ = member.Scope(teamperm.KindConversation).AppendSQL(buf[:0], args[:0], teamperm.SQLite, conversationsMapping)
		})
	})
	b.Run("engine=cedar-partial", func(b *testing.B) {
		permits, forbids, err := f.cedar.PartialConversations(m)
		if err != nil || len(permits) == 0 || len(forbids) == 0 {
			b.Fatalf("%d permits, %d forbids, %v", len(permits), len(forbids), err)
		}
		b.ReportAllocs()
		cputime.Loop(b, func() {
			_, _, _ = f.cedar.PartialConversations(m)
		})
	})
	b.Run("engine=cedar-partial-sql", func(b *testing.B) {
		buf, args := make([]byte, 0, 512), make([]any, 0, 16)
		buf, args, err := f.cedar.ConversationFilter(m, buf, args)
		if err != nil {
			b.Fatal(err)
		}
		verifyFilter(b, f.pop, m, string(buf), true, args...)
		b.ReportAllocs()
		cputime.Loop(b, func() {
			buf, args, _ = f.cedar.ConversationFilter(m, buf[:0], args[:0])
		})
	})
	in := f.opa.MemberInput(m)
	b.Run("engine=opa-partial", func(b *testing.B) {
		pq, err := f.opa.PartialConversations(ctx, in)
		if err != nil || len(pq.Queries) == 0 {
			b.Fatalf("%v, %v", pq, err)
		}
		b.ReportAllocs()
		cputime.Loop(b, func() {
			_, _ = f.opa.PartialConversations(ctx, in)
		})
	})
	b.Run("engine=opa-compile-sql", func(b *testing.B) {
		where, ok, err := f.opa.ConversationFilter(ctx, in)
		if err != nil {
			b.Fatal(err)
		}
		verifyFilter(b, f.pop, m, where, ok)
		b.ReportAllocs()
		cputime.Loop(b, func() {
			_, _, _ = f.opa.ConversationFilter(ctx, in)
		})
	})
}

// BenchmarkFromStoredSettings is a request that starts from the member's
// stored settings, for a host that keeps no compiled members: the
// random conversation checks of BenchmarkDecide. teamperm-json decodes the
// member's stored JSON (Settings.UnmarshalJSON), compiles it and
// evaluates; teamperm-settings starts from the decoded Settings value;
// cedar builds the member's entities from the Settings value
// (CedarEntities) and authorizes, as a host without per-member state would.
func BenchmarkFromStoredSettings(b *testing.B) {
	f := getFixture(b)
	type stored struct {
		org      teamperm.Organization
		orgIndex int
		settings teamperm.Settings
		json     []byte
	}
	members := map[string]*stored{}
	for i := range f.pop.Members {
		m := &f.pop.Members[i]
		j, err := m.Settings.MarshalJSON()
		if err != nil {
			b.Fatal(err)
		}
		members[key(m.ID())] = &stored{f.pop.Orgs[m.Org].Organization(), m.Org, m.Settings, j}
	}
	engines := []struct {
		name   string
		decide EngineFunc
	}{
		{"teamperm-json", func(r Request) (teamperm.Outcome, error) {
			st := members[r.Member]
			var s teamperm.Settings
			if err := s.UnmarshalJSON(st.json); err != nil {
				return teamperm.OutcomeNotFound, err
			}
			m, err := teamperm.Compile(st.org, s)
			if err != nil {
				return teamperm.OutcomeNotFound, err
			}
			p, err := teamperm.ParsePermission(r.Permission)
			if err != nil {
				return teamperm.OutcomeNotFound, err
			}
			return m.EvaluateRecord(p, r.Record.Record()).Outcome(), nil
		}},
		{"teamperm-settings", func(r Request) (teamperm.Outcome, error) {
			st := members[r.Member]
			m, err := teamperm.Compile(st.org, st.settings)
			if err != nil {
				return teamperm.OutcomeNotFound, err
			}
			p, err := teamperm.ParsePermission(r.Permission)
			if err != nil {
				return teamperm.OutcomeNotFound, err
			}
			return m.EvaluateRecord(p, r.Record.Record()).Outcome(), nil
		}},
		{"cedar", func(r Request) (teamperm.Outcome, error) {
			st := members[r.Member]
			return f.cedar.DecideWith(CedarEntities(&f.pop.Orgs[st.orgIndex], st.settings), r)
		}},
	}
	for _, e := range engines {
		b.Run("engine="+e.name, func(b *testing.B) {
			verify(b, f.oracle, e.name, e.decide, f.records)
			decideLoop(b, e.decide, f.records)
		})
	}
}

// EngineFunc is a function as an Engine.
type EngineFunc func(Request) (teamperm.Outcome, error)

// Decide calls f.
func (f EngineFunc) Decide(r Request) (teamperm.Outcome, error) { return f(r) }

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

// BenchmarkScaleMembers decides random permission checks over populations
// of 10, 1,000 and 100,000 members (100 per organisation): teamperm and
// cedar-go through Decide, and teamperm-member with the *Member already in
// hand (no lookup by key: the cost of the decision alone). What grows is
// the chance that a member is not in the CPU's caches.
func BenchmarkScaleMembers(b *testing.B) {
	for _, n := range []int{10, 1000, 100_000} {
		pop := scalePopulation(b, n)
		oracle := NewOracle(pop)
		reqs := pop.RandomRequests(1<<16, 11, false)
		b.Run(fmt.Sprintf("members=%d/engine=teamperm", n), func(b *testing.B) {
			e := NewTeamperm(pop)
			verify(b, oracle, "teamperm", e, reqs[:numRequests])
			decideLoop(b, e, reqs)
		})
		b.Run(fmt.Sprintf("members=%d/engine=teamperm-member", n), func(b *testing.B) {
			type req struct {
				m *teamperm.Member
				p teamperm.Permission
			}
			byKey := NewTeamperm(pop).members
			direct := make([]req, len(reqs))
			for i, r := range reqs {
				direct[i].m = byKey[r.Member]
				direct[i].p, _ = teamperm.ParsePermission(r.Permission)
			}
			mask := len(direct) - 1
			i := 0
			b.ReportAllocs()
			cputime.Loop(b, func() {
				r := &direct[i&mask]
				_ = r.m.Evaluate(r.p)
				i++
			})
		})
		b.Run(fmt.Sprintf("members=%d/engine=cedar", n), func(b *testing.B) {
			e, err := NewCedar(pop)
			if err != nil {
				b.Fatal(err)
			}
			verify(b, oracle, "cedar", e, reqs[:numRequests])
			decideLoop(b, e, reqs)
		})
	}
}

// BenchmarkScaleInstances is the conversation check (EvaluateRecord) of a
// member allowed 1, 100 or 10,000 instances with integer and with text
// keys, on conversations of random allowed instances.
func BenchmarkScaleInstances(b *testing.B) {
	org := teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.PlanPro.Features()}
	for _, keys := range []string{"int", "string"} {
		for _, n := range []int{1, 100, 10_000} {
			b.Run(fmt.Sprintf("key=%s/ids=%d", keys, n), func(b *testing.B) {
				s := overridesSettings
				ids := make([]teamperm.ID, n)
				for i := range ids {
					ids[i] = teamperm.IntID(int64(1_000_000 + i))
					if keys == "string" {
						ids[i] = teamperm.StringID(fmt.Sprintf("instance-%07d", i))
					}
				}
				s.Instances = teamperm.Only(ids...)
				m, err := teamperm.Compile(org, s)
				if err != nil {
					b.Fatal(err)
				}
				recs := make([]teamperm.Record, numRequests)
				for i := range recs {
					// The record's key as loaded from a row: its own
					// copy, not the string the member was compiled from.
					inst := ids[(i*7919)%n]
					if str, ok := inst.Str(); ok {
						inst = teamperm.StringID(strings.Clone(str))
					}
					recs[i] = teamperm.Record{Kind: teamperm.KindConversation, Organization: org.ID,
						Instance: inst, Assignee: s.Member}
					if !m.EvaluateRecord(teamperm.ChatAssign, recs[i]).Allowed() {
						b.Fatal("not allowed")
					}
				}
				i := 0
				b.ReportAllocs()
				cputime.Loop(b, func() {
					_ = m.EvaluateRecord(teamperm.ChatAssign, recs[i&(numRequests-1)])
					i++
				})
			})
		}
	}
}

// restrictedTo returns the overrides member's settings with n allowed
// instances.
func restrictedTo(n int) teamperm.Settings {
	s := overridesSettings
	ids := make([]teamperm.ID, n)
	for i := range ids {
		ids[i] = teamperm.IntID(int64(1_000_000 + i))
	}
	s.Instances = teamperm.Only(ids...)
	return s
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
		{"settings=100-instances", restrictedTo(100)},
		{"settings=10000-instances", restrictedTo(10_000)},
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

// heapInUse returns the live heap after a collection.
func heapInUse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}
