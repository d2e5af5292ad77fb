package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/teamperm/teamperm"
	"pgregory.net/rapid"
)

// This file proves R19's SQL form: records on several instances through a
// link table (contact_instances(contact_id, instance_id), here
// <table>_links(rid, instance_id)), rendered as an EXISTS subquery, agree
// with Scope.Match, Member.Visible and the reference model.

// createLinkTable creates a link table (rec_id, instance_id) whose
// columns hold keys of kind key: one row per (record, instance) pair, NULL
// instances and duplicate pairs allowed, as a host's table without
// constraints may have them.
func (db *testDB) createLinkTable(t testing.TB, key teamperm.KeyKind) string {
	t.Helper()
	name := db.newTable(t, "links")
	db.exec(t,
		fmt.Sprintf(`CREATE TABLE %s (rec_id %s NOT NULL, instance_id %s)`, name, db.keyType(key), db.keyType(key)),
		fmt.Sprintf(`CREATE INDEX %s_ri ON %s (rec_id, instance_id)`, name, name))
	return name
}

// A linkRow is one row of a link table: a record's key and an instance
// (the zero ID is NULL).
type linkRow struct{ rec, instance teamperm.ID }

// loadLinks replaces the link table's rows.
func loadLinks(t fataler, db *testDB, table string, links []linkRow) {
	t.Helper()
	if _, err := db.Exec("DELETE FROM " + table); err != nil {
		t.Fatalf("%s: delete: %v", db.name, err)
	}
	var vals [][]any
	for _, l := range links {
		vals = append(vals, []any{bind(l.rec), bind(l.instance)})
	}
	if len(vals) == 0 {
		return
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatalf("%s: begin: %v", db.name, err)
	}
	defer tx.Rollback()
	if err := db.insertTx(tx, table, []string{"rec_id", "instance_id"}, vals); err != nil {
		t.Fatalf("%s: %v", db.name, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("%s: commit: %v", db.name, err)
	}
}

// linkMapping is recordMapping with the link table; without the Instance
// column when linkOnly (every record's instances are in the link table).
func linkMapping(k teamperm.Kind, o mappingOpts, links string, linkOnly bool) teamperm.Mapping {
	m := recordMapping(k, o)
	m.Instances = teamperm.InstanceLink{
		Table:    links,
		Record:   column(o.key, "rec_id"),
		Instance: column(o.key, "instance_id"),
		Key:      column(o.key, "t.id"),
	}
	if linkOnly {
		m.Instance = teamperm.Column{}
	}
	return m
}

// TestInstanceLinkAgrees is the differential test of R19: worlds as in
// TestSQLAgreesWithMatchVisibleAndReference, whose records also belong to
// further instances (NULLs, duplicates, hidden and allowed ones) through a
// link table keyed by the record's own key column, with and without the
// Instance column mapped. A record's further instances are those of the
// link rows whose key is byte for byte the record's: the keys collide
// across organisations and come in case and space variants ("ab", "AB",
// "ab "), which a case-insensitive collation must not join (R18).
func TestInstanceLinkAgrees(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, db *testDB) {
		tables, links := map[teamperm.KeyKind]string{}, map[teamperm.KeyKind]string{}
		for _, k := range keyKinds {
			tables[k] = db.createRecordTable(t, k, "link_"+k.String())
			links[k] = db.createLinkTable(t, k)
		}
		var comparisons, multi, onlyViaLink int
		rapid.Check(t, func(rt *rapid.T) {
			w := genWorld(rt)
			linkOnly := rapid.Bool().Draw(rt, "linkOnly")
			pool := keyPools[w.key]
			var allowed []teamperm.ID
			for _, m := range w.members {
				allowed = append(allowed, m.settings.Instances.IDs...)
			}
			var linkRows []linkRow
			for _, r := range w.rows {
				for j := range rapid.IntRange(0, 3).Draw(rt, "links") {
					rec := r.id
					if rapid.IntRange(0, 3).Draw(rt, fmt.Sprintf("otherKey%d", j)) == 0 {
						rec = rapid.SampledFrom(pool.instances).Draw(rt, fmt.Sprintf("key%d", j)) // often a variant of r.id
					}
					linkRows = append(linkRows, linkRow{rec, nearID(rt, pool.instances, allowed, fmt.Sprintf("instance%d", j))})
				}
			}
			for i := range w.rows {
				if linkOnly {
					w.rows[i].instance = teamperm.ID{}
				}
				w.rows[i].more = nil
				for _, l := range linkRows {
					if l.rec == w.rows[i].id {
						w.rows[i].more = append(w.rows[i].more, l.instance)
					}
				}
				if len(w.rows[i].more) > 1 {
					multi++
				}
			}
			load(rt, db, tables[w.key], w.rows)
			loadLinks(rt, db, links[w.key], linkRows)
			for _, m := range w.members {
				for _, k := range allKinds() {
					s := m.Scope(k)
					mapping := linkMapping(k, w.opts, links[w.key], linkOnly)
					q, args, err := db.scopeQuery(tables[w.key], s, mapping)
					if err != nil {
						rt.Fatalf("%s: render %v: %v", db.name, s, err)
					}
					got, err := queryInts(db.DB, q, args...)
					if err != nil {
						rt.Fatalf("%s: %s %v: %v", db.name, q, args, err)
					}
					ro, rm := m.ref()
					for _, a := range []struct {
						name string
						rids []int64
					}{
						{"Scope.Match", matchRIDs(s, w.rows)},
						{"Member.Visible", visibleRIDs(m.Member, k, w.rows)},
						{"reference refVisible", refRIDs(ro, rm, k, w.rows)},
					} {
						if fmt.Sprint(a.rids) != fmt.Sprint(got) {
							rt.Fatalf("%s: SQL and %s disagree on %v: %v, SQL %v\nrows in one only:%s\nmember: %v\nquery: %s\nargs: %q",
								db.name, a.name, k, a.rids, got, describeRows(w.rows, a.rids, got), m, q, args)
						}
					}
					comparisons++
					for _, r := range w.rows {
						full, rec := r.record(), r.record()
						rec.Instances = teamperm.IDSet{}
						if r.kind == k && s.Match(&full) && !s.Match(&rec) {
							onlyViaLink++
						}
					}
				}
			}
		})
		t.Logf("%s: %d comparisons, %d records on several instances, %d rows visible only through the link table", db.name, comparisons, multi, onlyViaLink)
		if onlyViaLink == 0 {
			t.Error("no row was visible only through the link table: the test proves nothing")
		}
	})
}

// TestExplainInstanceLink: an instance restriction over a link table is
// served by indexes on the record table (by organisation) and on the link
// table (by record, or by instance), never by a full scan of either, with
// and without the Instance column mapped, for one and for forty instances.
func TestExplainInstanceLink(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, db *testDB) {
		for _, key := range keyKinds {
			t.Run(key.String(), func(t *testing.T) {
				table := explainTable(t, db, key)
				// The record's key is indexed, as a host's primary key is.
				db.exec(t, fmt.Sprintf("CREATE UNIQUE INDEX %s_id ON %s (id)", table, table))
				links := db.newTable(t, "explain_links")
				db.exec(t, fmt.Sprintf(`CREATE TABLE %s (rec_id %s NOT NULL, instance_id %s)`, links, db.keyType(key), db.keyType(key)))
				var vals [][]any
				for rid := 1; rid <= explainRows[db.dialect]; rid++ {
					org := (rid * 7) % explainOrgs
					for j := range 1 + rid%2 {
						inst := 1000 + org*explainInstances/explainOrgs + (rid*13+j*101)%(explainInstances/explainOrgs)
						vals = append(vals, []any{bind(keyID(key, explainKeyBase+rid)), bind(keyID(key, inst))})
					}
				}
				db.insert(t, links, []string{"rec_id", "instance_id"}, vals)
				db.exec(t,
					fmt.Sprintf("CREATE UNIQUE INDEX %s_ri ON %s (rec_id, instance_id)", links, links),
					fmt.Sprintf("CREATE INDEX %s_ir ON %s (instance_id, rec_id)", links, links))
				switch db.dialect {
				case teamperm.Postgres:
					db.exec(t, "ANALYZE "+links)
				case teamperm.MySQL:
					db.exec(t, "ANALYZE TABLE "+links)
				default:
					db.exec(t, "ANALYZE")
				}
				for _, tc := range explainCases(key)[:3] { // the instance restrictions
					for _, linkOnly := range []bool{false, true} {
						m := compile(t, keyID(key, 3), teamperm.PlanPro, tc.s)
						s := m.Scope(tc.kind)
						mapping := linkMapping(tc.kind, mappingOpts{key: key, qualified: true}, links, linkOnly)
						q, args, err := s.AppendSQL([]byte("SELECT t.rid FROM "+table+" t WHERE "), nil, db.dialect, mapping)
						if err != nil {
							t.Fatal(err)
						}
						p := explain(t, db, string(q), args)
						t.Logf("%s %s, %s, link only %v:\n\tquery: %s\n\tplan: %s", db.name, key, tc.name, linkOnly, shorten(string(q)), p)
						for _, a := range p.accesses {
							// The bound set itself (SQLite's json_each) and a
							// materialised semi-join result (MariaDB's
							// <subqueryN>) are read whole, as they should be.
							if a.table == "json_each" || strings.HasPrefix(a.table, "<subquery") {
								continue
							}
							// MariaDB cannot semi-join through an OR: with the
							// Instance column mapped too, it reads the record
							// table by organisation, which on this table (four
							// organisations) it prefers to do in full. Logged.
							// For forty instances (530 of 20,000 link rows), its
							// cost model prefers one scan of the record table to
							// 530 lookups by key, a choice, not an inability: it
							// takes the key index for one and three. Logged.
							if db.dialect == teamperm.MySQL && a.table == "t" && (!linkOnly || strings.Contains(tc.name, "forty")) {
								continue
							}
							if a.full || a.index == "" {
								t.Errorf("%s %s, %s, link only %v: %s read in full:\n\tquery: %s\n\tplan: %s\n%s", db.name, key, tc.name, linkOnly, a.table, shorten(string(q)), p, p.raw)
							}
						}
					}
				}
			})
		}
	})
}

// TestInstanceLinkCaseVariants: record keys that differ only in case or
// trailing space are different records, with different link rows, under
// every engine's case-insensitive declarations too (R18). This is the
// case MariaDB's subquery cache got wrong for a correlated EXISTS: it
// answered "IT'S" with the answer it had cached for "it's".
func TestInstanceLinkCaseVariants(t *testing.T) {
	t.Parallel()
	decls := map[teamperm.Dialect][]string{
		teamperm.SQLite:   {"TEXT", "TEXT COLLATE NOCASE", "TEXT COLLATE RTRIM"},
		teamperm.Postgres: {"text", "citext", "text COLLATE " + pgCICollation},
		teamperm.MySQL:    {"VARCHAR(100)", "VARCHAR(100) COLLATE utf8mb4_bin"},
	}
	forEachEngine(t, func(t *testing.T, db *testDB) {
		if db.dialect == teamperm.Postgres {
			pgSetup(t, db)
		}
		for _, decl := range decls[db.dialect] {
			t.Run(decl, func(t *testing.T) {
				recs := db.createDeclTable(t, decl, "variants")
				links := db.newTable(t, "variant_links")
				db.exec(t, fmt.Sprintf(`CREATE TABLE %s (rec_id %s NOT NULL, instance_id %s)`, links, decl, decl))
				org, allowed := teamperm.StringID("acme"), teamperm.StringID("brand")
				var rows []row
				for i, id := range []string{"it's", "IT'S", "ab", "AB", "ab ", "10"} {
					rows = append(rows, row{rid: int64(i + 1), kind: teamperm.KindContact, id: teamperm.StringID(id), org: org})
				}
				var linkRows []linkRow
				for _, p := range [][2]string{{"IT'S", "BRAND"}, {"IT'S", "x"}, {"it's", "brand"}, {"AB", "brand"}, {"ab", "brand "}, {"ab ", "Brand"}, {"10", "brand"}} {
					linkRows = append(linkRows, linkRow{teamperm.StringID(p[0]), teamperm.StringID(p[1])})
				}
				for i := range rows {
					for _, l := range linkRows {
						if l.rec == rows[i].id {
							rows[i].more = append(rows[i].more, l.instance)
						}
					}
				}
				db.insertRows(t, recs, rows)
				loadLinks(t, db, links, linkRows)
				m := compile(t, org, teamperm.PlanPro, teamperm.Settings{Member: teamperm.StringID("1"), Role: teamperm.RoleMember, Instances: teamperm.Only(allowed)})
				want := visibleRIDs(m.Member, teamperm.KindContact, rows)
				if fmt.Sprint(want) != "[1 4 6]" {
					t.Fatalf("Visible: %v, want [1 4 6]", want)
				}
				for _, linkOnly := range []bool{true, false} {
					mp := linkMapping(teamperm.KindContact, mappingOpts{key: teamperm.KeyString, qualified: true}, links, linkOnly)
					if got := db.scopedRIDs(t, recs, m.Scope(teamperm.KindContact), mp); fmt.Sprint(got) != fmt.Sprint(want) {
						q, _, _ := db.scopeQuery(recs, m.Scope(teamperm.KindContact), mp)
						t.Errorf("link only %v: SQL %v, want %v\n%s", linkOnly, got, want, q)
					}
				}
			})
		}
	})
}

// TestCheckScopeWithInstanceLink: CheckScope reads a record's instances
// from the link table too, and agrees with the scoped query on random
// worlds; a link table that does not exist is an error, not a pass.
func TestCheckScopeWithInstanceLink(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, db *testDB) {
		for _, key := range keyKinds {
			t.Run(key.String(), func(t *testing.T) {
				table, links := db.createRecordTable(t, key, "check_link"), db.createLinkTable(t, key)
				rapid.Check(t, func(rt *rapid.T) {
					w := genWorldOf(rt, key, keyPools[key])
					var linkRows []linkRow
					for _, r := range w.rows {
						for j := range rapid.IntRange(0, 2).Draw(rt, "links") {
							linkRows = append(linkRows, linkRow{r.id, nearID(rt, keyPools[key].instances, nil, fmt.Sprintf("instance%d", j))})
						}
					}
					load(rt, db, table, w.rows)
					loadLinks(rt, db, links, linkRows)
					for _, m := range w.members[:2] { // CheckScope reads the whole table: a sample
						for _, k := range []teamperm.Kind{teamperm.KindContact} {
							mapping := linkMapping(k, w.opts, links, false)
							if err := teamperm.CheckScope(ctx, db.DB, db.dialect, table+" t", mapping, m.Member, k); err != nil {
								rt.Fatalf("%s: CheckScope: %v", db.name, err)
							}
						}
					}
				})
				m := compile(t, keyPools[key].orgs[0], teamperm.PlanPro, teamperm.Settings{Member: keyPools[key].members[0], Role: teamperm.RoleMember, Instances: teamperm.Only(keyPools[key].instances[0])})
				err := teamperm.CheckScope(ctx, db.DB, db.dialect, table+" t", linkMapping(teamperm.KindContact, mappingOpts{key: key}, links+"_missing", false), m.Member, teamperm.KindContact)
				if err == nil {
					t.Error("CheckScope with a missing link table passed")
				}
			})
		}
	})
}

// TestCheckScopeLinkNullKeys: a record with a NULL key has no link rows,
// even where the link table has rows with a NULL record column (NULL
// equals nothing, also in CheckScope's own reading of the link table).
func TestCheckScopeLinkNullKeys(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, db *testDB) {
		key := teamperm.KeyInt
		table := db.createRecordTable(t, key, "link_null")
		links := db.newTable(t, "link_null_links")
		db.exec(t, fmt.Sprintf(`CREATE TABLE %s (rec_id %s, instance_id %s)`, links, db.keyType(key), db.keyType(key)))
		org := teamperm.IntID(1)
		db.insertRows(t, table, []row{
			{rid: 1, kind: teamperm.KindContact, org: org},                        // NULL key
			{rid: 2, kind: teamperm.KindContact, org: org, id: teamperm.IntID(5)}, // on instance 10 through the link
		})
		db.insert(t, links, []string{"rec_id", "instance_id"}, [][]any{{nil, int64(10)}, {int64(5), int64(10)}, {int64(5), nil}})
		m := compile(t, org, teamperm.PlanPro, teamperm.Settings{Member: teamperm.IntID(42), Role: teamperm.RoleMember, Instances: teamperm.Only(teamperm.IntID(10))})
		mapping := linkMapping(teamperm.KindContact, mappingOpts{key: key, qualified: true}, links, true)
		if err := teamperm.CheckScope(context.Background(), db.DB, db.dialect, table+" t", mapping, m.Member, teamperm.KindContact); err != nil {
			t.Error(err)
		}
		if got := db.scopedRIDs(t, table, m.Scope(teamperm.KindContact), mapping); fmt.Sprint(got) != "[2]" {
			t.Errorf("scoped rows %v, want [2]", got)
		}
	})
}
