// Command mutate is teamperm's mutation-testing step: it injects one fault
// at a time into the library (a flipped comparison, && and || swapped, an
// if condition negated, a returned boolean flipped, a continue or break
// dropped, a 0 or 1 constant changed) and checks that a test fails.
//
// The working tree is never written to: the tool compiles a mutant schema
// (every mutant of the chosen files at once, each behind a switch read from
// the environment variable TEAMPERM_MUTANT) into test binaries with
// `go test -c -overlay`, then runs the binaries once per mutant. A crashed
// run leaves at most a directory under $TMPDIR.
//
// For each mutant it runs the tests of the mutated package, then the other
// packages of the root module that import it, then, for mutants in the SQL
// renderer and checker files, the integration tests (SQLite, PostgreSQL and
// MariaDB: start them with `source .ci/services.sh`). The first failing
// test kills the mutant.
//
// Run it from the repository root:
//
//	go run ./tools/mutate                       # every mutant of the default files
//	go run ./tools/mutate -rate 0.3 -seed 1     # a 30% sample of each file
//	go run ./tools/mutate -files id.go,sql.go   # some files only
//	go run ./tools/mutate -ci                   # CI's fixed sample and threshold
//
// Results are appended to a state file (default .mutate/state.jsonl, ignored
// by git) as they come: a run that is interrupted resumes where it stopped.
// A mutant killed before stays killed while its file is unchanged (tests
// only grow); a survivor is run again when any test or source changed.
// Survivors that no test can kill because they do not change behaviour are
// listed, each with a one-line justification, in tools/mutate/equivalent.txt;
// the score is killed / (sampled - equivalent).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DefaultFiles are the files mutated by default: the engine, the renderers
// and checkers, the decoders, the member cache, and the HTTP glue.
var DefaultFiles = []string{
	"audience.go", "audit.go", "cache.go", "check.go", "classes.go",
	"codes.go", "decision.go", "edit.go", "edit_json.go", "filter.go",
	"id.go", "idset.go", "impact.go", "json.go", "mapping.go", "member.go",
	"permission.go", "plan.go", "role.go", "schema.go", "scope.go",
	"settings.go", "settings_json.go", "sql.go", "teamhttp/teamhttp.go",
}

// DefaultDBFiles are the files whose survivors are also run against the
// integration tests (real SQLite, PostgreSQL and MariaDB).
var DefaultDBFiles = []string{"check.go", "mapping.go", "schema.go", "sql.go"}

// CI's fixed sample: seed, size and the threshold it must reach.
const (
	ciSeed  = 15
	ciLimit = 24
	ciMin   = 95.0
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "mutate:", err)
		os.Exit(1)
	}
}

type config struct {
	root        string
	files       []string
	dbFiles     map[string]bool
	ops         map[string]bool
	seed        uint64
	rate        float64
	limit       int
	min         float64
	state       string
	report      string
	equivFile   string
	integration string
	list        bool
	fresh       bool
	verbose     bool
	keep        bool
	only        string
	baseline    bool
	recheck     bool
	timeout     time.Duration
}

func run(args []string) error {
	fs := flag.NewFlagSet("mutate", flag.ContinueOnError)
	c := &config{}
	files := fs.String("files", strings.Join(DefaultFiles, ","), "comma-separated files to mutate, relative to the module root")
	dbFiles := fs.String("db-files", strings.Join(DefaultDBFiles, ","), "files whose survivors also run the integration tests")
	ops := fs.String("ops", strings.Join(AllOps, ","), "comma-separated operators")
	fs.Uint64Var(&c.seed, "seed", 1, "sampling seed")
	fs.Float64Var(&c.rate, "rate", 1, "fraction of each file's mutants to run (a stratified sample, stable for a seed)")
	fs.IntVar(&c.limit, "limit", 0, "run at most this many of the sampled mutants, the lowest under the seed's hash (0: no limit)")
	fs.Float64Var(&c.min, "min", 0, "fail when the score (percent) is below this")
	fs.StringVar(&c.state, "state", ".mutate/state.jsonl", "state file for resuming (empty: none)")
	fs.StringVar(&c.report, "report", ".mutate/report.md", "write the report here too (empty: stdout only)")
	fs.StringVar(&c.equivFile, "equivalent", "tools/mutate/equivalent.txt", "equivalent mutants with justifications")
	fs.StringVar(&c.integration, "integration", "./integration", "integration test package for survivors in -db-files (empty: none)")
	fs.StringVar(&c.only, "only", "", "run only the mutants whose key contains this")
	fs.BoolVar(&c.list, "list", false, "list the sampled mutants and exit")
	fs.BoolVar(&c.fresh, "fresh", false, "ignore the state file's earlier results")
	fs.BoolVar(&c.verbose, "v", false, "print each mutant's outcome")
	fs.BoolVar(&c.keep, "keep", false, "keep the work directory (schema sources, overlay, binaries)")
	fs.BoolVar(&c.recheck, "recheck", false, "run survivors listed as equivalent again after a test changed (they are run again anyway when their file changes)")
	fs.BoolVar(&c.baseline, "baseline", true, "first run each test binary with no mutant: it must pass (its time sets the timeout)")
	fs.DurationVar(&c.timeout, "timeout", 2*time.Minute, "time limit of one test binary run, with -baseline=false")
	ci := fs.Bool("ci", false, fmt.Sprintf("CI's fixed sample: -seed %d -limit %d -min %g -baseline=false, no state file", ciSeed, ciLimit, ciMin))
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *ci {
		// CI's sample, where the command line does not say otherwise. CI
		// has just run every test: no baselines.
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		defaults := []struct {
			name string
			set  func()
		}{
			{"seed", func() { c.seed = ciSeed }},
			{"rate", func() { c.rate = 1 }},
			{"limit", func() { c.limit = ciLimit }},
			{"min", func() { c.min = ciMin }},
			{"state", func() { c.state = "" }},
			{"report", func() { c.report = "" }},
			{"baseline", func() { c.baseline = false }},
		}
		for _, d := range defaults {
			if !set[d.name] {
				d.set()
			}
		}
	}
	if c.rate <= 0 || c.rate > 1 {
		return fmt.Errorf("-rate %g: want 0 < rate <= 1", c.rate)
	}
	c.files = splitList(*files)
	c.dbFiles = map[string]bool{}
	for _, f := range splitList(*dbFiles) {
		c.dbFiles[f] = true
	}
	c.ops = map[string]bool{}
	for _, o := range splitList(*ops) {
		known := false
		for _, k := range AllOps {
			known = known || k == o
		}
		if !known {
			return fmt.Errorf("-ops: unknown operator %q (have %s)", o, strings.Join(AllOps, ", "))
		}
		c.ops[o] = true
	}
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	c.root = wd
	if _, err := os.Stat(filepath.Join(wd, "go.work")); err != nil {
		return fmt.Errorf("run from the repository root (no go.work in %s)", wd)
	}
	return execute(c)
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
