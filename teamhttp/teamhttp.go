// Package teamhttp is the HTTP glue every host of teamperm writes: a
// middleware that puts the request's compiled member into its context,
// and answers in RFC 9457 problem details ("application/problem+json") for
// decisions (404 for a hidden record, with the same body as for a missing
// one; 403 for a missing permission) and for the errors of a settings page
// (400, 402, 403, 409), each with the stable code of [teamperm.ErrorCode].
//
// It depends on the standard library and teamperm only.
//
// A handler, behind [Middleware]:
//
//	func sendMessage(w http.ResponseWriter, r *http.Request) {
//		m, _ := teamperm.FromContext(r.Context())
//		conv, ok := load(r) // the host's own lookup
//		if !ok {
//			teamhttp.NotFound(w) // the same answer as for a hidden one
//			return
//		}
//		if teamhttp.Deny(w, m.EvaluateRecord(teamperm.ChatSend, conv)) {
//			return
//		}
//		...
//	}
//
// Every problem has "type" "about:blank" (so "title" is the status's
// text), "status", and the extension member "code"; "detail", "field"
// and "permission" when they say something the client may know.
package teamhttp

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/teamperm/teamperm"
)

// Codes of problems that teamhttp writes besides those of teamperm.
const (
	// CodeUnauthenticated: the request carries no member, or one the host
	// does not know. HTTP 401.
	CodeUnauthenticated teamperm.Code = "unauthenticated"
	// CodeInternal: an error that is not teamperm's (a database error,
	// say) or a host bug (an invalid mapping). HTTP 500; the body says
	// nothing more.
	CodeInternal teamperm.Code = "internal"
)

// ErrUnauthenticated is what a [Middleware]'s Member func returns (wrapped
// or not) for a request without a member or with one the host does not
// know: the middleware answers 401.
var ErrUnauthenticated = errors.New("teamhttp: no member")

// A Problem is an RFC 9457 problem details object, with teamperm's
// extension members. Its zero value is not a valid problem: make one with
// [ProblemOf] or [DecisionProblem]. A Problem is a plain value, safe to
// copy and to modify (set Type to the host's own problem type URI, for
// example) before [WriteProblem].
type Problem struct {
	// Type is a URI reference that identifies the problem type;
	// "about:blank" means the status says it all.
	Type string `json:"type"`
	// Title is a short summary: the status's text for "about:blank".
	Title string `json:"title"`
	// Status is the HTTP status code.
	Status int `json:"status"`
	// Detail explains this occurrence for people: teamperm's own message
	// of a refusal, never the text a host wrapped around it ([ProblemOf]).
	// It is empty for not_found and for internal errors.
	Detail string `json:"detail,omitempty"`
	// Code is the stable machine-readable code ([teamperm.Code]), or
	// [CodeUnauthenticated] or [CodeInternal].
	Code teamperm.Code `json:"code"`
	// Field is the JSON Pointer (RFC 6901) of the value at fault in the
	// request body, such as "/1/permission" ([teamperm.Error.Field]).
	Field string `json:"field,omitempty"`
	// Permission is the permission the member lacks, for forbidden: the
	// member may see the record, so naming it leaks nothing.
	Permission string `json:"permission,omitempty"`
}

// Status returns the HTTP status of a problem with code c:
//
//	not_found                      404
//	forbidden, edit_*              403
//	upgrade_required               402
//	stale_member                   409
//	unauthenticated                401
//	invalid_mapping, internal, ""  500 (and every code teamperm may add that is not listed here)
//	every other code of teamperm   400 (a request that is wrong: invalid_json, unknown_permission, ...)
func Status(c teamperm.Code) int {
	switch c {
	case teamperm.CodeNotFound:
		return http.StatusNotFound
	case teamperm.CodeForbidden:
		return http.StatusForbidden
	case teamperm.CodeUpgradeRequired:
		return http.StatusPaymentRequired
	case teamperm.CodeStaleMember:
		return http.StatusConflict
	case CodeUnauthenticated:
		return http.StatusUnauthorized
	case teamperm.CodeInvalidMapping, CodeInternal, "":
		return http.StatusInternalServerError
	}
	switch c.Sentinel() {
	case teamperm.ErrEditNotAllowed:
		return http.StatusForbidden
	case teamperm.ErrInvalidSettings, teamperm.ErrUnknownPermission, teamperm.ErrUnknownRole,
		teamperm.ErrUnknownPlan, teamperm.ErrUnknownKind, teamperm.ErrInvalidID:
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// newProblem returns the "about:blank" problem of code c.
func newProblem(c teamperm.Code) Problem {
	status := Status(c)
	return Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Code: c}
}

// notFound is the one problem for a record that does not exist, a record
// the member may not see, and an organisation the member does not belong
// to: nothing in it depends on which.
var notFound = newProblem(teamperm.CodeNotFound)

// DecisionProblem returns the problem of a denying decision, and false for
// a decision that allows. A hidden record (not found) gets exactly the
// problem of [NotFound], whatever hid it; a forbidden action names the
// permission the member lacks and explains the rule ([teamperm.Decision.Explain]).
func DecisionProblem(d teamperm.Decision) (Problem, bool) {
	switch d.Outcome() {
	case teamperm.OutcomeAllow:
		return Problem{}, false
	case teamperm.OutcomeNotFound:
		return notFound, true
	}
	p := newProblem(teamperm.CodeForbidden)
	p.Detail = d.Explain()
	if by := d.DecidedBy(); by.IsValid() {
		p.Permission = by.String()
	}
	return p, true
}

// ProblemOf returns the problem of err, by its [teamperm.ErrorCode] and
// [Status]: for a *[teamperm.DecisionError] that of [DecisionProblem]; for
// a refusal or decoding error the code, a Detail for people and the JSON
// Pointer of the value at fault as Field. An error that is not teamperm's,
// or a host bug (invalid_mapping), is a bare 500 "internal": its message
// never reaches the client. ProblemOf(nil) is that 500 too: call it for
// errors.
//
// Detail is teamperm's own message, never the text of err as a whole: a
// host that wraps teamperm's error in its own (a transaction's, a
// database's: fmt.Errorf("saving settings on %s: %w", dsn, err)) may have
// put there what a client must not read. So Detail is the message of the
// *[teamperm.Error] in err's chain (the one [teamperm.ErrorCode] reads;
// [teamperm.ParseEdits], [teamperm.ApplyEdits] and [teamperm.CanEdit]
// return one, and its message says what was wrong with the request and
// nothing of the host), [teamperm.UpgradeMessage] for upgrade_required,
// and for an error that carries only a sentinel ([teamperm.ErrInvalidID],
// say) a fixed text of its code ([DetailOf]). A host that makes a
// teamperm.Error itself puts in its Err only what a client may read. The
// full text of err is the host's to log.
//
// Use it for errors of the request: an edits body, ApplyEdits, CanEdit. A
// host whose own stored settings fail to compile has a server problem and
// should answer 500 itself.
func ProblemOf(err error) Problem {
	var de *teamperm.DecisionError
	if errors.As(err, &de) && de != nil { // a typed nil is no decision
		if p, ok := DecisionProblem(de.Decision); ok {
			return p
		}
	}
	code := teamperm.ErrorCode(err)
	status := Status(code)
	if status == http.StatusInternalServerError {
		return newProblem(CodeInternal)
	}
	if code == teamperm.CodeNotFound {
		return notFound
	}
	p := newProblem(code)
	p.Detail = DetailOf(code)
	if e := codedError(err); e != nil {
		p.Field = e.Field
		if code != teamperm.CodeUpgradeRequired {
			p.Detail = e.Error()
		}
	}
	return p
}

// codedError returns the *teamperm.Error whose code is err's (the first
// in err's chain with a code, as teamperm.ErrorCode finds it), or nil. It
// walks the chain as teamperm's own asError does, which is unexported.
func codedError(err error) *teamperm.Error {
	for err != nil {
		switch x := err.(type) {
		case *teamperm.Error:
			if x == nil { // a typed nil: no code, as for ErrorCode
				return nil
			}
			if x.Code != "" {
				return x
			}
			err = x.Err
		case interface{ Unwrap() error }:
			err = x.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range x.Unwrap() {
				if found := codedError(e); found != nil {
					return found
				}
			}
			return nil
		default:
			return nil
		}
	}
	return nil
}

// DetailOf returns the fixed text of code c that [ProblemOf] sends as the
// Detail of an error that carries only a sentinel: it says what kind of
// thing is wrong, nothing of the occurrence. It is "" for not_found,
// whose answer says nothing (R8), for the codes answered 500, and for a
// code it does not know.
func DetailOf(c teamperm.Code) string { return details[c] }

var details = map[teamperm.Code]string{
	teamperm.CodeForbidden:               "The member may not do this.",
	teamperm.CodeStaleMember:             staleDetail,
	teamperm.CodeUpgradeRequired:         teamperm.UpgradeMessage,
	teamperm.CodeEditNotAllowed:          "This edit of permissions is not allowed.",
	teamperm.CodeEditNoActor:             "There is no acting member.",
	teamperm.CodeEditInvalidOrganization: "The organization is not valid.",
	teamperm.CodeEditOtherOrganization:   "The acting member is not a member of this organization.",
	teamperm.CodeEditNotEditor:           "Only owners and admins edit permissions.",
	teamperm.CodeEditSelf:                "Members cannot edit their own permissions.",
	teamperm.CodeEditOwner:               "Owners cannot be edited.",
	teamperm.CodeEditAdmin:               "Only owners edit admins.",
	teamperm.CodeEditRoleNotAllowed:      "Only owners make owners and admins.",
	teamperm.CodeEditEscalation:          "The edit would give the member access the acting member does not have.",
	teamperm.CodeNoEdits:                 "The request has no edit.",
	teamperm.CodeInvalidJSON:             "The request body is not valid JSON of the expected form.",
	teamperm.CodeUnknownField:            "The request body has a field that is not allowed there.",
	teamperm.CodeMissingField:            "The request body lacks a required field.",
	teamperm.CodeUnknownOp:               "An edit has an unknown op.",
	teamperm.CodeDuplicateID:             "An ID is listed twice.",
	teamperm.CodeInvalidSettings:         "The settings are not valid.",
	teamperm.CodeUnknownPermission:       "A permission is not one of the known permissions.",
	teamperm.CodeUnknownRole:             "A role is not owner, admin or member.",
	teamperm.CodeUnknownPlan:             "A plan is not free, starter or pro.",
	teamperm.CodeUnknownKind:             "A record kind is not one of the known kinds.",
	teamperm.CodeInvalidID:               "An ID is malformed, null or unset.",
}

const staleDetail = "The member's permissions were compiled for an earlier state of the organization; retry."

// WriteProblem writes p as "application/problem+json" with p.Status. The
// body is p's JSON and a newline; for equal problems it is the same bytes.
func WriteProblem(w http.ResponseWriter, p Problem) {
	b, err := json.Marshal(p)
	if err != nil { // a Problem has only strings and an int
		b, p.Status = []byte(`{"type":"about:blank","title":"Internal Server Error","status":500,"code":"internal"}`), http.StatusInternalServerError
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Content-Length")
	w.WriteHeader(p.Status)
	w.Write(append(b, '\n'))
}

// Deny writes the problem of d and reports true when d denies; when d
// allows it writes nothing and reports false, so a handler reads:
//
//	if teamhttp.Deny(w, m.EvaluateRecord(teamperm.ContactUpdate, contact)) {
//		return
//	}
func Deny(w http.ResponseWriter, d teamperm.Decision) bool {
	p, ok := DecisionProblem(d)
	if ok {
		WriteProblem(w, p)
	}
	return ok
}

// NotFound writes the 404 problem, for a record that does not exist. It is
// byte for byte the answer for a record the member may not see (R8).
func NotFound(w http.ResponseWriter) { WriteProblem(w, notFound) }

// Error writes the problem of err ([ProblemOf]): teamperm's own message,
// never the text the host wrapped around it. It does not log; a host that
// wants err's full text in its logs logs it itself.
func Error(w http.ResponseWriter, err error) { WriteProblem(w, ProblemOf(err)) }

// Middleware puts the compiled member of each request into its context
// ([teamperm.NewContext]) before calling the next handler, which takes it
// out with [teamperm.FromContext]. It answers itself, with a problem, when
// there is no member to put:
//
//   - Member returns nil, a member with no ID, or an error wrapping
//     [ErrUnauthenticated]: 401 unauthenticated;
//   - the member belongs to another organisation than the one the request
//     addresses (Organization): 404, the same answer as for a hidden
//     record, so the organisation's existence does not leak;
//   - the member was compiled for another state of that organisation
//     (plan, revision; a stale cache): 409 stale_member;
//   - any other error of Member or Organization: 500, logged to Log.
//
// The zero Middleware has no Member func; [Middleware.Wrap] panics on it.
// A Middleware is safe for concurrent use if its funcs are.
type Middleware struct {
	// Member returns the compiled member of the request: typically from
	// the session, through the host's cache keyed by [teamperm.MemberKey].
	// Required. It is called once per request.
	Member func(r *http.Request) (*teamperm.Member, error)

	// Organization returns the organisation the request addresses (from
	// its host name or path, say) in its current state. Optional: nil
	// means the organisation is the member's own (a single-tenant host, or
	// one whose session decides the organisation). An error wrapping
	// [teamperm.ErrNotFound] is answered 404.
	Organization func(r *http.Request) (teamperm.Organization, error)

	// Challenge, when not empty, is sent as the WWW-Authenticate header of
	// a 401 (RFC 9110 requires one; its scheme is the host's: `Bearer
	// realm="api"`, say).
	Challenge string

	// Log receives the errors answered 500. Nil: slog.Default().
	Log *slog.Logger
}

// Wrap returns next behind the middleware. It panics if m.Member is nil.
func (m Middleware) Wrap(next http.Handler) http.Handler {
	if m.Member == nil {
		panic("teamhttp: Middleware.Member is nil")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		member, err := m.Member(r)
		switch {
		case errors.Is(err, ErrUnauthenticated) || err == nil && (member == nil || member.ID().IsZero()):
			if m.Challenge != "" {
				w.Header().Set("WWW-Authenticate", m.Challenge)
			}
			WriteProblem(w, newProblem(CodeUnauthenticated))
			return
		case err != nil:
			m.internal(w, r, "member", err)
			return
		}
		if m.Organization != nil {
			org, err := m.Organization(r)
			switch {
			case errors.Is(err, teamperm.ErrNotFound):
				NotFound(w)
				return
			case err != nil:
				m.internal(w, r, "organization", err)
				return
			case member.Organization() != org.ID:
				NotFound(w)
				return
			case member.Org() != org:
				p := newProblem(teamperm.CodeStaleMember)
				p.Detail = staleDetail
				WriteProblem(w, p)
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(teamperm.NewContext(r.Context(), member)))
	})
}

func (m Middleware) internal(w http.ResponseWriter, r *http.Request, what string, err error) {
	log := m.Log
	if log == nil {
		log = slog.Default()
	}
	log.ErrorContext(r.Context(), "teamhttp: resolving the request's "+what, "method", r.Method, "path", r.URL.Path, "err", err)
	WriteProblem(w, newProblem(CodeInternal))
}
