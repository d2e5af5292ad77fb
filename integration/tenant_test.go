package integration

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/teamperm/teamperm"
)

// tenantRows are the records of two organisations whose record IDs,
// instance IDs, assignees and pipelines collide: the same values in both.
// With text keys the organisations are "acme" and "ACME", one organisation
// to a case-insensitive collation; a third, "acme ", is one more to a
// PAD SPACE collation (MariaDB's default).
func tenantRows(key teamperm.KeyKind) (a, b teamperm.ID, rows []row) {
	orgs := keyPools[key].orgs
	a, b = orgs[0], orgs[1]
	for _, org := range []teamperm.ID{a, b, orgs[2]} {
		for _, k := range allKinds() {
			for i := range 4 {
				rows = append(rows, row{
					rid: int64(len(rows) + 1), kind: k, org: org,
					id:       keyID(key, i),
					instance: keyID(key, 10+i%2),
					assignee: keyID(key, 42+i%2),
					creator:  keyID(key, 42),
					ck:       creatorKinds[i%3],
					pipeline: keyID(key, 20+i%2),
				})
			}
		}
	}
	return a, b, rows
}

// TestTenantIsolation: two organisations with colliding record, instance,
// member and pipeline IDs in one table. Every member sees only rows of its
// own organisation: an Owner all of them, a restricted member some.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, db *testDB) {
		for _, key := range keyKinds {
			t.Run(key.String(), func(t *testing.T) {
				a, b, rows := tenantRows(key)
				table := db.createRecordTable(t, key, "tenant")
				db.insertRows(t, table, rows)
				opts := mappingOpts{key: key, qualified: true}
				orgOf := map[int64]teamperm.ID{}
				for _, r := range rows {
					orgOf[r.rid] = r.org
				}
				for _, org := range []teamperm.ID{a, b} {
					// The same member ID in both organisations.
					members := []member{
						compile(t, org, teamperm.PlanPro, teamperm.Settings{Member: keyID(key, 42), Role: teamperm.RoleOwner}),
						compile(t, org, teamperm.PlanPro, teamperm.Settings{Member: keyID(key, 42), Role: teamperm.RoleMember,
							Instances: teamperm.Only(keyID(key, 10)), OnlyAssignedChats: true, OnlyCreatedDeals: true, Pipelines: teamperm.Only(keyID(key, 20))}),
					}
					for _, m := range members {
						for _, k := range allKinds() {
							got, _ := agree(t, db, table, rows, opts, m, k)
							for _, rid := range got {
								if orgOf[rid] != org {
									t.Fatalf("%v sees row %d of organisation %v", m, rid, orgOf[rid])
								}
							}
							if m.Role() == teamperm.RoleOwner {
								var want []int64
								for _, r := range rows {
									if r.kind == k && r.org == org {
										want = append(want, r.rid)
									}
								}
								wantRIDs(t, m.String(), got, want...)
							}
						}
					}
				}
			})
		}
	})
}

// TestSingleTenantMapping: a SingleTenant mapping renders no organisation
// condition at all. That is only safe when the database (or schema) holds
// one organisation, a database per tenant: in a shared table the same
// query returns every organisation's rows, as the first half shows. In a
// table of one organisation it selects exactly what Match keeps for that
// organisation. A mapping that is both SingleTenant and has an
// organisation column, or neither, is refused.
func TestSingleTenantMapping(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, db *testDB) {
		for _, key := range keyKinds {
			t.Run(key.String(), func(t *testing.T) {
				a, b, rows := tenantRows(key)
				m := compile(t, a, teamperm.PlanPro, teamperm.Settings{Member: keyID(key, 42), Role: teamperm.RoleMember,
					Instances: teamperm.Only(keyID(key, 10)), OnlyAssignedChats: true})
				s := m.Scope(teamperm.KindConversation)
				single := recordMapping(s.Kind(), mappingOpts{key: key})
				single.Organization, single.SingleTenant = teamperm.Column{}, true
				frag, _, err := s.SQL(db.dialect, single)
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(frag, "org_id") {
					t.Fatalf("single-tenant fragment tests the organisation: %s", frag)
				}

				// A shared table: the fragment selects rows of b too.
				shared := db.createRecordTable(t, key, "shared")
				db.insertRows(t, shared, rows)
				q, args, err := db.scopeQuery(shared, s, single)
				if err != nil {
					t.Fatal(err)
				}
				got := db.queryInts(t, q, args...)
				foreign := 0
				for _, rid := range got {
					if rows[rid-1].org != a {
						foreign++
					}
				}
				if foreign == 0 {
					t.Fatalf("a single-tenant scope over a shared table returned no other organisation's row: %v", got)
				}
				t.Logf("%s: over a table shared by %v and %v, the single-tenant scope of a member of %v returns %d rows of other organisations", db.name, a, b, a, foreign)

				// A table of organisation a only: exactly Match's rows.
				var own []row
				for _, r := range rows {
					if r.org == a {
						own = append(own, r)
					}
				}
				tenant := db.createRecordTable(t, key, "tenant_a")
				db.insertRows(t, tenant, own)
				q, args, err = db.scopeQuery(tenant, s, single)
				if err != nil {
					t.Fatal(err)
				}
				got = db.queryInts(t, q, args...)
				if want := matchRIDs(s, own); !slices.Equal(got, want) {
					t.Fatalf("single tenant: SQL %v, Match %v", got, want)
				}
				// CheckScope reads the rows of a single-tenant table as
				// the member's organisation's.
				if err := teamperm.CheckScope(context.Background(), db.DB, db.dialect, tenant, single, m.Member, teamperm.KindConversation); err != nil {
					t.Errorf("CheckScope on the tenant's own table: %v", err)
				}

				both := single
				both.Organization = column(key, "org_id")
				neither := single
				neither.SingleTenant = false
				for name, bad := range map[string]teamperm.Mapping{"both": both, "neither": neither} {
					if _, _, err := s.SQL(db.dialect, bad); !errors.Is(err, teamperm.ErrInvalidMapping) {
						t.Errorf("mapping with %s SingleTenant and an organisation column: err = %v, want ErrInvalidMapping", name, err)
					}
				}
			})
		}
	})
}
