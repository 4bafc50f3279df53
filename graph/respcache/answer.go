package respcache

import "context"

// Answer is what the level knew of the answer it wrote for a request whose
// context Capture made: the identity of its entry and the tags its reads
// recorded, exactly as stored. A live query (graph/live) reads it to know
// which invalidations wake it, so tags are computed in one place only.
type Answer struct {
	Digest  string // the entry's Digest; "" when the level neither served nor stored it
	Private bool   // the answer is PRIVATE (scoped to its caller)
	Tags    string // comma-separated; "" when unknown (an inconsistent read stored nothing)
}

type answerKey struct{}

// Capture returns a context whose answer, if the level serves or stores
// it, is described in the Answer returned.
func Capture(ctx context.Context) (context.Context, *Answer) {
	a := new(Answer)
	return context.WithValue(ctx, answerKey{}, a), a
}

// note describes the answer written for ctx, if ctx was made by Capture.
func note(ctx context.Context, m memoEntry, tags []byte) {
	if a, ok := ctx.Value(answerKey{}).(*Answer); ok {
		a.Digest, a.Private, a.Tags = m.digest, m.hint.Private, string(tags)
	}
}
