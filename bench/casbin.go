package bench

import (
	"fmt"
	"strings"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	stringadapter "github.com/casbin/casbin/v2/persist/string-adapter"
	"github.com/teamperm/teamperm"
)

// CasbinModel is the policy model: RBAC with domains (the organisation is
// the domain) and the allow-and-deny effect for overrides, as in Casbin's
// examples rbac_with_domains_model.conf and rbac_with_deny_model.conf.
// Role defaults are written once, with the domain "*" that the matcher
// accepts for every organisation (Casbin's performance advice: share
// default rules across tenants), not once per organisation.
//
// A second request and policy type (r2, p2, m2), as in
// multiple_policy_definitions_model.conf, answers "may this member see a
// conversation on this instance, assigned to this member?": one p2 line
// per allowed instance, or "*", with the scope "all" or "assigned".
//
// The conjuncts of m are ordered cheapest first (the string tests before
// the role lookup g); the order does not change a decision.
const CasbinModel = `
[request_definition]
r = sub, dom, obj, act
r2 = sub, dom, inst, assignee

[policy_definition]
p = sub, dom, obj, act, eft
p2 = sub, dom, inst, scope

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))
e2 = some(where (p.eft == allow))

[matchers]
m = r.obj == p.obj && r.act == p.act && (p.dom == "*" || r.dom == p.dom) && g(r.sub, p.sub, r.dom)
m2 = r2.sub == p2.sub && r2.dom == p2.dom && (p2.inst == "*" || r2.inst == p2.inst) && (p2.scope == "all" || r2.assignee == r2.sub)
`

// Casbin decides with one casbin.Enforcer per organisation (Casbin's
// "policy sharding" advice for multi-tenant policies: each enforcer loads
// only its tenant's lines, since Enforce scans every line of a policy
// type). A request goes to the enforcer of the organisation it is about.
//
// Casbin's policy is effective state: its matcher sees one policy line at
// a time, and a plan or an owner's exemption would take extra relations
// tested on every line, so the host writes the lines that apply
// (CasbinPolicy): overrides and restrictions only for non-owners of
// organisations on a fine-grained plan (R4, R5). After a plan change the
// host rewrites the organisation's lines.
type Casbin struct {
	shards map[int64]*casbin.Enforcer // by organisation
	pop    *Population
	ctx    casbin.EnforceContext
}

// NewCasbin loads each organisation's policy (CasbinPolicy) into an
// enforcer of CasbinModel.
func NewCasbin(pop *Population) (*Casbin, error) {
	c := &Casbin{shards: map[int64]*casbin.Enforcer{}, pop: pop, ctx: casbin.NewEnforceContext("2")}
	for i := range pop.Orgs {
		m, err := model.NewModelFromString(CasbinModel)
		if err != nil {
			return nil, err
		}
		e, err := casbin.NewEnforcer(m, stringadapter.NewAdapter(CasbinPolicy(pop, i)))
		if err != nil {
			return nil, err
		}
		c.shards[pop.Orgs[i].ID] = e
	}
	return c, nil
}

// casbinRoles names the roles as Casbin subjects.
var casbinRoles = map[teamperm.Role]string{
	teamperm.RoleOwner:  "role:owner",
	teamperm.RoleAdmin:  "role:admin",
	teamperm.RoleMember: "role:member",
}

// objAct splits a permission name into Casbin's object and action:
// "contact.export" is ("contact", "export").
func objAct(p teamperm.Permission) (string, string) {
	obj, act, _ := strings.Cut(p.String(), ".")
	return obj, act
}

// CasbinPolicy writes the policy of pop's organisation pop.Orgs[org] in
// Casbin's CSV form: the role defaults, shared by every organisation, and
// the lines of the organisation's members.
func CasbinPolicy(pop *Population, org int) string {
	var b strings.Builder
	for _, r := range []teamperm.Role{teamperm.RoleOwner, teamperm.RoleAdmin, teamperm.RoleMember} {
		for p := range r.Defaults().All() {
			obj, act := objAct(p)
			fmt.Fprintf(&b, "p, %s, *, %s, %s, allow\n", casbinRoles[r], obj, act)
		}
	}
	for i := range pop.Members {
		m := &pop.Members[i]
		if m.Org != org {
			continue
		}
		s := &m.Settings
		sub, dom := key(m.ID()), key(pop.Orgs[org].ID)
		fmt.Fprintf(&b, "g, %s, %s, %s\n", sub, casbinRoles[s.Role], dom)
		applies := pop.Orgs[org].Plan.Features().Has(teamperm.FineGrained) && s.Role != teamperm.RoleOwner
		if !applies {
			fmt.Fprintf(&b, "p2, %s, %s, *, all\n", sub, dom)
			continue
		}
		for p := range s.Grants.All() {
			obj, act := objAct(p)
			fmt.Fprintf(&b, "p, %s, %s, %s, %s, allow\n", sub, dom, obj, act)
		}
		for p := range s.Denies.All() {
			obj, act := objAct(p)
			fmt.Fprintf(&b, "p, %s, %s, %s, %s, deny\n", sub, dom, obj, act)
		}
		scope := "all"
		if s.OnlyAssignedChats {
			scope = "assigned"
		}
		if !s.Instances.Specific {
			fmt.Fprintf(&b, "p2, %s, %s, *, %s\n", sub, dom, scope)
			continue
		}
		for _, id := range s.Instances.IDs {
			n, _ := id.Int()
			fmt.Fprintf(&b, "p2, %s, %s, %s, %s\n", sub, dom, key(n), scope)
		}
	}
	return b.String()
}

// A CasbinRequest is a call of Enforce: the enforcer and the arguments.
type CasbinRequest struct {
	E    *casbin.Enforcer
	Args []any
}

// PermissionRequest returns the request for member m and permission p, in
// the member's organisation.
func (c *Casbin) PermissionRequest(m int, p teamperm.Permission) CasbinRequest {
	mem := &c.pop.Members[m]
	org := c.pop.Orgs[mem.Org].ID
	obj, act := objAct(p)
	return CasbinRequest{c.shards[org], []any{key(mem.ID()), key(org), obj, act}}
}

// Allowed reports Casbin's decision on a PermissionRequest.
func (c *Casbin) Allowed(r CasbinRequest) (bool, error) { return r.E.Enforce(r.Args...) }

// A CasbinRecordRequest is the three Enforce calls of a conversation
// check: may the member view chats in the record's organisation, may it
// see this conversation (r2), and may it do the action.
type CasbinRecordRequest struct {
	E                     *casbin.Enforcer // nil for an unknown organisation
	View, Visible, Action []any
}

// RecordRequest returns the requests for member m doing p on conversation
// conv. NULL keys are empty strings, which no line but "*" matches.
func (c *Casbin) RecordRequest(m int, p teamperm.Permission, conv Conversation) CasbinRecordRequest {
	mem := &c.pop.Members[m]
	sub, dom := key(mem.ID()), key(conv.Org)
	orEmpty := func(n int64) string {
		if n == 0 {
			return ""
		}
		return key(n)
	}
	obj, act := objAct(p)
	return CasbinRecordRequest{
		E:       c.shards[conv.Org],
		View:    []any{sub, dom, "chat", "view"},
		Visible: []any{c.ctx, sub, dom, orEmpty(conv.Instance), orEmpty(conv.Assignee)},
		Action:  []any{sub, dom, obj, act},
	}
}

// Outcome decides a RecordRequest: not found unless the member may view
// chats and see the conversation, then allowed or forbidden by the action.
func (c *Casbin) Outcome(r CasbinRecordRequest) (teamperm.Outcome, error) {
	if r.E == nil {
		return teamperm.OutcomeNotFound, nil
	}
	for _, req := range [][]any{r.View, r.Visible} {
		ok, err := r.E.Enforce(req...)
		if err != nil || !ok {
			return teamperm.OutcomeNotFound, err
		}
	}
	if r.Action[2] == "chat" && r.Action[3] == "view" {
		return teamperm.OutcomeAllow, nil // decided by r.View already
	}
	ok, err := r.E.Enforce(r.Action...)
	if err != nil || !ok {
		return teamperm.OutcomeForbidden, err
	}
	return teamperm.OutcomeAllow, nil
}
