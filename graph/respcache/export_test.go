package respcache

import (
	"context"
	"net/http"
	"time"
)

// Count counts one request as the transport does after serving it with
// tags, without serving it (the bounded-memory test counts 100k).
func (w *Warmer) Count(doc, query string, vars []byte, tags string) {
	w.count(&warmRequest{query: query, vars: vars, key: doc + "\x00" + string(vars)}, []byte(tags))
}

// Picked returns the variables of the requests a round warming tags would
// replay, most counted first.
func (w *Warmer) Picked(tags ...string) []string {
	set := map[string]struct{}{}
	for _, t := range tags {
		set[t] = struct{}{}
	}
	var out []string
	reqs, _ := w.pick(set, false)
	for _, r := range reqs {
		out = append(out, string(r.vars))
	}
	return out
}

// Filled records that the request Count counted as (doc, vars) was last
// filled in cost.
func (w *Warmer) Filled(doc string, vars []byte, cost time.Duration) {
	w.filled(doc+"\x00"+string(vars), cost)
}

// Round runs one round warming tags through h, as Run does.
func (w *Warmer) Round(ctx context.Context, h http.Handler, tags ...string) {
	w.serve(h)
	set := map[string]struct{}{}
	for _, t := range tags {
		set[t] = struct{}{}
	}
	w.round(ctx, set, false)
}
