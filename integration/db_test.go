// Package integration proves teamperm's scopes against real database
// engines: the rows a rendered WHERE fragment selects are exactly the rows
// that Scope.Match keeps, that Member.Visible allows and that the reference
// model (a copy of the root's reference_test.go) allows.
//
// SQLite (github.com/ncruces/go-sqlite3, pure Go) always runs. PostgreSQL
// runs when TEAMPERM_POSTGRES_URL is set (a pgx URL), MariaDB or MySQL when
// TEAMPERM_MYSQL_URL is set (a go-sql-driver/mysql DSN); otherwise their
// subtests skip (and fail when the variable CI is set, as in CI).
// `source .ci/services.sh` starts both servers and sets both variables.
package integration

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/ncruces/go-sqlite3/driver"
	"github.com/teamperm/teamperm"
	"github.com/teamperm/teamperm/internal/testenv"
)

// An engine is one kind of database the tests run against.
type engine struct {
	name    string // subtest name: "sqlite", "postgres", "mysql"
	env     string // the variable holding the server's URL; "" for SQLite
	driver  string // database/sql driver name
	dialect teamperm.Dialect
}

var engines = []engine{
	{name: "sqlite", driver: "sqlite3", dialect: teamperm.SQLite},
	{name: "postgres", env: "TEAMPERM_POSTGRES_URL", driver: "pgx", dialect: teamperm.Postgres},
	{name: "mysql", env: "TEAMPERM_MYSQL_URL", driver: "mysql", dialect: teamperm.MySQL},
}

// A testDB is an open database of one engine, with the helpers the tests
// need to write portable SQL of their own (placeholders, column types).
type testDB struct {
	*sql.DB
	engine
}

// pools holds one connection pool per server engine, opened on first use
// and shared by every test of the process; TestMain closes them. SQLite
// gets a fresh database file per test instead (see openDB).
var pools struct {
	sync.Mutex
	dbs  map[string]*sql.DB
	errs map[string]error
}

func TestMain(m *testing.M) {
	code := m.Run()
	pools.Lock()
	for _, db := range pools.dbs {
		db.Close()
	}
	pools.Unlock()
	cleanupFuzzTable()
	testenv.Summary("integration")
	os.Exit(code)
}

// forEachEngine runs f as one parallel subtest per engine. A server engine
// whose URL variable is not set skips, naming the variable.
func forEachEngine(t *testing.T, f func(t *testing.T, db *testDB)) {
	t.Helper()
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			f(t, openDB(t, e))
		})
	}
}

// openDB returns the engine's database for test t: a new SQLite file in
// t's temp dir, or the process's shared pool for a server.
func openDB(t *testing.T, e engine) *testDB {
	t.Helper()
	if e.env == "" {
		path := filepath.Join(t.TempDir(), "test.db")
		dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)"
		db, err := sql.Open(e.driver, dsn)
		if err != nil {
			t.Fatalf("sqlite: %v", err)
		}
		t.Cleanup(func() { db.Close() })
		return &testDB{DB: db, engine: e}
	}
	url := testenv.Env(t, e.env, e.name, "set it to a "+e.driver+" URL; source .ci/services.sh starts one")
	pools.Lock()
	defer pools.Unlock()
	if pools.dbs == nil {
		pools.dbs = map[string]*sql.DB{}
		pools.errs = map[string]error{}
	}
	if err, failed := pools.errs[e.name]; failed {
		t.Fatalf("%s (from %s): %v", e.name, e.env, err)
	}
	db, ok := pools.dbs[e.name]
	if !ok {
		var err error
		db, err = sql.Open(e.driver, url)
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err = db.PingContext(ctx)
			cancel()
		}
		if err != nil {
			pools.errs[e.name] = err
			t.Fatalf("%s (from %s): %v", e.name, e.env, err)
		}
		db.SetMaxOpenConns(8)
		db.SetMaxIdleConns(8)
		pools.dbs[e.name] = db
	}
	return &testDB{DB: db, engine: e}
}

// tableSeq and the process ID make table names unique across the tests
// of one process and across processes sharing one server database.
var tableSeq atomic.Int64

// newTable returns a fresh table name (lower case, a plain identifier) and
// drops the table when t ends. The caller creates it.
func (db *testDB) newTable(t testing.TB, base string) string {
	t.Helper()
	name := fmt.Sprintf("tp%d_%d_%s", os.Getpid(), tableSeq.Add(1), base)
	t.Cleanup(func() {
		if _, err := db.Exec("DROP TABLE IF EXISTS " + name); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
	})
	return name
}

// exec runs statements, failing t on the first error.
func (db *testDB) exec(t testing.TB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %s: %v", db.name, s, err)
		}
	}
}

// ph returns the n-th placeholder (from 1) of the engine.
func (db *testDB) ph(n int) string {
	if db.dialect == teamperm.Postgres {
		return "$" + strconv.Itoa(n)
	}
	return "?"
}

// keyType is the column type of keys of kind k. PostgreSQL keeps UUIDs in
// uuid columns; SQLite and MySQL keep them as canonical lower-case text.
// MySQL text columns get the server's default character set and collation
// (case-insensitive on a stock MariaDB): the renderer must be byte-exact
// regardless.
func (db *testDB) keyType(k teamperm.KeyKind) string {
	switch k {
	case teamperm.KeyInt:
		return "BIGINT"
	case teamperm.KeyUUID:
		switch db.dialect {
		case teamperm.Postgres:
			return "UUID"
		case teamperm.MySQL:
			return "CHAR(36)"
		}
		return "TEXT"
	}
	return db.textType()
}

// textType is a short text column type that every engine can index.
func (db *testDB) textType() string {
	if db.dialect == teamperm.MySQL {
		return "VARCHAR(191)"
	}
	return "TEXT"
}

// column returns the teamperm column of key kind k named name.
func column(k teamperm.KeyKind, name string) teamperm.Column {
	return teamperm.Column{Name: name, Key: k}
}

// bind returns the value a test binds for id: nil for the zero ID (NULL),
// an int64, a string, or a UUID's canonical lower-case text.
func bind(id teamperm.ID) any {
	if n, ok := id.Int(); ok {
		return n
	}
	if s, ok := id.Str(); ok {
		return s
	}
	if id.IsZero() {
		return nil
	}
	return id.String() // a UUID: canonical, lower case
}

// insert writes rows into table with multi-row INSERT statements of bind
// parameters, all in one transaction.
func (db *testDB) insert(t testing.TB, table string, cols []string, rows [][]any) {
	t.Helper()
	tx, err := db.Begin()
	if err != nil {
		t.Fatalf("%s: begin: %v", db.name, err)
	}
	defer tx.Rollback()
	if err := db.insertTx(tx, table, cols, rows); err != nil {
		t.Fatalf("%s: %v", db.name, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("%s: commit: %v", db.name, err)
	}
}

// insertTx is insert within tx, in chunks small enough for every engine's
// limit on bind parameters.
func (db *testDB) insertTx(tx *sql.Tx, table string, cols []string, rows [][]any) error {
	chunk := max(1, 8000/len(cols))
	for len(rows) > 0 {
		n := min(chunk, len(rows))
		var b strings.Builder
		fmt.Fprintf(&b, "INSERT INTO %s (%s) VALUES ", table, strings.Join(cols, ", "))
		args := make([]any, 0, n*len(cols))
		for i, row := range rows[:n] {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('(')
			for j, v := range row {
				if j > 0 {
					b.WriteString(", ")
				}
				args = append(args, v)
				b.WriteString(db.ph(len(args)))
			}
			b.WriteByte(')')
		}
		if _, err := tx.Exec(b.String(), args...); err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
		rows = rows[n:]
	}
	return nil
}

// queryInts runs a query whose single column is an integer and returns
// its values sorted.
func (db *testDB) queryInts(t testing.TB, query string, args ...any) []int64 {
	t.Helper()
	out, err := queryInts(db.DB, query, args...)
	if err != nil {
		t.Fatalf("%s: %s %v: %v", db.name, query, args, err)
	}
	return out
}

type querier interface {
	Query(query string, args ...any) (*sql.Rows, error)
}

func queryInts(q querier, query string, args ...any) ([]int64, error) {
	rows, err := q.Query(query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []int64{}
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}
