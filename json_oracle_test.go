package teamperm

// The strict JSON decoder that teamperm used before json.go's own scanner:
// token by token over encoding/json's Decoder, kept (renamed) as the
// oracle of the differential fuzz target FuzzJSONDecoders, which compares
// the two decoders' outcomes, values, sentinels and, but for syntax
// errors, messages exactly.
//
// It is the old decoder verbatim but for these changes, each made to
// json.go's decoder too, so that the differential test keeps checking the
// new scanner against encoding/json's:
//   - a syntax error from encoding/json is a *jsonSyntaxError, so the test
//     can compare every other error message exactly;
//   - bytes that are not UTF-8 are refused in the string that holds them,
//     with an error naming its value (token), not up front for the input
//     as a whole; elsewhere encoding/json's syntax error refuses them;
//   - an ID written -0 is refused (it was read as IntID(0)): an integer ID
//     has one spelling, the one ID.MarshalJSON writes;
//   - a number with a leading zero (01) is a syntax error of that number,
//     not of the token after 0 (which a check of 0 came before);
//   - an object without "uuid" where an ID is expected says so ("got an
//     empty object"), not "key \"}\"";
//   - the input echoed by an error ("unexpected data after the value",
//     a permission set's) is quoted with %q;
//   - every key, op or name an error echoes is clipped to 64 bytes
//     (quote), as the package's errors are: a megabyte key is not echoed
//     in full.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// oracleDecoder reads JSON strictly, token by token: keys are matched
// exactly (encoding/json folds case), duplicate keys are errors, numbers
// are checked for their exact form, and every error names the value.
type oracleDecoder struct {
	data     []byte // the whole input
	dec      *json.Decoder
	sentinel error // what every error wraps: ErrInvalidSettings, or ErrInvalidID for a lone ID
}

// oracleDecodeStrict runs read over data and insists that it consumed exactly one
// JSON value. A string that is not valid UTF-8 is refused by token, since
// encoding/json would silently replace the bad bytes.
func oracleDecodeStrict(data []byte, sentinel error, read func(*oracleDecoder) error) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	d := &oracleDecoder{data: data, dec: dec, sentinel: sentinel}
	if err := read(d); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("teamperm: unexpected data after the value in %q: %w", clip(data), sentinel)
	}
	return nil
}

func (d *oracleDecoder) token(what string) (json.Token, error) {
	start := d.dec.InputOffset()
	t, err := d.dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, &jsonSyntaxError{msg: fmt.Sprintf("teamperm: %s: %v", what, err), sentinel: d.sentinel}
	}
	if n, ok := t.(json.Number); ok && (n == "0" || n == "-0") {
		// encoding/json reads 0 of 01 and trips on the 1 only as the next
		// token: refuse the number itself.
		if end := d.dec.InputOffset(); end < int64(len(d.data)) && '0' <= d.data[end] && d.data[end] <= '9' {
			return nil, &jsonSyntaxError{msg: fmt.Sprintf("teamperm: %s: number with a leading zero", what), sentinel: d.sentinel}
		}
	}
	// encoding/json replaces bytes that are not UTF-8 and an escaped lone
	// surrogate ("\ud800") with U+FFFD, so two distinct keys could decode
	// to one: refuse them.
	if s, ok := t.(string); ok && strings.ContainsRune(s, utf8.RuneError) {
		end := d.dec.InputOffset()
		raw := d.data[start:end]
		q := bytes.IndexByte(raw, '"') // after white space, ':' or ','
		if lit := raw[q+1 : len(raw)-1]; !utf8.Valid(lit) {
			bad := 0
			for utf8.FullRune(lit[bad:]) {
				r, n := utf8.DecodeRune(lit[bad:])
				if r == utf8.RuneError && n == 1 {
					break
				}
				bad += n
			}
			return nil, fmt.Errorf("teamperm: %s: string %q is not valid UTF-8 at offset %d: %w", what, clip(lit), start+int64(q)+1+int64(bad), d.sentinel)
		}
		if esc, bad := oracleLoneSurrogate(d.data[start:d.dec.InputOffset()]); bad {
			return nil, fmt.Errorf("teamperm: %s: string has an unpaired surrogate escape %s: %w", what, esc, d.sentinel)
		}
	}
	return t, nil
}

// loneSurrogate reports the first \u escape of a UTF-16 surrogate in
// the JSON text b that is not half of a pair (a high one followed at once
// by a low one).
func oracleLoneSurrogate(b []byte) (string, bool) {
	hex4 := func(i int) (rune, bool) {
		if i+6 > len(b) || b[i] != '\\' || b[i+1] != 'u' {
			return 0, false
		}
		v, err := strconv.ParseUint(string(b[i+2:i+6]), 16, 16)
		return rune(v), err == nil
	}
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 >= len(b) {
			continue
		}
		c, ok := hex4(i)
		if !ok {
			i++ // a two-byte escape such as \\ or \"
			continue
		}
		switch {
		case c >= 0xD800 && c < 0xDC00:
			if lo, ok := hex4(i + 6); ok && lo >= 0xDC00 && lo < 0xE000 {
				i += 11
				continue
			}
			return string(b[i : i+6]), true
		case c >= 0xDC00 && c < 0xE000:
			return string(b[i : i+6]), true
		}
		i += 5
	}
	return "", false
}

// wrong reports a value of the wrong type for what.
func (d *oracleDecoder) wrong(what string, t json.Token, want string) error {
	return fmt.Errorf("teamperm: %s: got %s, want %s: %w", what, oracleDescribeToken(t), want, d.sentinel)
}

func oracleDescribeToken(t json.Token) string {
	switch v := t.(type) {
	case json.Delim:
		switch v {
		case '{':
			return "an object"
		case '[':
			return "an array"
		}
		return strconv.Quote(v.String())
	case string:
		return quote(v)
	case json.Number:
		return clip(v.String())
	case bool:
		return strconv.FormatBool(v)
	case nil:
		return "null"
	}
	return fmt.Sprint(t)
}

// object reads an object, calling field for each key. A key seen twice is
// an error naming it.
func (d *oracleDecoder) object(what string, field func(key string) error) error {
	t, err := d.token(what)
	if err != nil {
		return err
	}
	if t != json.Delim('{') {
		return d.wrong(what, t, "an object")
	}
	seen := map[string]bool{}
	for d.dec.More() {
		t, err := d.token(what)
		if err != nil {
			return err
		}
		key, _ := t.(string)
		if seen[key] {
			return fmt.Errorf("teamperm: %s: duplicate key %s: %w", what, quote(key), d.sentinel)
		}
		seen[key] = true
		if err := field(key); err != nil {
			return err
		}
	}
	_, err = d.token(what) // '}'
	return err
}

// array reads an array, calling elem for each element.
func (d *oracleDecoder) array(what string, elem func() error) error {
	t, err := d.token(what)
	if err != nil {
		return err
	}
	if t != json.Delim('[') {
		return d.wrong(what, t, "an array")
	}
	for d.dec.More() {
		if err := elem(); err != nil {
			return err
		}
	}
	_, err = d.token(what) // ']'
	return err
}

func (d *oracleDecoder) string(what string) (string, error) {
	t, err := d.token(what)
	if err != nil {
		return "", err
	}
	s, ok := t.(string)
	if !ok {
		return "", d.wrong(what, t, "a string")
	}
	return s, nil
}

func (d *oracleDecoder) bool(what string) (bool, error) {
	t, err := d.token(what)
	if err != nil {
		return false, err
	}
	b, ok := t.(bool)
	if !ok {
		return false, d.wrong(what, t, "true or false")
	}
	return b, nil
}

func (d *oracleDecoder) uint(what string) (uint64, error) {
	t, err := d.token(what)
	if err != nil {
		return 0, err
	}
	n, ok := t.(json.Number)
	if !ok {
		return 0, d.wrong(what, t, "a non-negative integer")
	}
	v, err := strconv.ParseUint(string(n), 10, 64)
	if err != nil {
		return 0, d.wrong(what, t, "a non-negative integer")
	}
	return v, nil
}

// id reads an ID in the form [ID.MarshalJSON] writes.
func (d *oracleDecoder) id(what string) (ID, error) {
	t, err := d.token(what)
	if err != nil {
		return ID{}, err
	}
	const want = `an integer, a string, {"uuid":...} or null`
	switch v := t.(type) {
	case nil:
		return ID{}, nil
	case string:
		return StringID(v), nil
	case json.Number:
		if v == "-0" {
			return ID{}, fmt.Errorf("teamperm: %s -0: an integer ID is written 0, not -0: %w", what, ErrInvalidID)
		}
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return ID{}, fmt.Errorf("teamperm: %s %s: want an int64 integer: %w", what, clip(v.String()), ErrInvalidID)
		}
		return IntID(n), nil
	case json.Delim:
		if v != '{' {
			return ID{}, d.wrong(what, t, want)
		}
		k, err := d.token(what)
		if err != nil {
			return ID{}, err
		}
		if k != "uuid" {
			got := "an empty object"
			if _, ok := k.(string); ok {
				got = "an object with the key " + oracleDescribeToken(k)
			}
			return ID{}, fmt.Errorf("teamperm: %s: got %s, want %s (the only object is {\"uuid\":...}): %w", what, got, want, ErrInvalidID)
		}
		s, err := d.string(what)
		if err != nil {
			return ID{}, err
		}
		id, err := ParseUUID(s)
		if err != nil {
			return ID{}, err
		}
		if t, err := d.token(what); err != nil || t != json.Delim('}') {
			return ID{}, fmt.Errorf("teamperm: %s: a uuid object has one key: %w", what, ErrInvalidID)
		}
		return id, nil
	}
	return ID{}, d.wrong(what, t, want)
}

func oracleUnmarshalSettings(s *Settings, data []byte) error {
	var t Settings
	var version uint64
	var hasVersion, hasMember, hasRole bool
	err := oracleDecodeStrict(data, ErrInvalidSettings, func(d *oracleDecoder) error {
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
				err = fmt.Errorf("teamperm: settings: unknown field %s: %w", quote(key), ErrInvalidSettings)
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
	if err := oracleValidate(t); err != nil {
		return fmt.Errorf("%w\n(%w)", err, ErrInvalidSettings)
	}
	*s = t
	return nil
}

func (d *oracleDecoder) permissions(what string) (PermissionSet, error) {
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
func (d *oracleDecoder) access(what string) (Access, error) {
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

func oracleParseEdits(data []byte) ([]Edit, error) {
	var edits []Edit
	err := oracleDecodeStrict(data, ErrInvalidSettings, func(d *oracleDecoder) error {
		edits = []Edit{}
		return d.array("edits", func() error {
			e, err := d.edit(len(edits))
			edits = append(edits, e)
			return err
		})
	})
	if err != nil {
		if !errors.Is(err, ErrInvalidSettings) {
			// A malformed ID: an ErrInvalidID, and invalid edits too.
			err = fmt.Errorf("%w (%w)", err, ErrInvalidSettings)
		}
		return nil, err
	}
	return edits, nil
}

func (d *oracleDecoder) edit(i int) (Edit, error) {
	what := "edit " + strconv.Itoa(i)
	var op, name string
	var access Access
	var on bool
	keys := map[string]bool{}
	err := d.object(what, func(key string) error {
		keys[key] = true
		var err error
		switch key {
		case "op":
			op, err = d.string(what + " op")
		case "permission", "role":
			name, err = d.string(what + " " + key)
		case "instances", "pipelines":
			access, err = d.access(what + " " + key)
		case "on":
			on, err = d.bool(what + " on")
		default:
			err = fmt.Errorf("teamperm: %s: unknown field %s: %w", what, quote(key), ErrInvalidSettings)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	want := map[string]string{
		"set_role": "role", "grant": "permission", "deny": "permission", "clear_override": "permission",
		"set_instances": "instances", "set_pipelines": "pipelines",
		"set_only_assigned_chats": "on", "set_only_created_deals": "on",
	}
	value, ok := want[op]
	if !ok {
		return nil, fmt.Errorf("teamperm: %s: op %s: %w", what, quote(op), ErrInvalidSettings)
	}
	if !keys[value] || len(keys) != 2 {
		return nil, fmt.Errorf("teamperm: %s: op %s takes exactly the field %q: %w", what, quote(op), value, ErrInvalidSettings)
	}
	wrapName := func(err error) error {
		return fmt.Errorf("%w (%s: %w)", err, what, ErrInvalidSettings)
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
		if err := oracleAccessValidate(access, field); err != nil {
			return nil, wrapName(err)
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

func oracleParseIDJSON(data []byte) (ID, error) {
	var id ID
	err := oracleDecodeStrict(data, ErrInvalidID, func(d *oracleDecoder) error {
		var err error
		id, err = d.id("id")
		return err
	})
	return id, err
}

func oracleUnmarshalPermissionSet(s *PermissionSet, data []byte) error {
	var t PermissionSet
	err := oracleDecodeStrict(data, ErrInvalidSettings, func(d *oracleDecoder) error {
		var err error
		t, err = d.permissions("permission set " + strconv.Quote(clip(data)))
		return err
	})
	if err != nil {
		return err
	}
	*s = t
	return nil
}

func permissionSetFromNames(names []string) (PermissionSet, error) {
	var t PermissionSet
	for _, n := range names {
		p, err := ParsePermission(n)
		if err != nil {
			return PermissionSet{}, err
		}
		if t.Has(p) {
			return PermissionSet{}, fmt.Errorf("teamperm: permission %s listed twice: %w", quote(n), ErrInvalidSettings)
		}
		t = t.With(p)
	}
	return t, nil
}

// The validation of stored settings before Compile indexed IDs while
// checking them, kept as the oracle of TestValidateAgrees.

func oracleAccessValidate(a Access, field string) error {
	if !a.Specific {
		if len(a.IDs) > 0 {
			return fmt.Errorf("teamperm: %s: %d ids given with access to all: %w", field, len(a.IDs), ErrInvalidSettings)
		}
		return nil
	}
	var seen map[ID]struct{} // for long lists only: short ones are scanned
	if len(a.IDs) > 32 {
		seen = make(map[ID]struct{}, len(a.IDs))
	}
	for i, id := range a.IDs {
		if id.IsZero() {
			return fmt.Errorf("teamperm: %s: a null id: %w", field, ErrInvalidID)
		}
		dup := false
		if seen != nil {
			_, dup = seen[id]
			seen[id] = struct{}{}
		} else {
			dup = slices.ContainsFunc(a.IDs[:i], id.eq)
		}
		if dup {
			return fmt.Errorf("teamperm: %s: id %v listed twice: %w", field, id, ErrInvalidSettings)
		}
	}
	return nil
}

func oracleValidate(s Settings) error {
	var errs []error
	if err := validateKey("member", s.Member); err != nil {
		errs = append(errs, err)
	}
	if !s.Role.IsValid() {
		errs = append(errs, fmt.Errorf("teamperm: member %v: role %s: %w", s.Member, s.Role, ErrUnknownRole))
	}
	if err := oracleAccessValidate(s.Instances, "instances"); err != nil {
		errs = append(errs, err)
	}
	if err := oracleAccessValidate(s.Pipelines, "pipelines"); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// OracleValidate validates s as Settings.Validate did.
func OracleValidate(s Settings) error { return oracleValidate(s) }

// The oracle behind the exported names the differential tests use.

// OracleUnmarshalSettings decodes data as Settings.UnmarshalJSON did.
func OracleUnmarshalSettings(data []byte) (Settings, error) {
	var s Settings
	err := oracleUnmarshalSettings(&s, data)
	return s, err
}

// OracleParseEdits decodes data as ParseEdits did.
func OracleParseEdits(data []byte) ([]Edit, error) { return oracleParseEdits(data) }

// OracleUnmarshalID decodes data as ID.UnmarshalJSON did.
func OracleUnmarshalID(data []byte) (ID, error) { return oracleParseIDJSON(data) }

// OracleUnmarshalPermissionSet decodes data as PermissionSet.UnmarshalJSON did.
func OracleUnmarshalPermissionSet(data []byte) (PermissionSet, error) {
	var s PermissionSet
	err := oracleUnmarshalPermissionSet(&s, data)
	return s, err
}

// IsJSONSyntaxError reports whether err is a JSON syntax error (of either
// decoder), whose wording is the decoder's own.
func IsJSONSyntaxError(err error) bool {
	var se *jsonSyntaxError
	return errors.As(err, &se)
}
