package db_test

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/db/dbtest"
	"github.com/kedahpulse/kedahpulse/sentiment"
)

// eighthsScorer scores a text k/8 for k in -8..8 from its hash. Sums of
// eighths are exact in floating point, so averages computed in SQL and in
// Go are equal and rankings by average are deterministic.
func eighthsScorer(text string) (float64, sentiment.Label) {
	h := fnv.New32a()
	h.Write([]byte(text))
	score := float64(int(h.Sum32()%17)-8) / 8
	switch {
	case score > 0.25:
		return score, sentiment.Positive
	case score < -0.25:
		return score, sentiment.Negative
	}
	return score, sentiment.Neutral
}

type tally struct {
	pos, neu, neg int
	sum           float64
}

func (a *tally) add(p *db.Post) {
	a.sum += p.SentimentScore
	switch p.SentimentLabel {
	case db.Positive:
		a.pos++
	case db.Negative:
		a.neg++
	default:
		a.neu++
	}
}

func (a tally) total() int { return a.pos + a.neu + a.neg }

func (a tally) avg() float64 {
	if a.total() == 0 {
		return 0
	}
	return a.sum / float64(a.total())
}

func (a tally) summary(r db.TimeRange) db.SentimentSummary {
	return db.SentimentSummary{Range: r, Positive: a.pos, Neutral: a.neu, Negative: a.neg, Total: a.total(), AverageScore: a.avg()}
}

func within(t time.Time, start, end time.Time) bool { return !t.Before(start) && t.Before(end) }

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9 }

func sameSummary(a, b db.SentimentSummary) bool {
	return a.Range == b.Range && a.Positive == b.Positive && a.Neutral == b.Neutral && a.Negative == b.Negative &&
		a.Total == b.Total && near(a.AverageScore, b.AverageScore)
}

// TestRollupsMatchRawPosts checks every analytics answer, which reads
// rollups, against the same answer computed here from the raw posts.
func TestRollupsMatchRawPosts(t *testing.T) {
	t.Parallel()
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		ctx := context.Background()
		db.SetScorer(s, eighthsScorer)
		type spec struct {
			name, city string
			cat        db.Category
		}
		specs := []spec{
			{"Pantai Cenang", "Langkawi", db.CategoryBeach},
			{"Tanjung Rhu", "Langkawi", db.CategoryBeach},
			{"Kilim Karst Geoforest Park", "Langkawi", db.CategoryNature},
			{"Zahir Mosque", "Alor Setar", db.CategoryCulture},
			{"Pekan Rabu", "Alor Setar", db.CategoryShopping},
			{"Balai Besar", "Alor Setar", db.CategoryCulture},
			{"Gunung Jerai", "Yan", db.CategoryNature},
			{"Hutan Lipur Sungai Sedim", "Kulim", db.CategoryNature}, // never posted about
		}
		dests := make([]*db.Destination, len(specs))
		var ids []int64
		for i, sp := range specs {
			dests[i] = mustDestination(t, s, sp.name, sp.city, sp.cat)
			ids = append(ids, dests[i].ID)
		}
		ids = append(ids, 999) // unknown: still a key of every map

		rng := rand.New(rand.NewPCG(7, 11))
		now := clock.Now()
		words := []string{"sunset", "crowded", "lovely", "dirty", "view", "makan", "cantik", "mahal", "family", "rain"}
		var batch []db.PostInput
		for i := range 400 {
			d := dests[rng.IntN(len(dests)-1)]
			at := now.Add(-time.Duration(rng.Int64N(int64(100 * 24 * time.Hour))))
			if i%40 == 0 {
				at = now.Add(time.Duration(rng.Int64N(int64(5 * time.Minute)))) // a little ahead
			}
			text := fmt.Sprintf("%s %s %s #%d", words[rng.IntN(len(words))], words[rng.IntN(len(words))], d.Name, i)
			batch = append(batch, db.PostInput{Source: "rnd", ExternalID: fmt.Sprint(i), Text: text, PostedAt: at, DestinationID: &d.ID})
		}
		// Posts on the edges of every window.
		for i, r := range db.TimeRanges {
			start, _ := r.Window(now)
			prev, _ := r.PreviousWindow(now)
			for j, at := range []time.Time{start, start.Add(-time.Microsecond), now.Add(5 * time.Minute), prev} {
				d := dests[(i+j)%3]
				batch = append(batch, db.PostInput{Source: "edge", ExternalID: fmt.Sprint(i, "-", j), Text: fmt.Sprint("edge ", i, j),
					PostedAt: at, DestinationID: &d.ID})
			}
		}
		for start := 0; start < len(batch); start += 100 {
			if _, _, err := s.IngestPosts(ctx, batch[start:min(start+100, len(batch))]); err != nil {
				t.Fatal(err)
			}
		}
		var posts []*db.Post
		if err := s.DB.NewSelect().Model(&posts).Scan(ctx); err != nil {
			t.Fatal(err)
		}
		if len(posts) != len(batch) {
			t.Fatalf("stored %d posts, want %d", len(posts), len(batch))
		}
		destOf := map[int64]*db.Destination{}
		for _, d := range dests {
			destOf[d.ID] = d
		}

		for _, shift := range []time.Duration{0, 29 * time.Minute, 3*time.Hour + time.Second, 14 * time.Hour} {
			clock.Set(now.Add(shift))
			for _, r := range db.TimeRanges {
				t.Run(fmt.Sprint(r, "+", shift), func(t *testing.T) {
					start, end := r.Window(clock.Now())
					prevStart, prevEnd := r.PreviousWindow(clock.Now())
					var global tally
					byDest := map[int64]*tally{}
					byCity := map[string]*tally{}
					prevByDest := map[int64]int{}
					type dayKey struct {
						dest int64
						day  time.Time
					}
					byDay := map[dayKey]*tally{}
					for _, id := range ids {
						byDest[id] = &tally{}
					}
					for _, sp := range specs {
						byCity[db.CitySlug(sp.city)] = &tally{}
					}
					for _, p := range posts {
						if within(p.PostedAt, prevStart, prevEnd) {
							prevByDest[*p.DestinationID]++
						}
						if !within(p.PostedAt, start, end) {
							continue
						}
						global.add(p)
						byDest[*p.DestinationID].add(p)
						byCity[destOf[*p.DestinationID].CitySlug].add(p)
						k := dayKey{*p.DestinationID, p.PostedAt.Truncate(24 * time.Hour)}
						if byDay[k] == nil {
							byDay[k] = &tally{}
						}
						byDay[k].add(p)
					}

					// SentimentByDestinations
					got, err := s.SentimentByDestinations(ctx, ids, r)
					if err != nil {
						t.Fatal(err)
					}
					if len(got) != len(ids) {
						t.Fatalf("SentimentByDestinations has %d keys, want %d", len(got), len(ids))
					}
					for _, id := range ids {
						if want := byDest[id].summary(r); !sameSummary(got[id], want) {
							t.Fatalf("SentimentByDestinations[%d] = %+v, want %+v", id, got[id], want)
						}
					}

					// Sentiment: global, by city, by destination, both.
					check := func(name string, dest *int64, city *string, want db.SentimentSummary) {
						t.Helper()
						got, err := s.Sentiment(ctx, dest, city, r)
						if err != nil {
							t.Fatal(err)
						}
						if !sameSummary(got, want) {
							t.Fatalf("Sentiment %s = %+v, want %+v", name, got, want)
						}
					}
					check("global", nil, nil, global.summary(r))
					for _, sp := range specs {
						check("city "+sp.city, nil, ptr(" "+sp.city+" "), byCity[db.CitySlug(sp.city)].summary(r))
					}
					for _, d := range dests {
						check("destination "+d.Name, &d.ID, nil, byDest[d.ID].summary(r))
						check("destination in its city", &d.ID, &d.City, byDest[d.ID].summary(r))
						check("destination in another city", &d.ID, ptr("Kuala Kedah"), db.SentimentSummary{Range: r})
					}

					// TrendsByDestinations
					trends, err := s.TrendsByDestinations(ctx, ids, r)
					if err != nil {
						t.Fatal(err)
					}
					var days []time.Time
					for d := start.Truncate(24 * time.Hour); d.Before(end); d = d.Add(24 * time.Hour) {
						days = append(days, d)
					}
					for _, id := range ids {
						tr := trends[id]
						want := byDest[id]
						growth := float64(want.total()-prevByDest[id]) / float64(max(prevByDest[id], 1))
						if tr == nil || tr.DestinationID != id || tr.Range != r || tr.Mentions != want.total() ||
							tr.PreviousMentions != prevByDest[id] || !near(tr.Growth, growth) || !near(tr.AverageScore, want.avg()) {
							t.Fatalf("trend %d = %+v, want mentions %d previous %d growth %v average %v",
								id, tr, want.total(), prevByDest[id], growth, want.avg())
						}
						if len(tr.Series) != len(days) {
							t.Fatalf("trend %d: %d points, want %d", id, len(tr.Series), len(days))
						}
						sum := 0
						for i, pt := range tr.Series {
							day := byDay[dayKey{id, days[i]}]
							if day == nil {
								day = &tally{}
							}
							if !pt.Date.Equal(days[i]) || pt.Mentions != day.total() || !near(pt.AverageScore, day.avg()) {
								t.Fatalf("trend %d point %d = %+v, want %v %d %v", id, i, pt, days[i], day.total(), day.avg())
							}
							sum += pt.Mentions
						}
						if sum != tr.Mentions {
							t.Fatalf("trend %d: series sums to %d, mentions %d", id, sum, tr.Mentions)
						}
					}

					// TopDestinations
					filters := []db.DestinationFilter{
						{},
						{City: ptr("langkawi")},
						{City: ptr("Alor Setar"), Category: ptr(db.CategoryCulture)},
						{Category: ptr(db.CategoryNature)},
						{City: ptr("Kulim")},
					}
					for _, f := range filters {
						var want []db.DestinationRank
						for _, d := range dests {
							if f.City != nil && d.CitySlug != db.CitySlug(*f.City) || f.Category != nil && d.Category != *f.Category {
								continue
							}
							if a := byDest[d.ID]; a.total() > 0 {
								want = append(want, db.DestinationRank{DestinationID: d.ID, Mentions: a.total(), AverageScore: a.avg()})
							}
						}
						sort.Slice(want, func(i, j int) bool {
							a, b := want[i], want[j]
							if a.Mentions != b.Mentions {
								return a.Mentions > b.Mentions
							}
							if a.AverageScore != b.AverageScore {
								return a.AverageScore > b.AverageScore
							}
							return a.DestinationID < b.DestinationID
						})
						for i := range want {
							want[i].Rank = i + 1
						}
						for _, limit := range []int{100, 2} {
							got, err := s.TopDestinations(ctx, r, f, limit)
							if err != nil {
								t.Fatal(err)
							}
							w := want[:min(limit, len(want))]
							ok := len(got) == len(w)
							for i := 0; ok && i < len(w); i++ {
								ok = got[i].Rank == w[i].Rank && got[i].DestinationID == w[i].DestinationID &&
									got[i].Mentions == w[i].Mentions && near(got[i].AverageScore, w[i].AverageScore)
							}
							if !ok {
								t.Fatalf("TopDestinations(%+v, %d) = %+v, want %+v", f, limit, got, w)
							}
						}
					}
				})
			}
		}
	})
}

func TestTrendSeries(t *testing.T) {
	t.Parallel()
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		ctx := context.Background()
		db.SetScorer(s, eighthsScorer)
		d := mustDestination(t, s, "Pantai Cenang", "Langkawi", db.CategoryBeach)
		now := dbtest.Epoch // 2025-06-15 10:30: LAST_24_HOURS is [06-14 11:00, 06-15 11:00)
		at := []time.Time{
			time.Date(2025, 6, 14, 11, 0, 0, 0, time.UTC),  // first instant of the window
			time.Date(2025, 6, 14, 23, 59, 0, 0, time.UTC), // same day
			time.Date(2025, 6, 15, 10, 35, 0, 0, time.UTC), // 5 minutes ahead
			time.Date(2025, 6, 14, 10, 59, 0, 0, time.UTC), // previous window
			time.Date(2025, 6, 13, 11, 0, 0, 0, time.UTC),  // previous window's first instant
			time.Date(2025, 6, 13, 10, 0, 0, 0, time.UTC),  // before both
		}
		var batch []db.PostInput
		for i, a := range at {
			batch = append(batch, db.PostInput{Source: "t", ExternalID: fmt.Sprint(i), Text: fmt.Sprint("post ", i), PostedAt: a, DestinationID: &d.ID})
		}
		if _, _, err := s.IngestPosts(ctx, batch); err != nil {
			t.Fatal(err)
		}
		trends, err := s.TrendsByDestinations(ctx, []int64{d.ID}, db.Last24Hours)
		if err != nil {
			t.Fatal(err)
		}
		tr := trends[d.ID]
		if tr.Mentions != 3 || tr.PreviousMentions != 2 || tr.Growth != 0.5 {
			t.Fatalf("trend %+v", tr)
		}
		wantDates := []time.Time{time.Date(2025, 6, 14, 0, 0, 0, 0, time.UTC), time.Date(2025, 6, 15, 0, 0, 0, 0, time.UTC)}
		if len(tr.Series) != 2 || !tr.Series[0].Date.Equal(wantDates[0]) || !tr.Series[1].Date.Equal(wantDates[1]) ||
			tr.Series[0].Mentions != 2 || tr.Series[1].Mentions != 1 {
			t.Fatalf("series %+v", tr.Series)
		}
		_ = now

		// A window ending at midnight touches exactly its own days.
		clock.Set(time.Date(2025, 6, 15, 23, 10, 0, 0, time.UTC))
		trends, err = s.TrendsByDestinations(ctx, []int64{d.ID}, db.Last7Days)
		if err != nil {
			t.Fatal(err)
		}
		if tr := trends[d.ID]; len(tr.Series) != 7 || !tr.Series[0].Date.Equal(time.Date(2025, 6, 9, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("7 days ending at midnight: %d points from %v", len(tr.Series), tr.Series[0].Date)
		}
		trends, err = s.TrendsByDestinations(ctx, []int64{d.ID}, db.Last90Days)
		if err != nil {
			t.Fatal(err)
		}
		if tr := trends[d.ID]; len(tr.Series) != 90 || tr.Mentions != 6 || tr.PreviousMentions != 0 || tr.Growth != 6 {
			t.Fatalf("90 days: %d points, %+v", len(tr.Series), tr)
		}
	})
}

func TestAnalyticsInput(t *testing.T) {
	t.Parallel()
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		ctx := context.Background()
		_, err := s.Sentiment(ctx, nil, nil, "")
		wantInputError(t, err, "range")
		_, err = s.SentimentByDestinations(ctx, []int64{1}, "LAST_WEEK")
		wantInputError(t, err, "range")
		_, err = s.TrendsByDestinations(ctx, []int64{1}, "LAST_WEEK")
		wantInputError(t, err, "range")
		_, err = s.TopDestinations(ctx, "LAST_WEEK", db.DestinationFilter{}, 5)
		wantInputError(t, err, "range")
		_, err = s.TopDestinations(ctx, db.Last7Days, db.DestinationFilter{Category: ptr(db.Category("X"))}, 5)
		wantInputError(t, err, "category")
		top, err := s.TopDestinations(ctx, db.Last7Days, db.DestinationFilter{}, 5)
		if err != nil || top == nil || len(top) != 0 {
			t.Fatalf("top of nothing = %#v, %v", top, err)
		}
		sum, err := s.Sentiment(ctx, nil, nil, db.Last90Days)
		if err != nil || sum != (db.SentimentSummary{Range: db.Last90Days}) {
			t.Fatalf("sentiment of nothing = %+v, %v", sum, err)
		}
	})
}

// TestOneStatement checks the loaders' promise: one SQL statement for any
// number of keys.
func TestOneStatement(t *testing.T) {
	t.Parallel()
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		ctx := context.Background()
		var ids []int64
		for i := range 5 {
			d := mustDestination(t, s, fmt.Sprint("Place ", i), "Langkawi", db.CategoryBeach)
			ids = append(ids, d.ID)
			mustProperty(t, s, db.PropertyInput{Title: "House", DestinationID: &d.ID})
			if _, _, err := s.IngestPosts(ctx, []db.PostInput{{Source: "t", ExternalID: fmt.Sprint(i), Text: "x",
				PostedAt: dbtest.Epoch.Add(-time.Duration(i) * time.Hour), DestinationID: &d.ID}}); err != nil {
				t.Fatal(err)
			}
		}
		loaders := map[string]func() error{
			"FindDestinationsByIDs": func() error { _, err := s.FindDestinationsByIDs(ctx, ids); return err },
			"FindPropertiesByIDs":   func() error { _, err := s.FindPropertiesByIDs(ctx, ids); return err },
			"FindPropertyIDsByDestinations": func() error {
				_, err := s.FindPropertyIDsByDestinations(ctx, ids, 10)
				return err
			},
			"SentimentByDestinations": func() error { _, err := s.SentimentByDestinations(ctx, ids, db.Last7Days); return err },
			"TrendsByDestinations":    func() error { _, err := s.TrendsByDestinations(ctx, ids, db.Last30Days); return err },
			"TopDestinations": func() error {
				_, err := s.TopDestinations(ctx, db.Last7Days, db.DestinationFilter{City: ptr("Langkawi")}, 3)
				return err
			},
			"Sentiment": func() error { _, err := s.Sentiment(ctx, &ids[0], ptr("Langkawi"), db.Last24Hours); return err },
		}
		names := make([]string, 0, len(loaders))
		for name := range loaders {
			names = append(names, name)
		}
		slices.Sort(names)
		qc := counter(s)
		for _, name := range names {
			t.Run(name, func(t *testing.T) {
				qc.Reset()
				if err := loaders[name](); err != nil {
					t.Fatal(err)
				}
				if n := qc.Count(); n != 1 {
					t.Fatalf("statements = %d, want 1", n)
				}
			})
		}
	})
}
