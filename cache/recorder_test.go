package cache_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/cache/cachetest"
)

func TestRecorder(t *testing.T) {
	cachetest.EachStore(t, func(t *testing.T, s cachetest.Store) {
		c := newCache(t, s, cache.Options{})
		f := cachetest.NewFiller(cachetest.NewSource())
		a := []cache.Lookup{{Key: "a", Tags: []string{"x", "y"}}}
		b := []cache.Lookup{{Key: "b", Tags: []string{"x"}}}

		ctx, rec := cache.WithRecorder(context.Background())
		cachetest.MustLoad(t, c, ctx, a, f.Fill(a)) // fill: captured versions
		filled, ok := rec.Versions()
		if !ok || len(filled) != 3 || filled["x"] == "" || filled["y"] == "" || filled[cache.AllTag] == "" {
			t.Fatalf("after a fill: %v %v", filled, ok)
		}
		ctx, rec = cache.WithRecorder(context.Background())
		cachetest.MustLoad(t, c, ctx, a, f.Fill(a)) // hit: the stored header
		hit, ok := rec.Versions()
		if !ok || fmt.Sprint(hit) != fmt.Sprint(filled) {
			t.Fatalf("after a hit: %v %v, want %v", hit, ok, filled)
		}

		// A response whose parts straddle an invalidation is inconsistent.
		ctx, rec = cache.WithRecorder(context.Background())
		cachetest.MustLoad(t, c, ctx, a, f.Fill(a))
		cachetest.MustInvalidate(t, c, "x")
		cachetest.MustLoad(t, c, ctx, b, f.Fill(b))
		if v, ok := rec.Versions(); ok {
			t.Fatalf("x seen at two versions, yet consistent: %v", v)
		}

		ctx, rec = cache.WithRecorder(context.Background())
		cachetest.MustLoad(t, c, ctx, b, f.Fill(b))
		rec.Disable()
		if _, ok := rec.Versions(); ok {
			t.Fatal("disabled recorder is consistent")
		}
	})
}
