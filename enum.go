package teamperm

import "strconv"

// The small integer enums of this package (Permission, Role, Plan, Kind,
// CreatorKind, Outcome, Reason) share these helpers. names[0] is the zero
// value's debug name and never parses; names[1:] are the valid values.

// enumString returns the name of v, or "Type(v)" when v is out of range.
func enumString(names []string, typ string, v uint8) string {
	if int(v) < len(names) {
		return names[v]
	}
	return typ + "(" + strconv.Itoa(int(v)) + ")"
}

// enumParse finds s among the valid names, exactly: no case folding, no
// trimming. It reports 0, false when s is not a valid name.
func enumParse(names []string, s string) (uint8, bool) {
	for i := 1; i < len(names); i++ {
		if names[i] == s {
			return uint8(i), true
		}
	}
	return 0, false
}
