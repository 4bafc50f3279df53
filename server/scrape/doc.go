// Package scrape owns the feed scraper: it fetches the configured RSS, Atom
// and JSON feeds (conditionally, with timeouts), maps their items to posts
// about the destinations they name, and records each run as a
// db.ScrapeRun. It imports db, gofeed, robfig/cron and redislock, never
// graph or cache: it reaches the cache only through the Deliverer it is
// given. Invariants: a run's posts are stored only through
// db.Store.IngestPosts, the ingest path the ingestPosts mutation uses, and
// only the tags it returns are invalidated; with WithLock, one run happens
// per scheduled tick across all processes; whatever a feed sends, it is
// bounded before IngestPosts sees it (fetch.go and parse.go say how).
package scrape
