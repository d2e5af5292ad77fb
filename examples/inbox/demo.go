package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/teamperm/teamperm"
)

// demo prints, for every member of Acme, what they may do and how many
// records of each kind they see, counted by scoped SQL; then the impact
// of switching Acme from Pro to Starter, which it then applies, and the
// counts after. Its output is deterministic.
func demo(ctx context.Context, w io.Writer, s *SQLStore) error {
	team, err := s.Team(ctx, acme)
	if err != nil {
		return err
	}
	var names []string
	for _, in := range team.Instances {
		names = append(names, in.Name)
	}
	var pipes []string
	for _, p := range team.Pipelines {
		pipes = append(pipes, p.Name)
	}
	fmt.Fprintf(w, "teamperm inbox: a shared WhatsApp inbox and CRM on %s, every list scoped by teamperm\n\n", engineName(s))
	fmt.Fprintf(w, "%s, on the %s plan: %d members, WhatsApp instances %s, pipelines %s.\n",
		team.Org.Name, title(team.Org.Plan), len(team.Members), strings.Join(names, ", "), strings.Join(pipes, ", "))
	fmt.Fprintf(w, "Globex, another organisation, shares the database; no Acme member sees its rows.\n")

	if err := memberTables(ctx, w, s, team); err != nil {
		return err
	}
	if err := howCounted(w, s, team); err != nil {
		return err
	}
	if err := audit(w, team); err != nil {
		return err
	}

	// The plan switch: what it would do, then do it.
	fmt.Fprintf(w, "\n== Switching %s from Pro to Starter ==\n\n", team.Org.Name)
	after := team
	after.Org.Plan = teamperm.PlanStarter
	impacts, err := teamperm.Impact(team.Teamperm(), after.Teamperm())
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "teamperm.Impact, before applying it: %d of %d members affected\n", len(impacts), len(team.Members))
	for _, mi := range impacts {
		id, _ := mi.Member.Int()
		a, _ := team.Member(id)
		fmt.Fprintf(w, "\n  %s (%s)\n", a.Name, a.Setup)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, line := range []struct {
			label string
			value string
		}{
			{"gains", set(mi.Gained)},
			{"loses", set(mi.Lost)},
			{"sees more", kinds(mi.Widened)},
			{"sees less", kinds(mi.Narrowed)},
			{"stops applying", words(mi.StopApplying, "; ")},
			{"starts applying", words(mi.StartApplying, "; ")},
		} {
			if line.value != "" {
				fmt.Fprintf(tw, "    %s\t%s\n", line.label, line.value)
			}
		}
		tw.Flush()
	}
	fmt.Fprintln(w, "\n  Stored settings are kept: they apply again after an upgrade to Pro.")

	if err := s.SetPlan(ctx, acme, teamperm.PlanStarter); err != nil {
		return err
	}
	if team, err = s.Team(ctx, acme); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nApplied: %s is on the %s plan now.\n", team.Org.Name, title(team.Org.Plan))
	if err := memberTables(ctx, w, s, team); err != nil {
		return err
	}

	// A fine-grained edit on Starter is refused with the seed's message.
	owner, _ := team.Member(olivia)
	agent, _ := team.Member(sam)
	om, err := owner.Compile()
	if err != nil {
		return err
	}
	_, _, err = teamperm.ApplyEdits(om, team.Org.Teamperm(), agent.Settings, seedTime, teamperm.Grant{Permission: teamperm.ChatAssign})
	if !errors.Is(err, teamperm.ErrUpgradeRequired) {
		return fmt.Errorf("granting chat.assign on Starter: got %v, want ErrUpgradeRequired", err)
	}
	fmt.Fprintf(w, "\nOn Starter, %s granting chat.assign to %s is refused (HTTP 402):\n  %s\n", owner.Name, agent.Name, teamperm.UpgradeMessage)
	return nil
}

func engineName(s *SQLStore) string {
	if s.Dialect() == teamperm.Postgres {
		return "PostgreSQL"
	}
	return "SQLite"
}

// memberTables prints the two tables of the team under its current plan:
// permissions and restrictions, then the counts each member sees.
func memberTables(ctx context.Context, w io.Writer, s *SQLStore, team Team) error {
	fmt.Fprintf(w, "\n== What each member may do (%s) ==\n\n", title(team.Org.Plan))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "MEMBER\tSETUP\tROLE")
	for c := range teamperm.Categories() {
		fmt.Fprintf(tw, "\t%s", strings.ToUpper(c.Title()))
	}
	fmt.Fprintln(tw, "\tRESTRICTIONS")
	for _, a := range team.Members {
		m, err := a.Compile()
		if err != nil {
			return err
		}
		x, err := teamperm.NewMatrix(team.Org.Teamperm(), a.Settings)
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t%s\t%s", a.Name, a.Setup, m.Role())
		for c := range teamperm.Categories() {
			fmt.Fprintf(tw, "\t%s", letters(m, c))
		}
		r := "-"
		if rs := restrictions(operatorCatalog(team), x); len(rs) > 0 {
			r = strings.Join(rs, "; ")
		}
		fmt.Fprintf(tw, "\t%s\n", r)
	}
	tw.Flush()
	fmt.Fprintln(w, "(v view, c create, u update, d delete, e export, i import, s send, a assign, m manage; - not allowed)")

	fmt.Fprintf(w, "\n== What each member sees (%s): SELECT COUNT(*) ... WHERE <the member's scope> ==\n\n", title(team.Org.Plan))
	width := len("MEMBER")
	for _, a := range team.Members {
		width = max(width, len(a.Name))
	}
	fmt.Fprintf(w, "%-*s  %8s  %13s  %8s  %5s\n", width, "MEMBER", "CONTACTS", "CONVERSATIONS", "MESSAGES", "DEALS")
	for _, a := range team.Members {
		m, err := a.Compile()
		if err != nil {
			return err
		}
		var n [4]int
		for i, k := range []teamperm.Kind{teamperm.KindContact, teamperm.KindConversation, teamperm.KindMessage, teamperm.KindDeal} {
			if n[i], err = s.Count(ctx, k, m.Scope(k)); err != nil {
				return err
			}
		}
		fmt.Fprintf(w, "%-*s  %8d  %13d  %8d  %5d\n", width, a.Name, n[0], n[1], n[2], n[3])
	}
	return nil
}

// letters abbreviates the member's permissions of category c: the first
// letter of each permission's label, or - when the member lacks it.
func letters(m *teamperm.Member, c teamperm.Category) string {
	var b strings.Builder
	for p := range c.Permissions() {
		if m.Has(p) {
			b.WriteByte(strings.ToLower(p.Label())[0])
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}

// howCounted shows two of the counting queries as they are sent.
func howCounted(w io.Writer, s *SQLStore, team Team) error {
	fmt.Fprintln(w, "\nHow two of those counts are asked for (the scope rendered by Scope.AppendSQL, values bound):")
	for _, e := range []struct {
		member int64
		kind   teamperm.Kind
	}{{sam, teamperm.KindConversation}, {rita, teamperm.KindDeal}} {
		a, _ := team.Member(e.member)
		m, err := a.Compile()
		if err != nil {
			return err
		}
		q, err := s.countQuery(e.kind, []teamperm.Scope{m.Scope(e.kind)})
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "  %s, %ss:\n    %s\n    args %v\n", a.Name, e.kind, q, q.args)
	}
	return nil
}

// audit prints teamperm.Audit's findings about the team.
func audit(w io.Writer, team Team) error {
	findings, err := teamperm.Audit(team.Teamperm())
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nteamperm.Audit: %d findings (they inform, they never block)\n", len(findings))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, f := range findings {
		id, _ := f.Member.Int()
		a, _ := team.Member(id)
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", a.Name, f.Consideration, f.Message)
	}
	return tw.Flush()
}

func set(s teamperm.PermissionSet) string {
	var names []string
	for p := range s.All() {
		names = append(names, p.String())
	}
	return strings.Join(names, ", ")
}

func kinds(ks []teamperm.Kind) string {
	names := make([]string, len(ks))
	for i, k := range ks {
		names[i] = k.String() + "s"
	}
	return words(names, ", ")
}

func words(xs []string, sep string) string {
	return strings.Join(xs, sep)
}

// title returns the plan's name as the pricing page writes it.
func title(p teamperm.Plan) string {
	name := p.String()
	return strings.ToUpper(name[:1]) + name[1:]
}
