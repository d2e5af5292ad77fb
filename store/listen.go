package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/teamperm/teamperm"
)

// ListenOptions configure [Listen]. The zero value is fine.
type ListenOptions struct {
	// Channel is the notification channel: the stores' [Options.Channel];
	// "" means [DefaultChannel].
	Channel string
	// Heartbeat is how long the listener waits for a notification before
	// it checks that its connection is still alive, and how often it
	// drops everything while it cannot connect; 0 means one second. It
	// bounds how stale a process can be when its connection dies
	// silently: see [Listen].
	Heartbeat time.Duration
	// OnState, if not nil, is called from the listening goroutine when it
	// starts listening (err nil) and when it loses its connection or
	// fails to connect (err says why).
	OnState func(err error)
}

// ApplicationName is the application_name of the listening connection,
// by which an operator (or a test) finds it in pg_stat_activity.
const ApplicationName = "teamperm-listener"

// Listen keeps a connection to the PostgreSQL database at url that
// listens to the stores' notifications, and invalidates inv (the
// process's [teamperm.Cache]) for every change any process commits: the
// member edited, the organisation whose plan changed. It returns only when
// ctx is done (with ctx's error); run it in its own goroutine for the life
// of the process.
//
// Notifications are delivered only to a connection that listens, so
// whenever the connection is lost (the server restarted, the backend was
// terminated, the network broke) the process may have missed changes.
// Listen then drops everything inv holds and reconnects at once; while it
// cannot, it drops everything again every Heartbeat and retries. Once it
// listens again it drops everything again: every member is then loaded afresh, so the cache
// catches up with every revision committed meanwhile. (A cache cannot
// tell which organisations changed while nobody was listening, so it
// drops them all.)
//
// The staleness bound. Once a change has committed, a process serves
// members compiled before it for at most:
//   - the notification's delay while the connection is alive (a few
//     milliseconds on one network; the multi-process test measures it);
//   - about two Heartbeats if the connection dies without the process
//     noticing at once (a silent network failure: the next heartbeat's
//     ping fails within a Heartbeat of being sent);
//   - a Heartbeat while it cannot reconnect (members loaded meanwhile
//     come straight from the database, and are dropped every Heartbeat).
//
// A broken connection that the kernel reports (a restarted server, a
// terminated backend) is noticed at once. Within the bound, a client that
// must see its own change sends its revision: [teamperm.Cache.MemberAtLeast].
func Listen(ctx context.Context, url string, inv Invalidator, opts ListenOptions) error {
	if opts.Channel == "" {
		opts.Channel = DefaultChannel
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = time.Second
	}
	state := func(err error) {
		if opts.OnState != nil {
			opts.OnState(err)
		}
	}
	for {
		listened, err := listen(ctx, url, inv, opts, state)
		inv.InvalidateAll()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		state(err)
		if listened {
			continue // it was listening: try again at once
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(opts.Heartbeat):
		}
	}
}

// listen connects, listens and invalidates until the connection fails.
// It reports whether it listened.
func listen(ctx context.Context, url string, inv Invalidator, opts ListenOptions, state func(error)) (bool, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return false, err
	}
	cfg.RuntimeParams["application_name"] = ApplicationName
	if cfg.ConnectTimeout == 0 || cfg.ConnectTimeout > opts.Heartbeat {
		cfg.ConnectTimeout = opts.Heartbeat
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false, fmt.Errorf("store: listener: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{opts.Channel}.Sanitize()); err != nil {
		return false, fmt.Errorf("store: listener: %w", err)
	}
	// Listening now: whatever changed before is in the database, and
	// whatever changes from now on is notified.
	inv.InvalidateAll()
	state(nil)
	for {
		wctx, cancel := context.WithTimeout(ctx, opts.Heartbeat)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			apply(inv, n.Payload)
			continue
		case ctx.Err() != nil:
			return true, ctx.Err()
		case !errors.Is(err, context.DeadlineExceeded) || conn.IsClosed():
			return true, fmt.Errorf("store: listener: %w", err)
		}
		// Quiet for a heartbeat: is the connection still alive?
		pctx, cancel := context.WithTimeout(ctx, opts.Heartbeat)
		err = conn.Ping(pctx)
		cancel()
		if err != nil {
			return true, fmt.Errorf("store: listener: ping: %w", err)
		}
	}
}

// apply invalidates what a notification names; a payload it cannot read
// drops everything.
func apply(inv Invalidator, payload string) {
	var n struct {
		Org    string          `json:"org"`
		Member json.RawMessage `json:"member"`
		Kind   Kind            `json:"kind"`
	}
	var org, member teamperm.ID
	if json.Unmarshal([]byte(payload), &n) != nil || n.Org == "" || org.UnmarshalJSON([]byte(n.Org)) != nil {
		inv.InvalidateAll()
		return
	}
	if n.Kind == KindOrganization || n.Kind == KindPlan || len(n.Member) == 0 {
		inv.InvalidateOrganization(org)
		return
	}
	var key string
	if json.Unmarshal(n.Member, &key) != nil || member.UnmarshalJSON([]byte(key)) != nil {
		inv.InvalidateOrganization(org)
		return
	}
	inv.InvalidateMember(org, member)
}
