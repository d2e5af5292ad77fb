package store

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/teamperm/teamperm"
)

// told records invalidations as text.
type told []string

func (t *told) InvalidateMember(org, member teamperm.ID) {
	*t = append(*t, fmt.Sprintf("member %v %v", org, member))
}
func (t *told) InvalidateOrganization(org teamperm.ID) {
	*t = append(*t, fmt.Sprintf("organization %v", org))
}
func (t *told) InvalidateAll() { *t = append(*t, "all") }

// payload is what append notifies for a change.
func payload(t testing.TB, org, member teamperm.ID, kind Kind) string {
	ok, err := key("organization", org)
	if err != nil {
		t.Fatal(err)
	}
	mk, err := nullKey("member", member)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(notification{Org: ok, Member: mk, Kind: kind, Revision: 3})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestNotificationRoundTrip(t *testing.T) {
	u, _ := teamperm.ParseUUID("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
	for _, tc := range []struct {
		org, member teamperm.ID
		kind        Kind
		want        string
	}{
		{teamperm.IntID(1), teamperm.IntID(7), KindEdits, "member 1 7"},
		{teamperm.StringID(`a"b`), teamperm.StringID("ünï"), KindMember, `member "a\"b" "ünï"`},
		{u, u, KindEdits, "member " + u.String() + " " + u.String()},
		{teamperm.IntID(1), teamperm.ID{}, KindPlan, "organization 1"},
		{teamperm.IntID(1), teamperm.ID{}, KindOrganization, "organization 1"},
	} {
		var got told
		apply(&got, payload(t, tc.org, tc.member, tc.kind))
		if len(got) != 1 || got[0] != tc.want {
			t.Errorf("%v %v %s: told %q, want %q", tc.org, tc.member, tc.kind, got, tc.want)
		}
	}
}

// FuzzNotification: whatever a notification's payload, reading it never
// panics and always invalidates something (a payload it cannot read drops
// everything: fail closed).
func FuzzNotification(f *testing.F) {
	f.Add(payload(f, teamperm.IntID(1), teamperm.IntID(7), KindEdits))
	f.Add(payload(f, teamperm.StringID("acme"), teamperm.ID{}, KindPlan))
	f.Add(`{"org":"","kind":"edits"}`)
	f.Add(`{"org":"1","member":"{\"uuid\":\"x\"}","kind":"edits"}`)
	f.Add(`not json`)
	f.Fuzz(func(t *testing.T, p string) {
		var got told
		apply(&got, p)
		if len(got) != 1 {
			t.Fatalf("payload %q: told %q, want exactly one invalidation", p, got)
		}
	})
}
