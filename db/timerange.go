package db

import "time"

// TimeRange is an analytics window ending now.
type TimeRange string

const (
	Last24Hours TimeRange = "LAST_24_HOURS"
	Last7Days   TimeRange = "LAST_7_DAYS"
	Last30Days  TimeRange = "LAST_30_DAYS"
	Last90Days  TimeRange = "LAST_90_DAYS"
)

// TimeRanges lists every TimeRange in schema order.
var TimeRanges = []TimeRange{Last24Hours, Last7Days, Last30Days, Last90Days}

// BucketSize is the granularity of the sentiment rollups and of every window.
const BucketSize = time.Hour

// Duration is the length of the range.
func (r TimeRange) Duration() time.Duration {
	switch r {
	case Last24Hours:
		return 24 * time.Hour
	case Last7Days:
		return 7 * 24 * time.Hour
	case Last30Days:
		return 30 * 24 * time.Hour
	case Last90Days:
		return 90 * 24 * time.Hour
	}
	return 0
}

// Valid reports whether r is one of TimeRanges.
func (r TimeRange) Valid() bool { return r.Duration() > 0 }

// Window returns the half-open interval [start, end) that r covers at now.
// Windows are aligned to whole rollup buckets: end is the start of the hour
// after now, so the current hour is included and "last 24 hours" is the 24
// hourly buckets ending with the current one. Aligning makes rollup answers
// exactly equal to answers computed from raw posts, and gives a window a
// stable identity (its end) that cache keys can carry.
func (r TimeRange) Window(now time.Time) (start, end time.Time) {
	end = now.UTC().Truncate(BucketSize).Add(BucketSize)
	return end.Add(-r.Duration()), end
}

// PreviousWindow is the window of the same length just before Window.
func (r TimeRange) PreviousWindow(now time.Time) (start, end time.Time) {
	s, _ := r.Window(now)
	return s.Add(-r.Duration()), s
}
