// Package store keeps what teamperm decides from, in the host's SQL
// database: organisations with their plan and its revision, members'
// settings with theirs, and an append-only log of every change. It runs on
// SQLite (the embedded default, github.com/ncruces/go-sqlite3) and
// PostgreSQL (pgx), through database/sql, with its schema as embedded
// migrations.
//
// A [Store] is a [teamperm.Loader]: hand it to [teamperm.NewCache], and
// every request looks its member up in memory. Changes go through the
// store ([Store.ApplyEdits], [Store.SetPlan]), which applies them in one
// transaction with a compare-and-swap on the revision, so that two admins
// editing the same member never lose an update and a stale batch is
// refused ([ErrConflict], HTTP 409); it appends the change to the log in
// the same transaction, so that the log always replays to the stored state
// ([Store.Verify]). The log is append-only in the database itself:
// triggers refuse every UPDATE and DELETE of its entries, an INSERT that
// would replace one, and TRUNCATE on PostgreSQL, whoever sends them. They
// stop mistakes and careless code, not whoever may drop them (on SQLite,
// whoever can write the file). After the commit it invalidates the
// process's own cache ([Store.Subscribe]) and, on PostgreSQL, notifies
// every other process (LISTEN/NOTIFY), whose [Listen] loop invalidates
// theirs.
//
// This package is a separate module, so that teamperm itself stays free of
// dependencies.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	sqlite "github.com/ncruces/go-sqlite3/driver"
	"github.com/teamperm/teamperm"
)

// Errors of the store. Every error wraps one of them, a teamperm sentinel
// (ApplyEdits' refusals), or is the database's.
var (
	// ErrConflict: the change was decided on a revision that is no longer
	// the stored one (another change came first), or the organisation or
	// member exists already. Nothing was changed. HTTP: 409 (or 412 for a
	// failed If-Match); the client reloads and decides again.
	ErrConflict = errors.New("changed meanwhile")

	// ErrNotFound: no such organisation or member.
	ErrNotFound = errors.New("not found")
)

// An Invalidator drops what a cache holds for a member, an organisation
// or everything: *teamperm.Cache is one.
type Invalidator interface {
	InvalidateMember(org, member teamperm.ID)
	InvalidateOrganization(org teamperm.ID)
	InvalidateAll()
}

// DefaultChannel is the PostgreSQL notification channel of a store whose
// [Options] name none.
const DefaultChannel = "teamperm"

// Options configure a [Store]. The zero value is fine.
type Options struct {
	// Channel is the PostgreSQL notification channel the store notifies
	// on and [Listen] listens to; "" means [DefaultChannel]. Stores
	// sharing a database share a channel.
	Channel string
	// Now dates the changes in the log; nil means time.Now.
	Now func() time.Time
}

// A Store is the teamperm data of one database. It is safe for concurrent
// use, by goroutines and by processes sharing the database.
type Store struct {
	db      *sql.DB
	own     bool // opened by Open...: Close closes db
	dialect teamperm.Dialect
	opts    Options

	mu   sync.Mutex
	subs []Invalidator
}

// Subscribe has inv told about every change this store commits, right
// after the commit: the process's own [teamperm.Cache], which then never
// serves a member this process has just changed. (Other processes learn
// of it through [Listen].) It is safe for concurrent use.
func (s *Store) Subscribe(inv Invalidator) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subs = append(s.subs, inv)
}

//go:embed migrations/*.sql
var migrations embed.FS

// New returns the store in db, whose SQL dialect is d ([teamperm.SQLite]
// or [teamperm.Postgres]), and creates or updates its tables (their names
// start with teamperm_) to the newest migration. Migrating is safe when
// several processes start at once.
//
// On SQLite, open db with a busy timeout (writers wait instead of failing)
// and foreign keys on, as [OpenSQLite] does: the store's transactions
// start with a write, so they queue on the database's lock.
func New(ctx context.Context, db *sql.DB, d teamperm.Dialect, opts Options) (*Store, error) {
	if d != teamperm.SQLite && d != teamperm.Postgres {
		return nil, fmt.Errorf("store: dialect %v: want SQLite or PostgreSQL", d)
	}
	if opts.Channel == "" {
		opts.Channel = DefaultChannel
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Store{db: db, dialect: d, opts: opts}
	if err := s.migrate(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// OpenSQLite opens (creating it if needed) the SQLite database in file,
// with foreign keys on, a busy timeout of ten seconds, the WAL journal
// and transactions that take the write lock up front, and returns its
// store. Close closes the database.
//
// The database is opened through github.com/ncruces/go-sqlite3 (pure Go),
// whatever driver holds the database/sql name "sqlite3". Importing this
// package registers that name for ncruces's driver, as importing the
// driver itself does: a program that also links
// github.com/mattn/go-sqlite3 (gorm.io/driver/sqlite does) panics at
// start with "Register called twice for driver sqlite3" unless it is built
// with -ldflags=-X=github.com/ncruces/go-sqlite3/driver.driverName= (no
// name for ncruces's driver; OpenSQLite still works).
func OpenSQLite(ctx context.Context, file string, opts Options) (*Store, error) {
	// The WAL journal is a property of the file: it is set once, below,
	// not by every new connection (a connection that switches the journal
	// while another process creates the same file fails at once with
	// "database is locked", whatever the busy timeout).
	dsn := "file:" + filepath.ToSlash(file) +
		"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_txlock=immediate"
	db, err := sqlite.Open(dsn)
	if err != nil {
		return nil, err
	}
	if err := walJournal(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: sqlite %s: %w", file, err)
	}
	s, err := New(ctx, db, teamperm.SQLite, opts)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: sqlite %s: %w", file, err)
	}
	s.own = true
	return s, nil
}

// walJournal puts the database in WAL mode. SQLite does not wait for its
// busy timeout when two connections switch the journal of a new file at
// once, so it tries again for up to ten seconds, as the timeout would.
func walJournal(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(10 * time.Second)
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		var mode string
		err := db.QueryRowContext(ctx, `PRAGMA journal_mode = wal`).Scan(&mode)
		switch {
		case err == nil && strings.EqualFold(mode, "wal"):
			return nil
		case err == nil:
			return fmt.Errorf("journal mode %q, want wal", mode)
		case !strings.Contains(err.Error(), "locked") && !strings.Contains(err.Error(), "busy") || time.Now().After(deadline):
			return fmt.Errorf("setting the WAL journal: %w", err)
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(wait):
		}
	}
}

// OpenPostgres opens the PostgreSQL database at url (a pgx connection
// URL) and returns its store. Close closes the database.
func OpenPostgres(ctx context.Context, url string, opts Options) (*Store, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, err
	}
	s, err := New(ctx, db, teamperm.Postgres, opts)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: postgres: %w", err)
	}
	s.own = true
	return s, nil
}

// Close closes the database if the store opened it.
func (s *Store) Close() error {
	if s.own {
		return s.db.Close()
	}
	return nil
}

// DB returns the store's database.
func (s *Store) DB() *sql.DB { return s.db }

// Dialect returns the store's SQL dialect.
func (s *Store) Dialect() teamperm.Dialect { return s.dialect }

// sql returns query in the store's dialect: queries are written with
// PostgreSQL's numbered placeholders $1, $2..., which SQLite reads as ?1,
// ?2 (the same numbered parameters, in SQLite's spelling).
func (s *Store) sql(query string) string {
	if s.dialect == teamperm.SQLite {
		return strings.ReplaceAll(query, "$", "?")
	}
	return query
}

// migrate applies the migrations the database lacks, each in its own
// transaction, in the order of their file names; on PostgreSQL an
// advisory lock keeps processes that start together from racing.
func (s *Store) migrate(ctx context.Context) error {
	names, err := s.migrations()
	if err != nil {
		return err
	}
	if s.dialect == teamperm.SQLite { // PostgreSQL creates it under the lock below
		if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS teamperm_migrations (version BIGINT PRIMARY KEY)`); err != nil {
			return fmt.Errorf("store: migrations table: %w", err)
		}
	}
	for i, name := range names {
		version := i + 1
		text, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		err = s.tx(ctx, func(tx *sql.Tx) error {
			if s.dialect == teamperm.Postgres {
				if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(8317093650293)`); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS teamperm_migrations (version BIGINT PRIMARY KEY)`); err != nil {
					return err
				}
			}
			var n int
			if err := tx.QueryRowContext(ctx, s.sql(`SELECT COUNT(*) FROM teamperm_migrations WHERE version = $1`), version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			for _, stmt := range statements(string(text)) {
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("%s: %w", stmt, err)
				}
			}
			_, err := tx.ExecContext(ctx, s.sql(`INSERT INTO teamperm_migrations (version) VALUES ($1)`), version)
			return err
		})
		if err != nil {
			return fmt.Errorf("store: migration %s: %w", name, err)
		}
	}
	return nil
}

// migrations returns the store's dialect's migration files in order, one
// per version. A migration is NNN_name.sql, the same text for every
// dialect, or a pair NNN_name.sqlite.sql and NNN_name.postgres.sql; the
// versions run from 001 without a gap.
func (s *Store) migrations() ([]string, error) {
	all, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(all)
	other := ".postgres.sql"
	if s.dialect == teamperm.Postgres {
		other = ".sqlite.sql"
	}
	var names []string
	for _, name := range all {
		if strings.HasSuffix(name, other) {
			continue
		}
		version := len(names) + 1
		if !strings.HasPrefix(path.Base(name), fmt.Sprintf("%03d_", version)) {
			return nil, fmt.Errorf("store: migration %s out of sequence (want version %03d)", name, version)
		}
		names = append(names, name)
	}
	return names, nil
}

// statements splits a migration into its statements, dropping comments.
// A statement ends at a line that ends with a semicolon, so a trigger's
// body keeps its own semicolons on the lines before its last.
func statements(text string) []string {
	var out []string
	var b strings.Builder
	for line := range strings.Lines(text) {
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		b.WriteString(line)
		if strings.HasSuffix(strings.TrimSpace(line), ";") {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(b.String()), ";"))
			b.Reset()
		}
	}
	return out
}

// tx runs f in a transaction, committing when it returns nil.
func (s *Store) tx(ctx context.Context, f func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		return errors.Join(err, tx.Rollback())
	}
	return tx.Commit()
}

// key is the column value of an ID: its JSON form.
func key(what string, id teamperm.ID) (string, error) {
	if id.IsZero() {
		return "", fmt.Errorf("store: %s: no id: %w", what, teamperm.ErrInvalidID)
	}
	b, err := id.MarshalJSON()
	if err != nil {
		return "", fmt.Errorf("store: %s: %w", what, err)
	}
	return string(b), nil
}

// nullKey is key, or NULL for the zero ID.
func nullKey(what string, id teamperm.ID) (any, error) {
	if id.IsZero() {
		return nil, nil
	}
	return key(what, id)
}

func parseKey(what string, s sql.NullString) (teamperm.ID, error) {
	var id teamperm.ID
	if !s.Valid {
		return id, nil
	}
	if err := id.UnmarshalJSON([]byte(s.String)); err != nil {
		return id, fmt.Errorf("store: stored %s %q: %w", what, s.String, err)
	}
	return id, nil
}

// organization reads org's plan and revision (with q, in or out of a
// transaction).
func (s *Store) organization(ctx context.Context, q querier, org teamperm.ID, orgKey string) (teamperm.Organization, teamperm.Plan, error) {
	var plan string
	var rev int64
	err := q.QueryRowContext(ctx, s.sql(`SELECT plan, revision FROM teamperm_organizations WHERE org = $1`), orgKey).Scan(&plan, &rev)
	if errors.Is(err, sql.ErrNoRows) {
		return teamperm.Organization{}, 0, fmt.Errorf("store: organization %v: %w", org, ErrNotFound)
	}
	if err != nil {
		return teamperm.Organization{}, 0, err
	}
	return orgState(org, plan, rev)
}

func orgState(org teamperm.ID, plan string, rev int64) (teamperm.Organization, teamperm.Plan, error) {
	p, err := teamperm.ParsePlan(plan)
	if err != nil {
		return teamperm.Organization{}, 0, fmt.Errorf("store: organization %v: %w", org, err)
	}
	return teamperm.Organization{ID: org, Features: p.Features(), Revision: uint64(rev)}, p, nil
}

type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// decodeSettings decodes a member's stored settings and checks they are
// that member's at that revision.
func decodeSettings(member teamperm.ID, text string, rev int64) (teamperm.Settings, error) {
	var st teamperm.Settings
	if err := st.UnmarshalJSON([]byte(text)); err != nil {
		return teamperm.Settings{}, fmt.Errorf("store: member %v: stored settings: %w", member, err)
	}
	if st.Member != member || st.Revision != uint64(rev) {
		return teamperm.Settings{}, fmt.Errorf("store: member %v: stored settings are member %v's at revision %d, the row says revision %d: %w",
			member, st.Member, st.Revision, rev, teamperm.ErrInvalidSettings)
	}
	return st, nil
}

// Load returns the organisation's current state and the member's stored
// settings, in one query: the [teamperm.Loader] of a [teamperm.Cache].
// A missing organisation or member is an error wrapping [ErrNotFound].
func (s *Store) Load(ctx context.Context, org, member teamperm.ID) (teamperm.Organization, teamperm.Settings, error) {
	ok, err := key("organization", org)
	if err != nil {
		return teamperm.Organization{}, teamperm.Settings{}, err
	}
	mk, err := key("member", member)
	if err != nil {
		return teamperm.Organization{}, teamperm.Settings{}, err
	}
	var (
		plan, text string
		orev, mrev int64
	)
	err = s.db.QueryRowContext(ctx, s.sql(`SELECT o.plan, o.revision, m.settings, m.revision
		FROM teamperm_organizations o JOIN teamperm_members m ON m.org = o.org
		WHERE o.org = $1 AND m.member = $2`), ok, mk).Scan(&plan, &orev, &text, &mrev)
	if errors.Is(err, sql.ErrNoRows) {
		return teamperm.Organization{}, teamperm.Settings{}, fmt.Errorf("store: member %v of organization %v: %w", member, org, ErrNotFound)
	}
	if err != nil {
		return teamperm.Organization{}, teamperm.Settings{}, err
	}
	o, _, err := orgState(org, plan, orev)
	if err != nil {
		return teamperm.Organization{}, teamperm.Settings{}, err
	}
	st, err := decodeSettings(member, text, mrev)
	if err != nil {
		return teamperm.Organization{}, teamperm.Settings{}, err
	}
	return o, st, nil
}

var _ teamperm.Loader = (*Store)(nil)

// Organization returns the organisation's current state and plan.
func (s *Store) Organization(ctx context.Context, org teamperm.ID) (teamperm.Organization, teamperm.Plan, error) {
	ok, err := key("organization", org)
	if err != nil {
		return teamperm.Organization{}, 0, err
	}
	return s.organization(ctx, s.db, org, ok)
}

// Members returns the organisation's current state and the stored
// settings of all its members, ordered by member key: what
// [teamperm.Audit] and [teamperm.Impact] look at.
func (s *Store) Members(ctx context.Context, org teamperm.ID) (teamperm.Organization, []teamperm.Settings, error) {
	ok, err := key("organization", org)
	if err != nil {
		return teamperm.Organization{}, nil, err
	}
	o, _, err := s.organization(ctx, s.db, org, ok)
	if err != nil {
		return teamperm.Organization{}, nil, err
	}
	rows, err := s.db.QueryContext(ctx, s.sql(`SELECT member, settings, revision FROM teamperm_members WHERE org = $1`), ok)
	if err != nil {
		return teamperm.Organization{}, nil, err
	}
	defer rows.Close()
	var out []teamperm.Settings
	for rows.Next() {
		var mk sql.NullString
		var text string
		var rev int64
		if err := rows.Scan(&mk, &text, &rev); err != nil {
			return teamperm.Organization{}, nil, err
		}
		id, err := parseKey("member", mk)
		if err != nil {
			return teamperm.Organization{}, nil, err
		}
		st, err := decodeSettings(id, text, rev)
		if err != nil {
			return teamperm.Organization{}, nil, err
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return teamperm.Organization{}, nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Member.Compare(out[j].Member) < 0 })
	return o, out, nil
}
