package teamperm

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// A Table is one of the host's list queries, as the checkers
// [CheckSchema] and [CheckRows] see it: the kind of records it lists, its
// FROM clause, and the [Mapping] of the record's fields to its columns.
// The zero Table checks nothing and is an error.
type Table struct {
	// Kind is the kind of records the query lists.
	Kind Kind
	// From is the FROM clause of the host's list query, as in
	// [CheckScope]: "conversations c", or a join. It is the host's own
	// SQL, trusted as such.
	From string
	// Mapping maps the record's fields to columns of From.
	Mapping Mapping
	// LegacyDeals says that a NULL creator kind is meant: the host keeps
	// legacy deals without creator tracking, which every member limited
	// to their own deals sees (R10). Without it, CheckSchema reports a
	// creator-kind column that can be NULL, as through an outer join.
	LegacyDeals bool

	// Key is the column that identifies a row of From ("c.id"), for
	// CheckRows.
	Key string
	// Insert writes the row of record r with the host's own code (its
	// models, its INSERT, the rows r refers to when foreign keys ask for
	// them) within tx, and returns the row's Key; a nil key and no error
	// for a record the schema cannot hold (a NULL in a NOT NULL column),
	// which CheckRows leaves out. CheckRows calls it; CheckSchema does not
	// need it.
	Insert func(ctx context.Context, tx *sql.Tx, r Record) (key any, err error)
	// Record, if set, is the host's own conversion of the row whose Key is
	// key, read within tx, into a Record (what it passes to
	// [Member.EvaluateRecord]). CheckRows compares it with the record
	// Insert wrote.
	Record func(ctx context.Context, tx *sql.Tx, key any) (Record, error)
}

// CheckSchema checks, once, in the host's test suite, that the real
// columns behind t's mapping hold keys the way the SQL renderer compares
// them (R18). It reads the database's catalog (pg_catalog and the types of
// the query's result columns in PostgreSQL, the result columns' types,
// character sets and NULL flags in MySQL, declared types and
// pragma_table_info in SQLite) and returns every problem, joined with
// [errors.Join], each wrapping [ErrInvalidMapping]; nil when there is none:
//
//   - the database is not of dialect d (a probe query each dialect alone
//     answers, and one that its identifier quoting means what d writes):
//     then nothing else is checked;
//   - a mapped column that From does not have;
//   - a key kind that does not match the column's type: integer keys need
//     an integer column, text keys a text column, UUID keys a uuid or text
//     column; a creator-kind column must hold its values' type;
//   - a type or character set under which text keys cannot be stored and
//     compared byte for byte: CHAR(n) (padding), BINARY(n), a MySQL
//     character set other than utf8mb4, a PostgreSQL database not in
//     UTF8, a SQLite column of numeric affinity;
//   - a creator-kind column that can be NULL when t.LegacyDeals is not
//     set: a NULL reads as a legacy deal, visible to members limited to
//     their own deals.
//
// Case- and space-insensitive collations (MySQL's defaults, SQLite's
// NOCASE and RTRIM, PostgreSQL's citext and nondeterministic collations)
// are no problem: the renderer compares byte for byte under them.
//
// Pass a *sql.DB: in PostgreSQL, a probe that fails (a missing column)
// aborts a transaction. CheckSchema does not import package testing.
func CheckSchema(ctx context.Context, db Querier, d Dialect, t Table) error {
	if d.base() == 0 || d.base() >= numDialects {
		return fmt.Errorf("teamperm: CheckSchema: dialect %s: %w", d, ErrInvalidMapping)
	}
	d = d.base()
	m := t.Mapping
	if m.SingleTenant && m.Organization != (Column{}) {
		return fmt.Errorf("teamperm: CheckSchema: mapping is SingleTenant and has an organization column %q: %w", m.Organization.Name, ErrInvalidMapping)
	}
	cols, err := m.checkColumns()
	if err != nil {
		return err
	}
	if err := probeDialect(ctx, db, d); err != nil {
		return err
	}
	if err := probeRows(ctx, db, "SELECT 1 FROM "+t.From+" WHERE 1=0"); err != nil {
		return fmt.Errorf("teamperm: CheckSchema: FROM %s: %v: %w", t.From, err, ErrInvalidMapping)
	}
	var errs []error
	report := func(c checkColumn, format string, args ...any) {
		errs = append(errs, fmt.Errorf("teamperm: CheckSchema: field %s, column %q: %s: %w", c.field, c.col.Name, fmt.Sprintf(format, args...), ErrInvalidMapping))
	}
	encoding := ""
	if d == Postgres {
		// Text keys are UTF-8: a database in another encoding cannot
		// hold every key, nor compare the bytes bound.
		if err := queryOne(ctx, db, "SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = current_database()", nil, &encoding); err != nil {
			return fmt.Errorf("teamperm: CheckSchema: database encoding: %v: %w", err, ErrInvalidMapping)
		}
	}
	tables := fromTables(t.From)
	for _, c := range cols {
		col, err := describeColumn(ctx, db, d, t.From, c.col.Name)
		if err != nil {
			report(c, "not found in FROM %s: %v", t.From, err)
			continue
		}
		var want any = c.col.Key // the key kind, or the creator kind's value
		if c.field == FieldCreatorKind {
			v, err := m.creatorValue(CreatorMember)
			if err != nil {
				return err
			}
			want = v
		}
		if msg := typeProblem(d, want, col); msg != "" {
			report(c, "%s", msg)
		}
		if text := want == KeyString || want == KeyUUID || isString(want); text && encoding != "" && encoding != "UTF8" {
			report(c, "database encoding %s: text keys need UTF8", encoding)
		}
		if c.field == FieldCreatorKind && !t.LegacyDeals && (t.Kind == KindDeal || t.Kind == 0) {
			nullable := col.nullable
			if nullable == nullUnknown {
				nullable = catalogNullable(ctx, db, d, tables, c.col.Name)
			}
			if nullable == nullYes {
				report(c, "can be NULL, and a NULL creator kind is a legacy deal, visible to every member limited to their own deals (set Table.LegacyDeals if that is meant)")
			}
		}
	}
	return errors.Join(errs...)
}

func isString(v any) bool { _, ok := v.(string); return ok }

// probeRows runs a query and reads its rows, for its error.
func probeRows(ctx context.Context, db Querier, q string, args ...any) error {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
	}
	return rows.Err()
}

// queryOne runs a query and scans its first row into dest; sql.ErrNoRows
// when there is none.
func queryOne(ctx context.Context, db Querier, q string, args []any, dest ...any) error {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	return rows.Close()
}

// probeDialect checks that db speaks d: a query only d's engines answer,
// and one that d's identifier quoting quotes identifiers (MariaDB reads
// "x" as a string literal).
func probeDialect(ctx context.Context, db Querier, d Dialect) error {
	identity := map[Dialect]string{
		Postgres: "SELECT CAST(1 AS int8)::text",
		SQLite:   "SELECT sqlite_version()",
		MySQL:    "SELECT @@version_comment",
	}[d]
	var v sql.NullString
	if err := queryOne(ctx, db, identity, nil, &v); err != nil {
		return fmt.Errorf("teamperm: CheckSchema: the database does not answer as %s does (%s: %v): wrong dialect: %w", d, identity, err, ErrInvalidMapping)
	}
	r := renderer{d: d}
	r.b = append(r.b, "SELECT "...)
	r.ident("teamperm_probe")
	r.b = append(r.b, " FROM (SELECT 7 AS teamperm_probe) AS t"...)
	var n sql.NullString
	if err := queryOne(ctx, db, string(r.b), nil, &n); err != nil || n.String != "7" {
		return fmt.Errorf("teamperm: CheckSchema: %s quotes identifiers as %s does not (%s: %q, %v): wrong dialect: %w", d, d, r.b, n.String, err, ErrInvalidMapping)
	}
	return nil
}

// A columnInfo is what CheckSchema learns of a column.
type columnInfo struct {
	typ      string // lower case: "bigint", "character varying", "varchar", "text collate nocase"
	charset  string // MySQL: the column's character set
	nullable nullability
}

type nullability uint8

const (
	nullUnknown nullability = iota
	nullNo
	nullYes
)

// describeColumn reads the type of column name of from.
func describeColumn(ctx context.Context, db Querier, d Dialect, from, name string) (columnInfo, error) {
	var info columnInfo
	r := renderer{d: d}
	r.ident(name)
	col := string(r.b)
	rows, err := db.QueryContext(ctx, "SELECT "+col+" FROM "+from+" WHERE 1=0")
	if err != nil {
		return info, err
	}
	cts, err := rows.ColumnTypes()
	rows.Close()
	if err != nil {
		return info, err
	}
	if len(cts) == 1 {
		info.typ = strings.ToLower(cts[0].DatabaseTypeName())
		if n, ok := cts[0].Nullable(); ok && d == MySQL {
			info.nullable = map[bool]nullability{false: nullNo, true: nullYes}[n]
		}
	}
	// The expression's type and character set even when no row exists: the
	// column of an empty derived table, outer-joined to one row.
	sub := "(SELECT 1 AS one) AS teamperm_one LEFT JOIN (SELECT " + col + " AS x FROM " + from + " WHERE 1=0) AS teamperm_s ON 1=1"
	switch d {
	case Postgres:
		q := "SELECT format_type(CASE t.typtype WHEN 'd' THEN t.typbasetype ELSE t.oid END, NULL), t.typtype FROM (SELECT pg_typeof(x) AS ty FROM " + sub + ") AS p JOIN pg_type t ON t.oid = p.ty"
		var typtype string
		if err := queryOne(ctx, db, q, nil, &info.typ, &typtype); err != nil {
			return info, err
		}
		if typtype == "e" {
			info.typ = "enum"
		}
	case MySQL:
		var cs sql.NullString
		if err := queryOne(ctx, db, "SELECT CHARSET(x) FROM "+sub, nil, &cs); err != nil {
			return info, err
		}
		info.charset = strings.ToLower(cs.String)
	}
	return info, nil
}

// typeProblem says why a column of type info cannot hold want (a KeyKind,
// or a creator-kind value: string or int64) exactly, or "".
func typeProblem(d Dialect, want any, info columnInfo) string {
	kind := KeyString
	switch w := want.(type) {
	case KeyKind:
		kind = w
	case int64:
		kind = KeyInt
	}
	creator := want == nil || !isKeyKind(want)
	typ := info.typ
	var class string // "int", "text", "padded", "uuid", "binary", "enum", "other"
	switch d {
	case Postgres:
		switch typ {
		case "bigint", "integer", "smallint":
			class = "int"
		case "text", "character varying", "citext":
			class = "text"
		case "character":
			class = "padded"
		case "uuid":
			class = "uuid"
		case "enum":
			class = "enum"
		}
	case MySQL:
		t := strings.TrimPrefix(typ, "unsigned ")
		switch t {
		case "bigint", "int", "mediumint", "smallint", "tinyint":
			class = "int"
		case "varchar", "text", "tinytext", "mediumtext", "longtext", "varbinary", "blob", "tinyblob", "mediumblob", "longblob":
			class = "text"
		case "char":
			class = "padded"
		case "binary":
			class = "binary"
		case "enum":
			class = "enum"
		}
		if class == "text" || class == "padded" || class == "enum" {
			if cs := info.charset; cs != "utf8mb4" && cs != "binary" && kind == KeyString {
				return fmt.Sprintf("type %s in character set %s: text keys need utf8mb4 (or binary), or they are not stored and compared byte for byte", typ, cs)
			}
		}
	case SQLite:
		// The declared type's affinity, by SQLite's rules.
		switch {
		case strings.Contains(typ, "int"):
			class = "int"
		case strings.Contains(typ, "char"), strings.Contains(typ, "clob"), strings.Contains(typ, "text"), strings.Contains(typ, "blob"), typ == "":
			class = "text"
		default:
			class = "numeric"
		}
	}
	ok := false
	switch kind {
	case KeyInt:
		ok = class == "int"
	case KeyString:
		ok = class == "text" || creator && class == "enum"
	case KeyUUID:
		ok = class == "text" || class == "uuid" || class == "padded"
	}
	if ok {
		return ""
	}
	what := "keys of kind " + kind.String()
	if creator {
		what = fmt.Sprintf("creator-kind values of type %T", want)
	}
	switch {
	case class == "padded" && kind == KeyString:
		return fmt.Sprintf("type %s pads with spaces: %s \"ab\" and \"ab \" would be one; use a varying type", typ, what)
	case class == "binary":
		return fmt.Sprintf("type %s holds raw bytes padded with zero bytes: %s, bound as text, do not compare exactly (%s)", typ, what, supported[d][kind])
	case class == "numeric":
		return fmt.Sprintf("declared type %q has numeric affinity: %s would be converted (\"07\" to 7)", typ, what)
	}
	return fmt.Sprintf("type %q cannot hold %s exactly (%s)", typ, what, supported[d][kind])
}

func isKeyKind(v any) bool { _, ok := v.(KeyKind); return ok }

// supported lists, per dialect, the column types each key kind needs.
var supported = [numDialects][numKeyKinds]string{
	Postgres: {KeyInt: "use smallint, integer or bigint", KeyString: "use text, varchar or citext", KeyUUID: "use uuid, text, varchar or citext"},
	MySQL:    {KeyInt: "use an integer type", KeyString: "use VARCHAR, TEXT, VARBINARY or BLOB in utf8mb4", KeyUUID: "use CHAR(36), VARCHAR or TEXT"},
	SQLite:   {KeyInt: "use INTEGER", KeyString: "use TEXT or BLOB, any collation", KeyUUID: "use TEXT or BLOB, any collation"},
}

// catalogNullable looks column name up in the catalog, through the
// tables of the FROM clause: nullUnknown when it cannot tell (a derived
// table, an unknown alias).
func catalogNullable(ctx context.Context, db Querier, d Dialect, tables map[string]string, name string) nullability {
	qual, col := "", name
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		qual, col = name[:i], name[i+1:]
	}
	table, ok := tables[strings.ToLower(qual)]
	if !ok {
		return nullUnknown
	}
	var q string
	var args []any
	switch d {
	case Postgres:
		q, args = "SELECT NOT a.attnotnull FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attname = $2 AND a.attnum > 0", []any{table, col}
	case SQLite:
		q, args = `SELECT "notnull" = 0 FROM pragma_table_info(?) WHERE name = ?`, []any{table, col}
	default:
		return nullUnknown
	}
	var n bool
	if err := queryOne(ctx, db, q, args, &n); err != nil {
		return nullUnknown
	}
	if n {
		return nullYes
	}
	return nullNo
}

// fromTables reads the tables of a simple FROM clause ("deals d",
// "messages AS m JOIN conversations c ON ..."): each alias (and each
// table's own name) to its table, lower case. Derived tables are left
// out; a single table is also under "".
func fromTables(from string) map[string]string {
	out := map[string]string{}
	words := strings.Fields(strings.NewReplacer(",", " , ", "(", " ( ", ")", " ) ", "=", " = ").Replace(from))
	keyword := map[string]bool{"on": true, "join": true, "left": true, "right": true, "inner": true, "outer": true, "full": true,
		"cross": true, "natural": true, "using": true, "where": true, ",": true, "(": true, ")": true, "as": true, "lateral": true}
	expect := true // a table name may come next
	depth := 0
	n := 0
	for i := 0; i < len(words); i++ {
		w := strings.ToLower(words[i])
		switch {
		case w == "(":
			depth++
			expect = false
			continue
		case w == ")":
			depth--
			continue
		case depth > 0:
			continue
		case w == "join" || w == ",":
			expect = true
			continue
		}
		if !expect || keyword[w] || validIdent(strings.Trim(w, "\"`")) != nil {
			continue
		}
		table := strings.Trim(w, "\"`")
		expect = false
		n++
		out[table] = table
		if j := strings.LastIndexByte(table, '.'); j >= 0 {
			out[table[j+1:]] = table
		}
		if i+1 < len(words) && strings.ToLower(words[i+1]) == "as" {
			i++
		}
		if i+1 < len(words) && !keyword[strings.ToLower(words[i+1])] {
			out[strings.ToLower(strings.Trim(words[i+1], "\"`"))] = table
			i++
		}
		out[""] = table
	}
	if n != 1 {
		delete(out, "")
	}
	return out
}
