package teamperm_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/tabwriter"

	"github.com/google/go-cmp/cmp"
	"github.com/teamperm/teamperm"
)

// This file pins the seed's text to the engine: the Role defaults table and
// the six Common permission setups.

// seedRoleTable extracts the "Role defaults" table of the seed.
func seedRoleTable(t *testing.T) []string {
	t.Helper()
	seed, err := os.ReadFile(filepath.Join("testdata", "seed", "permissions.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	in := false
	for _, line := range strings.Split(string(seed), "\n") {
		switch {
		case line == "| Permission | Admin | Member |":
			in = true
			rows = append(rows, line)
		case in && strings.HasPrefix(line, "|"):
			rows = append(rows, line)
		case in:
			return rows
		}
	}
	t.Fatal("no Role defaults table in the seed")
	return nil
}

// renderRoleTable renders the role defaults of the code in the seed's
// format: per category, the permissions with the same (Admin, Member)
// defaults on one row, in the seed's order.
func renderRoleTable() []string {
	rows := []string{"| Permission | Admin | Member |", "|---|---|---|"}
	yes := func(b bool) string {
		if b {
			return "Yes"
		}
		return "No"
	}
	for c := range teamperm.Categories() {
		type key struct{ admin, member bool }
		var order []key
		labels := map[key][]string{}
		for p := range c.Permissions() {
			k := key{teamperm.RoleAdmin.Defaults().Has(p), teamperm.RoleMember.Defaults().Has(p)}
			if labels[k] == nil {
				order = append(order, k)
			}
			labels[k] = append(labels[k], p.Label())
		}
		name := strings.ToUpper(c.String()[:1]) + c.String()[1:]
		for _, k := range order {
			rows = append(rows, fmt.Sprintf("| %s: %s | %s | %s |", name, strings.Join(labels[k], ", "), yes(k.admin), yes(k.member)))
		}
	}
	return rows
}

func TestRoleDefaultsMatchSeed(t *testing.T) {
	if diff := cmp.Diff(seedRoleTable(t), renderRoleTable()); diff != "" {
		t.Errorf("role defaults differ from the seed's table (-seed +code):\n%s", diff)
	}
	// The Owner column is ours (R2: every permission), pinned in a golden
	// file with the seed's two columns.
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "permission\tdescription\towner\tadmin\tmember\tnone")
	for p := range teamperm.Permissions() {
		fmt.Fprintf(tw, "%s\t%s", p, p.Description())
		for _, r := range []teamperm.Role{teamperm.RoleOwner, teamperm.RoleAdmin, teamperm.RoleMember, 0} {
			fmt.Fprintf(tw, "\t%v", r.Defaults().Has(p))
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	golden(t, "role_defaults.golden", b.Bytes())
}

// TestSeedCopyIsCurrent guards the copy of the seed in testdata against
// drift from the shared original, where a checkout has it beside it (CI
// does).
func TestSeedCopyIsCurrent(t *testing.T) {
	orig, err := os.ReadFile(filepath.Join("..", "shared", "seed", "permissions.txt"))
	if err != nil {
		t.Skipf("no shared seed beside this checkout: %v", err)
	}
	copied, err := os.ReadFile(filepath.Join("testdata", "seed", "permissions.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(orig, copied) {
		t.Error("testdata/seed/permissions.txt differs from ../shared/seed/permissions.txt: copy it again and review the tests")
	}
}

// golden compares got with testdata/name, or rewrites the file with
// -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, diff)
	}
}

// The seed's six common setups run through the engine, with the
// expectations the reference model's tests wrote from the seed's text
// (refCases in reference_test.go), translated to the engine's types. Only
// the cases the engine's API cannot express are left out: an unknown plan
// or role, unknown permission names in stored settings, and a member of
// another organisation (Compile binds a member to its organisation).
func TestSeedSetupsOnEngine(t *testing.T) {
	ran := 0
	for _, c := range refCases() {
		plan, err := teamperm.ParsePlan(c.plan)
		if c.plan == "" {
			plan, err = teamperm.PlanFree, nil
		}
		role, rerr := teamperm.ParseRole(c.m.Role)
		if err != nil || rerr != nil || c.m.Org != refOrgID {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			org := teamperm.Organization{ID: teamperm.StringID(refOrgID), Features: plan.Features()}
			m := mustCompile(t, org, fromRefMember(t, c.m, role))
			perm, _ := teamperm.ParsePermission(c.perm) // an unknown name is the invalid zero Permission
			var got string
			switch {
			case c.rec == nil:
				got = m.Evaluate(perm).Outcome().String()
			case c.perm == "":
				got = "hidden"
				if m.Visible(fromRefRecord(*c.rec)).Allowed() {
					got = "visible"
				}
			default:
				got = m.EvaluateRecord(perm, fromRefRecord(*c.rec)).Outcome().String()
			}
			if got != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
		})
		ran++
	}
	if ran < 300 {
		t.Errorf("only %d seed cases ran on the engine", ran)
	}
}

func fromRefMember(t *testing.T, m refMember, role teamperm.Role) teamperm.Settings {
	s := teamperm.Settings{
		Member:            teamperm.StringID(m.ID),
		Role:              role,
		OnlyAssignedChats: m.OnlyAssignedChats,
		OnlyCreatedDeals:  m.OnlyCreatedDeals,
	}
	for _, n := range m.Grants {
		s.Grants = s.Grants.With(teamperm.MustParsePermission(n))
	}
	for _, n := range m.Denies {
		s.Denies = s.Denies.With(teamperm.MustParsePermission(n))
	}
	if !m.AllInstances {
		s.Instances = teamperm.Only(fromRefIDs(m.Instances)...)
	}
	if !m.AllPipelines {
		s.Pipelines = teamperm.Only(fromRefIDs(m.Pipelines)...)
	}
	return s
}

func fromRefIDs(ids []string) []teamperm.ID {
	out := []teamperm.ID{}
	for _, id := range ids {
		out = append(out, fromRefID(id))
	}
	return out
}

func fromRefID(id string) teamperm.ID {
	if id == "" {
		return teamperm.ID{}
	}
	return teamperm.StringID(id)
}

func fromRefRecord(r refRecord) teamperm.Record {
	kind, _ := teamperm.ParseKind(r.Kind) // an unknown kind is the invalid zero Kind
	ck := map[string]teamperm.CreatorKind{"": teamperm.CreatorUnknown, "member": teamperm.CreatorMember, "automation": teamperm.CreatorAutomation}[r.CreatorKind]
	if _, known := map[string]bool{"": true, "member": true, "automation": true}[r.CreatorKind]; !known {
		ck = teamperm.CreatorKind(9) // not a valid creator kind
	}
	return teamperm.Record{
		Kind:         kind,
		Organization: fromRefID(r.Org),
		Instance:     fromRefID(r.Instance),
		Assignee:     fromRefID(r.Assignee),
		Creator:      fromRefID(r.Creator),
		CreatorKind:  ck,
		Pipeline:     fromRefID(r.Pipeline),
	}
}

// TestSeedSetupsGolden renders, for each of the seed's six setups on Pro
// and on Starter, the effective permissions and the decisions on a fixed
// set of records, with reasons, into testdata/setups.golden: a readable
// record of behaviour that review catches changes in. The setups are the
// reference model's transcriptions of the seed; TestPresetsGolden renders
// the library's presets the same way.
func TestSeedSetupsGolden(t *testing.T) {
	var setups []namedSettings
	for _, s := range []struct {
		name string
		m    refMember
	}{
		{"support agent", refSupportAgent()},
		{"multi-brand manager (admin)", refBrandManager("admin")},
		{"multi-brand manager (member)", refBrandManager("member")},
		{"marketing team member", refMarketer(false)},
		{"marketing team member (automations)", refMarketer(true)},
		{"view-only supervisor", refSupervisor()},
		{"external contractor", refContractor()},
		{"sales representative", refSalesRep()},
	} {
		st := fromRefMember(t, s.m, teamperm.MustParseRole(s.m.Role))
		st.Instances = accessOf(st.Instances, teamperm.StringID("brandA"))
		setups = append(setups, namedSettings{s.name, st})
	}
	golden(t, "setups.golden", renderSetups(t, setups))
}

// TestPresetsGolden pins each preset's effective permissions and what it
// can see, in the format of setups.golden.
func TestPresetsGolden(t *testing.T) {
	me, brand, p1 := teamperm.StringID("u1"), teamperm.StringID("brandA"), teamperm.StringID("p1")
	golden(t, "presets.golden", renderSetups(t, []namedSettings{
		{"SupportAgent", teamperm.SupportAgent(me, teamperm.Access{})},
		{"MultiBrandManager (admin)", teamperm.MultiBrandManager(me, teamperm.RoleAdmin, brand)},
		{"MultiBrandManager (member)", teamperm.MultiBrandManager(me, teamperm.RoleMember, brand)},
		{"MarketingTeamMember", teamperm.MarketingTeamMember(me, false)},
		{"MarketingTeamMember (workflows)", teamperm.MarketingTeamMember(me, true)},
		{"ViewOnlySupervisor", teamperm.ViewOnlySupervisor(me)},
		{"ExternalContractor", teamperm.ExternalContractor(me, brand)},
		{"SalesRepresentative", teamperm.SalesRepresentative(me, p1)},
	}))
}

type namedSettings struct {
	name string
	s    teamperm.Settings
}

func renderSetups(t *testing.T, setups []namedSettings) []byte {
	me, colleague := teamperm.StringID("u1"), teamperm.StringID("u2")
	brand, other := teamperm.StringID("brandA"), teamperm.StringID("brandB")
	p1, p2 := teamperm.StringID("p1"), teamperm.StringID("p2")
	org := teamperm.StringID(refOrgID)
	records := []struct {
		name string
		perm teamperm.Permission
		rec  teamperm.Record
	}{
		{"send, own conversation on brandA", teamperm.ChatSend, teamperm.Record{Kind: teamperm.KindConversation, Organization: org, Instance: brand, Assignee: me}},
		{"send, colleague's conversation", teamperm.ChatSend, teamperm.Record{Kind: teamperm.KindConversation, Organization: org, Instance: brand, Assignee: colleague}},
		{"assign, unassigned conversation", teamperm.ChatAssign, teamperm.Record{Kind: teamperm.KindConversation, Organization: org, Instance: brand}},
		{"send, own conversation on brandB", teamperm.ChatSend, teamperm.Record{Kind: teamperm.KindConversation, Organization: org, Instance: other, Assignee: me}},
		{"export, contact on brandA", teamperm.ContactExport, teamperm.Record{Kind: teamperm.KindContact, Organization: org, Instance: brand}},
		{"update, contact on brandB", teamperm.ContactUpdate, teamperm.Record{Kind: teamperm.KindContact, Organization: org, Instance: other}},
		{"manage, campaign on brandA", teamperm.CampaignManage, teamperm.Record{Kind: teamperm.KindCampaign, Organization: org, Instance: brand}},
		{"manage, webhook on brandA", teamperm.WebhookManage, teamperm.Record{Kind: teamperm.KindWebhook, Organization: org, Instance: brand}},
		{"manage, workflow", teamperm.WorkflowManage, teamperm.Record{Kind: teamperm.KindWorkflow, Organization: org}},
		{"view, own deal in p1", 0, teamperm.Record{Kind: teamperm.KindDeal, Organization: org, CreatorKind: teamperm.CreatorMember, Creator: me, Pipeline: p1}},
		{"view, colleague's deal in p1", 0, teamperm.Record{Kind: teamperm.KindDeal, Organization: org, CreatorKind: teamperm.CreatorMember, Creator: colleague, Assignee: colleague, Pipeline: p1}},
		{"view, automation deal for me in p1", 0, teamperm.Record{Kind: teamperm.KindDeal, Organization: org, CreatorKind: teamperm.CreatorAutomation, Assignee: me, Pipeline: p1}},
		{"view, legacy deal in p1", 0, teamperm.Record{Kind: teamperm.KindDeal, Organization: org, Pipeline: p1}},
		{"view, own deal in p2", 0, teamperm.Record{Kind: teamperm.KindDeal, Organization: org, CreatorKind: teamperm.CreatorMember, Creator: me, Pipeline: p2}},
		{"view, contact of another org", 0, teamperm.Record{Kind: teamperm.KindContact, Organization: teamperm.StringID("org2"), Instance: brand}},
	}
	var b bytes.Buffer
	for _, plan := range []teamperm.Plan{teamperm.PlanPro, teamperm.PlanStarter} {
		for _, s := range setups {
			m := mustCompile(t, teamperm.Organization{ID: org, Features: plan.Features()}, s.s)
			fmt.Fprintf(&b, "== %s on %s\n", s.name, plan)
			fmt.Fprintf(&b, "permissions: %v\n", m.Permissions())
			tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
			for _, r := range records {
				var d teamperm.Decision
				if r.perm == 0 {
					d = m.Visible(r.rec)
				} else {
					d = m.EvaluateRecord(r.perm, r.rec)
				}
				fmt.Fprintf(tw, "  %s\t%s\t%s\n", r.name, d.Outcome(), d.Reason())
			}
			tw.Flush()
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// accessOf renames the reference's instance names to the golden's: the
// brand manager's "brandA" and the contractor's "proj" are both brandA.
func accessOf(a teamperm.Access, brand teamperm.ID) teamperm.Access {
	if a.IsAll() {
		return a
	}
	return teamperm.Only(brand)
}
