package teamperm

import (
	"encoding/binary"
	"iter"
	"slices"
	"strings"
)

// An IDSet is a small immutable set of IDs, such as the WhatsApp instances
// a contact belongs to ([Record.Instances]). Make one with [IDSetOf].
//
// The zero IDSet is empty. IDSets are comparable with == (equal sets are
// equal values, whatever the order they were made in), so a [Record]
// holding one stays comparable and usable as a map key. Reading a set
// never allocates; it is meant for a few IDs (a lookup is a linear scan).
type IDSet struct {
	enc string // the IDs in Compare order, each encoded by appendSetID
}

// IDSetOf returns the set of ids. Zero IDs (NULLs) are dropped, and each
// ID is kept once.
func IDSetOf(ids ...ID) IDSet {
	sorted := make([]ID, 0, len(ids))
	for _, id := range ids {
		if !id.IsZero() {
			sorted = append(sorted, id)
		}
	}
	slices.SortFunc(sorted, ID.Compare)
	sorted = slices.CompactFunc(sorted, ID.eq)
	var b []byte
	for _, id := range sorted {
		b = appendSetID(b, id)
	}
	return IDSet{enc: string(b)}
}

// appendSetID encodes id: its kind, then the integer (8 bytes) or the
// string's length (a uvarint) and bytes.
func appendSetID(b []byte, id ID) []byte {
	b = append(b, byte(id.kind))
	if id.kind == idInt {
		return binary.LittleEndian.AppendUint64(b, uint64(id.n))
	}
	b = binary.AppendUvarint(b, uint64(len(id.s)))
	return append(b, id.s...)
}

// nextSetID decodes the ID at the start of enc and returns it with the rest.
func nextSetID(enc string) (ID, string) {
	k := idKind(enc[0])
	enc = enc[1:]
	if k == idInt {
		var n uint64
		for i := 7; i >= 0; i-- {
			n = n<<8 | uint64(enc[i])
		}
		return ID{kind: k, n: int64(n)}, enc[8:]
	}
	n, w := uvarint(enc)
	return ID{kind: k, s: enc[w : w+int(n)]}, enc[w+int(n):]
}

// uvarint is binary.Uvarint on a string, without converting it.
func uvarint(s string) (uint64, int) {
	var x uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x80 {
			return x | uint64(c)<<(7*i), i + 1
		}
		x |= uint64(c&0x7f) << (7 * i)
	}
	return 0, len(s) // not reached for what appendSetID wrote
}

// IsEmpty reports whether s holds no ID.
func (s IDSet) IsEmpty() bool { return s.enc == "" }

// Len returns the number of IDs in s.
func (s IDSet) Len() int {
	n := 0
	for rest := s.enc; rest != ""; n++ {
		_, rest = nextSetID(rest)
	}
	return n
}

// Contains reports whether id is in s; never for the zero ID.
func (s IDSet) Contains(id ID) bool { return s.any(id.eq) }

// any reports whether f holds for some ID of s.
func (s IDSet) any(f func(ID) bool) bool {
	for rest := s.enc; rest != ""; {
		var id ID
		id, rest = nextSetID(rest)
		if f(id) {
			return true
		}
	}
	return false
}

// All returns the IDs of s in [ID.Compare] order.
func (s IDSet) All() iter.Seq[ID] {
	return func(yield func(ID) bool) {
		for rest := s.enc; rest != ""; {
			var id ID
			id, rest = nextSetID(rest)
			if !yield(id) {
				return
			}
		}
	}
}

// String returns the set for logs: {1, "a"}.
func (s IDSet) String() string {
	var parts []string
	for id := range s.All() {
		parts = append(parts, id.String())
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
