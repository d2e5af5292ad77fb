package teamperm_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/teamperm/teamperm"
	"pgregory.net/rapid"
)

// This file checks the presets, the permission matrix, the audit and the
// change impact.

// exhaustiveRecords lists records of every kind over the given values of
// each field (NULL included by the caller), varying only the fields the
// kind's visibility reads.
func exhaustiveRecords(org teamperm.ID, instances, members, pipelines []teamperm.ID) []teamperm.Record {
	var out []teamperm.Record
	for k := range teamperm.Kinds() {
		insts := []teamperm.ID{{}}
		if k.IsInstanceBound() {
			insts = instances
		}
		assignees := []teamperm.ID{{}}
		if k == teamperm.KindConversation || k == teamperm.KindMessage || k == teamperm.KindDeal {
			assignees = members
		}
		creators, kinds, pipes := []teamperm.ID{{}}, []teamperm.CreatorKind{teamperm.CreatorUnknown}, []teamperm.ID{{}}
		if k == teamperm.KindDeal {
			creators, pipes = members, pipelines
			kinds = []teamperm.CreatorKind{teamperm.CreatorUnknown, teamperm.CreatorMember, teamperm.CreatorAutomation}
		}
		for _, i := range insts {
			for _, a := range assignees {
				for _, c := range creators {
					for _, ck := range kinds {
						for _, p := range pipes {
							out = append(out, teamperm.Record{Kind: k, Organization: org, Instance: i, Assignee: a, Creator: c, CreatorKind: ck, Pipeline: p})
						}
					}
				}
			}
		}
	}
	return out
}

// TestPresetsMatchTheSeed: each preset behaves exactly as the reference
// model's transcription of the same setup from the seed, on Pro and on
// Starter, on every permission and on every record over the setups' IDs.
func TestPresetsMatchTheSeed(t *testing.T) {
	s := teamperm.StringID
	me := s("u1")
	records := exhaustiveRecords(s(refOrgID),
		[]teamperm.ID{{}, s("brandA"), s("brandB"), s("proj"), s("other")},
		[]teamperm.ID{{}, me, s("u2"), s("wf1")},
		[]teamperm.ID{{}, s("p1"), s("p2")})
	tests := []struct {
		name   string
		preset teamperm.Settings
		ref    refMember
	}{
		{"support agent", teamperm.SupportAgent(me, teamperm.Access{}), refSupportAgent()},
		{"multi-brand manager (member)", teamperm.MultiBrandManager(me, teamperm.RoleMember, s("brandA")), refBrandManager("member")},
		{"multi-brand manager (admin)", teamperm.MultiBrandManager(me, teamperm.RoleAdmin, s("brandA")), refBrandManager("admin")},
		{"marketing team member", teamperm.MarketingTeamMember(me, false), refMarketer(false)},
		{"marketing team member (automations)", teamperm.MarketingTeamMember(me, true), refMarketer(true)},
		{"view-only supervisor", teamperm.ViewOnlySupervisor(me), refSupervisor()},
		{"external contractor", teamperm.ExternalContractor(me, s("proj")), refContractor()},
		{"sales representative", teamperm.SalesRepresentative(me, s("p1")), refSalesRep()},
	}
	for _, tt := range tests {
		for _, plan := range []teamperm.Plan{teamperm.PlanPro, teamperm.PlanStarter} {
			t.Run(tt.name+"/"+plan.String(), func(t *testing.T) {
				org := teamperm.Organization{ID: s(refOrgID), Features: plan.Features()}
				got := mustCompile(t, org, tt.preset)
				want := mustCompile(t, org, fromRefMember(t, tt.ref, teamperm.MustParseRole(tt.ref.Role)))
				ro := refOrg{ID: refOrgID, Plan: plan.String()}
				for _, p := range allPermissions() {
					if got.Evaluate(p).Allowed() != want.Evaluate(p).Allowed() || got.Evaluate(p).Allowed() != refAllowed(ro, tt.ref, refPermName(p)) {
						t.Errorf("%v: preset %v, seed setup %v", p, got.Evaluate(p), want.Evaluate(p))
					}
				}
				for _, r := range records {
					if g, w := got.Visible(r).Allowed(), refVisible(ro, tt.ref, plainRefRecord(r)); g != w {
						t.Fatalf("Visible(%+v): preset %v, reference %v", r, g, w)
					}
				}
			})
		}
	}
}

// plainRefRecord is toRefRecord for records whose IDs are the reference
// setups' own strings ("u1", "brandA"), unquoted.
func plainRefRecord(r teamperm.Record) refRecord {
	rr := toRefRecord(r)
	plain := func(id teamperm.ID) string {
		s, _ := id.Str()
		return s
	}
	rr.Org, rr.Instance, rr.Assignee, rr.Creator, rr.Pipeline = plain(r.Organization), plain(r.Instance), plain(r.Assignee), plain(r.Creator), plain(r.Pipeline)
	return rr
}

// TestPresetEdits: the edits PresetEdits lists turn any member into the
// preset, through ApplyEdits by an owner.
func TestPresetEdits(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		current := genSettings(t)
		current.Member = memberID
		current.Role = teamperm.RoleMember
		preset := rapid.SampledFrom([]teamperm.Settings{
			teamperm.SupportAgent(memberID, teamperm.Only(teamperm.IntID(10))),
			teamperm.MultiBrandManager(memberID, teamperm.RoleMember, teamperm.IntID(11)),
			teamperm.MarketingTeamMember(memberID, true),
			teamperm.ViewOnlySupervisor(memberID),
			teamperm.ExternalContractor(memberID, teamperm.IntID(10)),
			teamperm.SalesRepresentative(memberID, teamperm.IntID(20)),
		}).Draw(t, "preset")
		owner := mustCompile(t, adminOrg, teamperm.Settings{Member: ownerID, Role: teamperm.RoleOwner})
		edits := teamperm.PresetEdits(current, preset)
		if len(edits) == 0 {
			return
		}
		got, _, err := teamperm.ApplyEdits(owner, adminOrg, current, adminTime, edits...)
		if err != nil {
			t.Fatalf("ApplyEdits(%v): %v", edits, err)
		}
		got.Revision = preset.Revision
		js1, _ := got.MarshalJSON()
		js2, _ := preset.MarshalJSON()
		if !bytes.Equal(js1, js2) {
			t.Fatalf("after %v:\n got %s\nwant %s", edits, js1, js2)
		}
	})
}

// TestMatrixGolden renders the settings-page matrix of each role under
// each plan, for a member with every kind of stored setting.
func TestMatrixGolden(t *testing.T) {
	var b bytes.Buffer
	for _, role := range []teamperm.Role{teamperm.RoleOwner, teamperm.RoleAdmin, teamperm.RoleMember} {
		for _, plan := range []teamperm.Plan{teamperm.PlanFree, teamperm.PlanStarter, teamperm.PlanPro} {
			s := teamperm.Settings{
				Member: memberID, Role: role, Revision: 3,
				Grants:            teamperm.PermissionSetOf(teamperm.ChatAssign),
				Denies:            teamperm.PermissionSetOf(teamperm.ContactView, teamperm.ChatSend),
				Instances:         teamperm.Only(teamperm.IntID(7)),
				OnlyAssignedChats: true,
				OnlyCreatedDeals:  true,
				Pipelines:         teamperm.Only(teamperm.IntID(3)),
			}
			m, err := teamperm.NewMatrix(teamperm.Organization{ID: adminOrg.ID, Features: plan.Features()}, s)
			if err != nil {
				t.Fatal(err)
			}
			js, err := json.MarshalIndent(m, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "== %s on %s\n%s\n\n", role, plan, js)
		}
	}
	golden(t, "matrix.golden", b.Bytes())
}

// sampleTeam is a team of the seed's setups on three instances.
func sampleTeam(plan teamperm.Plan) teamperm.Team {
	id := teamperm.IntID
	agent := teamperm.SupportAgent(id(20), teamperm.Access{})
	agent.Grants = agent.Grants.With(teamperm.CampaignManage) // support editing campaigns
	marketer := teamperm.MarketingTeamMember(id(21), false)
	marketer.Grants = marketer.Grants.With(teamperm.WebhookManage) // marketing touching webhooks
	return teamperm.Team{
		Organization: teamperm.Organization{ID: id(1), Features: plan.Features()},
		Instances:    []teamperm.ID{id(7), id(8), id(9)},
		Members: []teamperm.Settings{
			{Member: id(1), Role: teamperm.RoleOwner},
			{Member: id(2), Role: teamperm.RoleAdmin},
			teamperm.MultiBrandManager(id(3), teamperm.RoleAdmin, id(8)),
			agent,
			marketer,
			teamperm.ViewOnlySupervisor(id(22)),
			teamperm.ExternalContractor(id(23), id(9)),
			teamperm.SalesRepresentative(id(24), id(3)),
			{Member: id(25), Role: teamperm.RoleMember, Grants: teamperm.PermissionSetOf(teamperm.ContactExport)},
		},
	}
}

func TestAuditGolden(t *testing.T) {
	var b bytes.Buffer
	for _, plan := range []teamperm.Plan{teamperm.PlanPro, teamperm.PlanStarter} {
		findings, err := teamperm.Audit(sampleTeam(plan))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "== sample team on %s\n", plan)
		for _, f := range findings {
			fmt.Fprintf(&b, "member %v  %s: %s\n    resolve: %s  %v\n", f.Member, f.Consideration, f.Message, f.Resolve, f.Edits)
		}
		b.WriteByte('\n')
	}
	golden(t, "audit.golden", b.Bytes())
}

func TestDowngradeImpact(t *testing.T) {
	impact, err := teamperm.Impact(sampleTeam(teamperm.PlanPro), sampleTeam(teamperm.PlanStarter))
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.MarshalIndent(impact, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "downgrade.golden", js)
	// Every stored setting of a non-owner stops applying.
	for _, s := range sampleTeam(teamperm.PlanPro).Members {
		i := slices.IndexFunc(impact, func(mi teamperm.MemberImpact) bool { return mi.Member == s.Member })
		hasSettings := s.Role != teamperm.RoleOwner && (!s.Grants.IsEmpty() || !s.Denies.IsEmpty() || s.Instances.Specific || s.OnlyAssignedChats ||
			s.Role == teamperm.RoleMember && (s.OnlyCreatedDeals || s.Pipelines.Specific))
		if hasSettings != (i >= 0 && len(impact[i].StopApplying) > 0) {
			t.Errorf("member %v: has settings %v, impact %+v", s.Member, hasSettings, impact)
		}
	}
}

// TestImpactAgreesWithBruteForce: for random teams before and after random
// edits or a plan change, Impact's gains, losses, widenings and narrowings
// are exactly what evaluating every member on every permission and on every
// record over the teams' IDs shows.
func TestImpactAgreesWithBruteForce(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		org, _ := genOrg(t)
		var before []teamperm.Settings
		for i := range rapid.IntRange(1, 3).Draw(t, "size") {
			s := genSettings(t)
			s.Member = memberPool[i]
			before = append(before, s)
		}
		after := make([]teamperm.Settings, len(before))
		for i, s := range before {
			after[i] = cloneSettings(s)
		}
		orgAfter := org
		if rapid.IntRange(0, 3).Draw(t, "planChange") == 0 {
			orgAfter.Features ^= teamperm.FineGrained
		} else {
			i := rapid.IntRange(0, len(after)-1).Draw(t, "who")
			for _, e := range rapid.SliceOfN(rapid.Custom(genEdit), 1, 3).Draw(t, "edits") {
				after[i] = applyForTest(after[i], e)
			}
		}
		impact, err := teamperm.Impact(teamperm.Team{Organization: org, Members: before}, teamperm.Team{Organization: orgAfter, Members: after})
		if err != nil {
			t.Fatal(err)
		}
		var ids []teamperm.ID
		for _, s := range append(slices.Clone(before), after...) {
			ids = append(ids, s.Instances.IDs...)
		}
		instances := append([]teamperm.ID{{}, teamperm.StringID("elsewhere")}, ids...)
		pipes := []teamperm.ID{{}, teamperm.StringID("elsewhere")}
		for _, s := range append(slices.Clone(before), after...) {
			pipes = append(pipes, s.Pipelines.IDs...)
		}
		for i := range before {
			b, a := mustCompile(t, org, before[i]), mustCompile(t, orgAfter, after[i])
			records := exhaustiveRecords(org.ID, instances, []teamperm.ID{{}, before[i].Member, teamperm.StringID("someone else")}, pipes)
			var want teamperm.MemberImpact
			want.Member = before[i].Member
			want.Gained = a.Permissions().Difference(b.Permissions())
			want.Lost = b.Permissions().Difference(a.Permissions())
			for k := range teamperm.Kinds() {
				widened, narrowed := false, false
				for _, r := range records {
					if r.Kind != k {
						continue
					}
					vb, va := b.Visible(r).Allowed(), a.Visible(r).Allowed()
					widened = widened || va && !vb
					narrowed = narrowed || vb && !va
				}
				if widened {
					want.Widened = append(want.Widened, k)
				}
				if narrowed {
					want.Narrowed = append(want.Narrowed, k)
				}
			}
			var got teamperm.MemberImpact
			if j := slices.IndexFunc(impact, func(mi teamperm.MemberImpact) bool { return mi.Member == want.Member }); j >= 0 {
				got = impact[j]
			}
			if got.Gained != want.Gained || got.Lost != want.Lost || !slices.Equal(got.Widened, want.Widened) || !slices.Equal(got.Narrowed, want.Narrowed) {
				t.Fatalf("member %v: Impact = %+v\nbrute force = %+v\nbefore %+v\nafter %+v", want.Member, got, want, before[i], after[i])
			}
		}
	})
}

// applyForTest applies e the way ApplyEdits would, without R14, for
// generating "after" teams; invalid results keep the settings.
func applyForTest(s teamperm.Settings, e teamperm.Edit) teamperm.Settings {
	owner := mustCompileQuiet(teamperm.Settings{Member: teamperm.StringID("test-owner"), Role: teamperm.RoleOwner})
	next, _, err := teamperm.ApplyEdits(owner, adminOrgFine, s, adminTime, e)
	if err != nil {
		return s
	}
	next.Revision = s.Revision
	return next
}

var adminOrgFine = teamperm.Organization{ID: orgPool[0], Features: teamperm.FineGrained}

func mustCompileQuiet(s teamperm.Settings) *teamperm.Member {
	m, err := teamperm.Compile(adminOrgFine, s)
	if err != nil {
		panic(err)
	}
	return m
}
