package db

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/migrate"
)

// postRollup is one hour of one destination's posts. Analytics read only
// these rows, so a summary costs O(buckets), never O(posts).
type postRollup struct {
	bun.BaseModel `bun:"table:post_rollups"`

	DestinationID int64 `bun:",pk"`
	Bucket        int64 `bun:",pk"` // unix seconds of the hour's start
	rollupSums
}

// dailyRollup is one UTC day of one destination's posts: the sums of its
// hourly rollups, kept beside them so that a long window reads days.
type dailyRollup struct {
	bun.BaseModel `bun:"table:post_rollups_daily"`

	DestinationID int64 `bun:",pk"`
	Day           int64 `bun:",pk"` // unix seconds of the UTC day's start
	rollupSums
}

// metaEntry is a key/value row of the meta table (the demo seed's marker).
type metaEntry struct {
	bun.BaseModel `bun:"table:meta"`

	Name  string `bun:",pk"`
	Value string `bun:",notnull"`
}

// migrations are the schema's history, oldest first. Each is written with
// IF NOT EXISTS so a migration interrupted before it was marked applied can
// simply run again.
var migrations = migrate.NewMigrations()

func init() {
	migrations.Add(migrate.Migration{Name: "20250601000001", Comment: "init", Up: goMigration(migrateInit)})
	migrations.Add(migrate.Migration{Name: "20250701000001", Comment: "properties search_text", Up: goMigration(migrateSearchText)})
	migrations.Add(migrate.Migration{Name: "20250801000001", Comment: "cache_peers", Up: goMigration(migrateCachePeers)})
	migrations.Add(migrate.Migration{Name: "20261201000001", Comment: "post_rollups_daily", Up: goMigration(migrateDailyRollups)})
	migrations.Add(migrate.Migration{Name: "20261201000002", Comment: "properties search index", Up: goMigration(migrateSearchIndex)})
	migrations.Add(migrate.Migration{Name: "20261207000001", Comment: "cache_peers expires_at", Up: goMigration(migratePeerExpiry)})
	migrations.Add(migrate.Migration{Name: "20261207000002", Comment: "post_rollup_spans", Up: goMigration(migrateSpanRollups)})
	migrations.Add(migrate.Migration{Name: "20261208000001", Comment: "post_rollup_series", Up: goMigration(migrateSeriesRollups)})
	migrations.Add(migrate.Migration{Name: "20261208000002", Comment: "post_rollup_series by day", Up: goMigration(migrateSeriesDayIndex)})
}

// goMigration runs fn in a transaction of the migrator's database.
func goMigration(fn func(ctx context.Context, tx bun.Tx) error) func(context.Context, *migrate.Migrator, *migrate.Migration) error {
	return func(ctx context.Context, m *migrate.Migrator, _ *migrate.Migration) error {
		return m.DB().RunInTx(ctx, nil, fn)
	}
}

func migrateInit(ctx context.Context, tx bun.Tx) error {
	tables := []struct {
		model any
		fks   []string
	}{
		{model: (*Destination)(nil)},
		{model: (*Property)(nil), fks: []string{`("destination_id") REFERENCES "destinations" ("id") ON DELETE SET NULL`}},
		{model: (*Post)(nil), fks: []string{`("destination_id") REFERENCES "destinations" ("id") ON DELETE CASCADE`}},
		{model: (*postRollup)(nil), fks: []string{`("destination_id") REFERENCES "destinations" ("id") ON DELETE CASCADE`}},
		{model: (*ScrapeRun)(nil)},
		{model: (*OutboxEntry)(nil)},
		{model: (*metaEntry)(nil)},
	}
	for _, t := range tables {
		q := tx.NewCreateTable().Model(t.model).IfNotExists()
		for _, fk := range t.fks {
			q = q.ForeignKey(fk)
		}
		if _, err := q.Exec(ctx); err != nil {
			return err
		}
	}
	indexes := []struct {
		model   any
		name    string
		unique  bool
		columns []string
	}{
		{(*Destination)(nil), "destinations_name_id_idx", false, []string{"name", "id"}},
		{(*Destination)(nil), "destinations_city_slug_idx", false, []string{"city_slug"}},
		{(*Property)(nil), "properties_created_at_id_idx", false, []string{"created_at", "id"}},
		{(*Property)(nil), "properties_price_cents_id_idx", false, []string{"price_cents", "id"}},
		{(*Property)(nil), "properties_destination_id_created_at_id_idx", false, []string{"destination_id", "created_at", "id"}},
		{(*Post)(nil), "posts_source_external_id_key", true, []string{"source", "external_id"}},
		{(*Post)(nil), "posts_posted_at_id_idx", false, []string{"posted_at", "id"}},
		{(*Post)(nil), "posts_destination_id_posted_at_id_idx", false, []string{"destination_id", "posted_at", "id"}},
		{(*postRollup)(nil), "post_rollups_bucket_idx", false, []string{"bucket"}},
		{(*ScrapeRun)(nil), "scrape_runs_started_at_idx", false, []string{"started_at"}},
	}
	for _, ix := range indexes {
		q := tx.NewCreateIndex().Model(ix.model).Index(ix.name).Column(ix.columns...).IfNotExists()
		if ix.unique {
			q = q.Unique()
		}
		if _, err := q.Exec(ctx); err != nil {
			return err
		}
	}
	return nil
}

// migrateSearchText adds properties.search_text (see Property.SearchText)
// and fills it for the rows already there. The column is added NOT NULL
// with an empty default for those rows; PostgreSQL then drops the
// default, SQLite cannot. A new database already has the column (migrateInit
// creates the tables from the current models) and no rows to fill.
func migrateSearchText(ctx context.Context, tx bun.Tx) error {
	if tx.Dialect().Name() == dialect.PG {
		if _, err := tx.ExecContext(ctx, `ALTER TABLE properties ADD COLUMN IF NOT EXISTS search_text VARCHAR NOT NULL DEFAULT ''`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `ALTER TABLE properties ALTER COLUMN search_text DROP DEFAULT`); err != nil {
			return err
		}
	} else {
		var n int
		if err := tx.NewRaw(`SELECT COUNT(*) FROM pragma_table_info('properties') WHERE name = 'search_text'`).Scan(ctx, &n); err != nil {
			return err
		}
		if n == 0 {
			if _, err := tx.ExecContext(ctx, `ALTER TABLE properties ADD COLUMN search_text VARCHAR NOT NULL DEFAULT ''`); err != nil {
				return err
			}
		}
	}
	// The text of each row, in batches by id; a local model, so that later
	// changes to Property cannot change what this migration does.
	type propertyText struct {
		bun.BaseModel `bun:"table:properties"`

		ID          int64 `bun:",pk"`
		Title       string
		Description string
		SearchText  string
	}
	const batch = 500
	for after := int64(0); ; {
		var rows []*propertyText
		if err := tx.NewSelect().Model(&rows).Column("id", "title", "description").
			Where("id > ?", after).Order("id").Limit(batch).Scan(ctx); err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		for _, r := range rows {
			r.SearchText = searchText(r.Title, r.Description)
		}
		if _, err := tx.NewUpdate().Model(&rows).Column("search_text").Bulk().Exec(ctx); err != nil {
			return err
		}
		after = rows[len(rows)-1].ID
	}
}

// migrateCachePeers creates the table of the processes that cache this
// database's data (see JoinCache), from a local model so that later
// changes to Peer cannot change what this migration does.
func migrateCachePeers(ctx context.Context, tx bun.Tx) error {
	type cachePeer struct {
		bun.BaseModel `bun:"table:cache_peers"`

		ID          string    `bun:",pk"`
		Identity    string    `bun:",notnull"`
		JoinedAt    time.Time `bun:",notnull"`
		HeartbeatAt time.Time `bun:",notnull"`
	}
	_, err := tx.NewCreateTable().Model((*cachePeer)(nil)).IfNotExists().Exec(ctx)
	return err
}

// migrateSearchIndex indexes search_text for substring search (see
// searchWhere): on PostgreSQL a pg_trgm GIN index, which LIKE '%…%' uses
// as is; on SQLite an external-content FTS5 table with the trigram
// tokenizer, kept in step with properties by triggers and filled from the
// rows already there. Neither index decides a match alone: both only
// narrow the rows the LIKE then checks, so the answers are LIKE's.
func migrateSearchIndex(ctx context.Context, tx bun.Tx) error {
	stmts := []string{
		`CREATE EXTENSION IF NOT EXISTS pg_trgm`,
		`CREATE INDEX IF NOT EXISTS properties_search_text_trgm_idx ON properties USING gin (search_text gin_trgm_ops)`,
	}
	if tx.Dialect().Name() != dialect.PG {
		stmts = []string{
			`CREATE VIRTUAL TABLE IF NOT EXISTS properties_search USING fts5(search_text,
				content='properties', content_rowid='id', tokenize='trigram case_sensitive 1')`,
			`CREATE TRIGGER IF NOT EXISTS properties_search_insert AFTER INSERT ON properties BEGIN
				INSERT INTO properties_search (rowid, search_text) VALUES (new.id, new.search_text);
			END`,
			`CREATE TRIGGER IF NOT EXISTS properties_search_delete AFTER DELETE ON properties BEGIN
				INSERT INTO properties_search (properties_search, rowid, search_text) VALUES ('delete', old.id, old.search_text);
			END`,
			`CREATE TRIGGER IF NOT EXISTS properties_search_update AFTER UPDATE OF id, search_text ON properties BEGIN
				INSERT INTO properties_search (properties_search, rowid, search_text) VALUES ('delete', old.id, old.search_text);
				INSERT INTO properties_search (rowid, search_text) VALUES (new.id, new.search_text);
			END`,
			`INSERT INTO properties_search (properties_search) VALUES ('rebuild')`,
		}
	}
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// migrateDailyRollups creates the daily rollups and the covering indexes
// of both rollup tables by time, from a local model so that
// later changes to dailyRollup cannot change what this migration does, and
// fills them from the hourly ones. ON CONFLICT DO NOTHING lets it run again.
func migrateDailyRollups(ctx context.Context, tx bun.Tx) error {
	type postRollupDaily struct {
		bun.BaseModel `bun:"table:post_rollups_daily"`

		DestinationID int64   `bun:",pk"`
		Day           int64   `bun:",pk"`
		Posts         int64   `bun:",notnull"`
		Positive      int64   `bun:",notnull"`
		Neutral       int64   `bun:",notnull"`
		Negative      int64   `bun:",notnull"`
		ScoreSum      float64 `bun:",notnull"`
	}
	if _, err := tx.NewCreateTable().Model((*postRollupDaily)(nil)).IfNotExists().
		ForeignKey(`("destination_id") REFERENCES "destinations" ("id") ON DELETE CASCADE`).Exec(ctx); err != nil {
		return err
	}
	// Covering indexes by time: a window over every destination reads one
	// index range per span, never the table.
	sums := []string{"posts", "positive", "neutral", "negative", "score_sum"}
	if _, err := tx.NewCreateIndex().Table("post_rollups_daily").Index("post_rollups_daily_day_idx").
		Column(append([]string{"day", "destination_id"}, sums...)...).IfNotExists().Exec(ctx); err != nil {
		return err
	}
	if _, err := tx.NewCreateIndex().Table("post_rollups").Index("post_rollups_bucket_sums_idx").
		Column(append([]string{"bucket", "destination_id"}, sums...)...).IfNotExists().Exec(ctx); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO post_rollups_daily
		(destination_id, day, posts, positive, neutral, negative, score_sum)
		SELECT destination_id, (bucket / 86400) * 86400, SUM(posts), SUM(positive), SUM(neutral), SUM(negative), SUM(score_sum)
		FROM post_rollups WHERE true GROUP BY destination_id, (bucket / 86400) * 86400
		ON CONFLICT (destination_id, day) DO NOTHING`)
	return err
}

// migrateSpanRollups creates the span rollups (see spanRollup), from a
// local model so that later changes to spanRollup cannot change what this
// migration does, and fills them from the hourly ones, one level at a
// time; ON CONFLICT DO NOTHING lets it run again. It also gives every
// rollup table a covering index by destination, so that a read of some
// destinations' rows never visits the table (on SQLite a primary key
// index is not covering).
func migrateSpanRollups(ctx context.Context, tx bun.Tx) error {
	type postRollupSpan struct {
		bun.BaseModel `bun:"table:post_rollup_spans"`

		DestinationID int64   `bun:",pk"`
		Span          int64   `bun:",pk"`
		Posts         int64   `bun:",notnull"`
		Positive      int64   `bun:",notnull"`
		Neutral       int64   `bun:",notnull"`
		Negative      int64   `bun:",notnull"`
		ScoreSum      float64 `bun:",notnull"`
	}
	if _, err := tx.NewCreateTable().Model((*postRollupSpan)(nil)).IfNotExists().
		ForeignKey(`("destination_id") REFERENCES "destinations" ("id") ON DELETE CASCADE`).Exec(ctx); err != nil {
		return err
	}
	// Covering indexes: by time, so that a window over every destination
	// reads one index entry per destination and run; by destination, so
	// that a read of some destinations never visits the tables.
	indexes := []struct{ table, name, first, second string }{
		{"post_rollup_spans", "post_rollup_spans_span_idx", "span", "destination_id"},
		{"post_rollup_spans", "post_rollup_spans_destination_sums_idx", "destination_id", "span"},
		{"post_rollups", "post_rollups_destination_sums_idx", "destination_id", "bucket"},
		{"post_rollups_daily", "post_rollups_daily_destination_sums_idx", "destination_id", "day"},
	}
	for _, ix := range indexes {
		if _, err := tx.NewCreateIndex().Table(ix.table).Index(ix.name).
			Column(ix.first, ix.second, "posts", "positive", "neutral", "negative", "score_sum").IfNotExists().Exec(ctx); err != nil {
			return err
		}
	}
	for level := 1; level <= 11; level++ { // maxSpanLevel when written
		n := int64(3600) << level
		if _, err := tx.ExecContext(ctx, `INSERT INTO post_rollup_spans
			(destination_id, span, posts, positive, neutral, negative, score_sum)
			SELECT destination_id, (bucket / ?) * ? + ?, SUM(posts), SUM(positive), SUM(neutral), SUM(negative), SUM(score_sum)
			FROM post_rollups WHERE true GROUP BY destination_id, (bucket / ?) * ? + ?
			ON CONFLICT (destination_id, span) DO NOTHING`, n, n, level, n, n, level); err != nil {
			return err
		}
	}
	return nil
}

// migrateLockKey is the pg_advisory_lock key that serialises Migrate.
const migrateLockKey int64 = 0x6b70_6d69_6772_6174 // "kpmigrat"

// migrateLockWait bounds how long Migrate waits for SQLite's migration lock.
const migrateLockWait = 30 * time.Second

// Migrate applies the migrations not yet applied. It is safe to run twice
// and from several processes at once:
//
//   - PostgreSQL: pg_advisory_lock, taken on one dedicated connection around
//     the migrator's Init and Migrate, serialises migrators; the lock dies
//     with its session, so a crashed process never leaves it behind.
//   - SQLite: a file database has no session lock that spans connections, so
//     Migrate inserts the row of bun's migration lock table (unique per
//     migrations table), retrying with backoff for up to 30 s while another
//     process holds it, and deletes it when done. BEGIN IMMEDIATE would
//     block the migrator's own connections. A process killed while holding
//     the lock leaves the row behind; after 30 s Migrate then fails naming
//     the table bun_migration_locks, whose row can be deleted by hand.
//
// Each migration runs in its own transaction and is marked applied only
// after it succeeded.
func (s *Store) Migrate(ctx context.Context) error {
	m := migrate.NewMigrator(s.DB, migrations, migrate.WithMarkAppliedOnSuccess(true))
	var err error
	if s.isPG() {
		err = s.migratePG(ctx, m)
	} else {
		err = s.migrateSQLite(ctx, m)
	}
	if err != nil {
		return fmt.Errorf("db: migrate: %w", err)
	}
	return nil
}

func (s *Store) migratePG(ctx context.Context, m *migrate.Migrator) (err error) {
	conn, err := s.DB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(?)", migrateLockKey); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	defer func() {
		_, uerr := conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(?)", migrateLockKey)
		if err == nil && uerr != nil {
			err = fmt.Errorf("unlock: %w", uerr)
		}
	}()
	return runMigrator(ctx, m)
}

func (s *Store) migrateSQLite(ctx context.Context, m *migrate.Migrator) (err error) {
	if err := m.Init(ctx); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	deadline := time.Now().Add(migrateLockWait)
	for wait := 20 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		lerr := m.Lock(ctx)
		if lerr == nil {
			break
		}
		if time.Now().Add(wait).After(deadline) {
			return fmt.Errorf("still locked after %s (a crashed migrator leaves a row in bun_migration_locks): %w",
				migrateLockWait, lerr)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
	defer func() {
		if uerr := m.Unlock(context.WithoutCancel(ctx)); err == nil && uerr != nil {
			err = fmt.Errorf("unlock: %w", uerr)
		}
	}()
	return runMigrator(ctx, m)
}

func runMigrator(ctx context.Context, m *migrate.Migrator) error {
	if err := m.Init(ctx); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	if _, err := m.Migrate(ctx); err != nil {
		return err
	}
	return nil
}

// migratePeerExpiry adds cache_peers.expires_at, the end of a peer's lease
// by the database's clock (see JoinCache): each row carries its own
// length, so processes with different CACHE_LEASE judge each other
// rightly. Rows already there get the epoch: expired, so the next
// JoinCache deletes them and their processes join again.
func migratePeerExpiry(ctx context.Context, tx bun.Tx) error {
	if tx.Dialect().Name() == dialect.PG {
		_, err := tx.ExecContext(ctx, `ALTER TABLE cache_peers ADD COLUMN IF NOT EXISTS expires_at TIMESTAMPTZ NOT NULL DEFAULT '1970-01-01 00:00:00+00'`)
		return err
	}
	var n int
	if err := tx.NewRaw(`SELECT COUNT(*) FROM pragma_table_info('cache_peers') WHERE name = 'expires_at'`).Scan(ctx, &n); err != nil || n > 0 {
		return err
	}
	_, err := tx.ExecContext(ctx, `ALTER TABLE cache_peers ADD COLUMN expires_at TIMESTAMP NOT NULL DEFAULT '1970-01-01 00:00:00+00:00'`)
	return err
}

// migrateSeriesRollups creates the series rollups (see seriesRollup), from
// a local model so that later changes to seriesRollup cannot change what
// this migration does, and fills them from the hourly and daily rollups, a
// batch of destinations at a time. ON CONFLICT DO NOTHING lets it run
// again: a row already there was written by an earlier run or kept up to
// date since by the writes of the rollups it packs.
func migrateSeriesRollups(ctx context.Context, tx bun.Tx) error {
	type postRollupSeries struct {
		bun.BaseModel `bun:"table:post_rollup_series"`

		DestinationID int64  `bun:",pk"`
		Unit          int64  `bun:",pk"`
		Day           int64  `bun:",pk"`
		Points        []byte `bun:",notnull"`
	}
	if _, err := tx.NewCreateTable().Model((*postRollupSeries)(nil)).IfNotExists().
		ForeignKey(`("destination_id") REFERENCES "destinations" ("id") ON DELETE CASCADE`).Exec(ctx); err != nil {
		return err
	}
	// Each unit as it was when written: its source, its key and the
	// length of its rows.
	units := []struct {
		unit, length  int64
		table, column string
	}{
		{3600, 86400, "post_rollups", "bucket"},
		{86400, 32 * 86400, "post_rollups_daily", "day"},
	}
	const batch = 100 // destinations
	for after := int64(0); ; {
		var ids []int64
		if err := tx.NewSelect().Table("destinations").Column("id").Where("id > ?", after).
			Order("id").Limit(batch).Scan(ctx, &ids); err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		after = ids[len(ids)-1]
		for _, u := range units {
			var sums []struct {
				DestinationID int64
				At            int64
				Posts         int64
				ScoreSum      float64
			}
			if err := tx.NewSelect().Table(u.table).ColumnExpr("destination_id, ? AS at, posts, score_sum", bun.Ident(u.column)).
				Where("destination_id IN (?)", bun.In(ids)).OrderExpr("destination_id, ?", bun.Ident(u.column)).Scan(ctx, &sums); err != nil {
				return err
			}
			// Each row is encoded when the next begins, as
			// seriesPoints.encode did when written.
			type point struct {
				posts int64
				score float64
			}
			var rows []*postRollupSeries
			var points [32]point
			flush := func() {
				if len(rows) == 0 {
					return
				}
				n := len(points)
				for n > 0 && points[n-1].posts == 0 {
					n--
				}
				b := []byte{}
				for _, p := range points[:n] {
					b = binary.AppendUvarint(b, uint64(p.posts))
					if p.posts != 0 {
						b = binary.LittleEndian.AppendUint64(b, math.Float64bits(p.score))
					}
				}
				rows[len(rows)-1].Points = b
				points = [32]point{}
			}
			for _, r := range sums {
				start := r.At - r.At%u.length
				if r.At%u.length < 0 { // before 1970: round down too
					start -= u.length
				}
				if len(rows) == 0 || rows[len(rows)-1].DestinationID != r.DestinationID || rows[len(rows)-1].Day != start {
					flush()
					rows = append(rows, &postRollupSeries{DestinationID: r.DestinationID, Unit: u.unit, Day: start})
				}
				points[(r.At-start)/u.unit] = point{r.Posts, r.ScoreSum}
			}
			flush()
			for start := 0; start < len(rows); start += 1000 {
				chunk := rows[start:min(start+1000, len(rows))]
				if _, err := tx.NewInsert().Model(&chunk).On("CONFLICT (destination_id, unit, day) DO NOTHING").Exec(ctx); err != nil {
					return err
				}
			}
		}
	}
}

// migrateSeriesDayIndex indexes the series rollups by unit and day on
// PostgreSQL, so that a trend's rows of hours (a few days of many
// destinations, see trendSeries) are read from a few index entries: by
// primary key they are one probe per destination and day, which its
// planner prices above a scan of the whole table (on the demo data, 466
// pages for 200 rows). destination_id is left out of the index so that
// the planner cannot price it that way again. SQLite reads them by
// primary key.
func migrateSeriesDayIndex(ctx context.Context, tx bun.Tx) error {
	if tx.Dialect().Name() != dialect.PG {
		return nil
	}
	_, err := tx.NewCreateIndex().Table("post_rollup_series").Index("post_rollup_series_day_idx").
		Column("unit", "day").IfNotExists().Exec(ctx)
	return err
}
