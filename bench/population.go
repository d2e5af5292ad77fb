package bench

import (
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/teamperm/teamperm"
)

// A Population is the state every engine is loaded with: organisations on
// plans, and their members with stored settings. It is generated from a
// seed, so every engine and every run sees the same one.
type Population struct {
	Orgs    []Org
	Members []Member
}

// An Org is an organisation: its key, its plan and its WhatsApp instances.
type Org struct {
	ID        int64
	Plan      teamperm.Plan
	Instances []int64
}

// Organization returns o as teamperm sees it.
func (o *Org) Organization() teamperm.Organization {
	return teamperm.Organization{ID: teamperm.IntID(o.ID), Features: o.Plan.Features()}
}

// A Member is one team member: the index of its organisation in
// [Population.Orgs], its stored settings (integer IDs throughout), and its
// compiled teamperm view.
type Member struct {
	Org      int
	Settings teamperm.Settings
	Compiled *teamperm.Member
}

// ID returns the member's integer key.
func (m *Member) ID() int64 {
	n, _ := m.Settings.Member.Int()
	return n
}

// A Conversation is the record of a conversation check: its organisation,
// instance and assignee keys, 0 standing for NULL.
type Conversation struct {
	Org, Instance, Assignee int64
}

// Record returns c as a teamperm record.
func (c Conversation) Record() teamperm.Record {
	return teamperm.Record{
		Kind:         teamperm.KindConversation,
		Organization: intID(c.Org),
		Instance:     intID(c.Instance),
		Assignee:     intID(c.Assignee),
	}
}

// intID maps the key 0 to the zero ID (NULL).
func intID(n int64) teamperm.ID {
	if n == 0 {
		return teamperm.ID{}
	}
	return teamperm.IntID(n)
}

// key returns the decimal form of n, which the string-keyed engines use.
func key(n int64) string { return strconv.FormatInt(n, 10) }

// instancesPerOrg is the number of WhatsApp instances of each organisation.
const instancesPerOrg = 5

// NewPopulation generates members members spread round-robin over orgs
// organisations, from seed. Every plan occurs, every organisation has an
// owner, and about a third of the members of each organisation are
// admins; settings are drawn at random, including overrides for owners and
// settings on Free and Starter plans, which the model must ignore (R4, R5).
func NewPopulation(orgs, members int, seed uint64) (*Population, error) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	pop := &Population{}
	plans := []teamperm.Plan{teamperm.PlanPro, teamperm.PlanFree, teamperm.PlanStarter}
	for i := range orgs {
		id := int64(i + 1)
		o := Org{ID: id, Plan: plans[i%len(plans)]}
		for k := range instancesPerOrg {
			o.Instances = append(o.Instances, id*100+int64(k+1))
		}
		pop.Orgs = append(pop.Orgs, o)
	}
	for i := range members {
		org := i % orgs
		role := teamperm.RoleMember
		switch {
		case i < orgs:
			role = teamperm.RoleOwner
		case rng.IntN(3) == 0:
			role = teamperm.RoleAdmin
		}
		s := RandomSettings(rng, int64(10_000+i), role, pop.Orgs[org].Instances)
		if err := pop.Add(org, s); err != nil {
			return nil, fmt.Errorf("member %d: %w", i, err)
		}
	}
	return pop, nil
}

// Add compiles a member of the organisation pop.Orgs[org] with settings s
// and appends it to pop.Members.
func (pop *Population) Add(org int, s teamperm.Settings) error {
	compiled, err := teamperm.Compile(pop.Orgs[org].Organization(), s)
	if err != nil {
		return err
	}
	pop.Members = append(pop.Members, Member{Org: org, Settings: s, Compiled: compiled})
	return nil
}

// RandomSettings draws stored settings for a member: a few grants and
// denies (sometimes of the same permission), access to all or to a
// specific (possibly empty) subset of instances, and only-assigned-chats.
func RandomSettings(rng *rand.Rand, id int64, role teamperm.Role, instances []int64) teamperm.Settings {
	s := teamperm.Settings{Member: teamperm.IntID(id), Role: role, Revision: rng.Uint64N(100)}
	for range rng.IntN(4) {
		s.Grants = s.Grants.With(randomPermission(rng))
	}
	for range rng.IntN(3) {
		s.Denies = s.Denies.With(randomPermission(rng))
	}
	if rng.IntN(3) == 0 {
		ids := []teamperm.ID{}
		for _, inst := range instances {
			if rng.IntN(2) == 0 {
				ids = append(ids, teamperm.IntID(inst))
			}
		}
		s.Instances = teamperm.Only(ids...)
	}
	s.OnlyAssignedChats = rng.IntN(3) == 0
	return s
}

func randomPermission(rng *rand.Rand) teamperm.Permission {
	return teamperm.Permission(1 + rng.IntN(17))
}

// A Case is one random decision to make: a member (an index into
// [Population.Members]), a permission and, for record checks, a
// conversation.
type Case struct {
	Member       int
	Permission   teamperm.Permission
	Conversation Conversation
}

// RandomCases draws n cases from pop: any member and permission, and a
// conversation that is mostly in the member's organisation (sometimes in
// another one), on one of its instances or none, assigned to the member,
// to a colleague or to nobody.
func (pop *Population) RandomCases(n int, seed uint64) []Case {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	cases := make([]Case, n)
	for i := range cases {
		mi := rng.IntN(len(pop.Members))
		m := &pop.Members[mi]
		org := &pop.Orgs[m.Org]
		if rng.IntN(10) == 0 {
			org = &pop.Orgs[rng.IntN(len(pop.Orgs))]
		}
		c := Conversation{Org: org.ID}
		if rng.IntN(8) != 0 {
			c.Instance = org.Instances[rng.IntN(len(org.Instances))]
		}
		switch rng.IntN(3) {
		case 0:
			c.Assignee = m.ID()
		case 1:
			c.Assignee = pop.Members[rng.IntN(len(pop.Members))].ID()
		}
		cases[i] = Case{Member: mi, Permission: randomPermission(rng), Conversation: c}
	}
	return cases
}
