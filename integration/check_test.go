package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/teamperm/teamperm"
)

// This file runs teamperm.CheckScope, the checker a host runs in its own
// tests, against every engine: nil for right mappings and schemas (also
// through a join), and every violation, joined, for wrong ones.

// checkTables creates a conversations and a messages table with keys of
// kind key, messages joined to their conversation by conversation_id, and
// fills them with rows of two organisations over colliding IDs. It returns
// the two table names and the organisation the members belong to.
func checkTables(t *testing.T, db *testDB, key teamperm.KeyKind) (conv, msgs string, org teamperm.ID) {
	t.Helper()
	p := keyPools[key]
	k := db.keyType(key)
	conv = db.newTable(t, "conv")
	msgs = db.newTable(t, "msgs")
	db.exec(t,
		fmt.Sprintf("CREATE TABLE %s (id BIGINT NOT NULL PRIMARY KEY, org_id %s, instance_id %s, assignee_id %s, created_by %s)", conv, k, k, k, k),
		fmt.Sprintf("CREATE TABLE %s (id BIGINT NOT NULL PRIMARY KEY, conversation_id BIGINT, org_id %s, instance_id %s, sender_id %s)", msgs, k, k, k))
	pick := func(ids []teamperm.ID, i int) any {
		if i%5 == 4 {
			return nil
		}
		return bind(ids[i%len(ids)])
	}
	var convRows, msgRows [][]any
	for i := range 60 {
		org := p.orgs[i%2]
		convRows = append(convRows, []any{int64(i + 1), bind(org), pick(p.instances, i/2), pick(p.members, i/3), pick(p.members, i/7)})
		for j := range 2 {
			msgRows = append(msgRows, []any{int64(2*i + j + 1), int64(i + 1), bind(org), pick(p.instances, i/2), pick(p.members, i+j)})
		}
	}
	// A message of no conversation: the inner join drops it.
	msgRows = append(msgRows, []any{int64(1000), int64(999), bind(p.orgs[0]), pick(p.instances, 0), nil})
	db.insert(t, conv, []string{"id", "org_id", "instance_id", "assignee_id", "created_by"}, convRows)
	db.insert(t, msgs, []string{"id", "conversation_id", "org_id", "instance_id", "sender_id"}, msgRows)
	return conv, msgs, p.orgs[0]
}

// checkMembers are members of org with every kind of restriction of
// conversations and messages.
func checkMembers(t *testing.T, key teamperm.KeyKind, org teamperm.ID) []member {
	p := keyPools[key]
	me := p.members[1]
	many := append([]teamperm.ID{p.instances[0]}, p.instances[2:]...)
	for i := range 40 {
		many = append(many, p.filler(i))
	}
	var ms []member
	for _, s := range []teamperm.Settings{
		{Role: teamperm.RoleOwner},
		{Role: teamperm.RoleMember, OnlyAssignedChats: true},
		{Role: teamperm.RoleMember, Instances: teamperm.Only(p.instances[0], p.instances[1]), OnlyAssignedChats: true},
		{Role: teamperm.RoleAdmin, Instances: teamperm.Only(many...)},
		{Role: teamperm.RoleMember, Instances: teamperm.Only()},
		{Role: teamperm.RoleMember, Denies: teamperm.PermissionSetOf(teamperm.ChatView)},
	} {
		s.Member = me
		ms = append(ms, compile(t, org, teamperm.PlanPro, s))
	}
	return ms
}

// TestCheckScopeAcceptsRightMappings: CheckScope returns nil for the
// conversations table, for messages joined to their conversations (the
// assignee is the conversation's), and for the deals of the differential
// test's record table, for members with every kind of restriction.
func TestCheckScopeAcceptsRightMappings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, db *testDB) {
		for _, key := range keyKinds {
			t.Run(key.String(), func(t *testing.T) {
				conv, msgs, org := checkTables(t, db, key)
				convMapping := teamperm.Mapping{
					Organization: column(key, "c.org_id"),
					Instance:     column(key, "c.instance_id"),
					Assignee:     column(key, "c.assignee_id"),
				}
				msgMapping := teamperm.Mapping{
					Organization: column(key, "m.org_id"),
					Instance:     column(key, "m.instance_id"),
					Assignee:     column(key, "c.assignee_id"),
				}
				join := msgs + " m JOIN " + conv + " c ON c.id = m.conversation_id"
				for _, m := range checkMembers(t, key, org) {
					if err := teamperm.CheckScope(ctx, db.DB, db.dialect, conv+" c", convMapping, m.Member, teamperm.KindConversation); err != nil {
						t.Errorf("conversations, %v: %v", m, err)
					}
					if err := teamperm.CheckScope(ctx, db.DB, db.dialect, join, msgMapping, m.Member, teamperm.KindMessage); err != nil {
						t.Errorf("messages joined to conversations, %v: %v", m, err)
					}
				}

				// Deals, with the creator-kind column as text and as
				// integers.
				_, _, rows := tenantRows(key)
				deals := db.createRecordTable(t, key, "deals")
				db.insertRows(t, deals, rows)
				for _, ckInt := range []bool{false, true} {
					mapping := recordMapping(teamperm.KindDeal, mappingOpts{key: key, minimal: true, ckInt: ckInt})
					for _, s := range []teamperm.Settings{
						{Role: teamperm.RoleMember},
						{Role: teamperm.RoleMember, OnlyCreatedDeals: true},
						{Role: teamperm.RoleMember, OnlyCreatedDeals: true, Pipelines: teamperm.Only(keyID(key, 20))},
					} {
						s.Member = keyID(key, 42)
						m := compile(t, rows[0].org, teamperm.PlanPro, s)
						// The record table holds every kind: the host's
						// FROM is a derived table of its deals.
						from := "(SELECT * FROM " + deals + " WHERE kind = 'deal') t"
						if err := teamperm.CheckScope(ctx, db.DB, db.dialect, from, mapping, m.Member, teamperm.KindDeal); err != nil {
							t.Errorf("deals, %v: %v", m, err)
						}
					}
				}
			})
		}
	})
}

// joinedErrors returns the errors joined in err, or err alone.
func joinedErrors(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

// TestCheckScopeReportsWrongSchemas: a text column that the mapping
// declares an IntColumn. CheckScope reads '010' as the key 10 (Visible:
// allowed), but the engines compare differently: SQLite compares the bound
// 10 with the text column as text, so '010' and '011' are not returned (two
// violations, joined); PostgreSQL refuses to bind an integer for a text
// column (the engine's error). MariaDB compares text with integers as
// numbers, as CheckScope reads them, so these rows pass there; a value that
// is no integer ('1e1', which MariaDB takes for 10) is an error in every
// engine.
func TestCheckScopeReportsWrongSchemas(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, db *testDB) {
		wrong := teamperm.Mapping{
			Organization: teamperm.IntColumn("c.org_id"),
			Instance:     teamperm.IntColumn("c.instance_id"), // a text column
		}
		m := compile(t, teamperm.IntID(1), teamperm.PlanPro, teamperm.Settings{
			Member: teamperm.IntID(42), Role: teamperm.RoleMember,
			Instances: teamperm.Only(teamperm.IntID(10), teamperm.IntID(11)),
		})
		load := func(values ...string) string {
			table := db.newTable(t, "wrong")
			db.exec(t, fmt.Sprintf("CREATE TABLE %s (id BIGINT NOT NULL PRIMARY KEY, org_id BIGINT, instance_id %s)", table, db.textType()))
			var rows [][]any
			for i, v := range values {
				rows = append(rows, []any{int64(i + 1), int64(1), v})
			}
			db.insert(t, table, []string{"id", "org_id", "instance_id"}, rows)
			return table + " c"
		}

		numbers := load("10", "010", "+10", "11", "011", "12")
		err := teamperm.CheckScope(ctx, db.DB, db.dialect, numbers, wrong, m.Member, teamperm.KindContact)
		errs := joinedErrors(err)
		t.Logf("%s: text column declared IntColumn: %d errors: %v", db.name, len(errs), err)
		switch db.dialect {
		case teamperm.SQLite:
			if len(errs) != 2 {
				t.Errorf("sqlite: %d violations, want 2 (keys 10 and 11): %v", len(errs), err)
			}
		case teamperm.Postgres:
			if err == nil {
				t.Errorf("postgres: nil, want the engine's error")
			}
		case teamperm.MySQL:
			if err != nil {
				t.Errorf("mysql: %v, want nil (MariaDB compares text with integers as numbers)", err)
			}
		}

		notNumber := load("10", "1e1")
		if err := teamperm.CheckScope(ctx, db.DB, db.dialect, notNumber, wrong, m.Member, teamperm.KindContact); err == nil {
			t.Errorf("%s: a text column holding '1e1' declared IntColumn: nil", db.name)
		} else {
			t.Logf("%s: a text column holding '1e1' declared IntColumn: %v", db.name, err)
		}

		// The right mapping: the column holds text keys, and "010" is
		// not "10".
		right := wrong
		right.Instance = teamperm.StringColumn("c.instance_id")
		mText := compile(t, teamperm.IntID(1), teamperm.PlanPro, teamperm.Settings{
			Member: teamperm.IntID(42), Role: teamperm.RoleMember,
			Instances: teamperm.Only(teamperm.StringID("10"), teamperm.StringID("11")),
		})
		for _, from := range []string{numbers, notNumber} {
			if err := teamperm.CheckScope(ctx, db.DB, db.dialect, from, right, mText.Member, teamperm.KindContact); err != nil {
				t.Errorf("%s: the right mapping: %v", db.name, err)
			}
		}

		// A column the table does not have: the engine's error.
		missing := wrong
		missing.Instance = teamperm.IntColumn("c.instance")
		if err := teamperm.CheckScope(ctx, db.DB, db.dialect, numbers, missing, m.Member, teamperm.KindContact); err == nil {
			t.Errorf("%s: a missing column: nil", db.name)
		}
	})
}

// TestCheckScopeUUIDAsText: on PostgreSQL, a uuid column that the
// mapping declares a StringColumn, with upper-case IDs. The engine would
// parse the bound text as a UUID, so upper case would match the stored
// value, while Visible compares text byte for byte: the member's "6BA7..."
// is not the row's "6ba7...". The renderer compares the column as text
// byte for byte as well (R18), so the two agree and CheckScope passes;
// CheckSchema reports the key kind that does not match the column's type.
func TestCheckScopeUUIDAsText(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, db *testDB) {
		if db.dialect != teamperm.Postgres {
			t.Skipf("%s has no uuid column type", db.name)
		}
		table := db.newTable(t, "uuidtext")
		db.exec(t, "CREATE TABLE "+table+" (id BIGINT NOT NULL PRIMARY KEY, org_id BIGINT, instance_id UUID)")
		inst := uuidN(0x10).String()
		db.insert(t, table, []string{"id", "org_id", "instance_id"}, [][]any{{int64(1), int64(1), inst}, {int64(2), int64(1), uuidN(0x11).String()}})
		mapping := teamperm.Mapping{Organization: teamperm.IntColumn("org_id"), Instance: teamperm.StringColumn("instance_id")}
		for _, id := range []string{strings.ToUpper(inst), inst} {
			m := compile(t, teamperm.IntID(1), teamperm.PlanPro, teamperm.Settings{
				Member: teamperm.IntID(42), Role: teamperm.RoleMember, Instances: teamperm.Only(teamperm.StringID(id)),
			})
			if err := teamperm.CheckScope(ctx, db.DB, db.dialect, table, mapping, m.Member, teamperm.KindContact); err != nil {
				t.Errorf("CheckScope with a uuid column declared StringColumn, member allowed %q: %v", id, err)
			}
			q, args, err := m.Scope(teamperm.KindContact).AppendSQL([]byte("SELECT id FROM "+table+" WHERE "), nil, db.dialect, mapping)
			if err != nil {
				t.Fatal(err)
			}
			rids := db.queryInts(t, string(q), args...)
			if want := map[bool]int{true: 1, false: 0}[id == inst]; len(rids) != want {
				t.Errorf("member allowed %q lists %v, want %d rows", id, rids, want)
			}
		}
	})
}

// TestCheckScopeCannotSeeSwappedColumns documents a limit of CheckScope:
// it builds each row's Record from the mapped columns themselves, so a
// mapping that names the wrong column of the right type is consistent with
// itself and passes. Here the assignee is mapped to the creator column:
// CheckScope returns nil, yet a support agent (only assigned chats) is
// shown conversations it created but that are assigned to a colleague.
// Only the host's own Records (from its models, not from the mapping) can
// catch that: the test compares against them, as CheckRows does (see
// TestCheckRows).
func TestCheckScopeCannotSeeSwappedColumns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, db *testDB) {
		key := teamperm.KeyInt
		conv, _, org := checkTables(t, db, key)
		swapped := teamperm.Mapping{
			Organization: column(key, "c.org_id"),
			Instance:     column(key, "c.instance_id"),
			Assignee:     column(key, "c.created_by"), // wrong: the creator
		}
		m := checkMembers(t, key, org)[1] // only assigned chats
		if err := teamperm.CheckScope(ctx, db.DB, db.dialect, conv+" c", swapped, m.Member, teamperm.KindConversation); err != nil {
			t.Fatalf("CheckScope found the swapped column after all: %v", err)
		}
		// The host's truth: the Records of its conversations.
		q, args, err := m.Scope(teamperm.KindConversation).AppendSQL([]byte("SELECT c.id FROM "+conv+" c WHERE "), nil, db.dialect, swapped)
		if err != nil {
			t.Fatal(err)
		}
		listed := db.queryInts(t, string(q), args...)
		leaked := 0
		for _, id := range listed {
			var assignee *int64
			if err := db.QueryRow("SELECT assignee_id FROM "+conv+" WHERE id = "+db.ph(1), id).Scan(&assignee); err != nil {
				t.Fatal(err)
			}
			rec := teamperm.Record{Kind: teamperm.KindConversation, Organization: org}
			if assignee != nil {
				rec.Assignee = teamperm.IntID(*assignee)
			}
			if !m.Visible(rec).Allowed() {
				leaked++
			}
		}
		if leaked == 0 {
			t.Fatalf("the swapped mapping leaked nothing: the test data do not show the limit")
		}
		t.Logf("%s: CheckScope passed a mapping with the assignee on the creator column, which lists %d conversations of %d the agent may not see", db.name, leaked, len(listed))
	})
}
