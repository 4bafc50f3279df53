package graph

import (
	"context"

	"github.com/kedahpulse/kedahpulse/cache"
)

// readMany reads the values of keys through the cache exactly as the row's
// dataloader batch does (same keys, tags and fill), for the compiled read
// path, which batches a whole level itself.
func (c *batched[K, V]) readMany(ctx context.Context, r *Resolver, keys []K) ([]V, error) {
	lookup := func(k K) cache.Lookup {
		parent, args := c.key(k)
		return cache.Lookup{Key: cacheKey(c.name, parent, args), Tags: c.tags(k)}
	}
	return readThrough(ctx, r, c.name, keys, lookup, func(ctx context.Context, keys []K) (map[K]V, error) {
		return c.fetch(ctx, r.Store, keys)
	})
}

// memoLoad reads the keys not yet in memo through row in one batch and
// adds them (nil values included: a missing entity is remembered as such,
// as the dataloader's cache does).
func memoLoad[K comparable, V any](ctx context.Context, r *Resolver, row *batched[K, V], memo map[K]V, keys []K) error {
	var missing []K
	seen := make(map[K]bool, len(keys))
	for _, k := range keys {
		if _, ok := memo[k]; ok || seen[k] {
			continue
		}
		seen[k] = true
		missing = append(missing, k)
	}
	if len(missing) == 0 {
		return nil
	}
	vals, err := row.readMany(ctx, r, missing)
	if err != nil {
		return err
	}
	for i, k := range missing {
		memo[k] = vals[i]
	}
	return nil
}
