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
	v, ok := enumParseAll(names, s)
	return v, ok && v > 0
}

// enumParseAll is enumParse for the enums whose zero value is a valid,
// named value (Plan, CreatorKind, Reason, Outcome): names[0] parses too.
func enumParseAll(names []string, s string) (uint8, bool) {
	for i, n := range names {
		if n == s {
			return uint8(i), true
		}
	}
	return 0, false
}
