package teamperm_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/teamperm/teamperm"
	"pgregory.net/rapid"
)

// CheckScope's logic (reading rows back into Records, counting them and
// comparing with Visible) is checked here, without a database server, on a
// fake database/sql driver: its "table" is a list of rows, and it answers
// the scoped query with the rows the test chooses: the faithful answer
// (the rows the member may see) or one fault at a time. The SQL itself is
// proven on real engines in integration/.

// fakeDB is one fake database: rows of named columns, the link table's
// pairs, and how many times the scoped query returns each row.
type fakeDB struct {
	cols   []string // column names as the mapping names them ("c.org_id")
	rows   [][]any  // values in cols order
	link   [][2]any // (record key, instance) pairs of the link table
	scoped []int    // times the scoped query returns each row
}

var (
	fakeMu  sync.Mutex
	fakeDBs = map[string]*fakeDB{}
	fakeSeq int
)

func init() { sql.Register("teamperm-fake", fakeDriver{}) }

type fakeDriver struct{}

func (fakeDriver) Open(name string) (driver.Conn, error) {
	fakeMu.Lock()
	defer fakeMu.Unlock()
	db, ok := fakeDBs[name]
	if !ok {
		return nil, fmt.Errorf("no fake database %q", name)
	}
	return &fakeConn{db}, nil
}

type fakeConn struct{ db *fakeDB }

func (c *fakeConn) Prepare(string) (driver.Stmt, error) { return nil, errors.New("fake: no Prepare") }
func (c *fakeConn) Close() error                        { return nil }
func (c *fakeConn) Begin() (driver.Tx, error)           { return nil, errors.New("fake: no transactions") }

// QueryContext answers the three queries CheckScope makes: the link table,
// every row, and the scoped rows (the query with a WHERE).
func (c *fakeConn) QueryContext(_ context.Context, query string, _ []driver.NamedValue) (driver.Rows, error) {
	if strings.HasPrefix(query, `SELECT "teamperm_link".`) || strings.HasPrefix(query, "SELECT `teamperm_link`.") {
		out := &fakeRows{cols: []string{"record", "instance"}}
		for _, p := range c.db.link {
			out.vals = append(out.vals, []driver.Value{p[0], p[1]})
		}
		return out, nil
	}
	list, _, ok := strings.Cut(strings.TrimPrefix(query, "SELECT "), " FROM ")
	if !ok {
		return nil, fmt.Errorf("fake: unexpected query %s", query)
	}
	var idx []int
	var names []string
	for _, q := range strings.Split(list, ", ") {
		name := strings.NewReplacer(`"`, "", "`", "").Replace(q)
		i := slices.Index(c.db.cols, name)
		if i < 0 {
			return nil, fmt.Errorf("fake: no column %s", q)
		}
		idx, names = append(idx, i), append(names, name)
	}
	where := strings.Contains(query, " WHERE ")
	out := &fakeRows{cols: names}
	for r, row := range c.db.rows {
		n := 1
		if where {
			n = c.db.scoped[r]
		}
		for range n {
			vals := make([]driver.Value, len(idx))
			for j, i := range idx {
				vals[j] = row[i]
			}
			out.vals = append(out.vals, vals)
		}
	}
	return out, nil
}

type fakeRows struct {
	cols []string
	vals [][]driver.Value
}

func (r *fakeRows) Columns() []string { return r.cols }
func (r *fakeRows) Close() error      { return nil }
func (r *fakeRows) Next(dst []driver.Value) error {
	if len(r.vals) == 0 {
		return io.EOF
	}
	copy(dst, r.vals[0])
	r.vals = r.vals[1:]
	return nil
}

func openFake(t interface{ Fatal(...any) }, db *fakeDB) *sql.DB {
	fakeMu.Lock()
	fakeSeq++
	name := strconv.Itoa(fakeSeq)
	fakeDBs[name] = db
	fakeMu.Unlock()
	conn, err := sql.Open("teamperm-fake", name)
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

// intValue returns n as a driver returns an integer column: int64, or
// text (a string or bytes) as some drivers scan it.
func intValue(t *rapid.T, n int64, label string) any {
	switch rapid.IntRange(0, 2).Draw(t, label) {
	case 0:
		return strconv.FormatInt(n, 10)
	case 1:
		return []byte(strconv.FormatInt(n, 10))
	}
	return n
}

// TestCheckScopeOnFakeRows: over random members, tables and mappings
// (with and without an organisation column, a creator-kind column as text
// or integers, a link table), CheckScope accepts the faithful answer and
// reports each fault: a visible row left out, a hidden row returned, a row
// returned more often than the table holds it.
func TestCheckScopeOnFakeRows(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		org := teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.FineGrained}
		me, other := teamperm.IntID(42), teamperm.IntID(43)
		subset := func(label string, ids ...int64) teamperm.Access {
			if rapid.Bool().Draw(t, label+"All") {
				return teamperm.Access{}
			}
			var out []teamperm.ID
			for _, n := range ids {
				if rapid.Bool().Draw(t, fmt.Sprint(label, n)) {
					out = append(out, teamperm.IntID(n))
				}
			}
			return teamperm.Only(out...)
		}
		s := teamperm.Settings{
			Member: me, Role: teamperm.Role(rapid.IntRange(1, 3).Draw(t, "role")),
			Instances:         subset("instances", 1, 2),
			Pipelines:         subset("pipelines", 10, 11),
			OnlyAssignedChats: rapid.Bool().Draw(t, "assigned"),
			OnlyCreatedDeals:  rapid.Bool().Draw(t, "created"),
		}
		if rapid.IntRange(0, 4).Draw(t, "denyView") == 0 {
			s.Denies = teamperm.PermissionSetOf(teamperm.ContactView, teamperm.ChatView)
		}
		member := mustCompile(t, org, s)
		kind := rapid.SampledFrom([]teamperm.Kind{teamperm.KindContact, teamperm.KindConversation, teamperm.KindDeal}).Draw(t, "kind")

		single := rapid.Bool().Draw(t, "singleTenant")
		withLink := kind == teamperm.KindContact && rapid.Bool().Draw(t, "link")
		ckInt := rapid.Bool().Draw(t, "creatorKindInt")
		m := teamperm.Mapping{
			Instance: teamperm.IntColumn("c.instance_id"), Assignee: teamperm.IntColumn("c.assignee_id"),
			Creator: teamperm.IntColumn("c.created_by"), Pipeline: teamperm.IntColumn("c.pipeline_id"),
			CreatorKind: teamperm.Column{Name: "c.created_by_kind"},
		}
		if single {
			m.SingleTenant = true
		} else {
			m.Organization = teamperm.IntColumn("c.org_id")
		}
		if ckInt {
			m.CreatorKindValues.Member, m.CreatorKindValues.Automation = int64(1), int64(2)
		}
		if withLink {
			m.Instances = teamperm.InstanceLink{Table: "contact_instances", Record: teamperm.IntColumn("contact_id"), Instance: teamperm.IntColumn("instance_id"), Key: teamperm.IntColumn("c.id")}
		}

		// The table: records of the kind over a few values of each field,
		// in the member's organisation (all of them in a single-tenant
		// table), another one, or none.
		orgs := []teamperm.ID{org.ID}
		if !single {
			orgs = append(orgs, teamperm.IntID(99), teamperm.ID{})
		}
		var recs []teamperm.Record
		for _, o := range orgs {
			for _, r := range exhaustiveRecords(o, []teamperm.ID{{}, teamperm.IntID(1), teamperm.IntID(2)}, []teamperm.ID{{}, me, other}, []teamperm.ID{{}, teamperm.IntID(10), teamperm.IntID(11)}) {
				if r.Kind == kind && rapid.IntRange(0, 3).Draw(t, "keep") == 0 {
					recs = append(recs, r)
				}
			}
		}
		db := &fakeDB{cols: []string{"c.org_id", "c.instance_id", "c.assignee_id", "c.created_by", "c.created_by_kind", "c.pipeline_id", "c.id"}}
		id := func(x teamperm.ID, label string) any {
			n, ok := x.Int()
			if !ok {
				return nil
			}
			return intValue(t, n, label)
		}
		for i := range recs {
			r := &recs[i]
			if withLink {
				// The record's instances are in the link table only.
				inst := r.Instance
				r.Instance = teamperm.ID{}
				if !inst.IsZero() {
					db.link = append(db.link, [2]any{int64(i), id(inst, "linkInstance")})
					r.Instances = teamperm.IDSetOf(inst)
				}
			}
			var ck any
			switch r.CreatorKind {
			case teamperm.CreatorMember:
				ck = "member"
				if ckInt {
					ck = intValue(t, 1, "ck")
				}
			case teamperm.CreatorAutomation:
				ck = []byte("automation")
				if ckInt {
					ck = int64(2)
				}
			}
			row := []any{id(r.Organization, "org"), id(r.Instance, "inst"), id(r.Assignee, "assignee"), id(r.Creator, "creator"), ck, id(r.Pipeline, "pipeline"), int64(i)}
			if withLink {
				row[1] = nil
			}
			db.rows = append(db.rows, row)
			if single {
				r.Organization = org.ID
			}
			visible := 0
			if member.Visible(*r).Allowed() {
				visible = 1
			}
			db.scoped = append(db.scoped, visible)
		}
		d := rapid.SampledFrom([]teamperm.Dialect{teamperm.Postgres, teamperm.SQLite, teamperm.MySQL}).Draw(t, "dialect")
		conn := openFake(t, db)
		defer conn.Close()
		ctx := context.Background()
		if err := teamperm.CheckScope(ctx, conn, d, "records c", m, member, kind); err != nil {
			t.Fatalf("faithful answer: %v", err)
		}
		// One fault at a time.
		faithful := slices.Clone(db.scoped)
		for i := range db.rows {
			for _, fault := range []int{1 - faithful[i], 2} {
				if fault == 2 && faithful[i] == 0 {
					continue
				}
				db.scoped = slices.Clone(faithful)
				db.scoped[i] = fault
				if err := teamperm.CheckScope(ctx, conn, d, "records c", m, member, kind); err == nil {
					t.Fatalf("row %d (%+v) returned %d times instead of %d: CheckScope found nothing", i, recs[i], fault, faithful[i])
				}
			}
		}
		db.scoped = faithful
	})
}

// TestCheckScopeCapsViolations: past 50 violations CheckScope reports 50
// and one line saying that more are not shown.
func TestCheckScopeCapsViolations(t *testing.T) {
	org := teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.FineGrained}
	member, err := teamperm.Compile(org, teamperm.Settings{Member: teamperm.IntID(2), Role: teamperm.RoleMember})
	if err != nil {
		t.Fatal(err)
	}
	m := teamperm.Mapping{Organization: teamperm.IntColumn("c.org_id"), Instance: teamperm.IntColumn("c.instance_id")}
	for _, n := range []int{49, 50, 51, 70} {
		db := &fakeDB{cols: []string{"c.org_id", "c.instance_id"}}
		for i := range n {
			db.rows = append(db.rows, []any{int64(1), int64(100 + i)})
			db.scoped = append(db.scoped, 0) // every visible row left out
		}
		conn := openFake(t, db)
		err := teamperm.CheckScope(context.Background(), conn, teamperm.SQLite, "contacts c", m, member, teamperm.KindContact)
		conn.Close()
		var joined interface{ Unwrap() []error }
		if !errors.As(err, &joined) {
			t.Fatalf("%d violations: %v", n, err)
		}
		errs := joined.Unwrap()
		want := min(n, 50)
		if n > 50 {
			want++
		}
		if len(errs) != want || (n > 50) != strings.Contains(errs[len(errs)-1].Error(), "more violations not shown") {
			t.Errorf("%d violations: %d errors reported, want %d; last %v", n, len(errs), want, errs[len(errs)-1])
		}
	}
}
