// Package playground serves the GraphQL Playground: GraphiQL with React,
// and the graphql-sse client that streams live queries (@live) into it,
// from assets embedded in the binary (copied from pinned npm packages by
// clients/playground.sh, licences beside them), so the page works without
// internet. It imports only the standard library. Invariant: the page
// loads nothing from another origin.
package playground
