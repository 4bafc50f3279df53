package graph

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

type (
	adminKey  struct{}
	viewerKey struct{}
)

// withAdmin records in the request context whether the request carries the
// admin bearer token. The token is compared in constant time (over SHA-256
// digests, so its length does not leak either).
func withAdmin(token string, next http.Handler) http.Handler {
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok { // anonymous: nothing to compare (most requests)
			next.ServeHTTP(w, r)
			return
		}
		sum := sha256.Sum256([]byte(strings.TrimSpace(got)))
		admin := token != "" && subtle.ConstantTimeCompare(sum[:], want[:]) == 1
		ctx := context.WithValue(r.Context(), adminKey{}, admin)
		ctx = context.WithValue(ctx, viewerKey{}, hex.EncodeToString(sum[:8]))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// IsAdmin reports whether the request was authenticated as admin. A context
// without the marker is not admin.
func IsAdmin(ctx context.Context) bool {
	admin, _ := ctx.Value(adminKey{}).(bool)
	return admin
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

// requireAdmin refuses admin-only root fields before they run, so an
// unauthenticated mutation changes nothing.
func requireAdmin(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	fc, oc := graphql.GetRootFieldContext(ctx), graphql.GetOperationContext(ctx)
	if fc == nil || oc == nil || oc.Operation == nil {
		return next(ctx)
	}
	mutation := oc.Operation.Operation == ast.Mutation
	if (mutation || adminQueries[fc.Field.Name]) && !IsAdmin(ctx) {
		graphql.AddError(ctx, ErrUnauthenticated)
		return graphql.Null
	}
	return next(ctx)
}
