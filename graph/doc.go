// Package graph is the GraphQL adapter. The request path, in order:
// withAdmin (who is calling), withLoaders (per-request dataloaders),
// withRequestBounds (the request's deadline and root-field slots), then
// gqlgen with one transport (http.go) that reads the parameters once,
// prepares the document once (documents: characters, tokens and the
// graph/limit pass before validation, then one validation, in a
// byte-bounded cache), lets gqlgen coerce the variables, and serves or
// fills graph/respcache keyed on exactly the operation and variables gqlgen
// executes, with the graph/cachecontrol hint. Below it: thin resolvers,
// loaders and field read-through (cache), and one error presenter.
// resolver.go is the one place dependencies are injected; generated.go is
// never edited.
//
// It may import db, cache, graph/cachecontrol, graph/limit,
// graph/respcache, graph/model, gqlgen and dataloader; it never imports
// server/... (it reaches the scraper through the Scraper interface it
// declares). Invariants: no request does work beyond its limits, deadline
// and slots; every field whose effective maxAge is above zero is served
// through the cache with the tags its data depends on, read before the
// database; a mutation invalidates its tags after its transaction commits
// and before its response is written, so no request that starts after the
// response sees older data.
package graph
