package teamperm

import (
	"fmt"
	"iter"
)

// A Kind is a kind of record a member may see: contacts, conversations,
// messages, instances, campaigns, webhooks, workflows and deals. The zero
// value is no kind; nothing of it is visible. Values are comparable and
// safe as map keys; the text form is the singular name ("conversation").
type Kind uint8

// The record kinds.
const (
	KindContact      Kind = iota + 1 // a contact of an instance
	KindConversation                 // a chat with a contact, on an instance
	KindMessage                      // a message of a conversation
	KindInstance                     // a WhatsApp number (connection)
	KindCampaign                     // a campaign, sent from an instance
	KindWebhook                      // a webhook configuration of an instance
	KindWorkflow                     // an automation workflow
	KindDeal                         // a CRM deal in a pipeline

	numKinds = iota + 1
)

var kindNames = [numKinds]string{"none", "contact", "conversation", "message", "instance", "campaign", "webhook", "workflow", "deal"}

// viewPermissions is R13: the permission needed to see any record of a
// kind. Deals need none beyond membership.
var viewPermissions = [numKinds]Permission{
	KindContact:      ContactView,
	KindConversation: ChatView,
	KindMessage:      ChatView,
	KindInstance:     InstanceView,
	KindCampaign:     CampaignView,
	KindWebhook:      WebhookView,
	KindWorkflow:     WorkflowView,
}

// Kinds returns the eight record kinds.
func Kinds() iter.Seq[Kind] {
	return func(yield func(Kind) bool) {
		for k := Kind(1); k < numKinds; k++ {
			if !yield(k) {
				return
			}
		}
	}
}

// ParseKind returns the kind named s ("contact", "conversation", ...). The
// match is exact; anything else is an error wrapping [ErrUnknownKind].
func ParseKind(s string) (Kind, error) {
	v, ok := enumParse(kindNames[:], s)
	if !ok {
		return 0, fmt.Errorf("teamperm: kind %s: %w", quote(s), ErrUnknownKind)
	}
	return Kind(v), nil
}

// MustParseKind is like [ParseKind] but panics on error. Use it only in
// tests and package-level literals.
func MustParseKind(s string) Kind {
	k, err := ParseKind(s)
	if err != nil {
		panic(err)
	}
	return k
}

// IsValid reports whether k is one of the eight kinds.
func (k Kind) IsValid() bool { return k > 0 && k < numKinds }

// String returns the name of k; the zero value prints as "none" and an
// out-of-range value as "Kind(12)".
func (k Kind) String() string { return enumString(kindNames[:], "Kind", uint8(k)) }

// ViewPermission returns the permission needed to see records of k (R13),
// and false for deals, which need none, and for an invalid kind.
func (k Kind) ViewPermission() (Permission, bool) {
	if !k.IsValid() || viewPermissions[k] == 0 {
		return 0, false
	}
	return viewPermissions[k], true
}

// IsInstanceBound reports whether records of k belong to a WhatsApp
// instance, so that instance access restricts them (R7): contacts,
// conversations, messages, instances, campaigns and webhooks.
func (k Kind) IsInstanceBound() bool {
	switch k {
	case KindContact, KindConversation, KindMessage, KindInstance, KindCampaign, KindWebhook:
		return true
	}
	return false
}

// AppendText appends the name of k to b; it fails for an invalid kind.
func (k Kind) AppendText(b []byte) ([]byte, error) {
	if !k.IsValid() {
		return b, fmt.Errorf("teamperm: kind %s: %w", k, ErrUnknownKind)
	}
	return append(b, kindNames[k]...), nil
}

// MarshalText implements [encoding.TextMarshaler].
func (k Kind) MarshalText() ([]byte, error) { return k.AppendText(nil) }

// UnmarshalText implements [encoding.TextUnmarshaler] with [ParseKind].
func (k *Kind) UnmarshalText(text []byte) error {
	v, err := ParseKind(string(text))
	if err != nil {
		return err
	}
	*k = v
	return nil
}
