package bench

import (
	"context"
	"fmt"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/rego/compile"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/teamperm/teamperm"
)

// RegoPolicy is the policy in Rego. The organisations and the members'
// stored settings are data (pushed into OPA's store by the host); a
// request's input names the member, the permission and, for a record
// check, the record. include is the data filtering rule for conversations,
// with input.conversations as the unknown row (OPA's SQL data filtering).
const RegoPolicy = `package teamperm

member := data.members[input.member]

org := data.orgs[member.org_key]

# Stored settings apply on a plan with fine-grained permissions, and never
# to an owner (R4, R5).
settings_apply if {
	org.fine_grained
	member.role != "owner"
}

all_permissions := {
	"contact.view", "contact.create", "contact.update", "contact.delete",
	"contact.export", "contact.import", "chat.view", "chat.send", "chat.assign",
	"instance.view", "instance.manage", "webhook.view", "webhook.manage",
	"campaign.view", "campaign.manage", "workflow.view", "workflow.manage",
}

role_defaults := {
	"owner": all_permissions,
	"admin": all_permissions,
	"member": {
		"contact.view", "contact.create", "contact.update", "contact.import",
		"chat.view", "chat.send", "instance.view", "webhook.view",
		"campaign.view", "workflow.view",
	},
}

# A deny wins over a grant (R6).
denied(p) if {
	settings_apply
	member.denies[p]
}

has(p) if {
	role_defaults[member.role][p]
	not denied(p)
}

has(p) if {
	settings_apply
	member.grants[p]
	not denied(p)
}

default allow := false

allow if has(input.permission)

restricts_instances if {
	settings_apply
	member.restrict_instances
}

restricts_assignment if {
	settings_apply
	member.only_assigned
}

# A helper rule, not "not input.record.instance in member.instances":
# OPA rewrites a negated call so that an undefined argument (a NULL
# instance) makes the whole expression undefined rather than true
# (open-policy-agent/opa#1877).
hidden_by_instance if {
	restricts_instances
	not record_instance_allowed
}

record_instance_allowed if input.record.instance in member.instances

hidden_by_assignment if {
	restricts_assignment
	not input.record.assignee == member.id
}

visible if {
	input.record.org == member.org
	has("chat.view")
	not hidden_by_instance
	not hidden_by_assignment
}

# A record the member cannot see is not found (R8, R12).
outcome := "not_found" if {
	not visible
} else := "allow" if {
	has(input.permission)
} else := "forbidden"

include if {
	input.conversations.org_id == member.org
	has("chat.view")
	instance_allowed
	assignment_allowed
}

instance_allowed if not restricts_instances

instance_allowed if {
	restricts_instances
	input.conversations.instance_id in member.instances
}

assignment_allowed if not restricts_assignment

assignment_allowed if {
	restricts_assignment
	input.conversations.assignee_id == member.id
}
`

// OPA decides with queries prepared once (PrepareForEval,
// PrepareForPartial, and the data filter compiler of
// github.com/open-policy-agent/opa/v1/rego/compile) over an in-memory
// store that holds the whole population.
type OPA struct {
	allow, outcome rego.PreparedEvalQuery
	partial        rego.PreparedPartialQuery
	filter         *compile.Prepared
	unknowns       []*ast.Term
	pop            *Population
}

// RegoData is pop as the data document of RegoPolicy.
func RegoData(pop *Population) map[string]any {
	orgs := map[string]any{}
	for _, o := range pop.Orgs {
		orgs[key(o.ID)] = map[string]any{"fine_grained": o.Plan.Features().Has(teamperm.FineGrained)}
	}
	members := map[string]any{}
	for i := range pop.Members {
		m := &pop.Members[i]
		members[key(m.ID())] = RegoMember(&pop.Orgs[m.Org], m.Settings)
	}
	return map[string]any{"orgs": orgs, "members": members}
}

// RegoMember is one member's entry in the data document.
func RegoMember(org *Org, s teamperm.Settings) map[string]any {
	set := func(ps teamperm.PermissionSet) map[string]any {
		o := map[string]any{}
		for p := range ps.All() {
			o[p.String()] = true
		}
		return o
	}
	instances := []any{}
	for _, id := range s.Instances.IDs {
		n, _ := id.Int()
		instances = append(instances, n)
	}
	id, _ := s.Member.Int()
	return map[string]any{
		"id":                 id,
		"org":                org.ID,
		"org_key":            key(org.ID),
		"role":               s.Role.String(),
		"grants":             set(s.Grants),
		"denies":             set(s.Denies),
		"restrict_instances": s.Instances.Specific,
		"instances":          instances,
		"only_assigned":      s.OnlyAssignedChats,
	}
}

// NewOPA prepares the queries of RegoPolicy over the data of pop.
func NewOPA(ctx context.Context, pop *Population) (*OPA, error) {
	store := inmem.NewFromObjectWithOpts(RegoData(pop), inmem.OptReturnASTValuesOnRead(true))
	module := rego.Module("teamperm.rego", RegoPolicy)
	o := &OPA{pop: pop, unknowns: []*ast.Term{ast.MustParseTerm("input.conversations")}}
	var err error
	if o.allow, err = rego.New(rego.Query("data.teamperm.allow"), module, rego.Store(store)).PrepareForEval(ctx); err != nil {
		return nil, err
	}
	if o.outcome, err = rego.New(rego.Query("data.teamperm.outcome"), module, rego.Store(store)).PrepareForEval(ctx); err != nil {
		return nil, err
	}
	if o.partial, err = rego.New(rego.Query("data.teamperm.include"), module, rego.Store(store)).PrepareForPartial(ctx); err != nil {
		return nil, err
	}
	o.filter, err = compile.New(
		compile.Target("sql", "sqlite"),
		compile.ParsedUnknowns(o.unknowns...),
		compile.ParsedQuery(ast.MustParseBody("data.teamperm.include")),
		compile.Rego(module, rego.Store(store)),
	).Prepare(ctx)
	if err != nil {
		return nil, err
	}
	return o, nil
}

// Decide builds OPA's input from r, parsed (rego.EvalParsedInput), and
// evaluates data.teamperm.allow for a permission check or
// data.teamperm.outcome for a record check; a NULL key of the record is
// absent from the input.
func (o *OPA) Decide(r Request) (teamperm.Outcome, error) {
	member := ast.Item(ast.StringTerm("member"), ast.StringTerm(r.Member))
	permission := ast.Item(ast.StringTerm("permission"), ast.StringTerm(r.Permission))
	ctx := context.Background()
	if r.Record == nil {
		rs, err := o.allow.Eval(ctx, rego.EvalParsedInput(ast.NewObject(member, permission)))
		if err != nil || !rs.Allowed() {
			return teamperm.OutcomeForbidden, err
		}
		return teamperm.OutcomeAllow, nil
	}
	conv := r.Record
	record := ast.NewObject(ast.Item(ast.StringTerm("org"), ast.IntNumberTerm(int(conv.Org))))
	if conv.Instance != 0 {
		record.Insert(ast.StringTerm("instance"), ast.IntNumberTerm(int(conv.Instance)))
	}
	if conv.Assignee != 0 {
		record.Insert(ast.StringTerm("assignee"), ast.IntNumberTerm(int(conv.Assignee)))
	}
	input := ast.NewObject(member, permission, ast.Item(ast.StringTerm("record"), ast.NewTerm(record)))
	rs, err := o.outcome.Eval(ctx, rego.EvalParsedInput(input))
	if err != nil {
		return teamperm.OutcomeNotFound, err
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return teamperm.OutcomeNotFound, fmt.Errorf("opa: outcome: unexpected result %v", rs)
	}
	switch rs[0].Expressions[0].Value {
	case "allow":
		return teamperm.OutcomeAllow, nil
	case "forbidden":
		return teamperm.OutcomeForbidden, nil
	case "not_found":
		return teamperm.OutcomeNotFound, nil
	}
	return teamperm.OutcomeNotFound, fmt.Errorf("opa: outcome: unexpected result %v", rs)
}

// MemberInput is the input of a row filter for member m.
func (o *OPA) MemberInput(m int) ast.Value {
	return ast.NewObject(ast.Item(ast.StringTerm("member"), ast.StringTerm(key(o.pop.Members[m].ID()))))
}

// PartialConversations partially evaluates data.teamperm.include for a
// MemberInput, with input.conversations unknown: the residual queries.
func (o *OPA) PartialConversations(ctx context.Context, input ast.Value) (*rego.PartialQueries, error) {
	return o.partial.Partial(ctx, rego.EvalParsedInput(input), rego.EvalParsedUnknowns(o.unknowns))
}

// ConversationFilter compiles data.teamperm.include for a MemberInput
// into an SQLite WHERE expression over the table conversations, with OPA's
// data filter compiler (partial evaluation, then translation). The values
// are written into the text; OPA binds no parameters. ok is false when no
// row can match.
func (o *OPA) ConversationFilter(ctx context.Context, input ast.Value) (where string, ok bool, err error) {
	fs, err := o.filter.Compile(ctx, rego.EvalParsedInput(input))
	if err != nil {
		return "", false, err
	}
	switch q := fs.One().Query.(type) {
	case nil:
		return "", false, nil // unconditional no
	case string:
		if q == "" {
			return "TRUE", true, nil // unconditional yes
		}
		return strings.TrimPrefix(q, "WHERE "), true, nil
	default:
		return "", false, fmt.Errorf("opa: filter: unexpected query %T", q)
	}
}
