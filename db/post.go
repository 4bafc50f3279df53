package db

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// maxFuturePost is how far after Now a post may claim to have been posted
// (clock skew between us and the sources).
const maxFuturePost = 5 * time.Minute

// postChunk bounds the rows of one multi-row INSERT.
const postChunk = 250

// IngestPosts scores and stores posts, idempotently on (source,
// externalId): a post already stored or repeated within the batch counts as
// a duplicate. One invalid post rejects the whole batch before anything is
// written. The hourly rollups are updated in the same transaction.
func (s *Store) IngestPosts(ctx context.Context, posts []PostInput) (IngestResult, Change, error) {
	res := IngestResult{Received: len(posts)}
	if len(posts) > MaxIngestBatch {
		return IngestResult{}, Change{}, Invalid("posts", "at most %d posts per batch", MaxIngestBatch)
	}
	if len(posts) == 0 {
		return res, Change{}, nil
	}
	now := s.now()
	rows := make([]*Post, len(posts))
	needMatch := false
	for i, in := range posts {
		p, err := s.newPost(i, in, now)
		if err != nil {
			return IngestResult{}, Change{}, err
		}
		rows[i] = p
		needMatch = needMatch || in.DestinationID == nil
	}
	var change Change
	err := s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if needMatch {
			if err := matchPosts(ctx, tx, rows); err != nil {
				return err
			}
		}
		byID, err := s.shareDestinations(ctx, tx, postDestinations(rows))
		if err != nil {
			return err
		}
		for i, p := range rows {
			if byID[*p.DestinationID] == nil {
				return Invalid(fmt.Sprintf("posts[%d].destinationId", i), "destination %d does not exist", *p.DestinationID)
			}
		}

		stored, err := insertPosts(ctx, tx, rows)
		if err != nil {
			return err
		}
		res.Stored = len(stored)
		if len(stored) == 0 {
			return nil
		}
		if err := addRollups(ctx, tx, stored); err != nil {
			return err
		}
		tags := tagSet{}
		tags.add(TagAnalytics)
		for _, p := range stored {
			d := byID[*p.DestinationID]
			tags.add(DestinationAnalyticsTag(d.ID), CityAnalyticsTag(d.City))
		}
		change, err = s.record(ctx, tx, tags)
		return err
	})
	if err != nil {
		return IngestResult{}, Change{}, wrapWrite("ingest posts", err)
	}
	res.Duplicates = res.Received - res.Stored
	return res, change, nil
}

// newPost validates posts[i] and scores it. Its destination is the one it
// names, if any, not yet checked; matchPosts finds the others.
func (s *Store) newPost(i int, in PostInput, now time.Time) (*Post, error) {
	field := func(name string) string { return fmt.Sprintf("posts[%d].%s", i, name) }
	p := &Post{CreatedAt: now}
	if in.DestinationID != nil {
		id := *in.DestinationID
		p.DestinationID = &id
	}
	var err error
	if p.Source, err = text(field("source"), in.Source, 1, MaxSource); err != nil {
		return nil, err
	}
	if p.ExternalID, err = text(field("externalId"), in.ExternalID, 1, MaxExternalID); err != nil {
		return nil, err
	}
	if p.Text, err = text(field("text"), in.Text, 1, MaxPostText); err != nil {
		return nil, err
	}
	if p.Author, err = optionalText(field("author"), in.Author, MaxAuthor); err != nil {
		return nil, err
	}
	if p.URL, err = optionalText(field("url"), in.URL, MaxURL); err != nil {
		return nil, err
	}
	switch {
	case in.PostedAt.IsZero():
		return nil, Invalid(field("postedAt"), "is required")
	case in.PostedAt.After(now.Add(maxFuturePost)):
		return nil, Invalid(field("postedAt"), "is in the future")
	}
	if err := checkTime(field("postedAt"), in.PostedAt); err != nil {
		return nil, err
	}
	p.PostedAt = dbTime(in.PostedAt)
	p.SentimentScore, p.SentimentLabel = s.scoreText(p.Text)
	return p, nil
}

// matchPosts sets the destination of each row that has none to the one
// its text names. The names are read without a lock: a rename racing with
// the ingest may match the old name, but the tags come from the locked
// rows of shareDestinations.
func matchPosts(ctx context.Context, idb bun.IDB, rows []*Post) error {
	dests, err := listDestinations(ctx, idb)
	if err != nil {
		return err
	}
	matcher := NewMatcher(dests)
	for i, p := range rows {
		if p.DestinationID != nil {
			continue
		}
		id, ok := matcher.Match(p.Text)
		if !ok {
			return Invalid(fmt.Sprintf("posts[%d].destinationId", i), "no destination given or named in the text")
		}
		p.DestinationID = &id
	}
	return nil
}

// postDestinations returns the distinct destinations of rows.
func postDestinations(rows []*Post) []int64 {
	seen := make(map[int64]bool)
	var ids []int64
	for _, p := range rows {
		if id := *p.DestinationID; !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids
}

// insertPosts inserts the posts not yet stored and returns those it stored.
// Repeats within rows are dropped first; rows already in the table are
// skipped by ON CONFLICT DO NOTHING, whose RETURNING lists only new rows.
func insertPosts(ctx context.Context, idb bun.IDB, rows []*Post) ([]*Post, error) {
	type key struct{ source, externalID string }
	byKey := make(map[key]*Post, len(rows))
	unique := make([]*Post, 0, len(rows))
	for _, p := range rows {
		k := key{p.Source, p.ExternalID}
		if byKey[k] == nil {
			byKey[k] = p
			unique = append(unique, p)
		}
	}
	// Insert in key order, and upsert rollups in key order: concurrent
	// ingests then take their row locks in one order and cannot deadlock.
	slices.SortFunc(unique, func(a, b *Post) int {
		return cmp.Or(strings.Compare(a.Source, b.Source), strings.Compare(a.ExternalID, b.ExternalID))
	})
	var stored []*Post
	for start := 0; start < len(unique); start += postChunk {
		chunk := unique[start:min(start+postChunk, len(unique))]
		var keys []struct {
			Source     string
			ExternalID string
		}
		if _, err := idb.NewInsert().Model(&chunk).
			On("CONFLICT (source, external_id) DO NOTHING").
			Returning("source, external_id").
			Exec(ctx, &keys); err != nil {
			return nil, fmt.Errorf("insert posts: %w", err)
		}
		for _, k := range keys {
			stored = append(stored, byKey[key{k.Source, k.ExternalID}])
		}
	}
	return stored, nil
}

// addRollups adds posts to their hourly, daily, span and series rollups,
// each upserted in key order.
func addRollups(ctx context.Context, idb bun.IDB, posts []*Post) error {
	rollups := rollupsOf(posts)
	slices.SortFunc(rollups, func(a, b *postRollup) int {
		return cmp.Or(cmp.Compare(a.DestinationID, b.DestinationID), cmp.Compare(a.Bucket, b.Bucket))
	})
	if err := upsertRollups(ctx, idb, rollups); err != nil {
		return err
	}
	daily := dailyRollupsOf(rollups)
	if err := upsertDailyRollups(ctx, idb, daily); err != nil {
		return err
	}
	if err := upsertSpanRollups(ctx, idb, spanRollupsOf(rollups)); err != nil {
		return err
	}
	return addSeries(ctx, idb, rollups, daily)
}

// rollupChunk bounds the rows of one multi-row rollup upsert.
const rollupChunk = 1000

// upsertRollups adds rollups (at most one per key) to the stored ones.
func upsertRollups(ctx context.Context, idb bun.IDB, rollups []*postRollup) error {
	return upsertSums(ctx, idb, rollups, "destination_id, bucket", "rollups")
}

// upsertSums adds rows of sums (at most one per key) to the stored ones,
// in chunks; key names the conflict columns.
func upsertSums[T any](ctx context.Context, idb bun.IDB, rows []*T, key, what string) error {
	for start := 0; start < len(rows); start += rollupChunk {
		chunk := rows[start:min(start+rollupChunk, len(rows))]
		if _, err := idb.NewInsert().Model(&chunk).
			On("CONFLICT (" + key + ") DO UPDATE").
			Set("posts = ?TableAlias.posts + EXCLUDED.posts").
			Set("positive = ?TableAlias.positive + EXCLUDED.positive").
			Set("neutral = ?TableAlias.neutral + EXCLUDED.neutral").
			Set("negative = ?TableAlias.negative + EXCLUDED.negative").
			Set("score_sum = ?TableAlias.score_sum + EXCLUDED.score_sum").
			Exec(ctx); err != nil {
			return fmt.Errorf("upsert %s: %w", what, err)
		}
	}
	return nil
}

// dailyRollupsOf sums hourly rollups per destination and UTC day, in the
// order of their first hour (key order for rollups in key order).
func dailyRollupsOf(rollups []*postRollup) []*dailyRollup {
	type key struct{ dest, day int64 }
	byKey := make(map[key]*dailyRollup)
	var out []*dailyRollup
	for _, r := range rollups {
		k := key{r.DestinationID, dayOf(r.Bucket)}
		d := byKey[k]
		if d == nil {
			d = &dailyRollup{DestinationID: k.dest, Day: k.day}
			byKey[k] = d
			out = append(out, d)
		}
		d.add(r.rollupSums)
	}
	return out
}

// upsertDailyRollups adds daily rollups (at most one per key) to the
// stored ones.
func upsertDailyRollups(ctx context.Context, idb bun.IDB, rollups []*dailyRollup) error {
	return upsertSums(ctx, idb, rollups, "destination_id, day", "daily rollups")
}

// dayOf is the unix second of the start of the UTC day of a bucket.
func dayOf(bucket int64) int64 { return bucket - bucket%secondsPerDay }

const secondsPerDay = int64(day / time.Second)

// bucketOf is the unix second of the start of t's hour.
func bucketOf(t time.Time) int64 { return t.Truncate(BucketSize).Unix() }

// FindPosts returns a page of the posts posted in r.Window(Now()), of one
// destination or of all, newest first.
func (s *Store) FindPosts(ctx context.Context, destinationID *int64, r TimeRange, p Page) (*PostPage, error) {
	if err := checkRange(r); err != nil {
		return nil, err
	}
	if err := checkFirst(p.First); err != nil {
		return nil, err
	}
	after, hasAfter, err := pageAfter(p, orderPostsNewest)
	if err != nil {
		return nil, err
	}
	start, end := r.Window(s.windowNow(ctx))
	filter := func(q *bun.SelectQuery) *bun.SelectQuery {
		q = q.Where("post.posted_at >= ? AND post.posted_at < ?", start, end)
		if destinationID != nil {
			q = q.Where("post.destination_id = ?", *destinationID)
		}
		return q
	}
	total, err := filter(s.DB.NewSelect().Model((*Post)(nil))).Count(ctx)
	if err != nil {
		return nil, fmt.Errorf("db: find posts: %w", err)
	}
	posts := []*Post{}
	q := filter(s.DB.NewSelect().Model(&posts)).OrderExpr("post.posted_at DESC, post.id DESC").Limit(int64(p.First) + 1)
	if hasAfter {
		q = q.Where("(post.posted_at, post.id) < (?, ?)", microTime(after.Int), after.ID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("db: find posts: %w", err)
	}
	page := &PostPage{Posts: posts, Cursors: []string{}, TotalCount: int(total)}
	if len(posts) > p.First {
		page.Posts, page.HasNext = posts[:p.First], true
	}
	for _, post := range page.Posts {
		page.Cursors = append(page.Cursors, encodeCursor(cursor{Order: orderPostsNewest, Int: post.PostedAt.UnixMicro(), ID: post.ID}))
	}
	return page, nil
}
