package respcache

import (
	"context"
	"net/http"
	"sync"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/graph/gqlhttp"
)

// Front returns the outermost handler of the chain: it reads a request's
// parameters once and answers a repeated public query from the cache (see
// requestMemo) before any other work (auth, loaders, the deadline, gqlgen:
// a public answer is the same for every caller, and the cache bounds its
// own calls). Anything else goes on to next with the parameters read
// (gqlhttp.WithRequest) and what the front learnt, which Serve takes over.
// Without a cache it is next itself. A Warmer given in Options replays
// through the handler Front returns.
func (l *Level) Front(next http.Handler) http.Handler {
	if l.cache == nil {
		l.warm.serve(next)
		return next
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, rerr := gqlhttp.Read(w, r, l.maxBody)
		if rerr != nil {
			gqlhttp.WriteError(w, r, rerr)
			return
		}
		defer q.Release()
		key := memoKey(*keyPool.Get().(*[]byte), r.Method, q.Raw)
		defer releaseKey(key)
		var known bool
		var stamp cache.Stamp
		if m, ok := l.memo.get(key); ok {
			known = true
			var hit bool
			if stamp, hit = l.serveCached(r.Context(), w, r, m, l.Key(m.digest)); hit {
				return
			}
		}
		ctx := gqlhttp.WithRequest(r.Context(), q)
		ctx = context.WithValue(ctx, seenKey{}, &seen{key: key, known: known, stamp: stamp})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
	l.warm.serve(h)
	return h
}

// seen is what the front learnt of a request it did not answer: its memo
// key, whether the memo knew it, and the stamp its miss read.
type seen struct {
	key   []byte
	known bool
	stamp cache.Stamp
}

type seenKey struct{}

// seenFrom returns what the front learnt. A context value, because the
// middleware and gqlgen's server between the front and Serve pass only the
// request.
func seenFrom(ctx context.Context) (*seen, bool) {
	s, ok := ctx.Value(seenKey{}).(*seen)
	return s, ok && s != nil
}

var keyPool = sync.Pool{New: func() any { return new([]byte) }}

// releaseKey returns a memo key's buffer to the pool (a small one only).
func releaseKey(key []byte) {
	if cap(key) <= 64<<10 {
		k := key[:0]
		keyPool.Put(&k)
	}
}
