// Package limit bounds what one GraphQL document may cost before any
// expensive work starts: characters, lexer tokens, aliases, directives,
// depth (fragments inlined), introspection fields, and a cost that prices
// list pages and each field's own read from its arguments (Pricing). It
// imports only gqlparser. Invariant: Check runs on the parsed, not yet
// validated document, Cost on the validated one with its coerced variables
// (so a value costs the same as a literal or a variable), each in one pass
// whose work is linear in the document's size: each fragment is walked once
// and its totals are reused at every spread, with saturating arithmetic.
package limit
