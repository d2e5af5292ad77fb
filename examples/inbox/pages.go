package main

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"

	"github.com/teamperm/teamperm"
	tpstore "github.com/teamperm/teamperm/store"
	"github.com/teamperm/teamperm/teamhttp"
)

// The HTML pages: server-rendered with html/template from templates/,
// embedded in the binary. The only JavaScript is the inbox's live view
// (an EventSource on /api/events) and its "simulate a customer" form.

//go:embed templates/*.html
var templateFS embed.FS

func parsePages() map[string]*template.Template {
	funcs := template.FuncMap{
		"money": func(cents int64) string { return fmt.Sprintf("$%d", cents/100) },
	}
	pages := map[string]*template.Template{}
	for _, name := range []string{"signin", "team", "inbox", "error"} {
		pages[name] = template.Must(template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
	}
	return pages
}

// layout is what every page's frame shows.
type layout struct {
	Title  string
	Viewer *Account // nil when signed out
	Nav    string   // "inbox", "team" or ""
}

// render executes page into a buffer first, so that a template error
// becomes a clean 500.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	var buf bytes.Buffer
	if err := s.pages[page].ExecuteTemplate(&buf, "layout", data); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	buf.WriteTo(w)
}

type errorPage struct {
	layout
	Status  int
	Message string
}

func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	_, a := actor(r)
	s.render(w, r, status, "error", errorPage{layout{Title: http.StatusText(status), Viewer: &a}, status, msg})
}

// The sign-in page stands in for a real login: pick a member, get a
// cookie with their key.

type signinPage struct {
	layout
	Teams []Team
}

// signInPage lists the seed's two organisations' members.
func (s *Server) signInPage(w http.ResponseWriter, r *http.Request) {
	data := signinPage{layout: layout{Title: "Sign in"}}
	for _, org := range []int64{acme, globex} {
		t, err := s.store.Team(r.Context(), org)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		data.Teams = append(data.Teams, t)
	}
	s.render(w, r, http.StatusOK, "signin", data)
}

func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PostFormValue("member"), 10, 64)
	if err != nil || id <= 0 {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: memberCookie, Value: strconv.FormatInt(id, 10), Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/inbox", http.StatusSeeOther)
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: memberCookie, Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) myInbox(w http.ResponseWriter, r *http.Request) {
	_, a := actor(r)
	http.Redirect(w, r, fmt.Sprintf("/members/%d/inbox", a.ID), http.StatusSeeOther)
}

func (s *Server) teamIndex(w http.ResponseWriter, r *http.Request) {
	_, a := actor(r)
	http.Redirect(w, r, fmt.Sprintf("/team/%d", a.ID), http.StatusSeeOther)
}

// pageMember loads member {id} of the viewer's organisation whom the
// viewer may look at, or answers with an error page.
func (s *Server) pageMember(w http.ResponseWriter, r *http.Request) (Team, Account, bool) {
	m, a := actor(r)
	id, ok := pathID(r)
	team, err := s.store.Team(r.Context(), a.Org.ID)
	if err != nil {
		s.fail(w, r, err)
		return Team{}, Account{}, false
	}
	target, found := team.Member(id)
	switch {
	case !ok || !found:
		s.errorPage(w, r, http.StatusNotFound, "There is no such member in your team.")
		return Team{}, Account{}, false
	case !mayView(m, target):
		s.errorPage(w, r, http.StatusForbidden, "Only owners and admins look at other members' settings and inboxes.")
		return Team{}, Account{}, false
	}
	return team, target, true
}

// The team settings page: the permission matrix of one member, as
// teamperm.NewMatrix lays it out, in a form that saves through the same
// edit path as the API.

type teamPage struct {
	layout
	Team      Team
	Target    Account
	Matrix    teamperm.Matrix
	Editable  bool
	ReadOnly  string   // why the form cannot be saved, when it cannot
	Instances []option // those the viewer may see
	Pipelines []option // those the viewer may see
	// Hidden... count the team's instances and pipelines the viewer may
	// not see (not named, not shown); ...Kept those of them in the
	// target's access, which a save keeps as they are.
	HiddenInstances, HiddenInstancesKept int
	HiddenPipelines, HiddenPipelinesKept int
	Saved                                bool
	Error                                string
	History                              []historyEntry

	// Revision is the stored settings' revision, which a save applies
	// to (the matrix may show a preview's settings).
	Revision uint64
	// Preview is what the edits in the form (or a preset) would do, not
	// saved yet; the matrix shows the settings after them.
	Preview *impactRow
	// PresetPreview is set when Preview is a preset's.
	PresetPreview bool
	Presets       []presetOption
	// PresetInstances and PresetPipelines are the choices of the preset
	// form: those the viewer may see.
	PresetInstances, PresetPipelines []option
	// Findings are teamperm.Audit's, for owners and admins.
	Findings []findingRow
	// Owner: the viewer may switch the plan. Plans are the choices;
	// PlanTo and PlanImpact a switch's preview.
	Owner       bool
	Plans       []teamperm.Plan
	PlanPreview bool
	PlanTo      teamperm.Plan
	PlanImpact  []impactRow
}

type presetOption struct {
	Name, Label string
	Selected    bool
}

// option is one instance or pipeline checkbox.
type option struct {
	ID      int64
	Name    string
	Checked bool
}

type historyEntry struct {
	At    string
	Actor string
	Edits []string
}

func (s *Server) teamPage(w http.ResponseWriter, r *http.Request) {
	team, target, ok := s.pageMember(w, r)
	if !ok {
		return
	}
	data, err := s.teamPageData(r, team, target, target.Settings)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data.Saved = r.URL.Query().Get("saved") != ""
	s.render(w, r, http.StatusOK, "team", data)
}

// teamPageData is the settings page of target, whose matrix shows the
// settings shown: the stored ones, or a preview's.
func (s *Server) teamPageData(r *http.Request, team Team, target Account, shown teamperm.Settings) (teamPage, error) {
	m, a := actor(r)
	x, err := teamperm.NewMatrix(team.Org.Teamperm(), shown)
	if err != nil {
		return teamPage{}, err
	}
	data := teamPage{
		layout: layout{Title: "Team settings: " + target.Name, Viewer: &a, Nav: "team"},
		Team:   team, Target: target, Matrix: x, Revision: target.Settings.Revision,
		Owner: m.Role() == teamperm.RoleOwner,
		Plans: []teamperm.Plan{teamperm.PlanFree, teamperm.PlanStarter, teamperm.PlanPro},
	}
	for _, p := range presets {
		data.Presets = append(data.Presets, presetOption{p.Name, p.Label, r.PostFormValue("preset") == p.Name})
	}
	// Whether the viewer may edit the target at all: teamperm has no
	// question for it, so ask ApplyEdits about a change of nothing.
	_, _, err = teamperm.ApplyEdits(m, team.Org.Teamperm(), target.Settings, s.now(), teamperm.SetRole{Role: target.Settings.Role})
	data.Editable = err == nil
	if err != nil {
		data.ReadOnly = editRefusal(err)
	}
	cat := newCatalog(m, team)
	instances, hidden := cat.visibleInstances()
	for _, in := range instances {
		data.Instances = append(data.Instances, option{in.ID, in.Name, slices.Contains(x.Instances.IDs, teamperm.IntID(in.ID))})
	}
	data.HiddenInstances = hidden
	_, data.HiddenInstancesKept = cat.instanceIDs(x.Instances.IDs)
	pipelines, hidden := cat.visiblePipelines()
	for _, p := range pipelines {
		data.Pipelines = append(data.Pipelines, option{p.ID, p.Name, slices.Contains(x.Pipelines.IDs, teamperm.IntID(p.ID))})
	}
	data.HiddenPipelines = hidden
	_, data.HiddenPipelinesKept = cat.pipelineIDs(x.Pipelines.IDs)
	for _, in := range instances {
		data.PresetInstances = append(data.PresetInstances, option{in.ID, in.Name, slices.Contains(r.PostForm["preset_instance"], strconv.FormatInt(in.ID, 10))})
	}
	for _, p := range pipelines {
		data.PresetPipelines = append(data.PresetPipelines, option{p.ID, p.Name, slices.Contains(r.PostForm["preset_pipeline"], strconv.FormatInt(p.ID, 10))})
	}
	if m.Role() == teamperm.RoleOwner || m.Role() == teamperm.RoleAdmin {
		if data.Findings, err = findings(cat, team); err != nil {
			return teamPage{}, err
		}
	}
	changes, err := s.store.Changes(r.Context(), team.Org.ID, target.ID)
	if err != nil {
		return teamPage{}, err
	}
	for _, sc := range slices.Backward(changes) {
		data.History = append(data.History, history(team, cat, sc))
	}
	return data, nil
}

// editRefusal says why an edit was refused, for the page.
func editRefusal(err error) string {
	switch {
	case errors.Is(err, teamperm.ErrUpgradeRequired):
		return teamperm.UpgradeMessage
	case errors.Is(err, teamperm.ErrEditNotAllowed):
		return "You cannot change these settings: " + err.Error()
	}
	return err.Error()
}

// history describes one entry of the change log for the page, naming
// instances and pipelines as the catalog's viewer may see them.
func history(team Team, cat catalog, e tpstore.Entry) historyEntry {
	h := historyEntry{At: e.At.UTC().Format("2006-01-02 15:04 UTC"), Actor: "the service"}
	if id, ok := e.Actor.Int(); ok {
		h.Actor = fmt.Sprintf("member %d", id)
		if a, ok := team.Member(id); ok {
			h.Actor = a.Name
		}
	}
	for _, e := range e.Edits {
		h.Edits = append(h.Edits, cat.edit(e))
	}
	return h
}

func (s *Server) saveTeamPage(w http.ResponseWriter, r *http.Request) {
	team, target, ok := s.pageMember(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, err.Error())
		return
	}
	rev, err := strconv.ParseUint(r.PostFormValue("revision"), 10, 64)
	if err != nil || rev != target.Settings.Revision {
		s.teamPageError(w, r, team, target, http.StatusConflict, conflictMessage)
		return
	}
	x, err := teamperm.NewMatrix(team.Org.Teamperm(), target.Settings)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	m, _ := actor(r)
	cat := newCatalog(m, team)
	var edits []teamperm.Edit
	action := r.PostFormValue("action")
	switch action {
	case "preset", "preset_preview":
		preset, err := presetSettings(r, cat, target)
		if err != nil {
			s.teamPageError(w, r, team, target, http.StatusBadRequest, err.Error())
			return
		}
		edits = cat.keepHidden(target.Settings, teamperm.PresetEdits(target.Settings, preset))
	default: // "save", "preview"
		if edits, err = formEdits(x, target.Settings, cat, r); err != nil {
			s.teamPageError(w, r, team, target, http.StatusBadRequest, err.Error())
			return
		}
	}
	if len(edits) == 0 {
		if action == "preview" || action == "preset_preview" {
			s.teamPageError(w, r, team, target, http.StatusOK, "Nothing to preview: these are the member's settings already.")
			return
		}
		http.Redirect(w, r, r.URL.Path, http.StatusSeeOther)
		return
	}
	if action == "preview" || action == "preset_preview" {
		after, row, err := s.preview(r, team, target, edits)
		if err != nil {
			s.teamPageError(w, r, team, target, teamhttp.ProblemOf(err).Status, editRefusal(err))
			return
		}
		shown := after
		if action == "preset_preview" { // the preset form applies it; the matrix stays as stored
			shown = target.Settings
		}
		data, err := s.teamPageData(r, team, target, shown)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		data.Preview, data.PresetPreview = row, action == "preset_preview"
		s.render(w, r, http.StatusOK, "team", data)
		return
	}
	if _, status, err := s.edit(r, target, rev, edits); err != nil {
		if status == http.StatusInternalServerError {
			s.fail(w, r, err)
			return
		}
		msg := editRefusal(err)
		if errors.Is(err, errConflict) {
			msg = conflictMessage
		}
		s.teamPageError(w, r, team, target, status, msg)
		return
	}
	http.Redirect(w, r, r.URL.Path+"?saved=1", http.StatusSeeOther)
}

const conflictMessage = "Someone changed these settings meanwhile; here they are now. Make your change again."

func (s *Server) teamPageError(w http.ResponseWriter, r *http.Request, team Team, target Account, status int, msg string) {
	data, err := s.teamPageData(r, team, target, target.Settings)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data.Error = msg
	s.render(w, r, status, "team", data)
}

// formEdits turns the submitted form into edits against the member's
// stored settings: only what differs, and only what the matrix does not
// lock (a disabled checkbox is not submitted). A role change is saved on
// its own, since the role decides what the permissions' defaults are.
// Instances and pipelines the viewer cannot see (cat) are not on the
// page, and stay in the member's access as they are.
func formEdits(x teamperm.Matrix, cur teamperm.Settings, cat catalog, r *http.Request) ([]teamperm.Edit, error) {
	if x.Locked != "" {
		return nil, nil
	}
	if name := r.PostFormValue("role"); name != "" {
		role, err := teamperm.ParseRole(name)
		if err != nil {
			return nil, err
		}
		if role != cur.Role {
			return []teamperm.Edit{teamperm.SetRole{Role: role}}, nil
		}
	}
	var edits []teamperm.Edit
	checked := map[string]bool{}
	for _, v := range r.PostForm["perm"] {
		checked[v] = true
	}
	for _, c := range x.Categories {
		for _, p := range c.Permissions {
			want := checked[p.Permission.String()]
			if p.Locked != "" || want == p.Effective {
				continue
			}
			switch {
			case want == p.RoleDefault:
				edits = append(edits, teamperm.ClearOverride{Permission: p.Permission})
			case want:
				edits = append(edits, teamperm.Grant{Permission: p.Permission})
			default:
				edits = append(edits, teamperm.Deny{Permission: p.Permission})
			}
		}
	}
	if x.OnlyAssigned.Locked == "" {
		if on := r.PostFormValue("only_assigned_chats") == "on"; on != cur.OnlyAssignedChats {
			edits = append(edits, teamperm.SetOnlyAssignedChats{On: on})
		}
	}
	if x.OnlyCreated.Locked == "" {
		if on := r.PostFormValue("only_created_deals") == "on"; on != cur.OnlyCreatedDeals {
			edits = append(edits, teamperm.SetOnlyCreatedDeals{On: on})
		}
	}
	access := func(mode string, ids []string) (teamperm.Access, error) {
		if mode != "specific" {
			return teamperm.Access{}, nil
		}
		keys := []teamperm.ID{}
		for _, v := range ids {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return teamperm.Access{}, fmt.Errorf("%q is not a key", v)
			}
			keys = append(keys, teamperm.IntID(n))
		}
		return teamperm.Only(keys...), nil
	}
	if x.Instances.Locked == "" {
		a, err := access(r.PostFormValue("instances"), r.PostForm["instance"])
		if err != nil {
			return nil, err
		}
		if a.Specific && cur.Instances.Specific {
			a = withHidden(a, cur.Instances, cat.instances)
		}
		if !a.Equal(cur.Instances) {
			edits = append(edits, teamperm.SetInstances{Access: a})
		}
	}
	if x.Pipelines.Locked == "" {
		a, err := access(r.PostFormValue("pipelines"), r.PostForm["pipeline"])
		if err != nil {
			return nil, err
		}
		if a.Specific && cur.Pipelines.Specific {
			a = withHidden(a, cur.Pipelines, cat.pipelines)
		}
		if !a.Equal(cur.Pipelines) {
			edits = append(edits, teamperm.SetPipelines{Access: a})
		}
	}
	return edits, nil
}

// The inbox as one member sees it. A viewer looking at someone else's
// inbox sees only what both of them may see: the two scopes are ANDed in
// the one query, so an admin limited to one brand cannot peek at other
// brands through a colleague's inbox.

type inboxPage struct {
	layout
	Team          Team
	Target        Account
	Others        bool // the viewer is not the target
	Counts        []count
	Restrictions  []string
	Conversations []inboxRow
}

type count struct {
	Label string
	N     int
}

type inboxRow struct {
	ID       int64
	Subject  string
	Contact  string
	Instance string
	Assignee string
}

func (s *Server) inboxPage(w http.ResponseWriter, r *http.Request) {
	viewer, a := actor(r)
	team, target, ok := s.pageMember(w, r)
	if !ok {
		return
	}
	tm, err := target.Compile()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	scopes := func(k teamperm.Kind) []teamperm.Scope {
		if tm.ID() == viewer.ID() {
			return []teamperm.Scope{tm.Scope(k)}
		}
		return []teamperm.Scope{tm.Scope(k), viewer.Scope(k)}
	}
	data := inboxPage{
		layout: layout{Title: "Inbox: " + target.Name, Viewer: &a, Nav: "inbox"},
		Team:   team, Target: target, Others: tm.ID() != viewer.ID(),
	}
	x, err := teamperm.NewMatrix(team.Org.Teamperm(), target.Settings)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cat := newCatalog(viewer, team)
	data.Restrictions = restrictions(cat, x)
	ctx := r.Context()
	for _, k := range []struct {
		label string
		kind  teamperm.Kind
	}{{"contacts", teamperm.KindContact}, {"conversations", teamperm.KindConversation}, {"messages", teamperm.KindMessage}, {"deals", teamperm.KindDeal}} {
		n, err := s.store.Count(ctx, k.kind, scopes(k.kind)...)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		data.Counts = append(data.Counts, count{k.label, n})
	}
	convs, err := s.store.Conversations(ctx, scopes(teamperm.KindConversation)...)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	contacts, err := s.store.Contacts(ctx, scopes(teamperm.KindContact)...)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	names := map[int64]string{}
	for _, c := range contacts {
		names[c.ID] = c.Name
	}
	for _, c := range convs {
		instance, ok := cat.instance(c.Instance)
		if !ok { // a viewer who may see chats but not instances
			instance = "–"
		}
		row := inboxRow{ID: c.ID, Subject: c.Subject, Contact: names[c.Contact], Instance: instance, Assignee: "unassigned"}
		if row.Contact == "" {
			row.Contact = fmt.Sprintf("contact #%d", c.Contact)
		}
		if m, ok := team.Member(int64(c.Assignee)); ok {
			row.Assignee = m.Name
		}
		data.Conversations = append(data.Conversations, row)
	}
	s.render(w, r, http.StatusOK, "inbox", data)
}

// restrictions describes, for people, the stored settings that shape what
// a member sees, and why one does not apply (the plan, the role),
// naming instances and pipelines as the catalog's viewer may see them.
func restrictions(cat catalog, x teamperm.Matrix) []string {
	var out []string
	why := map[string]string{"requires_pro": "needs Pro", "role": "members only", "owner": "owners are unrestricted"}
	add := func(text string, applies bool, locked string) {
		if !applies {
			text += " (not applied: " + why[locked] + ")"
		}
		out = append(out, text)
	}
	if !x.Instances.All {
		add("instances: "+cat.instanceList(x.Instances.IDs), x.Instances.Applies, x.Instances.Locked)
	}
	if x.OnlyAssigned.On {
		add("only assigned chats", x.OnlyAssigned.Applies, x.OnlyAssigned.Locked)
	}
	if x.OnlyCreated.On {
		add("only created deals", x.OnlyCreated.Applies, x.OnlyCreated.Locked)
	}
	if !x.Pipelines.All {
		add("pipelines: "+cat.pipelineList(x.Pipelines.IDs), x.Pipelines.Applies, x.Pipelines.Locked)
	}
	return out
}
