package teamperm_test

import (
	"bytes"
	"encoding"
	"fmt"
	"strings"
	"testing"

	"github.com/teamperm/teamperm"
)

// enumCase describes one small integer enum for TestEnumEdges: the
// number of named values (from the seed and PRODUCT.md, not from the
// code), whether the zero value is a valid value, and the text methods.
type enumCase struct {
	typ       string
	named     int  // values 0..named-1 have names
	zeroValid bool // the zero value marshals and parses
	str       func(v uint8) string
	marshal   func(v uint8) ([]byte, error)
	appendTxt func(b []byte, v uint8) ([]byte, error) // nil when the type has no AppendText
	parse     func(s string) (uint8, error)           // nil when the type has no ParseX
	unmarshal func(s string, into uint8) (uint8, error)
}

func textCase[E ~uint8, P interface {
	*E
	encoding.TextUnmarshaler
}](typ string, named int, zeroValid bool, str func(E) string, marshal func(E) ([]byte, error), appendTxt func(E, []byte) ([]byte, error), parse func(string) (E, error)) enumCase {
	c := enumCase{
		typ: typ, named: named, zeroValid: zeroValid,
		str:     func(v uint8) string { return str(E(v)) },
		marshal: func(v uint8) ([]byte, error) { return marshal(E(v)) },
		unmarshal: func(s string, into uint8) (uint8, error) {
			e := E(into)
			err := P(&e).UnmarshalText([]byte(s))
			return uint8(e), err
		},
	}
	if appendTxt != nil {
		c.appendTxt = func(b []byte, v uint8) ([]byte, error) { return appendTxt(E(v), b) }
	}
	if parse != nil {
		c.parse = func(s string) (uint8, error) { v, err := parse(s); return uint8(v), err }
	}
	return c
}

// TestEnumEdges checks every value of every enum type, the ones just past
// the end included: a named value prints its name, which parses back to
// it and is what MarshalText and AppendText write; any other value prints
// as Type(n), and MarshalText and AppendText refuse it (AppendText leaving
// the buffer as it was). A failed parse returns the zero value, and a
// failed UnmarshalText leaves the destination alone.
func TestEnumEdges(t *testing.T) {
	cases := []enumCase{
		textCase[teamperm.Permission]("Permission", 18, false, teamperm.Permission.String, teamperm.Permission.MarshalText, teamperm.Permission.AppendText, teamperm.ParsePermission),
		textCase[teamperm.Role]("Role", 4, false, teamperm.Role.String, teamperm.Role.MarshalText, teamperm.Role.AppendText, teamperm.ParseRole),
		textCase[teamperm.Plan]("Plan", 3, true, teamperm.Plan.String, teamperm.Plan.MarshalText, teamperm.Plan.AppendText, teamperm.ParsePlan),
		textCase[teamperm.Kind]("Kind", 9, false, teamperm.Kind.String, teamperm.Kind.MarshalText, teamperm.Kind.AppendText, teamperm.ParseKind),
		textCase[teamperm.Outcome]("Outcome", 3, true, teamperm.Outcome.String, teamperm.Outcome.MarshalText, nil, nil),
		textCase[teamperm.Reason]("Reason", 12, true, teamperm.Reason.String, teamperm.Reason.MarshalText, nil, nil),
		textCase[teamperm.Consideration]("Consideration", 6, false, teamperm.Consideration.String, teamperm.Consideration.MarshalText, nil, nil),
	}
	for _, c := range cases {
		t.Run(c.typ, func(t *testing.T) {
			for v := range 256 {
				checkEnumValue(t, c, uint8(v))
			}
		})
	}
	// CreatorKind has no text methods beyond String and its parser.
	for v := range 256 {
		k := teamperm.CreatorKind(v)
		got, err := teamperm.ParseCreatorKind(k.String())
		if named := v < 3; named != (err == nil) || named && got != k {
			t.Errorf("ParseCreatorKind(%q) = %v, %v", k.String(), got, err)
		}
		if v >= 3 && k.String() != fmt.Sprintf("CreatorKind(%d)", v) {
			t.Errorf("CreatorKind(%d).String() = %q", v, k.String())
		}
		if v >= 3 && err == nil || err != nil && got != 0 {
			t.Errorf("ParseCreatorKind(%q) = %v, %v; want 0 and an error", k.String(), got, err)
		}
	}
}

func checkEnumValue(t *testing.T, c enumCase, v uint8) {
	t.Helper()
	s := c.str(v)
	valid := int(v) < c.named && (v != 0 || c.zeroValid)
	if int(v) >= c.named {
		if want := fmt.Sprintf("%s(%d)", c.typ, v); s != want {
			t.Errorf("%s(%d).String() = %q, want %q", c.typ, v, s, want)
		}
	} else if strings.Contains(s, "(") || s == "" {
		t.Errorf("%s(%d).String() = %q, want its name", c.typ, v, s)
	}
	text, err := c.marshal(v)
	if valid != (err == nil) {
		t.Errorf("%s(%d).MarshalText() = %q, %v; want an error: %v", c.typ, v, text, err, !valid)
	}
	if valid && string(text) != s {
		t.Errorf("%s(%d).MarshalText() = %q, String() = %q", c.typ, v, text, s)
	}
	if c.appendTxt != nil {
		b, err := c.appendTxt([]byte("x"), v)
		switch {
		case valid != (err == nil):
			t.Errorf("%s(%d).AppendText: %v", c.typ, v, err)
		case valid && string(b) != "x"+s:
			t.Errorf("%s(%d).AppendText = %q, want %q", c.typ, v, b, "x"+s)
		case !valid && !bytes.Equal(b, []byte("x")):
			t.Errorf("%s(%d).AppendText failed but wrote %q", c.typ, v, b)
		}
	}
	// Parsing the printed form gives v back exactly for the valid values.
	const sentinel = 99
	got, err := c.unmarshal(s, sentinel)
	switch {
	case valid && (err != nil || got != v):
		t.Errorf("%s: UnmarshalText(%q) = %d, %v; want %d", c.typ, s, got, err, v)
	case !valid && (err == nil || got != sentinel):
		t.Errorf("%s: UnmarshalText(%q) = %d, %v; want an error and the destination unchanged", c.typ, s, got, err)
	}
	if c.parse != nil {
		got, err := c.parse(s)
		switch {
		case valid && (err != nil || got != v):
			t.Errorf("Parse%s(%q) = %d, %v; want %d", c.typ, s, got, err, v)
		case !valid && (err == nil || got != 0):
			t.Errorf("Parse%s(%q) = %d, %v; want the zero value and an error", c.typ, s, got, err)
		}
	}
}

// TestParseUUIDMisplacedDash moves one dash of a canonical UUID to every
// other position, and swaps a dash with each hex digit: all are refused.
func TestParseUUIDMisplacedDash(t *testing.T) {
	const canon = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
	if _, err := teamperm.ParseUUID(canon); err != nil {
		t.Fatal(err)
	}
	for _, dash := range []int{8, 13, 18, 23} {
		for pos := range len(canon) {
			if pos == dash {
				continue
			}
			b := []byte(canon)
			b[dash], b[pos] = b[pos], b[dash]
			if string(b) == canon {
				continue
			}
			if id, err := teamperm.ParseUUID(string(b)); err == nil {
				t.Errorf("ParseUUID(%q) = %v, want an error", b, id)
			}
		}
		// A dash replaced by a hex digit, and a digit by a dash.
		for _, c := range []byte("0f-") {
			b := []byte(canon)
			b[dash] = c
			if c == '-' {
				continue
			}
			if id, err := teamperm.ParseUUID(string(b)); err == nil {
				t.Errorf("ParseUUID(%q) = %v, want an error", b, id)
			}
		}
	}
	for pos := range len(canon) {
		b := []byte(canon)
		if b[pos] == '-' {
			continue
		}
		b[pos] = '-'
		if id, err := teamperm.ParseUUID(string(b)); err == nil {
			t.Errorf("ParseUUID(%q) = %v, want an error", b, id)
		}
	}
}
