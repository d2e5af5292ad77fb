package main

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/teamperm/teamperm"
)

// What the team settings page shows beyond the matrix: the impact of a
// change before it is saved (teamperm.Impact), the seed's presets
// (applied through teamperm.PresetEdits), the team's audit findings
// (teamperm.Audit) and, for the owner, a plan switch with its impact.
// Every instance and pipeline is named through the viewer's catalog.

// impactRow is what a change does to one member, for people.
type impactRow struct {
	ID       int64
	Name     string
	Gains    string
	Loses    string
	Widened  string // kinds the member sees more of
	Narrowed string // kinds the member sees less of
	Before   []string
	After    []string // the member's restrictions after the change
	Edits    []string // for a preview of edits: what will be saved
}

// impactRows runs teamperm.Impact on the team before and after and
// describes each affected member.
func impactRows(cat catalog, before, after Team) ([]impactRow, error) {
	impacts, err := teamperm.Impact(before.Teamperm(), after.Teamperm())
	if err != nil {
		return nil, err
	}
	var rows []impactRow
	for _, mi := range impacts {
		id, _ := mi.Member.Int()
		b, _ := before.Member(id)
		a, _ := after.Member(id)
		xb, err := teamperm.NewMatrix(before.Org.Teamperm(), b.Settings)
		if err != nil {
			return nil, err
		}
		xa, err := teamperm.NewMatrix(after.Org.Teamperm(), a.Settings)
		if err != nil {
			return nil, err
		}
		rows = append(rows, impactRow{
			ID: id, Name: b.Name,
			Gains: set(mi.Gained), Loses: set(mi.Lost),
			Widened: kinds(mi.Widened), Narrowed: kinds(mi.Narrowed),
			Before: restrictions(cat, xb), After: restrictions(cat, xa),
		})
	}
	return rows, nil
}

// withSettings returns the team with member id's settings replaced.
func withSettings(t Team, id int64, s teamperm.Settings) Team {
	out := t
	out.Members = append([]Account(nil), t.Members...)
	for i := range out.Members {
		if out.Members[i].ID == id {
			out.Members[i].Settings = s
		}
	}
	return out
}

// withPlan returns the team on plan p.
func withPlan(t Team, p teamperm.Plan) Team {
	out := t
	out.Org.Plan = p
	out.Org.Revision++
	out.Members = append([]Account(nil), t.Members...)
	for i := range out.Members {
		out.Members[i].Org = out.Org
	}
	return out
}

// preview works out, without saving anything, what edits would do to
// the target: teamperm.ApplyEdits in memory (which refuses what the
// viewer may not do, as the save would), then teamperm.Impact. It returns
// the settings after the edits, for the page to show.
func (s *Server) preview(r *http.Request, team Team, target Account, edits []teamperm.Edit) (teamperm.Settings, *impactRow, error) {
	m, _ := actor(r)
	after, _, err := teamperm.ApplyEdits(m, team.Org.Teamperm(), target.Settings, s.now(), edits...)
	if err != nil {
		return teamperm.Settings{}, nil, err
	}
	cat := newCatalog(m, team)
	rows, err := impactRows(cat, team, withSettings(team, target.ID, after))
	if err != nil {
		return teamperm.Settings{}, nil, err
	}
	row := &impactRow{ID: target.ID, Name: target.Name}
	if len(rows) > 0 {
		row = &rows[0]
	}
	for _, e := range edits {
		row.Edits = append(row.Edits, cat.edit(e))
	}
	return after, row, nil
}

// presets are the seed's common setups, by the name the form sends.
var presets = []struct{ Name, Label string }{
	{"support_agent", "Support agent"},
	{"multi_brand_manager", "Multi-brand manager"},
	{"marketing_team_member", "Marketing team member"},
	{"view_only_supervisor", "View-only supervisor"},
	{"external_contractor", "External contractor"},
	{"sales_representative", "Sales representative"},
}

// presetSettings builds the preset the form names for the target, with
// the instances and pipelines checked in the preset form (only those the
// viewer may see can be checked; the others the target has are kept, as
// on a save).
func presetSettings(r *http.Request, cat catalog, target Account) (teamperm.Settings, error) {
	ids := func(field string, visible map[int64]bool) ([]teamperm.ID, error) {
		var out []teamperm.ID
		for _, v := range r.PostForm[field] {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || !visible[n] {
				return nil, fmt.Errorf("%s: %q is not one of the choices", field, v)
			}
			out = append(out, teamperm.IntID(n))
		}
		return out, nil
	}
	instances, err := ids("preset_instance", cat.instances)
	if err != nil {
		return teamperm.Settings{}, err
	}
	pipelines, err := ids("preset_pipeline", cat.pipelines)
	if err != nil {
		return teamperm.Settings{}, err
	}
	id := teamperm.IntID(target.ID)
	switch r.PostFormValue("preset") {
	case "support_agent":
		access := teamperm.Access{}
		if len(instances) > 0 {
			access = teamperm.Only(instances...)
		}
		return teamperm.SupportAgent(id, access), nil
	case "multi_brand_manager":
		if len(instances) == 0 {
			return teamperm.Settings{}, errors.New("a multi-brand manager needs their brand's instances: check at least one")
		}
		role := teamperm.RoleMember
		if target.Settings.Role == teamperm.RoleAdmin {
			role = teamperm.RoleAdmin
		}
		return teamperm.MultiBrandManager(id, role, instances...), nil
	case "marketing_team_member":
		return teamperm.MarketingTeamMember(id, false), nil
	case "view_only_supervisor":
		return teamperm.ViewOnlySupervisor(id), nil
	case "external_contractor":
		if len(instances) != 1 {
			return teamperm.Settings{}, errors.New("an external contractor works on one project's instance: check exactly one")
		}
		return teamperm.ExternalContractor(id, instances[0]), nil
	case "sales_representative":
		if len(pipelines) == 0 {
			return teamperm.Settings{}, errors.New("a sales representative needs their pipelines: check at least one")
		}
		return teamperm.SalesRepresentative(id, pipelines...), nil
	}
	return teamperm.Settings{}, fmt.Errorf("preset %q: no such preset", r.PostFormValue("preset"))
}

// findingRow is one audit finding, for people.
type findingRow struct {
	Member        string
	MemberID      int64
	Consideration string
	Message       string
	Resolve       string
}

// findings runs teamperm.Audit on the team. The finding about settings
// the plan ignores lists them, naming instances and pipelines through
// the viewer's catalog rather than by key.
func findings(cat catalog, team Team) ([]findingRow, error) {
	fs, err := teamperm.Audit(team.Teamperm())
	if err != nil {
		return nil, err
	}
	var out []findingRow
	for _, f := range fs {
		id, _ := f.Member.Int()
		a, _ := team.Member(id)
		msg := f.Message
		if f.Consideration == teamperm.PlanIgnoresSettings {
			x, err := teamperm.NewMatrix(team.Org.Teamperm(), a.Settings)
			if err != nil {
				return nil, err
			}
			var stored []string
			for p := range a.Settings.Grants.All() {
				stored = append(stored, "grant "+p.String())
			}
			for p := range a.Settings.Denies.All() {
				stored = append(stored, "deny "+p.String())
			}
			stored = append(stored, restrictions(cat, x)...)
			msg = "has stored settings the plan does not apply, so restrictions among them are not in force: " + strings.Join(stored, "; ")
		}
		out = append(out, findingRow{a.Name, id, strings.ReplaceAll(f.Consideration.String(), "_", " "), msg, f.Resolve})
	}
	return out, nil
}

// setPlan is the owner's plan switch: action "preview" shows what it
// would do to every member (teamperm.Impact) on the settings page of
// member "back"; "switch" makes it.
func (s *Server) setPlan(w http.ResponseWriter, r *http.Request) {
	m, a := actor(r)
	if m.Role() != teamperm.RoleOwner {
		s.errorPage(w, r, http.StatusForbidden, "Only the owner changes the plan.")
		return
	}
	plan, err := teamperm.ParsePlan(r.PostFormValue("plan"))
	if err != nil {
		s.errorPage(w, r, http.StatusBadRequest, err.Error())
		return
	}
	back, err := strconv.ParseInt(r.PostFormValue("back"), 10, 64)
	if err != nil {
		back = a.ID
	}
	team, err := s.store.Team(r.Context(), a.Org.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	target, ok := team.Member(back)
	if !ok {
		target, _ = team.Member(a.ID)
	}
	if r.PostFormValue("action") != "switch" {
		data, err := s.teamPageData(r, team, target, target.Settings)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		data.PlanPreview, data.PlanTo = true, plan
		if data.PlanImpact, err = impactRows(newCatalog(m, team), team, withPlan(team, plan)); err != nil {
			s.fail(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, "team", data)
		return
	}
	if err := s.store.SetPlan(r.Context(), a.Org.ID, plan); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/team/%d?saved=1", target.ID), http.StatusSeeOther)
}
