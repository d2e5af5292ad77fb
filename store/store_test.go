package store_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/teamperm/teamperm"
	"github.com/teamperm/teamperm/internal/testenv"
	"github.com/teamperm/teamperm/store"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.Summary("store")
	os.Exit(code)
}

// postgresURL returns the URL of the test server: skipped without one on a
// laptop, a failure in CI (testenv).
func postgresURL(t testing.TB) string {
	t.Helper()
	return testenv.Env(t, "TEAMPERM_POSTGRES_URL", "PostgreSQL", "set it to a pgx URL; source .ci/services.sh starts one")
}

// freshSchema creates a schema of its own for the test in the database at
// u, drops it at the end, and returns u with its search_path set to it.
func freshSchema(t testing.TB, u string) (string, string) {
	t.Helper()
	var rnd [6]byte
	rand.Read(rnd[:])
	name := "store_" + hex.EncodeToString(rnd[:])
	admin, err := sql.Open("pgx", u)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE SCHEMA " + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", u)
		if err != nil {
			return
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for range 50 { // the server may be restarting
			if _, err := db.ExecContext(ctx, "DROP SCHEMA "+name+" CASCADE"); err == nil {
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	q := p.Query()
	q.Set("search_path", name)
	p.RawQuery = q.Encode()
	return p.String(), name
}

type engine struct {
	name string
	open func(t testing.TB, opts store.Options) *store.Store
}

// engines are SQLite and PostgreSQL, each opened on a fresh database.
// Without a PostgreSQL server, its subtests skip (fail under CI).
func engines(t *testing.T) []engine {
	out := []engine{{"sqlite", func(t testing.TB, opts store.Options) *store.Store {
		s, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "teamperm.db"), opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}}}
	return append(out, engine{"postgres", func(t testing.TB, opts store.Options) *store.Store {
		u, _ := freshSchema(t, postgresURL(t))
		s, err := store.OpenPostgres(context.Background(), u, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}})
}

var (
	org    = teamperm.IntID(1)
	owner  = teamperm.IntID(10)
	admin  = teamperm.IntID(11)
	member = teamperm.StringID("m-12")
)

// seed creates organisation 1 on plan with an owner, an admin and a
// member who may export contacts.
func seed(t testing.TB, s *store.Store, plan teamperm.Plan) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.CreateOrganization(ctx, org, plan); err != nil {
		t.Fatal(err)
	}
	for _, st := range []teamperm.Settings{
		{Member: owner, Role: teamperm.RoleOwner},
		{Member: admin, Role: teamperm.RoleAdmin},
		{Member: member, Role: teamperm.RoleMember, Grants: teamperm.PermissionSetOf(teamperm.ContactExport)},
	} {
		if _, err := s.AddMember(ctx, org, st, teamperm.ID{}); err != nil {
			t.Fatal(err)
		}
	}
}

// compiled loads and compiles a member.
func compiled(t testing.TB, s *store.Store, id teamperm.ID) *teamperm.Member {
	t.Helper()
	o, st, err := s.Load(context.Background(), org, id)
	if err != nil {
		t.Fatal(err)
	}
	m, err := teamperm.Compile(o, st)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestStore(t *testing.T) {
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			cache := &recorder{}
			s := e.open(t, store.Options{})
			s.Subscribe(cache)
			seed(t, s, teamperm.PlanPro)
			if _, err := s.CreateOrganization(ctx, org, teamperm.PlanFree); !errors.Is(err, store.ErrConflict) {
				t.Errorf("creating it twice: %v, want ErrConflict", err)
			}
			if _, err := s.AddMember(ctx, org, teamperm.Settings{Member: admin, Role: teamperm.RoleMember}, teamperm.ID{}); !errors.Is(err, store.ErrConflict) {
				t.Errorf("adding a member twice: %v, want ErrConflict", err)
			}
			if _, _, err := s.Load(ctx, org, teamperm.IntID(404)); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Load(404): %v, want ErrNotFound", err)
			}
			if !compiled(t, s, member).Has(teamperm.ContactExport) {
				t.Fatal("the grant does not apply")
			}

			// An owner revokes the export.
			c, err := s.ApplyEdits(ctx, compiled(t, s, owner), member, 0, teamperm.Deny{Permission: teamperm.ContactExport})
			if err != nil {
				t.Fatal(err)
			}
			if c.After.Revision != 1 || compiled(t, s, member).Has(teamperm.ContactExport) {
				t.Errorf("after the revocation: revision %d, export still allowed", c.After.Revision)
			}
			if got, want := cache.last(), "member 1 \"m-12\""; got != want {
				t.Errorf("the process's cache was told %q, want %q", got, want)
			}

			// A batch decided on revision 0 again: a conflict, nothing
			// changes.
			if _, err := s.ApplyEdits(ctx, compiled(t, s, owner), member, 0, teamperm.Grant{Permission: teamperm.ContactExport}); !errors.Is(err, store.ErrConflict) {
				t.Errorf("stale batch: %v, want ErrConflict", err)
			}
			// An admin demoted meanwhile, acting with its old member.
			staleAdmin := compiled(t, s, admin)
			if _, err := s.ApplyEdits(ctx, compiled(t, s, owner), admin, 0, teamperm.SetRole{Role: teamperm.RoleMember}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.ApplyEdits(ctx, staleAdmin, member, 1, teamperm.ClearOverride{Permission: teamperm.ContactExport}); !errors.Is(err, teamperm.ErrStaleMember) {
				t.Errorf("demoted admin: %v, want ErrStaleMember", err)
			}
			// Refused by teamperm: a member edits nobody.
			if _, err := s.ApplyEdits(ctx, compiled(t, s, member), admin, 1, teamperm.Deny{Permission: teamperm.ChatSend}); !errors.Is(err, teamperm.ErrEditNotAllowed) {
				t.Errorf("member editing: %v, want ErrEditNotAllowed", err)
			}

			// A downgrade bumps the organisation's revision: actors
			// compiled before are stale.
			ownerBefore := compiled(t, s, owner)
			o, err := s.SetPlan(ctx, org, 1, teamperm.PlanStarter, owner)
			if err != nil || o.Revision != 2 || o.Features != 0 {
				t.Fatalf("SetPlan = %+v, %v", o, err)
			}
			if got, want := cache.last(), "organization 1"; got != want {
				t.Errorf("the process's cache was told %q, want %q", got, want)
			}
			if _, err := s.SetPlan(ctx, org, 1, teamperm.PlanPro, owner); !errors.Is(err, store.ErrConflict) {
				t.Errorf("plan change on a stale revision: %v, want ErrConflict", err)
			}
			if _, err := s.ApplyEdits(ctx, ownerBefore, admin, 1, teamperm.SetRole{Role: teamperm.RoleAdmin}); !errors.Is(err, teamperm.ErrStaleMember) {
				t.Errorf("owner compiled before the plan change: %v, want ErrStaleMember", err)
			}
			if _, err := s.ApplyEdits(ctx, compiled(t, s, owner), member, 1, teamperm.Grant{Permission: teamperm.ChatAssign}); !errors.Is(err, teamperm.ErrUpgradeRequired) {
				t.Errorf("fine-grained edit on Starter: %v, want ErrUpgradeRequired", err)
			}
			if o2, err := s.SetPlan(ctx, org, 0, teamperm.PlanStarter, teamperm.ID{}); err != nil || o2 != o {
				t.Errorf("setting the same plan: %+v, %v; want %+v unchanged", o2, err, o)
			}

			log, err := s.Log(ctx, org)
			if err != nil {
				t.Fatal(err)
			}
			var kinds []store.Kind
			for _, e := range log {
				kinds = append(kinds, e.Kind)
			}
			want := []store.Kind{store.KindOrganization, store.KindMember, store.KindMember, store.KindMember, store.KindEdits, store.KindEdits, store.KindPlan}
			if fmt.Sprint(kinds) != fmt.Sprint(want) {
				t.Errorf("log kinds %v, want %v", kinds, want)
			}
			if e := log[4]; e.Actor != owner || e.Member != member || e.Before.Revision != 0 || e.After.Revision != 1 || len(e.Edits) != 1 {
				t.Errorf("log entry 5: %+v", e)
			}
			if err := s.Verify(ctx, org); err != nil {
				t.Errorf("Verify: %v", err)
			}
		})
	}
}

// recorder is an Invalidator that remembers what it was told.
type recorder struct {
	mu   sync.Mutex
	told []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.told = append(r.told, s)
}

func (r *recorder) last() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.told) == 0 {
		return ""
	}
	return r.told[len(r.told)-1]
}

func (r *recorder) InvalidateMember(org, member teamperm.ID) {
	r.add(fmt.Sprintf("member %v %v", org, member))
}
func (r *recorder) InvalidateOrganization(org teamperm.ID) {
	r.add(fmt.Sprintf("organization %v", org))
}
func (r *recorder) InvalidateAll() { r.add("all") }

// TestConcurrentEdits: several goroutines, on several connections, apply
// random batches to the same few members, each decided on the revision it
// read, while one of them changes the plan now and then. Afterwards:
// every accepted batch is in the log exactly once and in order, no update
// was lost (each member's revision is one plus its accepted batches),
// every refused batch left nothing behind, and the log replays to the
// stored settings.
func TestConcurrentEdits(t *testing.T) {
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			s := e.open(t, store.Options{})
			seed(t, s, teamperm.PlanPro)
			targets := []teamperm.ID{member}
			for i := range 2 {
				id := teamperm.IntID(int64(100 + i))
				targets = append(targets, id)
				if _, err := s.AddMember(ctx, org, teamperm.Settings{Member: id, Role: teamperm.RoleMember}, owner); err != nil {
					t.Fatal(err)
				}
			}
			var (
				mu       sync.Mutex
				accepted = map[teamperm.ID]int{}
				refused  = map[string]int{}
				plans    int
			)
			rounds := 40
			if testing.Short() {
				rounds = 10
			}
			var wg sync.WaitGroup
			for g := range 6 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := mrand.New(mrand.NewPCG(uint64(g), 7))
					actorID := []teamperm.ID{owner, admin}[g%2]
					for range rounds {
						if g == 0 && r.IntN(8) == 0 {
							o, _, err := s.Organization(ctx, org)
							if err != nil {
								t.Error(err)
								return
							}
							// A downgrade and, a moment later, the upgrade back.
							for _, plan := range []teamperm.Plan{teamperm.PlanStarter, teamperm.PlanPro} {
								o2, err := s.SetPlan(ctx, org, o.Revision, plan, owner)
								if err != nil {
									t.Error(err)
									return
								}
								if o2.Revision != o.Revision { // not the plan it had
									mu.Lock()
									plans++
									mu.Unlock()
								}
								o = o2
							}
							continue
						}
						target := targets[r.IntN(len(targets))]
						_, st, err := s.Load(ctx, org, target)
						if err != nil {
							t.Error(err)
							return
						}
						actor := compiled(t, s, actorID)
						_, err = s.ApplyEdits(ctx, actor, target, st.Revision, randomEdits(r)...)
						mu.Lock()
						switch {
						case err == nil:
							accepted[target]++
						case errors.Is(err, store.ErrConflict):
							refused["conflict"]++
						case errors.Is(err, teamperm.ErrStaleMember):
							refused["stale actor"]++
						case errors.Is(err, teamperm.ErrEditNotAllowed), errors.Is(err, teamperm.ErrUpgradeRequired):
							refused["not allowed"]++
						default:
							t.Errorf("ApplyEdits: %v", err)
						}
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			t.Logf("accepted %v, refused %v, plan changes %d", accepted, refused, plans)
			if refused["conflict"] == 0 {
				t.Log("no conflict happened: the test did not race")
			}
			log, err := s.Log(ctx, org)
			if err != nil {
				t.Fatal(err)
			}
			edits := 0
			for _, e := range log {
				if e.Kind == store.KindEdits {
					edits++
				}
			}
			total := 0
			for _, target := range targets {
				total += accepted[target]
				_, st, err := s.Load(ctx, org, target)
				if err != nil {
					t.Fatal(err)
				}
				if want := uint64(accepted[target]); st.Revision != want {
					t.Errorf("member %v at revision %d, want %d (the accepted batches): an update was lost or a refused one stored", target, st.Revision, want)
				}
			}
			if edits != total {
				t.Errorf("%d batches logged, %d accepted", edits, total)
			}
			if o, _, _ := s.Organization(ctx, org); o.Revision != uint64(1+plans) {
				t.Errorf("organization at revision %d, want %d", o.Revision, 1+plans)
			}
			if err := s.Verify(ctx, org); err != nil {
				t.Errorf("Verify: %v", err)
			}
		})
	}
}

// randomEdits is a batch of one to three edits an owner may always make
// to a member on Pro.
func randomEdits(r *mrand.Rand) []teamperm.Edit {
	var out []teamperm.Edit
	for range 1 + r.IntN(3) {
		p := teamperm.Permission(1 + r.IntN(17))
		switch r.IntN(5) {
		case 0:
			out = append(out, teamperm.Grant{Permission: p})
		case 1:
			out = append(out, teamperm.Deny{Permission: p})
		case 2:
			out = append(out, teamperm.ClearOverride{Permission: p})
		case 3:
			out = append(out, teamperm.SetOnlyAssignedChats{On: r.IntN(2) == 0})
		default:
			out = append(out, teamperm.SetInstances{Access: teamperm.Only(teamperm.IntID(int64(1+r.IntN(3))), teamperm.IntID(9))})
		}
	}
	return out
}

// TestLoaderContract: the store keeps the teamperm.Loader contract.
func TestLoaderContract(t *testing.T) {
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			s := e.open(t, store.Options{})
			seed(t, s, teamperm.PlanPro)
			if err := teamperm.CheckLoader(context.Background(), s, org, member, teamperm.StringID("nobody")); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestChangeLogAppendOnly: the change log refuses every UPDATE and DELETE
// (and, on PostgreSQL, TRUNCATE) in the database itself, whoever sends it;
// the entries are unchanged afterwards.
func TestChangeLogAppendOnly(t *testing.T) {
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			s := e.open(t, store.Options{})
			seed(t, s, teamperm.PlanPro)
			ctx := context.Background()
			dump := func() string {
				rows, err := s.DB().QueryContext(ctx, `SELECT org, seq, kind, COALESCE(member, ''), revision, after FROM teamperm_changes ORDER BY org, seq`)
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				var b strings.Builder
				for rows.Next() {
					var org, kind, member, after string
					var seq, rev int64
					if err := rows.Scan(&org, &seq, &kind, &member, &rev, &after); err != nil {
						t.Fatal(err)
					}
					fmt.Fprintf(&b, "%s %d %s %s %d %s\n", org, seq, kind, member, rev, after)
				}
				if err := rows.Err(); err != nil {
					t.Fatal(err)
				}
				return b.String()
			}
			before := dump()
			if strings.Count(before, "\n") != 4 {
				t.Fatalf("want 4 entries (the organisation and three members), got:\n%s", before)
			}
			stmts := []string{
				`UPDATE teamperm_changes SET after = '{}'`,
				`UPDATE teamperm_changes SET revision = revision + 1 WHERE seq = 2`,
				`DELETE FROM teamperm_changes`,
				`DELETE FROM teamperm_changes WHERE seq = 4`,
			}
			// An upsert whose DO UPDATE rewrites an entry, on both.
			const rows = `SELECT org, seq, kind, member, actor, at, revision, edits, before, '{}' FROM teamperm_changes WHERE seq = 2`
			stmts = append(stmts, `INSERT INTO teamperm_changes `+rows+` ON CONFLICT (org, seq) DO UPDATE SET after = '{}'`)
			if e.name == "postgres" {
				stmts = append(stmts, `TRUNCATE teamperm_changes`)
			} else {
				// SQLite's REPLACE deletes the old row without firing
				// DELETE triggers, and UPDATE OR REPLACE likewise.
				stmts = append(stmts,
					`INSERT OR REPLACE INTO teamperm_changes `+rows,
					`REPLACE INTO teamperm_changes `+rows,
					`UPDATE OR REPLACE teamperm_changes SET after = '{}' WHERE seq = 2`)
			}
			for _, stmt := range stmts {
				_, err := s.DB().ExecContext(ctx, stmt)
				if err == nil || !strings.Contains(err.Error(), "append-only") {
					t.Errorf("%s: %v, want the append-only refusal", stmt, err)
				}
			}
			if after := dump(); after != before {
				t.Errorf("the change log changed:\n%s\nwant:\n%s", after, before)
			}
			// The store still appends.
			o, _, err := s.Organization(ctx, org)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.SetPlan(ctx, org, o.Revision, teamperm.PlanStarter, owner); err != nil {
				t.Fatal(err)
			}
			if err := s.Verify(ctx, org); err != nil {
				t.Errorf("Verify after the refused statements: %v", err)
			}
			if n := strings.Count(dump(), "\n"); n != 5 {
				t.Errorf("after a plan change: %d entries, want 5", n)
			}
		})
	}
}

// TestOpenSQLiteConcurrently: processes that start together on a new
// SQLite file (here goroutines, each with its own pool) all open and
// migrate it, and leave it in WAL mode.
func TestOpenSQLiteConcurrently(t *testing.T) {
	ctx := context.Background()
	for round := range 5 {
		path := filepath.Join(t.TempDir(), "teamperm.db")
		errs := make(chan error, 6)
		for range 6 {
			go func() {
				s, err := store.OpenSQLite(ctx, path, store.Options{})
				if err == nil {
					var mode string
					err = s.DB().QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode)
					if err == nil && mode != "wal" {
						err = fmt.Errorf("journal mode %q, want wal", mode)
					}
					s.Close()
				}
				errs <- err
			}()
		}
		for range 6 {
			if err := <-errs; err != nil {
				t.Errorf("round %d: %v", round, err)
			}
		}
	}
}
