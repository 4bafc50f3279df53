// Package cachecontrol owns the @cacheControl policy: the hint of every
// schema coordinate, read once from the schema, the hint of a whole
// operation, and the Cache-Control header a hint stands for. It imports
// only gqlparser's ast. Invariant: an operation's hint is the minimum over
// every field it can execute (mutations and introspection are never
// cacheable), computed in one pass whose cost is linear in the document:
// each fragment is walked once per (parent maxAge, root) pair, never once
// per spread.
package cachecontrol
