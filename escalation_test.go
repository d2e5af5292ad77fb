package teamperm_test

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/teamperm/teamperm"
	"pgregory.net/rapid"
)

// This file proves R16 (no escalation, judged on access as a whole) and
// R17 (a compiled member belongs to one organisation state) against the
// reference model: every accepted batch of edits is checked by brute force
// over a universe of records with the reference model's own decisions, not
// the engine's.

// access is what one member may do in the reference model: each permission
// with no record, and seeing and each permission on each record of a
// universe. R12: an action on a record needs the record visible, then the
// permission.
type access struct {
	perms   map[string]bool // refAllowed, by permission name
	visible []bool          // refVisible, by record index
}

func (a access) can(perm string, rec int) bool {
	if rec < 0 {
		return a.perms[perm]
	}
	return a.visible[rec] && (perm == "" || a.perms[perm])
}

// refAccess evaluates the reference model for member m; ok false (settings
// that do not compile, or no role) is no access at all (R16).
func refAccess(o refOrg, m refMember, ok bool, universe []refRecord) access {
	a := access{perms: map[string]bool{}, visible: make([]bool, len(universe))}
	if !ok {
		return a
	}
	for _, p := range refPermissions() {
		a.perms[p] = refAllowed(o, m, p)
	}
	for i, r := range universe {
		a.visible[i] = refVisible(o, m, r)
	}
	return a
}

// escalationUniverse is every record over the IDs the test's team can
// name, NULLs and IDs nobody holds included, of this and other
// organisations. genAccess adds its filler IDs as one block, so its first
// and last stand for all of them.
func escalationUniverse(org teamperm.ID, team []teamperm.Settings) ([]teamperm.Record, []refRecord) {
	elsewhere := teamperm.StringID("elsewhere")
	instances := append([]teamperm.ID{{}, elsewhere, teamperm.IntID(1_000_000), teamperm.IntID(1_000_039)}, instancePool...)
	pipelines := append([]teamperm.ID{{}, elsewhere, teamperm.IntID(1_000_000), teamperm.IntID(1_000_039)}, pipelinePool...)
	people := []teamperm.ID{{}, teamperm.StringID("someone else")}
	for _, s := range team {
		people = append(people, s.Member)
	}
	recs := exhaustiveRecords(org, instances, people, pipelines)
	// R19: records on several instances, every pair of the instances in
	// play, so that the classes' claim (a record on several instances adds
	// no class) is checked too.
	for k := range teamperm.Kinds() {
		if !k.IsInstanceBound() {
			continue
		}
		for i, a := range instances {
			for _, b := range instances[i+1:] {
				for _, who := range people[:min(3, len(people))] {
					recs = append(recs, teamperm.Record{Kind: k, Organization: org, Instances: teamperm.IDSetOf(a, b), Assignee: who})
				}
			}
		}
	}
	for k := range teamperm.Kinds() {
		recs = append(recs, teamperm.Record{Kind: k, Organization: orgPool[2], Instance: instancePool[0], Assignee: people[1]},
			teamperm.Record{Kind: k, Instance: instancePool[0], Assignee: people[1]})
	}
	refs := make([]refRecord, len(recs))
	for i, r := range recs {
		refs[i] = toRefRecord(r)
	}
	return recs, refs
}

// gained returns a witness (permission, record index; "" is seeing, -1 no
// record) that after can do and before cannot, and that actor cannot do
// either; ok false when there is none.
func gainedBeyond(actor, before, after access, n int) (perm string, rec int, ok bool) {
	actions := append([]string{""}, refPermissions()...)
	for rec := -1; rec < n; rec++ {
		for _, p := range actions {
			if p == "" && rec < 0 {
				continue
			}
			if after.can(p, rec) && !before.can(p, rec) && !actor.can(p, rec) {
				return p, rec, true
			}
		}
	}
	return "", 0, false
}

// narrower reports whether after can do nothing before cannot.
func narrower(before, after access, n int) bool {
	_, _, found := gainedBeyond(access{perms: map[string]bool{}, visible: make([]bool, n)}, before, after, n)
	return !found
}

// genTeamMember draws a member of the escalation tests: usually valid
// settings (any role but Owner, restrictions and denies of view
// permissions included), sometimes an invitee with no role or stored
// settings that do not compile.
func genTeamMember(t *rapid.T, id teamperm.ID) teamperm.Settings {
	s := genSettings(t)
	s.Member, s.Revision = id, s.Revision%1000 // far from the last revision, which takes no edit
	if s.Role == teamperm.RoleOwner {
		s.Role = teamperm.RoleAdmin
	}
	switch rapid.IntRange(0, 7).Draw(t, "oddity") {
	case 0: // an invitee: no role yet
		s.Role = 0
	case 1: // an invitee with nothing stored but its ID
		s = teamperm.Settings{Member: id}
	case 2: // stored settings that do not compile
		s.Instances = teamperm.Only(instancePool[0], instancePool[0])
	}
	return s
}

func compiles(org teamperm.Organization, s teamperm.Settings) bool {
	_, err := teamperm.Compile(org, s)
	return err == nil
}

// TestNoEscalationStateMachine is R16's proof. Random organisations (every
// plan, with plan changes between steps), random actors (every role, every
// restriction, denied view permissions), random targets (invitees and
// settings that do not compile too) and random batches of edits:
//   - for every accepted batch, brute force over the record universe with
//     the reference model shows that the target gained nothing the actor
//     cannot do;
//   - every refused batch changes nothing;
//   - every batch that only removes access, by the reference model, and
//     passes the rules on who edits whom, is accepted;
//   - an actor compiled for an earlier state of the organisation is
//     refused with ErrStaleMember.
func TestNoEscalationStateMachine(t *testing.T) {
	var accepted, removals, refused, staleRefused int // over all checks: the property must not be vacuous
	defer func() {
		t.Logf("accepted %d batches (%d only removing access), refused %d, stale actors refused %d", accepted, removals, refused, staleRefused)
		if !t.Failed() && (accepted < 100 || removals < 20 || refused < 100 || staleRefused < 20) {
			t.Errorf("too few cases exercised: accepted %d, removals %d, refused %d, stale %d", accepted, removals, refused, staleRefused)
		}
	}()
	rapid.Check(t, func(t *rapid.T) {
		plan := rapid.SampledFrom([]teamperm.Plan{teamperm.PlanFree, teamperm.PlanStarter, teamperm.PlanPro, teamperm.PlanPro}).Draw(t, "plan")
		org := teamperm.Organization{ID: orgPool[0], Features: plan.Features(), Revision: 1}
		team := []teamperm.Settings{{Member: teamperm.IntID(1), Role: teamperm.RoleOwner}}
		for i := range rapid.IntRange(2, 5).Draw(t, "size") {
			team = append(team, genTeamMember(t, teamperm.IntID(int64(2+i))))
		}
		owner := cloneSettings(team[0])
		universe, refUniverse := escalationUniverse(org.ID, team)
		var stale []*teamperm.Member // actors compiled for earlier states

		edit := func(t *rapid.T, ti int, edits []teamperm.Edit, onlyRemoves bool) {
			ai := 0 // the owner a third of the time
			if rapid.IntRange(0, 2).Draw(t, "byOwner") > 0 {
				ai = rapid.IntRange(0, len(team)-1).Draw(t, "actor")
			}
			actor, actorErr := teamperm.Compile(org, team[ai])
			if actorErr == nil && rapid.IntRange(0, 9).Draw(t, "keepStale") == 0 {
				stale = append(stale, actor)
			}
			target := cloneSettings(team[ti])
			next, _, err := teamperm.ApplyEdits(actor, org, team[ti], adminTime, edits...)
			if diff := cmp.Diff(target, team[ti], settingsOpts...); diff != "" {
				t.Fatalf("ApplyEdits modified its input:\n%s", diff)
			}

			ro, ra := toRef(org, plan, team[ai])
			actorAccess := refAccess(ro, ra, actorErr == nil, refUniverse)
			_, rb := toRef(org, plan, target)
			beforeAccess := refAccess(ro, rb, compiles(org, target), refUniverse)

			// What the batch would make, applied without any check.
			want := cloneSettings(target)
			for _, e := range edits {
				want = applyUnchecked(want, e)
			}

			if err != nil {
				refused++
				if p := codedProblem(err); p != "" {
					t.Fatal(p)
				}
				if diff := cmp.Diff(target, next, settingsOpts...); diff != "" {
					t.Fatalf("refused edit (%v) returned changed settings:\n%s", err, diff)
				}
				// A batch that only removes access, on a plan that takes
				// it, by an actor allowed to edit the target, to settings
				// that validate, must pass.
				// (The last revision takes no edit at all.)
				if !onlyRemoves || plan != teamperm.PlanPro || actorErr != nil || teamperm.CanEdit(actor, org, target) != nil || want.Validate() != nil || target.Revision == math.MaxUint64 {
					return
				}
				_, rw := toRef(org, plan, want)
				if narrower(beforeAccess, refAccess(ro, rw, true, refUniverse), len(refUniverse)) {
					t.Fatalf("%v (%v) could not apply %v to %+v, which only removes access: %v", actor.ID(), actor.Role(), edits, target, err)
				}
				return
			}
			if diff := cmp.Diff(want, next, append(settingsOpts, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Revision" }, cmp.Ignore()))...); diff != "" {
				t.Fatalf("ApplyEdits result differs from the edits applied (-want +got):\n%s", diff)
			}
			if actorErr != nil || ai == ti || target.Role == teamperm.RoleOwner || target.Role == teamperm.RoleAdmin && actor.Role() != teamperm.RoleOwner {
				t.Fatalf("%v (%v) edited %v (%v)", team[ai].Member, team[ai].Role, target.Member, target.Role)
			}
			accepted++
			if onlyRemoves {
				removals++
			}
			_, rn := toRef(org, plan, next)
			afterAccess := refAccess(ro, rn, true, refUniverse)
			if p, rec, found := gainedBeyond(actorAccess, beforeAccess, afterAccess, len(refUniverse)); found {
				where := "no record"
				if rec >= 0 {
					where = universe[rec].Kind.String()
					t.Logf("record %+v", universe[rec])
				}
				if p == "" {
					p = "see"
				}
				t.Fatalf("escalation: %v (%v, %+v) let %v %s on %s with %v\nbefore %+v\nafter %+v", team[ai].Member, team[ai].Role, team[ai], target.Member, p, where, edits, target, next)
			}
			team[ti] = next
		}

		t.Repeat(map[string]func(*rapid.T){
			"edit": func(t *rapid.T) {
				ti := rapid.IntRange(0, len(team)-1).Draw(t, "target")
				edit(t, ti, rapid.SliceOfN(rapid.Custom(genEdit), 1, 4).Draw(t, "edits"), false)
			},
			"restrict": func(t *rapid.T) {
				ti := rapid.IntRange(0, len(team)-1).Draw(t, "target")
				edit(t, ti, rapid.SliceOfN(rapid.Custom(func(t *rapid.T) teamperm.Edit { return genRestriction(t, team[ti]) }), 1, 3).Draw(t, "edits"), true)
			},
			"plan": func(t *rapid.T) {
				plan = rapid.SampledFrom([]teamperm.Plan{teamperm.PlanFree, teamperm.PlanStarter, teamperm.PlanPro, teamperm.PlanPro}).Draw(t, "newPlan")
				org.Features, org.Revision = plan.Features(), org.Revision+1
			},
			"stale": func(t *rapid.T) {
				if len(stale) == 0 {
					t.Skip("no stale actor")
				}
				actor := rapid.SampledFrom(stale).Draw(t, "staleActor")
				if actor.Org() == org {
					t.Skip("the actor's state is current")
				}
				ti := rapid.IntRange(0, len(team)-1).Draw(t, "target")
				before := cloneSettings(team[ti])
				next, _, err := teamperm.ApplyEdits(actor, org, team[ti], adminTime, genEdit(t))
				if !errors.Is(err, teamperm.ErrStaleMember) {
					t.Fatalf("actor compiled for %+v applied edits in %+v: %v", actor.Org(), org, err)
				}
				if err := teamperm.CanEdit(actor, org, team[ti]); !errors.Is(err, teamperm.ErrStaleMember) {
					t.Fatalf("CanEdit of a stale actor: %v", err)
				}
				if diff := cmp.Diff(before, next, settingsOpts...); diff != "" {
					t.Fatalf("a stale actor's edit changed settings:\n%s", diff)
				}
				staleRefused++
			},
			"": func(t *rapid.T) {
				if diff := cmp.Diff(owner, team[0], settingsOpts...); diff != "" {
					t.Fatalf("the owner changed:\n%s", diff)
				}
			},
		})
	})
}

// genRestriction draws an edit that can only remove access from s: a deny,
// a toggle turned on, or instances or pipelines narrowed to a subset.
func genRestriction(t *rapid.T, s teamperm.Settings) teamperm.Edit {
	subset := func(a teamperm.Access, pool []teamperm.ID, label string) teamperm.Access {
		from := a.IDs
		if a.IsAll() {
			from = pool
		}
		var ids []teamperm.ID
		for i, id := range from {
			if rapid.Bool().Draw(t, label+string(rune('a'+i%26))) {
				ids = append(ids, id)
			}
		}
		return teamperm.Only(ids...)
	}
	switch rapid.IntRange(0, 4).Draw(t, "restriction") {
	case 0:
		return teamperm.SetOnlyAssignedChats{On: true}
	case 1:
		return teamperm.SetOnlyCreatedDeals{On: true}
	case 2:
		return teamperm.SetInstances{Access: subset(s.Instances, instancePool, "instance")}
	case 3:
		return teamperm.SetPipelines{Access: subset(s.Pipelines, pipelinePool, "pipeline")}
	}
	return teamperm.Deny{Permission: rapid.SampledFrom(allPermissions()[3:]).Draw(t, "deny")}
}

// applyUnchecked applies e to s as the edit's doc says, without any rule:
// what ApplyEdits must produce when it accepts.
func applyUnchecked(s teamperm.Settings, e teamperm.Edit) teamperm.Settings {
	switch e := e.(type) {
	case teamperm.SetRole:
		s.Role = e.Role
	case teamperm.Grant:
		s.Grants, s.Denies = s.Grants.With(e.Permission), s.Denies.Without(e.Permission)
	case teamperm.Deny:
		s.Grants, s.Denies = s.Grants.Without(e.Permission), s.Denies.With(e.Permission)
	case teamperm.ClearOverride:
		s.Grants, s.Denies = s.Grants.Without(e.Permission), s.Denies.Without(e.Permission)
	case teamperm.SetInstances:
		s.Instances = teamperm.Access{Specific: e.Access.Specific, IDs: slices.Clone(e.Access.IDs)}
	case teamperm.SetOnlyAssignedChats:
		s.OnlyAssignedChats = e.On
	case teamperm.SetOnlyCreatedDeals:
		s.OnlyCreatedDeals = e.On
	case teamperm.SetPipelines:
		s.Pipelines = teamperm.Access{Specific: e.Access.Specific, IDs: slices.Clone(e.Access.IDs)}
	}
	return s
}

// The cast of the security review that found the ways through (issue
// "Administration that cannot escalate"): an organisation with three
// WhatsApp instances.
var (
	reviewOrg   = teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.PlanPro.Features(), Revision: 7}
	acmeSupport = teamperm.StringID("acme-support")
	bloom       = teamperm.StringID("bloom")
	atlas       = teamperm.StringID("atlas")
	bruno       = teamperm.Settings{Member: teamperm.IntID(2), Role: teamperm.RoleAdmin, Instances: teamperm.Only(bloom)}
	carl        = teamperm.Settings{Member: teamperm.IntID(8), Role: teamperm.RoleMember, Instances: teamperm.Only(atlas), OnlyAssignedChats: true}
	sam         = teamperm.Settings{Member: teamperm.IntID(4), Role: teamperm.RoleMember, Instances: teamperm.Only(acmeSupport, bloom)}
)

func TestEscalationWaysThrough(t *testing.T) {
	noChatView := teamperm.Settings{Member: teamperm.IntID(3), Role: teamperm.RoleAdmin, Denies: teamperm.PermissionSetOf(teamperm.ChatView)}
	owner := teamperm.Settings{Member: teamperm.IntID(1), Role: teamperm.RoleOwner}
	noExport := teamperm.Settings{Member: teamperm.IntID(5), Role: teamperm.RoleAdmin, Denies: teamperm.PermissionSetOf(teamperm.ContactExport)}
	exporter := teamperm.Settings{Member: teamperm.IntID(6), Role: teamperm.RoleMember, Grants: teamperm.PermissionSetOf(teamperm.ContactExport), Instances: teamperm.Only(atlas)}
	broken := teamperm.Settings{Member: teamperm.IntID(51), Role: teamperm.RoleMember, Instances: teamperm.Only(atlas, atlas)}
	tests := []struct {
		name   string
		actor  teamperm.Settings
		target teamperm.Settings
		edits  []teamperm.Edit
		want   error // nil: accepted
	}{
		{"restricted admin lifts only-assigned inside an instance it cannot see", bruno, carl, []teamperm.Edit{teamperm.SetOnlyAssignedChats{On: false}}, teamperm.ErrEditNotAllowed},
		{"restricted admin grants export to a member who sees other instances", bruno, sam, []teamperm.Edit{teamperm.Grant{Permission: teamperm.ContactExport}}, teamperm.ErrEditNotAllowed},
		{"admin without chat.view lifts only-assigned", noChatView, carl, []teamperm.Edit{teamperm.SetOnlyAssignedChats{On: false}}, teamperm.ErrEditNotAllowed},
		{"restricted admin gives an invitee a role", bruno, teamperm.Settings{Member: teamperm.IntID(50)}, []teamperm.Edit{teamperm.SetRole{Role: teamperm.RoleMember}}, teamperm.ErrEditNotAllowed},
		{"restricted admin gives an invitee an instance it cannot see", bruno, teamperm.Settings{Member: teamperm.IntID(50)}, []teamperm.Edit{teamperm.SetInstances{Access: teamperm.Only(teamperm.IntID(9))}, teamperm.SetRole{Role: teamperm.RoleMember}}, teamperm.ErrEditNotAllowed},
		{"restricted admin widens settings that do not compile", bruno, broken, []teamperm.Edit{teamperm.SetInstances{Access: teamperm.Only(atlas)}}, teamperm.ErrEditNotAllowed},
		// The actor sees the instance and lacks export; the target holds
		// export but not that instance: widening its instances gives it
		// export on records the actor sees but cannot export.
		{"admin denied export widens the instances of a member who exports", noExport, exporter, []teamperm.Edit{teamperm.SetInstances{Access: teamperm.Only(bloom, atlas)}}, teamperm.ErrEditNotAllowed},
		{"admin denied export widens the instances of a member who does not export", noExport, carl, []teamperm.Edit{teamperm.SetInstances{Access: teamperm.Only(bloom, atlas)}}, nil},
		// What a restricted admin may still do.
		{"restricted admin invites into its own instance", bruno, teamperm.Settings{Member: teamperm.IntID(50)}, []teamperm.Edit{teamperm.SetInstances{Access: teamperm.Only(bloom)}, teamperm.SetRole{Role: teamperm.RoleMember}}, nil},
		{"restricted admin repairs settings into its own instance", bruno, broken, []teamperm.Edit{teamperm.SetInstances{Access: teamperm.Only(bloom)}}, nil},
		{"restricted admin restricts a member further", bruno, sam, []teamperm.Edit{teamperm.Deny{Permission: teamperm.ChatSend}, teamperm.SetOnlyAssignedChats{On: true}, teamperm.SetInstances{Access: teamperm.Only(acmeSupport)}}, nil},
		{"restricted admin grants inside its own instance", bruno, teamperm.Settings{Member: teamperm.IntID(9), Role: teamperm.RoleMember, Instances: teamperm.Only(bloom)}, []teamperm.Edit{teamperm.Grant{Permission: teamperm.ContactExport}}, nil},
		{"owner lifts only-assigned", owner, carl, []teamperm.Edit{teamperm.SetOnlyAssignedChats{On: false}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			actor := mustCompile(t, reviewOrg, tt.actor)
			next, change, err := teamperm.ApplyEdits(actor, reviewOrg, tt.target, adminTime, tt.edits...)
			if !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
				t.Fatalf("ApplyEdits(%v) = %v, want %v", tt.edits, err, tt.want)
			}
			if err != nil {
				if change.Actor != (teamperm.ID{}) || next.Revision != tt.target.Revision {
					t.Errorf("a refused batch recorded %v / revision %d", change, next.Revision)
				}
				for _, hidden := range []string{"atlas", "acme"} {
					if !slices.ContainsFunc(tt.actor.Instances.IDs, func(id teamperm.ID) bool { return id.String() == `"`+hidden+`"` }) && strings.Contains(err.Error(), hidden) {
						t.Errorf("the refusal names instance %q, which the actor cannot see: %v", hidden, err)
					}
				}
			}
		})
	}
}

// A member compiled for one organisation state is never used for another
// (R17): the Starter admin, still held after the upgrade to Pro.
func TestStaleActorIsRefused(t *testing.T) {
	starter := teamperm.Organization{ID: reviewOrg.ID, Features: teamperm.PlanStarter.Features(), Revision: 3}
	pro := teamperm.Organization{ID: reviewOrg.ID, Features: teamperm.PlanPro.Features(), Revision: 4}
	admin := teamperm.Settings{Member: teamperm.IntID(2), Role: teamperm.RoleAdmin, Denies: teamperm.PermissionSetOf(teamperm.ContactExport), Instances: teamperm.Only(bloom)}
	onStarter := mustCompile(t, starter, admin)
	if !onStarter.Has(teamperm.ContactExport) {
		t.Fatal("on Starter the admin has its role defaults")
	}
	for _, tc := range []struct {
		name string
		org  teamperm.Organization
		want error
	}{
		{"upgraded", pro, teamperm.ErrStaleMember},
		{"same features, newer revision", teamperm.Organization{ID: starter.ID, Features: starter.Features, Revision: 4}, teamperm.ErrStaleMember},
		{"another organisation", teamperm.Organization{ID: teamperm.IntID(9), Features: starter.Features, Revision: 3}, teamperm.ErrEditNotAllowed},
		{"zero organisation", teamperm.Organization{}, teamperm.ErrEditNotAllowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := teamperm.ApplyEdits(onStarter, tc.org, sam, adminTime, teamperm.SetInstances{Access: teamperm.Access{}}, teamperm.Grant{Permission: teamperm.ContactExport})
			if !errors.Is(err, tc.want) {
				t.Errorf("ApplyEdits = %v, want %v", err, tc.want)
			}
			if err := teamperm.CanEdit(onStarter, tc.org, sam); !errors.Is(err, tc.want) {
				t.Errorf("CanEdit = %v, want %v", err, tc.want)
			}
		})
	}
	// Compiled again for the current state, the admin lacks export and sees
	// one instance: the same batch is an escalation.
	onPro := mustCompile(t, pro, admin)
	if _, _, err := teamperm.ApplyEdits(onPro, pro, sam, adminTime, teamperm.SetInstances{Access: teamperm.Access{}}, teamperm.Grant{Permission: teamperm.ContactExport}); !errors.Is(err, teamperm.ErrEditNotAllowed) {
		t.Errorf("fresh admin: %v, want ErrEditNotAllowed", err)
	}
}

// TestMemberKeyNamesEverything: two members with equal keys decide alike,
// over random organisation states and stored settings, when the host
// bumps the organisation's revision on every plan change and the settings
// revision on every edit. A key of the member and settings revision alone
// (the old caching advice) fails this: after a downgrade from Pro it
// serves a member with overrides the plan no longer gives.
func TestMemberKeyNamesEverything(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		// The host's history: organisation revision -> features, and
		// (member, settings revision) -> settings.
		plans := []teamperm.Features{}
		for range rapid.IntRange(1, 4).Draw(t, "planChanges") {
			p := rapid.SampledFrom([]teamperm.Plan{teamperm.PlanFree, teamperm.PlanStarter, teamperm.PlanPro}).Draw(t, "plan")
			plans = append(plans, p.Features())
		}
		var versions []teamperm.Settings
		for i := range rapid.IntRange(1, 4).Draw(t, "edits") {
			s := genSettings(t)
			s.Member, s.Revision = memberPool[0], uint64(i)
			versions = append(versions, s)
		}
		draw := func(label string) (teamperm.Organization, teamperm.Settings) {
			rev := rapid.IntRange(0, len(plans)-1).Draw(t, label+"OrgRevision")
			org := teamperm.Organization{ID: orgPool[0], Features: plans[rev], Revision: uint64(rev)}
			return org, versions[rapid.IntRange(0, len(versions)-1).Draw(t, label+"Revision")]
		}
		oa, sa := draw("a")
		ob, sb := draw("b")
		a, b := mustCompile(t, oa, sa), mustCompile(t, ob, sb)
		if a.Key() != teamperm.KeyOf(oa, sa) || b.Key() != teamperm.KeyOf(ob, sb) {
			t.Fatalf("Key and KeyOf disagree")
		}
		if a.Key() != b.Key() {
			return
		}
		records, _ := escalationUniverse(orgPool[0], []teamperm.Settings{sa})
		for _, p := range allPermissions() {
			if a.Evaluate(p).String() != b.Evaluate(p).String() {
				t.Fatalf("equal keys, different decisions on %v: %v / %v", p, a.Evaluate(p), b.Evaluate(p))
			}
			for _, r := range records {
				if da, db := a.EvaluateRecord(p, r), b.EvaluateRecord(p, r); da.String() != db.String() {
					t.Fatalf("equal keys %+v, different decisions on %v %+v: %v / %v", a.Key(), p, r, da, db)
				}
			}
		}
	})
}

// The old advice, shown wrong: a member and settings revision are not a
// cache key, since the plan changes what the same settings give.
func TestOldCacheAdviceIsWrong(t *testing.T) {
	pro := teamperm.Organization{ID: reviewOrg.ID, Features: teamperm.FineGrained, Revision: 4}
	starter := teamperm.Organization{ID: reviewOrg.ID, Revision: 5}
	s := teamperm.Settings{Member: teamperm.IntID(9), Role: teamperm.RoleMember, Revision: 4, Grants: teamperm.PermissionSetOf(teamperm.ContactExport)}
	onPro, onStarter := mustCompile(t, pro, s), mustCompile(t, starter, s)
	if onPro.ID() != onStarter.ID() || onPro.Revision() != onStarter.Revision() {
		t.Fatal("the old key (member, revision) is the same on both plans")
	}
	if onPro.Has(teamperm.ContactExport) == onStarter.Has(teamperm.ContactExport) {
		t.Fatal("the plan change should change the decision")
	}
	if onPro.Key() == onStarter.Key() {
		t.Errorf("Key does not tell the plans apart: %+v", onPro.Key())
	}
}

// The zero Member behaves exactly as a nil *Member in every method: it
// denies everything, sees nothing and edits nobody (R17).
func TestZeroMemberFailsClosed(t *testing.T) {
	var nilMember *teamperm.Member
	zero := &teamperm.Member{}
	records, _ := escalationUniverse(teamperm.ID{}, nil) // records of the zero organisation too
	more, _ := escalationUniverse(orgPool[0], nil)
	records = append(records, more...)
	for _, m := range []*teamperm.Member{nilMember, zero} {
		for _, p := range allPermissions() {
			if m.Has(p) || m.Evaluate(p) != nilMember.Evaluate(p) {
				t.Errorf("%v: Evaluate(%v) = %v, want %v", m, p, m.Evaluate(p), nilMember.Evaluate(p))
			}
			for _, r := range records {
				if d := m.EvaluateRecord(p, r); d != nilMember.EvaluateRecord(p, r) || d.Allowed() {
					t.Fatalf("EvaluateRecord(%v, %+v) = %v", p, r, d)
				}
			}
		}
		for _, r := range records {
			if d := m.Visible(r); d != nilMember.Visible(r) || d.Allowed() {
				t.Fatalf("Visible(%+v) = %v", r, d)
			}
		}
		for k := range teamperm.Kinds() {
			sc := m.Scope(k)
			if !sc.IsNone() || sc.IsAll() || sc.Filter() != teamperm.None {
				t.Errorf("Scope(%v) = %v, want none", k, sc)
			}
			for _, r := range records {
				if sc.Match(&r) {
					t.Fatalf("Scope(%v) matches %+v", k, r)
				}
			}
			frag, _, err := sc.SQL(teamperm.SQLite, teamperm.Mapping{SingleTenant: true, Instance: teamperm.IntColumn("instance_id")})
			if err != nil || frag != "(1=0)" {
				t.Errorf("Scope(%v).SQL single-tenant = %q, %v; want (1=0)", k, frag, err)
			}
		}
		if m.Permissions() != (teamperm.PermissionSet{}) || m.HonoursSettings() || m.Role() != 0 || !m.ID().IsZero() {
			t.Errorf("accessors of %v are not those of nil", m)
		}
		if _, _, err := teamperm.ApplyEdits(m, teamperm.Organization{}, carl, adminTime, teamperm.Deny{Permission: teamperm.ChatSend}); !errors.Is(err, teamperm.ErrEditNotAllowed) {
			t.Errorf("ApplyEdits by %v: %v", m, err)
		}
		if err := teamperm.CanEdit(m, teamperm.Organization{}, carl); !errors.Is(err, teamperm.ErrEditNotAllowed) {
			t.Errorf("CanEdit by %v: %v", m, err)
		}
	}
}

// Go hosts use 0 and "" for "unset": neither is an organisation or member
// ID, so two unset tenants never share rows (R17).
func TestUnsetKeysAreRefused(t *testing.T) {
	member := teamperm.Settings{Member: teamperm.IntID(5), Role: teamperm.RoleOwner}
	for _, id := range []teamperm.ID{{}, teamperm.IntID(0), teamperm.StringID("")} {
		if _, err := teamperm.Compile(teamperm.Organization{ID: id}, member); !errors.Is(err, teamperm.ErrInvalidID) {
			t.Errorf("Compile for organization %v: %v, want ErrInvalidID", id, err)
		}
		if _, err := teamperm.Compile(reviewOrg, teamperm.Settings{Member: id, Role: teamperm.RoleOwner}); !errors.Is(err, teamperm.ErrInvalidID) {
			t.Errorf("Compile of member %v: %v, want ErrInvalidID", id, err)
		}
		if _, err := teamperm.Impact(teamperm.Team{Organization: teamperm.Organization{ID: id}}, teamperm.Team{Organization: teamperm.Organization{ID: id}}); !errors.Is(err, teamperm.ErrInvalidID) {
			t.Errorf("Impact for organization %v: %v, want ErrInvalidID", id, err)
		}
	}
	if _, err := teamperm.Impact(teamperm.Team{Organization: reviewOrg}, teamperm.Team{Organization: teamperm.Organization{ID: teamperm.IntID(2)}}); !errors.Is(err, teamperm.ErrInvalidID) {
		t.Errorf("Impact across organisations: %v, want ErrInvalidID", err)
	}
	// Instances and pipelines may be 0 or "": they are keys like any other.
	m := mustCompile(t, reviewOrg, teamperm.Settings{Member: teamperm.IntID(5), Role: teamperm.RoleMember, Instances: teamperm.Only(teamperm.IntID(0))})
	if !m.Visible(teamperm.Record{Kind: teamperm.KindContact, Organization: reviewOrg.ID, Instance: teamperm.IntID(0)}).Allowed() ||
		m.Visible(teamperm.Record{Kind: teamperm.KindContact, Organization: reviewOrg.ID}).Allowed() {
		t.Error("instance 0 is a key, distinct from NULL")
	}
}

// Nothing the package hands out shares memory with a member or with the
// caller's arguments (issue: no aliasing).
func TestNoAliasing(t *testing.T) {
	many := make([]teamperm.ID, 0, 40)
	for i := range 40 {
		many = append(many, teamperm.IntID(int64(100+i)))
	}
	for _, ids := range [][]teamperm.ID{{teamperm.IntID(7), teamperm.IntID(8)}, many} {
		s := teamperm.Settings{Member: teamperm.IntID(5), Role: teamperm.RoleMember, Instances: teamperm.Only(slices.Clone(ids)...), Pipelines: teamperm.Only(slices.Clone(ids)...)}
		m := mustCompile(t, reviewOrg, s)
		hidden := teamperm.Record{Kind: teamperm.KindContact, Organization: reviewOrg.ID, Instance: teamperm.IntID(99)}
		hiddenDeal := teamperm.Record{Kind: teamperm.KindDeal, Organization: reviewOrg.ID, Pipeline: teamperm.IntID(99)}
		for k := range teamperm.Kinds() {
			for _, f := range []teamperm.Filter{m.Scope(k).Filter(), m.Scope(k).Tree()} {
				scribble(f)
			}
		}
		if m.Visible(hidden).Allowed() || m.Scope(teamperm.KindContact).Match(&hidden) || m.Visible(hiddenDeal).Allowed() || m.Scope(teamperm.KindDeal).Match(&hiddenDeal) {
			t.Fatal("writing to a scope's filter changed the member")
		}
		// A filter changed by its caller is rendered and matched as changed.
		f := m.Scope(teamperm.KindContact).Filter()
		f.(teamperm.In).Values[0] = teamperm.IntID(99)
		if !teamperm.Match(f, &hidden) {
			t.Error("Match of a changed filter copy ignores the change")
		}
		_, args, err := teamperm.AppendSQL(nil, nil, teamperm.SQLite, teamperm.Mapping{SingleTenant: true, Instance: teamperm.IntColumn("instance_id")}, f)
		if err != nil || !slices.Contains(args, any(int64(99))) && len(ids) < 32 {
			t.Errorf("AppendSQL of a changed filter copy: %v, %v", args, err)
		}

		x, err := teamperm.NewMatrix(reviewOrg, s)
		if err != nil {
			t.Fatal(err)
		}
		x.Instances.IDs[0], x.Pipelines.IDs[0] = teamperm.IntID(99), teamperm.IntID(99)
		if s.Instances.IDs[0] != ids[0] || s.Pipelines.IDs[0] != ids[0] {
			t.Error("NewMatrix shares the settings' slices")
		}

		owner := mustCompile(t, reviewOrg, teamperm.Settings{Member: teamperm.IntID(1), Role: teamperm.RoleOwner})
		editIDs := slices.Clone(ids)
		target := teamperm.Settings{Member: teamperm.IntID(6), Role: teamperm.RoleMember, Instances: teamperm.Only(slices.Clone(ids)...)}
		next, change, err := teamperm.ApplyEdits(owner, reviewOrg, target, adminTime, teamperm.SetPipelines{Access: teamperm.Only(editIDs...)}, teamperm.Deny{Permission: teamperm.ChatSend})
		if err != nil {
			t.Fatal(err)
		}
		editIDs[0] = teamperm.IntID(99)
		target.Instances.IDs[0] = teamperm.IntID(99)
		next.Instances.IDs[1], next.Pipelines.IDs[1] = teamperm.IntID(99), teamperm.IntID(99)
		for name, got := range map[string][]teamperm.ID{
			"Change.Before.Instances": change.Before.Instances.IDs,
			"Change.After.Instances":  change.After.Instances.IDs,
			"Change.After.Pipelines":  change.After.Pipelines.IDs,
			"Change.Edits[0]":         change.Edits[0].(teamperm.SetPipelines).Access.IDs,
		} {
			if !slices.Equal(got, ids) {
				t.Errorf("%s shares memory with the caller or the returned settings: %v", name, got[:2])
			}
		}
	}
}

// scribble writes over every ID slice of f.
func scribble(f teamperm.Filter) {
	switch f := f.(type) {
	case teamperm.And:
		for _, g := range f {
			scribble(g)
		}
	case teamperm.Or:
		for _, g := range f {
			scribble(g)
		}
	case teamperm.In:
		for i := range f.Values {
			f.Values[i] = teamperm.IntID(99)
		}
	}
}

// Findings of the attacker's review of this change.
func TestReviewFindings(t *testing.T) {
	owner := mustCompile(t, reviewOrg, teamperm.Settings{Member: teamperm.IntID(1), Role: teamperm.RoleOwner})
	brunoM := mustCompile(t, reviewOrg, bruno)

	// The nil UUID is "unset" too.
	nilUUID := teamperm.UUIDID([16]byte{})
	if _, err := teamperm.Compile(teamperm.Organization{ID: nilUUID}, teamperm.Settings{Member: teamperm.IntID(5), Role: teamperm.RoleOwner}); !errors.Is(err, teamperm.ErrInvalidID) {
		t.Errorf("nil UUID organisation: %v", err)
	}
	if _, err := teamperm.Compile(reviewOrg, teamperm.Settings{Member: nilUUID, Role: teamperm.RoleOwner}); !errors.Is(err, teamperm.ErrInvalidID) {
		t.Errorf("nil UUID member: %v", err)
	}

	// The last revision takes no edit: the next would wrap to 0 and share
	// a MemberKey with revision 0.
	last := cloneSettings(sam)
	last.Revision = ^uint64(0)
	if _, _, err := teamperm.ApplyEdits(owner, reviewOrg, last, adminTime, teamperm.Deny{Permission: teamperm.ChatSend}); !errors.Is(err, teamperm.ErrInvalidSettings) {
		t.Errorf("edit at the last revision: %v", err)
	}

	// Stored settings that do not validate: an admin is not told the IDs
	// (they may be of instances it cannot see); an owner is.
	secret := teamperm.StringID("secret-brand")
	stored := teamperm.Settings{Member: teamperm.IntID(20), Role: teamperm.RoleMember, Instances: teamperm.Only(bloom, secret, secret)}
	_, _, err := teamperm.ApplyEdits(brunoM, reviewOrg, stored, adminTime, teamperm.Deny{Permission: teamperm.ChatSend})
	if !errors.Is(err, teamperm.ErrInvalidSettings) || strings.Contains(err.Error(), "secret") || !strings.Contains(err.Error(), "instances") {
		t.Errorf("admin's refusal: %v", err)
	}
	_, _, err = teamperm.ApplyEdits(owner, reviewOrg, stored, adminTime, teamperm.Deny{Permission: teamperm.ChatSend})
	if !errors.Is(err, teamperm.ErrInvalidSettings) || !strings.Contains(err.Error(), "secret") {
		t.Errorf("owner's refusal: %v", err)
	}
	// A duplicate the edit itself brings is the actor's own: named.
	_, _, err = teamperm.ApplyEdits(brunoM, reviewOrg, sam, adminTime, teamperm.SetInstances{Access: teamperm.Only(bloom, bloom)})
	if !errors.Is(err, teamperm.ErrInvalidSettings) || !strings.Contains(err.Error(), `"bloom" listed twice`) {
		t.Errorf("duplicate in the edit: %v", err)
	}

	// A Change a host built with a nil edit still prints and logs.
	c := teamperm.Change{Edits: []teamperm.Edit{nil, teamperm.Grant{}, (*teamperm.Grant)(nil)}}
	if s := c.String(); !strings.Contains(s, "<nil>") {
		t.Errorf("Change.String = %q", s)
	}
	_ = c.LogValue().Resolve().String()
}
