// Command server runs Kedah Pulse: it reads its configuration from the
// environment (config.go), wires the database, the cache, the GraphQL
// handler and the scraper (serve.go), and owns the process lifetime: signals,
// logging, the outbox relay and graceful shutdown in a fixed order (cron,
// HTTP, relay, cache counters, database). Subcommands seed data, run the
// scraper once and inspect the cache of a running server.
//
// It is the only package that reads environment variables, calls os.Exit or
// sets the default logger. It may import every package of the module.
package main
