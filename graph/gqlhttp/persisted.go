package gqlhttp

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Automatic persisted queries (Apollo's protocol, gqlgen's extension): a
// client sends a query's SHA-256 instead of its text, and the text the
// first time it is asked for. The texts live in a TextStore (the cache's
// store) under their hashes, so every process sharing it knows them; a
// text is remembered only within the character limit.

// persistedTTL is how long a persisted query's text is kept after it was
// last sent.
const persistedTTL = 24 * time.Hour

// TextStore keeps persisted query texts by key (cache.Cache is one).
type TextStore interface {
	GetValue(ctx context.Context, key string) ([]byte, bool)
	SetValue(ctx context.Context, key string, value []byte, ttl time.Duration)
}

// persistedQueries is gqlgen's query-text cache over a TextStore.
type persistedQueries struct{ s TextStore }

var _ graphql.Cache[string] = persistedQueries{}

// validHash reports whether hash is a hex SHA-256, so that no client
// names a key of any other length.
func validHash(hash string) bool {
	if len(hash) != 64 {
		return false
	}
	for _, r := range hash {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f') {
			return false
		}
	}
	return true
}

func (p persistedQueries) Get(ctx context.Context, hash string) (string, bool) {
	if !validHash(hash) {
		return "", false
	}
	b, ok := p.s.GetValue(ctx, "apq|"+hash)
	return string(b), ok
}

func (p persistedQueries) Add(ctx context.Context, hash, query string) {
	if validHash(hash) {
		p.s.SetValue(ctx, "apq|"+hash, []byte(query), persistedTTL)
	}
}

// resolvePersisted fills params.Query from its persisted-query hash, or
// remembers the text it came with (the text within the character limit).
// Requests without the extension are left as they are.
func (t *Transport) resolvePersisted(ctx context.Context, params *graphql.RawParams) *Error {
	if params.Extensions["persistedQuery"] == nil {
		return nil
	}
	if err := t.docs.limits.CheckCharacters(params.Query); err != nil {
		return &Error{Errs: gqlerror.List{err}}
	}
	// gqlgen's extension records its statistics in an operation context,
	// which does not exist yet: give it one of its own.
	octx := graphql.WithOperationContext(ctx, &graphql.OperationContext{})
	if err := t.persisted.MutateOperationParameters(octx, params); err != nil {
		return &Error{Errs: gqlerror.List{err}}
	}
	return nil
}

// newPersisted is gqlgen's APQ extension over s.
func newPersisted(s TextStore) extension.AutomaticPersistedQuery {
	return extension.AutomaticPersistedQuery{Cache: persistedQueries{s}}
}
