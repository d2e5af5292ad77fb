package bench

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	stringadapter "github.com/casbin/casbin/v2/persist/string-adapter"
	"github.com/teamperm/teamperm"
)

// CasbinModel is the policy model, written the way Casbin's role manager
// is fastest: everything is a grouping relation, looked up in a map, and
// the matchers read no policy line, so Enforce evaluates each matcher once
// instead of once per line (Casbin scans every line of a policy type that
// a matcher reads: an earlier version of this benchmark, with one line per
// role default and override, scanned about 300 per Enforce).
//
//   - g: a member has a role in an organisation (the domain), a role has
//     its default permissions, and a member has the permissions granted
//     to it (R2, R6);
//   - g2: the permissions denied to a member, which win (R6);
//   - g3: what a member may see of conversations: "inst:*" (every
//     instance) or "inst:<id>" for each allowed instance (R7), and
//     "scope:assigned" for only-assigned-chats (R9).
//
// m answers a permission check; m2 whether the member may see a
// conversation (on this instance, assigned to this member): it needs
// chat.view (R13). The plan and the owner's exemption are in the lines the
// host writes (CasbinPolicy), not in the matchers: Casbin's role manager
// has no attributes (R4, R5).
const CasbinModel = `
[request_definition]
r = sub, dom, perm
r2 = sub, dom, inst, assignee

[policy_definition]
p = sub, dom, perm
p2 = sub, dom, inst

[role_definition]
g = _, _, _
g2 = _, _, _
g3 = _, _, _

[policy_effect]
e = some(where (p.eft == allow))
e2 = some(where (p.eft == allow))

[matchers]
m = g(r.sub, r.perm, r.dom) && !g2(r.sub, r.perm, r.dom)
m2 = g(r2.sub, "chat.view", r2.dom) && !g2(r2.sub, "chat.view", r2.dom) && (g3(r2.sub, "inst:*", r2.dom) || g3(r2.sub, r2.inst, r2.dom)) && (r2.assignee == r2.sub || !g3(r2.sub, "scope:assigned", r2.dom))
`

// Casbin decides with one casbin.Enforcer (or, Cached, its
// SyncedCachedEnforcer: a map of earlier decisions in front of it) over
// CasbinModel and the whole population's lines (CasbinPolicy).
type Casbin struct {
	e   casbin.IEnforcer
	ctx casbin.EnforceContext
}

// NewCasbin loads pop into an enforcer of CasbinModel; cached selects
// Casbin's SyncedCachedEnforcer, which answers a request it has seen
// before from its cache.
func NewCasbin(pop *Population, cached bool) (*Casbin, error) {
	m, err := model.NewModelFromString(CasbinModel)
	if err != nil {
		return nil, err
	}
	c := &Casbin{ctx: casbin.NewEnforceContext("2")}
	adapter := stringadapter.NewAdapter(CasbinPolicy(pop))
	if cached {
		e, err := casbin.NewSyncedCachedEnforcer(m, adapter)
		if err != nil {
			return nil, err
		}
		e.SetExpireTime(0) // never expire: every request repeats
		c.e = e
	} else if c.e, err = casbin.NewEnforcer(m, adapter); err != nil {
		return nil, err
	}
	return c, nil
}

// casbinRoles names the roles as Casbin subjects.
var casbinRoles = map[teamperm.Role]string{
	teamperm.RoleOwner:  "role:owner",
	teamperm.RoleAdmin:  "role:admin",
	teamperm.RoleMember: "role:member",
}

// CasbinPolicy writes pop as Casbin's CSV lines: the role defaults of each
// organisation and each member's role; on a fine-grained plan, for
// non-owners, the member's grants, denies and conversation visibility;
// otherwise visibility of every conversation. After a plan change the host
// rewrites the organisation's lines.
func CasbinPolicy(pop *Population) string {
	var b strings.Builder
	for _, o := range pop.Orgs {
		dom := key(o.ID)
		for _, r := range []teamperm.Role{teamperm.RoleOwner, teamperm.RoleAdmin, teamperm.RoleMember} {
			for p := range r.Defaults().All() {
				fmt.Fprintf(&b, "g, %s, %s, %s\n", casbinRoles[r], p, dom)
			}
		}
	}
	for i := range pop.Members {
		m := &pop.Members[i]
		org := &pop.Orgs[m.Org]
		s := &m.Settings
		sub, dom := key(m.ID()), key(org.ID)
		fmt.Fprintf(&b, "g, %s, %s, %s\n", sub, casbinRoles[s.Role], dom)
		if !org.Plan.Features().Has(teamperm.FineGrained) || s.Role == teamperm.RoleOwner {
			fmt.Fprintf(&b, "g3, %s, inst:*, %s\n", sub, dom)
			continue
		}
		for p := range s.Grants.All() {
			fmt.Fprintf(&b, "g, %s, %s, %s\n", sub, p, dom)
		}
		for p := range s.Denies.All() {
			fmt.Fprintf(&b, "g2, %s, %s, %s\n", sub, p, dom)
		}
		if !s.Instances.Specific {
			fmt.Fprintf(&b, "g3, %s, inst:*, %s\n", sub, dom)
		}
		for _, id := range s.Instances.IDs {
			n, _ := id.Int()
			fmt.Fprintf(&b, "g3, %s, inst:%d, %s\n", sub, n, dom)
		}
		if s.OnlyAssignedChats {
			fmt.Fprintf(&b, "g3, %s, scope:assigned, %s\n", sub, dom)
		}
	}
	return b.String()
}

// Decide is one Enforce for a permission check. A record check is one
// Enforce of m2 (not found unless the member sees the conversation), then
// one of m for the action, unless the action is chat.view, which m2
// decided already. NULL keys are empty strings, which no line matches.
func (c *Casbin) Decide(r Request) (teamperm.Outcome, error) {
	verdict := func(dom string) (teamperm.Outcome, error) {
		ok, err := c.e.Enforce(r.Member, dom, r.Permission)
		if err != nil || !ok {
			return teamperm.OutcomeForbidden, err
		}
		return teamperm.OutcomeAllow, nil
	}
	conv := r.Record
	if conv == nil {
		return verdict(r.Org)
	}
	var inst, assignee string
	if conv.Instance != 0 {
		inst = "inst:" + strconv.FormatInt(conv.Instance, 10)
	}
	if conv.Assignee != 0 {
		assignee = strconv.FormatInt(conv.Assignee, 10)
	}
	dom := strconv.FormatInt(conv.Org, 10)
	ok, err := c.e.Enforce(c.ctx, r.Member, dom, inst, assignee)
	if err != nil || !ok {
		return teamperm.OutcomeNotFound, err
	}
	if r.Permission == "chat.view" {
		return teamperm.OutcomeAllow, nil
	}
	return verdict(dom)
}
