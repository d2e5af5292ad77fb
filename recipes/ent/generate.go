// Package ent is the code ent generates from the schema in ./schema,
// committed so that building and testing the recipes needs no
// generator. After a change to the schema, run go generate ./ent from
// recipes/, then go mod tidy, and commit the result.
//
// The generator is the version of entgo.io/ent in recipes/go.mod, run
// as ent's documentation says (go run -mod=mod), outside the workspace:
// go.work allows no -mod=mod, and its build list has a newer
// tablewriter (required by OPA, in bench/) that ent's command does not
// compile with.
package ent

//go:generate env GOWORK=off go run -mod=mod entgo.io/ent/cmd/ent generate ./schema
