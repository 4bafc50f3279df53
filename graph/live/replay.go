package live

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/cespare/xxhash/v2"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/graph/gqlhttp"
	"github.com/kedahpulse/kedahpulse/graph/respcache"
)

// request is what a live entry runs: a query without @live, its operation
// and its variables as the client sent them.
type request struct {
	query string
	op    string
	vars  json.RawMessage
}

// answer is one run of a request.
type answer struct {
	body    []byte
	hash    uint64
	key     string   // the response level's Digest, or a digest of the request when the level did not keep the answer
	tags    []string // sorted; nil: unknown
	private bool
	kept    bool // the response level served or stored it
}

// run sends q through the handler as an anonymous request, from a read
// that starts now, and returns its answer with the entry key and tags the
// response level recorded for it.
func (r *Registry) run(ctx context.Context, q request) (answer, error) {
	ctx, rec := respcache.Capture(cache.WithReplay(ctx))
	a, err := r.runOnce(ctx, q, nil)
	if err != nil {
		return a, err
	}
	a.key, a.private, a.tags, a.kept = rec.Digest, rec.Private, splitTags(rec.Tags), rec.Digest != ""
	if a.key == "" { // an answer the level did not keep (errors, maxAge 0): woken by every invalidation
		a.key = "request:" + hex.EncodeToString(xxhashOf(q))
	}
	return a, nil
}

// runOnce sends q through the handler with header's Authorization (nil:
// anonymous) and returns its answer, or a *RequestError when the handler
// answers with a status other than 200.
func (r *Registry) runOnce(ctx context.Context, q request, header http.Header) (answer, error) {
	h := r.handler.Load()
	if h == nil {
		return answer{}, errors.New("live: no handler to run requests")
	}
	a, err := respcache.Replay(ctx, *h, respcache.ReplayRequest{Query: q.query, OperationName: q.op, Variables: q.vars,
		Authorization: header.Get("Authorization"), KeepBody: true})
	if err != nil {
		return answer{}, refusal(http.StatusBadRequest, gqlhttp.CodeBadRequest, "variables are not JSON")
	}
	if a.Status != http.StatusOK {
		return answer{}, &RequestError{Status: a.Status, Body: a.Body}
	}
	return answer{body: a.Body, hash: xxhash.Sum64(a.Body)}, nil
}

// xxhashOf identifies q when the response level gives no key.
func xxhashOf(q request) []byte {
	d := xxhash.New()
	for _, part := range []string{q.query, q.op, string(q.vars)} {
		d.WriteString(part)
		d.Write([]byte{0})
	}
	return d.Sum(nil)
}

// newID names this process in doorbells.
func newID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
