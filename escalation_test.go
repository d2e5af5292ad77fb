package teamperm_test

import (
	"errors"
	"slices"
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
	for k := range teamperm.Kinds() {
		recs = append(recs, teamperm.Record{Kind: k, Organization: orgPool[2], Instance: instancePool[0], Assignee: people[2]},
			teamperm.Record{Kind: k, Instance: instancePool[0], Assignee: people[2]})
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
	s.Member = id
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
				if diff := cmp.Diff(target, next, settingsOpts...); diff != "" {
					t.Fatalf("refused edit (%v) returned changed settings:\n%s", err, diff)
				}
				// A batch that only removes access, on a plan that takes
				// it, by an actor allowed to edit the target, to settings
				// that validate, must pass.
				if !onlyRemoves || plan != teamperm.PlanPro || actorErr != nil || teamperm.CanEdit(actor, org, target) != nil || want.Validate() != nil {
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
