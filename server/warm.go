package main

import (
	"fmt"
	"strconv"

	"github.com/kedahpulse/kedahpulse/graph/respcache"
)

// warmVars reads WARM_TOP (requests replayed after an analytics
// invalidation, default 50, 0 turns warming off) and WARM_CONCURRENCY
// (replays at once, default 2).
func warmVars(getenv func(string) string) (top, concurrency int, err error) {
	top, concurrency = respcache.DefaultWarmTop, respcache.DefaultWarmConcurrency
	if v := getenv("WARM_TOP"); v != "" {
		if top, err = strconv.Atoi(v); err != nil || top < 0 || top > 10_000 {
			return 0, 0, fmt.Errorf("WARM_TOP %q: want a whole number from 0 (off) to 10000", v)
		}
	}
	if v := getenv("WARM_CONCURRENCY"); v != "" {
		if concurrency, err = strconv.Atoi(v); err != nil || concurrency < 1 || concurrency > 64 {
			return 0, 0, fmt.Errorf("WARM_CONCURRENCY %q: want a whole number from 1 to 64", v)
		}
	}
	return top, concurrency, nil
}

// both calls a (if set) then b: two Invalidated hooks as one.
func both(a, b func(tags []string)) func(tags []string) {
	if a == nil {
		return b
	}
	return func(tags []string) { a(tags); b(tags) }
}
