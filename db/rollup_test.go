package db_test

import (
	"context"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/db/dbtest"
)

// rollupSums reads rollup rows (destination_id, bucket, posts, positive,
// neutral, negative, score_sum) and sums them by keys(bucket), which
// lists the keys each row adds to.
func rollupSums(t *testing.T, s *db.Store, query string, keys func(bucket int64) []int64) (map[[2]int64][4]int64, map[[2]int64]float64) {
	t.Helper()
	type row struct {
		DestinationID, Bucket, Posts, Positive, Neutral, Negative int64
		ScoreSum                                                  float64
	}
	var rows []row
	if err := s.DB.NewRaw(query).Scan(context.Background(), &rows); err != nil {
		t.Fatal(err)
	}
	sums, scores := map[[2]int64][4]int64{}, map[[2]int64]float64{}
	for _, r := range rows {
		for _, key := range keys(r.Bucket) {
			k := [2]int64{r.DestinationID, key}
			v := sums[k]
			sums[k] = [4]int64{v[0] + r.Posts, v[1] + r.Positive, v[2] + r.Neutral, v[3] + r.Negative}
			scores[k] += r.ScoreSum
		}
	}
	return sums, scores
}

const hourlyRows = "SELECT destination_id, bucket, posts, positive, neutral, negative, score_sum FROM post_rollups ORDER BY 1, 2"

func itself(bucket int64) []int64 { return []int64{bucket} }

// wantDailyMatchesHourly checks that the stored daily rollups and span
// rollups are the sums of the hourly ones.
func wantDailyMatchesHourly(t *testing.T, s *db.Store) {
	t.Helper()
	days := func(bucket int64) []int64 { return []int64{bucket - bucket%86400} }
	stored, storedScore := rollupSums(t, s, "SELECT destination_id, day AS bucket, posts, positive, neutral, negative, score_sum FROM post_rollups_daily ORDER BY 1, 2", itself)
	hourly, hourlyScore := rollupSums(t, s, hourlyRows, days)
	if len(hourly) == 0 {
		t.Fatal("no rollups")
	}
	if !reflect.DeepEqual(stored, hourly) || !reflect.DeepEqual(storedScore, hourlyScore) {
		t.Fatalf("daily rollups (%d days) differ from the sums of the hourly ones (%d days)", len(stored), len(hourly))
	}
	stored, storedScore = rollupSums(t, s, "SELECT destination_id, span AS bucket, posts, positive, neutral, negative, score_sum FROM post_rollup_spans ORDER BY 1, 2", itself)
	hourly, hourlyScore = rollupSums(t, s, hourlyRows, db.SpanKeys)
	if !reflect.DeepEqual(stored, hourly) || !reflect.DeepEqual(storedScore, hourlyScore) {
		t.Fatalf("span rollups (%d) differ from the sums of the hourly ones (%d)", len(stored), len(hourly))
	}
	wantSeriesMatchRollups(t, s)
}

// wantSeriesMatchRollups checks that the series rollups hold exactly the
// hourly and daily rollups, score sums to the last bit.
func wantSeriesMatchRollups(t *testing.T, s *db.Store) {
	t.Helper()
	ctx := context.Background()
	series, err := db.SeriesPoints(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	want := map[[3]int64][2]float64{}
	for unit, query := range map[int64]string{
		3600:  "SELECT destination_id, bucket, posts, score_sum FROM post_rollups",
		86400: "SELECT destination_id, day, posts, score_sum FROM post_rollups_daily",
	} {
		rows, err := s.DB.QueryContext(ctx, query)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var dest, at, posts int64
			var score float64
			if err := rows.Scan(&dest, &at, &posts, &score); err != nil {
				t.Fatal(err)
			}
			want[[3]int64{dest, unit, at}] = [2]float64{float64(posts), score}
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if len(want) == 0 {
		t.Fatal("no rollups")
	}
	for k, v := range want {
		if got, ok := series[k]; !ok || math.Float64bits(got[1]) != math.Float64bits(v[1]) || got[0] != v[0] {
			t.Fatalf("series point %v = %v, want %v (the rollup's)", k, got, v)
		}
	}
	if len(series) != len(want) {
		t.Fatalf("%d series points, want %d (one per hourly and daily rollup)", len(series), len(want))
	}
}

// analyticsAnswers are every analytics answer of a store at its clock's
// instant, computed by the daily reads (daily) or by the hourly reference.
func analyticsAnswers(t *testing.T, s *db.Store, ids []int64, filters []db.DestinationFilter, r db.TimeRange, hourly bool) []any {
	t.Helper()
	ctx := context.Background()
	var out []any
	add := func(v any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	sentimentBy, sentiment, trends, top := s.SentimentByDestinations, s.Sentiment, s.TrendsByDestinations, s.TopDestinations
	if hourly {
		sentimentBy, sentiment, trends, top = s.HourlySentimentByDestinations, s.HourlySentiment, s.HourlyTrendsByDestinations, s.HourlyTopDestinations
	}
	add(sentimentBy(ctx, ids, r))
	add(trends(ctx, ids, r))
	add(sentiment(ctx, nil, nil, r))
	// The per-id read is one query shape: a few ids and the absent one.
	for _, id := range append(ids[:min(4, len(ids)):min(4, len(ids))], ids[len(ids)-1]) {
		add(sentiment(ctx, &id, nil, r))
	}
	for _, f := range filters {
		if f.Category == nil {
			add(sentiment(ctx, nil, f.City, r))
		}
		for _, limit := range []int{3, db.MaxFirst} {
			add(top(ctx, r, f, limit))
		}
	}
	return out
}

// TestDailyReadsEqualHourly checks every analytics answer read from span
// and daily rollups against the reference computed from hourly rollups alone, to the
// last bit, on a seeded data set plus posts on the hour and day boundaries
// of every window, at instants on both sides of hour and day boundaries.
// The scores are eighths, whose sums are exact in any order; with real
// scores, sums in a different order may differ in the last bit (as the
// dialects already do).
func TestDailyReadsEqualHourly(t *testing.T) {
	t.Parallel()
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		ctx := context.Background()
		db.SetScorer(s, eighthsScorer)
		if err := s.Seed(ctx, db.SeedOptions{Destinations: 24, Posts: 6000, Seed: 3}); err != nil {
			t.Fatal(err)
		}
		dests, err := s.ListDestinations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, d := range dests {
			ids = append(ids, d.ID)
		}
		now := clock.Now()
		rng := rand.New(rand.NewPCG(5, 8))
		var batch []db.PostInput
		add := func(at time.Time) {
			d := dests[rng.IntN(len(dests))]
			batch = append(batch, db.PostInput{Source: "edge", ExternalID: fmt.Sprint(len(batch)), Text: fmt.Sprint("edge ", len(batch)),
				PostedAt: at, DestinationID: &d.ID})
		}
		for _, r := range db.TimeRanges {
			for _, shift := range []time.Duration{0, time.Hour, 12 * time.Hour, 2 * day} {
				start, end := r.Window(now.Add(shift))
				prev, _ := r.PreviousWindow(now.Add(shift))
				for _, at := range []time.Time{start, start.Add(-time.Microsecond), end.Add(-time.Microsecond), prev, prev.Add(-time.Microsecond),
					start.Truncate(day), start.Truncate(day).Add(-time.Microsecond), end.Truncate(day)} {
					if !at.After(now) {
						add(at)
					}
				}
			}
		}
		for range 2000 { // the 180 days of the widest pair of windows
			add(now.Add(-time.Duration(rng.Int64N(int64(181 * day)))))
		}
		for start := 0; start < len(batch); start += 500 {
			if _, _, err := s.IngestPosts(ctx, batch[start:min(start+500, len(batch))]); err != nil {
				t.Fatal(err)
			}
		}
		wantDailyMatchesHourly(t, s)

		cities := map[string]bool{}
		filters := []db.DestinationFilter{{}, {Category: ptr(db.CategoryBeach)}}
		for _, d := range dests { // two cities: every city is one query shape
			if !cities[d.CitySlug] && len(cities) < 2 {
				cities[d.CitySlug] = true
				filters = append(filters, db.DestinationFilter{City: ptr(d.City)}, db.DestinationFilter{City: ptr(d.City), Category: ptr(d.Category)})
			}
		}
		ids = append(ids, 999)
		midnight := now.Truncate(day).Add(day)
		instants := []time.Time{now, midnight.Add(-time.Microsecond), midnight, midnight.Add(30 * time.Minute),
			midnight.Add(-time.Hour), now.Add(13*time.Hour + time.Second)}
		// Windows starting and ending at the edges of the longest spans,
		// and at random hours.
		edge := now.Truncate(db.LongestSpan)
		for _, at := range []time.Time{edge, edge.Add(-time.Microsecond), edge.Add(90 * day), edge.Add(90*day - time.Microsecond),
			edge.Add(30*day + 5*time.Hour)} {
			instants = append(instants, at)
		}
		for range 2 {
			instants = append(instants, now.Add(time.Duration(rng.Int64N(int64(60*day)))))
		}
		for _, at := range instants {
			clock.Set(at)
			for _, r := range db.TimeRanges {
				daily := analyticsAnswers(t, s, ids, filters, r, false)
				hourly := analyticsAnswers(t, s, ids, filters, r, true)
				for i := range hourly {
					if !reflect.DeepEqual(daily[i], hourly[i]) {
						t.Fatalf("%s at %s, answer %d:\n daily  %s\n hourly %s", r, at, i, show2(daily[i]), show2(hourly[i]))
					}
				}
			}
		}
	})
}

// TestTrendsEqualDailyReads checks the trends read from series rollups
// against the same trends read from the daily and hourly rollups they
// pack (the reads before them), bit for bit, with the real scorer's
// scores, whose sums depend on their order: a whole day is its daily
// rollup, an edge day the sum of its hours in time order, either way. It
// also checks that a trend reads a few rows per destination, not one per
// day.
func TestTrendsEqualDailyReads(t *testing.T) {
	t.Parallel()
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		ctx := context.Background()
		if err := s.Seed(ctx, db.SeedOptions{Destinations: 12, Posts: 4000, Seed: 7}); err != nil {
			t.Fatal(err)
		}
		dests, err := s.ListDestinations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		now := clock.Now()
		rng := rand.New(rand.NewPCG(2, 9))
		var batch []db.PostInput
		for i := range 3000 { // every hour of the 180 days of the widest pair of windows, some twice
			d := dests[rng.IntN(len(dests))]
			at := now.Add(-time.Duration(i) * time.Hour)
			if i >= 181*24 {
				at = now.Add(-time.Duration(rng.Int64N(int64(181 * day))))
			}
			batch = append(batch, db.PostInput{Source: "every hour", ExternalID: fmt.Sprint(i), PostedAt: at,
				Text: fmt.Sprintf("post %d: a lovely, clean and friendly place, or a dirty noisy one", i), DestinationID: &d.ID})
		}
		for start := 0; start < len(batch); start += 500 {
			if _, _, err := s.IngestPosts(ctx, batch[start:min(start+500, len(batch))]); err != nil {
				t.Fatal(err)
			}
		}
		wantSeriesMatchRollups(t, s)
		ids := []int64{999}
		for _, d := range dests {
			ids = append(ids, d.ID)
		}
		midnight := now.Truncate(day).Add(day)
		for _, at := range []time.Time{now, midnight.Add(-time.Microsecond), midnight, midnight.Add(30 * time.Minute),
			midnight.Add(-time.Hour), now.Add(13*time.Hour + time.Second), now.Add(40 * day)} {
			clock.Set(at)
			for _, r := range db.TimeRanges {
				got, err := s.TrendsByDestinations(ctx, ids, r)
				if err != nil {
					t.Fatal(err)
				}
				want, err := s.DailyTrendsByDestinations(ctx, ids, r)
				if err != nil {
					t.Fatal(err)
				}
				if g, w := exactTrends(got), exactTrends(want); g != w {
					t.Fatalf("%s at %s:\n series %s\n daily  %s", r, at, g, w)
				}
				rows, err := db.TrendRows(ctx, s, ids, r)
				if err != nil {
					t.Fatal(err)
				}
				// Per destination: the rows of days of both windows (at
				// most 181 days, 7 rows of 32) and 3 rows of hours.
				if most := (len(ids) - 1) * (7 + 3); rows > most {
					t.Errorf("%s at %s: %d rows read for %d destinations, want at most %d", r, at, rows, len(ids)-1, most)
				}
			}
		}
	})
}

// TestConcurrentIngestsKeepSeries ingests posts of one destination from
// two goroutines at once, on days of one series row that share no hourly,
// daily or span rollup (either side of a longest span's start): each
// write reads and rewrites the series row, so without its lock one would
// lose the other's posts.
func TestConcurrentIngestsKeepSeries(t *testing.T) {
	t.Parallel()
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		ctx := context.Background()
		db.SetScorer(s, eighthsScorer)
		d := mustDestination(t, s, "Pantai Cenang", "Langkawi", db.CategoryBeach)
		span, block := int64(db.LongestSpan/time.Second), int64(32*day/time.Second)
		edge := dbtest.Epoch.Unix()/span*span - span
		for edge%block == 0 || (edge-3600)/block != (edge+2*86400)/block {
			edge -= span
		}
		// One writer posts in the hours before edge, the other on the
		// day after the next.
		sides := []time.Time{time.Unix(edge, 0).UTC(), time.Unix(edge, 0).UTC().Truncate(day).Add(day)}
		const batches, posts = 25, 4
		errs := make(chan error, len(sides))
		for w, side := range sides {
			go func() {
				for n := range batches {
					var batch []db.PostInput
					for i := range posts {
						at := side.Add(time.Duration(i) * time.Hour)
						if w == 0 {
							at = side.Add(-time.Duration(i+1) * time.Hour)
						}
						batch = append(batch, db.PostInput{Source: "concurrent", ExternalID: fmt.Sprint(w, "-", n, "-", i),
							Text: fmt.Sprint("post ", w, n, i), PostedAt: at, DestinationID: &d.ID})
					}
					for {
						_, _, err := s.IngestPosts(ctx, batch)
						if db.IsUnavailable(err) {
							continue // SQLite's writer was busy
						}
						if err != nil {
							errs <- err
							return
						}
						break
					}
				}
				errs <- nil
			}()
		}
		for range sides {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		wantSeriesMatchRollups(t, s)
	})
}

// exactTrends shows trends in id order with every float's bits.
func exactTrends(trends map[int64]*db.Trend) string {
	ids := slices.Sorted(maps.Keys(trends))
	var b strings.Builder
	f := func(x float64) string { return strconv.FormatFloat(x, 'b', -1, 64) }
	for _, id := range ids {
		t := trends[id]
		fmt.Fprintf(&b, "%d %s %d %d %s %s [", id, t.Range, t.Mentions, t.PreviousMentions, f(t.Growth), f(t.AverageScore))
		for _, p := range t.Series {
			fmt.Fprintf(&b, " %s %d %s", p.Date.Format(time.RFC3339), p.Mentions, f(p.AverageScore))
		}
		b.WriteString(" ]\n")
	}
	return b.String()
}

const day = 24 * time.Hour

func show2(v any) string {
	switch v := v.(type) {
	case map[int64]*db.Trend:
		s := ""
		for id, t := range v {
			s += fmt.Sprintf("%d:%+v ", id, *t)
		}
		return s
	case []db.DestinationRank:
		return fmt.Sprintf("%+v", v)
	}
	return fmt.Sprintf("%+v", v)
}

// TestDailyRollupsBackfill checks the migrations that fill the daily, span
// and series rollups of a database that had only hourly ones.
func TestDailyRollupsBackfill(t *testing.T) {
	t.Parallel()
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		ctx := context.Background()
		db.SetScorer(s, eighthsScorer)
		if err := s.Seed(ctx, db.SeedOptions{Destinations: 10, Posts: 1500, Seed: 9}); err != nil {
			t.Fatal(err)
		}
		wantDailyMatchesHourly(t, s)
		if _, err := s.DB.NewRaw("DELETE FROM post_rollups_daily").Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if err := db.BackfillDailyRollups(ctx, s); err != nil {
			t.Fatal(err)
		}
		wantDailyMatchesHourly(t, s)
		if err := db.BackfillDailyRollups(ctx, s); err != nil { // runs again
			t.Fatal(err)
		}
		wantDailyMatchesHourly(t, s)
		if _, err := s.DB.NewRaw("DELETE FROM post_rollup_spans").Exec(ctx); err != nil {
			t.Fatal(err)
		}
		for range 2 { // runs again
			if err := db.BackfillSpanRollups(ctx, s); err != nil {
				t.Fatal(err)
			}
			wantDailyMatchesHourly(t, s)
		}
		if _, err := s.DB.NewRaw("DELETE FROM post_rollup_series").Exec(ctx); err != nil {
			t.Fatal(err)
		}
		for range 2 { // runs again
			if err := db.BackfillSeriesRollups(ctx, s); err != nil {
				t.Fatal(err)
			}
			wantSeriesMatchRollups(t, s)
		}
	})
}
