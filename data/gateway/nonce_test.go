package gateway

import (
	"errors"
	"testing"
	"time"
)

func TestNonceCache(t *testing.T) {
	c := newNonceCache(2)
	t0 := time.Unix(1_700_000_000, 0)
	if err := c.claim("a", t0, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := c.claim("a", t0.Add(59*time.Second), time.Minute); !errors.Is(err, errReplay) {
		t.Fatalf("replay within the window: %v", err)
	}
	if err := c.claim("b", t0, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := c.claim("c", t0, time.Minute); err == nil || errors.Is(err, errReplay) {
		t.Fatalf("full cache: %v", err)
	}
	// Past the window the old nonces are forgotten (their timestamps can no
	// longer pass the clock check) and the cache has room again.
	if err := c.claim("c", t0.Add(time.Minute), time.Minute); err != nil {
		t.Fatal(err)
	}
	if len(c.expires) != 1 {
		t.Fatalf("%d nonces remembered, want 1", len(c.expires))
	}
}
