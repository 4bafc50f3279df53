package graph_test

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/db/dbtest"
	"github.com/kedahpulse/kedahpulse/graph"
)

// q1Query is issue 17's Q1: 50 properties with their destinations and the
// destinations' sentiment.
const q1Query = `{ properties(first: 50) { totalCount edges { cursor node { id title description price location createdAt
  destination { id name city category sentiment { total averageScore } } } } } }`

// seedQ1 fills the database with enough rows for Q1: 50 properties over
// 20 destinations.
func seedQ1(t *testing.T, e *env) {
	t.Helper()
	if err := e.store.Seed(context.Background(), db.SeedOptions{Destinations: 20, Properties: 200, Posts: 200, Seed: 1}); err != nil {
		t.Fatal(err)
	}
}

// waiting returns a handler over e's cache and database whose dataloaders
// wait a minute before a batch (the response level and the plan off), and
// the counter of the batches they run.
func waiting(e *env) (http.Handler, *atomic.Int64) {
	slow := *e.resolver
	slow.LoaderWait, slow.Batches = time.Minute, new(atomic.Int64)
	return graph.NewHandler(&slow, graph.Options{NoResponseCache: true}), slow.Batches
}

// On Redis, a warm Q1 on the gqlgen path (the response level and the plan
// off) never enters a dataloader's wait: every key is answered by Peek
// from the copies kept in process. With a LoaderWait of a minute it runs
// no batch and no SQL and sends one Redis command (the log's head, read
// once for the request: headPerQuery), answers the same bytes as the cold
// request, and counts one hit per key the cold request counted a miss
// for. A write is seen by the next request.
func TestWarmRedisNeverWaits(t *testing.T) {
	e := newEnv(t, "postgres", "redis", noResponseCache)
	seedQ1(t, e)
	before := fieldCounts(t, e)
	cold := e.doWith(e.handler, q1Query)
	if len(cold.Errors) > 0 || !strings.Contains(cold.Raw, `"averageScore"`) {
		t.Fatalf("cold: %s", cold.Raw)
	}
	afterCold := fieldCounts(t, e)

	h, waited := waiting(e)
	var warm *result
	sql, trips := e.counts(func() { warm = e.doWith(h, q1Query) })
	cmds := e.trips.Commands()
	t.Logf("warm Q1 on Redis through gqlgen: %d batches, %d SQL, %d round trips, %d commands", waited.Load(), sql, trips, cmds)
	if warm.Raw != cold.Raw {
		t.Errorf("warm answer differs from cold:\n%s\n%s", warm.Raw, cold.Raw)
	}
	if n := waited.Load(); n != 0 || sql != 0 || trips != 1 || cmds != 1 {
		t.Errorf("warm: %d batches waited a minute, %d SQL, %d round trips, %d commands; want no batch, no SQL and one command (the log's head)",
			n, sql, trips, cmds)
	}
	afterWarm := fieldCounts(t, e)
	for _, coord := range slices.Sorted(maps.Keys(afterWarm)) {
		missed := afterCold[coord].Misses - before[coord].Misses
		hits, misses := afterWarm[coord].Hits-afterCold[coord].Hits, afterWarm[coord].Misses-afterCold[coord].Misses
		if hits != missed || misses != 0 {
			t.Errorf("%s: warm counted %d hits, %d misses; cold counted %d misses", coord, hits, misses, missed)
		}
	}

	id := firstPropertyID(t, cold)
	res := e.send(e.handler, `mutation($id: ID!) { updateProperty(id: $id, input: {title: "Retitled by the peek test"}) { id } }`,
		map[string]any{"id": id}, true)
	if len(res.Errors) > 0 {
		t.Fatal(res.Raw)
	}
	if got := e.doWith(e.handler, q1Query).Raw; !strings.Contains(got, "Retitled by the peek test") {
		t.Fatalf("the write is not seen: %s", got)
	}
}

// While Redis is unreachable, Peek answers nothing and fails nothing: a
// warm Q1 is answered from PostgreSQL with the same bytes and no error,
// and asks Redis once (its one read of the log's head fails, and the
// request's other batches and peeks take that answer: cache.WithHead).
func TestWarmRedisDown(t *testing.T) {
	store, p := proxiedRedis(t)
	dbStore, clock := dbtest.Open(t, "postgres")
	e := newEnvOn(t, dbStore, clock, store, noResponseCache)
	seedQ1(t, e)
	want := e.doWith(e.handler, q1Query).Raw
	if strings.Contains(want, `"errors"`) {
		t.Fatal(want)
	}
	e.doWith(e.handler, q1Query)

	p.SetCut(true)
	dials := p.Accepted()
	var got string
	sql, _ := e.counts(func() { got = e.doWith(e.handler, q1Query).Raw })
	tried := p.Accepted() - dials
	t.Logf("warm Q1 with Redis cut: %d SQL, %d connections tried", sql, tried)
	if tried > 1 {
		t.Errorf("with Redis cut, the request tried %d connections, want one (its head read)", tried)
	}
	if got != want {
		t.Errorf("answer with Redis cut differs:\n%s\n%s", got, want)
	}
	if sql == 0 {
		t.Error("with Redis cut, no SQL: the answer did not come from the database")
	}
}

// firstPropertyID is the id of the first property of a Q1 answer.
func firstPropertyID(t *testing.T, r *result) string {
	t.Helper()
	id, _ := path(r.Data, "properties", "edges", 0, "node", "id").(string)
	if id == "" {
		t.Fatalf("no property in %s", r.Raw)
	}
	return id
}
