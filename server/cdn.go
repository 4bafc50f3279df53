package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// purger pushes every invalidation to a CDN's purge endpoint (the opt-in
// CDN mode, CDN_PURGE_URL): POST {"tags": [...]}, retried with backoff.
// Invalidations are queued, never waited for: a slow or dead CDN delays no
// mutation. What it cannot deliver (a full queue, every retry failed) is
// logged; the CDN then keeps that answer for at most its s-maxage.
type purger struct {
	url    string
	client *http.Client
	queue  chan []string
	log    *slog.Logger
	tries  int
	wait   time.Duration // before the first retry; doubles
}

func newPurger(url string, log *slog.Logger) *purger {
	return &purger{url: url, client: &http.Client{Timeout: 10 * time.Second}, queue: make(chan []string, 1024),
		log: log, tries: 5, wait: 200 * time.Millisecond}
}

// enqueue queues tags for purging without blocking.
func (p *purger) enqueue(tags []string) {
	select {
	case p.queue <- tags:
	default:
		p.log.Warn("CDN purge queue full; the CDN keeps these answers until their s-maxage", "tags", tags)
	}
}

// run purges queued tags until ctx is done.
func (p *purger) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case tags := <-p.queue:
			p.purge(ctx, tags)
		}
	}
}

func (p *purger) purge(ctx context.Context, tags []string) {
	body, _ := json.Marshal(map[string][]string{"tags": tags})
	wait := p.wait
	var err error
	for try := 1; try <= p.tries; try++ {
		if err = p.post(ctx, body); err == nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait *= 2
	}
	p.log.Warn("CDN purge failed; the CDN keeps these answers until their s-maxage", "tags", tags, "tries", p.tries, "err", err)
}

func (p *purger) post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("purge endpoint answered %s", resp.Status)
	}
	return nil
}
