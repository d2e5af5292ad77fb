package teamperm_test

import (
	"errors"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/teamperm/teamperm"
)

// Differential tests against the code that the fast paths replaced.
//
// The JSON decoders (Settings, ParseEdits, ID, PermissionSet) read the
// input with json.go's own scanner. The decoder they replaced, token by
// token over encoding/json, is kept in json_oracle_test.go as the oracle:
// on every input the two must accept and refuse alike, decode to exactly
// the same value (nil and empty slices told apart), wrap the same
// sentinels, and, but for the wording of a JSON syntax error, fail with
// the same message.

// exactOpts compares decoded values exactly: an empty ID list is not nil.
var exactOpts = []cmp.Option{
	cmp.Comparer(func(a, b teamperm.ID) bool { return a == b }),
	cmp.Comparer(func(a, b teamperm.PermissionSet) bool { return a == b }),
	cmp.Comparer(func(a, b teamperm.Access) bool {
		return a.Specific == b.Specific && (a.IDs == nil) == (b.IDs == nil) && slices.Equal(a.IDs, b.IDs)
	}),
}

// syntaxCauseRE finds what a syntax error blames, in the words of
// encoding/json: the offending character, quoted as its errors quote it,
// or the end of the input.
var syntaxCauseRE = regexp.MustCompile(`invalid character ('\\''|'[^']*')|unexpected EOF|invalid byte 0x([0-9a-f]{2})`)

// syntaxCause returns what a syntax error blames. teamperm names a byte
// that is not UTF-8 as such ("invalid byte 0xff"), where encoding/json
// quotes it as the Latin-1 letter of the same number ('ÿ'): the same
// cause, written the oracle's way here.
func syntaxCause(err error) string {
	m := syntaxCauseRE.FindStringSubmatch(err.Error())
	switch {
	case m == nil:
		return ""
	case m[2] != "":
		b, _ := strconv.ParseUint(m[2], 16, 8)
		return "invalid character '" + strings.Trim(strconv.Quote(string(rune(b))), `"`) + "'"
	}
	return m[0]
}

var jsonSentinels = []error{teamperm.ErrInvalidSettings, teamperm.ErrInvalidID, teamperm.ErrUnknownPermission, teamperm.ErrUnknownRole}

// sameDecoding reports how the new and the oracle decoding of one input
// differ, or "".
func sameDecoding[T any](got T, gotErr error, want T, wantErr error) string {
	switch {
	case (gotErr == nil) != (wantErr == nil):
		return "accepted by one decoder only: new error " + errString(gotErr) + "; oracle error " + errString(wantErr)
	case gotErr == nil:
		if diff := cmp.Diff(want, got, exactOpts...); diff != "" {
			return "decoded differently (-oracle +new):\n" + diff
		}
		return ""
	}
	for _, s := range jsonSentinels {
		if errors.Is(gotErr, s) != errors.Is(wantErr, s) {
			return "errors wrap different sentinels (" + s.Error() + "): new " + gotErr.Error() + "; oracle " + wantErr.Error()
		}
	}
	gotSyntax, wantSyntax := teamperm.IsJSONSyntaxError(gotErr), teamperm.IsJSONSyntaxError(wantErr)
	if gotSyntax != wantSyntax {
		return "one error is a syntax error, the other not: new " + gotErr.Error() + "; oracle " + wantErr.Error()
	}
	if gotSyntax && syntaxCause(gotErr) != syntaxCause(wantErr) {
		return "syntax errors name different causes:\n new    " + gotErr.Error() + "\n oracle " + wantErr.Error()
	}
	if !gotSyntax && gotErr.Error() != wantErr.Error() {
		return "messages differ:\n new    " + gotErr.Error() + "\n oracle " + wantErr.Error()
	}
	return ""
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// checkDecoders feeds data to every decoder and its oracle.
func checkDecoders(t interface {
	Helper()
	Fatalf(format string, args ...any)
}, data []byte) {
	t.Helper()
	var s teamperm.Settings
	serr := s.UnmarshalJSON(data)
	os, oerr := teamperm.OracleUnmarshalSettings(data)
	if serr != nil {
		s = teamperm.Settings{}
	}
	if d := sameDecoding(s, serr, os, oerr); d != "" {
		t.Fatalf("Settings.UnmarshalJSON(%q): %s", data, d)
	}

	edits, eerr := teamperm.ParseEdits(data)
	oedits, oeerr := teamperm.OracleParseEdits(data)
	if d := sameDecoding(edits, eerr, oedits, oeerr); d != "" {
		t.Fatalf("ParseEdits(%q): %s", data, d)
	}

	var id teamperm.ID
	ierr := id.UnmarshalJSON(data)
	oid, oierr := teamperm.OracleUnmarshalID(data)
	if d := sameDecoding(id, ierr, oid, oierr); d != "" {
		t.Fatalf("ID.UnmarshalJSON(%q): %s", data, d)
	}

	var ps teamperm.PermissionSet
	perr := ps.UnmarshalJSON(data)
	ops, operr := teamperm.OracleUnmarshalPermissionSet(data)
	if d := sameDecoding(ps, perr, ops, operr); d != "" {
		t.Fatalf("PermissionSet.UnmarshalJSON(%q): %s", data, d)
	}
}

// jsonDiffSeeds are inputs for every decoder: the settings tests' valid
// and invalid documents, edits, IDs and permission sets, and the corners
// of JSON's grammar.
func jsonDiffSeeds(t testing.TB) [][]byte {
	var seeds [][]byte
	add := func(s string) { seeds = append(seeds, []byte(s)) }
	add(settingsDocExample)
	seeds = append(seeds, settingsGoldenLines(t)...)
	for _, tc := range settingsJSONErrorCases() {
		add(tc.in)
	}
	uuid := `{"uuid":"` + textUUID + `"}`
	for _, s := range []string{
		// Edits.
		`[{"op":"grant","permission":"chat.send"},{"op":"set_instances","instances":[1,"a",` + uuid + `]}]`,
		`[{"op":"set_role","role":"member"},{"op":"set_only_created_deals","on":true}]`,
		`[{"op":"set_pipelines","pipelines":"all"}]`, `[]`, `[{}]`, `[{"op":"grant"}]`,
		`[{"op":"grant","permission":"chat.send","on":true}]`, `[{"op":"grant","role":"admin"}]`,
		`[{"op":"set_role","role":"Admin"}]`, `[{"op":"nope","on":true}]`, `[{"op":"grant","op":"deny","permission":"chat.send"}]`,
		`[{"op":"set_instances","instances":[3,3]}]`, `[{"op":"set_instances","instances":[null]}]`,
		`[{"op":"set_only_assigned_chats","on":1}]`, `[{"o\u0070":"grant","permission":"chat.send"}]`,
		`[{"op":"grant","permission":"\ud800"}]`, `[{"op":"grant","permission":"chat.send"},]`,
		`[{"op":"set_instances","instances":[01]}]`, `[{"op":"set_instances","instances":[{}]}]`,
		`{"version":01,"member":7,"role":"member"}`, `{"version":1,"member":{},"role":"member"}`, `{"version":1,"member":-0,"role":"member"}`,
		// IDs.
		`null`, `0`, `-0`, `7`, `"7"`, `""`, `-9223372036854775808`, `9223372036854775807`, `-9223372036854775809`,
		uuid, `{"uuid":"` + strings.ToUpper(textUUID) + `"}`, `{"UUID":"` + textUUID + `"}`, `{"uuid":"bad"}`,
		`{"uuid":"` + textUUID + `","x":1}`, `{"uuid":"` + textUUID + `"`, `{"uuid":7}`, `{}`, `{"uuid"}`,
		`1.0`, `1e3`, `01`, `-01`, `00`, `0 1`, `[0,01]`, `-0.0`, `-`, `-x`, `1.`, `1.e3`, `1e+`, `2E-3`, `1.5.3`, `nul`, `nulx`, `nullx`, `tru`, `true`, `falsey`,
		`"\u003c\ud800\u2028"`, `"\ud83d\ude00"`, `"\uD83D\uDE00"`, `"\ud83d\ud83d\ude00"`, `"\udc00"`, `"\\ud800"`, `"\ufffd"`,
		`"é"`, `"a\tb"`, "\"a\tb\"", `"\x"`, `"\u12"`, `"\u12g4"`, `"abc`, `7 8`, "\"\xff\"", " 7 ", "7\n", "\x00",
		// Permission sets.
		`["contact.export"]`, `["workflow.manage","contact.view"]`, `["contact.vie\u0077"]`,
		`["contact.view","contact.view"]`, `["Contact.View"]`, `["x","contact.view","x"]`, `["x",1]`,
		`["contact.view",null]`, `["contact.view"] []`, `[`, `[,]`, `[1,]`, `["a" "b"]`, `]`, `}`, `:`, `,`,
		`["x","y"]`, `["contact.view","x","contact.view"]`, `["contact.view","contact.view","x"]`,
		// Syntax errors that blame each kind of character.
		`'`, `["a"'`, `{"a"'`, `"a"'`, `[1'`, `{"a":1"`, "[\x01]", "\"\x1f\"", `[1 "`, `{"a" 1}`, `{"a":1 "b"}`, `[tx]`, `[fals]`, `[-e]`, `[1.x]`, `[1e_]`,
	} {
		add(s)
	}
	return seeds
}

func TestJSONDecodersAgreeOnSeeds(t *testing.T) {
	for _, data := range jsonDiffSeeds(t) {
		checkDecoders(t, data)
	}
}

// TestJSONDecodersAgreeOnPrefixes: input cut short anywhere (where a
// scanner is most likely to read past the end) is refused alike by both
// decoders, without a panic: every prefix of every seed.
func TestJSONDecodersAgreeOnPrefixes(t *testing.T) {
	for _, data := range jsonDiffSeeds(t) {
		for n := range len(data) {
			checkDecoders(t, data[:n])
		}
	}
}

// FuzzJSONDecoders: the new decoders and the oracle agree on every input.
func FuzzJSONDecoders(f *testing.F) {
	for _, data := range jsonDiffSeeds(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkDecoders(t, data) })
}

// nearJSON generates documents that are mostly well formed settings or
// edits, built from the fields, values and escapes the decoders know,
// then sometimes broken by an insertion, deletion or swap, so that the
// decoders' semantic checks and their order are exercised, not only the
// scanner.
func nearJSON() *rapid.Generator[[]byte] {
	keys := []string{
		`"version"`, `"member"`, `"role"`, `"revision"`, `"grant"`, `"deny"`, `"instances"`,
		`"only_assigned_chats"`, `"only_created_deals"`, `"pipelines"`, `"op"`, `"permission"`, `"on"`,
		`"uuid"`, `"Role"`, `"extra"`, `""`, `"d\u0065ny"`, `"\ud800"`, `"versio\u006e"`,
	}
	values := []string{
		`1`, `0`, `-0`, `01`, `-00`, `2`, `-1`, `42`, `1.0`, `1e0`, `18446744073709551615`, `18446744073709551616`, `9223372036854775808`,
		`"member"`, `"admin"`, `"owner"`, `"Member"`, `""`, `"42"`, `"all"`, `"ALL"`, `"\u0061ll"`, `true`, `false`, `null`,
		`[]`, `{}`, `["contact.view"]`, `["chat.send","chat.send"]`, `["x"]`, `["contact.export","x",1]`,
		`[7,9]`, `[7,"7"]`, `[7,7]`, `[null]`, `[true]`, `[[7]]`, `[{"uuid":"` + textUUID + `"}]`,
		`{"uuid":"` + textUUID + `"}`, `{"uuid":"bad"}`, `{"UUID":"x"}`, `"grant"`, `"set_instances"`, `"set_role"`,
		`"\ud800"`, `"a\udc00"`, `"\ud83d\ude00"`, `"\u2028"`,
	}
	// names draws an array of permission names, known, unknown and
	// repeated, so that which name a refusal names is exercised.
	names := func(t *rapid.T, label string) string {
		pool := []string{`"contact.view"`, `"chat.send"`, `"workflow.manage"`, `"x"`, `"y"`, `"Contact.View"`, `""`}
		var parts []string
		for range rapid.IntRange(0, 5).Draw(t, label+"-names") {
			parts = append(parts, rapid.SampledFrom(pool).Draw(t, label+"-name"))
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	value := func(t *rapid.T, label string) string {
		if rapid.IntRange(0, 3).Draw(t, label+"-names?") == 0 {
			return names(t, label)
		}
		return rapid.SampledFrom(values).Draw(t, label)
	}
	junk := []string{`{`, `}`, `[`, `]`, `,`, `:`, `"`, `\`, ` `, "\n", `x`, `0`, `-`, `.`, `e`, "\xff", `\u`, `"a`}
	return rapid.Custom(func(t *rapid.T) []byte {
		object := func(label string) string {
			var b strings.Builder
			b.WriteByte('{')
			for i := range rapid.IntRange(0, 6).Draw(t, label+"-fields") {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(rapid.SampledFrom(keys).Draw(t, label+"-key"))
				b.WriteByte(':')
				b.WriteString(value(t, label+"-value"))
			}
			b.WriteByte('}')
			return b.String()
		}
		var doc string
		switch rapid.IntRange(0, 2).Draw(t, "shape") {
		case 0:
			doc = object("settings")
		case 1:
			var parts []string
			for range rapid.IntRange(0, 3).Draw(t, "edits") {
				parts = append(parts, object("edit"))
			}
			doc = "[" + strings.Join(parts, ",") + "]"
		default:
			doc = value(t, "value")
		}
		for range rapid.IntRange(0, 2).Draw(t, "breaks") {
			i := rapid.IntRange(0, len(doc)).Draw(t, "at")
			switch rapid.IntRange(0, 2).Draw(t, "break") {
			case 0:
				doc = doc[:i] + rapid.SampledFrom(junk).Draw(t, "junk") + doc[i:]
			case 1:
				j := rapid.IntRange(i, min(len(doc), i+4)).Draw(t, "to")
				doc = doc[:i] + doc[j:]
			default:
				doc = doc[i:] + doc[:i]
			}
		}
		return []byte(doc)
	})
}

func TestJSONDecodersAgree(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		checkDecoders(t, nearJSON().Draw(t, "input"))
	})
}

// dupProneAccess draws access lists that cross the lengths where the
// checks change method (8 and 32 IDs), with zero and repeated IDs of every
// kind, including the key the integer set keeps apart (0, its free slot).
func dupProneAccess(t *rapid.T, label string) teamperm.Access {
	if rapid.IntRange(0, 4).Draw(t, label+"-all") == 0 {
		ids := []teamperm.ID(nil)
		if rapid.Bool().Draw(t, label+"-all-with-ids") {
			ids = []teamperm.ID{teamperm.IntID(1)}
		}
		return teamperm.Access{IDs: ids}
	}
	pool := rapid.SampledFrom([]int{2, 10, 40, 200}).Draw(t, label+"-pool")
	id := rapid.Custom(func(t *rapid.T) teamperm.ID {
		n := rapid.IntRange(0, pool).Draw(t, "n")
		switch k := rapid.IntRange(0, 39).Draw(t, "kind"); {
		case k == 0:
			return teamperm.ID{}
		case k <= 10:
			return teamperm.StringID(strings.Repeat(strconv.Itoa(n), min(n%4, 2)))
		case k <= 20:
			var u [16]byte
			u[15] = byte(n)
			return teamperm.UUIDID(u)
		case k <= 26:
			return teamperm.IntID([]int64{0, math.MinInt64, -1}[n%3])
		}
		return teamperm.IntID(int64(n))
	})
	n := rapid.SampledFrom([]int{0, 1, 2, 3, 7, 8, 9, 16, 31, 32, 33, 40, 64}).Draw(t, label+"-len")
	ids := rapid.SliceOfN(id, n, n).Draw(t, label+"-ids")
	if rapid.IntRange(0, 2).Draw(t, label+"-distinct") == 0 {
		ids = slices.CompactFunc(ids, func(a, b teamperm.ID) bool { return a == b })
		seen := map[teamperm.ID]bool{}
		ids = slices.DeleteFunc(ids, func(id teamperm.ID) bool {
			dup := seen[id] || id.IsZero()
			seen[id] = true
			return dup
		})
	}
	return teamperm.Only(ids...)
}

// TestValidateAgrees: Settings.Validate reports exactly what the
// validation it replaced (a map for long lists) reported, and Compile
// accepts exactly the settings Validate accepts and otherwise fails with
// Validate's error.
func TestValidateAgrees(t *testing.T) {
	org := teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.PlanPro.Features()}
	rapid.Check(t, func(t *rapid.T) {
		s := teamperm.Settings{
			Member:    rapid.SampledFrom([]teamperm.ID{teamperm.IntID(7), teamperm.IntID(7), teamperm.IntID(7), teamperm.IntID(0), {}}).Draw(t, "member"),
			Role:      rapid.SampledFrom([]teamperm.Role{0, teamperm.RoleOwner, teamperm.RoleAdmin, teamperm.RoleMember, teamperm.RoleMember, 9}).Draw(t, "role"),
			Instances: dupProneAccess(t, "instances"),
			Pipelines: dupProneAccess(t, "pipelines"),
		}
		got, want := s.Validate(), teamperm.OracleValidate(s)
		if errString(got) != errString(want) {
			t.Fatalf("Validate(%+v):\n got  %v\n want %v", s, got, want)
		}
		for _, sentinel := range jsonSentinels {
			if errors.Is(got, sentinel) != errors.Is(want, sentinel) {
				t.Fatalf("Validate(%+v) = %v; oracle %v: sentinels differ at %v", s, got, want, sentinel)
			}
		}
		m, err := teamperm.Compile(org, s)
		if errString(err) != errString(want) || (err == nil) != (m != nil) {
			t.Fatalf("Compile(%+v) = %v, %v; want the error %v", s, m, err, want)
		}
	})
}

// TestPermissionFromName: the switch behind ParsePermission accepts
// exactly the names of the name table (not "none", the zero value's), as
// string and as bytes, and nothing near them.
func TestPermissionFromName(t *testing.T) {
	names := teamperm.PermissionNames()
	for i, name := range names {
		for _, in := range []string{name, strings.ToUpper(name), name + " ", name[:len(name)-1]} {
			got, ok := teamperm.PermissionFromName(in)
			gotB, okB := teamperm.PermissionFromNameBytes([]byte(in))
			w, wok := teamperm.Permission(i), i > 0 && in == name
			if !wok {
				w = 0
			}
			if got != w || ok != wok || gotB != w || okB != wok {
				t.Errorf("PermissionFromName(%q) = %v, %v (bytes: %v, %v); want %v, %v", in, got, ok, gotB, okB, w, wok)
			}
		}
	}
	if len(names) != 18 {
		t.Errorf("%d permission names; the switch knows 17 and none", len(names))
	}
}

// TestIDSetMembership: a member restricted to a list of distinct IDs
// (long and short, of every kind, with the keys the sets keep apart: 0
// and "") sees a contact exactly when the list contains its instance.
func TestIDSetMembership(t *testing.T) {
	org := teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.PlanPro.Features()}
	rapid.Check(t, func(t *rapid.T) {
		a := dupProneAccess(t, "instances")
		if !a.Specific {
			return
		}
		seen := map[teamperm.ID]bool{}
		a.IDs = slices.DeleteFunc(a.IDs, func(id teamperm.ID) bool {
			dup := seen[id] || id.IsZero()
			seen[id] = true
			return dup
		})
		s := teamperm.Settings{Member: teamperm.IntID(7), Role: teamperm.RoleMember, Instances: a}
		m, err := teamperm.Compile(org, s)
		if err != nil {
			t.Fatalf("Compile: %v", err)
		}
		probes := append(slices.Clone(a.IDs), teamperm.ID{}, teamperm.IntID(0), teamperm.StringID(""),
			teamperm.IntID(math.MinInt64), teamperm.StringID("x"), teamperm.UUIDID([16]byte{1}))
		probes = append(probes, dupProneAccess(t, "probes").IDs...)
		for _, id := range probes {
			r := teamperm.Record{Kind: teamperm.KindContact, Organization: org.ID, Instance: id}
			if got, want := m.Visible(r).Allowed(), a.Contains(id); got != want {
				t.Fatalf("%d ids: Visible(instance %v) = %v, want %v", len(a.IDs), id, got, want)
			}
		}
	})
}
