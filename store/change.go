package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/teamperm/teamperm"
)

// A Kind says what a log [Entry] records.
type Kind string

// The kinds of log entries.
const (
	KindOrganization Kind = "organization" // the organisation was created
	KindPlan         Kind = "plan"         // its plan changed
	KindMember       Kind = "member"       // a member was added
	KindEdits        Kind = "edits"        // a batch of edits was applied
)

// An Entry is one change in the log of an organisation.
type Entry struct {
	// Seq numbers the organisation's entries 1, 2, 3... in commit order,
	// without gaps: a refused change leaves no trace.
	Seq  uint64
	Kind Kind
	// Member is the member added or edited; zero for the organisation's
	// entries.
	Member teamperm.ID
	// Actor is who made the change; zero when the host made it (a billing
	// system changing the plan, an invitation).
	Actor teamperm.ID
	At    time.Time
	// Revision is the revision after the change: the organisation's for
	// KindOrganization and KindPlan, the member's settings' otherwise.
	Revision uint64
	// Edits, Before and After are the batch and the settings before and
	// after it (KindEdits), or the added settings in After (KindMember).
	Edits         []teamperm.Edit
	Before, After teamperm.Settings
	// PlanBefore and PlanAfter are the plans of KindPlan; PlanAfter the
	// first plan of KindOrganization.
	PlanBefore, PlanAfter teamperm.Plan
}

// change is one row to append to the log.
type change struct {
	org, member, actor teamperm.ID
	kind               Kind
	revision           uint64
	edits              []teamperm.Edit
	before, after      string
}

// begin bumps the organisation's log sequence, which takes the write lock
// of its row (of the database, on SQLite) for the rest of the transaction:
// changes of one organisation commit one after the other, and each gets
// the next sequence number. It returns the organisation's state and the
// sequence number.
func (s *Store) begin(ctx context.Context, tx *sql.Tx, org teamperm.ID, orgKey string) (teamperm.Organization, teamperm.Plan, uint64, error) {
	var plan string
	var rev, seq int64
	err := tx.QueryRowContext(ctx, s.sql(`UPDATE teamperm_organizations SET log_seq = log_seq + 1 WHERE org = $1 RETURNING plan, revision, log_seq`), orgKey).Scan(&plan, &rev, &seq)
	if errors.Is(err, sql.ErrNoRows) {
		return teamperm.Organization{}, 0, 0, fmt.Errorf("store: organization %v: %w", org, ErrNotFound)
	}
	if err != nil {
		return teamperm.Organization{}, 0, 0, err
	}
	o, p, err := orgState(org, plan, rev)
	return o, p, uint64(seq), err
}

// append appends c to the log as entry seq and, on PostgreSQL, notifies
// the other processes (delivered when the transaction commits, never if
// it does not).
func (s *Store) append(ctx context.Context, tx *sql.Tx, seq uint64, c change) error {
	orgKey, err := key("organization", c.org)
	if err != nil {
		return err
	}
	memberKey, err := nullKey("member", c.member)
	if err != nil {
		return err
	}
	actorKey, err := nullKey("actor", c.actor)
	if err != nil {
		return err
	}
	var edits, before any
	if c.edits != nil {
		b, err := teamperm.Edits(c.edits).MarshalJSON()
		if err != nil {
			return err
		}
		edits = string(b)
	}
	if c.before != "" {
		before = c.before
	}
	_, err = tx.ExecContext(ctx, s.sql(`INSERT INTO teamperm_changes (org, seq, kind, member, actor, at, revision, edits, before, after)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`),
		orgKey, int64(seq), string(c.kind), memberKey, actorKey, s.opts.Now().UTC().Format(time.RFC3339Nano), int64(c.revision), edits, before, c.after)
	if err != nil {
		return fmt.Errorf("store: appending to the log: %w", err)
	}
	if s.dialect != teamperm.Postgres {
		return nil
	}
	payload, err := json.Marshal(notification{Org: orgKey, Member: memberKey, Kind: c.kind, Revision: c.revision})
	if err != nil {
		return err
	}
	if len(payload) > 7000 { // NOTIFY's limit is 8000 bytes: say less
		payload, _ = json.Marshal(notification{Org: "", Kind: c.kind})
	}
	_, err = tx.ExecContext(ctx, `SELECT pg_notify($1, $2)`, s.opts.Channel, string(payload))
	return err
}

// A notification is the payload of the store's NOTIFY: which organisation
// (and member) changed. An empty Org means: it did not fit, invalidate
// everything.
type notification struct {
	Org      string `json:"org"`
	Member   any    `json:"member,omitempty"` // the member's key, a string, or nil
	Kind     Kind   `json:"kind"`
	Revision uint64 `json:"revision,omitempty"`
}

// invalidate tells the subscribed caches about a committed change.
func (s *Store) invalidate(org, member teamperm.ID) {
	s.mu.Lock()
	subs := s.subs
	s.mu.Unlock()
	for _, inv := range subs {
		if member.IsZero() {
			inv.InvalidateOrganization(org)
		} else {
			inv.InvalidateMember(org, member)
		}
	}
}

// CreateOrganization creates the organisation org on plan, at revision 1.
// An organisation that exists already is an error wrapping
// [ErrConflict].
func (s *Store) CreateOrganization(ctx context.Context, org teamperm.ID, plan teamperm.Plan) (teamperm.Organization, error) {
	orgKey, err := key("organization", org)
	if err != nil {
		return teamperm.Organization{}, err
	}
	name, err := plan.MarshalText()
	if err != nil {
		return teamperm.Organization{}, err
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.sql(`SELECT COUNT(*) FROM teamperm_organizations WHERE org = $1`), orgKey).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("store: organization %v exists: %w", org, ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, s.sql(`INSERT INTO teamperm_organizations (org, plan, revision, log_seq) VALUES ($1, $2, 1, 1)`), orgKey, string(name)); err != nil {
			return err
		}
		return s.append(ctx, tx, 1, change{org: org, kind: KindOrganization, revision: 1, after: string(name)})
	})
	if err != nil {
		return teamperm.Organization{}, err
	}
	s.invalidate(org, teamperm.ID{})
	return teamperm.Organization{ID: org, Features: plan.Features(), Revision: 1}, nil
}

// AddMember stores the settings of a new member of org, at their own
// revision (usually 0, the zero value: a member nobody has edited yet),
// and logs them with actor (zero when the host adds the member itself). Who may invite whom is the host's rule:
// AddMember checks only that st validates. A member that exists already
// is an error wrapping [ErrConflict].
func (s *Store) AddMember(ctx context.Context, org teamperm.ID, st teamperm.Settings, actor teamperm.ID) (teamperm.Settings, error) {
	orgKey, err := key("organization", org)
	if err != nil {
		return teamperm.Settings{}, err
	}
	memberKey, err := key("member", st.Member)
	if err != nil {
		return teamperm.Settings{}, err
	}
	text, err := st.MarshalJSON()
	if err != nil {
		return teamperm.Settings{}, err
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		_, _, seq, err := s.begin(ctx, tx, org, orgKey)
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, s.sql(`SELECT COUNT(*) FROM teamperm_members WHERE org = $1 AND member = $2`), orgKey, memberKey).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("store: member %v of organization %v exists: %w", st.Member, org, ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, s.sql(`INSERT INTO teamperm_members (org, member, settings, revision) VALUES ($1, $2, $3, $4)`), orgKey, memberKey, string(text), int64(st.Revision)); err != nil {
			return err
		}
		return s.append(ctx, tx, seq, change{org: org, member: st.Member, actor: actor, kind: KindMember, revision: st.Revision, after: string(text)})
	})
	if err != nil {
		return teamperm.Settings{}, err
	}
	s.invalidate(org, st.Member)
	return st, nil
}

// ApplyEdits applies a batch of edits to the stored settings of member
// target of the actor's organisation, on behalf of actor, in one
// transaction: it reads the organisation's current state and the
// target's settings, refuses the batch unless the settings are still at
// ifRevision (the revision the client decided on, its If-Match), applies
// it with [teamperm.ApplyEdits] (R14, R16, the plan), stores the new
// settings if their revision is still ifRevision (compare-and-swap), and
// appends the change to the log. It returns the change; its After holds
// the new settings, at revision ifRevision+1.
//
// Refusals change nothing. A batch decided on another revision: an error
// wrapping [ErrConflict] (HTTP 409 or 412). An actor compiled for another
// state of the organisation, or from settings that are no longer its
// stored ones (an admin demoted meanwhile): [teamperm.ErrStaleMember]
// (HTTP 409: compile again and retry). No such target:
// [ErrNotFound]. Otherwise what teamperm.ApplyEdits refuses with.
//
// After the commit the process's own cache drops the target
// ([Store.Subscribe]), and on PostgreSQL every process listening
// ([Listen]) is notified.
func (s *Store) ApplyEdits(ctx context.Context, actor *teamperm.Member, target teamperm.ID, ifRevision uint64, edits ...teamperm.Edit) (teamperm.Change, error) {
	org := actor.Organization()
	orgKey, err := key("organization", org)
	if err != nil {
		return teamperm.Change{}, fmt.Errorf("store: no acting member: %w", teamperm.ErrEditNotAllowed)
	}
	memberKey, err := key("member", target)
	if err != nil {
		return teamperm.Change{}, err
	}
	actorKey, err := key("actor", actor.ID())
	if err != nil {
		return teamperm.Change{}, err
	}
	var c teamperm.Change
	err = s.tx(ctx, func(tx *sql.Tx) error {
		o, _, seq, err := s.begin(ctx, tx, org, orgKey)
		if err != nil {
			return err
		}
		if actor.Org() != o {
			return fmt.Errorf("store: actor %v was compiled for organization revision %d, it is at %d: %w", actor.ID(), actor.Org().Revision, o.Revision, teamperm.ErrStaleMember)
		}
		var actorRev int64
		err = tx.QueryRowContext(ctx, s.sql(`SELECT revision FROM teamperm_members WHERE org = $1 AND member = $2`), orgKey, actorKey).Scan(&actorRev)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("store: actor %v is not a member of organization %v: %w", actor.ID(), org, teamperm.ErrEditNotAllowed)
		case err != nil:
			return err
		case uint64(actorRev) != actor.Revision():
			return fmt.Errorf("store: actor %v was compiled from settings revision %d, the stored ones are at %d: %w", actor.ID(), actor.Revision(), actorRev, teamperm.ErrStaleMember)
		}
		var text string
		var rev int64
		err = tx.QueryRowContext(ctx, s.sql(`SELECT settings, revision FROM teamperm_members WHERE org = $1 AND member = $2`), orgKey, memberKey).Scan(&text, &rev)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: member %v of organization %v: %w", target, org, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if uint64(rev) != ifRevision {
			return fmt.Errorf("store: member %v: the edits were made on revision %d, the stored settings are at %d: %w", target, ifRevision, rev, ErrConflict)
		}
		before, err := decodeSettings(target, text, rev)
		if err != nil {
			return err
		}
		_, c, err = teamperm.ApplyEdits(actor, o, before, s.opts.Now().UTC(), edits...)
		if err != nil {
			return err
		}
		after, err := c.After.MarshalJSON()
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.sql(`UPDATE teamperm_members SET settings = $1, revision = $2 WHERE org = $3 AND member = $4 AND revision = $5`),
			string(after), int64(c.After.Revision), orgKey, memberKey, rev)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			return fmt.Errorf("store: member %v changed meanwhile: %w", target, ErrConflict)
		}
		return s.append(ctx, tx, seq, change{org: org, member: target, actor: actor.ID(), kind: KindEdits, revision: c.After.Revision,
			edits: c.Edits, before: text, after: string(after)})
	})
	if err != nil {
		return teamperm.Change{}, err
	}
	s.invalidate(org, target)
	return c, nil
}

// SetPlan changes the organisation's plan and bumps its revision, which
// makes every member compiled before stale ([teamperm.ErrStaleMember] as
// an actor; a cache drops them). ifRevision is the organisation revision
// the change was decided on; 0 changes whatever the current one is (a
// billing system's webhook). actor is who changed it, zero for the host.
// A changed revision is an error wrapping [ErrConflict]. Setting the
// plan the organisation has already changes nothing and logs nothing.
func (s *Store) SetPlan(ctx context.Context, org teamperm.ID, ifRevision uint64, plan teamperm.Plan, actor teamperm.ID) (teamperm.Organization, error) {
	orgKey, err := key("organization", org)
	if err != nil {
		return teamperm.Organization{}, err
	}
	name, err := plan.MarshalText()
	if err != nil {
		return teamperm.Organization{}, err
	}
	var o teamperm.Organization
	changed := false
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var cur teamperm.Plan
		var seq uint64
		o, cur, seq, err = s.begin(ctx, tx, org, orgKey)
		if err != nil {
			return err
		}
		if ifRevision != 0 && o.Revision != ifRevision {
			return fmt.Errorf("store: organization %v: the plan change was decided on revision %d, it is at %d: %w", org, ifRevision, o.Revision, ErrConflict)
		}
		if cur == plan {
			return errUnchanged
		}
		o = teamperm.Organization{ID: org, Features: plan.Features(), Revision: o.Revision + 1}
		if _, err := tx.ExecContext(ctx, s.sql(`UPDATE teamperm_organizations SET plan = $1, revision = $2 WHERE org = $3`), string(name), int64(o.Revision), orgKey); err != nil {
			return err
		}
		changed = true
		return s.append(ctx, tx, seq, change{org: org, actor: actor, kind: KindPlan, revision: o.Revision, before: cur.String(), after: string(name)})
	})
	if errors.Is(err, errUnchanged) {
		return o, nil
	}
	if err != nil {
		return teamperm.Organization{}, err
	}
	if changed {
		s.invalidate(org, teamperm.ID{})
	}
	return o, nil
}

// errUnchanged rolls back a change that changes nothing (and the log
// sequence number it took).
var errUnchanged = errors.New("unchanged")

// Log returns the organisation's log, oldest first.
func (s *Store) Log(ctx context.Context, org teamperm.ID) ([]Entry, error) {
	orgKey, err := key("organization", org)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, s.sql(`SELECT seq, kind, member, actor, at, revision, edits, before, after
		FROM teamperm_changes WHERE org = $1 ORDER BY seq`), orgKey)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var (
			e               Entry
			seq, rev        int64
			kind, at, after string
			member, actor   sql.NullString
			edits, before   sql.NullString
		)
		if err := rows.Scan(&seq, &kind, &member, &actor, &at, &rev, &edits, &before, &after); err != nil {
			return nil, err
		}
		e.Seq, e.Kind, e.Revision = uint64(seq), Kind(kind), uint64(rev)
		if e.Member, err = parseKey("member", member); err != nil {
			return nil, err
		}
		if e.Actor, err = parseKey("actor", actor); err != nil {
			return nil, err
		}
		if e.At, err = time.Parse(time.RFC3339Nano, at); err != nil {
			return nil, fmt.Errorf("store: log entry %d: %w", seq, err)
		}
		if err := e.decode(edits, before, after); err != nil {
			return nil, fmt.Errorf("store: log entry %d of organization %v: %w", seq, org, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func (e *Entry) decode(edits, before sql.NullString, after string) error {
	var err error
	switch e.Kind {
	case KindOrganization, KindPlan:
		if e.PlanAfter, err = teamperm.ParsePlan(after); err != nil {
			return err
		}
		if e.Kind == KindPlan {
			e.PlanBefore, err = teamperm.ParsePlan(before.String)
		}
		return err
	case KindMember, KindEdits:
		if err := e.After.UnmarshalJSON([]byte(after)); err != nil {
			return err
		}
		if e.Kind == KindMember {
			return nil
		}
		if err := e.Before.UnmarshalJSON([]byte(before.String)); err != nil {
			return err
		}
		e.Edits, err = teamperm.ParseEdits([]byte(edits.String))
		return err
	}
	return fmt.Errorf("kind %q: %w", e.Kind, teamperm.ErrInvalidSettings)
}

// Verify replays the organisation's log and compares the result with
// the stored state: the sequence numbers run 1, 2, 3... without a gap;
// every entry starts from the state the entries before it left
// (settings compared in their stored JSON form, byte for byte); every
// batch of edits, replayed with [teamperm.Replay], gives exactly the
// settings logged after it; and the last state of every member and of
// the plan is the stored one. It returns every discrepancy, joined, or
// nil.
func (s *Store) Verify(ctx context.Context, org teamperm.ID) error {
	log, err := s.Log(ctx, org)
	if err != nil {
		return err
	}
	var errs []error
	bad := func(e Entry, format string, args ...any) {
		errs = append(errs, fmt.Errorf("store: organization %v, log entry %d (%s %v): %s", org, e.Seq, e.Kind, e.Member, fmt.Sprintf(format, args...)))
	}
	var plan teamperm.Plan
	var orgRev uint64
	members := map[teamperm.ID][]byte{}
	for i, e := range log {
		if e.Seq != uint64(i+1) {
			bad(e, "sequence number %d, want %d", e.Seq, i+1)
		}
		switch e.Kind {
		case KindOrganization:
			if i != 0 || e.Revision != 1 {
				bad(e, "creation at position %d, revision %d", i, e.Revision)
			}
			plan, orgRev = e.PlanAfter, e.Revision
		case KindPlan:
			if e.PlanBefore != plan || e.Revision != orgRev+1 {
				bad(e, "from %v at revision %d, the log so far has %v at %d", e.PlanBefore, e.Revision-1, plan, orgRev)
			}
			plan, orgRev = e.PlanAfter, e.Revision
		case KindMember:
			if members[e.Member] != nil {
				bad(e, "added twice")
			}
			members[e.Member] = mustJSON(e.After)
		case KindEdits:
			if have := members[e.Member]; !bytes.Equal(have, mustJSON(e.Before)) {
				bad(e, "starts from %s, the log so far has %s", mustJSON(e.Before), have)
			}
			replayed, err := teamperm.Replay(e.Before, e.Edits...)
			if err != nil {
				bad(e, "does not replay: %v", err)
			} else if got, want := mustJSON(replayed), mustJSON(e.After); !bytes.Equal(got, want) {
				bad(e, "replays to %s, logged %s", got, want)
			}
			members[e.Member] = mustJSON(e.After)
		}
	}
	o, stored, err := s.Members(ctx, org)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	if o.Revision != orgRev || o.Features != plan.Features() {
		errs = append(errs, fmt.Errorf("store: organization %v: stored at revision %d with %v, the log replays to %v at %d", org, o.Revision, o.Features, plan, orgRev))
	}
	for _, st := range stored {
		if got, want := mustJSON(st), members[st.Member]; !bytes.Equal(got, want) {
			errs = append(errs, fmt.Errorf("store: member %v: stored %s, the log replays to %s", st.Member, got, want))
		}
		delete(members, st.Member)
	}
	for m := range members {
		errs = append(errs, fmt.Errorf("store: member %v is in the log, not in the table", m))
	}
	return errors.Join(errs...)
}

func mustJSON(st teamperm.Settings) []byte {
	b, err := st.MarshalJSON()
	if err != nil {
		return []byte(err.Error())
	}
	return b
}
