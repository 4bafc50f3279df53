// Package model holds the GraphQL models gqlgen generates (models_gen.go,
// never edited) and the scalar marshalers: ID as int64, Decimal as exact
// db.Money, Time as UTC RFC 3339. It may import gqlgen's graphql package and
// db. Invariant: a malformed scalar is a *db.InputError, so the API answers
// BAD_USER_INPUT rather than an internal error.
package model
