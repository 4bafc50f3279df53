package dashboard

import (
	"strings"
	"sync"
)

// maxFamilies bounds the families counted by name: tags given to the
// invalidateCache mutation may start with anything.
const maxFamilies = 32

// Family is the part of a tag before its first ':' ("property" for
// "property:12", "all" for "all").
func Family(tag string) string {
	f, _, _ := strings.Cut(tag, ":")
	return f
}

// Families counts this process's invalidated tags by family. Its Add is a
// cache.Options.Invalidated hook: it never blocks on anything but a mutex.
type Families struct {
	mu     sync.Mutex
	counts map[string]int64
}

// Add counts tags.
func (f *Families) Add(tags []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.counts == nil {
		f.counts = make(map[string]int64)
	}
	for _, t := range tags {
		fam := Family(t)
		if _, ok := f.counts[fam]; !ok && len(f.counts) >= maxFamilies {
			fam = "other"
		}
		f.counts[fam]++
	}
}

// take returns the counts since the last take.
func (f *Families) take() map[string]int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.counts
	f.counts = nil
	return c
}

// restore adds back counts a failed write took.
func (f *Families) restore(c map[string]int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.counts == nil {
		f.counts = make(map[string]int64)
	}
	for k, v := range c {
		f.counts[k] += v
	}
}
