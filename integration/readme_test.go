package integration

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/teamperm/teamperm"
)

// TestREADMECheckingYourSchema is the README's "Checking your schema"
// snippet, verbatim between the markers, on a SQLite deals table.
func TestREADMECheckingYourSchema(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(t.TempDir(), "deals.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE deals (id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL, assignee_id INTEGER,
		created_by INTEGER, creator_kind TEXT, pipeline_id INTEGER, title TEXT NOT NULL DEFAULT '')`); err != nil {
		t.Fatal(err)
	}
	insertDeal := func(ctx context.Context, tx *sql.Tx, r teamperm.Record) (any, error) {
		if r.Organization.IsZero() {
			return nil, nil // org_id is NOT NULL: a record of no organisation cannot be stored
		}
		var ck any
		switch r.CreatorKind {
		case teamperm.CreatorMember:
			ck = "member"
		case teamperm.CreatorAutomation:
			ck = "automation"
		}
		res, err := tx.ExecContext(ctx, "INSERT INTO deals (org_id, assignee_id, created_by, creator_kind, pipeline_id) VALUES (?, ?, ?, ?, ?)",
			bind(r.Organization), bind(r.Assignee), bind(r.Creator), ck, bind(r.Pipeline))
		if err != nil {
			return nil, err
		}
		return res.LastInsertId()
	}

	// README begin
	deals := teamperm.Table{
		Kind: teamperm.KindDeal,
		From: "deals d",
		Mapping: teamperm.Mapping{
			Organization: teamperm.IntColumn("d.org_id"),
			Assignee:     teamperm.IntColumn("d.assignee_id"),
			Creator:      teamperm.IntColumn("d.created_by"),
			CreatorKind:  teamperm.Column{Name: "d.creator_kind"},
			Pipeline:     teamperm.IntColumn("d.pipeline_id"),
		},
		LegacyDeals: true, // NULL creator kinds are legacy deals, on purpose
		Key:         "d.id",
		Insert: func(ctx context.Context, tx *sql.Tx, r teamperm.Record) (any, error) {
			return insertDeal(ctx, tx, r) // your own code: models, INSERT, rows it refers to
		},
	}
	if err := teamperm.CheckSchema(ctx, db, teamperm.SQLite, deals); err != nil {
		t.Fatal(err)
	}
	if err := teamperm.CheckRows(ctx, db, teamperm.SQLite, deals); err != nil {
		t.Fatal(err)
	}
	// README end

	var n int
	if err := db.QueryRow("SELECT count(*) FROM deals").Scan(&n); err != nil || n != 0 {
		t.Errorf("CheckRows left %d rows (%v), want none: it rolls back", n, err)
	}
}
