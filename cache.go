package teamperm

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// A Loader supplies what [Compile] needs for one member: the current state
// of the organisation (its features and their revision) and the member's
// stored [Settings]. A host implements it over its database (the companion
// module github.com/teamperm/teamperm/store does), and a [Cache] calls it
// on a miss.
//
// The contract:
//   - Load is called concurrently, by any goroutine that misses, with that
//     request's context; it must be safe for concurrent use.
//   - It returns the organisation's state and the member's settings as
//     they are now (read from the primary, not a lagging replica, or the
//     cache may serve a state older than one a client has already seen:
//     see [Cache.MemberAtLeast]). The organisation's ID and the settings'
//     member must be the ones asked for.
//   - A member that does not exist is an error of the host's choosing
//     (wrap a sentinel the host can test with [errors.Is]); the cache
//     passes errors through unchanged and never caches them.
//   - A panic in Load is not recovered: it goes on in the request whose
//     lookup called Load. The requests waiting for that load are released
//     with an error that says the loader panicked; nothing is cached, and
//     the next lookup loads again.
//   - The cache copies what it keeps ([Compile] does); the loader may reuse
//     the slices of the settings it returned.
type Loader interface {
	Load(ctx context.Context, org, member ID) (Organization, Settings, error)
}

// LoaderFunc adapts a function to a [Loader].
type LoaderFunc func(ctx context.Context, org, member ID) (Organization, Settings, error)

// Load calls f.
func (f LoaderFunc) Load(ctx context.Context, org, member ID) (Organization, Settings, error) {
	return f(ctx, org, member)
}

// Revisions is a lower bound on the state a request must see: the
// organisation's revision ([Organization.Revision], bumped by every plan
// change) and the member's settings revision ([Settings.Revision], bumped
// by every batch of edits). A client that has just changed something gets
// the new revision back and sends it with its next request, which then
// never sees the change undone (Zanzibar calls such a bound a zookie,
// SpiceDB a ZedToken). The zero value asks for no bound: whatever the
// cache holds.
//
// Revisions is comparable with == and safe as a map key.
type Revisions struct {
	Organization uint64
	Settings     uint64
}

// RevisionsOf returns the revisions m was compiled for: the bound under
// which a cache serves m again, or anything newer.
func RevisionsOf(m *Member) Revisions {
	if m == nil {
		return Revisions{}
	}
	return Revisions{Organization: m.orgState.Revision, Settings: m.revision}
}

// satisfies reports whether m is at least at min.
func (m *Member) satisfies(min Revisions) bool {
	return m.orgState.Revision >= min.Organization && m.revision >= min.Settings
}

// CacheStats are the counters of a [Cache], for a host to export as
// metrics. Every count is cumulative since [NewCache]; Entries is the
// number of members held now.
type CacheStats struct {
	// Hits are lookups answered from memory, counted only while
	// [Cache.CountHits] is on (it is off in a new cache): 0 otherwise.
	Hits uint64
	// Misses are lookups that were not: nothing cached for the member, or
	// older than the revisions the request asked for. They are always
	// counted; a host that counts its own requests has the hit ratio
	// without [Cache.CountHits].
	Misses uint64
	// Shared are misses that waited for a load another request had
	// started for the same member instead of loading again.
	Shared uint64
	// Loads are calls of the [Loader], counted when the call starts, so
	// one that fails, panics or never returns counts too; Compiles are
	// members compiled from what it returned. Under a burst of requests
	// for one member both grow by one.
	Loads, Compiles uint64
	// Evictions are members dropped to stay within the cache's size.
	Evictions uint64
	// Invalidations are calls of the Invalidate methods.
	Invalidations uint64
	// Entries is the number of compiled members held.
	Entries int
	// IdleStates is the number of organisation states held without a
	// member (kept by [Cache.InvalidateMember]); they count toward the
	// cache's size with Entries.
	IdleStates int
}

// A Cache holds compiled members, so that a request looks its member up in
// nanoseconds instead of loading and compiling it. It is keyed by
// everything a member depends on ([MemberKey]: the organisation's ID,
// features and revision, the member's ID and settings revision).
//
// A request knows only the organisation and member IDs. For each it finds
// the member compiled from the newest state the cache knows: the cache
// keeps, per organisation, the newest [Organization] its [Loader] returned
// and drops every member compiled for an older one as soon as it learns of
// a newer one; per member it keeps the newest settings. Nothing is ever
// served after it was invalidated: [Cache.InvalidateMember],
// [Cache.InvalidateOrganization] and [Cache.InvalidateAll] drop what they
// name, and a load that was running when they were called is handed to the
// requests already waiting for it but never kept (nor handed to a later
// request). The host (or the store's change notifications) invalidates
// whenever a member's settings or an organisation's plan change; between
// the change and the invalidation the cache serves the old member, so the
// host's staleness bound is the delay of its invalidations.
//
// Under a burst of requests for a member that is not cached, one request
// loads and compiles it and the others wait for it (and give up when their
// own context is done). Loader errors are returned, never cached.
//
// The cache holds at most the number of entries given to [NewCache]: its
// members, and the idle organisation states that [Cache.InvalidateMember]
// keeps (the newest state of an organisation whose last cached member it
// dropped, so that a lagging loader cannot roll the organisation back).
// When full, it first forgets the oldest idle state, and only when there
// is none drops a member by the CLOCK policy (an approximation of least
// recently used: a member looked up since the hand last passed it gets a
// second chance). The trade-off: idle states are bounded and never cost
// a member its place, but under pressure an organisation's newest state
// is forgotten, as when its last member is evicted: the next load of one
// of its members sets it again, from whatever the loader returns (so a
// host whose loader may lag behind a client's own change passes that
// change's revisions to [Cache.MemberAtLeast], which is exact whatever
// the cache forgot).
// Oldest first, because the older the invalidation, the likelier a lagging
// replica has caught up with it.
//
// A Cache is safe for concurrent use. A lookup that hits ([Cache.Member],
// [Cache.MemberAtLeast]) takes no lock and does not allocate; it costs a
// few nanoseconds. The zero Cache is not usable: make one with
// [NewCache]; do not copy it.
type Cache struct {
	loader Loader
	size   int
	seed   maphash.Seed
	intKey [2]uint64 // seeds for integer keys

	table atomic.Pointer[cacheTable] // readers' index; writers hold mu

	countHits atomic.Bool
	hits      [cacheStripes]paddedCounter
	misses    atomic.Uint64
	shared    atomic.Uint64
	loads     atomic.Uint64
	comps     atomic.Uint64
	evicts    atomic.Uint64
	invals    atomic.Uint64

	mu      sync.Mutex
	orgs    map[ID]*cacheOrg     // what is cached, per organisation
	idle    list.List            // of *cacheOrg: the organisations without a member, oldest first
	flights map[cacheRef]*flight // loads running
	ring    []*cacheEntry        // every entry, for the CLOCK hand
	hand    int                  // the CLOCK hand, an index into ring
	tombs   int                  // tombstones in table
}

const cacheStripes = 16

type paddedCounter struct {
	n atomic.Uint64
	_ [56]byte
}

// cacheRef names a member as a request knows it.
type cacheRef struct{ org, member ID }

// cacheOrg is what the cache holds of one organisation: the newest state
// it has seen and its cached members, all compiled for that state. An
// organisation without a member is idle: in the cache's idle list, and
// counted toward its size.
type cacheOrg struct {
	state   Organization
	members map[ID]*cacheEntry
	idle    *list.Element // in Cache.idle, or nil
}

// A cacheEntry is one compiled member. It never changes but for its
// state bits: entryDead once it is dropped (a reader that finds it in an
// older copy of the table sees that), entryRef when a lookup used it since
// the CLOCK hand last passed.
type cacheEntry struct {
	ref   cacheRef
	hash  uint64
	m     *Member
	state atomic.Uint32
	pos   int // index in Cache.ring
}

const (
	entryDead uint32 = 1 << iota
	entryRef
)

// tombstone marks a slot whose entry was dropped: lookups go on past it.
var tombstone = func() *cacheEntry {
	e := &cacheEntry{}
	e.state.Store(entryDead)
	return e
}()

// cacheTable is an open-addressing hash table (linear probing) of entries,
// read without locks: slots are atomic, and only a writer holding the
// cache's mutex changes them. It is at most three quarters full, counting
// tombstones; then the writer builds a new one.
type cacheTable struct {
	slots []atomic.Pointer[cacheEntry]
	mask  uint64
}

// A flight is one load running for a member. Requests that miss meanwhile
// wait for it. invalidated (under the cache's mutex) means an invalidation
// came while it ran: its result goes to those already waiting, no further.
type flight struct {
	done        chan struct{}
	m           *Member
	err         error
	invalidated bool
}

// DefaultCacheSize is the size [NewCache] uses when given 0 or less.
const DefaultCacheSize = 10_000

// NewCache returns an empty cache of at most size entries (compiled
// members and idle organisation states, see [Cache]) that loads missing
// members with l. A size of 0 or less means
// [DefaultCacheSize]. It panics if l is nil.
func NewCache(l Loader, size int) *Cache {
	if l == nil {
		panic("teamperm: NewCache with a nil Loader")
	}
	if size <= 0 {
		size = DefaultCacheSize
	}
	c := &Cache{loader: l, size: size, seed: maphash.MakeSeed()}
	c.intKey[0] = maphash.Comparable(c.seed, uint64(0x9e3779b97f4a7c15)) | 1
	c.intKey[1] = maphash.Comparable(c.seed, uint64(0xbf58476d1ce4e5b9)) | 1
	c.orgs = map[ID]*cacheOrg{}
	c.flights = map[cacheRef]*flight{}
	c.table.Store(newCacheTable(size))
	return c
}

func newCacheTable(size int) *cacheTable {
	n := 16
	for n < 2*size {
		n <<= 1
	}
	return &cacheTable{slots: make([]atomic.Pointer[cacheEntry], n), mask: uint64(n - 1)}
}

// hash hashes a member's key: two multiplications for integer IDs, and
// hash/maphash with the cache's own seed for others.
func (c *Cache) hash(org, member ID) uint64 {
	if len(org.s)|len(member.s) == 0 {
		h := (uint64(org.n)*c.intKey[0] ^ uint64(member.n)) * c.intKey[1]
		return h ^ h>>29
	}
	return c.hashText(org, member)
}

func (c *Cache) hashText(org, member ID) uint64 {
	h := (maphash.String(c.seed, org.s)^uint64(org.n)^uint64(org.kind)<<56)*c.intKey[0] ^ maphash.String(c.seed, member.s) ^ uint64(member.n) ^ uint64(member.kind)<<56
	return h * c.intKey[1]
}

// Member returns the compiled member with ID member of organisation org:
// from memory if it is cached, else loaded with the cache's [Loader] and
// compiled. It is [Cache.MemberAtLeast] with no bound.
//
// On error it returns nil (which denies everything) and the error: an
// invalid organisation or member ID ([ErrInvalidID]), the loader's error,
// the compile error of the stored settings, or [ErrStaleMember] when the
// loader returned an organisation whose features changed without a new
// revision, or kept returning states older than the ones the cache
// already holds. A load older than what the cache holds (it raced with a
// load of a newer state) is not kept: the member is loaded again, up to
// ten more times (eleven loads in all).
func (c *Cache) Member(ctx context.Context, org, member ID) (*Member, error) {
	return c.get(ctx, org, member, Revisions{}) // inlined: one call, to get
}

// MemberAtLeast is [Cache.Member] for a request that must see at least
// the revisions min: the organisation compiled at [Organization.Revision]
// min.Organization or newer, and the member's settings at revision
// min.Settings or newer. A cached member older than that is loaded again,
// and so is one that a load already running returns (it read the
// database before the change the client knows of), up to three times in
// all. If the [Loader] itself keeps returning an older state (it reads a
// replica that lags, say), MemberAtLeast returns an error wrapping
// [ErrStaleMember] rather than a member older than the client has already
// seen; an HTTP handler answers 409 or 503, and the client retries.
//
// Pass the revisions a client got back from its own change ([RevisionsOf]
// of the member it changed, or the organisation's new revision after a
// plan change): that client never sees its change undone, on any replica.
func (c *Cache) MemberAtLeast(ctx context.Context, org, member ID, min Revisions) (*Member, error) {
	return c.get(ctx, org, member, min)
}

// get is Member and MemberAtLeast: the lookup, and the load when it
// misses. The lookup is written out here rather than in a function of its
// own: the call would cost a third of it. It takes no lock and does not
// allocate.
func (c *Cache) get(ctx context.Context, org, member ID, min Revisions) (*Member, error) {
	var h uint64
	if len(org.s)|len(member.s) == 0 { // c.hash, inlined
		h = (uint64(org.n)*c.intKey[0] ^ uint64(member.n)) * c.intKey[1]
		h ^= h >> 29
	} else {
		h = c.hashText(org, member)
	}
	t := c.table.Load()
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		e := t.slots[i].Load()
		if e == nil {
			break
		}
		if e.hash != h || !e.ref.member.eq(member) || !e.ref.org.eq(org) {
			continue // another member, or a tombstone (hash 0, zero IDs)
		}
		s := e.state.Load()
		if s&entryDead != 0 || !e.m.satisfies(min) {
			break // dropped, or older than the request asks for: a miss
		}
		if s&entryRef == 0 {
			e.state.Or(entryRef)
		}
		if c.countHits.Load() {
			c.hits[h%cacheStripes].n.Add(1)
		}
		return e.m, nil
	}
	return c.load(ctx, org, member, min)
}

// CountHits turns the counting of hits ([CacheStats.Hits]) on or off; a
// new cache does not count them. Counting costs an atomic addition per
// hit, which is most of the cost of a lookup (BENCHMARKS.md: about 4 ns,
// and more when many cores hit the cache at once); every other counter
// is on the slow path and always counted. Like the caches Go services
// commonly use (ristretto's Metrics option), it is off unless asked for.
// It is safe to call at any time, from any goroutine.
func (c *Cache) CountHits(on bool) { c.countHits.Store(on) }

// errOlder is the internal result of a load that returned an older state
// than the cache already holds: the request loads again.
var errOlder = errors.New("loaded state is older than the cached one")

// load is the slow path: one load per member at a time.
func (c *Cache) load(ctx context.Context, org, member ID, min Revisions) (*Member, error) {
	if err := validateKey("organization", org); err != nil {
		return nil, err
	}
	if err := validateKey("member", member); err != nil {
		return nil, err
	}
	c.misses.Add(1)
	ref := cacheRef{org, member}
	// attempts counts loads too old for min; older counts loads older
	// than what the cache held meanwhile (they raced with a newer one).
	for attempt, older := 1, 0; ; {
		c.mu.Lock()
		if e := c.entryLocked(ref); e != nil && e.m.satisfies(min) {
			c.mu.Unlock()
			return e.m, nil
		}
		f, leader := c.flights[ref], false
		if f == nil {
			f, leader = &flight{done: make(chan struct{})}, true
			c.flights[ref] = f
		} else {
			c.shared.Add(1)
		}
		c.mu.Unlock()
		if leader {
			c.run(ctx, ref, f)
		}
		select {
		case <-f.done:
		case <-ctx.Done():
			return nil, fmt.Errorf("teamperm: waiting for member %v of organization %v: %w", member, org, context.Cause(ctx))
		}
		switch {
		case f.err == nil && f.m.satisfies(min):
			return f.m, nil
		case f.err == nil:
			// Too old for this request: load again, a few times.
			if attempt++; attempt > 3 {
				have := RevisionsOf(f.m)
				return nil, fmt.Errorf("teamperm: member %v of organization %v: want organization revision %d and settings revision %d or newer, the loader has %d and %d: %w",
					member, org, min.Organization, min.Settings, have.Organization, have.Settings, ErrStaleMember)
			}
		case errors.Is(f.err, errOlder):
			// Older than what the cache holds meanwhile: load again.
			if older++; older > 10 {
				return nil, fmt.Errorf("teamperm: member %v of organization %v: the loader keeps returning states older than the cached ones: %w", member, org, ErrStaleMember)
			}
		case !leader && ctx.Err() == nil && (errors.Is(f.err, context.Canceled) || errors.Is(f.err, context.DeadlineExceeded)):
			// The leader's request went away: this one loads itself.
		default:
			return nil, f.err
		}
	}
}

// run loads and compiles the member of f, keeps it unless an invalidation
// came meanwhile, and wakes the requests waiting for f.
func (c *Cache) run(ctx context.Context, ref cacheRef, f *flight) {
	finished := false
	defer func() {
		if finished {
			return
		}
		// The loader panicked: wake the waiters with an error, then
		// let the panic go on in this request.
		c.mu.Lock()
		if c.flights[ref] == f {
			delete(c.flights, ref)
		}
		c.mu.Unlock()
		f.err = fmt.Errorf("teamperm: the loader panicked loading member %v of organization %v", ref.member, ref.org)
		close(f.done)
	}()
	c.loads.Add(1) // before the call: a load that panics was attempted too
	o, s, err := c.loader.Load(ctx, ref.org, ref.member)
	var m *Member
	if err == nil && (o.ID != ref.org || s.Member != ref.member) {
		err = fmt.Errorf("teamperm: the loader returned member %v of organization %v for member %v of organization %v: %w",
			s.Member, o.ID, ref.member, ref.org, ErrInvalidID)
	}
	if err == nil {
		m, err = Compile(o, s)
		c.comps.Add(1)
	}
	c.mu.Lock()
	if c.flights[ref] == f {
		delete(c.flights, ref)
	}
	if err == nil && !f.invalidated {
		m, err = c.installLocked(m)
	}
	c.mu.Unlock()
	f.m, f.err = m, err
	finished = true
	close(f.done)
}

// entryLocked returns the live entry of ref, or nil.
func (c *Cache) entryLocked(ref cacheRef) *cacheEntry {
	if o := c.orgs[ref.org]; o != nil {
		return o.members[ref.member]
	}
	return nil
}

// installLocked keeps m, unless the cache already holds a newer state of
// its organisation or settings (errOlder). A newer organisation state
// drops every member compiled for an older one.
func (c *Cache) installLocked(m *Member) (*Member, error) {
	ref := cacheRef{m.org, m.id}
	o := c.orgs[ref.org]
	switch {
	case o == nil:
		o = &cacheOrg{state: m.orgState, members: map[ID]*cacheEntry{}}
		c.orgs[ref.org] = o
	case o.state == m.orgState:
	case m.orgState.Revision > o.state.Revision:
		for _, e := range o.members {
			c.removeLocked(e)
		}
		o.state = m.orgState
	case m.orgState.Revision < o.state.Revision:
		return nil, errOlder
	default:
		return nil, fmt.Errorf("teamperm: organization %v changed from %v to %v at the same revision %d: bump Organization.Revision on every change: %w",
			ref.org, o.state.Features, m.orgState.Features, m.orgState.Revision, ErrStaleMember)
	}
	if e := o.members[ref.member]; e != nil {
		switch {
		case e.m.revision > m.revision:
			return nil, errOlder
		case e.m.revision == m.revision:
			return e.m, nil
		}
		c.removeLocked(e)
	}
	c.busyLocked(o) // before making room: it is not to be forgotten
	for len(c.ring)+c.idle.Len() >= c.size {
		if f := c.idle.Front(); f != nil {
			c.forgetLocked(f.Value.(*cacheOrg))
		} else {
			c.evictLocked()
		}
	}
	c.orgs[ref.org] = o // removing its last member dropped it
	e := &cacheEntry{ref: ref, hash: c.hash(ref.org, ref.member), m: m, pos: len(c.ring)}
	o.members[ref.member] = e
	c.ring = append(c.ring, e)
	c.placeLocked(c.table.Load(), e)
	return m, nil
}

// placeLocked puts e into t, in the first free slot or tombstone of its
// probe sequence, and builds a new table when t is too full.
func (c *Cache) placeLocked(t *cacheTable, e *cacheEntry) {
	for i := e.hash & t.mask; ; i = (i + 1) & t.mask {
		switch s := t.slots[i].Load(); s {
		case nil:
			t.slots[i].Store(e)
			if uint64(len(c.ring)+c.tombs)*4 > (t.mask+1)*3 {
				c.rebuildLocked()
			}
			return
		case tombstone:
			t.slots[i].Store(e)
			c.tombs--
			return
		}
	}
}

// rebuildLocked replaces the table by a new one without tombstones.
// Readers of the old one still find live entries there, and see dropped
// ones as dead.
func (c *Cache) rebuildLocked() {
	t := newCacheTable(c.size)
	for _, e := range c.ring {
		for i := e.hash & t.mask; ; i = (i + 1) & t.mask {
			if t.slots[i].Load() == nil {
				t.slots[i].Store(e)
				break
			}
		}
	}
	c.tombs = 0
	c.table.Store(t)
}

// removeLocked drops e: dead for readers, a tombstone in the table, gone
// from the ring and its organisation (and the organisation, once empty).
func (c *Cache) removeLocked(e *cacheEntry) {
	e.state.Or(entryDead)
	t := c.table.Load()
	for i := e.hash & t.mask; ; i = (i + 1) & t.mask {
		s := t.slots[i].Load()
		if s == e {
			t.slots[i].Store(tombstone)
			c.tombs++
			break
		}
		if s == nil {
			break // not in this table (cannot happen)
		}
	}
	last := c.ring[len(c.ring)-1]
	c.ring[e.pos], last.pos = last, e.pos
	c.ring[len(c.ring)-1] = nil
	c.ring = c.ring[:len(c.ring)-1]
	if c.hand >= len(c.ring) {
		c.hand = 0
	}
	if o := c.orgs[e.ref.org]; o != nil {
		delete(o.members, e.ref.member)
		if len(o.members) == 0 {
			delete(c.orgs, e.ref.org)
		}
	}
}

// idleLocked keeps o, which has no member left, as an idle state.
func (c *Cache) idleLocked(o *cacheOrg) {
	c.orgs[o.state.ID] = o
	if o.idle == nil {
		o.idle = c.idle.PushBack(o)
	}
}

// busyLocked takes o off the idle list, if it is on it.
func (c *Cache) busyLocked(o *cacheOrg) {
	if o.idle != nil {
		c.idle.Remove(o.idle)
		o.idle = nil
	}
}

// forgetLocked forgets the idle organisation state o.
func (c *Cache) forgetLocked(o *cacheOrg) {
	c.busyLocked(o)
	if c.orgs[o.state.ID] == o {
		delete(c.orgs, o.state.ID)
	}
}

// evictLocked drops one entry by the CLOCK policy.
func (c *Cache) evictLocked() {
	for len(c.ring) > 0 {
		if c.hand >= len(c.ring) {
			c.hand = 0
		}
		e := c.ring[c.hand]
		if e.state.Load()&entryRef != 0 {
			e.state.And(^entryRef)
			c.hand++
			continue
		}
		c.removeLocked(e)
		c.evicts.Add(1)
		return
	}
}

// InvalidateMember drops the cached member with ID member of organisation
// org, if any, and any load of it that is running: every lookup that
// starts after InvalidateMember returns loads the member again. Call it
// after the member's settings changed (the store does).
//
// It keeps the newest state of org the cache knows, even when it drops
// org's last member, so that a loader that lags behind cannot roll org
// back to an older state for the next loads. Such an idle state counts
// toward the cache's size and is forgotten first when the cache needs
// room (see [Cache] for the trade-off); [Cache.InvalidateOrganization]
// and [Cache.InvalidateAll] forget it at once.
func (c *Cache) InvalidateMember(org, member ID) {
	c.invals.Add(1)
	ref := cacheRef{org, member}
	c.mu.Lock()
	defer c.mu.Unlock()
	if f := c.flights[ref]; f != nil {
		f.invalidated = true
		delete(c.flights, ref)
	}
	if e := c.entryLocked(ref); e != nil {
		o := c.orgs[org]
		c.removeLocked(e)
		if len(o.members) == 0 {
			// Keep the newest state of the organisation known, even
			// without a member left: a lagging loader must not roll it
			// back. It takes the place of the member it replaces, so the
			// cache stays within its size.
			c.idleLocked(o)
		}
	}
}

// InvalidateOrganization drops every cached member of organisation org,
// and the state of org the cache knows, and any load running for one of
// its members. Call it after the organisation's plan changed.
func (c *Cache) InvalidateOrganization(org ID) {
	c.invals.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	for ref, f := range c.flights {
		if ref.org == org {
			f.invalidated = true
			delete(c.flights, ref)
		}
	}
	if o := c.orgs[org]; o != nil {
		for _, e := range o.members {
			c.removeLocked(e)
		}
		c.busyLocked(o)
	}
	delete(c.orgs, org)
}

// InvalidateAll drops everything the cache holds, and every load running.
// A process that may have missed invalidations (its notification
// connection dropped) calls it.
func (c *Cache) InvalidateAll() {
	c.invals.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	for ref, f := range c.flights {
		f.invalidated = true
		delete(c.flights, ref)
	}
	for _, e := range c.ring {
		e.state.Or(entryDead)
	}
	clear(c.ring)
	c.ring = c.ring[:0]
	c.hand, c.tombs = 0, 0
	c.orgs = map[ID]*cacheOrg{}
	c.idle.Init()
	c.table.Store(newCacheTable(c.size))
}

// Len returns the number of members the cache holds.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.ring)
}

// Stats returns the cache's counters.
func (c *Cache) Stats() CacheStats {
	var hits uint64
	for i := range c.hits {
		hits += c.hits[i].n.Load()
	}
	c.mu.Lock()
	entries, idle := len(c.ring), c.idle.Len()
	c.mu.Unlock()
	return CacheStats{
		Hits:          hits,
		Misses:        c.misses.Load(),
		Shared:        c.shared.Load(),
		Loads:         c.loads.Load(),
		Compiles:      c.comps.Load(),
		Evictions:     c.evicts.Load(),
		Invalidations: c.invals.Load(),
		Entries:       entries,
		IdleStates:    idle,
	}
}

// CheckLoader checks that l keeps the [Loader] contract, for a host's own
// tests of its loader against its real database: it loads member of org
// (which must exist) and missing (which must not), from several goroutines
// at once, and reports every violation it finds, joined with
// [errors.Join], or nil. It checks that a load returns the organisation
// and member asked for, settings that compile, the same state or a newer
// one when loaded again, from any goroutine; and that a member that does
// not exist is an error.
func CheckLoader(ctx context.Context, l Loader, org, member, missing ID) error {
	var errs []error
	o, s, err := l.Load(ctx, org, member)
	if err != nil {
		return fmt.Errorf("teamperm: CheckLoader: loading member %v of organization %v: %w", member, org, err)
	}
	if o.ID != org || s.Member != member {
		errs = append(errs, fmt.Errorf("teamperm: CheckLoader: asked for member %v of organization %v, got member %v of %v", member, org, s.Member, o.ID))
	}
	if _, err := Compile(o, s); err != nil {
		errs = append(errs, fmt.Errorf("teamperm: CheckLoader: the loaded settings do not compile: %w", err))
	}
	const n = 8
	results := make(chan error, n)
	for range n {
		go func() {
			o2, s2, err := l.Load(ctx, org, member)
			switch {
			case err != nil:
				results <- fmt.Errorf("teamperm: CheckLoader: loading again, concurrently: %w", err)
			case o2.Revision < o.Revision || s2.Revision < s.Revision:
				results <- fmt.Errorf("teamperm: CheckLoader: loading again returned revisions %d/%d, older than the first load's %d/%d",
					o2.Revision, s2.Revision, o.Revision, s.Revision)
			case o2.ID != org || s2.Member != member:
				results <- fmt.Errorf("teamperm: CheckLoader: loading again, concurrently, returned member %v of %v", s2.Member, o2.ID)
			default:
				results <- nil
			}
		}()
	}
	seen := map[string]bool{}
	for range n {
		if err := <-results; err != nil && !seen[err.Error()] {
			seen[err.Error()] = true
			errs = append(errs, err)
		}
	}
	if _, _, err := l.Load(ctx, org, missing); err == nil {
		errs = append(errs, fmt.Errorf("teamperm: CheckLoader: member %v of organization %v should not exist, and loading it is no error", missing, org))
	}
	return errors.Join(errs...)
}
