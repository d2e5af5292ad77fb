package teamperm_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/teamperm/teamperm"
)

// TestEditStrings: each edit prints what it does, toggles as on or off.
func TestEditStrings(t *testing.T) {
	tests := []struct {
		e    teamperm.Edit
		want string
	}{
		{teamperm.SetOnlyAssignedChats{On: true}, "set only assigned chats on"},
		{teamperm.SetOnlyAssignedChats{On: false}, "set only assigned chats off"},
		{teamperm.SetOnlyCreatedDeals{On: true}, "set only created deals on"},
		{teamperm.SetOnlyCreatedDeals{On: false}, "set only created deals off"},
		{teamperm.Grant{Permission: teamperm.ContactExport}, "grant contact.export"},
		{teamperm.Deny{Permission: teamperm.ChatSend}, "deny chat.send"},
		{teamperm.SetRole{Role: teamperm.RoleAdmin}, "set role admin"},
	}
	for _, tt := range tests {
		if got := fmt.Sprint(tt.e); got != tt.want {
			t.Errorf("%#v prints %q, want %q", tt.e, got, tt.want)
		}
	}
}

// TestFieldRange: exactly the six fields are valid, printed by name; every
// other value prints as Field(n).
func TestFieldRange(t *testing.T) {
	names := map[teamperm.Field]string{
		teamperm.FieldOrganization: "organization", teamperm.FieldInstance: "instance", teamperm.FieldAssignee: "assignee",
		teamperm.FieldCreator: "creator", teamperm.FieldCreatorKind: "creator_kind", teamperm.FieldPipeline: "pipeline",
	}
	for v := range 256 {
		f := teamperm.Field(v)
		name, valid := names[f]
		if f.IsValid() != valid {
			t.Errorf("Field(%d).IsValid() = %v, want %v", v, f.IsValid(), valid)
		}
		switch {
		case valid && f.String() != name:
			t.Errorf("Field(%d).String() = %q, want %q", v, f.String(), name)
		case !valid && v > 6 && f.String() != fmt.Sprintf("Field(%d)", v):
			t.Errorf("Field(%d).String() = %q", v, f.String())
		}
	}
}

// TestIdentifierPartLength: a column name's parts may be 63 bytes long
// (PostgreSQL's limit), not 64.
func TestIdentifierPartLength(t *testing.T) {
	for _, n := range []int{1, 62, 63, 64, 65} {
		for _, name := range []string{strings.Repeat("a", n), "c." + strings.Repeat("b", n), strings.Repeat("s", n) + ".c.x"} {
			m := teamperm.Mapping{SingleTenant: true, Instance: teamperm.IntColumn(name)}
			_, err := m.AppendColumns(nil, teamperm.Postgres)
			if (n <= 63) != (err == nil) || err != nil && !errors.Is(err, teamperm.ErrInvalidMapping) {
				t.Errorf("a part of %d bytes (%s): %v", n, name, err)
			}
		}
	}
}

// TestInvalidMemberDecisions: nil and the zero Member decide "not found"
// (records) or "forbidden" (permissions) with ReasonNone, naming the
// permission and kind asked about and no deciding permission.
func TestInvalidMemberDecisions(t *testing.T) {
	r := teamperm.Record{Kind: teamperm.KindConversation, Organization: teamperm.IntID(1)}
	for name, m := range map[string]*teamperm.Member{"nil": nil, "zero": {}} {
		checks := []struct {
			d       teamperm.Decision
			outcome teamperm.Outcome
			perm    teamperm.Permission
			kind    teamperm.Kind
		}{
			{m.Visible(r), teamperm.OutcomeNotFound, 0, teamperm.KindConversation},
			{m.EvaluateRecord(teamperm.ChatSend, r), teamperm.OutcomeNotFound, teamperm.ChatSend, teamperm.KindConversation},
			{m.Evaluate(teamperm.ContactView), teamperm.OutcomeForbidden, teamperm.ContactView, 0},
		}
		for _, c := range checks {
			d := c.d
			if d.Allowed() || d.Outcome() != c.outcome || d.Reason() != teamperm.ReasonNone || d.Permission() != c.perm || d.DecidedBy() != 0 || d.Kind() != c.kind {
				t.Errorf("%s member: %v (outcome %v, permission %v, by %v, kind %v), want %v of %v on %v", name, d, d.Outcome(), d.Permission(), d.DecidedBy(), d.Kind(), c.outcome, c.perm, c.kind)
			}
		}
	}
}

// TestErrorsQuoteShortInputs: a decoder's error quotes the text at fault
// whole up to 64 bytes, and cut at 64 bytes with "..." when longer: the
// string that is not UTF-8 (without its quotes; the offset then says where
// the bad byte is), the input that has data after its value.
func TestErrorsQuoteShortInputs(t *testing.T) {
	for _, n := range []int{63, 64, 65, 100} {
		lit := strings.Repeat("a", n-3) + "\xff"
		var id teamperm.ID
		err := id.UnmarshalJSON([]byte(`"` + lit + `"`))
		if !errors.Is(err, teamperm.ErrInvalidID) {
			t.Fatalf("%d bytes: %v", n, err)
		}
		want := fmt.Sprintf("%q", lit)
		if len(lit) > 64 {
			want = fmt.Sprintf("%q", lit[:64]+"...")
		}
		if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), fmt.Sprintf("offset %d", n-2)) {
			t.Errorf("%d bytes: error %q does not quote the string as %s and name offset %d", n, err, want, n-2)
		}

		data := []byte(strings.Repeat(" ", n-2) + "7\xff")
		err = id.UnmarshalJSON(data)
		if !errors.Is(err, teamperm.ErrInvalidID) {
			t.Fatalf("%d bytes: %v", n, err)
		}
		want = fmt.Sprintf("%q", data)
		if n > 64 {
			want = fmt.Sprintf("%q", string(data[:64])+"...")
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%d bytes: error %q does not quote the input as %s", n, err, want)
		}
	}
}

// TestEvaluateInvalidPermission: for every role and plan, asking about
// the zero permission or one out of range is forbidden as an invalid
// request, owners included.
func TestEvaluateInvalidPermission(t *testing.T) {
	for _, plan := range []teamperm.Plan{teamperm.PlanFree, teamperm.PlanPro} {
		org := teamperm.Organization{ID: teamperm.IntID(1), Features: plan.Features()}
		for _, role := range []teamperm.Role{teamperm.RoleOwner, teamperm.RoleAdmin, teamperm.RoleMember} {
			m := mustCompile(t, org, teamperm.Settings{Member: teamperm.IntID(2), Role: role, Grants: teamperm.PermissionSetOf(teamperm.ContactExport)})
			for _, p := range []teamperm.Permission{0, 18, 31, 32, 255} {
				d := m.Evaluate(p)
				if d.Allowed() || d.Outcome() != teamperm.OutcomeForbidden || d.Reason() != teamperm.ReasonInvalidRequest {
					t.Errorf("%v %v: Evaluate(%d) = %v, want forbidden as an invalid request", plan, role, p, d)
				}
			}
		}
	}
}
