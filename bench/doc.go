// Package bench compares teamperm with the general policy engines a Go
// team would pick instead: Casbin (RBAC with domains), cedar-go (Cedar
// policies and entities) and OPA (Rego, through its Go API). Each engine
// holds the same policy, written the way its own documentation shows, over
// the same generated population (NewPopulation); the tests prove that
// every engine makes teamperm's decisions before any benchmark measures
// one. See BENCHMARKS.md at the repository root for the figures.
//
// The package is a separate module, so teamperm itself depends on none of
// the engines.
package bench
