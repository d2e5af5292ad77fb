package teamperm_test

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/teamperm/teamperm"
	"pgregory.net/rapid"
)

// The properties in this file state that every comparison of keys the
// engine makes is ID equality (==), for keys of every kind, the empty and
// zero ones included, whether the member's set of allowed keys is small
// (scanned) or large (indexed), and whatever the mix of kinds in it.

// keyPool holds the keys that comparisons get wrong: the empty text key
// next to other text keys and to the integer 0, keys one byte apart, case
// and space variants, NUL bytes, integer extremes (math.MinInt64 is the
// integer index's free-slot marker), and UUIDs nil and nearly nil.
func keyPool() []teamperm.ID {
	return []teamperm.ID{
		{},
		teamperm.IntID(0), teamperm.IntID(1), teamperm.IntID(-1), teamperm.IntID(7),
		teamperm.IntID(math.MinInt64), teamperm.IntID(math.MinInt64 + 1), teamperm.IntID(math.MaxInt64),
		teamperm.StringID(""), teamperm.StringID("0"), teamperm.StringID("7"), teamperm.StringID("a"),
		teamperm.StringID("A"), teamperm.StringID("a "), teamperm.StringID(" a"), teamperm.StringID("ab"),
		teamperm.StringID("\x00"), teamperm.StringID("a\x00"), teamperm.StringID("\xff"), teamperm.StringID(`"`),
		teamperm.UUIDID([16]byte{}), teamperm.UUIDID([16]byte{15: 1}), teamperm.UUIDID([16]byte{0: 1}),
		teamperm.UUIDID(textUUIDBytes),
	}
}

// keyGen draws keys from the pool, or any key of any kind.
func keyGen() *rapid.Generator[teamperm.ID] {
	return rapid.OneOf(rapid.SampledFrom(keyPool()), idGen())
}

var keysOrg = teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.FineGrained}

// validMember reports whether id may name a member (R17).
func validMember(id teamperm.ID) bool {
	if id.IsZero() {
		return false
	}
	if n, ok := id.Int(); ok {
		return n != 0
	}
	if s, ok := id.Str(); ok {
		return s != ""
	}
	u, _ := id.UUID()
	return u != [16]byte{}
}

// TestKeyEqualityExhaustive compares every pair of the pool through every
// public path that compares keys.
func TestKeyEqualityExhaustive(t *testing.T) {
	pool := keyPool()
	for _, a := range pool {
		for _, b := range pool {
			want := a == b && !b.IsZero() // a NULL matches nothing, not even NULL
			if got := teamperm.IDSetOf(a).Contains(b); got != want {
				t.Errorf("IDSetOf(%v).Contains(%v) = %v, want %v", a, b, got, want)
			}
			if got := teamperm.IDSetOf(a, b).Len(); got != distinctNonZero(a, b) {
				t.Errorf("IDSetOf(%v, %v).Len() = %d, want %d", a, b, got, distinctNonZero(a, b))
			}
			if got := teamperm.Only(a).Contains(b); got != want {
				t.Errorf("Only(%v).Contains(%v) = %v, want %v", a, b, got, want)
			}
			if !(teamperm.Access{}).Contains(b) {
				t.Errorf("access to all does not contain %v", b)
			}
			if teamperm.Only().Contains(b) {
				t.Errorf("Only() contains %v", b)
			}
		}
	}
}

func distinctNonZero(ids ...teamperm.ID) int {
	var seen []teamperm.ID
	for _, id := range ids {
		if !id.IsZero() && !slices.Contains(seen, id) {
			seen = append(seen, id)
		}
	}
	return len(seen)
}

// TestOwnKeyExhaustive: a member limited to its own conversations or deals
// sees a record exactly when the record's assignee or creator is the
// member's ID (==), for every member key and every record key of the pool:
// a conversation assigned to StringID("") is no text-key member's.
func TestOwnKeyExhaustive(t *testing.T) {
	for _, me := range keyPool() {
		if !validMember(me) {
			continue
		}
		agent := mustCompile(t, keysOrg, teamperm.Settings{Member: me, Role: teamperm.RoleMember, OnlyAssignedChats: true})
		rep := mustCompile(t, keysOrg, teamperm.Settings{Member: me, Role: teamperm.RoleMember, OnlyCreatedDeals: true})
		for _, k := range keyPool() {
			want := k == me
			records := []struct {
				m *teamperm.Member
				r teamperm.Record
			}{
				{agent, teamperm.Record{Kind: teamperm.KindConversation, Organization: keysOrg.ID, Assignee: k}},
				{agent, teamperm.Record{Kind: teamperm.KindMessage, Organization: keysOrg.ID, Assignee: k}},
				{rep, teamperm.Record{Kind: teamperm.KindDeal, Organization: keysOrg.ID, CreatorKind: teamperm.CreatorMember, Creator: k}},
				{rep, teamperm.Record{Kind: teamperm.KindDeal, Organization: keysOrg.ID, CreatorKind: teamperm.CreatorAutomation, Assignee: k}},
			}
			for _, tt := range records {
				checkVisible(t, tt.m, tt.r, want)
			}
		}
	}
}

// checkVisible checks Visible, Scope's matcher and Audience-free paths
// (EvaluateRecord on the kind's view permission) against want.
func checkVisible(t fataler, m *teamperm.Member, r teamperm.Record, want bool) {
	t.Helper()
	if got := m.Visible(r).Allowed(); got != want {
		t.Fatalf("member %v: Visible(%+v) = %v, want %v", m.ID(), r, got, want)
	}
	if got := m.Scope(r.Kind).Match(&r); got != want {
		t.Fatalf("member %v: Scope(%v).Match(%+v) = %v, want %v", m.ID(), r.Kind, r, got, want)
	}
}

// distinctKeys draws between lo and hi distinct non-zero keys of any kind.
func distinctKeys(t *rapid.T, lo, hi int) []teamperm.ID {
	n := rapid.IntRange(lo, hi).Draw(t, "n")
	var keys []teamperm.ID
	for len(keys) < n {
		id := keyGen().Draw(t, "key")
		if !id.IsZero() && !slices.Contains(keys, id) {
			keys = append(keys, id)
		}
	}
	return keys
}

// TestAllowedSetMembership: a member limited to a set of instances or
// pipelines, of any size (scanned up to 8 keys, indexed beyond) and any
// mix of key kinds, sees a record exactly when one of its keys equals an
// allowed key. Records of integer instances are not seen through a set of
// text keys, and the reverse, however large the set.
func TestAllowedSetMembership(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		allowed := distinctKeys(t, 0, 40)
		admin := mustCompile(t, keysOrg, teamperm.Settings{Member: teamperm.IntID(5), Role: teamperm.RoleAdmin, Instances: teamperm.Only(allowed...)})
		rep := mustCompile(t, keysOrg, teamperm.Settings{Member: teamperm.IntID(6), Role: teamperm.RoleMember, Pipelines: teamperm.Only(allowed...)})
		probes := append(keyPool(), allowed...)
		for range 5 {
			probes = append(probes, keyGen().Draw(t, "probe"))
		}
		for _, k := range probes {
			in := !k.IsZero() && slices.Contains(allowed, k)
			checkVisible(t, admin, teamperm.Record{Kind: teamperm.KindContact, Organization: keysOrg.ID, Instance: k}, in)
			checkVisible(t, rep, teamperm.Record{Kind: teamperm.KindDeal, Organization: keysOrg.ID, Pipeline: k}, in)
			// R19: a record on several instances.
			other := keyGen().Draw(t, "other")
			inOther := !other.IsZero() && slices.Contains(allowed, other)
			set := teamperm.IDSetOf(k, other)
			checkVisible(t, admin, teamperm.Record{Kind: teamperm.KindConversation, Organization: keysOrg.ID, Instances: set}, in || inOther)
			checkVisible(t, admin, teamperm.Record{Kind: teamperm.KindCampaign, Organization: keysOrg.ID, Instance: other, Instances: teamperm.IDSetOf(k)}, in || inOther)
			if got, want := set.Contains(k), !k.IsZero(); got != want {
				t.Fatalf("IDSetOf(%v, %v).Contains(%v) = %v", k, other, k, got)
			}
			if got := teamperm.Only(allowed...).Contains(k); got != in {
				t.Fatalf("Only(%v).Contains(%v) = %v, want %v", allowed, k, got, in)
			}
		}
	})
}

// TestLargeSetsOfOneKindHideTheOthers builds sets beyond the scanned size
// of a single kind and probes with keys of the other kinds that share the
// set's values as far as kinds can: IntID(7) against "7", "" against 0,
// a UUID against the text of its 16 bytes.
func TestLargeSetsOfOneKindHideTheOthers(t *testing.T) {
	var ints, strs, uuids, uuidBytes []teamperm.ID
	for i := range 12 {
		u := [16]byte{15: byte(i)}
		ints = append(ints, teamperm.IntID(int64(i)))
		strs = append(strs, teamperm.StringID(fmt.Sprint(i)))
		uuids = append(uuids, teamperm.UUIDID(u))
		uuidBytes = append(uuidBytes, teamperm.StringID(string(u[:])))
	}
	strs = append(strs, teamperm.StringID(""))
	sets := map[string][]teamperm.ID{
		"ints": ints, "strings": strs, "uuids": uuids, "uuid bytes as text": uuidBytes,
		"uuids and their bytes as text": append(slices.Clone(uuids[:6]), uuidBytes[:6]...),
	}
	for name, allowed := range sets {
		for _, size := range []int{1, 8, 9, len(allowed)} {
			allowed := allowed[:size]
			m := mustCompile(t, keysOrg, teamperm.Settings{Member: teamperm.IntID(5), Role: teamperm.RoleAdmin, Instances: teamperm.Only(allowed...)})
			for _, probes := range sets {
				for _, k := range append(probes, keyPool()...) {
					want := slices.Contains(allowed, k)
					r := teamperm.Record{Kind: teamperm.KindContact, Organization: keysOrg.ID, Instance: k}
					if got := m.Visible(r).Allowed(); got != want {
						t.Errorf("%d %s: Visible(instance %v) = %v, want %v", size, name, k, got, want)
					}
				}
			}
		}
	}
}

// TestLongKeysInLargeSets: text keys of 16 MiB and more in an indexed
// set, next to short keys stored after them, probed with keys that share
// their length, or all their bytes but the last, or that are their
// prefixes.
func TestLongKeysInLargeSets(t *testing.T) {
	const long = 1<<24 - 1
	a := strings.Repeat("a", long+1)
	var allowed []teamperm.ID
	for i := range 6 {
		allowed = append(allowed, teamperm.IntID(int64(i+1)))
	}
	allowed = append(allowed, teamperm.StringID(a[:long]), teamperm.StringID(a), teamperm.StringID("x"), teamperm.UUIDID([16]byte{1}))
	m := mustCompile(t, keysOrg, teamperm.Settings{Member: teamperm.IntID(5), Role: teamperm.RoleAdmin, Instances: teamperm.Only(allowed...)})
	probes := []teamperm.ID{
		teamperm.StringID(a[:long-1]), teamperm.StringID(a[:long]), teamperm.StringID(a),
		teamperm.StringID(a[:long-1] + "b"), teamperm.StringID(a + "a"), teamperm.StringID(a[:long] + "b"),
		teamperm.StringID("x"), teamperm.StringID("a"), teamperm.StringID(""), teamperm.UUIDID([16]byte{1}),
	}
	for _, k := range probes {
		want := slices.Contains(allowed, k)
		r := teamperm.Record{Kind: teamperm.KindContact, Organization: keysOrg.ID, Instance: k}
		s, _ := k.Str()
		if got := m.Visible(r).Allowed(); got != want {
			t.Errorf("Visible(instance of %d bytes) = %v, want %v", len(s), got, want)
		}
		if got := m.Scope(r.Kind).Match(&r); got != want {
			t.Errorf("Scope.Match(instance of %d bytes) = %v, want %v", len(s), got, want)
		}
	}
	dup := append(slices.Clone(allowed), teamperm.StringID(a[:long]))
	if _, err := teamperm.Compile(keysOrg, teamperm.Settings{Member: teamperm.IntID(5), Role: teamperm.RoleAdmin, Instances: teamperm.Only(dup...)}); !errors.Is(err, teamperm.ErrInvalidSettings) {
		t.Errorf("a 16 MiB key listed twice: %v, want ErrInvalidSettings", err)
	}
}

// scopeIn returns the values of the first In on field in f.
func scopeIn(f teamperm.Filter, field teamperm.Field) ([]teamperm.ID, bool) {
	switch f := f.(type) {
	case teamperm.In:
		return f.Values, f.Field == field
	case teamperm.And:
		return firstIn([]teamperm.Filter(f), field)
	case teamperm.Or:
		return firstIn([]teamperm.Filter(f), field)
	}
	return nil, false
}

// firstIn is scopeIn of the first of fs that has an In on field.
func firstIn(fs []teamperm.Filter, field teamperm.Field) ([]teamperm.ID, bool) {
	for _, g := range fs {
		if v, ok := scopeIn(g, field); ok {
			return v, true
		}
	}
	return nil, false
}

// TestScopeCarriesTheList: the scope of a member restricted to a list of
// instances or pipelines (any length, any mix of key kinds) holds exactly
// the list, in the settings' order: what SQL binds and edits read back.
func TestScopeCarriesTheList(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		list := distinctKeys(t, 2, 40)
		admin := mustCompile(t, keysOrg, teamperm.Settings{Member: teamperm.IntID(5), Role: teamperm.RoleAdmin, Instances: teamperm.Only(list...)})
		if got, ok := scopeIn(admin.Scope(teamperm.KindContact).Filter(), teamperm.FieldInstance); !ok || !slices.Equal(got, list) {
			t.Fatalf("the contact scope's instances are %v, %v; want %v", got, ok, list)
		}
		rep := mustCompile(t, keysOrg, teamperm.Settings{Member: teamperm.IntID(6), Role: teamperm.RoleMember, Pipelines: teamperm.Only(list...)})
		if got, ok := scopeIn(rep.Scope(teamperm.KindDeal).Filter(), teamperm.FieldPipeline); !ok || !slices.Equal(got, list) {
			t.Fatalf("the deal scope's pipelines are %v, %v; want %v", got, ok, list)
		}
	})
}

// TestCompileAllocsOfLongLists pins how a list is kept: up to eight IDs
// are copied and scanned; above eight, integers only cost the member, its index, the index's table and
// the list; text or UUID keys the member, the index, its table, the keys'
// kinds, ends and bytes; both kinds together both tables and the
// integers' values too.
func TestCompileAllocsOfLongLists(t *testing.T) {
	for _, tt := range []struct {
		name string
		ids  func(i int) teamperm.ID
		want float64
	}{
		{"integers", func(i int) teamperm.ID { return teamperm.IntID(int64(i + 1)) }, 4},
		{"text", func(i int) teamperm.ID { return teamperm.StringID(fmt.Sprint("k", i)) }, 6},
		{"text and integers", func(i int) teamperm.ID {
			if i%2 == 0 {
				return teamperm.IntID(int64(i + 1))
			}
			return teamperm.StringID(fmt.Sprint("k", i))
		}, 8},
	} {
		for _, n := range []int{8, 9, 1000} {
			ids := make([]teamperm.ID, n)
			for i := range ids {
				ids[i] = tt.ids(i)
			}
			want := tt.want
			if n <= 8 {
				want = 2 // the member and its copy of the list, scanned
			}
			s := teamperm.Settings{Member: teamperm.IntID(5), Role: teamperm.RoleAdmin, Instances: teamperm.Only(ids...)}
			if got := testing.AllocsPerRun(20, func() { mustCompile(t, keysOrg, s) }); got != want {
				t.Errorf("%s, %d: Compile allocates %v times, want %v", tt.name, n, got, want)
			}
		}
	}
}
