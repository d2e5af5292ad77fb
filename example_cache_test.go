package teamperm_test

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/teamperm/teamperm"
)

// A request looks its member up in a Cache: loaded and compiled on the
// first request, from memory after that. The host invalidates what it
// changes (the companion module github.com/teamperm/teamperm/store does it
// for every change it commits, in every process).
func ExampleCache() {
	// The host's database: an organisation on Pro and one member's
	// stored settings, which grant contact.export.
	var mu sync.Mutex
	org := teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.PlanPro.Features(), Revision: 1}
	stored := teamperm.Settings{Member: teamperm.IntID(7), Role: teamperm.RoleMember, Revision: 1,
		Grants: teamperm.PermissionSetOf(teamperm.ContactExport)}
	loader := teamperm.LoaderFunc(func(ctx context.Context, orgID, member teamperm.ID) (teamperm.Organization, teamperm.Settings, error) {
		mu.Lock()
		defer mu.Unlock()
		if orgID != org.ID || member != stored.Member {
			return teamperm.Organization{}, teamperm.Settings{}, errors.New("no such member")
		}
		return org, stored, nil
	})

	cache := teamperm.NewCache(loader, 10_000)
	cache.CountHits(true) // for the hit count printed below; off by default
	ctx := context.Background()
	for range 3 { // three requests: one load and compile, two hits
		m, err := cache.Member(ctx, teamperm.IntID(1), teamperm.IntID(7))
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("may export:", m.Has(teamperm.ContactExport))
	}

	// A downgrade to Starter: a new revision of the organisation, and
	// the cache drops its members.
	mu.Lock()
	org = teamperm.Organization{ID: org.ID, Features: teamperm.PlanStarter.Features(), Revision: 2}
	mu.Unlock()
	cache.InvalidateOrganization(org.ID)

	// The client that changed the plan asks for at least revision 2.
	m, err := cache.MemberAtLeast(ctx, teamperm.IntID(1), teamperm.IntID(7), teamperm.Revisions{Organization: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("may export on Starter:", m.Has(teamperm.ContactExport))
	s := cache.Stats()
	fmt.Printf("%d hits, %d loads, %d compiles\n", s.Hits, s.Loads, s.Compiles)
	// Output:
	// may export: true
	// may export: true
	// may export: true
	// may export on Starter: false
	// 2 hits, 2 loads, 2 compiles
}
