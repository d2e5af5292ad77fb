package integration

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/teamperm/teamperm"
)

// TestLargeInstanceSets: members restricted to 1,000 and to 5,000 instances,
// with integer, text and UUID keys, rendered and run in every engine. The
// renderer passes 32 values or more as one array parameter on PostgreSQL
// (= ANY($n::bigint[])) and one JSON parameter on SQLite (IN (SELECT value
// FROM json_each(?))), and as placeholders on MySQL; each form must run and
// select exactly the rows Scope.Match keeps.
func TestLargeInstanceSets(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, db *testDB) {
		for _, key := range keyKinds {
			t.Run(key.String(), func(t *testing.T) {
				testLargeSets(t, db, key)
			})
		}
	})
}

func testLargeSets(t *testing.T, db *testDB, key teamperm.KeyKind) {
	p := keyPools[key]
	org, other := p.orgs[0], p.orgs[1]
	// Rows on every third of 6,000 instances, in both organisations, and
	// rows with NULL instances. Text keys get case variants too:
	// "FILLER-7" is not "filler-7".
	const instances = 6000
	var rows []row
	add := func(org, inst teamperm.ID) {
		rows = append(rows, row{rid: int64(len(rows) + 1), kind: teamperm.KindConversation, org: org, instance: inst})
	}
	for i := 0; i < instances; i += 3 {
		add(org, p.filler(i))
		if i%9 == 0 {
			add(other, p.filler(i))
		}
		if s, ok := p.filler(i).Str(); ok && i%21 == 0 {
			add(org, teamperm.StringID(strings.ToUpper(s)))
		}
	}
	add(org, teamperm.ID{})
	add(teamperm.ID{}, p.filler(1))
	table := db.createRecordTable(t, key, "large")
	db.insertRows(t, table, rows)

	for _, n := range []int{1000, 5000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			// Five of every six instances, so the set is neither a prefix
			// nor contiguous.
			ids := make([]teamperm.ID, n)
			for i := range ids {
				ids[i] = p.filler(i * 6 / 5)
			}
			m := compile(t, org, teamperm.PlanPro, teamperm.Settings{
				Member: p.members[0], Role: teamperm.RoleMember, Instances: teamperm.Only(ids...),
			})
			s := m.Scope(teamperm.KindConversation)
			mapping := recordMapping(s.Kind(), mappingOpts{key: key, qualified: true})
			q, args, err := db.scopeQuery(table, s, mapping)
			if err != nil {
				t.Fatal(err)
			}
			switch db.dialect {
			case teamperm.Postgres:
				if !strings.Contains(q, "= ANY(") {
					t.Errorf("postgres: a set of %d does not render as one array parameter: %.200s", n, q)
				}
			case teamperm.SQLite:
				if !strings.Contains(q, "json_each(") {
					t.Errorf("sqlite: a set of %d does not render as one JSON parameter: %.200s", n, q)
				}
			case teamperm.MySQL:
				if got := strings.Count(q, "?"); got != len(args) || len(args) < n {
					t.Errorf("mysql: %d placeholders, %d bind values for a set of %d", got, len(args), n)
				}
			}
			got := db.queryInts(t, q, args...)
			want := matchRIDs(s, rows)
			if !slices.Equal(got, want) {
				t.Fatalf("%s: %d rows, Match keeps %d (-Match +SQL):\n%s", db.name, len(got), len(want), cmp.Diff(want, got))
			}
			if vis := visibleRIDs(m.Member, s.Kind(), rows); !slices.Equal(vis, want) {
				t.Fatalf("Visible and Match disagree (-Match +Visible):\n%s", cmp.Diff(want, vis))
			}
			visible := 0 // allowed instances with a row: every third
			for i := range n {
				if i*6/5%3 == 0 {
					visible++
				}
			}
			if len(want) != visible {
				t.Fatalf("%d rows visible, want %d", len(want), visible)
			}
		})
	}
}

// TestSQLiteLargeSetNotUTF8 is the regression test of a leak this module
// found: a text key that is not valid UTF-8, in a set of 32 keys or more,
// rendered for SQLite. The renderer passed such a set as one JSON
// parameter, and json.Marshal replaced each invalid byte with U+FFFD, so
// the query hid the row of instance "a\xffb" (which Match shows) and
// showed the row of instance "a\uFFFDb" (which Match hides). Such sets now
// stay placeholders, bound byte for byte. PostgreSQL and MariaDB refuse
// such text outright (an error, so nothing leaks there).
func TestSQLiteLargeSetNotUTF8(t *testing.T) {
	db := openDB(t, engines[0])
	org := teamperm.StringID("o")
	rows := []row{
		{rid: 1, kind: teamperm.KindContact, org: org, instance: teamperm.StringID("a\xffb")},
		{rid: 2, kind: teamperm.KindContact, org: org, instance: teamperm.StringID("a\uFFFDb")},
	}
	table := db.createRecordTable(t, teamperm.KeyString, "utf8")
	db.insertRows(t, table, rows)
	for _, n := range []int{1, 31, 32} {
		allowed := []teamperm.ID{teamperm.StringID("a\xffb")}
		for i := 1; i < n; i++ {
			allowed = append(allowed, teamperm.StringID(fmt.Sprint("other-", i)))
		}
		m := compile(t, org, teamperm.PlanPro, teamperm.Settings{Member: teamperm.StringID("m"), Role: teamperm.RoleMember, Instances: teamperm.Only(allowed...)})
		s := m.Scope(teamperm.KindContact)
		got := db.scopedRIDs(t, table, s, recordMapping(s.Kind(), mappingOpts{key: teamperm.KeyString}))
		if want := matchRIDs(s, rows); !slices.Equal(got, want) {
			t.Errorf("%d allowed instances: SQL returns rows %v, Match keeps %v", n, got, want)
		}
	}
}
