package teamperm

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// A Querier runs a query: *sql.DB, *sql.Tx and *sql.Conn all are.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// CheckScope proves a host's mapping and schema right, the way
// testing/slogtest proves a slog.Handler: it runs the member's scope of
// kind k as a real query against db and checks every row of from against
// [Member.Visible]. Each row the scoped query returns must be visible, and
// each visible row must be returned, as often as it occurs. It returns
// every violation, joined with [errors.Join], or nil.
//
// from is the FROM clause of the host's list query for k, as the host
// writes it ("conversations c", or "messages m JOIN conversations c ON
// c.id = m.conversation_id"); it is the host's own SQL, trusted as such.
// m maps the record's fields to columns of from. CheckScope reads every
// mapped column of every row (and, with an instance link, the whole link
// table, for each record's [Record.Instances]), builds the [Record] the
// row stands for
// (a NULL is the zero [ID]; a creator kind that is none of the mapped
// values is an invalid CreatorKind, which nothing matches), and compares.
//
// What it cannot see: a field mapped to the wrong column of the right type
// (the assignee mapped to the creator's column) is read back through the
// same wrong mapping, so scope and records agree on the wrong data.
// [CheckRows] sees that, by writing known records with the host's own
// code; [CheckSchema] checks the columns' types.
//
// CheckScope is for the host's tests: it reads the whole table. It does
// not import package testing.
func CheckScope(ctx context.Context, db Querier, d Dialect, from string, m Mapping, member *Member, k Kind) error {
	scope := member.Scope(k)
	where, args, err := scope.AppendSQL(nil, nil, d, m)
	if err != nil {
		return err
	}
	cols, err := m.checkColumns()
	if err != nil {
		return err
	}
	var link map[ID][]ID // record key -> its instances in the link table (R19)
	if !m.Instances.IsZero() {
		if link, err = queryLink(ctx, db, d, m.Instances); err != nil {
			return err
		}
		cols = append(cols, checkColumn{field: 0, col: m.Instances.Key})
	}
	sel := []byte("SELECT ")
	r := renderer{d: d, m: &m}
	for i, c := range cols {
		if i > 0 {
			r.b = append(r.b, ", "...)
		}
		r.ident(c.col.Name)
	}
	sel = append(sel, r.b...)
	sel = append(sel, " FROM "...)
	sel = append(sel, from...)

	all, err := queryRecords(ctx, db, string(sel), nil, cols, k, member.Organization(), &m, link)
	if err != nil {
		return err
	}
	scoped, err := queryRecords(ctx, db, string(sel)+" WHERE "+string(where), args, cols, k, member.Organization(), &m, link)
	if err != nil {
		return err
	}

	var errs []error
	report := func(err error) {
		if len(errs) < 50 {
			errs = append(errs, err)
		} else if len(errs) == 50 {
			errs = append(errs, errors.New("teamperm: CheckScope: more violations not shown"))
		}
	}
	for rec, n := range scoped {
		if all[rec] < n {
			report(fmt.Errorf("teamperm: CheckScope: the scoped query returned %d rows %+v but the table has %d", n, rec, all[rec]))
		}
	}
	for rec, n := range all {
		d := member.Visible(rec)
		switch got := scoped[rec]; {
		case d.Allowed() && got != n:
			report(fmt.Errorf("teamperm: CheckScope: row %+v is visible (%v) but the scoped query returned it %d times of %d", rec, d.Reason(), got, n))
		case !d.Allowed() && got != 0:
			report(fmt.Errorf("teamperm: CheckScope: row %+v is hidden (%v) but the scoped query returned it", rec, d.Reason()))
		}
	}
	return errors.Join(errs...)
}

type checkColumn struct {
	field Field
	col   Column
}

// checkColumns lists the mapped columns, validated.
func (m *Mapping) checkColumns() ([]checkColumn, error) {
	var cols []checkColumn
	for f := FieldOrganization; f < numFields; f++ {
		if f == FieldOrganization && m.SingleTenant {
			continue
		}
		c, err := m.column(f)
		switch {
		case f != FieldOrganization && c.Name == "":
			continue // unmapped: the record's field stays NULL
		case err != nil:
			return nil, err
		}
		cols = append(cols, checkColumn{f, c})
	}
	return cols, nil
}

// queryLink reads the whole link table: each record key's instances.
func queryLink(ctx context.Context, db Querier, d Dialect, l InstanceLink) (map[ID][]ID, error) {
	if err := l.validate(); err != nil {
		return nil, err
	}
	r := renderer{d: d, b: []byte("SELECT ")}
	r.ident(linkAlias + "." + l.Record.Name)
	r.b = append(r.b, ", "...)
	r.ident(linkAlias + "." + l.Instance.Name)
	r.b = append(r.b, " FROM "...)
	r.linkTable(l.Table)
	rows, err := db.QueryContext(ctx, string(r.b))
	if err != nil {
		return nil, fmt.Errorf("teamperm: CheckScope: %s: %w", r.b, err)
	}
	defer rows.Close()
	out := map[ID][]ID{}
	for rows.Next() {
		var rec, inst any
		if err := rows.Scan(&rec, &inst); err != nil {
			return nil, fmt.Errorf("teamperm: CheckScope: %w", err)
		}
		if rec == nil || inst == nil {
			continue // NULL refers to no record, and is no instance
		}
		key, err := scanID(l.Record, asText(rec))
		if err != nil {
			return nil, err
		}
		id, err := scanID(l.Instance, asText(inst))
		if err != nil {
			return nil, err
		}
		out[key] = append(out[key], id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("teamperm: CheckScope: %w", err)
	}
	return out, nil
}

// asText turns the []byte a driver scans text into a string.
func asText(v any) any {
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	return v
}

func queryRecords(ctx context.Context, db Querier, query string, args []any, cols []checkColumn, k Kind, org ID, m *Mapping, link map[ID][]ID) (map[Record]int, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("teamperm: CheckScope: %s: %w", query, err)
	}
	defer rows.Close()
	out := map[Record]int{}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("teamperm: CheckScope: %w", err)
		}
		rec := Record{Kind: k}
		if m.SingleTenant {
			rec.Organization = org
		}
		for i, c := range cols {
			if c.field == 0 { // the record's key, for its instances in the link table
				key, err := scanID(c.col, asText(vals[i]))
				if err != nil {
					return nil, err
				}
				if !key.IsZero() { // a NULL key has no link rows
					rec.Instances = IDSetOf(link[key]...)
				}
				continue
			}
			if err := setField(&rec, c, vals[i], m); err != nil {
				return nil, err
			}
		}
		out[rec]++
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("teamperm: CheckScope: %w", err)
	}
	return out, nil
}

// setField stores the scanned value v of column c in rec.
func setField(rec *Record, c checkColumn, v any, m *Mapping) error {
	v = asText(v)
	if c.field == FieldCreatorKind {
		rec.CreatorKind = CreatorKind(255) // none of the mapped values
		if v == nil {
			rec.CreatorKind = CreatorUnknown
		}
		for _, k := range []CreatorKind{CreatorMember, CreatorAutomation} {
			want, err := m.creatorValue(k)
			if err != nil {
				return err
			}
			if sameValue(v, want) {
				rec.CreatorKind = k
			}
		}
		return nil
	}
	id, err := scanID(c.col, v)
	if err != nil {
		return err
	}
	switch c.field {
	case FieldOrganization:
		rec.Organization = id
	case FieldInstance:
		rec.Instance = id
	case FieldAssignee:
		rec.Assignee = id
	case FieldCreator:
		rec.Creator = id
	case FieldPipeline:
		rec.Pipeline = id
	}
	return nil
}

// sameValue compares a scanned value with a mapped creator-kind value
// (string or int64), byte for byte.
func sameValue(v, want any) bool {
	switch w := want.(type) {
	case string:
		s, ok := v.(string)
		return ok && s == w
	case int64:
		switch n := v.(type) {
		case int64:
			return n == w
		case string:
			return n == strconv.FormatInt(w, 10)
		}
	}
	return false
}

// scanID converts a scanned column value to the ID it stands for.
func scanID(c Column, v any) (ID, error) {
	if v == nil {
		return ID{}, nil
	}
	bad := func() (ID, error) {
		return ID{}, fmt.Errorf("teamperm: column %q holds %v (%T), not a key of kind %s: %w", c.Name, v, v, c.Key, ErrInvalidMapping)
	}
	switch c.Key {
	case KeyInt:
		switch n := v.(type) {
		case int64:
			return IntID(n), nil
		case string:
			i, err := strconv.ParseInt(n, 10, 64)
			if err != nil {
				return bad()
			}
			return IntID(i), nil
		}
	case KeyString:
		if s, ok := v.(string); ok {
			return StringID(s), nil
		}
	case KeyUUID:
		switch u := v.(type) {
		case string:
			if len(u) == 16 {
				return UUIDID([16]byte([]byte(u))), nil
			}
			// Text must be the canonical lower-case form that the
			// renderer binds, or the two would compare differently.
			id, err := ParseUUID(u)
			if err != nil || id.String() != u {
				return bad()
			}
			return id, nil
		case [16]byte:
			return UUIDID(u), nil
		}
	}
	return bad()
}

// CheckRows closes the blind spot of [CheckScope]: a field mapped to
// another column of the right type. Within one transaction that it rolls
// back, it writes synthetic records of kind t.Kind with the host's own
// t.Insert, covering every class: two organisations (and none), allowed
// and hidden instances, the member and a colleague as assignee and
// creator, member-created, automation-created and legacy deals, allowed
// and other pipelines, NULLs, and, for text keys, case and trailing-space
// variants of the allowed keys. Each field gets values of its own, so a
// field read from another field's column shows. Then it checks:
//
//   - each row read back through t.Mapping (with [Mapping.Record]) is the
//     record Insert wrote, and so is t.Record's conversion, when set;
//   - for members with every kind of restriction of t.Kind, the scoped
//     query over t.From returns exactly the synthetic rows that
//     [Member.Visible] allows.
//
// It returns every violation, joined with [errors.Join], or nil. The
// synthetic keys are integers from 7,700,000,000,000, text keys starting
// with "tpcheck-", and UUIDs 7e7e7e7e-...; Insert must store them as given
// (creating the rows they refer to, if its schema has foreign keys), or
// return a nil key and no error for a record its schema cannot hold (a
// NULL in a NOT NULL column), which CheckRows then leaves out. d's
// placeholders are used for the checker's own queries.
//
// CheckRows is for the host's tests. It does not import package testing.
func CheckRows(ctx context.Context, db *sql.DB, d Dialect, t Table) error {
	m := t.Mapping
	if t.Insert == nil {
		return fmt.Errorf("teamperm: CheckRows: Table.Insert is nil: %w", ErrInvalidMapping)
	}
	if err := validIdent(t.Key); err != nil {
		return fmt.Errorf("teamperm: CheckRows: Table.Key: %w", err)
	}
	if !t.Kind.IsValid() {
		return fmt.Errorf("teamperm: CheckRows: kind %v: %w", t.Kind, ErrUnknownKind)
	}
	if d.base() == 0 || d.base() >= numDialects {
		return fmt.Errorf("teamperm: CheckRows: dialect %s: %w", d, ErrInvalidMapping)
	}
	d = d.base()
	sel, err := m.AppendColumns(nil, d)
	if err != nil {
		return err
	}
	w := newSynthetic(&m, t.Kind)
	members, err := w.members()
	if err != nil {
		return err
	}

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("teamperm: CheckRows: begin: %w", err)
	}
	defer tx.Rollback()

	var errs []error
	report := func(err error) {
		if len(errs) < 50 {
			errs = append(errs, err)
		} else if len(errs) == 50 {
			errs = append(errs, fmt.Errorf("teamperm: CheckRows: more violations not shown: %w", ErrInvalidMapping))
		}
	}
	byKey := map[string]Record{}
	var keys []any
	for _, rec := range w.records() {
		key, err := t.Insert(ctx, tx, rec)
		if err != nil {
			return fmt.Errorf("teamperm: CheckRows: Insert(%+v): %w", rec, err)
		}
		if key == nil {
			continue // the host's schema cannot hold r (a NULL in a NOT NULL column)
		}
		k := keyString(key)
		if _, dup := byKey[k]; dup {
			return fmt.Errorf("teamperm: CheckRows: Insert returned the key %v twice: %w", key, ErrInvalidMapping)
		}
		byKey[k] = rec
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return fmt.Errorf("teamperm: CheckRows: no synthetic records for %v: %w", t.Kind, ErrInvalidMapping)
	}

	// The rows read back through the mapping, and the host's conversion.
	r := renderer{d: d, b: []byte("SELECT ")}
	r.ident(t.Key)
	r.b = append(r.b, ", "...)
	r.b = append(r.b, sel...)
	r.b = append(r.b, " FROM "...)
	r.b = append(r.b, t.From...)
	r.b = append(r.b, " WHERE "...)
	r.list(t.Key, false, keys)
	rows, err := tx.QueryContext(ctx, string(r.b), r.args...)
	if err != nil {
		return fmt.Errorf("teamperm: CheckRows: %s: %w", r.b, err)
	}
	cols, _ := m.checkColumns()
	seen := map[string]int{}
	for rows.Next() {
		vals := make([]any, len(cols)+1)
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			rows.Close()
			return fmt.Errorf("teamperm: CheckRows: %w", err)
		}
		k := keyString(vals[0])
		want := byKey[k]
		seen[k]++
		got, err := m.Record(t.Kind, vals[1:])
		if err != nil {
			report(fmt.Errorf("teamperm: CheckRows: row %s: %w", k, err))
			continue
		}
		if m.SingleTenant {
			got.Organization = want.Organization
		}
		if got != want {
			report(fmt.Errorf("teamperm: CheckRows: row %s: Insert wrote %s, the mapping reads %s: %w", k, recordString(want), recordString(got), ErrInvalidMapping))
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("teamperm: CheckRows: %w", err)
	}
	rows.Close()
	for _, key := range keys {
		k := keyString(key)
		if seen[k] != 1 {
			report(fmt.Errorf("teamperm: CheckRows: row %s of %s: FROM %s has it %d times, want once: %w", k, recordString(byKey[k]), t.From, seen[k], ErrInvalidMapping))
		}
		if t.Record != nil {
			got, err := t.Record(ctx, tx, key)
			if err != nil {
				report(fmt.Errorf("teamperm: CheckRows: Table.Record(%s): %w", k, err))
			} else if got != byKey[k] {
				report(fmt.Errorf("teamperm: CheckRows: row %s: Insert wrote %s, Table.Record reads %s: %w", k, recordString(byKey[k]), recordString(got), ErrInvalidMapping))
			}
		}
	}

	// The scoped query of each member against Visible.
	for _, mem := range members {
		scope := mem.Scope(t.Kind)
		r := renderer{d: d, b: []byte("SELECT ")}
		r.ident(t.Key)
		r.b = append(r.b, " FROM "...)
		r.b = append(r.b, t.From...)
		r.b = append(r.b, " WHERE "...)
		r.list(t.Key, false, keys)
		r.b = append(r.b, " AND "...)
		q, args, err := scope.AppendSQL(r.b, r.args, d, m)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, string(q), args...)
		if err != nil {
			return fmt.Errorf("teamperm: CheckRows: %s: %w", q, err)
		}
		got := map[string]bool{}
		for rows.Next() {
			var v any
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return fmt.Errorf("teamperm: CheckRows: %w", err)
			}
			got[keyString(v)] = true
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("teamperm: CheckRows: %w", err)
		}
		rows.Close()
		for _, key := range keys {
			k := keyString(key)
			rec := byKey[k]
			dec := mem.Visible(rec)
			switch {
			case dec.Allowed() && !got[k]:
				report(fmt.Errorf("teamperm: CheckRows: %s: row %s, %s, is visible (%v) but the scoped query does not return it: %w", scope, k, recordString(rec), dec.Reason(), ErrInvalidMapping))
			case !dec.Allowed() && got[k]:
				report(fmt.Errorf("teamperm: CheckRows: %s: row %s, %s, is hidden (%v) but the scoped query returns it: %w", scope, k, recordString(rec), dec.Reason(), ErrInvalidMapping))
			}
		}
	}
	return errors.Join(errs...)
}

// keyString is a scanned or returned row key, for comparing the two.
func keyString(v any) string {
	if b, ok := v.([]byte); ok {
		v = string(b)
	}
	return fmt.Sprint(v)
}

func recordString(r Record) string {
	return fmt.Sprintf("{organization %v instance %v assignee %v creator %v creator_kind %v pipeline %v}", r.Organization, r.Instance, r.Assignee, r.Creator, r.CreatorKind, r.Pipeline)
}

// synthetic builds CheckRows' members and records, with keys of each
// mapped column's kind.
type synthetic struct {
	m    *Mapping
	kind Kind
	// Per field: the member's organisation, allowed and own values
	// first, then the others; NULL is added by records.
	org, people, instances, pipelines []ID
}

func newSynthetic(m *Mapping, k Kind) *synthetic {
	keyOf := func(c Column, fallback KeyKind) KeyKind {
		if c.Key > 0 && c.Key < numKeyKinds {
			return c.Key
		}
		return fallback
	}
	orgKey := keyOf(m.Organization, KeyInt)
	memberKey := keyOf(m.Assignee, keyOf(m.Creator, orgKey))
	return &synthetic{
		m: m, kind: k,
		org:       syntheticIDs(orgKey, 0, "org"),
		people:    syntheticIDs(memberKey, 1, "m"),
		instances: syntheticIDs(keyOf(m.Instance, orgKey), 2, "i"),
		pipelines: syntheticIDs(keyOf(m.Pipeline, orgKey), 3, "p"),
	}
}

// syntheticIDs returns keys of kind k, in a range of their own per field
// (n): the member's own (or allowed) key, another allowed one, a hidden
// one, and, for text keys, the own key in upper case and with a trailing
// space (a fourth key otherwise).
func syntheticIDs(k KeyKind, n int, name string) []ID {
	switch k {
	case KeyString:
		a := "tpcheck-" + name + "1"
		return []ID{StringID(a), StringID("tpcheck-" + name + "2"), StringID("tpcheck-" + name + "3"), StringID(strings.ToUpper(a)), StringID(a + " ")}
	case KeyUUID:
		var out []ID
		for i := range 4 {
			out = append(out, UUIDID([16]byte{0x7e, 0x7e, 0x7e, 0x7e, 0, byte(n), 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, byte(i + 1)}))
		}
		return out
	}
	base := int64(7_700_000_000_000) + int64(n)*1_000_000
	return []ID{IntID(base + 1), IntID(base + 2), IntID(base + 3), IntID(base + 4)}
}

// members compiles members of the synthetic organisation with every
// restriction of the kind.
func (w *synthetic) members() ([]*Member, error) {
	org := Organization{ID: w.org[0], Features: FineGrained}
	me := w.people[0]
	allowed := Only(w.instances[0], w.instances[1])
	pipes := Only(w.pipelines[0])
	var out []*Member
	for _, s := range []Settings{
		{Role: RoleOwner},
		{Role: RoleMember, Instances: allowed},
		{Role: RoleMember, OnlyAssignedChats: true},
		{Role: RoleAdmin, Instances: allowed, OnlyAssignedChats: true},
		{Role: RoleMember, OnlyCreatedDeals: true},
		{Role: RoleMember, Pipelines: pipes},
		{Role: RoleMember, OnlyCreatedDeals: true, Pipelines: pipes, Instances: allowed},
	} {
		s.Member = me
		mem, err := Compile(org, s)
		if err != nil {
			return nil, fmt.Errorf("teamperm: CheckRows: %w", err)
		}
		out = append(out, mem)
	}
	return out, nil
}

// records returns the synthetic records: every combination of the
// mapped fields' values, NULL included.
func (w *synthetic) records() []Record {
	withNull := func(ids []ID) []ID { return append(append([]ID{}, ids...), ID{}) }
	orgs := []ID{w.org[0]}
	if !w.m.SingleTenant {
		orgs = []ID{w.org[0], w.org[len(w.org)-1], {}}
	}
	one := []ID{{}}
	field := func(c Column, ids []ID) []ID {
		if c.Name == "" {
			return one
		}
		return withNull(ids)
	}
	instances := field(w.m.Instance, append([]ID{w.instances[0]}, w.instances[2:]...))
	assignees := field(w.m.Assignee, w.people[:2])
	creators := field(w.m.Creator, w.people[:2])
	pipelines := field(w.m.Pipeline, []ID{w.pipelines[0], w.pipelines[1], w.pipelines[len(w.pipelines)-1]})
	kinds := []CreatorKind{CreatorUnknown}
	if w.m.CreatorKind.Name != "" {
		kinds = []CreatorKind{CreatorUnknown, CreatorMember, CreatorAutomation}
	}
	var out []Record
	for _, o := range orgs {
		for _, i := range instances {
			for _, a := range assignees {
				for _, c := range creators {
					for _, ck := range kinds {
						for _, p := range pipelines {
							out = append(out, Record{Kind: w.kind, Organization: o, Instance: i, Assignee: a, Creator: c, CreatorKind: ck, Pipeline: p})
						}
					}
				}
			}
		}
	}
	return out
}
