package teamperm_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/teamperm/teamperm"
)

// sentinels lists every exported Err... of the package with the code an
// error wrapping only it has.
var sentinels = []struct {
	err  error
	code teamperm.Code
}{
	{teamperm.ErrNotFound, teamperm.CodeNotFound},
	{teamperm.ErrForbidden, teamperm.CodeForbidden},
	{teamperm.ErrStaleMember, teamperm.CodeStaleMember},
	{teamperm.ErrUpgradeRequired, teamperm.CodeUpgradeRequired},
	{teamperm.ErrEditNotAllowed, teamperm.CodeEditNotAllowed},
	{teamperm.ErrInvalidSettings, teamperm.CodeInvalidSettings},
	{teamperm.ErrUnknownPermission, teamperm.CodeUnknownPermission},
	{teamperm.ErrUnknownRole, teamperm.CodeUnknownRole},
	{teamperm.ErrUnknownPlan, teamperm.CodeUnknownPlan},
	{teamperm.ErrUnknownKind, teamperm.CodeUnknownKind},
	{teamperm.ErrInvalidID, teamperm.CodeInvalidID},
	{teamperm.ErrInvalidMapping, teamperm.CodeInvalidMapping},
}

// TestSentinelsAreAllListed checks that the list above names every
// exported sentinel of the package source, so a new sentinel cannot go
// without a code.
func TestSentinelsAreAllListed(t *testing.T) {
	files, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	decl := regexp.MustCompile(`(?m)^\s*(?:var\s+)?(Err[A-Za-z]+)\s*=\s*errors\.New`)
	var found []string
	for _, f := range files {
		if !strings.HasSuffix(f.Name(), ".go") || strings.HasSuffix(f.Name(), "_test.go") {
			continue
		}
		src, err := os.ReadFile(f.Name())
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range decl.FindAllStringSubmatch(string(src), -1) {
			found = append(found, m[1])
		}
	}
	for _, name := range found {
		err := sentinelByName(name)
		if err == nil || !slices.ContainsFunc(sentinels, func(s struct {
			err  error
			code teamperm.Code
		}) bool {
			return s.err == err
		}) {
			t.Errorf("sentinel %s has no code in this test's list", name)
		}
	}
	if len(found) != len(sentinels) {
		t.Errorf("%d sentinels declared (%v), %d listed", len(found), found, len(sentinels))
	}
}

func sentinelByName(name string) error {
	return map[string]error{
		"ErrNotFound": teamperm.ErrNotFound, "ErrForbidden": teamperm.ErrForbidden,
		"ErrStaleMember": teamperm.ErrStaleMember, "ErrUpgradeRequired": teamperm.ErrUpgradeRequired,
		"ErrEditNotAllowed": teamperm.ErrEditNotAllowed, "ErrInvalidSettings": teamperm.ErrInvalidSettings,
		"ErrUnknownPermission": teamperm.ErrUnknownPermission, "ErrUnknownRole": teamperm.ErrUnknownRole,
		"ErrUnknownPlan": teamperm.ErrUnknownPlan, "ErrUnknownKind": teamperm.ErrUnknownKind,
		"ErrInvalidID": teamperm.ErrInvalidID, "ErrInvalidMapping": teamperm.ErrInvalidMapping,
	}[name]
}

func TestErrorCodeOfSentinels(t *testing.T) {
	for _, s := range sentinels {
		for _, err := range []error{s.err, fmt.Errorf("teamperm: context: %w", s.err), errors.Join(errors.New("other"), s.err)} {
			if got := teamperm.ErrorCode(err); got != s.code {
				t.Errorf("ErrorCode(%v) = %q, want %q", err, got, s.code)
			}
		}
		if got := s.code.Sentinel(); got != s.err {
			t.Errorf("%q.Sentinel() = %v, want %v", s.code, got, s.err)
		}
	}
	// The most specific sentinel wins.
	both := fmt.Errorf("teamperm: permission %q: %w (settings field %q: %w)", "x", teamperm.ErrUnknownPermission, "grant", teamperm.ErrInvalidSettings)
	if got := teamperm.ErrorCode(both); got != teamperm.CodeUnknownPermission {
		t.Errorf("ErrorCode(%v) = %q, want unknown_permission", both, got)
	}
	for _, err := range []error{nil, errors.New("connection refused"), fmt.Errorf("wrapped: %w", os.ErrNotExist)} {
		if got := teamperm.ErrorCode(err); got != "" {
			t.Errorf("ErrorCode(%v) = %q, want \"\"", err, got)
		}
	}
	if got := teamperm.Code("no_such_code").Sentinel(); got != nil {
		t.Errorf("Sentinel of an unknown code = %v, want nil", got)
	}
}

// TestCodesTable checks the list of codes: unique, snake_case, each with
// a sentinel, and exactly the table in the Code doc, in its order, with
// the sentinel the table names.
func TestCodesTable(t *testing.T) {
	var codes []teamperm.Code
	seen := map[teamperm.Code]bool{}
	name := regexp.MustCompile(`^[a-z]+(_[a-z]+)*$`)
	for c := range teamperm.Codes() {
		if seen[c] || !name.MatchString(string(c)) || c.Sentinel() == nil {
			t.Errorf("code %q: duplicate, not snake_case or without a sentinel", c)
		}
		seen[c] = true
		codes = append(codes, c)
	}
	src, err := os.ReadFile("codes.go")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile(`(?m)^//\t([a-z_]+) +(Err[A-Za-z]+) +(\d{3}) +\S`)
	var documented []teamperm.Code
	for _, m := range row.FindAllStringSubmatch(string(src), -1) {
		c := teamperm.Code(m[1])
		documented = append(documented, c)
		if got, want := c.Sentinel(), sentinelByName(m[2]); got != want {
			t.Errorf("code %s: documented as wrapping %s, Sentinel() = %v", c, m[2], got)
		}
	}
	if diff := cmp.Diff(codes, documented); diff != "" {
		t.Errorf("Codes() (-) and the table in the Code doc (+):\n%s", diff)
	}
	for _, s := range sentinels {
		if !seen[s.code] {
			t.Errorf("sentinel %v: code %q is not in Codes()", s.err, s.code)
		}
	}
}

// codedProblem returns what is wrong with err as an error of ParseEdits,
// ApplyEdits or CanEdit: it must be an *Error with a listed code, wrap the
// code's sentinel, and carry the message of its underlying error. "" if
// nothing.
func codedProblem(err error) string {
	var e *teamperm.Error
	if !errors.As(err, &e) {
		return fmt.Sprintf("%v (%T) is not a *teamperm.Error", err, err)
	}
	if teamperm.ErrorCode(err) != e.Code {
		return fmt.Sprintf("ErrorCode(%v) = %q, *Error says %q", err, teamperm.ErrorCode(err), e.Code)
	}
	listed := false
	for c := range teamperm.Codes() {
		listed = listed || c == e.Code
	}
	if !listed {
		return fmt.Sprintf("%v: code %q is not in Codes()", err, e.Code)
	}
	if !errors.Is(err, e.Code.Sentinel()) {
		return fmt.Sprintf("%v: code %q but does not wrap %v", err, e.Code, e.Code.Sentinel())
	}
	if e.Field != "" && !regexp.MustCompile(`^/\d+(/[^/]*)?$`).MatchString(e.Field) {
		return fmt.Sprintf("%v: field %q is not a pointer to an edit or its key", err, e.Field)
	}
	return ""
}

func TestEditRefusalCodes(t *testing.T) {
	pro := teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.PlanPro.Features()}
	starter := teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.PlanStarter.Features()}
	other := teamperm.Organization{ID: teamperm.IntID(2), Features: teamperm.PlanPro.Features()}
	compile := func(org teamperm.Organization, s teamperm.Settings) *teamperm.Member {
		t.Helper()
		m, err := teamperm.Compile(org, s)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	ownerS := teamperm.Settings{Member: teamperm.IntID(1), Role: teamperm.RoleOwner}
	adminS := teamperm.Settings{Member: teamperm.IntID(2), Role: teamperm.RoleAdmin}
	memberS := teamperm.Settings{Member: teamperm.IntID(3), Role: teamperm.RoleMember}
	boundAdminS := teamperm.Settings{Member: teamperm.IntID(4), Role: teamperm.RoleAdmin, Instances: teamperm.Only(teamperm.IntID(7))}
	owner, admin, member := compile(pro, ownerS), compile(pro, adminS), compile(pro, memberS)
	boundAdmin := compile(pro, boundAdminS)
	ownerOnStarter := compile(starter, ownerS)
	grant := teamperm.Grant{Permission: teamperm.ChatAssign}

	tests := []struct {
		name   string
		actor  *teamperm.Member
		org    teamperm.Organization
		target teamperm.Settings
		edits  []teamperm.Edit
		code   teamperm.Code
		field  string
		msg    string // the human message, unchanged by the code
	}{
		{"no actor", nil, pro, memberS, []teamperm.Edit{grant}, teamperm.CodeEditNoActor, "", "teamperm: no acting member: edit not allowed"},
		{"zero actor", &teamperm.Member{}, pro, memberS, []teamperm.Edit{grant}, teamperm.CodeEditNoActor, "", "teamperm: no acting member: edit not allowed"},
		{"unset organization", owner, teamperm.Organization{}, memberS, []teamperm.Edit{grant}, teamperm.CodeEditInvalidOrganization, "", "teamperm: organization id <none>: edit not allowed"},
		{"other organization", owner, other, memberS, []teamperm.Edit{grant}, teamperm.CodeEditOtherOrganization, "", "teamperm: actor 1 is not a member of organization 2: edit not allowed"},
		{"stale actor", ownerOnStarter, pro, memberS, []teamperm.Edit{grant}, teamperm.CodeStaleMember, "", ""},
		{"not an editor", member, pro, adminS, []teamperm.Edit{grant}, teamperm.CodeEditNotEditor, "", "teamperm: actor 3 is a member; only owners and admins edit permissions: edit not allowed"},
		{"self", admin, pro, adminS, []teamperm.Edit{grant}, teamperm.CodeEditSelf, "", "teamperm: actor 2 cannot edit their own permissions: edit not allowed"},
		{"an owner", admin, pro, ownerS, []teamperm.Edit{grant}, teamperm.CodeEditOwner, "", "teamperm: member 1 is an owner; owners cannot be edited: edit not allowed"},
		{"an admin by an admin", admin, pro, boundAdminS, []teamperm.Edit{grant}, teamperm.CodeEditAdmin, "", "teamperm: member 4 is an admin; only owners edit admins: edit not allowed"},
		{"admin makes an admin", admin, pro, memberS, []teamperm.Edit{grant, teamperm.SetRole{Role: teamperm.RoleAdmin}}, teamperm.CodeEditRoleNotAllowed, "/1/role", "teamperm: set role admin: only an owner makes owners and admins: edit not allowed"},
		{"escalation", boundAdmin, pro, memberS, []teamperm.Edit{grant}, teamperm.CodeEditEscalation, "", ""},
		{"upgrade required", ownerOnStarter, starter, memberS, []teamperm.Edit{teamperm.SetRole{Role: teamperm.RoleMember}, grant}, teamperm.CodeUpgradeRequired, "/1", "teamperm: grant chat.assign: upgrade required: " + teamperm.UpgradeMessage},
		{"no edits", owner, pro, memberS, nil, teamperm.CodeNoEdits, "", "teamperm: no edit to apply: invalid settings"},
		{"nil edit", owner, pro, memberS, []teamperm.Edit{grant, nil}, teamperm.CodeInvalidSettings, "/1", "teamperm: nil edit: invalid settings"},
		{"unknown permission", owner, pro, memberS, []teamperm.Edit{teamperm.Deny{}}, teamperm.CodeUnknownPermission, "/0", ""},
		{"unknown role", owner, pro, memberS, []teamperm.Edit{teamperm.SetRole{}}, teamperm.CodeUnknownRole, "", ""},
		{"null instance", owner, pro, memberS, []teamperm.Edit{teamperm.SetInstances{Access: teamperm.Only(teamperm.ID{})}}, teamperm.CodeInvalidID, "/0/instances", ""},
		{"duplicate pipeline", owner, pro, memberS, []teamperm.Edit{grant, teamperm.SetPipelines{Access: teamperm.Only(teamperm.IntID(3), teamperm.IntID(3))}}, teamperm.CodeDuplicateID, "/1/pipelines", ""},
		{"ids with all", owner, pro, memberS, []teamperm.Edit{teamperm.SetPipelines{Access: teamperm.Access{IDs: []teamperm.ID{teamperm.IntID(3)}}}}, teamperm.CodeInvalidSettings, "/0/pipelines", ""},
		{"last revision", owner, pro, teamperm.Settings{Member: teamperm.IntID(3), Role: teamperm.RoleMember, Revision: math.MaxUint64}, []teamperm.Edit{grant}, teamperm.CodeInvalidSettings, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := teamperm.ApplyEdits(tt.actor, tt.org, tt.target, adminTime, tt.edits...)
			if p := codedProblem(err); p != "" {
				t.Fatal(p)
			}
			var e *teamperm.Error
			errors.As(err, &e)
			if e.Code != tt.code || e.Field != tt.field {
				t.Errorf("ApplyEdits: code %q field %q, want %q %q (%v)", e.Code, e.Field, tt.code, tt.field, err)
			}
			if tt.msg != "" && err.Error() != tt.msg {
				t.Errorf("message %q, want %q", err, tt.msg)
			}
			if len(tt.edits) == 1 && tt.edits[0] == grant && tt.field == "" {
				// CanEdit refuses exactly where ApplyEdits refuses on who
				// edits whom, with the same code.
				err := teamperm.CanEdit(tt.actor, tt.org, tt.target)
				if tt.code == teamperm.CodeEditEscalation || tt.code == teamperm.CodeInvalidSettings {
					if err != nil {
						t.Errorf("CanEdit = %v, want nil", err)
					}
				} else if got := teamperm.ErrorCode(err); got != tt.code {
					t.Errorf("CanEdit: code %q, want %q", got, tt.code)
				}
			}
		})
	}
}

func TestParseEditsCodes(t *testing.T) {
	tests := []struct {
		in    string
		code  teamperm.Code
		field string
	}{
		{`{}`, teamperm.CodeInvalidJSON, ""},
		{`[`, teamperm.CodeInvalidJSON, ""},
		{`[] []`, teamperm.CodeInvalidJSON, ""},
		{"[\xff]", teamperm.CodeInvalidJSON, "/0"}, // as [x]: not a value
		{"[x]", teamperm.CodeInvalidJSON, "/0"},
		{"[{\"o\xffp\":\"grant\"}]", teamperm.CodeInvalidJSON, "/0"},
		{"[{\"op\":\"grant\",\"permission\":\"chat.send\xff\"}]", teamperm.CodeInvalidJSON, "/0/permission"},
		{"[{\"op\":\"set_instances\",\"instances\":[1,\"\xc0\xaf\"]}]", teamperm.CodeInvalidJSON, "/0/instances"},
		{`[1]`, teamperm.CodeInvalidJSON, "/0"},
		{`[{"op":"grant","permission":"chat.send","op":"deny"}]`, teamperm.CodeInvalidJSON, "/0"},
		{`[{"op":"grant","permission":7}]`, teamperm.CodeInvalidJSON, "/0/permission"},
		{`[{"op":"set_only_assigned_chats","on":"yes"}]`, teamperm.CodeInvalidJSON, "/0/on"},
		{`[{"op":"set_instances","instances":"ALL"}]`, teamperm.CodeInvalidJSON, "/0/instances"},
		{`[{"op":"grant","permission":"chat.send"},{"op":"grant","permision":"chat.send"}]`, teamperm.CodeUnknownField, "/1/permision"},
		{`[{"op":"grant","permission":"chat.send","a/b~c":1}]`, teamperm.CodeUnknownField, "/0/a~1b~0c"},
		{`[{"op":"set_role","role":"member","on":true}]`, teamperm.CodeUnknownField, "/0/on"},
		{`[{"op":"grant"}]`, teamperm.CodeMissingField, "/0"},
		{`[{"permission":"chat.send"}]`, teamperm.CodeMissingField, "/0"},
		{`[{"op":"revoke","permission":"chat.send"}]`, teamperm.CodeUnknownOp, "/0/op"},
		{`[{"op":"grant","permission":"chat.delete"}]`, teamperm.CodeUnknownPermission, "/0/permission"},
		{`[{"op":"clear_override","permission":""}]`, teamperm.CodeUnknownPermission, "/0/permission"},
		{`[{"op":"set_role","role":"superuser"}]`, teamperm.CodeUnknownRole, "/0/role"},
		{`[{"op":"set_pipelines","pipelines":[3,3]}]`, teamperm.CodeDuplicateID, "/0/pipelines"},
		{`[{"op":"set_instances","instances":[null]}]`, teamperm.CodeInvalidID, "/0/instances"},
		{`[{"op":"set_instances","instances":[1e3]}]`, teamperm.CodeInvalidID, "/0/instances"},
		{`[{"op":"set_instances","instances":[-0]}]`, teamperm.CodeInvalidID, "/0/instances"},
		{`[{"op":"set_instances","instances":[01]}]`, teamperm.CodeInvalidJSON, "/0/instances"},
		{`[{"op":"set_instances","instances":[{}]}]`, teamperm.CodeInvalidID, "/0/instances"},
		{`[{"op":"set_pipelines","pipelines":[7,-0]}]`, teamperm.CodeInvalidID, "/0/pipelines"},
		{`[{"op":"set_instances","instances":[{"uuid":"nope"}]}]`, teamperm.CodeInvalidID, "/0/instances"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := teamperm.ParseEdits([]byte(tt.in))
			if p := codedProblem(err); p != "" {
				t.Fatal(p)
			}
			if !errors.Is(err, teamperm.ErrInvalidSettings) {
				t.Errorf("%v does not wrap ErrInvalidSettings", err)
			}
			var e *teamperm.Error
			errors.As(err, &e)
			if e.Code != tt.code || e.Field != tt.field {
				t.Errorf("ParseEdits(%s): code %q field %q, want %q %q (%v)", tt.in, e.Code, e.Field, tt.code, tt.field, err)
			}
		})
	}
}

// pointerResolves reports whether the JSON Pointer p names a value of the
// JSON document doc.
func pointerResolves(doc []byte, p string) bool {
	// Numbers stay text (UseNumber): a valid document may hold numbers
	// no float64 holds, such as 1e400 or 300 digits.
	d := json.NewDecoder(bytes.NewReader(doc))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil {
		return false
	}
	if p == "" {
		return true
	}
	for _, tok := range strings.Split(p[1:], "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch x := v.(type) {
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) {
				return false
			}
			v = x[i]
		case map[string]any:
			var ok bool
			if v, ok = x[tok]; !ok {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// checkParseEditsError is the property of every ParseEdits error, used by
// FuzzParseEdits: coded, wrapping ErrInvalidSettings, and, for input that
// is valid JSON, naming a place that exists in it.
func checkParseEditsError(in []byte, err error) string {
	if p := codedProblem(err); p != "" {
		return p
	}
	var e *teamperm.Error
	errors.As(err, &e)
	if json.Valid(in) && !pointerResolves(in, e.Field) {
		return fmt.Sprintf("%v: field %q is not in %s", err, e.Field, in)
	}
	return ""
}

func TestErrorZeroValue(t *testing.T) {
	var e teamperm.Error
	if got := e.Error(); got != "teamperm: " {
		t.Errorf("zero Error = %q", got)
	}
	if e.Unwrap() != nil || teamperm.ErrorCode(&e) != "" {
		t.Errorf("zero Error unwraps to %v, code %q", e.Unwrap(), teamperm.ErrorCode(&e))
	}
}

func TestErrorCodeAllocs(t *testing.T) {
	_, _, err := teamperm.ApplyEdits(nil, teamperm.Organization{}, teamperm.Settings{}, adminTime, teamperm.Grant{Permission: teamperm.ChatSend})
	wrapped := fmt.Errorf("handler: %w", err)
	if n := testing.AllocsPerRun(100, func() { _ = teamperm.ErrorCode(wrapped) }); n != 0 {
		t.Errorf("ErrorCode allocates %v times", n)
	}
}

// TestParseEditsBlamesFields: for every op and every set of the other keys
// an edit may carry, in every order, ParseEdits accepts exactly the op's
// own field, reports a missing one at the edit, and blames extra keys on
// the first of them in the documented order (permission, role, instances,
// pipelines, on), whatever their order in the input.
func TestParseEditsBlamesFields(t *testing.T) {
	fields := []string{"permission", "role", "instances", "pipelines", "on"} // the documented order
	value := map[string]string{"permission": `"chat.send"`, "role": `"member"`, "instances": `"all"`, "pipelines": `"all"`, "on": `true`}
	ops := map[string]string{
		"set_role": "role", "grant": "permission", "deny": "permission", "clear_override": "permission",
		"set_instances": "instances", "set_pipelines": "pipelines",
		"set_only_assigned_chats": "on", "set_only_created_deals": "on",
	}
	var permute func(keys []string, visit func([]string))
	permute = func(keys []string, visit func([]string)) {
		if len(keys) <= 1 {
			visit(keys)
			return
		}
		for i := range keys {
			rest := append(append([]string{}, keys[:i]...), keys[i+1:]...)
			permute(rest, func(p []string) { visit(append([]string{keys[i]}, p...)) })
		}
	}
	for op, own := range ops {
		for subset := range 1 << len(fields) {
			keys := []string{"op"}
			hasOwn, firstExtra := false, ""
			for i, f := range fields {
				if subset&(1<<i) == 0 {
					continue
				}
				keys = append(keys, f)
				if f == own {
					hasOwn = true
				} else if firstExtra == "" {
					firstExtra = f
				}
			}
			wantCode, wantField := teamperm.Code(""), ""
			switch {
			case !hasOwn:
				wantCode, wantField = teamperm.CodeMissingField, "/0"
			case firstExtra != "":
				wantCode, wantField = teamperm.CodeUnknownField, "/0/"+firstExtra
			}
			permute(keys, func(order []string) {
				var parts []string
				for _, k := range order {
					v := value[k]
					if k == "op" {
						v = strconv.Quote(op)
					}
					parts = append(parts, strconv.Quote(k)+":"+v)
				}
				in := "[{" + strings.Join(parts, ",") + "}]"
				_, err := teamperm.ParseEdits([]byte(in))
				var e *teamperm.Error
				if gotCode, gotField := teamperm.ErrorCode(err), ""; errors.As(err, &e) {
					gotField = e.Field
					if gotCode != wantCode || gotField != wantField {
						t.Fatalf("ParseEdits(%s): code %q field %q, want %q %q", in, gotCode, gotField, wantCode, wantField)
					}
				} else if err != nil || wantCode != "" {
					t.Fatalf("ParseEdits(%s) = %v, want code %q field %q", in, err, wantCode, wantField)
				}
			})
		}
	}
}
