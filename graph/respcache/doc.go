// Package respcache is the whole-response level of the cache: a query's
// entire answer stored under a key made of exactly what gqlgen executes
// (the prepared document's id, the operation's name and the coerced
// variables gqlgen runs it with) plus the caller's scope and the hour, and
// validated by the versions of every tag the answer was built from. It
// imports cache and the standard library; the GraphQL adapter feeds it.
// Invariants: two requests share an entry only if gqlgen would execute the
// same operation with the same variables for the same scope; an entry is
// stored only from a clean answer whose every read recorded its tag
// versions, so it is never served after one of those tags is invalidated.
package respcache
