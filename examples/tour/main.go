// Command tour walks the common permission setups of the seed's permission
// page through teamperm: one organisation with three WhatsApp instances and
// two CRM pipelines, first on Pro, then the same team on Starter.
//
// For each member it prints the effective permissions and the decisions on
// a handful of sample conversations and deals.
//
//	go run ./examples/tour
package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/teamperm/teamperm"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "tour:", err)
		os.Exit(1)
	}
}

// The organisation, its WhatsApp instances and CRM pipelines, and a
// colleague who is not part of the tour but owns some of the records.
var (
	acme = teamperm.StringID("acme")

	mainInstance = teamperm.StringID("main")
	brandB       = teamperm.StringID("brand-b")
	project      = teamperm.StringID("project")

	sales    = teamperm.StringID("sales")
	partners = teamperm.StringID("partners")

	colleague = teamperm.StringID("kim")
)

// A setup is one team member: the seed's name for the setup, the settings
// the host stores, and the instance the member works on.
type setup struct {
	name     string
	settings teamperm.Settings
	home     teamperm.ID
}

// team returns the members of the tour: the three plain roles, then the
// seed's "Common permission setups" in the seed's order. Each setup stores
// only what differs from the role defaults: where the seed says "disabled"
// for a permission the role does not have anyway (the contractor's export
// and manage permissions), no deny is stored.
func team() []setup {
	const member = teamperm.RoleMember
	set := teamperm.PermissionSetOf
	return []setup{
		{"owner", teamperm.Settings{Member: teamperm.StringID("olivia"), Role: teamperm.RoleOwner}, mainInstance},
		{"admin", teamperm.Settings{Member: teamperm.StringID("adam"), Role: teamperm.RoleAdmin}, mainInstance},
		{"member", teamperm.Settings{Member: teamperm.StringID("mia"), Role: member}, mainInstance},
		{"support agent", teamperm.Settings{
			Member:            teamperm.StringID("sam"),
			Role:              member,
			OnlyAssignedChats: true, // chat view and send are member defaults, assign is not
		}, mainInstance},
		{"multi-brand manager (member)", teamperm.Settings{
			Member: teamperm.StringID("bea"),
			Role:   member,
			// The seed's "all relevant permissions enabled": here assigning
			// chats, exporting the brand's contacts, running its campaigns.
			Grants:    set(teamperm.ChatAssign, teamperm.ContactExport, teamperm.CampaignManage),
			Instances: teamperm.Only(brandB),
		}, brandB},
		{"multi-brand manager (admin)", teamperm.Settings{
			Member:    teamperm.StringID("bruno"),
			Role:      teamperm.RoleAdmin,
			Instances: teamperm.Only(brandB),
		}, brandB},
		{"marketing team member", teamperm.Settings{
			Member: teamperm.StringID("mara"),
			Role:   member,
			Grants: set(teamperm.CampaignManage), // webhook and workflow manage stay off
		}, mainInstance},
		{"marketing team member (workflows)", teamperm.Settings{
			Member: teamperm.StringID("max"),
			Role:   member,
			Grants: set(teamperm.CampaignManage, teamperm.WorkflowManage),
		}, mainInstance},
		{"view-only supervisor", teamperm.Settings{
			Member: teamperm.StringID("sue"),
			Role:   member,
			Grants: set(teamperm.ChatAssign),
			Denies: set(teamperm.ChatSend),
		}, mainInstance},
		{"external contractor", teamperm.Settings{
			Member:            teamperm.StringID("cora"),
			Role:              member,
			Instances:         teamperm.Only(project),
			OnlyAssignedChats: true,
		}, project},
		{"sales representative", teamperm.Settings{
			Member:           teamperm.StringID("rex"),
			Role:             member,
			OnlyCreatedDeals: true,
			Pipelines:        teamperm.Only(sales),
		}, mainInstance},
	}
}

// compileTeam compiles every member of the team on plan.
func compileTeam(plan teamperm.Plan) ([]*teamperm.Member, error) {
	org := teamperm.Organization{ID: acme, Features: plan.Features()}
	var ms []*teamperm.Member
	for _, s := range team() {
		m, err := teamperm.Compile(org, s.settings)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
		ms = append(ms, m)
	}
	return ms, nil
}

// A check is one question asked about a sample record: may the member do
// perm on it, or (perm zero) may the member see it?
type check struct {
	record string
	perm   teamperm.Permission
	r      teamperm.Record
}

func (c check) action() string {
	if c.perm == 0 {
		return "see"
	}
	return c.perm.String()
}

func (c check) String() string { return c.action() + " " + c.record }

func (c check) decide(m *teamperm.Member) teamperm.Decision {
	if c.perm == 0 {
		return m.Visible(c.r)
	}
	return m.EvaluateRecord(c.perm, c.r)
}

// checks returns the sample records of a member who works on instance
// home: conversations on home and elsewhere, and deals in two pipelines.
func checks(s setup) []check {
	away := brandB
	if s.home == brandB {
		away = mainInstance
	}
	conv := func(instance, assignee teamperm.ID) teamperm.Record {
		return teamperm.Record{Kind: teamperm.KindConversation, Organization: acme, Instance: instance, Assignee: assignee}
	}
	deal := func(pipeline teamperm.ID, ck teamperm.CreatorKind, creator, assignee teamperm.ID) teamperm.Record {
		return teamperm.Record{Kind: teamperm.KindDeal, Organization: acme, Pipeline: pipeline, CreatorKind: ck, Creator: creator, Assignee: assignee}
	}
	me, them := name(s.settings.Member), name(colleague)
	home, there := name(s.home), name(away)
	none := teamperm.ID{}
	return []check{
		{"conversation on " + home + ", assigned to " + me, teamperm.ChatSend, conv(s.home, s.settings.Member)},
		{"conversation on " + home + ", assigned to " + them, teamperm.ChatSend, conv(s.home, colleague)},
		{"conversation on " + there + ", assigned to " + me, teamperm.ChatSend, conv(away, s.settings.Member)},
		{"conversation on " + home + ", unassigned", teamperm.ChatAssign, conv(s.home, none)},
		{"deal in sales, created by " + me, 0, deal(sales, teamperm.CreatorMember, s.settings.Member, none)},
		{"deal in sales, created by " + them, 0, deal(sales, teamperm.CreatorMember, colleague, colleague)},
		{"deal in sales, by automation for " + me, 0, deal(sales, teamperm.CreatorAutomation, none, s.settings.Member)},
		{"deal in sales, legacy (no creator)", 0, deal(sales, teamperm.CreatorUnknown, none, none)},
		{"deal in partners, created by " + me, 0, deal(partners, teamperm.CreatorMember, s.settings.Member, none)},
	}
}

// name returns the plain text of a tour ID ("sam", not the quoted debug
// form of [teamperm.ID.String]).
func name(id teamperm.ID) string {
	if s, ok := id.Str(); ok {
		return s
	}
	return id.String()
}

// run prints the tour to w.
func run(w io.Writer) error {
	pro, err := compileTeam(teamperm.PlanPro)
	if err != nil {
		return err
	}
	starter, err := compileTeam(teamperm.PlanStarter)
	if err != nil {
		return err
	}
	p := &printer{w: w}
	p.printf("teamperm tour\n\n")
	p.printf("Organisation %s: WhatsApp instances %s; CRM pipelines %s.\n",
		name(acme), and([]string{name(mainInstance), name(brandB), name(project)}), and([]string{name(sales), name(partners)}))
	p.printf("The colleague %s owns some of the sample records.\n", name(colleague))
	p.printf("\nOn Pro\n")
	for i, s := range team() {
		p.member(s, pro[i])
	}
	p.starter(team(), pro, starter)
	return p.err
}

// printer writes the tour and keeps the first write error.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

func (p *printer) table(write func(tw io.Writer)) {
	if p.err != nil {
		return
	}
	tw := tabwriter.NewWriter(p.w, 0, 0, 2, ' ', 0)
	write(tw)
	p.err = tw.Flush()
}

// member prints one member: settings, permissions and decisions.
func (p *printer) member(s setup, m *teamperm.Member) {
	p.printf("\n%s: %s\n", name(m.ID()), s.name)
	p.printf("  %s\n\n", summary(s.settings))
	p.table(func(tw io.Writer) {
		fmt.Fprintln(tw, "  category\tallowed\tnot allowed\tby settings")
		for c := range teamperm.Categories() {
			var yes, no, changed []string
			for perm := range c.Permissions() {
				label := strings.ToLower(perm.Label())
				if m.Has(perm) {
					yes = append(yes, label)
				} else {
					no = append(no, label)
				}
				switch m.Evaluate(perm).Reason() {
				case teamperm.ReasonOverrideGrant:
					changed = append(changed, "+"+label)
				case teamperm.ReasonOverrideDeny:
					changed = append(changed, "-"+label)
				}
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", c.Title(), words(yes), words(no), words(changed))
		}
	})
	p.printf("\n")
	p.table(func(tw io.Writer) {
		fmt.Fprintln(tw, "  record\taction\toutcome\treason")
		for _, c := range checks(s) {
			d := c.decide(m)
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", c.record, c.action(), d.Outcome(), d.Reason())
		}
	})
}

// starter prints what changes when the same team is on Starter: the
// permissions that stored settings change on Pro, and the sample records
// that they hide on Pro.
func (p *printer) starter(team []setup, pro, starter []*teamperm.Member) {
	p.printf("\nOn Starter\n\n")
	p.printf("Starter lacks fine-grained permissions: every member gets exactly the role\n")
	p.printf("defaults. Stored settings are kept and apply again after an upgrade to Pro;\n")
	p.printf("meanwhile the decisions they would change say %s.\n\n", teamperm.ReasonPlanIgnoresSettings)

	var differ []string
	for _, m := range starter {
		if m.HonoursSettings() || m.Permissions() != m.Role().Defaults() {
			differ = append(differ, name(m.ID()))
		}
	}
	if len(differ) == 0 {
		p.printf("Permissions equal the role defaults for all %d members.\n\n", len(starter))
	} else {
		p.printf("Permissions differ from the role defaults for: %s\n\n", strings.Join(differ, ", "))
	}

	var same []string
	p.table(func(tw io.Writer) {
		fmt.Fprintln(tw, "  member\tcheck\toutcome\treason\ton Pro")
		for i, s := range team {
			who := name(s.settings.Member)
			n := 0
			row := func(what string, d, onPro outcome) {
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s %s\n", who, what, d.Outcome, d.Reason, onPro.Outcome, onPro.Reason)
				n++
			}
			// Permissions, grouped by how they change.
			type change struct{ starter, pro outcome }
			var order []change
			group := map[change][]string{}
			for perm := range teamperm.Permissions() {
				d := starter[i].Evaluate(perm)
				if d.Reason() != teamperm.ReasonPlanIgnoresSettings {
					continue
				}
				k := change{outcomeOf(d), outcomeOf(pro[i].Evaluate(perm))}
				if _, ok := group[k]; !ok {
					order = append(order, k)
				}
				group[k] = append(group[k], perm.String())
			}
			for _, k := range order {
				row(strings.Join(group[k], " "), k.starter, k.pro)
			}
			// Records that the settings hide on Pro.
			for _, c := range checks(s) {
				d, onPro := c.decide(starter[i]), c.decide(pro[i])
				if d.Reason() == teamperm.ReasonPlanIgnoresSettings && onPro.Outcome() == teamperm.OutcomeNotFound {
					row(c.String(), outcomeOf(d), outcomeOf(onPro))
				}
			}
			if n == 0 {
				same = append(same, who)
			}
		}
	})
	if len(same) > 0 {
		p.printf("\nThe decisions of %s are the same on both plans.\n", and(same))
	}
}

// An outcome is what the tour shows of a decision.
type outcome struct {
	Outcome teamperm.Outcome
	Reason  teamperm.Reason
}

func outcomeOf(d teamperm.Decision) outcome { return outcome{d.Outcome(), d.Reason()} }

// summary describes the stored settings of a member in one line.
func summary(s teamperm.Settings) string {
	parts := []string{"role " + s.Role.String()}
	if !s.Instances.IsAll() {
		parts = append(parts, "instances: "+ids(s.Instances.IDs))
	}
	if s.OnlyAssignedChats {
		parts = append(parts, "only assigned chats")
	}
	if s.OnlyCreatedDeals {
		parts = append(parts, "only created deals")
	}
	if !s.Pipelines.IsAll() {
		parts = append(parts, "pipelines: "+ids(s.Pipelines.IDs))
	}
	if !s.Grants.IsEmpty() {
		parts = append(parts, "grant: "+perms(s.Grants))
	}
	if !s.Denies.IsEmpty() {
		parts = append(parts, "deny: "+perms(s.Denies))
	}
	if len(parts) == 1 {
		parts = append(parts, "no stored settings")
	}
	return strings.Join(parts, ", ")
}

func ids(list []teamperm.ID) string {
	var names []string
	for _, id := range list {
		names = append(names, name(id))
	}
	return strings.Join(names, " ")
}

func perms(set teamperm.PermissionSet) string {
	var names []string
	for p := range set.All() {
		names = append(names, p.String())
	}
	return strings.Join(names, " ")
}

func words(list []string) string {
	if len(list) == 0 {
		return "-"
	}
	return strings.Join(list, " ")
}

// and joins a list of names as in "a, b and c".
func and(list []string) string {
	if len(list) < 2 {
		return strings.Join(list, "")
	}
	return strings.Join(list[:len(list)-1], ", ") + " and " + list[len(list)-1]
}
