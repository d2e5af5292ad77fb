package teamperm_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/teamperm/teamperm"
	"pgregory.net/rapid"
)

// This file checks the member cache against a fake database: it never
// returns a member compiled for another key, one load per member under a
// burst, invalidation is final, the size bound holds.

// memDB is a database of organisations and member settings, as a Loader
// sees it. Every change bumps the revision of what it changes. It records
// every key it ever had for each member, and can hold loads at a gate.
type memDB struct {
	mu       sync.Mutex
	orgs     map[teamperm.ID]teamperm.Organization
	settings map[[2]teamperm.ID]teamperm.Settings
	history  map[[2]teamperm.ID]map[teamperm.MemberKey]bool // every key each member ever had
	loads    atomic.Int64
	gate     chan struct{} // when not nil, Load waits for it
	entered  chan struct{} // when not nil, Load signals it before waiting
	fail     error         // when not nil, Load returns it
}

var errNoMember = errors.New("no such member")

func newMemDB() *memDB {
	return &memDB{
		orgs:     map[teamperm.ID]teamperm.Organization{},
		settings: map[[2]teamperm.ID]teamperm.Settings{},
		history:  map[[2]teamperm.ID]map[teamperm.MemberKey]bool{},
	}
}

func (db *memDB) Load(ctx context.Context, org, member teamperm.ID) (teamperm.Organization, teamperm.Settings, error) {
	db.loads.Add(1)
	db.mu.Lock()
	gate, entered, fail := db.gate, db.entered, db.fail
	o, ok1 := db.orgs[org]
	s, ok2 := db.settings[[2]teamperm.ID{org, member}]
	db.mu.Unlock()
	if entered != nil {
		entered <- struct{}{}
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return teamperm.Organization{}, teamperm.Settings{}, ctx.Err()
		}
	}
	if fail != nil {
		return teamperm.Organization{}, teamperm.Settings{}, fail
	}
	if !ok1 || !ok2 {
		return teamperm.Organization{}, teamperm.Settings{}, fmt.Errorf("member %v of %v: %w", member, org, errNoMember)
	}
	return o, s, nil
}

// record notes the current key of every member of org, or only of
// member if it is not zero (under mu).
func (db *memDB) record(org, member teamperm.ID) {
	for k, s := range db.settings {
		if k[0] != org || !member.IsZero() && k[1] != member {
			continue
		}
		if db.history[k] == nil {
			db.history[k] = map[teamperm.MemberKey]bool{}
		}
		db.history[k][teamperm.KeyOf(db.orgs[org], s)] = true
	}
}

func (db *memDB) setOrg(org teamperm.ID, plan teamperm.Plan) teamperm.Organization {
	db.mu.Lock()
	defer db.mu.Unlock()
	o := db.orgs[org]
	o.ID, o.Features = org, plan.Features()
	o.Revision++
	db.orgs[org] = o
	db.record(org, teamperm.ID{})
	return o
}

// setMember stores s for the member (bumping its revision) and returns
// the new settings.
func (db *memDB) setMember(org teamperm.ID, s teamperm.Settings) teamperm.Settings {
	db.mu.Lock()
	defer db.mu.Unlock()
	k := [2]teamperm.ID{org, s.Member}
	s.Revision = db.settings[k].Revision + 1
	db.settings[k] = s
	if db.history[k] == nil {
		db.history[k] = map[teamperm.MemberKey]bool{}
	}
	db.history[k][teamperm.KeyOf(db.orgs[org], s)] = true
	return s
}

func (db *memDB) key(org, member teamperm.ID) teamperm.MemberKey {
	db.mu.Lock()
	defer db.mu.Unlock()
	return teamperm.KeyOf(db.orgs[org], db.settings[[2]teamperm.ID{org, member}])
}

func (db *memDB) everHad(org, member teamperm.ID, k teamperm.MemberKey) bool {
	db.mu.Lock()
	defer db.mu.Unlock()
	return db.history[[2]teamperm.ID{org, member}][k]
}

var (
	cacheOrg = teamperm.IntID(1)
	alice    = teamperm.IntID(7)
	bob      = teamperm.IntID(8)
)

// twoMembers is a database with organisation 1 on Pro and two members.
func twoMembers() *memDB {
	db := newMemDB()
	db.setOrg(cacheOrg, teamperm.PlanPro)
	db.setMember(cacheOrg, teamperm.Settings{Member: alice, Role: teamperm.RoleMember, Grants: teamperm.PermissionSetOf(teamperm.ContactExport)})
	db.setMember(cacheOrg, teamperm.Settings{Member: bob, Role: teamperm.RoleAdmin})
	return db
}

// mustMember is Cache.Member: the member asked for, or a failure.
func mustMember(t fataler, c *teamperm.Cache, org, member teamperm.ID) *teamperm.Member {
	t.Helper()
	m, err := c.Member(context.Background(), org, member)
	if err != nil {
		t.Fatalf("Member(%v, %v): %v", org, member, err)
	}
	if m.Organization() != org || m.ID() != member {
		t.Fatalf("Member(%v, %v) returned member %v of %v", org, member, m.ID(), m.Organization())
	}
	return m
}

func TestCacheHitMissCompile(t *testing.T) {
	db := twoMembers()
	c := teamperm.NewCache(db, 10)
	m1 := mustMember(t, c, cacheOrg, alice)
	m2 := mustMember(t, c, cacheOrg, alice)
	if m1 != m2 {
		t.Error("second lookup compiled again")
	}
	if !m1.Has(teamperm.ContactExport) {
		t.Error("the grant of contact.export does not apply")
	}
	mustMember(t, c, cacheOrg, bob)
	want := teamperm.CacheStats{Hits: 0, Misses: 2, Loads: 2, Compiles: 2, Entries: 2}
	if diff := cmp.Diff(want, c.Stats()); diff != "" {
		t.Errorf("Stats before CountHits(true) (-want +got):\n%s", diff)
	}
	c.CountHits(true)
	mustMember(t, c, cacheOrg, alice)
	mustMember(t, c, cacheOrg, bob)
	c.CountHits(false)
	mustMember(t, c, cacheOrg, bob)
	want = teamperm.CacheStats{Hits: 2, Misses: 2, Loads: 2, Compiles: 2, Entries: 2}
	if diff := cmp.Diff(want, c.Stats()); diff != "" {
		t.Errorf("Stats after two counted hits and one not (-want +got):\n%s", diff)
	}
}

// TestCacheDowngrade is the case: after Pro -> Starter a cached
// member must not keep the overrides the plan no longer honours.
func TestCacheDowngrade(t *testing.T) {
	db := twoMembers()
	c := teamperm.NewCache(db, 10)
	if !mustMember(t, c, cacheOrg, alice).Has(teamperm.ContactExport) {
		t.Fatal("on Pro the grant applies")
	}
	db.setOrg(cacheOrg, teamperm.PlanStarter)
	c.InvalidateOrganization(cacheOrg)
	m := mustMember(t, c, cacheOrg, alice)
	if m.Has(teamperm.ContactExport) {
		t.Error("after the downgrade the cache still serves the grant")
	}
	if got, want := m.Key(), db.key(cacheOrg, alice); got != want {
		t.Errorf("Key = %+v, want %+v", got, want)
	}
}

// TestCacheLearnsNewerOrganization: loading one member with a newer plan
// drops the others compiled for the older one, even without an
// invalidation.
func TestCacheLearnsNewerOrganization(t *testing.T) {
	db := twoMembers()
	c := teamperm.NewCache(db, 10)
	old := mustMember(t, c, cacheOrg, alice)
	db.setOrg(cacheOrg, teamperm.PlanStarter)
	if m := mustMember(t, c, cacheOrg, alice); m != old {
		t.Fatal("without invalidation a cached member is served until the cache learns better")
	}
	c.InvalidateMember(cacheOrg, bob) // nothing cached: loads bob at the new plan
	mustMember(t, c, cacheOrg, bob)
	m := mustMember(t, c, cacheOrg, alice)
	if m == old || m.Org().Revision != 2 || m.Has(teamperm.ContactExport) {
		t.Errorf("alice at org revision %d (has export: %v): still compiled for the plan before the one bob was loaded with", m.Org().Revision, m.Has(teamperm.ContactExport))
	}
}

func TestCacheInvalidate(t *testing.T) {
	revoke := func(db *memDB) {
		db.setMember(cacheOrg, teamperm.Settings{Member: alice, Role: teamperm.RoleMember, Denies: teamperm.PermissionSetOf(teamperm.ContactExport)})
	}
	for _, tc := range []struct {
		name       string
		invalidate func(*teamperm.Cache)
		bobStays   bool
	}{
		{"member", func(c *teamperm.Cache) { c.InvalidateMember(cacheOrg, alice) }, true},
		{"organization", func(c *teamperm.Cache) { c.InvalidateOrganization(cacheOrg) }, false},
		{"all", func(c *teamperm.Cache) { c.InvalidateAll() }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := twoMembers()
			c := teamperm.NewCache(db, 10)
			mustMember(t, c, cacheOrg, alice)
			b := mustMember(t, c, cacheOrg, bob)
			revoke(db)
			tc.invalidate(c)
			if mustMember(t, c, cacheOrg, alice).Has(teamperm.ContactExport) {
				t.Error("the revoked permission is still served")
			}
			if got := mustMember(t, c, cacheOrg, bob) == b; got != tc.bobStays {
				t.Errorf("bob kept: %v, want %v", got, tc.bobStays)
			}
		})
	}
}

// TestCacheBurst: many requests for a member that is not cached: one
// load, one compile, one member for all.
func TestCacheBurst(t *testing.T) {
	db := twoMembers()
	db.gate = make(chan struct{})
	c := teamperm.NewCache(db, 10)
	const n = 50
	got := make([]*teamperm.Member, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = mustMember(t, c, cacheOrg, alice)
		}()
	}
	for c.Stats().Shared < n-1 { // every other request waits for the first one's load
		time.Sleep(time.Millisecond)
	}
	close(db.gate)
	wg.Wait()
	for i := range got {
		if got[i] != got[0] {
			t.Fatalf("request %d got another member", i)
		}
	}
	s := c.Stats()
	if s.Loads != 1 || s.Compiles != 1 || s.Shared != n-1 {
		t.Errorf("Stats = %+v, want 1 load, 1 compile, %d shared", s, n-1)
	}
}

// TestCacheInvalidateDuringLoad: a load running when the member is
// invalidated (by InvalidateMember, InvalidateOrganization or
// InvalidateAll) is not kept, and no request that starts after the
// invalidation gets its result.
func TestCacheInvalidateDuringLoad(t *testing.T) {
	for _, tc := range []struct {
		name       string
		invalidate func(*teamperm.Cache)
	}{
		{"member", func(c *teamperm.Cache) { c.InvalidateMember(cacheOrg, alice) }},
		{"organization", func(c *teamperm.Cache) { c.InvalidateOrganization(cacheOrg) }},
		{"all", func(c *teamperm.Cache) { c.InvalidateAll() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := twoMembers()
			gate := make(chan struct{})
			db.gate, db.entered = gate, make(chan struct{}, 1)
			c := teamperm.NewCache(db, 10)
			first := make(chan *teamperm.Member)
			go func() { first <- mustMember(t, c, cacheOrg, alice) }()
			<-db.entered // the load read the old settings and waits
			db.mu.Lock()
			db.gate, db.entered = nil, nil // the next load goes through
			db.mu.Unlock()
			revoked := db.setMember(cacheOrg, teamperm.Settings{Member: alice, Role: teamperm.RoleMember})
			tc.invalidate(c)
			// A request that starts after loads anew: it must not wait for
			// the load held at the gate (a deadline turns a wait into a
			// failure).
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			after, err := c.Member(ctx, cacheOrg, alice)
			cancel()
			if err != nil {
				close(gate)
				t.Fatalf("a request after the invalidation: %v", err)
			}
			if after.Revision() != revoked.Revision {
				t.Errorf("a request after the invalidation got revision %d, want %d", after.Revision(), revoked.Revision)
			}
			close(gate)
			if old := <-first; old.Revision() != revoked.Revision-1 {
				t.Errorf("the request that started before got revision %d, want %d", old.Revision(), revoked.Revision-1)
			}
			if m := mustMember(t, c, cacheOrg, alice); m != after {
				t.Error("the load that was running replaced the newer member")
			}
		})
	}
}

func TestCacheMemberAtLeast(t *testing.T) {
	db := twoMembers()
	c := teamperm.NewCache(db, 10)
	ctx := context.Background()
	old := mustMember(t, c, cacheOrg, alice)
	// A change this process has not heard of yet, but the client has:
	// it sends the revision it got back.
	s := db.setMember(cacheOrg, teamperm.Settings{Member: alice, Role: teamperm.RoleMember})
	if m, err := c.Member(ctx, cacheOrg, alice); err != nil || m != old {
		t.Fatalf("Member = %v, %v; want the cached member", m, err)
	}
	m, err := c.MemberAtLeast(ctx, cacheOrg, alice, teamperm.Revisions{Settings: s.Revision})
	if err != nil || m.Revision() != s.Revision {
		t.Fatalf("MemberAtLeast(settings %d) = revision %d, %v", s.Revision, m.Revision(), err)
	}
	if got := teamperm.RevisionsOf(m); got != (teamperm.Revisions{Organization: 1, Settings: s.Revision}) {
		t.Errorf("RevisionsOf = %+v", got)
	}
	o := db.setOrg(cacheOrg, teamperm.PlanFree)
	if m, err = c.MemberAtLeast(ctx, cacheOrg, bob, teamperm.Revisions{Organization: o.Revision}); err != nil || m.Org() != o {
		t.Fatalf("MemberAtLeast(organization %d) = %+v, %v", o.Revision, m.Org(), err)
	}
	// A revision the loader does not have (yet): an error, never an
	// older member.
	m, err = c.MemberAtLeast(ctx, cacheOrg, bob, teamperm.Revisions{Settings: 99})
	if !errors.Is(err, teamperm.ErrStaleMember) || m != nil {
		t.Errorf("MemberAtLeast(settings 99) = %v, %v; want nil, ErrStaleMember", m, err)
	}
}

func TestCacheErrors(t *testing.T) {
	ctx := context.Background()
	db := twoMembers()
	db.setMember(cacheOrg, teamperm.Settings{Member: teamperm.IntID(9)}) // no role: does not compile
	c := teamperm.NewCache(db, 10)
	for _, tc := range []struct {
		name        string
		org, member teamperm.ID
		want        error
		loads       int64
	}{
		{"zero org", teamperm.ID{}, alice, teamperm.ErrInvalidID, 0},
		{"org 0", teamperm.IntID(0), alice, teamperm.ErrInvalidID, 0},
		{"empty member", cacheOrg, teamperm.StringID(""), teamperm.ErrInvalidID, 0},
		{"unknown member", cacheOrg, teamperm.IntID(404), errNoMember, 1},
		{"settings do not compile", cacheOrg, teamperm.IntID(9), teamperm.ErrUnknownRole, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range 2 { // errors are not cached
				before := db.loads.Load()
				m, err := c.Member(ctx, tc.org, tc.member)
				if !errors.Is(err, tc.want) || m != nil {
					t.Errorf("Member = %v, %v; want nil, %v", m, err, tc.want)
				}
				if got := db.loads.Load() - before; got != tc.loads {
					t.Errorf("%d loads, want %d", got, tc.loads)
				}
			}
		})
	}
	t.Run("loader returns another member", func(t *testing.T) {
		liar := teamperm.LoaderFunc(func(ctx context.Context, org, member teamperm.ID) (teamperm.Organization, teamperm.Settings, error) {
			return db.Load(ctx, org, bob)
		})
		m, err := teamperm.NewCache(liar, 10).Member(ctx, cacheOrg, alice)
		if !errors.Is(err, teamperm.ErrInvalidID) || m != nil {
			t.Errorf("Member = %v, %v; want nil, ErrInvalidID", m, err)
		}
	})
	t.Run("same revision, other features", func(t *testing.T) {
		c := teamperm.NewCache(db, 10)
		mustMember(t, c, cacheOrg, alice)
		db.mu.Lock()
		o := db.orgs[cacheOrg]
		o.Features = 0 // a host that forgot to bump the revision
		db.orgs[cacheOrg] = o
		db.mu.Unlock()
		defer db.setOrg(cacheOrg, teamperm.PlanPro)
		if m, err := c.Member(ctx, cacheOrg, bob); !errors.Is(err, teamperm.ErrStaleMember) || m != nil {
			t.Errorf("Member = %v, %v; want nil, ErrStaleMember", m, err)
		}
	})
}

// TestCacheLeaderGivesUp: the request that started a load goes away; the
// requests waiting for it load themselves.
func TestCacheLeaderGivesUp(t *testing.T) {
	db := twoMembers()
	gate := make(chan struct{})
	db.gate, db.entered = gate, make(chan struct{}, 1)
	c := teamperm.NewCache(db, 10)
	ctx, cancel := context.WithCancel(context.Background())
	leader := make(chan error)
	go func() {
		_, err := c.Member(ctx, cacheOrg, alice)
		leader <- err
	}()
	<-db.entered
	waiter := make(chan *teamperm.Member)
	go func() { waiter <- mustMember(t, c, cacheOrg, alice) }()
	for c.Stats().Shared < 1 {
		time.Sleep(time.Millisecond)
	}
	db.mu.Lock()
	db.gate, db.entered = nil, nil
	db.mu.Unlock()
	cancel()
	if err := <-leader; !errors.Is(err, context.Canceled) {
		t.Errorf("leader: %v, want context.Canceled", err)
	}
	if m := <-waiter; m.ID() != alice {
		t.Errorf("waiter got %v", m.ID())
	}
}

// TestCacheLoaderPanics: the waiters get an error, the panic goes on in
// the request whose load panicked, the load is counted, nothing is cached
// and the next lookup loads again.
func TestCacheLoaderPanics(t *testing.T) {
	entered, gate := make(chan struct{}), make(chan struct{})
	var calls atomic.Int32
	c := teamperm.NewCache(teamperm.LoaderFunc(func(ctx context.Context, org, member teamperm.ID) (teamperm.Organization, teamperm.Settings, error) {
		if calls.Add(1) > 1 {
			return teamperm.Organization{ID: org, Features: teamperm.PlanPro.Features()}, teamperm.Settings{Member: member, Role: teamperm.RoleMember}, nil
		}
		close(entered)
		<-gate
		panic("boom")
	}), 10)
	panicked := make(chan any)
	go func() {
		defer func() { panicked <- recover() }()
		c.Member(context.Background(), cacheOrg, alice)
	}()
	<-entered
	waiter := make(chan error)
	go func() {
		_, err := c.Member(context.Background(), cacheOrg, alice)
		waiter <- err
	}()
	for c.Stats().Shared < 1 {
		time.Sleep(time.Millisecond)
	}
	close(gate)
	if p := <-panicked; p != "boom" {
		t.Errorf("leader recovered %v, want boom", p)
	}
	if err := <-waiter; err == nil || !strings.Contains(err.Error(), "panicked") {
		t.Errorf("waiter: %v, want an error saying the loader panicked", err)
	}
	want := teamperm.CacheStats{Misses: 2, Shared: 1, Loads: 1}
	if diff := cmp.Diff(want, c.Stats()); diff != "" {
		t.Errorf("Stats after the panic (-want +got):\n%s", diff)
	}
	mustMember(t, c, cacheOrg, alice)
	want = teamperm.CacheStats{Misses: 3, Shared: 1, Loads: 2, Compiles: 1, Entries: 1}
	if diff := cmp.Diff(want, c.Stats()); diff != "" {
		t.Errorf("Stats after loading again (-want +got):\n%s", diff)
	}
}

func TestCacheNoAllocs(t *testing.T) {
	db := newMemDB()
	ids := []teamperm.ID{teamperm.IntID(3), teamperm.StringID("member-3"), mustUUID("6ba7b810-9dad-11d1-80b4-00c04fd430c8")}
	for _, org := range []teamperm.ID{teamperm.IntID(1), teamperm.StringID("acme")} {
		db.setOrg(org, teamperm.PlanPro)
		for _, id := range ids {
			db.setMember(org, teamperm.Settings{Member: id, Role: teamperm.RoleMember})
		}
	}
	c := teamperm.NewCache(db, 10)
	ctx := context.Background()
	for _, org := range []teamperm.ID{teamperm.IntID(1), teamperm.StringID("acme")} {
		for _, id := range ids {
			mustMember(t, c, org, id)
			if n := testing.AllocsPerRun(100, func() { c.Member(ctx, org, id) }); n != 0 {
				t.Errorf("Member(%v, %v): %v allocs per hit", org, id, n)
			}
			if n := testing.AllocsPerRun(100, func() { c.MemberAtLeast(ctx, org, id, teamperm.Revisions{Settings: 1}) }); n != 0 {
				t.Errorf("MemberAtLeast(%v, %v): %v allocs per hit", org, id, n)
			}
		}
	}
}

func TestNewCachePanicsOnNilLoader(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	teamperm.NewCache(nil, 1)
}

// TestCacheModel runs random operations against a cache and a fake
// database. The cache may serve a member compiled from any state the
// database has had since the member was last invalidated, and nothing
// else; a bound it is asked for is met; it never holds more than its size.
func TestCacheModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		orgs := orgPool[:2]
		members := memberPool[:4]
		db := newMemDB()
		for _, o := range orgs {
			db.setOrg(o, teamperm.PlanPro)
			for _, m := range members {
				db.setMember(o, teamperm.Settings{Member: m, Role: teamperm.RoleMember})
			}
		}
		size := rapid.IntRange(1, 6).Draw(t, "size")
		c := teamperm.NewCache(db, size)
		// allowed: the keys the cache may serve for each member.
		allowed := map[[2]teamperm.ID]map[teamperm.MemberKey]bool{}
		reset := func(org, member teamperm.ID) {
			allowed[[2]teamperm.ID{org, member}] = map[teamperm.MemberKey]bool{db.key(org, member): true}
		}
		for _, o := range orgs {
			for _, m := range members {
				reset(o, m)
			}
		}
		t.Repeat(map[string]func(*rapid.T){
			"lookup": func(t *rapid.T) {
				org, member := rapid.SampledFrom(orgs).Draw(t, "org"), rapid.SampledFrom(members).Draw(t, "member")
				var min teamperm.Revisions
				if rapid.Bool().Draw(t, "atLeast") {
					cur := db.key(org, member)
					min = teamperm.Revisions{Organization: cur.Organization.Revision, Settings: cur.Revision}
				}
				m, err := c.MemberAtLeast(context.Background(), org, member, min)
				if err != nil {
					t.Fatalf("MemberAtLeast(%v, %v, %+v): %v", org, member, min, err)
				}
				k := m.Key()
				if k.Organization.ID != org || k.Member != member {
					t.Fatalf("asked for %v of %v, got %+v", member, org, k)
				}
				if !allowed[[2]teamperm.ID{org, member}][k] {
					t.Fatalf("served key %+v, allowed %v", k, allowed[[2]teamperm.ID{org, member}])
				}
				if got := teamperm.RevisionsOf(m); got.Organization < min.Organization || got.Settings < min.Settings {
					t.Fatalf("revisions %+v below %+v", got, min)
				}
			},
			"edit": func(t *rapid.T) {
				org, member := rapid.SampledFrom(orgs).Draw(t, "org"), rapid.SampledFrom(members).Draw(t, "member")
				s := teamperm.Settings{Member: member, Role: rapid.SampledFrom([]teamperm.Role{teamperm.RoleMember, teamperm.RoleAdmin}).Draw(t, "role"), Grants: genPermissionSet(t, "grants")}
				db.setMember(org, s)
				if rapid.Bool().Draw(t, "invalidate") {
					c.InvalidateMember(org, member)
					reset(org, member)
				} else {
					allowed[[2]teamperm.ID{org, member}][db.key(org, member)] = true
				}
			},
			"plan": func(t *rapid.T) {
				org := rapid.SampledFrom(orgs).Draw(t, "org")
				db.setOrg(org, rapid.SampledFrom([]teamperm.Plan{teamperm.PlanFree, teamperm.PlanPro}).Draw(t, "plan"))
				invalidate := rapid.Bool().Draw(t, "invalidate")
				if invalidate {
					c.InvalidateOrganization(org)
				}
				for _, m := range members {
					if invalidate {
						reset(org, m)
					} else {
						allowed[[2]teamperm.ID{org, m}][db.key(org, m)] = true
					}
				}
			},
			"invalidateAll": func(t *rapid.T) {
				c.InvalidateAll()
				for _, o := range orgs {
					for _, m := range members {
						reset(o, m)
					}
				}
			},
			"": func(t *rapid.T) {
				if n := c.Len(); n > size {
					t.Fatalf("%d members held, size %d", n, size)
				}
				if err := teamperm.CheckCache(c); err != nil {
					t.Fatal(err)
				}
			},
		})
	})
}

// TestCacheConcurrent hammers a small cache from many goroutines (run it
// with -race): readers look members up at random and must get a member
// compiled from a state the database really had; writers change a
// member or a plan, invalidate it, and must then read their own change
// (or a newer one); the size bound holds throughout.
func TestCacheConcurrent(t *testing.T) {
	orgs := []teamperm.ID{teamperm.IntID(1), teamperm.StringID("acme")}
	members := []teamperm.ID{teamperm.IntID(1), teamperm.IntID(2), teamperm.IntID(3), teamperm.StringID("x"), teamperm.StringID("y"), mustUUID("6ba7b810-9dad-11d1-80b4-00c04fd430c8")}
	db := newMemDB()
	for _, o := range orgs {
		db.setOrg(o, teamperm.PlanPro)
		for _, m := range members {
			db.setMember(o, teamperm.Settings{Member: m, Role: teamperm.RoleMember})
		}
	}
	const size = 5
	c := teamperm.NewCache(db, size)
	ctx := context.Background()
	iterations := 3000
	if testing.Short() {
		iterations = 300
	}
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for range iterations {
				org, member := orgs[r.IntN(len(orgs))], members[r.IntN(len(members))]
				m, err := c.Member(ctx, org, member)
				if err != nil {
					t.Errorf("Member(%v, %v): %v", org, member, err)
					return
				}
				if !db.everHad(org, member, m.Key()) {
					t.Errorf("Member(%v, %v) served key %+v, which the database never had", org, member, m.Key())
					return
				}
				if n := c.Len(); n > size {
					t.Errorf("%d members held, size %d", n, size)
					return
				}
			}
		}()
	}
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 2))
			for range iterations / 10 {
				org, member := orgs[r.IntN(len(orgs))], members[r.IntN(len(members))]
				if r.IntN(5) == 0 {
					o := db.setOrg(org, []teamperm.Plan{teamperm.PlanFree, teamperm.PlanPro}[r.IntN(2)])
					c.InvalidateOrganization(org)
					if m, err := c.Member(ctx, org, member); err != nil || m.Org().Revision < o.Revision {
						t.Errorf("after the plan change to revision %d: %v, %v", o.Revision, m.Org(), err)
						return
					}
					continue
				}
				s := db.setMember(org, teamperm.Settings{Member: member, Role: teamperm.RoleMember, Grants: teamperm.PermissionSetOf(teamperm.Permission(1 + r.IntN(17)))})
				c.InvalidateMember(org, member)
				if m, err := c.Member(ctx, org, member); err != nil || m.Revision() < s.Revision {
					t.Errorf("after the edit to revision %d: revision %d, %v", s.Revision, m.Revision(), err)
					return
				}
			}
		}()
	}
	wg.Wait()
	s := c.Stats()
	t.Logf("%+v", s)
	if s.Entries+s.IdleStates > size {
		t.Errorf("%d entries and %d idle states, size %d", s.Entries, s.IdleStates, size)
	}
	if err := teamperm.CheckCache(c); err != nil {
		t.Error(err)
	}
}

// BenchmarkCacheMember is a request's lookup of its member in a warm
// cache of 10,000 members, next to Evaluate itself (BenchmarkEvaluate):
// the issue asks for at most 3x Evaluate and no allocation.
func BenchmarkCacheMember(b *testing.B) {
	db := newMemDB()
	org := teamperm.IntID(1)
	db.setOrg(org, teamperm.PlanPro)
	const n = 10_000
	for i := range n {
		db.setMember(org, teamperm.Settings{Member: teamperm.IntID(int64(i + 1)), Role: teamperm.RoleMember})
	}
	c := teamperm.NewCache(db, n)
	ctx := context.Background()
	for i := range n {
		mustMember(b, c, org, teamperm.IntID(int64(i+1)))
	}
	me := teamperm.IntID(42)
	b.Run("lookup", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = c.Member(ctx, org, me)
		}
	})
	b.Run("lookup-random", func(b *testing.B) {
		// Random members of the 10,000, not one hot pair; the IDs are
		// drawn before the timer starts.
		rng := rand.New(rand.NewPCG(1, 2))
		ids := make([]teamperm.ID, 4096)
		for i := range ids {
			ids[i] = teamperm.IntID(int64(1 + rng.IntN(n)))
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			_, _ = c.Member(ctx, org, ids[i&4095])
			i++
		}
	})
	b.Run("Evaluate-random", func(b *testing.B) {
		// Evaluate on the same random members, looked up before the timer
		// starts: what lookup-random compares with.
		rng := rand.New(rand.NewPCG(1, 2))
		ms := make([]*teamperm.Member, 4096)
		for i := range ms {
			ms[i] = mustMember(b, c, org, teamperm.IntID(int64(1+rng.IntN(n))))
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			_ = ms[i&4095].Evaluate(teamperm.ContactExport)
			i++
		}
	})
	b.Run("lookup-counting-hits", func(b *testing.B) {
		c.CountHits(true)
		defer c.CountHits(false)
		b.ReportAllocs()
		for b.Loop() {
			_, _ = c.Member(ctx, org, me)
		}
	})
	b.Run("lookup+Evaluate", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m, _ := c.Member(ctx, org, me)
			_ = m.Evaluate(teamperm.ContactExport)
		}
	})
	b.Run("Evaluate", func(b *testing.B) {
		m := mustMember(b, c, org, me)
		b.ReportAllocs()
		for b.Loop() {
			_ = m.Evaluate(teamperm.ContactExport)
		}
	})
	b.Run("lookup-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := int64(0)
			for pb.Next() {
				i++
				_, _ = c.Member(ctx, org, teamperm.IntID(1+i%n))
			}
		})
	})
	b.Run("string-ids", func(b *testing.B) {
		sorg, sme := teamperm.StringID("acme"), teamperm.StringID("member-42")
		db.setOrg(sorg, teamperm.PlanPro)
		db.setMember(sorg, teamperm.Settings{Member: sme, Role: teamperm.RoleMember})
		mustMember(b, c, sorg, sme)
		b.ReportAllocs()
		for b.Loop() {
			_, _ = c.Member(ctx, sorg, sme)
		}
	})
}

// TestReplay: every change ApplyEdits accepts replays to its After.
func TestReplay(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		org := teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.FineGrained}
		owner := mustCompile(t, org, teamperm.Settings{Member: teamperm.IntID(1), Role: teamperm.RoleOwner})
		target := teamperm.Settings{Member: teamperm.IntID(2), Role: teamperm.RoleMember, Revision: rapid.Uint64Range(0, 9).Draw(t, "revision")}
		edits := rapid.SliceOfN(rapid.Custom(func(t *rapid.T) teamperm.Edit {
			p := teamperm.Permission(rapid.IntRange(1, 17).Draw(t, "p"))
			switch rapid.IntRange(0, 4).Draw(t, "op") {
			case 0:
				return teamperm.Grant{Permission: p}
			case 1:
				return teamperm.Deny{Permission: p}
			case 2:
				return teamperm.ClearOverride{Permission: p}
			case 3:
				return teamperm.SetInstances{Access: genAccess(t, instancePool, "instances")}
			}
			return teamperm.SetRole{Role: rapid.SampledFrom([]teamperm.Role{teamperm.RoleMember, teamperm.RoleAdmin}).Draw(t, "role")}
		}), 1, 5).Draw(t, "edits")
		after, c, err := teamperm.ApplyEdits(owner, org, target, time.Time{}, edits...)
		if err != nil {
			t.Skip(err)
		}
		got, err := teamperm.Replay(c.Before, c.Edits...)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(after, got, settingsCmpOpts...); diff != "" {
			t.Fatalf("Replay (-ApplyEdits +Replay):\n%s", diff)
		}
	})
	if _, err := teamperm.Replay(teamperm.Settings{Member: alice, Role: teamperm.RoleMember}, teamperm.Grant{}); !errors.Is(err, teamperm.ErrUnknownPermission) {
		t.Errorf("Replay(grant of no permission) = %v, want ErrUnknownPermission", err)
	}
}

// BenchmarkRequestPath is what a web service runs per request to list a
// member's contacts: find the compiled member, decide on a record, get
// the scope of a kind and render it into the query's WHERE clause. From
// the cache ("cached") and compiling from the loaded settings on every
// request ("compile-per-request"). The loader is in memory, so the
// difference is teamperm's own cost, not a database's.
func BenchmarkRequestPath(b *testing.B) {
	db := newMemDB()
	org := teamperm.IntID(1)
	db.setOrg(org, teamperm.PlanPro)
	st := restrictedSettings(3)
	db.setMember(org, st)
	ctx := context.Background()
	mapping := teamperm.Mapping{Organization: teamperm.IntColumn("c.org_id"), Instance: teamperm.IntColumn("c.instance_id")}
	rec := teamperm.Record{Kind: teamperm.KindContact, Organization: org, Instance: teamperm.IntID(1001)}
	buf, args := make([]byte, 0, 256), make([]any, 0, 16)
	request := func(b *testing.B, m *teamperm.Member) {
		if d := m.EvaluateRecord(teamperm.ContactUpdate, rec); !d.Allowed() {
			b.Fatal(d)
		}
		var err error
		buf, args, err = m.Scope(teamperm.KindContact).AppendSQL(buf[:0], args[:0], teamperm.Postgres, mapping)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.Run("cached", func(b *testing.B) {
		c := teamperm.NewCache(db, 100)
		b.ReportAllocs()
		for b.Loop() {
			m, err := c.Member(ctx, org, st.Member)
			if err != nil {
				b.Fatal(err)
			}
			request(b, m)
		}
	})
	b.Run("compile-per-request", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			o, s, err := db.Load(ctx, org, st.Member)
			if err != nil {
				b.Fatal(err)
			}
			m, err := teamperm.Compile(o, s)
			if err != nil {
				b.Fatal(err)
			}
			request(b, m)
		}
	})
}

func TestCheckLoader(t *testing.T) {
	ctx := context.Background()
	db := twoMembers()
	db.setMember(cacheOrg, teamperm.Settings{Member: alice, Role: teamperm.RoleMember, Instances: teamperm.Only(teamperm.IntID(3), teamperm.IntID(4))})
	if err := teamperm.CheckLoader(ctx, db, cacheOrg, alice, teamperm.IntID(404)); err != nil {
		t.Errorf("a good loader: %v", err)
	}
	// A loader that finds anyone, answers for another member, and goes
	// back in time.
	var calls atomic.Uint64
	bad := teamperm.LoaderFunc(func(ctx context.Context, org, member teamperm.ID) (teamperm.Organization, teamperm.Settings, error) {
		rev := 10 - calls.Add(1)
		return teamperm.Organization{ID: org, Features: teamperm.FineGrained, Revision: rev}, teamperm.Settings{Member: bob, Role: teamperm.RoleMember}, nil
	})
	err := teamperm.CheckLoader(ctx, bad, cacheOrg, alice, teamperm.IntID(404))
	for _, want := range []string{"got member 8", "older than the first load", "should not exist"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("a bad loader: %v; want it to say %q", err, want)
		}
	}
}

// TestCacheInvalidateMemberKeepsTheNewestState: after InvalidateMember of
// an organisation's last cached member, a loader that lags behind (a
// replica still before a plan change) cannot roll the organisation back:
// the cache refuses the older state (found by an attack on the cache).
func TestCacheInvalidateMemberKeepsTheNewestState(t *testing.T) {
	rev := uint64(5)
	c := teamperm.NewCache(teamperm.LoaderFunc(func(ctx context.Context, org, member teamperm.ID) (teamperm.Organization, teamperm.Settings, error) {
		return teamperm.Organization{ID: org, Features: teamperm.FineGrained, Revision: rev}, teamperm.Settings{Member: member, Role: teamperm.RoleMember}, nil
	}), 16)
	ctx := context.Background()
	org := teamperm.IntID(1)
	if m, err := c.Member(ctx, org, teamperm.IntID(2)); err != nil || m.Org().Revision != 5 {
		t.Fatalf("first load: %v, %v", m.Org(), err)
	}
	rev = 3 // the loader now lags
	c.InvalidateMember(org, teamperm.IntID(2))
	for _, member := range []teamperm.ID{teamperm.IntID(2), teamperm.IntID(3)} {
		if m, err := c.Member(ctx, org, member); err == nil && m.Org().Revision < 5 {
			t.Errorf("member %v served at organisation revision %d after revision 5 was known", member, m.Org().Revision)
		}
	}
	c.InvalidateOrganization(org) // forgets the state: the older one is taken again
	if m, err := c.Member(ctx, org, teamperm.IntID(2)); err != nil || m.Org().Revision != 3 {
		t.Errorf("after InvalidateOrganization: %v, %v", m.Org(), err)
	}
}

// laggingLoader loads every member as a Member of an organisation on Pro
// at the revision rev[org] (1 when unset), which a test lowers to play a
// loader that lags behind.
type laggingLoader struct {
	mu  sync.Mutex
	rev map[teamperm.ID]uint64
}

func (l *laggingLoader) Load(ctx context.Context, org, member teamperm.ID) (teamperm.Organization, teamperm.Settings, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	rev, ok := l.rev[org]
	if !ok {
		rev = 1
	}
	return teamperm.Organization{ID: org, Features: teamperm.PlanPro.Features(), Revision: rev}, teamperm.Settings{Member: member, Role: teamperm.RoleMember}, nil
}

func (l *laggingLoader) set(org teamperm.ID, rev uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rev[org] = rev
}

// TestCacheIdleStatesBounded: the organisation states InvalidateMember
// keeps after dropping an organisation's last member count toward the
// cache's size, with its members: however many organisations go idle, the
// cache holds at most size members and states (it held one state per
// such organisation until InvalidateOrganization or InvalidateAll).
func TestCacheIdleStatesBounded(t *testing.T) {
	const size = 8
	c := teamperm.NewCache(&laggingLoader{rev: map[teamperm.ID]uint64{}}, size)
	member := teamperm.IntID(1)
	for k := range 200 {
		org := teamperm.IntID(int64(k + 1))
		mustMember(t, c, org, member)
		if k%3 == 0 { // a second member: the organisation is idle only once both go
			mustMember(t, c, org, teamperm.IntID(2))
			c.InvalidateMember(org, teamperm.IntID(2))
		}
		c.InvalidateMember(org, member)
		if n := teamperm.CacheOrgStates(c); n > size {
			t.Fatalf("after %d organisations: %d organisation states held, size %d", k+1, n, size)
		}
		if err := teamperm.CheckCache(c); err != nil {
			t.Fatalf("after %d organisations: %v", k+1, err)
		}
	}
	if s := c.Stats(); s.Entries != 0 || s.IdleStates != size || s.Evictions != 0 {
		t.Errorf("Stats: %+v, want no member, %d idle states, no member evicted", s, size)
	}
	c.InvalidateAll()
	if s := c.Stats(); s.Entries != 0 || s.IdleStates != 0 || teamperm.CacheOrgStates(c) != 0 {
		t.Errorf("after InvalidateAll: %+v, %d organisation states", s, teamperm.CacheOrgStates(c))
	}
}

// TestCacheIdleStatesGoFirst: while the cache has room an idle state is
// kept, and a lagging loader cannot roll its organisation back; when the
// cache needs room, the oldest idle state is forgotten before any member
// is evicted; an organisation that gets a member again is no longer idle.
func TestCacheIdleStatesGoFirst(t *testing.T) {
	l := &laggingLoader{rev: map[teamperm.ID]uint64{}}
	c := teamperm.NewCache(l, 3)
	ctx := context.Background()
	org := func(n int64) teamperm.ID { return teamperm.IntID(n) }
	a, b := teamperm.IntID(7), teamperm.IntID(8)
	l.set(org(1), 5)
	mustMember(t, c, org(1), a)
	mustMember(t, c, org(2), b)
	c.InvalidateMember(org(1), a) // org 1 idle at revision 5
	l.set(org(1), 3)              // the loader now lags
	mustMember(t, c, org(3), b)   // room for it: org 1 stays
	if s := c.Stats(); s.Entries != 2 || s.IdleStates != 1 {
		t.Fatalf("Stats: %+v, want 2 members and 1 idle state", s)
	}
	if m, err := c.Member(ctx, org(1), a); err == nil {
		t.Fatalf("organisation 1 rolled back to revision %d while its newer state was idle", m.Org().Revision)
	}
	l.set(org(1), 5)
	mustMember(t, c, org(1), a) // busy again: org 1 is no longer idle
	c.InvalidateMember(org(1), a)
	c.InvalidateMember(org(3), b) // idle after org 1: org 1 is the oldest
	mustMember(t, c, org(4), a)   // full: the oldest idle state (org 1) goes first
	if s := c.Stats(); s.Entries != 2 || s.IdleStates != 1 || s.Evictions != 0 {
		t.Fatalf("Stats: %+v, want 2 members, 1 idle state, no member evicted", s)
	}
	l.set(org(3), 0) // organisation 3, idle at revision 1, is kept
	if m, err := c.Member(ctx, org(3), b); err == nil {
		t.Fatalf("organisation 3 rolled back to revision %d: the newer idle state went first", m.Org().Revision)
	}
	l.set(org(3), 1)
	loads := c.Stats().Loads
	mustMember(t, c, org(5), a) // then organisation 3's
	if s := c.Stats(); s.Entries != 3 || s.IdleStates != 0 || s.Evictions != 0 || s.Loads != loads+1 {
		t.Fatalf("Stats: %+v, want 3 members, no idle state, no member evicted", s)
	}
	mustMember(t, c, org(2), b) // still cached: a hit
	if s := c.Stats(); s.Loads != loads+1 {
		t.Errorf("member %v of %v was evicted before the idle states: %+v", b, org(2), s)
	}
	if err := teamperm.CheckCache(c); err != nil {
		t.Error(err)
	}
}

// TestCacheSecondChance: in a full cache, a member looked up since it was
// loaded gets a second chance (the CLOCK policy of the Cache doc): the
// member dropped to make room for another is one that nobody looked up,
// as long as there is one.
func TestCacheSecondChance(t *testing.T) {
	db := newMemDB()
	db.setOrg(cacheOrg, teamperm.PlanPro)
	var ids []teamperm.ID
	for i := range 10 {
		id := teamperm.IntID(int64(100 + i))
		if i%2 == 1 {
			id = teamperm.StringID(fmt.Sprintf("member-%d", i))
		}
		ids = append(ids, id)
		db.setMember(cacheOrg, teamperm.Settings{Member: id, Role: teamperm.RoleMember})
	}
	rapid.Check(t, func(t *rapid.T) {
		size := rapid.IntRange(1, len(ids)-1).Draw(t, "size")
		c := teamperm.NewCache(db, size)
		order := rapid.Permutation(ids).Draw(t, "order")
		for _, id := range order[:size] {
			mustMember(t, c, cacheOrg, id) // a miss: loaded
		}
		used := map[teamperm.ID]bool{}
		for range rapid.IntRange(0, 2*size).Draw(t, "lookups") {
			id := rapid.SampledFrom(order[:size]).Draw(t, "used")
			used[id] = true
			mustMember(t, c, cacheOrg, id) // a hit
		}
		mustMember(t, c, cacheOrg, order[size]) // a miss in a full cache
		if s := c.Stats(); s.Evictions != 1 || s.Entries != size {
			t.Fatalf("after one miss in a full cache of %d: %d evictions, %d entries; want 1 and %d", size, s.Evictions, s.Entries, size)
		}
		if len(used) == size {
			return // every member had a second chance: any of them may go
		}
		for _, id := range order[:size] {
			if !used[id] {
				continue
			}
			before := db.loads.Load()
			mustMember(t, c, cacheOrg, id)
			if db.loads.Load() != before {
				t.Fatalf("member %v, looked up since it was loaded, was dropped while %d members were not", id, size-len(used))
			}
		}
	})
}

// TestCacheChurn: members come and go (loaded, evicted, invalidated) far
// more often than the cache holds them, so that dropped entries pile up
// in its table and the table is rebuilt again and again. Every lookup
// returns the member asked for, a member looked up twice in a row is
// loaded at most once, and the size bound holds.
func TestCacheChurn(t *testing.T) {
	db := newMemDB()
	org := teamperm.StringID("churn")
	db.setOrg(org, teamperm.PlanPro)
	var ids []teamperm.ID
	for i := range 200 {
		id := teamperm.IntID(int64(i + 1))
		if i%3 == 1 {
			id = teamperm.StringID(fmt.Sprintf("member-%d", i))
		}
		ids = append(ids, id)
		db.setMember(org, teamperm.Settings{Member: id, Role: teamperm.RoleMember})
	}
	const size = 3
	c := teamperm.NewCache(db, size)
	r := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		id := ids[r.IntN(len(ids))]
		m := mustMember(t, c, org, id)
		before := db.loads.Load()
		if again := mustMember(t, c, org, id); again != m || db.loads.Load() != before {
			t.Fatalf("member %v, just loaded, was loaded again", id)
		}
		if r.IntN(3) == 0 {
			c.InvalidateMember(org, ids[r.IntN(len(ids))])
		}
		if n := c.Len(); n > size {
			t.Fatalf("%d members held, size %d", n, size)
		}
	}
}

// TestCacheMemberAtLeastAfterAnOlderLoad: a request that needs a newer
// revision than the load it finds running (one that read the database
// before the change the request knows of) loads again: with a loader
// that reads the primary, MemberAtLeast never fails with ErrStaleMember
// for revisions the database had when it was called.
func TestCacheMemberAtLeastAfterAnOlderLoad(t *testing.T) {
	db := twoMembers()
	c := teamperm.NewCache(db, 10)
	ctx := context.Background()
	mustMember(t, c, cacheOrg, alice) // cached at settings revision 1
	second := db.setMember(cacheOrg, teamperm.Settings{Member: alice, Role: teamperm.RoleMember})
	gate := make(chan struct{})
	db.mu.Lock()
	db.gate, db.entered = gate, make(chan struct{}, 1)
	db.mu.Unlock()
	first := make(chan *teamperm.Member)
	go func() {
		m, err := c.MemberAtLeast(ctx, cacheOrg, alice, teamperm.Revisions{Settings: second.Revision})
		if err != nil {
			t.Errorf("MemberAtLeast(settings %d): %v", second.Revision, err)
		}
		first <- m
	}()
	<-db.entered // that load read revision 2 and waits
	db.mu.Lock()
	db.gate, db.entered = nil, nil
	db.mu.Unlock()
	third := db.setMember(cacheOrg, teamperm.Settings{Member: alice, Role: teamperm.RoleAdmin})
	later := make(chan *teamperm.Member)
	go func() {
		m, err := c.MemberAtLeast(ctx, cacheOrg, alice, teamperm.Revisions{Settings: third.Revision})
		if err != nil {
			t.Errorf("MemberAtLeast(settings %d) while a load of revision %d runs: %v", third.Revision, second.Revision, err)
		}
		later <- m
	}()
	for c.Stats().Shared < 1 { // the later request waits for the running load
		time.Sleep(time.Millisecond)
	}
	close(gate)
	if m := <-first; m != nil && m.Revision() < second.Revision {
		t.Errorf("first request: revision %d, want %d or newer", m.Revision(), second.Revision)
	}
	if m := <-later; m != nil && m.Revision() < third.Revision {
		t.Errorf("later request: revision %d, want %d or newer", m.Revision(), third.Revision)
	}
}

// TestCacheLoadsAgainBounded: the bounds of the Cache doc on loading
// again. A load older than the state the cache already holds (it raced
// with a newer one) is loaded again, up to ten times; a load older than
// the revisions MemberAtLeast asks for, up to three times. Past the bound
// the request fails with ErrStaleMember, never returning the older member.
func TestCacheLoadsAgainBounded(t *testing.T) {
	ctx := context.Background()
	member, other := teamperm.IntID(2), teamperm.IntID(3)
	// staleLoader returns, for member, the organisation at revision 1 and
	// its settings at revision 1 for the first `stale` calls, then
	// revision 2 of the one that goes stale; other is always current.
	staleLoader := func(stale int, orgStale bool, calls *int) teamperm.Loader {
		return teamperm.LoaderFunc(func(ctx context.Context, org, m teamperm.ID) (teamperm.Organization, teamperm.Settings, error) {
			o := teamperm.Organization{ID: org, Features: teamperm.PlanPro.Features(), Revision: 2}
			s := teamperm.Settings{Member: m, Role: teamperm.RoleMember, Revision: 2}
			if m == member {
				if *calls++; *calls <= stale {
					if orgStale {
						o.Revision = 1
					} else {
						s.Revision = 1
					}
				}
			}
			return o, s, nil
		})
	}
	for _, stale := range []int{0, 1, 9, 10, 11} {
		t.Run(fmt.Sprintf("older than cached/%d", stale), func(t *testing.T) {
			calls := 0
			c := teamperm.NewCache(staleLoader(stale, true, &calls), 10)
			if _, err := c.Member(ctx, cacheOrg, other); err != nil { // the cache learns revision 2
				t.Fatal(err)
			}
			m, err := c.Member(ctx, cacheOrg, member)
			wantLoads := min(stale+1, 11)
			switch {
			case calls != wantLoads:
				t.Errorf("%d loads, want %d", calls, wantLoads)
			case stale <= 10 && (err != nil || m.Org().Revision != 2):
				t.Errorf("Member = %+v, %v; want organisation revision 2", m.Org(), err)
			case stale > 10 && (!errors.Is(err, teamperm.ErrStaleMember) || m != nil):
				t.Errorf("Member = %v, %v; want nil, ErrStaleMember", m, err)
			}
		})
	}
	for _, stale := range []int{1, 2, 3, 4} {
		t.Run(fmt.Sprintf("older than asked/%d", stale), func(t *testing.T) {
			calls := 0
			c := teamperm.NewCache(staleLoader(stale+1, false, &calls), 10)
			if m, err := c.Member(ctx, cacheOrg, member); err != nil || m.Revision() != 1 { // cached at revision 1
				t.Fatalf("Member = %v, %v", m, err)
			}
			m, err := c.MemberAtLeast(ctx, cacheOrg, member, teamperm.Revisions{Settings: 2})
			wantLoads := min(stale+1, 3)
			switch {
			case calls-1 != wantLoads:
				t.Errorf("%d loads, want %d", calls-1, wantLoads)
			case stale < 3 && (err != nil || m.Revision() != 2):
				t.Errorf("MemberAtLeast = %v, %v; want settings revision 2", m, err)
			case stale >= 3 && (!errors.Is(err, teamperm.ErrStaleMember) || m != nil):
				t.Errorf("MemberAtLeast = %v, %v; want nil, ErrStaleMember", m, err)
			}
		})
	}
}
