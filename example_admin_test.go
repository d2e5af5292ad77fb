package teamperm_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/teamperm/teamperm"
)

func ExampleApplyEdits() {
	org := teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.PlanPro.Features()}
	admin, _ := teamperm.Compile(org, teamperm.Settings{Member: teamperm.IntID(2), Role: teamperm.RoleAdmin,
		Denies: teamperm.PermissionSetOf(teamperm.ContactExport)})
	agent := teamperm.SupportAgent(teamperm.IntID(42), teamperm.Access{})
	at := time.Date(2026, 11, 26, 17, 0, 0, 0, time.UTC)

	// The admin lets the agent assign chats.
	agent, change, err := teamperm.ApplyEdits(admin, org, agent, at, teamperm.Grant{teamperm.ChatAssign})
	fmt.Println(change, err)

	// The admin may not give what it does not hold itself.
	_, _, err = teamperm.ApplyEdits(admin, org, agent, at, teamperm.Grant{teamperm.ContactExport})
	fmt.Println(errors.Is(err, teamperm.ErrEditNotAllowed))

	// After a downgrade to Starter (the organisation's revision goes up),
	// the admin compiled on Pro is stale and must be compiled again.
	starter := teamperm.Organization{ID: org.ID, Features: teamperm.PlanStarter.Features(), Revision: org.Revision + 1}
	_, _, err = teamperm.ApplyEdits(admin, starter, agent, at, teamperm.Deny{teamperm.ChatSend})
	fmt.Println(errors.Is(err, teamperm.ErrStaleMember))

	// On Starter, fine-grained edits ask for an upgrade.
	admin, _ = teamperm.Compile(starter, teamperm.Settings{Member: teamperm.IntID(2), Role: teamperm.RoleAdmin})
	_, _, err = teamperm.ApplyEdits(admin, starter, agent, at, teamperm.Deny{teamperm.ChatSend})
	fmt.Println(errors.Is(err, teamperm.ErrUpgradeRequired))
	// Output:
	// 2 changed 42 (revision 0 -> 1): grant chat.assign <nil>
	// true
	// true
	// true
}

// What a downgrade from Pro to Starter would change, before it happens.
func ExampleImpact() {
	pro := teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.PlanPro.Features()}
	starter := teamperm.Organization{ID: pro.ID, Features: teamperm.PlanStarter.Features()}
	team := []teamperm.Settings{
		{Member: teamperm.IntID(1), Role: teamperm.RoleOwner},
		teamperm.SupportAgent(teamperm.IntID(42), teamperm.Access{}),
		teamperm.ViewOnlySupervisor(teamperm.IntID(43)),
	}
	impact, err := teamperm.Impact(teamperm.Team{Organization: pro, Members: team}, teamperm.Team{Organization: starter, Members: team})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, mi := range impact {
		fmt.Println(mi.Member, "gains", mi.Gained, "loses", mi.Lost, "sees more", mi.Widened, "stops applying", mi.StopApplying)
	}
	// Output:
	// 42 gains [] loses [] sees more [conversation message] stops applying [only assigned chats]
	// 43 gains [chat.send] loses [chat.assign] sees more [] stops applying [grant chat.assign deny chat.send]
}

func ExampleAudit() {
	org := teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.PlanPro.Features()}
	marketer := teamperm.MarketingTeamMember(teamperm.IntID(21), false)
	marketer.Grants = marketer.Grants.With(teamperm.WebhookManage)
	findings, _ := teamperm.Audit(teamperm.Team{Organization: org, Members: []teamperm.Settings{marketer}})
	for _, f := range findings {
		fmt.Printf("%v %s: %s; %s\n", f.Member, f.Consideration, f.Message, f.Resolve)
	}
	// Output:
	// 21 separation_of_concerns: manages campaigns and can also modify webhooks; deny webhook.manage
	// 21 least_privilege: is granted webhook.manage beyond the member defaults; clear the grant of webhook.manage if it is not needed
	// 21 least_privilege: is granted campaign.manage beyond the member defaults; clear the grant of campaign.manage if it is not needed
}

func ExampleNewMatrix() {
	starter := teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.PlanStarter.Features()}
	m, _ := teamperm.NewMatrix(starter, teamperm.ViewOnlySupervisor(teamperm.IntID(43)))
	for _, p := range m.Categories[1].Permissions { // Chat
		fmt.Println(p.Permission, p.RoleDefault, p.Override, p.Effective, p.Locked)
	}
	fmt.Println(m.UpgradeMessage)
	// Output:
	// chat.view true none true requires_pro
	// chat.send true deny true requires_pro
	// chat.assign false grant false requires_pro
	// Fine-grained permissions require a Pro plan. On free or starter plans, team members use role-based defaults only.
}
