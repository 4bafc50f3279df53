package db

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Analytics read rollups only, never raw posts. A window's sums (aligned
// to hours, see TimeRange.Window) are read from the span rollups that
// cover it (coverOf: O(log hours) rows per destination), and a trend's
// daily series and previous posts from the series rollups, which pack the
// daily and hourly rollups (trendSeries: a few rows per destination), so
// the answers equal answers computed from posts.

const day = 24 * time.Hour

// rollupSums are the sums of some posts: the columns every rollup table
// (hourly, daily, span) shares, embedded in each table's model so that
// one add sums them all.
type rollupSums struct {
	Posts    int64   `bun:",notnull"`
	Positive int64   `bun:",notnull"`
	Neutral  int64   `bun:",notnull"`
	Negative int64   `bun:",notnull"`
	ScoreSum float64 `bun:",notnull"`
}

// sumColumns selects the sums of the rollups aliased r, zero over no rows.
const sumColumns = `CAST(COALESCE(SUM(r.posts), 0) AS BIGINT) AS posts,
	CAST(COALESCE(SUM(r.positive), 0) AS BIGINT) AS positive,
	CAST(COALESCE(SUM(r.neutral), 0) AS BIGINT) AS neutral,
	CAST(COALESCE(SUM(r.negative), 0) AS BIGINT) AS negative,
	CAST(COALESCE(SUM(r.score_sum), 0) AS DOUBLE PRECISION) AS score_sum`

func (r rollupSums) summary(tr TimeRange) SentimentSummary {
	return SentimentSummary{
		Range:        tr,
		Positive:     int(r.Positive),
		Neutral:      int(r.Neutral),
		Negative:     int(r.Negative),
		Total:        int(r.Posts),
		AverageScore: average(r.ScoreSum, r.Posts),
	}
}

func average(sum float64, n int64) float64 {
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// rowSet is a run of rollup rows of one table: those with key in
// [from, to), or, when keys is set, those with a key in keys.
type rowSet struct {
	table, key string
	from, to   int64
	keys       []int64
}

// windowCover is coverOf the window [start, end).
func windowCover(start, end time.Time) []rowSet { return coverOf(start.Unix(), end.Unix()) }

// rollupRows builds a FROM item, aliased r, of the rollup rows of each
// window's row sets, with the columns destination_id, bucket (the row's
// key: the start of its hour or day, or a span key), posts, positive,
// neutral, negative, score_sum and win (the window's index). Every branch
// is filtered by cond on its destination_id ("" for none), so each reads
// its table's index.
func rollupRows(windows [][]rowSet, cond string, condArgs ...any) (string, []any) {
	var b strings.Builder
	var args []any
	b.WriteString("(")
	for w, sets := range windows {
		for _, rs := range sets {
			if b.Len() > 1 {
				b.WriteString(" UNION ALL ")
			}
			fmt.Fprintf(&b, "SELECT destination_id, %[2]s AS bucket, posts, positive, neutral, negative, score_sum, %[3]d AS win"+
				" FROM %[1]s WHERE ", rs.table, rs.key, w)
			if rs.keys != nil {
				fmt.Fprintf(&b, "%s IN (?)", rs.key)
				args = append(args, bun.In(rs.keys))
			} else {
				fmt.Fprintf(&b, "%[1]s >= ? AND %[1]s < ?", rs.key)
				args = append(args, rs.from, rs.to)
			}
			if cond != "" {
				b.WriteString(" AND " + cond)
				args = append(args, condArgs...)
			}
		}
	}
	b.WriteString(") AS r")
	return b.String(), args
}

// windowRows is rollupRows of the cover of r's window at the instant of
// ctx.
func (s *Store) windowRows(ctx context.Context, r TimeRange, cond string, condArgs ...any) (string, []any) {
	return rollupRows([][]rowSet{windowCover(r.Window(s.windowNow(ctx)))}, cond, condArgs...)
}

// sumByDestination sums the rows of from (built by rollupRows) per
// destination. PostgreSQL sums them, by hash, in the order it reads them,
// and sends one row per destination: reading a row costs the driver more
// than the backend's addition. SQLite groups rows of a compound subquery
// by sorting them, which costs several times more than reading them, so
// its rows are summed here, in the same order. Without labels only posts
// and score sums are read (each column read costs).
func (s *Store) sumByDestination(ctx context.Context, from string, args []any, labels bool) (map[int64]*rollupSums, error) {
	cols := []string{"posts", "score_sum", "positive", "neutral", "negative"}
	if !labels {
		cols = cols[:2]
	}
	q := s.DB.NewSelect().TableExpr(from, args...).Column("r.destination_id")
	for _, c := range cols {
		switch {
		case !s.isPG():
			q = q.ColumnExpr("r.?", bun.Ident(c))
		case c == "score_sum":
			q = q.ColumnExpr("SUM(r.score_sum)")
		default: // a SUM of bigints is numeric
			q = q.ColumnExpr("CAST(SUM(r.?) AS BIGINT)", bun.Ident(c))
		}
	}
	if s.isPG() {
		q = q.GroupExpr("r.destination_id")
	}
	rows, err := q.Rows(ctx)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]*rollupSums{}
	var id int64
	var row rollupSums
	dest := []any{&id, &row.Posts, &row.ScoreSum, &row.Positive, &row.Neutral, &row.Negative}
	if !labels {
		dest = dest[:3]
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		sum := out[id]
		if sum == nil {
			sum = &rollupSums{}
			out[id] = sum
		}
		sum.add(row)
	}
	return out, rows.Err()
}

func (r *rollupSums) add(o rollupSums) {
	r.Posts += o.Posts
	r.Positive += o.Positive
	r.Neutral += o.Neutral
	r.Negative += o.Negative
	r.ScoreSum += o.ScoreSum
}

// addPost counts one post of score and label.
func (r *rollupSums) addPost(score float64, label SentimentLabel) {
	r.Posts++
	r.ScoreSum += score
	switch label {
	case Positive:
		r.Positive++
	case Negative:
		r.Negative++
	default:
		r.Neutral++
	}
}

// SentimentByDestinations sums each destination's rollups in r's window in
// one statement. Every requested id is a key of the result.
func (s *Store) SentimentByDestinations(ctx context.Context, ids []int64, r TimeRange) (map[int64]SentimentSummary, error) {
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
	from, args := s.windowRows(ctx, r, "destination_id IN (?)", bun.In(ids))
	sums, err := s.sumByDestination(ctx, from, args, true)
	if err != nil {
		return nil, fmt.Errorf("db: sentiment by destinations: %w", err)
	}
	for id, sum := range sums {
		out[id] = sum.summary(r)
	}
	return out, nil
}

// Sentiment sums the rollups in r's window of one destination, of one
// city's destinations, of both (their intersection) or, with both nil, of
// everything.
func (s *Store) Sentiment(ctx context.Context, destinationID *int64, city *string, r TimeRange) (SentimentSummary, error) {
	if err := checkRange(r); err != nil {
		return SentimentSummary{}, err
	}
	if err := checkCityFilter("city", city); err != nil {
		return SentimentSummary{}, err
	}
	var conds []string
	var condArgs []any
	if destinationID != nil {
		conds, condArgs = append(conds, "destination_id = ?"), append(condArgs, *destinationID)
	}
	if city != nil {
		conds = append(conds, "destination_id IN (SELECT d.id FROM destinations AS d WHERE d.city_slug = ?)")
		condArgs = append(condArgs, CitySlug(*city))
	}
	from, args := s.windowRows(ctx, r, strings.Join(conds, " AND "), condArgs...)
	// One sum over every row, which needs no sort.
	var sums rollupSums
	if err := s.DB.NewSelect().TableExpr(from, args...).ColumnExpr(sumColumns).Scan(ctx, &sums); err != nil {
		return SentimentSummary{}, fmt.Errorf("db: sentiment: %w", err)
	}
	return sums.summary(r), nil
}

// trendSeries is the series rows a trend reads for the current window
// [start, end) and the previous one [prevStart, start), all three
// hour-aligned and whole days apart: the rows of days holding the whole
// days [first, last) of [prevStart, end), and the rows of hours of the
// other days, which the windows share or hold in part (split, the day of
// start when a window ends inside it, is read by hours, the rest by days).
type trendSeries struct {
	first, last, split int64
	hourDays           []int64
}

func newTrendSeries(prevStart, start, end time.Time) trendSeries {
	ts := trendSeries{
		first: prevStart.Add(day - time.Nanosecond).Truncate(day).Unix(),
		last:  end.Truncate(day).Unix(),
		split: -1,
	}
	if d := start.Truncate(day); !d.Equal(start) {
		// Then prevStart, as many whole days before, splits its day too.
		ts.split = d.Unix()
		ts.hourDays = append(ts.hourDays, prevStart.Truncate(day).Unix(), ts.split)
	}
	if ts.last < end.Unix() {
		ts.hourDays = append(ts.hourDays, ts.last)
	}
	return ts
}

// sql selects destination_id, unit, day and points of the rows of ts of
// the destinations with ids: one range of rows of days and a few rows of
// hours per destination, each branch read from an index. On PostgreSQL
// (pg) the ids are one array: its parser and planner take an IN list of
// 100 constants in about twice the time.
func (ts trendSeries) sql(ids []int64, pg bool) (string, []any) {
	var branches []string
	var args []any
	idsIn, in := "IN (?)", bun.In(ids)
	if pg {
		idsIn, in = "= ANY(?)", pgdialect.Array(ids)
	}
	cols := "SELECT destination_id, unit, day, points FROM post_rollup_series WHERE destination_id " + idsIn + " AND unit = ? AND "
	if ts.first < ts.last {
		branches = append(branches, cols+"day >= ? AND day < ?")
		args = append(args, in, unitDay, seriesOf(ts.first), ts.last)
	}
	if len(ts.hourDays) > 0 {
		branches = append(branches, cols+"day IN (?)")
		args = append(args, in, unitHour, bun.In(ts.hourDays))
	}
	return strings.Join(branches, " UNION ALL "), args
}

// reads reports whether the point at t of a row of unit is read from
// that row: points of days outside [first, last) or on split are read by
// hours.
func (ts trendSeries) reads(unit, t int64) bool {
	return unit == unitHour || (t >= ts.first && t < ts.last && t != ts.split)
}

// TrendsByDestinations computes each destination's trend over r in one
// statement reading the series rollups of both windows (trendSeries): the
// current window's points summed per destination and UTC day here, in
// time order, the previous window's posts per destination.
// Every requested id is a key.
func (s *Store) TrendsByDestinations(ctx context.Context, ids []int64, r TimeRange) (map[int64]*Trend, error) {
	if err := checkRange(r); err != nil {
		return nil, err
	}
	now := s.windowNow(ctx)
	start, end := r.Window(now)
	prevStart, _ := r.PreviousWindow(now)
	// days holds the start of every UTC day touched by [start, end).
	var days []time.Time
	for d := start.Truncate(day); d.Before(end); d = d.Add(day) {
		days = append(days, d)
	}
	out := make(map[int64]*Trend, len(ids))
	// Every trend and series in one allocation each: with 100 trends of
	// 90 days, allocating them one by one cost as much as reading them.
	// Until the end, a point's AverageScore holds its score sum.
	n := len(days)
	trends, series := make([]Trend, len(ids)), make([]TrendPoint, len(ids)*n)
	for k, id := range ids {
		t := &trends[k]
		*t = Trend{DestinationID: id, Range: r, Series: series[k*n : (k+1)*n : (k+1)*n]}
		for i, d := range days {
			t.Series[i].Date = d
		}
		out[id] = t
	}
	if len(ids) == 0 {
		return out, nil
	}
	ts := newTrendSeries(prevStart, start, end)
	query, args := ts.sql(ids, s.isPG())
	rows, err := s.DB.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("db: trends by destinations: %w", err)
	}
	defer rows.Close()
	first := days[0].Unix()
	lo, mid, hi := prevStart.Unix(), start.Unix(), end.Unix()
	var id, unit, rowDay int64
	var packed sql.RawBytes
	var points seriesPoints
	dest := []any{&id, &unit, &rowDay, &packed}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("db: trends by destinations: %w", err)
		}
		tr := out[id]
		if tr == nil {
			continue
		}
		if err := points.decode(packed); err != nil {
			return nil, err
		}
		for k, pt := range points {
			t := rowDay + int64(k)*unit
			if pt.Posts == 0 || t < lo || t >= hi || !ts.reads(unit, t) {
				continue
			}
			if t < mid {
				tr.PreviousMentions += int(pt.Posts)
				continue
			}
			p := &tr.Series[(dayOf(t)-first)/secondsPerDay]
			p.Mentions += int(pt.Posts)
			p.AverageScore += pt.ScoreSum
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: trends by destinations: %w", err)
	}
	for _, t := range out {
		var sum float64
		for i := range t.Series {
			p := &t.Series[i]
			t.Mentions += p.Mentions
			sum += p.AverageScore
			p.AverageScore = average(p.AverageScore, int64(p.Mentions))
		}
		t.Growth = float64(t.Mentions-t.PreviousMentions) / float64(max(t.PreviousMentions, 1))
		t.AverageScore = average(sum, int64(t.Mentions))
	}
	return out, nil
}

// TopDestinations ranks the destinations matching f by mentions in r's
// window (then average score, then id) in one statement. Destinations
// without mentions are left out; ranks count from 1.
func (s *Store) TopDestinations(ctx context.Context, r TimeRange, f DestinationFilter, limit int) ([]DestinationRank, error) {
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
	var conds []string
	var condArgs []any
	if f.City != nil {
		conds, condArgs = append(conds, "d.city_slug = ?"), append(condArgs, CitySlug(*f.City))
	}
	if f.Category != nil {
		conds, condArgs = append(conds, "d.category = ?"), append(condArgs, *f.Category)
	}
	cond := ""
	if len(conds) > 0 {
		cond = "destination_id IN (SELECT d.id FROM destinations AS d WHERE " + strings.Join(conds, " AND ") + ")"
	}
	from, args := s.windowRows(ctx, r, cond, condArgs...)
	sums, err := s.sumByDestination(ctx, from, args, false)
	if err != nil {
		return nil, fmt.Errorf("db: top destinations: %w", err)
	}
	for id, sum := range sums {
		if sum.Posts > 0 {
			ranks = append(ranks, DestinationRank{DestinationID: id, Mentions: int(sum.Posts), AverageScore: average(sum.ScoreSum, sum.Posts)})
		}
	}
	slices.SortFunc(ranks, func(a, b DestinationRank) int {
		return cmp.Or(cmp.Compare(b.Mentions, a.Mentions), cmp.Compare(b.AverageScore, a.AverageScore), cmp.Compare(a.DestinationID, b.DestinationID))
	})
	ranks = ranks[:min(limit, len(ranks))]
	for i := range ranks {
		ranks[i].Rank = i + 1
	}
	return ranks, nil
}
