package recipes

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/jmoiron/sqlx"
	gormsqlite "github.com/libtnb/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	_ "modernc.org/sqlite"

	"github.com/teamperm/teamperm"
	"github.com/teamperm/teamperm/internal/testenv"
	"github.com/teamperm/teamperm/recipes/ent"
)

// A row of the test table, and the record it stands for.
type row struct {
	id                 int64
	org                int64
	instance, assignee sql.NullInt64
	archived           bool
	subject            string
}

func (r row) record() teamperm.Record {
	rec := teamperm.Record{Kind: teamperm.KindConversation, Organization: teamperm.IntID(r.org)}
	if r.instance.Valid {
		rec.Instance = teamperm.IntID(r.instance.Int64)
	}
	if r.assignee.Valid {
		rec.Assignee = teamperm.IntID(r.assignee.Int64)
	}
	return rec
}

// rows are 400 conversations of two organisations over 40 instances and
// six assignees, with NULLs, a fixed seed.
func rows() []row {
	rng := rand.New(rand.NewPCG(12, 1))
	var out []row
	for i := range 400 {
		r := row{id: int64(i + 1), org: 1 + int64(rng.IntN(2)), archived: rng.IntN(4) == 0, subject: fmt.Sprintf("conversation %d", i+1)}
		if rng.IntN(10) > 0 {
			r.instance = sql.NullInt64{Int64: 1 + int64(rng.IntN(40)), Valid: true}
		}
		if rng.IntN(5) > 0 {
			r.assignee = sql.NullInt64{Int64: 40 + int64(rng.IntN(6)), Valid: true}
		}
		out = append(out, r)
	}
	return out
}

// members are the members whose lists the recipes fetch: every kind of
// scope, including none, a large instance set (an array parameter) and an
// empty one, and a member of the other organisation.
func members(t *testing.T) map[string]*teamperm.Member {
	org1 := teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.PlanPro.Features()}
	org2 := teamperm.Organization{ID: teamperm.IntID(2), Features: teamperm.PlanPro.Features()}
	var many []teamperm.ID
	for i := 3; i < 38; i++ {
		many = append(many, teamperm.IntID(int64(i)))
	}
	settings := map[string]struct {
		org teamperm.Organization
		s   teamperm.Settings
	}{
		"owner":              {org1, teamperm.Settings{Member: teamperm.IntID(40), Role: teamperm.RoleOwner}},
		"support agent":      {org1, teamperm.SupportAgent(teamperm.IntID(41), teamperm.Access{})},
		"contractor":         {org1, teamperm.Settings{Member: teamperm.IntID(42), Role: teamperm.RoleMember, Instances: teamperm.Only(teamperm.IntID(3)), OnlyAssignedChats: true}},
		"brand admin":        {org1, teamperm.Settings{Member: teamperm.IntID(43), Role: teamperm.RoleAdmin, Instances: teamperm.Only(teamperm.IntID(1), teamperm.IntID(2))}},
		"35 instances":       {org1, teamperm.Settings{Member: teamperm.IntID(44), Role: teamperm.RoleMember, Instances: teamperm.Only(many...)}},
		"no instance":        {org1, teamperm.Settings{Member: teamperm.IntID(45), Role: teamperm.RoleMember, Instances: teamperm.Only()}},
		"no chat.view":       {org1, teamperm.Settings{Member: teamperm.IntID(46), Role: teamperm.RoleMember, Denies: teamperm.PermissionSetOf(teamperm.ChatView)}},
		"other organisation": {org2, teamperm.Settings{Member: teamperm.IntID(41), Role: teamperm.RoleMember, OnlyAssignedChats: true}},
	}
	out := map[string]*teamperm.Member{}
	for name, s := range settings {
		m, err := teamperm.Compile(s.org, s.s)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = m
	}
	return out
}

// want returns the IDs of the rows m may see and that are not archived.
func want(m *teamperm.Member, rs []row) []int64 {
	var ids []int64
	for _, r := range rs {
		if !r.archived && m.Visible(r.record()).Allowed() {
			ids = append(ids, r.id)
		}
	}
	return ids
}

func ids(cs []Conversation) []int64 {
	out := make([]int64, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	slices.Sort(out)
	return out
}

// createTable creates and fills the conversations table of db.
func createTable(t *testing.T, db *sql.DB, rs []row) {
	t.Helper()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TABLE conversations (
		id BIGINT PRIMARY KEY, org_id BIGINT NOT NULL, instance_id BIGINT, assignee_id BIGINT,
		archived BOOLEAN NOT NULL, subject TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginTx(ctx, nil) // one commit: SQLite syncs the file once, not per row
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for _, r := range rs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO conversations VALUES ($1, $2, $3, $4, $5, $6)`,
			r.id, r.org, r.instance, r.assignee, r.archived, r.subject); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// postgresURL returns the PostgreSQL URL of the tests: skipped without
// one on a laptop, a failure when CI is set.
func postgresURL(t *testing.T) string {
	t.Helper()
	return testenv.Env(t, "TEAMPERM_POSTGRES_URL", "postgres", "set it to a pgx URL; source .ci/services.sh starts one")
}

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.Summary("recipes")
	os.Exit(code)
}

// postgresSchema creates a schema of its own for this test process, so
// that the table name "conversations" of the recipes collides with no
// other test sharing the server, and returns a URL whose connections use
// it; the schema is dropped when t ends.
func postgresSchema(t *testing.T) string {
	url := postgresURL(t)
	admin, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	schema := fmt.Sprintf("recipes_%d", os.Getpid())
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE; CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", url)
		if err == nil {
			db.ExecContext(context.Background(), "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
			db.Close()
		}
	})
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	return url + sep + "search_path=" + schema
}

// An engine is a database the recipes run against: how to open it with
// database/sql, and the names gorm and ent have for it.
type engine struct {
	name    string
	dialect teamperm.Dialect
	open    func(t *testing.T) *sql.DB
	gorm    func(*sql.DB) gorm.Dialector
	ent     string
}

var engines = []engine{
	{"sqlite", teamperm.SQLite, func(t *testing.T) *sql.DB {
		db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "recipes.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}, func(db *sql.DB) gorm.Dialector { return gormsqlite.New(gormsqlite.Config{Conn: db}) }, dialect.SQLite},
	{"postgres", teamperm.Postgres, func(t *testing.T) *sql.DB {
		db, err := sql.Open("pgx", postgresSchema(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}, func(db *sql.DB) gorm.Dialector { return postgres.New(postgres.Config{Conn: db}) }, dialect.Postgres},
}

// openGorm returns a gorm.DB over db.
func openGorm(t *testing.T, e engine, db *sql.DB) *gorm.DB {
	t.Helper()
	gdb, err := gorm.Open(e.gorm(db), &gorm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return gdb
}

// openEnt returns an ent client over db.
func openEnt(e engine, db *sql.DB) *ent.Client {
	return ent.NewClient(ent.Driver(entsql.OpenDB(e.ent, db)))
}

// entIDs returns the IDs of what ent returned, as the other recipes'
// rows.
func entIDs(cs []*ent.Conversation, err error) ([]Conversation, error) {
	var out []Conversation
	for _, c := range cs {
		out = append(out, Conversation{ID: c.ID, Subject: c.Subject})
	}
	return out, err
}

// check runs list for every member and compares its rows with Visible.
func check(t *testing.T, rs []row, list func(*teamperm.Member) ([]Conversation, error)) {
	t.Helper()
	nonEmpty := 0
	for name, m := range members(t) {
		got, err := list(m)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(got) > 0 {
			nonEmpty++
		}
		if diff := slices.Compare(ids(got), want(m, rs)); diff != 0 {
			t.Errorf("%s: the recipe returned %v, Visible allows %v", name, ids(got), want(m, rs))
		}
	}
	if nonEmpty < 5 {
		t.Errorf("only %d members see any row: the test data proves little", nonEmpty)
	}
}

func TestRecipes(t *testing.T) {
	rs := rows()
	ctx := context.Background()
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			db := e.open(t)
			createTable(t, db, rs)
			t.Run("database/sql", func(t *testing.T) {
				check(t, rs, func(m *teamperm.Member) ([]Conversation, error) { return ListSQL(ctx, db, e.dialect, m) })
			})
			t.Run("sqlx", func(t *testing.T) {
				xdb := sqlx.NewDb(db, map[string]string{"sqlite": "sqlite", "postgres": "pgx"}[e.name])
				check(t, rs, func(m *teamperm.Member) ([]Conversation, error) { return ListSqlx(ctx, xdb, e.dialect, m) })
			})
			t.Run("squirrel", func(t *testing.T) {
				check(t, rs, func(m *teamperm.Member) ([]Conversation, error) { return ListSquirrel(ctx, db, e.dialect, m) })
			})
			t.Run("gorm", func(t *testing.T) {
				gdb := openGorm(t, e, db)
				check(t, rs, func(m *teamperm.Member) ([]Conversation, error) { return ListGorm(ctx, gdb, e.dialect, m) })
			})
			t.Run("ent", func(t *testing.T) {
				client := openEnt(e, db)
				check(t, rs, func(m *teamperm.Member) ([]Conversation, error) { return entIDs(ListEnt(ctx, client, e.dialect, m)) })
			})
			t.Run("CheckScope", func(t *testing.T) {
				for name, m := range members(t) {
					if err := teamperm.CheckScope(ctx, db, e.dialect, "conversations c", conversations, m, teamperm.KindConversation); err != nil {
						t.Errorf("%s: %v", name, err)
					}
				}
			})
		})
	}
}

// TestPgxPool runs the pgx native recipe, and CheckScope through the
// pool as the README says: stdlib.OpenDBFromPool.
func TestPgxPool(t *testing.T) {
	rs := rows()
	url := postgresSchema(t)
	ctx := context.Background()
	setup, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	createTable(t, setup, rs)
	setup.Close()

	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	check(t, rs, func(m *teamperm.Member) ([]Conversation, error) { return ListPgx(ctx, pool, m) })

	for name, member := range members(t) {
		if err := checkScopeWithPool(ctx, pool, member); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// checkScopeWithPool is the README's CheckScope with a pgxpool.
func checkScopeWithPool(ctx context.Context, pool *pgxpool.Pool, member *teamperm.Member) error {
	db := stdlib.OpenDBFromPool(pool) // a *sql.DB over the pool's connections
	defer db.Close()
	return teamperm.CheckScope(ctx, db, teamperm.Postgres, "conversations c", conversations, member, teamperm.KindConversation)
}
