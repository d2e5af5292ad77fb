package teamperm

import (
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
//
// Keys, like every string, are compared exactly (byte for byte, no case
// folding) after unescaping, as JSON defines them: "r\u006fle" is the key
// "role", and given next to "role" it is a duplicate key. Every JSON
// parser reads an escaped key so (encoding/json, JavaScript, PostgreSQL's
// jsonb, the JSON Schema validators of schema/), so refusing it would
// only make this decoder disagree with them; what parsers do disagree on,
// a key given twice (the first or the last wins), is refused in any
// spelling, and so is an escaped lone surrogate ("\ud800"), which
// encoding/json would fold into U+FFFD.
//
// Decoding works on data in place: it allocates the instance and
// pipeline lists and the text of text IDs, and nothing else on success.
func (s *Settings) UnmarshalJSON(data []byte) error {
	var t Settings
	var d jsonDecoder
	d.start(data, ErrInvalidSettings)
	seen, err := d.settings(&t)
	if err == nil {
		err = d.finish()
	}
	if err != nil {
		return err
	}
	var missing []error
	for i, name := range settingsFields[:3] { // version, member, role
		if seen&(1<<i) == 0 {
			missing = append(missing, fmt.Errorf("teamperm: settings: missing field %q: %w", name, ErrInvalidSettings))
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

// settingsFields are the keys of the stored form; the index of each is
// its bit in the decoder's set of keys seen.
var settingsFields = []string{
	"version", "member", "role", "revision", "grant", "deny",
	"instances", "only_assigned_chats", "only_created_deals", "pipelines",
}

// settings reads the settings object into t and returns the set of
// fields seen (bit i for settingsFields[i]).
func (d *jsonDecoder) settings(t *Settings) (seen uint32, err error) {
	if err := d.expect("settings", '{', "an object"); err != nil {
		return 0, err
	}
	for d.more() {
		i, key, err := d.key("settings", settingsFields, &seen)
		if err != nil {
			return 0, err
		}
		switch i {
		case 0:
			var version uint64
			version, err = d.uint("settings version")
			if err == nil && version != SettingsVersion {
				err = fmt.Errorf("teamperm: settings version %d: want %d: %w", version, SettingsVersion, ErrInvalidSettings)
			}
		case 1:
			t.Member, err = d.id("settings member")
		case 2:
			var name []byte
			if name, err = d.text("settings role"); err == nil {
				t.Role, err = roleFromName(name)
			}
		case 3:
			t.Revision, err = d.uint("settings revision")
		case 4:
			t.Grants, err = d.permissions("settings grant")
		case 5:
			t.Denies, err = d.permissions("settings deny")
		case 6:
			t.Instances, err = d.access("settings instances")
		case 7:
			t.OnlyAssignedChats, err = d.bool("settings only_assigned_chats")
		case 8:
			t.OnlyCreatedDeals, err = d.bool("settings only_created_deals")
		case 9:
			t.Pipelines, err = d.access("settings pipelines")
		default:
			return 0, d.unknownField("settings", key)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidSettings) {
				// A bad permission, role or ID: say where, and make every
				// decoding error an ErrInvalidSettings too.
				err = fmt.Errorf("%w (settings field %q: %w)", err, settingsFields[i], ErrInvalidSettings)
			}
			return 0, err
		}
	}
	return seen, d.close("settings")
}

// roleFromName is ParseRole for the decoder's text.
func roleFromName(b []byte) (Role, error) {
	for i := 1; i < len(roleNames); i++ {
		if string(b) == roleNames[i] {
			return Role(i), nil
		}
	}
	return ParseRole(string(b))
}
