// Package schema is the ent schema of the recipes: the conversations
// table of the other recipes, as an ent entity.
package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
)

// Conversation is a row of the host's conversations table: the table
// the other recipes query, with ent's default name "conversations".
type Conversation struct {
	ent.Schema
}

// Fields of the Conversation. A conversation of no instance or no
// assignee has NULL there.
func (Conversation) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("id"),
		field.Int64("org_id"),
		field.Int64("instance_id").Optional().Nillable(),
		field.Int64("assignee_id").Optional().Nillable(),
		field.String("subject"),
		field.Bool("archived").Default(false),
	}
}
