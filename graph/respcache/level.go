package respcache

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/graph/gqlhttp"
)

// Options configure a Level. Zero values mean the defaults.
type Options struct {
	// Cache stores the answers (nil: nothing is stored, and a cacheable
	// answer gets its headers only).
	Cache *cache.Cache
	// Now reads the hour of the key and the age of an answer (time.Now).
	Now func() time.Time
	// Viewer names the caller of a PRIVATE answer ("anonymous" for all).
	Viewer func(context.Context) string
	// MaxBody bounds a POST body the front reads, in bytes.
	MaxBody int64
	// MemoBytes bounds the memo of repeated requests.
	MemoBytes int
	// CDNTagHeader turns the CDN mode on: public answers say
	// "public, max-age=0, s-maxage=<maxAge>" and name their tags in this
	// header (Cache-Tag for Cloudflare, Surrogate-Key for Fastly).
	CDNTagHeader string
	// Warmer, if set, is told every public answer served or stored, and
	// replays through the front (Front) the requests it picks.
	Warmer *Warmer
}

// Level is the whole-response level: the front that answers repeated
// requests (Front), the lookup and fill around execution (Serve, the
// gqlhttp.Level of the transport) and the headers of cacheable answers.
type Level struct {
	cache     *cache.Cache
	now       func() time.Time
	viewer    func(context.Context) string
	maxBody   int64
	cdnHeader string
	memo      *requestMemo
	warm      *Warmer
}

var _ gqlhttp.Level = (*Level)(nil)

// New returns a Level.
func New(o Options) *Level {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Viewer == nil {
		o.Viewer = func(context.Context) string { return "anonymous" }
	}
	return &Level{cache: o.Cache, now: o.Now, viewer: o.Viewer, maxBody: o.MaxBody,
		cdnHeader: o.CDNTagHeader, memo: newRequestMemo(o.MemoBytes), warm: o.Warmer}
}

// Serve answers p from the cache if it can, or executes it and stores a
// clean answer, stamped with the stamp read before it ran.
func (l *Level) Serve(ctx context.Context, w http.ResponseWriter, r *http.Request, p *gqlhttp.Prepared, execute func(context.Context) []byte) {
	s, front := seenFrom(ctx)
	m, ok := l.entry(ctx, p)
	var key string
	var stamp cache.Stamp
	if front {
		stamp = s.stamp
	}
	if ok {
		key = l.Key(m.digest)
	}
	if ok && !(front && s.known) {
		if front && !m.hint.Private {
			l.memo.put(s.key, m)
		}
		var hit bool
		if stamp, hit = l.serveCached(ctx, w, r, m, key); hit {
			return
		}
	}
	var rec *cache.Recorder
	if key != "" {
		ctx, rec = record(ctx)
	}
	filling := l.warm.start()
	body := execute(ctx)
	if body == nil {
		return
	}
	etag := etagOf(body)
	var tags string
	if key != "" {
		tags = l.set(ctx, key, body, etag, rec, stamp, time.Duration(p.Hint.MaxAge)*time.Second)
		l.warm.observe(ctx, m.warm, []byte(tags), filling)
		note(ctx, m, []byte(tags))
	}
	l.writeCacheable(w, r, p.Hint, "MISS", body, etag, []byte(tags))
}

// entry is what the level needs to know of p; ok is false when its answer
// is not stored.
func (l *Level) entry(ctx context.Context, p *gqlhttp.Prepared) (memoEntry, bool) {
	if l.cache == nil || p.Hint.MaxAge <= 0 {
		return memoEntry{}, false
	}
	scope := "public"
	if p.Hint.Private {
		scope = "private:" + l.viewer(ctx)
	}
	op := p.Operation
	digest, err := Digest(Request{Document: p.DocumentID(), Operation: op.Operation.Name, Variables: op.Variables, Scope: scope})
	if err != nil {
		return memoEntry{}, false
	}
	return memoEntry{digest: digest, hint: p.Hint, roots: p.Roots(), warm: l.warm.request(p, digest)}, true
}

// serveCached writes the answer stored under key (m's) if there is a valid
// one; if not, it returns the stamp to store the answer computed now with.
func (l *Level) serveCached(ctx context.Context, w http.ResponseWriter, r *http.Request, m memoEntry, key string) (cache.Stamp, bool) {
	e, stamp, hit := l.get(ctx, key)
	if !hit {
		return stamp, false
	}
	// Each cached root field counts a hit, so the statistics of a field
	// count the requests for it whichever level answered them (a warming
	// replay is no request: it counts in Stats.Replays).
	if !replaying(ctx) {
		l.cache.CountHits(m.roots)
	}
	l.warm.observe(ctx, m.warm, e.Tags, time.Time{})
	note(ctx, m, e.Tags)
	w.Header()["Age"] = []string{strconv.Itoa(int(e.Age.Seconds()))}
	l.writeCacheable(w, r, m.hint, "HIT", e.Body, e.ETag, e.Tags)
	return stamp, true
}
