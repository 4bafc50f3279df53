// Package graph is the GraphQL adapter: thin resolvers, loaders and field
// read-through (cache), auth (who is calling), one error presenter, the
// prices of fields (price.go), each request's share of the database
// connections (share.go), and NewHandler, the one place the request chain
// is listed top to bottom (graph/respcache's front, auth, loaders, bounds,
// gqlgen with the graph/gqlhttp transport). resolver.go is the one place
// dependencies are injected; generated.go is never edited. The compiled
// read path (plan.go, Options.Plan) answers the queries it supports
// without gqlgen's executor, with the same bytes (its header says which
// constructs it answers and which it hands to gqlgen).
//
// It may import db, cache, graph/gqlhttp, graph/respcache,
// graph/cachecontrol, graph/limit, graph/model, gqlgen and dataloader; it
// never imports server/... (it reaches the scraper through the Scraper
// interface it declares). Invariants: no request does work beyond its
// limits, deadline and slots; every field whose effective maxAge is above
// zero is served through the cache with the tags its data depends on, read
// before the database; a mutation invalidates its tags after its
// transaction commits and before its response is written, so no request
// that starts after the response sees older data.
package graph
