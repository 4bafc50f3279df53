// Package alert raises the server's own cache alerts: the hit ratio below a
// threshold and cache errors above a rate, over a sliding window. It reads
// the cache's Prometheus counters from a registry, never the cache itself,
// and imports cache only for the counters' names and the assessment bands.
// It logs one line per transition, never one per check, and exports its
// state as gauges; server reads its Config from the environment and runs it.
package alert
