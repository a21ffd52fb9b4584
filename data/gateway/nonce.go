package gateway

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// maxNonces bounds the remembered nonces (about 100 bytes each).
const maxNonces = 1 << 17

var errReplay = errors.New("nonce already used")

// nonceCache remembers each signed request's nonce until its timestamp can
// no longer pass the clock check, so every request is accepted once.
type nonceCache struct {
	mu      sync.Mutex
	max     int
	expires map[string]time.Time
	order   []nonceEntry // by insertion, so expired ones leave from the front
}

type nonceEntry struct {
	key string
	at  time.Time
}

func newNonceCache(max int) *nonceCache {
	return &nonceCache{max: max, expires: map[string]time.Time{}}
}

// claim records key for ttl; it fails if key is already remembered, or if
// the cache is full of unexpired nonces.
func (c *nonceCache) claim(key string, now time.Time, ttl time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.order) > 0 && !now.Before(c.order[0].at) {
		if c.expires[c.order[0].key] == c.order[0].at {
			delete(c.expires, c.order[0].key)
		}
		c.order = c.order[1:]
	}
	if exp, ok := c.expires[key]; ok && now.Before(exp) {
		return errReplay
	}
	if len(c.expires) >= c.max {
		return fmt.Errorf("the gateway holds %d recent requests; retry shortly", c.max)
	}
	exp := now.Add(ttl)
	c.expires[key] = exp
	c.order = append(c.order, nonceEntry{key, exp})
	return nil
}
