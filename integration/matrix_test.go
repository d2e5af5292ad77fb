package integration

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/teamperm/teamperm"
	"pgregory.net/rapid"
)

// This file runs the differential test (SQL == Match == Visible ==
// reference model) over the column declarations hosts really have, per
// engine: case- and space-insensitive collations, citext, nondeterministic
// ICU collations, uuid, binary types. For each declaration and key kind,
// CheckSchema must be silent exactly when the declaration holds the keys
// (R18), and then the rendered SQL must agree with Visible on keys with
// case variants, trailing and leading spaces, leading zeros, look-alike
// unicode and NUL bytes where the engine stores them.
//
// Each supported pair runs matrixChecks() rapid checks: a few by default,
// to keep CI short; set TEAMPERM_DEEP=1 (or a number of checks) for a deep
// run.

// A columnDecl is a column type as a host declares it, and the key kinds
// it holds byte for byte.
type columnDecl struct {
	name string // subtest name
	sql  string
	keys []teamperm.KeyKind
}

var (
	anyText  = []teamperm.KeyKind{teamperm.KeyString, teamperm.KeyUUID}
	intsOnly = []teamperm.KeyKind{teamperm.KeyInt}
)

var columnDecls = map[teamperm.Dialect][]columnDecl{
	teamperm.SQLite: {
		{"text", "TEXT", anyText},
		{"text_nocase", "TEXT COLLATE NOCASE", anyText},
		{"text_rtrim", "TEXT COLLATE RTRIM", anyText},
		{"integer", "INTEGER", intsOnly},
		{"blob", "BLOB", anyText},
	},
	teamperm.Postgres: {
		{"bigint", "bigint", intsOnly},
		{"text", "text", anyText},
		{"citext", "citext", anyText},
		{"uuid", "uuid", []teamperm.KeyKind{teamperm.KeyUUID}},
		{"icu_nondeterministic", "text COLLATE " + pgCICollation, anyText},
		{"varchar", "varchar(40)", anyText},
		{"char", "char(36)", []teamperm.KeyKind{teamperm.KeyUUID}},
	},
	teamperm.MySQL: {
		{"bigint", "BIGINT", intsOnly},
		{"varchar_default", "VARCHAR(64)", anyText},
		{"varchar_bin", "VARCHAR(64) COLLATE utf8mb4_bin", anyText},
		{"varbinary", "VARBINARY(64)", anyText},
		{"char", "CHAR(36)", []teamperm.KeyKind{teamperm.KeyUUID}},
		{"binary16", "BINARY(16)", nil},
		{"varchar_latin1", "VARCHAR(64) CHARACTER SET latin1", []teamperm.KeyKind{teamperm.KeyUUID}},
	},
}

// pgCICollation is a case-insensitive nondeterministic ICU collation,
// created once per server by pgSetup.
const pgCICollation = "teamperm_ci"

var pgSetupOnce sync.Once
var pgSetupErr error

// pgSetup creates the citext extension and the ICU collation the
// PostgreSQL declarations use (citext is a trusted extension: the
// database's owner may create it).
func pgSetup(t *testing.T, db *testDB) {
	t.Helper()
	pgSetupOnce.Do(func() {
		for _, s := range []string{
			"CREATE EXTENSION IF NOT EXISTS citext",
			"CREATE COLLATION IF NOT EXISTS " + pgCICollation + " (provider = icu, locale = 'und-u-ks-level2', deterministic = false)",
		} {
			if _, err := db.Exec(s); err != nil {
				pgSetupErr = fmt.Errorf("%s: %w", s, err)
				return
			}
		}
	})
	if pgSetupErr != nil {
		t.Fatal(pgSetupErr)
	}
}

// matrixChecks is the number of rapid checks per declaration and key
// kind: TEAMPERM_DEEP=1 means 100, a number means that many.
func matrixChecks() int {
	switch v := os.Getenv("TEAMPERM_DEEP"); v {
	case "":
		return 6
	case "1", "true":
		return 100
	default:
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			return n
		}
		return 100
	}
}

// matrixPool is keyPools' pool of kind k with the keys that separate
// collations and types: leading zeros and spaces, look-alike unicode, and
// NUL bytes where the engine stores them (not PostgreSQL's text).
func matrixPool(k teamperm.KeyKind, d teamperm.Dialect) keyPool {
	p := keyPools[k]
	if k != teamperm.KeyString {
		return p
	}
	extra := strIDs("7", "07", " 7", "7 ", "7.0", "7abc", "e", "е" /* Cyrillic */, "ａ" /* fullwidth */, "a", "A", "ǅ", "ǆ", "ab  ")
	if d != teamperm.Postgres {
		extra = append(extra, strIDs("a\x00", "\x00", "ab\x00")...)
	}
	p.members = append(slices.Clip(p.members), extra[:6]...)
	p.instances = append(slices.Clip(p.instances), extra...)
	p.pipelines = append(slices.Clip(p.pipelines), extra[6:]...)
	return p
}

// createDeclTable creates a record table whose ID columns are declared
// decl.
func (db *testDB) createDeclTable(t testing.TB, decl, base string) string {
	t.Helper()
	name := db.newTable(t, base)
	db.exec(t, fmt.Sprintf(`CREATE TABLE %s (
		rid BIGINT NOT NULL PRIMARY KEY,
		kind %s NOT NULL,
		id %s, org_id %s, instance_id %s, assignee_id %s, created_by %s,
		creator_kind %s, creator_kind_n BIGINT,
		pipeline_id %s)`, name, db.textType(), decl, decl, decl, decl, decl, db.textType(), decl))
	return name
}

// TestColumnMatrix: for every declaration and key kind, CheckSchema is
// silent exactly on the pairs the declaration holds, and on those the
// SQL agrees with Match, Visible and the reference model.
func TestColumnMatrix(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	checks := matrixChecks()
	forEachEngine(t, func(t *testing.T, db *testDB) {
		if db.dialect == teamperm.Postgres {
			pgSetup(t, db)
		}
		for _, decl := range columnDecls[db.dialect] {
			for _, key := range keyKinds {
				t.Run(decl.name+"/"+key.String(), func(t *testing.T) {
					table := db.createDeclTable(t, decl.sql, "mx_"+decl.name)
					mapping := recordMapping(teamperm.KindDeal, mappingOpts{key: key, qualified: true})
					err := teamperm.CheckSchema(ctx, db.DB, db.dialect, teamperm.Table{
						Kind: teamperm.KindDeal, From: table + " t", Mapping: mapping, LegacyDeals: true,
					})
					holds := slices.Contains(decl.keys, key)
					if !holds {
						if err == nil {
							t.Fatalf("%s: CheckSchema is silent on keys of kind %s in %s columns, which cannot hold them exactly", db.name, key, decl.sql)
						}
						t.Logf("%s %s, %s keys: %v", db.name, decl.sql, key, err)
						return
					}
					if err != nil {
						t.Fatalf("%s: CheckSchema on keys of kind %s in %s columns: %v", db.name, key, decl.sql, err)
					}
					pool := matrixPool(key, db.dialect)
					var st diffStats
					// Fixed seeds rather than rapid.Check: a deterministic
					// sample of the size asked for (no shrinking; a failure
					// names its seed).
					gen := rapid.Custom(func(rt *rapid.T) world { return genWorldOf(rt, key, pool) })
					for seed := range checks {
						w := gen.Example(seed)
						load(t, db, table, w.rows)
						for _, m := range w.members {
							for _, k := range allKinds() {
								got, _ := agree(seedT{t, seed}, db, table, w.rows, w.opts, m, k)
								st.count(m.Scope(k), got, w.rows)
							}
						}
					}
					if st.comparisons == 0 {
						t.Fatal("no comparisons")
					}
					t.Logf("%s %s, %s keys: %d comparisons, %d rows returned, %d restricted (%d narrowed), %d large sets",
						db.name, decl.sql, key, st.comparisons, st.rows, st.restricted, st.narrowed, st.largeSets)
				})
			}
		}
	})
}

// TestColumnMatrixVariants: a fixed sample per declaration, so every run
// (not only the lucky ones of rapid) meets the variants: a member allowed
// instance "ab" (and, in a second member, a set of 40 around it) of
// organisation "acme" sees the rows of "ab" in "acme" only, never those of
// "AB", "ab ", " ab", "aB", "ab\x00" or of organisation "ACME" / "acme ".
func TestColumnMatrixVariants(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, db *testDB) {
		if db.dialect == teamperm.Postgres {
			pgSetup(t, db)
		}
		for _, decl := range columnDecls[db.dialect] {
			if !slices.Contains(decl.keys, teamperm.KeyString) {
				continue
			}
			t.Run(decl.name, func(t *testing.T) {
				table := db.createDeclTable(t, decl.sql, "mv_"+decl.name)
				org := teamperm.StringID("acme")
				variants := []string{"ab", "AB", "ab ", " ab", "aB", "ab  ", "áb", "ａb"}
				if db.dialect != teamperm.Postgres {
					variants = append(variants, "ab\x00")
				}
				var rows []row
				for _, o := range strIDs("acme", "ACME", "acme ", "Acme") {
					for _, v := range variants {
						rows = append(rows, row{rid: int64(len(rows) + 1), kind: teamperm.KindContact, org: o, instance: teamperm.StringID(v)})
					}
				}
				db.insertRows(t, table, rows)
				many := []teamperm.ID{teamperm.StringID("ab")}
				for i := range 39 {
					many = append(many, teamperm.StringID(fmt.Sprintf("x%d", i)))
				}
				for _, ids := range [][]teamperm.ID{{teamperm.StringID("ab")}, {teamperm.StringID("ab"), teamperm.StringID("zz")}, many} {
					m := compile(t, org, teamperm.PlanPro, teamperm.Settings{Member: teamperm.StringID("me"), Role: teamperm.RoleMember, Instances: teamperm.Only(ids...)})
					got, args := agree(t, db, table, rows, mappingOpts{key: teamperm.KeyString}, m, teamperm.KindContact)
					if len(got) != 1 || got[0] != 1 {
						t.Errorf("%s %s, %d allowed instances: rows %v, want [1] (args %q)", db.name, decl.sql, len(ids), got, shortArgs(args))
					}
				}
			})
		}
	})
}

func shortArgs(args []any) string {
	s := fmt.Sprintf("%q", args)
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return strings.TrimSpace(s)
}

// seedT names the seed of a failing example.
type seedT struct {
	*testing.T
	seed int
}

func (t seedT) Fatalf(format string, args ...any) {
	t.Helper()
	t.T.Fatalf("seed %d: "+format, append([]any{t.seed}, args...)...)
}
