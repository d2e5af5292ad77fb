package teamperm

import (
	"fmt"
	"strings"
)

// A KeyKind is the type of the host's keys in a column: integers, text or
// UUIDs. A [Mapping] declares it for every ID column so that values bind as
// the column's own type and the database compares like with like.
type KeyKind uint8

// The key kinds.
const (
	// KeyInt: integer keys ([IntID]); bound as int64.
	KeyInt KeyKind = iota + 1
	// KeyString: text keys ([StringID]); bound as string and compared
	// byte for byte in every dialect (R18), whatever the column's
	// collation: case- and space-insensitive ones (MySQL's defaults,
	// SQLite's NOCASE and RTRIM, PostgreSQL's citext and nondeterministic
	// ICU collations) included.
	KeyString
	// KeyUUID: UUID keys ([UUIDID]); bound in canonical lower-case text
	// form, which PostgreSQL's uuid columns and text columns alike accept,
	// and compared byte for byte as text keys are.
	KeyUUID

	numKeyKinds = iota + 1
)

var keyKindNames = [numKeyKinds]string{"none", "int", "string", "uuid"}

// String returns "int", "string" or "uuid".
func (k KeyKind) String() string { return enumString(keyKindNames[:], "KeyKind", uint8(k)) }

// KeyKind returns the kind of key id is; zero for the zero ID.
func (id ID) KeyKind() KeyKind {
	switch id.kind {
	case idInt:
		return KeyInt
	case idString:
		return KeyString
	case idUUID:
		return KeyUUID
	}
	return 0
}

// A Column is where a host keeps one field of a record: a column name,
// optionally qualified by a table or alias ("assignee_id",
// "c.assignee_id"), and the kind of keys it holds. Names are validated as
// plain identifiers and quoted when rendered; anything else is an error,
// so a mapping can never inject SQL. The zero Column is no column.
type Column struct {
	Name string
	Key  KeyKind
}

// IntColumn returns a column of integer keys.
func IntColumn(name string) Column { return Column{Name: name, Key: KeyInt} }

// StringColumn returns a column of text keys.
func StringColumn(name string) Column { return Column{Name: name, Key: KeyString} }

// UUIDColumn returns a column of UUID keys.
func UUIDColumn(name string) Column { return Column{Name: name, Key: KeyUUID} }

// A Mapping tells the SQL renderer where a kind's fields live in the host's
// table (or query with joins). Only the fields a scope actually uses must
// be mapped; a field that a scope needs and the mapping lacks is an error,
// never a condition left out.
//
// Tenant isolation is explicit: set Organization, or set SingleTenant when
// the database holds one organisation only (a database per tenant). A
// mapping with neither, or both, is an error.
//
// The zero Mapping maps nothing and renders nothing but errors.
type Mapping struct {
	// Organization is the column of the organisation that owns a row.
	Organization Column
	// SingleTenant says that every row of the table belongs to the
	// member's organisation, so no organisation condition is rendered.
	SingleTenant bool

	Instance Column // the WhatsApp instance; for the instances table, its own key
	Assignee Column // the assignee: of the conversation (also for messages) or the deal
	Creator  Column // the member who created the deal
	Pipeline Column // the deal's pipeline

	// Instances is the link table of records on several instances (R19),
	// such as contact_instances(contact_id, instance_id); optional. With
	// it, a record's instances are the Instance column's (when mapped)
	// and those of its rows in the link table, and an instance condition
	// renders as an EXISTS subquery on the link table.
	Instances InstanceLink

	// CreatorKind is the column saying who created a deal: NULL for a
	// legacy deal, CreatorMember or CreatorAutomation otherwise. Its Key is
	// ignored.
	CreatorKind Column
	// CreatorKindValues are the values the CreatorKind column holds for
	// CreatorMember and CreatorAutomation: strings, or integers (int64).
	// Zero values mean "member" and "automation".
	CreatorKindValues struct{ Member, Automation any }
}

// An InstanceLink maps a link table that puts a record on several WhatsApp
// instances (R19): one row for each (record, instance) pair. With integer
// record keys (and in SQLite) an instance condition renders as
//
//	EXISTS (SELECT 1 FROM contact_instances AS teamperm_link
//	        WHERE teamperm_link.contact_id = c.id AND teamperm_link.instance_id IN (...))
//
// served by an index on the link table's (record, instance) or (instance,
// record) columns. With text or UUID record keys in PostgreSQL and MySQL
// it renders as two uncorrelated INs
//
//	(c.id IN (SELECT teamperm_link.contact_id FROM contact_instances AS teamperm_link WHERE ...)
//	 AND c.id <as bytes> IN (SELECT teamperm_link.contact_id <as bytes> FROM ... WHERE ...))
//
// since a correlated subquery lets an engine cache its answer per record
// key under the key's collation (MariaDB's subquery cache answers "IT'S"
// with the answer for "it's"), and keys compare byte for byte (R18); the
// first IN lets an index on c.id serve a semi-join. An index on the link
// table's (instance, record) columns serves the subqueries. The zero
// InstanceLink is no link table.
type InstanceLink struct {
	// Table is the link table, optionally schema-qualified
	// ("contact_instances", "crm.contact_instances").
	Table string
	// Record is the link table's column that refers to the record
	// ("contact_id"), unqualified.
	Record Column
	// Instance is the link table's instance column ("instance_id"),
	// unqualified; its Key is the kind of the instance keys.
	Instance Column
	// Key is the record's own key column in the list query, the one
	// Record refers to, qualified by its table or alias ("c.id"), so that
	// it cannot be read as a column of the link table.
	Key Column
}

// linkAlias is the link table's alias in the EXISTS subquery.
const linkAlias = "teamperm_link"

// IsZero reports whether l maps no link table.
func (l InstanceLink) IsZero() bool { return l == InstanceLink{} }

// qualifiedBy reports whether a qualifier of the column name (any part
// but the last) is alias, in any case: engines fold unquoted names, and
// SQLite quoted ones too, so "Teamperm_Link.id" would name the link
// table's own column inside the subquery.
func qualifiedBy(name, alias string) bool {
	parts := strings.Split(name, ".")
	for _, p := range parts[:len(parts)-1] {
		if strings.EqualFold(p, alias) {
			return true
		}
	}
	return false
}

// validate checks the link's names and key kinds.
func (l InstanceLink) validate() error {
	bad := func(what, name, want string) error {
		return fmt.Errorf("teamperm: instance link %s %q: %s: %w", what, name, want, ErrInvalidMapping)
	}
	if err := validIdent(l.Table); err != nil || countByte(l.Table, '.') > 1 {
		return bad("table", l.Table, "want a table name such as contact_instances")
	}
	for _, c := range []struct {
		what string
		col  Column
	}{{"record column", l.Record}, {"instance column", l.Instance}} {
		if err := validIdent(c.col.Name); err != nil || countByte(c.col.Name, '.') > 0 {
			return bad(c.what, c.col.Name, "want an unqualified column name such as contact_id")
		}
		if c.col.Key == 0 || c.col.Key >= numKeyKinds {
			return bad(c.what, c.col.Name, "no key kind")
		}
	}
	if err := validIdent(l.Key.Name); err != nil || countByte(l.Key.Name, '.') == 0 || qualifiedBy(l.Key.Name, linkAlias) {
		return bad("key column", l.Key.Name, "want the record's key qualified by its table or alias, such as c.id")
	}
	if l.Key.Key != l.Record.Key {
		return bad("key column", l.Key.Name, fmt.Sprintf("holds keys of kind %s, the link's record column of kind %s", l.Key.Key, l.Record.Key))
	}
	return nil
}

// column returns the column of f, or an error naming f.
func (m *Mapping) column(f Field) (Column, error) {
	var c Column
	switch f {
	case FieldOrganization:
		c = m.Organization
	case FieldInstance:
		c = m.Instance
	case FieldAssignee:
		c = m.Assignee
	case FieldCreator:
		c = m.Creator
	case FieldPipeline:
		c = m.Pipeline
	case FieldCreatorKind:
		c = m.CreatorKind
	default:
		return c, fmt.Errorf("teamperm: field %s: %w", f, ErrInvalidMapping)
	}
	if c.Name == "" {
		return c, fmt.Errorf("teamperm: mapping has no column for field %s: %w", f, ErrInvalidMapping)
	}
	// The creator-kind column holds CreatorKindValues, not keys.
	if f != FieldCreatorKind && (c.Key == 0 || c.Key >= numKeyKinds) {
		return c, fmt.Errorf("teamperm: column %q for field %s: key kind %s: %w", c.Name, f, c.Key, ErrInvalidMapping)
	}
	return c, validIdent(c.Name)
}

// creatorValue returns the value of the creator-kind column for k.
func (m *Mapping) creatorValue(k CreatorKind) (any, error) {
	var v any
	switch k {
	case CreatorMember:
		v = m.CreatorKindValues.Member
		if v == nil {
			v = "member"
		}
	case CreatorAutomation:
		v = m.CreatorKindValues.Automation
		if v == nil {
			v = "automation"
		}
	default:
		return nil, fmt.Errorf("teamperm: creator kind %s has no column value: %w", k, ErrInvalidMapping)
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case int:
		return int64(v), nil
	case int64:
		return v, nil
	}
	return nil, fmt.Errorf("teamperm: creator kind value %v (%T): want a string or an integer: %w", v, v, ErrInvalidMapping)
}

// validIdent checks a column name: one to three dot-separated parts, each
// a letter or underscore followed by letters, digits or underscores, at
// most 63 bytes (PostgreSQL's limit). Quoting happens when rendering.
func validIdent(name string) error {
	part := 0
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '.' && part > 0:
			part = 0
			continue
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		case c >= '0' && c <= '9' && part > 0:
		default:
			return fmt.Errorf("teamperm: column name %q: want identifiers such as c.assignee_id: %w", name, ErrInvalidMapping)
		}
		part++
		if part > 63 {
			return fmt.Errorf("teamperm: column name %q: a part is longer than 63 bytes: %w", name, ErrInvalidMapping)
		}
	}
	if part == 0 || countByte(name, '.') > 2 {
		return fmt.Errorf("teamperm: column name %q: want identifiers such as c.assignee_id: %w", name, ErrInvalidMapping)
	}
	return nil
}

func countByte(s string, b byte) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == b {
			n++
		}
	}
	return n
}

// AppendColumns appends to dst the mapped columns of m, quoted for d and
// separated by commas, for the SELECT list of a query whose rows
// [Mapping.Record] turns into Records: the organisation (unless
// SingleTenant), then every other mapped field in [Field] order. Unmapped
// fields are left out. It fails, appending nothing, for a column name that
// is not an identifier or a dialect that is none of the three.
func (m Mapping) AppendColumns(dst []byte, d Dialect) ([]byte, error) {
	if d.base() == 0 || d.base() >= numDialects {
		return dst, fmt.Errorf("teamperm: dialect %s: %w", d, ErrInvalidMapping)
	}
	cols, err := m.checkColumns()
	if err != nil {
		return dst, err
	}
	r := renderer{d: d, b: dst}
	for i, c := range cols {
		if i > 0 {
			r.b = append(r.b, ", "...)
		}
		r.ident(c.col.Name)
	}
	return r.b, nil
}

// Record returns the record of kind k that a row stands for, from the
// values scanned from the columns [Mapping.AppendColumns] wrote, in that
// order (into *any, as database/sql's drivers give them): it is the
// conversion a host would otherwise write by hand, and the one
// [CheckScope] reads rows with.
//
// A NULL is the zero [ID]. An integer column's value may come as an
// integer or as its decimal text, a UUID column's as the 16 bytes or the
// canonical lower-case text; anything else is an error wrapping
// [ErrInvalidMapping], as is a text key that comes as an integer. A
// creator-kind value that is none of the mapped CreatorKindValues is an
// invalid CreatorKind, which nothing matches. With SingleTenant, the
// record's Organization is left zero: set it to the database's
// organisation. With an instance link ([Mapping.Instances]), Record does
// not read the link table: set the record's Instances from it yourself.
func (m Mapping) Record(k Kind, values []any) (Record, error) {
	cols, err := m.checkColumns()
	if err != nil {
		return Record{}, err
	}
	if len(values) != len(cols) {
		return Record{}, fmt.Errorf("teamperm: %d values for the %d mapped columns: %w", len(values), len(cols), ErrInvalidMapping)
	}
	rec := Record{Kind: k}
	for i, c := range cols {
		if err := setField(&rec, c, values[i], &m); err != nil {
			return Record{}, err
		}
	}
	return rec, nil
}
