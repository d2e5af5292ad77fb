// Package bench compares teamperm with the general policy engines a Go
// team would pick instead: Casbin (RBAC with domains, plain and with its
// decision cache), cedar-go (Cedar policies and entities) and OPA (Rego,
// through its Go API). Each engine holds the same policy over the same
// generated population (NewPopulation) and decides the same requests
// through the same method (Engine.Decide: from the strings a web service
// receives to the outcome, the member looked up inside the call). The
// tests prove that every engine, teamperm included, agrees with an
// independent Oracle (the product's rules written out plainly) before any
// benchmark measures one. See BENCHMARKS.md at the repository root for the
// figures.
//
// The package is a separate module, so teamperm itself depends on none of
// the engines.
package bench
