package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

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
		_, err = fmt.Fprintf(stdout, "invalidated %s: %s\n", plural(len(args)-1, "tag"), strings.Join(args[1:], " "))
	default:
		_, err = fmt.Fprintln(stdout, "cleared the cache: every entry misses from now on")
	}
	return err
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

// plural counts n things in English: "1 tag", "2 tags".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
