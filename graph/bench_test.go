package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"

	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/graph"
)

const dashboardQuery = `{
  topDestinations(limit: 10, range: LAST_7_DAYS) { rank mentions averageScore destination { id name city } }
  sentimentSummary(range: LAST_7_DAYS) { total positive neutral negative averageScore }
  trends(range: LAST_7_DAYS, limit: 10) { mentions previousMentions growth averageScore series { date mentions } destination { name } }
}`

const properties50Query = `{ properties(first: 50) { totalCount edges { cursor node { id title price location
  destination { id name city sentiment { total averageScore } } } } } }`

// demoEnv is an API over the demo data set (200 destinations, 20 000
// properties, 200 000 posts). b must be the top-level benchmark, which owns
// the database for all its sub-benchmarks.
func demoEnv(b *testing.B, dialect, backend string) *env {
	e := newEnv(b, dialect, backend)
	e.resolver.LoaderWait = time.Millisecond // the server's default (tests use 15ms, for batches that do not split on a loaded machine)
	if err := e.store.Seed(context.Background(), db.DemoSeed()); err != nil {
		b.Fatal(err)
	}
	return e
}

// BenchmarkQueries measures the dashboard and a nested property list on the
// demo data: cold (empty cache), warm (field level only) and hot (response
// level), reporting SQL statements, Redis round trips and loader batches
// (each one waits LOADER_WAIT) per request.
func BenchmarkQueries(b *testing.B) {
	for _, stack := range []struct{ dialect, backend string }{{"sqlite", "memory"}, {"postgres", "redis"}} {
		e := demoEnv(b, stack.dialect, stack.backend)
		var batches atomic.Int64
		e.resolver.Batches = &batches
		for _, q := range []struct{ name, query string }{{"dashboard", dashboardQuery}, {"properties50", properties50Query}} {
			for _, level := range []string{"cold", "warm", "hot"} {
				b.Run(stack.dialect+"+"+stack.backend+"/"+q.name+"/"+level, func(b *testing.B) {
					h := e.handler
					if level != "hot" {
						h = graph.NewHandler(e.resolver, graph.Options{AdminToken: adminToken, NoResponseCache: true})
					}
					run := func() *result { return e.doWith(h, q.query) }
					if res := run(); len(res.Errors) > 0 {
						b.Fatal(res.Raw)
					}
					e.sql.Reset()
					if e.trips != nil {
						e.trips.Reset()
					}
					batches.Store(0)
					b.ReportAllocs()
					b.ResetTimer()
					for b.Loop() {
						if level == "cold" {
							b.StopTimer()
							e.cache.Clear(context.Background())
							e.sql.Reset()
							if e.trips != nil {
								e.trips.Reset()
							}
							batches.Store(0)
							b.StartTimer()
						}
						if res := run(); res.Status != http.StatusOK {
							b.Fatal(res.Raw)
						}
					}
					b.StopTimer()
					if level == "cold" { // the last iteration's
						b.ReportMetric(float64(e.sql.Count()), "sql/op")
						b.ReportMetric(float64(batches.Load()), "batches/op")
					} else {
						b.ReportMetric(float64(e.sql.Count())/float64(b.N), "sql/op")
						b.ReportMetric(float64(batches.Load())/float64(b.N), "batches/op")
					}
					if e.trips != nil && level != "cold" {
						b.ReportMetric(float64(e.trips.Load())/float64(b.N), "redis/op")
					}
				})
			}
		}
	}
}

// BenchmarkHit measures one whole-response hit through the whole handler
// (body reading, parameters, the prepared document, the key, the cache,
// headers, the write) on each backend, with allocations: run with
// -benchmem. The response is properties50Query's over a small data set.
func BenchmarkHit(b *testing.B) {
	for _, backend := range []string{"memory", "redis"} {
		b.Run(backend, func(b *testing.B) {
			e := newEnv(b, "sqlite", backend)
			serve, w := servingProperties50(b, e)
			serve()
			serve()
			if w.header.Get("X-Cache") != "HIT" {
				b.Fatalf("X-Cache %q, want HIT", w.header.Get("X-Cache"))
			}
			if e.trips != nil {
				e.trips.Reset()
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				serve()
			}
			b.StopTimer()
			if w.header.Get("X-Cache") != "HIT" {
				b.Fatalf("X-Cache %q, want HIT", w.header.Get("X-Cache"))
			}
			if e.trips != nil {
				b.ReportMetric(float64(e.trips.Load())/float64(b.N), "redis/op")
			}
			b.ReportMetric(float64(w.n)/float64(b.N), "B/resp")
		})
	}
}

// servingProperties50 seeds e's store with a small data set and returns a
// function that POSTs properties50Query through e's whole handler, with the
// writer it answers into (reused, so a request allocates only what the
// handler does).
func servingProperties50(b testing.TB, e *env) (serve func(), w *discardWriter) {
	b.Helper()
	if err := e.store.Seed(context.Background(), db.SeedOptions{Destinations: 20, Properties: 200, Posts: 200, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"query": properties50Query})
	req := httptest.NewRequest(http.MethodPost, "/graphql", nil)
	req.Header.Set("Content-Type", "application/json")
	w = &discardWriter{header: http.Header{}}
	return func() {
		req.Body = io.NopCloser(bytes.NewReader(body))
		clear(w.header)
		e.handler.ServeHTTP(w, req)
	}, w
}

// discardWriter is an http.ResponseWriter that keeps nothing but the
// header and a byte count.
type discardWriter struct {
	header http.Header
	n      int
}

func (w *discardWriter) Header() http.Header         { return w.header }
func (w *discardWriter) WriteHeader(int)             {}
func (w *discardWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// BenchmarkCompression measures what compressing a large response entry
// would cost and save: properties50Query's answer encoded and decoded with
// klauspost/compress's s2 and zstd (fastest level), with the bytes stored.
func BenchmarkCompression(b *testing.B) {
	e := newEnv(b, "sqlite", "memory")
	if err := e.store.Seed(context.Background(), db.SeedOptions{Destinations: 20, Properties: 200, Posts: 200, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	body := []byte(e.doWith(e.handler, properties50Query).Raw)
	enc, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
	dec, _ := zstd.NewReader(nil)
	codecs := []struct {
		name   string
		encode func([]byte) []byte
		decode func([]byte) ([]byte, error)
	}{
		{"none", func(p []byte) []byte { return p }, func(p []byte) ([]byte, error) { return p, nil }},
		{"s2", func(p []byte) []byte { return s2.Encode(nil, p) }, func(p []byte) ([]byte, error) { return s2.Decode(nil, p) }},
		{"zstd", func(p []byte) []byte { return enc.EncodeAll(p, nil) }, func(p []byte) ([]byte, error) { return dec.DecodeAll(p, nil) }},
	}
	for _, c := range codecs {
		stored := c.encode(body)
		b.Run(c.name+"/encode", func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				c.encode(body)
			}
			b.ReportMetric(float64(len(stored)), "stored-bytes")
		})
		b.Run(c.name+"/decode", func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, err := c.decode(stored); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(stored)), "stored-bytes")
		})
	}
}
