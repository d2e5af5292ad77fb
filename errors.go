package teamperm

import "errors"

// Sentinel errors. Errors returned by this package wrap one of these with
// context (the offending value, the field), so callers test them with
// [errors.Is], never by comparing strings. [ErrorCode] names each error
// with a stable code for clients (the table is at [Code]).
var (
	// ErrForbidden is wrapped by [Decision.Err] when the member can see the
	// record (or no record was involved) but lacks the permission. HTTP
	// handlers usually answer 403.
	ErrForbidden = errors.New("forbidden")

	// ErrNotFound is wrapped by [Decision.Err] when the member cannot see the
	// record. Hidden records must read as absent (R8), so HTTP handlers
	// answer 404, exactly as for a record that does not exist.
	ErrNotFound = errors.New("not found")

	// ErrUnknownPermission reports a permission name or value that is not
	// one of the 17 permissions.
	ErrUnknownPermission = errors.New("unknown permission")

	// ErrUnknownRole reports a role name or value that is not Owner, Admin
	// or Member (the zero role included, where a role is required).
	ErrUnknownRole = errors.New("unknown role")

	// ErrUnknownPlan reports a plan name or value that is not Free, Starter
	// or Pro.
	ErrUnknownPlan = errors.New("unknown plan")

	// ErrUnknownKind reports a record kind name or value that is not one of
	// the eight record kinds.
	ErrUnknownKind = errors.New("unknown kind")

	// ErrInvalidID reports a malformed or missing identifier.
	ErrInvalidID = errors.New("invalid id")

	// ErrInvalidSettings reports stored member settings that cannot be
	// decoded or compiled: an unknown field, a duplicate key or value, a
	// value of the wrong type, an unsupported version.
	ErrInvalidSettings = errors.New("invalid settings")
)

// ErrStaleMember reports a compiled [Member] used with an organisation
// state (features, revision) other than the one it was compiled for, for
// example an actor compiled before a plan change: compile it again from the
// current [Organization] and retry. HTTP: 409, or retry transparently.
// A [Cache] returns it too when its [Loader] has only a state older than
// the revisions a request asked for ([Cache.MemberAtLeast]), or one that
// changed without a new revision.
var ErrStaleMember = errors.New("member compiled for another organization state")

// ErrInvalidMapping reports a [Mapping] that cannot render a scope: a
// field the scope needs without a column, a column name that is not a
// plain identifier, a key kind that does not match the values, no tenant
// condition.
var ErrInvalidMapping = errors.New("invalid mapping")
