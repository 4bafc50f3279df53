package respcache

import (
	"sync"

	"github.com/kedahpulse/kedahpulse/graph/cachecontrol"
)

// requestMemo remembers, for the raw parameters of a public, cacheable
// query (a POST's body, a GET's query string), what its preparation
// concluded: the response key's digest, the hint and the cached root
// fields. A repeated request is then answered from the response cache
// without decoding, preparing or coercing it again; a miss falls back to
// the full path. What it concludes depends only on the bytes (and the
// schema): public answers do not depend on the caller, and the hour is
// added to the key on each use. Bounded in bytes; a full memo drops
// arbitrary entries (Go's map order), and requests over maxMemoRequest
// bytes are not kept.
type requestMemo struct {
	mu    sync.RWMutex
	max   int
	bytes int
	m     map[string]memoEntry // by method + "\n" + raw parameters
}

type memoEntry struct {
	digest string
	hint   cachecontrol.Hint
	roots  []string
	warm   *warmRequest // how to replay it; nil without a Warmer or when PRIVATE
}

const (
	maxMemoRequest = 8 << 10
	memoOverhead   = 160 // the map slot, the entry and its strings' headers
)

func newRequestMemo(maxBytes int) *requestMemo {
	return &requestMemo{max: maxBytes, m: make(map[string]memoEntry)}
}

// memoKey appends the memo's key of a request to dst (a reused buffer).
func memoKey(dst []byte, method string, raw []byte) []byte {
	return append(append(append(dst[:0], method...), '\n'), raw...)
}

func (m *requestMemo) get(key []byte) (memoEntry, bool) {
	m.mu.RLock()
	e, ok := m.m[string(key)] // no allocation: the compiler looks the bytes up
	m.mu.RUnlock()
	return e, ok
}

func (m *requestMemo) put(key []byte, e memoEntry) {
	if len(key) > maxMemoRequest {
		return
	}
	size := len(key) + len(e.digest) + memoOverhead
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.m[string(key)]; ok {
		return
	}
	for k, old := range m.m {
		if m.bytes+size <= m.max {
			break
		}
		delete(m.m, k)
		m.bytes -= len(k) + len(old.digest) + memoOverhead
	}
	m.m[string(key)] = e
	m.bytes += size
}
