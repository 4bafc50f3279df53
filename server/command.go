package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/server/scrape"
)

// seedIfAsked loads the demo data set once when SEED=demo.
func (a *app) seedIfAsked(ctx context.Context) error {
	if a.cfg.Database.Seed != "demo" {
		return nil
	}
	done, err := a.store.Seeded(ctx)
	if err != nil || done {
		return err
	}
	return seed(ctx, a.store, db.DemoSeed(), a.log)
}

func seed(ctx context.Context, store *db.Store, o db.SeedOptions, log *slog.Logger) error {
	start := time.Now()
	log.Info("loading data set", "destinations", o.Destinations, "properties", o.Properties, "posts", o.Posts)
	last := time.Time{}
	o.Progress = func(stage string, done, total int) {
		if done == total || time.Since(last) > time.Second {
			last = time.Now()
			log.Info("seeding", "stage", stage, "done", done, "total", total)
		}
	}
	if err := store.Seed(ctx, o); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	log.Info("data set loaded", "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// seedCommand loads a data set of a chosen size (for benchmarks).
func seedCommand(ctx context.Context, cfg config, log *slog.Logger, args []string, stdout io.Writer) error {
	o := db.DemoSeed()
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.IntVar(&o.Destinations, "destinations", o.Destinations, "destinations to create")
	fs.IntVar(&o.Properties, "properties", o.Properties, "property listings to create")
	fs.IntVar(&o.Posts, "posts", o.Posts, "posts to create over the last 90 days")
	fs.Int64Var(&o.Seed, "seed", o.Seed, "random seed (same seed, same data)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	store, err := db.OpenWith(ctx, cfg.Database.URL, db.PoolOptions{MaxOpenConns: cfg.Database.MaxConns})
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		return err
	}
	if done, err := store.Seeded(ctx); err != nil || done {
		if done {
			fmt.Fprintln(stdout, "the database already holds a seeded data set; use an empty database")
		}
		return err
	}
	return seed(ctx, store, o, log)
}

// scrapeCommand runs the scraper once. With Redis it invalidates directly;
// with the in-process cache the running server's outbox relay delivers the
// invalidations this run records.
func scrapeCommand(ctx context.Context, cfg config, log *slog.Logger, args []string, stdout io.Writer) error {
	_, asJSON := jsonFlag(args)
	a, err := open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	scraper := a.scraper
	if a.redis == nil {
		scraper = scrape.New(a.store, outboxOnly{}, cfg.Scrape.Config, log)
	}
	run, err := scraper.Run(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(stdout, scrapeRunJSON{ID: run.ID, StartedAt: run.StartedAt, FinishedAt: run.FinishedAt, Status: run.Status,
			PostsFetched: run.PostsFetched, PostsStored: run.PostsStored, InvalidatedTags: run.InvalidatedTags, Error: run.Error})
	}
	fmt.Fprintf(stdout, "scrape run %d: %s\nposts fetched     %d\nposts stored      %d\ntags invalidated  %d %s\n",
		run.ID, run.Status, run.PostsFetched, run.PostsStored, len(run.InvalidatedTags), strings.Join(run.InvalidatedTags, " "))
	if run.Error != nil {
		fmt.Fprintf(stdout, "error             %s\n", *run.Error)
	}
	return nil
}

// scrapeRunJSON is a scrape run as the API's ScrapeRun type spells it.
type scrapeRunJSON struct {
	ID              int64      `json:"id,string"`
	StartedAt       time.Time  `json:"startedAt"`
	FinishedAt      *time.Time `json:"finishedAt"`
	Status          string     `json:"status"`
	PostsFetched    int        `json:"postsFetched"`
	PostsStored     int        `json:"postsStored"`
	InvalidatedTags []string   `json:"invalidatedTags"`
	Error           *string    `json:"error"`
}

// writeJSON prints v indented, for machines (--json).
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// jsonFlag removes --json from args and reports whether it was there.
func jsonFlag(args []string) ([]string, bool) {
	out := args[:0:0]
	found := false
	for _, a := range args {
		if a == "--json" || a == "-json" {
			found = true
			continue
		}
		out = append(out, a)
	}
	return out, found
}

// outboxOnly leaves a change's invalidation in the outbox for the server
// that owns the in-process cache.
type outboxOnly struct{}

func (outboxOnly) Deliver(context.Context, db.Change) error { return nil }

// cacheCommand inspects or changes the cache of the server running at ADDR
// through its admin API.
func cacheCommand(ctx context.Context, cfg config, args []string, stdout io.Writer) error {
	args, asJSON := jsonFlag(args)
	if cfg.HTTP.AdminToken == "" {
		return fmt.Errorf("ADMIN_TOKEN: set it to the running server's admin token")
	}
	if len(args) == 0 {
		return fmt.Errorf("cache: want status, invalidate TAG... or clear")
	}
	var query string
	vars := map[string]any{}
	switch args[0] {
	case "status":
		query = `{ cacheStats { backend hits misses hitRatio assessment keys invalidations
			fields { coordinate hits misses hitRatio } responses { hits misses hitRatio }
			redis { keyspaceHits keyspaceMisses usedMemoryBytes connectedClients } } }`
	case "invalidate":
		if len(args) < 2 {
			return fmt.Errorf("cache invalidate: name at least one tag")
		}
		query, vars["tags"] = `mutation($tags: [String!]!) { invalidateCache(tags: $tags) { tags } }`, args[1:]
	case "clear":
		query = `mutation { clearCache }`
	default:
		return fmt.Errorf("cache: unknown subcommand %q: want status, invalidate or clear", args[0])
	}
	data, err := adminQuery(ctx, "http://"+cfg.HTTP.Addr+"/graphql", cfg.HTTP.AdminToken, query, vars)
	if err != nil {
		return err
	}
	switch {
	case asJSON:
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			return err
		}
		return writeJSON(stdout, v)
	case args[0] == "status":
		return printStats(stdout, data)
	case args[0] == "invalidate":
		_, err = fmt.Fprintf(stdout, "invalidated %d tags: %s\n", len(args)-1, strings.Join(args[1:], " "))
	default:
		_, err = fmt.Fprintln(stdout, "cleared the cache: every entry misses from now on")
	}
	return err
}

func adminQuery(ctx context.Context, url, token, query string, vars map[string]any) (json.RawMessage, error) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("is the server running at ADDR? %w", err)
	}
	defer resp.Body.Close()
	var out struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("%s: %s", url, resp.Status)
	}
	if len(out.Errors) > 0 {
		return nil, fmt.Errorf("%s", out.Errors[0].Message)
	}
	return out.Data, nil
}

func printStats(w io.Writer, data json.RawMessage) error {
	var s struct {
		CacheStats struct {
			Backend, Assessment string
			Hits, Misses, Keys  int
			Invalidations       int
			HitRatio            float64
			Fields              []struct {
				Coordinate   string
				Hits, Misses int
				HitRatio     float64
			}
			Responses struct {
				Hits, Misses int
				HitRatio     float64
			}
			Redis *struct{ KeyspaceHits, KeyspaceMisses, UsedMemoryBytes, ConnectedClients int }
		}
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	c := s.CacheStats
	var b strings.Builder
	fmt.Fprintf(&b, "backend        %s\n", c.Backend)
	fmt.Fprintf(&b, "hit ratio      %.1f%% (%d hits, %d misses): %s\n", 100*c.HitRatio, c.Hits, c.Misses, c.Assessment)
	fmt.Fprintf(&b, "responses      %.1f%% (%d hits, %d misses)\n", 100*c.Responses.HitRatio, c.Responses.Hits, c.Responses.Misses)
	fmt.Fprintf(&b, "keys           %d\ninvalidations  %d\n", c.Keys, c.Invalidations)
	if r := c.Redis; r != nil {
		fmt.Fprintf(&b, "redis          %d keyspace hits, %d misses, %d bytes used, %d clients\n",
			r.KeyspaceHits, r.KeyspaceMisses, r.UsedMemoryBytes, r.ConnectedClients)
	}
	fmt.Fprintf(&b, "\n%-32s %10s %10s %8s\n", "coordinate", "hits", "misses", "ratio")
	for _, f := range c.Fields {
		fmt.Fprintf(&b, "%-32s %10d %10d %7.1f%%\n", f.Coordinate, f.Hits, f.Misses, 100*f.HitRatio)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
