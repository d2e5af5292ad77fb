// Package testenv is what teamperm's test suites share about the world
// outside the test: the database servers and the browser some tests need.
// A test asks for one with [Require]: when it is missing, the test fails if
// the environment variable CI is set (CI must prove everything), and is
// skipped otherwise; [Summary], called from TestMain, then prints one line
// naming what was skipped, so that a plain "go test" (whose "ok" hides a
// passing package's output) does not pass for proof.
//
// It is internal to the module tree: the root's and the other modules'
// tests import it.
package testenv

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
)

var skipped struct {
	sync.Mutex
	what []string
}

// Require returns value if it is not empty. Otherwise it fails t when CI
// is set, and skips t (remembering what for [Summary]) when it is not.
// what names the missing thing ("PostgreSQL (TEAMPERM_POSTGRES_URL)"),
// hint says how to provide it.
func Require(t testing.TB, value, what, hint string) string {
	t.Helper()
	if value != "" {
		return value
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is missing and CI is set: CI must run this test (%s)", what, hint)
	}
	skipped.Lock()
	if !slices.Contains(skipped.what, what) {
		skipped.what = append(skipped.what, what)
	}
	skipped.Unlock()
	t.Skipf("%s is missing, so this test is skipped (%s)", what, hint)
	return ""
}

// Env is [Require] for the value of an environment variable.
func Env(t testing.TB, name, what, hint string) string {
	t.Helper()
	return Require(t, os.Getenv(name), what+" ("+name+")", hint)
}

// Summary prints one line naming what [Require] skipped in this test
// binary, if anything, where a person running "go test" sees it: on the
// terminal when there is one (go test shows a passing package's output
// only with -v), and on standard error as well.
func Summary(pkg string) {
	skipped.Lock()
	defer skipped.Unlock()
	if len(skipped.what) == 0 {
		return
	}
	slices.Sort(skipped.what)
	line := fmt.Sprintf("%s: SKIPPED, not proven here: %s (CI runs them; locally: source .ci/services.sh)\n", pkg, strings.Join(skipped.what, ", "))
	io.WriteString(os.Stderr, line)
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		io.WriteString(tty, line)
		tty.Close()
	}
}
