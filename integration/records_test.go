package integration

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/teamperm/teamperm"
)

// This file holds the record table every test shares the shape of, the
// rows that go into it, and the adapter from engine types to the reference
// model's plain strings (as the root's model_test.go has it).

// A creatorKind is a value of a deal's creator-kind column, in both of the
// column forms a host may use: text ("member", as CreatorKindValues
// defaults) and an integer code (1 member, 2 automation).
type creatorKind struct {
	text any                  // the text column's value; nil is NULL
	num  any                  // the integer column's value; nil is NULL
	kind teamperm.CreatorKind // what the row stands for in a Record
	ref  string               // what the reference model reads
}

// invalidCreator is the CreatorKind of a row whose column holds none of the
// mapped values (as CheckScope reads it): nothing matches it.
const invalidCreator = teamperm.CreatorKind(255)

var creatorKinds = []creatorKind{
	{nil, nil, teamperm.CreatorUnknown, ""}, // legacy: NULL
	{"member", int64(1), teamperm.CreatorMember, "member"},
	{"automation", int64(2), teamperm.CreatorAutomation, "automation"},
	// Unknown values: only the exact mapped value counts, also under a
	// case-insensitive, trailing-space-insensitive MySQL collation.
	{"system", int64(3), invalidCreator, "system"},
	{"Member", int64(4), invalidCreator, "Member"},
	{"member ", int64(5), invalidCreator, "member "},
	{"AUTOMATION", int64(-2), invalidCreator, "AUTOMATION"},
}

// A row is one row of a record table: its row ID (rid, unique per table),
// its kind, and the record's fields. ID fields hold the zero ID for NULL.
type row struct {
	rid      int64
	kind     teamperm.Kind
	id       teamperm.ID // the record's own key: collides across organisations
	org      teamperm.ID
	instance teamperm.ID
	assignee teamperm.ID
	creator  teamperm.ID
	ck       creatorKind
	pipeline teamperm.ID
	more     []teamperm.ID // further instances, in the link table (R19); zero IDs are NULL rows
}

// recordCols are the columns of a record table, in the order of
// row.values.
var recordCols = []string{"rid", "kind", "id", "org_id", "instance_id", "assignee_id", "created_by", "creator_kind", "creator_kind_n", "pipeline_id"}

func (r row) values() []any {
	return []any{r.rid, r.kind.String(), bind(r.id), bind(r.org), bind(r.instance), bind(r.assignee), bind(r.creator), r.ck.text, r.ck.num, bind(r.pipeline)}
}

// record is the Record the row stands for.
func (r row) record() teamperm.Record {
	return teamperm.Record{
		Kind:         r.kind,
		Organization: r.org,
		Instance:     r.instance,
		Assignee:     r.assignee,
		Creator:      r.creator,
		CreatorKind:  r.ck.kind,
		Pipeline:     r.pipeline,
		Instances:    teamperm.IDSetOf(r.more...),
	}
}

// refRecord is the row as the reference model reads it. It is built from
// the row's stored values, not from record(): an unknown creator kind stays
// the unknown string it is (the root's toRefRecord maps every invalid
// CreatorKind to "", the legacy value, which its generators never produce).
func (r row) refRecord() refRecord {
	return refRecord{
		Kind:        r.kind.String(),
		Org:         refID(r.org),
		Instance:    refID(r.instance),
		Assignee:    refID(r.assignee),
		Creator:     refID(r.creator),
		CreatorKind: r.ck.ref,
		Pipeline:    refID(r.pipeline),
		MoreInstances: func() []string {
			var out []string
			for _, id := range r.more {
				out = append(out, refID(id))
			}
			return out
		}(),
	}
}

func (r row) String() string {
	s := fmt.Sprintf("rid %d %s id=%v org=%v instance=%v assignee=%v creator=%v creator_kind=%q/%v pipeline=%v",
		r.rid, r.kind, r.id, r.org, r.instance, r.assignee, r.creator, r.ck.text, r.ck.num, r.pipeline)
	if len(r.more) > 0 {
		s += fmt.Sprintf(" more=%v", r.more)
	}
	return s
}

// createRecordTable creates a record table whose ID columns hold keys of
// kind key, and drops it when t ends.
func (db *testDB) createRecordTable(t testing.TB, key teamperm.KeyKind, base string) string {
	t.Helper()
	name := db.newTable(t, base)
	k := db.keyType(key)
	db.exec(t, fmt.Sprintf(`CREATE TABLE %s (
		rid BIGINT NOT NULL PRIMARY KEY,
		kind %s NOT NULL,
		id %s, org_id %s, instance_id %s, assignee_id %s, created_by %s,
		creator_kind %s, creator_kind_n BIGINT,
		pipeline_id %s)`, name, db.textType(), k, k, k, k, k, db.textType(), k))
	return name
}

// insertRows writes rows into a record table in one transaction.
func (db *testDB) insertRows(t testing.TB, table string, rows []row) {
	t.Helper()
	vals := make([][]any, len(rows))
	for i, r := range rows {
		vals[i] = r.values()
	}
	db.insert(t, table, recordCols, vals)
}

// mappingOpts says how a test maps a record table.
type mappingOpts struct {
	key       teamperm.KeyKind
	qualified bool // "t.org_id" rather than "org_id"
	minimal   bool // only the columns the kind's scope can use
	ckInt     bool // the integer creator-kind column
}

// recordMapping maps the fields of kind k in a record table aliased t.
func recordMapping(k teamperm.Kind, o mappingOpts) teamperm.Mapping {
	name := func(c string) string {
		if o.qualified {
			return "t." + c
		}
		return c
	}
	col := func(c string) teamperm.Column { return column(o.key, name(c)) }
	m := teamperm.Mapping{Organization: col("org_id")}
	uses := func(f teamperm.Field) bool {
		if !o.minimal {
			return true
		}
		switch f {
		case teamperm.FieldInstance:
			return k.IsInstanceBound()
		case teamperm.FieldAssignee:
			return k == teamperm.KindConversation || k == teamperm.KindMessage || k == teamperm.KindDeal
		}
		return k == teamperm.KindDeal
	}
	if uses(teamperm.FieldInstance) {
		m.Instance = col("instance_id")
	}
	if uses(teamperm.FieldAssignee) {
		m.Assignee = col("assignee_id")
	}
	if uses(teamperm.FieldCreator) {
		m.Creator = col("created_by")
		m.Pipeline = col("pipeline_id")
		if o.ckInt {
			m.CreatorKind = teamperm.Column{Name: name("creator_kind_n")}
			m.CreatorKindValues.Member = int64(1)
			m.CreatorKindValues.Automation = int64(2)
		} else {
			m.CreatorKind = teamperm.Column{Name: name("creator_kind")}
		}
	}
	return m
}

// scopeQuery is the list query of a scope over a record table:
// SELECT t.rid FROM table t WHERE t.kind = <kind> AND <fragment>. The
// kind is the host's own condition, bound first, so the fragment's
// placeholders are numbered after it.
func (db *testDB) scopeQuery(table string, s teamperm.Scope, m teamperm.Mapping) (string, []any, error) {
	prefix := fmt.Sprintf("SELECT t.rid FROM %s t WHERE t.kind = %s AND ", table, db.ph(1))
	q, args, err := s.AppendSQL([]byte(prefix), []any{s.Kind().String()}, db.dialect, m)
	return string(q), args, err
}

// scopedRIDs runs the scope's list query and returns the row IDs, sorted.
func (db *testDB) scopedRIDs(t testing.TB, table string, s teamperm.Scope, m teamperm.Mapping) []int64 {
	t.Helper()
	q, args, err := db.scopeQuery(table, s, m)
	if err != nil {
		t.Fatalf("%s: render %v with %+v: %v", db.name, s, m, err)
	}
	return db.queryInts(t, q, args...)
}

// The answers of the in-memory matchers for rows of kind k, as sorted row
// IDs: what Scope.Match keeps, what Member.Visible allows and what the
// reference model allows.
func matchRIDs(s teamperm.Scope, rows []row) []int64 {
	out := []int64{}
	for _, r := range rows {
		rec := r.record()
		if r.kind == s.Kind() && s.Match(&rec) {
			out = append(out, r.rid)
		}
	}
	return out
}

func visibleRIDs(m *teamperm.Member, k teamperm.Kind, rows []row) []int64 {
	out := []int64{}
	for _, r := range rows {
		if r.kind == k && m.Visible(r.record()).Allowed() {
			out = append(out, r.rid)
		}
	}
	return out
}

func refRIDs(o refOrg, m refMember, k teamperm.Kind, rows []row) []int64 {
	out := []int64{}
	for _, r := range rows {
		if r.kind == k && refVisible(o, m, r.refRecord()) {
			out = append(out, r.rid)
		}
	}
	return out
}

// kindRIDs are the row IDs of kind k.
func kindRIDs(k teamperm.Kind, rows []row) []int64 {
	out := []int64{}
	for _, r := range rows {
		if r.kind == k {
			out = append(out, r.rid)
		}
	}
	return out
}

// describeRows lists the rows whose IDs are in exactly one of a and b.
func describeRows(rows []row, a, b []int64) string {
	var sb strings.Builder
	for _, r := range rows {
		if slices.Contains(a, r.rid) != slices.Contains(b, r.rid) {
			fmt.Fprintf(&sb, "\n\t%v (in first: %v)", r, slices.Contains(a, r.rid))
		}
	}
	return sb.String()
}

// The adapter to the reference model, as in the root's model_test.go:
// ID.String is injective across key types (42, "42", a UUID), and the zero
// ID is "".
func refID(id teamperm.ID) string {
	if id.IsZero() {
		return ""
	}
	return id.String()
}

func refIDs(a teamperm.Access) []string {
	var out []string
	for _, id := range a.IDs {
		out = append(out, refID(id))
	}
	return out
}

func refNames(s teamperm.PermissionSet) []string {
	var out []string
	for p := range s.All() {
		out = append(out, p.String())
	}
	return out
}

func refRoleName(r teamperm.Role) string {
	if !r.IsValid() {
		return ""
	}
	return r.String()
}

func toRef(org teamperm.Organization, plan teamperm.Plan, s teamperm.Settings) (refOrg, refMember) {
	return refOrg{ID: refID(org.ID), Plan: plan.String()}, refMember{
		ID:                refID(s.Member),
		Org:               refID(org.ID),
		Role:              refRoleName(s.Role),
		Grants:            refNames(s.Grants),
		Denies:            refNames(s.Denies),
		AllInstances:      s.Instances.IsAll(),
		Instances:         refIDs(s.Instances),
		OnlyAssignedChats: s.OnlyAssignedChats,
		OnlyCreatedDeals:  s.OnlyCreatedDeals,
		AllPipelines:      s.Pipelines.IsAll(),
		Pipelines:         refIDs(s.Pipelines),
	}
}

// A member is a compiled member with what it was compiled from, for the
// reference model and for messages.
type member struct {
	*teamperm.Member
	org      teamperm.Organization
	plan     teamperm.Plan
	settings teamperm.Settings
}

func (m member) ref() (refOrg, refMember) { return toRef(m.org, m.plan, m.settings) }

func (m member) String() string {
	s := m.settings
	return fmt.Sprintf("%v %v %v in org %v: grants %v denies %v instances %v only-assigned %v only-created %v pipelines %v",
		m.plan, s.Role, s.Member, m.org.ID, s.Grants, s.Denies, accessString(s.Instances), s.OnlyAssignedChats, s.OnlyCreatedDeals, accessString(s.Pipelines))
}

func accessString(a teamperm.Access) string {
	if a.IsAll() {
		return "all"
	}
	if len(a.IDs) > 12 {
		return fmt.Sprintf("%v... (%d)", a.IDs[:12], len(a.IDs))
	}
	return fmt.Sprint(a.IDs)
}

// fataler is what testing.TB and *rapid.T have in common here.
type fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

func compile(t fataler, org teamperm.ID, plan teamperm.Plan, s teamperm.Settings) member {
	t.Helper()
	o := teamperm.Organization{ID: org, Features: plan.Features()}
	m, err := teamperm.Compile(o, s)
	if err != nil {
		t.Fatalf("Compile(%v, %+v): %v", o, s, err)
	}
	return member{Member: m, org: o, plan: plan, settings: s}
}

// mustUUID parses a UUID literal.
func mustUUID(s string) teamperm.ID {
	id, err := teamperm.ParseUUID(s)
	if err != nil {
		panic(err)
	}
	return id
}

// allKinds are the eight record kinds.
func allKinds() []teamperm.Kind {
	var ks []teamperm.Kind
	for k := range teamperm.Kinds() {
		ks = append(ks, k)
	}
	return ks
}
