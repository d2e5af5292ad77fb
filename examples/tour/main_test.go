package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/teamperm/teamperm"
)

var update = flag.Bool("update", false, "rewrite testdata/tour.golden")

func TestTourGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := run(&buf); err != nil {
		t.Fatalf("run: %v", err)
	}
	golden := filepath.Join("testdata", "tour.golden")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got := buf.String(); got != string(want) {
		gotLines, wantLines := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gotLines) || i < len(wantLines); i++ {
			var g, w string
			if i < len(gotLines) {
				g = gotLines[i]
			}
			if i < len(wantLines) {
				w = wantLines[i]
			}
			if g != w {
				t.Fatalf("output differs from %s at line %d (run with -update if intended):\n-want %q\n+got  %q", golden, i+1, w, g)
			}
		}
	}
}

// member returns the compiled member of the setup named name on plan.
func member(t *testing.T, plan teamperm.Plan, name string) (setup, *teamperm.Member) {
	t.Helper()
	ms, err := compileTeam(plan)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range team() {
		if s.name == name {
			return s, ms[i]
		}
	}
	t.Fatalf("no setup %q", name)
	return setup{}, nil
}

// sample returns the sample check of s whose record is named record.
func sample(t *testing.T, s setup, perm teamperm.Permission, record string) check {
	t.Helper()
	for _, c := range checks(s) {
		if c.record == record {
			c.perm = perm
			return c
		}
	}
	t.Fatalf("%s: no sample record %q", s.name, record)
	return check{}
}

// TestSeedSetups checks the seed's promises for its common setups on Pro,
// and that Starter ignores the stored settings.
func TestSeedSetups(t *testing.T) {
	type want struct {
		Outcome teamperm.Outcome
		Reason  teamperm.Reason
	}
	allow := func(r teamperm.Reason) want { return want{teamperm.OutcomeAllow, r} }
	forbidden := func(r teamperm.Reason) want { return want{teamperm.OutcomeForbidden, r} }
	notFound := func(r teamperm.Reason) want { return want{teamperm.OutcomeNotFound, r} }
	const see = teamperm.Permission(0)

	tests := []struct {
		name   string
		plan   teamperm.Plan
		setup  string
		perm   teamperm.Permission
		record string // "" for a check without a record
		want   want
	}{
		// Support agent: "Agents see only their work ... but can't reassign conversations."
		{"agent sees own chat", teamperm.PlanPro, "support agent", teamperm.ChatSend, "conversation on main, assigned to sam", allow(teamperm.ReasonRoleDefault)},
		{"agent cannot see unassigned chat", teamperm.PlanPro, "support agent", see, "conversation on main, unassigned", notFound(teamperm.ReasonNotAssigned)},
		{"agent cannot see colleague's chat", teamperm.PlanPro, "support agent", see, "conversation on main, assigned to kim", notFound(teamperm.ReasonNotAssigned)},
		{"agent cannot assign", teamperm.PlanPro, "support agent", teamperm.ChatAssign, "", forbidden(teamperm.ReasonRoleDefault)},

		// Multi-brand manager: "only sees data from their brand's WhatsApp connection."
		{"member manager other brand hidden", teamperm.PlanPro, "multi-brand manager (member)", see, "conversation on main, assigned to bea", notFound(teamperm.ReasonInstanceRestricted)},
		{"admin manager other brand hidden", teamperm.PlanPro, "multi-brand manager (admin)", see, "conversation on main, assigned to bruno", notFound(teamperm.ReasonInstanceRestricted)},
		{"admin manager own brand", teamperm.PlanPro, "multi-brand manager (admin)", teamperm.ChatAssign, "conversation on brand-b, unassigned", allow(teamperm.ReasonRoleDefault)},

		// Marketing team member: campaigns, not webhooks or (unless granted) workflows.
		{"marketer manages campaigns", teamperm.PlanPro, "marketing team member", teamperm.CampaignManage, "", allow(teamperm.ReasonOverrideGrant)},
		{"marketer no webhooks", teamperm.PlanPro, "marketing team member", teamperm.WebhookManage, "", forbidden(teamperm.ReasonRoleDefault)},
		{"marketer no workflows", teamperm.PlanPro, "marketing team member", teamperm.WorkflowManage, "", forbidden(teamperm.ReasonRoleDefault)},
		{"automation marketer workflows", teamperm.PlanPro, "marketing team member (workflows)", teamperm.WorkflowManage, "", allow(teamperm.ReasonOverrideGrant)},
		{"automation marketer no webhooks", teamperm.PlanPro, "marketing team member (workflows)", teamperm.WebhookManage, "", forbidden(teamperm.ReasonRoleDefault)},

		// View-only supervisor: "can review all conversations and distribute work but cannot send."
		{"supervisor can assign", teamperm.PlanPro, "view-only supervisor", teamperm.ChatAssign, "conversation on main, unassigned", allow(teamperm.ReasonOverrideGrant)},
		{"supervisor cannot send", teamperm.PlanPro, "view-only supervisor", teamperm.ChatSend, "conversation on main, assigned to kim", forbidden(teamperm.ReasonOverrideDeny)},
		{"supervisor cannot send at all", teamperm.PlanPro, "view-only supervisor", teamperm.ChatSend, "", forbidden(teamperm.ReasonOverrideDeny)},

		// External contractor: assigned chats of one instance, no export, no manage.
		{"contractor cannot export", teamperm.PlanPro, "external contractor", teamperm.ContactExport, "", forbidden(teamperm.ReasonRoleDefault)},
		{"contractor cannot manage instance", teamperm.PlanPro, "external contractor", teamperm.InstanceManage, "", forbidden(teamperm.ReasonRoleDefault)},
		{"contractor own chat", teamperm.PlanPro, "external contractor", teamperm.ChatSend, "conversation on project, assigned to cora", allow(teamperm.ReasonRoleDefault)},
		{"contractor other instance", teamperm.PlanPro, "external contractor", see, "conversation on brand-b, assigned to cora", notFound(teamperm.ReasonInstanceRestricted)},
		{"contractor colleague's chat", teamperm.PlanPro, "external contractor", see, "conversation on project, assigned to kim", notFound(teamperm.ReasonNotAssigned)},

		// Sales representative: own, automation-assigned and legacy deals, own pipelines.
		{"rep own deal", teamperm.PlanPro, "sales representative", see, "deal in sales, created by rex", allow(teamperm.ReasonRoleDefault)},
		{"rep automation deal", teamperm.PlanPro, "sales representative", see, "deal in sales, by automation for rex", allow(teamperm.ReasonRoleDefault)},
		{"rep legacy deal", teamperm.PlanPro, "sales representative", see, "deal in sales, legacy (no creator)", allow(teamperm.ReasonRoleDefault)},
		{"rep colleague's deal", teamperm.PlanPro, "sales representative", see, "deal in sales, created by kim", notFound(teamperm.ReasonNotCreator)},
		{"rep other pipeline", teamperm.PlanPro, "sales representative", see, "deal in partners, created by rex", notFound(teamperm.ReasonPipeline)},
		{"admin sees all deals", teamperm.PlanPro, "admin", see, "deal in sales, created by kim", allow(teamperm.ReasonRoleDefault)},

		// Starter: role defaults only; the settings are kept but ignored.
		{"starter agent sees unassigned", teamperm.PlanStarter, "support agent", see, "conversation on main, unassigned", allow(teamperm.ReasonPlanIgnoresSettings)},
		{"starter supervisor sends", teamperm.PlanStarter, "view-only supervisor", teamperm.ChatSend, "", allow(teamperm.ReasonPlanIgnoresSettings)},
		{"starter supervisor cannot assign", teamperm.PlanStarter, "view-only supervisor", teamperm.ChatAssign, "", forbidden(teamperm.ReasonPlanIgnoresSettings)},
		{"starter contractor other instance", teamperm.PlanStarter, "external contractor", see, "conversation on brand-b, assigned to cora", allow(teamperm.ReasonPlanIgnoresSettings)},
		{"starter rep colleague's deal", teamperm.PlanStarter, "sales representative", see, "deal in sales, created by kim", allow(teamperm.ReasonPlanIgnoresSettings)},
		{"starter marketer no campaigns", teamperm.PlanStarter, "marketing team member", teamperm.CampaignManage, "", forbidden(teamperm.ReasonPlanIgnoresSettings)},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		if seen[tt.name] {
			t.Fatalf("duplicate test name %q", tt.name)
		}
		seen[tt.name] = true
		t.Run(tt.name, func(t *testing.T) {
			s, m := member(t, tt.plan, tt.setup)
			var d teamperm.Decision
			if tt.record == "" {
				d = m.Evaluate(tt.perm)
			} else {
				d = sample(t, s, tt.perm, tt.record).decide(m)
			}
			if got := (want{d.Outcome(), d.Reason()}); got != tt.want {
				t.Errorf("%s on %s: got %v %v, want %v %v (%v)", tt.setup, tt.plan, got.Outcome, got.Reason, tt.want.Outcome, tt.want.Reason, d)
			}
		})
	}
}

// TestStarterRoleDefaults checks R4 for the whole team: on Starter every
// member has exactly the role defaults.
func TestStarterRoleDefaults(t *testing.T) {
	ms, err := compileTeam(teamperm.PlanStarter)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range team() {
		m := ms[i]
		if m.HonoursSettings() {
			t.Errorf("%s: HonoursSettings on Starter", s.name)
		}
		if got, want := m.Permissions(), s.settings.Role.Defaults(); got != want {
			t.Errorf("%s: permissions on Starter = %v, want the role defaults %v", s.name, got, want)
		}
	}
}
