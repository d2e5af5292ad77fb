package teamhttp_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/teamperm/teamperm"
	"github.com/teamperm/teamperm/teamhttp"
)

var (
	pro   = teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.PlanPro.Features()}
	other = teamperm.Organization{ID: teamperm.IntID(2), Features: teamperm.PlanPro.Features()}
	at    = time.Date(2026, 11, 26, 17, 0, 0, 0, time.UTC)
)

func compile(t testing.TB, org teamperm.Organization, s teamperm.Settings) *teamperm.Member {
	t.Helper()
	m, err := teamperm.Compile(org, s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// record answers with f and returns the status, the content type and the
// body.
func record(f func(w http.ResponseWriter)) (int, string, []byte) {
	w := httptest.NewRecorder()
	f(w)
	return w.Code, w.Header().Get("Content-Type"), w.Body.Bytes()
}

func decode(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var v map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	return v
}

// wantStatus is the mapping, written out independently of Status.
var wantStatus = map[teamperm.Code]int{
	teamperm.CodeNotFound:                404,
	teamperm.CodeForbidden:               403,
	teamperm.CodeStaleMember:             409,
	teamperm.CodeUpgradeRequired:         402,
	teamperm.CodeEditNotAllowed:          403,
	teamperm.CodeEditNoActor:             403,
	teamperm.CodeEditInvalidOrganization: 403,
	teamperm.CodeEditOtherOrganization:   403,
	teamperm.CodeEditNotEditor:           403,
	teamperm.CodeEditSelf:                403,
	teamperm.CodeEditOwner:               403,
	teamperm.CodeEditAdmin:               403,
	teamperm.CodeEditRoleNotAllowed:      403,
	teamperm.CodeEditEscalation:          403,
	teamperm.CodeNoEdits:                 400,
	teamperm.CodeInvalidJSON:             400,
	teamperm.CodeUnknownField:            400,
	teamperm.CodeMissingField:            400,
	teamperm.CodeUnknownOp:               400,
	teamperm.CodeDuplicateID:             400,
	teamperm.CodeInvalidSettings:         400,
	teamperm.CodeUnknownPermission:       400,
	teamperm.CodeUnknownRole:             400,
	teamperm.CodeUnknownPlan:             400,
	teamperm.CodeUnknownKind:             400,
	teamperm.CodeInvalidID:               400,
	teamperm.CodeInvalidMapping:          500,
	teamhttp.CodeUnauthenticated:         401,
	teamhttp.CodeInternal:                500,
	"":                                   500,
	"a_code_from_the_future":             500,
}

// TestEveryCode checks the status of every code of teamperm, and the
// problem written for an error of each: status, content type, the code,
// a detail for the codes a client may read, none for not_found and 500s.
func TestEveryCode(t *testing.T) {
	for c := range teamperm.Codes() {
		if _, ok := wantStatus[c]; !ok {
			t.Errorf("code %q has no expected status in this test", c)
		}
	}
	for c, want := range wantStatus {
		if got := teamhttp.Status(c); got != want {
			t.Errorf("Status(%q) = %d, want %d", c, got, want)
		}
	}
	for c := range teamperm.Codes() {
		t.Run(string(c), func(t *testing.T) {
			err := &teamperm.Error{Code: c, Field: "/0/op", Err: fmt.Errorf("teamperm: a refusal: %w", c.Sentinel())}
			status, ctype, body := record(func(w http.ResponseWriter) { teamhttp.Error(w, err) })
			if ctype != "application/problem+json" {
				t.Errorf("Content-Type %q", ctype)
			}
			want := map[string]any{
				"type": "about:blank", "title": http.StatusText(wantStatus[c]),
				"status": json.Number(fmt.Sprint(wantStatus[c])), "code": string(c),
			}
			switch {
			case wantStatus[c] == 500:
				want["code"] = "internal"
			case c == teamperm.CodeNotFound:
			case c == teamperm.CodeUpgradeRequired:
				want["detail"], want["field"] = teamperm.UpgradeMessage, "/0/op"
			default:
				want["detail"], want["field"] = err.Error(), "/0/op"
			}
			if status != wantStatus[c] {
				t.Errorf("status %d, want %d", status, wantStatus[c])
			}
			if diff := cmp.Diff(want, decode(t, body)); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDocumentedStatuses: the HTTP column of the table in teamperm.Code's
// doc is what Status answers.
func TestDocumentedStatuses(t *testing.T) {
	src, err := os.ReadFile("../codes.go")
	if err != nil {
		t.Skipf("the root package's source is not beside this one: %v", err)
	}
	row := regexp.MustCompile(`(?m)^//\t([a-z_]+) +Err[A-Za-z]+ +(\d{3}) `)
	rows := row.FindAllStringSubmatch(string(src), -1)
	if len(rows) < 20 {
		t.Fatalf("found %d rows in the table of codes.go", len(rows))
	}
	for _, m := range rows {
		if got := fmt.Sprint(teamhttp.Status(teamperm.Code(m[1]))); got != m[2] {
			t.Errorf("code %s: documented %s, Status says %s", m[1], m[2], got)
		}
	}
}

// TestSentinels: an error that wraps only a sentinel maps by it.
func TestSentinels(t *testing.T) {
	for _, tt := range []struct {
		err    error
		status int
	}{
		{teamperm.ErrNotFound, 404},
		{teamperm.ErrForbidden, 403},
		{teamperm.ErrStaleMember, 409},
		{teamperm.ErrUpgradeRequired, 402},
		{teamperm.ErrEditNotAllowed, 403},
		{teamperm.ErrInvalidSettings, 400},
		{teamperm.ErrUnknownPermission, 400},
		{teamperm.ErrUnknownRole, 400},
		{teamperm.ErrUnknownPlan, 400},
		{teamperm.ErrUnknownKind, 400},
		{teamperm.ErrInvalidID, 400},
		{teamperm.ErrInvalidMapping, 500},
		{errors.New("pq: connection refused"), 500},
		{nil, 500},
	} {
		status, _, body := record(func(w http.ResponseWriter) { teamhttp.Error(w, fmt.Errorf("ctx: %w", tt.err)) })
		if status != tt.status {
			t.Errorf("%v: status %d, want %d", tt.err, status, tt.status)
		}
		if tt.status == 500 && bytes.Contains(body, []byte("connection")) || bytes.Contains(body, []byte("mapping")) {
			t.Errorf("%v: a 500 tells the client %s", tt.err, body)
		}
	}
}

// hiddenRecords returns, for a restricted member, one hidden record per
// rule that hides records, and a visible record it may not act on.
func hiddenRecords(t *testing.T) (*teamperm.Member, []teamperm.Record, teamperm.Record) {
	m := compile(t, pro, teamperm.Settings{
		Member: teamperm.IntID(42), Role: teamperm.RoleMember,
		Instances: teamperm.Only(teamperm.IntID(7)), OnlyAssignedChats: true,
		OnlyCreatedDeals: true, Pipelines: teamperm.Only(teamperm.IntID(3)),
		Denies: teamperm.PermissionSetOf(teamperm.ContactView),
	})
	conv := teamperm.Record{Kind: teamperm.KindConversation, Organization: pro.ID, Instance: teamperm.IntID(7), Assignee: m.ID()}
	otherInstance := conv
	otherInstance.Instance = teamperm.IntID(9)
	notAssigned := conv
	notAssigned.Assignee = teamperm.IntID(43)
	otherOrg := conv
	otherOrg.Organization = other.ID
	deal := teamperm.Record{Kind: teamperm.KindDeal, Organization: pro.ID, Pipeline: teamperm.IntID(4)}
	notCreator := teamperm.Record{Kind: teamperm.KindDeal, Organization: pro.ID, Pipeline: teamperm.IntID(3), CreatorKind: teamperm.CreatorMember, Creator: teamperm.IntID(43)}
	contact := teamperm.Record{Kind: teamperm.KindContact, Organization: pro.ID, Instance: teamperm.IntID(7)}
	return m, []teamperm.Record{otherInstance, notAssigned, otherOrg, deal, notCreator, contact}, conv
}

// TestNotFoundIsOneAnswer: every hidden record, whatever hid it, asked
// about through Deny, Error or DecisionProblem, and a record that does not
// exist, answer the same bytes.
func TestNotFoundIsOneAnswer(t *testing.T) {
	_, _, missing := record(teamhttp.NotFound)
	m, hidden, _ := hiddenRecords(t)
	var nilMember *teamperm.Member
	seenReasons := map[teamperm.Reason]bool{}
	for _, r := range hidden {
		for _, asker := range []*teamperm.Member{m, nilMember, {}} {
			for p := range teamperm.Permissions() {
				d := asker.EvaluateRecord(p, r)
				if d.Outcome() != teamperm.OutcomeNotFound {
					t.Fatalf("%v on %+v: %v, want not found", p, r, d)
				}
				seenReasons[d.Reason()] = true
				for name, write := range map[string]func(http.ResponseWriter){
					"Deny":  func(w http.ResponseWriter) { teamhttp.Deny(w, d) },
					"Error": func(w http.ResponseWriter) { teamhttp.Error(w, d.Err()) },
					"DecisionProblem": func(w http.ResponseWriter) {
						pr, _ := teamhttp.DecisionProblem(d)
						teamhttp.WriteProblem(w, pr)
					},
				} {
					status, _, body := record(write)
					if status != 404 || !bytes.Equal(body, missing) {
						t.Fatalf("%s(%v) = %d %s, want 404 %s", name, d, status, body, missing)
					}
				}
			}
		}
	}
	for _, r := range []teamperm.Reason{teamperm.ReasonInstanceRestricted, teamperm.ReasonNotAssigned, teamperm.ReasonNotCreator,
		teamperm.ReasonPipeline, teamperm.ReasonOtherOrganization, teamperm.ReasonOverrideDeny, teamperm.ReasonNone} {
		if !seenReasons[r] {
			t.Errorf("no hidden record for reason %v", r)
		}
	}
}

// TestEveryOutcome: allow writes nothing, forbidden 403 naming the
// permission, not found 404.
func TestEveryOutcome(t *testing.T) {
	m, hidden, visible := hiddenRecords(t)
	for _, tt := range []struct {
		d      teamperm.Decision
		status int
		perm   string
	}{
		{m.EvaluateRecord(teamperm.ChatSend, visible), 200, ""},
		{m.EvaluateRecord(teamperm.ChatAssign, visible), 403, "chat.assign"},
		{m.Evaluate(teamperm.ContactExport), 403, "contact.export"},
		{teamperm.Decision{}, 403, ""},
		{m.EvaluateRecord(teamperm.ChatSend, hidden[0]), 404, ""},
	} {
		w := httptest.NewRecorder()
		denied := teamhttp.Deny(w, tt.d)
		if denied != (tt.status != 200) || w.Code != tt.status {
			t.Errorf("Deny(%v) = %v, %d, want %d", tt.d, denied, w.Code, tt.status)
		}
		if tt.status == 200 {
			if w.Body.Len() != 0 || w.Header().Get("Content-Type") != "" {
				t.Errorf("Deny(%v) wrote %q", tt.d, w.Body)
			}
			continue
		}
		got := decode(t, w.Body.Bytes())
		if tt.status == 403 {
			if got["permission"] != nil && got["permission"] != tt.perm || tt.perm != "" && got["permission"] != tt.perm {
				t.Errorf("Deny(%v): permission %v, want %q", tt.d, got["permission"], tt.perm)
			}
			if got["code"] != "forbidden" || got["detail"] != tt.d.Explain() {
				t.Errorf("Deny(%v): %v", tt.d, got)
			}
		}
	}
}

// TestEditErrors: real refusals of ApplyEdits and ParseEdits, through
// Error.
func TestEditErrors(t *testing.T) {
	starter := teamperm.Organization{ID: pro.ID, Features: teamperm.PlanStarter.Features()}
	owner := compile(t, pro, teamperm.Settings{Member: teamperm.IntID(1), Role: teamperm.RoleOwner})
	ownerOnStarter := compile(t, starter, teamperm.Settings{Member: teamperm.IntID(1), Role: teamperm.RoleOwner})
	admin := compile(t, pro, teamperm.Settings{Member: teamperm.IntID(2), Role: teamperm.RoleAdmin})
	agent := teamperm.Settings{Member: teamperm.IntID(42), Role: teamperm.RoleMember}
	grant := teamperm.Grant{Permission: teamperm.ChatAssign}
	apply := func(actor *teamperm.Member, org teamperm.Organization, target teamperm.Settings, edits ...teamperm.Edit) error {
		_, _, err := teamperm.ApplyEdits(actor, org, target, at, edits...)
		return err
	}
	_, badBody := teamperm.ParseEdits([]byte(`[{"op":"grant","permission":"chat.send"},{"op":"grant","permission":"chat.remove"}]`))
	for _, tt := range []struct {
		name   string
		err    error
		status int
		code   teamperm.Code
		field  string
	}{
		{"upgrade", apply(ownerOnStarter, starter, agent, grant), 402, teamperm.CodeUpgradeRequired, "/0"},
		{"stale", apply(ownerOnStarter, pro, agent, grant), 409, teamperm.CodeStaleMember, ""},
		{"admin edits admin", apply(admin, pro, teamperm.Settings{Member: teamperm.IntID(3), Role: teamperm.RoleAdmin}, grant), 403, teamperm.CodeEditAdmin, ""},
		{"self", apply(owner, pro, teamperm.Settings{Member: teamperm.IntID(1), Role: teamperm.RoleOwner}, grant), 403, teamperm.CodeEditSelf, ""},
		{"body", badBody, 400, teamperm.CodeUnknownPermission, "/1/permission"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := record(func(w http.ResponseWriter) { teamhttp.Error(w, tt.err) })
			got := decode(t, body)
			if status != tt.status || got["code"] != string(tt.code) || (got["field"] != nil || tt.field != "") && got["field"] != tt.field {
				t.Errorf("Error(%v) = %d %s, want %d %s %q", tt.err, status, body, tt.status, tt.code, tt.field)
			}
			if got["detail"] == nil {
				t.Errorf("no detail: %s", body)
			}
		})
	}
}

// The httptest suite of the middleware: one organisation with a member, a
// second organisation with its own member, a member compiled before a plan
// change, and the host's lookup by header.
func TestMiddleware(t *testing.T) {
	starter := teamperm.Organization{ID: pro.ID, Features: teamperm.PlanStarter.Features()}
	members := map[string]*teamperm.Member{
		"42":       compile(t, pro, teamperm.Settings{Member: teamperm.IntID(42), Role: teamperm.RoleMember}),
		"7":        compile(t, other, teamperm.Settings{Member: teamperm.IntID(7), Role: teamperm.RoleOwner}),
		"stale":    compile(t, starter, teamperm.Settings{Member: teamperm.IntID(43), Role: teamperm.RoleMember}),
		"zero":     {},
		"db-error": nil,
	}
	orgs := map[string]teamperm.Organization{"1": pro, "2": other}
	var logs bytes.Buffer
	mw := teamhttp.Middleware{
		Member: func(r *http.Request) (*teamperm.Member, error) {
			key := r.Header.Get("X-Member")
			switch key {
			case "":
				return nil, nil // no credentials
			case "db-error":
				return nil, errors.New("db: connection reset by 10.0.0.3")
			}
			m, ok := members[key]
			if !ok {
				return nil, fmt.Errorf("member %q: %w", key, teamhttp.ErrUnauthenticated)
			}
			return m, nil
		},
		Organization: func(r *http.Request) (teamperm.Organization, error) {
			if r.PathValue("org") == "broken" {
				return teamperm.Organization{}, errors.New("db: timeout")
			}
			org, ok := orgs[r.PathValue("org")]
			if !ok {
				return teamperm.Organization{}, fmt.Errorf("organization %q: %w", r.PathValue("org"), teamperm.ErrNotFound)
			}
			return org, nil
		},
		Challenge: `Bearer realm="api"`,
		Log:       slog.New(slog.NewTextHandler(&logs, nil)),
	}
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m, ok := teamperm.FromContext(r.Context())
		if !ok {
			t.Error("handler reached without a member")
		}
		fmt.Fprintf(w, "member %v", m.ID())
	})
	mux := http.NewServeMux()
	mux.Handle("/orgs/{org}/contacts", mw.Wrap(inner))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	var challenge string
	get := func(path, member string) (int, string, []byte) {
		req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if member != "" {
			req.Header.Set("X-Member", member)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		challenge = resp.Header.Get("WWW-Authenticate")
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, resp.Header.Get("Content-Type"), body
	}
	_, _, missing := record(teamhttp.NotFound)
	for _, tt := range []struct {
		name, path, member string
		status             int
		code               string
	}{
		{"member of the organisation", "/orgs/1/contacts", "42", 200, ""},
		{"no member", "/orgs/1/contacts", "", 401, "unauthenticated"},
		{"unknown member", "/orgs/1/contacts", "99", 401, "unauthenticated"},
		{"zero member", "/orgs/1/contacts", "zero", 401, "unauthenticated"},
		{"member of another organisation", "/orgs/1/contacts", "7", 404, "not_found"},
		{"organisation that does not exist", "/orgs/3/contacts", "42", 404, "not_found"},
		{"member compiled before a plan change", "/orgs/1/contacts", "stale", 409, "stale_member"},
		{"the other organisation's own member", "/orgs/2/contacts", "7", 200, ""},
		{"member lookup fails", "/orgs/1/contacts", "db-error", 500, "internal"},
		{"organisation lookup fails", "/orgs/broken/contacts", "42", 500, "internal"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, ctype, body := get(tt.path, tt.member)
			if status != tt.status {
				t.Fatalf("GET %s as %q = %d %s, want %d", tt.path, tt.member, status, body, tt.status)
			}
			if tt.status == 200 {
				return
			}
			if ctype != "application/problem+json" || decode(t, body)["code"] != tt.code {
				t.Errorf("GET %s as %q = %s %s, want code %s", tt.path, tt.member, ctype, body, tt.code)
			}
			if (tt.status == 401) != (challenge == `Bearer realm="api"`) {
				t.Errorf("WWW-Authenticate %q on a %d", challenge, tt.status)
			}
			if tt.status == 404 && !bytes.Equal(body, missing) {
				t.Errorf("404 body %s differs from the not-found body %s", body, missing)
			}
			if bytes.Contains(body, []byte("db")) || bytes.Contains(body, []byte("10.0.0.3")) {
				t.Errorf("the body tells the client about the host: %s", body)
			}
		})
	}
	if !strings.Contains(logs.String(), "connection reset") || !strings.Contains(logs.String(), "timeout") {
		t.Errorf("500s not logged: %s", logs.String())
	}
}

func TestMiddlewareWithoutOrganization(t *testing.T) {
	m := compile(t, pro, teamperm.Settings{Member: teamperm.IntID(42), Role: teamperm.RoleMember})
	h := teamhttp.Middleware{Member: func(*http.Request) (*teamperm.Member, error) { return m, nil }}.Wrap(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got, _ := teamperm.FromContext(r.Context())
			if got != m {
				t.Errorf("FromContext = %v, want the resolved member", got)
			}
		}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if w.Code != 200 {
		t.Errorf("status %d", w.Code)
	}
}

func TestMiddlewareNeedsMember(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Wrap with no Member func did not panic")
		}
	}()
	teamhttp.Middleware{}.Wrap(http.NotFoundHandler())
}

// hostSecret is text a host wraps around teamperm's errors that a client
// must never read.
const hostSecret = "db-primary.internal:5432 tx 0xdeadbeef"

// TestDetailIsTeampermsOwn: for every code, an error of teamperm that the
// host wrapped in its own text (as the only error, or joined with the
// host's), answers with teamperm's own message as detail (a
// *teamperm.Error's) or the fixed text of its code (an error carrying only
// a sentinel), never with the host's text; field and code survive the
// wrapping.
func TestDetailIsTeampermsOwn(t *testing.T) {
	hostWraps := map[string]func(error) error{
		"unwrapped": func(err error) error { return err },
		"wrapped":   func(err error) error { return fmt.Errorf("saving settings on %s: %w", hostSecret, err) },
		"twice":     func(err error) error { return fmt.Errorf("handler: %w", fmt.Errorf("%s: %w", hostSecret, err)) },
		"joined":    func(err error) error { return errors.Join(errors.New(hostSecret), err) },
	}
	for c := range teamperm.Codes() {
		status := wantStatus[c]
		wantFixed := teamhttp.DetailOf(c)
		switch {
		case status == 500 || c == teamperm.CodeNotFound:
			if wantFixed != "" {
				t.Errorf("DetailOf(%q) = %q, want none", c, wantFixed)
			}
		case wantFixed == "" || strings.HasPrefix(wantFixed, "teamperm:"):
			t.Errorf("DetailOf(%q) = %q, want a sentence for people", c, wantFixed)
		}
		own := &teamperm.Error{Code: c, Field: "/1/permission", Err: fmt.Errorf("teamperm: edit 1: the refusal of %s: %w", c, c.Sentinel())}
		for how, wrap := range hostWraps {
			t.Run(string(c)+"/"+how, func(t *testing.T) {
				for _, tc := range []struct {
					name   string
					err    error
					code   teamperm.Code
					detail string
					field  string
				}{
					{"teamperm.Error", wrap(own), c, own.Error(), own.Field},
					{"sentinel", wrap(fmt.Errorf("teamperm: something of %s: %w", hostSecret, c.Sentinel())), teamperm.ErrorCode(c.Sentinel()), teamhttp.DetailOf(teamperm.ErrorCode(c.Sentinel())), ""},
				} {
					status := wantStatus[tc.code]
					want := map[string]any{
						"type": "about:blank", "title": http.StatusText(status),
						"status": json.Number(fmt.Sprint(status)), "code": string(tc.code),
					}
					switch {
					case status == 500:
						want["code"] = "internal"
					case tc.code == teamperm.CodeNotFound:
					case tc.code == teamperm.CodeUpgradeRequired:
						want["detail"] = teamperm.UpgradeMessage
					default:
						want["detail"] = tc.detail
					}
					if tc.field != "" && status != 500 && tc.code != teamperm.CodeNotFound {
						want["field"] = tc.field
					}
					gotStatus, _, body := record(func(w http.ResponseWriter) { teamhttp.Error(w, tc.err) })
					if gotStatus != status {
						t.Errorf("%s: status %d, want %d", tc.name, gotStatus, status)
					}
					if diff := cmp.Diff(want, decode(t, body)); diff != "" {
						t.Errorf("%s: Error(%v): body (-want +got):\n%s", tc.name, tc.err, diff)
					}
					if bytes.Contains(body, []byte("db-primary")) || bytes.Contains(body, []byte("something of")) {
						t.Errorf("%s: the body tells the client the host's text: %s", tc.name, body)
					}
				}
			})
		}
	}
}

// TestTypedNilIsInternal: a nil *teamperm.Error or *teamperm.DecisionError
// returned as an error (a host's mistake) is answered as an internal
// error, alone or wrapped, and does not panic.
func TestTypedNilIsInternal(t *testing.T) {
	var coded *teamperm.Error
	var decision *teamperm.DecisionError
	for _, err := range []error{coded, decision, fmt.Errorf("host: %w", coded), fmt.Errorf("host: %w", decision)} {
		rec := httptest.NewRecorder()
		teamhttp.Error(rec, err)
		if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "host") {
			t.Errorf("Error(%#v) = %d %s, want a bare 500", err, rec.Code, rec.Body)
		}
	}
}
