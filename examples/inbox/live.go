package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/teamperm/teamperm"
)

// The live view: GET /api/events is a stream of server-sent events (the
// standard library's http.ResponseController, no dependency) carrying
// every new message of the organisation to each connected member who may
// see it, and to nobody else: the members a message goes to are those of
// a teamperm.Audience, each one's own EvaluateRecord(chat.view) on the
// message's record.
//
// The audience is built from the server's cache of compiled members and
// dropped whenever the store says an organisation or one of its members
// changed (the hub is an Invalidator subscribed after the cache), so the
// next message is decided on the new settings or plan.

// liveBuffer is how many events a subscriber may be behind before the hub
// drops it (the browser's EventSource reconnects).
const liveBuffer = 64

// A hub holds the live subscribers and each organisation's audience.
type hub struct {
	store Store
	cache *teamperm.Cache
	log   *slog.Logger

	mu   sync.Mutex
	orgs map[int64]*orgHub
	done chan struct{} // closed by close: every stream ends
}

type orgHub struct {
	subs map[*subscriber]struct{}
	aud  *teamperm.Audience // nil: to be built
	gen  uint64             // counts invalidations, so that a build raced by one is not kept
}

// A subscriber is one open event stream of a member.
type subscriber struct {
	org, member int64
	events      chan liveEvent
	gone        chan struct{} // closed when the hub drops the subscriber
}

type liveEvent struct {
	name string
	data []byte
}

func newHub(store Store, cache *teamperm.Cache, log *slog.Logger) *hub {
	return &hub{store: store, cache: cache, log: log, orgs: map[int64]*orgHub{}, done: make(chan struct{})}
}

// org returns the state of organisation id; h.mu is held.
func (h *hub) org(id int64) *orgHub {
	o := h.orgs[id]
	if o == nil {
		o = &orgHub{subs: map[*subscriber]struct{}{}}
		h.orgs[id] = o
	}
	return o
}

func (h *hub) subscribe(org, member int64) *subscriber {
	s := &subscriber{org: org, member: member, events: make(chan liveEvent, liveBuffer), gone: make(chan struct{})}
	h.mu.Lock()
	h.org(org).subs[s] = struct{}{}
	h.mu.Unlock()
	return s
}

func (h *hub) unsubscribe(s *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if o := h.orgs[s.org]; o != nil {
		if _, ok := o.subs[s]; ok {
			delete(o.subs, s)
			close(s.gone)
		}
	}
}

// close ends every stream, for a server shutting down.
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	select {
	case <-h.done:
	default:
		close(h.done)
	}
}

// The hub is an Invalidator (store.Invalidator): it drops the audience of
// the organisation that changed. It runs after the cache's invalidation,
// so a rebuild compiles the new state.

func (h *hub) InvalidateMember(org, member teamperm.ID) { h.InvalidateOrganization(org) }

func (h *hub) InvalidateOrganization(org teamperm.ID) {
	id, ok := org.Int()
	h.mu.Lock()
	defer h.mu.Unlock()
	if !ok { // not an organisation of this service's: drop everything
		h.dropAllLocked()
		return
	}
	o := h.org(id)
	o.aud, o.gen = nil, o.gen+1
}

func (h *hub) InvalidateAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.dropAllLocked()
}

func (h *hub) dropAllLocked() {
	for _, o := range h.orgs {
		o.aud, o.gen = nil, o.gen+1
	}
}

// audience returns the organisation's audience, building it from the
// cache's current members when it was dropped. A build that an
// invalidation overtook is built again.
func (h *hub) audience(ctx context.Context, org int64) (*teamperm.Audience, error) {
	for range 5 {
		h.mu.Lock()
		o := h.org(org)
		aud, gen := o.aud, o.gen
		h.mu.Unlock()
		if aud != nil {
			return aud, nil
		}
		aud, err := h.build(ctx, org)
		if errors.Is(err, teamperm.ErrStaleMember) {
			continue // the plan changed while the members were loaded
		}
		if err != nil {
			return nil, err
		}
		h.mu.Lock()
		kept := o.gen == gen
		if kept {
			o.aud = aud
		}
		h.mu.Unlock()
		if kept {
			return aud, nil
		}
	}
	return nil, fmt.Errorf("the audience of organisation %d: the team kept changing while it was built", org)
}

// build compiles the organisation's current members through the cache
// and indexes them. A member whose settings do not compile is left out,
// and logged: they receive nothing (fail closed), as their requests fail.
func (h *hub) build(ctx context.Context, org int64) (*teamperm.Audience, error) {
	ids, err := h.store.MemberIDs(ctx, org)
	if err != nil {
		return nil, err
	}
	members := make([]*teamperm.Member, 0, len(ids))
	for _, id := range ids {
		m, err := h.cache.Member(ctx, teamperm.IntID(org), teamperm.IntID(id))
		if errors.Is(err, teamperm.ErrStaleMember) || errors.Is(err, context.Canceled) {
			return nil, err
		}
		if err != nil {
			h.log.Error("live view: member left out of the audience", "org", org, "member", id, "err", err)
			continue
		}
		members = append(members, m)
	}
	return teamperm.NewAudience(members...)
}

// publish sends a new message of conversation c to every subscriber of
// c's organisation who may see it: the audience of chat.view on the
// message's record. A subscriber too far behind is dropped rather than
// waited for.
func (h *hub) publish(ctx context.Context, c Conversation, msg Message) error {
	aud, err := h.audience(ctx, c.Org)
	if err != nil {
		return err
	}
	rec := c.Record()
	rec.Kind = teamperm.KindMessage
	allowed := map[int64]bool{}
	for _, d := range aud.Append(nil, teamperm.ChatView, rec) {
		if id, ok := d.Member().Int(); ok {
			allowed[id] = true
		}
	}
	data, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	ev := liveEvent{name: "message", data: data}
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.org(c.Org).subs {
		if !allowed[s.member] {
			continue
		}
		select {
		case s.events <- ev:
		default:
			delete(h.orgs[c.Org].subs, s)
			close(s.gone)
		}
	}
	return nil
}

// sync sends every subscriber of org the event "sync" with data token,
// in order after every message published before: a client (a test) that
// receives it has received all of them.
func (h *hub) sync(org int64, token string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.org(org).subs {
		select {
		case s.events <- liveEvent{name: "sync", data: []byte(token)}:
		default:
			delete(h.orgs[org].subs, s)
			close(s.gone)
		}
	}
}

// liveHeartbeat is how often an idle stream gets a comment, so that
// proxies and the browser keep it open.
const liveHeartbeat = 15 * time.Second

// events streams the member's live events until the client goes away,
// the hub drops the subscriber, or the server shuts down. The first event,
// "ready", says the subscription is in place.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	m, a := actor(r)
	if !mayList(w, m, teamperm.KindMessage) {
		return
	}
	rc := http.NewResponseController(w)
	// The server's WriteTimeout is for ordinary requests, not a stream.
	if err := rc.SetWriteDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		s.fail(w, r, err)
		return
	}
	sub := s.hub.subscribe(a.Org.ID, a.ID)
	defer s.hub.unsubscribe(sub)

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(ev liveEvent) bool {
		if ev.name != "" {
			fmt.Fprintf(w, "event: %s\n", ev.name)
		}
		for _, line := range strings.Split(string(ev.data), "\n") {
			fmt.Fprintf(w, "data: %s\n", line)
		}
		_, err := fmt.Fprint(w, "\n")
		return err == nil && rc.Flush() == nil
	}
	fmt.Fprint(w, "retry: 2000\n")
	if !send(liveEvent{name: "ready", data: []byte(`{}`)}) {
		return
	}
	tick := time.NewTicker(liveHeartbeat)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.hub.done:
			return
		case <-sub.gone:
			return
		case <-tick.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		case ev := <-sub.events:
			if !send(ev) {
				return
			}
		}
	}
}

type incomingBody struct {
	Conversation int64  `json:"conversation_id"`
	Body         string `json:"body"`
}

// incoming stores a message from a contact, as the WhatsApp provider's
// webhook would deliver it, and pushes it to the live view. It is the
// demo's stand-in for that webhook: it takes no member (a real one checks
// the provider's signature instead), and it answers the same for every
// caller, so it tells no member anything about conversations they cannot
// see.
func (s *Server) incoming(w http.ResponseWriter, r *http.Request) {
	var in incomingBody
	if err := decodeJSON(r, &in); err != nil {
		problem(w, http.StatusBadRequest, teamperm.CodeInvalidJSON, err.Error())
		return
	}
	if !checkBody(w, in.Body) {
		return
	}
	c, err := s.store.Conversation(r.Context(), in.Conversation)
	if errors.Is(err, errNotFound) {
		problem(w, http.StatusUnprocessableEntity, codeNoConversation, "conversation_id: no such conversation")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	msg, err := s.store.AddMessage(r.Context(), Message{Conversation: c.ID, Body: in.Body, SentAt: s.now().UTC().Truncate(time.Second)})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.publish(r, c, msg)
	writeJSON(w, http.StatusCreated, msg)
}

// publish pushes a stored message to the live view. The message is
// stored whatever happens here: a failure is logged, and the members
// see the message when they next load the conversation.
func (s *Server) publish(r *http.Request, c Conversation, msg Message) {
	if err := s.hub.publish(r.Context(), c, msg); err != nil {
		s.log.Error("live view: message not pushed", "conversation", c.ID, "message", msg.ID, "err", err)
	}
}
