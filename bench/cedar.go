package bench

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/cedar-policy/cedar-go"
	"github.com/cedar-policy/cedar-go/types"
	xast "github.com/cedar-policy/cedar-go/x/exp/ast"
	"github.com/cedar-policy/cedar-go/x/exp/eval"
	"github.com/teamperm/teamperm"
)

// CedarPolicies is the policy in Cedar. Roles are entities that members
// are in (Cedar's RBAC idiom), the plan is an attribute of the
// organisation, the stored settings are attributes of the member.
//
// A forbid whose @id starts with "hidden:" hides the record: a request it
// denies is "not found", any other deny is "forbidden" (R8, R12). Cedar
// reports the policies that decided in the diagnostic, so one request
// answers both.
//
// A policy cannot ask for the decision on another action, so R13 ("seeing
// a conversation needs chat.view") is restated from the role table:
// chat.view is a default of every role, so only a deny removes it.
const CedarPolicies = `
@id("owner")
permit (principal in Role::"owner", action, resource);

@id("admin")
permit (principal in Role::"admin", action, resource);

@id("member")
permit (
  principal in Role::"member",
  action in [
    Action::"contact.view", Action::"contact.create", Action::"contact.update",
    Action::"contact.import", Action::"chat.view", Action::"chat.send",
    Action::"instance.view", Action::"webhook.view", Action::"campaign.view",
    Action::"workflow.view"
  ],
  resource
);

@id("grant")
permit (principal, action, resource)
when { principal.org.fineGrained && principal.grants.contains(action) };

@id("deny")
forbid (principal, action, resource)
when { principal.org.fineGrained && principal.denies.contains(action) }
unless { principal in Role::"owner" };

@id("hidden:other-organization")
forbid (principal, action, resource is Conversation)
unless { resource.org == principal.org };

@id("hidden:no-chat-view")
forbid (principal, action, resource is Conversation)
when { principal.org.fineGrained && principal.denies.contains(Action::"chat.view") }
unless { principal in Role::"owner" };

@id("hidden:instance")
forbid (principal, action, resource is Conversation)
when {
  principal.org.fineGrained && principal.restrictInstances &&
  !(resource has instance && principal.instances.contains(resource.instance))
}
unless { principal in Role::"owner" };

@id("hidden:not-assigned")
forbid (principal, action, resource is Conversation)
when {
  principal.org.fineGrained && principal.onlyAssigned &&
  !(resource has assignee && resource.assignee == principal)
}
unless { principal in Role::"owner" };
`

// Cedar decides with cedar.Authorize over the parsed CedarPolicies and an
// entity map holding the whole population.
type Cedar struct {
	policies *cedar.PolicySet
	partial  []*xast.Policy // the same policies, for partial evaluation
	entities cedar.EntityMap
	pop      *Population
}

// NewCedar parses CedarPolicies, naming each policy by its @id, and builds
// the entities of pop.
func NewCedar(pop *Population) (*Cedar, error) {
	list, err := cedar.NewPolicyListFromBytes("teamperm.cedar", []byte(CedarPolicies))
	if err != nil {
		return nil, err
	}
	c := &Cedar{policies: cedar.NewPolicySet(), entities: cedar.EntityMap{}, pop: pop}
	for _, p := range list {
		id := p.Annotations()["id"]
		if id == "" || !c.policies.Add(cedar.PolicyID(id), p) {
			return nil, fmt.Errorf("cedar policy without a unique @id: %s", p.MarshalCedar())
		}
		c.partial = append(c.partial, (*xast.Policy)(p.AST()))
	}
	for i := range pop.Members {
		m := &pop.Members[i]
		for uid, e := range CedarEntities(&pop.Orgs[m.Org], m.Settings) {
			c.entities[uid] = e
		}
	}
	return c, nil
}

func memberUID(id int64) types.EntityUID { return types.NewEntityUID("Member", types.String(key(id))) }
func orgUID(id int64) types.EntityUID    { return types.NewEntityUID("Org", types.String(key(id))) }
func actionUID(p teamperm.Permission) types.EntityUID {
	return types.NewEntityUID("Action", types.String(p.String()))
}

// conversationUID is the one conversation a record request is about.
var conversationUID = types.NewEntityUID("Conversation", "c")

// CedarEntities returns the entities that describe one member of org with
// stored settings s: the member, its organisation and its role. A host that
// keeps no per-member state builds these on every request.
func CedarEntities(org *Org, s teamperm.Settings) cedar.EntityMap {
	id, _ := s.Member.Int()
	actions := func(ps teamperm.PermissionSet) types.Set {
		var vs []types.Value
		for p := range ps.All() {
			vs = append(vs, actionUID(p))
		}
		return types.NewSet(vs...)
	}
	var instances []types.Value
	for _, inst := range s.Instances.IDs {
		n, _ := inst.Int()
		instances = append(instances, types.Long(n))
	}
	role := types.NewEntityUID("Role", types.String(s.Role.String()))
	return cedar.EntityMap{
		memberUID(id): {
			UID:     memberUID(id),
			Parents: types.NewEntityUIDSet(role),
			Attributes: types.NewRecord(types.RecordMap{
				"org":               orgUID(org.ID),
				"grants":            actions(s.Grants),
				"denies":            actions(s.Denies),
				"restrictInstances": types.Boolean(s.Instances.Specific),
				"instances":         types.NewSet(instances...),
				"onlyAssigned":      types.Boolean(s.OnlyAssignedChats),
			}),
		},
		orgUID(org.ID): {
			UID: orgUID(org.ID),
			Attributes: types.NewRecord(types.RecordMap{
				"fineGrained": types.Boolean(org.Plan.Features().Has(teamperm.FineGrained)),
			}),
		},
		role: {UID: role},
	}
}

// conversationEntity describes conv; a NULL attribute is absent.
func conversationEntity(conv Conversation) types.Entity {
	attrs := types.RecordMap{"org": orgUID(conv.Org)}
	if conv.Instance != 0 {
		attrs["instance"] = types.Long(conv.Instance)
	}
	if conv.Assignee != 0 {
		attrs["assignee"] = memberUID(conv.Assignee)
	}
	return types.Entity{UID: conversationUID, Attributes: types.NewRecord(attrs)}
}

// emptyContext is the context of every request: the policies read none.
var emptyContext = types.NewRecord(nil)

// Decide builds Cedar's request from r (the conversation as an entity
// beside the population's) and authorizes it once. For a permission check
// the resource is the organisation; for a record check a deny by a
// "hidden:" policy is "not found", any other deny "forbidden": the
// diagnostic names the policies that decided.
func (c *Cedar) Decide(r Request) (teamperm.Outcome, error) {
	req := cedar.Request{
		Principal: types.NewEntityUID("Member", types.String(r.Member)),
		Action:    types.NewEntityUID("Action", types.String(r.Permission)),
		Context:   emptyContext,
	}
	if r.Record == nil {
		req.Resource = types.NewEntityUID("Org", types.String(r.Org))
		if d, _ := cedar.Authorize(c.policies, c.entities, req); d == cedar.Allow {
			return teamperm.OutcomeAllow, nil
		}
		return teamperm.OutcomeForbidden, nil
	}
	req.Resource = conversationUID
	return c.outcome(&withRecord{base: c.entities, record: conversationEntity(*r.Record)}, req)
}

// DecideWith is Decide for a record check with the member's entities given
// (CedarEntities), for a host that builds them per request from the
// stored settings instead of keeping the population's.
func (c *Cedar) DecideWith(entities cedar.EntityMap, r Request) (teamperm.Outcome, error) {
	req := cedar.Request{
		Principal: types.NewEntityUID("Member", types.String(r.Member)),
		Action:    types.NewEntityUID("Action", types.String(r.Permission)),
		Resource:  conversationUID,
		Context:   emptyContext,
	}
	return c.outcome(&withRecord{base: entities, record: conversationEntity(*r.Record)}, req)
}

// withRecord is the entities plus the one record a request is about.
type withRecord struct {
	base   cedar.EntityMap
	record types.Entity
}

func (w *withRecord) Get(uid types.EntityUID) (types.Entity, bool) {
	if uid == w.record.UID {
		return w.record, true
	}
	return w.base.Get(uid)
}

// outcome authorizes a record check: allowed, or denied by a "hidden:"
// policy (not found), or denied otherwise (forbidden).
func (c *Cedar) outcome(entities types.EntityGetter, req cedar.Request) (teamperm.Outcome, error) {
	d, diag := cedar.Authorize(c.policies, entities, req)
	if len(diag.Errors) > 0 {
		return teamperm.OutcomeNotFound, fmt.Errorf("cedar: %v", diag.Errors)
	}
	if d == cedar.Allow {
		return teamperm.OutcomeAllow, nil
	}
	for _, reason := range diag.Reasons {
		if strings.HasPrefix(string(reason.PolicyID), "hidden:") {
			return teamperm.OutcomeNotFound, nil
		}
	}
	return teamperm.OutcomeForbidden, nil
}

// PartialConversations partially evaluates every policy for member m
// viewing (chat.view) an unknown conversation, with cedar-go's
// experimental partial evaluation (x/exp/eval). It returns the residual
// permits and forbids.
func (c *Cedar) PartialConversations(m int) (permits, forbids []*xast.Policy, err error) {
	env := eval.Env{
		Entities:  c.entities,
		Principal: memberUID(c.pop.Members[m].ID()),
		Action:    actionUID(teamperm.ChatView),
		Resource:  eval.Variable("resource"),
		Context:   types.NewRecord(nil),
	}
	for _, p := range c.partial {
		residual, keep := eval.PartialPolicy(env, p)
		if !keep {
			continue
		}
		if residual.Effect == xast.EffectPermit {
			permits = append(permits, residual)
		} else {
			forbids = append(forbids, residual)
		}
	}
	return permits, forbids, nil
}

// ConversationFilter is the row filter for member m: the residual
// policies of PartialConversations rendered as an SQLite WHERE expression
// over the table conversations (org_id, instance_id, assignee_id), with ?
// placeholders. cedar-go renders no SQL: the renderer is
// CedarResidualSQL, written for this benchmark.
func (c *Cedar) ConversationFilter(m int, dst []byte, args []any) ([]byte, []any, error) {
	permits, forbids, err := c.PartialConversations(m)
	if err != nil {
		return dst, args, err
	}
	return CedarResidualSQL(dst, args, permits, forbids)
}

// cedarColumns maps the conversation's attributes to columns.
var cedarColumns = map[types.String]string{
	"org":      "org_id",
	"instance": "instance_id",
	"assignee": "assignee_id",
}

// CedarResidualSQL renders residual policies as Cedar decides them: some
// permit holds and no forbid holds. It knows the nodes that partial
// evaluation of CedarPolicies leaves behind and fails on any other.
func CedarResidualSQL(dst []byte, args []any, permits, forbids []*xast.Policy) ([]byte, []any, error) {
	r := residualSQL{b: dst, args: args}
	r.b = append(r.b, '(')
	r.any(permits)
	if len(forbids) > 0 {
		r.b = append(r.b, " AND NOT "...)
		r.any(forbids)
	}
	r.b = append(r.b, ')')
	if r.err != nil {
		return dst, args, r.err
	}
	return r.b, r.args, nil
}

type residualSQL struct {
	b    []byte
	args []any
	err  error
}

func (r *residualSQL) fail(format string, a ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("cedar residual to SQL: "+format, a...)
	}
}

// any renders "some of ps holds"; no policy is false.
func (r *residualSQL) any(ps []*xast.Policy) {
	if len(ps) == 0 {
		r.b = append(r.b, "FALSE"...)
		return
	}
	r.b = append(r.b, '(')
	for i, p := range ps {
		if i > 0 {
			r.b = append(r.b, " OR "...)
		}
		r.policy(p)
	}
	r.b = append(r.b, ')')
}

// policy renders the scope and the conditions of p, joined by AND.
func (r *residualSQL) policy(p *xast.Policy) {
	r.b = append(r.b, '(')
	switch s := p.Resource.(type) {
	case xast.ScopeTypeAll:
		r.b = append(r.b, "TRUE"...)
	case xast.ScopeTypeIs:
		if s.Type == "Conversation" {
			r.b = append(r.b, "TRUE"...)
		} else {
			r.b = append(r.b, "FALSE"...)
		}
	default:
		r.fail("resource scope %T", s)
	}
	for _, scope := range []any{p.Principal, p.Action} {
		if _, ok := scope.(xast.ScopeTypeAll); !ok {
			r.fail("unevaluated scope %T", scope)
		}
	}
	for _, c := range p.Conditions {
		r.b = append(r.b, " AND "...)
		if c.Condition == xast.ConditionUnless {
			r.b = append(r.b, "NOT "...)
		}
		r.node(c.Body)
	}
	r.b = append(r.b, ')')
}

func (r *residualSQL) node(n xast.IsNode) {
	if err, ok := eval.ToPartialError(n); ok {
		r.fail("partial error: %v", err)
		return
	}
	switch n := n.(type) {
	case xast.NodeValue:
		r.value(n.Value)
	case xast.NodeTypeAccess:
		r.column(n.StrOpNode)
	case xast.NodeTypeHas:
		r.column(n.StrOpNode)
		r.b = append(r.b, " IS NOT NULL"...)
	case xast.NodeTypeEquals:
		r.binary(n.BinaryNode, " = ")
	case xast.NodeTypeAnd:
		r.binary(n.BinaryNode, " AND ")
	case xast.NodeTypeOr:
		r.binary(n.BinaryNode, " OR ")
	case xast.NodeTypeNot:
		r.b = append(r.b, "NOT ("...)
		r.node(n.Arg)
		r.b = append(r.b, ')')
	case xast.NodeTypeContains:
		set, ok := n.Left.(xast.NodeValue)
		vs, vok := set.Value.(types.Set)
		if !ok || !vok {
			r.fail("contains on %T", n.Left)
			return
		}
		if vs.Len() == 0 {
			r.b = append(r.b, "FALSE"...)
			return
		}
		r.node(n.Right)
		r.b = append(r.b, " IN ("...)
		i := 0
		for v := range vs.All() {
			if i > 0 {
				r.b = append(r.b, ", "...)
			}
			r.value(v)
			i++
		}
		r.b = append(r.b, ')')
	default:
		r.fail("node %T", n)
	}
}

func (r *residualSQL) binary(n xast.BinaryNode, op string) {
	r.b = append(r.b, '(')
	r.node(n.Left)
	r.b = append(r.b, op...)
	r.node(n.Right)
	r.b = append(r.b, ')')
}

// column renders resource.attr as its column.
func (r *residualSQL) column(n xast.StrOpNode) {
	v, ok := n.Arg.(xast.NodeTypeVariable)
	col := cedarColumns[n.Value]
	if !ok || v.Name != "resource" || col == "" {
		r.fail("attribute %q of %T", n.Value, n.Arg)
		return
	}
	r.b = append(r.b, col...)
}

// value binds a known value: an integer, or the integer key of an entity.
func (r *residualSQL) value(v types.Value) {
	switch v := v.(type) {
	case types.Boolean:
		if v {
			r.b = append(r.b, "TRUE"...)
		} else {
			r.b = append(r.b, "FALSE"...)
		}
		return
	case types.Long:
		r.args = append(r.args, int64(v))
	case types.EntityUID:
		n, err := strconv.ParseInt(string(v.ID), 10, 64)
		if err != nil {
			r.fail("entity %v: %w", v, err)
			return
		}
		r.args = append(r.args, n)
	default:
		r.fail("value %T", v)
		return
	}
	r.b = append(r.b, '?')
}
