package respcache_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/kedahpulse/kedahpulse/graph/respcache"
)

// The counts hold at most Capacity requests whatever the traffic, skip
// requests too large to keep, and a request sent often stays on top
// through a flood of distinct ones.
func TestWarmerCountsAreBounded(t *testing.T) {
	const capacity = 1000
	w := respcache.NewWarmer(respcache.WarmOptions{Capacity: capacity})
	hot := []byte(`{"hot":true}`)
	for i := range 100_000 {
		w.Count("doc", "{ sentimentSummary { total } }", []byte(`{"i":`+strconv.Itoa(i)+`}`), "all,analytics")
		if i%10 == 0 {
			w.Count("doc", "{ sentimentSummary { total } }", hot, "all,analytics")
		}
		if got := w.Stats().Tracked; got > capacity {
			t.Fatalf("after %d requests: %d tracked, above the capacity %d", i+1, got, capacity)
		}
	}
	if got := w.Stats().Tracked; got != capacity {
		t.Errorf("tracked %d, want the capacity %d", got, capacity)
	}
	if top := w.Picked("analytics"); len(top) != respcache.DefaultWarmTop || top[0] != string(hot) {
		t.Errorf("picked %d, first %q; want %d with the hot request first", len(top), top[0], respcache.DefaultWarmTop)
	}
	if got := w.Picked("destination:1:analytics"); len(got) != 0 {
		t.Errorf("picked %d requests for a tag none carries", len(got))
	}

	w = respcache.NewWarmer(respcache.WarmOptions{})
	w.Count("doc", strings.Repeat(" ", respcache.DefaultWarmMaxBytes), nil, "analytics")
	w.Count("doc", "{ properties { totalCount } }", nil, "all,properties")
	if got := w.Stats().Tracked; got != 0 {
		t.Errorf("tracked %d; want none (too large, and not analytics)", got)
	}
}
