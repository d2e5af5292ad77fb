package teamperm

import (
	"encoding/json"
	"errors"
	"fmt"
)

// SettingsVersion is the version of the JSON form of [Settings] that this
// package writes and reads.
const SettingsVersion = 1

// MarshalJSON encodes s in its stored form, version [SettingsVersion], with
// every field present and in a fixed order:
//
//	{"version":1,"member":42,"role":"member","revision":3,
//	 "grant":["contact.export"],"deny":["chat.send"],
//	 "instances":[7,9],"only_assigned_chats":true,
//	 "only_created_deals":false,"pipelines":"all"}
//
// IDs are encoded as [ID.MarshalJSON] does; access to all is "all". It
// fails for settings that [Settings.Validate] rejects, so what it writes
// always decodes back to equal settings.
func (s Settings) MarshalJSON() ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	b := make([]byte, 0, 256)
	b = fmt.Appendf(b, `{"version":%d,"member":`, SettingsVersion)
	b, err := s.Member.appendJSON(b)
	if err != nil {
		return nil, err
	}
	b = append(b, `,"role":"`...)
	b = append(b, roleNames[s.Role]...)
	b = fmt.Appendf(b, `","revision":%d,"grant":`, s.Revision)
	g, _ := s.Grants.MarshalJSON()
	b = append(b, g...)
	b = append(b, `,"deny":`...)
	g, _ = s.Denies.MarshalJSON()
	b = append(b, g...)
	b = append(b, `,"instances":`...)
	if b, err = s.Instances.appendJSON(b); err != nil {
		return nil, err
	}
	b = fmt.Appendf(b, `,"only_assigned_chats":%t,"only_created_deals":%t,"pipelines":`, s.OnlyAssignedChats, s.OnlyCreatedDeals)
	if b, err = s.Pipelines.appendJSON(b); err != nil {
		return nil, err
	}
	return append(b, '}'), nil
}

func (a Access) appendJSON(b []byte) ([]byte, error) {
	if !a.Specific {
		return append(b, `"all"`...), nil
	}
	b = append(b, '[')
	for i, id := range a.IDs {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = id.appendJSON(b); err != nil {
			return nil, err
		}
	}
	return append(b, ']'), nil
}

// UnmarshalJSON decodes the stored form that [Settings.MarshalJSON] writes.
// It is strict (R15): "version", "member" and "role" are required; the
// other fields default to the zero value (no overrides, access to all,
// toggles off). An unknown or duplicate key, a value of the wrong type, an
// unknown permission or role name, a permission or ID listed twice, a null
// ID, a version other than [SettingsVersion] or input that is not valid
// UTF-8 is an error that names the value. Every such error wraps
// [ErrInvalidSettings], and also the more specific sentinel where there is
// one ([ErrUnknownPermission], [ErrUnknownRole], [ErrInvalidID]). On error
// s is left unchanged.
func (s *Settings) UnmarshalJSON(data []byte) error {
	var t Settings
	var version uint64
	var hasVersion, hasMember, hasRole bool
	err := decodeStrict(data, ErrInvalidSettings, func(d *jsonDecoder) error {
		return d.object("settings", func(key string) error {
			var err error
			switch key {
			case "version":
				hasVersion = true
				version, err = d.uint("settings version")
				if err == nil && version != SettingsVersion {
					err = fmt.Errorf("teamperm: settings version %d: want %d: %w", version, SettingsVersion, ErrInvalidSettings)
				}
			case "member":
				hasMember = true
				t.Member, err = d.id("settings member")
			case "role":
				hasRole = true
				var name string
				if name, err = d.string("settings role"); err == nil {
					t.Role, err = ParseRole(name)
				}
			case "revision":
				t.Revision, err = d.uint("settings revision")
			case "grant":
				t.Grants, err = d.permissions("settings grant")
			case "deny":
				t.Denies, err = d.permissions("settings deny")
			case "instances":
				t.Instances, err = d.access("settings instances")
			case "only_assigned_chats":
				t.OnlyAssignedChats, err = d.bool("settings only_assigned_chats")
			case "only_created_deals":
				t.OnlyCreatedDeals, err = d.bool("settings only_created_deals")
			case "pipelines":
				t.Pipelines, err = d.access("settings pipelines")
			default:
				err = fmt.Errorf("teamperm: settings: unknown field %q: %w", key, ErrInvalidSettings)
			}
			if err != nil && !errors.Is(err, ErrInvalidSettings) {
				// A bad permission, role or ID: say where, and make every
				// decoding error an ErrInvalidSettings too.
				err = fmt.Errorf("%w (settings field %q: %w)", err, key, ErrInvalidSettings)
			}
			return err
		})
	})
	if err != nil {
		return err
	}
	var missing []error
	for _, f := range []struct {
		name string
		ok   bool
	}{{"version", hasVersion}, {"member", hasMember}, {"role", hasRole}} {
		if !f.ok {
			missing = append(missing, fmt.Errorf("teamperm: settings: missing field %q: %w", f.name, ErrInvalidSettings))
		}
	}
	if err := errors.Join(missing...); err != nil {
		return err
	}
	if err := t.Validate(); err != nil {
		return fmt.Errorf("%w\n(%w)", err, ErrInvalidSettings)
	}
	*s = t
	return nil
}

func (d *jsonDecoder) permissions(what string) (PermissionSet, error) {
	var names []string
	err := d.array(what, func() error {
		n, err := d.string(what)
		names = append(names, n)
		return err
	})
	if err != nil {
		return PermissionSet{}, err
	}
	return permissionSetFromNames(names)
}

// access reads "all" or an array of IDs; duplicates and null IDs are
// rejected by Settings.Validate.
func (d *jsonDecoder) access(what string) (Access, error) {
	t, err := d.token(what)
	if err != nil {
		return Access{}, err
	}
	if t == any("all") {
		return Access{}, nil
	}
	if t != any(json.Delim('[')) {
		return Access{}, d.wrong(what, t, `"all" or an array of ids`)
	}
	a := Access{Specific: true, IDs: []ID{}}
	for d.dec.More() {
		id, err := d.id(what)
		if err != nil {
			return Access{}, err
		}
		a.IDs = append(a.IDs, id)
	}
	if _, err := d.token(what); err != nil { // ']'
		return Access{}, err
	}
	return a, nil
}
