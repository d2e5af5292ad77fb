package teamperm_test

import (
	"fmt"
	"log"
	"slices"

	"github.com/teamperm/teamperm"
)

// A support agent's conversations: the scope, as a filter, as SQL for each
// dialect, and matched in memory.
func ExampleMember_Scope() {
	org := teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.PlanPro.Features()}
	agent, err := teamperm.Compile(org, teamperm.Settings{
		Member:            teamperm.IntID(42),
		Role:              teamperm.RoleMember,
		Instances:         teamperm.Only(teamperm.IntID(7)),
		OnlyAssignedChats: true,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(agent.Scope(teamperm.KindConversation))
	fmt.Println(agent.Scope(teamperm.KindWorkflow))
	fmt.Println(agent.Scope(teamperm.KindDeal).IsAll())
	fmt.Println(agent.Scope(teamperm.KindInstance).Filter())
	// Output:
	// conversation where organization = 1 and instance in (7) and assignee = 42
	// workflow where organization = 1
	// true
	// instance in (7)
}

func ExampleScope_AppendSQL() {
	org := teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.PlanPro.Features()}
	agent, err := teamperm.Compile(org, teamperm.Settings{
		Member:            teamperm.IntID(42),
		Role:              teamperm.RoleMember,
		Instances:         teamperm.Only(teamperm.IntID(7), teamperm.IntID(9)),
		OnlyAssignedChats: true,
	})
	if err != nil {
		log.Fatal(err)
	}

	// Where the fields of a conversation live in the host's query.
	conversations := teamperm.Mapping{
		Organization: teamperm.IntColumn("c.org_id"),
		Instance:     teamperm.IntColumn("c.instance_id"),
		Assignee:     teamperm.IntColumn("c.assignee_id"),
	}

	// The host's own query and argument come first; the fragment's
	// placeholders continue after them.
	query := []byte("SELECT c.id FROM conversations c WHERE c.archived = $1 AND ")
	args := []any{false}
	query, args, err = agent.Scope(teamperm.KindConversation).AppendSQL(query, args, teamperm.Postgres, conversations)
	if err != nil {
		log.Fatal(err) // a mapping that lacks a needed column: never a dropped condition
	}
	fmt.Println(string(query))
	fmt.Println(args)

	// The same scope for SQLite and MySQL.
	for _, d := range []teamperm.Dialect{teamperm.SQLite, teamperm.MySQL} {
		where, args, _ := agent.Scope(teamperm.KindConversation).SQL(d, conversations)
		fmt.Println(where, args)
	}
	// Output:
	// SELECT c.id FROM conversations c WHERE c.archived = $1 AND ("c"."org_id" = $2 AND "c"."instance_id" IN ($3, $4) AND "c"."assignee_id" = $5)
	// [false 1 7 9 42]
	// ("c"."org_id" = ? AND "c"."instance_id" IN (?, ?) AND "c"."assignee_id" = ?) [1 7 9 42]
	// (`c`.`org_id` = ? AND `c`.`instance_id` IN (?, ?) AND `c`.`assignee_id` = ?) [1 7 9 42]
}

func ExampleScope_Match() {
	org := teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.PlanPro.Features()}
	rep, err := teamperm.Compile(org, teamperm.Settings{
		Member:           teamperm.IntID(42),
		Role:             teamperm.RoleMember,
		OnlyCreatedDeals: true,
	})
	if err != nil {
		log.Fatal(err)
	}
	deals := []teamperm.Record{
		{Kind: teamperm.KindDeal, Organization: org.ID, CreatorKind: teamperm.CreatorMember, Creator: teamperm.IntID(42)},
		{Kind: teamperm.KindDeal, Organization: org.ID, CreatorKind: teamperm.CreatorMember, Creator: teamperm.IntID(43)},
		{Kind: teamperm.KindDeal, Organization: org.ID, CreatorKind: teamperm.CreatorAutomation, Assignee: teamperm.IntID(42)},
		{Kind: teamperm.KindDeal, Organization: org.ID}, // legacy: no creator tracking
		{Kind: teamperm.KindDeal, Organization: teamperm.IntID(2)},
	}
	scope := rep.Scope(teamperm.KindDeal)
	for _, d := range deals {
		fmt.Println(scope.Match(&d), rep.Visible(d).Reason())
	}
	fmt.Println(len(slices.Collect(scope.FilterSeq(slices.Values(deals)))))
	// Output:
	// true role_default
	// false not_creator
	// true role_default
	// true role_default
	// false other_organization
	// 3
}

// A renderer of its own walks the filter tree with a type switch, the way
// a slog.Handler walks attributes. Here: a tiny search-query syntax.
func ExampleFilter() {
	var render func(f teamperm.Filter) string
	render = func(f teamperm.Filter) string {
		switch f := f.(type) {
		case teamperm.Const:
			return fmt.Sprint(bool(f))
		case teamperm.And:
			s := ""
			for i, g := range f {
				if i > 0 {
					s += " AND "
				}
				s += "(" + render(g) + ")"
			}
			return s
		case teamperm.Or:
			s := ""
			for i, g := range f {
				if i > 0 {
					s += " OR "
				}
				s += "(" + render(g) + ")"
			}
			return s
		case teamperm.Eq:
			return f.Field.String() + ":" + f.Value.String()
		case teamperm.In:
			return f.Field.String() + ":" + fmt.Sprint(f.Values)
		case teamperm.CreatorKindIs:
			return "creator_kind:" + f.Kind.String()
		}
		panic(fmt.Sprintf("unknown filter %T", f)) // fail closed: never skip a node
	}
	org := teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.PlanPro.Features()}
	m, _ := teamperm.Compile(org, teamperm.Settings{Member: teamperm.IntID(42), Role: teamperm.RoleMember, OnlyAssignedChats: true})
	fmt.Println(render(m.Scope(teamperm.KindMessage).Tree()))
	// Output:
	// (organization:1) AND (assignee:42)
}

// Who may see a new message, to push it live only to them.
func ExampleAudience() {
	org := teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.PlanPro.Features()}
	var team []*teamperm.Member
	for _, s := range []teamperm.Settings{
		{Member: teamperm.IntID(1), Role: teamperm.RoleOwner},
		teamperm.SupportAgent(teamperm.IntID(42), teamperm.Access{}),                           // only assigned chats
		teamperm.SupportAgent(teamperm.IntID(43), teamperm.Access{}),                           // only assigned chats
		teamperm.MultiBrandManager(teamperm.IntID(44), teamperm.RoleMember, teamperm.IntID(8)), // Bloom only
	} {
		m, err := teamperm.Compile(org, s)
		if err != nil {
			fmt.Println(err)
			return
		}
		team = append(team, m)
	}
	audience, err := teamperm.NewAudience(team...)
	if err != nil {
		fmt.Println(err)
		return
	}
	message := teamperm.Record{Kind: teamperm.KindMessage, Organization: org.ID, Instance: teamperm.IntID(7), Assignee: teamperm.IntID(42)}
	for _, d := range audience.Append(nil, teamperm.ChatView, message) {
		fmt.Println(d.Member(), d.Reason())
	}
	// Output:
	// 1 owner
	// 42 role_default
}
