package graph

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/kedahpulse/kedahpulse/cache"
)

// maxKeyArgs is the longest argument encoding a key carries as it is;
// longer ones are hashed, so no input makes a long key.
const maxKeyArgs = 128

// cacheKey names the cache entry of a schema coordinate for one parent and
// its canonical arguments. args must be a value whose JSON encoding is
// canonical (a struct of normalised fields), so equal arguments give equal
// keys and different arguments different ones.
func cacheKey(coord string, parent int64, args any) string {
	var buf [96]byte
	key := string(strconv.AppendInt(append(append(buf[:0], coord...), '|'), parent, 10))
	if args != nil {
		b, err := json.Marshal(args)
		if err != nil {
			panic(fmt.Sprintf("graph: cache key args for %s: %v", coord, err)) // args are plain structs
		}
		if len(b) > maxKeyArgs {
			sum := sha256.Sum256(b)
			return key + "|#" + hex.EncodeToString(sum[:])
		}
		key += "|" + string(b)
	}
	return key
}

// readThrough returns one value per key, reading through the cache under
// coord (its TTL is the coordinate's maxAge; PRIVATE coordinates are keyed
// per caller). lookup names each key's entry
// and tags; fetch reads the misses from the database in one call and returns
// what it found. Keys fetch does not return are cached as null (negative
// caching; the tags say when to forget it). Decoded values are kept beside
// their bytes (cache.Decoded) and shared: callers must not modify them.
func readThrough[K comparable, V any](ctx context.Context, r *Resolver, coord string, keys []K,
	lookup func(K) cache.Lookup, fetch func(context.Context, []K) (map[K]V, error)) ([]V, error) {
	lookups := lookupsOf(ctx, r, coord, keys, lookup)
	vals := make([]V, len(keys))
	fetched := make([]bool, len(keys)) // filled from this call's fetch: no need to decode
	raw, err := r.Cache.Load(ctx, coord, r.Policy.TTL(coord), lookups,
		func(ctx context.Context, misses []int) ([][]byte, error) {
			missKeys := make([]K, len(misses))
			for j, i := range misses {
				missKeys[j] = keys[i]
			}
			found, err := withShare(coord, fetch)(ctx, missKeys)
			if err != nil {
				return nil, err
			}
			out := make([][]byte, len(misses))
			for j, k := range missKeys {
				if out[j], err = json.Marshal(found[k]); err != nil {
					return nil, fmt.Errorf("graph: encode %s: %w", coord, err)
				}
				vals[misses[j]], fetched[misses[j]] = found[k], true
			}
			return out, nil
		})
	if err != nil {
		return nil, err
	}
	for i, b := range raw {
		if fetched[i] {
			continue
		}
		if vals[i], err = decode[V](r, coord, lookups[i].Key, b); err != nil {
			return nil, err
		}
	}
	return vals, nil
}

// peek returns the values of the keys the cache holds in process
// (cache.Peek), hit[i] saying which: no entry read and no wait.
func peek[K comparable, V any](ctx context.Context, r *Resolver, coord string, keys []K,
	lookup func(K) cache.Lookup) (vals []V, hit []bool, err error) {
	lookups := lookupsOf(ctx, r, coord, keys, lookup)
	raw, hit := r.Cache.Peek(ctx, coord, lookups)
	vals = make([]V, len(keys))
	for i, b := range raw {
		if !hit[i] {
			continue
		}
		if vals[i], err = decode[V](r, coord, lookups[i].Key, b); err != nil {
			return nil, nil, err
		}
	}
	return vals, hit, nil
}

// lookupsOf names the entries of keys under coord; a PRIVATE coordinate's
// are the caller's own.
func lookupsOf[K any](ctx context.Context, r *Resolver, coord string, keys []K, lookup func(K) cache.Lookup) []cache.Lookup {
	private := r.Policy.Private(coord)
	lookups := make([]cache.Lookup, len(keys))
	for i, k := range keys {
		lookups[i] = lookup(k)
		if private {
			lookups[i].Key += "|viewer:" + viewer(ctx)
		}
	}
	return lookups
}

// decode returns the value of the payload b of the entry at key (nil or
// empty: the zero value), kept decoded beside its bytes (cache.Decoded) so
// a warm hit decodes nothing.
func decode[V any](r *Resolver, coord, key string, b []byte) (V, error) {
	if len(b) == 0 {
		var zero V
		return zero, nil
	}
	decoded := r.Cache.Decoded()
	if d, ok := decoded.Get(key, b); ok {
		if d, ok := d.(V); ok {
			return d, nil
		}
	}
	return decodeNew[V](decoded, coord, key, b)
}

// decodeNew decodes b and keeps the value. It is decode's miss, apart so
// that the value it decodes into (which escapes to json.Unmarshal) is not
// allocated on every hit.
func decodeNew[V any](decoded *cache.Decoded, coord, key string, b []byte) (V, error) {
	var v V
	if err := json.Unmarshal(b, &v); err != nil {
		return v, fmt.Errorf("graph: decode %s: %w", coord, err)
	}
	decoded.Put(key, b, v)
	return v, nil
}

// readOne reads a single argument-keyed value, under l, through the cache.
func readOne[V any](ctx context.Context, r *Resolver, coord string, l cache.Lookup,
	fetch func(context.Context) (V, error)) (V, error) {
	vals, err := readThrough(ctx, r, coord, []string{l.Key},
		func(string) cache.Lookup { return l },
		func(ctx context.Context, _ []string) (map[string]V, error) {
			v, err := fetch(ctx)
			if err != nil {
				return nil, err
			}
			return map[string]V{l.Key: v}, nil
		})
	if err != nil {
		var zero V
		return zero, err
	}
	return vals[0], nil
}
