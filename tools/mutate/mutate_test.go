package main

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixtureFiles is the content of every file under testdata/fixture.
func fixtureFiles(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		out[p] = sha256.Sum256(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestFixtureRun runs the tool over a small module with one function per
// operator and checks the mutants found, the outcomes, the report and that
// no file of the module changed.
func TestFixtureRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the fixture's tests")
	}
	dir, err := filepath.Abs("testdata/fixture")
	if err != nil {
		t.Fatal(err)
	}
	before := fixtureFiles(t, dir)
	t.Chdir(dir)
	state := filepath.Join(t.TempDir(), "state.jsonl")
	report := filepath.Join(t.TempDir(), "report.md")
	args := []string{"-files", "lib.go", "-equivalent", "equivalent.txt", "-integration", "", "-state", state, "-report", report, "-min", "90"}
	if err := run(args); err != nil {
		t.Fatal(err)
	}
	rep, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	text := string(rep)
	t.Log(text)
	// Max: if, negated and boundary comparison (equivalent); Both:
	// logical, return; Index: comparison, if, continue; Low: return,
	// comparison, constant: all killed. Sum's constant is untested.
	for _, want := range []string{
		"| lib.go | 12 | 12 | 10 | 1 | 1 | 90.9% |",
		"key: `lib.go|Sum|const|0  ->  1|1`",
		"for a == b both branches return the same value",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(text, "Listed as equivalent but killed") {
		t.Errorf("report flags a listed equivalent as killed")
	}
	// A second run resumes: nothing left to run, the same report.
	if err := run(args); err != nil {
		t.Fatal(err)
	}
	again, _ := os.ReadFile(report)
	if strip(string(again)) != strip(text) {
		t.Errorf("resumed report differs:\n%s\nwant\n%s", again, text)
	}
	// The score is checked against -min.
	if err := run(append(args, "-min", "99")); err == nil || !strings.Contains(err.Error(), "below the target") {
		t.Errorf("run with -min 99: %v, want a score below the target", err)
	}
	if after := fixtureFiles(t, dir); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("the run changed files of the module")
	}
}

// strip drops the report's first lines (they hold the run's duration).
func strip(s string) string {
	_, rest, _ := strings.Cut(s, "| file")
	return rest
}

// TestFixtureList checks discovery alone: every operator, nothing in
// constants, array lengths or literal keys.
func TestFixtureList(t *testing.T) {
	dir, err := filepath.Abs("testdata/fixture")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	byPath, roots, err := goList(dir, []string{"."})
	if err != nil {
		t.Fatal(err)
	}
	tg, err := loadTarget(dir, roots[0], byPath)
	if err != nil {
		t.Fatal(err)
	}
	tg.mutated = []string{"lib.go"}
	all := map[string]bool{}
	for _, o := range AllOps {
		all[o] = true
	}
	ms, schemas, err := tg.discover(1, all)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, m := range ms {
		count[m.Op]++
		if m.Line >= 40 {
			t.Errorf("mutant %s in a constant declaration or array literal", m.Key)
		}
	}
	want := map[string]int{
		OpIfNegate: 2, OpCmpNegate: 3, OpCmpBoundary: 1, OpLogical: 1,
		OpReturnBool: 2, OpBranch: 1, OpConst: 2, // -1 is not mutated: its 1 is untyped
	}
	if fmt.Sprint(count) != fmt.Sprint(want) {
		t.Errorf("operators %v, want %v", count, want)
	}
	src := string(schemas["lib.go"])
	for _, s := range []string{"const width = 1", "[2]int{0: 1, 1: 0}", "mutateConst_[level]("} {
		if !strings.Contains(src, s) {
			t.Errorf("schema lacks %q:\n%s", s, src)
		}
	}
}
