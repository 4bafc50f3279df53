// Command server runs Kedah Pulse and holds its wiring and lifetime only:
// config.go reads the environment into one struct per subsystem, app.go
// wires the database, the cache, the listeners after an invalidation, the
// resolver, the scraper, the dashboard and the live queries, routes.go
// lists the HTTP request chain, logging.go builds the logger (go-redis's
// included), and serve.go owns the process's lifetime and its shutdown
// order (cron, HTTP, background work, outbox relay, cache, database). Each
// subcommand (seed, scrape, cache) is a cmd_*.go file; run dispatches them.
// It is the only package that reads environment variables, calls os.Exit or
// sets the default logger; it may import every package of the module.
package main
