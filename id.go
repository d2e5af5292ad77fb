package teamperm

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// An ID is a host's key for an organisation, member, instance, pipeline or
// record: an int64, a string or a UUID, kept as what it is so that a
// predicate can bind it to a column of the same type.
//
// The zero value is no ID, like SQL's NULL: it equals no other ID, a record
// field holding it matches no restriction, and [Compile] rejects it where
// an ID is required. IntID(0), StringID("") and the nil UUID are distinct
// from the zero value and valid as instance, pipeline or record keys, but
// Compile refuses them as organisation or member IDs: a Go host's 0 or "" usually means
// "unset", and two unset tenants must never share rows. IDs are comparable with == (an int and a string ID never
// compare equal, even for "7" and 7) and safe as map keys. An ID is 32
// bytes and never allocates once made.
type ID struct {
	kind idKind
	n    int64
	s    string // the string, or the 16 bytes of a UUID
}

type idKind uint8

const (
	idNone idKind = iota
	idInt
	idString
	idUUID
)

// IntID returns the ID of an integer key.
func IntID(n int64) ID { return ID{kind: idInt, n: n} }

// StringID returns the ID of a text key. The key is compared byte for byte.
func StringID(s string) ID { return ID{kind: idString, s: s} }

// UUIDID returns the ID of a UUID key.
func UUIDID(u [16]byte) ID { return ID{kind: idUUID, s: string(u[:])} }

// ParseUUID parses the canonical 36-character form of a UUID
// ("6ba7b810-9dad-11d1-80b4-00c04fd430c8", either case) into an ID.
// Anything else is an error wrapping [ErrInvalidID].
func ParseUUID(s string) (ID, error) { return parseUUID(s) }

// parseUUID is ParseUUID for text in either form, so that the JSON
// decoder need not make a string first.
func parseUUID[T string | []byte](s T) (ID, error) {
	var u [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return ID{}, fmt.Errorf("teamperm: uuid %s: %w", quote(s), ErrInvalidID)
	}
	j := 0
	for i := 0; i < 36; i += 2 {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			i--
			continue
		}
		hi, ok1 := unhex(s[i])
		lo, ok2 := unhex(s[i+1])
		if !ok1 || !ok2 {
			return ID{}, fmt.Errorf("teamperm: uuid %s: %w", quote(s), ErrInvalidID)
		}
		u[j] = byte(hi<<4 | lo)
		j++
	}
	return UUIDID(u), nil
}

// eq is id == b, without a call to the runtime for the common case of
// two integer IDs (whose strings are both empty): the hot paths use it.
func (id ID) eq(b ID) bool {
	return id.kind == b.kind && id.n == b.n && (len(id.s) == 0 && len(b.s) == 0 || id.s == b.s)
}

// IsZero reports whether id is the zero ID (no ID, NULL).
func (id ID) IsZero() bool { return id.kind == idNone }

// Int returns the key of an integer ID and true, or 0, false.
func (id ID) Int() (int64, bool) { return id.n, id.kind == idInt }

// Str returns the key of a text ID and true, or "", false.
func (id ID) Str() (string, bool) {
	if id.kind != idString {
		return "", false
	}
	return id.s, true
}

// UUID returns the key of a UUID ID and true, or the zero array, false.
func (id ID) UUID() ([16]byte, bool) {
	var u [16]byte
	if id.kind != idUUID {
		return u, false
	}
	copy(u[:], id.s)
	return u, true
}

// Compare returns -1, 0 or +1 ordering a before, as, or after b: zero IDs
// first, then integer IDs by value, text IDs bytewise, UUIDs bytewise.
func (id ID) Compare(b ID) int {
	switch {
	case id.kind != b.kind:
		if id.kind < b.kind {
			return -1
		}
		return 1
	case id.n != b.n:
		if id.n < b.n {
			return -1
		}
		return 1
	case id.s < b.s:
		return -1
	case id.s > b.s:
		return 1
	}
	return 0
}

// String returns a debug form: 42 for an integer, "abc" (quoted) for text,
// the canonical form for a UUID and <none> for the zero ID.
func (id ID) String() string {
	switch id.kind {
	case idInt:
		return strconv.FormatInt(id.n, 10)
	case idString:
		return strconv.Quote(id.s)
	case idUUID:
		return string(id.appendUUID(nil))
	}
	return "<none>"
}

func (id ID) appendUUID(b []byte) []byte {
	const digits = "0123456789abcdef"
	for i := 0; i < 16; i++ {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		c := id.s[i]
		b = append(b, digits[c>>4], digits[c&0xf])
	}
	return b
}

// MarshalJSON encodes an integer ID as a JSON number, a text ID as a JSON
// string, a UUID as {"uuid":"<canonical form>"} and the zero ID as null.
// A text ID that is not valid UTF-8 cannot be represented exactly in JSON
// and is an error.
func (id ID) MarshalJSON() ([]byte, error) { return id.appendJSON(nil) }

func (id ID) appendJSON(b []byte) ([]byte, error) {
	switch id.kind {
	case idInt:
		return strconv.AppendInt(b, id.n, 10), nil
	case idString:
		if !utf8.ValidString(id.s) {
			return b, fmt.Errorf("teamperm: id %s is not valid UTF-8: %w", quote(id.s), ErrInvalidID)
		}
		s, _ := json.Marshal(id.s)
		return append(b, s...), nil
	case idUUID:
		b = append(b, `{"uuid":"`...)
		b = id.appendUUID(b)
		return append(b, `"}`...), nil
	}
	return append(b, "null"...), nil
}

// UnmarshalJSON decodes the forms [ID.MarshalJSON] writes. A number must be
// an integer in int64's range written as MarshalJSON writes it: without
// fraction or exponent (1.0, 1e2), and zero as 0, not -0 (JSON itself
// refuses a leading zero or plus sign, 01 or +1). So an integer key has
// one spelling. Any other value is an error naming it, wrapping
// [ErrInvalidID].
//
// 0 decodes to IntID(0), a valid instance, pipeline or record key, as in
// Go; like IntID(0) in Go, it is refused as an organisation or member ID
// where one is required ([Settings.Validate], [Compile]).
func (id *ID) UnmarshalJSON(data []byte) error {
	v, err := parseIDJSON(data)
	if err != nil {
		return err
	}
	*id = v
	return nil
}

func parseIDJSON(data []byte) (ID, error) {
	var d jsonDecoder
	d.start(data, ErrInvalidID)
	id, err := d.id("id")
	if err == nil {
		err = d.finish()
	}
	if err != nil {
		return ID{}, err
	}
	return id, nil
}
