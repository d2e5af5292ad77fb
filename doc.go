// Package teamperm decides what each member of a team may do, and which
// records each member may see, in a team-based SaaS: a shared WhatsApp
// inbox and CRM is the model case.
//
// The model is a permission page that such products ship: three roles
// ([RoleOwner], [RoleAdmin], [RoleMember]) with default permissions,
// 17 [Permission] values in six categories, and, on a plan with
// fine-grained permissions ([FineGrained], the Pro plan), per-member
// [Settings]: overrides that grant or deny single permissions, access to
// specific WhatsApp instances only, "only view assigned chats", "only view
// created deals" and pipeline assignments.
//
// A host stores each member's [Settings] (their JSON form is strict and
// versioned), compiles them with [Compile] into an immutable [*Member] (once
// per request, or once per cache entry keyed by [Member.Key], which names
// the organisation's plan and revision as well as the member's settings
// revision: a [Cache] does that, loading members through the host's
// [Loader], once per member under a burst of requests, and dropping what
// the host invalidates), and asks it:
//
//   - [Member.Evaluate]: may this member do p at all? A bit test; it never
//     allocates.
//   - [Member.EvaluateRecord]: may this member do p on this record? A
//     record the member cannot see is reported as not found
//     ([ErrNotFound]), never as forbidden, so that its existence does not
//     leak; a visible record without the permission is forbidden
//     ([ErrForbidden]).
//   - [Member.Visible]: can this member see this record?
//   - [Member.Scope]: which records of a kind may this member see? A
//     predicate rendered into the host's SQL or matched in memory.
//   - [Audience]: which members may see (or act on) this record? For live
//     updates and notifications.
//
// Every [Decision] names the rule that decided it ([Reason]), explains
// itself for people, logs well with log/slog, and maps to an HTTP status
// in one line through [Decision.Err].
//
// The subpackage teamhttp is the HTTP glue: a middleware that puts the
// request's member into its context, and RFC 9457 problem details for
// decisions (one 404 for hidden and missing records) and for the errors of
// a settings page. Every error of this package has a stable
// machine-readable [Code] ([ErrorCode]) for a frontend to act on.
//
// Everything fails closed: the zero values of [Role], [Permission], [Kind],
// [Decision], a nil [*Member] and the zero Member deny; stored settings that name an
// unknown permission, role or field are rejected with an error naming the
// value; a NULL (zero [ID]) matches no restriction; an empty set of
// instances admits nothing.
//
// # When not to use teamperm
//
// teamperm is not a general policy engine. If your authorization model is
// not roles plus per-member settings over a team's records, if policies
// must be edited at run time as text by non-developers, or if decisions
// must be shared across services written in other languages, a general
// engine such as Cedar, OPA or Casbin fits better. teamperm trades that
// generality for a fixed, proven model that costs nanoseconds per decision.
package teamperm
