package teamperm_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/teamperm/teamperm"
	"pgregory.net/rapid"
)

// This file checks team administration: R14 on edits, change records,
// the edits' JSON form, and a state machine of random edits.

var (
	adminOrg  = teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.FineGrained}
	adminTime = time.Date(2026, 11, 26, 17, 0, 0, 0, time.UTC)
	ownerID   = teamperm.IntID(1)
	adminID   = teamperm.IntID(2)
	admin2ID  = teamperm.IntID(3)
	memberID  = teamperm.IntID(10)
	member2ID = teamperm.IntID(11)
)

func TestApplyEditsR14(t *testing.T) {
	owner := teamperm.Settings{Member: ownerID, Role: teamperm.RoleOwner}
	admin := teamperm.Settings{Member: adminID, Role: teamperm.RoleAdmin}
	// An admin denied contact.export, restricted to instance 7, and limited
	// to its assigned chats.
	limitedAdmin := teamperm.Settings{Member: adminID, Role: teamperm.RoleAdmin, Denies: teamperm.PermissionSetOf(teamperm.ContactExport),
		Instances: teamperm.Only(teamperm.IntID(7)), OnlyAssignedChats: true}
	admin2 := teamperm.Settings{Member: admin2ID, Role: teamperm.RoleAdmin}
	member := teamperm.Settings{Member: memberID, Role: teamperm.RoleMember, Instances: teamperm.Only(teamperm.IntID(7)), OnlyAssignedChats: true}
	member2 := teamperm.Settings{Member: member2ID, Role: teamperm.RoleMember}
	starter := teamperm.Organization{ID: adminOrg.ID, Features: teamperm.PlanStarter.Features()}

	tests := []struct {
		name    string
		org     teamperm.Organization
		actor   teamperm.Settings
		target  teamperm.Settings
		edits   []teamperm.Edit
		wantErr error // nil: applied
		msg     string
	}{
		{"owner grants a member", adminOrg, owner, member2, []teamperm.Edit{teamperm.Grant{teamperm.ContactExport}}, nil, ""},
		{"owner edits an admin", adminOrg, owner, admin, []teamperm.Edit{teamperm.Deny{teamperm.ContactExport}}, nil, ""},
		{"owner makes an admin", adminOrg, owner, member2, []teamperm.Edit{teamperm.SetRole{teamperm.RoleAdmin}}, nil, ""},
		{"admin grants a member what it holds", adminOrg, admin, member2, []teamperm.Edit{teamperm.Grant{teamperm.ContactExport}, teamperm.Deny{teamperm.ChatSend}}, nil, ""},
		{"admin restricts a member", adminOrg, limitedAdmin, member2, []teamperm.Edit{teamperm.SetInstances{teamperm.Only(teamperm.IntID(7))}, teamperm.SetOnlyAssignedChats{true}}, nil, ""},
		{"member edits nobody", adminOrg, member2, member, []teamperm.Edit{teamperm.Deny{teamperm.ChatSend}}, teamperm.ErrEditNotAllowed, "only owners and admins"},
		{"nobody edits an owner", adminOrg, admin, owner, []teamperm.Edit{teamperm.Deny{teamperm.ChatSend}}, teamperm.ErrEditNotAllowed, "owners cannot be edited"},
		{"an owner does not edit an owner", adminOrg, owner, teamperm.Settings{Member: teamperm.IntID(4), Role: teamperm.RoleOwner}, []teamperm.Edit{teamperm.SetRole{teamperm.RoleMember}}, teamperm.ErrEditNotAllowed, "owners cannot be edited"},
		{"nobody edits themselves", adminOrg, admin2, admin2, []teamperm.Edit{teamperm.Deny{teamperm.ChatSend}}, teamperm.ErrEditNotAllowed, "their own"},
		{"owner does not edit itself", adminOrg, owner, owner, []teamperm.Edit{teamperm.SetRole{teamperm.RoleMember}}, teamperm.ErrEditNotAllowed, "their own"},
		{"admin does not edit an admin", adminOrg, admin, admin2, []teamperm.Edit{teamperm.Deny{teamperm.ChatSend}}, teamperm.ErrEditNotAllowed, "only owners edit admins"},
		{"admin does not make admins", adminOrg, admin, member2, []teamperm.Edit{teamperm.SetRole{teamperm.RoleAdmin}}, teamperm.ErrEditNotAllowed, "only an owner makes owners and admins"},
		{"admin does not make owners", adminOrg, admin, member2, []teamperm.Edit{teamperm.SetRole{teamperm.RoleOwner}}, teamperm.ErrEditNotAllowed, "only an owner makes owners and admins"},
		{"admin cannot grant what it lacks", adminOrg, limitedAdmin, member2, []teamperm.Edit{teamperm.Grant{teamperm.ContactExport}}, teamperm.ErrEditNotAllowed, "give 11 contact.export, which it does not hold"},
		{"admin cannot lift a deny of what it lacks", adminOrg, limitedAdmin, teamperm.Settings{Member: memberID, Role: teamperm.RoleMember, Denies: teamperm.PermissionSetOf(teamperm.ContactExport)}, []teamperm.Edit{teamperm.Grant{teamperm.ContactExport}}, teamperm.ErrEditNotAllowed, "give 10 contact.export, which it does not hold"},
		{"admin cannot widen to all instances", adminOrg, limitedAdmin, member, []teamperm.Edit{teamperm.SetInstances{teamperm.Access{}}}, teamperm.ErrEditNotAllowed, "let 10 see contact records it cannot see itself (instance_restricted)"},
		{"admin cannot give an instance it cannot see", adminOrg, limitedAdmin, member, []teamperm.Edit{teamperm.SetInstances{teamperm.Only(teamperm.IntID(7), teamperm.IntID(8))}}, teamperm.ErrEditNotAllowed, "let 10 see contact records it cannot see itself (instance_restricted)"},
		{"admin on assigned chats cannot lift the toggle", adminOrg, limitedAdmin, member, []teamperm.Edit{teamperm.SetOnlyAssignedChats{false}}, teamperm.ErrEditNotAllowed, "let 10 see conversation records it cannot see itself (not_assigned)"},
		{"a batch is all or nothing", adminOrg, limitedAdmin, member2, []teamperm.Edit{teamperm.Deny{teamperm.ChatSend}, teamperm.Grant{teamperm.ContactExport}}, teamperm.ErrEditNotAllowed, "give 11 contact.export"},
		{"fine-grained edit on starter", starter, owner, member2, []teamperm.Edit{teamperm.Grant{teamperm.ContactExport}}, teamperm.ErrUpgradeRequired, teamperm.UpgradeMessage},
		{"toggle on starter", starter, owner, member2, []teamperm.Edit{teamperm.SetOnlyAssignedChats{true}}, teamperm.ErrUpgradeRequired, "require a Pro plan"},
		{"role change on starter", starter, owner, member2, []teamperm.Edit{teamperm.SetRole{teamperm.RoleAdmin}}, nil, ""},
		{"invalid role", adminOrg, owner, member2, []teamperm.Edit{teamperm.SetRole{0}}, teamperm.ErrUnknownRole, "role none"},
		{"invalid permission", adminOrg, owner, member2, []teamperm.Edit{teamperm.Grant{99}}, teamperm.ErrUnknownPermission, "Permission(99)"},
		{"duplicate instances", adminOrg, owner, member2, []teamperm.Edit{teamperm.SetInstances{teamperm.Only(teamperm.IntID(7), teamperm.IntID(7))}}, teamperm.ErrInvalidSettings, "listed twice"},
		{"no edit", adminOrg, owner, member2, nil, teamperm.ErrInvalidSettings, "no edit"},
		{"nil edit", adminOrg, owner, member2, []teamperm.Edit{nil}, teamperm.ErrInvalidSettings, "nil edit"},
		{"actor of another organisation", adminOrg, teamperm.Settings{Member: teamperm.IntID(99), Role: teamperm.RoleOwner}, member2, []teamperm.Edit{teamperm.Deny{teamperm.ChatSend}}, teamperm.ErrEditNotAllowed, "not a member of organization"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			actorOrg := tt.org
			if tt.name == "actor of another organisation" {
				actorOrg.ID = teamperm.IntID(2)
			}
			actor := mustCompile(t, actorOrg, tt.actor)
			before := cloneSettings(tt.target)
			got, change, err := teamperm.ApplyEdits(actor, tt.org, tt.target, adminTime, tt.edits...)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.msg) {
					t.Fatalf("err = %v, want %v naming %q", err, tt.wantErr, tt.msg)
				}
				if diff := cmp.Diff(before, got, settingsOpts...); diff != "" {
					t.Errorf("a refused edit changed the settings (-before +after):\n%s", diff)
				}
				if change.Actor != (teamperm.ID{}) {
					t.Errorf("a refused edit recorded a change: %v", change)
				}
				return
			}
			if err != nil {
				t.Fatalf("ApplyEdits: %v", err)
			}
			if got.Revision != tt.target.Revision+1 {
				t.Errorf("revision %d, want %d", got.Revision, tt.target.Revision+1)
			}
			if change.Actor != tt.actor.Member || change.Target != tt.target.Member || !change.At.Equal(adminTime) {
				t.Errorf("change %v does not record who, whom and when", change)
			}
			if diff := cmp.Diff(before, tt.target, settingsOpts...); diff != "" {
				t.Errorf("ApplyEdits modified its input (-before +after):\n%s", diff)
			}
		})
	}
}

var settingsOpts = []cmp.Option{cmp.Comparer(func(a, b teamperm.ID) bool { return a == b }), cmp.Comparer(func(a, b teamperm.PermissionSet) bool { return a == b }), cmp.Comparer(func(a, b teamperm.Access) bool { return a.Equal(b) })}

func cloneSettings(s teamperm.Settings) teamperm.Settings {
	s.Instances.IDs = append([]teamperm.ID(nil), s.Instances.IDs...)
	s.Pipelines.IDs = append([]teamperm.ID(nil), s.Pipelines.IDs...)
	return s
}

// TestChangeRecord pins the audit-log forms of a change: JSON and slog.
func TestChangeRecord(t *testing.T) {
	owner := mustCompile(t, adminOrg, teamperm.Settings{Member: ownerID, Role: teamperm.RoleOwner})
	target := teamperm.Settings{Member: memberID, Role: teamperm.RoleMember, Revision: 4}
	_, change, err := teamperm.ApplyEdits(owner, adminOrg, target, adminTime,
		teamperm.Grant{teamperm.ChatAssign}, teamperm.Deny{teamperm.ChatSend}, teamperm.SetInstances{teamperm.Only(teamperm.IntID(7))})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := change.Changed(), []string{"grant", "deny", "instances"}; !cmp.Equal(got, want) {
		t.Errorf("Changed() = %v, want %v", got, want)
	}
	js, err := json.Marshal(change)
	if err != nil {
		t.Fatal(err)
	}
	var indented bytes.Buffer
	if err := json.Indent(&indented, js, "", "  "); err != nil {
		t.Fatalf("change JSON is not valid: %v\n%s", err, js)
	}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}})).Info("permissions changed", "change", change)
	golden(t, "change.golden", []byte(indented.String()+"\n\n"+change.String()+"\n\n"+logged.String()))
}

func TestParseEdits(t *testing.T) {
	all := []teamperm.Edit{
		teamperm.SetRole{teamperm.RoleAdmin},
		teamperm.Grant{teamperm.ContactExport},
		teamperm.Deny{teamperm.ChatSend},
		teamperm.ClearOverride{teamperm.ChatAssign},
		teamperm.SetInstances{teamperm.Only(teamperm.IntID(7), teamperm.StringID("b"))},
		teamperm.SetInstances{teamperm.Access{}},
		teamperm.SetOnlyAssignedChats{true},
		teamperm.SetOnlyCreatedDeals{false},
		teamperm.SetPipelines{teamperm.Only()},
	}
	var parts []string
	for _, e := range all {
		b, err := teamperm.MarshalEditJSON(e)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, string(b))
	}
	data := "[" + strings.Join(parts, ",") + "]"
	got, err := teamperm.ParseEdits([]byte(data))
	if err != nil {
		t.Fatalf("ParseEdits(%s): %v", data, err)
	}
	if diff := cmp.Diff(all, got, settingsOpts...); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}

	bad := []struct {
		name, in string
		want     error
		msg      string
	}{
		{"not an array", `{"op":"grant","permission":"chat.send"}`, teamperm.ErrInvalidSettings, "want an array"},
		{"unknown op", `[{"op":"promote","role":"admin"}]`, teamperm.ErrInvalidSettings, `"promote"`},
		{"missing value", `[{"op":"grant"}]`, teamperm.ErrInvalidSettings, `"permission"`},
		{"wrong value", `[{"op":"grant","role":"admin"}]`, teamperm.ErrInvalidSettings, `"permission"`},
		{"extra value", `[{"op":"grant","permission":"chat.send","on":true}]`, teamperm.ErrInvalidSettings, `exactly`},
		{"unknown field", `[{"op":"grant","permision":"chat.send"}]`, teamperm.ErrInvalidSettings, `"permision"`},
		{"duplicate key", `[{"op":"grant","permission":"chat.send","permission":"chat.view"}]`, teamperm.ErrInvalidSettings, `duplicate key "permission"`},
		{"unknown permission", `[{"op":"deny","permission":"chat.delete"}]`, teamperm.ErrUnknownPermission, `"chat.delete"`},
		{"unknown permission is invalid settings", `[{"op":"deny","permission":"chat.delete"}]`, teamperm.ErrInvalidSettings, `edit 0`},
		{"unknown role", `[{"op":"set_role","role":"Owner"}]`, teamperm.ErrUnknownRole, `"Owner"`},
		{"on not a bool", `[{"op":"set_only_assigned_chats","on":"yes"}]`, teamperm.ErrInvalidSettings, `"yes"`},
		{"null id", `[{"op":"set_instances","instances":[null]}]`, teamperm.ErrInvalidID, `null id`},
		{"duplicate id", `[{"op":"set_pipelines","pipelines":[3,3]}]`, teamperm.ErrInvalidSettings, `listed twice`},
		{"instances ALL", `[{"op":"set_instances","instances":"ALL"}]`, teamperm.ErrInvalidSettings, `"ALL"`},
		{"trailing data", `[] []`, teamperm.ErrInvalidSettings, `unexpected data`},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := teamperm.ParseEdits([]byte(tt.in))
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("ParseEdits(%s) = %v, want %v naming %s", tt.in, err, tt.want, tt.msg)
			}
		})
	}
}

func FuzzParseEdits(f *testing.F) {
	f.Add(`[{"op":"grant","permission":"chat.send"},{"op":"set_instances","instances":[1,"a",{"uuid":"00000000-0000-4000-8000-000000000001"}]}]`)
	f.Add(`[{"op":"set_role","role":"member"},{"op":"set_only_created_deals","on":true}]`)
	f.Add(`[{"op":"set_pipelines","pipelines":"all"}]`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, in string) {
		edits, err := teamperm.ParseEdits([]byte(in))
		if err != nil {
			if !errors.Is(err, teamperm.ErrInvalidSettings) {
				t.Fatalf("error %v does not wrap ErrInvalidSettings", err)
			}
			if p := checkParseEditsError([]byte(in), err); p != "" {
				t.Fatal(p)
			}
			return
		}
		var parts []string
		for _, e := range edits {
			b, err := teamperm.MarshalEditJSON(e)
			if err != nil {
				t.Fatalf("MarshalEditJSON(%v): %v", e, err)
			}
			parts = append(parts, string(b))
		}
		again, err := teamperm.ParseEdits([]byte("[" + strings.Join(parts, ",") + "]"))
		if err != nil {
			t.Fatalf("re-parsing: %v", err)
		}
		if diff := cmp.Diff(edits, again, settingsOpts...); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}

// genEdit draws a random edit over small pools.
func genEdit(t *rapid.T) teamperm.Edit {
	p := rapid.SampledFrom(allPermissions()[3:]).Draw(t, "permission")
	switch rapid.IntRange(0, 7).Draw(t, "op") {
	case 0:
		return teamperm.SetRole{teamperm.Role(rapid.IntRange(1, 3).Draw(t, "role"))}
	case 1:
		return teamperm.Grant{p}
	case 2:
		return teamperm.Deny{p}
	case 3:
		return teamperm.ClearOverride{p}
	case 4:
		return teamperm.SetInstances{genAccess(t, instancePool, "instances")}
	case 5:
		return teamperm.SetOnlyAssignedChats{rapid.Bool().Draw(t, "on")}
	case 6:
		return teamperm.SetOnlyCreatedDeals{rapid.Bool().Draw(t, "on")}
	}
	return teamperm.SetPipelines{genAccess(t, pipelinePool, "pipelines")}
}

// TestEditStateMachine applies random batches of edits by random actors to
// a random team, and checks R14's invariants after every step: no actor
// gives anyone (itself included) a permission or an instance it does not
// hold; Owners never change; refused edits change nothing; applied edits
// bump the revision; the stored JSON form round-trips.
func TestEditStateMachine(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		plan := rapid.SampledFrom([]teamperm.Plan{teamperm.PlanStarter, teamperm.PlanPro, teamperm.PlanPro}).Draw(t, "plan")
		org := teamperm.Organization{ID: teamperm.IntID(1), Features: plan.Features()}
		team := []teamperm.Settings{{Member: teamperm.IntID(1), Role: teamperm.RoleOwner}}
		for i := range rapid.IntRange(2, 5).Draw(t, "size") {
			s := genSettings(t)
			s.Member = teamperm.IntID(int64(2 + i))
			if s.Role == teamperm.RoleOwner {
				s.Role = teamperm.RoleAdmin
			}
			team = append(team, s)
		}
		owners := map[int]teamperm.Settings{0: cloneSettings(team[0])}
		t.Repeat(map[string]func(*rapid.T){
			"edit": func(t *rapid.T) {
				ai := rapid.IntRange(0, len(team)-1).Draw(t, "actor")
				ti := rapid.IntRange(0, len(team)-1).Draw(t, "target")
				actor := mustCompile(t, org, team[ai])
				target := cloneSettings(team[ti])
				edits := rapid.SliceOfN(rapid.Custom(genEdit), 1, 3).Draw(t, "edits")
				next, change, err := teamperm.ApplyEdits(actor, org, team[ti], adminTime, edits...)
				if diff := cmp.Diff(target, team[ti], settingsOpts...); diff != "" {
					t.Fatalf("ApplyEdits modified its input:\n%s", diff)
				}
				if err != nil {
					if diff := cmp.Diff(target, next, settingsOpts...); diff != "" {
						t.Fatalf("refused edit (%v) returned changed settings:\n%s", err, diff)
					}
					return
				}
				// Who may edit whom (R14).
				if actor.Role() != teamperm.RoleOwner && actor.Role() != teamperm.RoleAdmin {
					t.Fatalf("a %v edited", actor.Role())
				}
				if ai == ti || target.Role == teamperm.RoleOwner || target.Role == teamperm.RoleAdmin && actor.Role() != teamperm.RoleOwner {
					t.Fatalf("%v (%v) edited %v (%v)", actor.ID(), actor.Role(), target.Member, target.Role)
				}
				if !org.Features.Has(teamperm.FineGrained) {
					for _, e := range edits {
						if _, role := e.(teamperm.SetRole); !role {
							t.Fatalf("fine-grained edit %v applied on %v", e, plan)
						}
					}
				}
				// No escalation beyond the actor's own permissions.
				before := mustCompile(t, org, target)
				after := mustCompile(t, org, next)
				if gained := after.Permissions().Difference(before.Permissions()); !gained.Difference(actor.Permissions()).IsEmpty() {
					t.Fatalf("%v gave %v %v, holding only %v", actor.ID(), target.Member, gained, actor.Permissions())
				}
				if next.Revision != target.Revision+1 || change.After.Revision != next.Revision {
					t.Fatalf("revision %d -> %d", target.Revision, next.Revision)
				}
				team[ti] = next
			},
			"": func(t *rapid.T) {
				for i, s := range owners {
					if diff := cmp.Diff(s, team[i], settingsOpts...); diff != "" {
						t.Fatalf("an owner changed:\n%s", diff)
					}
				}
				for _, s := range team {
					js, err := s.MarshalJSON()
					if err != nil {
						t.Fatalf("MarshalJSON(%+v): %v", s, err)
					}
					var back teamperm.Settings
					if err := back.UnmarshalJSON(js); err != nil {
						t.Fatalf("UnmarshalJSON(%s): %v", js, err)
					}
					if diff := cmp.Diff(s, back, settingsOpts...); diff != "" {
						t.Fatalf("JSON round trip:\n%s", diff)
					}
				}
			},
		})
	})
}
