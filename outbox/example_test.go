package outbox_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/outbox"
)

// Deliver makes a committed write visible: it invalidates the write's
// tags, so the next read through the cache fills from the database, and
// acks the write's outbox row.
func ExampleRelay_Deliver() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "outbox-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	store, err := db.Open(ctx, filepath.Join(dir, "kp.db")) // SQLite
	if err != nil {
		panic(err)
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		panic(err)
	}
	bypass := new(outbox.Bypass)
	c := cache.New(cache.NewMemoryStore(cache.MemoryLimits{}), cache.Options{Bypass: bypass, Timeout: -1, BreakerThreshold: -1})
	relay := outbox.New(store, c, bypass, slog.New(slog.DiscardHandler))

	_, ch, err := store.CreateDestination(ctx, db.DestinationInput{Name: "Pantai Cenang", City: "Langkawi", Category: db.CategoryBeach})
	if err != nil {
		panic(err)
	}
	read := func() {
		_, err := c.Load(ctx, "Query.destinations", time.Hour, []cache.Lookup{{Key: "destinations", Tags: ch.Tags}},
			func(context.Context, []int) ([][]byte, error) {
				fmt.Println("read from the database")
				return [][]byte{[]byte("...")}, nil
			})
		if err != nil {
			panic(err)
		}
	}
	read() // fills the cache
	read() // a hit
	if err := relay.Deliver(ctx, ch); err != nil {
		panic(err)
	}
	acked, _ := store.InvalidationAcked(ctx, ch.OutboxID)
	fmt.Println("acked:", acked)
	read() // the write's tags were invalidated: the database answers
	n, _ := relay.Drain(ctx)
	fmt.Println("left in the outbox:", n, "bypass on:", bypass.On())
	// Output:
	// read from the database
	// acked: true
	// read from the database
	// left in the outbox: 0 bypass on: false
}
