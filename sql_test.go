package teamperm_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/teamperm/teamperm"
	"pgregory.net/rapid"
)

var dialects = []teamperm.Dialect{teamperm.Postgres, teamperm.Postgres.QuestionMarks(), teamperm.SQLite, teamperm.MySQL}

// convMapping maps a conversation list query "conversations c".
var convMapping = teamperm.Mapping{
	Organization: teamperm.IntColumn("c.org_id"),
	Instance:     teamperm.IntColumn("c.instance_id"),
	Assignee:     teamperm.IntColumn("c.assignee_id"),
}

var dealMapping = teamperm.Mapping{
	Organization: teamperm.IntColumn("org_id"),
	Assignee:     teamperm.IntColumn("assignee_id"),
	Creator:      teamperm.IntColumn("created_by"),
	CreatorKind:  teamperm.Column{Name: "created_by_kind"},
	Pipeline:     teamperm.IntColumn("pipeline_id"),
}

func ids(ns ...int64) []teamperm.ID {
	var out []teamperm.ID
	for _, n := range ns {
		out = append(out, teamperm.IntID(n))
	}
	return out
}

// contactLinkMapping maps "contacts c" with the link table
// contact_instances(contact_id, instance_id) (R19), and the contact's own
// instance column when withColumn.
func contactLinkMapping(withColumn bool) teamperm.Mapping {
	m := teamperm.Mapping{
		Organization: teamperm.IntColumn("c.org_id"),
		Instances: teamperm.InstanceLink{
			Table:    "contact_instances",
			Record:   teamperm.IntColumn("contact_id"),
			Instance: teamperm.IntColumn("instance_id"),
			Key:      teamperm.IntColumn("c.id"),
		},
	}
	if withColumn {
		m.Instance = teamperm.IntColumn("c.instance_id")
	}
	return m
}

// TestSQLGolden renders typical scopes in every dialect, side by side, into
// testdata/sql.golden.
func TestSQLGolden(t *testing.T) {
	pro := teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.FineGrained}
	me := teamperm.IntID(42)
	many := make([]teamperm.ID, 40)
	for i := range many {
		many[i] = teamperm.IntID(int64(100 + i))
	}
	tests := []struct {
		name    string
		s       teamperm.Settings
		org     teamperm.Organization
		kind    teamperm.Kind
		mapping teamperm.Mapping
		args    []any // the host's own bind values before the fragment
	}{
		{name: "member, all conversations", s: teamperm.Settings{Member: me, Role: teamperm.RoleMember}, kind: teamperm.KindConversation, mapping: convMapping},
		{name: "support agent, conversations", s: teamperm.Settings{Member: me, Role: teamperm.RoleMember, OnlyAssignedChats: true}, kind: teamperm.KindConversation, mapping: convMapping},
		{name: "support agent, after the host's two conditions", s: teamperm.Settings{Member: me, Role: teamperm.RoleMember, OnlyAssignedChats: true}, kind: teamperm.KindConversation, mapping: convMapping, args: []any{"open", 7}},
		{name: "contractor, conversations", s: teamperm.Settings{Member: me, Role: teamperm.RoleMember, OnlyAssignedChats: true, Instances: teamperm.Only(ids(7, 9)...)}, kind: teamperm.KindConversation, mapping: convMapping},
		{name: "denied chat.view", s: teamperm.Settings{Member: me, Role: teamperm.RoleMember, Denies: teamperm.PermissionSetOf(teamperm.ChatView)}, kind: teamperm.KindConversation, mapping: convMapping},
		{name: "empty instance set", s: teamperm.Settings{Member: me, Role: teamperm.RoleMember, Instances: teamperm.Only()}, kind: teamperm.KindConversation, mapping: convMapping},
		{name: "forty instances", s: teamperm.Settings{Member: me, Role: teamperm.RoleMember, Instances: teamperm.Only(many...)}, kind: teamperm.KindConversation, mapping: convMapping},
		{name: "sales representative, deals", s: teamperm.Settings{Member: me, Role: teamperm.RoleMember, OnlyCreatedDeals: true, Pipelines: teamperm.Only(ids(3)...)}, kind: teamperm.KindDeal, mapping: dealMapping},
		{name: "sales representative on starter, deals", org: teamperm.Organization{ID: teamperm.IntID(1)}, s: teamperm.Settings{Member: me, Role: teamperm.RoleMember, OnlyCreatedDeals: true, Pipelines: teamperm.Only(ids(3)...)}, kind: teamperm.KindDeal, mapping: dealMapping},
		{name: "single tenant, contractor", s: teamperm.Settings{Member: me, Role: teamperm.RoleMember, OnlyAssignedChats: true, Instances: teamperm.Only(ids(7)...)}, kind: teamperm.KindConversation,
			mapping: teamperm.Mapping{SingleTenant: true, Instance: convMapping.Instance, Assignee: convMapping.Assignee}},
		{name: "single tenant, unrestricted", s: teamperm.Settings{Member: me, Role: teamperm.RoleOwner}, kind: teamperm.KindConversation,
			mapping: teamperm.Mapping{SingleTenant: true}},
		{name: "text keys, brand manager, contacts", org: teamperm.Organization{ID: teamperm.StringID("acme"), Features: teamperm.FineGrained},
			s:    teamperm.Settings{Member: teamperm.StringID("sam"), Role: teamperm.RoleAdmin, Instances: teamperm.Only(teamperm.StringID("brand-a"), teamperm.StringID("it's"))},
			kind: teamperm.KindContact, mapping: teamperm.Mapping{Organization: teamperm.StringColumn("org"), Instance: teamperm.StringColumn("instance")}},
		{name: "contacts on several instances, link table and instance column", s: teamperm.Settings{Member: me, Role: teamperm.RoleMember, Instances: teamperm.Only(ids(7, 9)...)}, kind: teamperm.KindContact,
			mapping: contactLinkMapping(true)},
		{name: "contacts on several instances, link table only, forty instances", s: teamperm.Settings{Member: me, Role: teamperm.RoleMember, Instances: teamperm.Only(many...)}, kind: teamperm.KindContact,
			mapping: contactLinkMapping(false)},
		{name: "text keys, contacts on several instances", org: teamperm.Organization{ID: teamperm.StringID("acme"), Features: teamperm.FineGrained},
			s:    teamperm.Settings{Member: teamperm.StringID("sam"), Role: teamperm.RoleMember, Instances: teamperm.Only(teamperm.StringID("brand-a"))},
			kind: teamperm.KindContact, mapping: teamperm.Mapping{Organization: teamperm.StringColumn("c.org"), Instances: teamperm.InstanceLink{
				Table: "crm.contact_instances", Record: teamperm.StringColumn("contact_key"), Instance: teamperm.StringColumn("instance"), Key: teamperm.StringColumn("c.key")}}},
		{name: "uuid keys, messages joined to conversations", org: teamperm.Organization{ID: mustUUID("00000000-0000-4000-8000-000000000001"), Features: teamperm.FineGrained},
			s:    teamperm.Settings{Member: mustUUID("00000000-0000-4000-8000-000000000042"), Role: teamperm.RoleMember, OnlyAssignedChats: true},
			kind: teamperm.KindMessage, mapping: teamperm.Mapping{Organization: teamperm.UUIDColumn("m.org_id"), Assignee: teamperm.UUIDColumn("c.assignee_id")}},
	}
	var b bytes.Buffer
	for _, tt := range tests {
		org := tt.org
		if org.ID.IsZero() {
			org = pro
		}
		sc := mustCompile(t, org, tt.s).Scope(tt.kind)
		fmt.Fprintf(&b, "== %s\n%v\n", tt.name, sc)
		for _, d := range dialects {
			frag, args, err := sc.AppendSQL(nil, tt.args, d, tt.mapping)
			if err != nil {
				t.Fatalf("%s: %v: %v", tt.name, d, err)
			}
			if n := placeholders(d, string(frag), len(tt.args)+1); n != len(args)-len(tt.args) {
				t.Errorf("%s: %v: %d placeholders for %d new args", tt.name, d, n, len(args)-len(tt.args))
			}
			fmt.Fprintf(&b, "%-9s %s\n%-9s %s\n", d, frag, "", formatArgs(args))
		}
		b.WriteByte('\n')
	}
	golden(t, "sql.golden", b.Bytes())
}

func formatArgs(args []any) string {
	var parts []string
	for _, a := range args {
		if s, ok := a.(string); ok {
			parts = append(parts, strconv.Quote(clipString(s)))
		} else {
			parts = append(parts, fmt.Sprint(a))
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func clipString(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

// placeholders counts the placeholders of a fragment outside quoted
// identifiers: ? for SQLite and MySQL, $n for Postgres, where it also
// checks that the numbers run on from first, one by one (it returns -1 if
// not).
func placeholders(d teamperm.Dialect, frag string, first int) int {
	n := 0
	unquoted(frag, func(i int) {
		switch c := frag[i]; {
		case n < 0:
		case c == '?' && d != teamperm.Postgres:
			n++
		case c == '$' && d == teamperm.Postgres:
			j := i + 1
			for j < len(frag) && frag[j] >= '0' && frag[j] <= '9' {
				j++
			}
			if k, _ := strconv.Atoi(frag[i+1 : j]); k != first+n {
				n = -1
				return
			}
			n++
		}
	})
	return n
}

// unquoted calls f with the index of every byte of frag outside quoted
// identifiers ("..." and `...`), and reports whether every quote closes.
func unquoted(frag string, f func(i int)) bool {
	var quote byte
	for i := 0; i < len(frag); i++ {
		switch c := frag[i]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '`':
			quote = c
		default:
			f(i)
		}
	}
	return quote == 0
}

// TestSQLPlaceholdersContinue: with the host's args first, Postgres
// placeholders continue their numbering.
func TestSQLPlaceholdersContinue(t *testing.T) {
	m := mustCompile(t, teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.FineGrained},
		teamperm.Settings{Member: teamperm.IntID(42), Role: teamperm.RoleMember, OnlyAssignedChats: true})
	host := []byte("SELECT id FROM conversations c WHERE c.archived = $1 AND c.channel = $2 AND ")
	got, args, err := m.Scope(teamperm.KindConversation).AppendSQL(host, []any{false, "whatsapp"}, teamperm.Postgres, convMapping)
	if err != nil {
		t.Fatal(err)
	}
	want := `SELECT id FROM conversations c WHERE c.archived = $1 AND c.channel = $2 AND ("c"."org_id" = $3 AND "c"."assignee_id" = $4)`
	if string(got) != want || len(args) != 4 || args[2] != int64(1) || args[3] != int64(42) {
		t.Errorf("got %s %v\nwant %s [false whatsapp 1 42]", got, args, want)
	}
}

// TestSQLErrors: every way a mapping can be wrong is an error naming the
// problem, and nothing is appended.
func TestSQLErrors(t *testing.T) {
	pro := teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.FineGrained}
	agent := mustCompile(t, pro, teamperm.Settings{Member: teamperm.IntID(42), Role: teamperm.RoleMember, OnlyAssignedChats: true, Instances: teamperm.Only(teamperm.IntID(7))})
	rep := mustCompile(t, pro, teamperm.Settings{Member: teamperm.IntID(42), Role: teamperm.RoleMember, OnlyCreatedDeals: true})
	conv := agent.Scope(teamperm.KindConversation)
	with := func(f func(m *teamperm.Mapping)) teamperm.Mapping {
		m := convMapping
		f(&m)
		return m
	}
	tests := []struct {
		name    string
		scope   teamperm.Scope
		dialect teamperm.Dialect
		mapping teamperm.Mapping
		msg     string
	}{
		{"no dialect", conv, 0, convMapping, "dialect none"},
		{"unknown dialect", conv, 9, convMapping, "Dialect(9)"},
		{"no tenancy", conv, teamperm.SQLite, with(func(m *teamperm.Mapping) { m.Organization = teamperm.Column{} }), "not SingleTenant"},
		{"both tenancies", conv, teamperm.SQLite, with(func(m *teamperm.Mapping) { m.SingleTenant = true }), "SingleTenant and has an organization column"},
		{"missing assignee column", conv, teamperm.SQLite, with(func(m *teamperm.Mapping) { m.Assignee = teamperm.Column{} }), "no column for field assignee"},
		{"missing instance column", conv, teamperm.SQLite, with(func(m *teamperm.Mapping) { m.Instance = teamperm.Column{} }), "no column for field instance"},
		{"missing key kind", conv, teamperm.SQLite, with(func(m *teamperm.Mapping) { m.Assignee = teamperm.Column{Name: "assignee_id"} }), "key kind none"},
		{"key kind mismatch", conv, teamperm.Postgres, with(func(m *teamperm.Mapping) { m.Assignee = teamperm.StringColumn("assignee_id") }), `assignee 42 is a key of kind int, column "assignee_id" holds keys of kind string`},
		{"injection", conv, teamperm.MySQL, with(func(m *teamperm.Mapping) { m.Assignee.Name = "assignee_id; DROP TABLE users" }), `"assignee_id; DROP TABLE users"`},
		{"quote", conv, teamperm.Postgres, with(func(m *teamperm.Mapping) { m.Assignee.Name = `a"b` }), `"a\"b"`},
		{"backtick", conv, teamperm.MySQL, with(func(m *teamperm.Mapping) { m.Assignee.Name = "a`b" }), "a`b"},
		{"leading digit", conv, teamperm.SQLite, with(func(m *teamperm.Mapping) { m.Assignee.Name = "1col" }), `"1col"`},
		{"empty part", conv, teamperm.SQLite, with(func(m *teamperm.Mapping) { m.Assignee.Name = "c..x" }), `"c..x"`},
		{"trailing dot", conv, teamperm.SQLite, with(func(m *teamperm.Mapping) { m.Assignee.Name = "c." }), `"c."`},
		{"four parts", conv, teamperm.SQLite, with(func(m *teamperm.Mapping) { m.Assignee.Name = "a.b.c.d" }), `"a.b.c.d"`},
		{"space", conv, teamperm.SQLite, with(func(m *teamperm.Mapping) { m.Assignee.Name = "assignee id" }), `"assignee id"`},
		{"non-ascii", conv, teamperm.SQLite, with(func(m *teamperm.Mapping) { m.Assignee.Name = "zuständig" }), `"zuständig"`},
		{"too long", conv, teamperm.SQLite, with(func(m *teamperm.Mapping) { m.Assignee.Name = strings.Repeat("a", 64) }), "longer than 63"},
		{"missing creator kind column", rep.Scope(teamperm.KindDeal), teamperm.SQLite, with(func(m *teamperm.Mapping) { m.Creator = teamperm.IntColumn("created_by") }), "no column for field creator_kind"},
		{"link: unqualified key", conv, teamperm.SQLite, with(func(m *teamperm.Mapping) {
			m.Instances = teamperm.InstanceLink{Table: "ci", Record: teamperm.IntColumn("contact_id"), Instance: teamperm.IntColumn("instance_id"), Key: teamperm.IntColumn("id")}
		}), `key column "id": want the record's key qualified`},
		{"link: key in the link's alias", conv, teamperm.SQLite, with(func(m *teamperm.Mapping) {
			m.Instances = teamperm.InstanceLink{Table: "ci", Record: teamperm.IntColumn("contact_id"), Instance: teamperm.IntColumn("instance_id"), Key: teamperm.IntColumn("teamperm_link.id")}
		}), `key column "teamperm_link.id"`},
		{"link: key in the link's alias, another case", conv, teamperm.SQLite, with(func(m *teamperm.Mapping) {
			m.Instances = teamperm.InstanceLink{Table: "ci", Record: teamperm.IntColumn("contact_id"), Instance: teamperm.IntColumn("instance_id"), Key: teamperm.IntColumn("Teamperm_Link.id")}
		}), `key column "Teamperm_Link.id"`},
		{"link: key in the link's alias, schema-qualified", conv, teamperm.SQLite, with(func(m *teamperm.Mapping) {
			m.Instances = teamperm.InstanceLink{Table: "ci", Record: teamperm.IntColumn("contact_id"), Instance: teamperm.IntColumn("instance_id"), Key: teamperm.IntColumn("main.TEAMPERM_LINK.id")}
		}), `key column "main.TEAMPERM_LINK.id"`},
		{"link: qualified record column", conv, teamperm.SQLite, with(func(m *teamperm.Mapping) {
			m.Instances = teamperm.InstanceLink{Table: "ci", Record: teamperm.IntColumn("ci.contact_id"), Instance: teamperm.IntColumn("instance_id"), Key: teamperm.IntColumn("c.id")}
		}), `record column "ci.contact_id"`},
		{"link: injected table", conv, teamperm.MySQL, with(func(m *teamperm.Mapping) {
			m.Instances = teamperm.InstanceLink{Table: "ci; DROP TABLE x", Record: teamperm.IntColumn("contact_id"), Instance: teamperm.IntColumn("instance_id"), Key: teamperm.IntColumn("c.id")}
		}), `table "ci; DROP TABLE x"`},
		{"link: no key kind", conv, teamperm.SQLite, with(func(m *teamperm.Mapping) {
			m.Instances = teamperm.InstanceLink{Table: "ci", Record: teamperm.IntColumn("contact_id"), Instance: teamperm.Column{Name: "instance_id"}, Key: teamperm.IntColumn("c.id")}
		}), `instance column "instance_id": no key kind`},
		{"link: key kinds differ", conv, teamperm.SQLite, with(func(m *teamperm.Mapping) {
			m.Instances = teamperm.InstanceLink{Table: "ci", Record: teamperm.IntColumn("contact_id"), Instance: teamperm.IntColumn("instance_id"), Key: teamperm.StringColumn("c.id")}
		}), `holds keys of kind string`},
		{"link: instance key kind mismatch", conv, teamperm.SQLite, with(func(m *teamperm.Mapping) {
			m.Instances = teamperm.InstanceLink{Table: "ci", Record: teamperm.IntColumn("contact_id"), Instance: teamperm.StringColumn("instance_id"), Key: teamperm.IntColumn("c.id")}
		}), `instance 7 is a key of kind int`},
		{"creator kind value of a wrong type", rep.Scope(teamperm.KindDeal), teamperm.SQLite, func() teamperm.Mapping {
			m := dealMapping
			m.CreatorKindValues.Member = 1.5
			return m
		}(), "1.5 (float64)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst, args := []byte("WHERE x = ? AND "), []any{"x"}
			got, gotArgs, err := tt.scope.AppendSQL(dst, args, tt.dialect, tt.mapping)
			if !errors.Is(err, teamperm.ErrInvalidMapping) {
				t.Fatalf("err = %v, want ErrInvalidMapping", err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %v, want it to name %s", err, tt.msg)
			}
			if string(got) != string(dst) || len(gotArgs) != 1 {
				t.Errorf("on error got %q %v, want the input unchanged", got, gotArgs)
			}
		})
	}
}

// TestFilterConstants: the degenerate trees render as constants that
// Match agrees with.
func TestFilterConstants(t *testing.T) {
	r := &teamperm.Record{Kind: teamperm.KindContact, Organization: teamperm.IntID(1), Instance: teamperm.IntID(7)}
	tests := []struct {
		f    teamperm.Filter
		sql  string
		want bool
	}{
		{teamperm.All, "(1=1)", true},
		{teamperm.None, "(1=0)", false},
		{teamperm.And{}, "(1=1)", true},
		{teamperm.Or{}, "(1=0)", false},
		{teamperm.In{Field: teamperm.FieldInstance}, "(1=0)", false},
		{teamperm.And{teamperm.Or{}}, "(1=0)", false},
		{teamperm.Or{teamperm.And{}, teamperm.None}, "((1=1) OR 1=0)", true},
		{teamperm.Eq{Field: teamperm.FieldAssignee, Value: teamperm.IntID(7)}, `("assignee_id" = ?)`, false},
		{teamperm.In{Field: teamperm.FieldInstance, Values: ids(7)}, `("instance_id" = ?)`, true},
		{teamperm.CreatorKindIs{Kind: teamperm.CreatorUnknown}, `("creator_kind" IS NULL)`, true},
	}
	m := teamperm.Mapping{SingleTenant: true, Instance: teamperm.IntColumn("instance_id"), Assignee: teamperm.IntColumn("assignee_id"), CreatorKind: teamperm.Column{Name: "creator_kind"}}
	for _, tt := range tests {
		got, _, err := teamperm.AppendSQL(nil, nil, teamperm.SQLite, m, tt.f)
		if err != nil || string(got) != tt.sql {
			t.Errorf("AppendSQL(%v) = %s, %v; want %s", tt.f, got, err, tt.sql)
		}
		if teamperm.Match(tt.f, r) != tt.want {
			t.Errorf("Match(%v) = %v, want %v", tt.f, !tt.want, tt.want)
		}
	}
	if teamperm.Match(nil, r) {
		t.Error("Match(nil) = true")
	}
	if _, _, err := teamperm.AppendSQL(nil, nil, teamperm.SQLite, m, nil); !errors.Is(err, teamperm.ErrInvalidMapping) {
		t.Errorf("AppendSQL(nil filter): %v", err)
	}
}

// genFilter draws a random filter tree over a few fields and IDs.
func genFilter(t *rapid.T, depth int) teamperm.Filter {
	kind := rapid.IntRange(0, 5).Draw(t, "node")
	if depth > 3 && kind < 2 {
		kind += 2
	}
	field := teamperm.Field(rapid.IntRange(0, 7).Draw(t, "field"))
	id := func() teamperm.ID {
		return rapid.SampledFrom(append([]teamperm.ID{{}}, instancePool...)).Draw(t, "id")
	}
	switch kind {
	case 0, 1:
		n := rapid.IntRange(0, 3).Draw(t, "n")
		fs := make([]teamperm.Filter, n)
		for i := range fs {
			fs[i] = genFilter(t, depth+1)
		}
		if kind == 0 {
			return teamperm.And(fs)
		}
		return teamperm.Or(fs)
	case 2:
		return teamperm.Const(rapid.Bool().Draw(t, "const"))
	case 3:
		return teamperm.Eq{Field: field, Value: id()}
	case 4:
		n := rapid.SampledFrom([]int{0, 1, 2, 5, 40}).Draw(t, "len")
		vs := make([]teamperm.ID, n)
		for i := range vs {
			vs[i] = id()
		}
		return teamperm.In{Field: field, Values: vs}
	}
	return teamperm.CreatorKindIs{Kind: teamperm.CreatorKind(rapid.IntRange(0, 3).Draw(t, "creatorKind"))}
}

// renderLaws: rendering any tree with any column names never panics; it
// fails exactly on bad names, missing columns and mismatched keys, and on
// success the fragment is parenthesised, balanced, and has one placeholder
// per bind value.
func renderLaws(t *rapid.T) {
	f := genFilter(t, 0)
	d := rapid.SampledFrom(append(dialects, 0)).Draw(t, "dialect")
	name := func(label string) string {
		return rapid.OneOf(
			rapid.SampledFrom([]string{"", "instance_id", "c.instance_id", "s.c.x", "a b", "x;--", `x"`, "x`", "1x", "a.", ".a", "ü", "_x9"}),
			rapid.StringMatching(`[a-zA-Z_.0-9"'; -]{0,12}`),
		).Draw(t, label)
	}
	col := func(label string) teamperm.Column {
		return teamperm.Column{Name: name(label), Key: teamperm.KeyKind(rapid.IntRange(0, 4).Draw(t, label+"Key"))}
	}
	m := teamperm.Mapping{
		SingleTenant: rapid.Bool().Draw(t, "single"),
		Organization: col("org"), Instance: col("instance"), Assignee: col("assignee"),
		Creator: col("creator"), Pipeline: col("pipeline"), CreatorKind: col("creatorKind"),
	}
	if rapid.Bool().Draw(t, "link") { // R19: a link table, names as hostile as the columns'
		m.Instances = teamperm.InstanceLink{Table: name("linkTable"), Record: col("linkRecord"), Instance: col("linkInstance"), Key: col("linkKey")}
	}
	prefix := rapid.IntRange(0, 3).Draw(t, "hostArgs")
	hostArgs := make([]any, prefix)
	frag, args, err := teamperm.AppendSQL([]byte("x"), hostArgs, d, m, f)
	if err != nil {
		if !errors.Is(err, teamperm.ErrInvalidMapping) {
			t.Fatalf("error %v does not wrap ErrInvalidMapping", err)
		}
		if string(frag) != "x" || len(args) != prefix {
			t.Fatalf("on error the output changed: %q %d", frag, len(args))
		}
		return
	}
	out := string(frag[1:])
	if !strings.HasPrefix(out, "(") || !strings.HasSuffix(out, ")") {
		t.Fatalf("fragment %s is not parenthesised", out)
	}
	if n := placeholders(d, out, prefix+1); n != len(args)-prefix {
		t.Fatalf("fragment %s has %d placeholders for %d args (%d host)", out, n, len(args), prefix)
	}
	depth, unbalanced := 0, false
	closed := unquoted(out, func(i int) {
		switch c := out[i]; c {
		case '(':
			depth++
		case ')':
			depth--
			unbalanced = unbalanced || depth < 0
		case ';', '\'', '-':
			t.Fatalf("fragment %s has %q outside a quoted identifier", out, c)
		}
	})
	if depth != 0 || unbalanced || !closed {
		t.Fatalf("unbalanced %s", out)
	}
}

func TestRenderLaws(t *testing.T) { rapid.Check(t, renderLaws) }

func FuzzAppendSQL(f *testing.F) { f.Fuzz(rapid.MakeFuzz(renderLaws)) }

// TestSQLiteLargeSetNotUTF8: a large set with a text key that is not valid
// UTF-8 cannot travel as JSON (the bytes would become U+FFFD and match
// another row), so it renders as placeholders, bound byte for byte.
func TestSQLiteLargeSetNotUTF8(t *testing.T) {
	keys := []teamperm.ID{teamperm.StringID("a\xffb")}
	for i := range 40 {
		keys = append(keys, teamperm.StringID(fmt.Sprint("k", i)))
	}
	f := teamperm.In{Field: teamperm.FieldInstance, Values: keys}
	m := teamperm.Mapping{SingleTenant: true, Instance: teamperm.StringColumn("instance")}
	frag, args, err := teamperm.AppendSQL(nil, nil, teamperm.SQLite, m, f)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(frag), "json_each") || len(args) != len(keys) || args[0] != "a\xffb" {
		t.Errorf("got %s %q, want one placeholder per key", frag, args[:2])
	}
}

func TestScopeFields(t *testing.T) {
	org := teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.FineGrained}
	rep := mustCompile(t, org, teamperm.SalesRepresentative(teamperm.IntID(42), teamperm.IntID(3)))
	agent := mustCompile(t, org, teamperm.SupportAgent(teamperm.IntID(43), teamperm.Only(teamperm.IntID(7))))
	tests := []struct {
		scope teamperm.Scope
		want  []teamperm.Field
	}{
		{rep.Scope(teamperm.KindDeal), []teamperm.Field{teamperm.FieldOrganization, teamperm.FieldAssignee, teamperm.FieldCreator, teamperm.FieldCreatorKind, teamperm.FieldPipeline}},
		{rep.Scope(teamperm.KindConversation), []teamperm.Field{teamperm.FieldOrganization}},
		{agent.Scope(teamperm.KindMessage), []teamperm.Field{teamperm.FieldOrganization, teamperm.FieldInstance, teamperm.FieldAssignee}},
		{agent.Scope(teamperm.KindContact), []teamperm.Field{teamperm.FieldOrganization, teamperm.FieldInstance}},
		{mustCompile(t, org, teamperm.Settings{Member: teamperm.IntID(44), Role: teamperm.RoleMember, Denies: teamperm.PermissionSetOf(teamperm.ContactView)}).Scope(teamperm.KindContact), nil},
	}
	for _, tt := range tests {
		if got := tt.scope.Fields(); !slices.Equal(got, tt.want) {
			t.Errorf("%v: Fields() = %v, want %v", tt.scope, got, tt.want)
		}
	}
}

// largeScope is a member limited to n instances (integer or text keys)
// and its contact scope.
func largeScope(tb testing.TB, n int, text bool) teamperm.Scope {
	ids := make([]teamperm.ID, n)
	for i := range ids {
		ids[i] = teamperm.IntID(int64(1000 + i))
		if text {
			ids[i] = teamperm.StringID(fmt.Sprintf("instance-%d", i))
		}
	}
	org := teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.FineGrained}
	m := mustCompile(tb, org, teamperm.Settings{Member: teamperm.IntID(42), Role: teamperm.RoleMember, Instances: teamperm.Only(ids...)})
	return m.Scope(teamperm.KindContact)
}

func largeMapping(text bool) teamperm.Mapping {
	if text {
		return teamperm.Mapping{Organization: teamperm.IntColumn("org_id"), Instance: teamperm.StringColumn("instance_id")}
	}
	return teamperm.Mapping{Organization: teamperm.IntColumn("org_id"), Instance: teamperm.IntColumn("instance_id")}
}

// TestAppendSQLLargeSetsAllocate: rendering a cached scope again into the
// caller's buffers allocates the same for 100 keys as for 10,000: the
// array parameter is encoded once per scope and encoding.
func TestAppendSQLLargeSetsAllocate(t *testing.T) {
	for _, d := range []teamperm.Dialect{teamperm.Postgres, teamperm.SQLite} {
		for _, text := range []bool{false, true} {
			var allocs []float64
			for _, n := range []int{100, 10_000} {
				s, m := largeScope(t, n, text), largeMapping(text)
				buf, args := make([]byte, 0, 1024), make([]any, 0, 8)
				first, firstArgs, err := s.AppendSQL(buf, args, d, m)
				if err != nil {
					t.Fatal(err)
				}
				allocs = append(allocs, testing.AllocsPerRun(20, func() {
					again, againArgs, _ := s.AppendSQL(buf[:0], args[:0], d, m)
					if string(again) != string(first) || len(againArgs) != len(firstArgs) {
						panic("a cached scope rendered differently")
					}
				}))
			}
			// One allocation is the mapping, whatever the scope.
			if allocs[0] != allocs[1] || allocs[1] > 1 {
				t.Errorf("%v, text %v: AppendSQL allocates %v times for 100 keys and %v for 10,000, want the same, at most 1", d, text, allocs[0], allocs[1])
			}
		}
	}
}

// BenchmarkAppendSQLLargeSet: a cached scope with 100 and 10,000 allowed
// instances, rendered again into the caller's buffers.
func BenchmarkAppendSQLLargeSet(b *testing.B) {
	for _, d := range []teamperm.Dialect{teamperm.Postgres, teamperm.SQLite, teamperm.MySQL} {
		for _, text := range []bool{false, true} {
			for _, n := range []int{100, 10_000} {
				b.Run(fmt.Sprintf("%v/text=%v/ids=%d", d, text, n), func(b *testing.B) {
					s, m := largeScope(b, n, text), largeMapping(text)
					buf, args := make([]byte, 0, 1<<20), make([]any, 0, 2*n+8)
					b.ReportAllocs()
					for b.Loop() {
						if _, _, err := s.AppendSQL(buf[:0], args[:0], d, m); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}

// TestAppendSQLMixedKeysOfAMember: a member's set of keys of several kinds
// (as Access allows) renders on no column of one kind: the error names a
// key of the other kind, for short and long sets, whose kinds the renderer
// learns once.
func TestAppendSQLMixedKeysOfAMember(t *testing.T) {
	org := teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.FineGrained}
	for _, n := range []int{2, 40} {
		for _, at := range []int{0, n / 2, n - 1} {
			ids := make([]teamperm.ID, n)
			for i := range ids {
				ids[i] = teamperm.IntID(int64(100 + i))
			}
			ids[at] = teamperm.StringID("odd-one")
			m := mustCompile(t, org, teamperm.Settings{Member: teamperm.IntID(42), Role: teamperm.RoleMember, Instances: teamperm.Only(ids...)})
			for _, d := range []teamperm.Dialect{teamperm.Postgres, teamperm.SQLite, teamperm.MySQL} {
				for range 2 { // the second time from what the scope learnt
					_, _, err := m.Scope(teamperm.KindContact).AppendSQL(nil, nil, d, largeMapping(false))
					if !errors.Is(err, teamperm.ErrInvalidMapping) || !strings.Contains(err.Error(), `"odd-one"`) {
						t.Fatalf("%d keys, odd one at %d, %v: %v", n, at, d, err)
					}
				}
			}
		}
	}
}

// TestSQLListSizes renders an In of n integer keys on one column, for
// sizes around the renderer's chunks of placeholders, after two host
// arguments: the fragment is (column IN (...)) with one placeholder per key
// (numbered on from $3 in PostgreSQL's own form), and the bind values are
// the host's, then the keys in order. Lists long enough for an array
// parameter take it in PostgreSQL and SQLite, so they are checked in
// MySQL and PostgreSQL's ? form only.
func TestSQLListSizes(t *testing.T) {
	m := teamperm.Mapping{SingleTenant: true, Instance: teamperm.IntColumn("instance")}
	for _, n := range []int{2, 3, 31, 255, 256, 257, 258, 512, 513, 1000} {
		keys := make([]teamperm.ID, n)
		for i := range keys {
			keys[i] = teamperm.IntID(int64(1000 + i))
		}
		f := teamperm.In{Field: teamperm.FieldInstance, Values: keys}
		for _, d := range dialects {
			host := []any{"h1", "h2"}
			frag, args, err := teamperm.AppendSQL(nil, host, d, m, f)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(frag), "ANY(") || strings.Contains(string(frag), "json_each") {
				continue // an array parameter: TestAppendSQLLargeSetsAllocate
			}
			var want strings.Builder
			q := `"instance"`
			if d == teamperm.MySQL {
				q = "`instance`"
			}
			want.WriteString("(" + q + " IN (")
			for i := range n {
				if i > 0 {
					want.WriteString(", ")
				}
				if d == teamperm.Postgres {
					want.WriteString("$" + strconv.Itoa(i+3))
				} else {
					want.WriteString("?")
				}
			}
			want.WriteString("))")
			wantArgs := []any{"h1", "h2"}
			for _, k := range keys {
				n, _ := k.Int()
				wantArgs = append(wantArgs, n)
			}
			if string(frag) != want.String() || !slices.Equal(args, wantArgs) {
				t.Errorf("%v, %d keys: got %.80s... (%d bytes) with %d values; want %.80s... (%d bytes) with %d", d, n, frag, len(frag), len(args), want.String(), want.Len(), len(wantArgs))
			}
		}
	}
}
