package main

import (
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/cors"

	"github.com/kedahpulse/kedahpulse/server/playground"
)

// routes is the HTTP request chain, top to bottom. The connection limit and
// the timeouts (serve) come before it; a GraphQL request then goes through
// the duration metric, CORS and graphqlHandler (the whole-response cache,
// auth, the limits, gqlgen and the resolvers); a live transport's request
// (SSE, WebSocket) goes through CORS to the live registry, which runs its
// operations through graphqlHandler.
func (a *app) routes() http.Handler {
	a.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "kedahpulse_http_request_duration_seconds",
		Help:    "Duration of GraphQL HTTP requests by method and status code.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"method", "code", "cache"})
	a.registry.MustRegister(duration)
	// Zero-valued series from the start, so the dashboard's panels show
	// zero, not "no data", before the first request.
	for _, cache := range []string{"HIT", "MISS"} {
		duration.WithLabelValues(http.MethodPost, "200", cache)
	}

	mux := http.NewServeMux()
	page := playground.Handler()
	mux.Handle("GET /{$}", page)
	mux.Handle("GET /playground/", page)
	mux.Handle("GET /favicon.ico", page)
	api := a.graphqlHandler()
	a.live.Serve(api) // live queries are computed by the same chain
	mux.Handle("/graphql", a.live.Route(instrument(duration, a.cors().Handler(api)), a.cors().Handler(a.live)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	mux.Handle("GET /readyz", &readiness{
		log:      a.log,
		database: probe{name: "database", failed: "down", ping: a.store.Ping},
		cache:    probe{name: "cache", failed: "degraded", ping: a.cache.Healthy},
		now:      time.Now,
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.registry, promhttp.HandlerOpts{}))
	board := a.board.Handler()
	mux.Handle("/dashboard", board)
	mux.Handle("/dashboard/", board)
	return mux
}

// instrument records request durations. Every label comes from a fixed
// set, so that no client can add series: each one costs the registry memory
// for good.
func instrument(h *prometheus.HistogramVec, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(sw, r)
		h.WithLabelValues(methodLabel(r.Method), codeLabel(sw.code), cacheLabel(w.Header().Get("X-Cache"))).Observe(time.Since(start).Seconds())
	})
}

func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodPost, http.MethodOptions, http.MethodHead:
		return m
	}
	return "other"
}

// codeLabel is the code if net/http knows it, else its class ("5xx").
func codeLabel(code int) string {
	switch {
	case http.StatusText(code) != "":
		return strconv.Itoa(code)
	case code >= 100 && code < 600:
		return strconv.Itoa(code/100) + "xx"
	}
	return "other"
}

func cacheLabel(x string) string {
	if x == "HIT" || x == "MISS" {
		return x
	}
	return ""
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (s *statusWriter) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

// cors lets browser apps on the origins of CORS_ORIGINS call the API,
// with the Authorization header for admin tools, and read the cache
// headers (X-Cache, Cache-Control, ETag, Age). A preflight may ask for any
// header: tracing and monitoring libraries add their own (traceparent,
// tracestate, baggage, sentry-trace, x-request-id...), and no list keeps up
// with them. Allowing them costs nothing: credentials are not allowed
// (no cookie rides along), the bearer token is the only credential and a
// page must hold it already, so a header name gives a foreign page nothing.
// rs/cors adds Vary: Origin, which the response level keeps.
func (a *app) cors() *cors.Cors {
	return cors.New(cors.Options{
		AllowedOrigins: a.cfg.HTTP.CORSOrigins,
		AllowedMethods: []string{http.MethodGet, http.MethodPost},
		AllowedHeaders: []string{"*"},
		ExposedHeaders: []string{"X-Cache", "Cache-Control", "ETag", "Age"},
		MaxAge:         600,
	})
}
