package teamperm_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/teamperm/teamperm"
)

// bigInput is 1 MiB of hostile input: a client controls it, and the error
// message ends up in logs and, through teamhttp, in a 400's detail. An
// error echoes at most 64 bytes of it (quoted), so messages and Fields
// stay small however large the input.
var bigInput = strings.Repeat("A", 1<<20)

// maxMessage is generous: a message may quote 64 bytes of the input, a few
// times over, plus its own text.
const maxMessage = 1024

func checkBounded(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: accepted", what)
		return
	}
	msg := err.Error()
	if len(msg) > maxMessage {
		t.Errorf("%s: the error message is %d bytes (it echoes the input unbounded): %.200q...", what, len(msg), msg)
	}
	if !utf8.ValidString(msg) {
		t.Errorf("%s: the error message is not valid UTF-8: %.200q", what, msg)
	}
	if strings.ContainsAny(msg, "\r\x1b") || strings.Contains(msg, "\n\n") {
		t.Errorf("%s: the error message carries raw control characters of the input: %.200q", what, msg)
	}
	var te *teamperm.Error
	if errors.As(err, &te) && len(te.Field) > maxMessage {
		t.Errorf("%s: Field is %d bytes: %.100q", what, len(te.Field), te.Field)
	}
}

// TestErrorsBounded: every error of the strict decoders and parsers, fed
// 1 MiB where the input is echoed, is short, valid UTF-8 and free of the
// input's raw control characters.
func TestErrorsBounded(t *testing.T) {
	settings := map[string]string{
		"unknown key":          `{"version":1,"member":42,"role":"member","` + bigInput + `":1}`,
		"key with bad utf8":    `{"version":1,"member":42,"role":"member","` + bigInput + "\xff" + `":1}`,
		"string with bad utf8": `{"version":1,"member":"` + bigInput + "\xff" + `","role":"member"}`,
		"role name":            `{"version":1,"member":42,"role":"` + bigInput + `"}`,
		"permission name":      `{"version":1,"member":42,"role":"member","grant":["` + bigInput + `"]}`,
		"instances string":     `{"version":1,"member":42,"role":"member","instances":"` + bigInput + `"}`,
		"number":               `{"version":1,"member":42,"role":"member","revision":1` + strings.Repeat("0", 1<<20) + `.5}`,
		"huge integer id":      `{"version":1,"member":1` + strings.Repeat("0", 1<<20) + `,"role":"member"}`,
		"leading zero":         `{"version":0` + strings.Repeat("1", 1<<20) + `,"member":42,"role":"member"}`,
		"uuid object key":      `{"version":1,"member":{"` + bigInput + `":"x"},"role":"member"}`,
		"uuid value":           `{"version":1,"member":{"uuid":"` + bigInput + `"},"role":"member"}`,
		"trailing data":        `{"version":1,"member":42,"role":"member"}` + " x" + bigInput,
		"valid doc then junk":  `{"version":1,"member":"` + bigInput + `","role":"member"} x`,
		"version":              `{"version":2` + strings.Repeat("0", 1<<20) + `,"member":42,"role":"member"}`,
		"escape-heavy string":  `{"version":1,"member":42,"role":"` + strings.Repeat(`\u0041`, 1<<18) + `"}`,
		"control chars":        "{\"version\":1,\"member\":42,\"role\":\"" + strings.Repeat("\\r\\n\\u001b[31m", 1000) + "\"}",
		"literal":              `{"version":1,"member":42,"role":"member","only_assigned_chats":t` + bigInput + `}`,
		"unterminated string":  `{"version":1,"member":42,"role":"` + bigInput,
		"bad utf8 role 2":      "{\"version\":1,\"member\":42,\"role\":\"" + strings.Repeat("\xff", 1<<16) + "\"}",
	}
	for name, doc := range settings {
		var s teamperm.Settings
		checkBounded(t, "Settings/"+name, s.UnmarshalJSON([]byte(doc)))
	}
	edits := map[string]string{
		"unknown op":          `[{"op":"` + bigInput + `"}]`,
		"unknown key":         `[{"op":"grant","permission":"chat.send","` + bigInput + `":1}]`,
		"unknown key only":    `[{"` + bigInput + `":1}]`,
		"permission":          `[{"op":"grant","permission":"` + bigInput + `"}]`,
		"role":                `[{"op":"set_role","role":"` + bigInput + `"}]`,
		"instances string":    `[{"op":"set_instances","instances":"` + bigInput + `"}]`,
		"instances bad id":    `[{"op":"set_instances","instances":[1` + strings.Repeat("0", 1<<20) + `]}]`,
		"instances bad float": `[{"op":"set_instances","instances":[1.` + strings.Repeat("0", 1<<20) + `]}]`,
		"on":                  `[{"op":"set_only_assigned_chats","on":"` + bigInput + `"}]`,
		"bad utf8":            `[{"op":"grant","permission":"` + bigInput + "\xff" + `"}]`,
		"trailing":            `[]` + " " + bigInput,
		"not array":           `"` + bigInput + `"`,
		"number op":           `[{"op":1` + strings.Repeat("0", 1<<20) + `}]`,
		"uuid key":            `[{"op":"set_pipelines","pipelines":[{"` + bigInput + `":1}]}]`,
		"uuid value":          `[{"op":"set_pipelines","pipelines":[{"uuid":"` + bigInput + `"}]}]`,
	}
	for name, doc := range edits {
		_, err := teamperm.ParseEdits([]byte(doc))
		checkBounded(t, "ParseEdits/"+name, err)
	}
	ids := map[string]string{
		"string number": `1` + strings.Repeat("0", 1<<20),
		"float":         `1.` + strings.Repeat("0", 1<<20),
		"uuid":          `{"uuid":"` + bigInput + `"}`,
		"key":           `{"` + bigInput + `":1}`,
		"bool":          `t` + bigInput,
		"garbage":       bigInput,
	}
	for name, doc := range ids {
		var id teamperm.ID
		checkBounded(t, "ID/"+name, id.UnmarshalJSON([]byte(doc)))
		var v struct{ X teamperm.ID }
		err := json.Unmarshal([]byte(`{"X":`+doc+`}`), &v)
		if err != nil && len(err.Error()) > maxMessage {
			t.Logf("ID via encoding/json/%s: %d bytes (encoding/json's own message may quote)", name, len(err.Error()))
		}
	}
	var ps teamperm.PermissionSet
	checkBounded(t, "PermissionSet/name", ps.UnmarshalJSON([]byte(`["`+bigInput+`"]`)))
	checkBounded(t, "PermissionSet/not array", ps.UnmarshalJSON([]byte(`"`+bigInput+`"`)))
	var r teamperm.Role
	checkBounded(t, "Role.UnmarshalText", r.UnmarshalText([]byte(bigInput)))
	var p teamperm.Permission
	checkBounded(t, "Permission.UnmarshalText", p.UnmarshalText([]byte(bigInput)))
	var k teamperm.Kind
	checkBounded(t, "Kind.UnmarshalText", k.UnmarshalText([]byte(bigInput)))
	_, err := teamperm.ParseUUID(bigInput)
	checkBounded(t, "ParseUUID", err)
}
