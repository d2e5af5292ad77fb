package teamperm_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/teamperm/teamperm"
	"github.com/teamperm/teamperm/internal/cputime"
)

// This file holds the guards on the hot paths: no allocation, no data
// race, and the benchmarks behind the figures in the README.

var (
	benchOrg = teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.PlanPro.Features()}
	benchMe  = teamperm.IntID(42)
)

// restrictedSettings is a member restricted to n instances, with
// only-assigned-chats and three overrides.
func restrictedSettings(n int) teamperm.Settings {
	ids := make([]teamperm.ID, n)
	for i := range ids {
		ids[i] = teamperm.IntID(int64(1000 + i))
	}
	return teamperm.Settings{
		Member:            benchMe,
		Role:              teamperm.RoleMember,
		Revision:          7,
		Grants:            teamperm.PermissionSetOf(teamperm.ChatAssign, teamperm.ContactExport),
		Denies:            teamperm.PermissionSetOf(teamperm.ChatSend),
		Instances:         teamperm.Only(ids...),
		OnlyAssignedChats: true,
	}
}

// conversationOn is a conversation assigned to the benchmark member on the
// last of n instances (the worst case for a linear scan).
func conversationOn(n int) teamperm.Record {
	return teamperm.Record{
		Kind:         teamperm.KindConversation,
		Organization: benchOrg.ID,
		Instance:     teamperm.IntID(int64(1000 + n - 1)),
		Assignee:     benchMe,
	}
}

func TestNoAllocs(t *testing.T) {
	m := mustCompile(t, benchOrg, restrictedSettings(1000))
	r := conversationOn(1000)
	var nilMember *teamperm.Member
	ctx := teamperm.NewContext(context.Background(), m)
	tests := []struct {
		name string
		f    func()
	}{
		{"Has", func() { _ = m.Has(teamperm.ChatAssign) }},
		{"Evaluate", func() { _ = m.Evaluate(teamperm.ChatAssign) }},
		{"EvaluateRecord", func() { _ = m.EvaluateRecord(teamperm.ChatAssign, r) }},
		{"EvaluateRecord/hidden", func() {
			_ = m.EvaluateRecord(teamperm.ChatAssign, teamperm.Record{Kind: teamperm.KindConversation, Organization: benchOrg.ID})
		}},
		{"Visible", func() { _ = m.Visible(r) }},
		{"nil member", func() { _ = nilMember.EvaluateRecord(teamperm.ChatAssign, r) }},
		{"FromContext", func() { _, _ = teamperm.FromContext(ctx) }},
		{"Err allowed", func() { _ = m.Evaluate(teamperm.ChatAssign).Err() }},
		{"PermissionSet", func() {
			_ = teamperm.AllPermissions().Without(teamperm.ChatSend).Union(teamperm.PermissionSet{}).Has(teamperm.ChatView)
		}},
	}
	for _, tt := range tests {
		if n := testing.AllocsPerRun(100, tt.f); n != 0 {
			t.Errorf("%s: %v allocs, want 0", tt.name, n)
		}
	}
}

// TestConcurrentEvaluate shares one compiled member among goroutines; run
// with -race.
func TestConcurrentEvaluate(t *testing.T) {
	m := mustCompile(t, benchOrg, restrictedSettings(20))
	want := m.EvaluateRecord(teamperm.ChatAssign, conversationOn(20))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				r := conversationOn(1 + (g+i)%20)
				if i%7 == 0 {
					r.Assignee = teamperm.IntID(int64(i))
				}
				d := m.EvaluateRecord(teamperm.ChatAssign, r)
				if r == conversationOn(20) && d != want {
					t.Errorf("decision changed under concurrency: %v != %v", d, want)
					return
				}
				_ = m.Evaluate(teamperm.Permission(i % 20))
			}
		}()
	}
	wg.Wait()
}

func BenchmarkHas(b *testing.B) {
	m := mustCompile(b, benchOrg, teamperm.Settings{Member: benchMe, Role: teamperm.RoleMember})
	b.ReportAllocs()
	start := cputime.Process()
	for b.Loop() {
		_ = m.Has(teamperm.ContactExport)
	}
	cputime.Report(b, start)
}

func BenchmarkEvaluate(b *testing.B) {
	for _, c := range []struct {
		name string
		s    teamperm.Settings
	}{
		{"role-defaults", teamperm.Settings{Member: benchMe, Role: teamperm.RoleMember}},
		{"three-overrides", restrictedSettings(1)},
	} {
		b.Run(c.name, func(b *testing.B) {
			m := mustCompile(b, benchOrg, c.s)
			b.ReportAllocs()
			start := cputime.Process()
			for b.Loop() {
				_ = m.Evaluate(teamperm.ContactExport)
			}
			cputime.Report(b, start)
		})
	}
}

// BenchmarkEvaluateRecord: a conversation check with an instance
// restriction and only-assigned-chats, on 1, 10 and 1,000 allowed
// instances. The cost must stay flat.
func BenchmarkEvaluateRecord(b *testing.B) {
	for _, n := range []int{1, 10, 1000} {
		b.Run(fmt.Sprintf("instances=%d", n), func(b *testing.B) {
			m := mustCompile(b, benchOrg, restrictedSettings(n))
			r := conversationOn(n)
			if !m.EvaluateRecord(teamperm.ChatAssign, r).Allowed() {
				b.Fatal("benchmark record is not allowed")
			}
			b.ReportAllocs()
			start := cputime.Process()
			for b.Loop() {
				_ = m.EvaluateRecord(teamperm.ChatAssign, r)
			}
			cputime.Report(b, start)
		})
	}
}

func BenchmarkCompile(b *testing.B) {
	for _, c := range []struct {
		name string
		s    teamperm.Settings
	}{
		{"role-defaults", teamperm.Settings{Member: benchMe, Role: teamperm.RoleMember}},
		{"restricted-3-instances", restrictedSettings(3)},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			cputime.Loop(b, func() {
				if _, err := teamperm.Compile(benchOrg, c.s); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// growthIDs returns n distinct instance IDs of the given key kind.
func growthIDs(key string, n int) []teamperm.ID {
	ids := make([]teamperm.ID, n)
	for i := range ids {
		if key == "int" {
			ids[i] = teamperm.IntID(int64(1000 + i))
		} else {
			ids[i] = teamperm.StringID(fmt.Sprintf("inst-%06d", i))
		}
	}
	return ids
}

// BenchmarkCompileGrowth: Compile of a member restricted to 1, 100 and
// 10,000 instances with integer and text keys; ns/id is the wall time per
// allowed ID.
func BenchmarkCompileGrowth(b *testing.B) {
	for _, key := range []string{"int", "string"} {
		for _, n := range []int{1, 100, 10_000} {
			b.Run(fmt.Sprintf("key=%s/ids=%d", key, n), func(b *testing.B) {
				s := restrictedSettings(0)
				s.Instances = teamperm.Only(growthIDs(key, n)...)
				b.ReportAllocs()
				cputime.Loop(b, func() {
					if _, err := teamperm.Compile(benchOrg, s); err != nil {
						b.Fatal(err)
					}
				})
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/id")
			})
		}
	}
}

// BenchmarkAppendSQLGrowth renders the cached conversation scope of a
// member restricted to 1, 100 and 10,000 instances, in each dialect.
func BenchmarkAppendSQLGrowth(b *testing.B) {
	for _, key := range []string{"int", "string"} {
		mapping := teamperm.Mapping{
			Organization: teamperm.IntColumn("c.org_id"),
			Instance:     teamperm.IntColumn("c.instance_id"),
			Assignee:     teamperm.IntColumn("c.assignee_id"),
		}
		if key == "string" {
			mapping.Instance = teamperm.StringColumn("c.instance_id")
		}
		for _, n := range []int{1, 100, 10_000} {
			s := restrictedSettings(0)
			s.Instances = teamperm.Only(growthIDs(key, n)...)
			m := mustCompile(b, benchOrg, s)
			for _, d := range []teamperm.Dialect{teamperm.Postgres, teamperm.SQLite, teamperm.MySQL} {
				b.Run(fmt.Sprintf("key=%s/ids=%d/dialect=%s", key, n, d), func(b *testing.B) {
					sc := m.Scope(teamperm.KindConversation)
					buf, args := make([]byte, 0, 256), make([]any, 0, 16)
					b.ReportAllocs()
					cputime.Loop(b, func() {
						var err error
						if buf, args, err = sc.AppendSQL(buf[:0], args[:0], d, mapping); err != nil {
							b.Fatal(err)
						}
					})
				})
			}
		}
	}
}

// plainSettings is the stored form decoded as a host would without
// teamperm: encoding/json into a struct, with no strictness at all
// (unknown, repeated and case-folded keys accepted, names and IDs not
// checked).
type plainSettings struct {
	Version           int      `json:"version"`
	Member            int64    `json:"member"`
	Role              string   `json:"role"`
	Revision          uint64   `json:"revision"`
	Grant             []string `json:"grant"`
	Deny              []string `json:"deny"`
	Instances         []int64  `json:"instances"`
	OnlyAssignedChats bool     `json:"only_assigned_chats"`
	OnlyCreatedDeals  bool     `json:"only_created_deals"`
	Pipelines         string   `json:"pipelines"`
}

// BenchmarkSettingsUnmarshalJSON decodes typical stored settings (a member
// with three overrides, three instances and only-assigned-chats: 214
// bytes) with teamperm's strict decoder; with the encoding/json-based
// strict decoder it replaced (kept as the test oracle); and, for scale,
// with plain encoding/json into a struct.
func BenchmarkSettingsUnmarshalJSON(b *testing.B) {
	data, err := restrictedSettings(3).MarshalJSON()
	if err != nil {
		b.Fatal(err)
	}
	b.Run("decoder=teamperm", func(b *testing.B) {
		b.ReportAllocs()
		cputime.Loop(b, func() {
			var s teamperm.Settings
			if err := s.UnmarshalJSON(data); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("decoder=previous-strict", func(b *testing.B) {
		b.ReportAllocs()
		cputime.Loop(b, func() {
			if _, err := teamperm.OracleUnmarshalSettings(data); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("decoder=encoding-json-struct", func(b *testing.B) {
		b.ReportAllocs()
		cputime.Loop(b, func() {
			var s plainSettings
			if err := json.Unmarshal(data, &s); err != nil {
				b.Fatal(err)
			}
		})
	})
}

// BenchmarkDecodeCompileEvaluate is a request that starts from the stored
// JSON of the same settings: decode, Compile, one conversation check.
func BenchmarkDecodeCompileEvaluate(b *testing.B) {
	data, err := restrictedSettings(3).MarshalJSON()
	if err != nil {
		b.Fatal(err)
	}
	r := conversationOn(3)
	b.ReportAllocs()
	cputime.Loop(b, func() {
		var s teamperm.Settings
		if err := s.UnmarshalJSON(data); err != nil {
			b.Fatal(err)
		}
		m, err := teamperm.Compile(benchOrg, s)
		if err != nil {
			b.Fatal(err)
		}
		if !m.EvaluateRecord(teamperm.ChatAssign, r).Allowed() {
			b.Fatal("not allowed")
		}
	})
}

// BenchmarkScope: the cached scope of a restricted member.
func BenchmarkScope(b *testing.B) {
	m := mustCompile(b, benchOrg, restrictedSettings(10))
	b.ReportAllocs()
	start := cputime.Process()
	for b.Loop() {
		_ = m.Scope(teamperm.KindConversation)
	}
	cputime.Report(b, start)
}

// BenchmarkScopeSQL renders a typical predicate: the organisation, ten
// instances, only-assigned-chats.
func BenchmarkScopeSQL(b *testing.B) {
	m := mustCompile(b, benchOrg, restrictedSettings(10))
	mapping := teamperm.Mapping{
		Organization: teamperm.IntColumn("c.org_id"),
		Instance:     teamperm.IntColumn("c.instance_id"),
		Assignee:     teamperm.IntColumn("c.assignee_id"),
	}
	for _, d := range []teamperm.Dialect{teamperm.Postgres, teamperm.SQLite, teamperm.MySQL} {
		b.Run(d.String(), func(b *testing.B) {
			buf := make([]byte, 0, 256)
			args := make([]any, 0, 16)
			b.ReportAllocs()
			start := cputime.Process()
			for b.Loop() {
				var err error
				if buf, args, err = m.Scope(teamperm.KindConversation).AppendSQL(buf[:0], args[:0], d, mapping); err != nil {
					b.Fatal(err)
				}
			}
			cputime.Report(b, start)
		})
	}
}

// matchRecords is a million conversations over 20 instances and 50
// assignees, about a quarter of them visible to the benchmark member.
func matchRecords() []teamperm.Record {
	rs := make([]teamperm.Record, 1_000_000)
	for i := range rs {
		rs[i] = teamperm.Record{
			Kind:         teamperm.KindConversation,
			Organization: benchOrg.ID,
			Instance:     teamperm.IntID(int64(1000 + i%20)),
			Assignee:     teamperm.IntID(int64(30 + i%50)),
		}
	}
	return rs
}

// BenchmarkMatch1M compares Scope.Match over a million records with a
// hand-written closure doing the same test.
func BenchmarkMatch1M(b *testing.B) {
	m := mustCompile(b, benchOrg, restrictedSettings(10))
	rs := matchRecords()
	sc := m.Scope(teamperm.KindConversation)
	allowed := map[teamperm.ID]bool{}
	for i := range 10 {
		allowed[teamperm.IntID(int64(1000+i))] = true
	}
	hand := func(r *teamperm.Record) bool {
		return r.Kind == teamperm.KindConversation && r.Organization == benchOrg.ID && allowed[r.Instance] && r.Assignee == benchMe
	}
	want := 0
	for i := range rs {
		if hand(&rs[i]) {
			want++
		}
	}
	b.Run("scope", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			n := 0
			for i := range rs {
				if sc.Match(&rs[i]) {
					n++
				}
			}
			if n != want {
				b.Fatalf("matched %d, want %d", n, want)
			}
		}
	})
	b.Run("hand-written", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			n := 0
			for i := range rs {
				if hand(&rs[i]) {
					n++
				}
			}
			if n != want {
				b.Fatalf("matched %d, want %d", n, want)
			}
		}
	})
}

// hostileIntIDs returns n integer IDs crafted to collide in a set hashed
// by a fixed multiplier (the Fibonacci hashing teamperm once used): each
// is t times the multiplier's inverse modulo 2^64, so its product with the
// multiplier is t and its top bits are all zero. A set with a fixed hash
// degrades to a linear scan on them; a seeded one must not.
func hostileIntIDs(n int) []int64 {
	const k = 0x9E3779B97F4A7C15
	inv := uint64(k) // Newton's iteration for the inverse of an odd k modulo 2^64
	for range 6 {
		inv *= 2 - k*inv
	}
	out := make([]int64, n)
	for t := range out {
		out[t] = int64(uint64(t+1) * inv)
	}
	return out
}

func sequentialIntIDs(n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(i + 1)
	}
	return out
}

func TestHostileIntIDsDoNotDegradeSets(t *testing.T) {
	const n = 1 << 15
	for _, c := range []struct {
		name string
		ids  []int64
	}{{"sequential", sequentialIntIDs(n)}, {"hostile", hostileIntIDs(n)}} {
		// A seeded hash at half load: the longest probe is a few dozen at
		// most (a fixed hash walks all 32,768 on the hostile keys).
		if got := teamperm.IntSetMaxProbe(c.ids); got > 64 {
			t.Errorf("%s: longest probe %d of %d keys, want <= 64", c.name, got, n)
		}
	}
}

// BenchmarkHostileIDs: Compile and Visible on 32,768 allowed instances,
// sequential and crafted to collide under a fixed hash. The two must stay
// within 2x of each other.
func BenchmarkHostileIDs(b *testing.B) {
	const n = 1 << 15
	for _, c := range []struct {
		name string
		ids  []int64
	}{{"sequential", sequentialIntIDs(n)}, {"hostile", hostileIntIDs(n)}} {
		ids := make([]teamperm.ID, n)
		for i, v := range c.ids {
			ids[i] = teamperm.IntID(v)
		}
		s := teamperm.Settings{Member: benchMe, Role: teamperm.RoleMember, Instances: teamperm.Only(ids...)}
		b.Run("compile/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			start := cputime.Process()
			for b.Loop() {
				if _, err := teamperm.Compile(benchOrg, s); err != nil {
					b.Fatal(err)
				}
			}
			cputime.Report(b, start)
		})
		b.Run("visible/"+c.name, func(b *testing.B) {
			m := mustCompile(b, benchOrg, s)
			recs := make([]teamperm.Record, 64)
			for i := range recs {
				recs[i] = teamperm.Record{Kind: teamperm.KindContact, Organization: benchOrg.ID, Instance: ids[(i*4099)%n]}
			}
			b.ReportAllocs()
			start := cputime.Process()
			i := 0
			for b.Loop() {
				if !m.Visible(recs[i&63]).Allowed() {
					b.Fatal("not visible")
				}
				i++
			}
			cputime.Report(b, start)
		})
	}
}
