package teamperm_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/teamperm/teamperm"
	"pgregory.net/rapid"
)

// TestSetEncodersBindTheKeys: for every dialect, key kind and set size
// (one placeholder a key, PostgreSQL arrays and SQLite JSON arrays from 32
// keys on), the values a rendered In binds decode, with a decoder written
// from each engine's documentation, to exactly the filter's keys, in order:
// no key lost, added, cut short or merged with its neighbour, whatever
// bytes it holds (quotes, backslashes, braces, commas, spaces, NUL, the
// empty key, "NULL").
func TestSetEncodersBindTheKeys(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		kind := rapid.SampledFrom([]teamperm.KeyKind{teamperm.KeyInt, teamperm.KeyString, teamperm.KeyUUID}).Draw(t, "kind")
		n := rapid.SampledFrom([]int{0, 1, 2, 31, 32, 33, 40, 70}).Draw(t, "n")
		var keys []teamperm.ID
		for len(keys) < n {
			k := encodeKeyGen(kind).Draw(t, "key")
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
		d := rapid.SampledFrom(dialects).Draw(t, "dialect")
		m := teamperm.Mapping{SingleTenant: true, Instance: teamperm.Column{Name: "instance_id", Key: kind}}
		frag, args, err := teamperm.AppendSQL(nil, nil, d, m, teamperm.In{Field: teamperm.FieldInstance, Values: keys})
		if err != nil {
			t.Fatal(err)
		}
		want := make([]string, len(keys))
		for i, k := range keys {
			want[i] = boundForm(k)
		}
		if n == 0 {
			if len(args) != 0 || !strings.Contains(string(frag), "1=0") {
				t.Fatalf("empty set: %s %q, want a false constant and no argument", frag, args)
			}
			return
		}
		// The arguments are one or more copies of the set, each one
		// argument a key or one array argument.
		var got []string
		for i, a := range args {
			vals, err := decodeBound(d, string(frag), a, n)
			if err != nil {
				t.Fatalf("%s: argument %d %q: %v", frag, i, a, err)
			}
			got = append(got, vals...)
		}
		if len(got) == 0 || len(got)%n != 0 {
			t.Fatalf("%s binds %d keys for a set of %d: %q", frag, len(got), n, got)
		}
		for i := 0; i < len(got); i += n {
			if !slices.Equal(got[i:i+n], want) {
				t.Fatalf("%s binds %q, want %q", frag, got[i:i+n], want)
			}
		}
	})
}

func encodeKeyGen(kind teamperm.KeyKind) *rapid.Generator[teamperm.ID] {
	switch kind {
	case teamperm.KeyInt:
		return rapid.Map(rapid.OneOf(rapid.Int64(), rapid.Int64Range(-3, 3)), teamperm.IntID)
	case teamperm.KeyString:
		return rapid.Map(rapid.OneOf(
			rapid.SampledFrom([]string{"", `"`, `\`, `\"`, `a"b`, `a\b`, "{", "}", "{}", ",", "a,b", " ", " a ", "NULL", "null", "\x00", "é", `"a",\"b\"`}),
			rapid.StringMatching(`[a-z"\\{}, N]{0,6}`),
			rapid.String(),
		), teamperm.StringID)
	}
	return rapid.Custom(func(t *rapid.T) teamperm.ID {
		var u [16]byte
		copy(u[:], rapid.SliceOfN(rapid.Byte(), 16, 16).Draw(t, "uuid"))
		return teamperm.UUIDID(u)
	})
}

// boundForm is the value a key binds as, as text: the integer in decimal,
// the text itself, a UUID's canonical form.
func boundForm(k teamperm.ID) string {
	if n, ok := k.Int(); ok {
		return strconv.FormatInt(n, 10)
	}
	if s, ok := k.Str(); ok {
		return s
	}
	return k.String()
}

// decodeBound decodes one bound argument of a set of n keys into the keys
// it carries, as text.
func decodeBound(d teamperm.Dialect, frag string, a any, n int) ([]string, error) {
	switch {
	case n >= 32 && (d == teamperm.Postgres || d == teamperm.Postgres.QuestionMarks()):
		s, ok := a.(string)
		if !ok {
			return nil, fmt.Errorf("a %T, want a PostgreSQL array literal", a)
		}
		return parsePGArray(s)
	case n >= 32 && d == teamperm.SQLite && strings.Contains(frag, "json_each"):
		s, ok := a.(string)
		if !ok {
			return nil, fmt.Errorf("a %T, want a JSON array", a)
		}
		var vals []any
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		if err := dec.Decode(&vals); err != nil {
			return nil, err
		}
		out := make([]string, len(vals))
		for i, v := range vals {
			switch v := v.(type) {
			case json.Number:
				out[i] = v.String()
			case string:
				out[i] = v
			default:
				return nil, fmt.Errorf("element %v is a %T", v, v)
			}
		}
		return out, nil
	}
	switch v := a.(type) {
	case int64:
		return []string{strconv.FormatInt(v, 10)}, nil
	case string:
		return []string{v}, nil
	}
	return nil, fmt.Errorf("a %T", a)
}

// parsePGArray parses a one-dimensional PostgreSQL array literal as the
// PostgreSQL manual (8.15.6, Array Input and Output Syntax) describes it:
// {e1,e2}, an element either double-quoted, with \ escaping the next
// character, or unquoted (then it may not be empty, hold any of `"\{},`
// or space, or be NULL in any case).
func parsePGArray(s string) ([]string, error) {
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return nil, errors.New("not in braces")
	}
	body := s[1 : len(s)-1]
	if body == "" {
		return nil, nil
	}
	var out []string
	for i := 0; ; {
		var el strings.Builder
		if i < len(body) && body[i] == '"' {
			i++
			for {
				if i >= len(body) {
					return nil, errors.New("unterminated quoted element")
				}
				c := body[i]
				if c == '"' {
					i++
					break
				}
				if c == '\\' {
					i++
					if i >= len(body) {
						return nil, errors.New("backslash at the end")
					}
					c = body[i]
				}
				el.WriteByte(c)
				i++
			}
		} else {
			j := i
			for j < len(body) && body[j] != ',' {
				if strings.IndexByte("\"\\{} ", body[j]) >= 0 {
					return nil, fmt.Errorf("unquoted element holds %q", body[j])
				}
				j++
			}
			if j == i || strings.EqualFold(body[i:j], "NULL") {
				return nil, fmt.Errorf("unquoted element %q", body[i:j])
			}
			el.WriteString(body[i:j])
			i = j
		}
		out = append(out, el.String())
		if i == len(body) {
			return out, nil
		}
		if body[i] != ',' {
			return nil, fmt.Errorf("%q after an element", body[i])
		}
		i++
	}
}

func TestParsePGArray(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		ok   bool
	}{
		{"{}", nil, true},
		{"{1,-2}", []string{"1", "-2"}, true},
		{`{"a","",""}`, []string{"a", "", ""}, true},
		{`{"a\"b","c\\d","{,}"}`, []string{`a"b`, `c\d`, "{,}"}, true},
		{`{"a"b}`, nil, false},
		{`{"a`, nil, false},
		{`{a b}`, nil, false},
		{`{NULL}`, nil, false},
		{`{1,}`, nil, false},
		{`1,2`, nil, false},
	}
	for _, tt := range tests {
		got, err := parsePGArray(tt.in)
		if (err == nil) != tt.ok || !slices.Equal(got, tt.want) {
			t.Errorf("parsePGArray(%s) = %q, %v; want %q, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// TestDialectRange: exactly the three dialects, with or without
// QuestionMarks, render; every other value of the type is refused with
// ErrInvalidMapping and printed as none (the zero value) or Dialect(n).
func TestDialectRange(t *testing.T) {
	valid := map[teamperm.Dialect]string{
		teamperm.Postgres: "postgres", teamperm.SQLite: "sqlite", teamperm.MySQL: "mysql",
		teamperm.Postgres.QuestionMarks(): "postgres?", teamperm.SQLite.QuestionMarks(): "sqlite?", teamperm.MySQL.QuestionMarks(): "mysql?",
	}
	m := teamperm.Mapping{SingleTenant: true, Instance: teamperm.IntColumn("i")}
	for v := range 256 {
		d := teamperm.Dialect(v)
		name, ok := valid[d]
		_, _, err := teamperm.AppendSQL(nil, nil, d, m, teamperm.Eq{Field: teamperm.FieldInstance, Value: teamperm.IntID(1)})
		if ok != (err == nil) {
			t.Errorf("AppendSQL with Dialect(%d): error %v, want valid %v", v, err, ok)
		}
		if !ok && !errors.Is(err, teamperm.ErrInvalidMapping) {
			t.Errorf("Dialect(%d): error %v does not wrap ErrInvalidMapping", v, err)
		}
		if ok && d.String() != name {
			t.Errorf("Dialect(%d).String() = %q, want %q", v, d.String(), name)
		}
		if !ok && d.String() != map[bool]string{false: "none", true: "none?"}[d == teamperm.Dialect(0).QuestionMarks()] && !strings.Contains(d.String(), "Dialect(") {
			t.Errorf("Dialect(%d).String() = %q, want it named invalid", v, d.String())
		}
	}
}

// TestDialectRangeElsewhere: AppendColumns, CheckRows and CheckSchema refuse every value
// that is not a dialect, as AppendSQL does, before touching anything (the
// nil database is never used).
func TestDialectRangeElsewhere(t *testing.T) {
	m := teamperm.Mapping{Organization: teamperm.IntColumn("org_id"), Instance: teamperm.IntColumn("instance_id")}
	table := teamperm.Table{
		Kind: teamperm.KindContact, From: "contacts", Mapping: m, Key: "id",
		Insert: func(context.Context, *sql.Tx, teamperm.Record) (any, error) { return nil, errors.New("not reached") },
	}
	for v := range 256 {
		d := teamperm.Dialect(v)
		valid := d.String() == "postgres" || d.String() == "sqlite" || d.String() == "mysql" ||
			d.String() == "postgres?" || d.String() == "sqlite?" || d.String() == "mysql?"
		cols, err := m.AppendColumns([]byte("x"), d)
		if valid != (err == nil) || !valid && (!errors.Is(err, teamperm.ErrInvalidMapping) || string(cols) != "x") {
			t.Errorf("AppendColumns with Dialect(%d) = %q, %v", v, cols, err)
		}
		if !valid {
			if err := teamperm.CheckRows(context.Background(), nil, d, table); !errors.Is(err, teamperm.ErrInvalidMapping) {
				t.Errorf("CheckRows with Dialect(%d): %v, want ErrInvalidMapping", v, err)
			}
			if err := teamperm.CheckSchema(context.Background(), nil, d, table); !errors.Is(err, teamperm.ErrInvalidMapping) {
				t.Errorf("CheckSchema with Dialect(%d): %v, want ErrInvalidMapping", v, err)
			}
		}
	}
}
