package teamperm

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"time"
)

// The JSON form of an edit: an object with "op" and the edit's one value.
//
//	{"op":"set_role","role":"admin"}
//	{"op":"grant","permission":"contact.export"}
//	{"op":"deny","permission":"chat.send"}
//	{"op":"clear_override","permission":"chat.send"}
//	{"op":"set_instances","instances":"all"}         (or [7, 9])
//	{"op":"set_only_assigned_chats","on":true}
//	{"op":"set_only_created_deals","on":false}
//	{"op":"set_pipelines","pipelines":[3]}

// MarshalEditJSON returns the JSON form of e.
func MarshalEditJSON(e Edit) ([]byte, error) { return appendEditJSON(nil, e) }

func appendEditJSON(b []byte, e Edit) ([]byte, error) {
	var err error
	perm := func(op string, p Permission) {
		if !p.IsValid() {
			err = fmt.Errorf("teamperm: %s: %w", e, ErrUnknownPermission)
			return
		}
		b = fmt.Appendf(b, `{"op":%q,"permission":%q}`, op, p.String())
	}
	switch e := e.(type) {
	case SetRole:
		if !e.Role.IsValid() {
			return nil, fmt.Errorf("teamperm: %s: %w", e, ErrUnknownRole)
		}
		b = fmt.Appendf(b, `{"op":"set_role","role":%q}`, e.Role.String())
	case Grant:
		perm("grant", e.Permission)
	case Deny:
		perm("deny", e.Permission)
	case ClearOverride:
		perm("clear_override", e.Permission)
	case SetInstances:
		b = append(b, `{"op":"set_instances","instances":`...)
		b, err = e.Access.appendJSON(b)
		b = append(b, '}')
	case SetOnlyAssignedChats:
		b = fmt.Appendf(b, `{"op":"set_only_assigned_chats","on":%t}`, e.On)
	case SetOnlyCreatedDeals:
		b = fmt.Appendf(b, `{"op":"set_only_created_deals","on":%t}`, e.On)
	case SetPipelines:
		b = append(b, `{"op":"set_pipelines","pipelines":`...)
		b, err = e.Access.appendJSON(b)
		b = append(b, '}')
	default:
		return nil, fmt.Errorf("teamperm: unknown edit %T: %w", e, ErrInvalidSettings)
	}
	if err != nil {
		return nil, err
	}
	return b, nil
}

// Edits is a list of edits that marshals to JSON as an array of their
// JSON forms ([MarshalEditJSON]); [ParseEdits] reads it back.
type Edits []Edit

// MarshalJSON encodes the edits as a JSON array; nil is [].
func (es Edits) MarshalJSON() ([]byte, error) {
	b := []byte{'['}
	for i, e := range es {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendEditJSON(b, e); err != nil {
			return nil, err
		}
	}
	return append(b, ']'), nil
}

// ParseEdits decodes a JSON array of edits, as a settings page would send
// them: the edits body. Each edit is an object with an "op" and exactly
// the one field its op takes:
//
//	op                       field       value                      Edit
//	set_role                 role        "owner", "admin", "member" SetRole
//	grant                    permission  a permission name          Grant
//	deny                     permission  a permission name          Deny
//	clear_override           permission  a permission name          ClearOverride
//	set_instances            instances   "all" or an array of IDs   SetInstances
//	set_only_assigned_chats  on          true or false              SetOnlyAssignedChats
//	set_only_created_deals   on          true or false              SetOnlyCreatedDeals
//	set_pipelines            pipelines   "all" or an array of IDs   SetPipelines
//
// For example:
//
//	[{"op":"set_role","role":"member"},
//	 {"op":"grant","permission":"contact.export"},
//	 {"op":"deny","permission":"chat.send"},
//	 {"op":"clear_override","permission":"chat.assign"},
//	 {"op":"set_instances","instances":[7,"brand-b",{"uuid":"5f0c…"}]},
//	 {"op":"set_only_assigned_chats","on":true},
//	 {"op":"set_only_created_deals","on":false},
//	 {"op":"set_pipelines","pipelines":"all"}]
//
// Permission names are those of [Permission.String] ("contact.export");
// IDs are written as [ID.MarshalJSON] writes them (an integer, a string,
// {"uuid":"..."}), non-null and distinct. The JSON Schema of the body is
// schema/edits.schema.json in this repository. [Edits] and
// [MarshalEditJSON] write the same form.
//
// ParseEdits is as strict as the settings decoder: an unknown op or key, a
// missing or extra value, a duplicate key, an unknown permission or role
// or a malformed ID is an error that names the value and wraps
// [ErrInvalidSettings] (and the more specific sentinel where there is
// one). Every error is an [*Error] whose [Code] says what is wrong
// (invalid_json, unknown_field, missing_field, unknown_op,
// unknown_permission, unknown_role, invalid_id, duplicate_id) and whose
// Field is the JSON Pointer of the value at fault ("/1/permission"), for a
// settings page to show next to the control. An edit with several keys
// its op does not take is blamed on the first of them in the order
// permission, role, instances, pipelines, on, whatever their order in the
// input. Access checks happen later, in [ApplyEdits]. Keys are matched as
// by [Settings.UnmarshalJSON]: exactly, after unescaping ("\u006fp" is
// "op", and a duplicate of it).
func ParseEdits(data []byte) ([]Edit, error) {
	var d jsonDecoder
	edits, err := d.edits(data)
	if err != nil {
		e, ok := asError(err)
		if !ok { // the body as a whole: not an array, malformed, trailing data
			e = coded(CodeInvalidJSON, "", err)
		}
		if !errors.Is(err, ErrInvalidSettings) {
			// A malformed ID: an ErrInvalidID, and invalid edits too.
			e = coded(e.Code, e.Field, fmt.Errorf("%w (%w)", err, ErrInvalidSettings))
		}
		return nil, e
	}
	return edits, nil
}

func (d *jsonDecoder) edits(data []byte) ([]Edit, error) {
	d.start(data, ErrInvalidSettings)
	if err := d.expect("edits", '[', "an array"); err != nil {
		return nil, err
	}
	edits := []Edit{}
	for d.more() {
		e, err := d.edit(len(edits))
		if err != nil {
			return nil, err
		}
		edits = append(edits, e)
	}
	if err := d.close("edits"); err != nil {
		return nil, err
	}
	return edits, d.finish()
}

// editFields are the keys of an edit's JSON form; the index of each is
// its bit in the decoder's set of keys seen.
var editFields = []string{"op", "permission", "role", "instances", "pipelines", "on"}

// editOps maps each op to the one field besides "op" that it takes.
var editOps = map[string]int{
	"set_role": 2, "grant": 1, "deny": 1, "clear_override": 1,
	"set_instances": 3, "set_pipelines": 4,
	"set_only_assigned_chats": 5, "set_only_created_deals": 5,
}

// edit reads the i-th edit of an edits body. Every error is an *Error
// naming the value at fault.
func (d *jsonDecoder) edit(i int) (Edit, error) {
	what := "edit " + strconv.Itoa(i)
	var op, name string
	var access Access
	var on bool
	var seen uint32
	if err := d.expect(what, '{', "an object"); err != nil {
		return nil, coded(CodeInvalidJSON, pointer(i, ""), err)
	}
	for d.more() {
		k, key, err := d.key(what, editFields, &seen)
		if err != nil { // a malformed or duplicate key: the object itself
			return nil, coded(CodeInvalidJSON, pointer(i, ""), err)
		}
		var b []byte
		switch k {
		case 0:
			b, err = d.text(what + " op")
			op = string(b)
		case 1, 2:
			b, err = d.text(what + " " + editFields[k])
			name = string(b)
		case 3, 4:
			access, err = d.access(what + " " + editFields[k])
		case 5:
			on, err = d.bool(what + " on")
		default:
			field := pointer(i, string(key))
			if len(key) > maxEcho { // the edit, not a pointer as long as the key
				field = pointer(i, "")
			}
			return nil, coded(CodeUnknownField, field, d.unknownField(what, key))
		}
		if err != nil {
			code := CodeInvalidJSON
			if errors.Is(err, ErrInvalidID) {
				code = CodeInvalidID
			}
			return nil, coded(code, pointer(i, editFields[k]), err)
		}
	}
	if err := d.close(what); err != nil {
		return nil, coded(CodeInvalidJSON, pointer(i, ""), err)
	}
	value, ok := editOps[op]
	if !ok {
		code, field := CodeUnknownOp, pointer(i, "op")
		if seen&1 == 0 {
			code, field = CodeMissingField, pointer(i, "")
		}
		return nil, coded(code, field, fmt.Errorf("teamperm: %s: op %s: %w", what, quote(op), ErrInvalidSettings))
	}
	if seen&(1<<value) == 0 || bits.OnesCount32(seen) != 2 {
		code, field := CodeMissingField, pointer(i, "")
		if seen&(1<<value) != 0 { // an extra key: name the first, in a fixed order
			code = CodeUnknownField
			for k := 1; k < len(editFields); k++ {
				if seen&(1<<k) != 0 && k != value {
					field = pointer(i, editFields[k])
					break
				}
			}
		}
		return nil, coded(code, field, fmt.Errorf("teamperm: %s: op %s takes exactly the field %q: %w", what, quote(op), editFields[value], ErrInvalidSettings))
	}
	wrapName := func(err error) error {
		return coded(ErrorCode(err), pointer(i, editFields[value]), fmt.Errorf("%w (%s: %w)", err, what, ErrInvalidSettings))
	}
	switch op {
	case "set_role":
		r, err := ParseRole(name)
		if err != nil {
			return nil, wrapName(err)
		}
		return SetRole{r}, nil
	case "grant", "deny", "clear_override":
		p, err := ParsePermission(name)
		if err != nil {
			return nil, wrapName(err)
		}
		switch op {
		case "grant":
			return Grant{p}, nil
		case "deny":
			return Deny{p}, nil
		}
		return ClearOverride{p}, nil
	case "set_instances", "set_pipelines":
		field := op[len("set_"):]
		if err := access.validate(field); err != nil {
			// From JSON, "all" carries no IDs: the only refusals are a
			// null ID and an ID listed twice.
			code := CodeDuplicateID
			if errors.Is(err, ErrInvalidID) {
				code = CodeInvalidID
			}
			return nil, coded(code, pointer(i, editFields[value]), fmt.Errorf("%w (%s: %w)", err, what, ErrInvalidSettings))
		}
		if op == "set_instances" {
			return SetInstances{access}, nil
		}
		return SetPipelines{access}, nil
	case "set_only_assigned_chats":
		return SetOnlyAssignedChats{on}, nil
	}
	return SetOnlyCreatedDeals{on}, nil
}

// Changed lists the settings fields the change altered, by their JSON
// names: "role", "grant", "deny", "instances", "only_assigned_chats",
// "only_created_deals", "pipelines".
func (c Change) Changed() []string {
	var out []string
	b, a := c.Before, c.After
	for _, f := range []struct {
		name string
		diff bool
	}{
		{"role", b.Role != a.Role},
		{"grant", b.Grants != a.Grants},
		{"deny", b.Denies != a.Denies},
		{"instances", !b.Instances.Equal(a.Instances)},
		{"only_assigned_chats", b.OnlyAssignedChats != a.OnlyAssignedChats},
		{"only_created_deals", b.OnlyCreatedDeals != a.OnlyCreatedDeals},
		{"pipelines", !b.Pipelines.Equal(a.Pipelines)},
	} {
		if f.diff {
			out = append(out, f.name)
		}
	}
	return out
}

// MarshalJSON encodes the change for an audit log:
//
//	{"organization":1,"actor":7,"target":42,"at":"2026-11-26T17:00:00Z",
//	 "edits":[{"op":"grant","permission":"contact.export"}],
//	 "changed":["grant"],"before":{...},"after":{...}}
//
// before and after are the stored form of [Settings.MarshalJSON].
func (c Change) MarshalJSON() ([]byte, error) {
	b := []byte(`{"organization":`)
	var err error
	for _, f := range []struct {
		key string
		id  ID
	}{{"", c.Organization}, {"actor", c.Actor}, {"target", c.Target}} {
		if f.key != "" {
			b = fmt.Appendf(b, `,%q:`, f.key)
		}
		if b, err = f.id.appendJSON(b); err != nil {
			return nil, err
		}
	}
	b = fmt.Appendf(b, `,"at":%q,"edits":`, c.At.UTC().Format(time.RFC3339Nano))
	edits, err := Edits(c.Edits).MarshalJSON()
	if err != nil {
		return nil, err
	}
	b = append(b, edits...)
	changed, _ := json.Marshal(c.Changed())
	if c.Changed() == nil {
		changed = []byte("[]")
	}
	b = fmt.Appendf(b, `,"changed":%s,"before":`, changed)
	s, err := c.Before.MarshalJSON()
	if err != nil {
		return nil, err
	}
	b = append(b, s...)
	b = append(b, `,"after":`...)
	if s, err = c.After.MarshalJSON(); err != nil {
		return nil, err
	}
	b = append(b, s...)
	return append(b, '}'), nil
}
