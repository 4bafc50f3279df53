package db

import (
	"cmp"
	"slices"
	"testing"
	"time"
)

// TestCoverOf checks that the cover of every window of every range, ending
// at each hour of a stretch longer than the longest span, tiles the window
// exactly and reads at most 2·maxSpanLevel+1 rows per destination (the
// daily reads it replaced read up to 89 days and 46 hours: 135 rows).
func TestCoverOf(t *testing.T) {
	base := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	for _, r := range TimeRanges {
		worst := 0
		for h := range 3000 {
			now := base.Add(time.Duration(h)*time.Hour + 17*time.Minute)
			for _, w := range [][2]time.Time{r.pair(r.Window(now)), r.pair(r.PreviousWindow(now))} {
				start, end := w[0].Unix(), w[1].Unix()
				var runs [][2]int64 // [start, end) of each row
				n := 0
				for _, rs := range windowCover(w[0], w[1]) {
					for _, k := range rs.keys {
						n++
						switch rs.table {
						case "post_rollups":
							runs = append(runs, [2]int64{k, k + secondsPerHour})
						case "post_rollup_spans":
							level := int(k % secondsPerHour)
							if level < 1 || level > maxSpanLevel || (k-int64(level))%spanLength(level) != 0 {
								t.Fatalf("%s at %s: bad span key %d", r, now, k)
							}
							runs = append(runs, [2]int64{k - int64(level), k - int64(level) + spanLength(level)})
						default:
							t.Fatalf("table %s", rs.table)
						}
					}
				}
				slices.SortFunc(runs, func(a, b [2]int64) int { return cmp.Compare(a[0], b[0]) })
				at := start
				for _, run := range runs {
					if run[0] != at {
						t.Fatalf("%s at %s: a run starts at %d, want %d", r, now, run[0], at)
					}
					at = run[1]
				}
				if at != end {
					t.Fatalf("%s at %s: the runs end at %d, want %d", r, now, at, end)
				}
				worst = max(worst, n)
			}
		}
		if worst > 2*maxSpanLevel+1 {
			t.Errorf("%s: up to %d rows per destination, want at most %d", r, worst, 2*maxSpanLevel+1)
		}
		t.Logf("%s: at most %d rows per destination", r, worst)
	}
}

func (TimeRange) pair(start, end time.Time) [2]time.Time { return [2]time.Time{start, end} }
