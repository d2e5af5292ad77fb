package teamperm_test

import (
	"bytes"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/teamperm/teamperm"
)

// FuzzSettingsJSON: decoding never panics; what decodes marshals, decodes
// back equal, and marshals again to the same bytes.
func FuzzSettingsJSON(f *testing.F) {
	f.Add([]byte(settingsDocExample))
	for _, line := range settingsGoldenLines(f) {
		f.Add(line)
	}
	for _, tc := range settingsJSONErrorCases() {
		f.Add([]byte(tc.in))
	}
	f.Add([]byte(`{"version":1,"member":"7","role":"admin","instances":[7,"7",{"uuid":"` + textUUID + `"}],"pipelines":[]}`))
	f.Add([]byte(`{"version":1,"member":-0,"role":"owner","grant":["chat.send"],"deny":["chat.send"]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var s teamperm.Settings
		if err := s.UnmarshalJSON(data); err != nil {
			// Every decoding error is an ErrInvalidSettings.
			if !errors.Is(err, teamperm.ErrInvalidSettings) {
				t.Fatalf("UnmarshalJSON(%q) error %v does not wrap %v", data, err, teamperm.ErrInvalidSettings)
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("UnmarshalJSON(%q) accepted settings that Validate rejects: %v", data, err)
		}
		b, err := s.MarshalJSON()
		if err != nil {
			t.Fatalf("UnmarshalJSON(%q) succeeded but MarshalJSON failed: %v", data, err)
		}
		var back teamperm.Settings
		if err := back.UnmarshalJSON(b); err != nil {
			t.Fatalf("UnmarshalJSON(MarshalJSON(...)) of %q: %v\nmarshalled: %s", data, err, b)
		}
		if diff := cmp.Diff(s, back, settingsCmpOpts...); diff != "" {
			t.Fatalf("input %q, marshalled %s: round trip (-want +got):\n%s", data, b, diff)
		}
		again, err := back.MarshalJSON()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("input %q: MarshalJSON again = %s, %v; want %s", data, again, err, b)
		}
	})
}

// FuzzSettingsRoundTrip reuses the rapid property Settings -> JSON ->
// Settings.
func FuzzSettingsRoundTrip(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add(bytes.Repeat([]byte{0xff, 0x01, 0x80}, 40))
	f.Fuzz(rapid.MakeFuzz(settingsRoundTrip))
}

// fuzzEnumParse checks the contract shared by the Parse functions: an error
// wrapping sentinel and quoting the input, or a valid value whose text is
// exactly the input.
func fuzzEnumParse[E textEnum, P textEnumPtr[E]](t *testing.T, in string, parse func(string) (E, error), sentinel error, valid func(E) bool) {
	x, err := parse(in)
	if err != nil {
		if !errors.Is(err, sentinel) {
			t.Fatalf("Parse(%q) error %v does not wrap %v", in, err, sentinel)
		}
		if !echoes(err.Error(), in) {
			t.Fatalf("Parse(%q) error %q does not quote the input (its first 64 bytes and \"...\" when longer)", in, err)
		}
		var y E
		if err := P(&y).UnmarshalText([]byte(in)); !errors.Is(err, sentinel) {
			t.Fatalf("UnmarshalText(%q) error = %v, want %v", in, err, sentinel)
		}
		return
	}
	if !valid(x) {
		t.Fatalf("Parse(%q) = %v, which is not valid", in, x)
	}
	if x.String() != in {
		t.Fatalf("Parse(%q).String() = %q", in, x.String())
	}
	m, err := x.MarshalText()
	if err != nil || string(m) != in {
		t.Fatalf("Parse(%q).MarshalText() = %q, %v", in, m, err)
	}
	a, err := x.AppendText([]byte("p:"))
	if err != nil || string(a) != "p:"+in {
		t.Fatalf("Parse(%q).AppendText(p:) = %q, %v", in, a, err)
	}
	var y E
	if err := P(&y).UnmarshalText(m); err != nil || y != x {
		t.Fatalf("UnmarshalText(%q) = %v, %v; want %v", m, y, err, x)
	}
}

func fuzzEnumSeeds(f *testing.F, names []string) {
	for _, in := range append(slices.Clone(names), textBadInputs("X", names)...) {
		f.Add(in)
	}
}

func FuzzParsePermission(f *testing.F) {
	fuzzEnumSeeds(f, textPermissionNames)
	f.Fuzz(func(t *testing.T, in string) {
		fuzzEnumParse(t, in, teamperm.ParsePermission, teamperm.ErrUnknownPermission, teamperm.Permission.IsValid)
	})
}

func FuzzParseRole(f *testing.F) {
	fuzzEnumSeeds(f, []string{"owner", "admin", "member"})
	f.Fuzz(func(t *testing.T, in string) {
		fuzzEnumParse(t, in, teamperm.ParseRole, teamperm.ErrUnknownRole, teamperm.Role.IsValid)
	})
}

func FuzzParsePlan(f *testing.F) {
	fuzzEnumSeeds(f, []string{"free", "starter", "pro"})
	f.Fuzz(func(t *testing.T, in string) {
		fuzzEnumParse(t, in, teamperm.ParsePlan, teamperm.ErrUnknownPlan, teamperm.Plan.IsValid)
	})
}

func FuzzParseKind(f *testing.F) {
	fuzzEnumSeeds(f, []string{"contact", "conversation", "message", "instance", "campaign", "webhook", "workflow", "deal"})
	f.Fuzz(func(t *testing.T, in string) {
		fuzzEnumParse(t, in, teamperm.ParseKind, teamperm.ErrUnknownKind, teamperm.Kind.IsValid)
	})
}

// FuzzIDJSON: an ID decodes with an error, or round trips; a number
// decodes only in the one spelling MarshalJSON writes for it.
func FuzzIDJSON(f *testing.F) {
	for _, s := range []string{
		`null`, `0`, `-0`, ` -0 `, `-0.0`, `0e0`, `00`, `-1`, `7`, `"7"`, `""`, `-9223372036854775808`, `9223372036854775807`,
		`{"uuid":"` + textUUID + `"}`, `{"uuid":"` + strings.ToUpper(textUUID) + `"}`,
		`"\u003c\ud800\u2028"`, `"é"`,
		`1.0`, `1e3`, `9223372036854775808`, `{"UUID":"` + textUUID + `"}`, `{"uuid":"bad"}`,
		`{"uuid":"` + textUUID + `","x":1}`, `true`, `[]`, `{}`, ``, `7 8`, "\"\xff\"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var id teamperm.ID
		if err := id.UnmarshalJSON(data); err != nil {
			if !errors.Is(err, teamperm.ErrInvalidID) && !errors.Is(err, teamperm.ErrInvalidSettings) {
				t.Fatalf("UnmarshalJSON(%q) error %v wraps no sentinel", data, err)
			}
			return
		}
		b, err := id.MarshalJSON()
		if err != nil {
			t.Fatalf("UnmarshalJSON(%q) = %v, but MarshalJSON failed: %v", data, id, err)
		}
		if n := bytes.Trim(data, " \t\r\n"); len(n) > 0 && (n[0] == '-' || '0' <= n[0] && n[0] <= '9') && !bytes.Equal(n, b) {
			t.Fatalf("UnmarshalJSON(%q) = %v, written %s: a number decodes only in its canonical spelling", data, id, b)
		}
		var back teamperm.ID
		if err := back.UnmarshalJSON(b); err != nil || back != id {
			t.Fatalf("input %q: UnmarshalJSON(%s) = %v, %v; want %v", data, b, back, err, id)
		}
		again, err := back.MarshalJSON()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("input %q: MarshalJSON again = %s, %v; want %s", data, again, err, b)
		}
		if id.Compare(back) != 0 {
			t.Fatalf("input %q: %v.Compare(%v) != 0", data, id, back)
		}
	})
}

// FuzzPermissionSetJSON: a set decodes with an error, or round trips
// through its canonical form.
func FuzzPermissionSetJSON(f *testing.F) {
	for _, s := range []string{
		`[]`, `["contact.export"]`, `["workflow.manage","contact.view"]`, `["contact.vie\u0077"]`,
		`["` + strings.Join(textPermissionNames, `","`) + `"]`,
		`null`, `{}`, `[1]`, `["x"]`, `["contact.view","contact.view"]`, `["Contact.View"]`,
		`["contact.view",null]`, `["contact.view"] []`, "[\"contact.view\xff\"]", ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var s teamperm.PermissionSet
		if err := s.UnmarshalJSON(data); err != nil {
			if !errors.Is(err, teamperm.ErrInvalidSettings) && !errors.Is(err, teamperm.ErrUnknownPermission) {
				t.Fatalf("UnmarshalJSON(%q) error %v wraps no sentinel", data, err)
			}
			if !s.IsEmpty() {
				t.Fatalf("UnmarshalJSON(%q) failed but changed the set to %v", data, s)
			}
			return
		}
		for p := range s.All() {
			if !p.IsValid() {
				t.Fatalf("UnmarshalJSON(%q) gave invalid permission %d", data, p)
			}
		}
		if s.Len() > 17 {
			t.Fatalf("UnmarshalJSON(%q) gave %d permissions", data, s.Len())
		}
		b, err := s.MarshalJSON()
		if err != nil {
			t.Fatalf("MarshalJSON(%v): %v", s, err)
		}
		var back teamperm.PermissionSet
		if err := back.UnmarshalJSON(b); err != nil || back != s {
			t.Fatalf("input %q: UnmarshalJSON(%s) = %v, %v; want %v", data, b, back, err, s)
		}
		again, _ := back.MarshalJSON()
		if !bytes.Equal(again, b) {
			t.Fatalf("input %q: MarshalJSON again = %s, want %s", data, again, b)
		}
	})
}

// FuzzPermissionSetLaws reuses the rapid set-algebra property.
func FuzzPermissionSetLaws(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	f.Add(bytes.Repeat([]byte{0xff}, 64))
	f.Fuzz(rapid.MakeFuzz(permissionSetLaws))
}

// FuzzIDCompare reuses the rapid total-order property of ID.Compare.
func FuzzIDCompare(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9})
	f.Fuzz(rapid.MakeFuzz(idCompareLaws))
}

// echoes reports whether the error message msg quotes its input in as
// errors do: all of it, in Go's quotes, when it is at most 64 bytes; else
// its first 64 bytes (down to 61 when 64 would split a character) and "...",
// so that a message never grows with its input.
func echoes(msg, in string) bool {
	if len(in) <= 64 {
		return strings.Contains(msg, strconv.Quote(in))
	}
	if len(msg) > 64*4+200 {
		return false
	}
	for n := 64; n >= 61; n-- {
		if strings.Contains(msg, strconv.Quote(in[:n]+"...")) {
			return true
		}
	}
	return false
}
