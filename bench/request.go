package bench

import "github.com/teamperm/teamperm"

// A Request is one decision as a web service receives it: the tenant and
// the member from the session, the permission from the route, all as
// text, and for a record check the record as loaded from its row. Every
// engine decides the same Requests through the same method, Decide, which
// does everything from these strings to the outcome: the member is looked
// up inside the call, for every engine.
type Request struct {
	Org        string // the organisation of the session, decimal
	Member     string // the member's key, decimal
	Permission string // a permission name: "contact.export"
	// Record is the conversation acted on; nil for a permission check
	// ("may this member export contacts at all?").
	Record *Conversation
}

// An Engine decides Requests. A permission check is allowed or forbidden;
// a record check is allowed, forbidden or not found (R8, R12).
type Engine interface {
	Decide(Request) (teamperm.Outcome, error)
}

// Requests turns cases into Requests: the member's organisation and key,
// the permission's name and, when record is set, the case's conversation.
func (pop *Population) Requests(cases []Case, record bool) []Request {
	out := make([]Request, len(cases))
	for i, c := range cases {
		m := &pop.Members[c.Member]
		r := Request{Org: key(pop.Orgs[m.Org].ID), Member: key(m.ID()), Permission: c.Permission.String()}
		if record {
			conv := c.Conversation
			r.Record = &conv
		}
		out[i] = r
	}
	return out
}

// RandomRequests draws n requests from pop (RandomCases): permission
// checks, or record checks when record is set.
func (pop *Population) RandomRequests(n int, seed uint64, record bool) []Request {
	return pop.Requests(pop.RandomCases(n, seed), record)
}

// Teamperm decides with the members compiled once ([Population.Add]),
// kept in a map by their key: a host's cache of compiled members.
type Teamperm struct {
	members map[string]*teamperm.Member
}

// NewTeamperm indexes pop's compiled members by key.
func NewTeamperm(pop *Population) *Teamperm {
	t := &Teamperm{members: make(map[string]*teamperm.Member, len(pop.Members))}
	for i := range pop.Members {
		m := &pop.Members[i]
		t.members[key(m.ID())] = m.Compiled
	}
	return t
}

// Decide looks the member up (an unknown member is nil, which denies
// everything), parses the permission and evaluates.
func (t *Teamperm) Decide(r Request) (teamperm.Outcome, error) {
	m := t.members[r.Member]
	p, err := teamperm.ParsePermission(r.Permission)
	if err != nil {
		return teamperm.OutcomeForbidden, err
	}
	if r.Record == nil {
		return m.Evaluate(p).Outcome(), nil
	}
	return m.EvaluateRecord(p, r.Record.Record()).Outcome(), nil
}

// Oracle decides Requests from the population's stored settings by the
// rules of PRODUCT.md, written out plainly here and sharing nothing with
// teamperm's compiled members: every engine, teamperm included, must agree
// with it before it is timed.
type Oracle struct {
	pop     *Population
	members map[string]int
}

// NewOracle indexes pop's members.
func NewOracle(pop *Population) *Oracle {
	o := &Oracle{pop: pop, members: map[string]int{}}
	for i := range pop.Members {
		o.members[key(pop.Members[i].ID())] = i
	}
	return o
}

// oracleMemberDefaults is the seed's "Role defaults" table for the Member
// role (R2); Owners and Admins have every permission.
var oracleMemberDefaults = []string{
	"contact.view", "contact.create", "contact.update", "contact.import",
	"chat.view", "chat.send", "instance.view", "webhook.view", "campaign.view", "workflow.view",
}

// Decide applies R2, R4-R9, R12 and R13 to r.
func (o *Oracle) Decide(r Request) (teamperm.Outcome, error) {
	i, ok := o.members[r.Member]
	if !ok {
		if r.Record == nil {
			return teamperm.OutcomeForbidden, nil
		}
		return teamperm.OutcomeNotFound, nil
	}
	m := &o.pop.Members[i]
	org := &o.pop.Orgs[m.Org]
	s := &m.Settings
	// Stored settings apply on Pro, never to an owner (R4, R5).
	applies := org.Plan == teamperm.PlanPro && s.Role != teamperm.RoleOwner
	has := func(name string) bool {
		p, err := teamperm.ParsePermission(name)
		if err != nil {
			return false
		}
		if applies && s.Denies.Has(p) { // a deny wins (R6)
			return false
		}
		if applies && s.Grants.Has(p) {
			return true
		}
		switch s.Role {
		case teamperm.RoleOwner, teamperm.RoleAdmin:
			return true
		case teamperm.RoleMember:
			for _, d := range oracleMemberDefaults {
				if d == name {
					return true
				}
			}
		}
		return false
	}
	verdict := func() teamperm.Outcome {
		if has(r.Permission) {
			return teamperm.OutcomeAllow
		}
		return teamperm.OutcomeForbidden
	}
	c := r.Record
	if c == nil {
		return verdict(), nil
	}
	visible := c.Org == org.ID && has("chat.view")  // R13
	if visible && applies && s.Instances.Specific { // R7
		allowed := false
		for _, id := range s.Instances.IDs {
			if n, _ := id.Int(); c.Instance != 0 && n == c.Instance {
				allowed = true
			}
		}
		visible = allowed
	}
	if visible && applies && s.OnlyAssignedChats { // R9
		visible = c.Assignee != 0 && c.Assignee == m.ID()
	}
	if !visible {
		return teamperm.OutcomeNotFound, nil // R8, R12
	}
	return verdict(), nil
}
