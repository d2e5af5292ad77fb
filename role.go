package teamperm

import "fmt"

// A Role is a team member's role: [RoleOwner], [RoleAdmin] or [RoleMember]
// (R1). The zero value is no role: it grants nothing, is rejected by
// [Compile], and does not marshal. Values are comparable and safe as map
// keys; the text form is "owner", "admin" or "member".
type Role uint8

// The three roles.
const (
	// RoleOwner has every permission and cannot be restricted (R5).
	RoleOwner Role = iota + 1
	// RoleAdmin has every permission by default; on a plan with
	// fine-grained permissions it takes overrides, instance restrictions
	// and only-assigned-chats.
	RoleAdmin
	// RoleMember has the seed's member defaults and takes every kind of
	// stored setting.
	RoleMember

	numRoles = iota + 1
)

var roleNames = [numRoles]string{"none", "owner", "admin", "member"}

// memberDefaults is the seed's "Member" column of the Role defaults table.
var memberDefaults = PermissionSetOf(
	ContactView, ContactCreate, ContactUpdate, ContactImport,
	ChatView, ChatSend,
	InstanceView, WebhookView, CampaignView, WorkflowView,
)

// ParseRole returns the role named s ("owner", "admin" or "member"). The
// match is exact; anything else is an error wrapping [ErrUnknownRole].
func ParseRole(s string) (Role, error) {
	v, ok := enumParse(roleNames[:], s)
	if !ok {
		return 0, fmt.Errorf("teamperm: role %s: %w", quote(s), ErrUnknownRole)
	}
	return Role(v), nil
}

// MustParseRole is like [ParseRole] but panics on error. Use it only in
// tests and package-level literals.
func MustParseRole(s string) Role {
	r, err := ParseRole(s)
	if err != nil {
		panic(err)
	}
	return r
}

// IsValid reports whether r is Owner, Admin or Member.
func (r Role) IsValid() bool { return r > 0 && r < numRoles }

// String returns the name of r; the zero value prints as "none" and an
// out-of-range value as "Role(9)".
func (r Role) String() string { return enumString(roleNames[:], "Role", uint8(r)) }

// Defaults returns the permissions r has by default (R2): all of them for
// Owner and Admin, the seed's table for Member, none for an invalid role.
func (r Role) Defaults() PermissionSet {
	switch r {
	case RoleOwner, RoleAdmin:
		return AllPermissions()
	case RoleMember:
		return memberDefaults
	}
	return PermissionSet{}
}

// AppendText appends the name of r to b; it fails for an invalid role.
func (r Role) AppendText(b []byte) ([]byte, error) {
	if !r.IsValid() {
		return b, fmt.Errorf("teamperm: role %s: %w", r, ErrUnknownRole)
	}
	return append(b, roleNames[r]...), nil
}

// MarshalText implements [encoding.TextMarshaler].
func (r Role) MarshalText() ([]byte, error) { return r.AppendText(nil) }

// UnmarshalText implements [encoding.TextUnmarshaler] with [ParseRole].
func (r *Role) UnmarshalText(text []byte) error {
	v, err := ParseRole(string(text))
	if err != nil {
		return err
	}
	*r = v
	return nil
}
