package teamperm_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/teamperm/teamperm"
)

// The names below are written out from the seed and the documentation, not
// taken from the library, so that a renamed or reordered value fails here.

var textPermissionNames = []string{
	"contact.view", "contact.create", "contact.update", "contact.delete", "contact.export", "contact.import",
	"chat.view", "chat.send", "chat.assign",
	"instance.view", "instance.manage",
	"webhook.view", "webhook.manage",
	"campaign.view", "campaign.manage",
	"workflow.view", "workflow.manage",
}

var textAllPermissions = []teamperm.Permission{
	teamperm.ContactView, teamperm.ContactCreate, teamperm.ContactUpdate, teamperm.ContactDelete, teamperm.ContactExport, teamperm.ContactImport,
	teamperm.ChatView, teamperm.ChatSend, teamperm.ChatAssign,
	teamperm.InstanceView, teamperm.InstanceManage,
	teamperm.WebhookView, teamperm.WebhookManage,
	teamperm.CampaignView, teamperm.CampaignManage,
	teamperm.WorkflowView, teamperm.WorkflowManage,
}

// textEnum is what Permission, Role, Plan and Kind have in common.
type textEnum interface {
	~uint8
	String() string
	MarshalText() ([]byte, error)
	AppendText([]byte) ([]byte, error)
}

type textEnumPtr[E any] interface {
	*E
	UnmarshalText([]byte) error
}

// enumTextSpec describes the expected text form of an enum type.
type enumTextSpec[E textEnum] struct {
	typeName    string   // prefix of the out-of-range form, "Permission"
	valid       []E      // every valid value, in order
	names       []string // names[i] is the text of valid[i]
	zeroInvalid bool     // the zero value is not valid and prints as "none"
	parse       func(string) (E, error)
	mustParse   func(string) E
	all         func() iter.Seq[E] // the package's iterator over valid values, if any
	sentinel    error
}

// textBadInputs returns near misses of the valid names: every one must fail
// to parse.
func textBadInputs(typeName string, names []string) []string {
	bad := []string{
		"", " ", "none", "None", "NONE", "0", "1", "-1", "\x00", "\xff",
		typeName + "(1)", typeName + "(0)",
		strings.Join(names, ","),
		strings.Join(names[:2], " "),
	}
	for _, n := range names {
		bad = append(bad,
			" "+n, n+" ", "\t"+n, n+"\n", n+"\r\n", "\n"+n,
			strings.ToUpper(n),
			strings.ToUpper(n[:1])+n[1:],
			n+"\x00", "\x00"+n,
			n[:len(n)-1], n+"s", n+n,
			`"`+n+`"`,
			strings.ReplaceAll(n, ".", "_"),
			strings.ReplaceAll(n, ".", ""),
			n+"\xff",
		)
	}
	return slices.DeleteFunc(bad, func(s string) bool { return slices.Contains(names, s) })
}

func testEnumText[E textEnum, P textEnumPtr[E]](t *testing.T, spec enumTextSpec[E]) {
	if len(spec.valid) != len(spec.names) {
		t.Fatalf("spec: %d values, %d names", len(spec.valid), len(spec.names))
	}
	nameOf := func(x E) (string, bool) {
		i := slices.Index(spec.valid, x)
		if i < 0 {
			return "", false
		}
		return spec.names[i], true
	}

	t.Run("String", func(t *testing.T) {
		for v := range 256 {
			x := E(v)
			want, ok := nameOf(x)
			if !ok {
				want = fmt.Sprintf("%s(%d)", spec.typeName, v)
				if v == 0 && spec.zeroInvalid {
					want = "none"
				}
			}
			if got := x.String(); got != want {
				t.Errorf("%s(%d).String() = %q, want %q", spec.typeName, v, got, want)
			}
		}
	})

	t.Run("ParseString", func(t *testing.T) {
		for i, x := range spec.valid {
			got, err := spec.parse(x.String())
			if err != nil || got != x {
				t.Errorf("Parse(%q) = %v, %v; want %v, nil", x.String(), got, err, x)
			}
			if got := spec.mustParse(spec.names[i]); got != x {
				t.Errorf("MustParse(%q) = %v, want %v", spec.names[i], got, x)
			}
		}
	})

	t.Run("MarshalAppendUnmarshalAgree", func(t *testing.T) {
		for i, x := range spec.valid {
			name := spec.names[i]
			m, err := x.MarshalText()
			if err != nil || string(m) != name {
				t.Errorf("%v.MarshalText() = %q, %v; want %q, nil", x, m, err, name)
			}
			a, err := x.AppendText(nil)
			if err != nil || string(a) != string(m) {
				t.Errorf("%v.AppendText(nil) = %q, %v; want %q (as MarshalText), nil", x, a, err, m)
			}
			prefix := []byte("prefix:")
			a, err = x.AppendText(prefix)
			if err != nil || string(a) != "prefix:"+name {
				t.Errorf("%v.AppendText(%q) = %q, %v; want %q, nil", x, "prefix:", a, err, "prefix:"+name)
			}
			var y E
			if err := P(&y).UnmarshalText(m); err != nil || y != x {
				t.Errorf("UnmarshalText(%q) gave %v, %v; want %v, nil", m, y, err, x)
			}
			j, err := json.Marshal(map[E]E{x: x})
			want := fmt.Sprintf(`{%q:%q}`, name, name)
			if err != nil || string(j) != want {
				t.Errorf("json.Marshal(map{%v: %v}) = %s, %v; want %s, nil", x, x, j, err, want)
			}
			var back map[E]E
			if err := json.Unmarshal(j, &back); err != nil || back[x] != x || len(back) != 1 {
				t.Errorf("json.Unmarshal(%s) = %v, %v; want map{%v: %v}", j, back, err, x, x)
			}
		}
	})

	t.Run("InvalidDoesNotMarshal", func(t *testing.T) {
		for v := range 256 {
			x := E(v)
			if _, ok := nameOf(x); ok {
				continue
			}
			m, err := x.MarshalText()
			if !errors.Is(err, spec.sentinel) {
				t.Errorf("%s(%d).MarshalText() = %q, %v; want error wrapping %v", spec.typeName, v, m, err, spec.sentinel)
				continue
			}
			if !strings.Contains(err.Error(), x.String()) {
				t.Errorf("%s(%d).MarshalText() error %q does not name %s", spec.typeName, v, err, x.String())
			}
			if _, err := x.AppendText([]byte("prefix:")); !errors.Is(err, spec.sentinel) {
				t.Errorf("%s(%d).AppendText(prefix) error = %v, want %v", spec.typeName, v, err, spec.sentinel)
			}
			if _, err := json.Marshal(x); !errors.Is(err, spec.sentinel) {
				t.Errorf("json.Marshal(%s(%d)) error = %v, want %v", spec.typeName, v, err, spec.sentinel)
			}
		}
	})

	t.Run("ParseIsExact", func(t *testing.T) {
		for _, in := range textBadInputs(spec.typeName, spec.names) {
			got, err := spec.parse(in)
			if !errors.Is(err, spec.sentinel) {
				t.Errorf("Parse(%q) = %v, %v; want error wrapping %v", in, got, err, spec.sentinel)
				continue
			}
			if !echoes(err.Error(), in) {
				t.Errorf("Parse(%q) error %q does not quote the input (its first 64 bytes and \"...\" when longer)", in, err)
			}
			x := spec.valid[len(spec.valid)-1]
			if err := P(&x).UnmarshalText([]byte(in)); !errors.Is(err, spec.sentinel) {
				t.Errorf("UnmarshalText(%q) error = %v, want %v", in, err, spec.sentinel)
			}
			if x != spec.valid[len(spec.valid)-1] {
				t.Errorf("UnmarshalText(%q) failed but changed the value to %v", in, x)
			}
		}
	})

	t.Run("MustParsePanics", func(t *testing.T) {
		defer func() {
			err, _ := recover().(error)
			if !errors.Is(err, spec.sentinel) {
				t.Errorf("MustParse(%q) panicked with %v, want an error wrapping %v", "none", err, spec.sentinel)
			}
		}()
		spec.mustParse("none")
	})

	if spec.all != nil {
		t.Run("Iterator", func(t *testing.T) {
			if diff := cmp.Diff(spec.valid, slices.Collect(spec.all())); diff != "" {
				t.Errorf("iterator (-want +got):\n%s", diff)
			}
			n := 0
			for range spec.all() {
				n++
				break
			}
			if n != 1 {
				t.Errorf("iterator yielded %d values before break, want 1", n)
			}
		})
	}
}

func TestTextPermission(t *testing.T) {
	testEnumText(t, enumTextSpec[teamperm.Permission]{
		typeName:    "Permission",
		valid:       textAllPermissions,
		names:       textPermissionNames,
		zeroInvalid: true,
		parse:       teamperm.ParsePermission,
		mustParse:   teamperm.MustParsePermission,
		all:         teamperm.Permissions,
		sentinel:    teamperm.ErrUnknownPermission,
	})
}

func TestTextRole(t *testing.T) {
	testEnumText(t, enumTextSpec[teamperm.Role]{
		typeName:    "Role",
		valid:       []teamperm.Role{teamperm.RoleOwner, teamperm.RoleAdmin, teamperm.RoleMember},
		names:       []string{"owner", "admin", "member"},
		zeroInvalid: true,
		parse:       teamperm.ParseRole,
		mustParse:   teamperm.MustParseRole,
		sentinel:    teamperm.ErrUnknownRole,
	})
}

func TestTextPlan(t *testing.T) {
	// The zero plan is Free: valid, and it marshals.
	testEnumText(t, enumTextSpec[teamperm.Plan]{
		typeName:  "Plan",
		valid:     []teamperm.Plan{teamperm.PlanFree, teamperm.PlanStarter, teamperm.PlanPro},
		names:     []string{"free", "starter", "pro"},
		parse:     teamperm.ParsePlan,
		mustParse: teamperm.MustParsePlan,
		sentinel:  teamperm.ErrUnknownPlan,
	})
}

func TestTextKind(t *testing.T) {
	testEnumText(t, enumTextSpec[teamperm.Kind]{
		typeName: "Kind",
		valid: []teamperm.Kind{
			teamperm.KindContact, teamperm.KindConversation, teamperm.KindMessage, teamperm.KindInstance,
			teamperm.KindCampaign, teamperm.KindWebhook, teamperm.KindWorkflow, teamperm.KindDeal,
		},
		names:       []string{"contact", "conversation", "message", "instance", "campaign", "webhook", "workflow", "deal"},
		zeroInvalid: true,
		parse:       teamperm.ParseKind,
		mustParse:   teamperm.MustParseKind,
		all:         teamperm.Kinds,
		sentinel:    teamperm.ErrUnknownKind,
	})
}

// CreatorKind has String and ParseCreatorKind but no text methods; its zero
// value, CreatorUnknown, is valid and named "unknown".
func TestTextCreatorKind(t *testing.T) {
	valid := []teamperm.CreatorKind{teamperm.CreatorUnknown, teamperm.CreatorMember, teamperm.CreatorAutomation}
	names := []string{"unknown", "member", "automation"}
	for v := range 256 {
		c := teamperm.CreatorKind(v)
		want := fmt.Sprintf("CreatorKind(%d)", v)
		if v < len(names) {
			want = names[v]
		}
		if got := c.String(); got != want {
			t.Errorf("CreatorKind(%d).String() = %q, want %q", v, got, want)
		}
	}
	for i, c := range valid {
		if got, err := teamperm.ParseCreatorKind(c.String()); err != nil || got != c {
			t.Errorf("ParseCreatorKind(%q) = %v, %v; want %v, nil", c.String(), got, err, c)
		}
		if c.String() != names[i] {
			t.Errorf("%d.String() = %q, want %q", c, c.String(), names[i])
		}
	}
	for _, in := range textBadInputs("CreatorKind", names) {
		_, err := teamperm.ParseCreatorKind(in)
		if !errors.Is(err, teamperm.ErrUnknownKind) {
			t.Errorf("ParseCreatorKind(%q) error = %v, want %v", in, err, teamperm.ErrUnknownKind)
			continue
		}
		if q := strconv.Quote(in); !strings.Contains(err.Error(), q) {
			t.Errorf("ParseCreatorKind(%q) error %q does not quote the input as %s", in, err, q)
		}
	}
}

// ---------------------------------------------------------------------------
// PermissionSet

// permModel is a deliberately slow reference model of a PermissionSet: the
// sorted list of its distinct permissions, manipulated with linear scans.
type permModel []teamperm.Permission

func newPermModel(ps []teamperm.Permission) permModel {
	var m permModel
	for _, p := range ps {
		if p.IsValid() && !slices.Contains(m, p) {
			m = append(m, p)
		}
	}
	slices.Sort(m)
	return m
}

func (m permModel) union(n permModel) permModel {
	return newPermModel(append(slices.Clone(m), n...))
}

func (m permModel) intersect(n permModel) permModel {
	var r []teamperm.Permission
	for _, p := range m {
		if slices.Contains(n, p) {
			r = append(r, p)
		}
	}
	return newPermModel(r)
}

func (m permModel) difference(n permModel) permModel {
	var r []teamperm.Permission
	for _, p := range m {
		if !slices.Contains(n, p) {
			r = append(r, p)
		}
	}
	return newPermModel(r)
}

func (m permModel) names() []string {
	var r []string
	for _, p := range m {
		// Index into the written-out table, not p.String().
		r = append(r, textPermissionNames[slices.Index(textAllPermissions, p)])
	}
	return r
}

// drawPermSet draws a set built with With, and its model.
func drawPermSet(t *rapid.T, label string) (teamperm.PermissionSet, permModel) {
	ps := rapid.SliceOfN(rapid.SampledFrom(textAllPermissions), 0, 24).Draw(t, label)
	var s teamperm.PermissionSet
	for _, p := range ps {
		s = s.With(p)
	}
	return s, newPermModel(ps)
}

// drawAnyPermission draws a permission that is often valid, sometimes the
// zero value or out of range.
func drawAnyPermission(t *rapid.T, label string) teamperm.Permission {
	return rapid.OneOf(
		rapid.SampledFrom(textAllPermissions),
		rapid.Map(rapid.Uint8(), func(v uint8) teamperm.Permission { return teamperm.Permission(v) }),
	).Draw(t, label)
}

// checkPermSet checks s against its model through every read-only method.
func checkPermSet(t *rapid.T, what string, s teamperm.PermissionSet, m permModel) {
	t.Helper()
	for v := range 256 {
		p := teamperm.Permission(v)
		if got, want := s.Has(p), slices.Contains(m, p); got != want {
			t.Fatalf("%s.Has(%d) = %v, want %v (model %v)", what, v, got, want, m)
		}
	}
	if got := slices.Collect(s.All()); !slices.Equal(got, m) {
		t.Fatalf("%s.All() = %v, want %v in order", what, got, m)
	}
	if s.Len() != len(m) {
		t.Fatalf("%s.Len() = %d, want %d", what, s.Len(), len(m))
	}
	if s.IsEmpty() != (len(m) == 0) {
		t.Fatalf("%s.IsEmpty() = %v, model %v", what, s.IsEmpty(), m)
	}
	if got, want := s.String(), "["+strings.Join(m.names(), " ")+"]"; got != want {
		t.Fatalf("%s.String() = %q, want %q", what, got, want)
	}
	b, err := s.MarshalJSON()
	want, _ := json.Marshal(append([]string{}, m.names()...))
	if err != nil || string(b) != string(want) {
		t.Fatalf("%s.MarshalJSON() = %s, %v; want %s, nil", what, b, err, want)
	}
	if len(m) > 0 {
		var first teamperm.Permission
		for p := range s.All() {
			first = p
			break
		}
		if first != m[0] {
			t.Fatalf("%s.All() with break yielded %v first, want %v", what, first, m[0])
		}
	}
}

// permissionSetLaws is the set-algebra property of PermissionSet, checked
// against permModel. FuzzPermissionSetLaws reuses it.
func permissionSetLaws(t *rapid.T) {
	a, ma := drawPermSet(t, "a")
	b, mb := drawPermSet(t, "b")
	c, mc := drawPermSet(t, "c")
	p := drawAnyPermission(t, "p")
	empty, all := teamperm.PermissionSet{}, teamperm.AllPermissions()
	aBefore := a

	checkPermSet(t, "a", a, ma)
	checkPermSet(t, "a∪b∪c", a.Union(b).Union(c), ma.union(mb).union(mc))
	checkPermSet(t, "PermissionSetOf(a...)", teamperm.PermissionSetOf(ma...), ma)
	checkPermSet(t, "empty", empty, nil)
	checkPermSet(t, "all", all, newPermModel(textAllPermissions))

	// Operations against the model.
	checkPermSet(t, "a∪b", a.Union(b), ma.union(mb))
	checkPermSet(t, "a∩b", a.Intersect(b), ma.intersect(mb))
	checkPermSet(t, "a∖b", a.Difference(b), ma.difference(mb))
	wantWith := ma
	if p.IsValid() {
		wantWith = ma.union(permModel{p})
	}
	checkPermSet(t, "a.With(p)", a.With(p), wantWith)
	checkPermSet(t, "a.Without(p)", a.Without(p), ma.difference(permModel{p}))

	// == is set equality.
	if (a == b) != slices.Equal(ma, mb) {
		t.Fatalf("a == b is %v for %v and %v", a == b, ma, mb)
	}

	type law struct {
		name      string
		got, want teamperm.PermissionSet
	}
	laws := []law{
		{"union commutative", a.Union(b), b.Union(a)},
		{"intersect commutative", a.Intersect(b), b.Intersect(a)},
		{"union associative", a.Union(b).Union(c), a.Union(b.Union(c))},
		{"intersect associative", a.Intersect(b).Intersect(c), a.Intersect(b.Intersect(c))},
		{"intersect distributes over union", a.Intersect(b.Union(c)), a.Intersect(b).Union(a.Intersect(c))},
		{"union distributes over intersect", a.Union(b.Intersect(c)), a.Union(b).Intersect(a.Union(c))},
		{"union identity", a.Union(empty), a},
		{"intersect identity", a.Intersect(all), a},
		{"union idempotent", a.Union(a), a},
		{"intersect idempotent", a.Intersect(a), a},
		{"absorption", a.Union(a.Intersect(b)), a},
		{"union with all", a.Union(all), all},
		{"intersect with empty", a.Intersect(empty), empty},
		{"difference is intersect with complement", a.Difference(b), a.Intersect(all.Difference(b))},
		{"difference and intersect partition", a.Difference(b).Union(a.Intersect(b)), a},
		{"difference removes b", a.Difference(b).Intersect(b), empty},
		{"difference from self", a.Difference(a), empty},
		{"de Morgan", all.Difference(a.Union(b)), all.Difference(a).Intersect(all.Difference(b))},
		{"With then Without", a.With(p).Without(p), a.Without(p)},
		{"Without then With", a.Without(p).With(p), a.With(p)},
		{"With idempotent", a.With(p).With(p), a.With(p)},
		{"Without idempotent", a.Without(p).Without(p), a.Without(p)},
	}
	if p.IsValid() {
		laws = append(laws,
			law{"With is union", a.With(p), a.Union(teamperm.PermissionSetOf(p))},
			law{"Without is difference", a.Without(p), a.Difference(teamperm.PermissionSetOf(p))},
		)
	} else {
		laws = append(laws,
			law{"With invalid is a no-op", a.With(p), a},
			law{"Without invalid is a no-op", a.Without(p), a},
		)
	}
	for _, l := range laws {
		if l.got != l.want {
			t.Fatalf("%s: got %v, want %v (a=%v b=%v c=%v p=%d)", l.name, l.got, l.want, a, b, c, p)
		}
	}
	if got, want := a.Union(b).Len()+a.Intersect(b).Len(), a.Len()+b.Len(); got != want {
		t.Fatalf("|a∪b|+|a∩b| = %d, want |a|+|b| = %d", got, want)
	}
	if a.With(p).Has(p) != p.IsValid() {
		t.Fatalf("a.With(%d).Has(%d) = %v", p, p, a.With(p).Has(p))
	}
	if a.Without(p).Has(p) {
		t.Fatalf("a.Without(%d).Has(%d) = true", p, p)
	}

	// Value semantics: nothing above changed a.
	if a != aBefore {
		t.Fatalf("a changed from %v to %v", aBefore, a)
	}
	// Usable as a map key.
	keys := map[teamperm.PermissionSet]int{a: 1}
	if keys[a.Union(empty)] != 1 {
		t.Fatalf("map lookup of an equal set failed")
	}

	// JSON round trip.
	data, err := json.Marshal(a)
	if err != nil {
		t.Fatalf("json.Marshal(%v): %v", a, err)
	}
	var back teamperm.PermissionSet
	if err := json.Unmarshal(data, &back); err != nil || back != a {
		t.Fatalf("json.Unmarshal(%s) = %v, %v; want %v", data, back, err, a)
	}
	// The order of the input does not matter.
	shuffled := rapid.Permutation(ma.names()).Draw(t, "order")
	data, _ = json.Marshal(append([]string{}, shuffled...))
	back = teamperm.PermissionSet{}
	if err := back.UnmarshalJSON(data); err != nil || back != a {
		t.Fatalf("UnmarshalJSON(%s) = %v, %v; want %v", data, back, err, a)
	}
}

func TestPermissionSetLaws(t *testing.T) {
	rapid.Check(t, permissionSetLaws)
}

func TestPermissionSetValueSemantics(t *testing.T) {
	s := teamperm.PermissionSetOf(teamperm.ContactView)
	before := s
	t2 := s.With(teamperm.ChatSend)
	t3 := s.Without(teamperm.ContactView)
	t4 := s.Union(teamperm.AllPermissions())
	t5 := s.Intersect(teamperm.PermissionSet{})
	t6 := s.Difference(s)
	if s != before || !s.Has(teamperm.ContactView) || s.Has(teamperm.ChatSend) || s.Len() != 1 {
		t.Errorf("s changed to %v after With/Without/Union/Intersect/Difference, want %v", s, before)
	}
	if !t2.Has(teamperm.ChatSend) || t3.Has(teamperm.ContactView) || t4 != teamperm.AllPermissions() || !t5.IsEmpty() || !t6.IsEmpty() {
		t.Errorf("results: %v %v %v %v %v", t2, t3, t4, t5, t6)
	}
	if got := teamperm.AllPermissions().Len(); got != 17 {
		t.Errorf("AllPermissions().Len() = %d, want 17", got)
	}
	if diff := cmp.Diff(textAllPermissions, slices.Collect(teamperm.AllPermissions().All())); diff != "" {
		t.Errorf("AllPermissions().All() (-want +got):\n%s", diff)
	}
}

func TestPermissionSetOfPanicsOnInvalid(t *testing.T) {
	for _, p := range []teamperm.Permission{0, 18, 31, 32, 255} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("PermissionSetOf(%d) did not panic", p)
				}
			}()
			teamperm.PermissionSetOf(teamperm.ContactView, p)
		}()
	}
}

func TestPermissionSetJSON(t *testing.T) {
	ps := teamperm.PermissionSetOf
	tests := []struct {
		name    string
		in      string
		want    teamperm.PermissionSet
		wantErr error
		msg     string // the error names this
	}{
		{name: "empty", in: `[]`, want: ps()},
		{name: "empty-spaced", in: " [ ] ", want: ps()},
		{name: "one", in: `["contact.export"]`, want: ps(teamperm.ContactExport)},
		{name: "seed-order", in: `["contact.view","chat.view"]`, want: ps(teamperm.ContactView, teamperm.ChatView)},
		{name: "any-order", in: `["workflow.manage","contact.view"]`, want: ps(teamperm.ContactView, teamperm.WorkflowManage)},
		{name: "escaped-name", in: `["contact.vie\u0077"]`, want: ps(teamperm.ContactView)},
		{name: "all", in: `["` + strings.Join(textPermissionNames, `","`) + `"]`, want: teamperm.AllPermissions()},

		{name: "null", in: `null`, wantErr: teamperm.ErrInvalidSettings, msg: "null"},
		{name: "object", in: `{}`, wantErr: teamperm.ErrInvalidSettings, msg: "{}"},
		{name: "number-element", in: `[1]`, wantErr: teamperm.ErrInvalidSettings, msg: "[1]"},
		{name: "string", in: `"contact.view"`, wantErr: teamperm.ErrInvalidSettings, msg: `"contact.view"`},
		{name: "nested-array", in: `[["contact.view"]]`, wantErr: teamperm.ErrInvalidSettings},
		{name: "bool", in: `true`, wantErr: teamperm.ErrInvalidSettings, msg: "true"},
		{name: "empty-input", in: ``, wantErr: teamperm.ErrInvalidSettings},
		{name: "unknown-name", in: `["x"]`, wantErr: teamperm.ErrUnknownPermission, msg: `"x"`},
		{name: "none-name", in: `["none"]`, wantErr: teamperm.ErrUnknownPermission, msg: `"none"`},
		{name: "empty-name", in: `[""]`, wantErr: teamperm.ErrUnknownPermission, msg: `""`},
		{name: "wrong-case", in: `["Contact.View"]`, wantErr: teamperm.ErrUnknownPermission, msg: `"Contact.View"`},
		{name: "padded", in: `[" contact.view"]`, wantErr: teamperm.ErrUnknownPermission, msg: `" contact.view"`},
		{name: "duplicate", in: `["contact.view","contact.view"]`, wantErr: teamperm.ErrInvalidSettings, msg: `"contact.view"`},
		{name: "duplicate-apart", in: `["chat.send","contact.view","chat.send"]`, wantErr: teamperm.ErrInvalidSettings, msg: `"chat.send"`},
		{name: "null-element", in: `["contact.view",null]`, wantErr: teamperm.ErrInvalidSettings, msg: "null"},
		{name: "trailing-data", in: `["contact.view"] []`, wantErr: teamperm.ErrInvalidSettings},
		{name: "trailing-comma", in: `["contact.view",]`, wantErr: teamperm.ErrInvalidSettings},
		{name: "unclosed", in: `["contact.view"`, wantErr: teamperm.ErrInvalidSettings},
		{name: "invalid-utf8", in: "[\"contact.view\xff\"]", wantErr: teamperm.ErrInvalidSettings},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := teamperm.PermissionSetOf(teamperm.ChatAssign) // must survive an error
			err := got.UnmarshalJSON([]byte(tc.in))
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("UnmarshalJSON(%s): %v", tc.in, err)
				}
				if got != tc.want {
					t.Errorf("UnmarshalJSON(%s) = %v, want %v", tc.in, got, tc.want)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) || !strings.Contains(fmt.Sprint(err), tc.msg) {
				t.Errorf("UnmarshalJSON(%s) error = %v, want one wrapping %v and naming %s", tc.in, err, tc.wantErr, tc.msg)
			}
			if err != nil && got != teamperm.PermissionSetOf(teamperm.ChatAssign) {
				t.Errorf("UnmarshalJSON(%s) failed but changed the set to %v", tc.in, got)
			}
		})
	}
}

func TestPermissionSetMarshalJSON(t *testing.T) {
	tests := []struct {
		name string
		set  teamperm.PermissionSet
		want string
	}{
		{"empty", teamperm.PermissionSet{}, `[]`},
		{"one", teamperm.PermissionSetOf(teamperm.ChatSend), `["chat.send"]`},
		{"seed-order", teamperm.PermissionSetOf(teamperm.WorkflowManage, teamperm.ContactView), `["contact.view","workflow.manage"]`},
		{"all", teamperm.AllPermissions(), `["` + strings.Join(textPermissionNames, `","`) + `"]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := json.Marshal(tc.set)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, string(got)); diff != "" {
				t.Errorf("json.Marshal (-want +got):\n%s", diff)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// ID

const textUUID = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"

var textUUIDBytes = [16]byte{0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}

func TestIDConstructors(t *testing.T) {
	i := teamperm.IntID(-7)
	if n, ok := i.Int(); n != -7 || !ok {
		t.Errorf("IntID(-7).Int() = %d, %v", n, ok)
	}
	if _, ok := i.Str(); ok {
		t.Errorf("IntID(-7).Str() ok")
	}
	if _, ok := i.UUID(); ok {
		t.Errorf("IntID(-7).UUID() ok")
	}
	s := teamperm.StringID("")
	if v, ok := s.Str(); v != "" || !ok {
		t.Errorf(`StringID("").Str() = %q, %v`, v, ok)
	}
	if _, ok := s.Int(); ok {
		t.Errorf(`StringID("").Int() ok`)
	}
	u := teamperm.UUIDID(textUUIDBytes)
	if v, ok := u.UUID(); v != textUUIDBytes || !ok {
		t.Errorf("UUIDID(...).UUID() = %x, %v", v, ok)
	}
	if _, ok := u.Str(); ok {
		t.Errorf("UUIDID(...).Str() ok")
	}
	var zero teamperm.ID
	if !zero.IsZero() || teamperm.IntID(0).IsZero() || s.IsZero() || u.IsZero() {
		t.Errorf("IsZero: zero %v, IntID(0) %v, StringID(\"\") %v, uuid %v",
			zero.IsZero(), teamperm.IntID(0).IsZero(), s.IsZero(), u.IsZero())
	}
	if _, ok := zero.Int(); ok {
		t.Errorf("zero ID Int() ok")
	}
	if teamperm.IntID(7) == teamperm.StringID("7") || teamperm.IntID(0) == zero || teamperm.StringID("") == zero {
		t.Errorf("IDs of different kinds compare equal")
	}
	i1, i2 := teamperm.IntID(7), teamperm.IntID(7)
	s1, s2 := teamperm.StringID("7"), teamperm.StringID("7")
	if i1 != i2 || s1 != s2 || u != teamperm.UUIDID(textUUIDBytes) {
		t.Errorf("equal IDs compare unequal")
	}
}

func TestIDString(t *testing.T) {
	tests := []struct {
		name string
		id   teamperm.ID
		want string
	}{
		{"zero", teamperm.ID{}, "<none>"},
		{"int", teamperm.IntID(42), "42"},
		{"int-negative", teamperm.IntID(math.MinInt64), "-9223372036854775808"},
		{"string", teamperm.StringID("abc"), `"abc"`},
		{"string-seven", teamperm.StringID("7"), `"7"`},
		{"string-empty", teamperm.StringID(""), `""`},
		{"uuid", teamperm.UUIDID(textUUIDBytes), textUUID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.id.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseUUID(t *testing.T) {
	want := teamperm.UUIDID(textUUIDBytes)
	for _, in := range []string{textUUID, strings.ToUpper(textUUID), "6BA7b810-9DAD-11d1-80B4-00c04FD430C8"} {
		got, err := teamperm.ParseUUID(in)
		if err != nil || got != want {
			t.Errorf("ParseUUID(%q) = %v, %v; want %v", in, got, err, want)
		}
		if got.String() != textUUID {
			t.Errorf("ParseUUID(%q).String() = %q, want %q", in, got.String(), textUUID)
		}
	}
	if got, err := teamperm.ParseUUID("00000000-0000-0000-0000-000000000000"); err != nil || got != teamperm.UUIDID([16]byte{}) || got.IsZero() {
		t.Errorf("ParseUUID(nil uuid) = %v, %v", got, err)
	}
	bad := []string{
		"", "6ba7b810", textUUID[:35], textUUID + "0", " " + textUUID, textUUID + "\n",
		"{" + textUUID + "}", "urn:uuid:" + textUUID,
		strings.ReplaceAll(textUUID, "-", ""),
		"6ba7b8109-dad-11d1-80b4-00c04fd430c8",
		"6ba7b810-9dad-11d1-80b4-00c04fd430cg",
		"6ba7b810-9dad-11d1-80b4-00c04fd430c+",
		"6ba7b810_9dad_11d1_80b4_00c04fd430c8",
		"6ba7b810-9dad-11d1-80b4-00c04fd430\xc3\xa9",
		"+ba7b810-9dad-11d1-80b4-00c04fd430c8",
		"6ba7b810-9dad-11d1-80b4-00c04fd43 c8",
		"6ba7b810-9dad-11d1-80b4--0c04fd430c8",
		"0x6ba7b8-9dad-11d1-80b4-00c04fd430c8",
	}
	for _, in := range bad {
		got, err := teamperm.ParseUUID(in)
		if !errors.Is(err, teamperm.ErrInvalidID) {
			t.Errorf("ParseUUID(%q) = %v, %v; want error wrapping %v", in, got, err, teamperm.ErrInvalidID)
			continue
		}
		if q := strconv.Quote(in); !strings.Contains(err.Error(), q) {
			t.Errorf("ParseUUID(%q) error %q does not quote the input as %s", in, err, q)
		}
		if !got.IsZero() {
			t.Errorf("ParseUUID(%q) failed but returned %v", in, got)
		}
	}
}

// idGen generates IDs of every kind, often colliding.
func idGen() *rapid.Generator[teamperm.ID] {
	uuids := [][16]byte{{}, textUUIDBytes, {15: 1}, {0: 0xff}}
	return rapid.OneOf(
		rapid.Just(teamperm.ID{}),
		rapid.Map(rapid.Int64Range(-2, 2), teamperm.IntID),
		rapid.Map(rapid.Int64(), teamperm.IntID),
		rapid.Map(rapid.SampledFrom([]string{"", "7", "a", "ab", "b", "\xff"}), teamperm.StringID),
		rapid.Map(rapid.String(), teamperm.StringID),
		rapid.Map(rapid.SampledFrom(uuids), teamperm.UUIDID),
		rapid.Custom(func(t *rapid.T) teamperm.ID {
			var u [16]byte
			copy(u[:], rapid.SliceOfN(rapid.Byte(), 16, 16).Draw(t, "uuid"))
			return teamperm.UUIDID(u)
		}),
	)
}

// idKindRank is the documented order of the kinds of ID.
func idKindRank(id teamperm.ID) int {
	if id.IsZero() {
		return 0
	}
	if _, ok := id.Int(); ok {
		return 1
	}
	if _, ok := id.Str(); ok {
		return 2
	}
	return 3
}

// idSlowCompare is a reference model of ID.Compare from the documentation.
func idSlowCompare(a, b teamperm.ID) int {
	if c := idKindRank(a) - idKindRank(b); c != 0 {
		return max(-1, min(1, c))
	}
	if x, ok := a.Int(); ok {
		y, _ := b.Int()
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
	if x, ok := a.Str(); ok {
		y, _ := b.Str()
		return strings.Compare(x, y)
	}
	x, _ := a.UUID()
	y, _ := b.UUID()
	return slices.Compare(x[:], y[:])
}

func idCompareLaws(t *rapid.T) {
	g := idGen()
	a, b, c := g.Draw(t, "a"), g.Draw(t, "b"), g.Draw(t, "c")
	for _, p := range [][2]teamperm.ID{{a, b}, {b, c}, {a, c}, {a, a}} {
		x, y := p[0], p[1]
		got := x.Compare(y)
		if got != -1 && got != 0 && got != 1 {
			t.Fatalf("%v.Compare(%v) = %d, want -1, 0 or 1", x, y, got)
		}
		if want := idSlowCompare(x, y); got != want {
			t.Fatalf("%v.Compare(%v) = %d, want %d", x, y, got, want)
		}
		if got != -y.Compare(x) {
			t.Fatalf("Compare not antisymmetric for %v, %v", x, y)
		}
		if (got == 0) != (x == y) {
			t.Fatalf("%v.Compare(%v) = %d but == is %v", x, y, got, x == y)
		}
	}
	ids := []teamperm.ID{a, b, c}
	slices.SortFunc(ids, teamperm.ID.Compare)
	if ids[0].Compare(ids[1]) > 0 || ids[1].Compare(ids[2]) > 0 || ids[0].Compare(ids[2]) > 0 {
		t.Fatalf("Compare is not transitive over %v", ids)
	}
	m := map[teamperm.ID]bool{a: true}
	if m[b] != (a == b) {
		t.Fatalf("map key: m[%v] = %v, a == b is %v", b, m[b], a == b)
	}
}

func TestIDCompare(t *testing.T) {
	rapid.Check(t, idCompareLaws)
	ordered := []teamperm.ID{
		{},
		teamperm.IntID(math.MinInt64), teamperm.IntID(-1), teamperm.IntID(0), teamperm.IntID(7), teamperm.IntID(math.MaxInt64),
		teamperm.StringID(""), teamperm.StringID("7"), teamperm.StringID("a"), teamperm.StringID("ab"), teamperm.StringID("b"),
		teamperm.UUIDID([16]byte{}), teamperm.UUIDID(textUUIDBytes), teamperm.UUIDID([16]byte{0: 0xff}),
	}
	for i := range ordered {
		for j := range ordered {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := ordered[i].Compare(ordered[j]); got != want {
				t.Errorf("%v.Compare(%v) = %d, want %d", ordered[i], ordered[j], got, want)
			}
		}
	}
}

func TestIDJSONForms(t *testing.T) {
	tests := []struct {
		name string
		id   teamperm.ID
		json string
	}{
		{"zero-is-null", teamperm.ID{}, `null`},
		{"int-zero", teamperm.IntID(0), `0`},
		{"int-seven", teamperm.IntID(7), `7`},
		{"int-negative", teamperm.IntID(-42), `-42`},
		{"int-max", teamperm.IntID(math.MaxInt64), `9223372036854775807`},
		{"int-min", teamperm.IntID(math.MinInt64), `-9223372036854775808`},
		{"string-empty", teamperm.StringID(""), `""`},
		{"string-seven", teamperm.StringID("7"), `"7"`},
		{"string-escapes", teamperm.StringID("a\"b\\c\nd"), `"a\"b\\c\nd"`},
		{"string-unicode", teamperm.StringID("é日本"), `"é日本"`},
		{"uuid", teamperm.UUIDID(textUUIDBytes), `{"uuid":"` + textUUID + `"}`},
		{"uuid-nil", teamperm.UUIDID([16]byte{}), `{"uuid":"00000000-0000-0000-0000-000000000000"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.id.MarshalJSON()
			if err != nil {
				t.Fatalf("MarshalJSON: %v", err)
			}
			if diff := cmp.Diff(tc.json, string(got)); diff != "" {
				t.Errorf("MarshalJSON (-want +got):\n%s", diff)
			}
			back := teamperm.IntID(12345)
			if err := back.UnmarshalJSON([]byte(tc.json)); err != nil || back != tc.id {
				t.Errorf("UnmarshalJSON(%s) = %v, %v; want %v", tc.json, back, err, tc.id)
			}
			// Through encoding/json, as a field of a host struct.
			type host struct {
				ID teamperm.ID `json:"id"`
			}
			b, err := json.Marshal(host{tc.id})
			if want := `{"id":` + tc.json + `}`; err != nil || string(b) != want {
				t.Errorf("json.Marshal(host) = %s, %v; want %s", b, err, want)
			}
			var h host
			if err := json.Unmarshal(b, &h); err != nil || h.ID != tc.id {
				t.Errorf("json.Unmarshal(%s) = %v, %v; want %v", b, h.ID, err, tc.id)
			}
		})
	}
}

func TestIDJSONDecodeOnlyForms(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want teamperm.ID
	}{
		{"spaces", " 7 \n", teamperm.IntID(7)},
		{"seven-differs", `"7"`, teamperm.StringID("7")},
		{"uuid-upper", `{"uuid":"` + strings.ToUpper(textUUID) + `"}`, teamperm.UUIDID(textUUIDBytes)},
		{"uuid-spaced", `{ "uuid" : "` + textUUID + `" }`, teamperm.UUIDID(textUUIDBytes)},
		{"string-escaped", `"\u003cb\u003e"`, teamperm.StringID("<b>")},
		{"string-html", `"<b>"`, teamperm.StringID("<b>")},
		{"null-spaced", " null ", teamperm.ID{}},
		{"surrogate-pair", `"\ud83d\ude00"`, teamperm.StringID("\U0001F600")},
		{"surrogate-pair-upper", `"\uD83D\uDE00x"`, teamperm.StringID("\U0001F600x")},
		{"escaped-backslash-then-u", `"\\ud800"`, teamperm.StringID(`\ud800`)},
		{"replacement-char-escaped", `"\ufffd"`, teamperm.StringID("\ufffd")},
		{"replacement-char-raw", "\"\ufffd\"", teamperm.StringID("\ufffd")},
		{"replacement-and-pair", `"\ufffd\ud800\udc00"`, teamperm.StringID("\ufffd\U00010000")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got teamperm.ID
			if err := got.UnmarshalJSON([]byte(tc.in)); err != nil || got != tc.want {
				t.Errorf("UnmarshalJSON(%s) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestIDJSONStrict(t *testing.T) {
	tests := []struct {
		name string
		in   string
		msg  string // the error names this
	}{
		{name: "fraction", in: `1.0`, msg: "1.0"},
		// An integer has one spelling, the one MarshalJSON writes.
		{name: "minus-zero", in: `-0`, msg: "-0"},
		{name: "minus-zero-spaced", in: " -0 \n", msg: "-0"},
		{name: "minus-zero-fraction", in: `-0.0`, msg: "-0.0"},
		{name: "minus-zero-exponent", in: `-0e0`, msg: "-0e0"},
		{name: "zero-fraction", in: `0.0`, msg: "0.0"},
		{name: "zero-exponent", in: `0e5`, msg: "0e5"},
		{name: "double-zero", in: `00`},
		{name: "plus-zero", in: `+0`},
		{name: "minus-leading-zero", in: `-07`},
		{name: "lone-surrogate", in: `"\ud800"`, msg: `\ud800`},
		{name: "lone-low-surrogate", in: `"x\udfff"`, msg: `\udfff`},
		{name: "exponent", in: `1e3`, msg: "1e3"},
		{name: "exponent-upper", in: `1E3`, msg: "1E3"},
		{name: "overflow", in: `9223372036854775808`, msg: "9223372036854775808"},
		{name: "underflow", in: `-9223372036854775809`, msg: "-9223372036854775809"},
		{name: "uuid-key-case", in: `{"UUID":"` + textUUID + `"}`, msg: `"UUID"`},
		{name: "uuid-bad", in: `{"uuid":"bad"}`, msg: `"bad"`},
		{name: "uuid-braced", in: `{"uuid":"{` + textUUID + `}"}`, msg: textUUID},
		{name: "uuid-extra-key", in: `{"uuid":"` + textUUID + `","x":1}`},
		{name: "uuid-twice", in: `{"uuid":"` + textUUID + `","uuid":"` + textUUID + `"}`},
		{name: "uuid-empty-object", in: `{}`, msg: "id: got an empty object, want an integer"},
		{name: "uuid-empty-object-spaced", in: "{ \n}", msg: "id: got an empty object, want an integer"},
		{name: "uuid-number", in: `{"uuid":5}`, msg: "5"},
		{name: "uuid-null", in: `{"uuid":null}`, msg: "null"},
		{name: "true", in: `true`, msg: "true"},
		{name: "false", in: `false`, msg: "false"},
		{name: "array", in: `[]`, msg: "array"},
		{name: "array-one", in: `[7]`, msg: "array"},
		{name: "empty-input", in: ``},
		{name: "spaces-only", in: `  `},
		{name: "trailing-data", in: `7 8`},
		{name: "two-strings", in: `"a" "b"`},
		{name: "leading-zero", in: `07`, msg: "number 07 has a leading zero"},
		{name: "leading-zero-long", in: `0` + strings.Repeat("7", 80), msg: "number 0" + strings.Repeat("7", 63) + "... has a leading zero"},
		{name: "plus", in: `+7`},
		{name: "hex", in: `0x7`},
		{name: "single-quotes", in: `'7'`},
		{name: "invalid-utf8", in: "\"a\xffb\""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := teamperm.IntID(12345)
			err := got.UnmarshalJSON([]byte(tc.in))
			if err == nil {
				t.Fatalf("UnmarshalJSON(%s) = %v, want an error", tc.in, got)
			}
			if got != teamperm.IntID(12345) {
				t.Errorf("UnmarshalJSON(%s) failed but changed the id to %v", tc.in, got)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("UnmarshalJSON(%s) error %q does not name %s", tc.in, err, tc.msg)
			}
			if !errors.Is(err, teamperm.ErrInvalidID) {
				t.Errorf("UnmarshalJSON(%s) error = %v, want one wrapping %v", tc.in, err, teamperm.ErrInvalidID)
			}
		})
	}
}

func TestIDMarshalJSONInvalidUTF8(t *testing.T) {
	id := teamperm.StringID("a\xffb")
	if b, err := id.MarshalJSON(); !errors.Is(err, teamperm.ErrInvalidID) {
		t.Errorf("MarshalJSON(%v) = %s, %v; want error wrapping %v", id, b, err, teamperm.ErrInvalidID)
	}
	if _, err := json.Marshal(id); !errors.Is(err, teamperm.ErrInvalidID) {
		t.Errorf("json.Marshal(%v) error = %v, want %v", id, err, teamperm.ErrInvalidID)
	}
}

// idJSONRoundTrip: every ID that can be written decodes back to itself, and
// writing it again gives the same bytes.
func idJSONRoundTrip(t *rapid.T) {
	id := idGen().Draw(t, "id")
	b, err := id.MarshalJSON()
	if s, ok := id.Str(); ok && !utf8.ValidString(s) {
		if !errors.Is(err, teamperm.ErrInvalidID) {
			t.Fatalf("MarshalJSON(%v) = %s, %v; want ErrInvalidID", id, b, err)
		}
		return
	}
	if err != nil {
		t.Fatalf("MarshalJSON(%v): %v", id, err)
	}
	var back teamperm.ID
	if err := back.UnmarshalJSON(b); err != nil || back != id {
		t.Fatalf("UnmarshalJSON(%s) = %v, %v; want %v", b, back, err, id)
	}
	b2, err := back.MarshalJSON()
	if err != nil || string(b2) != string(b) {
		t.Fatalf("MarshalJSON again = %s, %v; want %s", b2, err, b)
	}
}

func TestIDJSONRoundTrip(t *testing.T) {
	rapid.Check(t, idJSONRoundTrip)
}
