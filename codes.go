package teamperm

import (
	"errors"
	"iter"
	"strconv"
	"strings"
)

// A Code is the stable, machine-readable name of an error of this package,
// for a frontend or an API client to act on: the human message (the
// error's Error) is for people and logs and may be reworded; a code is
// never renamed or reused. [ErrorCode] returns the code of any error this
// package returns; [Codes] lists them all.
//
// Code is a string; its zero value "" means "no error of this package".
// Codes are comparable with == and usable as map keys.
//
// Every code, the sentinel the error wraps ([errors.Is] keeps working) and
// the HTTP status the subpackage teamhttp answers with:
//
//	code                      wraps                 HTTP  meaning
//	not_found                 ErrNotFound           404   the record is hidden or does not exist (R8)
//	forbidden                 ErrForbidden          403   the member sees the record but lacks the permission
//	stale_member              ErrStaleMember        409   the actor was compiled for another organisation state: compile again, retry
//	upgrade_required          ErrUpgradeRequired    402   a fine-grained edit on a plan without FineGrained (message: UpgradeMessage)
//	edit_not_allowed          ErrEditNotAllowed     403   an edit refusal not named below
//	edit_no_actor             ErrEditNotAllowed     403   no acting member (nil, zero)
//	edit_invalid_organization ErrEditNotAllowed     403   the organisation's ID is zero or unset
//	edit_other_organization   ErrEditNotAllowed     403   the actor belongs to another organisation
//	edit_not_editor           ErrEditNotAllowed     403   the actor is not an Owner or Admin
//	edit_self                 ErrEditNotAllowed     403   the actor edits their own permissions
//	edit_owner                ErrEditNotAllowed     403   the target is an Owner, who cannot be edited
//	edit_admin                ErrEditNotAllowed     403   an Admin edits an Admin; only Owners do
//	edit_role_not_allowed     ErrEditNotAllowed     403   an Admin makes someone an Admin or Owner; only Owners do
//	edit_escalation           ErrEditNotAllowed     403   the target would gain access the actor does not hold (R16)
//	no_edits                  ErrInvalidSettings    400   a batch with no edit
//	invalid_json              ErrInvalidSettings    400   malformed JSON, a value of the wrong type, a duplicate key, trailing data, invalid UTF-8
//	unknown_field             ErrInvalidSettings    400   a key the object does not take (for an edit: a key its op does not take)
//	missing_field             ErrInvalidSettings    400   a required key is missing
//	unknown_op                ErrInvalidSettings    400   an edit's "op" is not one of the eight operations
//	duplicate_id              ErrInvalidSettings    400   an ID listed twice
//	invalid_settings          ErrInvalidSettings    400   other invalid settings or edits
//	unknown_permission        ErrUnknownPermission  400   a permission name that is not one of the 17
//	unknown_role              ErrUnknownRole        400   a role that is not owner, admin or member
//	unknown_plan              ErrUnknownPlan        400   a plan that is not free, starter or pro
//	unknown_kind              ErrUnknownKind        400   a record kind that is not one of the eight
//	invalid_id                ErrInvalidID          400   a malformed, null or unset ID
//	invalid_mapping           ErrInvalidMapping     500   the host's Mapping cannot render a scope (a host bug)
//
// The errors of [ParseEdits] and the refusals of [ApplyEdits] and [CanEdit]
// are an [*Error] carrying the code and, where one value is at fault, its
// place in the edits body ([Error.Field]). Other errors of this package
// (settings decoding, Compile, scopes) are coded by the sentinel they wrap.
type Code string

// The codes, in the order of the table above.
const (
	CodeNotFound                Code = "not_found"
	CodeForbidden               Code = "forbidden"
	CodeStaleMember             Code = "stale_member"
	CodeUpgradeRequired         Code = "upgrade_required"
	CodeEditNotAllowed          Code = "edit_not_allowed"
	CodeEditNoActor             Code = "edit_no_actor"
	CodeEditInvalidOrganization Code = "edit_invalid_organization"
	CodeEditOtherOrganization   Code = "edit_other_organization"
	CodeEditNotEditor           Code = "edit_not_editor"
	CodeEditSelf                Code = "edit_self"
	CodeEditOwner               Code = "edit_owner"
	CodeEditAdmin               Code = "edit_admin"
	CodeEditRoleNotAllowed      Code = "edit_role_not_allowed"
	CodeEditEscalation          Code = "edit_escalation"
	CodeNoEdits                 Code = "no_edits"
	CodeInvalidJSON             Code = "invalid_json"
	CodeUnknownField            Code = "unknown_field"
	CodeMissingField            Code = "missing_field"
	CodeUnknownOp               Code = "unknown_op"
	CodeDuplicateID             Code = "duplicate_id"
	CodeInvalidSettings         Code = "invalid_settings"
	CodeUnknownPermission       Code = "unknown_permission"
	CodeUnknownRole             Code = "unknown_role"
	CodeUnknownPlan             Code = "unknown_plan"
	CodeUnknownKind             Code = "unknown_kind"
	CodeInvalidID               Code = "invalid_id"
	CodeInvalidMapping          Code = "invalid_mapping"
)

// allCodes lists every code with the sentinel its errors wrap, in the
// order of the table in the [Code] doc.
var allCodes = [...]struct {
	code     Code
	sentinel error
}{
	{CodeNotFound, ErrNotFound},
	{CodeForbidden, ErrForbidden},
	{CodeStaleMember, ErrStaleMember},
	{CodeUpgradeRequired, ErrUpgradeRequired},
	{CodeEditNotAllowed, ErrEditNotAllowed},
	{CodeEditNoActor, ErrEditNotAllowed},
	{CodeEditInvalidOrganization, ErrEditNotAllowed},
	{CodeEditOtherOrganization, ErrEditNotAllowed},
	{CodeEditNotEditor, ErrEditNotAllowed},
	{CodeEditSelf, ErrEditNotAllowed},
	{CodeEditOwner, ErrEditNotAllowed},
	{CodeEditAdmin, ErrEditNotAllowed},
	{CodeEditRoleNotAllowed, ErrEditNotAllowed},
	{CodeEditEscalation, ErrEditNotAllowed},
	{CodeNoEdits, ErrInvalidSettings},
	{CodeInvalidJSON, ErrInvalidSettings},
	{CodeUnknownField, ErrInvalidSettings},
	{CodeMissingField, ErrInvalidSettings},
	{CodeUnknownOp, ErrInvalidSettings},
	{CodeDuplicateID, ErrInvalidSettings},
	{CodeInvalidSettings, ErrInvalidSettings},
	{CodeUnknownPermission, ErrUnknownPermission},
	{CodeUnknownRole, ErrUnknownRole},
	{CodeUnknownPlan, ErrUnknownPlan},
	{CodeUnknownKind, ErrUnknownKind},
	{CodeInvalidID, ErrInvalidID},
	{CodeInvalidMapping, ErrInvalidMapping},
}

// bySentinel codes an error that carries no [*Error] by the most specific
// sentinel it wraps: a bad permission name inside settings is
// unknown_permission before it is invalid_settings.
var bySentinel = [...]struct {
	sentinel error
	code     Code
}{
	{ErrNotFound, CodeNotFound},
	{ErrForbidden, CodeForbidden},
	{ErrStaleMember, CodeStaleMember},
	{ErrUpgradeRequired, CodeUpgradeRequired},
	{ErrEditNotAllowed, CodeEditNotAllowed},
	{ErrUnknownPermission, CodeUnknownPermission},
	{ErrUnknownRole, CodeUnknownRole},
	{ErrUnknownPlan, CodeUnknownPlan},
	{ErrUnknownKind, CodeUnknownKind},
	{ErrInvalidID, CodeInvalidID},
	{ErrInvalidMapping, CodeInvalidMapping},
	{ErrInvalidSettings, CodeInvalidSettings},
}

// Codes returns every [Code], in the order of the table in its doc.
func Codes() iter.Seq[Code] {
	return func(yield func(Code) bool) {
		for _, c := range allCodes {
			if !yield(c.code) {
				return
			}
		}
	}
}

// Sentinel returns the sentinel error that errors with code c wrap, such
// as [ErrEditNotAllowed] for [CodeEditSelf], or nil for a code this
// package does not define.
func (c Code) Sentinel() error {
	for _, e := range allCodes {
		if e.code == c {
			return e.sentinel
		}
	}
	return nil
}

// ErrorCode returns the stable code of err: the code of the first
// [*Error] in its chain, else that of the most specific sentinel of this
// package it wraps. It returns "" for nil and for an error that wraps no
// error of this package (a database error, say), which a host answers
// with 500. ErrorCode does not allocate.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	if e, ok := asError(err); ok {
		return e.Code
	}
	for _, s := range bySentinel {
		if errors.Is(err, s.sentinel) {
			return s.code
		}
	}
	return ""
}

// asError is errors.As for *Error, without the reflection.
func asError(err error) (*Error, bool) {
	for err != nil {
		switch x := err.(type) {
		case *Error:
			if x == nil { // a typed nil: no code, and nothing under it
				return nil, false
			}
			if x.Code != "" {
				return x, true
			}
			err = x.Err
		case interface{ Unwrap() error }:
			err = x.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range x.Unwrap() {
				if found, ok := asError(e); ok {
					return found, true
				}
			}
			return nil, false
		default:
			return nil, false
		}
	}
	return nil, false
}

// An Error is an error of this package with a stable [Code] and, where
// one value of a request body is at fault, its place. [ParseEdits],
// [ApplyEdits] and [CanEdit] return one; use [errors.As] to get it, or
// [ErrorCode] for the code alone. Err carries the human message and wraps
// the sentinels, so [errors.Is] works through an Error as before.
//
// The zero Error has no code and no message. An Error is not modified
// after it is returned; it is safe for concurrent reads.
type Error struct {
	// Code is the stable machine-readable name of the error.
	Code Code
	// Field is a JSON Pointer (RFC 6901) into the edits body of the value
	// at fault: "/2/permission" for the permission of the third edit, "/2"
	// for the third edit as a whole (ApplyEdits: the edit refused). It is
	// "" when the error is about the request as a whole.
	Field string
	// Err is the underlying error: its message is Error's.
	Err error
}

// Error returns the underlying error's message. A nil *Error (a typed nil
// returned as an error) reads "teamperm: <nil>" and carries no code.
func (e *Error) Error() string {
	if e == nil {
		return "teamperm: <nil>"
	}
	if e.Err == nil {
		return "teamperm: " + string(e.Code)
	}
	return e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error {
	if e == nil {
		return nil
	}
	return e.Err
}

// coded wraps err with its code and the JSON Pointer of the value at
// fault; the message stays err's.
func coded(code Code, field string, err error) *Error {
	return &Error{Code: code, Field: field, Err: err}
}

// pointer returns the JSON Pointer (RFC 6901) of element i of the edits
// body, and of its key when key is not empty.
func pointer(i int, key string) string {
	p := "/" + strconv.Itoa(i)
	if key == "" {
		return p
	}
	return p + "/" + pointerEscaper.Replace(key)
}

var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")
