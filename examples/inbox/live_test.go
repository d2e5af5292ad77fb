package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/teamperm/teamperm"
)

// liveClient is one member's open event stream, read in the background.
type liveClient struct {
	member int64
	resp   *http.Response

	mu       sync.Mutex
	messages []Message
	syncs    []string
	changed  chan struct{} // gets a value after every event
}

// subscribeLive opens GET /api/events as member on the server at url and
// returns once the stream's "ready" event has arrived.
func subscribeLive(t *testing.T, url string, member int64) *liveClient {
	t.Helper()
	req, err := http.NewRequest("GET", url+"/api/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Member", strconv.FormatInt(member, 10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Fatalf("GET /api/events as %d: %d %s", member, resp.StatusCode, body)
	}
	c := &liveClient{member: member, resp: resp, changed: make(chan struct{}, 1)}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(resp.Body)
		var name string
		var data []string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				data = append(data, strings.TrimPrefix(line, "data: "))
			case line == "":
				c.mu.Lock()
				switch name {
				case "ready":
					close(ready)
				case "message":
					var m Message
					if err := json.Unmarshal([]byte(strings.Join(data, "\n")), &m); err != nil {
						t.Errorf("member %d: event %q: %v", member, data, err)
					}
					c.messages = append(c.messages, m)
				case "sync":
					c.syncs = append(c.syncs, strings.Join(data, "\n"))
				}
				c.mu.Unlock()
				select {
				case c.changed <- struct{}{}:
				default:
				}
				name, data = "", nil
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatalf("member %d: no ready event", member)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return c
}

// waitSync waits until the stream has delivered the sync event token:
// every event published before it has arrived by then.
func (c *liveClient) waitSync(t *testing.T, token string) []Message {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		c.mu.Lock()
		done := slices.Contains(c.syncs, token)
		msgs := slices.Clone(c.messages)
		c.mu.Unlock()
		if done {
			return msgs
		}
		select {
		case <-c.changed:
		case <-deadline:
			t.Fatalf("member %d: sync %q never arrived", c.member, token)
		}
	}
}

// TestLiveAudience: several members hold the live stream open while
// random messages arrive on every instance and conversation, some sent
// by members, with assignments, permission edits and plan switches in
// between. Each subscriber must receive exactly the messages that its
// member, compiled afresh from the store when the message arrived, may
// see by EvaluateRecord (chat.view on the message): nothing outside its
// audience, ever, and nothing within it lost.
func TestLiveAudience(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("INBOX_LIVE_SEED"); v != "" {
		seed, _ = strconv.ParseUint(v, 10, 64)
	}
	forEachEngine(t, func(t *testing.T, s *SQLStore) {
		t.Logf("INBOX_LIVE_SEED=%d", seed)
		rng := rand.New(rand.NewPCG(seed, 13))
		srv := NewServer(s, func() time.Time { return testNow }, slog.New(slog.NewTextHandler(io.Discard, nil)))
		ts := httptest.NewServer(srv.Handler())
		defer ts.Close()
		defer srv.Close() // ends the streams, so that ts.Close does not wait for them
		c := client{t, srv.Handler()}
		ctx := context.Background()

		members := []int64{gina}
		for _, m := range team {
			members = append(members, m.id)
		}
		subs := map[int64]*liveClient{}
		for _, id := range members {
			subs[id] = subscribeLive(t, ts.URL, id)
		}
		want := map[int64][]int64{} // member: message IDs, in order
		convs := append(span(1, 13), 51)
		// expect records who may see message msg of conversation conv, as
		// the store says now: each member compiled from their account,
		// not through the server's cache or audience.
		expect := func(conv, msg int64) {
			t.Helper()
			cv, err := s.Conversation(ctx, conv)
			if err != nil {
				t.Fatal(err)
			}
			rec := cv.Record()
			rec.Kind = teamperm.KindMessage
			for _, id := range members {
				a, err := s.Account(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				m, err := a.Compile()
				if err != nil {
					t.Fatal(err)
				}
				if m.EvaluateRecord(teamperm.ChatView, rec).Allowed() {
					want[id] = append(want[id], msg)
				}
			}
		}
		posted := 0
		for step := range 60 {
			switch op := rng.IntN(10); {
			case op < 5: // a contact writes
				conv := convs[rng.IntN(len(convs))]
				r := c.do(0, "POST", "/demo/incoming", fmt.Sprintf(`{"conversation_id":%d,"body":"step %d"}`, conv, step))
				if r.status != http.StatusCreated {
					t.Fatalf("incoming into %d: %d %s", conv, r.status, r.body)
				}
				var m Message
				if err := json.Unmarshal(r.body, &m); err != nil {
					t.Fatal(err)
				}
				expect(conv, m.ID)
				posted++
			case op < 7: // a member writes, where they may
				by, conv := members[rng.IntN(len(members))], convs[rng.IntN(len(convs))]
				r := c.do(by, "POST", fmt.Sprintf("/api/conversations/%d/messages", conv), fmt.Sprintf(`{"body":"reply %d"}`, step))
				if r.status == http.StatusCreated {
					var m Message
					if err := json.Unmarshal(r.body, &m); err != nil {
						t.Fatal(err)
					}
					expect(conv, m.ID)
					posted++
				}
			case op < 8: // the owner reassigns a conversation to someone who can see it, or nobody
				conv := convs[rng.IntN(len(convs)-1)]
				to := "null"
				if rng.IntN(4) > 0 {
					to = strconv.FormatInt(team[rng.IntN(len(team))].id, 10)
				}
				r := c.do(olivia, "POST", fmt.Sprintf("/api/conversations/%d/assign", conv), `{"assignee":`+to+`}`)
				if r.status != http.StatusOK && r.status != http.StatusUnprocessableEntity {
					t.Fatalf("assign %d to %s: %d %s", conv, to, r.status, r.body)
				}
			case op < 9: // the owner edits a member's settings
				target := []int64{sam, bea, carl, vera}[rng.IntN(4)]
				var edit string
				switch rng.IntN(3) {
				case 0:
					edit = fmt.Sprintf(`[{"op":"set_only_assigned_chats","on":%t}]`, rng.IntN(2) == 0)
				case 1:
					var ids []string
					for _, in := range []int64{mainLine, bloom, atlas} {
						if rng.IntN(2) == 0 {
							ids = append(ids, strconv.FormatInt(in, 10))
						}
					}
					edit = `[{"op":"set_instances","instances":[` + strings.Join(ids, ",") + `]}]`
				default:
					op := "deny"
					if rng.IntN(2) == 0 {
						op = "clear_override"
					}
					edit = `[{"op":"` + op + `","permission":"chat.view"}]`
				}
				r := c.do(olivia, "POST", fmt.Sprintf("/api/members/%d/permissions", target), edit)
				if r.status != http.StatusOK && r.status != http.StatusPaymentRequired {
					t.Fatalf("edit %d with %s: %d %s", target, edit, r.status, r.body)
				}
			default: // the plan changes
				plan := teamperm.PlanPro
				if rng.IntN(2) == 0 {
					plan = teamperm.PlanStarter
				}
				if err := s.SetPlan(ctx, acme, plan); err != nil {
					t.Fatal(err)
				}
			}
		}
		srv.hub.sync(acme, "end")
		srv.hub.sync(globex, "end")
		leaks := 0
		for _, id := range members {
			var got []int64
			for _, m := range subs[id].waitSync(t, "end") {
				got = append(got, m.ID)
			}
			if !slices.Equal(got, want[id]) {
				t.Errorf("member %d received messages %v, want %v", id, got, want[id])
			}
			for _, m := range got {
				if !slices.Contains(want[id], m) {
					leaks++
				}
			}
		}
		if leaks > 0 {
			t.Errorf("%d messages reached members outside their audience", leaks)
		}
		t.Logf("%d messages, %d deliveries checked", posted, func() (n int) {
			for _, w := range want {
				n += len(w)
			}
			return n
		}())
	})
}

// TestLiveFailsClosed: the stream needs a member who may see messages,
// and the webhook stand-in refuses what is not a message.
func TestLiveFailsClosed(t *testing.T) {
	s := newStore(t, "sqlite")
	c := client{t, newHandler(s)}
	for _, member := range []int64{0, 999} {
		if r := c.do(member, "GET", "/api/events", ""); r.status != http.StatusUnauthorized {
			t.Errorf("events as %d: %d, want 401", member, r.status)
		}
	}
	// Without chat.view, no stream: 403, as for the list.
	if r := c.do(olivia, "POST", "/api/members/4/permissions", `[{"op":"deny","permission":"chat.view"}]`); r.status != http.StatusOK {
		t.Fatalf("deny chat.view: %d %s", r.status, r.body)
	}
	if r := c.do(sam, "GET", "/api/events", ""); r.status != http.StatusForbidden {
		t.Errorf("events without chat.view: %d, want 403", r.status)
	}
	before := rowCount(t, s, "messages")
	for _, body := range []string{`{"conversation_id":9999,"body":"hi"}`, `{"conversation_id":1,"body":" "}`, `{"conversation_id":1}`, `nope`} {
		if r := c.do(0, "POST", "/demo/incoming", body); r.status != http.StatusUnprocessableEntity && r.status != http.StatusBadRequest {
			t.Errorf("incoming %s: %d %s", body, r.status, r.body)
		}
	}
	if n := rowCount(t, s, "messages"); n != before {
		t.Errorf("%d messages stored by refused requests", n-before)
	}
}
