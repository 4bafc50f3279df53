package db_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/db/dbtest"
)

func TestOutbox(t *testing.T) {
	t.Parallel()
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		ctx := context.Background()
		d, c1, err := s.CreateDestination(ctx, db.DestinationInput{Name: "Gunung Jerai", City: "Yan", Category: db.CategoryNature})
		if err != nil {
			t.Fatal(err)
		}
		clock.Add(time.Second)
		_, c2, err := s.CreateProperty(ctx, db.PropertyInput{Title: "Chalet", Location: "Yan", DestinationID: &d.ID})
		if err != nil {
			t.Fatal(err)
		}
		// A failed write leaves no outbox row.
		if _, _, err := s.CreateProperty(ctx, db.PropertyInput{Title: "Chalet", Location: "Yan", DestinationID: ptr(d.ID + 1)}); err == nil {
			t.Fatal("want an error")
		}
		_, c3, err := s.UpdateDestination(ctx, d.ID, db.DestinationUpdate{Description: ptr("Cool")})
		if err != nil {
			t.Fatal(err)
		}

		pending, err := s.PendingInvalidations(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(pending) != 3 {
			t.Fatalf("pending = %d, want 3", len(pending))
		}
		for i, c := range []db.Change{c1, c2, c3} {
			if pending[i].ID != c.OutboxID || !slices.Equal(pending[i].Tags, c.Tags) {
				t.Fatalf("pending[%d] = %+v, want %+v", i, pending[i], c)
			}
		}
		if !pending[0].CreatedAt.Equal(dbtest.Epoch) || !pending[1].CreatedAt.Equal(dbtest.Epoch.Add(time.Second)) {
			t.Fatalf("created at %v, %v", pending[0].CreatedAt, pending[1].CreatedAt)
		}

		first, err := s.PendingInvalidations(ctx, 1)
		if err != nil || len(first) != 1 || first[0].ID != c1.OutboxID {
			t.Fatalf("oldest first: %+v, %v", first, err)
		}
		for range 2 { // acking twice is fine
			if err := s.AckInvalidation(ctx, c1.OutboxID); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.AckInvalidation(ctx, 12345); err != nil {
			t.Fatal(err)
		}
		if acked, err := s.InvalidationAcked(ctx, c1.OutboxID); err != nil || !acked {
			t.Fatalf("acked entry: %v, %v", acked, err)
		}
		if acked, err := s.InvalidationAcked(ctx, c2.OutboxID); err != nil || acked {
			t.Fatalf("pending entry reported acked: %v, %v", acked, err)
		}
		pending, err = s.PendingInvalidations(ctx, 10)
		if err != nil || len(pending) != 2 || pending[0].ID != c2.OutboxID {
			t.Fatalf("after ack: %+v, %v", pending, err)
		}
		if none, err := s.PendingInvalidations(ctx, 0); err != nil || len(none) != 0 {
			t.Fatalf("limit 0: %v, %v", none, err)
		}
		for _, e := range pending {
			for _, tag := range e.Tags {
				if !db.ValidTag(tag) {
					t.Fatalf("invalid tag %q", tag)
				}
			}
		}
	})
}
