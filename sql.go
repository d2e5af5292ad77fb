package teamperm

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// A Dialect is an SQL dialect the renderer writes: how it quotes
// identifiers, numbers placeholders, and passes large sets of keys. The
// zero value is no dialect and renders nothing but errors.
type Dialect uint8

// The dialects.
const (
	// Postgres: PostgreSQL and what speaks its SQL (CockroachDB,
	// YugabyteDB): "quoted" identifiers, $1 placeholders, large sets as
	// one array parameter, text keys compared byte for byte as
	// col::text COLLATE "C" next to the plain equality the index serves.
	Postgres Dialect = iota + 1
	// SQLite: "quoted" identifiers, ? placeholders, large sets as one JSON
	// array parameter read by json_each, text keys compared under
	// COLLATE BINARY.
	SQLite
	// MySQL: MySQL and MariaDB: `quoted` identifiers, ? placeholders, and
	// text keys compared byte for byte (CAST(col AS BINARY)) next to the
	// plain equality the index serves.
	MySQL

	numDialects = iota + 1
)

var dialectNames = [numDialects]string{"none", "postgres", "sqlite", "mysql"}

// questionMarks is the bit of a Dialect that asks for ? placeholders.
const questionMarks Dialect = 0x80

// QuestionMarks returns d writing ? placeholders, for query builders that
// number placeholders themselves, such as squirrel with sq.Dollar or gorm
// on PostgreSQL. Everything else is d's. It changes nothing for SQLite and
// MySQL, which use ? already.
func (d Dialect) QuestionMarks() Dialect { return d | questionMarks }

// base is d without the placeholder bit.
func (d Dialect) base() Dialect { return d &^ questionMarks }

// String returns "postgres", "sqlite" or "mysql", with "?" appended for
// [Dialect.QuestionMarks].
func (d Dialect) String() string {
	if d&questionMarks != 0 {
		return d.base().String() + "?"
	}
	return enumString(dialectNames[:], "Dialect", uint8(d))
}

// largeSet is the size from which an In renders as one array parameter
// (Postgres, SQLite) instead of a placeholder a value.
const largeSet = 32

// maxArgs bounds the bind parameters of one statement: MySQL and
// PostgreSQL accept 65,535.
const maxArgs = 65535

// AppendSQL appends the scope's predicate as an SQL boolean expression to
// dst, and its bind values to args. Placeholders are numbered after the
// values already in args, so the fragment can follow the host's own
// conditions: "WHERE c.archived = $1 AND " + fragment. The fragment is
// always parenthesised. Values are only ever bound, never written into
// the text; column names come from m, validated and quoted.
//
// It renders the organisation condition (unless m is SingleTenant) and
// the member's conditions; a scope that matches nothing renders as
// (1=0), which every engine accepts. It fails, appending nothing, when m
// lacks a column the scope needs, a name is not an identifier, or a key is
// not of its column's kind.
func (s Scope) AppendSQL(dst []byte, args []any, d Dialect, m Mapping) ([]byte, []any, error) {
	if m.SingleTenant {
		if m.Organization != (Column{}) {
			return dst, args, fmt.Errorf("teamperm: mapping is SingleTenant and has an organization column %q: %w", m.Organization.Name, ErrInvalidMapping)
		}
		return AppendSQL(dst, args, d, m, s.filter())
	}
	if m.Organization == (Column{}) {
		return dst, args, fmt.Errorf("teamperm: mapping has no organization column and is not SingleTenant: %w", ErrInvalidMapping)
	}
	f := s.filter()
	if f == None {
		return AppendSQL(dst, args, d, m, f)
	}
	// The organisation condition, then the member's: what Tree() would
	// build, without building it.
	r, err := newRenderer(dst, args, d, &m)
	if err != nil {
		return dst, args, err
	}
	if err := r.eq(Eq{Field: FieldOrganization, Value: s.org, arg: s.orgArg}); err != nil {
		return dst, args, err
	}
	if f != All {
		r.b = append(r.b, " AND "...)
		and, isAnd := f.(And)
		switch {
		case isAnd && len(and) > 1:
			err = r.join(and, " AND ", true)
		default:
			_, isOr := f.(Or)
			if isOr {
				r.b = append(r.b, '(')
			}
			err = r.filter(f)
			if isOr {
				r.b = append(r.b, ')')
			}
		}
		if err != nil {
			return dst, args, err
		}
	}
	return r.finish(dst, args)
}

// SQL is [Scope.AppendSQL] into a new string, with placeholders numbered
// from 1.
func (s Scope) SQL(d Dialect, m Mapping) (string, []any, error) {
	b, args, err := s.AppendSQL(nil, nil, d, m)
	return string(b), args, err
}

// AppendSQL renders any filter f, as [Scope.AppendSQL] does for a scope,
// without adding an organisation condition: it is for hosts that build
// their own trees. On error dst and args are returned unchanged.
func AppendSQL(dst []byte, args []any, d Dialect, m Mapping, f Filter) ([]byte, []any, error) {
	r, err := newRenderer(dst, args, d, &m)
	if err != nil {
		return dst, args, err
	}
	if err := r.filter(f); err != nil {
		return dst, args, err
	}
	return r.finish(dst, args)
}

// newRenderer checks d and opens the fragment's parenthesis.
func newRenderer(dst []byte, args []any, d Dialect, m *Mapping) (renderer, error) {
	if d.base() == 0 || d.base() >= numDialects {
		return renderer{}, fmt.Errorf("teamperm: dialect %s: %w", d, ErrInvalidMapping)
	}
	return renderer{d: d, m: m, b: append(dst, '('), args: args}, nil
}

// finish closes the fragment; on error it returns dst and args as they
// came.
func (r *renderer) finish(dst []byte, args []any) ([]byte, []any, error) {
	r.b = append(r.b, ')')
	if len(r.args) > maxArgs {
		return dst, args, fmt.Errorf("teamperm: %d bind values, more than the %d an engine accepts: %w", len(r.args), maxArgs, ErrInvalidMapping)
	}
	return r.b, r.args, nil
}

type renderer struct {
	d    Dialect
	m    *Mapping
	b    []byte
	args []any
}

func (r *renderer) filter(f Filter) error {
	switch f := f.(type) {
	case Const:
		if f {
			r.b = append(r.b, "1=1"...)
		} else {
			r.b = append(r.b, "1=0"...)
		}
		return nil
	case And:
		return r.join(f, " AND ", true)
	case Or:
		return r.join(f, " OR ", false)
	case Eq:
		return r.eq(f)
	case In:
		return r.in(f)
	case CreatorKindIs:
		return r.creatorKind(f)
	case nil:
		return fmt.Errorf("teamperm: nil filter: %w", ErrInvalidMapping)
	}
	return fmt.Errorf("teamperm: unknown filter %T: %w", f, ErrInvalidMapping)
}

func (r *renderer) join(fs []Filter, op string, empty bool) error {
	switch len(fs) {
	case 0:
		return r.filter(Const(empty))
	case 1:
		return r.filter(fs[0])
	}
	for i, f := range fs {
		if i > 0 {
			r.b = append(r.b, op...)
		}
		// Leaves render self-contained; only a nested And or Or needs
		// parentheses of its own.
		_, nested := f.(And)
		if _, or := f.(Or); or {
			nested = true
		}
		if nested {
			r.b = append(r.b, '(')
		}
		if err := r.filter(f); err != nil {
			return err
		}
		if nested {
			r.b = append(r.b, ')')
		}
	}
	return nil
}

// keyColumn is the column of f for an Eq or In (node names it): any
// field but the creator kind, which has CreatorKindIs.
func (r *renderer) keyColumn(node string, f Field) (Column, error) {
	if f == FieldCreatorKind {
		return Column{}, fmt.Errorf("teamperm: %s on %s: use CreatorKindIs: %w", node, f, ErrInvalidMapping)
	}
	return r.m.column(f)
}

func (r *renderer) eq(f Eq) error {
	return r.onColumns("Eq", f.Field, func(c Column) error {
		if err := checkKey(c, f.Field, f.Value); err != nil {
			return err
		}
		v := f.arg
		if v == nil {
			v = boxID(f.Value)
		}
		r.compare(c, v)
		return nil
	})
}

// onColumns renders a condition on field f with cond, which writes it for
// one column: on f's column, or, for the instance field of a mapping with
// an instance link (R19), on the Instance column (if mapped) OR on the
// link table's instance column inside an EXISTS subquery.
func (r *renderer) onColumns(node string, f Field, cond func(Column) error) error {
	link := r.m.Instances
	if f != FieldInstance || link.IsZero() {
		c, err := r.keyColumn(node, f)
		if err != nil {
			return err
		}
		return cond(c)
	}
	if err := link.validate(); err != nil {
		return err
	}
	main := r.m.Instance.Name != ""
	if main {
		c, err := r.keyColumn(node, f)
		if err != nil {
			return err
		}
		r.b = append(r.b, '(')
		if err := cond(c); err != nil {
			return err
		}
		r.b = append(r.b, " OR "...)
	}
	linkCol := Column{Name: linkAlias + "." + link.Instance.Name, Key: link.Instance.Key}
	if link.Key.Key != KeyInt && r.d.base() != SQLite {
		// Text keys in PostgreSQL and MySQL: uncorrelated INs, one under
		// the key column's own collation (so that an index on it serves a
		// semi-join) and one over the keys as bytes. A correlated
		// subquery would let the engine cache its answer per outer key
		// under the column's collation (MariaDB's subquery cache does:
		// the answer for "it's" is reused for "IT'S"), which R18 forbids.
		r.b = append(r.b, '(')
		for i, exact := range []bool{false, true} {
			if i > 0 {
				r.b = append(r.b, " AND "...)
			}
			r.keyExpr(link.Key.Name, exact)
			r.b = append(r.b, " IN (SELECT "...)
			r.keyExpr(linkAlias+"."+link.Record.Name, exact)
			r.b = append(r.b, " FROM "...)
			r.linkTable(link.Table)
			r.b = append(r.b, " WHERE "...)
			if err := cond(linkCol); err != nil {
				return err
			}
			r.b = append(r.b, ')')
		}
		r.b = append(r.b, ')')
	} else {
		// Integer keys as they are; text keys (SQLite only here) both
		// under the BINARY collation.
		text := link.Key.Key != KeyInt
		r.b = append(r.b, "EXISTS (SELECT 1 FROM "...)
		r.linkTable(link.Table)
		r.b = append(r.b, " WHERE "...)
		r.keyExpr(linkAlias+"."+link.Record.Name, text)
		r.b = append(r.b, " = "...)
		r.keyExpr(link.Key.Name, text)
		r.b = append(r.b, " AND "...)
		if err := cond(linkCol); err != nil {
			return err
		}
		r.b = append(r.b, ')')
	}
	if main {
		r.b = append(r.b, ')')
	}
	return nil
}

// compare writes column = value. A text value is compared byte for byte
// (R18) whatever the column's collation or type: MySQL adds a comparison
// of the column cast to binary, PostgreSQL one of the column as text under
// the "C" collation, SQLite compares under the BINARY collation. In MySQL
// and PostgreSQL the plain equality stays first, so that an index on the
// column, whatever its collation, still serves the lookup; SQLite's
// COLLATE BINARY is its columns' default collation, which its indexes
// serve as they are.
func (r *renderer) compare(c Column, v any) {
	if _, text := v.(string); text {
		switch r.d.base() {
		case MySQL, Postgres:
			r.b = append(r.b, '(')
			r.ident(c.Name)
			r.b = append(r.b, " = "...)
			r.arg(v)
			r.b = append(r.b, " AND "...)
			r.exact(c.Name)
			r.b = append(r.b, " = "...)
			r.arg(v)
			r.b = append(r.b, ')')
			return
		case SQLite:
			r.exact(c.Name)
			r.b = append(r.b, " = "...)
			r.arg(v)
			return
		}
	}
	r.ident(c.Name)
	r.b = append(r.b, " = "...)
	r.arg(v)
}

// linkTable writes a link table with its alias: table AS teamperm_link.
func (r *renderer) linkTable(table string) {
	r.ident(table)
	r.b = append(r.b, " AS "...)
	r.ident(linkAlias)
}

// keyExpr writes the column as it is, or as [renderer.exact] writes it.
func (r *renderer) keyExpr(name string, exact bool) {
	if exact {
		r.exact(name)
		return
	}
	r.ident(name)
}

// exact writes the column as the dialect compares text byte for byte:
// CAST(col AS BINARY) in MySQL, col::text COLLATE "C" in PostgreSQL (a
// deterministic collation: equal means the same bytes, also for citext,
// varchar, uuid and columns of a nondeterministic collation), col
// COLLATE BINARY in SQLite.
func (r *renderer) exact(name string) {
	switch r.d.base() {
	case MySQL:
		r.b = append(r.b, "CAST("...)
		r.ident(name)
		r.b = append(r.b, " AS BINARY)"...)
	case Postgres:
		r.ident(name)
		r.b = append(r.b, `::text COLLATE "C"`...)
	default:
		r.ident(name)
		r.b = append(r.b, " COLLATE BINARY"...)
	}
}

func (r *renderer) in(f In) error {
	return r.onColumns("In", f.Field, func(c Column) error { return r.inColumn(c, f) })
}

// inColumn writes f on column c.
func (r *renderer) inColumn(c Column, f In) error {
	if f.enc == nil || f.enc.keyKind(f.Values) != c.Key {
		for _, id := range f.Values {
			if err := checkKey(c, f.Field, id); err != nil {
				return err
			}
		}
	}
	vals := f.args
	if len(vals) != len(f.Values) {
		vals = boxIDs(f.Values)
	}
	text := c.Key != KeyInt
	switch {
	case len(vals) == 0:
		r.b = append(r.b, "1=0"...)
	case len(vals) == 1:
		r.compare(c, vals[0])
	case len(vals) >= largeSet && r.d.base() == Postgres && !text:
		r.ident(c.Name)
		r.b = append(r.b, " = ANY("...)
		r.arg(f.encoded(pgArrayArg, vals))
		r.b = append(r.b, "::bigint[])"...)
	case len(vals) >= largeSet && r.d.base() == Postgres:
		// The array's type is the column's own (text, varchar, citext,
		// uuid...), inferred by the server, so the index serves it; the
		// byte-exact check compares the same keys as text[].
		arr := f.encoded(pgArrayArg, vals)
		r.b = append(r.b, '(')
		r.ident(c.Name)
		r.b = append(r.b, " = ANY("...)
		r.arg(arr)
		r.b = append(r.b, ") AND "...)
		r.exact(c.Name)
		r.b = append(r.b, " = ANY("...)
		r.arg(arr)
		r.b = append(r.b, "::text[]))"...)
	case len(vals) >= largeSet && r.d.base() == SQLite && f.allUTF8(vals):
		// JSON text cannot carry bytes that are not UTF-8 (they would
		// become U+FFFD and match other rows): such sets stay placeholders.
		if text {
			r.exact(c.Name)
		} else {
			r.ident(c.Name)
		}
		r.b = append(r.b, " IN (SELECT value FROM json_each("...)
		r.arg(f.encoded(jsonArrayArg, vals))
		r.b = append(r.b, "))"...)
	case text && r.d.base() == SQLite:
		r.list(c.Name, true, vals)
	case text:
		r.b = append(r.b, '(')
		r.list(c.Name, false, vals)
		r.b = append(r.b, " AND "...)
		r.list(c.Name, true, vals)
		r.b = append(r.b, ')')
	default:
		r.list(c.Name, false, vals)
	}
	return nil
}

// allUTF8 reports whether every text value of vals is valid UTF-8.
func allUTF8(vals []any) bool {
	for _, v := range vals {
		if s, ok := v.(string); ok && !utf8.ValidString(s) {
			return false
		}
	}
	return true
}

// list writes name IN (values), with the column as [renderer.exact]
// writes it when exact. There are at least two values (inColumn writes
// fewer otherwise).
func (r *renderer) list(name string, exact bool, vals []any) {
	if exact {
		r.exact(name)
	} else {
		r.ident(name)
	}
	r.b = append(r.b, " IN ("...)
	r.argList(vals)
	r.b = append(r.b, ')')
}

// The encodings of a large set as one bind value.
const (
	pgArrayArg   = iota // a PostgreSQL array literal
	jsonArrayArg        // a JSON array, for SQLite's json_each
	numSetArgs
)

// setArgs holds the encodings of one large set, made on first use and
// kept, so that rendering a cached scope again costs no allocation for
// its sets, whatever their size.
type setArgs struct {
	once [numSetArgs]sync.Once
	arg  [numSetArgs]any

	facts    sync.Once
	kind     KeyKind // the kind of every value; zero if they are of several kinds, or none
	textUTF8 bool    // every text value is valid UTF-8
}

// learn works out, once, what rendering checks of every value.
func (s *setArgs) learn(ids []ID) {
	s.facts.Do(func() {
		s.textUTF8 = true
		for i, id := range ids {
			switch {
			case i == 0:
				s.kind = id.KeyKind()
			case id.KeyKind() != s.kind:
				s.kind = 0
			}
			if str, ok := id.Str(); ok && !utf8.ValidString(str) {
				s.textUTF8 = false
			}
		}
	})
}

// keyKind returns the kind of every one of ids, or zero.
func (s *setArgs) keyKind(ids []ID) KeyKind {
	s.learn(ids)
	return s.kind
}

// allUTF8 is the package's allUTF8 of the values, learnt once for a set a
// Member built.
func (in In) allUTF8(vals []any) bool {
	if in.enc == nil {
		return allUTF8(vals)
	}
	in.enc.learn(in.Values)
	return in.enc.textUTF8
}

// encoded returns the set's values encoded as one bind value: from the
// member's cache when the In was built by a Member, made afresh otherwise.
func (in In) encoded(enc int, vals []any) any {
	encode := func() any {
		if enc == pgArrayArg {
			return pgArray(vals)
		}
		js, _ := json.Marshal(vals) // strings and int64s only: cannot fail
		return string(js)
	}
	if in.enc == nil {
		return encode()
	}
	in.enc.once[enc].Do(func() { in.enc.arg[enc] = encode() })
	return in.enc.arg[enc]
}

// pgArray writes vals as a PostgreSQL array literal: {1,2} or {"a","b"}.
func pgArray(vals []any) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, v := range vals {
		if i > 0 {
			b.WriteByte(',')
		}
		switch v := v.(type) {
		case int64:
			b.WriteString(strconv.FormatInt(v, 10))
		case string:
			b.WriteByte('"')
			for j := 0; j < len(v); j++ {
				if v[j] == '"' || v[j] == '\\' {
					b.WriteByte('\\')
				}
				b.WriteByte(v[j])
			}
			b.WriteByte('"')
		}
	}
	b.WriteByte('}')
	return b.String()
}

func (r *renderer) creatorKind(f CreatorKindIs) error {
	c, err := r.m.column(FieldCreatorKind)
	if err != nil {
		return err
	}
	if f.Kind == CreatorUnknown {
		r.ident(c.Name)
		r.b = append(r.b, " IS NULL"...)
		return nil
	}
	v, err := r.m.creatorValue(f.Kind)
	if err != nil {
		return err
	}
	r.compare(c, v)
	return nil
}

// checkKey fails for a zero ID, or one of another kind than column c's.
func checkKey(c Column, f Field, id ID) error {
	if id.KeyKind() != c.Key {
		return fmt.Errorf("teamperm: %s %v is a key of kind %s, column %q holds keys of kind %s: %w", f, id, id.KeyKind(), c.Name, c.Key, ErrInvalidMapping)
	}
	return nil
}

// boxID returns the value id binds as: int64, string, or the canonical
// text of a UUID; nil for the zero ID.
func boxID(id ID) any {
	switch id.kind {
	case idInt:
		return id.n
	case idString:
		return id.s
	case idUUID:
		return string(id.appendUUID(nil))
	}
	return nil
}

func (r *renderer) ident(name string) {
	q := byte('"')
	if r.d.base() == MySQL {
		q = '`'
	}
	r.b = append(r.b, q)
	for i := 0; i < len(name); i++ {
		if name[i] == '.' {
			r.b = append(r.b, q, '.', q)
			continue
		}
		r.b = append(r.b, name[i])
	}
	r.b = append(r.b, q)
}

// numbered reports whether placeholders are numbered ($1) rather than ?.
func (r *renderer) numbered() bool { return r.d == Postgres }

func (r *renderer) arg(v any) {
	r.args = append(r.args, v)
	if r.numbered() {
		r.b = append(r.b, '$')
		r.b = strconv.AppendInt(r.b, int64(len(r.args)), 10)
		return
	}
	r.b = append(r.b, '?')
}

// argList binds vals (at least one), writing their placeholders separated
// by ", ". ? placeholders are appended in bulk, values and text, which
// makes a long set cheap where there is no array parameter (MySQL).
func (r *renderer) argList(vals []any) {
	if r.numbered() {
		for i, v := range vals {
			if i > 0 {
				r.b = append(r.b, ", "...)
			}
			r.arg(v)
		}
		return
	}
	r.args = append(r.args, vals...)
	r.b = append(r.b, '?')
	for n := len(vals) - 1; n > 0; {
		k := min(n, len(morePlaceholders)/3)
		r.b = append(r.b, morePlaceholders[:3*k]...)
		n -= k
	}
}

// morePlaceholders is ", ?" many times over, for [renderer.argList].
var morePlaceholders = strings.Repeat(", ?", 256)
