package teamperm

// A Matrix is what a settings page shows for one member under the
// organisation's plan: every permission by category in the seed's order,
// with its role default, stored override, effective value and whether it
// is locked, plus instance access, the two toggles and pipelines, each with
// whether the plan and role let it apply. Its JSON field names are stable.
type Matrix struct {
	Member          ID               `json:"member"`
	Role            Role             `json:"role"`
	Revision        uint64           `json:"revision"`
	HonoursSettings bool             `json:"honours_settings"` // the plan has FineGrained
	Locked          string           `json:"locked,omitempty"` // why nothing can be edited: "owner", or ""
	UpgradeMessage  string           `json:"upgrade_message,omitempty"`
	Categories      []MatrixCategory `json:"categories"`
	Instances       MatrixAccess     `json:"instances"`
	OnlyAssigned    MatrixToggle     `json:"only_assigned_chats"`
	OnlyCreated     MatrixToggle     `json:"only_created_deals"`
	Pipelines       MatrixAccess     `json:"pipelines"`
}

// A MatrixCategory is one category of a [Matrix].
type MatrixCategory struct {
	Name        string             `json:"name"`  // "contact"
	Title       string             `json:"title"` // "Contacts"
	Permissions []MatrixPermission `json:"permissions"`
}

// A MatrixPermission is one permission of a [Matrix].
type MatrixPermission struct {
	Permission  Permission `json:"permission"`  // "contact.export"
	Label       string     `json:"label"`       // "Export"
	Description string     `json:"description"` // "Download contact data"
	RoleDefault bool       `json:"role_default"`
	Override    string     `json:"override"` // "none", "grant" or "deny"
	Effective   bool       `json:"effective"`
	Reason      Reason     `json:"reason"`           // why Effective is what it is
	Locked      string     `json:"locked,omitempty"` // "owner", "requires_pro", or "" when editable
}

// A MatrixToggle is one of the two toggles of a [Matrix].
type MatrixToggle struct {
	On      bool   `json:"on"`      // as stored
	Applies bool   `json:"applies"` // the plan and role let it take effect
	Locked  string `json:"locked,omitempty"`
}

// A MatrixAccess is instance access or pipeline assignments in a [Matrix].
type MatrixAccess struct {
	All     bool   `json:"all"`
	IDs     []ID   `json:"ids"` // the specific IDs, when not All
	Applies bool   `json:"applies"`
	Locked  string `json:"locked,omitempty"`
}

// NewMatrix builds the settings-page view of the member with settings s in
// org. It fails for settings that do not compile.
func NewMatrix(org Organization, s Settings) (Matrix, error) {
	m, err := Compile(org, s)
	if err != nil {
		return Matrix{}, err
	}
	x := Matrix{
		Member:          s.Member,
		Role:            s.Role,
		Revision:        s.Revision,
		HonoursSettings: m.fine,
	}
	locked := ""
	switch {
	case s.Role == RoleOwner:
		locked = "owner"
		x.Locked = locked
	case !m.fine:
		locked = "requires_pro"
		x.UpgradeMessage = UpgradeMessage
	}
	defaults := s.Role.Defaults()
	for c := range Categories() {
		mc := MatrixCategory{Name: c.String(), Title: c.Title(), Permissions: []MatrixPermission{}}
		for p := range c.Permissions() {
			override := "none"
			switch {
			case s.Denies.Has(p):
				override = "deny"
			case s.Grants.Has(p):
				override = "grant"
			}
			mc.Permissions = append(mc.Permissions, MatrixPermission{
				Permission:  p,
				Label:       p.Label(),
				Description: p.Description(),
				RoleDefault: defaults.Has(p),
				Override:    override,
				Effective:   m.perms.Has(p),
				Reason:      m.reasons[p],
				Locked:      locked,
			})
		}
		x.Categories = append(x.Categories, mc)
	}
	// Which stored settings the role can take at all (R5, R10, R11).
	roleTakes := func(membersOnly bool) string {
		switch {
		case locked != "":
			return locked
		case membersOnly && s.Role != RoleMember:
			return "role"
		}
		return ""
	}
	access := func(a Access, applies bool, lock string) MatrixAccess {
		ids := []ID{} // a copy: the matrix shares nothing with s
		if a.Specific {
			ids = append(ids, a.IDs...)
		}
		return MatrixAccess{All: !a.Specific, IDs: ids, Applies: applies, Locked: lock}
	}
	x.Instances = access(s.Instances, m.eff.instances, roleTakes(false))
	x.OnlyAssigned = MatrixToggle{On: s.OnlyAssignedChats, Applies: m.eff.assigned, Locked: roleTakes(false)}
	x.OnlyCreated = MatrixToggle{On: s.OnlyCreatedDeals, Applies: m.eff.created, Locked: roleTakes(true)}
	x.Pipelines = access(s.Pipelines, m.eff.pipelines, roleTakes(true))
	return x, nil
}
