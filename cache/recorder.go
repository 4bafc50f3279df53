package cache

import (
	"context"
	"maps"
	"sync"
)

// Recorder collects the tag versions of every entry used while building one
// response, so the response can be cached with them (SetResponse) and is
// invalidated whenever any of its parts would be. It is safe for concurrent
// use by the resolvers of one request.
type Recorder struct {
	mu           sync.Mutex
	versions     map[string]string
	inconsistent bool
	disabled     bool
}

type recorderKey struct{}

// WithRecorder returns a context carrying a new Recorder; every Load under
// it records into the Recorder.
func WithRecorder(ctx context.Context) (context.Context, *Recorder) {
	r := &Recorder{versions: make(map[string]string)}
	return context.WithValue(ctx, recorderKey{}, r), r
}

// recorderFrom returns ctx's Recorder or nil.
func recorderFrom(ctx context.Context) *Recorder {
	r, _ := ctx.Value(recorderKey{}).(*Recorder)
	return r
}

// record notes tags at their versions.
func (r *Recorder) record(tags []tagVersion) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, tv := range tags {
		if v, ok := r.versions[tv.Tag]; ok && v != tv.Version {
			r.inconsistent = true
		}
		r.versions[tv.Tag] = tv.Version
	}
}

// recordAt notes tags at their versions in versions.
func (r *Recorder) recordAt(tags []string, versions map[string]string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range tags {
		if v, ok := r.versions[t]; ok && v != versions[t] {
			r.inconsistent = true
		}
		r.versions[t] = versions[t]
	}
}

// Versions returns a copy of the versions recorded so far, and whether the
// response built from them may be cached: false if some tag was seen at two
// versions (the parts straddle an invalidation) or Disable was called.
func (r *Recorder) Versions() (versions map[string]string, consistent bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.versions), !r.inconsistent && !r.disabled
}

// Disable marks the response uncacheable, for example because a resolver
// read the source without going through the cache, or the cache failed.
func (r *Recorder) Disable() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.disabled = true
}
