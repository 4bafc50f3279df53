package db

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// The reference computation of every analytics answer: the statements that
// read only the hourly rollups, kept as they were before the daily rollups
// so that a test can check that the daily reads give the same numbers.

// HourlySentimentByDestinations sums each destination's rollups in r's window in
// one statement. Every requested id is a key of the result.
func (s *Store) HourlySentimentByDestinations(ctx context.Context, ids []int64, r TimeRange) (map[int64]SentimentSummary, error) {
	if err := checkRange(r); err != nil {
		return nil, err
	}
	out := make(map[int64]SentimentSummary, len(ids))
	for _, id := range ids {
		out[id] = SentimentSummary{Range: r}
	}
	if len(ids) == 0 {
		return out, nil
	}
	start, end := bucketWindow(r.Window(s.windowNow(ctx)))
	var rows []struct {
		DestinationID int64
		rollupSums
	}
	err := s.DB.NewSelect().TableExpr("post_rollups AS r").
		ColumnExpr("r.destination_id").ColumnExpr(sumColumns).
		Where("r.destination_id IN (?)", bun.In(ids)).
		Where("r.bucket >= ? AND r.bucket < ?", start, end).
		GroupExpr("r.destination_id").
		Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("db: sentiment by destinations: %w", err)
	}
	for _, row := range rows {
		out[row.DestinationID] = row.summary(r)
	}
	return out, nil
}

// HourlySentiment sums the rollups in r's window of one destination, of one
// city's destinations, of both (their intersection) or, with both nil, of
// everything.
func (s *Store) HourlySentiment(ctx context.Context, destinationID *int64, city *string, r TimeRange) (SentimentSummary, error) {
	if err := checkRange(r); err != nil {
		return SentimentSummary{}, err
	}
	if err := checkCityFilter("city", city); err != nil {
		return SentimentSummary{}, err
	}
	start, end := bucketWindow(r.Window(s.windowNow(ctx)))
	q := s.DB.NewSelect().TableExpr("post_rollups AS r").ColumnExpr(sumColumns).
		Where("r.bucket >= ? AND r.bucket < ?", start, end)
	if destinationID != nil {
		q = q.Where("r.destination_id = ?", *destinationID)
	}
	if city != nil {
		q = q.Where("r.destination_id IN (SELECT d.id FROM destinations AS d WHERE d.city_slug = ?)", CitySlug(*city))
	}
	var sums rollupSums
	if err := q.Scan(ctx, &sums); err != nil {
		return SentimentSummary{}, fmt.Errorf("db: sentiment: %w", err)
	}
	return sums.summary(r), nil
}

// trendAcc sums one destination's trend in a reference read.
type trendAcc struct {
	trend  *Trend
	sum    float64
	daySum []float64
}

// newTrendAccs starts the trend over r of each of ids, with a point per
// UTC day touched by [start, end) (days), and its sums.
func newTrendAccs(ids []int64, r TimeRange, start, end time.Time) (accs map[int64]*trendAcc, out map[int64]*Trend, days []time.Time) {
	for d := start.Truncate(day); d.Before(end); d = d.Add(day) {
		days = append(days, d)
	}
	accs, out = make(map[int64]*trendAcc, len(ids)), make(map[int64]*Trend, len(ids))
	for _, id := range ids {
		t := &Trend{DestinationID: id, Range: r, Series: make([]TrendPoint, len(days))}
		for i, d := range days {
			t.Series[i].Date = d
		}
		out[id] = t
		accs[id] = &trendAcc{trend: t, daySum: make([]float64, len(days))}
	}
	return accs, out, days
}

// HourlyTrendsByDestinations computes each destination's trend over r in one
// statement reading the previous and the current window's rollups, summed
// per destination, window and UTC day. Every requested id is a key.
func (s *Store) HourlyTrendsByDestinations(ctx context.Context, ids []int64, r TimeRange) (map[int64]*Trend, error) {
	if err := checkRange(r); err != nil {
		return nil, err
	}
	now := s.windowNow(ctx)
	start, end := r.Window(now)
	prevStart, _ := r.PreviousWindow(now)
	accs, out, days := newTrendAccs(ids, r, start, end)
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		DestinationID int64
		InWindow      int64
		DayStart      int64
		Posts         int64
		ScoreSum      float64
	}
	err := s.DB.NewSelect().TableExpr("post_rollups AS r").
		ColumnExpr("r.destination_id").
		ColumnExpr("CASE WHEN r.bucket >= ? THEN 1 ELSE 0 END AS in_window", start.Unix()).
		ColumnExpr("(r.bucket / 86400) * 86400 AS day_start").
		ColumnExpr("CAST(SUM(r.posts) AS BIGINT) AS posts").
		ColumnExpr("CAST(SUM(r.score_sum) AS DOUBLE PRECISION) AS score_sum").
		Where("r.destination_id IN (?)", bun.In(ids)).
		Where("r.bucket >= ? AND r.bucket < ?", prevStart.Unix(), end.Unix()).
		GroupExpr("1, 2, 3").
		Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("db: trends by destinations: %w", err)
	}
	first := days[0].Unix()
	for _, row := range rows {
		a := accs[row.DestinationID]
		if a == nil {
			continue
		}
		if row.InWindow == 0 {
			a.trend.PreviousMentions += int(row.Posts)
			continue
		}
		a.trend.Mentions += int(row.Posts)
		a.sum += row.ScoreSum
		i := int((row.DayStart - first) / int64(day/time.Second))
		a.trend.Series[i].Mentions += int(row.Posts)
		a.daySum[i] += row.ScoreSum
	}
	for _, a := range accs {
		t := a.trend
		t.Growth = float64(t.Mentions-t.PreviousMentions) / float64(max(t.PreviousMentions, 1))
		t.AverageScore = average(a.sum, int64(t.Mentions))
		for i := range t.Series {
			t.Series[i].AverageScore = average(a.daySum[i], int64(t.Series[i].Mentions))
		}
	}
	return out, nil
}

// HourlyTopDestinations ranks the destinations matching f by mentions in r's
// window (then average score, then id) in one statement. Destinations
// without mentions are left out; ranks count from 1.
func (s *Store) HourlyTopDestinations(ctx context.Context, r TimeRange, f DestinationFilter, limit int) ([]DestinationRank, error) {
	if err := checkRange(r); err != nil {
		return nil, err
	}
	if err := checkDestinationFilter(f); err != nil {
		return nil, err
	}
	ranks := []DestinationRank{}
	if limit <= 0 {
		return ranks, nil
	}
	start, end := bucketWindow(r.Window(s.windowNow(ctx)))
	q := s.DB.NewSelect().TableExpr("post_rollups AS r").
		Join("JOIN destinations AS d ON d.id = r.destination_id").
		ColumnExpr("r.destination_id").
		ColumnExpr("CAST(SUM(r.posts) AS BIGINT) AS mentions").
		ColumnExpr("CAST(SUM(r.score_sum) AS DOUBLE PRECISION) AS score_total").
		ColumnExpr("CAST(SUM(r.score_sum) AS DOUBLE PRECISION) / CAST(SUM(r.posts) AS DOUBLE PRECISION) AS average_score").
		Where("r.bucket >= ? AND r.bucket < ?", start, end)
	if f.City != nil {
		q = q.Where("d.city_slug = ?", CitySlug(*f.City))
	}
	if f.Category != nil {
		q = q.Where("d.category = ?", *f.Category)
	}
	var rows []struct {
		DestinationID int64
		Mentions      int64
		ScoreTotal    float64
		AverageScore  float64
	}
	err := q.GroupExpr("r.destination_id").
		Having("SUM(r.posts) > 0").
		OrderExpr("mentions DESC, average_score DESC, r.destination_id ASC").
		Limit(int64(limit)).
		Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("db: top destinations: %w", err)
	}
	for i, row := range rows {
		ranks = append(ranks, DestinationRank{
			Rank:          i + 1,
			DestinationID: row.DestinationID,
			Mentions:      int(row.Mentions),
			AverageScore:  average(row.ScoreTotal, row.Mentions),
		})
	}
	return ranks, nil
}

// bucketWindow converts a window [start, end) to rollup buckets (unix seconds).
func bucketWindow(start, end time.Time) (int64, int64) { return start.Unix(), end.Unix() }

// DailyTrendsByDestinations is TrendsByDestinations as it read the
// current window's daily and hourly rollups, one row per day or hour,
// summed per destination and UTC day, the previous window's cover per
// destination. Its rows are summed in time order, the order SQLite read
// them in; PostgreSQL read them in the order of its plan, sometimes the
// table's, so its edge days could differ from an hourly sum in the last
// bit. Every requested id is a key.
func (s *Store) DailyTrendsByDestinations(ctx context.Context, ids []int64, r TimeRange) (map[int64]*Trend, error) {
	if err := checkRange(r); err != nil {
		return nil, err
	}
	now := s.windowNow(ctx)
	start, end := r.Window(now)
	prevStart, prevEnd := r.PreviousWindow(now)
	accs, out, days := newTrendAccs(ids, r, start, end)
	if len(ids) == 0 {
		return out, nil
	}
	// The previous window is only its posts (window 1).
	windows := [][]rowSet{dailyDayRows(start, end), windowCover(prevStart, prevEnd)}
	from, args := rollupRows(windows, "destination_id IN (?)", bun.In(ids))
	rows, err := s.DB.NewSelect().TableExpr(from, args...).
		ColumnExpr("r.destination_id, r.bucket, r.posts, r.score_sum, r.win").
		OrderExpr("r.destination_id, r.bucket").
		Rows(ctx)
	if err != nil {
		return nil, fmt.Errorf("db: trends by destinations: %w", err)
	}
	defer rows.Close()
	first := days[0].Unix()
	var id, bucket, posts, win int64
	var score float64
	dest := []any{&id, &bucket, &posts, &score, &win}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("db: trends by destinations: %w", err)
		}
		a := accs[id]
		if a == nil {
			continue
		}
		if win == 1 {
			a.trend.PreviousMentions += int(posts)
			continue
		}
		i := int((dayOf(bucket) - first) / secondsPerDay)
		a.trend.Series[i].Mentions += int(posts)
		a.daySum[i] += score
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: trends by destinations: %w", err)
	}
	for _, a := range accs {
		t := a.trend
		for i, pt := range t.Series {
			t.Mentions += pt.Mentions
			a.sum += a.daySum[i]
		}
		t.Growth = float64(t.Mentions-t.PreviousMentions) / float64(max(t.PreviousMentions, 1))
		t.AverageScore = average(a.sum, int64(t.Mentions))
		for i := range t.Series {
			t.Series[i].AverageScore = average(a.daySum[i], int64(t.Series[i].Mentions))
		}
	}
	return out, nil
}

// dailyDayRows covers the hour-aligned window [start, end) with the daily
// rollups of the whole UTC days inside it and the hourly rollups of the
// hours before the first and after the last.
func dailyDayRows(start, end time.Time) []rowSet {
	hours := func(from, to time.Time) rowSet {
		return rowSet{table: "post_rollups", key: "bucket", from: from.Unix(), to: to.Unix()}
	}
	first := start.Add(day - time.Nanosecond).Truncate(day)
	last := end.Truncate(day)
	if !first.Before(last) {
		return []rowSet{hours(start, end)}
	}
	out := make([]rowSet, 0, 3)
	if start.Before(first) {
		out = append(out, hours(start, first))
	}
	out = append(out, rowSet{table: "post_rollups_daily", key: "day", from: first.Unix(), to: last.Unix()})
	if last.Before(end) {
		out = append(out, hours(last, end))
	}
	return out
}
