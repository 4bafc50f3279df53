package graph_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kedahpulse/kedahpulse/cache/cachetest"
	"github.com/kedahpulse/kedahpulse/cache/redisstore"
	"github.com/kedahpulse/kedahpulse/db/dbtest"
	"github.com/kedahpulse/kedahpulse/graph"
)

// proxiedRedis opens a Redis store through a proxy the test can cut, with
// no retries and a short dial timeout.
func proxiedRedis(t *testing.T) (*redisstore.Store, *cachetest.Proxy) {
	t.Helper()
	client, prefix, _ := cachetest.NewRedis(t)
	p := cachetest.NewProxy(t, client.(*redis.Client).Options().Addr)
	store, err := redisstore.Open("redis://"+p.Addr()+"/0?max_retries=-1&dial_timeout=200ms", prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store, p
}

// A write committed while Redis is unreachable is not lost: once the link
// is back, the next read returns the written value, never the entry cached
// before the cut.
func TestWriteDuringRedisOutageIsNotLost(t *testing.T) {
	store, p := proxiedRedis(t)
	dbStore, clock := dbtest.Open(t, "postgres")
	e := newEnvOn(t, dbStore, clock, store, func(o *graph.Options) { o.Timeout = time.Second })
	f := newFixture(t, e, 1)
	read := `query($id: ID!) { property(id: $id) { title } }`
	vars := map[string]any{"id": sid(f.props[0].ID)}
	e.ok(read, vars, false)
	if res := e.do(read, vars, false); res.Header.Get("X-Cache") != "HIT" {
		t.Fatalf("cache not warm: X-Cache %s", res.Header.Get("X-Cache"))
	}

	p.SetCut(true)
	// Saved, but not confirmed visible everywhere before the deadline: the
	// data comes with INVALIDATION_PENDING, not a clean acknowledgement.
	res := e.do(`mutation($id: ID!) { updateProperty(id: $id, input: {title: "Written during the outage"}) { id } }`, vars, true)
	if res.code() != "INVALIDATION_PENDING" || path(res.Data, "updateProperty", "id") != vars["id"] {
		t.Fatalf("mutation during the outage: %s", res.Raw)
	}
	if got := path(e.ok(read, vars, false), "property", "title"); got != "Written during the outage" {
		t.Errorf("during the outage: %v", got)
	}
	p.SetCut(false)
	if got := path(e.ok(read, vars, false), "property", "title"); got != "Written during the outage" {
		t.Fatalf("after the link came back, before the relay ran: stale %v", got)
	}
	// The relay delivers the outbox; the cache serves again, fresh.
	// (Its breaker, opened by the outage, lets a probe through after its
	// cooldown: retry as the relay's schedule would.)
	var n int
	var err error
	for range 50 {
		if n, err = e.relay.Drain(context.Background()); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil || n < 1 {
		t.Fatalf("relay delivered %d rows: %v", n, err)
	}
	for range 2 {
		if got := path(e.ok(read, vars, false), "property", "title"); got != "Written during the outage" {
			t.Fatalf("after the relay: stale %v", got)
		}
	}
	if res := e.do(read, vars, false); res.Header.Get("X-Cache") != "HIT" {
		t.Errorf("the cache did not resume after the relay: X-Cache %s", res.Header.Get("X-Cache"))
	}
}

// A process killed between its commit and its invalidation leaves the
// outbox row; the next process's start-up delivery makes every reader fresh.
func TestCrashBetweenCommitAndInvalidation(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		f := newFixture(t, e, 1)
		read := `query($id: ID!) { property(id: $id) { title } }`
		vars := map[string]any{"id": sid(f.props[0].ID)}
		e.ok(read, vars, false)
		title := "Committed, never invalidated"
		// The write commits (with its outbox row) and the process dies before Deliver.
		if _, _, err := e.store.UpdateProperty(context.Background(), f.props[0].ID, dbPropertyTitle(title)); err != nil {
			t.Fatal(err)
		}
		if got := path(e.ok(read, vars, false), "property", "title"); got == title {
			t.Fatal("the write was visible without invalidation: the test would prove nothing")
		}
		// A process starting up (or any process's relay) drains the outbox.
		if _, err := e.relay.Drain(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := path(e.ok(read, vars, false), "property", "title"); got != title {
			t.Errorf("after the outbox was drained: %v", got)
		}
	})
}
