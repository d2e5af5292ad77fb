package recipes

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"testing"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/teamperm/teamperm"
	"github.com/teamperm/teamperm/recipes/ent/conversation"
)

// visible returns the IDs of the rows m may see, archived or not.
func visible(m *teamperm.Member, rs []row) []int64 {
	var ids []int64
	for _, r := range rs {
		if m.Visible(r.record()).Allowed() {
			ids = append(ids, r.id)
		}
	}
	return ids
}

// TestEntPlaceholders runs EntScope between predicates that bind values
// before and after it, inside ent's own And and Or: on PostgreSQL its
// placeholders must continue ent's numbering ($1 is the host's), or the
// query fails or binds the wrong values. ListEnt's own query binds
// nothing before the scope (ent writes NOT "archived"), so it alone would
// not tell.
func TestEntPlaceholders(t *testing.T) {
	rs := rows()
	ctx := context.Background()
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			db := e.open(t)
			createTable(t, db, rs)
			client := openEnt(e, db)
			for name, m := range members(t) {
				scope := m.Scope(teamperm.KindConversation)
				got, err := entIDs(client.Conversation.Query().
					Where(
						conversation.IDGTE(1),
						conversation.Or(conversation.SubjectHasPrefix("conversation "), conversation.IDLT(0)),
						conversation.And(conversation.IDGT(-1), EntScope(scope, e.dialect)),
						conversation.IDLTE(int64(len(rs))),
					).
					All(ctx))
				if err != nil {
					t.Errorf("%s: %v", name, err)
					continue
				}
				if !slices.Equal(ids(got), visible(m, rs)) {
					t.Errorf("%s: ent returned %v, Visible allows %v", name, ids(got), visible(m, rs))
				}
			}
		})
	}
}

// TestEntAlias applies EntScope to a selector whose table has an alias,
// as ent's sqlgraph writes it for an edge predicate between two rows of
// one table ("conversations" AS "conversations_edge"): the mapping must
// name the alias, which s.C gives and s.TableName() does not.
func TestEntAlias(t *testing.T) {
	rs := rows()
	ctx := context.Background()
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			db := e.open(t)
			createTable(t, db, rs)
			for name, m := range members(t) {
				b := entsql.Dialect(e.ent)
				edge := b.Table("conversations").As("conversations_edge")
				s := b.Select(edge.C("id")).From(edge)
				s.Where(entsql.GTE(edge.C("id"), 1))
				EntScope(m.Scope(teamperm.KindConversation), e.dialect)(s)
				s.Where(entsql.LTE(edge.C("id"), len(rs)))
				query, args := s.Query()
				if err := s.Err(); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				got, err := queryIDs(ctx, db, query, args)
				if err != nil {
					t.Errorf("%s: %s: %v", name, query, err)
					continue
				}
				if !slices.Equal(got, visible(m, rs)) {
					t.Errorf("%s: %s returned %v, Visible allows %v", name, query, got, visible(m, rs))
				}
			}
		})
	}
}

// queryIDs returns the sorted IDs query returns.
func queryIDs(ctx context.Context, db *sql.DB, query string, args []any) ([]int64, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	slices.Sort(out)
	return out, rows.Err()
}

// TestEntHardCodedAlias is the known failure EntScope avoids: a mapping
// naming the alias of a hand-written query ("c.org_id") in an ent
// predicate, where the table is "conversations". The query fails (on
// PostgreSQL: missing FROM-clause entry for table "c", SQLSTATE 42P01);
// it never returns rows.
func TestEntHardCodedAlias(t *testing.T) {
	ctx := context.Background()
	m := members(t)["support agent"]
	scope := m.Scope(teamperm.KindConversation)
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			db := e.open(t)
			createTable(t, db, rows())
			got, err := openEnt(e, db).Conversation.Query().
				Where(func(s *entsql.Selector) {
					s.Where(entsql.P(func(b *entsql.Builder) {
						where, args, err := scope.AppendSQL(nil, make([]any, b.Total()), e.dialect, conversations)
						if err != nil {
							b.AddError(err)
							return
						}
						b.Join(entsql.Expr(string(where), args[b.Total():]...))
					}))
				}).
				All(ctx)
			if err == nil || got != nil {
				t.Fatalf("a mapping of c.org_id in ent: %d rows, error %v; want an error", len(got), err)
			}
			var pgErr *pgconn.PgError
			if e.name == "postgres" && (!errors.As(err, &pgErr) || pgErr.Code != "42P01") {
				t.Errorf("got %v, want SQLSTATE 42P01 (undefined_table)", err)
			}
		})
	}
}

// TestRecipeErrors checks that gorm and ent fail closed on a rendering
// error (here an invalid dialect): an error and no rows, never the query
// without the scope. gorm's error wraps teamperm's sentinel; ent's
// Builder.Err flattens the errors of a statement into one string, so
// through ent only the message says it.
func TestRecipeErrors(t *testing.T) {
	ctx := context.Background()
	e := engines[0]
	db := e.open(t)
	createTable(t, db, rows())
	for name, m := range members(t) {
		if m.Scope(teamperm.KindConversation).IsNone() {
			continue
		}
		got, err := ListGorm(ctx, openGorm(t, e, db), teamperm.Dialect(0), m)
		if !errors.Is(err, teamperm.ErrInvalidMapping) || got != nil {
			t.Errorf("%s: ListGorm with an invalid dialect: %d rows, error %v; want ErrInvalidMapping", name, len(got), err)
		}
		entGot, err := ListEnt(ctx, openEnt(e, db), teamperm.Dialect(0), m)
		if err == nil || entGot != nil {
			t.Errorf("%s: ListEnt with an invalid dialect: %d rows, error %v; want an error", name, len(entGot), err)
		}
	}
}
