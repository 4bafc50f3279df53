// Package gqlhttp is GraphQL over HTTP: it reads a request's parameters
// (GET query string, POST JSON body), prepares its document once (limits,
// parse, validation, in a byte-bounded cache), resolves automatic persisted
// queries, picks media types and status codes, and writes bodies and request
// errors with the error codes every layer shares. It relies on these gqlgen
// contracts: graphql.Transport (Transport), GraphExecutor's
// CreateOperationContext and DispatchOperation, the query cache
// (QueryCache, set with SetQueryCache) and extension.AutomaticPersistedQuery,
// whose texts it registers only for prepared documents, in a TextStore with
// a budget of its own.
// It may import gqlgen, gqlparser, graph/limit and graph/cachecontrol, never
// graph, graph/respcache or cache: the response level plugs in through the
// Level interface it declares, and persisted texts through TextStore.
// Invariant: a document is parsed and validated once, within its limits,
// before anything else walks it.
package gqlhttp
