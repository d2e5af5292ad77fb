// Command inbox is a small shared WhatsApp inbox and CRM service that
// shows teamperm end to end: every list is an SQL query scoped by the
// member's teamperm.Scope, every action on a record is decided by
// EvaluateRecord (404 for a hidden record, 403 for a missing
// permission), and permission edits go through teamperm.ApplyEdits into
// a change log, through teamperm's store module; compiled members are
// kept in a teamperm.Cache.
//
// Without flags it seeds a fresh SQLite database in a temporary
// directory (pure Go, nothing to install), prints what each member of the
// team may do and see, then switches the plan from Pro to Starter,
// showing teamperm.Impact's report first, and exits:
//
//	go run ./examples/inbox
//
// With -http it serves the JSON API and the HTML pages on a loopback
// address instead:
//
//	go run ./examples/inbox -http 127.0.0.1:8080
//	curl -H 'X-Member: 4' http://127.0.0.1:8080/api/conversations
//
// GET /api/events is the live view: a stream of server-sent events with
// every new message the member may see (teamperm.Audience). A customer
// writing in is played by POST /demo/incoming:
//
//	curl -N -H 'X-Member: 8' http://127.0.0.1:8080/api/events
//	curl -d '{"conversation_id":10,"body":"hello"}' http://127.0.0.1:8080/demo/incoming
//
// -db keeps the SQLite database in a file (seeded when new);
// -postgres runs on PostgreSQL instead, in a fresh schema dropped on exit.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	tpstore "github.com/teamperm/teamperm/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "inbox:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := flag.NewFlagSet("inbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("http", "", "serve HTTP on this loopback `address` (such as 127.0.0.1:8080) instead of printing the demo")
	dbFile := fs.String("db", "", "keep the SQLite database in this `file` (seeded when new) instead of a temporary one")
	pgURL := fs.String("postgres", "", "use PostgreSQL at this `URL` (a fresh schema, dropped on exit) instead of SQLite")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *addr != "" {
		if err := loopback(*addr); err != nil {
			return err
		}
	}

	store, closeStore, err := open(ctx, *dbFile, *pgURL)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeStore()) }()

	if *addr == "" {
		return demo(ctx, stdout, store)
	}
	return serve(ctx, *addr, store, stdout, stderr)
}

// open opens the store the flags ask for, migrated and seeded, and
// returns what closes (and, for throwaway databases, removes) it.
func open(ctx context.Context, dbFile, pgURL string) (*SQLStore, func() error, error) {
	var (
		store   *SQLStore
		cleanup = func() error { return nil }
		err     error
	)
	switch {
	case pgURL != "":
		var drop func() error
		if store, drop, err = OpenPostgres(ctx, pgURL, "inbox_"); err != nil {
			return nil, nil, err
		}
		cleanup = drop
	case dbFile != "":
		if store, err = OpenSQLite(dbFile); err != nil {
			return nil, nil, err
		}
	default:
		dir, err := os.MkdirTemp("", "teamperm-inbox-")
		if err != nil {
			return nil, nil, err
		}
		cleanup = func() error { return os.RemoveAll(dir) }
		if store, err = OpenSQLite(filepath.Join(dir, "inbox.db")); err != nil {
			cleanup()
			return nil, nil, err
		}
	}
	closeAll := func() error { return errors.Join(store.Close(), cleanup()) }
	created, err := store.Migrate(ctx)
	if err == nil && created {
		err = Seed(ctx, store)
	}
	if err != nil {
		return nil, nil, errors.Join(err, closeAll())
	}
	return store, closeAll, nil
}

// loopback refuses an address that is not on the loopback interface:
// this service believes whatever member a request names.
func loopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-http %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("-http %q: not a loopback address; the service trusts the X-Member header, so it listens on 127.0.0.1 or [::1] only", addr)
}

func serve(ctx context.Context, addr string, store *SQLStore, stdout, stderr io.Writer) error {
	log := slog.New(slog.NewTextHandler(stderr, nil))
	server := NewServer(store, time.Now, log)
	if store.url != "" {
		// On PostgreSQL, several replicas of the service may share the
		// database: each listens for the changes the others commit and
		// drops them from its cache and its live view's audiences
		// (store.Listen says how stale a replica can be).
		go tpstore.Listen(ctx, store.url, server.Invalidator(), tpstore.ListenOptions{})
	}
	srv := &http.Server{
		Handler:           server.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second, // the live event stream lifts it for itself
	}
	srv.RegisterOnShutdown(server.Close)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	url := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "inbox: serving on %s (%s); Ctrl-C stops.\n", url, store)
	fmt.Fprintf(stdout, "  open %s/ in a browser and sign in as a team member, or:\n", url)
	fmt.Fprintf(stdout, "  curl -H 'X-Member: %d' %s/api/conversations\n", sam, url)
	fmt.Fprintf(stdout, "  curl -N -H 'X-Member: %d' %s/api/events   (the live view; POST /demo/incoming plays a customer)\n", carl, url)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}
