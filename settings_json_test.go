package teamperm_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"pgregory.net/rapid"

	"github.com/teamperm/teamperm"
)

var update = flag.Bool("update", false, "rewrite golden files")

// settingsCmpOpts compare Settings: IDs and permission sets by ==, nil and
// empty ID lists alike (Access.Equal agrees).
var settingsCmpOpts = []cmp.Option{
	cmp.Comparer(func(a, b teamperm.ID) bool { return a == b }),
	cmp.Comparer(func(a, b teamperm.PermissionSet) bool { return a == b }),
	cmpopts.EquateEmpty(),
}

// settingsDocExample is the example in the documentation of
// Settings.MarshalJSON, joined onto one line.
const settingsDocExample = `{"version":1,"member":42,"role":"member","revision":3,` +
	`"grant":["contact.export"],"deny":["chat.send"],` +
	`"instances":[7,9],"only_assigned_chats":true,` +
	`"only_created_deals":false,"pipelines":"all"}`

func settingsDocExampleValue() teamperm.Settings {
	return teamperm.Settings{
		Member:            teamperm.IntID(42),
		Role:              teamperm.RoleMember,
		Revision:          3,
		Grants:            teamperm.PermissionSetOf(teamperm.ContactExport),
		Denies:            teamperm.PermissionSetOf(teamperm.ChatSend),
		Instances:         teamperm.Only(teamperm.IntID(7), teamperm.IntID(9)),
		OnlyAssignedChats: true,
	}
}

// settingsGoldenCases are the settings whose canonical form is kept in
// testdata/settings.golden.json, one per line, in this order.
func settingsGoldenCases() []struct {
	name string
	s    teamperm.Settings
} {
	uuid := teamperm.UUIDID(textUUIDBytes)
	return []struct {
		name string
		s    teamperm.Settings
	}{
		{"doc-example", settingsDocExampleValue()},
		{"owner-defaults", teamperm.Settings{Member: teamperm.IntID(1), Role: teamperm.RoleOwner}},
		{"admin-string-ids", teamperm.Settings{
			Member:            teamperm.StringID("u-42"),
			Role:              teamperm.RoleAdmin,
			Revision:          math.MaxUint64,
			Denies:            teamperm.PermissionSetOf(teamperm.ContactExport, teamperm.WebhookManage),
			Instances:         teamperm.Only(teamperm.StringID("brand-b"), teamperm.StringID("brand-a")),
			OnlyAssignedChats: true,
		}},
		{"member-uuids-everything", teamperm.Settings{
			Member:            uuid,
			Role:              teamperm.RoleMember,
			Revision:          1,
			Grants:            teamperm.AllPermissions(),
			Denies:            teamperm.PermissionSetOf(teamperm.WorkflowManage, teamperm.ContactView),
			Instances:         teamperm.Only(),
			OnlyAssignedChats: true,
			OnlyCreatedDeals:  true,
			Pipelines:         teamperm.Only(uuid, teamperm.IntID(3), teamperm.StringID("3")),
		}},
		{"odd-ids", teamperm.Settings{
			Member:    teamperm.IntID(math.MinInt64),
			Role:      teamperm.RoleMember,
			Instances: teamperm.Only(teamperm.IntID(0), teamperm.IntID(-1), teamperm.IntID(math.MinInt64), teamperm.StringID("")),
			Pipelines: teamperm.Only(teamperm.UUIDID([16]byte{})),
		}},
		{"string-escapes", teamperm.Settings{
			Member:           teamperm.StringID("quote\" back\\ tab\t nl\n é 日本 <&> \u2028"),
			Role:             teamperm.RoleMember,
			OnlyCreatedDeals: true,
		}},
	}
}

func TestSettingsJSONGolden(t *testing.T) {
	var buf bytes.Buffer
	buf.WriteString("[\n")
	cases := settingsGoldenCases()
	for i, tc := range cases {
		b, err := tc.s.MarshalJSON()
		if err != nil {
			t.Fatalf("%s: MarshalJSON: %v", tc.name, err)
		}
		if !json.Valid(b) {
			t.Errorf("%s: MarshalJSON wrote invalid JSON %s", tc.name, b)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, b); err != nil || !bytes.Equal(compact.Bytes(), b) {
			t.Errorf("%s: MarshalJSON output is not compact: %s", tc.name, b)
		}
		buf.Write(b)
		if i < len(cases)-1 {
			buf.WriteByte(',')
		}
		buf.WriteByte('\n')
	}
	buf.WriteString("]\n")
	got := buf.Bytes()

	path := filepath.Join("testdata", "settings.golden.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestSettingsJSONGolden -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

func TestSettingsJSONDocExample(t *testing.T) {
	got, err := settingsDocExampleValue().MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(settingsDocExample, string(got)); diff != "" {
		t.Errorf("MarshalJSON (-want +got):\n%s", diff)
	}
	var s teamperm.Settings
	if err := s.UnmarshalJSON([]byte(settingsDocExample)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(settingsDocExampleValue(), s, settingsCmpOpts...); diff != "" {
		t.Errorf("UnmarshalJSON (-want +got):\n%s", diff)
	}
}

// settingsGoldenLines returns the canonical documents of the golden file.
func settingsGoldenLines(t testing.TB) [][]byte {
	data, err := os.ReadFile(filepath.Join("testdata", "settings.golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var docs []json.RawMessage
	if err := json.Unmarshal(data, &docs); err != nil {
		t.Fatal(err)
	}
	lines := make([][]byte, len(docs))
	for i, d := range docs {
		lines[i] = d
	}
	return lines
}

func TestSettingsJSONCanonicalRoundTrip(t *testing.T) {
	lines := settingsGoldenLines(t)
	cases := settingsGoldenCases()
	if len(lines) != len(cases) {
		t.Fatalf("golden file has %d documents, want %d (run with -update)", len(lines), len(cases))
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// JSON -> Settings -> JSON is byte-equal.
			var s teamperm.Settings
			if err := s.UnmarshalJSON(lines[i]); err != nil {
				t.Fatalf("UnmarshalJSON(%s): %v", lines[i], err)
			}
			if diff := cmp.Diff(tc.s, s, settingsCmpOpts...); diff != "" {
				t.Errorf("UnmarshalJSON (-want +got):\n%s", diff)
			}
			again, err := s.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(lines[i]), string(again)); diff != "" {
				t.Errorf("MarshalJSON(UnmarshalJSON(canonical)) (-want +got):\n%s", diff)
			}
			// Settings -> JSON -> Settings through encoding/json, as a
			// field of the host's own record.
			type row struct {
				ID       int                `json:"id"`
				Settings teamperm.Settings  `json:"settings"`
				Ptr      *teamperm.Settings `json:"ptr"`
			}
			s2 := tc.s
			b, err := json.Marshal(row{ID: 1, Settings: tc.s, Ptr: &s2})
			if err != nil {
				t.Fatal(err)
			}
			var r row
			if err := json.Unmarshal(b, &r); err != nil {
				t.Fatalf("json.Unmarshal(%s): %v", b, err)
			}
			if diff := cmp.Diff(tc.s, r.Settings, settingsCmpOpts...); diff != "" {
				t.Errorf("round trip through a host struct (-want +got):\n%s", diff)
			}
			if r.Ptr == nil {
				t.Fatalf("round trip through a host struct lost the pointer")
			}
			if diff := cmp.Diff(tc.s, *r.Ptr, settingsCmpOpts...); diff != "" {
				t.Errorf("round trip through a host struct pointer (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSettingsJSONDecode(t *testing.T) {
	const head = `"version":1,"member":42,"role":"member"`
	base := teamperm.Settings{Member: teamperm.IntID(42), Role: teamperm.RoleMember}
	with := func(f func(*teamperm.Settings)) teamperm.Settings {
		s := base
		f(&s)
		return s
	}
	tests := []struct {
		name string
		in   string
		want teamperm.Settings
	}{
		{"doc-example", settingsDocExample, settingsDocExampleValue()},
		{"required-only", `{` + head + `}`, base},
		{"keys-in-any-order", `{"role":"member","pipelines":"all","member":42,"version":1}`, base},
		{"whitespace", "\n {\t\"version\" : 1 ,\r\n \"member\" : 42 , \"role\" : \"member\" } \n", base},
		{"owner", `{"version":1,"member":1,"role":"owner"}`, teamperm.Settings{Member: teamperm.IntID(1), Role: teamperm.RoleOwner}},
		{"admin", `{"version":1,"member":1,"role":"admin"}`, teamperm.Settings{Member: teamperm.IntID(1), Role: teamperm.RoleAdmin}},
		{"string-member", `{"version":1,"member":"42","role":"member"}`,
			teamperm.Settings{Member: teamperm.StringID("42"), Role: teamperm.RoleMember}},
		{"uuid-member-upper", `{"version":1,"member":{"uuid":"` + strings.ToUpper(textUUID) + `"},"role":"member"}`,
			teamperm.Settings{Member: teamperm.UUIDID(textUUIDBytes), Role: teamperm.RoleMember}},
		{"revision-max", `{` + head + `,"revision":18446744073709551615}`,
			with(func(s *teamperm.Settings) { s.Revision = math.MaxUint64 })},
		{"grant-any-order", `{` + head + `,"grant":["chat.assign","contact.delete"]}`,
			with(func(s *teamperm.Settings) {
				s.Grants = teamperm.PermissionSetOf(teamperm.ContactDelete, teamperm.ChatAssign)
			})},
		{"grant-and-deny-same", `{` + head + `,"grant":["chat.send"],"deny":["chat.send"]}`,
			with(func(s *teamperm.Settings) {
				s.Grants = teamperm.PermissionSetOf(teamperm.ChatSend)
				s.Denies = teamperm.PermissionSetOf(teamperm.ChatSend)
			})},
		{"empty-lists", `{` + head + `,"grant":[],"deny":[],"instances":[],"pipelines":[]}`,
			with(func(s *teamperm.Settings) {
				s.Instances = teamperm.Only()
				s.Pipelines = teamperm.Only()
			})},
		{"seven-and-quoted-seven-differ", `{` + head + `,"instances":[7,"7"]}`,
			with(func(s *teamperm.Settings) { s.Instances = teamperm.Only(teamperm.IntID(7), teamperm.StringID("7")) })},
		{"instances-keep-order", `{` + head + `,"instances":[9,{"uuid":"` + textUUID + `"},"a",7]}`,
			with(func(s *teamperm.Settings) {
				s.Instances = teamperm.Only(teamperm.IntID(9), teamperm.UUIDID(textUUIDBytes), teamperm.StringID("a"), teamperm.IntID(7))
			})},
		{"pipelines", `{` + head + `,"pipelines":[1,2]}`,
			with(func(s *teamperm.Settings) { s.Pipelines = teamperm.Only(teamperm.IntID(1), teamperm.IntID(2)) })},
		{"toggles", `{` + head + `,"only_assigned_chats":true,"only_created_deals":true}`,
			with(func(s *teamperm.Settings) { s.OnlyAssignedChats, s.OnlyCreatedDeals = true, true })},
		{"toggles-false", `{` + head + `,"only_assigned_chats":false,"only_created_deals":false}`, base},
		{"escaped-key", `{"versio\u006e":1,"member":42,"role":"member"}`, base},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got teamperm.Settings
			if err := got.UnmarshalJSON([]byte(tc.in)); err != nil {
				t.Fatalf("UnmarshalJSON(%s): %v", tc.in, err)
			}
			if diff := cmp.Diff(tc.want, got, settingsCmpOpts...); diff != "" {
				t.Errorf("UnmarshalJSON (-want +got):\n%s", diff)
			}
			// Re-marshalling gives the canonical form, which decodes equal.
			b, err := got.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			var again teamperm.Settings
			if err := again.UnmarshalJSON(b); err != nil {
				t.Fatalf("UnmarshalJSON(%s): %v", b, err)
			}
			if diff := cmp.Diff(got, again, settingsCmpOpts...); diff != "" {
				t.Errorf("canonical round trip (-want +got):\n%s", diff)
			}
		})
	}
}

// settingsJSONErrorCase is one input the settings decoder must refuse.
type settingsJSONErrorCase struct {
	name string
	in   string
	want []error  // the error wraps each of these (always ErrInvalidSettings)
	msg  []string // and names each of these
}

// settingsJSONErrorCases are also the seed corpus of FuzzSettingsJSON.
func settingsJSONErrorCases() []settingsJSONErrorCase {
	const head = `"version":1,"member":42,"role":"member"`
	obj := func(extra string) string { return `{` + head + `,` + extra + `}` }
	inv := teamperm.ErrInvalidSettings
	perm := teamperm.ErrUnknownPermission
	role := teamperm.ErrUnknownRole
	id := teamperm.ErrInvalidID
	e := func(errs ...error) []error { return errs }
	m := func(s ...string) []string { return s }
	uuid := `{"uuid":"` + textUUID + `"}`
	return []settingsJSONErrorCase{
		// Fields.
		{"unknown-field", obj(`"extra":1`), e(inv), m(`"extra"`)},
		// Escaped lone surrogates: encoding/json would read both as U+FFFD,
		// so "\ud800" and "\udbff" would be one instance.
		{"lone-high-surrogate-instance", obj(`"instances":["\ud800"]`), e(inv), m(`instances`, `\ud800`)},
		{"lone-low-surrogate-member", `{"version":1,"member":"a\udc00","role":"member"}`, e(inv), m(`member`, `\udc00`)},
		{"reversed-surrogates-pipeline", obj(`"pipelines":["\udc00\ud800"]`), e(inv), m(`pipelines`, `\udc00`)},
		{"high-then-text", obj(`"instances":["\ud83dx"]`), e(inv), m(`\ud83d`)},
		{"lone-surrogate-key", `{"version":1,"member":42,"role":"member","\ud800":1}`, e(inv), m(`\ud800`)},
		{"lone-surrogate-role", `{"version":1,"member":42,"role":"\ud800"}`, e(inv), m(`\ud800`)},
		{"int-zero-member", `{"version":1,"member":0,"role":"member"}`, e(id), m(`member id 0`)},
		// -0 is not an ID anywhere: an integer key has one spelling, 0.
		{"minus-zero-member", `{"version":1,"member":-0,"role":"member"}`, e(id, inv), m(`settings member -0`, "not -0")},
		{"minus-zero-instance", obj(`"instances":[7,-0]`), e(id, inv), m(`settings instances -0`, "not -0")},
		{"minus-zero-pipeline", obj(`"pipelines":[-0]`), e(id, inv), m(`settings pipelines -0`, "not -0")},
		{"minus-zero-revision", obj(`"revision":-0`), e(inv), m(`-0`)},
		{"minus-zero-version", `{"version":-0,"member":42,"role":"member"}`, e(inv), m(`-0`)},
		{"unknown-field-null", obj(`"plan":null`), e(inv), m(`"plan"`)},
		{"wrong-case-key-Role", `{"version":1,"member":42,"Role":"member"}`, e(inv), m(`"Role"`)},
		{"wrong-case-key-Version", `{"Version":1,"member":42,"role":"member"}`, e(inv), m(`"Version"`)},
		{"camel-case-key", obj(`"onlyAssignedChats":true`), e(inv), m(`"onlyAssignedChats"`)},
		{"empty-key", obj(`"":1`), e(inv), m(`""`)},
		{"duplicate-key-role", `{"version":1,"member":42,"role":"member","role":"member"}`, e(inv), m(`"role"`, "duplicate")},
		{"duplicate-key-version", `{"version":1,"version":1,"member":42,"role":"member"}`, e(inv), m(`"version"`, "duplicate")},
		{"duplicate-key-grant", obj(`"grant":[],"grant":[]`), e(inv), m(`"grant"`, "duplicate")},
		{"duplicate-key-escaped", obj(`"deny":[],"d\u0065ny":[]`), e(inv), m(`"deny"`, "duplicate")},
		{"missing-version", `{"member":42,"role":"member"}`, e(inv), m(`"version"`)},
		{"missing-member", `{"version":1,"role":"member"}`, e(inv), m(`"member"`)},
		{"missing-role", `{"version":1,"member":42}`, e(inv), m(`"role"`)},
		{"missing-all", `{}`, e(inv), m(`"version"`, `"member"`, `"role"`)},

		// The document.
		{"not-an-object-array", `[]`, e(inv), m("array")},
		{"not-an-object-null", `null`, e(inv), m("null")},
		{"not-an-object-string", `"settings"`, e(inv), m(`"settings"`)},
		{"not-an-object-number", `1`, e(inv), m("1")},
		{"empty-input", ``, e(inv), nil},
		{"spaces-only", " \n", e(inv), nil},
		{"truncated", `{"version":1,"member":42`, e(inv), nil},
		{"truncated-in-string", `{"version":1,"member":42,"role":"mem`, e(inv), nil},
		{"trailing-comma", obj(`"revision":1,`), e(inv), nil},
		{"trailing-object", `{` + head + `} {}`, e(inv), nil},
		{"trailing-garbage", `{` + head + `}x`, e(inv), nil},
		{"trailing-bracket", `{` + head + `}]`, e(inv), nil},
		{"trailing-nul", `{` + head + "}\x00", e(inv), nil},
		{"mismatched-close", `{` + head + `]`, e(inv), nil},
		{"missing-colon", `{"version" 1,"member":42,"role":"member"}`, e(inv), nil},
		{"missing-comma", `{"version":1 "member":42,"role":"member"}`, e(inv), nil},
		{"single-quotes", `{'version':1,"member":42,"role":"member"}`, e(inv), nil},
		{"comment", `{` + head + `/* x */}`, e(inv), nil},
		// Bytes that are not UTF-8: in a string, an error naming the value
		// (the key's object for a key), quoting the string and giving the
		// offset of the first bad byte; elsewhere, not JSON.
		{"invalid-utf8-in-value", "{\"version\":1,\"member\":\"a\xffb\",\"role\":\"member\"}", e(inv), m("settings member: ", `"a\xffb"`, "UTF-8", "offset 24")},
		{"invalid-utf8-in-key", "{" + head + ",\"\xfe\":1}", e(inv), m("settings: ", `"\xfe"`, "UTF-8")},
		{"invalid-utf8-in-role", `{"version":1,"member":42,"role":"mem` + "\xc3" + `ber"}`, e(inv), m("settings role: ", "UTF-8", "offset 36")},
		{"invalid-utf8-in-permission", obj(`"grant":["contact.view","chat.send` + "\xe2\x82" + `"]`), e(inv), m("settings grant: ", "UTF-8")},
		{"invalid-utf8-in-instance", obj(`"instances":[7,"brand` + "\xff" + `"]`), e(inv), m("settings instances: ", "UTF-8")},
		{"invalid-utf8-long-string", obj(`"pipelines":["` + strings.Repeat("p", 70) + "\xff" + `"]`), e(inv), m("settings pipelines: ", `"`+strings.Repeat("p", 64)+`..."`, "UTF-8")},
		{"invalid-utf8-outside", "{" + head + "}\xff", e(inv), m("after the value")},
		{"invalid-utf8-between", "{\"version\":1\xff,\"member\":42,\"role\":\"member\"}", e(inv), m("settings: ", "invalid byte 0xff", "offset 12")},

		// version.
		{"version-2", `{"version":2,"member":42,"role":"member"}`, e(inv), m("2")},
		{"version-0", `{"version":0,"member":42,"role":"member"}`, e(inv), m("0")},
		{"version-negative", `{"version":-1,"member":42,"role":"member"}`, e(inv), m("-1")},
		{"version-fraction", `{"version":1.0,"member":42,"role":"member"}`, e(inv), m("1.0")},
		{"version-exponent", `{"version":1e0,"member":42,"role":"member"}`, e(inv), m("1e0")},
		{"version-string", `{"version":"1","member":42,"role":"member"}`, e(inv), m(`"1"`)},
		{"version-null", `{"version":null,"member":42,"role":"member"}`, e(inv), m("null")},
		{"version-bool", `{"version":true,"member":42,"role":"member"}`, e(inv), m("true")},
		{"version-leading-zero", `{"version":01,"member":42,"role":"member"}`, e(inv), m("settings version: ", "number 01 has a leading zero", "offset 11")},
		{"version-zero-zero", `{"version":00,"member":42,"role":"member"}`, e(inv), m("settings version: ", "number 00 has a leading zero")},
		{"version-huge", `{"version":18446744073709551617,"member":42,"role":"member"}`, e(inv), m("18446744073709551617")},

		// member.
		{"member-null", `{"version":1,"member":null,"role":"member"}`, e(id, inv), m("member")},
		{"member-empty-string", `{"version":1,"member":"","role":"member"}`, e(id, inv), m(`""`)},
		{"member-bool", `{"version":1,"member":true,"role":"member"}`, e(inv), m("true")},
		{"member-array", `{"version":1,"member":[42],"role":"member"}`, e(inv), m("array")},
		{"member-fraction", `{"version":1,"member":4.2,"role":"member"}`, e(id, inv), m("4.2")},
		{"member-exponent", `{"version":1,"member":4e2,"role":"member"}`, e(id, inv), m("4e2")},
		{"member-overflow", `{"version":1,"member":9223372036854775808,"role":"member"}`, e(id, inv), m("9223372036854775808")},
		{"member-uuid-bad", `{"version":1,"member":{"uuid":"bad"},"role":"member"}`, e(id, inv), m(`"bad"`)},
		{"member-uuid-key-case", `{"version":1,"member":{"UUID":"` + textUUID + `"},"role":"member"}`, e(id, inv), m(`"UUID"`)},
		{"member-uuid-extra-key", `{"version":1,"member":{"uuid":"` + textUUID + `","x":1},"role":"member"}`, e(id, inv), nil},
		{"member-uuid-empty-object", `{"version":1,"member":{},"role":"member"}`, e(id, inv), m("settings member: got an empty object, want an integer", `{"uuid":...}`)},
		{"member-object-other-key", `{"version":1,"member":{"id":42},"role":"member"}`, e(id, inv), m(`settings member: got an object with the key "id", want an integer`)},
		{"member-leading-zero", `{"version":1,"member":042,"role":"member"}`, e(inv), m("settings member: ", "number 042 has a leading zero")},
		{"member-minus-leading-zero", `{"version":1,"member":-042,"role":"member"}`, e(inv), m("settings member: ", "number -042 has a leading zero")},

		// role.
		{"role-empty", `{"version":1,"member":42,"role":""}`, e(role, inv), m(`""`)},
		{"role-none", `{"version":1,"member":42,"role":"none"}`, e(role, inv), m(`"none"`)},
		{"role-wrong-case", `{"version":1,"member":42,"role":"Member"}`, e(role, inv), m(`"Member"`)},
		{"role-padded", `{"version":1,"member":42,"role":" admin"}`, e(role, inv), m(`" admin"`)},
		{"role-unknown", `{"version":1,"member":42,"role":"superuser"}`, e(role, inv), m(`"superuser"`)},
		{"role-number", `{"version":1,"member":42,"role":3}`, e(inv), m("3")},
		{"role-null", `{"version":1,"member":42,"role":null}`, e(inv), m("null")},
		{"role-array", `{"version":1,"member":42,"role":["member"]}`, e(inv), m("array")},

		// revision.
		{"revision-negative", obj(`"revision":-1`), e(inv), m("-1")},
		{"revision-fraction", obj(`"revision":1.5`), e(inv), m("1.5")},
		{"revision-string", obj(`"revision":"3"`), e(inv), m(`"3"`)},
		{"revision-null", obj(`"revision":null`), e(inv), m("null")},
		{"revision-leading-zero", obj(`"revision":007`), e(inv), m("settings revision: ", "number 007 has a leading zero")},
		{"revision-overflow", obj(`"revision":18446744073709551616`), e(inv), m("18446744073709551616")},

		// grant and deny.
		{"grant-unknown", obj(`"grant":["contact.view","x"]`), e(perm, inv), m(`"x"`)},
		{"grant-none", obj(`"grant":["none"]`), e(perm, inv), m(`"none"`)},
		{"grant-empty-name", obj(`"grant":[""]`), e(perm, inv), m(`""`)},
		{"grant-wrong-case", obj(`"grant":["Contact.View"]`), e(perm, inv), m(`"Contact.View"`)},
		{"grant-category", obj(`"grant":["contact"]`), e(perm, inv), m(`"contact"`)},
		{"grant-twice", obj(`"grant":["contact.export","contact.export"]`), e(inv), m(`"contact.export"`)},
		{"grant-string", obj(`"grant":"contact.view"`), e(inv), m(`"contact.view"`)},
		{"grant-null", obj(`"grant":null`), e(inv), m("null")},
		{"grant-object", obj(`"grant":{}`), e(inv), m("object")},
		{"grant-number-element", obj(`"grant":[1]`), e(inv), m("1")},
		{"grant-null-element", obj(`"grant":[null]`), e(inv), m("null")},
		{"deny-unknown", obj(`"deny":["chat.sendx"]`), e(perm, inv), m(`"chat.sendx"`)},
		{"deny-twice", obj(`"deny":["chat.send","chat.view","chat.send"]`), e(inv), m(`"chat.send"`)},
		{"deny-string", obj(`"deny":"all"`), e(inv), m(`"all"`)},
		{"deny-bool-element", obj(`"deny":[true]`), e(inv), m("true")},

		// instances and pipelines.
		{"instances-ALL", obj(`"instances":"ALL"`), e(inv), m(`"ALL"`)},
		{"instances-All", obj(`"instances":"All"`), e(inv), m(`"All"`)},
		{"instances-none", obj(`"instances":"none"`), e(inv), m(`"none"`)},
		{"instances-null", obj(`"instances":null`), e(inv), m("null")},
		{"instances-object", obj(`"instances":{}`), e(inv), m("object")},
		{"instances-number", obj(`"instances":7`), e(inv), m("7")},
		{"instances-null-id", obj(`"instances":[7,null]`), e(id, inv), m("null")},
		{"instances-duplicate-int", obj(`"instances":[7,9,7]`), e(inv), m("7", "twice")},
		{"instances-duplicate-string", obj(`"instances":["a","a"]`), e(inv), m(`"a"`, "twice")},
		{"instances-duplicate-uuid-case", obj(`"instances":[` + uuid + `,{"uuid":"` + strings.ToUpper(textUUID) + `"}]`), e(inv), m(textUUID, "twice")},
		{"instances-leading-zero", obj(`"instances":[7,09]`), e(inv), m("settings instances: ", "number 09 has a leading zero")},
		{"instances-empty-object", obj(`"instances":[{}]`), e(id, inv), m("settings instances: got an empty object")},
		{"instances-bool-id", obj(`"instances":[true]`), e(inv), m("true")},
		{"instances-fraction-id", obj(`"instances":[7.5]`), e(id, inv), m("7.5")},
		{"instances-nested-array", obj(`"instances":[[7]]`), e(inv), m("array")},
		{"instances-uuid-bad", obj(`"instances":[{"uuid":"6ba7b810"}]`), e(id, inv), m(`"6ba7b810"`)},
		{"pipelines-ALL", obj(`"pipelines":"ALL"`), e(inv), m(`"ALL"`)},
		{"pipelines-null-id", obj(`"pipelines":[null]`), e(id, inv), m("null")},
		{"pipelines-duplicate", obj(`"pipelines":[3,3]`), e(inv), m("3", "twice")},
		{"pipelines-bool", obj(`"pipelines":false`), e(inv), m("false")},

		// toggles.
		{"only-assigned-chats-string", obj(`"only_assigned_chats":"true"`), e(inv), m(`"true"`)},
		{"only-assigned-chats-number", obj(`"only_assigned_chats":1`), e(inv), m("1")},
		{"only-assigned-chats-null", obj(`"only_assigned_chats":null`), e(inv), m("null")},
		{"only-created-deals-number", obj(`"only_created_deals":0`), e(inv), m("0")},
		{"only-created-deals-string", obj(`"only_created_deals":"false"`), e(inv), m(`"false"`)},
	}
}

func TestSettingsJSONErrors(t *testing.T) {
	names := map[string]bool{}
	for _, tc := range settingsJSONErrorCases() {
		if names[tc.name] {
			t.Fatalf("duplicate case name %q", tc.name)
		}
		names[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			got := settingsDocExampleValue() // must survive the error
			err := got.UnmarshalJSON([]byte(tc.in))
			if err == nil {
				t.Fatalf("UnmarshalJSON(%s) = %+v, want an error", tc.in, got)
			}
			if diff := cmp.Diff(settingsDocExampleValue(), got, settingsCmpOpts...); diff != "" {
				t.Errorf("UnmarshalJSON failed but changed the settings (-want +got):\n%s", diff)
			}
			for _, want := range tc.want {
				if !errors.Is(err, want) {
					t.Errorf("UnmarshalJSON(%s) error = %v, want one wrapping %v", tc.in, err, want)
				}
			}
			for _, s := range tc.msg {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("UnmarshalJSON(%s) error %q does not name %s", tc.in, err, s)
				}
			}
			// encoding/json reports the same error for a host struct field.
			var row struct {
				S teamperm.Settings `json:"s"`
			}
			if json.Valid([]byte(tc.in)) {
				err := json.Unmarshal([]byte(`{"s":`+tc.in+`}`), &row)
				for _, want := range tc.want {
					if !errors.Is(err, want) {
						t.Errorf("json.Unmarshal of a host struct: error = %v, want one wrapping %v", err, want)
					}
				}
			}
		})
	}
}

func TestSettingsValidate(t *testing.T) {
	valid := teamperm.Settings{Member: teamperm.IntID(1), Role: teamperm.RoleMember}
	with := func(f func(*teamperm.Settings)) teamperm.Settings {
		s := valid
		f(&s)
		return s
	}
	tests := []struct {
		name string
		s    teamperm.Settings
		want []error  // Validate's error wraps each of these; nil: valid
		msg  []string // and names each of these
	}{
		{"valid", valid, nil, nil},
		{"int-zero-member", with(func(s *teamperm.Settings) { s.Member = teamperm.IntID(0) }), []error{teamperm.ErrInvalidID}, []string{"member id 0"}},
		{"valid-empty-specific", with(func(s *teamperm.Settings) { s.Instances, s.Pipelines = teamperm.Only(), teamperm.Only() }), nil, nil},
		{"valid-specific-nil-ids", with(func(s *teamperm.Settings) { s.Instances = teamperm.Access{Specific: true} }), nil, nil},
		{"zero", teamperm.Settings{}, []error{teamperm.ErrInvalidID, teamperm.ErrUnknownRole}, []string{"member", "none"}},
		{"zero-member", with(func(s *teamperm.Settings) { s.Member = teamperm.ID{} }), []error{teamperm.ErrInvalidID}, []string{"member"}},
		{"empty-string-member", with(func(s *teamperm.Settings) { s.Member = teamperm.StringID("") }), []error{teamperm.ErrInvalidID}, []string{`""`}},
		{"zero-role", with(func(s *teamperm.Settings) { s.Role = 0 }), []error{teamperm.ErrUnknownRole}, []string{"none"}},
		{"out-of-range-role", with(func(s *teamperm.Settings) { s.Role = 9 }), []error{teamperm.ErrUnknownRole}, []string{"Role(9)"}},
		{"instances-ids-given-with-all", with(func(s *teamperm.Settings) {
			s.Instances = teamperm.Access{IDs: []teamperm.ID{teamperm.IntID(7)}}
		}), []error{teamperm.ErrInvalidSettings}, []string{"instances", "ids given with access to all"}},
		{"pipelines-ids-given-with-all", with(func(s *teamperm.Settings) {
			s.Pipelines = teamperm.Access{IDs: []teamperm.ID{teamperm.IntID(1), teamperm.IntID(2)}}
		}), []error{teamperm.ErrInvalidSettings}, []string{"pipelines", "2 ids given with access to all"}},
		{"instances-null-id", with(func(s *teamperm.Settings) { s.Instances = teamperm.Only(teamperm.IntID(7), teamperm.ID{}) }),
			[]error{teamperm.ErrInvalidID}, []string{"instances", "null"}},
		{"instances-duplicate", with(func(s *teamperm.Settings) {
			s.Instances = teamperm.Only(teamperm.StringID("a"), teamperm.StringID("a"))
		}), []error{teamperm.ErrInvalidSettings}, []string{"instances", `"a"`, "twice"}},
		{"pipelines-duplicate", with(func(s *teamperm.Settings) { s.Pipelines = teamperm.Only(teamperm.IntID(3), teamperm.IntID(3)) }),
			[]error{teamperm.ErrInvalidSettings}, []string{"pipelines", "3", "twice"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.s.Validate()
			_, merr := tc.s.MarshalJSON()
			if tc.want == nil {
				if err != nil || merr != nil {
					t.Errorf("Validate() = %v, MarshalJSON error = %v; want nil, nil", err, merr)
				}
				return
			}
			for _, want := range tc.want {
				if !errors.Is(err, want) {
					t.Errorf("Validate() = %v, want an error wrapping %v", err, want)
				}
				if !errors.Is(merr, want) {
					t.Errorf("MarshalJSON error = %v, want one wrapping %v", merr, want)
				}
			}
			for _, s := range tc.msg {
				if !strings.Contains(fmt.Sprint(err), s) {
					t.Errorf("Validate() = %q, does not name %s", err, s)
				}
			}
		})
	}
}

// Validate reports every problem, not only the first.
func TestSettingsValidateJoinsProblems(t *testing.T) {
	s := teamperm.Settings{
		Member:    teamperm.StringID(""),
		Role:      teamperm.Role(200),
		Instances: teamperm.Access{IDs: []teamperm.ID{teamperm.IntID(1)}},
		Pipelines: teamperm.Only(teamperm.IntID(4), teamperm.ID{}),
	}
	err := s.Validate()
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("Validate() = %v (%T), want an errors.Join of every problem", err, err)
	}
	parts := joined.Unwrap()
	type part struct {
		is   error
		name string
	}
	want := []part{
		{teamperm.ErrInvalidID, `""`},
		{teamperm.ErrUnknownRole, "Role(200)"},
		{teamperm.ErrInvalidSettings, "instances"},
		{teamperm.ErrInvalidID, "pipelines"},
	}
	if len(parts) != len(want) {
		t.Fatalf("Validate() joined %d errors, want %d:\n%v", len(parts), len(want), err)
	}
	for i, w := range want {
		if !errors.Is(parts[i], w.is) || !strings.Contains(parts[i].Error(), w.name) {
			t.Errorf("problem %d = %v, want one wrapping %v and naming %s", i, parts[i], w.is, w.name)
		}
	}
	for _, w := range []error{teamperm.ErrInvalidID, teamperm.ErrUnknownRole, teamperm.ErrInvalidSettings} {
		if !errors.Is(err, w) {
			t.Errorf("errors.Is(Validate(), %v) = false", w)
		}
	}
	if _, err := s.MarshalJSON(); err == nil {
		t.Errorf("MarshalJSON of invalid settings succeeded")
	}
	if _, err := json.Marshal(s); !errors.Is(err, teamperm.ErrUnknownRole) {
		t.Errorf("json.Marshal of invalid settings: error = %v, want one wrapping %v", err, teamperm.ErrUnknownRole)
	}
}

// Text IDs that are not valid UTF-8 pass Validate but cannot be written
// exactly as JSON: MarshalJSON refuses them.
func TestSettingsMarshalInvalidUTF8ID(t *testing.T) {
	tests := []struct {
		name string
		s    teamperm.Settings
	}{
		{"member", teamperm.Settings{Member: teamperm.StringID("a\xff"), Role: teamperm.RoleMember}},
		{"instance", teamperm.Settings{Member: teamperm.IntID(1), Role: teamperm.RoleMember, Instances: teamperm.Only(teamperm.StringID("\xc3"))}},
		{"pipeline", teamperm.Settings{Member: teamperm.IntID(1), Role: teamperm.RoleMember, Pipelines: teamperm.Only(teamperm.StringID("\xed\xa0\x80"))}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if b, err := tc.s.MarshalJSON(); !errors.Is(err, teamperm.ErrInvalidID) {
				t.Errorf("MarshalJSON = %s, %v; want an error wrapping %v", b, err, teamperm.ErrInvalidID)
			}
		})
	}
}

// settingsIDGen generates IDs the settings accept anywhere: non-zero, text
// IDs valid UTF-8 and not empty.
func settingsIDGen() *rapid.Generator[teamperm.ID] {
	return rapid.OneOf(
		rapid.Map(rapid.Int64Range(-3, 3), teamperm.IntID),
		rapid.Map(rapid.Int64(), teamperm.IntID),
		rapid.Map(rapid.SampledFrom([]string{"7", "a", "<&>", "é", "\u2028"}), teamperm.StringID),
		rapid.Map(rapid.StringN(1, 8, -1), teamperm.StringID),
		rapid.Custom(func(t *rapid.T) teamperm.ID {
			var u [16]byte
			copy(u[:], rapid.SliceOfN(rapid.Byte(), 16, 16).Draw(t, "uuid"))
			return teamperm.UUIDID(u)
		}),
	)
}

func settingsAccessGen() *rapid.Generator[teamperm.Access] {
	return rapid.Custom(func(t *rapid.T) teamperm.Access {
		if rapid.Bool().Draw(t, "all") {
			return teamperm.Access{}
		}
		ids := rapid.SliceOfNDistinct(settingsIDGen(), 0, 5, func(id teamperm.ID) teamperm.ID { return id }).Draw(t, "ids")
		return teamperm.Only(ids...)
	})
}

func settingsGen() *rapid.Generator[teamperm.Settings] {
	return rapid.Custom(func(t *rapid.T) teamperm.Settings {
		grants, _ := drawPermSet(t, "grants")
		denies, _ := drawPermSet(t, "denies")
		return teamperm.Settings{
			Member:            settingsIDGen().Filter(func(id teamperm.ID) bool { return id != teamperm.IntID(0) }).Draw(t, "member"),
			Role:              rapid.SampledFrom([]teamperm.Role{teamperm.RoleOwner, teamperm.RoleAdmin, teamperm.RoleMember}).Draw(t, "role"),
			Revision:          rapid.Uint64().Draw(t, "revision"),
			Grants:            grants,
			Denies:            denies,
			Instances:         settingsAccessGen().Draw(t, "instances"),
			OnlyAssignedChats: rapid.Bool().Draw(t, "only_assigned_chats"),
			OnlyCreatedDeals:  rapid.Bool().Draw(t, "only_created_deals"),
			Pipelines:         settingsAccessGen().Draw(t, "pipelines"),
		}
	})
}

// settingsRoundTrip: valid Settings -> JSON -> Settings are equal, and the
// JSON written again is byte-equal. FuzzSettingsRoundTrip reuses it.
func settingsRoundTrip(t *rapid.T) {
	s := settingsGen().Draw(t, "settings")
	if err := s.Validate(); err != nil {
		t.Fatalf("generated invalid settings: %v", err)
	}
	b, err := s.MarshalJSON()
	if err != nil {
		t.Fatalf("MarshalJSON(%+v): %v", s, err)
	}
	var back teamperm.Settings
	if err := back.UnmarshalJSON(b); err != nil {
		t.Fatalf("UnmarshalJSON(%s): %v", b, err)
	}
	if diff := cmp.Diff(s, back, settingsCmpOpts...); diff != "" {
		t.Fatalf("round trip of %s (-want +got):\n%s", b, diff)
	}
	again, err := back.MarshalJSON()
	if err != nil || !bytes.Equal(again, b) {
		t.Fatalf("MarshalJSON again = %s, %v; want %s", again, err, b)
	}
}

func TestSettingsJSONRoundTrip(t *testing.T) {
	rapid.Check(t, settingsRoundTrip)
}

// jsonPiece is a piece of a JSON document: literal text, or a string
// literal (without quotes) whose errors must name what.
type jsonPiece struct {
	text string
	what string // "" for literal text
}

// TestInvalidUTF8NamesTheValue: for every string of a settings document
// and of an edits body (keys and values, IDs, names, the "uuid" key), and
// every kind of byte sequence that is not UTF-8, put into that string:
// the decoder refuses the document with an error that names the value
// the string belongs to (a key: its object), quotes the string and gives
// the offset of the bad byte, and wraps the decoder's sentinel.
func TestInvalidUTF8NamesTheValue(t *testing.T) {
	s := func(lit, what string) jsonPiece { return jsonPiece{lit, what} }
	x := func(text string) jsonPiece { return jsonPiece{text: text} }
	settings := []jsonPiece{
		x(`{`), s("version", "settings"), x(`:1,`), s("member", "settings"), x(`:`), s("m-1", "settings member"),
		x(`,`), s("role", "settings"), x(`:`), s("member", "settings role"), x(`,`), s("revision", "settings"), x(`:3,`),
		s("grant", "settings"), x(`:[`), s("contact.export", "settings grant"), x(`],`),
		s("deny", "settings"), x(`:[`), s("chat.send", "settings deny"), x(`,`), s("chat.view", "settings deny"), x(`],`),
		s("instances", "settings"), x(`:[7,`), s("brand-b", "settings instances"), x(`,{`), s("uuid", "settings instances"),
		x(`:`), s(textUUID, "settings instances"), x(`}],`),
		s("only_assigned_chats", "settings"), x(`:true,`), s("only_created_deals", "settings"), x(`:false,`),
		s("pipelines", "settings"), x(`:`), s("all", "settings pipelines"), x(`}`),
	}
	edits := []jsonPiece{
		x(`[{`), s("op", "edit 0"), x(`:`), s("grant", "edit 0 op"), x(`,`), s("permission", "edit 0"), x(`:`),
		s("chat.send", "edit 0 permission"), x(`},{`), s("op", "edit 1"), x(`:`), s("set_role", "edit 1 op"), x(`,`),
		s("role", "edit 1"), x(`:`), s("admin", "edit 1 role"), x(`},{`), s("op", "edit 2"), x(`:`),
		s("set_pipelines", "edit 2 op"), x(`,`), s("pipelines", "edit 2"), x(`:[`), s("p-1", "edit 2 pipelines"),
		x(`,{`), s("uuid", "edit 2 pipelines"), x(`:`), s(textUUID, "edit 2 pipelines"), x(`}]}]`),
	}
	decoders := []struct {
		name   string
		pieces []jsonPiece
		decode func([]byte) error
	}{
		{"Settings", settings, func(b []byte) error { var s teamperm.Settings; return s.UnmarshalJSON(b) }},
		{"ParseEdits", edits, func(b []byte) error { _, err := teamperm.ParseEdits(b); return err }},
	}
	// Bytes that are not UTF-8: a stray continuation byte, a byte that
	// never occurs, a truncated sequence, an overlong encoding, a
	// surrogate encoded in UTF-8, a code point above U+10FFFF.
	bad := []string{"\x80", "\xff", "\xe2\x82", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80"}
	for _, dec := range decoders {
		join := func(corrupt int, insert string, at int) ([]byte, int) {
			var b []byte
			off := -1
			for i, p := range dec.pieces {
				if p.what == "" {
					b = append(b, p.text...)
					continue
				}
				b = append(b, '"')
				if i != corrupt {
					b = append(b, p.text...)
				} else {
					b = append(b, p.text[:at]...)
					off = len(b)
					b = append(b, insert...)
					b = append(b, p.text[at:]...)
				}
				b = append(b, '"')
			}
			return b, off
		}
		if doc, _ := join(-1, "", 0); dec.decode(doc) != nil {
			t.Fatalf("%s: the document itself is refused: %v", dec.name, dec.decode(doc))
		}
		for i, p := range dec.pieces {
			if p.what == "" {
				continue
			}
			for _, b := range bad {
				for _, at := range []int{0, len(p.text) / 2, len(p.text)} {
					doc, off := join(i, b, at)
					err := dec.decode(doc)
					if !errors.Is(err, teamperm.ErrInvalidSettings) {
						t.Fatalf("%s(%q) = %v, want an error wrapping ErrInvalidSettings", dec.name, doc, err)
					}
					lit := p.text[:at] + b + p.text[at:]
					for _, want := range []string{
						"teamperm: " + p.what + ": ", fmt.Sprintf("string %q is not valid UTF-8 at offset %d", lit, off),
					} {
						if !strings.Contains(err.Error(), want) {
							t.Errorf("%s(%q): error %q does not say %q", dec.name, doc, err, want)
						}
					}
				}
			}
		}
	}
	// A lone ID and a permission set name their value too.
	var id teamperm.ID
	if err := id.UnmarshalJSON([]byte("\"a\xffb\"")); !errors.Is(err, teamperm.ErrInvalidID) || !strings.Contains(err.Error(), `teamperm: id: string "a\xffb" is not valid UTF-8 at offset 2`) {
		t.Errorf("ID.UnmarshalJSON: %v", err)
	}
	var ps teamperm.PermissionSet
	if err := ps.UnmarshalJSON([]byte("[\"chat.send\",\"chat.view\xff\"]")); !errors.Is(err, teamperm.ErrInvalidSettings) || !strings.Contains(err.Error(), `string "chat.view\xff" is not valid UTF-8 at offset 23`) {
		t.Errorf("PermissionSet.UnmarshalJSON: %v", err)
	}
}

// TestZeroIntIDAgrees: JSON and the Go API agree on IntID(0) (R17 and the
// doc of ID): 0 is a valid instance and pipeline key, whether the settings
// come from JSON, from an edits body or are built in Go, and a restricted
// member sees the records of instance 0; it is not a valid member ID,
// refused with ErrInvalidID either way. -0 is no spelling of it.
func TestZeroIntIDAgrees(t *testing.T) {
	org := teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.PlanPro.Features()}
	zero := teamperm.Only(teamperm.IntID(0))
	built := teamperm.Settings{Member: teamperm.IntID(42), Role: teamperm.RoleMember, Instances: zero, Pipelines: zero}
	var decoded teamperm.Settings
	if err := decoded.UnmarshalJSON([]byte(`{"version":1,"member":42,"role":"member","instances":[0],"pipelines":[0]}`)); err != nil {
		t.Fatalf("UnmarshalJSON: %v", err)
	}
	if diff := cmp.Diff(built, decoded, settingsCmpOpts...); diff != "" {
		t.Errorf("decoded settings (-built +decoded):\n%s", diff)
	}
	if err := built.Validate(); err != nil {
		t.Errorf("Validate of the built settings: %v", err)
	}
	m, err := teamperm.Compile(org, decoded)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	contact := teamperm.Record{Kind: teamperm.KindContact, Organization: org.ID, Instance: teamperm.IntID(0)}
	if d := m.EvaluateRecord(teamperm.ContactView, contact); !d.Allowed() {
		t.Errorf("a member restricted to instance 0 on a contact of instance 0: %v", d)
	}
	edits, err := teamperm.ParseEdits([]byte(`[{"op":"set_instances","instances":[0]},{"op":"set_pipelines","pipelines":[0]}]`))
	if err != nil {
		t.Fatalf("ParseEdits: %v", err)
	}
	want := []teamperm.Edit{teamperm.SetInstances{Access: zero}, teamperm.SetPipelines{Access: zero}}
	if diff := cmp.Diff(want, edits, settingsCmpOpts...); diff != "" {
		t.Errorf("ParseEdits (-want +got):\n%s", diff)
	}

	member0 := built
	member0.Member = teamperm.IntID(0)
	if err := member0.Validate(); !errors.Is(err, teamperm.ErrInvalidID) {
		t.Errorf("Validate with member IntID(0): %v, want ErrInvalidID", err)
	}
	if err := decoded.UnmarshalJSON([]byte(`{"version":1,"member":0,"role":"member"}`)); !errors.Is(err, teamperm.ErrInvalidID) {
		t.Errorf("UnmarshalJSON with member 0: %v, want ErrInvalidID", err)
	}
}

// escapeAll writes every character of s as a \u escape.
func escapeAll(s string) string {
	var b strings.Builder
	for _, r := range s {
		fmt.Fprintf(&b, `\u%04x`, r)
	}
	return b.String()
}

// TestJSONKeysMatchAfterUnescaping: keys are matched exactly after
// unescaping, as the decoders' docs say: a document whose keys are written
// with escapes decodes as the plain one; a key escaped into another case
// is unknown and named as unescaped; a key given twice, in any two
// spellings, is a duplicate.
func TestJSONKeysMatchAfterUnescaping(t *testing.T) {
	plainSettings := `{"version":1,"member":42,"role":"member","revision":3,"grant":["contact.export"],"deny":["chat.send"],` +
		`"instances":[7,{"uuid":"` + textUUID + `"}],"only_assigned_chats":true,"only_created_deals":true,"pipelines":"all"}`
	plainEdits := `[{"op":"grant","permission":"chat.send"},{"op":"set_instances","instances":[{"uuid":"` + textUUID + `"}]}]`
	keys := []string{"version", "member", "role", "revision", "grant", "deny", "instances", "only_assigned_chats", "only_created_deals", "pipelines", "uuid", "op", "permission"}
	escape := func(doc string, esc func(string) string) string {
		for _, k := range keys {
			doc = strings.ReplaceAll(doc, `"`+k+`":`, `"`+esc(k)+`":`)
		}
		return doc
	}
	var want teamperm.Settings
	if err := want.UnmarshalJSON([]byte(plainSettings)); err != nil {
		t.Fatal(err)
	}
	wantEdits, err := teamperm.ParseEdits([]byte(plainEdits))
	if err != nil {
		t.Fatal(err)
	}
	for name, esc := range map[string]func(string) string{
		"all-escaped":   escapeAll,
		"first-escaped": func(k string) string { return escapeAll(k[:1]) + k[1:] },
		"last-escaped":  func(k string) string { return k[:len(k)-1] + escapeAll(k[len(k)-1:]) },
		"upper-hex":     func(k string) string { return strings.ReplaceAll(strings.ToUpper(escapeAll(k)), `\U`, `\u`) },
	} {
		var got teamperm.Settings
		doc := escape(plainSettings, esc)
		if err := got.UnmarshalJSON([]byte(doc)); err != nil {
			t.Errorf("%s: UnmarshalJSON(%s): %v", name, doc, err)
		} else if diff := cmp.Diff(want, got, settingsCmpOpts...); diff != "" {
			t.Errorf("%s: UnmarshalJSON(%s) (-plain +escaped):\n%s", name, doc, diff)
		}
		doc = escape(plainEdits, esc)
		if got, err := teamperm.ParseEdits([]byte(doc)); err != nil {
			t.Errorf("%s: ParseEdits(%s): %v", name, doc, err)
		} else if diff := cmp.Diff(wantEdits, got, settingsCmpOpts...); diff != "" {
			t.Errorf("%s: ParseEdits(%s) (-plain +escaped):\n%s", name, doc, diff)
		}
	}
	var id teamperm.ID
	if err := id.UnmarshalJSON([]byte(`{"\u0075uid":"` + textUUID + `"}`)); err != nil || id != teamperm.UUIDID(textUUIDBytes) {
		t.Errorf(`ID.UnmarshalJSON with the key "\u0075uid": %v, %v`, id, err)
	}

	for _, tc := range []struct {
		in  string
		msg string // the error names this
	}{
		{`{"version":1,"member":42,"\u0052ole":"member"}`, `unknown field "Role"`},
		{`{"version":1,"member":42,"role":"member","r\u006fle":"admin"}`, `duplicate key "role"`},
		{`{"version":1,"member":42,"r\u006fle":"member","role":"admin"}`, `duplicate key "role"`},
		{`{"v\u0065rsion":1,"\u0076ersion":1,"member":42,"role":"member"}`, `duplicate key "version"`},
		{`{"version":1,"member":42,"role":"member","gr\u0061nt ":[]}`, `unknown field "grant "`},
	} {
		var s teamperm.Settings
		if err := s.UnmarshalJSON([]byte(tc.in)); !errors.Is(err, teamperm.ErrInvalidSettings) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("UnmarshalJSON(%s) = %v, want an error naming %s", tc.in, err, tc.msg)
		}
	}
	for _, in := range []string{
		`[{"op":"grant","\u006fp":"deny","permission":"chat.send"}]`,
		`[{"op":"grant","permission":"chat.send","perm\u0069ssion":"chat.view"}]`,
	} {
		_, err := teamperm.ParseEdits([]byte(in))
		if code := teamperm.ErrorCode(err); code != teamperm.CodeInvalidJSON || !strings.Contains(err.Error(), "duplicate key") {
			t.Errorf("ParseEdits(%s) = %v (code %q), want a duplicate key, invalid_json", in, err, code)
		}
	}
	if err := id.UnmarshalJSON([]byte(`{"\u0055UID":"` + textUUID + `"}`)); !errors.Is(err, teamperm.ErrInvalidID) || !strings.Contains(err.Error(), `"UUID"`) {
		t.Errorf(`ID.UnmarshalJSON with the key "\u0055UID": %v, want an error naming "UUID"`, err)
	}
}
