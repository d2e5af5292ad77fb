package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Outcome of one mutant.
const (
	Killed   = "killed"
	Timeout  = "timeout" // the tests hung: counts as killed
	Survived = "survived"
)

// result is one line of the state file.
type result struct {
	Key      string  `json:"key"`
	FileHash string  `json:"file"`
	Suite    string  `json:"suite"`
	Status   string  `json:"status"`
	By       string  `json:"by,omitempty"` // the package and test that failed
	Secs     float64 `json:"secs"`
}

// binary is one compiled test binary of the schema.
type testBinary struct {
	pkg     string // "./teamhttp"
	dir     string
	path    string
	deps    map[string]bool // import paths it links
	rapid   bool
	timeout time.Duration
	slow    []string // top-level tests run in a second pass, after the others
}

// firstPass returns the arguments of a mutant's first run: every test but
// the slow ones, so that most mutants die quickly.
func (b *testBinary) firstPass() []string {
	if len(b.slow) == 0 {
		return nil
	}
	return []string{"-test.skip=" + b.slowPattern()}
}

func (b *testBinary) slowPattern() string {
	return "^(" + strings.Join(b.slow, "|") + ")$"
}

var passRE = regexp.MustCompile(`(?m)^--- PASS: (\S+) \((\d+\.\d+)s\)`)

// slowTests names the top-level tests of a -test.v run that took, together,
// most of its time: the longest ones, up to 60% of the total.
func slowTests(out string, total time.Duration) []string {
	type run struct {
		name string
		secs float64
	}
	var runs []run
	for _, m := range passRE.FindAllStringSubmatch(out, -1) {
		secs, _ := strconv.ParseFloat(m[2], 64)
		runs = append(runs, run{m[1], secs})
	}
	sort.SliceStable(runs, func(i, j int) bool { return runs[i].secs > runs[j].secs })
	var slow []string
	sum := 0.0
	for _, r := range runs {
		if sum >= 0.6*total.Seconds() || r.secs < 0.2 {
			break
		}
		sum += r.secs
		slow = append(slow, regexp.QuoteMeta(r.name))
	}
	sort.Strings(slow)
	return slow
}

func execute(c *config) error {
	start := time.Now()
	byDir := map[string][]string{}
	var dirs []string
	for _, f := range c.files {
		d := path.Dir(f)
		if _, ok := byDir[d]; !ok {
			dirs = append(dirs, d)
		}
		byDir[d] = append(byDir[d], path.Base(f))
	}
	var pkgs []string
	for _, d := range dirs {
		pkgs = append(pkgs, "./"+d)
	}
	byPath, roots, err := goList(c.root, pkgs)
	if err != nil {
		return err
	}
	pkgOfDir := map[string]*listedPkg{}
	for _, p := range roots {
		rel, _ := filepath.Rel(c.root, p.Dir)
		pkgOfDir[filepath.ToSlash(rel)] = p
	}

	// Discover every mutant of every file; the schema holds them all.
	var all []*Mutant
	schemas := map[string][]byte{} // absolute path -> schema source
	next := 1
	for _, d := range dirs {
		p := pkgOfDir[d]
		if p == nil {
			return fmt.Errorf("no package in %s", d)
		}
		t, err := loadTarget(c.root, p, byPath)
		if err != nil {
			return err
		}
		t.mutated = byDir[d]
		ms, srcs, err := t.discover(next, c.ops)
		if err != nil {
			return err
		}
		next += len(ms)
		all = append(all, ms...)
		for name, src := range srcs {
			schemas[filepath.Join(p.Dir, name)] = src
		}
		schemas[filepath.Join(p.Dir, "zz_mutate_schema.go")] = helperFile(p.Name)
	}
	sortMutants(all)

	fileHash := map[string]string{}
	for _, f := range c.files {
		b, err := os.ReadFile(filepath.Join(c.root, f))
		if err != nil {
			return err
		}
		s := sha256.Sum256(b)
		fileHash[f] = hex.EncodeToString(s[:8])
	}
	suite, err := suiteHash(c.root)
	if err != nil {
		return err
	}
	equiv, err := readEquivalents(inRoot(c.root, c.equivFile))
	if err != nil {
		return err
	}

	sample := sampleMutants(all, c.seed, c.rate)
	if c.only != "" {
		sample = slices.DeleteFunc(sample, func(m *Mutant) bool { return !strings.Contains(m.Key, c.only) })
	}
	if c.limit > 0 && len(sample) > c.limit {
		// The limit's mutants are the sample's lowest under the seed's
		// hash: a fixed subset, whatever the files' order.
		sort.SliceStable(sample, func(i, j int) bool { return keyHash(c.seed, sample[i].Key) < keyHash(c.seed, sample[j].Key) })
		sample = sample[:c.limit]
		sortMutants(sample)
	}
	if c.list {
		for _, m := range sample {
			fmt.Printf("%-28s %-13s %s\n\t%s\n", m.Pos(), m.Op, m.Desc, m.Key)
		}
		fmt.Printf("%d of %d mutants\n", len(sample), len(all))
		return nil
	}

	results := map[string]result{}
	if c.state != "" && !c.fresh {
		if results, err = readState(inRoot(c.root, c.state)); err != nil {
			return err
		}
	}
	var pending []*Mutant
	for _, m := range sample {
		r, ok := results[m.Key]
		// Reused: a kill while the file is unchanged; a survival while
		// nothing changed, or, for a mutant listed as equivalent, while its
		// file is unchanged (unless -recheck).
		if ok && r.FileHash == fileHash[m.File] && (r.Status != Survived || r.Suite == suite || equiv[m.Key] != "" && !c.recheck) {
			continue
		}
		delete(results, m.Key)
		pending = append(pending, m)
	}
	fmt.Fprintf(os.Stderr, "mutate: %d mutants in %d files, %d sampled (seed %d, rate %g), %d to run\n",
		len(all), len(c.files), len(sample), c.seed, c.rate, len(pending))

	if len(pending) > 0 {
		var stateW *os.File
		if c.state != "" {
			p := inRoot(c.root, c.state)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if stateW, err = os.OpenFile(p, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err != nil {
				return err
			}
			defer stateW.Close()
		}
		if err := runMutants(c, pending, all, schemas, pkgOfDir, fileHash, suite, results, stateW); err != nil {
			return err
		}
	}

	rep := buildReport(c, all, sample, results, equiv, time.Since(start))
	fmt.Print(rep.text)
	if c.report != "" {
		p := inRoot(c.root, c.report)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err == nil {
			_ = os.WriteFile(p, []byte(rep.text), 0o644)
		}
	}
	if rep.score < c.min {
		return fmt.Errorf("score %.1f%% is below the target %.1f%%", rep.score, c.min)
	}
	return nil
}

// sampleMutants takes, from each file, the ceil(rate*n) mutants whose keys
// hash lowest under seed: a stratified sample that is stable as long as
// the keys are, and that grows by adding mutants when the rate grows.
func sampleMutants(all []*Mutant, seed uint64, rate float64) []*Mutant {
	byFile := map[string][]*Mutant{}
	var files []string
	for _, m := range all {
		if _, ok := byFile[m.File]; !ok {
			files = append(files, m.File)
		}
		byFile[m.File] = append(byFile[m.File], m)
	}
	var out []*Mutant
	for _, f := range files {
		ms := slices.Clone(byFile[f])
		sort.SliceStable(ms, func(i, j int) bool { return keyHash(seed, ms[i].Key) < keyHash(seed, ms[j].Key) })
		n := int(math.Ceil(rate * float64(len(ms))))
		out = append(out, ms[:n]...)
	}
	sortMutants(out)
	return out
}

// keyHash orders mutants for sampling: SHA-256 of the seed and the key,
// so that keys differing in one character (the ordinal at their end) land
// far apart.
func keyHash(seed uint64, key string) uint64 {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], seed)
	h := sha256.Sum256(append(b[:], key...))
	return binary.LittleEndian.Uint64(h[:8])
}

// suiteHash fingerprints every file of the repository that a test run
// reads (Go files and testdata), outside .git, .mutate and tools/.
func suiteHash(root string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			switch rel {
			case ".git", ".mutate", "tools":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") && !strings.Contains(rel, "testdata") && !strings.HasSuffix(p, ".md") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %d\n", rel, len(b))
		h.Write(b)
		return nil
	})
	s := h.Sum(nil)
	return hex.EncodeToString(s[:8]), err
}

func readState(p string) (map[string]result, error) {
	out := map[string]result{}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	} else if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r result
		if json.Unmarshal(sc.Bytes(), &r) != nil || r.Key == "" {
			continue // a line cut short by a crash
		}
		out[r.Key] = r
	}
	return out, sc.Err()
}

// readEquivalents reads "key<TAB>justification" lines; # starts a comment.
func readEquivalents(p string) (map[string]string, error) {
	out := map[string]string{}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	} else if err != nil {
		return nil, err
	}
	for i, line := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, why, ok := strings.Cut(line, "\t")
		why = strings.TrimSpace(why)
		if !ok || why == "" {
			return nil, fmt.Errorf("%s:%d: want \"key<TAB>justification\"", p, i+1)
		}
		out[key] = why
	}
	return out, nil
}

func runMutants(c *config, pending, all []*Mutant, schemas map[string][]byte, pkgOfDir map[string]*listedPkg,
	fileHash map[string]string, suite string, results map[string]result, stateW *os.File) error {
	needDB := false
	for _, m := range pending {
		needDB = needDB || (c.integration != "" && c.dbFiles[m.File])
	}
	if needDB && (os.Getenv("TEAMPERM_POSTGRES_URL") == "" || os.Getenv("TEAMPERM_MYSQL_URL") == "") {
		return errors.New("survivors in the SQL files run the integration tests, which need PostgreSQL and MariaDB: " +
			"run `source .ci/services.sh` in the same shell first, or pass -integration ''")
	}

	work, err := os.MkdirTemp("", "teamperm-mutate-")
	if err != nil {
		return err
	}
	if c.keep {
		fmt.Fprintln(os.Stderr, "mutate: work directory", work)
	} else {
		defer os.RemoveAll(work)
	}
	replace := map[string]string{}
	var names []string
	for abs := range schemas {
		names = append(names, abs)
	}
	sort.Strings(names)
	for i, abs := range names {
		p := filepath.Join(work, fmt.Sprintf("%02d_%s", i, filepath.Base(abs)))
		if err := os.WriteFile(p, schemas[abs], 0o644); err != nil {
			return err
		}
		replace[abs] = p
	}
	overlay := filepath.Join(work, "overlay.json")
	ob, _ := json.Marshal(map[string]any{"Replace": replace})
	if err := os.WriteFile(overlay, ob, 0o644); err != nil {
		return err
	}

	// Test binaries: every mutated package, then the integration tests.
	var dirs []string
	for d := range pkgOfDir {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	var bins []*testBinary
	for _, d := range dirs {
		bins = append(bins, &testBinary{pkg: "./" + d})
	}
	var integ *testBinary
	if needDB {
		integ = &testBinary{pkg: c.integration}
		bins = append(bins, integ)
	}
	// Binaries are built, and checked to pass with no mutant active, when
	// a mutant first needs them.
	ready := map[*testBinary]bool{}
	ensure := func(b *testBinary) error {
		if ready[b] {
			return nil
		}
		ready[b] = true
		t0 := time.Now()
		if err := buildBinary(c.root, work, overlay, slices.Index(bins, b), b, replace); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "mutate: built %s in %s\n", b.pkg, time.Since(t0).Round(time.Second))
		b.timeout = c.timeout
		if !c.baseline {
			return nil
		}
		t0 = time.Now()
		out, status := runBinary(b, 0, 20*time.Minute, c.seed, "-test.v")
		if status != Survived {
			return fmt.Errorf("the tests of %s fail without any mutant (%s):\n%s", b.pkg, status, tail(out, 40))
		}
		d := time.Since(t0)
		b.timeout = 3*d + 20*time.Second
		b.slow = slowTests(out, d)
		fmt.Fprintf(os.Stderr, "mutate: baseline %s passes in %s; run last: %s\n", b.pkg, d.Round(100*time.Millisecond), strings.Join(b.slow, " "))
		return nil
	}
	// The root package's binary first: its build checks the schema.
	if err := ensure(bins[0]); err != nil {
		return err
	}

	for i, m := range pending {
		t0 := time.Now()
		r := result{Key: m.Key, FileHash: fileHash[m.File], Suite: suite, Status: Survived}
		mp := pkgOfDir[m.Pkg].ImportPath
		var order []*testBinary
		for _, b := range bins {
			if b.pkg == "./"+m.Pkg {
				order = append([]*testBinary{b}, order...)
			} else if b != integ && b.deps[mp] {
				order = append(order, b)
			}
		}
		if integ != nil && c.dbFiles[m.File] {
			order = append(order, integ)
		}
		for _, b := range order {
			if err := ensure(b); err != nil {
				return err
			}
			out, status := runBinary(b, m.ID, b.timeout, c.seed, b.firstPass()...)
			if status == Survived && len(b.slow) > 0 {
				out, status = runBinary(b, m.ID, b.timeout, c.seed, "-test.run="+b.slowPattern())
			}
			if status == Survived {
				continue
			}
			r.Status, r.By = status, strings.TrimPrefix(b.pkg, "./")+" "+failedTest(out)
			break
		}
		r.Secs = math.Round(time.Since(t0).Seconds()*10) / 10
		results[m.Key] = r
		if stateW != nil {
			line, _ := json.Marshal(r)
			if _, err := stateW.Write(append(line, '\n')); err != nil {
				return err
			}
		}
		if c.verbose || r.Status == Survived {
			fmt.Fprintf(os.Stderr, "mutate: [%d/%d] %-8s %s %s: %s %s\n", i+1, len(pending), r.Status, m.Pos(), m.Op, m.Desc, r.By)
		}
	}
	return nil
}

func buildBinary(root, work, overlay string, i int, b *testBinary, replace map[string]string) error {
	b.path = filepath.Join(work, fmt.Sprintf("bin%d.test", i))
	cmd := exec.Command("go", "test", "-c", "-o", b.path, "-overlay", overlay, b.pkg)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		// Name the schema files in the compiler's messages.
		msg := string(out)
		for orig, schema := range replace {
			msg = strings.ReplaceAll(msg, schema, orig+" (schema)")
		}
		return fmt.Errorf("building %s with the mutant schema: %v\n%s", b.pkg, err, msg)
	}
	cmd = exec.Command("go", "list", "-test", "-deps", "-f", "{{.ImportPath}} {{.Dir}}", b.pkg)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("go list %s: %v", b.pkg, err)
	}
	b.deps = map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		ip, dir, _ := strings.Cut(line, " ")
		b.deps[ip] = true
		_ = dir
	}
	cmd = exec.Command("go", "list", "-f", "{{.Dir}}", b.pkg)
	cmd.Dir = root
	out, err = cmd.Output()
	if err != nil {
		return fmt.Errorf("go list %s: %v", b.pkg, err)
	}
	b.dir = strings.TrimSpace(string(out))
	help, _ := exec.Command(b.path, "-h").CombinedOutput()
	b.rapid = bytes.Contains(help, []byte("rapid.nofailfile"))
	return nil
}

// runBinary runs a test binary with mutant id active (0: none).
func runBinary(b *testBinary, id int, timeout time.Duration, seed uint64, extra ...string) (string, string) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	args := []string{"-test.count=1", "-test.failfast", "-test.timeout=" + (timeout + time.Minute).String()}
	args = append(args, extra...)
	if b.rapid {
		// No fail files in the tree; little shrinking; the same random
		// inputs in every run.
		args = append(args, "-rapid.nofailfile", "-rapid.shrinktime=200ms", "-rapid.seed="+strconv.FormatUint(seed, 10))
	}
	cmd := exec.CommandContext(ctx, b.path, args...)
	cmd.Dir = b.dir
	cmd.Env = append(os.Environ(), EnvVar+"="+strconv.Itoa(id))
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	switch {
	case ctx.Err() != nil:
		return out.String(), Timeout
	case err != nil:
		return out.String(), Killed
	}
	return out.String(), Survived
}

var failRE = regexp.MustCompile(`(?m)^\s*--- FAIL: (\S+)`)

func failedTest(out string) string {
	if m := failRE.FindStringSubmatch(out); m != nil {
		return m[1]
	}
	if strings.Contains(out, "panic:") {
		return "(panic)"
	}
	return "(failed)"
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// inRoot resolves a path given relative to the repository root.
func inRoot(root, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(root, p)
}
