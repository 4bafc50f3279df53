package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/driver/pgdriver"
	"github.com/uptrace/bun/driver/sqliteshim"

	"github.com/kedahpulse/kedahpulse/sentiment"
)

// Dialect names returned by Store.Dialect.
const (
	DialectPostgres = "pg"
	DialectSQLite   = "sqlite"
)

// Store is the storage of Kedah Pulse on PostgreSQL or SQLite.
type Store struct {
	DB *bun.DB
	// Now is the clock used for validation, analytics windows and
	// timestamps. Open sets it to time.Now.
	Now func() time.Time

	dialect string
	// score rates a post's text; nil means sentiment.Score. Tests replace it.
	score func(text string) (float64, sentiment.Label)
}

// sqliteParams are appended to every SQLite DSN: WAL, a 5 s busy timeout,
// foreign keys, and BEGIN IMMEDIATE for transactions so that a transaction
// that reads before it writes never fails to upgrade its lock.
const sqliteParams = "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)" +
	"&_pragma=synchronous(NORMAL)&_txlock=immediate"

// PoolOptions bounds a Store's connection pool. A zero field takes its
// default:
//
//   - MaxOpenConns: 16 on PostgreSQL, 8 on a SQLite file (SQLite runs one
//     writer at a time, so more connections only queue on its lock);
//   - MaxIdleConns: 16 (never more than MaxOpenConns);
//   - ConnMaxLifetime: 30 minutes;
//   - ConnMaxIdleTime: 5 minutes.
//
// A request that waits for a connection longer than its context allows
// fails with an error for which IsUnavailable is true. A SQLite ":memory:"
// database ignores the options: it keeps exactly one connection, forever,
// since every connection to it is a database of its own.
type PoolOptions struct {
	MaxOpenConns    int
	MaxIdleConns    int
	ConnMaxLifetime time.Duration
	ConnMaxIdleTime time.Duration
}

// DefaultPool is the pool Open uses: every field takes its default.
var DefaultPool = PoolOptions{}

// withDefaults fills the zero fields of o for a PostgreSQL or SQLite pool.
func (o PoolOptions) withDefaults(sqlite bool) PoolOptions {
	if o.MaxOpenConns == 0 {
		o.MaxOpenConns = 16
		if sqlite {
			o.MaxOpenConns = 8
		}
	}
	if o.MaxIdleConns == 0 {
		o.MaxIdleConns = 16
	}
	o.MaxIdleConns = min(o.MaxIdleConns, o.MaxOpenConns)
	if o.ConnMaxLifetime == 0 {
		o.ConnMaxLifetime = 30 * time.Minute
	}
	if o.ConnMaxIdleTime == 0 {
		o.ConnMaxIdleTime = 5 * time.Minute
	}
	return o
}

func (o PoolOptions) apply(sqldb *sql.DB) {
	sqldb.SetMaxOpenConns(o.MaxOpenConns)
	sqldb.SetMaxIdleConns(o.MaxIdleConns)
	sqldb.SetConnMaxLifetime(o.ConnMaxLifetime)
	sqldb.SetConnMaxIdleTime(o.ConnMaxIdleTime)
}

// Open is OpenWith(ctx, url, DefaultPool).
func Open(ctx context.Context, url string) (*Store, error) {
	return OpenWith(ctx, url, DefaultPool)
}

// OpenWith connects to url with a pool bounded by pool and pings the
// database. A url starting with "postgres://" or "postgresql://" opens
// PostgreSQL; "sqlite:path", "sqlite::memory:", "file:..." or a plain file
// path open SQLite, creating the file's parent directories.
func OpenWith(ctx context.Context, url string, pool PoolOptions) (*Store, error) {
	if pool.MaxOpenConns < 0 || pool.MaxIdleConns < 0 || pool.ConnMaxLifetime < 0 || pool.ConnMaxIdleTime < 0 {
		return nil, fmt.Errorf("db: open: negative pool option in %+v", pool)
	}
	s := &Store{Now: time.Now}
	switch {
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		// Bounded timeouts: an unreachable database fails a request in
		// seconds instead of hanging it (DSN parameters may override them).
		sqldb := sql.OpenDB(pgdriver.NewConnector(
			pgdriver.WithDialTimeout(3*time.Second), pgdriver.WithReadTimeout(15*time.Second),
			pgdriver.WithWriteTimeout(5*time.Second), pgdriver.WithDSN(url)))
		pool.withDefaults(false).apply(sqldb)
		s.DB = bun.NewDB(sqldb, pgdialect.New())
		s.dialect = DialectPostgres
	default:
		dsn, memory, err := sqliteDSN(url)
		if err != nil {
			return nil, fmt.Errorf("db: open: %w", err)
		}
		sqldb, err := sql.Open(sqliteshim.ShimName, dsn)
		if err != nil {
			return nil, fmt.Errorf("db: open: %w", err)
		}
		if memory {
			// Every connection to ":memory:" is a database of its own, so
			// keep exactly one connection, forever.
			sqldb.SetMaxOpenConns(1)
			sqldb.SetMaxIdleConns(1)
			sqldb.SetConnMaxLifetime(0)
			sqldb.SetConnMaxIdleTime(0)
		} else {
			pool.withDefaults(true).apply(sqldb)
		}
		s.DB = bun.NewDB(sqldb, sqlitedialect.New())
		s.dialect = DialectSQLite
	}
	if err := s.DB.PingContext(ctx); err != nil {
		s.DB.Close()
		return nil, fmt.Errorf("db: open: ping: %w", err)
	}
	return s, nil
}

// sqliteDSN turns a SQLite url into a driver DSN carrying sqliteParams and
// creates the parent directory of a file database.
func sqliteDSN(url string) (dsn string, memory bool, err error) {
	path := url
	if rest, ok := strings.CutPrefix(url, "sqlite:"); ok {
		path = strings.TrimPrefix(rest, "//")
	}
	if path == "" {
		return "", false, errors.New("empty SQLite path")
	}
	file, query, _ := strings.Cut(path, "?")
	name := strings.TrimPrefix(file, "file:")
	memory = name == ":memory:" || name == "" || strings.Contains(query, "mode=memory")
	if !memory {
		if dir := filepath.Dir(name); dir != "." {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return "", false, err
			}
		}
	}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return path + sep + sqliteParams, memory, nil
}

// Close closes the database.
func (s *Store) Close() error {
	if err := s.DB.Close(); err != nil {
		return fmt.Errorf("db: close: %w", err)
	}
	return nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.DB.PingContext(ctx); err != nil {
		return fmt.Errorf("db: ping: %w", err)
	}
	return nil
}

// Dialect is "pg" or "sqlite".
func (s *Store) Dialect() string { return s.dialect }

func (s *Store) isPG() bool { return s.dialect == DialectPostgres }

type instantKey struct{}

// AtInstant returns ctx carrying the instant of the request it belongs to.
// The request reads the clock once; its cache keys and the windows of its
// SQL are both computed from that instant, so they cannot disagree about
// an hour boundary.
func AtInstant(ctx context.Context, t time.Time) context.Context {
	return context.WithValue(ctx, instantKey{}, t)
}

// Instant is the instant ctx carries (AtInstant), or else now.
func Instant(ctx context.Context, now func() time.Time) time.Time {
	if t, ok := ctx.Value(instantKey{}).(time.Time); ok {
		return t
	}
	return now()
}

// windowNow is the instant the windows of a read in ctx are computed at.
func (s *Store) windowNow(ctx context.Context) time.Time { return dbTime(Instant(ctx, s.now)) }

// now is the injected clock in UTC, truncated to microseconds: the
// precision both dialects store, so that a value read back equals the value
// written and keyset comparisons on times are exact.
func (s *Store) now() time.Time {
	clock := s.Now
	if clock == nil {
		clock = time.Now
	}
	return dbTime(clock())
}

// dbTime is t as stored: UTC, microseconds.
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func (s *Store) scoreText(text string) (float64, SentimentLabel) {
	score := s.score
	if score == nil {
		score = sentiment.Score
	}
	v, label := score(text)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		v = 0
	}
	switch l := SentimentLabel(label); l {
	case Positive, Negative:
		return v, l
	}
	return v, Neutral
}

// forUpdate locks the selected rows until the transaction ends on
// PostgreSQL. SQLite needs nothing: its write transactions begin IMMEDIATE
// and are serialised.
func (s *Store) forUpdate(q *bun.SelectQuery) *bun.SelectQuery {
	if s.isPG() {
		return q.For("UPDATE")
	}
	return q
}

// forShare locks the selected rows against updates and deletes until the
// transaction ends on PostgreSQL, letting other readers share them. It is
// FOR SHARE, not FOR KEY SHARE, which lets an UPDATE of non-key columns
// (a destination's city) through. SQLite needs nothing (see forUpdate).
func (s *Store) forShare(q *bun.SelectQuery) *bun.SelectQuery {
	if s.isPG() {
		return q.For("SHARE")
	}
	return q
}

// tagSet collects the cache tags a write affects.
type tagSet map[string]struct{}

func (t tagSet) add(tags ...string) {
	for _, tag := range tags {
		t[tag] = struct{}{}
	}
}

func (t tagSet) sorted() []string {
	out := make([]string, 0, len(t))
	for tag := range t {
		out = append(out, tag)
	}
	sort.Strings(out)
	return out
}

// record writes tags to the outbox through idb, which must be the write's
// transaction, and returns the Change. No tags, no row, an empty Change.
//
// The rows whose fields decide a write's tags (a destination's city) are
// read locked (FOR SHARE on PostgreSQL), so the tags are those of the state
// the write commits in; locks are taken properties first, then
// destinations. A bulk rewrite (the seed) records TagAll, which names every
// cached entry.
func (s *Store) record(ctx context.Context, idb bun.IDB, tags tagSet) (Change, error) {
	if len(tags) == 0 {
		return Change{}, nil
	}
	e := &OutboxEntry{Tags: tags.sorted(), CreatedAt: s.now()}
	if _, err := idb.NewInsert().Model(e).Exec(ctx); err != nil {
		return Change{}, fmt.Errorf("write outbox: %w", err)
	}
	return Change{Tags: e.Tags, OutboxID: e.ID}, nil
}

// isUniqueViolation reports whether err is a unique-constraint violation.
func isUniqueViolation(err error) bool {
	var pgErr pgdriver.Error
	if errors.As(err, &pgErr) {
		return pgErr.Field('C') == "23505"
	}
	return strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// escapeLike escapes s for a LIKE pattern using '!' as the escape character.
func escapeLike(s string) string {
	r := strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")
	return r.Replace(s)
}

// AfterScanRow normalises times read back to UTC.
func (d *Destination) AfterScanRow(context.Context) error {
	d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	return nil
}

// AfterScanRow normalises times read back to UTC.
func (p *Property) AfterScanRow(context.Context) error {
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	return nil
}

// BeforeAppendModel sets SearchText before every insert and update, so no
// write path can leave it out of step with the title and description.
func (p *Property) BeforeAppendModel(_ context.Context, q bun.Query) error {
	switch q.(type) {
	case *bun.InsertQuery, *bun.UpdateQuery:
		p.SearchText = searchText(p.Title, p.Description)
	}
	return nil
}

// AfterScanRow normalises times read back to UTC.
func (p *Post) AfterScanRow(context.Context) error {
	p.PostedAt, p.CreatedAt = p.PostedAt.UTC(), p.CreatedAt.UTC()
	return nil
}

// AfterScanRow normalises times read back to UTC.
func (r *ScrapeRun) AfterScanRow(context.Context) error {
	r.StartedAt = r.StartedAt.UTC()
	if r.FinishedAt != nil {
		t := r.FinishedAt.UTC()
		r.FinishedAt = &t
	}
	return nil
}

// AfterScanRow normalises times read back to UTC.
func (e *OutboxEntry) AfterScanRow(context.Context) error {
	e.CreatedAt = e.CreatedAt.UTC()
	return nil
}

// AfterScanRow normalises times read back to UTC.
func (p *Peer) AfterScanRow(context.Context) error {
	p.JoinedAt, p.HeartbeatAt, p.ExpiresAt = p.JoinedAt.UTC(), p.HeartbeatAt.UTC(), p.ExpiresAt.UTC()
	return nil
}

var (
	_ bun.AfterScanRowHook      = (*Destination)(nil)
	_ bun.AfterScanRowHook      = (*Property)(nil)
	_ bun.BeforeAppendModelHook = (*Property)(nil)
	_ bun.AfterScanRowHook      = (*Post)(nil)
	_ bun.AfterScanRowHook      = (*ScrapeRun)(nil)
	_ bun.AfterScanRowHook      = (*OutboxEntry)(nil)
	_ bun.AfterScanRowHook      = (*Peer)(nil)
)
