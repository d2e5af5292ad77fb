package teamperm_test

import (
	"errors"
	"testing"

	"github.com/teamperm/teamperm"
)

// TestMappingRecord: AppendColumns writes the mapped columns in the order
// Record reads them; NULLs are zero IDs, a value of the wrong kind is an
// error, an unknown creator kind matches nothing.
func TestMappingRecord(t *testing.T) {
	m := teamperm.Mapping{
		Organization: teamperm.IntColumn("d.org_id"),
		Assignee:     teamperm.StringColumn("d.assignee"),
		CreatorKind:  teamperm.Column{Name: "d.ck"},
		Pipeline:     teamperm.UUIDColumn("d.pipeline"),
	}
	cols, err := m.AppendColumns([]byte("SELECT "), teamperm.MySQL)
	if got, want := string(cols), "SELECT `d`.`org_id`, `d`.`assignee`, `d`.`ck`, `d`.`pipeline`"; err != nil || got != want {
		t.Fatalf("AppendColumns = %q, %v; want %q", got, err, want)
	}
	pipe := mustUUID("00000000-0000-4000-8000-000000000007")
	rec, err := m.Record(teamperm.KindDeal, []any{int64(1), []byte("ab "), "automation", "00000000-0000-4000-8000-000000000007"})
	want := teamperm.Record{Kind: teamperm.KindDeal, Organization: teamperm.IntID(1), Assignee: teamperm.StringID("ab "), CreatorKind: teamperm.CreatorAutomation, Pipeline: pipe}
	if err != nil || rec != want {
		t.Fatalf("Record = %+v, %v; want %+v", rec, err, want)
	}
	rec, err = m.Record(teamperm.KindDeal, []any{"1", nil, "Member", nil})
	if want := (teamperm.Record{Kind: teamperm.KindDeal, Organization: teamperm.IntID(1), CreatorKind: teamperm.CreatorKind(255)}); err != nil || rec != want {
		t.Fatalf("Record with NULLs = %+v, %v; want %+v", rec, err, want)
	}
	for _, vals := range [][]any{
		{"1e1", nil, nil, nil},                                       // not an integer
		{int64(1), int64(7), nil, nil},                               // an integer for a text key
		{int64(1), nil, nil, "00000000-0000-4000-8000-00000000000A"}, // not canonical
		{int64(1)}, // too few values
	} {
		if _, err := m.Record(teamperm.KindDeal, vals); !errors.Is(err, teamperm.ErrInvalidMapping) {
			t.Errorf("Record(%v) = %v, want ErrInvalidMapping", vals, err)
		}
	}
	if _, err := (teamperm.Mapping{Organization: teamperm.IntColumn("a b")}).AppendColumns(nil, teamperm.SQLite); !errors.Is(err, teamperm.ErrInvalidMapping) {
		t.Errorf("AppendColumns with a bad name: %v", err)
	}
}
