package store_test

import (
	"context"
	"database/sql"
	"sync/atomic"
	"testing"
	"time"

	"github.com/teamperm/teamperm"
	"github.com/teamperm/teamperm/store"
)

// TestListen: a change committed through one store reaches the cache of
// another process (here: another store and cache on other connections)
// through LISTEN/NOTIFY; when the listening connection is terminated the
// listener drops everything, reconnects and listens again.
func TestListen(t *testing.T) {
	u, schema := freshSchema(t, postgresURL(t))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	channel := "teamperm_" + schema
	writer, err := store.OpenPostgres(ctx, u, store.Options{Channel: channel})
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	seed(t, writer, teamperm.PlanPro)
	reader, err := store.OpenPostgres(ctx, u, store.Options{Channel: channel})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	cache := teamperm.NewCache(reader, 100)

	var listening, lost atomic.Int64
	done := make(chan error)
	go func() {
		done <- store.Listen(ctx, u, cache, store.ListenOptions{Channel: channel, Heartbeat: 200 * time.Millisecond, OnState: func(err error) {
			if err == nil {
				listening.Add(1)
			} else {
				lost.Add(1)
			}
		}})
	}()
	waitFor(t, "the listener to listen", func() bool { return listening.Load() == 1 })

	export := func() bool {
		m, err := cache.Member(ctx, org, member)
		if err != nil {
			t.Fatal(err)
		}
		return m.Has(teamperm.ContactExport)
	}
	if !export() {
		t.Fatal("the grant does not apply")
	}
	revoke := func(rev uint64, edit teamperm.Edit) {
		t.Helper()
		if _, err := writer.ApplyEdits(ctx, compiled(t, writer, owner), member, rev, edit); err != nil {
			t.Fatal(err)
		}
	}
	revoke(0, teamperm.Deny{Permission: teamperm.ContactExport})
	waitFor(t, "the revocation to reach the other cache", func() bool { return !export() })

	// The plan too.
	if _, err := writer.SetPlan(ctx, org, 0, teamperm.PlanStarter, owner); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the plan change to reach the other cache", func() bool {
		m, _ := cache.Member(ctx, org, member)
		return m.Org().Revision == 2
	})

	// Terminate the listening connection: it comes back, and a change
	// made meanwhile is not lost.
	admin, err := sql.Open("pgx", u)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, store.ApplicationName); err != nil {
		t.Fatal(err)
	}
	if _, err := writer.SetPlan(ctx, org, 0, teamperm.PlanPro, owner); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the listener to notice and listen again", func() bool { return lost.Load() >= 1 && listening.Load() >= 2 })
	waitFor(t, "the cache to catch up", func() bool {
		m, _ := cache.Member(ctx, org, member)
		return m.Org().Revision == 3
	})
	cancel()
	if err := <-done; err != context.Canceled {
		t.Errorf("Listen returned %v, want context.Canceled", err)
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
