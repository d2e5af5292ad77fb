package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/teamperm/teamperm"
)

// cell returns the text of the element with id in an HTML body.
func cell(body, id string) string {
	m := regexp.MustCompile(`id="` + regexp.QuoteMeta(id) + `">([^<]*)`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

// samForm is the owner's form for Sam's seeded settings, as the page
// submits it.
func samForm(action string) url.Values {
	return url.Values{
		"revision":  {"1"},
		"role":      {"member"},
		"perm":      {"contact.view", "contact.create", "contact.update", "contact.import", "chat.view", "chat.send", "instance.view", "webhook.view", "campaign.view", "workflow.view"},
		"instances": {"specific"}, "instance": {"1", "2"},
		"only_assigned_chats": {"on"},
		"pipelines":           {"all"},
		"action":              {action},
	}
}

func TestSettingsPreview(t *testing.T) {
	s := newStore(t, "sqlite")
	c := client{t, newHandler(s)}
	before := storedSettings(t, s)

	// Turning off only-assigned-chats for Sam: he sees more
	// conversations and messages (R9), nothing else changes; nothing is
	// saved by a preview.
	form := samForm("preview")
	form.Del("only_assigned_chats")
	r := c.form(olivia, "/team/4", form)
	body := string(r.body)
	if r.status != http.StatusOK || !strings.Contains(body, `id="impact"`) {
		t.Fatalf("preview: %d %s", r.status, body)
	}
	if got := cell(body, "impact-widened"); got != "conversations, messages" {
		t.Errorf("preview: sees more %q, want conversations, messages", got)
	}
	if got := cell(body, "impact-edits"); got != "set only assigned chats off" {
		t.Errorf("preview: changes %q", got)
	}
	if !strings.Contains(body, `id="only_assigned_chats"  >`) {
		t.Error("the previewed form does not show the toggle off")
	}
	if after := storedSettings(t, s); after != before {
		t.Errorf("a preview saved something:\n%s\nwant\n%s", after, before)
	}
	// A preview of what the viewer may not do is refused, as the save
	// would be: Bruno (Bloom) cannot widen Carl's chats on Atlas.
	r = c.form(bruno, "/team/8", url.Values{"revision": {"1"}, "role": {"member"},
		"perm":      {"contact.view", "contact.create", "contact.update", "contact.import", "chat.view", "chat.send", "instance.view", "webhook.view", "campaign.view", "workflow.view"},
		"instances": {"specific"}, "pipelines": {"all"}, "action": {"preview"}})
	if r.status != http.StatusForbidden || strings.Contains(string(r.body), `id="impact"`) {
		t.Errorf("Bruno previews widening Carl: %d", r.status)
	}
}

func TestSettingsPresets(t *testing.T) {
	s := newStore(t, "sqlite")
	c := client{t, newHandler(s)}
	ctx := context.Background()
	// Rita, a sales representative, as a support agent on every
	// instance: only her assigned chats (R9: she sees fewer
	// conversations and messages), and every deal again (R10, R11 no
	// longer apply: more deals).
	preset := url.Values{"revision": {"1"}, "preset": {"support_agent"}, "action": {"preset_preview"}}
	before := storedSettings(t, s)
	r := c.form(olivia, "/team/9", preset)
	body := string(r.body)
	if r.status != http.StatusOK {
		t.Fatalf("preset preview: %d %s", r.status, body)
	}
	if got := cell(body, "impact-narrowed"); got != "conversations, messages" {
		t.Errorf("sees less %q", got)
	}
	if got := cell(body, "impact-widened"); got != "deals" {
		t.Errorf("sees more %q", got)
	}
	if after := storedSettings(t, s); after != before {
		t.Errorf("a preset preview saved something")
	}
	preset.Set("action", "preset")
	if r := c.form(olivia, "/team/9", preset); r.status != http.StatusSeeOther {
		t.Fatalf("apply: %d %s", r.status, r.body)
	}
	a, err := s.Account(ctx, rita)
	if err != nil {
		t.Fatal(err)
	}
	want := teamperm.SupportAgent(teamperm.IntID(rita), teamperm.Access{})
	if got := a.Settings; got.Role != want.Role || !got.OnlyAssignedChats || got.OnlyCreatedDeals || got.Pipelines.Specific || got.Instances.Specific || !got.Grants.IsEmpty() || !got.Denies.IsEmpty() {
		t.Errorf("Rita after the preset: %+v, want %+v", got, want)
	}
	// The preset's choices are those the viewer may see: Bruno (Bloom)
	// cannot make Bea a contractor on Atlas.
	r = c.form(bruno, "/team/5", url.Values{"revision": {"1"}, "preset": {"external_contractor"}, "preset_instance": {"3"}, "action": {"preset"}})
	if r.status != http.StatusBadRequest {
		t.Errorf("Bruno applies a preset with a hidden instance: %d", r.status)
	}
	// A preset needing a choice without it is refused with a reason.
	r = c.form(olivia, "/team/5", url.Values{"revision": {"1"}, "preset": {"sales_representative"}, "action": {"preset"}})
	if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "needs their pipelines") {
		t.Errorf("sales representative without pipelines: %d", r.status)
	}
}

func TestSettingsAuditAndHistory(t *testing.T) {
	s := newStore(t, "sqlite")
	c := client{t, newHandler(s)}
	page := func(viewer, member int64) string {
		t.Helper()
		r := c.do(viewer, "GET", fmt.Sprintf("/team/%d", member), "")
		if r.status != http.StatusOK {
			t.Fatalf("team page: %d", r.status)
		}
		return string(r.body)
	}
	team, err := s.Team(context.Background(), acme)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := teamperm.Audit(team.Teamperm())
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []int64{olivia, adam, bruno} {
		if n := strings.Count(page(v, v), `<li class="finding">`); n != len(fs) || n == 0 {
			t.Errorf("member %d sees %d findings, want the team's %d", v, n, len(fs))
		}
	}
	if strings.Contains(page(sam, sam), `id="audit"`) {
		t.Error("a member sees the team's audit")
	}
	// The history names instances as the viewer may see them: the seed
	// gave Sam Acme Support and Bloom.
	if body := page(olivia, sam); !strings.Contains(body, "set instances Acme Support, Bloom") {
		t.Error("the owner's history of Sam does not name his instances")
	}
	if body := page(bruno, sam); !strings.Contains(body, "set instances Bloom and 1 other instance you cannot see") {
		t.Error("Bruno's history of Sam does not count the hidden instance")
	}
}

func TestSettingsPlanSwitch(t *testing.T) {
	s := newStore(t, "sqlite")
	c := client{t, newHandler(s)}
	ctx := context.Background()
	for _, v := range []int64{adam, sam} {
		if r := c.form(v, "/plan", url.Values{"plan": {"starter"}, "action": {"switch"}}); r.status != http.StatusForbidden {
			t.Errorf("member %d switches the plan: %d", v, r.status)
		}
	}
	if strings.Contains(string(c.do(adam, "GET", "/team/2", "").body), `id="plan"`) {
		t.Error("an admin sees the plan switch")
	}
	// The preview: on Starter, every member whose stored settings
	// differ from the role defaults is affected (R4): Bruno, Sam, Bea,
	// Mark, Vera, Carl and Rita; not the owner, not Adam.
	r := c.form(olivia, "/plan", url.Values{"plan": {"starter"}, "action": {"preview"}, "back": {"4"}})
	body := string(r.body)
	if r.status != http.StatusOK || !strings.Contains(body, `id="plan-impact"`) {
		t.Fatalf("plan preview: %d", r.status)
	}
	rows := regexp.MustCompile(`<tr class="plan-impact"><td>([^<]*)</td>`).FindAllStringSubmatch(body, -1)
	var names []string
	for _, m := range rows {
		names = append(names, m[1])
	}
	if got, want := strings.Join(names, ", "), "Bruno Braga, Sam Silva, Bea Brooks, Mark Meyer, Vera Voss, Carl Cruz, Rita Reyes"; got != want {
		t.Errorf("plan preview lists %s, want %s", got, want)
	}
	if a, _ := s.Account(ctx, olivia); a.Org.Plan != teamperm.PlanPro {
		t.Errorf("a preview switched the plan to %s", a.Org.Plan)
	}
	if r := c.form(olivia, "/plan", url.Values{"plan": {"starter"}, "action": {"switch"}, "back": {"4"}}); r.status != http.StatusSeeOther || r.header.Get("Location") != "/team/4?saved=1" {
		t.Fatalf("switch: %d %q", r.status, r.header.Get("Location"))
	}
	if body := string(c.do(olivia, "GET", "/team/4", "").body); !strings.Contains(body, `id="upsell"`) {
		t.Error("no upsell on Starter")
	}
	if r := c.form(olivia, "/plan", url.Values{"plan": {"platinum"}, "action": {"switch"}}); r.status != http.StatusBadRequest {
		t.Errorf("an unknown plan: %d", r.status)
	}
}
