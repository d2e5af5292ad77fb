package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/demo.golden")

const golden = "testdata/demo.golden"

// TestDemoGolden runs the command without flags, as the README does, and
// compares its output with testdata/demo.golden.
func TestDemoGolden(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	compareGolden(t, out.String())
}

// TestDemoOnPostgres runs the demo on PostgreSQL: the same counts, the
// same report; only the engine's name and its placeholders differ.
func TestDemoOnPostgres(t *testing.T) {
	url := postgresURL(t)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-postgres", url}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	got := strings.Replace(out.String(), "on PostgreSQL,", "on SQLite,", 1)
	got = regexp.MustCompile(`\$\d+`).ReplaceAllString(got, "?")
	// Text values compare byte for byte in each dialect's own form:
	// PostgreSQL binds such a value twice.
	got = regexp.MustCompile(`\((\S+) = \? AND \S+::text COLLATE "C" = \?\)`).ReplaceAllString(got, "$1 COLLATE BINARY = ?")
	got = strings.NewReplacer(" member member ", " member ", " automation automation ", " automation ").Replace(got)
	compareGolden(t, got)
}

func compareGolden(t *testing.T, got string) {
	t.Helper()
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test with -update to create it)", err)
	}
	if got == string(want) {
		return
	}
	gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(gl) || i < len(wl); i++ {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Fatalf("output differs from %s at line %d (run go test with -update if intended):\n-want %q\n+got  %q", golden, i+1, w, g)
		}
	}
}

// TestServe starts the command with -http on a free loopback port and
// -db, asks it something, and stops it as Ctrl-C would.
func TestServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	db := filepath.Join(t.TempDir(), "inbox.db")
	go func() {
		done <- run(ctx, []string{"-http", "127.0.0.1:0", "-db", db}, pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	url := regexp.MustCompile(`http://127\.0\.0\.1:\d+`).FindString(line)
	if url == "" {
		t.Fatalf("no URL in %q", line)
	}
	req, _ := http.NewRequest("GET", url+"/api/me", nil)
	req.Header.Set("X-Member", "4")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"name":"Sam Silva"`) {
		t.Errorf("GET /api/me: %d %s", resp.StatusCode, body)
	}
	// A live stream left open does not hold the shutdown up.
	req, _ = http.NewRequest("GET", url+"/api/events", nil)
	req.Header.Set("X-Member", "4")
	events, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer events.Body.Close()
	if line, err := bufio.NewReader(events.Body).ReadString('\n'); err != nil || line != "retry: 2000\n" {
		t.Fatalf("GET /api/events: %q %v", line, err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not stop")
	}
	// The file was seeded once and is reused: no second seed.
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-db", db}, &out, io.Discard); err != nil {
		t.Fatalf("demo on the kept database: %v", err)
	}
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-http", "0.0.0.0:8080"},
		{"-http", ":8080"},
		{"-http", "192.168.1.5:80"},
		{"-http", "nonsense"},
		{"extra"},
		{"-nope"},
	} {
		if err := run(context.Background(), args, io.Discard, io.Discard); err == nil {
			t.Errorf("run %q: no error", args)
		}
	}
}
