package gqlhttp

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Automatic persisted queries (Apollo's protocol, gqlgen's extension): a
// client sends a query's SHA-256 instead of its text, and the text the
// first time it is asked for. A text is registered under its hash only
// after its document was prepared (parsed within the limits, and
// validated), in a TextStore with a budget of its own: a flood of texts,
// valid or not, evicts other texts at most, never a cached answer.

// TextStore keeps persisted query texts by hash, within a budget of its
// own; Get marks a text used. Implementations: MemoryTexts (one process)
// and redisstore.Texts (shared by every process on the same Redis).
type TextStore interface {
	Get(ctx context.Context, hash string) (string, bool)
	Add(ctx context.Context, hash, text string)
}

// DefaultTextBytes is the default budget of persisted texts.
const DefaultTextBytes = 4 << 20

// textOverhead approximates what the LRU's element and map entry cost per
// text beyond its hash and text bytes.
const textOverhead = 160

// MemoryTexts is the TextStore of one process: texts within a budget of
// bytes, the least recently used evicted first.
type MemoryTexts struct{ kept *lru[string] }

var _ TextStore = (*MemoryTexts)(nil)

// NewMemoryTexts returns an empty store of at most budget bytes.
func NewMemoryTexts(budget int) *MemoryTexts {
	return &MemoryTexts{kept: newLRU[string](budget)}
}

func (m *MemoryTexts) Get(_ context.Context, hash string) (string, bool) { return m.kept.get(hash) }

func (m *MemoryTexts) Add(_ context.Context, hash, text string) {
	m.kept.add(hash, text, len(hash)+len(text)+textOverhead)
}

// Bytes reports the bytes the texts are charged; Len how many are kept.
func (m *MemoryTexts) Bytes() int { return m.kept.bytes() }
func (m *MemoryTexts) Len() int   { return m.kept.len() }

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

// pendingText is gqlgen's query-text cache for one request: Get reads the
// store, Add only holds the text until register, which stores it once its
// document is prepared.
type pendingText struct {
	store      TextStore
	hash, text string
}

var _ graphql.Cache[string] = (*pendingText)(nil)

func (p *pendingText) Get(ctx context.Context, hash string) (string, bool) {
	if !validHash(hash) {
		return "", false
	}
	return p.store.Get(ctx, hash)
}

func (p *pendingText) Add(_ context.Context, hash, text string) {
	if validHash(hash) {
		p.hash, p.text = hash, text
	}
}

// register stores the text the request came with, if any.
func (p *pendingText) register(ctx context.Context) {
	if p.hash != "" {
		p.store.Add(context.WithoutCancel(ctx), p.hash, p.text)
	}
}

// resolvePersisted fills params.Query from its persisted-query hash, or
// checks the text it came with against the hash; the returned text is to
// be registered once the document is prepared. Requests without the
// extension are left as they are (and register nothing).
func (t *Transport) resolvePersisted(ctx context.Context, params *graphql.RawParams) (*pendingText, *Error) {
	p := &pendingText{store: t.texts}
	if params.Extensions["persistedQuery"] == nil {
		return p, nil
	}
	if err := t.docs.limits.CheckCharacters(params.Query); err != nil {
		return p, &Error{Errs: gqlerror.List{err}}
	}
	// gqlgen's extension records its statistics in an operation context,
	// which does not exist yet: give it one of its own.
	octx := graphql.WithOperationContext(ctx, &graphql.OperationContext{})
	if err := (extension.AutomaticPersistedQuery{Cache: p}).MutateOperationParameters(octx, params); err != nil {
		return p, &Error{Errs: gqlerror.List{err}}
	}
	return p, nil
}
