package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Sample is what one server process reports at one tick: the cache totals
// it saw (every process's, from cache.Stats) and the tags it invalidated
// itself since its previous sample, by family.
type Sample struct {
	Process        string           `json:"p"`
	Seq            uint64           `json:"s"` // per process: two samples are never equal
	At             int64            `json:"t"` // Unix milliseconds
	Hits           int64            `json:"h"`
	Misses         int64            `json:"m"`
	ResponseHits   int64            `json:"rh"`
	ResponseMisses int64            `json:"rm"`
	Invalidations  map[string]int64 `json:"i,omitempty"`
}

// History keeps the samples of the last window, of every process sharing
// it, bounded.
type History interface {
	Add(ctx context.Context, s Sample) error
	// Since returns the samples taken at or after from, oldest first.
	Since(ctx context.Context, from time.Time) ([]Sample, error)
}

var (
	_ History = (*memoryHistory)(nil)
	_ History = (*redisHistory)(nil)
)

// memoryHistory is a fixed-size ring, for the in-process cache (one
// process, nothing to share).
type memoryHistory struct {
	mu   sync.Mutex
	ring []Sample
	next int
	full bool
}

// NewMemoryHistory keeps the last n samples in memory.
func NewMemoryHistory(n int) History {
	return &memoryHistory{ring: make([]Sample, max(n, 1))}
}

func (h *memoryHistory) Add(_ context.Context, s Sample) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ring[h.next] = s
	h.next = (h.next + 1) % len(h.ring)
	h.full = h.full || h.next == 0
	return nil
}

func (h *memoryHistory) Since(_ context.Context, from time.Time) ([]Sample, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	all := h.ring[:h.next]
	if h.full {
		all = append(slices.Clone(h.ring[h.next:]), h.ring[:h.next]...)
	}
	out := []Sample{}
	for _, s := range all {
		if s.At >= from.UnixMilli() {
			out = append(out, s)
		}
	}
	slices.SortStableFunc(out, func(a, b Sample) int { return int(a.At - b.At) })
	return out, nil
}

// rediser is the part of the go-redis client the Redis history uses: a
// single client and a cluster client both fit.
type rediser interface {
	Pipelined(ctx context.Context, fn func(redis.Pipeliner) error) ([]redis.Cmder, error)
	ZRangeByScore(ctx context.Context, key string, opt *redis.ZRangeBy) *redis.StringSliceCmd
}

// redisHistory is one sorted set of samples scored by time, shared by every
// process on the same prefix. Each Add trims it to the window and to max
// members and renews its TTL, so it stays bounded even when every process
// stops.
type redisHistory struct {
	client rediser
	key    string
	window time.Duration
	max    int64
	now    func() time.Time
}

// NewRedisHistory keeps the samples of the last window (at most max) in the
// sorted set prefix+"dashboard:samples".
func NewRedisHistory(client redis.UniversalClient, prefix string, window time.Duration, max int, now func() time.Time) History {
	if now == nil {
		now = time.Now
	}
	return &redisHistory{client: client, key: prefix + "dashboard:samples", window: window, max: int64(max), now: now}
}

func (h *redisHistory) Add(ctx context.Context, s Sample) error {
	member, err := json.Marshal(s)
	if err != nil {
		return err
	}
	cutoff := h.now().Add(-h.window).UnixMilli()
	_, err = h.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAdd(ctx, h.key, redis.Z{Score: float64(s.At), Member: member})
		p.ZRemRangeByScore(ctx, h.key, "-inf", "("+strconv.FormatInt(cutoff, 10))
		p.ZRemRangeByRank(ctx, h.key, 0, -h.max-1)
		p.PExpire(ctx, h.key, h.window+time.Minute)
		return nil
	})
	if err != nil {
		return fmt.Errorf("dashboard: add sample: %w", err)
	}
	return nil
}

func (h *redisHistory) Since(ctx context.Context, from time.Time) ([]Sample, error) {
	members, err := h.client.ZRangeByScore(ctx, h.key, &redis.ZRangeBy{Min: strconv.FormatInt(from.UnixMilli(), 10), Max: "+inf"}).Result()
	if err != nil {
		return nil, fmt.Errorf("dashboard: read samples: %w", err)
	}
	out := make([]Sample, 0, len(members))
	for _, m := range members {
		var s Sample
		if json.Unmarshal([]byte(m), &s) == nil {
			out = append(out, s)
		}
	}
	return out, nil
}
