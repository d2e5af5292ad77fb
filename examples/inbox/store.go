package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/teamperm/teamperm"
	tpstore "github.com/teamperm/teamperm/store"
)

// Store is the seam between the HTTP layer and the database. Its one
// implementation, [SQLStore], is the same code on SQLite and PostgreSQL:
// the driver and the [teamperm.Dialect] are all that differ.
//
// Every list method takes the scopes of the members it lists for, at
// least one, and returns only the rows all of them may see: the scopes
// become the WHERE clause, nothing is filtered in Go. Conversation and
// Account look rows up by key without a scope, for the caller to decide
// with [teamperm.Member.EvaluateRecord] (404 or 403).
//
// Methods report a missing row with errNotFound and a lost race on a
// member's settings with errConflict. They are safe for concurrent use.
type Store interface {
	// Load is teamperm's: the store is the Loader of the server's cache.
	teamperm.Loader
	// Subscribe has every change committed through the store drop what
	// inv holds of it (the server's cache), right after the commit.
	Subscribe(inv tpstore.Invalidator)

	Account(ctx context.Context, member int64) (Account, error)
	Team(ctx context.Context, org int64) (Team, error)
	// MemberIDs returns the keys of the organisation's members, in
	// order.
	MemberIDs(ctx context.Context, org int64) ([]int64, error)
	// ApplyEdits applies a batch of edits to member target's stored
	// settings if they are still at ifRevision, with the change log, as
	// teamperm's store does (errConflict when they are not).
	ApplyEdits(ctx context.Context, actor *teamperm.Member, target int64, ifRevision uint64, edits ...teamperm.Edit) (teamperm.Change, error)
	Changes(ctx context.Context, org, target int64) ([]tpstore.Entry, error)
	SetPlan(ctx context.Context, org int64, p teamperm.Plan) error

	Count(ctx context.Context, k teamperm.Kind, scopes ...teamperm.Scope) (int, error)
	Contacts(ctx context.Context, scopes ...teamperm.Scope) ([]Contact, error)
	Conversations(ctx context.Context, scopes ...teamperm.Scope) ([]Conversation, error)
	Messages(ctx context.Context, conversation int64, scopes ...teamperm.Scope) ([]Message, error)
	Deals(ctx context.Context, scopes ...teamperm.Scope) ([]Deal, error)

	Conversation(ctx context.Context, id int64) (Conversation, error)
	AddMessage(ctx context.Context, m Message) (Message, error)
	Assign(ctx context.Context, conversation, assignee int64) error
}

var (
	errNotFound = errors.New("not found")
	errConflict = tpstore.ErrConflict
)

// list is the list query of one kind: what it selects, from where (the
// FROM clause), in which order, and where teamperm finds each field of
// the kind there. Tests hand from and mapping to teamperm.CheckScope.
type list struct {
	columns string
	from    string
	order   string
	mapping teamperm.Mapping
}

var (
	conversationMapping = teamperm.Mapping{
		Organization: teamperm.IntColumn("c.org_id"),
		Instance:     teamperm.IntColumn("c.instance_id"),
		Assignee:     teamperm.IntColumn("c.assignee_id"),
	}
	lists = map[teamperm.Kind]list{
		// A contact is on the instances of its rows in contact_instances
		// (R19): the instance condition is an EXISTS on the link table.
		teamperm.KindContact: {
			columns: "ct.id, ct.org_id, ct.name, ct.phone",
			from:    "contacts ct",
			order:   "ct.id",
			mapping: teamperm.Mapping{
				Organization: teamperm.IntColumn("ct.org_id"),
				Instances: teamperm.InstanceLink{
					Table:    "contact_instances",
					Record:   teamperm.IntColumn("contact_id"),
					Instance: teamperm.IntColumn("instance_id"),
					Key:      teamperm.IntColumn("ct.id"),
				},
			},
		},
		teamperm.KindConversation: {
			columns: "c.id, c.org_id, c.instance_id, c.contact_id, c.assignee_id, c.subject",
			from:    "conversations c",
			order:   "c.id",
			mapping: conversationMapping,
		},
		// A message is seen through its conversation.
		teamperm.KindMessage: {
			columns: "m.id, m.conversation_id, m.author_id, m.body, m.sent_at",
			from:    "messages m JOIN conversations c ON c.id = m.conversation_id",
			order:   "m.id",
			mapping: conversationMapping,
		},
		teamperm.KindDeal: {
			columns: "d.id, d.pipeline_id, d.title, d.stage, d.value_cents, d.creator_kind, d.creator_id, d.assignee_id",
			from:    "deals d",
			order:   "d.id",
			mapping: teamperm.Mapping{
				Organization: teamperm.IntColumn("d.org_id"),
				Pipeline:     teamperm.IntColumn("d.pipeline_id"),
				Creator:      teamperm.IntColumn("d.creator_id"),
				Assignee:     teamperm.IntColumn("d.assignee_id"),
				CreatorKind:  teamperm.Column{Name: "d.creator_kind"}, // 'member', 'automation' or NULL
			},
		},
	}
)

// Org is an organisation, its plan and the plan's revision.
type Org struct {
	ID       int64
	Name     string
	Plan     teamperm.Plan
	Revision uint64
}

// Teamperm returns the organisation as teamperm sees it.
func (o Org) Teamperm() teamperm.Organization {
	return teamperm.Organization{ID: teamperm.IntID(o.ID), Features: o.Plan.Features(), Revision: o.Revision}
}

// Account is a team member: who they are and their stored settings.
type Account struct {
	ID       int64
	Org      Org
	Name     string
	Setup    string // what the member does, for people ("support agent")
	Settings teamperm.Settings
}

// Compile compiles the member under their organisation's plan.
func (a Account) Compile() (*teamperm.Member, error) {
	return teamperm.Compile(a.Org.Teamperm(), a.Settings)
}

// Team is an organisation with its members, WhatsApp instances and CRM
// pipelines, each in key order.
type Team struct {
	Org       Org
	Members   []Account
	Instances []Instance
	Pipelines []Pipeline
}

// Teamperm returns the team as teamperm.Audit and teamperm.Impact see it.
func (t Team) Teamperm() teamperm.Team {
	tt := teamperm.Team{Organization: t.Org.Teamperm()}
	for _, m := range t.Members {
		tt.Members = append(tt.Members, m.Settings)
	}
	for _, in := range t.Instances {
		tt.Instances = append(tt.Instances, teamperm.IntID(in.ID))
	}
	return tt
}

// Member returns the member with key id.
func (t Team) Member(id int64) (Account, bool) {
	for _, m := range t.Members {
		if m.ID == id {
			return m, true
		}
	}
	return Account{}, false
}

// Instance is a WhatsApp number of an organisation.
type Instance struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Phone string `json:"phone"`
}

// Pipeline is a CRM pipeline.
type Pipeline struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Contact is a customer, on every WhatsApp instance they wrote to.
type Contact struct {
	ID        int64   `json:"id"`
	Org       int64   `json:"-"`
	Instances []int64 `json:"instance_ids"` // in key order
	Name      string  `json:"name"`
	Phone     string  `json:"phone"`
}

// Record is the contact as teamperm decides on it: on all its instances.
func (c Contact) Record() teamperm.Record {
	ids := make([]teamperm.ID, len(c.Instances))
	for i, in := range c.Instances {
		ids[i] = teamperm.IntID(in)
	}
	return teamperm.Record{
		Kind:         teamperm.KindContact,
		Organization: teamperm.IntID(c.Org),
		Instances:    teamperm.IDSetOf(ids...),
	}
}

// Conversation is a chat with a contact on one instance.
type Conversation struct {
	ID       int64  `json:"id"`
	Org      int64  `json:"-"`
	Instance int64  `json:"instance_id"`
	Contact  int64  `json:"contact_id"`
	Assignee ref    `json:"assignee_id"`
	Subject  string `json:"subject"`
}

// Record is the conversation as teamperm decides on it.
func (c Conversation) Record() teamperm.Record {
	return teamperm.Record{
		Kind:         teamperm.KindConversation,
		Organization: teamperm.IntID(c.Org),
		Instance:     teamperm.IntID(c.Instance),
		Assignee:     c.Assignee.ID(),
	}
}

// Message is one message of a conversation; one without an author came
// in from the contact.
type Message struct {
	ID           int64     `json:"id"`
	Conversation int64     `json:"conversation_id"`
	Author       ref       `json:"author_id"`
	Body         string    `json:"body"`
	SentAt       time.Time `json:"sent_at"`
}

// Deal is a CRM deal.
type Deal struct {
	ID          int64  `json:"id"`
	Pipeline    ref    `json:"pipeline_id"`
	Title       string `json:"title"`
	Stage       string `json:"stage"`
	ValueCents  int64  `json:"value_cents"`
	CreatorKind string `json:"creator_kind"` // "member", "automation" or "legacy"
	Creator     ref    `json:"creator_id"`
	Assignee    ref    `json:"assignee_id"`
}

// ref is an optional key: 0 is NULL, in SQL and in JSON.
type ref int64

func (r ref) ID() teamperm.ID {
	if r == 0 {
		return teamperm.ID{}
	}
	return teamperm.IntID(int64(r))
}

func (r ref) MarshalJSON() ([]byte, error) {
	if r == 0 {
		return []byte("null"), nil
	}
	return json.Marshal(int64(r))
}

func (r *ref) Scan(src any) error {
	var n sql.NullInt64
	if err := n.Scan(src); err != nil {
		return err
	}
	*r = ref(n.Int64)
	return nil
}

// SQLStore is the [Store] on database/sql, for SQLite and PostgreSQL:
// the inbox's own tables, and teamperm's store for plans, settings and
// their change log.
type SQLStore struct {
	db      *sql.DB
	dialect teamperm.Dialect
	schema  string // PostgreSQL's schema, for String
	url     string // PostgreSQL's URL, for the listener
	tp      *tpstore.Store
	clock   func() time.Time // dates changes; nil is time.Now
}

var _ Store = (*SQLStore)(nil)

func (s *SQLStore) now() time.Time {
	if s.clock != nil {
		return s.clock()
	}
	return time.Now()
}

func (s *SQLStore) Subscribe(inv tpstore.Invalidator) { s.tp.Subscribe(inv) }

// Load returns what teamperm compiles the member from.
func (s *SQLStore) Load(ctx context.Context, org, member teamperm.ID) (teamperm.Organization, teamperm.Settings, error) {
	o, st, err := s.tp.Load(ctx, org, member)
	if errors.Is(err, tpstore.ErrNotFound) {
		err = fmt.Errorf("%w (%w)", errNotFound, err)
	}
	return o, st, err
}

// Close closes the database.
func (s *SQLStore) Close() error { return s.db.Close() }

// DB returns the database, for teamperm.CheckScope in tests.
func (s *SQLStore) DB() *sql.DB { return s.db }

// Dialect returns the dialect teamperm renders scopes in for this store.
func (s *SQLStore) Dialect() teamperm.Dialect { return s.dialect }

// String describes the store for people.
func (s *SQLStore) String() string {
	if s.dialect == teamperm.Postgres {
		return "PostgreSQL (schema " + s.schema + ")"
	}
	return "SQLite"
}

func (s *SQLStore) q() *query { return &query{d: s.dialect} }

func (s *SQLStore) Account(ctx context.Context, member int64) (Account, error) {
	q := s.q().sql(`SELECT m.id, m.name, m.setup, o.id, o.name
		FROM members m JOIN organizations o ON o.id = m.org_id WHERE m.id = `).arg(member)
	var a Account
	err := s.db.QueryRowContext(ctx, q.String(), q.args...).Scan(&a.ID, &a.Name, &a.Setup, &a.Org.ID, &a.Org.Name)
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, errNotFound
	}
	if err != nil {
		return Account{}, err
	}
	if a.Org, err = s.org(ctx, a.Org); err != nil {
		return Account{}, err
	}
	if _, a.Settings, err = s.tp.Load(ctx, teamperm.IntID(a.Org.ID), teamperm.IntID(a.ID)); err != nil {
		return Account{}, err
	}
	return a, nil
}

// org adds the plan and its revision to o, from teamperm's store.
func (s *SQLStore) org(ctx context.Context, o Org) (Org, error) {
	state, plan, err := s.tp.Organization(ctx, teamperm.IntID(o.ID))
	if err != nil {
		return Org{}, err
	}
	o.Plan, o.Revision = plan, state.Revision
	return o, nil
}

func (s *SQLStore) Team(ctx context.Context, org int64) (Team, error) {
	var t Team
	q := s.q().sql(`SELECT m.id, m.name, m.setup, o.id, o.name
		FROM members m JOIN organizations o ON o.id = m.org_id WHERE m.org_id = `).arg(org).sql(" ORDER BY m.id")
	err := s.each(ctx, q, func(r *sql.Rows) error {
		var a Account
		err := r.Scan(&a.ID, &a.Name, &a.Setup, &a.Org.ID, &a.Org.Name)
		t.Members = append(t.Members, a)
		t.Org = a.Org
		return err
	})
	if err != nil {
		return Team{}, err
	}
	if len(t.Members) == 0 {
		return Team{}, errNotFound
	}
	if t.Org, err = s.org(ctx, t.Org); err != nil {
		return Team{}, err
	}
	_, settings, err := s.tp.Members(ctx, teamperm.IntID(org))
	if err != nil {
		return Team{}, err
	}
	for i := range t.Members {
		t.Members[i].Org = t.Org
		id := teamperm.IntID(t.Members[i].ID)
		j := slices.IndexFunc(settings, func(st teamperm.Settings) bool { return st.Member == id })
		if j < 0 {
			return Team{}, fmt.Errorf("member %d has no stored settings", t.Members[i].ID)
		}
		t.Members[i].Settings = settings[j]
	}
	q = s.q().sql("SELECT id, name, phone FROM instances WHERE org_id = ").arg(org).sql(" ORDER BY id")
	err = s.each(ctx, q, func(r *sql.Rows) error {
		var in Instance
		err := r.Scan(&in.ID, &in.Name, &in.Phone)
		t.Instances = append(t.Instances, in)
		return err
	})
	if err != nil {
		return Team{}, err
	}
	q = s.q().sql("SELECT id, name FROM pipelines WHERE org_id = ").arg(org).sql(" ORDER BY id")
	err = s.each(ctx, q, func(r *sql.Rows) error {
		var p Pipeline
		err := r.Scan(&p.ID, &p.Name)
		t.Pipelines = append(t.Pipelines, p)
		return err
	})
	return t, err
}

func (s *SQLStore) MemberIDs(ctx context.Context, org int64) ([]int64, error) {
	_, settings, err := s.tp.Members(ctx, teamperm.IntID(org))
	if err != nil {
		return nil, err
	}
	ids := make([]int64, 0, len(settings))
	for _, st := range settings {
		id, ok := st.Member.Int()
		if !ok {
			return nil, fmt.Errorf("organisation %d: member %s: not an integer key", org, st.Member)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// ApplyEdits is teamperm's store's: one transaction, a compare-and-swap
// on the revision, the change logged.
func (s *SQLStore) ApplyEdits(ctx context.Context, actor *teamperm.Member, target int64, ifRevision uint64, edits ...teamperm.Edit) (teamperm.Change, error) {
	return s.tp.ApplyEdits(ctx, actor, teamperm.IntID(target), ifRevision, edits...)
}

// Changes returns the batches of edits applied to member target, oldest
// first.
func (s *SQLStore) Changes(ctx context.Context, org, target int64) ([]tpstore.Entry, error) {
	log, err := s.tp.Log(ctx, teamperm.IntID(org))
	if err != nil {
		return nil, err
	}
	var out []tpstore.Entry
	for _, e := range log {
		if e.Kind == tpstore.KindEdits && e.Member == teamperm.IntID(target) {
			out = append(out, e)
		}
	}
	return out, nil
}

func (s *SQLStore) SetPlan(ctx context.Context, org int64, p teamperm.Plan) error {
	_, err := s.tp.SetPlan(ctx, teamperm.IntID(org), 0, p, teamperm.ID{})
	return err
}

// where appends WHERE and the conjunction of scopes, all of kind k. It
// refuses to list without a scope: an unscoped list is a bug, not a
// default.
func (s *SQLStore) where(q *query, k teamperm.Kind, scopes []teamperm.Scope) error {
	if len(scopes) == 0 {
		return fmt.Errorf("list of %s without a scope", k)
	}
	l := lists[k]
	q.sql(" WHERE ")
	for i, sc := range scopes {
		if sc.Kind() != k {
			return fmt.Errorf("list of %s with a scope of %s", k, sc.Kind())
		}
		if i > 0 {
			q.sql(" AND ")
		}
		if err := q.scope(sc, l.mapping); err != nil {
			return err
		}
	}
	return nil
}

// none reports whether some scope matches nothing, so the query can be
// skipped.
func none(scopes []teamperm.Scope) bool {
	for _, sc := range scopes {
		if sc.IsNone() {
			return true
		}
	}
	return false
}

func (s *SQLStore) Count(ctx context.Context, k teamperm.Kind, scopes ...teamperm.Scope) (int, error) {
	q, err := s.countQuery(k, scopes)
	if err != nil || none(scopes) {
		return 0, err
	}
	var n int
	err = s.db.QueryRowContext(ctx, q.String(), q.args...).Scan(&n)
	return n, err
}

// countQuery is the query that counts the rows of kind k all of scopes
// match.
func (s *SQLStore) countQuery(k teamperm.Kind, scopes []teamperm.Scope) (*query, error) {
	l, ok := lists[k]
	if !ok {
		return nil, fmt.Errorf("no list of %s", k)
	}
	q := s.q().sql("SELECT COUNT(*) FROM " + l.from)
	return q, s.where(q, k, scopes)
}

// listQuery is the list query of kind k for the rows all of scopes
// match, and that also match and, if and is not nil.
func (s *SQLStore) listQuery(k teamperm.Kind, scopes []teamperm.Scope, and func(*query)) (*query, error) {
	l := lists[k]
	q := s.q().sql("SELECT " + l.columns + " FROM " + l.from)
	if err := s.where(q, k, scopes); err != nil {
		return nil, err
	}
	if and != nil {
		q.sql(" AND ")
		and(q)
	}
	return q.sql(" ORDER BY " + l.order), nil
}

func (s *SQLStore) Contacts(ctx context.Context, scopes ...teamperm.Scope) ([]Contact, error) {
	out := []Contact{}
	q, err := s.listQuery(teamperm.KindContact, scopes, nil)
	if err != nil || none(scopes) {
		return out, err
	}
	at := map[int64]int{} // index in out by key
	err = s.each(ctx, q, func(r *sql.Rows) error {
		c := Contact{Instances: []int64{}}
		err := r.Scan(&c.ID, &c.Org, &c.Name, &c.Phone)
		at[c.ID] = len(out)
		out = append(out, c)
		return err
	})
	if err != nil || len(out) == 0 {
		return out, err
	}
	// The instances of the same contacts: the link rows of the contacts
	// the scopes match, the scopes rendered again.
	q = s.q().sql("SELECT ci.contact_id, ci.instance_id FROM contact_instances ci JOIN contacts ct ON ct.id = ci.contact_id")
	if err := s.where(q, teamperm.KindContact, scopes); err != nil {
		return nil, err
	}
	q.sql(" ORDER BY ci.contact_id, ci.instance_id")
	err = s.each(ctx, q, func(r *sql.Rows) error {
		var contact, instance int64
		if err := r.Scan(&contact, &instance); err != nil {
			return err
		}
		i, ok := at[contact]
		if !ok { // a contact added between the two queries
			return nil
		}
		out[i].Instances = append(out[i].Instances, instance)
		return nil
	})
	return out, err
}

type scanner interface{ Scan(dst ...any) error }

func scanConversation(r scanner) (Conversation, error) {
	var c Conversation
	err := r.Scan(&c.ID, &c.Org, &c.Instance, &c.Contact, &c.Assignee, &c.Subject)
	return c, err
}

func (s *SQLStore) Conversations(ctx context.Context, scopes ...teamperm.Scope) ([]Conversation, error) {
	out := []Conversation{}
	q, err := s.listQuery(teamperm.KindConversation, scopes, nil)
	if err != nil || none(scopes) {
		return out, err
	}
	err = s.each(ctx, q, func(r *sql.Rows) error {
		c, err := scanConversation(r)
		out = append(out, c)
		return err
	})
	return out, err
}

func (s *SQLStore) Conversation(ctx context.Context, id int64) (Conversation, error) {
	q := s.q().sql("SELECT " + lists[teamperm.KindConversation].columns + " FROM conversations c WHERE c.id = ").arg(id)
	c, err := scanConversation(s.db.QueryRowContext(ctx, q.String(), q.args...))
	if errors.Is(err, sql.ErrNoRows) {
		return Conversation{}, errNotFound
	}
	return c, err
}

func (s *SQLStore) Messages(ctx context.Context, conversation int64, scopes ...teamperm.Scope) ([]Message, error) {
	out := []Message{}
	q, err := s.listQuery(teamperm.KindMessage, scopes, func(q *query) { q.sql("m.conversation_id = ").arg(conversation) })
	if err != nil || none(scopes) {
		return out, err
	}
	err = s.each(ctx, q, func(r *sql.Rows) error {
		var (
			m    Message
			unix int64
		)
		err := r.Scan(&m.ID, &m.Conversation, &m.Author, &m.Body, &unix)
		m.SentAt = time.Unix(unix, 0).UTC()
		out = append(out, m)
		return err
	})
	return out, err
}

func (s *SQLStore) Deals(ctx context.Context, scopes ...teamperm.Scope) ([]Deal, error) {
	out := []Deal{}
	q, err := s.listQuery(teamperm.KindDeal, scopes, nil)
	if err != nil || none(scopes) {
		return out, err
	}
	err = s.each(ctx, q, func(r *sql.Rows) error {
		var (
			d    Deal
			kind sql.NullString
		)
		err := r.Scan(&d.ID, &d.Pipeline, &d.Title, &d.Stage, &d.ValueCents, &kind, &d.Creator, &d.Assignee)
		d.CreatorKind = "legacy"
		if kind.Valid {
			d.CreatorKind = kind.String
		}
		out = append(out, d)
		return err
	})
	return out, err
}

func (s *SQLStore) AddMessage(ctx context.Context, m Message) (Message, error) {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		id, err := s.nextID(ctx, tx, "messages")
		if err != nil {
			return err
		}
		m.ID = id
		return s.insert(ctx, tx, "messages", "id, conversation_id, author_id, body, sent_at",
			m.ID, m.Conversation, nullID(int64(m.Author)), m.Body, m.SentAt.Unix())
	})
	return m, err
}

func (s *SQLStore) Assign(ctx context.Context, conversation, assignee int64) error {
	q := s.q().sql("UPDATE conversations SET assignee_id = ").arg(nullID(assignee)).sql(" WHERE id = ").arg(conversation)
	res, err := s.db.ExecContext(ctx, q.String(), q.args...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n != 1 {
		return errNotFound
	}
	return nil
}

// each runs q and calls f on every row.
func (s *SQLStore) each(ctx context.Context, q *query, f func(*sql.Rows) error) error {
	rows, err := s.db.QueryContext(ctx, q.String(), q.args...)
	if err != nil {
		return fmt.Errorf("%s: %w", q, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := f(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
