package graph_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/cache/cachetest"
	"github.com/kedahpulse/kedahpulse/db/dbtest"
)

// With PostgreSQL unreachable, cached reads are still served; uncached reads
// and mutations fail at once with SERVICE_UNAVAILABLE and write nothing;
// when the database is back everything works again by itself.
func TestDatabaseOutage(t *testing.T) {
	dsn, err := url.Parse(dbtest.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	p := cachetest.NewProxy(t, dsn.Host)
	dsn.Host = p.Addr()
	dbStore, clock := dbtest.OpenURL(t, dsn.String())
	e := newEnvOn(t, dbStore, clock, cache.NewMemoryStore(cache.MemoryLimits{}))
	if err := e.store.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, e, 2)
	cached := `query($id: ID!) { property(id: $id) { title } }`
	one, two := map[string]any{"id": sid(f.props[0].ID)}, map[string]any{"id": sid(f.props[1].ID)}
	e.ok(cached, one, false)

	p.SetCut(true)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if got := e.do(cached, one, false); got.Header.Get("X-Cache") != "HIT" || path(got.Data, "property", "title") != f.props[0].Title {
			t.Errorf("a cached read failed while the database was down: %s", got.Raw)
		}
		if got := e.do(cached, two, false); got.code() != "SERVICE_UNAVAILABLE" {
			t.Errorf("uncached read: %s", got.Raw)
		}
		write := `mutation($id: ID!) { updateProperty(id: $id, input: {title: "During the outage"}) { id } }`
		if got := e.do(write, one, true); got.code() != "SERVICE_UNAVAILABLE" {
			t.Errorf("mutation: %s", got.Raw)
		}
	}()
	select {
	case <-done:
	case <-time.After(time.Minute): // a guard against a hang, not a timing assertion
		t.Fatal("requests hung while the database was down")
	}

	p.SetCut(false)
	if got := path(e.ok(cached, two, false), "property", "title"); got != f.props[1].Title {
		t.Errorf("after recovery: %v", got)
	}
	rows, err := e.store.FindPropertiesByIDs(context.Background(), []int64{f.props[0].ID})
	if err != nil || len(rows) != 1 || rows[0].Title != f.props[0].Title {
		t.Errorf("the failed mutation left a trace: %v %v", rows, err)
	}
}
