// Package ent is the code ent generates from the schema in ./schema,
// committed so that building and testing the recipes needs no
// generator. After a change to the schema, run go generate ./ent from
// recipes/ and commit the result.
package ent

//go:generate env GOWORK=off go run -mod=mod entgo.io/ent/cmd/ent generate ./schema
