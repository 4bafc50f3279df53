// Package limit bounds what one GraphQL document may cost before any
// expensive work starts: characters, lexer tokens, aliases, directives,
// depth (fragments inlined), introspection fields, and a cost that prices
// list pages and declared surcharges (text search). It imports only
// gqlparser. Invariant: Check runs on the parsed, not yet validated
// document, in one pass whose work is linear in the document's size: each
// fragment is walked once (per introspection context) and its totals are
// reused at every spread, with saturating arithmetic, so no document,
// however its fragments multiply, costs more than its own length to check.
package limit
