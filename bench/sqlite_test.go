package bench

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/teamperm/teamperm"
)

// The SQLite query benchmark: a million conversations in an embedded
// SQLite database (github.com/ncruces/go-sqlite3, pure Go), built once per
// process in a temporary directory and only when the benchmark runs.
// TestMain removes it.

func TestMain(m *testing.M) {
	code := m.Run()
	if millionDir != "" {
		os.RemoveAll(millionDir)
	}
	os.Exit(code)
}

const (
	millionRows   = 1_000_000
	millionOrgs   = 10
	millionInsts  = 50  // instances per organisation: org*1000 + 0..49
	millionPeople = 100 // assignees: 10000..10099, the last ten never assigned
)

// millionConversation is row i of the database, as the SQL that fills it
// computes it: organisations and instances round-robin, each assignee owns
// blocks of 500 rows, 10% of the rows are unassigned.
func millionConversation(i int64) Conversation {
	org := 1 + i%millionOrgs
	c := Conversation{Org: org, Instance: org*1000 + (i/millionOrgs)%millionInsts}
	if a := (i / 500) % millionPeople; a < 90 {
		c.Assignee = 10_000 + a
	}
	return c
}

const millionFill = `
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 999999)
INSERT INTO conversations (id, org_id, instance_id, assignee_id, subject)
SELECT i + 1,
	1 + i % 10,
	(1 + i % 10) * 1000 + (i / 10) % 50,
	CASE WHEN (i / 500) % 100 < 90 THEN 10000 + (i / 500) % 100 END,
	'conversation ' || i
FROM n`

// The indexes both queries can use.
const millionIndexes = `
CREATE INDEX conversations_org_instance ON conversations (org_id, instance_id);
CREATE INDEX conversations_org_assignee ON conversations (org_id, assignee_id);
ANALYZE;`

var (
	millionOnce sync.Once
	millionDir  string
	millionDB   *sql.DB
	millionErr  error
)

// million returns the database, building it on first use.
func million(b *testing.B) *sql.DB {
	b.Helper()
	millionOnce.Do(func() {
		millionDir, millionErr = os.MkdirTemp("", "teamperm-bench-")
		if millionErr != nil {
			return
		}
		path := filepath.Join(millionDir, "conversations.db")
		db, err := sql.Open("sqlite3", path)
		if err != nil {
			millionErr = err
			return
		}
		for _, stmt := range []string{"PRAGMA journal_mode = OFF", "PRAGMA synchronous = OFF", conversationsSchema, millionFill, millionIndexes} {
			if _, err := db.Exec(stmt); err != nil {
				db.Close()
				millionErr = fmt.Errorf("%.40s...: %w", stmt, err)
				return
			}
		}
		millionDB = db
	})
	if millionErr != nil {
		b.Fatal(millionErr)
	}
	return millionDB
}

// millionMapping maps the query's alias c for teamperm.
var millionMapping = teamperm.Mapping{
	Organization: teamperm.IntColumn("c.org_id"),
	Instance:     teamperm.IntColumn("c.instance_id"),
	Assignee:     teamperm.IntColumn("c.assignee_id"),
}

// BenchmarkSQLite1M runs a member's list query on a million conversations:
// with the WHERE fragment teamperm's Scope renders (the rendering is part
// of each operation), and with the equivalent a developer would write by
// hand, on the same indexes. Three members of organisation 1:
//
//   - assigned-10-instances: only-assigned-chats and ten instances; the
//     first page (50 rows) of about 200, newest first;
//   - count-10-instances: ten instances; the count of 20,000 rows;
//   - count-40-instances: forty instances; the count of 80,000 rows.
//     teamperm passes 32 keys or more as one JSON array parameter
//     (json_each); the hand-written query lists forty placeholders.
func BenchmarkSQLite1M(b *testing.B) {
	org := teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.PlanPro.Features()}
	for _, c := range []struct {
		name      string
		instances int
		assigned  bool
		list      bool   // a page of ids, else a count
		sel, tail string // the query around the WHERE condition
	}{
		{"assigned-10-instances", 10, true, true, "SELECT c.id, c.subject FROM conversations c WHERE ", " ORDER BY c.id DESC LIMIT 50"},
		{"count-10-instances", 10, false, false, "SELECT count(*) FROM conversations c WHERE ", ""},
		{"count-40-instances", 40, false, false, "SELECT count(*) FROM conversations c WHERE ", ""},
	} {
		const me = 10_042
		s := teamperm.Settings{Member: teamperm.IntID(me), Role: teamperm.RoleMember, OnlyAssignedChats: c.assigned}
		var ids []teamperm.ID
		hand := "c.org_id = ? AND c.instance_id IN (" + strings.TrimSuffix(strings.Repeat("?, ", c.instances), ", ") + ")"
		handArgs := []any{int64(1)}
		for i := range c.instances {
			ids = append(ids, teamperm.IntID(int64(1000+i)))
			handArgs = append(handArgs, int64(1000+i))
		}
		if c.assigned {
			hand += " AND c.assignee_id = ?"
			handArgs = append(handArgs, int64(me))
		}
		s.Instances = teamperm.Only(ids...)
		member, err := teamperm.Compile(org, s)
		if err != nil {
			b.Fatal(err)
		}
		scope := member.Scope(teamperm.KindConversation)
		handQuery := c.sel + hand + c.tail

		var checked []string // the result of the first query, for the second
		b.Run(c.name+"/query=teamperm", func(b *testing.B) {
			db := million(b)
			want := millionWant(member, c.list)
			buf, args := make([]byte, 0, 512), make([]any, 0, 64)
			run := func() []string {
				var err error
				buf = append(buf[:0], c.sel...)
				if buf, args, err = scope.AppendSQL(buf, args[:0], teamperm.SQLite, millionMapping); err != nil {
					b.Fatal(err)
				}
				buf = append(buf, c.tail...)
				return queryRows(b, db, string(buf), args...)
			}
			got := run()
			if !slices.Equal(got, want) {
				b.Fatalf("%s: %v, want %v", buf, short2(got), short2(want))
			}
			checked = got
			b.ReportAllocs()
			for b.Loop() {
				run()
			}
		})
		b.Run(c.name+"/query=hand-written", func(b *testing.B) {
			db := million(b)
			got := queryRows(b, db, handQuery, handArgs...)
			if want := millionWant(member, c.list); !slices.Equal(got, want) || checked != nil && !slices.Equal(got, checked) {
				b.Fatalf("%s: %v, want %v", handQuery, short2(got), short2(want))
			}
			b.ReportAllocs()
			for b.Loop() {
				queryRows(b, db, handQuery, handArgs...)
			}
		})
	}
}

// millionWant is what member's query returns, computed in Go from
// millionConversation and member.Visible: the first page of ids (newest
// first) for a list query, or the count.
func millionWant(member *teamperm.Member, list bool) []string {
	var ids []string
	n := 0
	for i := int64(millionRows - 1); i >= 0; i-- {
		if member.Visible(millionConversation(i).Record()).Allowed() {
			n++
			if len(ids) < 50 {
				ids = append(ids, fmt.Sprint(i+1))
			}
		}
	}
	if list {
		return ids
	}
	return []string{fmt.Sprint(n)}
}

// queryRows runs a query and returns the first column of every row.
func queryRows(b *testing.B, db *sql.DB, query string, args ...any) []string {
	rows, err := db.QueryContext(context.Background(), query, args...)
	if err != nil {
		b.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	cols, _ := rows.Columns()
	dest := make([]any, len(cols))
	for i := range dest {
		dest[i] = new(any)
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			b.Fatal(err)
		}
		out = append(out, fmt.Sprint(*dest[0].(*any)))
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	return out
}

func short2(s []string) string {
	if len(s) > 5 {
		return fmt.Sprintf("%v... (%d)", s[:5], len(s))
	}
	return fmt.Sprint(s)
}
