// Package scrape owns the feed scraper: it fetches the configured RSS, Atom
// and JSON feeds (conditionally, with timeouts), maps their items to posts
// about the destinations they name, and records each run as a
// db.ScrapeRun. It imports db, gofeed, robfig/cron and redislock; it never
// imports graph, which reaches it through an interface of its own, and it
// reaches the cache only through the Deliverer it is given. Invariants: a
// run's posts are stored only through db.Store.IngestPosts, the one ingest
// path the ingestPosts mutation uses; only the tags IngestPosts returns are
// invalidated; one process runs at a time and, with WithLock, one run
// happens per scheduled tick across all processes. Whatever a feed sends,
// its posts come only from its own host (a redirect to
// a host not in Config.RedirectHosts, or from https to http, fails it),
// reading it holds one copy of a body of at most Config.MaxBytes and builds
// at most Config.MaxItems items, and every field of its posts is within
// db's limits (db.MaxPostText and the others), valid UTF-8 without NUL
// bytes, before IngestPosts sees it.
package scrape
