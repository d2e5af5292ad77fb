package teamperm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// jsonDecoder reads JSON strictly, token by token: keys are matched
// exactly (encoding/json folds case), duplicate keys are errors, numbers
// are checked for their exact form, and every error names the value.
type jsonDecoder struct {
	data     []byte // the whole input
	dec      *json.Decoder
	sentinel error // what every error wraps: ErrInvalidSettings, or ErrInvalidID for a lone ID
}

// decodeStrict runs read over data and insists that it consumed exactly one
// JSON value. Input that is not valid UTF-8 is refused, since
// encoding/json would silently replace the bad bytes.
func decodeStrict(data []byte, sentinel error, read func(*jsonDecoder) error) error {
	if !utf8.Valid(data) {
		return fmt.Errorf("teamperm: input %q is not valid UTF-8: %w", clip(data), sentinel)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	d := &jsonDecoder{data: data, dec: dec, sentinel: sentinel}
	if err := read(d); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("teamperm: unexpected data after the value in %s: %w", clip(data), sentinel)
	}
	return nil
}

func (d *jsonDecoder) token(what string) (json.Token, error) {
	start := d.dec.InputOffset()
	t, err := d.dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("teamperm: %s: %v: %w", what, err, d.sentinel)
	}
	// encoding/json replaces an escaped lone surrogate ("\ud800") with
	// U+FFFD, so two distinct keys could decode to one: refuse it.
	if s, ok := t.(string); ok && strings.ContainsRune(s, utf8.RuneError) {
		if esc, bad := loneSurrogate(d.data[start:d.dec.InputOffset()]); bad {
			return nil, fmt.Errorf("teamperm: %s: string has an unpaired surrogate escape %s: %w", what, esc, d.sentinel)
		}
	}
	return t, nil
}

// loneSurrogate reports the first \u escape of a UTF-16 surrogate in
// the JSON text b that is not half of a pair (a high one followed at once
// by a low one).
func loneSurrogate(b []byte) (string, bool) {
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
func (d *jsonDecoder) wrong(what string, t json.Token, want string) error {
	return fmt.Errorf("teamperm: %s: got %s, want %s: %w", what, describeToken(t), want, d.sentinel)
}

func describeToken(t json.Token) string {
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
		return strconv.Quote(v)
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	case nil:
		return "null"
	}
	return fmt.Sprint(t)
}

// object reads an object, calling field for each key. A key seen twice is
// an error naming it.
func (d *jsonDecoder) object(what string, field func(key string) error) error {
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
			return fmt.Errorf("teamperm: %s: duplicate key %q: %w", what, key, d.sentinel)
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
func (d *jsonDecoder) array(what string, elem func() error) error {
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

func (d *jsonDecoder) string(what string) (string, error) {
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

func (d *jsonDecoder) bool(what string) (bool, error) {
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

func (d *jsonDecoder) uint(what string) (uint64, error) {
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
func (d *jsonDecoder) id(what string) (ID, error) {
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
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return ID{}, fmt.Errorf("teamperm: %s %s: want an int64 integer: %w", what, v, ErrInvalidID)
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
			return ID{}, fmt.Errorf("teamperm: %s: key %s: want \"uuid\": %w", what, describeToken(k), ErrInvalidID)
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
