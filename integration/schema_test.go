package integration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/teamperm/teamperm"
)

// This file tests the checkers a host runs once in its own test suite:
// CheckSchema reports each bad schema (one test per problem, on every
// engine where the problem exists) and is silent on good ones (see also
// TestColumnMatrix), and CheckRows catches a field mapped to another
// column of the same type, which CheckScope cannot see.

// schemaErrors runs CheckSchema and returns its joined errors, each of
// which must wrap ErrInvalidMapping.
func schemaErrors(t *testing.T, db *testDB, d teamperm.Dialect, tbl teamperm.Table) []error {
	t.Helper()
	err := teamperm.CheckSchema(context.Background(), db.DB, d, tbl)
	errs := joinedErrors(err)
	for _, e := range errs {
		if !errors.Is(e, teamperm.ErrInvalidMapping) {
			t.Errorf("%s: %v does not wrap ErrInvalidMapping", db.name, e)
		}
	}
	if err != nil {
		t.Logf("%s: %v", db.name, err)
	}
	return errs
}

// TestCheckSchemaWrongDialect: a fragment rendered for another dialect may
// run and match loosely (MariaDB reads SQLite's "col" as a string), so
// CheckSchema first probes that the database speaks the dialect.
func TestCheckSchemaWrongDialect(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, db *testDB) {
		table := db.createRecordTable(t, teamperm.KeyInt, "dialect")
		tbl := teamperm.Table{Kind: teamperm.KindContact, From: table + " t", Mapping: recordMapping(teamperm.KindContact, mappingOpts{key: teamperm.KeyInt, qualified: true, minimal: true})}
		for _, d := range []teamperm.Dialect{teamperm.Postgres, teamperm.SQLite, teamperm.MySQL} {
			errs := schemaErrors(t, db, d, tbl)
			switch {
			case d == db.dialect && len(errs) != 0:
				t.Errorf("%s as %s: %v, want nil", db.name, d, errs)
			case d != db.dialect && len(errs) != 1:
				t.Errorf("%s as %s: %d errors, want the wrong dialect: %v", db.name, d, len(errs), errs)
			}
		}
	})
}

// TestCheckSchemaMissingColumn: a mapped column the FROM clause does not
// have, alone among right ones.
func TestCheckSchemaMissingColumn(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, db *testDB) {
		table := db.createRecordTable(t, teamperm.KeyInt, "missing")
		m := recordMapping(teamperm.KindConversation, mappingOpts{key: teamperm.KeyInt, qualified: true, minimal: true})
		m.Assignee = teamperm.IntColumn("t.assignee")
		errs := schemaErrors(t, db, db.dialect, teamperm.Table{Kind: teamperm.KindConversation, From: table + " t", Mapping: m})
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), `"t.assignee"`) {
			t.Errorf("%d errors, want one naming t.assignee: %v", len(errs), errs)
		}
	})
}

// TestCheckSchemaKeyKind: integer keys over a text column (MariaDB would
// compare "07", " 7", "7.0" and "7abc" equal to 7) and text keys over an
// integer column, in every engine; text keys over PostgreSQL's uuid.
func TestCheckSchemaKeyKind(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, db *testDB) {
		table := db.newTable(t, "keykind")
		db.exec(t, fmt.Sprintf("CREATE TABLE %s (id BIGINT NOT NULL PRIMARY KEY, org_id BIGINT, instance_id %s, assignee_id BIGINT)", table, db.textType()))
		from := table + " c"
		for _, tc := range []struct {
			name string
			m    teamperm.Mapping
			want int
		}{
			{"right", teamperm.Mapping{Organization: teamperm.IntColumn("c.org_id"), Instance: teamperm.StringColumn("c.instance_id"), Assignee: teamperm.IntColumn("c.assignee_id")}, 0},
			{"int keys over text", teamperm.Mapping{Organization: teamperm.IntColumn("c.org_id"), Instance: teamperm.IntColumn("c.instance_id")}, 1},
			{"text keys over an integer", teamperm.Mapping{Organization: teamperm.StringColumn("c.org_id"), Assignee: teamperm.StringColumn("c.assignee_id")}, 2},
			{"uuid keys over an integer", teamperm.Mapping{Organization: teamperm.IntColumn("c.org_id"), Assignee: teamperm.UUIDColumn("c.assignee_id")}, 1},
		} {
			if errs := schemaErrors(t, db, db.dialect, teamperm.Table{Kind: teamperm.KindConversation, From: from, Mapping: tc.m}); len(errs) != tc.want {
				t.Errorf("%s: %d errors, want %d: %v", tc.name, len(errs), tc.want, errs)
			}
		}
		if db.dialect == teamperm.Postgres {
			uuids := db.newTable(t, "keykind_uuid")
			db.exec(t, "CREATE TABLE "+uuids+" (org_id BIGINT, instance_id UUID)")
			m := teamperm.Mapping{Organization: teamperm.IntColumn("org_id"), Instance: teamperm.StringColumn("instance_id")}
			if errs := schemaErrors(t, db, db.dialect, teamperm.Table{Kind: teamperm.KindContact, From: uuids, Mapping: m}); len(errs) != 1 {
				t.Errorf("text keys over uuid: %d errors, want 1: %v", len(errs), errs)
			}
		}
	})
}

// TestCheckSchemaPaddedAndCharset: types under which text keys are not
// stored or compared byte for byte: CHAR(n) (PostgreSQL and MySQL, "ab"
// and "ab " are one), BINARY(n) and a character set other than utf8mb4
// (MySQL). CHAR(36) holds UUIDs, and a latin1 column too.
func TestCheckSchemaPaddedAndCharset(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, db *testDB) {
		types := map[teamperm.Dialect][]string{
			teamperm.Postgres: {"char(8)"},
			teamperm.MySQL:    {"CHAR(8)", "BINARY(16)", "VARCHAR(64) CHARACTER SET latin1", "VARCHAR(64) CHARACTER SET utf8mb3"},
		}[db.dialect]
		if len(types) == 0 {
			t.Skipf("%s has no padded text type nor character sets", db.name)
		}
		for _, typ := range types {
			table := db.newTable(t, "padded")
			db.exec(t, fmt.Sprintf("CREATE TABLE %s (org_id BIGINT, instance_id %s, uuid_id CHAR(36))", table, typ))
			m := teamperm.Mapping{Organization: teamperm.IntColumn("org_id"), Instance: teamperm.StringColumn("instance_id")}
			if errs := schemaErrors(t, db, db.dialect, teamperm.Table{Kind: teamperm.KindContact, From: table, Mapping: m}); len(errs) != 1 {
				t.Errorf("text keys in %s: %d errors, want 1: %v", typ, len(errs), errs)
			}
			m.Instance = teamperm.UUIDColumn("uuid_id")
			if errs := schemaErrors(t, db, db.dialect, teamperm.Table{Kind: teamperm.KindContact, From: table, Mapping: m}); len(errs) != 0 {
				t.Errorf("UUID keys in CHAR(36): %v, want nil", errs)
			}
		}
	})
}

// TestCheckSchemaNullableCreatorKind: a NULL creator kind is a legacy deal,
// visible to every member limited to their own deals. A nullable column
// (or one an outer join makes nullable, which MySQL reports) is reported
// unless Table.LegacyDeals says it is meant; NOT NULL is silent.
func TestCheckSchemaNullableCreatorKind(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, db *testDB) {
		deals := db.newTable(t, "deals")
		meta := db.newTable(t, "dealmeta")
		text := db.textType()
		db.exec(t,
			fmt.Sprintf("CREATE TABLE %s (id BIGINT NOT NULL PRIMARY KEY, org_id BIGINT NOT NULL, created_by BIGINT, ck %s, ck_nn %s NOT NULL)", deals, text, text),
			fmt.Sprintf("CREATE TABLE %s (deal_id BIGINT NOT NULL PRIMARY KEY, ck %s NOT NULL)", meta, text))
		mapping := func(ck string) teamperm.Mapping {
			return teamperm.Mapping{Organization: teamperm.IntColumn("d.org_id"), Creator: teamperm.IntColumn("d.created_by"), CreatorKind: teamperm.Column{Name: ck}}
		}
		for _, tc := range []struct {
			name   string
			from   string
			ck     string
			legacy bool
			want   int
		}{
			{"nullable", deals + " d", "d.ck", false, 1},
			{"nullable, legacy deals meant", deals + " d", "d.ck", true, 0},
			{"not null", deals + " d", "d.ck_nn", false, 0},
			{"not null, in a join", deals + " AS d JOIN " + meta + " m ON m.deal_id = d.id", "m.ck", false, 0},
		} {
			errs := schemaErrors(t, db, db.dialect, teamperm.Table{Kind: teamperm.KindDeal, From: tc.from, Mapping: mapping(tc.ck), LegacyDeals: tc.legacy})
			if len(errs) != tc.want {
				t.Errorf("%s: %d errors, want %d: %v", tc.name, len(errs), tc.want, errs)
			}
		}
		if db.dialect == teamperm.MySQL {
			// The driver reports the result column's NULL flag, which an
			// outer join clears.
			from := deals + " d LEFT JOIN " + meta + " m ON m.deal_id = d.id"
			if errs := schemaErrors(t, db, db.dialect, teamperm.Table{Kind: teamperm.KindDeal, From: from, Mapping: mapping("m.ck")}); len(errs) != 1 {
				t.Errorf("NOT NULL column through a LEFT JOIN: %d errors, want 1: %v", len(errs), errs)
			}
		}
	})
}

// A hostTable is a table as a host writes it: its own INSERT of a Record
// (the host's truth, independent of any Mapping) and its own conversion of
// a row back to a Record.
type hostTable struct {
	db    *testDB
	name  string
	next  atomic.Int64
	buggy bool // Record reads a NULL assignee as the key 0
}

// fieldCols are the host's columns per field, in the order hostTable
// writes them.
var fieldCols = []string{"org_id", "instance_id", "assignee_id", "created_by", "creator_kind", "pipeline_id"}

func newHostTable(t *testing.T, db *testDB, key teamperm.KeyKind) *hostTable {
	return newHostTableKeys(t, db, key, key)
}

// newHostTableKeys is newHostTable with organisation keys of their own kind.
func newHostTableKeys(t *testing.T, db *testDB, orgKey, key teamperm.KeyKind) *hostTable {
	k := db.keyType(key)
	name := db.newTable(t, "host")
	db.exec(t, fmt.Sprintf("CREATE TABLE %s (id BIGINT NOT NULL PRIMARY KEY, org_id %s, instance_id %s, assignee_id %s, created_by %s, creator_kind %s, pipeline_id %s, subject %s NOT NULL)",
		name, db.keyType(orgKey), k, k, k, db.textType(), k, db.textType()))
	return &hostTable{db: db, name: name}
}

func (h *hostTable) insert(ctx context.Context, tx *sql.Tx, r teamperm.Record) (any, error) {
	id := h.next.Add(1)
	var ck any
	switch r.CreatorKind {
	case teamperm.CreatorMember:
		ck = "member"
	case teamperm.CreatorAutomation:
		ck = "automation"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "INSERT INTO %s (id, %s, subject) VALUES (", h.name, strings.Join(fieldCols, ", "))
	for i := range len(fieldCols) + 2 {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(h.db.ph(i + 1))
	}
	b.WriteString(")")
	_, err := tx.ExecContext(ctx, b.String(), id, bind(r.Organization), bind(r.Instance), bind(r.Assignee), bind(r.Creator), ck, bind(r.Pipeline), "synthetic")
	return id, err
}

// record is the host's own conversion of a row to a Record, with integer
// keys.
func (h *hostTable) record(ctx context.Context, tx *sql.Tx, key any) (teamperm.Record, error) {
	var org, inst, assignee, creator, pipeline sql.NullInt64
	var ck sql.NullString
	err := tx.QueryRowContext(ctx, fmt.Sprintf("SELECT %s FROM %s WHERE id = %s", strings.Join(fieldCols, ", "), h.name, h.db.ph(1)), key).
		Scan(&org, &inst, &assignee, &creator, &ck, &pipeline)
	if err != nil {
		return teamperm.Record{}, err
	}
	id := func(n sql.NullInt64) teamperm.ID {
		if !n.Valid {
			return teamperm.ID{}
		}
		return teamperm.IntID(n.Int64)
	}
	r := teamperm.Record{Kind: teamperm.KindDeal, Organization: id(org), Instance: id(inst), Assignee: id(assignee), Creator: id(creator), Pipeline: id(pipeline)}
	if h.buggy {
		r.Assignee = teamperm.IntID(assignee.Int64) // NULL becomes the key 0
	}
	switch ck.String {
	case "member":
		r.CreatorKind = teamperm.CreatorMember
	case "automation":
		r.CreatorKind = teamperm.CreatorAutomation
	}
	return r, nil
}

// TestCheckRows: the right mappings pass, for conversations and deals,
// with integer, text and UUID keys; a field mapped to another column of
// the same type (the assignee on instance_id, on created_by), which
// CheckScope passes, fails; so does a host conversion that reads NULL as
// the key 0.
func TestCheckRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, db *testDB) {
		for _, key := range keyKinds {
			t.Run(key.String(), func(t *testing.T) {
				h := newHostTable(t, db, key)
				col := func(c string) teamperm.Column { return column(key, "h."+c) }
				conv := teamperm.Mapping{Organization: col("org_id"), Instance: col("instance_id"), Assignee: col("assignee_id")}
				deal := teamperm.Mapping{Organization: col("org_id"), Assignee: col("assignee_id"), Creator: col("created_by"),
					CreatorKind: teamperm.Column{Name: "h.creator_kind"}, Pipeline: col("pipeline_id")}
				table := func(k teamperm.Kind, m teamperm.Mapping) teamperm.Table {
					return teamperm.Table{Kind: k, From: h.name + " h", Mapping: m, Key: "h.id", Insert: h.insert, LegacyDeals: true}
				}
				check := func(name string, tbl teamperm.Table, wantErr bool) {
					t.Helper()
					if err := teamperm.CheckSchema(ctx, db.DB, db.dialect, tbl); err != nil {
						t.Errorf("%s: CheckSchema: %v", name, err)
					}
					err := teamperm.CheckRows(ctx, db.DB, db.dialect, tbl)
					errs := joinedErrors(err)
					switch {
					case wantErr && err == nil:
						t.Errorf("%s: CheckRows is silent", name)
					case !wantErr && err != nil:
						t.Errorf("%s: CheckRows: %v", name, err)
					case wantErr:
						t.Logf("%s: CheckRows: %d errors, the first: %v", name, len(errs), errs[0])
						for _, e := range errs {
							if !errors.Is(e, teamperm.ErrInvalidMapping) {
								t.Errorf("%s: %v does not wrap ErrInvalidMapping", name, e)
							}
						}
					}
				}
				check("conversations", table(teamperm.KindConversation, conv), false)
				check("deals", table(teamperm.KindDeal, deal), false)

				swapped := conv
				swapped.Assignee = col("instance_id")
				check("conversations, assignee mapped to instance_id", table(teamperm.KindConversation, swapped), true)
				swapped = deal
				swapped.Assignee = col("created_by")
				check("deals, assignee mapped to created_by", table(teamperm.KindDeal, swapped), true)

				// CheckScope cannot see the swap: the rows read back
				// through the wrong mapping agree with it.
				m := compile(t, keyID(key, 1), teamperm.PlanPro, teamperm.Settings{Member: keyID(key, 2), Role: teamperm.RoleMember, OnlyAssignedChats: true})
				if err := teamperm.CheckScope(ctx, db.DB, db.dialect, h.name+" h", swapped, m.Member, teamperm.KindConversation); err != nil {
					t.Errorf("CheckScope on an empty table: %v", err)
				}

				// Organisations keyed by text, everything else by
				// integers (or the reverse): each field's synthetic keys
				// are of its own column's kind.
				other := teamperm.KeyString
				if key == teamperm.KeyString {
					other = teamperm.KeyInt
				}
				mixed := newHostTableKeys(t, db, other, key)
				mixedConv := conv
				mixedConv.Organization = column(other, "h.org_id")
				mixedDeal := deal
				mixedDeal.Organization = column(other, "h.org_id")
				for k, mm := range map[teamperm.Kind]teamperm.Mapping{teamperm.KindConversation: mixedConv, teamperm.KindDeal: mixedDeal} {
					tbl := teamperm.Table{Kind: k, From: mixed.name + " h", Mapping: mm, Key: "h.id", Insert: mixed.insert, LegacyDeals: true}
					check(fmt.Sprintf("%v, organisations keyed by %v", k, other), tbl, false)
				}

				if key == teamperm.KeyInt {
					tbl := table(teamperm.KindDeal, deal)
					tbl.Record = h.record
					check("deals, the host's own conversion", tbl, false)
					h.buggy = true
					check("deals, a host conversion that reads NULL as 0", tbl, true)
					h.buggy = false
				}
			})
		}
	})
}

// TestCheckSchemaEnumCreatorKind: a creator-kind column of an enum type
// (PostgreSQL's CREATE TYPE ... AS ENUM, MySQL's ENUM(...)) holds the
// creator kinds' text values: CheckSchema accepts it.
func TestCheckSchemaEnumCreatorKind(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, db *testDB) {
		if db.dialect == teamperm.SQLite {
			t.Skip("SQLite has no enum types")
		}
		typ := "ENUM('member', 'automation')"
		if db.dialect == teamperm.Postgres {
			typ = fmt.Sprintf("tp%d_%d_ck", os.Getpid(), tableSeq.Add(1))
			db.exec(t, "CREATE TYPE "+typ+" AS ENUM ('member', 'automation')")
			t.Cleanup(func() { db.Exec("DROP TYPE IF EXISTS " + typ) })
		}
		name := db.newTable(t, "enum_deals")
		db.exec(t, fmt.Sprintf("CREATE TABLE %s (id BIGINT NOT NULL PRIMARY KEY, org_id BIGINT, creator_kind %s NOT NULL)", name, typ))
		tbl := teamperm.Table{Kind: teamperm.KindDeal, From: name + " d", Key: "d.id",
			Mapping: teamperm.Mapping{Organization: teamperm.IntColumn("d.org_id"), CreatorKind: teamperm.Column{Name: "d.creator_kind"}}}
		if err := teamperm.CheckSchema(ctx, db.DB, db.dialect, tbl); err != nil {
			t.Errorf("enum creator kind %s: %v", typ, err)
		}
	})
}

// TestCheckSchemaQualifiedTable: a FROM naming its table with its schema
// and no alias ("public.deals"), and columns qualified by the bare table
// name: CheckSchema still finds the creator-kind column in the catalog and
// reports it when it can be NULL.
func TestCheckSchemaQualifiedTable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, db *testDB) {
		if db.dialect != teamperm.Postgres {
			t.Skip("the catalog lookup through a schema is PostgreSQL's")
		}
		for _, notNull := range []bool{false, true} {
			name := db.newTable(t, "qualified_deals")
			null := ""
			if notNull {
				null = " NOT NULL"
			}
			db.exec(t, fmt.Sprintf("CREATE TABLE %s (id BIGINT NOT NULL PRIMARY KEY, org_id BIGINT, creator_kind TEXT%s)", name, null))
			tbl := teamperm.Table{Kind: teamperm.KindDeal, From: "public." + name, Key: name + ".id",
				Mapping: teamperm.Mapping{Organization: teamperm.IntColumn(name + ".org_id"), CreatorKind: teamperm.Column{Name: name + ".creator_kind"}}}
			err := teamperm.CheckSchema(ctx, db.DB, db.dialect, tbl)
			if notNull != (err == nil) || err != nil && !errors.Is(err, teamperm.ErrInvalidMapping) {
				t.Errorf("creator kind NOT NULL %v, FROM public.%s: %v", notNull, name, err)
			}
		}
	})
}
