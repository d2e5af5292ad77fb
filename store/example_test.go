package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/teamperm/teamperm"
	"github.com/teamperm/teamperm/store"
)

// The store keeps organisations, settings and their change log in the
// host's database (here SQLite), loads members for a Cache and keeps it
// current: every change it commits drops what it changed. Edits are
// decided on a revision; a batch decided on an older one is refused.
func Example() {
	dir, _ := os.MkdirTemp("", "teamperm-store-")
	defer os.RemoveAll(dir)
	ctx := context.Background()

	s, err := store.OpenSQLite(ctx, filepath.Join(dir, "app.db"), store.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	cache := teamperm.NewCache(s, 10_000) // the store loads members
	s.Subscribe(cache)                    // and drops what it changes

	org, owner, agent := teamperm.IntID(1), teamperm.IntID(10), teamperm.IntID(42)
	s.CreateOrganization(ctx, org, teamperm.PlanPro)
	s.AddMember(ctx, org, teamperm.Settings{Member: owner, Role: teamperm.RoleOwner}, teamperm.ID{})
	s.AddMember(ctx, org, teamperm.Settings{Member: agent, Role: teamperm.RoleMember,
		Grants: teamperm.PermissionSetOf(teamperm.ContactExport)}, owner)

	m, _ := cache.Member(ctx, org, agent)
	fmt.Println("may export:", m.Has(teamperm.ContactExport), "at revision", m.Revision())

	// The owner revokes the export, decided on revision 0.
	actor, _ := cache.Member(ctx, org, owner)
	c, err := s.ApplyEdits(ctx, actor, agent, 0, teamperm.Deny{Permission: teamperm.ContactExport})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Edits, "-> revision", c.After.Revision)
	m, _ = cache.Member(ctx, org, agent)
	fmt.Println("may export:", m.Has(teamperm.ContactExport), "at revision", m.Revision())

	// Another admin's batch, decided on revision 0 too: refused.
	_, err = s.ApplyEdits(ctx, actor, agent, 0, teamperm.Grant{Permission: teamperm.ContactExport})
	fmt.Println("stale batch refused:", errors.Is(err, store.ErrConflict))
	fmt.Println("log replays to the stored state:", s.Verify(ctx, org) == nil)
	// Output:
	// may export: true at revision 0
	// [deny contact.export] -> revision 1
	// may export: false at revision 1
	// stale batch refused: true
	// log replays to the stored state: true
}
