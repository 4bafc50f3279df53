package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
)

// run dispatches the subcommands; with none it serves.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, stderr)
	cmd := ""
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "", "serve":
		return serve(ctx, cfg, log, nil)
	case "seed":
		return seedCommand(ctx, cfg, log, args, stdout)
	case "scrape":
		return scrapeCommand(ctx, cfg, log, args, stdout)
	case "cache":
		return cacheCommand(ctx, cfg, args, stdout)
	case "health":
		return healthCommand(ctx, cfg, stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}

const usage = `usage: server [command]
  (none), serve             run the API server
  seed [-destinations N] [-properties N] [-posts N] [-seed N]
                            load a data set (default: the demo set) into DATABASE_URL
  scrape [--json]           run the scraper once and print the run
  cache status [--json]     print the cache statistics of the running server at ADDR
  cache invalidate TAG...   invalidate tags through the running server
  cache clear               clear the cache through the running server
  health                    exit 0 if the server at ADDR answers /healthz (the container healthcheck)
  (--json prints what the API answered, as JSON, for machines; the default is a table for people)
`

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
