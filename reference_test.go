package teamperm_test

// Reference model of teamperm, written only from PRODUCT.md (rules R1..R15)
// and seed/permissions.txt (the product page). It is deliberately plain: a
// direct transcription of the text, with no shared code or ideas from the
// engine. Speed does not matter here.
//
// Facts taken from the project's issues (not in the two files):
//   - Tenant isolation: a record whose Org differs from the member's
//     organisation (or is "") is never visible.
//   - View permission per kind (R13): contact -> contact.view;
//     conversation, message -> chat.view; instance -> instance.view;
//     campaign -> campaign.view; webhook -> webhook.view;
//     workflow -> workflow.view; deal -> none.
//   - Unknown kind, permission name, role or plan: deny.
//   - refDecide: visibility first ("not_found"), then the permission
//     ("forbidden"), else "allow".
//
// Decisions where the two files are silent (least privilege, fail closed):
//
//  1. Member/org mismatch: a member whose Org differs from the org's ID (or
//     an org with ID "") gets nothing: no permission, no visible record.
//  2. Plan spelling: only the exact strings "", "free", "starter", "pro" are
//     known ("" is Free, R4). Anything else (also "Pro") is an unknown plan
//     and everybody, the Owner included, gets nothing.
//  3. Role spelling: only the exact strings "owner", "admin", "member" are
//     known. A member with role "" or an unknown role gets nothing at all:
//     no permission even if a Grants override names it on Pro, and no
//     visible record, not even deals ("membership" for deals means having
//     a known role).
//  4. Unknown names in stored overrides: R15 says such settings are rejected
//     with an error, so the engine cannot build a view of that member. The
//     model fails closed: a member whose Grants or Denies contain a name
//     that is not one of the 17 permissions gets nothing (no permission, no
//     visible record), on every plan and for every role, Owner included.
//  5. Struct zero values are taken literally and are the restrictive ones:
//     AllInstances=false with an empty Instances set sees no instance-bound
//     record (R7), and AllPipelines=false with an empty Pipelines set sees no
//     deal (for Members on Pro). Both are ignored on Free/Starter and for
//     Owners (and pipelines also for Admins).
//  6. NULL instance: for an instance-restricted member (Pro, not Owner), an
//     instance-bound record with Instance "" is hidden. For a member with
//     All instances it is visible. An "" entry in Instances never matches.
//  7. Which kinds are instance-bound: exactly R7's list, contact,
//     conversation, message, instance, campaign, webhook. Workflows and
//     deals are not instance-bound: their Instance field is ignored.
//  8. Only-assigned-chats (R9) applies to Members and to Admins on Pro (R5
//     only exempts Owners from toggles; least privilege). It hides every
//     conversation and message whose (conversation's) Assignee is not the
//     member's own ID, including unassigned ones (Assignee ""). It does not
//     touch contacts or any other kind.
//  9. A member ID "" never matches an Assignee or a Creator.
// 10. Only-created-deals (R10): Members only, Pro only. A deal is visible when
//     CreatorKind is "member" and Creator is the member's ID; or CreatorKind
//     is "automation" and the deal's Assignee is the member's ID; or
//     CreatorKind is "" (legacy, no creator tracking: the Creator field is
//     then ignored). A "member"-created deal of a colleague that is assigned
//     to this member stays hidden; an unknown CreatorKind (e.g. "system") is
//     hidden.
// 11. Pipeline assignments (R11): Members only, Pro only. With
//     AllPipelines=false, a deal is visible only if its Pipeline is non-empty
//     and in Pipelines; a deal with Pipeline "" is hidden. ANDed with R10.
// 12. Overrides on Admins (Pro): Denies remove permissions; Grants change
//     nothing (Admins hold all). Deny wins over grant for the same name (R6).
// 13. Visibility needs the kind's view permission after overrides (R13): e.g.
//     a Pro member denied contact.view sees no contact, so any record-level
//     action on a contact is "not_found", not "forbidden".
// 14. Instance restriction and toggles only affect visibility, never
//     refAllowed: e.g. a member with an empty instance set still holds
//     instance.view as a permission.

import (
	"slices"
	"testing"
)

// R3 and the seed's "Permission categories" (Contacts, Chat, Instances,
// Webhooks, Campaigns, Workflows), in the seed's order.
func refPermissions() []string {
	return []string{
		// Contacts: View, Create, Update, Delete, Export, Import
		"contact.view", "contact.create", "contact.update", "contact.delete", "contact.export", "contact.import",
		// Chat: View, Send, Assign
		"chat.view", "chat.send", "chat.assign",
		// Instances: View, Manage
		"instance.view", "instance.manage",
		// Webhooks: View, Manage
		"webhook.view", "webhook.manage",
		// Campaigns: View, Manage
		"campaign.view", "campaign.manage",
		// Workflows: View, Manage
		"workflow.view", "workflow.manage",
	}
}

// R2, seed "Role defaults", Member column: the rows marked "Yes".
// (Contact: View, Create, Update, Import; Chat: View, Send; Instance: View;
// Webhook: View; Campaign: View; Workflow: View.)
func refMemberDefault(perm string) bool {
	return slices.Contains([]string{
		"contact.view", "contact.create", "contact.update", "contact.import",
		"chat.view", "chat.send",
		"instance.view",
		"webhook.view",
		"campaign.view",
		"workflow.view",
	}, perm)
}

// R4: "The zero plan is Free." Plans are Free, Starter, Pro. Decision 2.
func refKnownPlan(plan string) bool {
	return plan == "" || plan == "free" || plan == "starter" || plan == "pro"
}

// R4: "Only a plan with the fine-grained feature (Pro) honours a member's
// stored settings"; seed: "Fine-grained permissions require a Pro plan. On
// free or starter plans, team members use role-based defaults only."
func refHonoursSettings(o refOrg) bool {
	return o.Plan == "pro"
}

// R1: roles Owner, Admin, Member; "" or unknown grants nothing. Decision 3.
func refKnownRole(role string) bool {
	return role == "owner" || role == "admin" || role == "member"
}

// Gate in front of everything: decisions 1, 2, 3, 4 (R1, R15, unknown plan).
func refUsable(o refOrg, m refMember) bool {
	if o.ID == "" || m.Org != o.ID {
		return false // decision 1
	}
	if !refKnownPlan(o.Plan) {
		return false // unknown plan: deny (decision 2)
	}
	if !refKnownRole(m.Role) {
		return false // R1: zero or unknown role grants nothing (decision 3)
	}
	for _, name := range m.Grants {
		if !slices.Contains(refPermissions(), name) {
			return false // R15: unknown permission in settings (decision 4)
		}
	}
	for _, name := range m.Denies {
		if !slices.Contains(refPermissions(), name) {
			return false // R15: unknown permission in settings (decision 4)
		}
	}
	return true
}

func refAllowed(o refOrg, m refMember, perm string) bool {
	if !refUsable(o, m) {
		return false
	}
	// Unknown permission name: deny.
	if !slices.Contains(refPermissions(), perm) {
		return false
	}
	// R5: "Owners cannot be restricted: no override ... applies to an Owner."
	// R2: "Owner and Admin have every permission by default."
	if m.Role == "owner" {
		return true
	}
	// R2: role defaults. Seed: "Admins have full access to all permissions by
	// default."
	var byDefault bool
	if m.Role == "admin" {
		byDefault = true
	} else {
		byDefault = refMemberDefault(perm)
	}
	// R4: on Free and Starter every member gets exactly the role defaults.
	if !refHonoursSettings(o) {
		return byDefault
	}
	// R6: overrides grant or deny single permissions on top of the role
	// defaults; deny wins over grant for the same permission.
	if slices.Contains(m.Denies, perm) {
		return false
	}
	if slices.Contains(m.Grants, perm) {
		return true
	}
	return byDefault
}

// R13 (with the issues' per-kind table): the view permission a kind needs.
// known is false for an unknown kind; perm is "" for deals (no permission).
func refViewPermission(kind string) (perm string, known bool) {
	switch kind {
	case "contact":
		return "contact.view", true
	case "conversation", "message":
		return "chat.view", true
	case "instance":
		return "instance.view", true
	case "campaign":
		return "campaign.view", true
	case "webhook":
		return "webhook.view", true
	case "workflow":
		return "workflow.view", true
	case "deal":
		return "", true // "Deals need no permission beyond membership."
	}
	return "", false
}

// R7: "A restricted member sees contacts, conversations, messages, instances,
// campaigns and webhooks only from allowed instances." Decision 7.
func refInstanceBound(kind string) bool {
	switch kind {
	case "contact", "conversation", "message", "instance", "campaign", "webhook":
		return true
	}
	return false
}

// R10 / seed "Only view created deals": "Members only see deals they
// personally created", "Deals created by workflows or automations (assigned
// to the member) are also visible", "Legacy deals without creator tracking
// remain visible to all members". Decisions 9 and 10.
func refDealCountsAsOwn(m refMember, r refRecord) bool {
	if r.CreatorKind == "" {
		return true // legacy: no creator tracking
	}
	if m.ID == "" {
		return false // decision 9
	}
	if r.CreatorKind == "member" {
		return r.Creator == m.ID
	}
	if r.CreatorKind == "automation" {
		return r.Assignee == m.ID
	}
	return false // unknown creator kind
}

func refVisible(o refOrg, m refMember, r refRecord) bool {
	if !refUsable(o, m) {
		return false
	}
	// Issues: tenant isolation.
	if r.Org == "" || r.Org != m.Org {
		return false
	}
	// Issues: unknown kind is never visible.
	viewPerm, known := refViewPermission(r.Kind)
	if !known {
		return false
	}
	// R13: listing a kind needs its view permission; without it the scope
	// matches nothing. Deals need none.
	if viewPerm != "" && !refAllowed(o, m, viewPerm) {
		return false
	}
	// R5: no instance restriction or toggle applies to an Owner.
	if m.Role == "owner" {
		return true
	}
	// R4: on Free/Starter stored settings are not honoured: role defaults
	// only, and role defaults restrict no record.
	if !refHonoursSettings(o) {
		return true
	}
	// R7 + seed "Other instances are completely hidden": instance-bound
	// records only from allowed instances; an empty set sees none.
	// Decisions 5, 6, 7.
	// R19: a record may belong to several instances (a contact who wrote
	// to two numbers); it is seen when at least one of them is allowed, and
	// none (or only NULLs) hides it.
	if refInstanceBound(r.Kind) && !m.AllInstances {
		seen := false
		for _, inst := range append([]string{r.Instance}, r.MoreInstances...) {
			if inst != "" && slices.Contains(m.Instances, inst) {
				seen = true
			}
		}
		if !seen {
			return false
		}
	}
	// R9 + seed "Only view assigned chats": only conversations assigned to
	// the member, and only those conversations' messages; unassigned ones are
	// hidden; contacts are not restricted. Decisions 8 and 9.
	if m.OnlyAssignedChats && (r.Kind == "conversation" || r.Kind == "message") {
		if m.ID == "" || r.Assignee != m.ID {
			return false
		}
	}
	// R10 and R11 apply to Members only ("Owners and admins always see all
	// deals regardless of this setting").
	if r.Kind == "deal" && m.Role == "member" {
		// R10: only-view-created-deals.
		if m.OnlyCreatedDeals && !refDealCountsAsOwn(m, r) {
			return false
		}
		// R11: pipeline assignments, ANDed with R10. Decisions 5 and 11.
		if !m.AllPipelines {
			if r.Pipeline == "" {
				return false
			}
			if !slices.Contains(m.Pipelines, r.Pipeline) {
				return false
			}
		}
	}
	return true
}

// R12 + R8: the record must be visible first (else "not_found", never
// "forbidden", so existence does not leak), then the permission (else
// "forbidden").
func refDecide(o refOrg, m refMember, perm string, r refRecord) string {
	if !refVisible(o, m, r) {
		return "not_found"
	}
	if !refAllowed(o, m, perm) {
		return "forbidden"
	}
	return "allow"
}

type refOrg struct {
	ID   string // "" never happens for the org itself
	Plan string // "free", "starter", "pro"
}

type refMember struct {
	ID                string
	Org               string   // the organisation the member belongs to (== refOrg.ID)
	Role              string   // "owner", "admin", "member"; "" (no role) grants nothing
	Grants, Denies    []string // permission overrides by name, e.g. "contact.export"
	AllInstances      bool     // instance access: All (true) or the specific set Instances (false)
	Instances         []string
	OnlyAssignedChats bool
	OnlyCreatedDeals  bool
	AllPipelines      bool // pipeline assignments: all pipelines (true) or only the set Pipelines (false)
	Pipelines         []string
}

// A record the member might see. "" means NULL / absent for every ID field.
type refRecord struct {
	Kind     string // "contact","conversation","message","instance","campaign","webhook","workflow","deal"
	Org      string // organisation that owns the record
	Instance string // WhatsApp instance the record belongs to; for Kind "instance" it is the instance's own ID
	// R19: further instances the record belongs to ("" entries are NULLs).
	MoreInstances []string
	Assignee      string // member the conversation is assigned to; for a message: its conversation's assignee; for a deal: the deal's assignee
	Creator       string // member who created the deal
	CreatorKind   string // "member", "automation", or "" = unknown: no creator tracking (legacy)
	Pipeline      string // pipeline of a deal
}

// ---------------------------------------------------------------------------
// Test: the seed's "Common permission setups" on Pro, the same members on
// Starter (exactly role defaults, R4), and an Owner who ignores all settings
// (R5).

type refCase struct {
	name string
	plan string
	m    refMember
	perm string     // "" with rec != nil: visibility only
	rec  *refRecord // nil: permission only (refAllowed)
	want string     // "allow"/"forbidden" (refAllowed or refDecide), "not_found" (refDecide), "visible"/"hidden" (refVisible)
}

const refOrgID = "org1"

// Seed "Support agent": Role Member; Instance Access All; Only View Assigned
// Chats enabled; Chat View + Send enabled, Assign disabled.
func refSupportAgent() refMember {
	return refMember{
		ID: "u1", Org: refOrgID, Role: "member",
		Grants:            []string{"chat.view", "chat.send"},
		Denies:            []string{"chat.assign"},
		AllInstances:      true,
		OnlyAssignedChats: true,
		AllPipelines:      true,
	}
}

// Seed "Multi-brand manager": Role Member or Admin; Instance Access Specific
// > their brand's instance; all relevant permissions enabled.
func refBrandManager(role string) refMember {
	return refMember{
		ID: "u1", Org: refOrgID, Role: role,
		Grants:       []string{"contact.delete", "contact.export", "chat.assign", "campaign.manage"},
		AllInstances: false,
		Instances:    []string{"brandA"},
		AllPipelines: true,
	}
}

// Seed "Marketing team member": Role Member; Campaign View + Manage enabled;
// Webhook Manage disabled; Workflow Manage disabled (or enabled if they
// handle automations).
func refMarketer(handlesAutomations bool) refMember {
	m := refMember{
		ID: "u1", Org: refOrgID, Role: "member",
		Grants:       []string{"campaign.view", "campaign.manage"},
		Denies:       []string{"webhook.manage", "workflow.manage"},
		AllInstances: true,
		AllPipelines: true,
	}
	if handlesAutomations {
		m.Grants = []string{"campaign.view", "campaign.manage", "workflow.manage"}
		m.Denies = []string{"webhook.manage"}
	}
	return m
}

// Seed "View-only supervisor": Role Member; Chat View enabled, Send disabled;
// Chat Assign enabled.
func refSupervisor() refMember {
	return refMember{
		ID: "u1", Org: refOrgID, Role: "member",
		Grants:       []string{"chat.view", "chat.assign"},
		Denies:       []string{"chat.send"},
		AllInstances: true,
		AllPipelines: true,
	}
}

// Seed "External contractor": Role Member; Instance Access Specific > project
// instance only; Only View Assigned Chats enabled; Contact Export disabled;
// all Manage permissions disabled.
func refContractor() refMember {
	return refMember{
		ID: "u1", Org: refOrgID, Role: "member",
		Denies:            []string{"contact.export", "instance.manage", "webhook.manage", "campaign.manage", "workflow.manage"},
		AllInstances:      false,
		Instances:         []string{"proj"},
		OnlyAssignedChats: true,
		AllPipelines:      true,
	}
}

// Seed "Sales representative": Role Member; Only View Created Deals enabled;
// Pipeline assignments: only pipelines they work on.
func refSalesRep() refMember {
	return refMember{
		ID: "u1", Org: refOrgID, Role: "member",
		AllInstances:     true,
		OnlyCreatedDeals: true,
		AllPipelines:     false,
		Pipelines:        []string{"p1"},
	}
}

// An Owner with every restrictive setting stored (R5: none applies).
func refRestrictedOwner() refMember {
	return refMember{
		ID: "u1", Org: refOrgID, Role: "owner",
		Denies:            refPermissions(),
		AllInstances:      false,
		Instances:         nil,
		OnlyAssignedChats: true,
		OnlyCreatedDeals:  true,
		AllPipelines:      false,
		Pipelines:         nil,
	}
}

func refRec(kind, instance, assignee string) *refRecord {
	return &refRecord{Kind: kind, Org: refOrgID, Instance: instance, Assignee: assignee}
}

func refDeal(creatorKind, creator, assignee, pipeline string) *refRecord {
	return &refRecord{Kind: "deal", Org: refOrgID, Creator: creator, CreatorKind: creatorKind, Assignee: assignee, Pipeline: pipeline}
}

func refCases() []refCase {
	var cs []refCase

	// --- Support agent, Pro.
	agent := refSupportAgent()
	cs = append(cs,
		refCase{"pro/agent/chat.view", "pro", agent, "chat.view", nil, "allow"},
		refCase{"pro/agent/chat.send", "pro", agent, "chat.send", nil, "allow"},
		refCase{"pro/agent/chat.assign", "pro", agent, "chat.assign", nil, "forbidden"},
		refCase{"pro/agent/campaign.manage", "pro", agent, "campaign.manage", nil, "forbidden"},
		refCase{"pro/agent/send-own-conversation", "pro", agent, "chat.send", refRec("conversation", "i1", "u1"), "allow"},
		refCase{"pro/agent/assign-own-conversation", "pro", agent, "chat.assign", refRec("conversation", "i1", "u1"), "forbidden"},
		refCase{"pro/agent/colleague-conversation", "pro", agent, "chat.send", refRec("conversation", "i1", "u2"), "not_found"},
		refCase{"pro/agent/unassigned-conversation", "pro", agent, "", refRec("conversation", "i1", ""), "hidden"},
		refCase{"pro/agent/own-message", "pro", agent, "", refRec("message", "i1", "u1"), "visible"},
		refCase{"pro/agent/colleague-message", "pro", agent, "", refRec("message", "i1", "u2"), "hidden"},
		refCase{"pro/agent/contact-not-restricted", "pro", agent, "", refRec("contact", "i1", ""), "visible"},
		refCase{"pro/agent/other-org-conversation", "pro", agent, "chat.send",
			&refRecord{Kind: "conversation", Org: "org2", Instance: "i1", Assignee: "u1"}, "not_found"},
	)

	// --- Multi-brand manager, Pro (Admin and Member variants).
	for _, role := range []string{"admin", "member"} {
		bm := refBrandManager(role)
		p := "pro/brand-" + role + "/"
		cs = append(cs,
			refCase{p + "contact.export", "pro", bm, "contact.export", nil, "allow"},
			refCase{p + "chat.assign", "pro", bm, "chat.assign", nil, "allow"},
			refCase{p + "campaign.manage", "pro", bm, "campaign.manage", nil, "allow"},
			refCase{p + "export-own-brand-contact", "pro", bm, "contact.export", refRec("contact", "brandA", ""), "allow"},
			refCase{p + "export-other-brand-contact", "pro", bm, "contact.export", refRec("contact", "brandB", ""), "not_found"},
			refCase{p + "null-instance-contact", "pro", bm, "", refRec("contact", "", ""), "hidden"},
			refCase{p + "own-brand-conversation", "pro", bm, "", refRec("conversation", "brandA", "u2"), "visible"},
			refCase{p + "other-brand-conversation", "pro", bm, "", refRec("conversation", "brandB", "u1"), "hidden"},
			refCase{p + "other-brand-message", "pro", bm, "", refRec("message", "brandB", "u1"), "hidden"},
			refCase{p + "own-instance", "pro", bm, "", refRec("instance", "brandA", ""), "visible"},
			refCase{p + "other-instance", "pro", bm, "", refRec("instance", "brandB", ""), "hidden"},
			refCase{p + "other-brand-campaign", "pro", bm, "campaign.manage", refRec("campaign", "brandB", ""), "not_found"},
			refCase{p + "other-brand-webhook", "pro", bm, "", refRec("webhook", "brandB", ""), "hidden"},
			refCase{p + "workflow-not-instance-bound", "pro", bm, "", refRec("workflow", "brandB", ""), "visible"},
			refCase{p + "deal-not-instance-bound", "pro", bm, "", refDeal("member", "u2", "u2", "p9"), "visible"},
		)
	}
	cs = append(cs,
		refCase{"pro/brand-admin/instance.manage", "pro", refBrandManager("admin"), "instance.manage", nil, "allow"},
		refCase{"pro/brand-member/instance.manage", "pro", refBrandManager("member"), "instance.manage", nil, "forbidden"},
	)

	// --- Marketing team member, Pro.
	mk := refMarketer(false)
	mkAuto := refMarketer(true)
	cs = append(cs,
		refCase{"pro/marketer/campaign.view", "pro", mk, "campaign.view", nil, "allow"},
		refCase{"pro/marketer/campaign.manage", "pro", mk, "campaign.manage", nil, "allow"},
		refCase{"pro/marketer/webhook.manage", "pro", mk, "webhook.manage", nil, "forbidden"},
		refCase{"pro/marketer/workflow.manage", "pro", mk, "workflow.manage", nil, "forbidden"},
		refCase{"pro/marketer/manage-campaign-record", "pro", mk, "campaign.manage", refRec("campaign", "i1", ""), "allow"},
		refCase{"pro/marketer/manage-webhook-record", "pro", mk, "webhook.manage", refRec("webhook", "i1", ""), "forbidden"},
		refCase{"pro/marketer/manage-workflow-record", "pro", mk, "workflow.manage", refRec("workflow", "", ""), "forbidden"},
		refCase{"pro/marketer-automations/workflow.manage", "pro", mkAuto, "workflow.manage", nil, "allow"},
		refCase{"pro/marketer-automations/webhook.manage", "pro", mkAuto, "webhook.manage", nil, "forbidden"},
		refCase{"pro/marketer-automations/campaign.manage", "pro", mkAuto, "campaign.manage", nil, "allow"},
	)

	// --- View-only supervisor, Pro.
	sup := refSupervisor()
	cs = append(cs,
		refCase{"pro/supervisor/chat.view", "pro", sup, "chat.view", nil, "allow"},
		refCase{"pro/supervisor/chat.send", "pro", sup, "chat.send", nil, "forbidden"},
		refCase{"pro/supervisor/chat.assign", "pro", sup, "chat.assign", nil, "allow"},
		refCase{"pro/supervisor/sees-colleague-conversation", "pro", sup, "", refRec("conversation", "i1", "u2"), "visible"},
		refCase{"pro/supervisor/sees-unassigned-conversation", "pro", sup, "", refRec("conversation", "i1", ""), "visible"},
		refCase{"pro/supervisor/send-on-conversation", "pro", sup, "chat.send", refRec("conversation", "i1", "u2"), "forbidden"},
		refCase{"pro/supervisor/assign-conversation", "pro", sup, "chat.assign", refRec("conversation", "i1", ""), "allow"},
	)

	// --- External contractor, Pro.
	ctr := refContractor()
	cs = append(cs,
		refCase{"pro/contractor/contact.export", "pro", ctr, "contact.export", nil, "forbidden"},
		refCase{"pro/contractor/contact.view", "pro", ctr, "contact.view", nil, "allow"},
		refCase{"pro/contractor/chat.send", "pro", ctr, "chat.send", nil, "allow"},
		refCase{"pro/contractor/export-project-contact", "pro", ctr, "contact.export", refRec("contact", "proj", ""), "forbidden"},
		refCase{"pro/contractor/update-project-contact", "pro", ctr, "contact.update", refRec("contact", "proj", ""), "allow"},
		refCase{"pro/contractor/export-other-contact", "pro", ctr, "contact.export", refRec("contact", "other", ""), "not_found"},
		refCase{"pro/contractor/send-assigned-project-conversation", "pro", ctr, "chat.send", refRec("conversation", "proj", "u1"), "allow"},
		refCase{"pro/contractor/assigned-other-conversation", "pro", ctr, "chat.send", refRec("conversation", "other", "u1"), "not_found"},
		refCase{"pro/contractor/unassigned-project-conversation", "pro", ctr, "", refRec("conversation", "proj", ""), "hidden"},
		refCase{"pro/contractor/manage-project-instance", "pro", ctr, "instance.manage", refRec("instance", "proj", ""), "forbidden"},
		refCase{"pro/contractor/other-instance", "pro", ctr, "instance.view", refRec("instance", "other", ""), "not_found"},
	)
	for _, perm := range []string{"instance.manage", "webhook.manage", "campaign.manage", "workflow.manage"} {
		cs = append(cs, refCase{"pro/contractor/" + perm, "pro", ctr, perm, nil, "forbidden"})
	}

	// --- Sales representative, Pro.
	rep := refSalesRep()
	cs = append(cs,
		refCase{"pro/sales/own-deal-p1", "pro", rep, "", refDeal("member", "u1", "u1", "p1"), "visible"},
		refCase{"pro/sales/own-deal-p2", "pro", rep, "", refDeal("member", "u1", "u1", "p2"), "hidden"},
		refCase{"pro/sales/own-deal-no-pipeline", "pro", rep, "", refDeal("member", "u1", "u1", ""), "hidden"},
		refCase{"pro/sales/colleague-deal-p1", "pro", rep, "", refDeal("member", "u2", "u2", "p1"), "hidden"},
		refCase{"pro/sales/colleague-deal-assigned-to-me", "pro", rep, "", refDeal("member", "u2", "u1", "p1"), "hidden"},
		refCase{"pro/sales/automation-deal-for-me", "pro", rep, "", refDeal("automation", "wf1", "u1", "p1"), "visible"},
		refCase{"pro/sales/automation-deal-for-colleague", "pro", rep, "", refDeal("automation", "wf1", "u2", "p1"), "hidden"},
		refCase{"pro/sales/automation-deal-unassigned", "pro", rep, "", refDeal("automation", "wf1", "", "p1"), "hidden"},
		refCase{"pro/sales/legacy-deal-p1", "pro", rep, "", refDeal("", "", "u2", "p1"), "visible"},
		refCase{"pro/sales/legacy-deal-p2", "pro", rep, "", refDeal("", "", "u2", "p2"), "hidden"},
		refCase{"pro/sales/unknown-creator-kind", "pro", rep, "", refDeal("system", "u1", "u1", "p1"), "hidden"},
		refCase{"pro/sales/decide-colleague-deal", "pro", rep, "contact.update", refDeal("member", "u2", "u2", "p1"), "not_found"},
		refCase{"pro/sales/decide-own-deal", "pro", rep, "contact.update", refDeal("member", "u1", "u1", "p1"), "allow"},
		refCase{"pro/sales/conversations-untouched", "pro", rep, "", refRec("conversation", "i1", "u2"), "visible"},
	)

	// --- The same members on Starter (and Free): exactly the role defaults
	// (R4, seed "Upgrade to Pro"). Expected values are written from the
	// seed's Role defaults table: Admin all Yes; Member "No" on these rows.
	memberNo := []string{"contact.delete", "contact.export", "chat.assign", "instance.manage", "webhook.manage", "campaign.manage", "workflow.manage"}
	setups := []struct {
		name string
		m    refMember
	}{
		{"agent", agent},
		{"brand-admin", refBrandManager("admin")},
		{"brand-member", refBrandManager("member")},
		{"marketer", mk},
		{"marketer-automations", mkAuto},
		{"supervisor", sup},
		{"contractor", ctr},
		{"sales", rep},
	}
	for _, s := range setups {
		for _, perm := range refPermissions() {
			want := "allow"
			if s.m.Role == "member" && slices.Contains(memberNo, perm) {
				want = "forbidden"
			}
			cs = append(cs, refCase{"starter/" + s.name + "/" + perm, "starter", s.m, perm, nil, want})
		}
		// Records that Pro settings would hide are all visible on Starter.
		for _, r := range []*refRecord{
			refRec("conversation", "brandB", ""),
			refRec("message", "other", "u2"),
			refRec("contact", "", ""),
			refRec("instance", "brandB", ""),
			refRec("campaign", "other", ""),
			refRec("webhook", "other", ""),
			refDeal("member", "u2", "u2", "p2"),
			refDeal("member", "u1", "u1", ""),
		} {
			cs = append(cs, refCase{"starter/" + s.name + "/sees-" + r.Kind + "-" + r.Instance + r.Pipeline, "starter", s.m, "", r, "visible"})
		}
	}
	cs = append(cs,
		refCase{"starter/supervisor/send-on-conversation", "starter", sup, "chat.send", refRec("conversation", "i1", "u2"), "allow"},
		refCase{"starter/supervisor/assign-conversation", "starter", sup, "chat.assign", refRec("conversation", "i1", "u2"), "forbidden"},
		refCase{"starter/contractor/export-other-contact", "starter", ctr, "contact.export", refRec("contact", "other", ""), "forbidden"},
		refCase{"starter/marketer/manage-campaign-record", "starter", mk, "campaign.manage", refRec("campaign", "i1", ""), "forbidden"},
		refCase{"free/supervisor/chat.send", "free", sup, "chat.send", nil, "allow"},
		refCase{"free/supervisor/chat.assign", "free", sup, "chat.assign", nil, "forbidden"},
		refCase{"zero-plan/sales/colleague-deal-p2", "", rep, "", refDeal("member", "u2", "u2", "p2"), "visible"},
		refCase{"zero-plan/agent/unassigned-conversation", "", agent, "", refRec("conversation", "i1", ""), "visible"},
		refCase{"upgrade/agent/unassigned-conversation-hidden-again", "pro", agent, "", refRec("conversation", "i1", ""), "hidden"},
	)

	// --- Owner with every restrictive setting stored: ignores all (R5).
	owner := refRestrictedOwner()
	for _, plan := range []string{"pro", "starter"} {
		for _, perm := range refPermissions() {
			cs = append(cs, refCase{plan + "/owner/" + perm, plan, owner, perm, nil, "allow"})
		}
		cs = append(cs,
			refCase{plan + "/owner/other-instance-contact", plan, owner, "contact.export", refRec("contact", "brandB", ""), "allow"},
			refCase{plan + "/owner/null-instance-contact", plan, owner, "contact.delete", refRec("contact", "", ""), "allow"},
			refCase{plan + "/owner/unassigned-conversation", plan, owner, "chat.send", refRec("conversation", "i1", ""), "allow"},
			refCase{plan + "/owner/colleague-message", plan, owner, "", refRec("message", "i1", "u2"), "visible"},
			refCase{plan + "/owner/instance", plan, owner, "instance.manage", refRec("instance", "brandB", ""), "allow"},
			refCase{plan + "/owner/colleague-deal", plan, owner, "", refDeal("member", "u2", "u2", "p2"), "visible"},
			refCase{plan + "/owner/other-org-contact", plan, owner, "contact.view",
				&refRecord{Kind: "contact", Org: "org2", Instance: "i1"}, "not_found"},
			refCase{plan + "/owner/unknown-kind", plan, owner, "contact.view", refRec("invoice", "i1", ""), "not_found"},
			refCase{plan + "/owner/unknown-permission", plan, owner, "contact.frobnicate", refRec("contact", "i1", ""), "forbidden"},
		)
	}

	// --- Fail-closed basics (R1, unknown plan, tenant isolation).
	noRole := refSupervisor()
	noRole.Role = ""
	noRole.Grants = []string{"chat.view"}
	stranger := refSupervisor()
	stranger.Org = "org2"
	cs = append(cs,
		refCase{"pro/no-role/chat.view", "pro", noRole, "chat.view", nil, "forbidden"},
		refCase{"pro/no-role/deal", "pro", noRole, "", refDeal("", "", "", "p1"), "hidden"},
		refCase{"unknown-plan/owner/contact.view", "enterprise", owner, "contact.view", nil, "forbidden"},
		refCase{"unknown-plan/owner/contact", "enterprise", owner, "contact.view", refRec("contact", "i1", ""), "not_found"},
		refCase{"pro/stranger/chat.view", "pro", stranger, "chat.view", nil, "forbidden"},
		refCase{"pro/supervisor/no-org-record", "pro", sup, "", &refRecord{Kind: "contact", Instance: "i1"}, "hidden"},
	)
	return cs
}

func TestReferenceSeedSetups(t *testing.T) {
	if got := len(refPermissions()); got != 17 {
		t.Fatalf("refPermissions: %d names, want 17", got)
	}
	seen := map[string]bool{}
	for _, p := range refPermissions() {
		if seen[p] {
			t.Fatalf("refPermissions: duplicate %q", p)
		}
		seen[p] = true
	}

	names := map[string]bool{}
	for _, c := range refCases() {
		if names[c.name] {
			t.Fatalf("duplicate case name %q", c.name)
		}
		names[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			o := refOrg{ID: refOrgID, Plan: c.plan}
			var got string
			switch {
			case c.rec == nil:
				got = "forbidden"
				if refAllowed(o, c.m, c.perm) {
					got = "allow"
				}
			case c.perm == "":
				got = "hidden"
				if refVisible(o, c.m, *c.rec) {
					got = "visible"
				}
			default:
				got = refDecide(o, c.m, c.perm, *c.rec)
				// R8/R12: not_found exactly when the record is not visible.
				if (got == "not_found") == refVisible(o, c.m, *c.rec) {
					t.Errorf("refDecide=%q disagrees with refVisible", got)
				}
			}
			if got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}
