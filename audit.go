package teamperm

import (
	"fmt"
	"log/slog"
)

// A Team is an organisation with its members' stored settings and its
// WhatsApp instances: what [Audit] and [Impact] look at.
type Team struct {
	Organization Organization
	Members      []Settings
	// Instances are the organisation's WhatsApp instances; Audit needs
	// their number for instance isolation.
	Instances []ID
}

// A Consideration is one of the seed's audit considerations.
type Consideration uint8

// The considerations, in the seed's order, and the plan's.
const (
	// DataProtection: who can export contacts.
	DataProtection Consideration = iota + 1
	// SeparationOfConcerns: marketing should not modify webhooks, support
	// should not edit campaigns.
	SeparationOfConcerns
	// LeastPrivilege: grants beyond the role defaults.
	LeastPrivilege
	// InstanceIsolation: members who see every instance of an organisation
	// that has several.
	InstanceIsolation
	// PlanIgnoresSettings: stored settings the plan does not apply. Among
	// them may be restrictions (a deny, an instance restriction, a toggle)
	// that are therefore not in force: a member may have more access than
	// their settings say.
	PlanIgnoresSettings

	numConsiderations = iota + 1
)

var considerationNames = [numConsiderations]string{"none", "data_protection", "separation_of_concerns", "least_privilege", "instance_isolation", "plan_ignores_settings"}

// String returns the consideration's name, such as "data_protection".
func (c Consideration) String() string {
	return enumString(considerationNames[:], "Consideration", uint8(c))
}

// UnmarshalText decodes a consideration's name, exactly.
func (c *Consideration) UnmarshalText(text []byte) error {
	v, ok := enumParse(considerationNames[:], string(text))
	if !ok {
		return fmt.Errorf("teamperm: consideration %s: %w", quote(text), ErrInvalidSettings)
	}
	*c = Consideration(v)
	return nil
}

// MarshalText encodes the consideration's name.
func (c Consideration) MarshalText() ([]byte, error) {
	if c == 0 || c >= numConsiderations {
		return nil, fmt.Errorf("teamperm: %s: invalid consideration", c)
	}
	return []byte(c.String()), nil
}

// A Finding is one observation of [Audit]: the member, the consideration,
// what was found, and the change that would resolve it. Findings inform;
// nothing in this package acts on them.
type Finding struct {
	Member        ID            `json:"member"`
	Consideration Consideration `json:"consideration"`
	Message       string        `json:"message"`
	// Resolve is what would resolve the finding, for people.
	Resolve string `json:"resolve"`
	// Edits are the edits that would resolve it, when they can be known
	// without asking the host (not for instance isolation: which
	// instances is the host's call).
	Edits Edits `json:"edits"`
}

// LogValue implements [slog.LogValuer].
func (f Finding) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("member", f.Member.String()),
		slog.String("consideration", f.Consideration.String()),
		slog.String("message", f.Message),
		slog.String("resolve", f.Resolve))
}

// Audit reports the seed's audit considerations over a whole team, member
// by member in the team's order and, per member, in the order of the
// considerations. Owners are left out: they hold everything by design and
// nothing can restrict them. Members whose settings do not compile are
// reported as errors instead.
func Audit(t Team) ([]Finding, error) {
	var out []Finding
	for _, s := range t.Members {
		m, err := Compile(t.Organization, s)
		if err != nil {
			return nil, err
		}
		if s.Role == RoleOwner {
			continue
		}
		add := func(c Consideration, msg, resolve string, edits ...Edit) {
			out = append(out, Finding{Member: s.Member, Consideration: c, Message: msg, Resolve: resolve, Edits: edits})
		}
		if m.Has(ContactExport) {
			add(DataProtection, "can export contact data", "deny contact.export unless they need to download data", Deny{ContactExport})
		}
		if s.Role == RoleMember {
			if m.Has(CampaignManage) && m.Has(WebhookManage) {
				add(SeparationOfConcerns, "manages campaigns and can also modify webhooks", "deny webhook.manage", Deny{WebhookManage})
			}
			if m.eff.assigned && m.Has(CampaignManage) {
				add(SeparationOfConcerns, "works as support (only assigned chats) and can also edit campaigns", "deny campaign.manage", Deny{CampaignManage})
			}
		}
		if m.fine {
			for p := range s.Grants.Difference(s.Role.Defaults()).Difference(s.Denies).All() {
				add(LeastPrivilege, fmt.Sprintf("is granted %s beyond the %s defaults", p, s.Role), "clear the grant of "+p.String()+" if it is not needed", ClearOverride{p})
			}
		}
		if len(t.Instances) > 1 && !m.eff.instances && m.Has(ChatView) {
			add(InstanceIsolation, fmt.Sprintf("sees all %d instances", len(t.Instances)), "restrict instance access to the instances this member works on")
		}
		if !m.fine {
			if ignored := ignoredSettings(s); len(ignored) > 0 {
				add(PlanIgnoresSettings, "has stored settings the plan does not apply, so restrictions among them are not in force: "+joinWords(ignored), "upgrade to Pro to apply them, or clear them")
			}
		}
	}
	return out, nil
}

// ignoredSettings describes the stored settings of s that only a plan
// with FineGrained applies, for its role.
func ignoredSettings(s Settings) []string {
	var out []string
	if s.Role == RoleOwner {
		return nil
	}
	for p := range s.Grants.All() {
		out = append(out, "grant "+p.String())
	}
	for p := range s.Denies.All() {
		out = append(out, "deny "+p.String())
	}
	if s.Instances.Specific {
		out = append(out, "instances "+accessString(s.Instances))
	}
	if s.OnlyAssignedChats {
		out = append(out, "only assigned chats")
	}
	if s.Role == RoleMember {
		if s.OnlyCreatedDeals {
			out = append(out, "only created deals")
		}
		if s.Pipelines.Specific {
			out = append(out, "pipelines "+accessString(s.Pipelines))
		}
	}
	return out
}

func joinWords(ws []string) string {
	s := ""
	for i, w := range ws {
		if i > 0 {
			s += ", "
		}
		s += w
	}
	return s
}
