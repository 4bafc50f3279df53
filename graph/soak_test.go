package graph_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/cache/cachetest"
	"github.com/kedahpulse/kedahpulse/db/dbtest"
)

// A long run of mixed reads and writes on PostgreSQL and Redis: goroutines,
// heap and Redis memory level off, and every key written has a TTL. It runs
// for SOAK (for example SOAK=2m); without it, it is skipped.
func TestSoak(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("SOAK"))
	if err != nil {
		t.Skip("set SOAK=<duration> to run the soak test")
	}
	rs := cachetest.NewRedisStore(t)
	client, prefix := rs.Client(), rs.Prefix()
	dbStore, clock := dbtest.Open(t, "postgres")
	e := newEnvOn(t, dbStore, clock, rs)
	e.resolver.LoaderWait = time.Millisecond
	f := newFixture(t, e, 60)

	type sample struct{ goroutines, heap, redis int64 }
	measure := func() sample {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		info, _ := client.Info(context.Background(), "memory").Result()
		used := int64(0)
		for _, line := range strings.Split(info, "\r\n") {
			if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
				used, _ = strconv.ParseInt(v, 10, 64)
			}
		}
		return sample{int64(runtime.NumGoroutine()), int64(m.HeapAlloc), used}
	}
	queries := []string{propertiesQuery, destinationsQuery, dashboardQuery}
	var samples []sample
	var requests, writes int
	deadline := time.Now().Add(d)
	for i := 0; time.Now().Before(deadline); i++ {
		var wg sync.WaitGroup
		for r := range 8 {
			wg.Go(func() {
				e.do(queries[(i+r)%len(queries)], map[string]any{"first": 5 + (i+r)%40}, false)
			})
		}
		p := f.props[rand.IntN(len(f.props))]
		e.ok(`mutation($id: ID!, $t: String) { updateProperty(id: $id, input: {title: $t}) { id } }`,
			map[string]any{"id": sid(p.ID), "t": fmt.Sprint("soak ", i)}, true)
		wg.Wait()
		requests, writes = requests+8, writes+1
		if i%200 == 0 {
			samples = append(samples, measure())
		}
	}
	samples = append(samples, measure())
	t.Logf("%d requests, %d writes in %v; samples (goroutines, heap, redis): %v", requests, writes, d, samples)
	if len(samples) < 4 {
		t.Fatalf("only %d samples: run longer", len(samples))
	}
	mid, last := samples[len(samples)/2], samples[len(samples)-1]
	if last.goroutines > mid.goroutines+10 {
		t.Errorf("goroutines grew from %d to %d in the second half", mid.goroutines, last.goroutines)
	}
	if last.heap > 2*mid.heap+4<<20 {
		t.Errorf("heap grew from %d to %d in the second half", mid.heap, last.heap)
	}
	if last.redis > 2*mid.redis {
		t.Errorf("Redis memory grew from %d to %d in the second half", mid.redis, last.redis)
	}
	keys, err := cachetest.ScanPrefix(context.Background(), client, prefix)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if ttl := client.PTTL(context.Background(), k).Val(); ttl <= 0 {
			t.Errorf("key %s has no TTL (%v)", k, ttl)
		}
	}
	t.Logf("%d keys under the prefix, all with a TTL", len(keys))
}
