package teamperm

import (
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// jsonDecoder reads JSON strictly, token by token, straight from the
// input: keys are matched exactly (encoding/json folds case), duplicate
// keys are errors, numbers are checked for their exact form, a string
// that is not valid UTF-8 is an error, and every error names the value.
//
// It accepts and refuses exactly what the decoder it replaced did (token
// by token over encoding/json's Decoder, kept as the oracle of the
// differential fuzz target FuzzJSONDecoders, and changed alike where the
// rules changed since: json_oracle_test.go lists how): next mirrors
// encoding/json's Decoder.Token, state for state, and the readers below
// ask for the same tokens in the same order, so the first error is the
// same one. It allocates nothing itself but the strings of text IDs, a
// buffer for escaped strings and the error it returns. It works on the
// caller's stack: never let it escape.
type jsonDecoder struct {
	data     []byte // the whole input
	pos      int    // the next byte to read
	sentinel error  // what every error wraps: ErrInvalidSettings, or ErrInvalidID for a lone ID

	state   uint8    // as encoding/json's Decoder.tokenState
	stack   [8]uint8 // the states of the enclosing arrays and objects
	depth   int
	scratch []byte // the last escaped string, unescaped
}

// The token states of encoding/json's Decoder.
const (
	jsTopValue uint8 = iota
	jsArrayStart
	jsArrayValue
	jsArrayComma
	jsObjectStart
	jsObjectKey
	jsObjectColon
	jsObjectValue
	jsObjectComma
)

// A jsonToken is one token: a delimiter, a string, a number or a literal.
type jsonToken struct {
	kind  jsonKind
	delim byte   // for jsonDelim: one of [ ] { }
	raw   []byte // jsonString: the decoded text, valid until the next token; jsonNumber: the literal
}

type jsonKind uint8

const (
	jsonDelim jsonKind = iota + 1
	jsonString
	jsonNumber
	jsonTrue
	jsonFalse
	jsonNull
)

func (t jsonToken) is(delim byte) bool { return t.kind == jsonDelim && t.delim == delim }

// isString reports whether t is the string s.
func (t jsonToken) isString(s string) bool { return t.kind == jsonString && string(t.raw) == s }

// jsonSyntaxError is input that is not JSON, or not where a value may be.
type jsonSyntaxError struct {
	msg      string // the whole message but the sentinel's
	sentinel error
}

func (e *jsonSyntaxError) Error() string { return e.msg + ": " + e.sentinel.Error() }
func (e *jsonSyntaxError) Unwrap() error { return e.sentinel }

// start prepares d to read data. Bytes that are not UTF-8 are refused
// where they stand, as any other error: in a string (encoding/json would
// silently replace them) by [jsonDecoder.str], naming the value; elsewhere
// they are not JSON at all, a syntax error.
func (d *jsonDecoder) start(data []byte, sentinel error) {
	*d = jsonDecoder{data: data, sentinel: sentinel}
}

// finish insists that only white space follows the value.
func (d *jsonDecoder) finish() error {
	if _, ok := d.peek(); ok {
		return fmt.Errorf("teamperm: unexpected data after the value in %q: %w", clip(d.data), d.sentinel)
	}
	return nil
}

func (d *jsonDecoder) syntax(what, msg string, off int) error {
	return &jsonSyntaxError{msg: fmt.Sprintf("teamperm: %s: %s at offset %d", what, msg, off), sentinel: d.sentinel}
}

func (d *jsonDecoder) unexpected(what string, c byte, context string) error {
	if c >= utf8.RuneSelf {
		// encoding/json would print the byte as a Latin-1 letter, which
		// the input does not hold.
		return d.syntax(what, fmt.Sprintf("invalid byte %#02x%s", c, context), d.pos)
	}
	return d.syntax(what, "invalid character "+quoteChar(c)+context, d.pos)
}

func quoteChar(c byte) string {
	if c == '\'' {
		return `'\''`
	}
	if c == '"' {
		return `'"'`
	}
	s := strconv.Quote(string(rune(c)))
	return "'" + s[1:len(s)-1] + "'"
}

// peek skips white space and returns the next byte, or false at the end.
func (d *jsonDecoder) peek() (byte, bool) {
	for ; d.pos < len(d.data); d.pos++ {
		switch c := d.data[d.pos]; c {
		case ' ', '\t', '\r', '\n':
		default:
			return c, true
		}
	}
	return 0, false
}

// more reports whether an array or object has another element, as
// encoding/json's Decoder.More.
func (d *jsonDecoder) more() bool {
	c, ok := d.peek()
	return ok && c != ']' && c != '}'
}

func (d *jsonDecoder) valueAllowed() bool {
	switch d.state {
	case jsTopValue, jsArrayStart, jsArrayValue, jsObjectValue:
		return true
	}
	return false
}

func (d *jsonDecoder) valueEnd() {
	switch d.state {
	case jsArrayStart, jsArrayValue:
		d.state = jsArrayComma
	case jsObjectValue:
		d.state = jsObjectComma
	}
}

func (d *jsonDecoder) tokenError(what string, c byte) error {
	context := ""
	switch d.state {
	case jsTopValue, jsArrayStart, jsArrayValue, jsObjectValue:
		context = " looking for beginning of value"
	case jsArrayComma:
		context = " after array element"
	case jsObjectKey:
		context = " looking for beginning of object key string"
	case jsObjectColon:
		context = " after object key"
	case jsObjectComma:
		context = " after object key:value pair"
	}
	return d.unexpected(what, c, context)
}

// next returns the next token, as encoding/json's Decoder.Token does:
// commas and colons are checked and skipped, and a value is accepted only
// where one may stand. A string holding an escaped lone surrogate is an
// error.
func (d *jsonDecoder) next(what string) (jsonToken, error) {
	for {
		c, ok := d.peek()
		if !ok {
			return jsonToken{}, d.syntax(what, "unexpected EOF", d.pos)
		}
		switch c {
		case '[', '{':
			if !d.valueAllowed() {
				return jsonToken{}, d.tokenError(what, c)
			}
			if d.depth == len(d.stack) {
				return jsonToken{}, d.syntax(what, "nested too deeply", d.pos)
			}
			d.pos++
			d.stack[d.depth] = d.state
			d.depth++
			d.state = jsArrayStart
			if c == '{' {
				d.state = jsObjectStart
			}
			return jsonToken{kind: jsonDelim, delim: c}, nil
		case ']', '}':
			if c == ']' && d.state != jsArrayStart && d.state != jsArrayComma ||
				c == '}' && d.state != jsObjectStart && d.state != jsObjectComma {
				return jsonToken{}, d.tokenError(what, c)
			}
			d.pos++
			d.depth--
			d.state = d.stack[d.depth]
			d.valueEnd()
			return jsonToken{kind: jsonDelim, delim: c}, nil
		case ':':
			if d.state != jsObjectColon {
				return jsonToken{}, d.tokenError(what, c)
			}
			d.pos++
			d.state = jsObjectValue
			continue
		case ',':
			switch d.state {
			case jsArrayComma:
				d.state = jsArrayValue
			case jsObjectComma:
				d.state = jsObjectKey
			default:
				return jsonToken{}, d.tokenError(what, c)
			}
			d.pos++
			continue
		case '"':
			if d.state == jsObjectStart || d.state == jsObjectKey {
				t, err := d.scalar(what)
				if err != nil {
					return jsonToken{}, err
				}
				d.state = jsObjectColon
				return t, nil
			}
		}
		if !d.valueAllowed() {
			return jsonToken{}, d.tokenError(what, c)
		}
		t, err := d.scalar(what)
		if err != nil {
			return jsonToken{}, err
		}
		d.valueEnd()
		return t, nil
	}
}

// scalar reads the string, number, true, false or null at d.pos: a
// number or literal ends where its grammar does, as encoding/json's
// scanner ends a value.
func (d *jsonDecoder) scalar(what string) (jsonToken, error) {
	b, start := d.data, d.pos
	switch c := b[start]; {
	case c == '"':
		return d.str(what)
	case c == '-' || '0' <= c && c <= '9':
		i := start
		if c == '-' {
			i++
		}
		digits := func() bool {
			n := i
			for i < len(b) && '0' <= b[i] && b[i] <= '9' {
				i++
			}
			return i > n
		}
		switch {
		case i < len(b) && b[i] == '0':
			i++
			if n := i; digits() {
				// encoding/json would read 0 and then trip on the next
				// digit as if it followed a value: say what is wrong.
				d.pos = n
				return jsonToken{}, d.syntax(what, "number "+clip(b[start:i])+" has a leading zero", start)
			}
		case !digits():
			return jsonToken{}, d.numberError(what, i)
		}
		if i < len(b) && b[i] == '.' {
			i++
			if !digits() {
				return jsonToken{}, d.numberError(what, i)
			}
		}
		if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
			i++
			if i < len(b) && (b[i] == '+' || b[i] == '-') {
				i++
			}
			if !digits() {
				return jsonToken{}, d.numberError(what, i)
			}
		}
		d.pos = i
		return jsonToken{kind: jsonNumber, raw: b[start:i]}, nil
	case c == 't', c == 'f', c == 'n':
		lit, kind := "null", jsonNull
		switch c {
		case 't':
			lit, kind = "true", jsonTrue
		case 'f':
			lit, kind = "false", jsonFalse
		}
		for i := 1; i < len(lit); i++ {
			if start+i >= len(b) {
				return jsonToken{}, d.syntax(what, "unexpected EOF", start+i)
			}
			if b[start+i] != lit[i] {
				d.pos = start + i
				return jsonToken{}, d.unexpected(what, b[start+i], " in literal "+lit+" (expecting "+quoteChar(lit[i])+")")
			}
		}
		d.pos = start + len(lit)
		return jsonToken{kind: kind}, nil
	default:
		return jsonToken{}, d.unexpected(what, c, " looking for beginning of value")
	}
}

func (d *jsonDecoder) numberError(what string, i int) error {
	if i >= len(d.data) {
		return d.syntax(what, "unexpected EOF", i)
	}
	d.pos = i
	return d.unexpected(what, d.data[i], " in numeric literal")
}

// str reads the string at d.pos. Without escapes its text is a slice of
// the input; with escapes it is unescaped into d.scratch.
func (d *jsonDecoder) str(what string) (jsonToken, error) {
	b := d.data
	start := d.pos + 1
	escaped, ascii := false, true
	i := start
	for {
		if i >= len(b) {
			return jsonToken{}, d.syntax(what, "unexpected EOF", i)
		}
		c := b[i]
		if c == '"' {
			break
		}
		if c < 0x20 {
			d.pos = i
			return jsonToken{}, d.unexpected(what, c, " in string literal")
		}
		if c != '\\' {
			ascii = ascii && c < utf8.RuneSelf
			i++
			continue
		}
		escaped = true
		if i+1 >= len(b) {
			return jsonToken{}, d.syntax(what, "unexpected EOF", i+1)
		}
		switch b[i+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i += 2
		case 'u':
			for k := i + 2; k < i+6; k++ {
				if k >= len(b) {
					return jsonToken{}, d.syntax(what, "unexpected EOF", k)
				}
				if _, ok := unhex(b[k]); !ok {
					d.pos = k
					return jsonToken{}, d.unexpected(what, b[k], " in \\u hexadecimal character escape")
				}
			}
			i += 6
		default:
			d.pos = i + 1
			return jsonToken{}, d.unexpected(what, b[i+1], " in string escape code")
		}
	}
	d.pos = i + 1
	if !ascii {
		if err := d.checkUTF8(what, start, i); err != nil {
			return jsonToken{}, err
		}
	}
	if !escaped {
		return jsonToken{kind: jsonString, raw: b[start:i]}, nil
	}
	text, lone := unescape(d.scratch[:0], b[start:i])
	d.scratch = text
	if lone != "" {
		// encoding/json replaces an escaped lone surrogate ("\ud800") with
		// U+FFFD, so two distinct keys could decode to one: refuse it.
		return jsonToken{}, fmt.Errorf("teamperm: %s: string has an unpaired surrogate escape %s: %w", what, lone, d.sentinel)
	}
	return jsonToken{kind: jsonString, raw: text}, nil
}

// checkUTF8 refuses the string literal data[start:end] (without its
// quotes) if it is not valid UTF-8: encoding/json would replace the bad
// bytes with U+FFFD, so two distinct keys could decode to one. The error
// names the value, quotes the literal (clipped) and gives the offset of
// the first bad byte in the input.
func (d *jsonDecoder) checkUTF8(what string, start, end int) error {
	lit := d.data[start:end]
	for i := 0; i < len(lit); {
		r, n := utf8.DecodeRune(lit[i:])
		if r == utf8.RuneError && n == 1 {
			return fmt.Errorf("teamperm: %s: string %q is not valid UTF-8 at offset %d: %w", what, clip(lit), start+i, d.sentinel)
		}
		i += n
	}
	return nil
}

func unhex(c byte) (rune, bool) {
	switch {
	case '0' <= c && c <= '9':
		return rune(c - '0'), true
	case 'a' <= c && c <= 'f':
		return rune(c - 'a' + 10), true
	case 'A' <= c && c <= 'F':
		return rune(c - 'A' + 10), true
	}
	return 0, false
}

// u4 reads the escape \uXXXX at the start of s, or returns -1.
func u4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		v, ok := unhex(c)
		if !ok {
			return -1
		}
		r = r<<4 | v
	}
	return r
}

// unescape appends the text of the string literal s (without quotes, its
// escapes known to be well formed) to dst. lone is the first \u escape of
// a UTF-16 surrogate that is not half of a pair (a high one followed at
// once by a low one), or "".
func unescape(dst, s []byte) (text []byte, lone string) {
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		switch s[i+1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := u4(s[i:])
			switch {
			case r >= 0xD800 && r < 0xDC00:
				if lo := u4(s[i+6:]); lo >= 0xDC00 && lo < 0xE000 {
					dst = utf8.AppendRune(dst, 0x10000+(r-0xD800)<<10+(lo-0xDC00))
					i += 12
					continue
				}
				fallthrough
			case r >= 0xDC00 && r < 0xE000:
				if lone == "" {
					lone = string(s[i : i+6])
				}
				dst = utf8.AppendRune(dst, utf8.RuneError)
			default:
				dst = utf8.AppendRune(dst, r)
			}
			i += 6
			continue
		default: // " \ /
			dst = append(dst, s[i+1])
		}
		i += 2
	}
	return dst, lone
}

// wrong reports a value of the wrong type for what.
func (d *jsonDecoder) wrong(what string, t jsonToken, want string) error {
	return fmt.Errorf("teamperm: %s: got %s, want %s: %w", what, describeToken(t), want, d.sentinel)
}

func describeToken(t jsonToken) string {
	switch t.kind {
	case jsonDelim:
		switch t.delim {
		case '{':
			return "an object"
		case '[':
			return "an array"
		}
		return strconv.Quote(string(rune(t.delim)))
	case jsonString:
		return quote(t.raw)
	case jsonNumber:
		return clip(t.raw)
	case jsonTrue:
		return "true"
	case jsonFalse:
		return "false"
	}
	return "null"
}

// expect reads the token that opens an array or object (delim), or
// reports what it got.
func (d *jsonDecoder) expect(what string, delim byte, want string) error {
	t, err := d.next(what)
	if err != nil {
		return err
	}
	if !t.is(delim) {
		return d.wrong(what, t, want)
	}
	return nil
}

// key reads the next key of an object, returns its index in names (-1
// for a name not listed) and marks it in seen. A listed key seen twice is
// an error naming it. Keys are matched exactly after unescaping, as every
// JSON parser reads them: "\u006fp" is "op" (see [Settings.UnmarshalJSON]).
// The key's text is valid until the next token.
func (d *jsonDecoder) key(what string, names []string, seen *uint32) (int, []byte, error) {
	t, err := d.next(what)
	if err != nil {
		return -1, nil, err
	}
	for i, n := range names {
		if string(t.raw) == n {
			if *seen&(1<<i) != 0 {
				return -1, nil, fmt.Errorf("teamperm: %s: duplicate key %s: %w", what, quote(n), d.sentinel)
			}
			*seen |= 1 << i
			return i, t.raw, nil
		}
	}
	return -1, t.raw, nil
}

// close reads the token that closes an array or object, after more
// reported false.
func (d *jsonDecoder) close(what string) error {
	_, err := d.next(what)
	return err
}

// unknownField reports a key that is not a field.
func (d *jsonDecoder) unknownField(what string, key []byte) error {
	return fmt.Errorf("teamperm: %s: unknown field %s: %w", what, quote(key), d.sentinel)
}

// text reads a string.
func (d *jsonDecoder) text(what string) ([]byte, error) {
	t, err := d.next(what)
	if err != nil {
		return nil, err
	}
	if t.kind != jsonString {
		return nil, d.wrong(what, t, "a string")
	}
	return t.raw, nil
}

func (d *jsonDecoder) bool(what string) (bool, error) {
	t, err := d.next(what)
	if err != nil {
		return false, err
	}
	switch t.kind {
	case jsonTrue:
		return true, nil
	case jsonFalse:
		return false, nil
	}
	return false, d.wrong(what, t, "true or false")
}

func (d *jsonDecoder) uint(what string) (uint64, error) {
	t, err := d.next(what)
	if err != nil {
		return 0, err
	}
	if t.kind == jsonNumber {
		if v, ok := parseUint64(t.raw); ok {
			return v, nil
		}
	}
	return 0, d.wrong(what, t, "a non-negative integer")
}

// parseUint64 is strconv.ParseUint(string(b), 10, 64) without the
// conversion, for a JSON number literal.
func parseUint64(b []byte) (uint64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		digit := uint64(c - '0')
		if v > (math.MaxUint64-digit)/10 {
			return 0, false
		}
		v = v*10 + digit
	}
	return v, true
}

// parseInt64 is strconv.ParseInt(string(b), 10, 64) without the
// conversion, for a JSON number literal.
func parseInt64(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	u, ok := parseUint64(b)
	switch {
	case !ok:
		return 0, false
	case neg && u <= 1<<63:
		return int64(-u), true // -(1<<63) wraps to MinInt64
	case !neg && u < 1<<63:
		return int64(u), true
	}
	return 0, false
}

// id reads an ID in the form [ID.MarshalJSON] writes.
func (d *jsonDecoder) id(what string) (ID, error) {
	t, err := d.next(what)
	if err != nil {
		return ID{}, err
	}
	const want = `an integer, a string, {"uuid":...} or null`
	switch t.kind {
	case jsonNull:
		return ID{}, nil
	case jsonString:
		return StringID(string(t.raw)), nil
	case jsonNumber:
		if string(t.raw) == "-0" {
			// Its only reading, IntID(0), has a canonical spelling: one
			// key, one spelling (a fraction or exponent is refused below).
			return ID{}, fmt.Errorf("teamperm: %s -0: an integer ID is written 0, not -0: %w", what, ErrInvalidID)
		}
		n, ok := parseInt64(t.raw)
		if !ok {
			return ID{}, fmt.Errorf("teamperm: %s %s: want an int64 integer: %w", what, clip(t.raw), ErrInvalidID)
		}
		return IntID(n), nil
	}
	if !t.is('{') {
		return ID{}, d.wrong(what, t, want)
	}
	k, err := d.next(what)
	if err != nil {
		return ID{}, err
	}
	if !k.isString("uuid") {
		got := "an empty object"
		if k.kind == jsonString {
			got = "an object with the key " + describeToken(k)
		}
		return ID{}, fmt.Errorf("teamperm: %s: got %s, want %s (the only object is {\"uuid\":...}): %w", what, got, want, ErrInvalidID)
	}
	s, err := d.text(what)
	if err != nil {
		return ID{}, err
	}
	id, err := parseUUID(s)
	if err != nil {
		return ID{}, err
	}
	if t, err := d.next(what); err != nil || !t.is('}') {
		return ID{}, fmt.Errorf("teamperm: %s: a uuid object has one key: %w", what, ErrInvalidID)
	}
	return id, nil
}

// permissions reads an array of permission names. As the names are read
// only after the array (a malformed array is reported first), the first
// unknown or repeated name is the error.
func (d *jsonDecoder) permissions(what string) (PermissionSet, error) {
	if err := d.expect(what, '[', "an array"); err != nil {
		return PermissionSet{}, err
	}
	var t PermissionSet
	var bad error
	for d.more() {
		name, err := d.text(what)
		if err != nil {
			return PermissionSet{}, err
		}
		if bad != nil {
			continue
		}
		p, ok := permissionFromName(name)
		switch {
		case !ok:
			_, bad = ParsePermission(string(name))
		case t.Has(p):
			bad = fmt.Errorf("teamperm: permission %s listed twice: %w", quote(name), ErrInvalidSettings)
		default:
			t = t.With(p)
		}
	}
	if err := d.close(what); err != nil {
		return PermissionSet{}, err
	}
	if bad != nil {
		return PermissionSet{}, bad
	}
	return t, nil
}

// access reads "all" or an array of IDs; duplicates and null IDs are
// rejected by Settings.Validate.
func (d *jsonDecoder) access(what string) (Access, error) {
	t, err := d.next(what)
	if err != nil {
		return Access{}, err
	}
	if t.isString("all") {
		return Access{}, nil
	}
	if !t.is('[') {
		return Access{}, d.wrong(what, t, `"all" or an array of ids`)
	}
	var buf [16]ID // most lists are short: one allocation of the right size
	ids := buf[:0]
	for d.more() {
		id, err := d.id(what)
		if err != nil {
			return Access{}, err
		}
		ids = append(ids, id)
	}
	if err := d.close(what); err != nil {
		return Access{}, err
	}
	a := Access{Specific: true, IDs: make([]ID, len(ids))}
	copy(a.IDs, ids)
	return a, nil
}
