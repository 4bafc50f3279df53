package redisstore

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
)

// Texts keeps automatic persisted queries' texts on Redis, shared by every
// process of the store's prefix, within a budget of their own, apart from
// entries and tags: two keys under one hash tag, so a script writes both on
// a cluster node. prefix+"{apq}texts" is a hash of hash -> text plus the
// field "bytes" (the budget used: each text's hash and text bytes plus
// textOverhead); prefix+"{apq}used" is a sorted set of the hashes by last
// use (ms). A text unused for TTL is gone; adding one past MaxBytes drops
// the least recently used. Both keys expire TTL after the last write, so a
// flood of texts holds at most MaxBytes, and no longer than TTL, whatever
// Redis's maxmemory policy: it never evicts an entry, a tag or the
// invalidation log.
type Texts struct {
	client      redis.UniversalClient
	texts, used string
	maxBytes    int64
	ttl         time.Duration
	timeout     time.Duration
	log         *slog.Logger
	now         func() time.Time
}

// TextOptions bound Texts.
type TextOptions struct {
	MaxBytes int64         // the budget of every text together
	TTL      time.Duration // a text unused this long is gone
	Timeout  time.Duration // bounds each call (a text not found is resent by its client)
	Logger   *slog.Logger
}

// textOverhead approximates what Redis spends per text beyond its bytes
// (the hash field and the sorted set's member and score).
const textOverhead = 96

// NewTexts returns the persisted texts of s's prefix.
func NewTexts(s *Store, o TextOptions) *Texts {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Texts{client: s.client, texts: s.prefix + "{apq}texts", used: s.prefix + "{apq}used",
		maxBytes: o.MaxBytes, ttl: o.TTL, timeout: o.Timeout, log: o.Logger, now: time.Now}
}

// getTextScript returns the text of ARGV[1] at KEYS (texts, used) unless it
// went unused for ARGV[3] ms, marking it used at ARGV[2] (ms).
var getTextScript = redis.NewScript(`#!lua
local used = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not used or tonumber(used) <= tonumber(ARGV[2]) - tonumber(ARGV[3]) then return false end
local text = redis.call('HGET', KEYS[1], ARGV[1])
if not text then return false end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return text
`)

// addTextScript keeps text ARGV[2] of hash ARGV[1] at KEYS (texts, used),
// marked used at ARGV[3] (ms); then drops the texts unused for ARGV[4] ms
// and the least recently used while the texts hold more than ARGV[5]
// bytes (each charged ARGV[6] beyond its bytes). Returns the bytes held.
var addTextScript = redis.NewScript(`#!lua
local now, ttl, budget, over = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local function drop(h)
  local n = redis.call('HSTRLEN', KEYS[1], h)
  if redis.call('HDEL', KEYS[1], h) == 1 then redis.call('HINCRBY', KEYS[1], 'bytes', -(#h + n + over)) end
  redis.call('ZREM', KEYS[2], h)
end
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  redis.call('HINCRBY', KEYS[1], 'bytes', #ARGV[1] + #ARGV[2] + over)
end
redis.call('ZADD', KEYS[2], now, ARGV[1])
for _, h in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now - ttl, 'LIMIT', 0, 64)) do drop(h) end
local held = tonumber(redis.call('HGET', KEYS[1], 'bytes'))
while held > budget do
  local least = redis.call('ZPOPMIN', KEYS[2])
  if #least == 0 then redis.call('DEL', KEYS[1]); held = 0; break end
  drop(least[1])
  held = tonumber(redis.call('HGET', KEYS[1], 'bytes'))
end
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
return held
`)

// Get returns the text of hash and marks it used; a failure is a miss.
func (t *Texts) Get(ctx context.Context, hash string) (string, bool) {
	ctx, cancel := t.bound(ctx)
	defer cancel()
	text, err := getTextScript.Run(ctx, t.client, []string{t.texts, t.used}, hash, t.now().UnixMilli(), t.ttl.Milliseconds()).Text()
	if err != nil {
		if !errors.Is(err, redis.Nil) {
			t.log.Warn("persisted query: read failed", "err", err)
		}
		return "", false
	}
	return text, true
}

// Add keeps text under hash, within the budget; failures are logged. A
// text larger than the whole budget is not kept.
func (t *Texts) Add(ctx context.Context, hash, text string) {
	if int64(len(hash)+len(text)+textOverhead) > t.maxBytes {
		return
	}
	ctx, cancel := t.bound(ctx)
	defer cancel()
	err := addTextScript.Run(ctx, t.client, []string{t.texts, t.used},
		hash, text, t.now().UnixMilli(), t.ttl.Milliseconds(), t.maxBytes, textOverhead).Err()
	if err != nil {
		t.log.Warn("persisted query: write failed", "err", err)
	}
}

// Bytes reports the bytes the texts are charged.
func (t *Texts) Bytes(ctx context.Context) (int64, error) {
	n, err := t.client.HGet(ctx, t.texts, "bytes").Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	return n, err
}

func (t *Texts) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if t.timeout > 0 {
		return context.WithTimeout(ctx, t.timeout)
	}
	return ctx, func() {}
}
