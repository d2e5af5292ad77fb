package teamperm

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
