package bench

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"

	_ "github.com/ncruces/go-sqlite3/driver"
	"github.com/teamperm/teamperm"
)

// These tests prove that every engine makes teamperm's decisions, on
// hand-picked cases and on thousands of random ones, and that the row
// filters of teamperm, OPA and Cedar return exactly the rows teamperm's
// Visible admits, in SQLite. The benchmarks only measure what these tests
// cover, and each one checks its own answer once more before timing.

// namedEngine is one engine under test.
type namedEngine struct {
	name string
	Engine
}

// engines returns every engine loaded with pop: teamperm, Casbin (plain
// and cached), cedar-go and OPA.
func engines(t testing.TB, pop *Population) []namedEngine {
	t.Helper()
	cb, err := NewCasbin(pop, false)
	if err != nil {
		t.Fatal(err)
	}
	cc, err := NewCasbin(pop, true)
	if err != nil {
		t.Fatal(err)
	}
	cd, err := NewCedar(pop)
	if err != nil {
		t.Fatal(err)
	}
	op, err := NewOPA(context.Background(), pop)
	if err != nil {
		t.Fatal(err)
	}
	return []namedEngine{
		{"teamperm", NewTeamperm(pop)},
		{"casbin", cb},
		{"casbin-cached", cc},
		{"cedar", cd},
		{"opa", op},
	}
}

// request is the Request of member m doing p, on conv unless it is nil.
func request(pop *Population, m int, p teamperm.Permission, conv *Conversation) Request {
	mem := &pop.Members[m]
	return Request{Org: key(pop.Orgs[mem.Org].ID), Member: key(mem.ID()), Permission: p.String(), Record: conv}
}

// agree fails t unless every engine decides r as want.
func agree(t *testing.T, label string, es []namedEngine, r Request, want teamperm.Outcome) {
	t.Helper()
	for _, e := range es {
		if got, err := e.Decide(r); err != nil || got != want {
			rec := "no record"
			if r.Record != nil {
				rec = fmt.Sprintf("%+v", *r.Record)
			}
			t.Errorf("%s: %s: member %s %s on %s = %v, %v; want %v", e.name, label, r.Member, r.Permission, rec, got, err, want)
		}
	}
}

// handPicked is a small population with the seed's common setups and the
// rules' edge cases; members are named by handPickedNames.
func handPicked(t testing.TB) *Population {
	t.Helper()
	id := teamperm.IntID
	set := teamperm.PermissionSetOf
	pop := &Population{Orgs: []Org{
		{ID: 1, Plan: teamperm.PlanPro, Instances: []int64{101, 102, 103, 104, 105}},
		{ID: 2, Plan: teamperm.PlanFree, Instances: []int64{201, 202, 203}},
		{ID: 3, Plan: teamperm.PlanStarter, Instances: []int64{301, 302, 303}},
	}}
	members := []struct {
		org int
		s   teamperm.Settings
	}{
		// R5: an owner's stored settings never apply.
		{0, teamperm.Settings{Member: id(1), Role: teamperm.RoleOwner, Denies: set(teamperm.ContactExport, teamperm.ChatView),
			Instances: teamperm.Only(id(101)), OnlyAssignedChats: true}},
		// An admin takes instance restrictions, only-assigned and denies.
		{0, teamperm.Settings{Member: id(2), Role: teamperm.RoleAdmin, Denies: set(teamperm.ContactDelete),
			Instances: teamperm.Only(id(101)), OnlyAssignedChats: true}},
		// Support agent.
		{0, teamperm.Settings{Member: id(3), Role: teamperm.RoleMember, OnlyAssignedChats: true}},
		// Multi-brand manager (member).
		{0, teamperm.Settings{Member: id(4), Role: teamperm.RoleMember, Instances: teamperm.Only(id(101)),
			Grants: set(teamperm.ContactExport, teamperm.ContactDelete, teamperm.ChatAssign, teamperm.CampaignManage)}},
		// Marketing team member.
		{0, teamperm.Settings{Member: id(5), Role: teamperm.RoleMember, Grants: set(teamperm.CampaignManage)}},
		// View-only supervisor.
		{0, teamperm.Settings{Member: id(6), Role: teamperm.RoleMember, Denies: set(teamperm.ChatSend), Grants: set(teamperm.ChatAssign)}},
		// External contractor.
		{0, teamperm.Settings{Member: id(7), Role: teamperm.RoleMember, Instances: teamperm.Only(id(102)), OnlyAssignedChats: true,
			Denies: set(teamperm.ContactExport, teamperm.InstanceManage, teamperm.WebhookManage, teamperm.CampaignManage, teamperm.WorkflowManage)}},
		// R7: an empty set of instances admits nothing.
		{0, teamperm.Settings{Member: id(8), Role: teamperm.RoleMember, Instances: teamperm.Only()}},
		// R13: without chat.view no conversation is visible.
		{0, teamperm.Settings{Member: id(9), Role: teamperm.RoleMember, Denies: set(teamperm.ChatView)}},
		// R6: deny wins over grant.
		{0, teamperm.Settings{Member: id(10), Role: teamperm.RoleMember, Grants: set(teamperm.ContactExport), Denies: set(teamperm.ContactExport)}},
		// R4: on Free and Starter stored settings are ignored.
		{1, teamperm.Settings{Member: id(11), Role: teamperm.RoleMember, Grants: set(teamperm.ContactExport), Denies: set(teamperm.ChatSend),
			Instances: teamperm.Only(id(201)), OnlyAssignedChats: true}},
		{2, teamperm.Settings{Member: id(12), Role: teamperm.RoleAdmin, Denies: set(teamperm.ChatSend), Instances: teamperm.Only()}},
	}
	for _, m := range members {
		if err := pop.Add(m.org, m.s); err != nil {
			t.Fatal(err)
		}
	}
	return pop
}

var handPickedNames = map[string]int{
	"owner": 0, "admin": 1, "agent": 2, "brand": 3, "marketer": 4, "supervisor": 5,
	"contractor": 6, "no-instances": 7, "no-chat-view": 8, "grant-and-deny": 9, "free": 10, "starter": 11,
}

// conversationsFor returns conversations around member m: on each
// instance of its organisation, on none, and in the next organisation;
// assigned to m, to a colleague, or to nobody.
func conversationsFor(pop *Population, m int) []Conversation {
	mem := &pop.Members[m]
	org := &pop.Orgs[mem.Org]
	other := &pop.Orgs[(mem.Org+1)%len(pop.Orgs)]
	var convs []Conversation
	for _, assignee := range []int64{mem.ID(), 999_999, 0} {
		for _, inst := range append(slices.Clone(org.Instances), 0) {
			convs = append(convs, Conversation{Org: org.ID, Instance: inst, Assignee: assignee})
		}
		convs = append(convs, Conversation{Org: other.ID, Instance: other.Instances[0], Assignee: assignee})
	}
	return convs
}

func TestHandPicked(t *testing.T) {
	t.Parallel()
	pop := handPicked(t)
	const (
		allow     = teamperm.OutcomeAllow
		forbidden = teamperm.OutcomeForbidden
		notFound  = teamperm.OutcomeNotFound
	)
	none := Conversation{}
	own := func(m string, inst int64) Conversation {
		mem := &pop.Members[handPickedNames[m]]
		return Conversation{Org: pop.Orgs[mem.Org].ID, Instance: inst, Assignee: mem.ID()}
	}
	colleague := func(m string, inst int64) Conversation {
		c := own(m, inst)
		c.Assignee = 999_999
		return c
	}
	unassigned := func(m string, inst int64) Conversation {
		c := own(m, inst)
		c.Assignee = 0
		return c
	}
	tests := []struct {
		name   string
		member string
		p      teamperm.Permission
		conv   Conversation // none: a permission check
		want   teamperm.Outcome
	}{
		{"owner ignores stored deny", "owner", teamperm.ContactExport, none, allow},
		{"owner ignores restrictions", "owner", teamperm.ChatSend, unassigned("owner", 103), allow},
		{"owner: another organisation", "owner", teamperm.ChatView, Conversation{Org: 2, Instance: 201, Assignee: 1}, notFound},
		{"admin on own chat of allowed instance", "admin", teamperm.ChatSend, own("admin", 101), allow},
		{"admin restricted instance", "admin", teamperm.ChatSend, own("admin", 102), notFound},
		{"admin only assigned", "admin", teamperm.ChatSend, colleague("admin", 101), notFound},
		{"admin deny", "admin", teamperm.ContactDelete, none, forbidden},
		{"agent sends on own chat", "agent", teamperm.ChatSend, own("agent", 103), allow},
		{"agent: colleague's chat", "agent", teamperm.ChatSend, colleague("agent", 103), notFound},
		{"agent: unassigned chat", "agent", teamperm.ChatView, unassigned("agent", 103), notFound},
		{"agent cannot assign", "agent", teamperm.ChatAssign, own("agent", 103), forbidden},
		{"brand assigns on its instance", "brand", teamperm.ChatAssign, colleague("brand", 101), allow},
		{"brand: other instance", "brand", teamperm.ChatAssign, colleague("brand", 102), notFound},
		{"brand: chat without instance", "brand", teamperm.ChatView, own("brand", 0), notFound},
		{"brand exports", "brand", teamperm.ContactExport, none, allow},
		{"marketer manages campaigns", "marketer", teamperm.CampaignManage, none, allow},
		{"marketer: no webhook manage", "marketer", teamperm.WebhookManage, none, forbidden},
		{"supervisor cannot send", "supervisor", teamperm.ChatSend, colleague("supervisor", 104), forbidden},
		{"supervisor assigns", "supervisor", teamperm.ChatAssign, unassigned("supervisor", 104), allow},
		{"contractor on own chat", "contractor", teamperm.ChatSend, own("contractor", 102), allow},
		{"contractor: other instance", "contractor", teamperm.ChatSend, own("contractor", 101), notFound},
		{"contractor: unassigned", "contractor", teamperm.ChatView, unassigned("contractor", 102), notFound},
		{"contractor cannot export", "contractor", teamperm.ContactExport, none, forbidden},
		{"empty instance set", "no-instances", teamperm.ChatView, own("no-instances", 101), notFound},
		{"no chat view: chats hidden", "no-chat-view", teamperm.ChatSend, own("no-chat-view", 101), notFound},
		{"no chat view: contacts still", "no-chat-view", teamperm.ContactView, none, allow},
		{"deny wins over grant", "grant-and-deny", teamperm.ContactExport, none, forbidden},
		{"free ignores grant", "free", teamperm.ContactExport, none, forbidden},
		{"free ignores deny", "free", teamperm.ChatSend, colleague("free", 202), allow},
		{"starter ignores empty instance set", "starter", teamperm.ChatSend, own("starter", 0), allow},
	}
	oracle := NewOracle(pop)
	all := engines(t, pop)
	for _, tt := range tests {
		var conv *Conversation
		if tt.conv != none {
			conv = &tt.conv
		}
		r := request(pop, handPickedNames[tt.member], tt.p, conv)
		agree(t, tt.name, append(all, namedEngine{"oracle", oracle}), r, tt.want)
	}
	// Every member, permission and conversation around the member.
	for m := range pop.Members {
		for p := range teamperm.Permissions() {
			r := request(pop, m, p, nil)
			want, _ := oracle.Decide(r)
			agree(t, "exhaustive", all, r, want)
			if (underRace || testing.Short()) && !recordPermissions.Has(p) {
				continue
			}
			for _, c := range conversationsFor(pop, m) {
				r.Record = &c
				want, _ := oracle.Decide(r)
				agree(t, "exhaustive", all, r, want)
			}
		}
	}
}

// recordPermissions are the permissions of the record checks of
// TestHandPicked in -race and -short runs: the chat permissions, and
// permissions some member of handPicked grants or denies.
var recordPermissions = teamperm.PermissionSetOf(teamperm.ChatView, teamperm.ChatSend, teamperm.ChatAssign,
	teamperm.ContactExport, teamperm.ContactDelete, teamperm.CampaignManage)

func TestRandom(t *testing.T) {
	t.Parallel()
	pop := benchPopulation(t)
	n := 4096
	if underRace || testing.Short() {
		n = 1000
	}
	oracle := NewOracle(pop)
	seen := map[teamperm.Outcome]int{}
	records := pop.RandomRequests(n, 7, true)
	for _, r := range records {
		o, _ := oracle.Decide(r)
		seen[o]++
	}
	// The random cases must exercise every outcome, or they prove little.
	for _, o := range []teamperm.Outcome{teamperm.OutcomeAllow, teamperm.OutcomeForbidden, teamperm.OutcomeNotFound} {
		if seen[o] < n/20 {
			t.Errorf("only %d of %d random record checks are %v", seen[o], n, o)
		}
	}
	for _, e := range engines(t, pop) {
		fails := 0
		for _, rs := range [][]Request{pop.RandomRequests(n, 7, false), records} {
			for _, r := range rs {
				want, _ := oracle.Decide(r)
				if got, err := e.Decide(r); err != nil || got != want {
					t.Errorf("%s: %+v: %v, %v; oracle %v", e.name, r, got, err, want)
					if fails++; fails > 10 {
						t.Fatalf("%s: too many disagreements", e.name)
					}
				}
			}
		}
	}
}

// conversationsTable creates the table the row filters are rendered for,
// with every conversation of conversationsFor for each member of pop, and
// returns the rows by id.
func conversationsTable(t testing.TB, db *sql.DB, pop *Population) map[int64]Conversation {
	t.Helper()
	if _, err := db.Exec(conversationsSchema); err != nil {
		t.Fatal(err)
	}
	rows := map[int64]Conversation{}
	for m := range pop.Members {
		for _, c := range conversationsFor(pop, m) {
			id := int64(len(rows) + 1)
			rows[id] = c
			if _, err := db.Exec("INSERT INTO conversations (id, org_id, instance_id, assignee_id) VALUES (?, ?, ?, ?)",
				id, c.Org, nullable(c.Instance), nullable(c.Assignee)); err != nil {
				t.Fatal(err)
			}
		}
	}
	return rows
}

const conversationsSchema = `CREATE TABLE conversations (
	id INTEGER PRIMARY KEY,
	org_id INTEGER NOT NULL,
	instance_id INTEGER,
	assignee_id INTEGER,
	subject TEXT NOT NULL DEFAULT ''
)`

func nullable(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

// conversationsMapping maps the table conversations for teamperm.
var conversationsMapping = teamperm.Mapping{
	Organization: teamperm.IntColumn("org_id"),
	Instance:     teamperm.IntColumn("instance_id"),
	Assignee:     teamperm.IntColumn("assignee_id"),
}

func selectIDs(t testing.TB, db *sql.DB, where string, args ...any) []int64 {
	t.Helper()
	rows, err := db.Query("SELECT id FROM conversations WHERE "+where+" ORDER BY id", args...)
	if err != nil {
		t.Fatalf("%s %v: %v", where, args, err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestRowFilters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	random, err := NewPopulation(4, 40, 8)
	if err != nil {
		t.Fatal(err)
	}
	for name, pop := range map[string]*Population{"hand-picked": handPicked(t), "random": random} {
		t.Run(name, func(t *testing.T) {
			db, err := sql.Open("sqlite3", ":memory:")
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			db.SetMaxOpenConns(1) // one connection: one in-memory database
			rows := conversationsTable(t, db, pop)
			cd, err := NewCedar(pop)
			if err != nil {
				t.Fatal(err)
			}
			op, err := NewOPA(ctx, pop)
			if err != nil {
				t.Fatal(err)
			}
			for m := range pop.Members {
				mem := &pop.Members[m]
				var want []int64
				for id, c := range rows {
					if mem.Compiled.Visible(c.Record()).Allowed() {
						want = append(want, id)
					}
				}
				slices.Sort(want)
				label := fmt.Sprintf("member %v", mem.Settings.Member)

				where, args, err := mem.Compiled.Scope(teamperm.KindConversation).SQL(teamperm.SQLite, conversationsMapping)
				if err != nil {
					t.Fatal(err)
				}
				compareIDs(t, label+": teamperm "+where, want, selectIDs(t, db, where, args...))

				b, args, err := cd.ConversationFilter(m, nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				compareIDs(t, label+": cedar "+string(b), want, selectIDs(t, db, string(b), args...))

				where, ok, err := op.ConversationFilter(ctx, op.MemberInput(m))
				if err != nil {
					t.Fatal(err)
				}
				var got []int64
				if ok {
					got = selectIDs(t, db, where)
				}
				compareIDs(t, label+": opa "+where, want, got)
			}
		})
	}
}

func compareIDs(t *testing.T, label string, want, got []int64) {
	t.Helper()
	if !slices.Equal(want, got) {
		t.Errorf("%s: %d rows, want %d:\n got %s\nwant %s", label, len(got), len(want), short(got), short(want))
	}
}

func short(ids []int64) string {
	s := fmt.Sprint(ids)
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return strings.TrimSpace(s)
}
