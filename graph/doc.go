// Package graph is the GraphQL adapter: the gqlgen executable schema
// (generated.go, never edited), thin resolvers, per-request dataloaders that
// read through the field cache, the whole-response cache, the cache-control
// policy read from the schema's @cacheControl hints, admin auth and the
// error presenter. resolver.go is the one place dependencies are injected.
//
// It may import db, graph/cache, graph/model, gqlgen and dataloader; it never
// imports server/... (it reaches the scraper through the Scraper interface it
// declares). Invariants: every field whose effective maxAge is above zero is
// served through the cache with the tags its data depends on, read before
// the database; a mutation invalidates its tags after its transaction commits
// and before its response is written, so no request that starts after the
// response sees older data.
package graph
