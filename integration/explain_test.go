package integration

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/teamperm/teamperm"
)

// This file checks that the typical scopes are served by an index on the
// mapped columns, not by a full scan, in every engine: on a table of 4
// organisations with 400 instances each, indexed on (org_id, instance_id),
// (org_id, assignee_id) and (org_id, pipeline_id), analyzed, and with the
// planners left to choose on their own (no enable_seqscan = off, no index
// hints). PostgreSQL's and MariaDB's cost-based planners get 20,000 rows,
// so that a full scan is a real option they turn down; SQLite's planner
// gets 2,000 (it is slow to fill under the race detector, and its choice
// of an index does not depend on the table's size).

// explainRows is the size of the table per engine.
var explainRows = map[teamperm.Dialect]int{teamperm.Postgres: 20_000, teamperm.MySQL: 20_000, teamperm.SQLite: 2_000}

const (
	explainKeyBase   = 100_000 // records' own keys: explainKeyBase + rid
	explainOrgs      = 4
	explainInstances = 1600 // 400 per organisation
	explainMembers   = 500
	explainPipelines = 50
)

// explainTable creates and fills the table, with keys of kind key, and
// analyzes it.
func explainTable(t *testing.T, db *testDB, key teamperm.KeyKind) string {
	t.Helper()
	return explainTableDecl(t, db, key, "")
}

// explainTableDecl is explainTable with ID columns declared decl (the
// engine's default type for key when "").
func explainTableDecl(t *testing.T, db *testDB, key teamperm.KeyKind, decl string) string {
	t.Helper()
	var table string
	if decl == "" {
		table = db.createRecordTable(t, key, "explain")
	} else {
		table = db.createDeclTable(t, decl, "explain")
	}
	r := rand.New(rand.NewPCG(1, 2))
	rows := make([]row, explainRows[db.dialect])
	for i := range rows {
		org := r.IntN(explainOrgs)
		rows[i] = row{
			rid:      int64(i + 1),
			id:       keyID(key, explainKeyBase+i+1), // the record's own key, for link tables
			kind:     teamperm.KindDeal,
			org:      keyID(key, 1+org),
			instance: keyID(key, 1000+org*explainInstances/explainOrgs+r.IntN(explainInstances/explainOrgs)),
			assignee: keyID(key, 5000+r.IntN(explainMembers)),
			creator:  keyID(key, 5000+r.IntN(explainMembers)),
			ck:       creatorKinds[r.IntN(3)],
			pipeline: keyID(key, 9000+r.IntN(explainPipelines)),
		}
		if r.IntN(10) == 0 {
			rows[i].assignee = teamperm.ID{}
		}
	}
	db.insertRows(t, table, rows)
	for _, idx := range []string{"org_id, instance_id", "org_id, assignee_id", "org_id, pipeline_id"} {
		name := table + "_" + strings.ReplaceAll(strings.ReplaceAll(idx, ", ", "_"), "_id", "")
		db.exec(t, fmt.Sprintf("CREATE INDEX %s ON %s (%s)", name, table, idx))
	}
	switch db.dialect {
	case teamperm.Postgres:
		db.exec(t, "ANALYZE "+table)
	case teamperm.MySQL:
		db.exec(t, "ANALYZE TABLE "+table)
	default:
		db.exec(t, "ANALYZE")
	}
	return table
}

// An explainCase is a typical scope, and the index that should serve it.
type explainCase struct {
	name  string
	s     teamperm.Settings
	kind  teamperm.Kind
	index string // the index that should serve it
	col   string // ... searched by this column, not only by the organisation
}

// explainCases are the typical scopes of a member of organisation 3.
func explainCases(key teamperm.KeyKind) []explainCase {
	id := func(n int) teamperm.ID { return keyID(key, n) }
	org := 3 - 1
	inst := func(i int) teamperm.ID { return id(1000 + org*explainInstances/explainOrgs + i) }
	var many []teamperm.ID
	for i := range 40 {
		many = append(many, inst(i*9)) // 40 of the organisation's 400 instances
	}
	me := id(5007)
	return []explainCase{
		{"instance restriction, one", teamperm.Settings{Member: me, Role: teamperm.RoleMember, Instances: teamperm.Only(inst(1))}, teamperm.KindConversation, "org_instance", "instance_id"},
		{"instance restriction, three", teamperm.Settings{Member: me, Role: teamperm.RoleMember, Instances: teamperm.Only(inst(1), inst(4), inst(9))}, teamperm.KindConversation, "org_instance", "instance_id"},
		{"instance restriction, forty", teamperm.Settings{Member: me, Role: teamperm.RoleMember, Instances: teamperm.Only(many...)}, teamperm.KindConversation, "org_instance", "instance_id"},
		{"only assigned chats", teamperm.Settings{Member: me, Role: teamperm.RoleMember, OnlyAssignedChats: true}, teamperm.KindConversation, "org_assignee", "assignee_id"},
		{"only created deals in two pipelines", teamperm.Settings{Member: me, Role: teamperm.RoleMember, OnlyCreatedDeals: true, Pipelines: teamperm.Only(id(9003), id(9011))}, teamperm.KindDeal, "org_pipeline", "pipeline_id"},
	}
}

// TestExplainUsesIndexes: every typical scope's query is planned with an
// index on the mapped columns.
func TestExplainUsesIndexes(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, db *testDB) {
		for _, key := range keyKinds {
			t.Run(key.String(), func(t *testing.T) {
				table := explainTable(t, db, key)
				for _, tc := range explainCases(key) {
					m := compile(t, keyID(key, 3), teamperm.PlanPro, tc.s)
					s := m.Scope(tc.kind)
					mapping := recordMapping(tc.kind, mappingOpts{key: key, qualified: true})
					q, args, err := s.AppendSQL([]byte("SELECT t.rid FROM "+table+" t WHERE "), nil, db.dialect, mapping)
					if err != nil {
						t.Fatal(err)
					}
					p := explain(t, db, string(q), args)
					t.Logf("%s %s, %s:\n\tquery: %s\n\tplan: %s", db.name, key, tc.name, shorten(string(q)), p)
					if !p.usesIndex(table+"_"+tc.index, tc.col) {
						t.Errorf("%s %s, %s: not served by %s_%s on %s:\n\tquery: %s\n\tplan: %s\n%s", db.name, key, tc.name, table, tc.index, tc.col, shorten(string(q)), p, p.raw)
					}
				}
			})
		}
	})
}

func shorten(q string) string {
	if len(q) > 400 {
		return q[:400] + "..."
	}
	return q
}

// A plan is what an engine's EXPLAIN says, reduced to what the tests
// check: for each table access, the index it uses ("" for none) and its
// access type.
type plan struct {
	accesses []access
	raw      string
}

type access struct {
	table, index, how string
	cond              string // what the index is searched by: a condition or key parts
	full              bool   // every row or every index entry is read
}

func (p plan) String() string {
	var b strings.Builder
	for i, a := range p.accesses {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: %s", a.table, a.how)
		if a.index != "" {
			fmt.Fprintf(&b, " using %s on %s", a.index, a.cond)
		}
	}
	return b.String()
}

// usesIndex reports whether the record table (alias t) is read through
// index, searched by column (not only by the organisation, the index's
// first column), and never in full.
func (p plan) usesIndex(index, column string) bool {
	used := false
	for _, a := range p.accesses {
		if a.table != "t" {
			continue
		}
		if a.index == "" || a.full {
			return false
		}
		if a.index == index && strings.Contains(a.cond, column) {
			used = true
		}
	}
	return used
}

func explain(t *testing.T, db *testDB, q string, args []any) plan {
	t.Helper()
	switch db.dialect {
	case teamperm.SQLite:
		return explainSQLite(t, db, q, args)
	case teamperm.Postgres:
		return explainPostgres(t, db, q, args)
	}
	return explainMySQL(t, db, q, args)
}

// explainSQLite reads EXPLAIN QUERY PLAN: "SEARCH t USING INDEX name
// (org_id=? AND instance_id=?)" or "SCAN t" (a full scan).
func explainSQLite(t *testing.T, db *testDB, q string, args []any) plan {
	rows, err := db.Query("EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatalf("explain %s: %v", q, err)
	}
	defer rows.Close()
	var p plan
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		p.raw += detail + "\n"
		f := strings.Fields(detail)
		if len(f) < 2 || (f[0] != "SEARCH" && f[0] != "SCAN") {
			continue
		}
		a := access{table: f[1], how: f[0], full: f[0] == "SCAN"}
		for i := 2; i+2 < len(f); i++ {
			if f[i] == "USING" && (f[i+1] == "INDEX" || f[i+1] == "COVERING") {
				a.index = f[i+2]
				if f[i+1] == "COVERING" && i+3 < len(f) {
					a.index = f[i+3]
				}
				break
			}
		}
		if _, cond, ok := strings.Cut(detail, "("); ok {
			a.cond = "(" + cond
		}
		p.accesses = append(p.accesses, a)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return p
}

// pgNode is a node of PostgreSQL's EXPLAIN (FORMAT JSON).
type pgNode struct {
	NodeType  string   `json:"Node Type"`
	Alias     string   `json:"Alias"`
	IndexName string   `json:"Index Name"`
	IndexCond string   `json:"Index Cond"`
	Plans     []pgNode `json:"Plans"`
}

// bitmapScans lists the Bitmap Index Scans under n.
func (n pgNode) bitmapScans() []pgNode {
	var out []pgNode
	if n.NodeType == "Bitmap Index Scan" {
		out = append(out, n)
	}
	for _, c := range n.Plans {
		out = append(out, c.bitmapScans()...)
	}
	return out
}

// explainPostgres reads EXPLAIN (FORMAT JSON): the node type and index of
// every node that reads a relation. A Bitmap Heap Scan reads it through
// the Bitmap Index Scans below it.
func explainPostgres(t *testing.T, db *testDB, q string, args []any) plan {
	var out string
	if err := db.QueryRow("EXPLAIN (FORMAT JSON) "+q, args...).Scan(&out); err != nil {
		t.Fatalf("explain %s: %v", q, err)
	}
	var doc []struct {
		Plan pgNode `json:"Plan"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc) != 1 {
		t.Fatalf("explain: %v: %s", err, out)
	}
	p := plan{raw: out}
	var walk func(n pgNode)
	walk = func(n pgNode) {
		switch n.NodeType {
		case "Seq Scan", "Index Scan", "Index Only Scan":
			p.accesses = append(p.accesses, access{table: n.Alias, index: n.IndexName, how: n.NodeType, cond: n.IndexCond,
				full: n.NodeType == "Seq Scan" || n.IndexCond == ""})
		case "Bitmap Heap Scan":
			for _, b := range n.bitmapScans() {
				p.accesses = append(p.accesses, access{table: n.Alias, index: b.IndexName, how: "Bitmap Heap Scan, Bitmap Index Scan", cond: b.IndexCond})
			}
			return
		}
		for _, c := range n.Plans {
			walk(c)
		}
	}
	walk(doc[0].Plan)
	return p
}

// explainMySQL reads EXPLAIN FORMAT=JSON of MariaDB (and MySQL): per
// table, the access type, the key used (none for a full scan) and the key
// parts it is searched by.
func explainMySQL(t *testing.T, db *testDB, q string, args []any) plan {
	var out string
	if err := db.QueryRow("EXPLAIN FORMAT=JSON "+q, args...).Scan(&out); err != nil {
		t.Fatalf("explain %s: %v", q, err)
	}
	var doc any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("explain: %v: %s", err, out)
	}
	p := plan{raw: out}
	// Tables sit at various depths (nested loops, subqueries): find every
	// object with a table_name.
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if name, ok := v["table_name"].(string); ok {
				key, _ := v["key"].(string)
				parts := fmt.Sprint(v["used_key_parts"])
				typ := fmt.Sprint(v["access_type"])
				p.accesses = append(p.accesses, access{
					table: name, index: key, cond: parts,
					how:  fmt.Sprintf("%s, key_length %v, rows %v", typ, v["key_length"], v["rows"]),
					full: typ == "ALL" || typ == "index",
				})
			}
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(doc)
	return p
}

// TestExplainMySQLByteExactForms compares, on MariaDB or MySQL with the
// server's default (case-insensitive, PAD SPACE) collation, the form the
// renderer writes for text keys with the alternatives a host might try:
// whether each is byte-exact (selects "k1801" but not "K1801" or
// "k1801 ", and organisation "k3" but not "K3") and whether the index on
// (org_id, instance_id) serves both columns. Only the renderer's own form
// is asserted; the others are logged, as findings.
func TestExplainMySQLByteExactForms(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, db *testDB) {
		if db.dialect != teamperm.MySQL {
			t.Skipf("%s compares text byte for byte already", db.name)
		}
		key := teamperm.KeyString
		table := explainTable(t, db, key)
		org, inst := teamperm.StringID("k3"), teamperm.StringID("k1801")
		variants := []row{
			{rid: 100_001, kind: teamperm.KindDeal, org: org, instance: inst},
			{rid: 100_002, kind: teamperm.KindDeal, org: org, instance: teamperm.StringID("K1801")},
			{rid: 100_003, kind: teamperm.KindDeal, org: org, instance: teamperm.StringID("k1801 ")},
			{rid: 100_004, kind: teamperm.KindDeal, org: teamperm.StringID("K3"), instance: inst},
			{rid: 100_005, kind: teamperm.KindDeal, org: teamperm.StringID("k3 "), instance: inst},
		}
		db.insertRows(t, table, variants)
		db.exec(t, "ANALYZE TABLE "+table)

		// The renderer's form, as a member restricted to one and to three
		// instances gets it.
		m1 := compile(t, org, teamperm.PlanPro, teamperm.Settings{Member: keyID(key, 5007), Role: teamperm.RoleMember, Instances: teamperm.Only(inst)})
		m3 := compile(t, org, teamperm.PlanPro, teamperm.Settings{Member: keyID(key, 5007), Role: teamperm.RoleMember,
			Instances: teamperm.Only(inst, teamperm.StringID("k1804"), teamperm.StringID("k1809"))})
		mapping := recordMapping(teamperm.KindContact, mappingOpts{key: key})
		render := func(m member) (string, []any) {
			q, args, err := m.Scope(teamperm.KindContact).SQL(db.dialect, mapping)
			if err != nil {
				t.Fatal(err)
			}
			return q, args
		}
		q1, a1 := render(m1)
		q3, a3 := render(m3)
		three := []any{"k1801", "k1804", "k1809"}
		forms := []struct {
			name     string
			where    string
			args     []any
			renderer bool
		}{
			{"renderer, one value", q1, a1, true},
			{"renderer, three values", q3, a3, true},
			{"col = ? AND col = BINARY ?", "org_id = ? AND org_id = BINARY ? AND instance_id = ? AND instance_id = BINARY ?", []any{"k3", "k3", "k1801", "k1801"}, false},
			{"col = BINARY ?", "org_id = BINARY ? AND instance_id = BINARY ?", []any{"k3", "k1801"}, false},
			{"CAST(col AS BINARY) = ?", "CAST(org_id AS BINARY) = ? AND CAST(instance_id AS BINARY) = ?", []any{"k3", "k1801"}, false},
			{"col COLLATE utf8mb4_bin = ?", "org_id COLLATE utf8mb4_bin = ? AND instance_id COLLATE utf8mb4_bin = ?", []any{"k3", "k1801"}, false},
			{"col = ? AND col COLLATE utf8mb4_bin = ?", "org_id = ? AND org_id COLLATE utf8mb4_bin = ? AND instance_id = ? AND instance_id COLLATE utf8mb4_bin = ?", []any{"k3", "k3", "k1801", "k1801"}, false},
			{"col IN (...) AND col IN (BINARY ?, ...)", "org_id = ? AND org_id = BINARY ? AND instance_id IN (?, ?, ?) AND instance_id IN (BINARY ?, BINARY ?, BINARY ?)", append(append([]any{"k3", "k3"}, three...), three...), false},
			{"col COLLATE utf8mb4_bin IN (...)", "org_id COLLATE utf8mb4_bin = ? AND instance_id COLLATE utf8mb4_bin IN (?, ?, ?)", append([]any{"k3"}, three...), false},
		}
		for _, f := range forms {
			q := "SELECT t.rid FROM " + table + " t WHERE " + f.where
			got, err := queryInts(db.DB, q+" AND t.rid > 100000", f.args...)
			if err != nil {
				t.Logf("%s: %v", f.name, err)
				continue
			}
			exact := slices.Equal(got, []int64{100_001})
			p := explain(t, db, q, f.args)
			served := p.usesIndex(table+"_org_instance", "instance_id")
			t.Logf("%s: byte-exact: %v (variant rows selected: %v); index serves both columns: %v\n\twhere: %s\n\tplan: %s", f.name, exact, got, served, shorten(f.where), p)
			if f.renderer {
				if !exact {
					t.Errorf("%s is not byte-exact: rows %v, want [100001]", f.name, got)
				}
				if !served {
					t.Errorf("%s: the index on (org_id, instance_id) does not serve both columns: %s\n%s", f.name, p, p.raw)
				}
			}
		}
	})
}

// TestExplainNonDefaultCollations: the byte-exact forms keep the plain
// equality first, so an index on a column of a case-insensitive type or
// collation still serves text keys: PostgreSQL's citext and a
// nondeterministic ICU collation, MySQL's utf8mb4_bin. SQLite's COLLATE
// BINARY cannot use an index built under NOCASE: that plan is logged, not
// asserted (the default BINARY columns are asserted by
// TestExplainUsesIndexes).
func TestExplainNonDefaultCollations(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, db *testDB) {
		decls := map[teamperm.Dialect][]string{
			teamperm.Postgres: {"citext", "text COLLATE " + pgCICollation},
			teamperm.MySQL:    {"VARCHAR(64) COLLATE utf8mb4_bin"},
			teamperm.SQLite:   {"TEXT COLLATE NOCASE"},
		}[db.dialect]
		if db.dialect == teamperm.Postgres {
			pgSetup(t, db)
		}
		key := teamperm.KeyString
		for _, decl := range decls {
			table := explainTableDecl(t, db, key, decl)
			for _, tc := range explainCases(key)[:3] {
				m := compile(t, keyID(key, 3), teamperm.PlanPro, tc.s)
				s := m.Scope(tc.kind)
				mapping := recordMapping(tc.kind, mappingOpts{key: key, qualified: true})
				q, args, err := s.AppendSQL([]byte("SELECT t.rid FROM "+table+" t WHERE "), nil, db.dialect, mapping)
				if err != nil {
					t.Fatal(err)
				}
				p := explain(t, db, string(q), args)
				served := p.usesIndex(table+"_"+tc.index, tc.col)
				t.Logf("%s %s, %s: served by the index: %v\n\tquery: %s\n\tplan: %s", db.name, decl, tc.name, served, shorten(string(q)), p)
				if !served && db.dialect != teamperm.SQLite {
					t.Errorf("%s %s, %s: not served by %s_%s on %s:\n\tplan: %s\n%s", db.name, decl, tc.name, table, tc.index, tc.col, p, p.raw)
				}
			}
		}
	})
}
