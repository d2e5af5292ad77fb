package main

import (
	"context"
	"strings"
	"testing"

	"github.com/teamperm/teamperm"
)

// TestScopedQueriesUseIndexes asks SQLite's planner how it runs every
// member's list and count queries: each table must be searched through an
// index (the org_id-first indexes of the schema), never scanned whole.
func TestScopedQueriesUseIndexes(t *testing.T) {
	s := newStore(t, "sqlite")
	ctx := context.Background()
	for _, m := range team {
		a, err := s.Account(ctx, m.id)
		if err != nil {
			t.Fatal(err)
		}
		member, err := a.Compile()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []teamperm.Kind{teamperm.KindContact, teamperm.KindConversation, teamperm.KindMessage, teamperm.KindDeal} {
			scopes := []teamperm.Scope{member.Scope(k)}
			var and func(*query)
			if k == teamperm.KindMessage {
				and = func(q *query) { q.sql("m.conversation_id = ").arg(int64(1)) }
			}
			list, err := s.listQuery(k, scopes, and)
			if err != nil {
				t.Fatal(err)
			}
			count, err := s.countQuery(k, scopes)
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range []*query{list, count} {
				for _, step := range queryPlan(t, s, q) {
					if !strings.HasPrefix(step, "SEARCH ") && !strings.HasPrefix(step, "USE TEMP B-TREE FOR ORDER BY") {
						t.Errorf("%s, %s: %s\n  plan step %q does not search an index", a.Name, k, q, step)
					}
				}
			}
		}
	}
}

// queryPlan returns the detail column of SQLite's EXPLAIN QUERY PLAN.
func queryPlan(t *testing.T, s *SQLStore, q *query) []string {
	t.Helper()
	rows, err := s.DB().Query("EXPLAIN QUERY PLAN "+q.String(), q.args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var steps []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		steps = append(steps, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return steps
}
