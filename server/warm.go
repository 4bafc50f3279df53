package main

// both calls a (if set) then b: two Invalidated hooks as one.
func both(a, b func(tags []string)) func(tags []string) {
	if a == nil {
		return b
	}
	return func(tags []string) { a(tags); b(tags) }
}
