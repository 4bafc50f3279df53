package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/graph"
)

// purger purges invalidated answers from a CDN (the CDN mode,
// CDN_PURGE_URL), and a mutation is acknowledged only once the CDN has
// accepted the purge of its tags (purgedDelivery).
//
// Tags wait in one open batch. Up to Concurrency workers each take the
// whole open batch and send it, so tags invalidated while purges are in
// flight coalesce into the next one. A batch the endpoint does not accept
// after its tries goes back into the open batch: nothing is dropped. When
// more than Queue distinct tags wait, the open batch becomes a purge of
// every answer (cache.AllTag, which every answer carries), counted. Each
// accepted purge of a write's tags is sent again RepurgeAfter later: a
// read that began before the write may reach the CDN after the first
// purge, and the second one removes what it left. At shutdown, once the
// server's reads have drained, the tags still waiting (the open batch and
// the second purges not yet due) are sent in one last purge: no read of
// this process can put a stale answer in the CDN after it.
type purger struct {
	cfg     cdnConfig
	client  *http.Client
	log     *slog.Logger
	metrics *purgeMetrics
	wake    chan struct{} // a batch is open

	mu    sync.Mutex
	open  *batch
	state map[string]*batch        // the batch each tag last went into, kept a while after it was accepted
	later map[*time.Timer][]string // second purges not yet due
}

// batch is the tags sent in one round of purge requests.
type batch struct {
	tags  map[string]bool // tag: purge it again RepurgeAfter after it was accepted (a write's first purge)
	all   bool            // more than Queue tags: purge everything
	again bool            // with all: purge everything again after RepurgeAfter
	done  chan struct{}   // closed once accepted, or once failed (err set first)
	err   error
	ended time.Time
}

// purgeRequestBytes bounds the tags of one purge request (Varnish's
// default limit on a request header is 8 KiB).
const purgeRequestBytes = 4 << 10

// stateKept is how long a tag remembers its accepted batch, for the
// mutation that waits for it after its invalidation was delivered.
const stateKept = time.Minute

func newPurger(cfg cdnConfig, metrics *purgeMetrics, log *slog.Logger) *purger {
	return &purger{cfg: cfg, client: &http.Client{Timeout: 10 * time.Second}, log: log, metrics: metrics,
		wake: make(chan struct{}, 1), state: map[string]*batch{}, later: map[*time.Timer][]string{}}
}

// invalidated queues a write's tags for purging without blocking (the
// cache's Invalidated hook).
func (p *purger) invalidated(tags []string) {
	p.mu.Lock()
	p.addLocked(tags, true)
	p.mu.Unlock()
}

// addLocked adds tags to the open batch and returns it; first says they
// are a write's first purge (purged again later, and waited for).
func (p *purger) addLocked(tags []string, first bool) *batch {
	if len(tags) == 0 {
		return nil
	}
	b := p.open
	if b == nil {
		b = &batch{tags: map[string]bool{}, done: make(chan struct{})}
		p.open = b
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
	for _, t := range tags {
		if first {
			if len(p.state) < 4*p.cfg.Queue {
				p.state[t] = b
			} else {
				delete(p.state, t) // wait purges it again rather than trust an older batch
			}
		}
		if b.all {
			b.again = b.again || first
			continue
		}
		b.tags[t] = b.tags[t] || first
	}
	if !b.all && len(b.tags) > p.cfg.Queue {
		p.log.Warn("CDN purge queue full: purging every answer instead", "tags", len(b.tags), "queue", p.cfg.Queue)
		p.metrics.overflows.Inc()
		for _, again := range b.tags {
			b.again = b.again || again
		}
		b.all, b.tags = true, nil
	}
	p.setPendingLocked()
	return b
}

func (p *purger) setPendingLocked() {
	n := 0
	if p.open != nil {
		n = len(p.open.tags)
		if p.open.all {
			n = 1
		}
	}
	p.metrics.pendingTags.Set(float64(n))
}

// wait returns once the CDN accepted a purge of each tag sent after the
// tag was invalidated by this process, or ErrPurgePending when ctx ends
// first. A tag this process did not invalidate (another process's relay
// delivered the change) is purged now.
func (p *purger) wait(ctx context.Context, tags []string) error {
	remaining := map[string]bool{}
	for _, t := range tags {
		remaining[t] = true
	}
	for len(remaining) > 0 {
		byBatch := map[*batch][]string{}
		p.mu.Lock()
		for t := range remaining {
			b := p.state[t]
			if b == nil || b.failed() {
				b = p.addLocked([]string{t}, true)
			}
			byBatch[b] = append(byBatch[b], t)
		}
		p.mu.Unlock()
		for b, ts := range byBatch {
			select {
			case <-b.done:
			case <-ctx.Done():
				return fmt.Errorf("%w (%d tags)", graph.ErrPurgePending, len(remaining))
			}
			if b.err == nil {
				for _, t := range ts {
					delete(remaining, t)
				}
			}
		}
	}
	return nil
}

// failed reports whether b ended without being accepted.
func (b *batch) failed() bool {
	select {
	case <-b.done:
		return b.err != nil
	default:
		return false
	}
}

// run sends batches with Concurrency workers until ctx is done, then the
// tags still waiting (final).
func (p *purger) run(ctx context.Context) {
	var wg sync.WaitGroup
	for range p.cfg.Concurrency {
		wg.Go(func() { p.work(ctx) })
	}
	t := time.NewTicker(stateKept / 4)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			p.final()
			return
		case now := <-t.C:
			p.forget(now)
		}
	}
}

// work sends the open batch whenever there is one; after a failed batch
// it waits, longer after each (200 ms doubling up to 10 s).
func (p *purger) work(ctx context.Context) {
	backoff := time.Duration(0)
	for {
		p.mu.Lock()
		b := p.open
		p.open = nil
		p.setPendingLocked()
		p.mu.Unlock()
		if b == nil {
			select {
			case <-ctx.Done():
				return
			case <-p.wake:
			}
			continue
		}
		err := p.send(ctx, b)
		p.finish(b, err)
		if err == nil {
			backoff = 0
			continue
		}
		backoff = min(max(2*backoff, 200*time.Millisecond), 10*time.Second)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
	}
}

// send purges b's tags, each request tried up to three times.
func (p *purger) send(ctx context.Context, b *batch) error {
	tags := []string{cache.AllTag}
	if !b.all {
		tags = make([]string, 0, len(b.tags))
		for t := range b.tags {
			tags = append(tags, t)
		}
	}
	for _, chunk := range chunkTags(tags, purgeRequestBytes) {
		var err error
		for try := range 3 {
			if try > 0 {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(time.Duration(try) * 200 * time.Millisecond):
				}
			}
			if err = p.request(ctx, chunk); err == nil {
				break
			}
		}
		if err != nil {
			p.metrics.requests.WithLabelValues("failed").Inc()
			return err
		}
		p.metrics.requests.WithLabelValues("accepted").Inc()
	}
	return nil
}

// finish records b's outcome: accepted, its write's tags are purged again
// after RepurgeAfter; failed, its tags go back into the open batch.
func (p *purger) finish(b *batch, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b.err, b.ended = err, time.Now()
	if err != nil {
		p.log.Warn("CDN purge not accepted; retrying", "tags", len(b.tags), "all", b.all, "err", err)
		tags, again := make([]string, 0, len(b.tags)), make([]string, 0, len(b.tags))
		for t, first := range b.tags {
			if first {
				again = append(again, t)
			} else {
				tags = append(tags, t)
			}
		}
		if b.all {
			tags = []string{cache.AllTag}
			if b.again {
				again, tags = tags, nil
			}
		}
		p.addLocked(tags, false)
		p.addLocked(again, true)
		close(b.done)
		return
	}
	close(b.done)
	var again []string
	for t, first := range b.tags {
		if first {
			again = append(again, t)
		}
	}
	if b.all && b.again {
		again = []string{cache.AllTag}
	}
	if len(again) > 0 {
		var t *time.Timer
		t = time.AfterFunc(p.cfg.RepurgeAfter, func() {
			p.mu.Lock()
			if _, ok := p.later[t]; ok {
				delete(p.later, t)
				p.addLocked(again, false)
			}
			p.mu.Unlock()
		})
		p.later[t] = again
	}
}

// finalPurgeTimeout bounds the last purge at shutdown.
const finalPurgeTimeout = 5 * time.Second

// final sends the open batch and the second purges not yet due in one
// batch (once the workers stopped), and logs what it could not send.
func (p *purger) final() {
	p.mu.Lock()
	for t, tags := range p.later {
		t.Stop()
		delete(p.later, t)
		p.addLocked(tags, false)
	}
	b := p.open
	p.open = nil
	p.mu.Unlock()
	if b == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), finalPurgeTimeout)
	defer cancel()
	err := p.send(ctx, b)
	b.err = err
	close(b.done)
	if err != nil {
		p.log.Error("CDN purge at shutdown not accepted: answers of these tags may stay in the CDN until they expire", "tags", len(b.tags), "all", b.all, "err", err)
		return
	}
	p.log.Info("CDN purge sent at shutdown", "tags", len(b.tags), "all", b.all)
}

// forget drops the tags whose batch was accepted more than stateKept ago.
func (p *purger) forget(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for t, b := range p.state {
		select {
		case <-b.done:
			if b.err == nil && now.Sub(b.ended) > stateKept {
				delete(p.state, t)
			}
		default:
		}
	}
}

// request sends one purge request in the configured format; any 2xx answer
// is an acceptance.
func (p *purger) request(ctx context.Context, tags []string) error {
	var req *http.Request
	var err error
	switch p.cfg.Format {
	case "xkey":
		if req, err = http.NewRequestWithContext(ctx, "PURGE", p.cfg.PurgeURL, nil); err == nil {
			req.Header.Set("xkey-purge", strings.Join(tags, " "))
		}
	default:
		body, _ := json.Marshal(map[string][]string{"tags": tags})
		if req, err = http.NewRequestWithContext(ctx, http.MethodPost, p.cfg.PurgeURL, bytes.NewReader(body)); err == nil {
			req.Header.Set("Content-Type", "application/json")
		}
	}
	if err != nil {
		return err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return fmt.Errorf("purge endpoint answered %s", resp.Status)
	}
	return nil
}

// chunkTags splits tags into lists of at most max bytes, space-separated.
func chunkTags(tags []string, max int) [][]string {
	var chunks [][]string
	var cur []string
	size := 0
	for _, t := range tags {
		if len(cur) > 0 && size+1+len(t) > max {
			chunks = append(chunks, cur)
			cur, size = nil, 0
		}
		if len(cur) > 0 {
			size++
		}
		cur, size = append(cur, t), size+len(t)
	}
	if len(cur) > 0 {
		chunks = append(chunks, cur)
	}
	return chunks
}

// purgedDelivery acknowledges a change only once it is delivered to the
// cache and the CDN accepted the purge of its tags; after CDN_PURGE_WAIT
// (or the request's deadline) it answers graph.ErrPurgePending, counted.
type purgedDelivery struct {
	graph.Deliverer
	purger *purger
}

func (d purgedDelivery) Deliver(ctx context.Context, ch db.Change) error {
	if err := d.Deliverer.Deliver(ctx, ch); err != nil || len(ch.Tags) == 0 {
		return err
	}
	wait, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.purger.cfg.Wait)
	defer cancel()
	if deadline, ok := ctx.Deadline(); ok {
		var cancelDeadline context.CancelFunc
		wait, cancelDeadline = context.WithDeadline(wait, deadline)
		defer cancelDeadline()
	}
	err := d.purger.wait(wait, ch.Tags)
	if err != nil {
		d.purger.metrics.pendingWrites.Inc()
		d.purger.log.WarnContext(ctx, "mutation acknowledged before the CDN accepted its purge; still retrying", "tags", ch.Tags)
	}
	return err
}

// purgeMetrics are the CDN mode's metrics, exported (zero) even when the
// mode is off, so the shipped rules always find them.
type purgeMetrics struct {
	requests      *prometheus.CounterVec
	pendingTags   prometheus.Gauge
	overflows     prometheus.Counter
	pendingWrites prometheus.Counter
}

func newPurgeMetrics(reg prometheus.Registerer) *purgeMetrics {
	m := &purgeMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kedahpulse_cdn_purge_requests_total",
			Help: "CDN purge requests, by result: accepted, or failed after their tries (the tags are retried)."}, []string{"result"}),
		pendingTags: prometheus.NewGauge(prometheus.GaugeOpts{Name: "kedahpulse_cdn_purge_pending_tags",
			Help: "Tags waiting to be purged from the CDN (1 while a purge of everything waits)."}),
		overflows: prometheus.NewCounter(prometheus.CounterOpts{Name: "kedahpulse_cdn_purge_overflows_total",
			Help: "Times more than CDN_PURGE_QUEUE tags waited and the waiting purge became a purge of every answer."}),
		pendingWrites: prometheus.NewCounter(prometheus.CounterOpts{Name: "kedahpulse_cdn_purge_pending_writes_total",
			Help: "Mutations answered CDN_PURGE_PENDING: saved, but the CDN had not accepted their purge within CDN_PURGE_WAIT."}),
	}
	m.requests.WithLabelValues("accepted")
	m.requests.WithLabelValues("failed")
	reg.MustRegister(m.requests, m.pendingTags, m.overflows, m.pendingWrites)
	return m
}
