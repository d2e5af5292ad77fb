package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/teamperm/teamperm"
)

// marker is the name the walk gives instance or pipeline id, so that an
// occurrence anywhere in a response is that name and nothing else.
func marker(what string, id int64) string { return fmt.Sprintf("zq-%s-%d-name", what, id) }

// TestPagesNameOnlyWhatTheViewerSees walks every page and JSON endpoint
// as every member, on Pro and on Starter, and fails on any instance or
// pipeline named to a member who may not see it (issue 12). What a member
// may not see comes from the member's own scopes: an instance hidden by
// Scope(KindInstance), a pipeline in which no deal is visible by
// Scope(KindDeal) (a legacy deal, which only pipeline assignments hide),
// and every instance and pipeline of another organisation.
func TestPagesNameOnlyWhatTheViewerSees(t *testing.T) {
	s := newStore(t, "sqlite")
	ctx := context.Background()
	// Names no other text contains.
	for _, table := range []string{"instances", "pipelines"} {
		rows, err := s.DB().Query("SELECT id FROM " + table)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		rows.Close()
		for _, id := range ids {
			if _, err := s.DB().Exec("UPDATE "+table+" SET name = ? WHERE id = ?", marker(table, id), id); err != nil {
				t.Fatal(err)
			}
		}
	}
	c := client{t, newHandler(s)}
	viewers := []int64{gina}
	for _, m := range team {
		viewers = append(viewers, m.id)
	}
	members := append(span(1, 9), gina)
	for _, plan := range []teamperm.Plan{teamperm.PlanPro, teamperm.PlanStarter} {
		if err := s.SetPlan(ctx, acme, plan); err != nil {
			t.Fatal(err)
		}
		for _, v := range viewers {
			a, err := s.Account(ctx, v)
			if err != nil {
				t.Fatal(err)
			}
			m, err := a.Compile()
			if err != nil {
				t.Fatal(err)
			}
			var hidden, visible []string
			instances, deals := m.Scope(teamperm.KindInstance), m.Scope(teamperm.KindDeal)
			for _, in := range []struct{ org, id int64 }{{acme, mainLine}, {acme, bloom}, {acme, atlas}, {globex, 11}} {
				r := teamperm.Record{Kind: teamperm.KindInstance, Organization: teamperm.IntID(in.org), Instance: teamperm.IntID(in.id)}
				if instances.Match(&r) {
					visible = append(visible, marker("instances", in.id))
				} else {
					hidden = append(hidden, marker("instances", in.id))
				}
			}
			for _, p := range []struct{ org, id int64 }{{acme, sales}, {acme, partnerships}, {globex, 11}} {
				r := teamperm.Record{Kind: teamperm.KindDeal, Organization: teamperm.IntID(p.org), Pipeline: teamperm.IntID(p.id)}
				if deals.Match(&r) {
					visible = append(visible, marker("pipelines", p.id))
				} else {
					hidden = append(hidden, marker("pipelines", p.id))
				}
			}
			var paths []string
			paths = append(paths, "/api/me", "/api/contacts", "/api/contacts/export", "/api/conversations", "/api/deals", "/inbox", "/team")
			for _, conv := range append(span(1, 13), 51, 9999) {
				paths = append(paths, fmt.Sprintf("/api/conversations/%d", conv), fmt.Sprintf("/api/conversations/%d/messages", conv))
			}
			for _, id := range append(members, 999) {
				paths = append(paths, fmt.Sprintf("/api/members/%d/permissions", id), fmt.Sprintf("/team/%d", id), fmt.Sprintf("/members/%d/inbox", id))
			}
			all := ""
			for _, path := range paths {
				r := c.do(v, "GET", path, "")
				body := string(r.body)
				all += body
				for _, name := range hidden {
					if strings.Contains(body, name) {
						t.Errorf("%s: member %d (%s) GET %s: %d names %s, which they may not see", plan, v, a.Name, path, r.status, name)
					}
				}
			}
			// The previews, too.
			for _, post := range []struct {
				path string
				form map[string][]string
			}{
				{"/team/4", samForm("preview")},
				{"/team/4", map[string][]string{"revision": {"1"}, "preset": {"support_agent"}, "action": {"preset_preview"}}},
				{"/plan", map[string][]string{"plan": {"starter"}, "action": {"preview"}, "back": {"4"}}},
			} {
				form := post.form
				r := c.form(v, post.path, form)
				all += string(r.body)
				for _, name := range hidden {
					if strings.Contains(string(r.body), name) {
						t.Errorf("%s: member %d (%s) POST %s %v: %d names %s, which they may not see", plan, v, a.Name, post.path, form, r.status, name)
					}
				}
			}
			// Not vacuous: what the member may see is named somewhere
			// (their own settings page lists the instances and
			// pipelines they may see).
			for _, name := range visible {
				if !strings.Contains(all, name) {
					t.Errorf("%s: member %d (%s): %s, which they may see, is named nowhere", plan, v, a.Name, name)
				}
			}
			if v == bruno && plan == teamperm.PlanPro {
				// The cases: the Bloom admin on Sam's settings and
				// in the badge of his inbox.
				for _, path := range []string{"/team/4", "/members/4/inbox"} {
					if r := c.do(v, "GET", path, ""); r.status != http.StatusOK || !strings.Contains(string(r.body), "1 other instance you cannot see") {
						t.Errorf("Bruno on %s: %d, does not count the hidden instance", path, r.status)
					}
				}
			}
		}
	}
}

// TestSaveKeepsHiddenAccess: an admin restricted to Bloom who saves a
// member's settings page, or sends set_instances, changes only the
// instances they can see; the member keeps the others.
func TestSaveKeepsHiddenAccess(t *testing.T) {
	s := newStore(t, "sqlite")
	c := client{t, newHandler(s)}
	ctx := context.Background()
	// Bruno (Bloom) narrows Bea (Bloom) to nothing he can see ...
	if r := c.do(bruno, "POST", "/api/members/5/permissions", `[{"op":"set_instances","instances":[]}]`); r.status != http.StatusOK {
		t.Fatalf("set_instances: %d %s", r.status, r.body)
	}
	if a, _ := s.Account(ctx, bea); !a.Settings.Instances.Equal(teamperm.Only()) {
		t.Errorf("Bea's instances %v, want none", a.Settings.Instances)
	}
	// ... and Sam (Acme Support, Bloom) to nothing he can see: Sam keeps
	// Acme Support, which Bruno cannot see.
	if r := c.do(bruno, "POST", "/api/members/4/permissions", `[{"op":"set_instances","instances":[]}]`); r.status != http.StatusOK {
		t.Fatalf("set_instances: %d %s", r.status, r.body)
	}
	if a, _ := s.Account(ctx, sam); !a.Settings.Instances.Equal(teamperm.Only(teamperm.IntID(mainLine))) {
		t.Errorf("Sam's instances %v, want Acme Support only", a.Settings.Instances)
	}
	// The page's form the same way: Bruno gives Bloom back.
	a, _ := s.Account(ctx, sam)
	form := map[string][]string{
		"revision": {fmt.Sprint(a.Settings.Revision)}, "role": {"member"},
		"perm":      {"contact.view", "contact.create", "contact.update", "contact.import", "chat.view", "chat.send", "instance.view", "webhook.view", "campaign.view", "workflow.view"},
		"instances": {"specific"}, "instance": {"2"}, "only_assigned_chats": {"on"}, "pipelines": {"all"},
	}
	if r := c.form(bruno, "/team/4", form); r.status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", r.status, r.body)
	}
	if a, _ := s.Account(ctx, sam); !a.Settings.Instances.Equal(teamperm.Only(teamperm.IntID(mainLine), teamperm.IntID(bloom))) {
		t.Errorf("Sam's instances %v, want Acme Support and Bloom", a.Settings.Instances)
	}
}
