package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/teamperm/teamperm"
	"github.com/teamperm/teamperm/teamhttp"
)

// The seed's team, in order, with the names the subtests use.
var team = []struct {
	id   int64
	name string
}{
	{olivia, "owner"},
	{adam, "admin"},
	{bruno, "brand_admin"},
	{sam, "support_agent"},
	{bea, "multi_brand_manager"},
	{mark, "marketing"},
	{vera, "view_only_supervisor"},
	{carl, "external_contractor"},
	{rita, "sales_rep"},
}

// span returns the keys from a to b.
func span(a, b int64) []int64 {
	var out []int64
	for i := a; i <= b; i++ {
		out = append(out, i)
	}
	return out
}

// keys returns the keys of the spans, sorted, each once.
func keys(spans ...[]int64) []int64 {
	out := slices.Concat(spans...)
	slices.Sort(out)
	return slices.Compact(out)
}

// The seed's rows by where they are (see seed.go).
var (
	// Contacts by the instances they wrote to (R19): 2 and 11 wrote to
	// Acme Support and Bloom, 14 to Atlas and Acme Support.
	contactsMain  = []int64{1, 2, 3, 4, 5, 6, 7, 8, 11, 14}
	contactsBloom = []int64{2, 9, 10, 11, 12, 13}
	contactsAtlas = []int64{14, 15, 16}
	allContacts   = span(1, 16)
	allConvs      = span(1, 13)
	allDeals      = span(1, 12)

	// The messages of each conversation.
	messagesOf = map[int64][]int64{
		1: span(1, 4), 2: span(5, 7), 3: span(8, 9), 4: {10}, 5: span(11, 12), 6: span(13, 14),
		7: span(15, 17), 8: span(18, 20), 9: {21}, 10: span(22, 25), 11: span(26, 27), 12: {28}, 13: {29},
		51: span(30, 31),
	}
)

// What each member sees and whether they may export, written from the
// seed's descriptions of the setups, not computed by teamperm.
var views = map[int64]struct {
	contacts, conversations, deals []int64
	export                         int
}{
	olivia: {allContacts, allConvs, allDeals, http.StatusOK},
	adam:   {allContacts, allConvs, allDeals, http.StatusOK},
	// Bloom's instance only (with 2 and 11, on Bloom and Acme Support:
	// R19); deals are not instance-bound; an admin exports.
	bruno: {contactsBloom, []int64{7, 8, 9}, allDeals, http.StatusOK},
	// Assigned conversations on the allowed instances (Acme Support,
	// Bloom): not 13, assigned to Sam on Atlas; contacts are not limited by
	// assignment, only by instance (14 is on Atlas and Acme Support, so he
	// sees it). Members do not export.
	sam: {keys(contactsMain, contactsBloom), []int64{1, 2, 8}, allDeals, http.StatusForbidden},
	// Bloom only, with "all relevant permissions": may export.
	bea:  {contactsBloom, []int64{7, 8, 9}, allDeals, http.StatusOK},
	mark: {allContacts, allConvs, allDeals, http.StatusForbidden},
	// Reviews all conversations.
	vera: {allContacts, allConvs, allDeals, http.StatusForbidden},
	// Atlas only (14 also on Acme Support: still his), assigned
	// conversations only: not 5 (assigned to Carl on the main line), not
	// 12 (unassigned). No export.
	carl: {contactsAtlas, []int64{10, 11}, allDeals, http.StatusForbidden},
	// Own deals (1, 2), automation-created and assigned to Rita (4),
	// legacy (7), in the Sales pipeline only: not 3 and 6 (Partnerships),
	// 8 (legacy, Partnerships), 11 (legacy, no pipeline), 5 and 12
	// (automation, not Rita's), 9 and 10 (colleagues').
	rita: {allContacts, allConvs, []int64{1, 2, 4, 7}, http.StatusForbidden},
}

// notFoundBody is teamhttp's one answer for a missing record, and for a
// hidden one (R8).
var notFoundBody = func() string {
	rec := httptest.NewRecorder()
	teamhttp.NotFound(rec)
	return rec.Body.String()
}()

// wantForbidden checks that r is teamhttp's 403 problem for permission p.
func wantForbidden(t *testing.T, what string, r response, p teamperm.Permission) {
	t.Helper()
	var pr teamhttp.Problem
	if err := json.Unmarshal(r.body, &pr); err != nil || r.status != http.StatusForbidden ||
		r.header.Get("Content-Type") != "application/problem+json" || pr.Code != teamperm.CodeForbidden || pr.Permission != p.String() {
		t.Errorf("%s: %d %s %s, want the 403 problem for %s", what, r.status, r.header.Get("Content-Type"), r.body, p)
	}
}

// ids decodes a JSON array of objects with an "id".
func ids(t *testing.T, r response) []int64 {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var rows []struct{ ID int64 }
	if err := json.Unmarshal(r.body, &rows); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
	out := []int64{}
	for _, row := range rows {
		out = append(out, row.ID)
	}
	return out
}

func wantIDs(t *testing.T, what string, got, want []int64) {
	t.Helper()
	if want == nil {
		want = []int64{}
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

func TestListsAsEachMember(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *SQLStore) {
		c := client{t, newHandler(s)}
		for _, m := range team {
			t.Run(m.name, func(t *testing.T) {
				want := views[m.id]
				wantIDs(t, "GET /api/contacts", ids(t, c.do(m.id, "GET", "/api/contacts", "")), want.contacts)
				wantIDs(t, "GET /api/conversations", ids(t, c.do(m.id, "GET", "/api/conversations", "")), want.conversations)
				wantIDs(t, "GET /api/deals", ids(t, c.do(m.id, "GET", "/api/deals", "")), want.deals)

				r := c.do(m.id, "GET", "/api/contacts/export", "")
				if r.status != want.export {
					t.Fatalf("GET /api/contacts/export: status %d, want %d: %s", r.status, want.export, r.body)
				}
				if r.status == http.StatusOK {
					wantIDs(t, "export", csvIDs(t, r.body), want.contacts)
				} else {
					wantForbidden(t, "export", r, teamperm.ContactExport)
				}

				// Each conversation, and its messages: visible ones exactly,
				// hidden ones as missing (another organisation's, and one
				// that does not exist, too).
				for _, conv := range append(span(1, 13), 51, 9999) {
					visible := slices.Contains(want.conversations, conv)
					r := c.do(m.id, "GET", fmt.Sprintf("/api/conversations/%d", conv), "")
					msgs := c.do(m.id, "GET", fmt.Sprintf("/api/conversations/%d/messages", conv), "")
					if visible {
						if r.status != http.StatusOK {
							t.Errorf("GET conversation %d: status %d, want 200", conv, r.status)
						}
						wantIDs(t, fmt.Sprintf("messages of %d", conv), ids(t, msgs), messagesOf[conv])
						continue
					}
					for _, r := range []response{r, msgs} {
						if r.status != http.StatusNotFound || string(r.body) != notFoundBody {
							t.Errorf("hidden conversation %d: %d %s, want 404 %s", conv, r.status, r.body, notFoundBody)
						}
					}
				}
				checkScopes(t, s, m.id)
			})
		}

		// On Starter, every member has the role defaults and sees all.
		if err := s.SetPlan(context.Background(), acme, teamperm.PlanStarter); err != nil {
			t.Fatal(err)
		}
		for _, m := range team {
			wantIDs(t, m.name+" on Starter: conversations", ids(t, c.do(m.id, "GET", "/api/conversations", "")), allConvs)
			wantIDs(t, m.name+" on Starter: deals", ids(t, c.do(m.id, "GET", "/api/deals", "")), allDeals)
			checkScopes(t, s, m.id)
		}
	})
}

// checkScopes proves each list query's mapping right for the member with
// teamperm.CheckScope: the scoped query returns exactly the rows that
// Member.Visible admits, over the whole table.
func checkScopes(t *testing.T, s *SQLStore, member int64) {
	t.Helper()
	ctx := context.Background()
	a, err := s.Account(ctx, member)
	if err != nil {
		t.Fatal(err)
	}
	m, err := a.Compile()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []teamperm.Kind{teamperm.KindContact, teamperm.KindConversation, teamperm.KindMessage, teamperm.KindDeal} {
		l := lists[k]
		if err := teamperm.CheckScope(ctx, s.DB(), s.Dialect(), l.from, l.mapping, m, k); err != nil {
			t.Errorf("CheckScope(%s, %s): %v", a.Name, k, err)
		}
	}
}

func csvIDs(t *testing.T, body []byte) []int64 {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 || strings.Join(rows[0], ",") != "id,instance_ids,name,phone" {
		t.Fatalf("export header: %q", rows)
	}
	out := []int64{}
	for _, row := range rows[1:] {
		n, err := strconv.ParseInt(row[0], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

func TestSendAsEachMember(t *testing.T) {
	tests := []struct {
		member  int64
		conv    int64 // a conversation the member sees
		want    int
		hiddens []int64 // conversations the member does not see
	}{
		{olivia, 4, http.StatusCreated, []int64{51}},
		{adam, 3, http.StatusCreated, []int64{51}},
		{bruno, 9, http.StatusCreated, []int64{1, 10, 51}},
		{sam, 1, http.StatusCreated, []int64{4, 13, 51}}, // 4 unassigned, 13 on Atlas
		{bea, 7, http.StatusCreated, []int64{1, 51}},
		{mark, 6, http.StatusCreated, []int64{51}},
		{vera, 6, http.StatusForbidden, []int64{51}}, // monitors, never messages customers
		{carl, 10, http.StatusCreated, []int64{5, 12, 51}},
		{rita, 2, http.StatusCreated, []int64{51}},
	}
	forEachEngine(t, func(t *testing.T, s *SQLStore) {
		c := client{t, newHandler(s)}
		for _, tt := range tests {
			before := rowCount(t, s, "messages")
			path := fmt.Sprintf("/api/conversations/%d/messages", tt.conv)
			r := c.do(tt.member, "POST", path, `{"body":"Thanks for your patience!"}`)
			if r.status != tt.want {
				t.Fatalf("member %d sends into %d: status %d, want %d: %s", tt.member, tt.conv, r.status, tt.want, r.body)
			}
			switch r.status {
			case http.StatusCreated:
				var msg Message
				if err := json.Unmarshal(r.body, &msg); err != nil {
					t.Fatal(err)
				}
				if msg.Author != ref(tt.member) || msg.Conversation != tt.conv || !msg.SentAt.Equal(testNow) {
					t.Errorf("sent %+v", msg)
				}
				got := ids(t, c.do(tt.member, "GET", path, ""))
				wantIDs(t, "messages after sending", got, append(slices.Clone(messagesOf[tt.conv]), msg.ID))
			case http.StatusForbidden:
				wantForbidden(t, "send", r, teamperm.ChatSend)
			}
			for _, h := range tt.hiddens {
				r := c.do(tt.member, "POST", fmt.Sprintf("/api/conversations/%d/messages", h), `{"body":"hello?"}`)
				if r.status != http.StatusNotFound || string(r.body) != notFoundBody {
					t.Errorf("member %d sends into hidden %d: %d %s, want 404", tt.member, h, r.status, r.body)
				}
			}
			wantDelta := 0
			if tt.want == http.StatusCreated {
				wantDelta = 1
			}
			if got := rowCount(t, s, "messages") - before; got != wantDelta {
				t.Errorf("member %d: %d messages stored, want %d", tt.member, got, wantDelta)
			}
		}
		for _, body := range []string{`{"body":"  "}`, `{"text":"hi"}`, `not json`} {
			if r := c.do(olivia, "POST", "/api/conversations/1/messages", body); r.status != http.StatusBadRequest {
				t.Errorf("sending %s: status %d, want 400", body, r.status)
			}
		}
	})
}

func TestAssignAsEachMember(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *SQLStore) {
		c := client{t, newHandler(s)}
		steps := []struct {
			member, conv int64
			assignee     string // JSON
			want         int
		}{
			{olivia, 4, "4", http.StatusOK}, // to Sam
			{adam, 6, "2", http.StatusOK},
			{bruno, 9, "5", http.StatusOK},
			{sam, 1, "4", http.StatusForbidden}, // agents cannot reassign
			{bea, 7, "4", http.StatusOK},        // to Sam, who has Bloom
			{mark, 3, "6", http.StatusForbidden},
			{vera, 3, "4", http.StatusOK}, // the supervisor distributes work
			{carl, 10, "8", http.StatusForbidden},
			{rita, 2, "9", http.StatusForbidden},
			// Hidden conversations are missing, whatever the permission.
			{sam, 13, "4", http.StatusNotFound}, // assigned to Sam, on Atlas
			{carl, 12, "8", http.StatusNotFound},
			{bruno, 1, "3", http.StatusNotFound},
			{vera, 51, "7", http.StatusNotFound},
			{olivia, 9999, "4", http.StatusNotFound},
			// The assignee must be a team member who can see it.
			{olivia, 10, "4", http.StatusUnprocessableEntity},  // Sam is not on Atlas
			{vera, 5, "8", http.StatusUnprocessableEntity},     // nor Carl on the main line
			{olivia, 1, "101", http.StatusUnprocessableEntity}, // Globex's owner
			{olivia, 1, "999", http.StatusUnprocessableEntity}, // nobody
			{olivia, 2, `"x"`, http.StatusBadRequest},          // not a key
			{olivia, 2, "null", http.StatusOK},                 // unassign
		}
		for _, st := range steps {
			r := c.do(st.member, "POST", fmt.Sprintf("/api/conversations/%d/assign", st.conv), `{"assignee":`+st.assignee+`}`)
			if r.status != st.want {
				t.Fatalf("member %d assigns %d to %s: status %d, want %d: %s", st.member, st.conv, st.assignee, r.status, st.want, r.body)
			}
			if r.status == http.StatusNotFound && string(r.body) != notFoundBody {
				t.Errorf("404 body %s", r.body)
			}
		}
		// Sam's inbox now: his own 1 and 8, and 3, 4 and 7 given to him;
		// not 2 (unassigned), not 13 (Atlas).
		wantIDs(t, "Sam's conversations", ids(t, c.do(sam, "GET", "/api/conversations", "")), []int64{1, 3, 4, 7, 8})
		wantIDs(t, "Carl's conversations", ids(t, c.do(carl, "GET", "/api/conversations", "")), []int64{10, 11})
	})
}

// TestHiddenLooksMissing: a hidden record answers exactly as a missing
// one, on every route that names a conversation (R8).
func TestHiddenLooksMissing(t *testing.T) {
	s := newStore(t, "sqlite")
	c := client{t, newHandler(s)}
	routes := []struct{ method, path, body string }{
		{"GET", "/api/conversations/%s", ""},
		{"GET", "/api/conversations/%s/messages", ""},
		{"POST", "/api/conversations/%s/messages", `{"body":"hi"}`},
		{"POST", "/api/conversations/%s/assign", `{"assignee":4}`},
	}
	for _, rt := range routes {
		var first response
		// 13: Sam's, on Atlas, hidden; 4: unassigned, hidden; 51: Globex's;
		// 9999: none; abc: not even a key.
		for i, id := range []string{"13", "4", "51", "9999", "abc"} {
			r := c.do(sam, rt.method, fmt.Sprintf(rt.path, id), rt.body)
			if i == 0 {
				first = r
				if r.status != http.StatusNotFound {
					t.Fatalf("%s %s: status %d", rt.method, fmt.Sprintf(rt.path, id), r.status)
				}
				continue
			}
			if r.status != first.status || !bytes.Equal(r.body, first.body) || r.header.Get("Content-Type") != first.header.Get("Content-Type") {
				t.Errorf("%s %s answers %d %q, unlike a hidden conversation's %d %q", rt.method, fmt.Sprintf(rt.path, id), r.status, r.body, first.status, first.body)
			}
		}
	}
}

func TestUnknownMemberFailsClosed(t *testing.T) {
	s := newStore(t, "sqlite")
	h := newHandler(s)
	routes := []struct{ method, path string }{
		{"GET", "/api/me"}, {"GET", "/api/contacts"}, {"GET", "/api/contacts/export"},
		{"GET", "/api/conversations"}, {"GET", "/api/conversations/1"}, {"GET", "/api/conversations/1/messages"},
		{"POST", "/api/conversations/1/messages"}, {"POST", "/api/conversations/1/assign"}, {"GET", "/api/deals"},
		{"GET", "/api/members/4/permissions"}, {"POST", "/api/members/4/permissions"},
	}
	for _, rt := range routes {
		for _, member := range []string{"", "abc", "0", "-4", "999", "4 ", "04x"} {
			req := httptest.NewRequest(rt.method, rt.path, strings.NewReader(`{}`))
			if member != "" {
				req.Header.Set("X-Member", member)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("%s %s as %q: status %d, want 401", rt.method, rt.path, member, rec.Code)
			}
		}
	}
	if n := rowCount(t, s, "messages"); n != 31 {
		t.Errorf("%d messages, want the seed's 31", n)
	}
}

// rowCount counts a table's rows, all organisations'.
func rowCount(t *testing.T, s *SQLStore, table string) int {
	t.Helper()
	var n int
	if err := s.DB().QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// storedSettings returns every member's stored settings JSON and the
// change log's size: what a refused edit must leave alone.
func storedSettings(t *testing.T, s *SQLStore) string {
	t.Helper()
	rows, err := s.DB().Query("SELECT org, member, settings, revision FROM teamperm_members ORDER BY org, member")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var (
			org, member, settings string
			rev                   int64
		)
		if err := rows.Scan(&org, &member, &settings, &rev); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %s %d %s\n", org, member, rev, settings)
	}
	fmt.Fprintf(&b, "log %d\n", rowCount(t, s, "teamperm_changes"))
	return b.String()
}

func TestRefusedEditsChangeNothing(t *testing.T) {
	tests := []struct {
		name          string
		actor, target int64
		edits         string
		want          int
		wantErr       string
	}{
		{"member edits themselves", sam, sam, `[{"op":"grant","permission":"chat.assign"}]`, http.StatusForbidden, "edit not allowed"},
		{"member edits a colleague", vera, sam, `[{"op":"deny","permission":"chat.send"}]`, http.StatusForbidden, "only owners and admins edit"},
		{"admin edits the owner", adam, olivia, `[{"op":"deny","permission":"chat.send"}]`, http.StatusForbidden, "owners cannot be edited"},
		{"admin edits an admin", adam, bruno, `[{"op":"set_instances","instances":"all"}]`, http.StatusForbidden, "only owners edit admins"},
		{"admin makes an admin", adam, sam, `[{"op":"set_role","role":"admin"}]`, http.StatusForbidden, "only an owner makes owners and admins"},
		{"brand admin gives every instance", bruno, bea, `[{"op":"set_instances","instances":"all"}]`, http.StatusForbidden, "cannot let 5 see contact records it cannot see itself"},
		{"brand admin gives another brand", bruno, bea, `[{"op":"set_instances","instances":[1]}]`, http.StatusForbidden, "cannot let 5 see contact records it cannot see itself"},
		{"all or nothing", bruno, bea, `[{"op":"set_only_assigned_chats","on":true},{"op":"set_instances","instances":"all"}]`, http.StatusForbidden, "edit not allowed"},
		// Access as a whole (R16): Bruno sees Bloom only.
		{"brand admin widens chats in an instance it cannot see", bruno, carl, `[{"op":"set_only_assigned_chats","on":false}]`, http.StatusForbidden, "cannot let 8 see conversation records it cannot see itself"},
		{"brand admin grants export to a member of other instances", bruno, sam, `[{"op":"grant","permission":"contact.export"}]`, http.StatusForbidden, "cannot give 4 contact.export on contact records it cannot see itself"},
		{"unknown permission", olivia, sam, `[{"op":"grant","permission":"chat.fly"}]`, http.StatusBadRequest, "unknown permission"},
		{"not an array", olivia, sam, `{"op":"grant","permission":"chat.assign"}`, http.StatusBadRequest, "invalid settings"},
		{"no edits", olivia, sam, `[]`, http.StatusBadRequest, "no edit"},
		{"another organisation's member", olivia, gina, `[{"op":"grant","permission":"chat.assign"}]`, http.StatusNotFound, notFoundBody},
		{"no such member", olivia, 999, `[{"op":"grant","permission":"chat.assign"}]`, http.StatusNotFound, notFoundBody},
	}
	forEachEngine(t, func(t *testing.T, s *SQLStore) {
		c := client{t, newHandler(s)}
		samSees := ids(t, c.do(sam, "GET", "/api/conversations", ""))
		carlSees := ids(t, c.do(carl, "GET", "/api/conversations", ""))
		samExports := c.do(sam, "GET", "/api/contacts/export", "").status
		for _, tt := range tests {
			before := storedSettings(t, s)
			r := c.do(tt.actor, "POST", fmt.Sprintf("/api/members/%d/permissions", tt.target), tt.edits)
			if r.status != tt.want || !strings.Contains(string(r.body), tt.wantErr) {
				t.Errorf("%s: %d %s, want %d with %q", tt.name, r.status, r.body, tt.want, tt.wantErr)
			}
			if after := storedSettings(t, s); after != before {
				t.Errorf("%s: stored settings changed:\n%s\nwant\n%s", tt.name, after, before)
			}
		}
		wantIDs(t, "Sam's conversations after refused edits", ids(t, c.do(sam, "GET", "/api/conversations", "")), samSees)
		wantIDs(t, "Carl's conversations after refused edits", ids(t, c.do(carl, "GET", "/api/conversations", "")), carlSees)
		if got := c.do(sam, "GET", "/api/contacts/export", "").status; got != samExports || got != http.StatusForbidden {
			t.Errorf("Sam's export after refused edits: %d, want %d (403)", got, samExports)
		}
		// What Bruno could do before is still refused to him: Carl's
		// conversations on Atlas are hidden from Bruno.
		for _, conv := range carlSees {
			if r := c.do(bruno, "GET", fmt.Sprintf("/api/conversations/%d", conv), ""); r.status != http.StatusNotFound {
				t.Errorf("Bruno sees Carl's conversation %d: %d", conv, r.status)
			}
		}

		// An admin cannot grant what it does not hold: once the owner has
		// denied Adam contact.export, Adam cannot give it to Sam.
		if r := c.do(olivia, "POST", "/api/members/2/permissions", `[{"op":"deny","permission":"contact.export"}]`); r.status != http.StatusOK {
			t.Fatalf("owner denies the admin export: %d %s", r.status, r.body)
		}
		before := storedSettings(t, s)
		if r := c.do(adam, "POST", "/api/members/4/permissions", `[{"op":"grant","permission":"contact.export"}]`); r.status != http.StatusForbidden {
			t.Errorf("admin grants what it lacks: %d %s, want 403", r.status, r.body)
		}
		if after := storedSettings(t, s); after != before {
			t.Errorf("stored settings changed:\n%s\nwant\n%s", after, before)
		}
		if r := c.do(sam, "GET", "/api/contacts/export", ""); r.status != http.StatusForbidden {
			t.Errorf("Sam exports: %d", r.status)
		}

		// On Starter a fine-grained edit needs Pro (402, the seed's
		// message); a role change works on every plan.
		if err := s.SetPlan(context.Background(), acme, teamperm.PlanStarter); err != nil {
			t.Fatal(err)
		}
		before = storedSettings(t, s)
		r := c.do(olivia, "POST", "/api/members/4/permissions", `[{"op":"grant","permission":"chat.assign"}]`)
		if r.status != http.StatusPaymentRequired || !strings.Contains(string(r.body), teamperm.UpgradeMessage) {
			t.Errorf("fine-grained edit on Starter: %d %s, want 402 with %q", r.status, r.body, teamperm.UpgradeMessage)
		}
		if after := storedSettings(t, s); after != before {
			t.Errorf("stored settings changed:\n%s\nwant\n%s", after, before)
		}
		if r := c.do(olivia, "POST", "/api/members/4/permissions", `[{"op":"set_role","role":"admin"}]`); r.status != http.StatusOK {
			t.Errorf("role change on Starter: %d %s, want 200", r.status, r.body)
		}
		if r := c.do(sam, "GET", "/api/contacts/export", ""); r.status != http.StatusOK {
			t.Errorf("Sam, an admin now, exports: %d, want 200", r.status)
		}
	})
}

func TestAllowedEditChangesWhatTheMemberSees(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *SQLStore) {
		c := client{t, newHandler(s)}
		audit := rowCount(t, s, "teamperm_changes")

		// The owner lets the support agent see every chat of the agent's
		// instances.
		r := c.do(olivia, "POST", "/api/members/4/permissions", `[{"op":"set_only_assigned_chats","on":false}]`)
		if r.status != http.StatusOK {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		var res struct {
			Settings json.RawMessage
			Change   json.RawMessage
		}
		if err := json.Unmarshal(r.body, &res); err != nil {
			t.Fatal(err)
		}
		var got teamperm.Settings
		if err := got.UnmarshalJSON(res.Settings); err != nil {
			t.Fatal(err)
		}
		if got.OnlyAssignedChats || got.Revision != 2 {
			t.Errorf("new settings %s", res.Settings)
		}
		// Stored as answered, with the change in the log.
		var stored string
		if err := s.DB().QueryRow("SELECT settings FROM teamperm_members WHERE member = '4'").Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if stored != string(res.Settings) {
			t.Errorf("stored %s, answered %s", stored, res.Settings)
		}
		if n := rowCount(t, s, "teamperm_changes"); n != audit+1 {
			t.Errorf("%d log entries, want %d", n, audit+1)
		}
		log, err := s.Changes(context.Background(), acme, sam)
		if err != nil {
			t.Fatal(err)
		}
		if e := log[len(log)-1]; e.Actor != teamperm.IntID(olivia) || !e.At.Equal(testNow) || fmt.Sprint(e.Edits) != "[set only assigned chats off]" || e.Before.Revision != 1 || e.After.Revision != 2 {
			t.Errorf("log entry %+v", e)
		}
		if !strings.Contains(string(res.Change), `"actor":1,"target":4,"at":"2026-03-09T12:00:00Z","edits":[{"op":"set_only_assigned_chats","on":false}],"changed":["only_assigned_chats"]`) {
			t.Errorf("answered change %s", res.Change)
		}
		// Sam now sees every conversation of Acme Support and Bloom.
		wantIDs(t, "Sam's conversations", ids(t, c.do(sam, "GET", "/api/conversations", "")), span(1, 9))
		wantIDs(t, "Sam's messages of 4", ids(t, c.do(sam, "GET", "/api/conversations/4/messages", "")), messagesOf[4])
		checkScopes(t, s, sam)

		// Granted chat.assign, he may assign.
		if r := c.do(sam, "POST", "/api/conversations/4/assign", `{"assignee":4}`); r.status != http.StatusForbidden {
			t.Errorf("assign before the grant: %d", r.status)
		}
		if r := c.do(olivia, "POST", "/api/members/4/permissions", `[{"op":"grant","permission":"chat.assign"}]`); r.status != http.StatusOK {
			t.Fatalf("grant: %d %s", r.status, r.body)
		}
		if r := c.do(sam, "POST", "/api/conversations/4/assign", `{"assignee":4}`); r.status != http.StatusOK {
			t.Errorf("assign after the grant: %d %s", r.status, r.body)
		}

		// The brand admin narrows the brand manager to her own chats.
		if r := c.do(bruno, "POST", "/api/members/5/permissions", `[{"op":"set_only_assigned_chats","on":true}]`); r.status != http.StatusOK {
			t.Fatalf("brand admin edits brand manager: %d %s", r.status, r.body)
		}
		wantIDs(t, "Bea's conversations", ids(t, c.do(bea, "GET", "/api/conversations", "")), []int64{7})
		checkScopes(t, s, bea)

		// The matrix shows the grant; Sam may read his own, Vera not his.
		r = c.do(sam, "GET", "/api/members/4/permissions", "")
		if r.status != http.StatusOK {
			t.Fatalf("matrix: %d %s", r.status, r.body)
		}
		// teamperm.Matrix marshals but does not unmarshal (Reason has no
		// UnmarshalText): read the fields the test needs.
		var x struct {
			Revision   uint64
			Categories []struct {
				Permissions []struct {
					Permission string
					Override   string
					Effective  bool
				}
			}
		}
		if err := json.Unmarshal(r.body, &x); err != nil {
			t.Fatal(err)
		}
		if p := x.Categories[1].Permissions[2]; p.Permission != "chat.assign" || !p.Effective || p.Override != "grant" || x.Revision != 3 {
			t.Errorf("matrix: %+v, revision %d", p, x.Revision)
		}
		if r := c.do(vera, "GET", "/api/members/4/permissions", ""); r.status != http.StatusForbidden {
			t.Errorf("a member reads a colleague's matrix: %d", r.status)
		}
		if r := c.do(adam, "GET", "/api/members/4/permissions", ""); r.status != http.StatusOK {
			t.Errorf("an admin reads a member's matrix: %d", r.status)
		}
		if r := c.do(adam, "GET", "/api/members/101/permissions", ""); r.status != http.StatusNotFound {
			t.Errorf("an admin reads another organisation's member: %d", r.status)
		}
	})
}

func TestEditConflict(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *SQLStore) {
		ctx := context.Background()
		owner, err := s.Account(ctx, olivia)
		if err != nil {
			t.Fatal(err)
		}
		om, err := owner.Compile()
		if err != nil {
			t.Fatal(err)
		}
		agent, err := s.Account(ctx, sam)
		if err != nil {
			t.Fatal(err)
		}
		// Two edits from the same stored revision: the second loses.
		if _, err := s.ApplyEdits(ctx, om, sam, agent.Settings.Revision, teamperm.Grant{Permission: teamperm.ChatAssign}); err != nil {
			t.Fatal(err)
		}
		before := storedSettings(t, s)
		if _, err := s.ApplyEdits(ctx, om, sam, agent.Settings.Revision, teamperm.Deny{Permission: teamperm.ChatSend}); !errors.Is(err, errConflict) {
			t.Errorf("second edit: %v, want errConflict", err)
		}
		if after := storedSettings(t, s); after != before {
			t.Errorf("the lost edit changed something:\n%s\nwant\n%s", after, before)
		}
		if err := s.tp.Verify(ctx, teamperm.IntID(acme)); err != nil {
			t.Errorf("the change log does not replay to the stored settings: %v", err)
		}
	})
}

// TestEditIfMatch: the JSON edit endpoint applies edits only to the
// revision the client names in If-Match (the ETag it read), never to a
// newer one.
func TestEditIfMatch(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *SQLStore) {
		c := client{t, newHandler(s)}
		ifMatch := func(v string) http.Header { return http.Header{"If-Match": {v}} }
		r := c.do(olivia, "GET", "/api/members/4/permissions", "")
		if r.status != http.StatusOK || r.header.Get("ETag") != `"1"` {
			t.Fatalf("GET: %d, ETag %q; want 200, \"1\"", r.status, r.header.Get("ETag"))
		}
		grant := `[{"op":"grant","permission":"chat.assign"}]`
		before := storedSettings(t, s)
		for _, tc := range []struct {
			header string
			want   int
		}{{`"0"`, http.StatusPreconditionFailed}, {`"2"`, http.StatusPreconditionFailed}, {`W/"1"`, http.StatusBadRequest}, {"*", http.StatusBadRequest}} {
			if r := c.doWith(olivia, "POST", "/api/members/4/permissions", grant, ifMatch(tc.header)); r.status != tc.want {
				t.Errorf("If-Match %s: %d %s, want %d", tc.header, r.status, r.body, tc.want)
			}
		}
		if after := storedSettings(t, s); after != before {
			t.Errorf("a refused edit changed something:\n%s\nwant\n%s", after, before)
		}
		r = c.doWith(olivia, "POST", "/api/members/4/permissions", grant, ifMatch(`"1"`))
		if r.status != http.StatusOK || r.header.Get("ETag") != `"2"` {
			t.Fatalf("If-Match \"1\": %d %s, ETag %q; want 200, \"2\"", r.status, r.body, r.header.Get("ETag"))
		}
		// The same request again: the settings are at 2 now, and an
		// edit decided on 1 is refused, not applied to 2.
		before = storedSettings(t, s)
		deny := `[{"op":"deny","permission":"chat.send"}]`
		if r := c.doWith(olivia, "POST", "/api/members/4/permissions", deny, ifMatch(`"1"`)); r.status != http.StatusPreconditionFailed || r.header.Get("ETag") != `"2"` {
			t.Errorf("If-Match \"1\" at revision 2: %d %s, ETag %q; want 412, \"2\"", r.status, r.body, r.header.Get("ETag"))
		}
		if after := storedSettings(t, s); after != before {
			t.Errorf("the stale edit changed something:\n%s\nwant\n%s", after, before)
		}
		if err := s.tp.Verify(context.Background(), teamperm.IntID(acme)); err != nil {
			t.Errorf("Verify: %v", err)
		}
	})
}

// TestCacheServesEdits: the server's cache of compiled members drops a
// member as soon as an edit of theirs commits, so the very next request
// decides with the new settings; and requests in between are hits.
func TestCacheServesEdits(t *testing.T) {
	s := newStore(t, "sqlite")
	srv := NewServer(s, func() time.Time { return testNow }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	c := client{t, srv.Handler()}
	for range 3 {
		if r := c.do(sam, "GET", "/api/contacts/export", ""); r.status != http.StatusForbidden {
			t.Fatalf("export before the grant: %d", r.status)
		}
	}
	if st := srv.Cache().Stats(); st.Compiles != 1 || st.Misses != 1 {
		t.Errorf("three requests of one member: %+v, want 1 miss and 1 compile (two hits)", st)
	}
	if r := c.do(olivia, "POST", "/api/members/4/permissions", `[{"op":"grant","permission":"contact.export"}]`); r.status != http.StatusOK {
		t.Fatalf("grant: %d %s", r.status, r.body)
	}
	if r := c.do(sam, "GET", "/api/contacts/export", ""); r.status != http.StatusOK {
		t.Errorf("export right after the grant: %d", r.status)
	}
	if err := s.SetPlan(context.Background(), acme, teamperm.PlanStarter); err != nil {
		t.Fatal(err)
	}
	if r := c.do(sam, "GET", "/api/contacts/export", ""); r.status != http.StatusForbidden {
		t.Errorf("export right after the downgrade: %d, want 403", r.status)
	}
}

// TestContactsOnSeveralInstances: every member lists exactly the seed's
// contacts that EvaluateRecord lets them see (R19: one allowed instance
// of the contact's is enough), each with those of the instances the seed
// puts it on that the member may see.
func TestContactsOnSeveralInstances(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *SQLStore) {
		c := client{t, newHandler(s)}
		ctx := context.Background()
		for _, tm := range team {
			a, err := s.Account(ctx, tm.id)
			if err != nil {
				t.Fatal(err)
			}
			m, err := a.Compile()
			if err != nil {
				t.Fatal(err)
			}
			want := map[int64][]int64{}
			for _, sc := range seedContacts {
				var ids []teamperm.ID
				for _, in := range sc.instances {
					ids = append(ids, teamperm.IntID(in))
				}
				r := teamperm.Record{Kind: teamperm.KindContact, Organization: teamperm.IntID(sc.org), Instances: teamperm.IDSetOf(ids...)}
				if !m.EvaluateRecord(teamperm.ContactView, r).Allowed() {
					continue
				}
				// Listed with the instances of theirs the member may
				// see (issue 12), by the member's scope of instances.
				want[sc.id] = []int64{}
				inst := m.Scope(teamperm.KindInstance)
				for _, in := range keys(sc.instances) {
					if inst.Match(&teamperm.Record{Kind: teamperm.KindInstance, Organization: teamperm.IntID(sc.org), Instance: teamperm.IntID(in)}) {
						want[sc.id] = append(want[sc.id], in)
					}
				}
			}
			r := c.do(tm.id, "GET", "/api/contacts", "")
			var got []Contact
			if err := json.Unmarshal(r.body, &got); err != nil {
				t.Fatalf("%s: %v: %s", tm.name, err, r.body)
			}
			gotMap := map[int64][]int64{}
			for _, ct := range got {
				gotMap[ct.ID] = ct.Instances
			}
			if fmt.Sprint(gotMap) != fmt.Sprint(want) {
				t.Errorf("%s's contacts and their instances:\n got %v\nwant %v", tm.name, gotMap, want)
			}
		}
	})
}
