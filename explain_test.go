package teamperm_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/teamperm/teamperm"
	"pgregory.net/rapid"
)

// TestExplainAndLogValue: for random members, permissions and records,
// Explain's verdict is the decision's outcome, and it names the permission
// that decided (with its description) and whether the role includes it;
// LogValue holds exactly the decision's fields, the permission and kind
// only when set.
func TestExplainAndLogValue(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		org, _ := genOrg(t)
		s := genSettings(t)
		m := mustCompile(t, org, s)
		var d teamperm.Decision
		p := teamperm.Permission(rapid.IntRange(0, 19).Draw(t, "perm"))
		switch rapid.IntRange(0, 3).Draw(t, "call") {
		case 0:
			d = m.Evaluate(p)
		case 1:
			d = m.EvaluateRecord(p, genRecord(t, org.ID, s))
		case 2:
			d = m.Visible(genRecord(t, org.ID, s))
		case 3:
			d = (*teamperm.Member)(nil).Evaluate(p)
		}
		checkExplain(t, d)
		checkLogValue(t, d)
	})
}

func checkExplain(t *rapid.T, d teamperm.Decision) {
	e := d.Explain()
	verdict := map[teamperm.Outcome]string{teamperm.OutcomeAllow: "Allowed: ", teamperm.OutcomeNotFound: "Not found: ", teamperm.OutcomeForbidden: "Denied: "}[d.Outcome()]
	if !strings.HasPrefix(e, verdict) {
		t.Fatalf("%v: Explain() = %q, want it to start with %q", d, e, verdict)
	}
	by := d.DecidedBy()
	switch d.Reason() {
	case teamperm.ReasonRoleDefault:
		if !by.IsValid() {
			if d.Kind() == teamperm.KindDeal && !strings.Contains(e, "deals need no permission") {
				t.Fatalf("%v: Explain() = %q, want the deal rule", d, e)
			}
			return
		}
		includes := teamperm.RoleMember.Defaults().Has(by)
		if r := d.Member(); !r.IsZero() {
			includes = roleOf(d).Defaults().Has(by)
		}
		want := fmt.Sprintf("role includes %s (%s) by default", by, by.Description())
		if !includes {
			want = fmt.Sprintf("role does not include %s (%s) by default", by, by.Description())
		}
		if !strings.Contains(e, want) {
			t.Fatalf("%v: Explain() = %q, want %q", d, e, want)
		}
	case teamperm.ReasonOverrideGrant, teamperm.ReasonOverrideDeny:
		if by.IsValid() && !strings.Contains(e, by.String()+" ("+by.Description()+")") {
			t.Fatalf("%v: Explain() = %q, want it to name %v", d, e, by)
		}
	case teamperm.ReasonNone:
		if !strings.Contains(e, "no member") {
			t.Fatalf("%v: Explain() = %q", d, e)
		}
	}
}

// roleOf reads the member's role from the decision's String form, which
// TestDecisionString pins ("(member 42, role member, revision 3)").
func roleOf(d teamperm.Decision) teamperm.Role {
	s := d.String()
	i := strings.Index(s, ", role ")
	if i < 0 {
		return 0
	}
	name, _, _ := strings.Cut(s[i+len(", role "):], ",")
	r, _ := teamperm.ParseRole(name)
	return r
}

func checkLogValue(t *rapid.T, d teamperm.Decision) {
	got := map[string]string{}
	var keys []string
	for _, a := range d.LogValue().Group() {
		got[a.Key] = a.Value.String()
		keys = append(keys, a.Key)
	}
	want := map[string]string{
		"outcome":  d.Outcome().String(),
		"reason":   d.Reason().String(),
		"member":   d.Member().String(),
		"revision": fmt.Sprint(d.Revision()),
	}
	wantKeys := []string{"outcome", "reason"}
	if d.Permission() != 0 {
		want["permission"] = d.Permission().String()
		wantKeys = append(wantKeys, "permission")
	}
	if d.Kind() != 0 {
		want["kind"] = d.Kind().String()
		wantKeys = append(wantKeys, "kind")
	}
	wantKeys = append(wantKeys, "member", "revision")
	if fmt.Sprint(got) != fmt.Sprint(want) || fmt.Sprint(keys) != fmt.Sprint(wantKeys) {
		t.Fatalf("%v: LogValue = %v (keys %v), want %v (keys %v)", d, got, keys, want, wantKeys)
	}
}

func TestExplainReasons(t *testing.T) {
	org := teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.FineGrained}
	me := teamperm.IntID(2)
	tests := []struct {
		s    teamperm.Settings
		p    teamperm.Permission
		r    *teamperm.Record
		want string
	}{
		{teamperm.Settings{Member: me, Role: teamperm.RoleOwner}, teamperm.ContactExport, nil, "Allowed: owners hold every permission"},
		{teamperm.Settings{Member: me, Role: teamperm.RoleMember, Grants: teamperm.PermissionSetOf(teamperm.ContactExport)}, teamperm.ContactExport, nil, "Allowed: the member was granted contact.export"},
		{teamperm.Settings{Member: me, Role: teamperm.RoleMember, Denies: teamperm.PermissionSetOf(teamperm.ContactView)}, teamperm.ContactView, nil, "Denied: the member was denied contact.view"},
		{teamperm.Settings{Member: me, Role: teamperm.RoleMember, Instances: teamperm.Only()}, teamperm.ContactView, &teamperm.Record{Kind: teamperm.KindContact, Organization: org.ID, Instance: teamperm.IntID(5)}, "Not found: the record belongs to a WhatsApp instance"},
		{teamperm.Settings{Member: me, Role: teamperm.RoleMember, OnlyAssignedChats: true}, teamperm.ChatView, &teamperm.Record{Kind: teamperm.KindConversation, Organization: org.ID}, "Not found: the member only views chats assigned"},
		{teamperm.Settings{Member: me, Role: teamperm.RoleMember, OnlyCreatedDeals: true}, 0, &teamperm.Record{Kind: teamperm.KindDeal, Organization: org.ID, CreatorKind: teamperm.CreatorMember, Creator: teamperm.IntID(9)}, "Not found: the member only views deals they created"},
		{teamperm.Settings{Member: me, Role: teamperm.RoleMember, Pipelines: teamperm.Only()}, 0, &teamperm.Record{Kind: teamperm.KindDeal, Organization: org.ID, Pipeline: teamperm.IntID(9)}, "Not found: the deal is in a pipeline"},
		{teamperm.Settings{Member: me, Role: teamperm.RoleMember}, 0, &teamperm.Record{Kind: teamperm.KindDeal, Organization: teamperm.IntID(8)}, "Not found: the record belongs to another organisation"},
		{teamperm.Settings{Member: me, Role: teamperm.RoleMember}, 0, &teamperm.Record{Kind: teamperm.KindDeal, Organization: org.ID}, "Allowed: deals need no permission"},
		{teamperm.Settings{Member: me, Role: teamperm.RoleMember}, teamperm.Permission(99), nil, "Denied: an invalid permission"},
	}
	for _, tt := range tests {
		m := mustCompile(t, org, tt.s)
		var d teamperm.Decision
		switch {
		case tt.r == nil:
			d = m.Evaluate(tt.p)
		case tt.p == 0:
			d = m.Visible(*tt.r)
		default:
			d = m.EvaluateRecord(tt.p, *tt.r)
		}
		if got := d.Explain(); !strings.HasPrefix(got, tt.want) {
			t.Errorf("%v: Explain() = %q, want %q...", d, got, tt.want)
		}
	}
	starter := teamperm.Organization{ID: org.ID}
	d := mustCompile(t, starter, teamperm.Settings{Member: me, Role: teamperm.RoleMember, Grants: teamperm.PermissionSetOf(teamperm.ContactExport)}).Evaluate(teamperm.ContactExport)
	if got := d.Explain(); !strings.HasPrefix(got, "Denied: the plan does not include fine-grained permissions") {
		t.Errorf("%v: Explain() = %q", d, got)
	}
}
