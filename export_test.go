package teamperm

import (
	"errors"
	"fmt"
)

// IntSetMaxProbe builds the integer set of ns and returns the longest
// probe sequence a lookup of one of its members walks (1 for a direct hit),
// for the test that crafted keys do not degrade the set.
func IntSetMaxProbe(ns []int64) int {
	s := makeIntSet(len(ns))
	for _, n := range ns {
		s.add(n)
	}
	longest := 0
	for _, n := range ns {
		probes := 1
		for i := s.slot(n); s.slots[i] != n; i = (i + 1) % len(s.slots) {
			probes++
		}
		longest = max(longest, probes)
	}
	return longest
}

// PermissionFromName is the parser behind ParsePermission.
func PermissionFromName(s string) (Permission, bool) { return permissionFromName(s) }

// PermissionFromNameBytes is PermissionFromName for the decoder's text.
func PermissionFromNameBytes(b []byte) (Permission, bool) { return permissionFromName(b) }

// PermissionNames is the name table behind Permission.String.
func PermissionNames() []string { return permissionNames[:] }

// CacheOrgStates returns the number of organisation states c holds, with
// or without members.
func CacheOrgStates(c *Cache) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.orgs)
}

// CheckCache reports what is wrong with c's bookkeeping: more entries and
// idle states than its size, an organisation without a member that is not
// on the idle list or one with members that is, an idle list that names
// an organisation the cache does not hold.
func CheckCache(c *Cache) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	if n := len(c.ring) + c.idle.Len(); n > c.size {
		errs = append(errs, fmt.Errorf("%d members and %d idle states, size %d", len(c.ring), c.idle.Len(), c.size))
	}
	idle := 0
	for id, o := range c.orgs {
		if o.state.ID != id {
			errs = append(errs, fmt.Errorf("organisation %v held under %v", o.state.ID, id))
		}
		if (len(o.members) == 0) != (o.idle != nil) {
			errs = append(errs, fmt.Errorf("organisation %v: %d members, on the idle list: %v", id, len(o.members), o.idle != nil))
		}
		if o.idle != nil {
			idle++
		}
	}
	if idle != c.idle.Len() {
		errs = append(errs, fmt.Errorf("%d idle organisations, %d on the idle list", idle, c.idle.Len()))
	}
	for e := c.idle.Front(); e != nil; e = e.Next() {
		if o := e.Value.(*cacheOrg); c.orgs[o.state.ID] != o || o.idle != e {
			errs = append(errs, fmt.Errorf("the idle list names organisation %v, which the cache does not hold so", o.state.ID))
		}
	}
	return errors.Join(errs...)
}
