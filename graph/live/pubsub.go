package live

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// The doorbell between processes: after this process delivers an
// invalidation, announce publishes its id on the channel; every other
// process's listen rings its own doorbell, which reads the log. A message
// says only "read the log", so a lost one delays tags until the next, and
// one message covers any number of invalidations. go-redis re-subscribes
// after a broken connection; every subscription confirmed after the first
// may have missed messages, so it wakes every entry.

// announce publishes a doorbell after each local invalidation (several
// queued while one is published make one more).
func (r *Registry) announce(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.ring:
		}
		if err := r.opt.Redis.Publish(ctx, r.opt.Channel, r.self).Err(); err != nil && ctx.Err() == nil {
			r.opt.Logger.Warn("live: announcing an invalidation to the other processes failed; they see it at their next doorbell", "err", err)
		}
	}
}

// listen rings the doorbell for each other process's announcement, and
// wakes everything after a reconnection.
func (r *Registry) listen(ctx context.Context) {
	sub := r.opt.Redis.Subscribe(ctx, r.opt.Channel)
	// Receive does not return when ctx ends while it waits for a message;
	// closing the subscription does.
	stop := context.AfterFunc(ctx, func() { sub.Close() })
	defer stop()
	defer sub.Close()
	subscribed := false
	for {
		msg, err := sub.Receive(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			r.missedEvents() // messages may be lost until the re-subscription
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
			continue
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			if subscribed {
				r.missedEvents()
			}
			subscribed = true
		case *redis.Message:
			if m.Payload != r.self {
				select {
				case r.kick <- struct{}{}:
				default:
				}
			}
		}
	}
}
