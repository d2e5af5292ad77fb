package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/teamperm/teamperm"
	tpstore "github.com/teamperm/teamperm/store"
	"github.com/teamperm/teamperm/teamhttp"
)

// The JSON API. Lists hand the member's scope to the store, which renders
// it into the query's WHERE clause; actions on a record ask
// EvaluateRecord, whose decision maps to 404 (hidden) or 403 (forbidden).

type meBody struct {
	ID          int64                  `json:"id"`
	Name        string                 `json:"name"`
	Setup       string                 `json:"setup"`
	Role        teamperm.Role          `json:"role"`
	Plan        teamperm.Plan          `json:"plan"`
	Permissions teamperm.PermissionSet `json:"permissions"`
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	m, a := actor(r)
	writeJSON(w, http.StatusOK, meBody{a.ID, a.Name, a.Setup, m.Role(), a.Org.Plan, m.Permissions()})
}

// mayList answers 403 unless the member holds the view permission of k
// (R13): without it the scope matches nothing, and saying so beats an
// empty list that looks like an empty inbox.
func mayList(w http.ResponseWriter, m *teamperm.Member, k teamperm.Kind) bool {
	if p, ok := k.ViewPermission(); ok {
		if d := m.Evaluate(p); !d.Allowed() {
			teamhttp.Deny(w, d)
			return false
		}
	}
	return true
}

func (s *Server) listContacts(w http.ResponseWriter, r *http.Request) {
	m, _ := actor(r)
	if !mayList(w, m, teamperm.KindContact) {
		return
	}
	rows, err := s.contacts(r)
	s.answer(w, r, rows, err)
}

// contacts lists the contacts the member may see, each with the
// instances of theirs the member may see: a contact on Bloom and Acme
// Support is listed for a member restricted to Bloom (R19) as on Bloom
// only, so that the list does not reveal the other instance (issue 12).
func (s *Server) contacts(r *http.Request) ([]Contact, error) {
	m, a := actor(r)
	rows, err := s.store.Contacts(r.Context(), m.Scope(teamperm.KindContact))
	if err != nil || len(rows) == 0 {
		return rows, err
	}
	team, err := s.store.Team(r.Context(), a.Org.ID)
	if err != nil {
		return nil, err
	}
	cat := newCatalog(m, team)
	for i := range rows {
		rows[i].Instances = slices.DeleteFunc(rows[i].Instances, func(in int64) bool { return !cat.instances[in] })
	}
	return rows, nil
}

// exportContacts downloads the contacts the member sees, as CSV; it needs
// contact.export.
func (s *Server) exportContacts(w http.ResponseWriter, r *http.Request) {
	m, _ := actor(r)
	if d := m.Evaluate(teamperm.ContactExport); !d.Allowed() {
		teamhttp.Deny(w, d)
		return
	}
	rows, err := s.contacts(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="contacts.csv"`)
	cw := csv.NewWriter(w)
	cw.Write([]string{"id", "instance_ids", "name", "phone"})
	for _, c := range rows {
		ids := make([]string, len(c.Instances))
		for i, in := range c.Instances {
			ids[i] = strconv.FormatInt(in, 10)
		}
		cw.Write([]string{strconv.FormatInt(c.ID, 10), strings.Join(ids, " "), c.Name, c.Phone})
	}
	cw.Flush()
}

func (s *Server) listConversations(w http.ResponseWriter, r *http.Request) {
	m, _ := actor(r)
	if !mayList(w, m, teamperm.KindConversation) {
		return
	}
	rows, err := s.store.Conversations(r.Context(), m.Scope(teamperm.KindConversation))
	s.answer(w, r, rows, err)
}

// conversation loads conversation {id} and decides p on it. It answers
// and returns false when the conversation is missing or hidden (404) or
// p is not allowed (403). p zero asks only whether it is visible.
func (s *Server) conversation(w http.ResponseWriter, r *http.Request, p teamperm.Permission) (Conversation, bool) {
	m, _ := actor(r)
	id, ok := pathID(r)
	if !ok {
		teamhttp.NotFound(w)
		return Conversation{}, false
	}
	c, err := s.store.Conversation(r.Context(), id)
	if errors.Is(err, errNotFound) {
		teamhttp.NotFound(w)
		return Conversation{}, false
	}
	if err != nil {
		s.fail(w, r, err)
		return Conversation{}, false
	}
	d := m.Visible(c.Record())
	if p != 0 {
		d = m.EvaluateRecord(p, c.Record())
	}
	if !d.Allowed() {
		teamhttp.Deny(w, d)
		return Conversation{}, false
	}
	return c, true
}

func (s *Server) getConversation(w http.ResponseWriter, r *http.Request) {
	if c, ok := s.conversation(w, r, 0); ok {
		writeJSON(w, http.StatusOK, c)
	}
}

func (s *Server) listMessages(w http.ResponseWriter, r *http.Request) {
	m, _ := actor(r)
	c, ok := s.conversation(w, r, 0)
	if !ok {
		return
	}
	rows, err := s.store.Messages(r.Context(), c.ID, m.Scope(teamperm.KindMessage))
	s.answer(w, r, rows, err)
}

type sendBody struct {
	Body string `json:"body"`
}

func (s *Server) sendMessage(w http.ResponseWriter, r *http.Request) {
	_, a := actor(r)
	c, ok := s.conversation(w, r, teamperm.ChatSend)
	if !ok {
		return
	}
	var in sendBody
	if err := decodeJSON(r, &in); err != nil {
		problem(w, http.StatusBadRequest, teamperm.CodeInvalidJSON, err.Error())
		return
	}
	if !checkBody(w, in.Body) {
		return
	}
	msg, err := s.store.AddMessage(r.Context(), Message{Conversation: c.ID, Author: ref(a.ID), Body: in.Body, SentAt: s.now().UTC().Truncate(time.Second)})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.publish(r, c, msg)
	writeJSON(w, http.StatusCreated, msg)
}

type assignBody struct {
	Assignee *int64 `json:"assignee"` // null unassigns
}

// assignConversation needs chat.assign on the conversation; the new
// assignee must be a member of the organisation who can see the
// conversation once assigned (say, not a contractor on another instance).
func (s *Server) assignConversation(w http.ResponseWriter, r *http.Request) {
	_, a := actor(r)
	c, ok := s.conversation(w, r, teamperm.ChatAssign)
	if !ok {
		return
	}
	var in assignBody
	if err := decodeJSON(r, &in); err != nil {
		problem(w, http.StatusBadRequest, teamperm.CodeInvalidJSON, err.Error())
		return
	}
	var to int64
	if in.Assignee != nil {
		to = *in.Assignee
		target, err := s.store.Account(r.Context(), to)
		if errors.Is(err, errNotFound) || err == nil && target.Org.ID != a.Org.ID {
			problem(w, http.StatusUnprocessableEntity, codeInvalidAssignee, "assignee: no such member")
			return
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		tm, err := target.Compile()
		if err != nil {
			s.fail(w, r, err)
			return
		}
		after := c.Record()
		after.Assignee = teamperm.IntID(to)
		if !tm.Visible(after).Allowed() {
			problem(w, http.StatusUnprocessableEntity, codeInvalidAssignee, "assignee: "+target.Name+" cannot see this conversation")
			return
		}
	}
	if err := s.store.Assign(r.Context(), c.ID, to); err != nil {
		s.fail(w, r, err)
		return
	}
	c.Assignee = ref(to)
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) listDeals(w http.ResponseWriter, r *http.Request) {
	m, _ := actor(r)
	rows, err := s.store.Deals(r.Context(), m.Scope(teamperm.KindDeal))
	s.answer(w, r, rows, err)
}

// teamMember loads member {id} of the actor's organisation, for the
// permission endpoints. A member of another organisation does not exist.
func (s *Server) teamMember(w http.ResponseWriter, r *http.Request) (Account, bool) {
	_, a := actor(r)
	id, ok := pathID(r)
	if !ok {
		teamhttp.NotFound(w)
		return Account{}, false
	}
	target, err := s.store.Account(r.Context(), id)
	if errors.Is(err, errNotFound) || err == nil && target.Org.ID != a.Org.ID {
		teamhttp.NotFound(w)
		return Account{}, false
	}
	if err != nil {
		s.fail(w, r, err)
		return Account{}, false
	}
	return target, true
}

// mayView says who may look at a member's settings and inbox: the member,
// and the organisation's owners and admins. teamperm has no permission
// for this; it is the host's rule.
func mayView(m *teamperm.Member, target Account) bool {
	return m.ID() == target.Settings.Member || m.Role() == teamperm.RoleOwner || m.Role() == teamperm.RoleAdmin
}

func (s *Server) getPermissions(w http.ResponseWriter, r *http.Request) {
	m, a := actor(r)
	target, ok := s.teamMember(w, r)
	if !ok {
		return
	}
	if !mayView(m, target) {
		problem(w, http.StatusForbidden, teamperm.CodeForbidden, "only owners and admins see other members' permissions")
		return
	}
	x, err := teamperm.NewMatrix(a.Org.Teamperm(), target.Settings)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	team, err := s.store.Team(r.Context(), a.Org.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cat := newCatalog(m, team)
	body := matrixBody{Matrix: x}
	x.Instances.IDs, body.HiddenInstances = cat.instanceIDs(x.Instances.IDs)
	x.Pipelines.IDs, body.HiddenPipelines = cat.pipelineIDs(x.Pipelines.IDs)
	body.Matrix = x
	w.Header().Set("ETag", etag(target.Settings.Revision))
	writeJSON(w, http.StatusOK, body)
}

// matrixBody is the settings of a member as the viewer may see them:
// teamperm's Matrix with the instances and pipelines the viewer cannot
// see left out of its IDs, and counted (issue 12). Edits keep those as
// they are (see editPermissions).
type matrixBody struct {
	teamperm.Matrix
	HiddenInstances int `json:"hidden_instances"`
	HiddenPipelines int `json:"hidden_pipelines"`
}

// etag is the entity tag of a member's settings: their revision. A client
// sends it back in If-Match with its edits.
func etag(rev uint64) string { return `"` + strconv.FormatUint(rev, 10) + `"` }

// ifMatch reads the revision in an If-Match header: "3" (or 3). ok is
// false for anything else, including a list or *.
func ifMatch(h string) (rev uint64, ok bool) {
	h = strings.TrimSpace(h)
	if len(h) >= 2 && h[0] == '"' && h[len(h)-1] == '"' {
		h = h[1 : len(h)-1]
	}
	rev, err := strconv.ParseUint(h, 10, 64)
	return rev, err == nil
}

type editResult struct {
	Settings teamperm.Settings `json:"settings"`
	Change   teamperm.Change   `json:"change"`
}

// editPermissions applies a JSON array of edits, as the settings page
// sends them, to member {id}. With If-Match (the ETag of GET
// .../permissions: the settings' revision) the edits apply only to that
// revision, else 412; without it, to the revision read here. Either way
// an edit that commits first makes this one 409, never lost.
func (s *Server) editPermissions(w http.ResponseWriter, r *http.Request) {
	target, ok := s.teamMember(w, r)
	if !ok {
		return
	}
	ifRevision := target.Settings.Revision
	if h := r.Header.Get("If-Match"); h != "" {
		rev, ok := ifMatch(h)
		if !ok {
			problem(w, http.StatusBadRequest, codeInvalidIfMatch, `If-Match: want the settings' ETag, such as "3"`)
			return
		}
		if rev != target.Settings.Revision {
			w.Header().Set("ETag", etag(target.Settings.Revision))
			problem(w, http.StatusPreconditionFailed, codePreconditionFailed, fmt.Sprintf("the settings are at revision %d, not %d: reload them and edit again", target.Settings.Revision, rev))
			return
		}
		ifRevision = rev
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		problem(w, http.StatusBadRequest, teamperm.CodeInvalidJSON, err.Error())
		return
	}
	edits, err := teamperm.ParseEdits(body)
	if err != nil {
		teamhttp.Error(w, err) // 400, its code and the JSON Pointer at fault
		return
	}
	// The instances and pipelines the actor cannot see are left out of
	// what GET shows: a set_instances or set_pipelines keeps the target's
	// access to them as it is.
	m, a := actor(r)
	team, err := s.store.Team(r.Context(), a.Org.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	edits = newCatalog(m, team).keepHidden(target.Settings, edits)
	res, status, err := s.edit(r, target, ifRevision, edits)
	if err != nil {
		switch {
		case status == http.StatusInternalServerError:
			s.fail(w, r, err)
		case errors.Is(err, errConflict): // the store's, not teamperm's
			problem(w, http.StatusConflict, codeConflict, err.Error())
		case status == http.StatusNotFound:
			teamhttp.NotFound(w)
		default:
			teamhttp.Error(w, err)
		}
		return
	}
	w.Header().Set("ETag", etag(res.Settings.Revision))
	writeJSON(w, http.StatusOK, res)
}

// edit is the one path by which permissions change, for the API and the
// settings page alike: teamperm's store applies the edits to the target's
// settings at ifRevision in one transaction (teamperm.ApplyEdits checks
// the actor's right to make them, R14 and R16, and the plan), logs the
// change and drops the target from every subscribed cache. On error it
// returns the HTTP status that says why.
func (s *Server) edit(r *http.Request, target Account, ifRevision uint64, edits []teamperm.Edit) (editResult, int, error) {
	m, _ := actor(r)
	change, err := s.store.ApplyEdits(r.Context(), m, target.ID, ifRevision, edits...)
	switch {
	case errors.Is(err, teamperm.ErrUpgradeRequired):
		return editResult{}, http.StatusPaymentRequired, err
	case errors.Is(err, teamperm.ErrEditNotAllowed):
		return editResult{}, http.StatusForbidden, err
	case errors.Is(err, teamperm.ErrStaleMember), errors.Is(err, errConflict):
		// The plan, the actor's or the target's settings changed
		// meanwhile: ask again.
		return editResult{}, http.StatusConflict, err
	case errors.Is(err, errNotFound), errors.Is(err, tpstore.ErrNotFound):
		return editResult{}, http.StatusNotFound, err
	case errors.Is(err, teamperm.ErrInvalidSettings), errors.Is(err, teamperm.ErrInvalidID),
		errors.Is(err, teamperm.ErrUnknownPermission), errors.Is(err, teamperm.ErrUnknownRole):
		return editResult{}, http.StatusBadRequest, err
	case err != nil:
		return editResult{}, http.StatusInternalServerError, err
	}
	s.log.Info("permissions changed", "change", change)
	return editResult{change.After, change}, http.StatusOK, nil
}

// answer writes v as JSON, or fails with err.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, v any, err error) {
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// checkBody answers 400 unless body is a message's text: 1 to 4,096
// characters, not only spaces. Sending and incoming messages share it.
func checkBody(w http.ResponseWriter, body string) bool {
	if strings.TrimSpace(body) == "" || utf8.RuneCountInString(body) > 4096 {
		problem(w, http.StatusBadRequest, codeInvalidBody, "body: want 1 to 4096 characters")
		return false
	}
	return true
}
