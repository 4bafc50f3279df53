package graph

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
)

type (
	adminKey  struct{}
	viewerKey struct{}
)

// credential is what a request's bearer token proved.
type credential int

const (
	anonymous credential = iota // no bearer token
	admin                       // the admin token
	rejected                    // a bearer token that is not the admin token
)

// withAdmin records in the request context whether the request carries the
// admin bearer token, a wrong one, or none. The token is compared in
// constant time (over SHA-256 digests, so its length does not leak either).
func withAdmin(token string, next http.Handler) http.Handler {
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok { // anonymous: nothing to compare (most requests)
			next.ServeHTTP(w, r)
			return
		}
		sum := sha256.Sum256([]byte(strings.TrimSpace(got)))
		cred := rejected
		if token != "" && subtle.ConstantTimeCompare(sum[:], want[:]) == 1 {
			cred = admin
		}
		ctx := context.WithValue(r.Context(), adminKey{}, cred)
		ctx = context.WithValue(ctx, viewerKey{}, hex.EncodeToString(sum[:8]))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// IsAdmin reports whether the request was authenticated as admin. A context
// without the marker is not admin.
func IsAdmin(ctx context.Context) bool {
	cred, _ := ctx.Value(adminKey{}).(credential)
	return cred == admin
}

// viewer identifies the caller for PRIVATE cache entries: a hash of its
// bearer token, or "anonymous".
func viewer(ctx context.Context) string {
	if v, ok := ctx.Value(viewerKey{}).(string); ok {
		return v
	}
	return "anonymous"
}

// adminQueries lists the query fields that need the admin token; every
// mutation does too.
var adminQueries = map[string]bool{"cacheStats": true, "scrapeRuns": true}

// requireAdmin refuses admin-only root fields before their resolvers run,
// so an unauthenticated mutation changes nothing. It is a field middleware,
// not a root-field hook: an error returned here goes through gqlgen's field
// error handling, which adds the field's path and propagates the null of a
// non-null field as the GraphQL spec asks (every admin field is non-null,
// so data becomes null).
func requireAdmin(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || !needsAdmin(fc) {
		return next(ctx)
	}
	switch cred, _ := ctx.Value(adminKey{}).(credential); cred {
	case admin:
		return next(ctx)
	case rejected:
		return nil, ErrTokenRejected
	default:
		return nil, ErrUnauthenticated
	}
}

// needsAdmin reports whether a field is an admin-only root field: every
// mutation, and the queries of adminQueries. Root fields are the ones whose
// parent is the operation's root (a field context with no field).
func needsAdmin(fc *graphql.FieldContext) bool {
	switch fc.Object {
	case "Mutation":
	case "Query":
		if !adminQueries[fc.Field.Name] {
			return false
		}
	default:
		return false
	}
	return fc.Parent == nil || fc.Parent.Parent == nil
}
