package graph_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/graph"
)

// A warm Q5 on Redis (properties50Query with the response level off, every
// field entry cached, through the compiled read path) reads no entry from
// Redis: each of its batches is answered from the copies in process, which
// one read of the log's head per request validates (cache/copies.go,
// cache.WithHead): one command. A write between two requests is seen by
// the next.
func TestPlanQ5RedisWarm(t *testing.T) {
	plan := graph.NewPlan()
	e := newEnv(t, "postgres", "redis", noResponseCache, func(o *graph.Options) { o.Plan = plan })
	ctx := context.Background()
	if err := e.store.Seed(ctx, db.SeedOptions{Destinations: 20, Properties: 200, Posts: 200, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	want := e.doWith(e.handler, properties50Query).Raw
	if strings.Contains(want, `"errors"`) {
		t.Fatal(want)
	}
	e.doWith(e.handler, properties50Query)
	e.trips.Reset()
	sql, trips := e.counts(func() {
		if got := e.doWith(e.handler, properties50Query).Raw; got != want {
			t.Fatalf("warm answer differs:\n%s\n%s", got, want)
		}
	})
	cmds := e.trips.Commands()
	t.Logf("warm Q5 on Redis: %d round trips, %d commands, %d SQL", trips, cmds, sql)
	if sql != 0 || trips != 1 || cmds != 1 {
		t.Errorf("warm Q5 on Redis: %d SQL, %d round trips, %d commands; want 0 SQL and one command (the log's head)", sql, trips, cmds)
	}
	if plan.Executions() == 0 {
		t.Fatal("the plan answered nothing")
	}

	// A write, then the same query: the copy of the changed property is
	// invalidated, the others still serve.
	var answer struct {
		Data struct {
			Properties struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
	}
	if err := json.Unmarshal([]byte(want), &answer); err != nil || len(answer.Data.Properties.Edges) == 0 {
		t.Fatalf("first property: %v", err)
	}
	res := e.send(e.handler, `mutation($id: ID!) { updateProperty(id: $id, input: {title: "Retitled by the copies test"}) { id } }`,
		map[string]any{"id": answer.Data.Properties.Edges[0].Node.ID}, true)
	if strings.Contains(res.Raw, `"errors"`) {
		t.Fatal(res.Raw)
	}
	if got := e.doWith(e.handler, properties50Query).Raw; !strings.Contains(got, "Retitled by the copies test") {
		t.Fatalf("the write is not seen: %s", got)
	}
}
