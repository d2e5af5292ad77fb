package teamperm

// The seed's six common permission setups, as settings a host applies and
// then adjusts. Each stores only what differs from the role defaults: a
// permission the seed says is "disabled" and the role already lacks is not
// stored as a deny. Apply one to an existing member through [ApplyEdits]
// with [PresetEdits], so that R14 is checked.

// SupportAgent gives an agent a clean, focused inbox with just their
// assigned conversations: role Member, only-view-assigned-chats on, chat
// view and send (Member defaults), assign disabled (not a Member default).
// instances is their instance access: All (the zero Access), or specific
// for a multi-brand team.
func SupportAgent(member ID, instances Access) Settings {
	return Settings{
		Member:            member,
		Role:              RoleMember,
		Instances:         instances,
		OnlyAssignedChats: true,
	}
}

// MultiBrandManager restricts a manager to their brand's WhatsApp
// numbers, with all relevant permissions enabled. role is RoleMember or
// RoleAdmin (an Admin holds every permission already); a Member is granted
// what managing a brand's inbox needs beyond the defaults: deleting and
// exporting contacts, assigning chats and managing campaigns. Technical
// settings (instances, webhooks, workflows) stay with the defaults.
func MultiBrandManager(member ID, role Role, instances ...ID) Settings {
	s := Settings{Member: member, Role: role, Instances: Only(instances...)}
	if role == RoleMember {
		s.Grants = PermissionSetOf(ContactDelete, ContactExport, ChatAssign, CampaignManage)
	}
	return s
}

// MarketingTeamMember allows campaign management without touching
// technical configurations: role Member, campaign view and manage, webhook
// manage disabled, and workflow manage only when manageWorkflows (for a
// marketer who handles automations).
func MarketingTeamMember(member ID, manageWorkflows bool) Settings {
	s := Settings{Member: member, Role: RoleMember, Grants: PermissionSetOf(CampaignManage)}
	if manageWorkflows {
		s.Grants = s.Grants.With(WorkflowManage)
	}
	return s
}

// ViewOnlySupervisor lets a manager monitor without messaging customers:
// role Member, chat view, send disabled (a deny), assign enabled (a grant).
func ViewOnlySupervisor(member ID) Settings {
	return Settings{
		Member: member,
		Role:   RoleMember,
		Grants: PermissionSetOf(ChatAssign),
		Denies: PermissionSetOf(ChatSend),
	}
}

// ExternalContractor gives a temporary team member minimal access: role
// Member, the project's instance only, only-view-assigned-chats on,
// contact export and every manage permission disabled (none is a Member
// default).
func ExternalContractor(member ID, project ID) Settings {
	return Settings{
		Member:            member,
		Role:              RoleMember,
		Instances:         Only(project),
		OnlyAssignedChats: true,
	}
}

// SalesRepresentative isolates a salesperson's CRM pipeline: role Member,
// only-view-created-deals on, and the pipelines they work on.
func SalesRepresentative(member ID, pipelines ...ID) Settings {
	return Settings{
		Member:           member,
		Role:             RoleMember,
		OnlyCreatedDeals: true,
		Pipelines:        Only(pipelines...),
	}
}

// PresetEdits returns the edits that turn current into preset: a role
// change if the roles differ, then every override, access and toggle of
// preset, each set explicitly. Apply them with [ApplyEdits].
func PresetEdits(current, preset Settings) []Edit {
	var edits []Edit
	if current.Role != preset.Role {
		edits = append(edits, SetRole{preset.Role})
	}
	for p := range Permissions() {
		switch {
		case preset.Denies.Has(p):
			if !current.Denies.Has(p) || current.Grants.Has(p) {
				edits = append(edits, Deny{p})
			}
		case preset.Grants.Has(p):
			if !current.Grants.Has(p) || current.Denies.Has(p) {
				edits = append(edits, Grant{p})
			}
		case current.Grants.Has(p) || current.Denies.Has(p):
			edits = append(edits, ClearOverride{p})
		}
	}
	if !current.Instances.Equal(preset.Instances) {
		edits = append(edits, SetInstances{preset.Instances})
	}
	if current.OnlyAssignedChats != preset.OnlyAssignedChats {
		edits = append(edits, SetOnlyAssignedChats{preset.OnlyAssignedChats})
	}
	if current.OnlyCreatedDeals != preset.OnlyCreatedDeals {
		edits = append(edits, SetOnlyCreatedDeals{preset.OnlyCreatedDeals})
	}
	if !current.Pipelines.Equal(preset.Pipelines) {
		edits = append(edits, SetPipelines{preset.Pipelines})
	}
	return edits
}
