package db_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/kedahpulse/kedahpulse/db"
)

func ptr[T any](v T) *T { return &v }

// wantInputError fails unless err is an *db.InputError on field.
func wantInputError(t *testing.T, err error, field string) {
	t.Helper()
	var in *db.InputError
	if !errors.As(err, &in) {
		t.Fatalf("err = %v, want *InputError on %q", err, field)
	}
	if in.Field != field {
		t.Fatalf("InputError field = %q (%v), want %q", in.Field, in, field)
	}
}

func mustDestination(t *testing.T, s *db.Store, name, city string, cat db.Category) *db.Destination {
	t.Helper()
	d, _, err := s.CreateDestination(context.Background(), db.DestinationInput{Name: name, City: city, Category: cat})
	if err != nil {
		t.Fatalf("create destination %q: %v", name, err)
	}
	return d
}

func mustProperty(t *testing.T, s *db.Store, in db.PropertyInput) *db.Property {
	t.Helper()
	if in.Location == "" {
		in.Location = "Jalan Mawar 1, Kedah"
	}
	p, _, err := s.CreateProperty(context.Background(), in)
	if err != nil {
		t.Fatalf("create property %q: %v", in.Title, err)
	}
	return p
}

// count returns the number of rows of table.
func count(t *testing.T, s *db.Store, table string) int {
	t.Helper()
	n, err := s.DB.NewSelect().TableExpr(table).Count(context.Background())
	if err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return int(n)
}

// counter adds a fresh QueryCounter to s.
func counter(s *db.Store) *db.QueryCounter {
	c := new(db.QueryCounter)
	s.DB.AddQueryHook(c)
	return c
}

func equalTags(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// wantChange checks that change has exactly tags (sorted) and that its
// outbox row holds them.
func wantChange(t *testing.T, s *db.Store, change db.Change, tags ...string) {
	t.Helper()
	if len(tags) == 0 {
		if len(change.Tags) != 0 || change.OutboxID != 0 {
			t.Fatalf("change = %+v, want empty", change)
		}
		return
	}
	if !equalTags(change.Tags, tags) {
		t.Fatalf("tags = %q, want %q", change.Tags, tags)
	}
	var e db.OutboxEntry
	if err := s.DB.NewSelect().Model(&e).Where("id = ?", change.OutboxID).Scan(context.Background()); err != nil {
		t.Fatalf("outbox row %d: %v", change.OutboxID, err)
	}
	if !equalTags(e.Tags, tags) {
		t.Fatalf("outbox tags = %q, want %q", e.Tags, tags)
	}
}

// show formats a property with its destination id dereferenced.
func show(p *db.Property) string {
	dest := "none"
	if p.DestinationID != nil {
		dest = fmt.Sprint(*p.DestinationID)
	}
	return fmt.Sprintf("{%d %q %q %s %q dest=%s created=%s updated=%s}", p.ID, p.Title, p.Description, p.Price,
		p.Location, dest, p.CreatedAt.Format(time.RFC3339Nano), p.UpdatedAt.Format(time.RFC3339Nano))
}

// pauseKey marks a context whose statements may pause (see pauseBefore).
type pauseKey struct{}

type pause struct {
	prefix  string
	once    sync.Once
	reached chan struct{}
	release chan struct{}
}

// pauseHook pauses the statements of contexts made by pauseBefore. Add it
// to a store with s.DB.AddQueryHook before the store is used concurrently.
type pauseHook struct{}

var _ bun.QueryHook = pauseHook{}

func (pauseHook) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context {
	if p, ok := ctx.Value(pauseKey{}).(*pause); ok && strings.HasPrefix(e.Query, p.prefix) {
		p.once.Do(func() {
			close(p.reached)
			<-p.release
		})
	}
	return ctx
}

func (pauseHook) AfterQuery(context.Context, *bun.QueryEvent) {}

// pauseBefore returns a context under which the first statement starting
// with prefix waits, inside its transaction, until release is called;
// reached is closed when it starts waiting. The store needs a pauseHook.
func pauseBefore(ctx context.Context, prefix string) (_ context.Context, reached <-chan struct{}, release func()) {
	p := &pause{prefix: prefix, reached: make(chan struct{}), release: make(chan struct{})}
	var once sync.Once
	return context.WithValue(ctx, pauseKey{}, p), p.reached, func() { once.Do(func() { close(p.release) }) }
}

// waitLockedOrDone returns true when done yields first, false once a
// session of s's PostgreSQL database waits for a lock. On SQLite, which
// shows no waits, it returns whether done has yielded already. It fails
// the test after a minute of neither.
func waitLockedOrDone[T any](t *testing.T, s *db.Store, done <-chan T, got *T) bool {
	t.Helper()
	ctx := context.Background()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		select {
		case *got = <-done:
			return true
		default:
		}
		if s.Dialect() != db.DialectPostgres {
			return false
		}
		var waiting int
		if err := s.DB.NewRaw(`SELECT COUNT(*) FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(ctx, &waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("neither done nor waiting for a lock after a minute")
	return false
}
