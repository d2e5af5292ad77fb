package teamperm

import (
	"fmt"
	"iter"
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A Permission is one of the 17 permissions of the seed's permission page
// (R3), for example [ContactExport]. Permissions are ordered as on that page:
// by category (Contacts, Chat, Instances, Webhooks, Campaigns, Workflows),
// then as listed within the category.
//
// The zero value is no permission: it is not valid, is never granted, and
// does not marshal. Values are comparable with == and safe as map keys.
// The text form is the stable name, such as "contact.export"; MarshalText,
// AppendText and UnmarshalText agree byte for byte, and ParsePermission is
// exact (no case folding, no trimming).
type Permission uint8

// The 17 permissions, in the seed's order.
const (
	ContactView    Permission = iota + 1 // See contact list and details
	ContactCreate                        // Add new contacts
	ContactUpdate                        // Edit contact information
	ContactDelete                        // Remove contacts
	ContactExport                        // Download contact data
	ContactImport                        // Upload contacts from files
	ChatView                             // See conversations and messages
	ChatSend                             // Send messages to contacts
	ChatAssign                           // Assign conversations to team members
	InstanceView                         // See WhatsApp connection status
	InstanceManage                       // Change instance settings
	WebhookView                          // See webhook configurations
	WebhookManage                        // Create and edit webhooks
	CampaignView                         // See campaign list and analytics
	CampaignManage                       // Create and edit campaigns
	WorkflowView                         // See automation workflows
	WorkflowManage                       // Create and edit workflows

	numPermissions = iota + 1 // 17 permissions plus the zero value
)

var permissionNames = [numPermissions]string{
	"none",
	"contact.view", "contact.create", "contact.update", "contact.delete", "contact.export", "contact.import",
	"chat.view", "chat.send", "chat.assign",
	"instance.view", "instance.manage",
	"webhook.view", "webhook.manage",
	"campaign.view", "campaign.manage",
	"workflow.view", "workflow.manage",
}

type permissionInfo struct {
	category    Category
	label       string // the seed's column label: "View", "Create", ...
	description string // the seed's description
}

var permissionInfos = [numPermissions]permissionInfo{
	{},
	{Contacts, "View", "See contact list and details"},
	{Contacts, "Create", "Add new contacts"},
	{Contacts, "Update", "Edit contact information"},
	{Contacts, "Delete", "Remove contacts"},
	{Contacts, "Export", "Download contact data"},
	{Contacts, "Import", "Upload contacts from files"},
	{Chat, "View", "See conversations and messages"},
	{Chat, "Send", "Send messages to contacts"},
	{Chat, "Assign", "Assign conversations to team members"},
	{Instances, "View", "See WhatsApp connection status"},
	{Instances, "Manage", "Change instance settings"},
	{Webhooks, "View", "See webhook configurations"},
	{Webhooks, "Manage", "Create and edit webhooks"},
	{Campaigns, "View", "See campaign list and analytics"},
	{Campaigns, "Manage", "Create and edit campaigns"},
	{Workflows, "View", "See automation workflows"},
	{Workflows, "Manage", "Create and edit workflows"},
}

// ParsePermission returns the permission named s, such as "contact.export".
// The match is exact: a differently cased or padded name is an error that
// wraps [ErrUnknownPermission] and quotes s.
func ParsePermission(s string) (Permission, error) {
	p, ok := permissionFromName(s)
	if !ok {
		return 0, fmt.Errorf("teamperm: permission %s: %w", quote(s), ErrUnknownPermission)
	}
	return p, nil
}

// permissionFromName is ParsePermission without the error, for text in
// either form. A switch (a binary search the compiler writes) is about
// four times faster than scanning permissionNames, and ParsePermission is
// on the request path of a host that receives permissions by name;
// TestPermissionFromName checks that it agrees with permissionNames.
func permissionFromName[T string | []byte](s T) (Permission, bool) {
	switch string(s) {
	case "contact.view":
		return ContactView, true
	case "contact.create":
		return ContactCreate, true
	case "contact.update":
		return ContactUpdate, true
	case "contact.delete":
		return ContactDelete, true
	case "contact.export":
		return ContactExport, true
	case "contact.import":
		return ContactImport, true
	case "chat.view":
		return ChatView, true
	case "chat.send":
		return ChatSend, true
	case "chat.assign":
		return ChatAssign, true
	case "instance.view":
		return InstanceView, true
	case "instance.manage":
		return InstanceManage, true
	case "webhook.view":
		return WebhookView, true
	case "webhook.manage":
		return WebhookManage, true
	case "campaign.view":
		return CampaignView, true
	case "campaign.manage":
		return CampaignManage, true
	case "workflow.view":
		return WorkflowView, true
	case "workflow.manage":
		return WorkflowManage, true
	}
	return 0, false
}

// MustParsePermission is like [ParsePermission] but panics on error. Use it
// only in tests and package-level literals.
func MustParsePermission(s string) Permission {
	p, err := ParsePermission(s)
	if err != nil {
		panic(err)
	}
	return p
}

// Permissions returns the 17 permissions in the seed's order.
func Permissions() iter.Seq[Permission] {
	return func(yield func(Permission) bool) {
		for p := Permission(1); p < numPermissions; p++ {
			if !yield(p) {
				return
			}
		}
	}
}

// IsValid reports whether p is one of the 17 permissions.
func (p Permission) IsValid() bool { return p > 0 && p < numPermissions }

// String returns the stable name of p ("contact.export"); the zero value
// prints as "none" and an out-of-range value as "Permission(42)".
func (p Permission) String() string {
	return enumString(permissionNames[:], "Permission", uint8(p))
}

// Category returns the category p belongs to, or the zero Category when p
// is not valid.
func (p Permission) Category() Category {
	if !p.IsValid() {
		return 0
	}
	return permissionInfos[p].category
}

// Label returns the seed's short label of p within its category, such as
// "Export"; "" when p is not valid.
func (p Permission) Label() string {
	if !p.IsValid() {
		return ""
	}
	return permissionInfos[p].label
}

// Description returns the seed's description of p, such as "Download
// contact data"; "" when p is not valid.
func (p Permission) Description() string {
	if !p.IsValid() {
		return ""
	}
	return permissionInfos[p].description
}

// AppendText appends the name of p to b. It fails for a permission that is
// not valid, so an invalid value is never stored.
func (p Permission) AppendText(b []byte) ([]byte, error) {
	if !p.IsValid() {
		return b, fmt.Errorf("teamperm: permission %s: %w", p, ErrUnknownPermission)
	}
	return append(b, permissionNames[p]...), nil
}

// MarshalText implements [encoding.TextMarshaler] with the name of p.
func (p Permission) MarshalText() ([]byte, error) { return p.AppendText(nil) }

// UnmarshalText implements [encoding.TextUnmarshaler] with [ParsePermission].
func (p *Permission) UnmarshalText(text []byte) error {
	v, err := ParsePermission(string(text))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// A Category groups permissions as the seed's permission page does. The zero
// value is no category.
type Category uint8

// The six categories, in the seed's order.
const (
	Contacts Category = iota + 1
	Chat
	Instances
	Webhooks
	Campaigns
	Workflows

	numCategories = iota + 1
)

var categoryNames = [numCategories]string{"none", "contact", "chat", "instance", "webhook", "campaign", "workflow"}

var categoryTitles = [numCategories]string{"", "Contacts", "Chat", "Instances", "Webhooks", "Campaigns", "Workflows"}

// Categories returns the six categories in the seed's order.
func Categories() iter.Seq[Category] {
	return func(yield func(Category) bool) {
		for c := Category(1); c < numCategories; c++ {
			if !yield(c) {
				return
			}
		}
	}
}

// String returns the category's name, the prefix of its permission names
// ("contact", "chat", ...).
func (c Category) String() string { return enumString(categoryNames[:], "Category", uint8(c)) }

// Title returns the seed's heading for c ("Contacts", "Chat", ...), or ""
// for an invalid category.
func (c Category) Title() string {
	if c == 0 || c >= numCategories {
		return ""
	}
	return categoryTitles[c]
}

// Permissions returns the permissions of c in the seed's order.
func (c Category) Permissions() iter.Seq[Permission] {
	return func(yield func(Permission) bool) {
		for p := range Permissions() {
			if p.Category() == c && !yield(p) {
				return
			}
		}
	}
}

// A PermissionSet is a set of permissions. It is a small value (a bitset):
// comparable with ==, usable as a map key, and immutable; With, Without,
// Union and the other operations return a new set and never allocate. The
// zero value is the empty set.
//
// In JSON a set is an array of permission names in the seed's order;
// decoding is strict (see [PermissionSet.UnmarshalJSON]).
type PermissionSet struct {
	bits uint32
}

// allBits has a bit for every valid permission.
const allBits = uint32(1)<<numPermissions - 2

// PermissionSetOf returns the set of the given permissions. It panics if one
// of them is not valid: it is meant for literals. Build sets from untrusted
// names with [ParsePermission] and [PermissionSet.With].
func PermissionSetOf(ps ...Permission) PermissionSet {
	var s PermissionSet
	for _, p := range ps {
		if !p.IsValid() {
			panic(fmt.Sprintf("teamperm: PermissionSetOf(%s): %v", p, ErrUnknownPermission))
		}
		s.bits |= 1 << p
	}
	return s
}

// AllPermissions returns the set of all 17 permissions.
func AllPermissions() PermissionSet { return PermissionSet{allBits} }

// Has reports whether p is in s. It is false for an invalid permission.
func (s PermissionSet) Has(p Permission) bool {
	return p < 32 && s.bits&(1<<p) != 0
}

// With returns s with p added. An invalid p leaves s unchanged, since it
// can never be checked.
func (s PermissionSet) With(p Permission) PermissionSet {
	if p.IsValid() {
		s.bits |= 1 << p
	}
	return s
}

// Without returns s with p removed.
func (s PermissionSet) Without(p Permission) PermissionSet {
	if p < 32 {
		s.bits &^= 1 << p
	}
	return s
}

// Union returns the permissions in s or t.
func (s PermissionSet) Union(t PermissionSet) PermissionSet { return PermissionSet{s.bits | t.bits} }

// Intersect returns the permissions in both s and t.
func (s PermissionSet) Intersect(t PermissionSet) PermissionSet {
	return PermissionSet{s.bits & t.bits}
}

// Difference returns the permissions in s and not in t.
func (s PermissionSet) Difference(t PermissionSet) PermissionSet {
	return PermissionSet{s.bits &^ t.bits}
}

// first returns the lowest permission of s; zero for the empty set.
func (s PermissionSet) first() Permission {
	if s.bits == 0 {
		return 0
	}
	return Permission(bits.TrailingZeros32(s.bits))
}

// IsEmpty reports whether s has no permission.
func (s PermissionSet) IsEmpty() bool { return s.bits == 0 }

// Len returns the number of permissions in s.
func (s PermissionSet) Len() int { return bits.OnesCount32(s.bits) }

// All returns the permissions of s in the seed's order.
func (s PermissionSet) All() iter.Seq[Permission] {
	return func(yield func(Permission) bool) {
		for b := s.bits; b != 0; b &= b - 1 {
			if !yield(Permission(bits.TrailingZeros32(b))) {
				return
			}
		}
	}
}

// String returns the names of s in the seed's order, as "[contact.view
// chat.view]".
func (s PermissionSet) String() string {
	var sb strings.Builder
	sb.WriteByte('[')
	for p := range s.All() {
		if sb.Len() > 1 {
			sb.WriteByte(' ')
		}
		sb.WriteString(permissionNames[p])
	}
	sb.WriteByte(']')
	return sb.String()
}

// MarshalJSON encodes s as an array of permission names in the seed's order;
// the empty set is [].
func (s PermissionSet) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 16*s.Len()+2)
	b = append(b, '[')
	for p := range s.All() {
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, permissionNames[p]...)
		b = append(b, '"')
	}
	return append(b, ']'), nil
}

// UnmarshalJSON decodes an array of permission names. It is strict: null,
// a value that is not an array of strings, an unknown name or a name given
// twice is an error that names the value, and s is left unchanged.
func (s *PermissionSet) UnmarshalJSON(data []byte) error {
	var d jsonDecoder
	d.start(data, ErrInvalidSettings)
	t, err := d.permissions("permission set " + quote(data))
	if err == nil {
		err = d.finish()
	}
	if err != nil {
		return err
	}
	*s = t
	return nil
}

// maxEcho is the most of its input an error message echoes: a value or
// key of a megabyte is named by its first 64 bytes.
const maxEcho = 64

// clip shortens text for an error message to maxEcho bytes, cut before
// a character that would not fit (never more than 3 bytes back, so bytes
// that are not UTF-8 are cut at 61 bytes or more) and marked with "...".
func clip[T ~string | ~[]byte](text T) string {
	if len(text) <= maxEcho {
		return string(text)
	}
	n := maxEcho
	for n > maxEcho-utf8.UTFMax+1 && !utf8.RuneStart(text[n]) {
		n--
	}
	return string(text[:n]) + "..."
}

// quote is clip in Go's quotes (strconv.Quote): how an error message
// echoes input.
func quote[T ~string | ~[]byte](text T) string { return strconv.Quote(clip(text)) }
