package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/teamperm/teamperm"
	tpstore "github.com/teamperm/teamperm/store"
	"github.com/teamperm/teamperm/teamhttp"
)

// Server is the inbox service: the JSON API under /api/ and the HTML pages.
type Server struct {
	store Store
	cache *teamperm.Cache
	hub   *hub
	now   func() time.Time
	log   *slog.Logger
	pages map[string]*template.Template
}

// NewServer returns the service over store. now dates sent messages;
// log gets the errors that answer 500. Compiled members are kept in a
// teamperm.Cache that loads them from store, and that store keeps
// current: every change committed through it drops what it changed.
// The live view's audiences are dropped by the same changes, after the
// cache. (Several replicas on PostgreSQL also run store.Listen on
// [Server.Invalidator]: see serve.)
func NewServer(store Store, now func() time.Time, log *slog.Logger) *Server {
	cache := teamperm.NewCache(store, 0)
	h := newHub(store, cache, log)
	store.Subscribe(cache)
	store.Subscribe(h)
	return &Server{store: store, cache: cache, hub: h, now: now, log: log, pages: parsePages()}
}

// Cache returns the server's cache of compiled members.
func (s *Server) Cache() *teamperm.Cache { return s.cache }

// Invalidator returns what drops the server's state of a member or an
// organisation that changed: the cache of compiled members, then the
// live view's audiences. Hand it to store.Listen.
func (s *Server) Invalidator() tpstore.Invalidator { return invalidators{s.cache, s.hub} }

// Close ends the live event streams, so that an http.Server's Shutdown
// does not wait for them (register it with RegisterOnShutdown).
func (s *Server) Close() { s.hub.close() }

// invalidators invalidates each in order.
type invalidators []tpstore.Invalidator

func (is invalidators) InvalidateMember(org, member teamperm.ID) {
	for _, inv := range is {
		inv.InvalidateMember(org, member)
	}
}

func (is invalidators) InvalidateOrganization(org teamperm.ID) {
	for _, inv := range is {
		inv.InvalidateOrganization(org)
	}
}

func (is invalidators) InvalidateAll() {
	for _, inv := range is {
		inv.InvalidateAll()
	}
}

// Handler returns the routes. Every route but the sign-in page needs a
// member: the X-Member header (what a real service's session would
// provide) or, for the pages, the cookie the sign-in page sets.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	api := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, s.identify(h, s.unauthorizedJSON)) }
	page := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, s.identify(h, s.signInFirst)) }

	api("GET /api/me", s.me)
	api("GET /api/contacts", s.listContacts)
	api("GET /api/contacts/export", s.exportContacts)
	api("GET /api/conversations", s.listConversations)
	api("GET /api/conversations/{id}", s.getConversation)
	api("GET /api/conversations/{id}/messages", s.listMessages)
	api("POST /api/conversations/{id}/messages", s.sendMessage)
	api("POST /api/conversations/{id}/assign", s.assignConversation)
	api("GET /api/deals", s.listDeals)
	api("GET /api/events", s.events)
	api("GET /api/members/{id}/permissions", s.getPermissions)
	api("POST /api/members/{id}/permissions", s.editPermissions)

	// The stand-in for the WhatsApp provider's webhook: no member.
	mux.HandleFunc("POST /demo/incoming", s.incoming)

	mux.HandleFunc("GET /{$}", s.signInPage)
	mux.HandleFunc("POST /session", s.signIn)
	mux.HandleFunc("POST /session/end", s.signOut)
	page("GET /inbox", s.myInbox)
	page("GET /team", s.teamIndex)
	page("GET /team/{id}", s.teamPage)
	page("POST /team/{id}", s.saveTeamPage)
	page("POST /plan", s.setPlan)
	page("GET /members/{id}/inbox", s.inboxPage)

	// Forms post with the cookie: refuse cross-origin writes.
	return http.NewCrossOriginProtection().Handler(mux)
}

// memberCookie carries the signed-in member's key for the HTML pages.
// It stands in for a session, as X-Member does for API clients.
const memberCookie = "inbox_member"

type accountKey struct{}

// identify looks the member of the request up in the cache of compiled
// members and puts it into the request's context with
// teamperm.NewContext, with the member's Account beside it. A request
// without a known member never reaches next.
//
// The member is compiled from the settings and plan the account was
// read with, or newer ones (MemberAtLeast): what a page shows of the
// member and what the member may do never disagree. (A real service
// keeps (organisation, member) in its session and needs no account row
// for most requests; a client that must see its own change sends the
// revision it got back, as MemberAtLeast's bound.)
func (s *Server) identify(next http.Handler, unknown http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw := r.Header.Get("X-Member")
		if raw == "" {
			if c, err := r.Cookie(memberCookie); err == nil {
				raw = c.Value
			}
		}
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 {
			unknown(w, r)
			return
		}
		acct, err := s.store.Account(r.Context(), id)
		if errors.Is(err, errNotFound) {
			unknown(w, r)
			return
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		m, err := s.cache.MemberAtLeast(r.Context(), teamperm.IntID(acct.Org.ID), teamperm.IntID(acct.ID),
			teamperm.Revisions{Organization: acct.Org.Revision, Settings: acct.Settings.Revision})
		if err != nil { // settings that do not compile deny, loudly
			s.fail(w, r, err)
			return
		}
		ctx := teamperm.NewContext(r.Context(), m)
		ctx = context.WithValue(ctx, accountKey{}, acct)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// actor returns the compiled member of the request and their account. A
// handler reached without identify gets nil, which teamperm treats as a
// member who may do nothing.
func actor(r *http.Request) (*teamperm.Member, Account) {
	m, _ := teamperm.FromContext(r.Context())
	a, _ := r.Context().Value(accountKey{}).(Account)
	return m, a
}

func (s *Server) unauthorizedJSON(w http.ResponseWriter, r *http.Request) {
	problem(w, http.StatusUnauthorized, teamhttp.CodeUnauthenticated, "unknown member: send the X-Member header with a member's ID")
}

func (s *Server) signInFirst(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// Errors are RFC 9457 problem details, as teamhttp writes them: a hidden
// record and a missing one get teamhttp.NotFound's one answer (R8), a
// denying decision teamhttp.Deny's (404 or 403 naming the permission), a
// refused edit teamhttp.Error's (402, 403, 409, 400, with the code of
// teamperm.ErrorCode). problem writes the service's own refusals in the
// same form, with a code of its own.
func problem(w http.ResponseWriter, status int, code teamperm.Code, detail string) {
	teamhttp.WriteProblem(w, teamhttp.Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Code: code, Detail: detail})
}

// The service's own problem codes (teamperm's and teamhttp's aside).
const (
	codeInvalidBody        teamperm.Code = "invalid_body"
	codeInvalidAssignee    teamperm.Code = "invalid_assignee"
	codeNoConversation     teamperm.Code = "no_such_conversation"
	codeConflict           teamperm.Code = "conflict"
	codePreconditionFailed teamperm.Code = "precondition_failed"
	codeInvalidIfMatch     teamperm.Code = "invalid_if_match"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// fail answers 500 and logs err; the client learns nothing more.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}

// pathID returns the key in the path's {id}; a malformed key is a key
// that does not exist.
func pathID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

// decodeJSON reads a small JSON body strictly into v.
func decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("request body: %w", err)
	}
	if dec.More() {
		return errors.New("request body: more than one JSON value")
	}
	return nil
}
