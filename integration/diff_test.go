package integration

import (
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/teamperm/teamperm"
	"pgregory.net/rapid"
)

// This file is the core proof: on random organisations, members and tables
// of records, in every engine, the rows a scope's rendered SQL selects are
// the rows Scope.Match keeps, the rows Member.Visible allows, and the rows
// the reference model allows.

// keyPool holds the IDs of one key kind that worlds are drawn from. The
// pools are small so that IDs collide: a record's assignee is often the
// member, its instance often an allowed one, and two organisations share
// member, instance and record IDs.
type keyPool struct {
	orgs      []teamperm.ID // at least three: two organisations and "another"
	members   []teamperm.ID // never the empty string (Compile rejects it)
	instances []teamperm.ID
	pipelines []teamperm.ID
	filler    func(i int) teamperm.ID // many more distinct IDs, for large sets
}

func strIDs(ss ...string) []teamperm.ID {
	out := make([]teamperm.ID, len(ss))
	for i, s := range ss {
		out[i] = teamperm.StringID(s)
	}
	return out
}

func intIDs(ns ...int64) []teamperm.ID {
	out := make([]teamperm.ID, len(ns))
	for i, n := range ns {
		out[i] = teamperm.IntID(n)
	}
	return out
}

func uuidN(n int) teamperm.ID {
	return mustUUID(fmt.Sprintf("6ba7b810-9dad-41d1-80b4-%012x", n))
}

var keyPools = map[teamperm.KeyKind]keyPool{
	teamperm.KeyInt: {
		orgs:      intIDs(100, 101, 7, 0),
		members:   intIDs(1, 2, 3, 42, -1, 9223372036854775807),
		instances: intIDs(10, 11, 12, 0, 1, -9223372036854775808),
		pipelines: intIDs(20, 21, 1),
		filler:    func(i int) teamperm.ID { return teamperm.IntID(int64(1_000_000 + i)) },
	},
	teamperm.KeyString: {
		// "acme" and "ACME" are one organisation to a case-insensitive
		// collation, "acme " one more to a PAD SPACE one.
		orgs: strIDs("acme", "ACME", "acme ", "Acme"),
		members: strIDs("1", "ab", "AB", "aB", "ab ", "ü", "u", "it's", `back\slash`, `say "hi"`,
			"ß", "ss"),
		instances: strIDs("10", "it's", "IT'S", "ünï", "uni", "UNI", `\`, `"`, `\"`, "", " ", "NULL",
			"a,b", "{x}", "😀", "ß", "s", "ss", "e\u0301", "é", "ab", "AB"),
		pipelines: strIDs("sales", "Sales", "SALES", "sales ", "ß", "ss", "NULL", ""),
		filler:    func(i int) teamperm.ID { return teamperm.StringID(fmt.Sprintf("filler-%d", i)) },
	},
	teamperm.KeyUUID: {
		orgs:      []teamperm.ID{uuidN(0x100), uuidN(0x101), uuidN(0x7), mustUUID("6BA7B810-9DAD-41D1-80B4-0000000000FF")},
		members:   []teamperm.ID{uuidN(1), uuidN(2), uuidN(3), uuidN(0xab)},
		instances: []teamperm.ID{uuidN(0x10), uuidN(0x11), uuidN(0x12), uuidN(0xAB0)},
		pipelines: []teamperm.ID{uuidN(0x20), uuidN(0x21)},
		filler:    func(i int) teamperm.ID { return uuidN(0x1_000_000 + i) },
	},
}

var keyKinds = []teamperm.KeyKind{teamperm.KeyInt, teamperm.KeyString, teamperm.KeyUUID}

// A world is what one check puts into a database: two organisations with
// three members each, and a table of records of every kind.
type world struct {
	key     teamperm.KeyKind
	opts    mappingOpts
	members []member
	rows    []row
}

// genPermissionSet draws a sparse set: each permission with probability
// 1/n.
func genPermissionSet(t *rapid.T, n int, label string) teamperm.PermissionSet {
	var s teamperm.PermissionSet
	for p := range teamperm.Permissions() {
		if rapid.IntRange(1, n).Draw(t, label+p.String()) == 1 {
			s = s.With(p)
		}
	}
	return s
}

// genAccess draws all, or a specific set (empty now and then), now and then
// with 40 more IDs so that the renderer's large-set forms run too.
func genAccess(t *rapid.T, ids []teamperm.ID, filler func(int) teamperm.ID, label string) teamperm.Access {
	if rapid.IntRange(0, 2).Draw(t, label+"All") == 0 {
		return teamperm.Access{}
	}
	set := rapid.SliceOfNDistinct(rapid.SampledFrom(ids), 0, len(ids), func(id teamperm.ID) teamperm.ID { return id }).Draw(t, label)
	for i := range rapid.SampledFrom([]int{0, 0, 0, 40}).Draw(t, label+"Filler") {
		set = append(set, filler(i))
	}
	return teamperm.Only(set...)
}

// roles and plans are weighted to where the most rules apply: Members on
// Pro.
var (
	roles = []teamperm.Role{teamperm.RoleOwner, teamperm.RoleAdmin, teamperm.RoleMember, teamperm.RoleMember}
	plans = []teamperm.Plan{teamperm.PlanFree, teamperm.PlanStarter, teamperm.PlanPro, teamperm.PlanPro, teamperm.PlanPro, teamperm.PlanPro}
)

func genSettings(t *rapid.T, p keyPool, label string) teamperm.Settings {
	return teamperm.Settings{
		Member:            rapid.SampledFrom(p.members).Draw(t, label+"ID"),
		Role:              rapid.SampledFrom(roles).Draw(t, label+"Role"),
		Revision:          1,
		Grants:            genPermissionSet(t, 4, label+"Grant"),
		Denies:            genPermissionSet(t, 8, label+"Deny"),
		Instances:         genAccess(t, p.instances, p.filler, label+"Instances"),
		OnlyAssignedChats: rapid.IntRange(0, 2).Draw(t, label+"OnlyAssigned") > 0,
		OnlyCreatedDeals:  rapid.IntRange(0, 2).Draw(t, label+"OnlyCreated") > 0,
		Pipelines:         genAccess(t, p.pipelines, p.filler, label+"Pipelines"),
	}
}

// nearID draws NULL, one of near (the members' own IDs), or any of pool.
func nearID(t *rapid.T, pool, near []teamperm.ID, label string) teamperm.ID {
	switch rapid.IntRange(0, 3).Draw(t, label+"From") {
	case 0:
		return teamperm.ID{}
	case 1:
		if len(near) > 0 {
			return rapid.SampledFrom(near).Draw(t, label+"Near")
		}
	}
	return rapid.SampledFrom(pool).Draw(t, label)
}

func genWorld(t *rapid.T) world {
	key := rapid.SampledFrom(keyKinds).Draw(t, "key")
	return genWorldOf(t, key, keyPools[key])
}

// genWorldOf draws a world whose keys are of kind key, from pool p.
func genWorldOf(t *rapid.T, key teamperm.KeyKind, p keyPool) world {
	w := world{key: key, opts: mappingOpts{
		key:       key,
		qualified: rapid.Bool().Draw(t, "qualified"),
		minimal:   rapid.Bool().Draw(t, "minimal"),
		ckInt:     rapid.Bool().Draw(t, "ckInt"),
	}}
	orgs := rapid.SliceOfNDistinct(rapid.SampledFrom(p.orgs), 3, 3, func(id teamperm.ID) teamperm.ID { return id }).Draw(t, "orgs")
	// IntID(0) is no organisation to compile a member for (R17), but rows
	// may carry it: keep it as the third, memberless organisation.
	for i := range orgs[:2] {
		if orgs[i] == teamperm.IntID(0) {
			orgs[i], orgs[2] = orgs[2], orgs[i]
		}
	}
	var ids, instances, pipelines []teamperm.ID
	for i, org := range orgs[:2] {
		plan := rapid.SampledFrom(plans).Draw(t, fmt.Sprintf("plan%d", i))
		for j := range 3 {
			s := genSettings(t, p, fmt.Sprintf("m%d%d", i, j))
			w.members = append(w.members, compile(t, org, plan, s))
			ids = append(ids, s.Member)
			instances = append(instances, s.Instances.IDs...)
			pipelines = append(pipelines, s.Pipelines.IDs...)
		}
	}
	for _, k := range allKinds() {
		n := rapid.IntRange(0, 16).Draw(t, "rows")
		for i := range n {
			rid := int64(len(w.rows) + 1)
			if i > 0 && rapid.IntRange(0, 4).Draw(t, "dup") == 0 {
				// A duplicate row: the same record stored twice.
				r := w.rows[len(w.rows)-rapid.IntRange(1, i).Draw(t, "dupOf")]
				r.rid = rid
				w.rows = append(w.rows, r)
				continue
			}
			r := row{rid: rid, kind: k}
			switch rapid.IntRange(0, 9).Draw(t, "rowOrg") {
			case 0:
				// NULL: no organisation.
			case 1:
				r.org = orgs[2] // another organisation
			case 2, 3, 4:
				r.org = orgs[1]
			default:
				r.org = orgs[0]
			}
			r.id = rapid.SampledFrom(p.instances).Draw(t, "id")
			r.instance = nearID(t, p.instances, instances, "instance")
			r.assignee = nearID(t, p.members, ids, "assignee")
			r.creator = nearID(t, p.members, ids, "creator")
			r.ck = rapid.SampledFrom(creatorKinds).Draw(t, "creatorKind")
			r.pipeline = nearID(t, p.pipelines, pipelines, "pipeline")
			w.rows = append(w.rows, r)
		}
	}
	return w
}

// agree checks one member's scope of kind k over rows, loaded into table
// in db: the SQL, Scope.Match, Member.Visible and the reference model must
// select the same row IDs. It returns them, with the query's bind values.
func agree(t fataler, db *testDB, table string, rows []row, opts mappingOpts, m member, k teamperm.Kind) ([]int64, []any) {
	t.Helper()
	s := m.Scope(k)
	mapping := recordMapping(k, opts)
	q, args, err := db.scopeQuery(table, s, mapping)
	if err != nil {
		t.Fatalf("%s: render %v: %v\nmember: %v\nmapping: %+v", db.name, s, err, m, mapping)
	}
	got, err := queryInts(db.DB, q, args...)
	if err != nil {
		t.Fatalf("%s: %s %v: %v", db.name, q, args, err)
	}
	ro, rm := m.ref()
	answers := []struct {
		name string
		rids []int64
	}{
		{"Scope.Match", matchRIDs(s, rows)},
		{"Member.Visible", visibleRIDs(m.Member, k, rows)},
		{"reference refVisible", refRIDs(ro, rm, k, rows)},
	}
	for _, a := range answers {
		if !slices.Equal(got, a.rids) {
			t.Fatalf("%s: SQL and %s disagree on %v (-%s +SQL): %s\nrows in one only:%s\nmember: %v\nscope: %v\nquery: %s\nargs: %q",
				db.name, a.name, k, a.name, cmp.Diff(a.rids, got), describeRows(rows, a.rids, got), m, s, q, args)
		}
	}
	if s.IsNone() && len(got) > 0 {
		t.Fatalf("%s: scope %v is none but SQL returned %v", db.name, s, got)
	}
	return got, args
}

// diffStats counts what the comparisons exercised, so that a run that
// passes for want of interesting cases shows in the test log.
type diffStats struct {
	comparisons int // member x kind comparisons
	rows        int // rows the SQL returned, in all
	restricted  int // scopes with conditions beyond the organisation
	narrowed    int // ... that returned some but not all of the organisation's rows
	largeSets   int // queries with a set of 32 values or more
}

func (st *diffStats) count(s teamperm.Scope, got []int64, rows []row) {
	st.comparisons++
	st.rows += len(got)
	if !s.IsAll() && !s.IsNone() {
		st.restricted++
		org := 0
		for _, r := range rows {
			if r.kind == s.Kind() && r.org == s.Organization() {
				org++
			}
		}
		if len(got) > 0 && len(got) < org {
			st.narrowed++
		}
	}
	if largestSet(s.Filter()) >= 32 {
		st.largeSets++
	}
}

// largestSet is the size of the largest In of f.
func largestSet(f teamperm.Filter) int {
	n := 0
	switch f := f.(type) {
	case teamperm.And:
		for _, g := range f {
			n = max(n, largestSet(g))
		}
	case teamperm.Or:
		for _, g := range f {
			n = max(n, largestSet(g))
		}
	case teamperm.In:
		n = len(f.Values)
	}
	return n
}

// TestSQLAgreesWithMatchVisibleAndReference is the differential test. Each
// check draws a world (a key type for the whole table; two organisations,
// each on its own plan, with three members each; up to sixteen rows of
// each of the eight kinds, with NULLs, duplicates, case and unicode
// variants, quotes and backslashes, rows of no and of another
// organisation, unknown creator kinds), loads it into the engine with bind
// parameters, and compares the 6 x 8 member x kind scopes: 4,800
// comparisons per engine with rapid's default 100 checks.
func TestSQLAgreesWithMatchVisibleAndReference(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, db *testDB) {
		tables := map[teamperm.KeyKind]string{}
		for _, k := range keyKinds {
			tables[k] = db.createRecordTable(t, k, "diff_"+k.String())
		}
		var st diffStats
		rapid.Check(t, func(rt *rapid.T) {
			w := genWorld(rt)
			table := tables[w.key]
			load(rt, db, table, w.rows)
			for _, m := range w.members {
				for _, k := range allKinds() {
					got, _ := agree(rt, db, table, w.rows, w.opts, m, k)
					st.count(m.Scope(k), got, w.rows)
				}
			}
		})
		t.Logf("%s: %d comparisons, %d rows returned, %d restricted scopes (%d returned part of their organisation's rows), %d with a large set",
			db.name, st.comparisons, st.rows, st.restricted, st.narrowed, st.largeSets)
	})
}

// load replaces the rows of table with rows, in one transaction.
func load(t fataler, db *testDB, table string, rows []row) {
	t.Helper()
	tx, err := db.Begin()
	if err != nil {
		t.Fatalf("%s: begin: %v", db.name, err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec("DELETE FROM " + table); err != nil {
		t.Fatalf("%s: delete: %v", db.name, err)
	}
	vals := make([][]any, len(rows))
	for i, r := range rows {
		vals[i] = r.values()
	}
	if len(vals) > 0 {
		if err := db.insertTx(tx, table, recordCols, vals); err != nil {
			t.Fatalf("%s: %v", db.name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("%s: commit: %v", db.name, err)
	}
}
