package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/teamperm/teamperm"
)

// form posts a form as member, as the settings page does.
func (c client) form(member int64, path string, v url.Values) response {
	c.t.Helper()
	req := httptest.NewRequest("POST", path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if member != 0 {
		req.Header.Set("X-Member", strconv.FormatInt(member, 10))
	}
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, req)
	return response{rec.Code, rec.Body.Bytes(), rec.Header()}
}

var conversationRow = regexp.MustCompile(`<tr class="conversation"><td>(\d+)</td>`)

// inboxRows returns the conversations an inbox page lists.
func inboxRows(t *testing.T, r response) []int64 {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("inbox page: %d %s", r.status, r.body)
	}
	out := []int64{}
	for _, m := range conversationRow.FindAllSubmatch(r.body, -1) {
		n, _ := strconv.ParseInt(string(m[1]), 10, 64)
		out = append(out, n)
	}
	return out
}

func TestSignInAndOut(t *testing.T) {
	c := client{t, newHandler(newStore(t, "sqlite"))}
	for _, path := range []string{"/inbox", "/team", "/team/4", "/members/4/inbox"} {
		if r := c.do(0, "GET", path, ""); r.status != http.StatusSeeOther || r.header.Get("Location") != "/" {
			t.Errorf("GET %s signed out: %d to %q, want 303 to /", path, r.status, r.header.Get("Location"))
		}
	}
	r := c.do(0, "GET", "/", "")
	if r.status != http.StatusOK || !strings.Contains(string(r.body), "Sam Silva") || !strings.Contains(string(r.body), "Gina Grant") {
		t.Fatalf("sign-in page: %d %s", r.status, r.body)
	}
	r = c.form(0, "/session", url.Values{"member": {"4"}})
	cookie := r.header.Get("Set-Cookie")
	if r.status != http.StatusSeeOther || !strings.HasPrefix(cookie, memberCookie+"=4;") || !strings.Contains(cookie, "SameSite=Strict") {
		t.Fatalf("sign in: %d, cookie %q", r.status, cookie)
	}
	req := httptest.NewRequest("GET", "/inbox", nil)
	req.AddCookie(&http.Cookie{Name: memberCookie, Value: "4"})
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/members/4/inbox" {
		t.Errorf("GET /inbox signed in: %d to %q", rec.Code, rec.Header().Get("Location"))
	}
	if r := c.form(4, "/session/end", nil); r.status != http.StatusSeeOther || !strings.Contains(r.header.Get("Set-Cookie"), "Max-Age=0") {
		t.Errorf("sign out: %d %q", r.status, r.header.Get("Set-Cookie"))
	}
}

func TestInboxPage(t *testing.T) {
	c := client{t, newHandler(newStore(t, "sqlite"))}
	tests := []struct {
		viewer, member int64
		want           []int64
	}{
		{sam, sam, []int64{1, 2, 8}},
		{carl, carl, []int64{10, 11}},
		{olivia, sam, []int64{1, 2, 8}},
		{olivia, bruno, []int64{7, 8, 9}},
		// A viewer sees another's inbox only as far as they may see it
		// themselves: the Bloom admin sees only the Bloom part of Sam's.
		{bruno, sam, []int64{8}},
		{bruno, carl, nil},
		{adam, rita, allConvs},
	}
	for _, tt := range tests {
		got := inboxRows(t, c.do(tt.viewer, "GET", fmt.Sprintf("/members/%d/inbox", tt.member), ""))
		wantIDs(t, fmt.Sprintf("member %d's inbox as %d", tt.member, tt.viewer), got, tt.want)
	}
	r := c.do(sam, "GET", "/members/4/inbox", "")
	for _, want := range []string{`id="count-contacts"><b>14</b>`, `id="count-conversations"><b>3</b>`, `id="count-messages"><b>10</b>`, `id="count-deals"><b>12</b>`, "only assigned chats", "instances: Acme Support, Bloom"} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("Sam's inbox lacks %q", want)
		}
	}
	for _, tt := range []struct {
		viewer int64
		path   string
		want   int
	}{
		{sam, "/members/8/inbox", http.StatusForbidden}, // a member looks at a colleague's
		{olivia, "/members/101/inbox", http.StatusNotFound},
		{olivia, "/members/x/inbox", http.StatusNotFound},
		{vera, "/team/4", http.StatusForbidden},
		{olivia, "/team/101", http.StatusNotFound},
	} {
		if r := c.do(tt.viewer, "GET", tt.path, ""); r.status != tt.want {
			t.Errorf("GET %s as %d: %d, want %d", tt.path, tt.viewer, r.status, tt.want)
		}
	}
}

func TestTeamPage(t *testing.T) {
	s := newStore(t, "sqlite")
	c := client{t, newHandler(s)}
	page := func(viewer, member int64) string {
		t.Helper()
		r := c.do(viewer, "GET", fmt.Sprintf("/team/%d", member), "")
		if r.status != http.StatusOK {
			t.Fatalf("team page: %d %s", r.status, r.body)
		}
		return string(r.body)
	}

	// The owner looks at the support agent: categories in the seed's
	// order, chat.assign off and editable, only-assigned-chats on.
	body := page(olivia, sam)
	last := -1
	for c := range teamperm.Categories() {
		i := strings.Index(body, "<h2>"+c.Title()+"</h2>")
		if i < last {
			t.Errorf("category %s missing or out of the seed's order", c.Title())
		}
		last = i
	}
	for _, want := range []string{
		`<input type="checkbox" name="perm" value="chat.assign" id="perm-chat.assign"  >`,
		`<input type="checkbox" name="perm" value="chat.send" id="perm-chat.send" checked >`,
		`id="only_assigned_chats" checked >`,
		`<fieldset >`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("owner's view of Sam lacks %q", want)
		}
	}
	if strings.Contains(body, `id="upsell"`) {
		t.Error("upsell on Pro")
	}
	// The owner's own settings are locked.
	if body := page(olivia, olivia); !strings.Contains(body, "Owners have every permission") ||
		!strings.Contains(body, `id="perm-chat.assign" checked disabled>`) {
		t.Errorf("owner's page not locked")
	}
	// Sam sees his own settings, read-only.
	if body := page(sam, sam); !strings.Contains(body, `<fieldset disabled>`) || !strings.Contains(body, `id="readonly"`) {
		t.Errorf("Sam's own page is not read-only")
	}

	// Saving the form changes what Sam sees.
	form := url.Values{
		"revision":  {"1"},
		"role":      {"member"},
		"perm":      {"contact.view", "contact.create", "contact.update", "contact.import", "chat.view", "chat.send", "instance.view", "webhook.view", "campaign.view", "workflow.view"},
		"instances": {"specific"}, "instance": {"1", "2"},
		"pipelines": {"all"},
	} // only_assigned_chats unchecked: off
	r := c.form(olivia, "/team/4", form)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/team/4?saved=1" {
		t.Fatalf("save: %d %q %s", r.status, r.header.Get("Location"), r.body)
	}
	wantIDs(t, "Sam's inbox after the save", inboxRows(t, c.do(sam, "GET", "/members/4/inbox", "")), span(1, 9))
	body = page(olivia, sam)
	if !strings.Contains(body, "Olivia Owens: set only assigned chats off") {
		t.Errorf("history lacks the change")
	}

	// The same form again, from the old revision: a conflict, not a save.
	if r := c.form(olivia, "/team/4", form); r.status != http.StatusConflict {
		t.Errorf("stale form: %d, want 409", r.status)
	}
	// Grant chat.assign on the current revision.
	form.Set("revision", "2")
	form["perm"] = append(form["perm"], "chat.assign")
	if r := c.form(olivia, "/team/4", form); r.status != http.StatusSeeOther {
		t.Fatalf("grant: %d %s", r.status, r.body)
	}
	a, err := s.Account(context.Background(), sam)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Settings.Grants.Has(teamperm.ChatAssign) || a.Settings.OnlyAssignedChats || a.Settings.Revision != 3 {
		t.Errorf("stored %+v", a.Settings)
	}
	// A member cannot save; an admin cannot edit the owner.
	if r := c.form(vera, "/team/4", form); r.status != http.StatusForbidden {
		t.Errorf("member saves: %d", r.status)
	}
	before := storedSettings(t, s)
	if r := c.form(adam, "/team/1", url.Values{"revision": {"0"}, "role": {"member"}}); r.status != http.StatusSeeOther {
		t.Errorf("admin saves the owner's page: %d", r.status)
	}
	if r := c.form(adam, "/team/3", url.Values{"revision": {"1"}, "role": {"member"}}); r.status != http.StatusForbidden {
		t.Errorf("admin demotes an admin: %d", r.status)
	}
	if after := storedSettings(t, s); after != before {
		t.Errorf("settings changed:\n%s\nwant\n%s", after, before)
	}

	// On Starter: the upsell, fine-grained items locked, roles editable,
	// and a fine-grained save refused with the seed's message.
	if err := s.SetPlan(context.Background(), acme, teamperm.PlanStarter); err != nil {
		t.Fatal(err)
	}
	body = page(olivia, sam)
	for _, want := range []string{`id="upsell"`, teamperm.UpgradeMessage, `id="perm-chat.send" checked disabled>`, `id="perm-chat.assign"  disabled>`, `<span class="badge pro">Pro</span>`, `<select name="role" >`} {
		if !strings.Contains(body, want) {
			t.Errorf("Starter page lacks %q", want)
		}
	}
	if strings.Count(body, `<tr class="locked">`) != 17 {
		t.Errorf("%d locked permission rows on Starter, want 17", strings.Count(body, `<tr class="locked">`))
	}
	before = storedSettings(t, s)
	// A locked checkbox is not submitted, so the form cannot ask for a
	// fine-grained change; an API client can, and gets 402.
	if r := c.do(olivia, "POST", "/api/members/4/permissions", `[{"op":"set_only_assigned_chats","on":true}]`); r.status != http.StatusPaymentRequired {
		t.Errorf("fine-grained edit on Starter: %d", r.status)
	}
	if r := c.form(olivia, "/team/4", url.Values{"revision": {"3"}, "role": {"member"}}); r.status != http.StatusSeeOther {
		t.Errorf("saving nothing on Starter: %d", r.status)
	}
	if after := storedSettings(t, s); after != before {
		t.Errorf("settings changed on Starter:\n%s\nwant\n%s", after, before)
	}
	if r := c.form(olivia, "/team/4", url.Values{"revision": {"3"}, "role": {"admin"}}); r.status != http.StatusSeeOther {
		t.Errorf("role change on Starter: %d %s", r.status, r.body)
	}
	if a, _ := s.Account(context.Background(), sam); a.Settings.Role != teamperm.RoleAdmin {
		t.Errorf("Sam's role is %s, want admin", a.Settings.Role)
	}
}
