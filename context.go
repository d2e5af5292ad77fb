package teamperm

import "context"

type contextKey struct{}

// NewContext returns a copy of ctx that carries m, for middleware that
// compiles (or looks up) the member of a request once.
func NewContext(ctx context.Context, m *Member) context.Context {
	return context.WithValue(ctx, contextKey{}, m)
}

// FromContext returns the member that [NewContext] put into ctx, and
// whether there was one. When there was none it returns nil, false; since a
// nil *Member denies everything, a handler that ignores the bool still
// fails closed.
func FromContext(ctx context.Context) (*Member, bool) {
	m, ok := ctx.Value(contextKey{}).(*Member)
	return m, ok && m != nil
}
