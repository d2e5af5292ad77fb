package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	sqlite "github.com/ncruces/go-sqlite3/driver"
	"github.com/teamperm/teamperm"
	tpstore "github.com/teamperm/teamperm/store"
)

// schema is the service's schema, the same text on SQLite and PostgreSQL:
// only portable types (BIGINT, TEXT), keys assigned by the service (see
// the sequences table), no engine-specific defaults. Every list query
// filters on org_id first, so every index on a scoped table starts with it.
var schema = []string{
	// The plan, the members' settings and the audit log of their
	// changes are teamperm's: its store module keeps them, in its own
	// tables (teamperm_...) in the same database.
	`CREATE TABLE organizations (
		id   BIGINT PRIMARY KEY,
		name TEXT NOT NULL
	)`,
	`CREATE TABLE members (
		id       BIGINT PRIMARY KEY,
		org_id   BIGINT NOT NULL REFERENCES organizations (id),
		name     TEXT NOT NULL,
		setup    TEXT NOT NULL
	)`,
	`CREATE INDEX members_org ON members (org_id, id)`,
	`CREATE TABLE instances (
		id     BIGINT PRIMARY KEY,
		org_id BIGINT NOT NULL REFERENCES organizations (id),
		name   TEXT NOT NULL,
		phone  TEXT NOT NULL
	)`,
	`CREATE INDEX instances_org ON instances (org_id, id)`,
	`CREATE TABLE pipelines (
		id     BIGINT PRIMARY KEY,
		org_id BIGINT NOT NULL REFERENCES organizations (id),
		name   TEXT NOT NULL
	)`,
	`CREATE INDEX pipelines_org ON pipelines (org_id, id)`,
	`CREATE TABLE contacts (
		id          BIGINT PRIMARY KEY,
		org_id      BIGINT NOT NULL REFERENCES organizations (id),
		name        TEXT NOT NULL,
		phone       TEXT NOT NULL
	)`,
	`CREATE INDEX contacts_org ON contacts (org_id, id)`,
	// A contact is on every WhatsApp instance they wrote to (R19): one
	// row per (contact, instance). teamperm's Mapping.Instances renders
	// an instance restriction as EXISTS over it, which the second index
	// serves.
	contactInstancesTable,
	contactInstancesIndex,
	`CREATE TABLE conversations (
		id          BIGINT PRIMARY KEY,
		org_id      BIGINT NOT NULL REFERENCES organizations (id),
		instance_id BIGINT NOT NULL REFERENCES instances (id),
		contact_id  BIGINT NOT NULL REFERENCES contacts (id),
		assignee_id BIGINT REFERENCES members (id),
		subject     TEXT NOT NULL
	)`,
	`CREATE INDEX conversations_org_assignee ON conversations (org_id, assignee_id)`,
	`CREATE INDEX conversations_org_instance ON conversations (org_id, instance_id)`,
	// A message with no author came in from the contact.
	`CREATE TABLE messages (
		id              BIGINT PRIMARY KEY,
		conversation_id BIGINT NOT NULL REFERENCES conversations (id),
		author_id       BIGINT REFERENCES members (id),
		body            TEXT NOT NULL,
		sent_at         BIGINT NOT NULL
	)`,
	`CREATE INDEX messages_conversation ON messages (conversation_id, id)`,
	// creator_kind is NULL for a legacy deal (no creator tracking),
	// 'member' (creator_id says who) or 'automation'.
	`CREATE TABLE deals (
		id           BIGINT PRIMARY KEY,
		org_id       BIGINT NOT NULL REFERENCES organizations (id),
		pipeline_id  BIGINT REFERENCES pipelines (id),
		title        TEXT NOT NULL,
		stage        TEXT NOT NULL,
		value_cents  BIGINT NOT NULL,
		creator_kind TEXT CHECK (creator_kind IN ('member', 'automation')),
		creator_id   BIGINT REFERENCES members (id),
		assignee_id  BIGINT REFERENCES members (id)
	)`,
	`CREATE INDEX deals_org_pipeline ON deals (org_id, pipeline_id)`,
	`CREATE INDEX deals_org_creator ON deals (org_id, creator_id)`,
	`CREATE INDEX deals_org_assignee ON deals (org_id, assignee_id)`,
	// Keys the service assigns: one row per table, next_id the last key
	// handed out (UPDATE ... RETURNING works on both engines).
	`CREATE TABLE sequences (
		name    TEXT PRIMARY KEY,
		next_id BIGINT NOT NULL
	)`,
}

const (
	contactInstancesTable = `CREATE TABLE contact_instances (
		contact_id  BIGINT NOT NULL REFERENCES contacts (id),
		instance_id BIGINT NOT NULL REFERENCES instances (id),
		PRIMARY KEY (contact_id, instance_id)
	)`
	contactInstancesIndex = `CREATE INDEX contact_instances_instance ON contact_instances (instance_id, contact_id)`
)

// A query builds one SQL statement with its bind values, numbering
// placeholders as it goes in the store's dialect, so that a teamperm scope
// appended with [query.scope] continues the numbering.
type query struct {
	d    teamperm.Dialect
	b    []byte
	args []any
}

func (q *query) sql(s string) *query {
	q.b = append(q.b, s...)
	return q
}

// arg appends a placeholder for v.
func (q *query) arg(v any) *query {
	q.args = append(q.args, v)
	if q.d == teamperm.Postgres {
		q.b = fmt.Appendf(q.b, "$%d", len(q.args))
	} else {
		q.b = append(q.b, '?')
	}
	return q
}

// scope appends the predicate of s as the columns of m name them.
func (q *query) scope(s teamperm.Scope, m teamperm.Mapping) error {
	b, args, err := s.AppendSQL(q.b, q.args, q.d, m)
	if err != nil {
		return err
	}
	q.b, q.args = b, args
	return nil
}

func (q *query) String() string { return string(q.b) }

// querier is what the store's statements run on: *sql.DB or *sql.Tx.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// OpenSQLite opens (creating it if needed) the SQLite database in file.
// Foreign keys are on; writers wait for each other instead of failing.
func OpenSQLite(file string) (*SQLStore, error) {
	dsn := "file:" + filepath.ToSlash(file) +
		"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=journal_mode(wal)&_txlock=immediate"
	db, err := sqlite.Open(dsn) // ncruces/go-sqlite3, whatever holds the name "sqlite3"
	if err != nil {
		return nil, err
	}
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite %s: %w", file, err)
	}
	return &SQLStore{db: db, dialect: teamperm.SQLite}, nil
}

// OpenPostgres creates a fresh schema in the PostgreSQL database at
// dbURL (a pgx URL) and opens the store in it. The schema's name is
// prefix plus random hex, so that parallel runs never share tables; drop
// it is what the returned function does.
func OpenPostgres(ctx context.Context, dbURL, prefix string) (*SQLStore, func() error, error) {
	if !regexp.MustCompile(`^[a-z_][a-z0-9_]{0,40}$`).MatchString(prefix) {
		return nil, nil, fmt.Errorf("postgres: schema prefix %q: want a short lower-case identifier", prefix)
	}
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, nil, err
	}
	name := prefix + hex.EncodeToString(rnd[:])

	admin, err := sql.Open("pgx", dbURL)
	if err != nil {
		return nil, nil, err
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+name); err != nil {
		return nil, nil, fmt.Errorf("postgres: %w", err)
	}
	drop := func() error {
		db, err := sql.Open("pgx", dbURL)
		if err != nil {
			return err
		}
		defer db.Close()
		_, err = db.Exec("DROP SCHEMA " + name + " CASCADE")
		return err
	}
	// Every connection of the pool starts in the new schema.
	u, err := url.Parse(dbURL)
	if err != nil {
		drop()
		return nil, nil, fmt.Errorf("postgres: %w", err)
	}
	qv := u.Query()
	qv.Set("search_path", name)
	u.RawQuery = qv.Encode()
	db, err := sql.Open("pgx", u.String())
	if err == nil {
		err = db.PingContext(ctx)
	}
	if err != nil {
		drop()
		return nil, nil, fmt.Errorf("postgres: %w", err)
	}
	return &SQLStore{db: db, dialect: teamperm.Postgres, schema: name, url: u.String()}, drop, nil
}

// tableExists reports whether the table exists, or with missing set,
// whether it does not.
func (s *SQLStore) tableExists(ctx context.Context, db querier, table string, missing bool) (bool, error) {
	var n int
	q := s.q().sql("SELECT COUNT(*) FROM ")
	if s.dialect == teamperm.Postgres {
		q.sql("information_schema.tables WHERE table_schema = current_schema() AND table_name = ").arg(table)
	} else {
		q.sql("sqlite_master WHERE type = 'table' AND name = ").arg(table)
	}
	if err := db.QueryRowContext(ctx, q.String(), q.args...).Scan(&n); err != nil {
		return false, err
	}
	return (n > 0) != missing, nil
}

// Migrate creates the schema unless it exists already. It reports whether it created it, so that the
// caller seeds a new database.
func (s *SQLStore) Migrate(ctx context.Context) (created bool, err error) {
	exists, err := s.tableExists(ctx, s.db, "organizations", false)
	if err != nil {
		return false, err
	}
	if !exists {
		err = s.tx(ctx, func(tx *sql.Tx) error {
			for _, stmt := range schema {
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("%s: %w", strings.Fields(stmt)[2], err)
				}
			}
			return nil
		})
		if err != nil {
			return false, err
		}
	}
	// A database kept (-db) by an older version of the example, where a
	// contact had one instance column: a demo database is cheaper to
	// seed again than to migrate (SQLite cannot drop a column that is a
	// foreign key), so say so rather than fail on the first query.
	if old, err := s.tableExists(ctx, s.db, "contact_instances", true); err != nil {
		return false, err
	} else if old {
		return false, errors.New("the database was made by an older version of the example (contacts without contact_instances): remove it to start a new one")
	}
	// teamperm's tables, migrated by its store.
	s.tp, err = tpstore.New(ctx, s.db, s.dialect, tpstore.Options{Now: s.now})
	return err == nil && !exists, err
}

// tx runs f in a transaction, committing when it returns nil.
func (s *SQLStore) tx(ctx context.Context, f func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		return errors.Join(err, tx.Rollback())
	}
	return tx.Commit()
}

// insert inserts one row.
func (s *SQLStore) insert(ctx context.Context, db querier, table string, cols string, vals ...any) error {
	q := s.q().sql("INSERT INTO " + table + " (" + cols + ") VALUES (")
	for i, v := range vals {
		if i > 0 {
			q.sql(", ")
		}
		q.arg(v)
	}
	q.sql(")")
	_, err := db.ExecContext(ctx, q.String(), q.args...)
	if err != nil {
		return fmt.Errorf("insert into %s: %w", table, err)
	}
	return nil
}

// nextID hands out the next key of table.
func (s *SQLStore) nextID(ctx context.Context, tx querier, table string) (int64, error) {
	q := s.q().sql("UPDATE sequences SET next_id = next_id + 1 WHERE name = ").arg(table).sql(" RETURNING next_id")
	var id int64
	err := tx.QueryRowContext(ctx, q.String(), q.args...).Scan(&id)
	return id, err
}

// nullID is the column value of an optional key: NULL for the zero ID.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
