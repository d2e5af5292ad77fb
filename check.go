package teamperm

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
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
// mapped column of every row, builds the [Record] the row stands for
// (a NULL is the zero [ID]; a creator kind that is none of the mapped
// values is an invalid CreatorKind, which nothing matches), and compares.
//
// What it cannot see: a field mapped to the wrong column of the right type
// (the assignee mapped to the creator's column) is read back through the
// same wrong mapping, so scope and records agree on the wrong data. Pair
// it with a test that inserts a few known rows and checks what each
// member lists.
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

	all, err := queryRecords(ctx, db, string(sel), nil, cols, k, member.Organization(), &m)
	if err != nil {
		return err
	}
	scoped, err := queryRecords(ctx, db, string(sel)+" WHERE "+string(where), args, cols, k, member.Organization(), &m)
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

func queryRecords(ctx context.Context, db Querier, query string, args []any, cols []checkColumn, k Kind, org ID, m *Mapping) (map[Record]int, error) {
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
	if b, ok := v.([]byte); ok {
		v = string(b)
	}
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
		return ID{}, fmt.Errorf("teamperm: CheckScope: column %q holds %v (%T), not a key of kind %s: %w", c.Name, v, v, c.Key, ErrInvalidMapping)
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
