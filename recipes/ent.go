package recipes

import (
	"context"
	"strings"

	"entgo.io/ent/dialect/sql"

	"github.com/teamperm/teamperm"
	"github.com/teamperm/teamperm/recipes/ent"
	"github.com/teamperm/teamperm/recipes/ent/conversation"
	"github.com/teamperm/teamperm/recipes/ent/predicate"
)

// ListEnt lists with ent's generated client (the schema is in
// ent/schema). The scope is an ent predicate, [EntScope], combined with
// the host's own as ent combines any two.
func ListEnt(ctx context.Context, client *ent.Client, dialect teamperm.Dialect, agent *teamperm.Member) ([]*ent.Conversation, error) {
	scope := agent.Scope(teamperm.KindConversation)
	if scope.IsNone() {
		return nil, nil
	}
	return client.Conversation.Query().
		Where(conversation.Archived(false), EntScope(scope, dialect)).
		All(ctx)
}

// EntScope returns scope as an ent predicate on conversations. ent
// builds the statement when it runs the query, so the mapping is built
// there too, from the selector: s.C qualifies a column by the name the
// query gives the table ("conversations", or an alias such as
// "conversations_edge" in an edge predicate), never by a hard-coded
// alias. The fragment's placeholders continue after the b.Total()
// arguments ent has written before it. A rendering error becomes the
// query's error. The predicate renders afresh each time ent writes a
// statement, so it may be reused, and used concurrently.
func EntScope(scope teamperm.Scope, dialect teamperm.Dialect) predicate.Conversation {
	return func(s *sql.Selector) {
		m := teamperm.Mapping{
			Organization: teamperm.IntColumn(entColumn(s, conversation.FieldOrgID)),
			Instance:     teamperm.IntColumn(entColumn(s, conversation.FieldInstanceID)),
			Assignee:     teamperm.IntColumn(entColumn(s, conversation.FieldAssigneeID)),
		}
		s.Where(sql.P(func(b *sql.Builder) {
			where, args, err := scope.AppendSQL(nil, make([]any, b.Total()), dialect, m)
			if err != nil {
				b.AddError(err)
				return
			}
			b.Join(sql.Expr(string(where), args[b.Total():]...))
		}))
	}
}

// entColumn returns s.C(column), such as "conversations"."org_id",
// without ent's quotes: teamperm validates the name and quotes it
// again. A name with a quote inside keeps it, and teamperm refuses it.
func entColumn(s *sql.Selector, column string) string {
	parts := strings.Split(s.C(column), ".")
	for i, p := range parts {
		if len(p) >= 2 && (p[0] == '"' || p[0] == '`') && p[len(p)-1] == p[0] {
			parts[i] = p[1 : len(p)-1]
		}
	}
	return strings.Join(parts, ".")
}
