package respcache

// Count counts one request as the transport does after serving it with
// tags, without serving it (the bounded-memory test counts 100k).
func (w *Warmer) Count(doc, query string, vars []byte, tags string) {
	w.count(&warmRequest{query: query, vars: vars, key: doc + "\x00" + string(vars)}, []byte(tags))
}

// Picked returns the variables of the requests a round warming tags would
// replay, most counted first.
func (w *Warmer) Picked(tags ...string) []string {
	set := map[string]struct{}{}
	for _, t := range tags {
		set[t] = struct{}{}
	}
	var out []string
	for _, r := range w.pick(set, false) {
		out = append(out, string(r.vars))
	}
	return out
}
