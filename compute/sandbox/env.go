package sandbox

import (
	"crypto/sha256"
	"encoding/binary"
	"sync"

	"github.com/tetratelabs/wazero/experimental"
)

// FixedEpoch is what the guest's wall clock reads at start: 2025-01-01T00:00:00Z.
// The guest never sees the host clock.
const FixedEpoch int64 = 1735689600

// clockTick is how far both guest clocks advance on every reading. Clocks that
// move only when read are deterministic (the sequence of readings is), yet
// still monotonic, so programs that time themselves or spin on the clock
// (Go's runtime does for timers) make progress.
const clockTick = 1000 // 1µs

// detClock is the guest's wall clock, monotonic clock and sleep, all driven by
// one counter. Sleeping returns at once and advances the counter, so
// time.Sleep costs no host time and sees the time it asked for pass.
type detClock struct {
	mu sync.Mutex
	ns int64 // nanoseconds since the start of the run
}

func (c *detClock) advance(d int64) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ns += d
	return c.ns
}

func (c *detClock) walltime() (sec int64, nsec int32) {
	ns := c.advance(clockTick)
	return FixedEpoch + ns/1e9, int32(ns % 1e9)
}

func (c *detClock) nanotime() int64 { return c.advance(clockTick) }

func (c *detClock) nanosleep(ns int64) {
	if ns > 0 {
		c.advance(ns)
	}
}

// detRand is the guest's random source: SHA-256 in counter mode over a seed,
// so "random" bytes are the same for the same Job.Seed everywhere.
type detRand struct {
	seed    [32]byte
	counter uint64
	buf     []byte
}

func newDetRand(seed uint64) *detRand {
	var b [8 + len("tenun-sandbox-rand/v1")]byte
	binary.BigEndian.PutUint64(b[:8], seed)
	copy(b[8:], "tenun-sandbox-rand/v1")
	return &detRand{seed: sha256.Sum256(b[:])}
}

func (r *detRand) Read(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if len(r.buf) == 0 {
			var block [40]byte
			copy(block[:32], r.seed[:])
			binary.BigEndian.PutUint64(block[32:], r.counter)
			r.counter++
			sum := sha256.Sum256(block[:])
			r.buf = sum[:]
		}
		c := copy(p, r.buf)
		p, r.buf = p[c:], r.buf[c:]
	}
	return n, nil
}

// limitedAllocator backs the guest's linear memory and refuses to grow it past
// limit. It is installed per run through the context (wazero's experimental
// MemoryAllocator), which lets one runtime and one compiled module serve jobs
// with different memory limits; a runtime-wide WithMemoryLimitPages could not.
//
// A refused memory.grow returns -1 to the guest; Go's runtime then dies with
// "out of memory", and Run reports ErrMemoryLimit because refused is set.
type limitedAllocator struct {
	limit   uint64
	mu      sync.Mutex
	refused bool
	peak    uint64
}

func (a *limitedAllocator) Allocate(_, max uint64) experimental.LinearMemory {
	return &limitedMemory{a: a, max: max}
}

func (a *limitedAllocator) state() (refused bool, peak uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.refused, a.peak
}

type limitedMemory struct {
	a   *limitedAllocator
	max uint64
	buf []byte
}

func (m *limitedMemory) Reallocate(size uint64) []byte {
	a := m.a
	a.mu.Lock()
	defer a.mu.Unlock()
	if size > a.limit || size > m.max {
		a.refused = true
		return nil
	}
	a.peak = max(a.peak, size)
	if size <= uint64(cap(m.buf)) {
		// Linear memory never shrinks, so bytes between len and cap were never
		// visible to the guest and are still zero from make.
		m.buf = m.buf[:size]
		return m.buf
	}
	// Grow geometrically like append would, but never reserve past the limit.
	newCap := min(max(size, 2*uint64(cap(m.buf))), a.limit, m.max)
	buf := make([]byte, size, newCap)
	copy(buf, m.buf)
	m.buf = buf
	return buf
}

func (m *limitedMemory) Free() { m.buf = nil }
