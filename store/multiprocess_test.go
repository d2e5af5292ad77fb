package store_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/teamperm/teamperm"
	"github.com/teamperm/teamperm/store"
)

// The multi-process test: several OS processes (this test binary, run
// again as evaluators) share one PostgreSQL database. The test process
// applies random grants and revocations of contact.export and plan
// changes; each evaluator looks its members up in its own cache, kept
// current by store.Listen, answers "may export?" continuously and writes
// down every change of its answer. Afterwards the test checks every
// answer against the change log: each is what the stored state said at
// its revisions, and no answer comes from a state older than a change
// committed more than the bound before it. It prints the propagation
// delay (median and max) per phase: steady, with the listening
// connections terminated now and then (pg_terminate_backend), and across
// a restart of the server (only with TEAMPERM_STORE_RESTART=1, since a
// restart would break other packages' tests running at the same time;
// CI runs it in a step of its own).

const (
	evaluators = 3
	mpMembers  = 4
	heartbeat  = 100 * time.Millisecond
	// staleBound is the staleness the test allows: the notification
	// delay, on a loaded 2-core CI machine, or two heartbeats, with a wide
	// margin.
	staleBound = 1500 * time.Millisecond
)

func mpMember(i int) teamperm.ID { return teamperm.IntID(int64(100 + i)) }

// answer is one change of an evaluator's answer for a member.
type answer struct {
	T      int64  `json:"t"` // unix nanoseconds
	Member int    `json:"m"`
	Err    bool   `json:"err,omitempty"`
	OrgRev uint64 `json:"o"`
	Rev    uint64 `json:"r"`
	Allow  bool   `json:"a"`
	Final  bool   `json:"final,omitempty"`
}

// TestMultiProcessEvaluator is an evaluator process of TestMultiProcess;
// on its own it does nothing.
func TestMultiProcessEvaluator(t *testing.T) {
	out := os.Getenv("TEAMPERM_MP_OUT")
	if out == "" {
		t.Skip("an evaluator process of TestMultiProcess")
	}
	u, channel := os.Getenv("TEAMPERM_MP_URL"), os.Getenv("TEAMPERM_MP_CHANNEL")
	until, _ := strconv.ParseInt(os.Getenv("TEAMPERM_MP_UNTIL"), 10, 64)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := store.OpenPostgres(ctx, u, store.Options{Channel: channel})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cache := teamperm.NewCache(s, 100)
	listening := make(chan struct{}, 1)
	go store.Listen(ctx, u, cache, store.ListenOptions{Channel: channel, Heartbeat: heartbeat, OnState: func(err error) {
		if err == nil {
			select {
			case listening <- struct{}{}:
			default:
			}
		}
	}})
	<-listening
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	f2, _ := os.Create(out + ".ready")
	f2.Close()
	last := make([]answer, mpMembers)
	for i := range last {
		last[i].T = -1
	}
	for time.Now().UnixNano() < until {
		for i := range mpMembers {
			lctx, lcancel := context.WithTimeout(ctx, time.Second)
			m, err := cache.Member(lctx, org, mpMember(i))
			lcancel()
			a := answer{T: time.Now().UnixNano(), Member: i, Err: err != nil}
			if err == nil {
				a.OrgRev, a.Rev, a.Allow = m.Org().Revision, m.Revision(), m.Has(teamperm.ContactExport)
			}
			if p := last[i]; p.T < 0 || p.Err != a.Err || p.OrgRev != a.OrgRev || p.Rev != a.Rev || p.Allow != a.Allow {
				enc.Encode(a)
				last[i] = a
			}
		}
		time.Sleep(time.Millisecond)
	}
	enc.Encode(answer{T: time.Now().UnixNano(), Final: true})
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// committed is one change the writer made: when its call returned, and
// the revision it made (of the member, or of the organisation for a plan
// change).
type committed struct {
	t      int64
	member int // -1 for a plan change
	rev    uint64
}

type phase struct {
	name     string
	duration time.Duration
	disrupt  func(t *testing.T, ctx context.Context) // run in the background during the phase
}

func TestMultiProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	// It measures propagation delays against a bound: run beside the other
	// packages' database-heavy tests on a 2-core machine, its evaluators
	// starve and a phase may observe nothing. CI runs it alone, in a step
	// of its own (with the server restart phase): .ci/run.
	if os.Getenv("TEAMPERM_STORE_MULTIPROCESS") != "1" && os.Getenv("TEAMPERM_STORE_RESTART") != "1" {
		t.Skip("runs alone: set TEAMPERM_STORE_MULTIPROCESS=1 (or TEAMPERM_STORE_RESTART=1 to restart the server mid-run too); CI runs it in its own step")
	}
	u, schema := freshSchema(t, postgresURL(t))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	channel := "teamperm_" + schema
	w, err := store.OpenPostgres(ctx, u, store.Options{Channel: channel})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.CreateOrganization(ctx, org, teamperm.PlanPro); err != nil {
		t.Fatal(err)
	}
	if _, err := w.AddMember(ctx, org, teamperm.Settings{Member: owner, Role: teamperm.RoleOwner}, teamperm.ID{}); err != nil {
		t.Fatal(err)
	}
	for i := range mpMembers {
		if _, err := w.AddMember(ctx, org, teamperm.Settings{Member: mpMember(i), Role: teamperm.RoleMember, Grants: teamperm.PermissionSetOf(teamperm.ContactExport)}, owner); err != nil {
			t.Fatal(err)
		}
	}
	admin, err := sql.Open("pgx", u)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()

	phases := []phase{
		{"steady", 3 * time.Second, nil},
		{"listeners terminated", 3 * time.Second, func(t *testing.T, ctx context.Context) {
			for {
				select {
				case <-ctx.Done():
					return
				case <-time.After(600 * time.Millisecond):
				}
				if _, err := admin.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, store.ApplicationName); err != nil && ctx.Err() == nil {
					t.Logf("terminating the listeners: %v", err)
				}
			}
		}},
	}
	restart := os.Getenv("TEAMPERM_POSTGRES_RESTART")
	switch {
	case os.Getenv("TEAMPERM_STORE_RESTART") != "1":
		t.Log("server restart phase skipped: set TEAMPERM_STORE_RESTART=1 (it restarts the shared server)")
	case restart == "":
		t.Fatal("TEAMPERM_STORE_RESTART=1 but TEAMPERM_POSTGRES_RESTART is not set: source .ci/services.sh")
	default:
		phases = append(phases, phase{"server restarted", 4 * time.Second, func(t *testing.T, ctx context.Context) {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
			t0 := time.Now()
			if out, err := exec.Command("sh", "-c", restart).CombinedOutput(); err != nil {
				t.Errorf("restarting the server: %v\n%s", err, out)
			}
			t.Logf("server restarted in %v", time.Since(t0).Round(time.Millisecond))
		}})
	}
	var total time.Duration
	for _, p := range phases {
		total += p.duration
	}

	// Start the evaluators and wait until each listens.
	dir := t.TempDir()
	var procs []*exec.Cmd
	var outputs []*bytes.Buffer
	for i := range evaluators {
		cmd := exec.Command(os.Args[0], "-test.run=^TestMultiProcessEvaluator$", "-test.count=1")
		cmd.Env = append(os.Environ(),
			"TEAMPERM_MP_OUT="+filepath.Join(dir, fmt.Sprint(i)),
			"TEAMPERM_MP_URL="+u, "TEAMPERM_MP_CHANNEL="+channel,
			fmt.Sprintf("TEAMPERM_MP_UNTIL=%d", time.Now().Add(total+5*time.Second).UnixNano()))
		out := new(bytes.Buffer)
		cmd.Stdout, cmd.Stderr = out, out
		outputs = append(outputs, out)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procs = append(procs, cmd)
	}
	defer func() {
		for _, p := range procs {
			if p.ProcessState == nil {
				p.Process.Kill()
				p.Wait()
			}
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for i := range evaluators {
		for {
			if _, err := os.Stat(filepath.Join(dir, fmt.Sprint(i)+".ready")); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("evaluator %d does not start", i)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	// The writer, phase by phase.
	r := mrand.New(mrand.NewPCG(uint64(time.Now().UnixNano()), 11))
	var (
		changes   []committed
		ambiguous bool // a call failed: it may or may not have committed
		starts    []int64
		failures  int
	)
	for _, p := range phases {
		starts = append(starts, time.Now().UnixNano())
		pctx, pcancel := context.WithTimeout(ctx, p.duration)
		done := make(chan struct{})
		go func() {
			defer close(done)
			if p.disrupt != nil {
				p.disrupt(t, pctx)
			}
		}()
		for pctx.Err() == nil {
			time.Sleep(time.Duration(20+r.IntN(40)) * time.Millisecond)
			c, err := writeOne(ctx, w, r)
			if err != nil {
				failures++
				ambiguous = true
				continue
			}
			if ambiguous {
				// Changes that may have committed while the calls
				// failed are dated now (see the reconciliation below).
				changes = append(changes, committed{t: time.Now().UnixNano(), member: -2})
				ambiguous = false
			}
			changes = append(changes, c)
		}
		pcancel()
		<-done
	}
	// Let the evaluators see the last changes, then collect them.
	for i, p := range procs {
		if err := p.Wait(); err != nil {
			t.Fatalf("evaluator %d: %v\n%s", i, err, outputs[i])
		}
	}
	end := time.Now().UnixNano()

	// The truth: the log, with the time each change was committed by.
	truth, err := readTruth(ctx, t, w, changes)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Verify(ctx, org); err != nil {
		t.Errorf("Verify: %v", err)
	}
	answers := make([][]answer, evaluators)
	for i := range evaluators {
		answers[i] = readAnswers(t, filepath.Join(dir, fmt.Sprint(i)))
	}
	t.Logf("%d changes committed (%d writer calls failed while the server was away), %d answers recorded", len(truth.changes), failures, len(answers[0])+len(answers[1])+len(answers[2]))

	// Every answer is what the stored state said at its revisions.
	for p, as := range answers {
		for _, a := range as {
			if a.Final || a.Err {
				continue
			}
			want, ok := truth.allow(a.Member, a.Rev, a.OrgRev)
			if !ok {
				t.Errorf("evaluator %d answered for member %d at revisions %d/%d, which the log does not have", p, a.Member, a.Rev, a.OrgRev)
			} else if want != a.Allow {
				t.Errorf("evaluator %d answered %v for member %d at revisions %d/%d, the log says %v", p, a.Allow, a.Member, a.Rev, a.OrgRev, want)
			}
		}
	}

	// No stale answer beyond the bound; the propagation delays per phase.
	delays := make([][]time.Duration, len(phases))
	for _, c := range truth.changes {
		ph := 0
		for i, s := range starts {
			if c.t >= s {
				ph = i
			}
		}
		for p, as := range answers {
			seen := false
			for i := range mpMembers {
				if c.member >= 0 && c.member != i {
					continue
				}
				var state *answer // the answer in force at time x
				for j := range as {
					a := &as[j]
					if a.Final || a.Member != i {
						continue
					}
					newEnough := c.member >= 0 && a.Rev >= c.rev || c.member < 0 && a.OrgRev >= c.rev
					if !a.Err && newEnough && !seen && a.T >= c.t-int64(staleBound) {
						delays[ph] = append(delays[ph], time.Duration(max(0, a.T-c.t)))
						seen = true
					}
					if a.T <= c.t+int64(staleBound) {
						state = a
						continue
					}
					if !a.Err && !newEnough {
						t.Errorf("phase %q: evaluator %d answered for member %d at revisions %d/%d, %v after the change to revision %d committed",
							phases[ph].name, p, i, a.Rev, a.OrgRev, time.Duration(a.T-c.t), c.rev)
					}
				}
				if state != nil && !state.Err && c.t+int64(staleBound) < end {
					newEnough := c.member >= 0 && state.Rev >= c.rev || c.member < 0 && state.OrgRev >= c.rev
					if !newEnough {
						t.Errorf("phase %q: evaluator %d still answered for member %d at revisions %d/%d %v after the change to revision %d committed",
							phases[ph].name, p, i, state.Rev, state.OrgRev, staleBound, c.rev)
					}
				}
			}
		}
	}
	for i, p := range phases {
		d := delays[i]
		if len(d) == 0 {
			t.Errorf("phase %q: no change was observed", p.name)
			continue
		}
		slices.Sort(d)
		t.Logf("phase %-22q propagation delay over %3d observations: median %v, max %v", p.name, len(d), d[len(d)/2].Round(10*time.Microsecond), d[len(d)-1].Round(10*time.Microsecond))
	}
}

// writeOne makes one random change: a grant or revocation of
// contact.export for a member (decided on the revision it reads), or a
// plan change.
func writeOne(ctx context.Context, w *store.Store, r *mrand.Rand) (committed, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if r.IntN(5) == 0 {
		o, p, err := w.Organization(ctx, org)
		if err != nil {
			return committed{}, err
		}
		next := teamperm.PlanStarter
		if p == teamperm.PlanStarter {
			next = teamperm.PlanPro
		}
		o, err = w.SetPlan(ctx, org, o.Revision, next, owner)
		return committed{t: time.Now().UnixNano(), member: -1, rev: o.Revision}, err
	}
	i := r.IntN(mpMembers)
	o, st, err := w.Load(ctx, org, owner)
	if err != nil {
		return committed{}, err
	}
	actor, err := teamperm.Compile(o, st)
	if err != nil {
		return committed{}, err
	}
	_, target, err := w.Load(ctx, org, mpMember(i))
	if err != nil {
		return committed{}, err
	}
	var e teamperm.Edit = teamperm.Grant{Permission: teamperm.ContactExport}
	if target.Grants.Has(teamperm.ContactExport) {
		e = teamperm.Deny{Permission: teamperm.ContactExport}
	}
	c, err := w.ApplyEdits(ctx, actor, mpMember(i), target.Revision, e)
	if errors.Is(err, teamperm.ErrUpgradeRequired) {
		return writeOne(ctx, w, r) // on Starter: change the plan instead, or another member
	}
	return committed{t: time.Now().UnixNano(), member: i, rev: c.After.Revision}, err
}

// truth is the log as the test checks answers against it.
type truth struct {
	changes  []committed // every change, dated
	settings map[[2]uint64]teamperm.Settings
	plans    map[uint64]teamperm.Plan
}

func (tr *truth) allow(member int, rev, orgRev uint64) (bool, bool) {
	s, ok1 := tr.settings[[2]uint64{uint64(member), rev}]
	p, ok2 := tr.plans[orgRev]
	if !ok1 || !ok2 {
		return false, false
	}
	m, err := teamperm.Compile(teamperm.Organization{ID: org, Features: p.Features(), Revision: orgRev}, s)
	return err == nil && m.Has(teamperm.ContactExport), err == nil
}

// readTruth reads the log and dates every change: by the writer's record
// of it, or, for a change committed by a call that failed (the server
// went away before it answered), by the writer's next success.
func readTruth(ctx context.Context, t *testing.T, w *store.Store, writes []committed) (*truth, error) {
	log, err := w.Log(ctx, org)
	if err != nil {
		return nil, err
	}
	tr := &truth{settings: map[[2]uint64]teamperm.Settings{}, plans: map[uint64]teamperm.Plan{}}
	dated := map[[2]int64]int64{}
	var recovered []int64
	for _, c := range writes {
		if c.member == -2 {
			recovered = append(recovered, c.t)
			continue
		}
		dated[[2]int64{int64(c.member), int64(c.rev)}] = c.t
	}
	index := map[teamperm.ID]int{}
	for i := range mpMembers {
		index[mpMember(i)] = i
	}
	for _, e := range log {
		switch e.Kind {
		case store.KindOrganization, store.KindPlan:
			tr.plans[e.Revision] = e.PlanAfter
			if e.Kind == store.KindPlan {
				tr.changes = append(tr.changes, committed{t: when(dated, recovered, -1, e), member: -1, rev: e.Revision})
			}
		case store.KindMember, store.KindEdits:
			i, ok := index[e.Member]
			if !ok {
				continue
			}
			tr.settings[[2]uint64{uint64(i), e.Revision}] = e.After
			if e.Kind == store.KindEdits {
				tr.changes = append(tr.changes, committed{t: when(dated, recovered, i, e), member: i, rev: e.Revision})
			}
		}
	}
	logged := map[[2]int64]bool{}
	for _, c := range tr.changes {
		logged[[2]int64{int64(c.member), int64(c.rev)}] = true
	}
	for k := range dated {
		if !logged[k] {
			t.Errorf("the writer's change of member %d to revision %d is not in the log: it was lost", k[0], k[1])
		}
	}
	return tr, nil
}

func when(dated map[[2]int64]int64, recovered []int64, member int, e store.Entry) int64 {
	if t, ok := dated[[2]int64{int64(member), int64(e.Revision)}]; ok {
		return t
	}
	// Committed by a call that failed: at the latest when the writer
	// next succeeded after the entry's own date.
	at := e.At.UnixNano()
	for _, r := range recovered {
		if r >= at {
			return r
		}
	}
	return at
}

func readAnswers(t *testing.T, file string) []answer {
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []answer
	dec := json.NewDecoder(f)
	for {
		var a answer
		if err := dec.Decode(&a); err != nil {
			break
		}
		out = append(out, a)
	}
	if len(out) == 0 || !out[len(out)-1].Final {
		t.Fatalf("%s: the evaluator did not finish", file)
	}
	return out
}
