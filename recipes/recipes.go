// Package recipes is the README's data-layer recipes as code that runs:
// one function per data layer (database/sql, pgx, sqlx, squirrel, gorm,
// ent) lists the conversations a member may see, rendering the member's
// [teamperm.Scope] into the layer's query. The tests run each against
// SQLite (modernc.org/sqlite, always; gorm through libtnb/sqlite, its
// gorm driver) and PostgreSQL (when TEAMPERM_POSTGRES_URL is set) and
// check that the rows returned are exactly those
// [teamperm.Member.Visible] allows.
//
// The README's snippets are copies of parts of this package's files,
// kept identical by the root module's TestREADMESnippets: change both
// together.
package recipes

import (
	"context"
	"database/sql"

	sq "github.com/Masterminds/squirrel"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jmoiron/sqlx"

	"github.com/teamperm/teamperm"
)

// A Conversation is a row of the host's conversations table.
type Conversation struct {
	ID      int64  `db:"id"`
	Subject string `db:"subject"`
}

// conversations maps the fields of a conversation record to the columns
// of the host's list query, "FROM conversations c".
var conversations = teamperm.Mapping{
	Organization: teamperm.IntColumn("c.org_id"),
	Instance:     teamperm.IntColumn("c.instance_id"),
	Assignee:     teamperm.IntColumn("c.assignee_id"),
}

// ListSQL lists with database/sql, with any driver (pgx's stdlib, SQLite,
// MySQL): dialect is teamperm.Postgres, teamperm.SQLite or teamperm.MySQL.
func ListSQL(ctx context.Context, db *sql.DB, dialect teamperm.Dialect, agent *teamperm.Member) ([]Conversation, error) {
	scope := agent.Scope(teamperm.KindConversation)
	if scope.IsNone() {
		return nil, nil // the member may see no conversation: skip the query
	}
	query := []byte("SELECT c.id, c.subject FROM conversations c WHERE c.archived = $1 AND ")
	query, args, err := scope.AppendSQL(query, []any{false}, dialect, conversations)
	if err != nil {
		return nil, err
	}
	// SELECT ... WHERE c.archived = $1 AND ("c"."org_id" = $2 AND "c"."assignee_id" = $3)
	rows, err := db.QueryContext(ctx, string(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Conversation
	for rows.Next() {
		var c Conversation
		if err := rows.Scan(&c.ID, &c.Subject); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ListPgx lists with pgx's native interface, through a pgxpool.Pool.
func ListPgx(ctx context.Context, pool *pgxpool.Pool, agent *teamperm.Member) ([]Conversation, error) {
	scope := agent.Scope(teamperm.KindConversation)
	if scope.IsNone() {
		return nil, nil
	}
	query := []byte("SELECT c.id, c.subject FROM conversations c WHERE NOT c.archived AND ")
	query, args, err := scope.AppendSQL(query, nil, teamperm.Postgres, conversations)
	if err != nil {
		return nil, err
	}
	rows, err := pool.Query(ctx, string(query), args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByName[Conversation])
}

// ListSqlx lists with sqlx, scanning into structs.
func ListSqlx(ctx context.Context, db *sqlx.DB, dialect teamperm.Dialect, agent *teamperm.Member) ([]Conversation, error) {
	scope := agent.Scope(teamperm.KindConversation)
	if scope.IsNone() {
		return nil, nil
	}
	query := []byte("SELECT c.id, c.subject FROM conversations c WHERE c.archived = $1 AND ")
	query, args, err := scope.AppendSQL(query, []any{false}, dialect, conversations)
	if err != nil {
		return nil, err
	}
	var out []Conversation
	err = db.SelectContext(ctx, &out, string(query), args...)
	return out, err
}

// ListSquirrel lists with squirrel, which numbers placeholders itself: the
// scope is rendered with ? placeholders and handed over as an expression.
func ListSquirrel(ctx context.Context, db *sql.DB, dialect teamperm.Dialect, agent *teamperm.Member) ([]Conversation, error) {
	scope := agent.Scope(teamperm.KindConversation)
	if scope.IsNone() {
		return nil, nil
	}
	where, args, err := scope.SQL(dialect.QuestionMarks(), conversations)
	if err != nil {
		return nil, err
	}
	q := sq.Select("c.id", "c.subject").From("conversations c").
		Where(sq.Eq{"c.archived": false}).
		Where(sq.Expr(where, args...)).
		PlaceholderFormat(sq.Dollar)
	rows, err := q.RunWith(db).QueryContext(ctx)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Conversation
	for rows.Next() {
		var c Conversation
		if err := rows.Scan(&c.ID, &c.Subject); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
