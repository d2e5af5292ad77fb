package integration

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/teamperm/teamperm"
	"pgregory.net/rapid"
)

// FuzzRenderPrepares renders random filter trees (not only the ones
// members produce) with random mappings for SQLite. When rendering
// succeeds, "SELECT 1 FROM t WHERE <fragment>" must prepare, take exactly
// as many parameters as there are bind values, run, and select the rows of
// a small fixed table that teamperm.Match keeps.
//
// Run it as a fuzz target with
//
//	go test -run '^$' -fuzz FuzzRenderPrepares -fuzztime 30s
//
// and as a test (the seeds below) with go test.
// Coverage-guided fuzzing instruments the pure-Go SQLite engine too, which
// makes each input slow (tens per second on two cores); TestRenderPrepares
// runs the same property without instrumentation on every go test.
func FuzzRenderPrepares(f *testing.F) {
	r := rand.New(rand.NewPCG(7, 11))
	for range 100 {
		seed := make([]byte, 2048)
		for i := range seed {
			seed[i] = byte(r.IntN(256))
		}
		f.Add(seed)
	}
	f.Fuzz(rapid.MakeFuzz(renderPrepares))
}

// TestRenderPrepares is FuzzRenderPrepares's property as a rapid test.
func TestRenderPrepares(t *testing.T) {
	t.Parallel()
	rapid.Check(t, renderPrepares)
}

// The fixed table: columns of every key type, two of each so that a
// mapping can point two fields at different columns, and a creator kind as
// text and as an integer code. Text values have case variants, quotes,
// backslashes and unicode; every column has NULLs.
//
// Text that is not valid UTF-8 is left out: in a set of 32 values or more
// the renderer passes text keys as one JSON parameter, which cannot carry
// such bytes (see TestSQLiteLargeSetNotUTF8).
var (
	fuzzInts    = []teamperm.ID{{}, teamperm.IntID(10), teamperm.IntID(11), teamperm.IntID(0), teamperm.IntID(-1)}
	fuzzStrings = []teamperm.ID{{}, teamperm.StringID("10"), teamperm.StringID("it's"), teamperm.StringID("IT'S"), teamperm.StringID("ünï"),
		teamperm.StringID(""), teamperm.StringID(`\`), teamperm.StringID(`"`), teamperm.StringID("ab"), teamperm.StringID("AB")}
	fuzzUUIDs = []teamperm.ID{{}, uuidN(0x10), uuidN(0x11)}
	fuzzCK    = []creatorKind{creatorKinds[0], creatorKinds[1], creatorKinds[2], creatorKinds[3], creatorKinds[4]}
)

// fuzzColumns are the table's ID columns by key kind.
var fuzzColumns = map[teamperm.KeyKind][]string{
	teamperm.KeyInt:    {"i1", "i2"},
	teamperm.KeyString: {"s1", "s2"},
	teamperm.KeyUUID:   {"u1"},
}

// A fuzzRow is one row of the fixed table: the ID of each ID column, and
// the creator kind.
type fuzzRow struct {
	rid int64
	ids map[string]teamperm.ID
	ck  creatorKind
}

var fuzzTable struct {
	once sync.Once
	db   *sql.DB
	dir  string
	rows []fuzzRow
	err  error
}

// openFuzzTable creates the fixed table once per process, in a temporary
// SQLite file; TestMain calls cleanupFuzzTable.
func openFuzzTable(t fataler) (*sql.DB, []fuzzRow) {
	t.Helper()
	ft := &fuzzTable
	ft.once.Do(func() {
		ft.dir, ft.err = os.MkdirTemp("", "teamperm-fuzz-")
		if ft.err != nil {
			return
		}
		ft.db, ft.err = sql.Open("sqlite3", "file:"+filepath.Join(ft.dir, "fuzz.db")+"?_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)")
		if ft.err != nil {
			return
		}
		if _, ft.err = ft.db.Exec("CREATE TABLE t (rid INTEGER NOT NULL PRIMARY KEY, i1 BIGINT, i2 BIGINT, s1 TEXT, s2 TEXT, u1 TEXT, ck TEXT, ckn BIGINT)"); ft.err != nil {
			return
		}
		r := rand.New(rand.NewPCG(3, 5))
		pick := func(ids []teamperm.ID) teamperm.ID { return ids[r.IntN(len(ids))] }
		for i := range 48 {
			row := fuzzRow{rid: int64(i + 1), ids: map[string]teamperm.ID{
				"i1": pick(fuzzInts), "i2": pick(fuzzInts), "s1": pick(fuzzStrings), "s2": pick(fuzzStrings), "u1": pick(fuzzUUIDs),
			}, ck: fuzzCK[r.IntN(len(fuzzCK))]}
			if _, ft.err = ft.db.Exec("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row.rid,
				bind(row.ids["i1"]), bind(row.ids["i2"]), bind(row.ids["s1"]), bind(row.ids["s2"]), bind(row.ids["u1"]), row.ck.text, row.ck.num); ft.err != nil {
				return
			}
			ft.rows = append(ft.rows, row)
		}
	})
	if ft.err != nil {
		t.Fatalf("fuzz table: %v", ft.err)
	}
	return ft.db, ft.rows
}

func cleanupFuzzTable() {
	if fuzzTable.db != nil {
		fuzzTable.db.Close()
	}
	if fuzzTable.dir != "" {
		os.RemoveAll(fuzzTable.dir)
	}
}

// fuzzMapping draws a mapping of the fixed table: each field gets a column
// of a random key kind, qualified or not; now and then no column, an
// invalid name or no key kind, which rendering must refuse.
type fuzzMapping struct {
	teamperm.Mapping
	cols map[teamperm.Field]string // field -> column of the table
}

func genMapping(t *rapid.T) fuzzMapping {
	fm := fuzzMapping{cols: map[teamperm.Field]string{}}
	col := func(f teamperm.Field) teamperm.Column {
		label := f.String()
		switch rapid.IntRange(0, 15).Draw(t, label+"Bad") {
		case 0:
			return teamperm.Column{}
		case 1:
			return teamperm.Column{Name: rapid.SampledFrom([]string{"x y", "i1;--", `i1"`, "1x", "t.", "a.b.c.d", "ü"}).Draw(t, label+"BadName"), Key: teamperm.KeyInt}
		case 2:
			return teamperm.Column{Name: "i1"} // no key kind
		}
		key := rapid.SampledFrom(keyKinds).Draw(t, label+"Key")
		name := rapid.SampledFrom(fuzzColumns[key]).Draw(t, label+"Col")
		fm.cols[f] = name
		if rapid.Bool().Draw(t, label+"Qualified") {
			name = "t." + name
		}
		return teamperm.Column{Name: name, Key: key}
	}
	fm.Organization = col(teamperm.FieldOrganization)
	fm.Instance = col(teamperm.FieldInstance)
	fm.Assignee = col(teamperm.FieldAssignee)
	fm.Creator = col(teamperm.FieldCreator)
	fm.Pipeline = col(teamperm.FieldPipeline)
	if rapid.IntRange(0, 7).Draw(t, "creatorKindBad") > 0 {
		if rapid.Bool().Draw(t, "creatorKindInt") {
			fm.CreatorKind = teamperm.Column{Name: "ckn"}
			fm.CreatorKindValues.Member, fm.CreatorKindValues.Automation = int64(1), int64(2)
		} else {
			fm.CreatorKind = teamperm.Column{Name: "ck"}
		}
	}
	return fm
}

// record is the Record row stands for under the mapping.
func (fm fuzzMapping) record(row fuzzRow) teamperm.Record {
	rec := teamperm.Record{
		Organization: row.ids[fm.cols[teamperm.FieldOrganization]],
		Instance:     row.ids[fm.cols[teamperm.FieldInstance]],
		Assignee:     row.ids[fm.cols[teamperm.FieldAssignee]],
		Creator:      row.ids[fm.cols[teamperm.FieldCreator]],
		Pipeline:     row.ids[fm.cols[teamperm.FieldPipeline]],
		CreatorKind:  row.ck.kind,
	}
	return rec // the text and the integer creator-kind columns say the same
}

// genFilter draws a random filter tree. It is the root's genFilter
// (sql_test.go) with one change: the IDs of a field are drawn from the
// pool of its mapped column's key kind, and only now and then from the
// whole mixed pool, so that most trees render and reach the database.
func genFilter(t *rapid.T, fm fuzzMapping, depth int) teamperm.Filter {
	kind := rapid.IntRange(0, 5).Draw(t, "node")
	if depth > 3 && kind < 2 {
		kind += 2
	}
	field := teamperm.Field(rapid.IntRange(0, 7).Draw(t, "field"))
	// The pool of this node's IDs: the column's key kind, or (one node in
	// sixteen) every kind and the zero ID, which rendering must refuse.
	pool := slices.Concat(fuzzInts, fuzzStrings, fuzzUUIDs)
	if c, ok := fuzzMappingColumn(fm, field); ok && rapid.IntRange(0, 15).Draw(t, "wrongKey") > 0 {
		switch c.Key {
		case teamperm.KeyInt:
			pool = fuzzInts[1:]
		case teamperm.KeyString:
			pool = fuzzStrings[1:]
		case teamperm.KeyUUID:
			pool = fuzzUUIDs[1:]
		}
	}
	id := func() teamperm.ID { return rapid.SampledFrom(pool).Draw(t, "id") }
	switch kind {
	case 0, 1:
		n := rapid.IntRange(0, 3).Draw(t, "n")
		fs := make([]teamperm.Filter, n)
		for i := range fs {
			fs[i] = genFilter(t, fm, depth+1)
		}
		if kind == 0 {
			return teamperm.And(fs)
		}
		return teamperm.Or(fs)
	case 2:
		return teamperm.Const(rapid.Bool().Draw(t, "const"))
	case 3:
		return teamperm.Eq{Field: field, Value: id()}
	case 4:
		n := rapid.SampledFrom([]int{0, 1, 2, 5, 40}).Draw(t, "len")
		vs := make([]teamperm.ID, n)
		for i := range vs {
			vs[i] = id()
		}
		return teamperm.In{Field: field, Values: vs}
	}
	return teamperm.CreatorKindIs{Kind: teamperm.CreatorKind(rapid.IntRange(0, 3).Draw(t, "creatorKind"))}
}

func fuzzMappingColumn(fm fuzzMapping, f teamperm.Field) (teamperm.Column, bool) {
	var c teamperm.Column
	switch f {
	case teamperm.FieldOrganization:
		c = fm.Organization
	case teamperm.FieldInstance:
		c = fm.Instance
	case teamperm.FieldAssignee:
		c = fm.Assignee
	case teamperm.FieldCreator:
		c = fm.Creator
	case teamperm.FieldPipeline:
		c = fm.Pipeline
	}
	return c, c.Key != 0
}

func renderPrepares(t *rapid.T) {
	db, rows := openFuzzTable(t)
	fm := genMapping(t)
	f := genFilter(t, fm, 0)
	frag, args, err := teamperm.AppendSQL(nil, nil, teamperm.SQLite, fm.Mapping, f)
	if err != nil {
		return // refused: the root's renderLaws checks how
	}
	stmt, err := db.Prepare("SELECT 1 FROM t WHERE " + string(frag))
	if err != nil {
		t.Fatalf("prepare %s: %v", frag, err)
	}
	defer stmt.Close()
	count := func(args []any) (int, error) {
		rs, err := stmt.Query(args...)
		if err != nil {
			return 0, err
		}
		defer rs.Close()
		n := 0
		for rs.Next() {
			n++
		}
		return n, rs.Err()
	}
	n, err := count(args)
	if err != nil {
		t.Fatalf("%s %q: %v", frag, args, err)
	}
	// The driver ignores bind values beyond the statement's parameters,
	// so the count is proven by one value fewer failing.
	if len(args) > 0 {
		if _, err := count(args[:len(args)-1]); err == nil {
			t.Fatalf("%s runs with %d bind values, fewer than the %d rendered", frag, len(args)-1, len(args))
		}
	}

	got, err := queryInts(db, "SELECT rid FROM t WHERE "+string(frag), args...)
	if err != nil {
		t.Fatalf("%s %q: %v", frag, args, err)
	}
	want := []int64{}
	for _, row := range rows {
		rec := fm.record(row)
		if teamperm.Match(f, &rec) {
			want = append(want, row.rid)
		}
	}
	if !slices.Equal(got, want) || n != len(want) {
		var diff strings.Builder
		for _, row := range rows {
			if slices.Contains(got, row.rid) != slices.Contains(want, row.rid) {
				fmt.Fprintf(&diff, "\n\trid %d: %v creator kind %q/%v: %+v", row.rid, row.ids, row.ck.text, row.ck.num, fm.record(row))
			}
		}
		t.Fatalf("filter %v\nSQL %s %q\nrows (-Match +SQL):\n%s%s", f, frag, args, cmp.Diff(want, got), diff.String())
	}
}
