package gqlhttp

import (
	"container/list"
	"sync"
)

// lru keeps values by key within a budget of bytes, evicting the least
// recently used: the prepared documents and the persisted texts kept in
// process. A value larger than the whole budget is not kept. Safe for
// concurrent use.
type lru[V any] struct {
	mu     sync.Mutex
	budget int
	used   int
	order  *list.List // of *lruEntry[V], most recent first
	byKey  map[string]*list.Element
}

type lruEntry[V any] struct {
	key   string
	value V
	size  int
}

func newLRU[V any](budget int) *lru[V] {
	return &lru[V]{budget: budget, order: list.New(), byKey: map[string]*list.Element{}}
}

// get returns the value at key and marks it used.
func (c *lru[V]) get(key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[key]
	if !ok {
		var zero V
		return zero, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*lruEntry[V]).value, true
}

// add keeps v at key, charged size bytes, unless key is kept already,
// then evicts the least recently used values until the budget holds.
func (c *lru[V]) add(key string, v V, size int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byKey[key]; ok || size > c.budget {
		return
	}
	c.byKey[key] = c.order.PushFront(&lruEntry[V]{key: key, value: v, size: size})
	c.used += size
	for c.used > c.budget {
		e := c.order.Remove(c.order.Back()).(*lruEntry[V])
		delete(c.byKey, e.key)
		c.used -= e.size
	}
}

// bytes reports the bytes the kept values are charged.
func (c *lru[V]) bytes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used
}

// len reports how many values are kept.
func (c *lru[V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.byKey)
}
