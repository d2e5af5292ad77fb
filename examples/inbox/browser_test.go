package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/teamperm/teamperm/internal/testenv"
)

// chromium returns the browser to drive: $CHROME_PATH, or the first of
// chromium, chromium-browser and google-chrome on PATH; "" when none.
func chromium() string {
	if p := os.Getenv("CHROME_PATH"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestBrowser drives headless Chromium through the HTML pages as a person
// would: sign in as the owner, open the support agent's settings, turn
// off "Only view assigned chats", preview the impact, save, and see the
// agent's inbox grow; then sign in as the agent and see the same. Then
// the live view as two restricted members, a preset with its preview,
// and the plan switch to Starter with its preview and the upsell. Set INBOX_SCREENSHOTS to a
// directory to keep screenshots of the pages.
func TestBrowser(t *testing.T) {
	path := testenv.Require(t, chromium(), "Chromium (CHROME_PATH, or chromium on PATH)", "Debian: apt-get install chromium")
	srv := httptest.NewServer(newHandler(newStore(t, "sqlite"))) // 127.0.0.1, a free port
	defer srv.Close()

	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	defer cancelBrowser()
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	shots := os.Getenv("INBOX_SCREENSHOTS")
	screenshot := func(name string) {
		t.Helper()
		if shots == "" {
			return
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err == nil {
			err = os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644)
		}
		if err != nil {
			t.Error(err)
		}
	}
	do := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatal(err)
		}
	}
	eval := func(js string) int {
		t.Helper()
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](js))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	const rows = `document.querySelectorAll("tr.conversation").length`
	const assignedOnly = `document.getElementById("only_assigned_chats").checked ? 1 : 0`

	// Sign in as the owner, on the sign-in page.
	do(chromedp.Navigate(srv.URL+"/"), chromedp.Click(chromedp.ID("signin-1")), chromedp.WaitVisible(chromedp.CSS(".counts")))

	// The support agent's inbox, seen by the owner: the chats assigned to
	// him on Acme Support and Bloom (1, 2, 8).
	do(chromedp.Navigate(srv.URL+"/members/4/inbox"), chromedp.WaitVisible(chromedp.ID("conversations")))
	screenshot("inbox-before")
	if n := eval(rows); n != 3 {
		t.Errorf("the agent's inbox lists %d conversations, want 3", n)
	}

	// The agent's settings: turn off "Only view assigned chats", save.
	do(chromedp.Navigate(srv.URL+"/team/4"), chromedp.WaitVisible(chromedp.ID("only_assigned_chats")))
	screenshot("team-before")
	if eval(assignedOnly) != 1 {
		t.Error(`"Only view assigned chats" is off before the change`)
	}
	// First the impact preview (teamperm.Impact): nothing saved yet, the
	// form shows the toggle off; then save.
	do(chromedp.Click(chromedp.ID("only_assigned_chats")), chromedp.Click(chromedp.ID("preview")), chromedp.WaitVisible(chromedp.ID("impact")))
	screenshot("team-preview")
	if got := text("#impact-widened"); got != "conversations, messages" {
		t.Errorf("preview: sees more %q, want conversations, messages", got)
	}
	if eval(assignedOnly) != 0 {
		t.Error(`the preview's form shows "Only view assigned chats" on`)
	}
	if n := eval(`document.querySelectorAll("li.finding").length`); n == 0 {
		t.Error("no audit findings on the owner's settings page")
	}
	do(chromedp.Click(chromedp.ID("save")), chromedp.WaitVisible(chromedp.ID("saved")))
	screenshot("team-after")
	if got := text("#saved"); got != "Changes saved." || eval(assignedOnly) != 0 {
		t.Errorf(`after saving: notice %q, "Only view assigned chats" %d`, got, eval(assignedOnly))
	}

	// His inbox now: every chat of Acme Support and Bloom (1 to 9).
	do(chromedp.Navigate(srv.URL+"/members/4/inbox"), chromedp.WaitVisible(chromedp.ID("conversations")))
	screenshot("inbox-after")
	if n, count := eval(rows), text("#count-conversations b"); n != 9 || count != "9" {
		t.Errorf("the agent's inbox lists %d conversations (count %q), want 9", n, count)
	}

	// And as the agent himself.
	do(chromedp.Navigate(srv.URL+"/"), chromedp.Click(chromedp.ID("signin-4")), chromedp.WaitVisible(chromedp.ID("conversations")))
	if n := eval(rows); n != 9 {
		t.Errorf("signed in as the agent: %d conversations, want 9", n)
	}
	screenshot("inbox-agent")

	// The live view. A contact writes (the webhook stand-in) into
	// conversations the member may not see, then into one they may: the
	// stream delivers in order, so once the visible one is on the page,
	// a hidden one would be there already.
	incoming := func(conv int64) {
		t.Helper()
		resp, err := http.Post(srv.URL+"/demo/incoming", "application/json", strings.NewReader(fmt.Sprintf(`{"conversation_id":%d,"body":"live %d"}`, conv, conv)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("incoming into %d: %d", conv, resp.StatusCode)
		}
	}
	live := func(member string, hidden []int64, visible int64) {
		t.Helper()
		do(chromedp.Navigate(srv.URL+"/"), chromedp.Click(chromedp.ID("signin-"+member)), chromedp.WaitVisible(chromedp.CSS(".counts")),
			chromedp.WaitReady(chromedp.CSS(`#live[data-state="ready"]`)))
		for _, conv := range hidden {
			incoming(conv)
		}
		incoming(visible)
		do(chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`li.live-message[data-conversation="%d"]`, visible))))
		screenshot("live-" + member)
		got := eval(`document.querySelectorAll("li.live-message").length`)
		if got != 1 {
			t.Errorf("member %s: %d live messages, want only the one of conversation %d: %q", member, got, visible, text("#live"))
		}
	}
	// The contractor, on Atlas only and only his assigned chats: not 1
	// (Acme Support), not 12 (Atlas, unassigned); 10 is his.
	live("8", []int64{1, 12}, 10)
	// The Bloom manager, on Bloom only, every chat of it: not 4 (Acme
	// Support); 9, unassigned on Bloom, she sees.
	live("5", []int64{4, 13}, 9)

	// A preset, as the owner: Rita, a sales representative, becomes a
	// support agent: fewer conversations (her assigned ones), every deal.
	do(chromedp.Navigate(srv.URL+"/"), chromedp.Click(chromedp.ID("signin-1")), chromedp.WaitVisible(chromedp.CSS(".counts")),
		chromedp.Navigate(srv.URL+"/team/9"), chromedp.WaitVisible(chromedp.ID("presets")),
		chromedp.SetValue(chromedp.ID("preset"), "support_agent"), chromedp.Click(chromedp.ID("preset-preview")), chromedp.WaitVisible(chromedp.ID("impact")))
	screenshot("preset-preview")
	if got, want := text("#impact-narrowed")+" / "+text("#impact-widened"), "conversations, messages / deals"; got != want {
		t.Errorf("preset preview: sees less / more %q, want %q", got, want)
	}
	do(chromedp.Click(chromedp.ID("preset-apply")), chromedp.WaitVisible(chromedp.ID("saved")))
	if eval(assignedOnly) != 1 {
		t.Error(`after the preset, "Only view assigned chats" is off`)
	}

	// The plan switch: Pro to Starter, previewed (seven members
	// affected: all but the owner and the unrestricted admin), then made:
	// the upsell appears.
	do(chromedp.Navigate(srv.URL+"/team/4"), chromedp.WaitVisible(chromedp.ID("plan")),
		chromedp.SetValue(chromedp.ID("plan-select"), "starter"), chromedp.Click(chromedp.ID("plan-preview")), chromedp.WaitVisible(chromedp.ID("plan-impact")))
	screenshot("plan-preview")
	if n := eval(`document.querySelectorAll("tr.plan-impact").length`); n != 7 {
		t.Errorf("the plan preview lists %d members, want 7", n)
	}
	do(chromedp.Click(chromedp.ID("plan-switch")), chromedp.WaitVisible(chromedp.ID("upsell")))
	screenshot("starter")
}
