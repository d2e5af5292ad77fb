package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/teamperm/teamperm"
)

// A catalog names a team's WhatsApp instances and CRM pipelines as one
// viewer may see them (issue 12): pages and endpoints name an instance
// only when the viewer may see it (Visible on the instance's own record:
// instance.view and instance access, R7, R13) and a pipeline only when a
// deal in it could be visible to the viewer (a legacy deal in it, which
// only pipeline assignments hide, R11). The others are counted, never
// named: the name of a brand an admin is kept away from is itself
// something they should not learn.
//
// The zero catalog names nothing.
type catalog struct {
	team      Team
	instances map[int64]bool // visible
	pipelines map[int64]bool // visible
}

// newCatalog returns the team's names as viewer sees them. A nil viewer
// sees nothing.
func newCatalog(viewer *teamperm.Member, team Team) catalog {
	c := catalog{team: team, instances: map[int64]bool{}, pipelines: map[int64]bool{}}
	org := teamperm.IntID(team.Org.ID)
	for _, in := range team.Instances {
		r := teamperm.Record{Kind: teamperm.KindInstance, Organization: org, Instance: teamperm.IntID(in.ID)}
		c.instances[in.ID] = viewer.Visible(r).Allowed()
	}
	for _, p := range team.Pipelines {
		r := teamperm.Record{Kind: teamperm.KindDeal, Organization: org, Pipeline: teamperm.IntID(p.ID), CreatorKind: teamperm.CreatorUnknown}
		c.pipelines[p.ID] = viewer.Visible(r).Allowed()
	}
	return c
}

// operatorCatalog names everything: for the service's operator (the
// command's printed demo), never for a member's page.
func operatorCatalog(team Team) catalog {
	c := catalog{team: team, instances: map[int64]bool{}, pipelines: map[int64]bool{}}
	for _, in := range team.Instances {
		c.instances[in.ID] = true
	}
	for _, p := range team.Pipelines {
		c.pipelines[p.ID] = true
	}
	return c
}

// instance returns the name of instance id, if the viewer may see it.
func (c catalog) instance(id int64) (string, bool) {
	if !c.instances[id] {
		return "", false
	}
	i := slices.IndexFunc(c.team.Instances, func(in Instance) bool { return in.ID == id })
	return c.team.Instances[i].Name, true
}

// pipeline returns the name of pipeline id, if the viewer may see it.
func (c catalog) pipeline(id int64) (string, bool) {
	if !c.pipelines[id] {
		return "", false
	}
	i := slices.IndexFunc(c.team.Pipelines, func(p Pipeline) bool { return p.ID == id })
	return c.team.Pipelines[i].Name, true
}

// visibleInstances returns the instances the viewer may see, in key
// order, and how many others the team has.
func (c catalog) visibleInstances() (visible []Instance, hidden int) {
	for _, in := range c.team.Instances {
		if c.instances[in.ID] {
			visible = append(visible, in)
		} else {
			hidden++
		}
	}
	return visible, hidden
}

// visiblePipelines is visibleInstances for pipelines.
func (c catalog) visiblePipelines() (visible []Pipeline, hidden int) {
	for _, p := range c.team.Pipelines {
		if c.pipelines[p.ID] {
			visible = append(visible, p)
		} else {
			hidden++
		}
	}
	return visible, hidden
}

// instanceIDs keeps the IDs of ids the viewer may see, and counts the
// others.
func (c catalog) instanceIDs(ids []teamperm.ID) (visible []teamperm.ID, hidden int) {
	return filterIDs(ids, c.instances)
}

// pipelineIDs is instanceIDs for pipelines.
func (c catalog) pipelineIDs(ids []teamperm.ID) (visible []teamperm.ID, hidden int) {
	return filterIDs(ids, c.pipelines)
}

func filterIDs(ids []teamperm.ID, visible map[int64]bool) ([]teamperm.ID, int) {
	out, hidden := []teamperm.ID{}, 0
	for _, id := range ids {
		if n, ok := id.Int(); ok && visible[n] {
			out = append(out, id)
		} else {
			hidden++
		}
	}
	return out, hidden
}

// instanceList names the instances of ids the viewer may see and counts
// the others: "Acme Support, Bloom", "Bloom and 1 other instance you
// cannot see", "no instance".
func (c catalog) instanceList(ids []teamperm.ID) string {
	return nameList(ids, c.instance, "instance")
}

// pipelineList is instanceList for pipelines.
func (c catalog) pipelineList(ids []teamperm.ID) string {
	return nameList(ids, c.pipeline, "pipeline")
}

func nameList(ids []teamperm.ID, name func(int64) (string, bool), noun string) string {
	var names []string
	hidden := 0
	for _, id := range ids {
		n, _ := id.Int()
		if s, ok := name(n); ok {
			names = append(names, s)
		} else {
			hidden++
		}
	}
	out := strings.Join(names, ", ")
	if hidden > 0 {
		plural := ""
		if hidden > 1 {
			plural = "s"
		}
		if out == "" {
			return fmt.Sprintf("%d %s%s you cannot see", hidden, noun, plural)
		}
		return fmt.Sprintf("%s and %d other %s%s you cannot see", out, hidden, noun, plural)
	}
	if out == "" {
		return "no " + noun
	}
	return out
}

// edit describes an edit for people, naming instances and pipelines as
// the viewer may see them.
func (c catalog) edit(e teamperm.Edit) string {
	switch e := e.(type) {
	case teamperm.SetInstances:
		if !e.Access.Specific {
			return "set instances all"
		}
		return "set instances " + c.instanceList(e.Access.IDs)
	case teamperm.SetPipelines:
		if !e.Access.Specific {
			return "set pipelines all"
		}
		return "set pipelines " + c.pipelineList(e.Access.IDs)
	}
	return e.String()
}

// keepHidden returns the edits with every SetInstances and SetPipelines
// of a specific set extended by the IDs of the target's current access
// that the viewer cannot see: what a viewer cannot see they cannot change
// (nor remove unknowingly, by saving a page that could not show it).
func (c catalog) keepHidden(cur teamperm.Settings, edits []teamperm.Edit) []teamperm.Edit {
	out := slices.Clone(edits)
	for i, e := range out {
		switch e := e.(type) {
		case teamperm.SetInstances:
			if e.Access.Specific && cur.Instances.Specific {
				out[i] = teamperm.SetInstances{Access: withHidden(e.Access, cur.Instances, c.instances)}
			}
		case teamperm.SetPipelines:
			if e.Access.Specific && cur.Pipelines.Specific {
				out[i] = teamperm.SetPipelines{Access: withHidden(e.Access, cur.Pipelines, c.pipelines)}
			}
		}
	}
	return out
}

func withHidden(a, cur teamperm.Access, visible map[int64]bool) teamperm.Access {
	ids := slices.Clone(a.IDs)
	for _, id := range cur.IDs {
		if n, ok := id.Int(); (!ok || !visible[n]) && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(x, y teamperm.ID) int {
		a, _ := x.Int()
		b, _ := y.Int()
		return int(a - b)
	})
	return teamperm.Only(ids...)
}
