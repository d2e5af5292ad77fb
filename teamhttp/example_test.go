package teamhttp_test

import (
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/teamperm/teamperm"
	"github.com/teamperm/teamperm/teamhttp"
)

// A host's JSON API behind the middleware: the member comes from the
// request (here a header; a real host reads its session), each handler
// asks teamperm and lets teamhttp answer refusals.
func Example() {
	org := teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.PlanPro.Features()}
	contractor, err := teamperm.Compile(org, teamperm.Settings{
		Member:    teamperm.IntID(42),
		Role:      teamperm.RoleMember,
		Instances: teamperm.Only(teamperm.IntID(7)),
	})
	if err != nil {
		log.Fatal(err)
	}
	contacts := map[string]teamperm.Record{ // the host's table
		"1": {Kind: teamperm.KindContact, Organization: org.ID, Instance: teamperm.IntID(7)},
		"2": {Kind: teamperm.KindContact, Organization: org.ID, Instance: teamperm.IntID(9)},
	}

	mw := teamhttp.Middleware{
		Member: func(r *http.Request) (*teamperm.Member, error) {
			if r.Header.Get("X-Member") != "42" {
				return nil, teamhttp.ErrUnauthenticated
			}
			return contractor, nil
		},
	}
	mux := http.NewServeMux()
	mux.Handle("DELETE /contacts/{id}", mw.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m, _ := teamperm.FromContext(r.Context())
		contact, ok := contacts[r.PathValue("id")]
		if !ok {
			teamhttp.NotFound(w)
			return
		}
		if teamhttp.Deny(w, m.EvaluateRecord(teamperm.ContactDelete, contact)) {
			return
		}
		fmt.Fprintln(w, "deleted")
	})))

	for _, c := range []struct{ member, id string }{{"", "1"}, {"42", "1"}, {"42", "2"}, {"42", "3"}} {
		req := httptest.NewRequest(http.MethodDelete, "/contacts/"+c.id, nil)
		req.Header.Set("X-Member", c.member)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		fmt.Print(w.Code, " ", w.Body)
	}
	// Output:
	// 401 {"type":"about:blank","title":"Unauthorized","status":401,"code":"unauthenticated"}
	// 403 {"type":"about:blank","title":"Forbidden","status":403,"detail":"Denied: the member role does not include contact.delete (Remove contacts) by default.","code":"forbidden","permission":"contact.delete"}
	// 404 {"type":"about:blank","title":"Not Found","status":404,"code":"not_found"}
	// 404 {"type":"about:blank","title":"Not Found","status":404,"code":"not_found"}
}

// A settings page's save endpoint: decoding errors are 400 with the
// offending field, refusals 402, 403 or 409, each with a stable code. The
// README's "Editing permissions safely" is the handler below, kept
// identical by the root module's TestREADMESnippets.
func ExampleError() {
	org := teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.PlanStarter.Features()}
	actor, err := teamperm.Compile(org, teamperm.Settings{Member: teamperm.IntID(1), Role: teamperm.RoleOwner})
	if err != nil {
		log.Fatal(err)
	}
	stored := teamperm.Settings{Member: teamperm.IntID(42), Role: teamperm.RoleMember}
	slog.SetDefault(slog.New(slog.DiscardHandler))

	save := func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		edits, err := teamperm.ParseEdits(body) // [{"op":"grant","permission":"chat.assign"}]
		if err != nil {
			teamhttp.Error(w, err) // 400, with the code and the JSON Pointer of the value at fault
			return
		}
		next, change, err := teamperm.ApplyEdits(actor, org, stored, time.Now(), edits...)
		if err != nil {
			teamhttp.Error(w, err) // 402 upgrade_required, 403 edit_..., 409 stale_member
			return
		}
		stored = next                                      // the host saves the new settings
		slog.Info("permissions changed", "change", change) // or json.Marshal(change)
		w.WriteHeader(http.StatusNoContent)
	}

	for _, body := range []string{
		`[{"op":"set_role","role":"member"},{"op":"grant","permision":"chat.assign"}]`,
		`[{"op":"grant","permission":"chat.assign"}]`,
		`[{"op":"set_role","role":"admin"}]`,
	} {
		w := httptest.NewRecorder()
		save(w, httptest.NewRequest(http.MethodPost, "/team/42/permissions", strings.NewReader(body)))
		fmt.Print(w.Code, " ", w.Body)
	}
	fmt.Println(stored.Role, stored.Revision)
	// Output:
	// 400 {"type":"about:blank","title":"Bad Request","status":400,"detail":"teamperm: edit 1: unknown field \"permision\": invalid settings","code":"unknown_field","field":"/1/permision"}
	// 402 {"type":"about:blank","title":"Payment Required","status":402,"detail":"Fine-grained permissions require a Pro plan. On free or starter plans, team members use role-based defaults only.","code":"upgrade_required","field":"/0"}
	// 204 admin 1
}
