package teamperm_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/teamperm/teamperm"
	"github.com/teamperm/teamperm/teamhttp"
)

// The quick start: compile a member of an organisation on Pro once, then
// ask it questions on every request and map its answers to HTTP statuses.
// The README's API tour is the first part of this function, kept identical
// by TestREADMESnippets.
func Example() {
	org := teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.PlanPro.Features()}

	// A support agent: a member who sees only the chats assigned to them.
	agent, err := teamperm.Compile(org, teamperm.Settings{
		Member:            teamperm.IntID(42),
		Role:              teamperm.RoleMember,
		OnlyAssignedChats: true,
	})
	if err != nil {
		log.Fatal(err)
	}

	// May the agent export contacts at all?
	fmt.Println(agent.Evaluate(teamperm.ContactExport))
	// forbidden contact.export: role_default (member 42, role member, revision 0)

	// May the agent send into a conversation assigned to a colleague? No:
	// it is hidden from the agent. In an HTTP handler, teamhttp answers 404
	// for a hidden record, exactly as for a missing one, and 403 for a
	// missing permission, as RFC 9457 problem details.
	conv := teamperm.Record{
		Kind:         teamperm.KindConversation,
		Organization: org.ID,
		Instance:     teamperm.IntID(7),
		Assignee:     teamperm.IntID(43),
	}
	send := func(w http.ResponseWriter, r *http.Request) {
		if teamhttp.Deny(w, agent.EvaluateRecord(teamperm.ChatSend, conv)) {
			return
		}
		// ... send the message
	}

	w := httptest.NewRecorder()
	send(w, httptest.NewRequest(http.MethodPost, "/conversations/9/messages", nil))
	fmt.Print(w.Code, " ", w.Body)

	// The same for conversations the agent can see.
	mine := conv
	mine.Assignee = agent.ID()
	for _, d := range []teamperm.Decision{
		agent.EvaluateRecord(teamperm.ChatSend, mine),
		agent.EvaluateRecord(teamperm.ChatAssign, mine),
	} {
		w := httptest.NewRecorder()
		if !teamhttp.Deny(w, d) {
			w.WriteHeader(http.StatusOK) // allowed: do it
		}
		fmt.Println(w.Code, d.Permission(), d.Reason())
	}
	// Output:
	// forbidden contact.export: role_default (member 42, role member, revision 0)
	// 404 {"type":"about:blank","title":"Not Found","status":404,"code":"not_found"}
	// 200 chat.send role_default
	// 403 chat.assign role_default
}

func ExampleCompile() {
	org := teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.PlanPro.Features()}

	// A marketing team member: campaigns may be managed, webhooks not.
	m, err := teamperm.Compile(org, teamperm.Settings{
		Member:   teamperm.IntID(42),
		Role:     teamperm.RoleMember,
		Revision: 3,
		Grants:   teamperm.PermissionSetOf(teamperm.CampaignManage),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Role(), m.Revision(), m.Has(teamperm.CampaignManage), m.Has(teamperm.WebhookManage))

	// Compile checks everything up front and reports every problem.
	_, err = teamperm.Compile(org, teamperm.Settings{})
	fmt.Println(errors.Is(err, teamperm.ErrInvalidID), errors.Is(err, teamperm.ErrUnknownRole))
	// Output:
	// member 3 true false
	// true true
}

func ExampleMember_Evaluate() {
	org := teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.PlanPro.Features()}

	// A view-only supervisor: reads every chat and distributes work, but
	// never messages a customer.
	supervisor, err := teamperm.Compile(org, teamperm.Settings{
		Member: teamperm.IntID(42),
		Role:   teamperm.RoleMember,
		Grants: teamperm.PermissionSetOf(teamperm.ChatAssign),
		Denies: teamperm.PermissionSetOf(teamperm.ChatSend),
	})
	if err != nil {
		log.Fatal(err)
	}
	for p := range teamperm.Chat.Permissions() {
		d := supervisor.Evaluate(p)
		fmt.Printf("%-11s %-9s %s\n", p, d.Outcome(), d.Reason())
	}
	fmt.Println(supervisor.Evaluate(teamperm.ChatSend).Explain())
	// Output:
	// chat.view   allow     role_default
	// chat.send   forbidden override_deny
	// chat.assign allow     override_grant
	// Denied: the member was denied chat.send (Send messages to contacts).
}

func ExampleMember_EvaluateRecord() {
	org := teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.PlanPro.Features()}

	// An external contractor: one WhatsApp instance, assigned chats only.
	contractor, err := teamperm.Compile(org, teamperm.Settings{
		Member:            teamperm.IntID(42),
		Role:              teamperm.RoleMember,
		Instances:         teamperm.Only(teamperm.IntID(7)),
		OnlyAssignedChats: true,
	})
	if err != nil {
		log.Fatal(err)
	}

	// A conversation on another instance is hidden: not found, whatever
	// the permission asked about.
	elsewhere := teamperm.Record{
		Kind:         teamperm.KindConversation,
		Organization: org.ID,
		Instance:     teamperm.IntID(9),
		Assignee:     contractor.ID(),
	}
	d := contractor.EvaluateRecord(teamperm.ChatSend, elsewhere)
	fmt.Println(d.Outcome(), d.Reason(), errors.Is(d.Err(), teamperm.ErrNotFound))

	// A conversation the contractor can see, but may not reassign: forbidden.
	mine := elsewhere
	mine.Instance = teamperm.IntID(7)
	d = contractor.EvaluateRecord(teamperm.ChatAssign, mine)
	fmt.Println(d.Outcome(), d.Reason(), errors.Is(d.Err(), teamperm.ErrForbidden))
	// Output:
	// not_found instance_restricted true
	// forbidden role_default true
}

func ExampleMember_Visible() {
	org := teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.PlanPro.Features()}
	sales, partners := teamperm.IntID(100), teamperm.IntID(200)

	// A sales representative: own deals only, in the sales pipeline only.
	rep, err := teamperm.Compile(org, teamperm.Settings{
		Member:           teamperm.IntID(42),
		Role:             teamperm.RoleMember,
		OnlyCreatedDeals: true,
		Pipelines:        teamperm.Only(sales),
	})
	if err != nil {
		log.Fatal(err)
	}

	deal := teamperm.Record{Kind: teamperm.KindDeal, Organization: org.ID, Pipeline: sales}
	for _, c := range []struct {
		name string
		edit func(*teamperm.Record)
	}{
		{"created by the rep", func(r *teamperm.Record) { r.CreatorKind, r.Creator = teamperm.CreatorMember, rep.ID() }},
		{"created by a colleague", func(r *teamperm.Record) { r.CreatorKind, r.Creator = teamperm.CreatorMember, teamperm.IntID(43) }},
		{"automation, for the rep", func(r *teamperm.Record) { r.CreatorKind, r.Assignee = teamperm.CreatorAutomation, rep.ID() }},
		{"legacy, no creator", func(r *teamperm.Record) {}},
		{"legacy, partners", func(r *teamperm.Record) { r.Pipeline = partners }},
	} {
		r := deal
		c.edit(&r)
		d := rep.Visible(r)
		fmt.Printf("%-24s %-9s %s\n", c.name, d.Outcome(), d.Reason())
	}
	// Output:
	// created by the rep       allow     role_default
	// created by a colleague   not_found not_creator
	// automation, for the rep  allow     role_default
	// legacy, no creator       allow     role_default
	// legacy, partners         not_found pipeline
}

func ExampleDecision_Err() {
	// httpStatus maps a decision to the status a handler answers with.
	// A hidden record answers 404, exactly like a record that does not
	// exist, so its existence does not leak. (The subpackage teamhttp
	// writes these answers as problem details: teamhttp.Deny.)
	httpStatus := func(d teamperm.Decision) int {
		switch err := d.Err(); {
		case err == nil:
			return http.StatusOK
		case errors.Is(err, teamperm.ErrNotFound):
			return http.StatusNotFound
		default: // teamperm.ErrForbidden
			return http.StatusForbidden
		}
	}

	org := teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.PlanPro.Features()}
	m, err := teamperm.Compile(org, teamperm.Settings{
		Member:    teamperm.IntID(42),
		Role:      teamperm.RoleMember,
		Instances: teamperm.Only(teamperm.IntID(7)),
	})
	if err != nil {
		log.Fatal(err)
	}
	contact := teamperm.Record{Kind: teamperm.KindContact, Organization: org.ID, Instance: teamperm.IntID(7)}
	other := contact
	other.Instance = teamperm.IntID(9)

	fmt.Println(httpStatus(m.EvaluateRecord(teamperm.ContactUpdate, contact)))
	fmt.Println(httpStatus(m.EvaluateRecord(teamperm.ContactDelete, contact)))
	fmt.Println(httpStatus(m.EvaluateRecord(teamperm.ContactUpdate, other)))

	// The error's message is for logs only: it names the rule.
	fmt.Println(m.EvaluateRecord(teamperm.ContactUpdate, other).Err())
	// Output:
	// 200
	// 403
	// 404
	// teamperm: not_found contact.update on contact: instance_restricted (member 42, role member, revision 0)
}

func ExampleSettings_UnmarshalJSON() {
	var s teamperm.Settings
	err := json.Unmarshal([]byte(`{
		"version": 1, "member": 42, "role": "member", "revision": 7,
		"grant": ["chat.assign"], "deny": ["chat.send"]
	}`), &s)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.Member, s.Role, s.Revision, s.Grants, s.Denies, s.Instances.IsAll())

	// Decoding is strict: a permission that does not exist is an error
	// that names it, never silently dropped.
	err = json.Unmarshal([]byte(`{"version":1,"member":42,"role":"member","grant":["chat.delete"]}`), &s)
	fmt.Println(err)
	fmt.Println(errors.Is(err, teamperm.ErrUnknownPermission))

	// So is a misspelt field.
	err = json.Unmarshal([]byte(`{"version":1,"member":42,"role":"member","only_assigned_chat":true}`), &s)
	fmt.Println(err)
	fmt.Println(errors.Is(err, teamperm.ErrInvalidSettings))
	// Output:
	// 42 member 7 [chat.assign] [chat.send] true
	// teamperm: permission "chat.delete": unknown permission (settings field "grant": invalid settings)
	// true
	// teamperm: settings: unknown field "only_assigned_chat": invalid settings
	// true
}

func ExampleSettings_MarshalJSON() {
	// An external contractor's settings, as the host stores them.
	s := teamperm.Settings{
		Member:            teamperm.IntID(42),
		Role:              teamperm.RoleMember,
		Revision:          2,
		Denies:            teamperm.PermissionSetOf(teamperm.ContactExport),
		Instances:         teamperm.Only(teamperm.IntID(7)),
		OnlyAssignedChats: true,
	}
	b, err := json.Marshal(s)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(b))
	// Output:
	// {"version":1,"member":42,"role":"member","revision":2,"grant":[],"deny":["contact.export"],"instances":[7],"only_assigned_chats":true,"only_created_deals":false,"pipelines":"all"}
}

func ExamplePermissionSet() {
	defaults := teamperm.RoleMember.Defaults()
	fmt.Println(defaults.Has(teamperm.ChatSend), defaults.Has(teamperm.ChatAssign), defaults.Len())

	// Operations return new sets; the original is unchanged.
	supervisor := defaults.With(teamperm.ChatAssign).Without(teamperm.ChatSend)
	fmt.Println(supervisor.Difference(defaults), defaults.Difference(supervisor))

	// Sets are comparable values, usable as map keys.
	names := map[teamperm.PermissionSet]string{defaults: "member defaults"}
	fmt.Println(names[teamperm.RoleMember.Defaults()], supervisor == defaults)

	b, err := json.Marshal(teamperm.PermissionSetOf(teamperm.ChatAssign, teamperm.ChatView))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(b))
	// Output:
	// true false 10
	// [chat.assign] [chat.send]
	// member defaults false
	// ["chat.view","chat.assign"]
}

func ExampleNewContext() {
	org := teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.PlanPro.Features()}
	admin, err := teamperm.Compile(org, teamperm.Settings{Member: teamperm.IntID(42), Role: teamperm.RoleAdmin})
	if err != nil {
		log.Fatal(err)
	}

	// Middleware puts the member of the request into its context once. A
	// real host finds (and caches) the member from the session.
	withMember := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(teamperm.NewContext(r.Context(), admin)))
		})
	}

	// A handler takes it out. Without a member, FromContext returns nil,
	// and a nil *Member denies everything: the handler fails closed.
	export := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m, _ := teamperm.FromContext(r.Context())
		if err := m.Evaluate(teamperm.ContactExport).Err(); err != nil {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		fmt.Fprint(w, "contacts.csv")
	})

	for _, h := range []http.Handler{withMember(export), export} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/contacts/export", nil))
		fmt.Println(w.Code)
	}
	// Output:
	// 200
	// 403
}

func ExampleParsePermission() {
	p, err := teamperm.ParsePermission("contact.export")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %s %s, %q\n", p, p.Category().Title(), p.Label(), p.Description())

	// The match is exact.
	_, err = teamperm.ParsePermission("Contact.Export")
	fmt.Println(err)
	fmt.Println(errors.Is(err, teamperm.ErrUnknownPermission))
	// Output:
	// contact.export: Contacts Export, "Download contact data"
	// teamperm: permission "Contact.Export": unknown permission
	// true
}
