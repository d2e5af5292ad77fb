package recipes

import (
	"context"

	"gorm.io/gorm"

	"github.com/teamperm/teamperm"
)

// ListGorm lists with gorm, which numbers PostgreSQL's placeholders
// itself: the scope is rendered with ? placeholders
// ([teamperm.Dialect.QuestionMarks]) and handed over as a condition. The
// array parameter of a large set is one string, so gorm does not expand
// it.
func ListGorm(ctx context.Context, db *gorm.DB, dialect teamperm.Dialect, agent *teamperm.Member) ([]Conversation, error) {
	scope := agent.Scope(teamperm.KindConversation)
	if scope.IsNone() {
		return nil, nil
	}
	where, args, err := scope.SQL(dialect.QuestionMarks(), conversations)
	if err != nil {
		return nil, err
	}
	var out []Conversation
	err = db.WithContext(ctx).Table("conversations c").Select("c.id", "c.subject").
		Where("c.archived = ?", false).
		Where(where, args...).
		Find(&out).Error
	return out, err
}
