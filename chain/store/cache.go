package store

import (
	"bytes"
	"sort"
)

// Cache buffers writes over a parent KV. A transaction runs against a Cache;
// only when it succeeds are the writes applied to the parent, so a rejected
// transaction changes nothing.
type Cache struct {
	parent KV
	writes map[string][]byte // nil value: deleted
}

// NewCache returns an empty write buffer over parent.
func NewCache(parent KV) *Cache {
	return &Cache{parent: parent, writes: make(map[string][]byte)}
}

func (c *Cache) Get(key []byte) []byte {
	if v, ok := c.writes[string(key)]; ok {
		return v
	}
	return c.parent.Get(key)
}

func (c *Cache) Set(key, value []byte) {
	if value == nil {
		value = []byte{}
	}
	c.writes[string(key)] = append([]byte{}, value...) // never nil: nil marks a delete
}

func (c *Cache) Delete(key []byte) { c.writes[string(key)] = nil }

// sortedWrites returns the buffered keys in ascending order. Writes are always
// applied in this order: an IAVL tree's shape, and so the app hash, depends
// on the order of insertion, and map order is random.
func (c *Cache) sortedWrites() []string {
	keys := make([]string, 0, len(c.writes))
	for k := range c.writes { //determinism:allow the keys are sorted below before any use
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Iterate merges the buffered writes with the parent's keys, ascending.
func (c *Cache) Iterate(prefix []byte, fn func(key, value []byte) bool) {
	var own []string
	for _, k := range c.sortedWrites() {
		if bytes.HasPrefix([]byte(k), prefix) {
			own = append(own, k)
		}
	}
	i := 0
	stopped := false
	c.parent.Iterate(prefix, func(key, value []byte) bool {
		for i < len(own) && own[i] < string(key) {
			if v := c.writes[own[i]]; v != nil && !fn([]byte(own[i]), v) {
				stopped = true
				return false
			}
			i++
		}
		if i < len(own) && own[i] == string(key) {
			v := c.writes[own[i]]
			i++
			if v == nil {
				return true
			}
			value = v
		}
		if !fn(key, value) {
			stopped = true
			return false
		}
		return true
	})
	if stopped {
		return
	}
	for ; i < len(own); i++ {
		if v := c.writes[own[i]]; v != nil && !fn([]byte(own[i]), v) {
			return
		}
	}
}

// Write applies the buffered writes to the parent in key order and empties
// the buffer.
func (c *Cache) Write() {
	for _, k := range c.sortedWrites() {
		if v := c.writes[k]; v == nil {
			c.parent.Delete([]byte(k))
		} else {
			c.parent.Set([]byte(k), v)
		}
	}
	c.writes = make(map[string][]byte)
}

// Discard drops the buffered writes.
func (c *Cache) Discard() { c.writes = make(map[string][]byte) }

// Len is the number of buffered writes.
func (c *Cache) Len() int { return len(c.writes) }
