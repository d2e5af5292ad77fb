package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/teamperm/teamperm/internal/testenv"
)

// The tests run against every engine: SQLite always, PostgreSQL when
// TEAMPERM_POSTGRES_URL names a server (CI sets it; without it the
// PostgreSQL subtests skip, and fail when CI is set), each test in a fresh
// database (SQLite) or a fresh, uniquely named schema (PostgreSQL), so
// that tests and parallel runs never share rows.

const pgEnv = "TEAMPERM_POSTGRES_URL"

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.Summary("examples/inbox")
	os.Exit(code)
}

// postgresURL returns the URL of the PostgreSQL server: without one, the
// test is skipped on a laptop and fails under CI (testenv).
func postgresURL(t testing.TB) string {
	t.Helper()
	return testenv.Env(t, pgEnv, "PostgreSQL", "set it to a pgx URL; source .ci/services.sh starts one")
}

var engines = []string{"sqlite", "postgres"}

// forEachEngine runs f as a parallel subtest per engine, each with a
// freshly seeded store.
func forEachEngine(t *testing.T, f func(t *testing.T, s *SQLStore)) {
	t.Helper()
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			f(t, newStore(t, engine))
		})
	}
}

// newStore opens a new, seeded store on engine, removed when t ends.
func newStore(t testing.TB, engine string) *SQLStore {
	t.Helper()
	ctx := context.Background()
	var s *SQLStore
	switch engine {
	case "sqlite":
		var err error
		if s, err = OpenSQLite(filepath.Join(t.TempDir(), "inbox.db")); err != nil {
			t.Fatal(err)
		}
	case "postgres":
		url := postgresURL(t)
		var (
			drop func() error
			err  error
		)
		if s, drop, err = OpenPostgres(ctx, url, "inbox_test_"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := drop(); err != nil {
				t.Errorf("dropping schema %s: %v", s.schema, err)
			}
		})
	default:
		t.Fatalf("no engine %q", engine)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := Seed(ctx, s); err != nil {
		t.Fatal(err)
	}
	s.clock = func() time.Time { return testNow }
	return s
}

// testNow is the clock of the server under test.
var testNow = time.Date(2026, 3, 9, 12, 0, 0, 0, time.UTC)

func newHandler(s Store) http.Handler {
	return NewServer(s, func() time.Time { return testNow }, slog.New(slog.NewTextHandler(io.Discard, nil))).Handler()
}

// client sends requests straight to the handler, as a member.
type client struct {
	t *testing.T
	h http.Handler
}

type response struct {
	status int
	body   []byte
	header http.Header
}

// do sends a request as member (0: no X-Member header).
func (c client) do(member int64, method, path, body string) response {
	c.t.Helper()
	return c.doWith(member, method, path, body, nil)
}

// doWith is do with extra request headers.
func (c client) doWith(member int64, method, path, body string, header http.Header) response {
	c.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	if member != 0 {
		req.Header.Set("X-Member", strconv.FormatInt(member, 10))
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, req)
	return response{rec.Code, rec.Body.Bytes(), rec.Header()}
}
