package main

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/teamperm/teamperm"
)

// The seed: Acme, a shop with three WhatsApp numbers and two sales
// pipelines, on the Pro plan, whose team is an owner, two admins and the
// seed's six common setups; and Globex, another tenant in the same
// database, whose records no Acme member may ever see.
//
// Keys are fixed so that tests can name rows.
const (
	acme   = 1
	globex = 2

	// Acme's WhatsApp instances.
	mainLine = 1 // Acme Support, the main line
	bloom    = 2 // Bloom, Acme's flower brand
	atlas    = 3 // Atlas, a project run with an external contractor

	// Acme's pipelines.
	sales        = 1
	partnerships = 2

	// Acme's team.
	olivia = 1 // owner
	adam   = 2 // admin
	bruno  = 3 // admin, Bloom only (multi-brand manager, as an admin)
	sam    = 4 // support agent
	bea    = 5 // multi-brand manager (member), Bloom only
	mark   = 6 // marketing team member
	vera   = 7 // view-only supervisor
	carl   = 8 // external contractor on Atlas
	rita   = 9 // sales representative, Sales pipeline

	gina = 101 // Globex's owner
)

// seedTime is when the seed's team was set up; messages are dated from
// it. A fixed time keeps the demo's output and the audit log stable.
var seedTime = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

type seedMember struct {
	id     int64
	org    int64
	name   string
	setup  string
	preset teamperm.Settings // applied by the owner through ApplyEdits
}

// seedMembers returns each member with the setup the owner gives them.
// Everybody joins as a plain member (the owner as the owner); the owner
// then applies the seed's presets through teamperm.ApplyEdits, so the
// audit log tells how the team came to be.
func seedMembers() []seedMember {
	id := teamperm.IntID
	return []seedMember{
		{olivia, acme, "Olivia Owens", "owner", teamperm.Settings{Member: id(olivia), Role: teamperm.RoleOwner}},
		{adam, acme, "Adam Alvarez", "admin", teamperm.Settings{Member: id(adam), Role: teamperm.RoleAdmin}},
		{bruno, acme, "Bruno Braga", "multi-brand manager (admin)", teamperm.MultiBrandManager(id(bruno), teamperm.RoleAdmin, id(bloom))},
		{sam, acme, "Sam Silva", "support agent", teamperm.SupportAgent(id(sam), teamperm.Only(id(mainLine), id(bloom)))},
		{bea, acme, "Bea Brooks", "multi-brand manager", teamperm.MultiBrandManager(id(bea), teamperm.RoleMember, id(bloom))},
		{mark, acme, "Mark Meyer", "marketing team member", teamperm.MarketingTeamMember(id(mark), false)},
		{vera, acme, "Vera Voss", "view-only supervisor", teamperm.ViewOnlySupervisor(id(vera))},
		{carl, acme, "Carl Cruz", "external contractor", teamperm.ExternalContractor(id(carl), id(atlas))},
		{rita, acme, "Rita Reyes", "sales representative", teamperm.SalesRepresentative(id(rita), id(sales))},
		{gina, globex, "Gina Grant", "owner", teamperm.Settings{Member: id(gina), Role: teamperm.RoleOwner}},
	}
}

type seedConversation struct {
	id, org, instance, contact, assignee int64
	subject                              string
	messages                             []seedMessage
}

type seedMessage struct {
	author int64 // 0: the contact wrote it
	body   string
}

// Seed fills a new database.
func Seed(ctx context.Context, s *SQLStore) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		ins := func(table, cols string, vals ...any) error { return s.insert(ctx, tx, table, cols, vals...) }
		for _, o := range []struct {
			id   int64
			name string
		}{{acme, "Acme"}, {globex, "Globex"}} {
			if err := ins("organizations", "id, name", o.id, o.name); err != nil {
				return err
			}
		}
		for _, m := range seedMembers() {
			if err := ins("members", "id, org_id, name, setup", m.id, m.org, m.name, m.setup); err != nil {
				return err
			}
		}
		for _, in := range []struct {
			id, org     int64
			name, phone string
		}{
			{mainLine, acme, "Acme Support", "+1 555 0100"},
			{bloom, acme, "Bloom", "+1 555 0200"},
			{atlas, acme, "Atlas project", "+1 555 0300"},
			{11, globex, "Globex", "+44 20 7946 0000"},
		} {
			if err := ins("instances", "id, org_id, name, phone", in.id, in.org, in.name, in.phone); err != nil {
				return err
			}
		}
		for _, p := range []struct {
			id, org int64
			name    string
		}{{sales, acme, "Sales"}, {partnerships, acme, "Partnerships"}, {11, globex, "Globex sales"}} {
			if err := ins("pipelines", "id, org_id, name", p.id, p.org, p.name); err != nil {
				return err
			}
		}
		for _, c := range seedContacts {
			if err := ins("contacts", "id, org_id, name, phone", c.id, c.org, c.name, c.phone); err != nil {
				return err
			}
			for _, in := range c.instances {
				if err := ins("contact_instances", "contact_id, instance_id", c.id, in); err != nil {
					return err
				}
			}
		}
		msg := int64(0)
		for i, c := range seedConversations {
			if err := ins("conversations", "id, org_id, instance_id, contact_id, assignee_id, subject",
				c.id, c.org, c.instance, c.contact, nullID(c.assignee), c.subject); err != nil {
				return err
			}
			for j, m := range c.messages {
				msg++
				at := seedTime.Add(time.Duration(i)*time.Hour + time.Duration(j)*7*time.Minute)
				if err := ins("messages", "id, conversation_id, author_id, body, sent_at", msg, c.id, nullID(m.author), m.body, at.Unix()); err != nil {
					return err
				}
			}
		}
		for _, d := range seedDeals {
			var kind any
			if d.creatorKind != "" {
				kind = d.creatorKind
			}
			if err := ins("deals", "id, org_id, pipeline_id, title, stage, value_cents, creator_kind, creator_id, assignee_id",
				d.id, d.org, nullID(d.pipeline), d.title, d.stage, d.valueCents, kind, nullID(d.creator), nullID(d.assignee)); err != nil {
				return err
			}
		}
		for _, seq := range []struct {
			table string
			last  int64
		}{{"messages", msg}} {
			if err := ins("sequences", "name, next_id", seq.table, seq.last); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	// teamperm's part: the plans, and every member joining as a plain
	// member (owners as owners), at the seed's time.
	clock := s.clock
	s.clock = func() time.Time { return seedTime }
	defer func() { s.clock = clock }()
	for _, org := range []int64{acme, globex} {
		if _, err := s.tp.CreateOrganization(ctx, teamperm.IntID(org), teamperm.PlanPro); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}
	for _, m := range seedMembers() {
		joined := teamperm.Settings{Member: teamperm.IntID(m.id), Role: teamperm.RoleMember}
		if m.preset.Role == teamperm.RoleOwner {
			joined = m.preset
		}
		if _, err := s.tp.AddMember(ctx, teamperm.IntID(m.org), joined, teamperm.ID{}); err != nil {
			return fmt.Errorf("seed: %s: %w", m.name, err)
		}
	}
	return applyPresets(ctx, s)
}

// applyPresets has each organisation's owner give every member their
// setup, through teamperm.ApplyEdits and the store's audited save.
func applyPresets(ctx context.Context, s Store) error {
	for _, org := range []int64{acme, globex} {
		team, err := s.Team(ctx, org)
		if err != nil {
			return err
		}
		var owner *teamperm.Member
		for _, a := range team.Members {
			if a.Settings.Role == teamperm.RoleOwner {
				if owner, err = a.Compile(); err != nil {
					return err
				}
				break
			}
		}
		for _, sm := range seedMembers() {
			a, ok := team.Member(sm.id)
			if !ok || a.Settings.Role == teamperm.RoleOwner {
				continue
			}
			edits := teamperm.PresetEdits(a.Settings, sm.preset)
			if _, err := s.ApplyEdits(ctx, owner, a.ID, a.Settings.Revision, edits...); err != nil {
				return fmt.Errorf("seed: %s as %s: %w", a.Name, sm.setup, err)
			}
		}
	}
	return nil
}

// seedContacts are the contacts and the WhatsApp instances each wrote to
// (R19): a few wrote to two of Acme's numbers, so that a member
// restricted to one of them sees them.
var seedContacts = []struct {
	id, org     int64
	instances   []int64
	name, phone string
}{
	// Acme Support
	{1, acme, []int64{mainLine}, "Lucas Martin", "+1 555 1001"},
	{2, acme, []int64{mainLine, bloom}, "Emma Rossi", "+1 555 1002"}, // also ordered flowers from Bloom
	{3, acme, []int64{mainLine}, "Noah Becker", "+1 555 1003"},
	{4, acme, []int64{mainLine}, "Chloé Dubois", "+1 555 1004"},
	{5, acme, []int64{mainLine}, "Mateo García", "+1 555 1005"},
	{6, acme, []int64{mainLine}, "Hana Sato", "+1 555 1006"},
	{7, acme, []int64{mainLine}, "Olu Adeyemi", "+1 555 1007"},
	{8, acme, []int64{mainLine}, "Ingrid Larsen", "+1 555 1008"},
	// Bloom
	{9, acme, []int64{bloom}, "Priya Nair", "+1 555 2001"},
	{10, acme, []int64{bloom}, "Tom Walsh", "+1 555 2002"},
	{11, acme, []int64{bloom, mainLine}, "Sofia Costa", "+1 555 2003"}, // asked Acme Support about a delivery too
	{12, acme, []int64{bloom}, "Jonas Weber", "+1 555 2004"},
	{13, acme, []int64{bloom}, "Aisha Khan", "+1 555 2005"},
	// Atlas project
	{14, acme, []int64{atlas, mainLine}, "Atlas Logistics (Marta)", "+1 555 3001"}, // escalates on the main line
	{15, acme, []int64{atlas}, "Atlas Logistics (Ben)", "+1 555 3002"},
	{16, acme, []int64{atlas}, "Atlas Logistics (accounts)", "+1 555 3003"},
	// Globex
	{51, globex, []int64{11}, "Globex customer", "+44 20 7946 0001"},
	{52, globex, []int64{11}, "Globex supplier", "+44 20 7946 0002"},
}

var seedConversations = []seedConversation{
	{1, acme, mainLine, 1, sam, "Order #1042 has not arrived", []seedMessage{
		{0, "Hi, my order #1042 was due on Friday and hasn't arrived."},
		{sam, "Sorry about that, Lucas! Let me check with the courier."},
		{sam, "It's at the local depot and goes out for delivery tomorrow morning."},
		{0, "Great, thanks."},
	}},
	{2, acme, mainLine, 2, sam, "Change of delivery address", []seedMessage{
		{0, "Can I still change the delivery address for my order?"},
		{sam, "Yes, it hasn't shipped yet. What's the new address?"},
		{0, "12 Harbour Street, Flat 3."},
	}},
	{3, acme, mainLine, 3, adam, "Invoice for March", []seedMessage{
		{0, "Could you resend the March invoice with our VAT number?"},
		{adam, "Done, it's in your inbox."},
	}},
	{4, acme, mainLine, 4, 0, "Do you ship to Canada?", []seedMessage{
		{0, "Bonjour! Do you ship to Canada?"},
	}},
	{5, acme, mainLine, 5, carl, "Warranty claim", []seedMessage{
		{0, "The blender stopped working after two weeks."},
		{carl, "I'm sorry to hear that. Could you send a photo of the serial number?"},
	}},
	{6, acme, mainLine, 6, 0, "Bulk order quote", []seedMessage{
		{0, "We'd like a quote for 200 units for our office."},
		{0, "Delivery before April if possible."},
	}},
	{7, acme, bloom, 9, bea, "Bouquet for a wedding", []seedMessage{
		{0, "Hello Bloom! We need 12 bouquets for a wedding on May 9."},
		{bea, "Congratulations! Peonies are in season then. Shall I send a proposal?"},
		{0, "Yes please."},
	}},
	{8, acme, bloom, 10, sam, "Refund for wilted flowers", []seedMessage{
		{0, "The roses I got yesterday are already wilting."},
		{sam, "That shouldn't happen. I've refunded you in full."},
		{0, "Thank you!"},
	}},
	{9, acme, bloom, 11, 0, "Opening hours", []seedMessage{
		{0, "Are you open on Sundays?"},
	}},
	{10, acme, atlas, 14, carl, "Atlas rollout: training dates", []seedMessage{
		{0, "Which dates work for the warehouse training?"},
		{carl, "March 16 or 18, both mornings."},
		{0, "The 18th, please."},
		{carl, "Booked."},
	}},
	{11, acme, atlas, 15, carl, "Atlas: login problems", []seedMessage{
		{0, "Two of our drivers cannot log in to the app."},
		{carl, "I've reset both accounts; they'll get a text with a new code."},
	}},
	{12, acme, atlas, 16, 0, "Atlas: invoice address", []seedMessage{
		{0, "Please send invoices to accounts@atlas.example."},
	}},
	{13, acme, atlas, 14, sam, "Atlas: escalation", []seedMessage{
		{0, "Escalating the scanner issue from last week."},
	}},
	{51, globex, 11, 51, gina, "Globex: order status", []seedMessage{
		{0, "Where is my order?"},
		{gina, "On its way."},
	}},
}

var seedDeals = []struct {
	id, org, pipeline int64
	title, stage      string
	valueCents        int64
	creatorKind       string // "" is a legacy deal
	creator, assignee int64
}{
	{1, acme, sales, "Acme Corp annual renewal", "proposal", 1_200_000, "member", rita, rita},
	{2, acme, sales, "Lima Café espresso machines", "qualified", 480_000, "member", rita, rita},
	{3, acme, partnerships, "Porto Bikes referral programme", "lead", 150_000, "member", rita, rita},
	{4, acme, sales, "Website lead: Delta Foods", "lead", 90_000, "automation", 0, rita},
	{5, acme, sales, "Website lead: Nova Dental", "lead", 60_000, "automation", 0, bea},
	{6, acme, partnerships, "Partner form: Orbit Travel", "lead", 200_000, "automation", 0, rita},
	{7, acme, sales, "Old CRM: Harbor Hotels", "negotiation", 2_500_000, "", 0, 0},
	{8, acme, partnerships, "Old CRM: Sunrise Gyms", "lead", 300_000, "", 0, 0},
	{9, acme, sales, "Atlas rollout, phase 2", "won", 4_000_000, "member", adam, adam},
	{10, acme, partnerships, "Bloom franchise", "proposal", 1_800_000, "member", bea, bea},
	{11, acme, 0, "Imported: Kappa Labs", "lead", 75_000, "", 0, 0},
	{12, acme, sales, "Website lead: Vega Motors", "lead", 120_000, "automation", 0, 0},
	{51, globex, 11, "Globex: fleet renewal", "proposal", 900_000, "member", gina, gina},
}
